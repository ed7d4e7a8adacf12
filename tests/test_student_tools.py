"""The student's tools (`tito check`, `tito build`, `tito submit`) on the real course.

Under both publishing policies: the repository as committed, which publishes nothing (a module's
earlier modules are then the student's own finished notebooks, or missing), and a copy of it whose
config publishes 01-03 and that ran `tito release` (tests/test_published.py's `published_course`),
where those modules come from the published reference. `check` and `build` read the course
(release/, checkpoints/) and write only into tmp dirs; `submit` writes into a copy of the course,
which the LMS importer then reads back.
"""

from __future__ import annotations

import os
import pty
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from test_published import FIRST_THREE, published_course
from test_student_kit import graded_cells

from tito import course
from tito.cli import main
from tito.collect.lms import import_lms
from tito.student.build import build
from tito.student.check import check
from tito.student.command import tito_command
from tito.synth.variants import submission

REPO = Path(__file__).resolve().parents[1]
MODULES = course.discover(REPO)
TENSOR, ACTIVATIONS, LAYERS, LOSSES, AUTOGRAD = (course.select(MODULES, f"0{n}")[0] for n in range(1, 6))
NOTHING, PUBLISHED = "nothing published", "01-03 published"
STUBS = "`raise NotImplementedError()` stub(s) left"


