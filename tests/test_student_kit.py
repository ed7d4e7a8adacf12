"""`tito student-kit`: the folder students get, and the student's tools working in it.

Two kits, one per publishing policy: the repository's as committed (it publishes nothing, the
default, so the kit holds no reference code at all and its guide no pictures), and the kit of a
copy of the course whose config publishes 01-03 and that ran `tito release`
(tests/test_published.py's `published_course`). Each is written once into a tmp dir. The
student's commands then run in a copy of it the way a student runs them: `python -m tito ...`
with the kit as the working directory, so `import tito` finds the kit's own copy (asserted), which
finds the modules in release/ (there is no source/), and the earlier modules come from the
published reference or the student's own finished notebooks (asserted), never the repository's
sources or its full tinytorch/.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import nbformat
import pytest
from test_published import FIRST_THREE, published_course

from tito import UNDER_TITO, TitoError, course
from tito.cli import main
from tito.kit import KIT_ENTRIES, write_kit
from tito.kit import tools as kit_tools
from tito.kit import write as kit_write
from tito.kit.guide import ABOUT_PICTURES, pictures, without_pictures
from tito.lint import context
from tito.lint.rules import leak
from tito.release import published_modules
from tito.student.stack import stub_lines
from tito.synth.variants import submission

REPO = Path(__file__).resolve().parents[1]
MODULES = course.discover(REPO)
TENSOR = MODULES[0]
LISTING = [".gitignore", "Makefile", "README.md", "checkpoints", "conftest.py", "docs",
           "jupyter_server_config.py", "nbgrader_config.py", "pyproject.toml", "release", "tito"]
NOTHING, PUBLISHED = "nothing published", "01-03 published"
STUBS = "`raise NotImplementedError()` stub(s) left"


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The kit of the repository as committed: nothing published."""
    return write_kit(REPO, tmp_path_factory.mktemp("kit") / "student-kit")


@pytest.fixture(scope="module")
def first_three(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the course whose config publishes 01_tensor, 02_activations and 03_layers."""
    return published_course(tmp_path_factory.mktemp("published") / "course", FIRST_THREE)


@pytest.fixture(scope="module")
def published_kit(first_three: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_kit(first_three, tmp_path_factory.mktemp("published-kit") / "student-kit")


@pytest.fixture(params=[NOTHING, PUBLISHED])
def course_and_kit(request: pytest.FixtureRequest) -> tuple[Path, Path]:
    """(the course, its kit) under each policy; do not mutate."""
    if request.param == NOTHING:
        return REPO, request.getfixturevalue("kit")
    return request.getfixturevalue("first_three"), request.getfixturevalue("published_kit")


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def _run(kit: Path, *command: str, cwd: Path | None = None, pythonpath: Path | None = None):
    """A command run by a student in the kit: the repo's venv python, nothing of the repo's
    environment that would point elsewhere."""
    env = {k: v for k, v in os.environ.items()
           if k not in (UNDER_TITO, "NBGRADER_EXECUTION", "PYTHONPATH", "TINYTORCH_ROOT")}
    env["PATH"] = f"{Path(sys.prefix) / 'bin'}{os.pathsep}{env['PATH']}"  # as in `make lab`'s terminals
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([sys.executable, *command], cwd=cwd or kit, env=env, capture_output=True,
                          text=True, timeout=600)


def _tito(kit: Path, *args: str):
    return _run(kit, "-m", "tito", *args)


def stubs(module: course.Module) -> int:
    """The stubs of module's release, counted as the kit counts them."""
    return stub_lines(nbformat.read(str(module.release_ipynb), as_version=4))


def missing_rows(modules: list[course.Module]) -> list[list[str]]:
    """`tito build`'s rows for unpublished modules the student has not begun."""
    return [[m.name, "missing", f"unfinished: {stubs(m)} {STUBS}; its reference is not published"] for m in modules]


def graded_cells(name: str) -> int:
    """How many graded cells module `name`'s release has (`tito check` reports one row each)."""
    notebook = nbformat.read(str(REPO / "release" / name / f"{name}.ipynb"), as_version=4)
    return sum(bool(cell.metadata.get("nbgrader", {}).get("grade")) for cell in notebook.cells)


def _table(out: str) -> list[list[str]]:
    """The body rows of a rich table printed to a pipe."""
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in out.splitlines() if line.startswith("│")]


def _hidden_cases(module: course.Module) -> list[str]:
    """The names of the hidden cases in the module's spec (`@case(..., hidden=True)`)."""
    tree = ast.parse(module.cases_py.read_text(encoding="utf-8"))
    return [node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
            and any(isinstance(d, ast.Call) and any(k.arg == "hidden" and getattr(k.value, "value", None) is True
                                                    for k in d.keywords) for d in node.decorator_list)]


def test_the_kit_holds_what_a_student_runs_and_nothing_more(course_and_kit: tuple[Path, Path]) -> None:
    root, kit = course_and_kit
    published = [m.name for m in published_modules(root, course.discover(root))]
    assert sorted(p.name for p in kit.iterdir()) == LISTING == sorted(KIT_ENTRIES)
    assert not [p for p in kit.rglob("*") if p.is_dir() and p.name == "source"]
    assert not [p for p in kit.rglob("*") if p.name in ("cases.py", "course-secret")]  # no spec, no secret
    assert [p.relative_to(kit).as_posix() for p in kit.rglob("tinytorch")] == (
        ["release/_reference/tinytorch"] if published else [])
    assert sorted(p.name for p in (kit / "release").iterdir()) == [m.name for m in MODULES] + (
        ["_reference"] if published else [])
    assert _files(kit / "release") == _files(root / "release")
    assert _files(kit / "checkpoints") == sorted([m.checkpoint_py.name for m in MODULES] + ["conftest.py"])
    # not 00, the harness's own test, which needs the full reference
    assert (kit / "checkpoints" / "conftest.py").read_bytes() == (root / "checkpoints" / "conftest.py").read_bytes()
    for name in ("conftest.py", "nbgrader_config.py", "jupyter_server_config.py"):
        assert (kit / name).read_bytes() == (root / name).read_bytes(), name
    guide = (root / "docs" / "students.md").read_text()
    if "01_tensor" in published:  # the pictures show module 01 solved
        assert (kit / "docs" / "students.md").read_text() == guide
        assert _files(kit / "docs") == sorted(["students.md"] + pictures(guide))
    else:
        assert (kit / "docs" / "students.md").read_text() == without_pictures(guide)
        assert _files(kit / "docs") == ["students.md"]
    assert _files(kit / "tito") == [
        "__init__.py", "__main__.py", "build/__init__.py", "build/export.py", "build/partial.py",
        "build/student_module.py", "cli.py", "course.py", "errors.py", "execute.py", "parsing.py",
        "release/__init__.py", "release/generate.py", "release/published.py", "source.py",
        "student/__init__.py", "student/assertions.py", "student/build.py", "student/check.py", "student/checkpoint_run.py",
        "student/command.py", "student/identity.py", "student/in_notebook.py", "student/reached.py",
        "student/stack.py", "student/submit.py", "student/summary.py", "terminal.py"]


def test_in_the_kit_the_modules_and_their_export_targets_come_from_the_release(
        course_and_kit: tuple[Path, Path]) -> None:
    root, kit = course_and_kit
    published = {m.name for m in published_modules(root, course.discover(root))}
    modules = course.discover(kit)
    assert course.is_student_kit(kit) and not course.is_student_kit(root)
    assert [(m.name, m.declared_in) for m in modules] == [(m.name, course.RELEASE) for m in MODULES]
    assert [m.export_modules for m in modules] == [m.export_modules for m in MODULES]
    assert modules[4].export_modules == ("tinytorch.core.autograd", "tinytorch.core.variable")  # read from the release
    assert [[t.is_file() for t in m.published_targets] for m in modules] == [
        [m.name in published] * len(m.export_targets) for m in MODULES]