@pytest.fixture(scope="module")
def first_three(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the course whose config publishes 01_tensor, 02_activations and 03_layers."""
    return published_course(tmp_path_factory.mktemp("published") / "course", FIRST_THREE)


def _root(policy: str, request: pytest.FixtureRequest) -> Path:
    return REPO if policy == NOTHING else request.getfixturevalue("first_three")


def _write(nb, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def _finished(notebooks: Path, *modules: course.Module) -> Path:
    """The student's finished notebooks of `modules` in `notebooks`, laid out like release/."""
    for module in modules:
        _write(submission(module), notebooks / module.name / f"{module.name}.ipynb")
    return notebooks


def _said(err: str) -> str:
    return " ".join(err.split())


@pytest.mark.slow
def test_check_on_the_release_fails_every_graded_cell_with_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    report = check(REPO, TENSOR)
    assert report.cells and not report.kernel_error
    for cell in report.cells:
        assert not cell.passed
        assert cell.message.startswith("NotImplementedError"), cell
        assert cell.hint.startswith("implement `") and cell.hint.endswith("` first"), cell
    assert report.checkpoint is not None and not report.checkpoint.passed
    assert report.checkpoint.file == "checkpoints/checkpoint_01_tensor.py"
    assert any("NotImplementedError" in line for line in report.checkpoint.failures)
    assert not report.passed

    assert main(["--root", str(REPO), "check", "01_tensor"]) == 1
    out = capsys.readouterr().out
    assert "0/9 cells passed" in out and "implement `" in out and "next:" in out
    assert "checkpoint checkpoints/checkpoint_01_tensor.py: failed" in out
    assert "/tmp" not in out.split("notebook:")[1]  # no temp paths in the checkpoint's failures


@pytest.mark.slow
@pytest.mark.parametrize("policy, tensor_from", [(NOTHING, "your notebook"), (PUBLISHED, "published reference")])
def test_check_on_a_finished_notebook_passes(policy: str, tensor_from: str, request, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """02 needs 01: the student's finished 01 where 01 is not published; its published reference
    where it is, even beside the student's finished one (grading uses the reference too)."""
    root = _root(policy, request)
    notebooks = _finished(tmp_path / "work", TENSOR)
    notebook = _write(submission(ACTIVATIONS), tmp_path / "mine" / "02_activations.ipynb")
    assert main(["--root", str(root), "check", "activations", "--notebook", str(notebook),
                 "--notebooks", str(notebooks)]) == 0
    out = capsys.readouterr().out
    assert f"earlier modules: 01_tensor ({tensor_from})" in out.splitlines()
    cells = graded_cells("02_activations")
    assert f"{cells}/{cells} cells passed" in out and "failed" not in out
    assert "checkpoint checkpoints/checkpoint_02_activations.py: passed" in out
    assert "tito submit 02_activations --zip" in out


@pytest.mark.slow
def test_check_runs_the_checkpoint_on_the_students_module(tmp_path: Path) -> None:
    """A notebook whose tests pass but whose exported module is broken fails the checkpoint."""
    nb = submission(ACTIVATIONS)
    for cell in nb.cells:
        if "#| export" in cell.source and "def relu(" in cell.source:
            cell.source += "\n\n\nrelu = None  # a student's stray assignment, after the tests ran\n"
            break
    else:
        pytest.fail("no export cell defines relu")
    notebooks = _finished(tmp_path / "work", TENSOR)  # nothing is published: 01 is the student's
    report = check(REPO, ACTIVATIONS, _write(nb, tmp_path / "02_activations.ipynb"), notebooks=notebooks)
    assert [(c.module.name, c.owner) for c in report.earlier] == [("01_tensor", "student")]
    assert report.checkpoint is not None and not report.checkpoint.passed


def _students_notebooks(notebooks: Path) -> Path:
    """01 untouched (stubs), 02 finished, 03 half done, 04 finished, 05 untouched, 06-07 absent."""
    _write(submission(ACTIVATIONS), notebooks / "02_activations" / "02_activations.ipynb")
    shutil.copytree(TENSOR.release_dir, notebooks / "01_tensor")  # the untouched release: stubs
    _write(submission(LAYERS, profile="first-half"), notebooks / "03_layers" / "03_layers.ipynb")
    _write(submission(LOSSES), notebooks / "04_losses" / "04_losses.ipynb")  # finished, unpublished
    shutil.copytree(AUTOGRAD.release_dir, notebooks / "05_autograd")
    return notebooks


# the modules after 05, of which the student has no notebook (none is published in either course)
NOT_STARTED = {m.name: ("missing", f"no notebook {m.name}.ipynb; its reference is not published") for m in MODULES[5:]}


def test_build_uses_finished_modules_then_the_published_reference_and_names_what_is_missing(
        tmp_path: Path, capsys, first_three: Path) -> None:
    """Where 01-03 are published: a finished notebook is the student's, an unfinished published
    module is the published reference, an unfinished unpublished one is missing."""
    notebooks = _students_notebooks(tmp_path / "release")
    out = tmp_path / "build"
    assert main(["--root", str(first_three), "build", "--notebooks", str(notebooks), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"TINYTORCH_ROOT={out} make checkpoints" in printed
    notebook = f"{tmp_path}/release/05_autograd/05_autograd.ipynb"
    assert (f"05_autograd is missing (the modules after it cannot import it): finish it in {notebook} "
            "or ask your instructor to publish its reference") in printed
    modules = course.discover(first_three)
    choices = {c.module.name: (c.owner, c.reason) for c in build(first_three, modules, notebooks, out)}
    assert choices == {
        "01_tensor": ("reference", f"unfinished: 24 {STUBS}; the published reference"),
        "02_activations": ("student", "finished (no stubs left in its export cells)"),
        "03_layers": ("reference", f"unfinished: 3 {STUBS}; the published reference"),
        "04_losses": ("student", "finished (no stubs left in its export cells)"),
        "05_autograd": ("missing", f"unfinished: 28 {STUBS}; its reference is not published"),
        **NOT_STARTED,
    }
    core = out / "tinytorch" / "core"
    assert sorted(p.name for p in core.glob("*.py")) == [
        "__init__.py", "activations.py", "layers.py", "losses.py", "tensor.py"]
    assert "from the student's notebook (02_activations)" in (core / "activations.py").read_text()
    assert "from the student's notebook (04_losses)" in (core / "losses.py").read_text()
    for module in modules[:3:2]:  # 01 and 03
        for target, published in zip(module.export_targets, module.published_targets, strict=True):
            assert (core / target.name).read_bytes() == published.read_bytes()
            assert published.read_bytes() == target.read_bytes()  # the reference
    assert (out / "tinytorch" / "__init__.py").read_bytes() == (REPO / "tinytorch" / "__init__.py").read_bytes()


def test_build_with_nothing_published_uses_finished_modules_and_names_every_other_as_missing(
        tmp_path: Path, capsys) -> None:
    """As shipped: only the student's finished notebooks; no reference code at all in the build."""
    notebooks = _students_notebooks(tmp_path / "release")
    out = tmp_path / "build"
    assert main(["--root", str(REPO), "build", "--notebooks", str(notebooks), "--out", str(out)]) == 0
    printed = " ".join(capsys.readouterr().out.split())
    assert f"TINYTORCH_ROOT={out} make checkpoints" in printed
    for name in ("01_tensor", "03_layers", "05_autograd"):
        assert (f"{name} is missing (the modules after it cannot import it): finish it in "
                f"{tmp_path}/release/{name}/{name}.ipynb or ask your instructor to publish its reference") in printed
    choices = {c.module.name: (c.owner, c.reason) for c in build(REPO, MODULES, notebooks, out)}
    assert choices == {
        "01_tensor": ("missing", f"unfinished: 24 {STUBS}; its reference is not published"),
        "02_activations": ("student", "finished (no stubs left in its export cells)"),
        "03_layers": ("missing", f"unfinished: 3 {STUBS}; its reference is not published"),
        "04_losses": ("student", "finished (no stubs left in its export cells)"),
        "05_autograd": ("missing", f"unfinished: 28 {STUBS}; its reference is not published"),
        **NOT_STARTED,
    }
    package = out / "tinytorch"
    assert sorted(p.relative_to(package).as_posix() for p in package.rglob("*.py")) == [
        "__init__.py", "core/__init__.py", "core/activations.py", "core/losses.py"]
    assert "from the student's notebook (02_activations)" in (package / "core" / "activations.py").read_text()
    assert "from the student's notebook (04_losses)" in (package / "core" / "losses.py").read_text()
    # no reference to copy the package __init__s from: they are empty (they import nothing anyway)
    assert [(package / init).read_text() for init in ("__init__.py", "core/__init__.py")] == ["", ""]


def test_check_stops_when_an_earlier_module_is_neither_finished_nor_published(capsys) -> None:
    """With nothing published, 05 needs 01-04, none of which the untouched release has finished."""
    assert main(["--root", str(REPO), "check", "05_autograd"]) == 1
    assert _said(capsys.readouterr().err) == "error: " + " ".join(
        f"05_autograd needs {name}: finish it in release/{name}/{name}.ipynb or ask your instructor to publish "
        "its reference" for name in ("01_tensor", "02_activations", "03_layers", "04_losses"))


def test_check_stops_at_the_one_unpublished_earlier_module_where_01_to_03_are_published(
        first_three: Path, capsys) -> None:
    """05 needs 04, which that course does not publish and the untouched release has not finished."""
    assert main(["--root", str(first_three), "check", "05_autograd"]) == 1
    assert _said(capsys.readouterr().err) == (
        "error: 05_autograd needs 04_losses: finish it in release/04_losses/04_losses.ipynb or ask your "
        "instructor to publish its reference")


@pytest.mark.slow
@pytest.mark.parametrize("policy", [NOTHING, PUBLISHED])
def test_check_uses_the_students_finished_module_where_none_is_published(policy: str, request, tmp_path: Path,
                                                                         capsys) -> None:
    """05 on the student's own finished 04 (unpublished either way) and 01-03: the published
    reference where published, else the student's own finished notebooks."""
    root = _root(policy, request)
    notebooks = _finished(tmp_path / "work", TENSOR, ACTIVATIONS, LAYERS, LOSSES)
    mine = _write(submission(AUTOGRAD), notebooks / "05_autograd" / "05_autograd.ipynb")
    assert main(["--root", str(root), "check", "05", "--notebook", str(mine), "--notebooks", str(notebooks)]) == 0
    out = capsys.readouterr().out
    first = "your notebook" if policy == NOTHING else "published reference"
    assert (f"earlier modules: 01_tensor ({first}), 02_activations ({first}), 03_layers ({first}), "
            "04_losses (your notebook)") in " ".join(out.split())
    assert "11/11 cells passed" in out and "checkpoint checkpoints/checkpoint_05_differentiation.py: passed" in out


def _course_copy(dest: Path) -> Path:
    dest.mkdir()
    shutil.copy(REPO / "nbgrader_config.py", dest)
    shutil.copytree(REPO / "release", dest / "release")
    for module in MODULES:
        (dest / "source" / module.name).mkdir(parents=True)
        shutil.copy(module.source_py, dest / "source" / module.name)
    return dest


def test_submit_zip_is_accepted_by_the_lms_importer(tmp_path: Path, capsys) -> None:
    root = _course_copy(tmp_path / "course")
    notebook = _write(submission(ACTIVATIONS), tmp_path / "work" / "02_activations.ipynb")
    assert main(["--root", str(root), "submit", "02", "--zip", "--student", "s042",
                 "--notebook", str(notebook)]) == 0
    assert "submissions/s042_02_activations.zip" in capsys.readouterr().out
    archive = root / "submissions" / "s042_02_activations.zip"
    with zipfile.ZipFile(archive) as zipped:
        assert zipped.namelist() == ["s042_02_activations.ipynb"]
        assert zipped.read("s042_02_activations.ipynb") == notebook.read_bytes()
    report = import_lms(archive, root, "02_activations", ["s001", "s042"])
    assert [(f.status, f.student, f.dest) for f in report.files] == [
        ("matched", "s042", "submitted/s042/02_activations/02_activations.ipynb")]
    assert (root / report.files[0].dest).read_bytes() == notebook.read_bytes()


def test_submit_refuses_a_bad_id_and_a_missing_exchange(tmp_path: Path, capsys) -> None:
    root = _course_copy(tmp_path / "course")
    for bad in ("jane doe", "s_1", "s+1"):
        assert main(["--root", str(root), "submit", "02", "--zip", "--student", bad, "--yes"]) == 1
        assert "not a student id" in capsys.readouterr().err
    assert main(["--root", str(root), "submit", "02", "--student", "s001", "--yes"]) == 1
    err = capsys.readouterr().err
    assert "no nbgrader exchange is configured" in err and "--zip" in err
    assert not (root / "submissions").exists()


def _kit_like(dest: Path) -> Path:
    """What a student kit holds of the course (release/, checkpoints/, the config; no source/), so
    the modules are known by their release notebooks."""
    dest.mkdir()
    for name in ("nbgrader_config.py", "conftest.py"):
        shutil.copy(REPO / name, dest / name)
    for name in ("release", "checkpoints"):
        shutil.copytree(REPO / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    assert course.is_student_kit(dest)
    return dest


@pytest.mark.parametrize("names, action", [
    (["01_tensor-Copy1.ipynb"], "rename it to 01_tensor.ipynb"),
    (["01_tensor (1).ipynb", "01_tensor-Copy1.ipynb"], "keep the one you work in as 01_tensor.ipynb")])
def test_a_renamed_or_copied_notebook_is_named_by_check_submit_and_build(tmp_path: Path, capsys, names, action) -> None:
    """Before: "no module called '01'" from check and submit, and a build that left 01 out silently."""
    kit = _kit_like(tmp_path / "kit")
    folder = kit / "release" / "01_tensor"
    for name in names:
        shutil.copy(folder / "01_tensor.ipynb", folder / name)
    (folder / "01_tensor.ipynb").unlink()
    problem = (f"no 01_tensor.ipynb in 01_tensor/ but {', '.join(names)}: {action} (tito, nbgrader and grading "
               "read that name only)")
    for command in (["check", "01"], ["check", "tensor"], ["submit", "01_tensor", "--zip", "--student", "s001"]):
        assert main(["--root", str(kit), *command]) == 1, command
        assert _said(capsys.readouterr().err) == f"error: module 01_tensor: {problem}", command
    assert main(["--root", str(kit), "build"]) == 1
    printed = capsys.readouterr()
    assert _said(printed.err) == f"error: not built: {problem}"
    assert "01_tensor" not in printed.out  # a kit knows a module by its notebook: the table cannot list it


def test_build_names_a_copy_beside_the_notebook_it_reads_and_a_renamed_one_it_cannot(tmp_path: Path, capsys) -> None:
    """In the course (modules known from source/): 01 is finished in a copy beside the untouched
    notebook, 02 only in a renamed one; the table says both, and the build fails."""
    notebooks = tmp_path / "release"
    shutil.copytree(TENSOR.release_dir, notebooks / "01_tensor")
    _write(submission(TENSOR), notebooks / "01_tensor" / "01_tensor-Copy1.ipynb")
    _write(submission(ACTIVATIONS), notebooks / "02_activations" / "mine.ipynb")
    out = tmp_path / "build"
    assert main(["--root", str(REPO), "build", "--notebooks", str(notebooks), "--out", str(out)]) == 1
    printed = capsys.readouterr()
    rows = {row[0]: row for row in _table(printed.out)}
    assert rows["01_tensor"] == ["01_tensor", "missing", f"unfinished: 24 {STUBS} (01_tensor-Copy1.ipynb beside it: "
                                 "not read); its reference is not published"]
    problem = ("no 02_activations.ipynb in 02_activations/ but mine.ipynb: rename it to 02_activations.ipynb "
               "(tito, nbgrader and grading read that name only)")
    assert rows["02_activations"] == ["02_activations", "missing", f"{problem}; its reference is not published"]
    assert _said(printed.err) == f"error: not built: {problem}"


def _table(out: str) -> list[list[str]]:
    """The body rows of a rich table printed by `main`, each cell's wrapped lines joined."""
    rows: list[list[str]] = []
    for line in out.splitlines():
        if line.startswith("│"):
            cells = [cell.strip() for cell in line.split("│")[1:-1]]
            if cells[0] or not rows:
                rows.append(cells)
            else:
                rows[-1] = [" ".join(filter(None, pair)) for pair in zip(rows[-1], cells)]
    return rows


def _run_tito(root: Path, *args: str, answers: str | None = None) -> subprocess.CompletedProcess:
    """`python -m tito --root ROOT ARGS` as a student runs it; with `answers`, typed at a terminal
    (stdin a pseudo-terminal), else with no terminal at all (stdin /dev/null)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "tito", "--root", str(root), *args]
    if answers is None:
        return subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env,
                              timeout=120)
    controller, terminal = pty.openpty()
    try:
        with subprocess.Popen(command, stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env) as child:
            os.write(controller, answers.encode())
            out, err = child.communicate(timeout=120)
        return subprocess.CompletedProcess(command, child.returncode, out, err)
    finally:
        os.close(controller)
        os.close(terminal)


def test_submit_never_takes_the_login_name_but_the_configured_id(tmp_path: Path, capsys) -> None:
    """Before: `submit 01_tensor --zip` without --student wrote root_01_tensor.zip."""
    root = _course_copy(tmp_path / "course")
    notebook = _write(submission(ACTIVATIONS), tmp_path / "work" / "02_activations.ipynb")
    done = _run_tito(root, "submit", "02", "--zip", "--notebook", str(notebook))
    assert done.returncode == 1 and not (root / "submissions").exists()
    assert _said(done.stderr) == ("error: no student id: pass --student ID, or set it once for this course folder "
                                  f"with `{tito_command()} config student-id ID` (the id your course knows you by)")
    assert main(["--root", str(root), "config", "student-id"]) == 1
    assert capsys.readouterr().out == "no student id set (.tito/student-id does not exist)\n"
    assert main(["--root", str(root), "config", "student-id", "s042"]) == 0
    assert (root / ".tito" / "student-id").read_text() == "s042\n"
    assert main(["--root", str(root), "config", "student-id"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "s042"
    done = _run_tito(root, "submit", "02", "--zip", "--notebook", str(notebook))
    assert done.returncode == 0, done.stderr
    assert done.stdout == "wrote submissions/s042_02_activations.zip (student s042): upload it to your LMS\n"
    assert sorted(p.name for p in (root / "submissions").iterdir()) == ["s042_02_activations.zip"]


def test_at_a_terminal_submit_asks_for_the_id_once_and_keeps_it(tmp_path: Path) -> None:
    root = _course_copy(tmp_path / "course")
    notebook = _write(submission(ACTIVATIONS), tmp_path / "work" / "02_activations.ipynb")
    done = _run_tito(root, "submit", "02", "--zip", "--notebook", str(notebook), answers="s007\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ("your student id (the id your course knows you by, e.g. s001): "
                           "wrote submissions/s007_02_activations.zip (student s007): upload it to your LMS\n")
    assert (root / ".tito" / "student-id").read_text() == "s007\n"


def test_an_untouched_notebook_is_submitted_only_when_confirmed(tmp_path: Path) -> None:
    """Before: the release as it came (every stub in place) was zipped without a word."""
    root = _course_copy(tmp_path / "course")
    warning = ("01_tensor.ipynb looks untouched: all 24 of its solution stubs (`raise NotImplementedError()`) are "
               "still in place. Did you save your work (Ctrl+S)?")
    done = _run_tito(root, "submit", "01", "--zip", "--student", "s001")
    assert done.returncode == 1 and not (root / "submissions").exists()
    assert _said(done.stderr) == (f"error: {warning} Nothing was submitted; to submit it as it is, run again "
                                  "with --yes")
    done = _run_tito(root, "submit", "01", "--zip", "--student", "s001", answers="n\n")
    assert done.returncode == 1 and not (root / "submissions").exists()
    assert done.stdout == f"warning: {warning} Submit it anyway? [y/N] "
    assert _said(done.stderr) == f"error: {warning} Nothing was submitted"
    done = _run_tito(root, "submit", "01", "--zip", "--student", "s001", answers="y\n")
    assert done.returncode == 0, done.stderr
    assert (root / "submissions" / "s001_01_tensor.zip").is_file()
    (root / "submissions" / "s001_01_tensor.zip").unlink()
    assert _run_tito(root, "submit", "01", "--zip", "--student", "s001", "--yes").returncode == 0
    assert (root / "submissions" / "s001_01_tensor.zip").is_file()


def test_an_exchange_submission_goes_in_under_the_students_id(tmp_path: Path) -> None:
    """Before: nbgrader submit took the login name (`root` in a container)."""
    root = _course_copy(tmp_path / "course")
    exchange = tmp_path / "exchange" / "tinytorch"
    (exchange / "inbound").mkdir(parents=True)
    shutil.copytree(ACTIVATIONS.release_dir, exchange / "outbound" / "02_activations")  # as nbgrader releases
    with (root / "nbgrader_config.py").open("a") as config:
        config.write(f"c.Exchange.root = {str(tmp_path / 'exchange')!r}\n")
    notebook = _write(submission(ACTIVATIONS), tmp_path / "work" / "02_activations.ipynb")
    assert _run_tito(root, "config", "student-id", "s042").returncode == 0
    done = _run_tito(root, "submit", "02", "--notebook", str(notebook))
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("submitted 02_activations through the nbgrader exchange as student s042\n")
    [submitted] = (exchange / "inbound").iterdir()
    assert submitted.name.startswith("s042+02_activations+")
    assert (submitted / "02_activations.ipynb").read_bytes() == notebook.read_bytes()


def _checkpoints(course_root: Path, package_root: Path, *files: str) -> subprocess.CompletedProcess:
    """`TINYTORCH_ROOT=<package_root> pytest checkpoints ...` in `course_root`, as `make checkpoints` runs it."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS")}
    env |= {"PYTHONPATH": str(REPO), "TINYTORCH_ROOT": str(package_root)}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs",
                           "--checkpoint-seeds=1", *(files or ("checkpoints",))], cwd=course_root, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_in_week_1_the_checkpoints_run_for_module_01_and_skip_the_others_saying_why(tmp_path: Path, capsys) -> None:
    """Before: collection errors for every later checkpoint, and nothing ran."""
    notebooks = _finished(tmp_path / "release", TENSOR)
    out = tmp_path / "build"
    assert main(["--root", str(REPO), "build", "--notebooks", str(notebooks), "--out", str(out)]) == 0
    capsys.readouterr()
    done = _checkpoints(REPO, out, *sorted(str(p.relative_to(REPO)) for p in (REPO / "checkpoints").glob("checkpoint_0[1-9]_*.py")))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert re.search(r"^20 passed, 6 skipped in [\d.]+s$", done.stdout.splitlines()[-1].strip("= ")), done.stdout[-2000:]
    assert (f"modules under test: 01_tensor (yours), " + ", ".join(f"{m.name} (not in this build)" for m in MODULES[1:])
            ) in done.stdout.splitlines()
    skipped = [line.split(": ", 1)[1] for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert skipped[0] == ("checkpoint_02_activations.py: needs 02_activations, not in this build (neither your "
                          f"finished notebook nor a published reference: `{tito_command()} build` says why)")
    assert len(skipped) == 6 and skipped[-1].startswith("checkpoint_07_training.py: needs 02_activations, 03_layers, "
                                                       "04_losses, 05_autograd, 06_optimizers, 07_training, ")


@pytest.mark.slow
def test_checkpoint_01_does_not_pass_on_an_unfinished_tensor_that_the_build_took_from_the_reference(
        first_three: Path, tmp_path: Path, capsys) -> None:
    """Where 01 is published: an unfinished 01 is the published reference in the build, and its
    checkpoint says so instead of passing on the instructor's code (before: it passed)."""
    notebooks = tmp_path / "release"
    shutil.copytree(TENSOR.release_dir, notebooks / "01_tensor")  # untouched: every stub in place
    _write(submission(ACTIVATIONS), notebooks / "02_activations" / "02_activations.ipynb")
    out = tmp_path / "build"
    assert main(["--root", str(first_three), "build", "--notebooks", str(notebooks), "--out", str(out)]) == 0
    capsys.readouterr()
    done = _checkpoints(first_three, out, "checkpoints/checkpoint_01_tensor.py", "checkpoints/checkpoint_02_activations.py")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert [line.split(": ", 1)[1] for line in lines if line.startswith("SKIPPED")] == [
        "checkpoint_01_tensor.py: 01_tensor in this build is the published reference, not your work (your notebook "
        "of it is not finished): this checkpoint would test the instructor's code"]
    assert re.search(r"^\d+ passed, 1 skipped in [\d.]+s$", lines[-1].strip("= ")), lines[-1]
    assert lines[lines.index("=========================== short test summary info ============================") - 1] == (
        "modules under test: 01_tensor (published reference), 02_activations (yours), 03_layers (published "
        "reference), " + ", ".join(f"{m.name} (not in this build)" for m in MODULES[3:]))


def test_messages_name_the_tito_the_student_can_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys) -> None:
    """Before: every message said `tito ...`, which only works where that script is on PATH."""
    script = Path(sys.prefix) / "bin" / "tito"  # the console script pyproject's [project.scripts] installs
    assert script.is_file()
    monkeypatch.setenv("PATH", f"{script.parent}{os.pathsep}/usr/bin:/bin")  # `make lab`'s terminals, an activated venv
    assert tito_command() == "tito"
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.chdir(Path(sys.prefix).parent)
    assert tito_command() == f"{Path(sys.prefix).name}/bin/tito"  # `.venv/bin/tito` in the course folder
    monkeypatch.chdir(tmp_path)
    assert tito_command() == str(script)
    root = _course_copy(tmp_path / "course")
    assert main(["--root", str(root), "submit", "02", "--student", "s001", "--yes"]) == 1
    assert f"use `{script} submit 02_activations --zip` and upload" in _said(capsys.readouterr().err)
    assert main(["--root", str(root), "build", "--out", str(tmp_path / "build")]) == 0
    assert (f"run the checkpoints on your stack: {script} checkpoints --build {tmp_path / 'build'} "
            f"(or TINYTORCH_ROOT={tmp_path / 'build'} make checkpoints)") in _said(capsys.readouterr().out)


def test_a_students_module_with_two_files_is_built_into_both(tmp_path: Path) -> None:
    """05_autograd writes tinytorch/core/autograd.py and tinytorch/core/variable.py: the student's
    build writes both from their cells (here the reference's own), and the build runs the classic face."""
    from tito.build.notebooks import to_notebook
    from tito.student.stack import STUDENT, Choice, write_stack

    modules = course.discover(REPO)
    autograd = modules[4]
    choices = [Choice(m, STUDENT, "finished", None, to_notebook(m)) for m in modules[:5]]
    dest = write_stack(REPO, tmp_path / "build", choices)
    core = dest / "tinytorch" / "core"
    assert sorted(p.name for p in core.glob("*.py")) == [
        "__init__.py", "activations.py", "autograd.py", "layers.py", "losses.py", "tensor.py", "variable.py"]
    for target in autograd.export_targets:
        built = (core / target.name).read_text().splitlines()
        assert built[0] == ("# AUTOGENERATED by `tito export` from the student's notebook (05_autograd). "
                            "Edit the source, not this file.")
        assert built[1:] == target.read_text().splitlines()[1:]
    ran = subprocess.run([sys.executable, "-c", "from tinytorch.core.variable import Variable, multiply\n"
                          "x = Variable(2.0)\nmultiply(x, x).backward()\nprint(x.grad.data.data.item())"],
                         cwd=dest, env={"PYTHONPATH": str(dest), "PATH": os.environ["PATH"]},
                         capture_output=True, text=True, timeout=120)
    assert (ran.returncode, ran.stdout) == (0, "4.0\n"), ran.stderr


def test_a_notebook_whose_cell_names_a_file_its_module_lacks_is_not_finished(tmp_path: Path) -> None:
    from tito.build.notebooks import to_notebook
    from tito.student.stack import read_finished

    module = course.discover(REPO)[4]
    notebook = to_notebook(module)
    cell = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "autograd-variable-class")
    cell.source = cell.source.replace("#| export core.variable", "#| export core.classic")
    path = tmp_path / f"{module.name}.ipynb"
    nbformat.write(notebook, str(path))
    index = notebook.cells.index(cell)
    assert read_finished(path, module) == (None, f"its module cannot be built: export cell {index} names a file "
                                                 "this module does not export to (its files: "
                                                 "tinytorch.core.autograd, tinytorch.core.variable)")