def _make(kit: Path, *args: str) -> str:
    """The kit's make, as a student runs it: not as a sub-make of the suite's own `make test`
    (whose MAKEFLAGS and MAKELEVEL would add "Entering directory" lines)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    return subprocess.run(["make", *args], cwd=kit, env=env, capture_output=True, text=True, check=True).stdout


def test_the_kits_pyproject_installs_tito_with_the_courses_requirements(kit: Path) -> None:
    ours, theirs = (tomllib.loads((root / "pyproject.toml").read_text()) for root in (REPO, kit))
    assert theirs["tool"]["setuptools"]["packages"]["find"]["include"] == ["tito*"]
    assert theirs["project"]["scripts"] == ours["project"]["scripts"] == {"tito": "tito.cli:main"}
    pytest_spec = [d for d in ours["project"]["optional-dependencies"]["dev"] if d.startswith("pytest>")]
    assert theirs["project"]["dependencies"] == ours["project"]["dependencies"] + pytest_spec
    assert theirs["project"]["optional-dependencies"] == {"lab": ours["project"]["optional-dependencies"]["lab"]}
    assert theirs["tool"]["pytest"]["ini_options"]["python_files"] == ["checkpoint_*.py"]
    help_ = _make(kit, "-s", "help")
    assert [line.split()[1] for line in help_.splitlines()] == [
        "help", "setup", "lab", "check", "build", "submit", "checkpoints"]
    dry = _make(kit, "-n", "check", "build", "submit", "MODULE=02_activations").splitlines()
    assert dry[-3:] == [".venv/bin/tito check 02_activations", ".venv/bin/tito build",
                        ".venv/bin/tito submit 02_activations --zip"]  # the console script `make setup` installs


def test_no_solution_or_hidden_case_of_any_module_is_anywhere_in_the_kit(course_and_kit: tuple[Path, Path]) -> None:
    """The leak lint's fingerprints find each unpublished module's solution in the full reference
    (the search is not vacuous), and nothing in the kit: with nothing published, no module's
    reference code is in it. Hidden tests live in each module's spec as hidden cases (none is
    left in a notebook, so the lint has no hidden-test fingerprint): the spec names them, no kit
    file does."""
    root, kit = course_and_kit
    modules = course.discover(root)
    published = tuple(published_modules(root, modules))
    everything = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in kit.rglob("*") if p.is_file())
    for module in modules:
        ctx = context.load(module, modules, published=published)
        assert [f for f in leak.fingerprints(ctx) if f.what == "hidden-test"] == [], module.name
        if module not in published:
            assert leak.scan(ctx, root / "tinytorch"), module.name
        assert leak.scan(ctx, kit) == [], module.name
        hidden = _hidden_cases(module)
        assert hidden, module.name
        assert [name for name in hidden if name in everything] == [], module.name


def test_a_kit_that_would_leak_is_never_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def tools_and_a_stray_reference(dest: Path) -> None:
        copy_tools(dest)
        shutil.copy(REPO / "tinytorch" / "core" / "losses.py", dest / "tito")

    copy_tools = kit_write.copy_tools
    monkeypatch.setattr(kit_write, "copy_tools", tools_and_a_stray_reference)
    with pytest.raises(TitoError) as raised:
        write_kit(REPO, tmp_path / "kit")
    lines = str(raised.value).splitlines()
    assert lines[0] == "the kit would leak, so it was not written:"
    assert lines[1].startswith("tito/losses.py: solution text from source/04_losses/04_losses.py:")
    assert list(tmp_path.iterdir()) == []  # neither the kit nor its scratch folder


def test_a_kit_whose_tools_would_not_start_is_never_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """student/stack.py imports build/student_module.py at module level: a kit without it could not
    even start `tito check`."""
    tools = tuple(t for t in kit_tools.STUDENT_TOOLS if t != "build/student_module.py")
    monkeypatch.setattr(kit_tools, "STUDENT_TOOLS", tools)
    with pytest.raises(TitoError) as raised:
        write_kit(REPO, tmp_path / "kit")
    assert str(raised.value) == ("the kit's tools would not start: tito/student/stack.py imports "
                                 "tito.build.student_module; update tito.kit.tools.STUDENT_TOOLS")
    assert list(tmp_path.iterdir()) == []


def test_a_non_empty_folder_needs_force_which_replaces_only_the_kits_files(tmp_path: Path, capsys) -> None:
    dest = tmp_path / "kit"
    (dest / "release").mkdir(parents=True)
    (dest / "release" / "stale.txt").write_text("from an older kit")
    (dest / "notes.txt").write_text("mine")
    assert main(["--root", str(REPO), "student-kit", str(dest)]) == 1
    assert (f"error: {dest}: not empty; choose an empty or new folder, or --force to replace the kit's files in it"
            in " ".join(capsys.readouterr().err.split()))
    assert main(["--root", str(REPO), "student-kit", str(dest), "--force"]) == 0
    assert f"wrote the student kit {dest}" in capsys.readouterr().out
    assert sorted(p.name for p in dest.iterdir()) == sorted(LISTING + ["notes.txt"])
    assert not (dest / "release" / "stale.txt").exists()
    for inside in (REPO, REPO / "release" / "kit"):
        with pytest.raises(TitoError):
            write_kit(REPO, inside, force=True)


def test_the_guide_goes_without_its_pictures_until_the_pictured_module_is_published() -> None:
    """(So the repository's kit, which publishes nothing, has none; the kit of a course that
    publishes 01 has them all.) Each picture and its italic caption go, and so does the paragraph
    that introduces the pictures; every other paragraph stays."""
    guide = (REPO / "docs" / "students.md").read_text()
    bare = without_pictures(guide)
    kept = {p.strip() for p in bare.split("\n\n")}
    removed = [p for p in guide.split("\n\n") if p.strip() not in kept]
    assert len(removed) == 2 * len(pictures(guide)) + 1 == 13
    assert removed[0].startswith(ABOUT_PICTURES) and "pictures" not in bare
    assert [p.startswith("![") for p in removed[1:]] == [True, False] * 6
    assert all(p.startswith("*") and p.rstrip().endswith("*") for p in removed[2::2])
    assert "img/" not in bare and bare.startswith("# Student's guide")


def _copy(kit: Path, dest: Path) -> Path:
    """A student's own copy of a kit (the module's kits stay as written)."""
    return Path(shutil.copytree(kit, dest))


@pytest.mark.slow
def test_a_students_week_in_the_kit(kit: Path, tmp_path: Path) -> None:
    """With nothing published: check the stub, meet a module that needs an earlier one that is
    neither finished nor published, finish module 01, check it in the terminal and in the
    notebook's closing cell, see module 02 take it as the earlier module, build, submit it."""
    kit = _copy(kit, tmp_path / "kit")
    assert _run(kit, "-c", "import tito; print(tito.__file__)").stdout == f"{kit}/tito/__init__.py\n"

    done = _tito(kit, "check", "01_tensor")
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:2] == ["checking 01_tensor ...", "notebook: release/01_tensor/01_tensor.ipynb"]
    assert [row[2] for row in _table(done.stdout)] == ["failed"] * 9
    assert lines[-4] == "visible tests: 0/9 cells passed (0/120 points; grading also runs its own cases)"
    assert re.fullmatch(r"checkpoint checkpoints/checkpoint_01_tensor\.py: failed \(20 failed in [\d.]+s\)", lines[-3])
    assert re.fullmatch(r"  tinytorch/core/tensor\.py:\d+: NotImplementedError", lines[-2])
    assert lines[-1] == "next: implement `_to_array` first (cell tensor-creation), then run `tito check 01_tensor` again"

    done = _tito(kit, "check", "02_activations")
    assert done.returncode == 1 and done.stdout == "checking 02_activations ...\n"
    assert " ".join(done.stderr.split()) == ("error: 02_activations needs 01_tensor: finish it in "
                                             "release/01_tensor/01_tensor.ipynb or ask your instructor to publish "
                                             "its reference")

    done = _tito(kit, "check", "05_autograd")
    assert done.returncode == 1 and done.stdout == "checking 05_autograd ...\n"
    assert " ".join(done.stderr.split()) == "error: " + " ".join(
        f"05_autograd needs {name}: finish it in release/{name}/{name}.ipynb or ask your instructor to publish "
        "its reference" for name in ("01_tensor", "02_activations", "03_layers", "04_losses"))

    mine = kit / "release" / "01_tensor" / "01_tensor.ipynb"
    nbformat.write(submission(TENSOR), str(mine))  # the solution cells, by grade_id, into the release
    done = _tito(kit, "check", "01_tensor")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [row[2] for row in _table(done.stdout)] == ["passed"] * 9
    lines = done.stdout.splitlines()
    assert lines[-3] == "visible tests: 9/9 cells passed (120/120 points; grading also runs its own cases)"
    assert re.fullmatch(r"checkpoint checkpoints/checkpoint_01_tensor\.py: passed \(20 passed in [\d.]+s\)", lines[-2])
    assert lines[-1] == "all good. next: `tito submit 01_tensor --zip` (or without --zip through the exchange)"

    in_notebook = _run(kit, "-c", "from tito.student import check_module; check_module('01_tensor')",
                       cwd=mine.parent, pythonpath=kit)  # the kit's tito, as `make setup` installs it
    assert in_notebook.stdout.startswith("checking the saved notebook release/01_tensor/01_tensor.ipynb")
    assert in_notebook.stdout.endswith("all good. next: `tito submit 01_tensor --zip` "
                                       "(or without --zip through the exchange)\n")

    done = _tito(kit, "check", "02_activations")  # the stub release of 02, on the student's own 01
    assert done.returncode == 1 and done.stdout.splitlines()[2] == "earlier modules: 01_tensor (your notebook)"
    assert [row[2] for row in _table(done.stdout)] == ["failed"] * graded_cells("02_activations")

    done = _tito(kit, "build")
    assert done.returncode == 0, done.stderr
    assert _table(done.stdout) == [
        ["01_tensor", "you", "finished (no stubs left in its export cells)"],
        *missing_rows(MODULES[1:])]
    assert ("02_activations is missing (the modules after it cannot import it): finish it in "
            "release/02_activations/02_activations.ipynb or ask your instructor to publish its reference"
            ) in " ".join(done.stdout.split())
    assert _files(kit / ".tito" / "student-build") == [
        "tinytorch/__init__.py", "tinytorch/core/__init__.py", "tinytorch/core/tensor.py"]

    done = _tito(kit, "checkpoints")  # week 1: checkpoint 01 on the student's tensor, the others skipped
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert re.fullmatch(rf"60 passed, {len(MODULES) - 1} skipped in [\d.]+s", lines[-1].strip("= ")), lines[-1]
    assert "modules under test: 01_tensor (yours), " + ", ".join(
        f"{m.name} (not in this build)" for m in MODULES[1:]) in lines
    assert sum(line.startswith("SKIPPED [1] ") and ": needs 02_activations" in line for line in lines) == len(MODULES) - 1

    done = _tito(kit, "submit", "01_tensor", "--zip", "--student", "s001")
    assert done.returncode == 0 and done.stdout == ("wrote submissions/s001_01_tensor.zip (student s001): "
                                                    "upload it to your LMS\n")
    with zipfile.ZipFile(kit / "submissions" / "s001_01_tensor.zip") as archive:
        assert archive.namelist() == ["s001_01_tensor.ipynb"]
        assert archive.read("s001_01_tensor.ipynb") == mine.read_bytes()


@pytest.mark.slow
def test_a_students_week_in_a_kit_where_01_to_03_are_published(published_kit: Path, tmp_path: Path) -> None:
    """Work on module 02 before finishing 01 (its published reference stands in), meet a module
    that needs the one unpublished earlier module, finish 01 and build: 01 is the student's,
    02-03 the published reference, 04-08 missing."""
    kit = _copy(published_kit, tmp_path / "kit")
    assert _run(kit, "-c", "import tito; print(tito.__file__)").stdout == f"{kit}/tito/__init__.py\n"

    done = _tito(kit, "check", "02_activations")
    assert done.returncode == 1 and done.stdout.splitlines()[2] == "earlier modules: 01_tensor (published reference)"
    assert [row[2] for row in _table(done.stdout)] == ["failed"] * graded_cells("02_activations")

    done = _tito(kit, "check", "05_autograd")
    assert done.returncode == 1 and done.stdout == "checking 05_autograd ...\n"
    assert " ".join(done.stderr.split()) == ("error: 05_autograd needs 04_losses: finish it in "
                                             "release/04_losses/04_losses.ipynb or ask your instructor to publish "
                                             "its reference")

    nbformat.write(submission(TENSOR), str(kit / "release" / "01_tensor" / "01_tensor.ipynb"))
    done = _tito(kit, "build")
    assert done.returncode == 0, done.stderr
    assert _table(done.stdout) == [
        ["01_tensor", "you", "finished (no stubs left in its export cells)"],
        *[[m.name, "published reference", f"unfinished: {stubs(m)} {STUBS}; the published reference"]
          for m in MODULES[1:3]],
        *missing_rows(MODULES[3:])]
    build = kit / ".tito" / "student-build"
    assert _files(build) == [
        "tinytorch/__init__.py", "tinytorch/core/__init__.py", "tinytorch/core/activations.py",
        "tinytorch/core/layers.py", "tinytorch/core/tensor.py"]
    for name in ("activations.py", "layers.py"):
        assert (build / "tinytorch/core" / name).read_bytes() == (REPO / "tinytorch/core" / name).read_bytes()


@pytest.mark.slow
def test_instructor_commands_in_a_kit_say_it_is_a_student_kit(kit: Path) -> None:
    for command in ("lint", "release", "autograde", "synth"):
        done = _tito(kit, command)
        assert done.returncode == 1, command
        assert "this is a student kit: no source/" in " ".join(done.stderr.split()), command
        assert f"`tito {command}` is an instructor command" in " ".join(done.stderr.split()), command


def test_tito_help_in_a_kit_lists_the_students_commands_only(kit: Path) -> None:
    """Before: every instructor command (lint, autograde, demo, ...) and not one word of which to use."""
    done = _tito(kit, "--help")
    assert done.returncode == 0, done.stderr
    listed = [line.split()[0] for line in done.stdout.splitlines() if re.match(r"^    \S", line)]
    assert listed == ["check", "build", "checkpoints", "submit", "config"]
    assert "a student kit" in done.stdout
    everything = _run(REPO, "-m", "tito", "--help").stdout  # the course itself lists them all
    assert [line.split()[0] for line in everything.splitlines() if re.match(r"^    \S", line)][:3] == [
        "modules", "new-module", "export"]
