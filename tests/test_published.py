"""The published reference: the instructor chooses the modules whose reference ships in the release.

On the real course as committed (it publishes nothing: the default, so a new course's first
release hands out no solution), on a copy of it whose config publishes 01 to 03 and that ran
`tito release` (what an instructor does after those deadlines), and on the tiny fixture course
(module A published, B not): what `tito release` writes, what the setting accepts, and the leak
lint proving no unpublished module's reference is anywhere under release/.

`published_course` makes that copy; the student tools' and the kit's tests use it too.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tito import TitoError, course
from tito.cli import main
from tito.lint import lint
from tito.lint import context as lint_context
from tito.lint.rules import leak
from tito.release import published_modules, write_published
from tito_helpers import MODULE_A, MODULE_B, built_course, built_template, publish  # noqa: F401 (fixtures)

REPO = Path(__file__).resolve().parents[1]
MODULES = course.discover(REPO)
REFERENCE = course.published_root(REPO)
FIRST_THREE = ["01_tensor", "02_activations", "03_layers"]
# what a clone of the repository brings that `tito release`, the student tools and the kit read
COURSE_PARTS = ("source", "release", "tinytorch", "checkpoints", "docs", "nbgrader_config.py", "conftest.py",
                "pyproject.toml", "jupyter_server_config.py")


def published_course(dest: Path, names: list[str]) -> Path:
    """A copy of the real course at `dest` whose nbgrader_config.py publishes `names`, released
    as an instructor publishes: the line appended to the config, then `tito release` (of module
    01 only: the other release notebooks are copied fresh, and the published reference is always
    rewritten whole). Fails showing tito's output if the release fails."""
    dest.mkdir(parents=True)
    for part in COURSE_PARTS:
        if (REPO / part).is_file():
            shutil.copy(REPO / part, dest / part)
        else:
            derived = ("*.ipynb",) if part == "source" else ()
            shutil.copytree(REPO / part, dest / part, ignore=shutil.ignore_patterns("__pycache__", *derived))
    publish(dest, names)
    done = subprocess.run([sys.executable, "-m", "tito", "release", "--module", "01"], cwd=dest,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    said = ", ".join(names) or "none (c.PublishedReference.modules in nbgrader_config.py)"
    assert f"published reference release/_reference: {said}" in " ".join(done.stdout.split())
    return dest


@pytest.fixture(scope="module")
def first_three(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real course, published up to 03_layers."""
    return published_course(tmp_path_factory.mktemp("published") / "course", FIRST_THREE)


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_the_course_publishes_nothing_and_its_release_holds_no_reference() -> None:
    """As shipped: no module published, so no reference code anywhere under release/."""
    assert published_modules(REPO, MODULES) == []
    assert not REFERENCE.exists()
    assert [p.relative_to(REPO).as_posix() for p in (REPO / "release").rglob("*") if p.name == "tinytorch"] == []
    assert [module.published_target.is_file() for module in MODULES] == [False] * len(MODULES)


def test_a_course_that_publishes_01_to_03_releases_exactly_their_reference(first_three: Path) -> None:
    modules = course.discover(first_three)
    published = published_modules(first_three, modules)
    assert [m.name for m in published] == FIRST_THREE
    reference = course.published_root(first_three)
    assert _files(reference) == ["tinytorch/__init__.py", "tinytorch/core/__init__.py",
                                 "tinytorch/core/activations.py", "tinytorch/core/layers.py",
                                 "tinytorch/core/tensor.py"]
    for path in _files(reference):
        assert (reference / path).read_bytes() == (REPO / path).read_bytes(), path
    for module in modules:
        assert module.published_target.is_file() == (module in published), module.name
    assert _files(first_three / "release") == sorted(_files(REPO / "release") + [
        f"_reference/{path}" for path in _files(reference)])  # the notebooks did not change


@pytest.mark.parametrize("policy", ["nothing published", "01-03 published"])
def test_no_unpublished_modules_reference_is_anywhere_under_release(policy: str, request) -> None:
    """The leak rule's fingerprints of each unpublished module would catch its reference (the
    check is not vacuous), and catch nothing under release/."""
    root = REPO if policy == "nothing published" else request.getfixturevalue("first_three")
    modules = course.discover(root)
    published = tuple(published_modules(root, modules))
    unpublished = [m for m in modules if m not in published]
    assert [m.name for m in unpublished] == [m.name for m in MODULES][len(published):]
    for module in unpublished:
        ctx = lint_context.load(module, modules, published=published)
        reference = module.export_target.read_text(encoding="utf-8")
        solution = [fp for fp in leak.fingerprints(ctx) if fp.what == "solution"]
        assert sum(fp.text in reference for fp in solution) >= 10, module.name
        assert leak.check(ctx) == [], module.name


def test_release_writes_the_published_modules_and_removes_what_is_no_longer_published(built_course: Path) -> None:
    publish(built_course, [MODULE_A])
    modules = course.discover(built_course)
    assert [m.name for m in write_published(built_course, modules)] == [MODULE_A]
    reference = course.published_root(built_course)
    assert _files(reference) == ["tinytorch/__init__.py", "tinytorch/core/__init__.py", "tinytorch/core/fixture_a.py"]
    assert (reference / "tinytorch/core/fixture_a.py").read_bytes() == modules[0].export_target.read_bytes()
    assert lint(modules, execute=False).findings == []

    publish(built_course, [])
    assert write_published(built_course, modules) == []
    assert not reference.exists()


def test_an_unpublished_modules_reference_in_the_release_is_a_leak(built_course: Path) -> None:
    publish(built_course, [MODULE_A])
    modules = course.discover(built_course)
    write_published(built_course, modules)
    shutil.copy(modules[1].export_target, course.published_root(built_course) / "tinytorch" / "core")
    findings = lint(modules, execute=False).findings
    assert [(f.rule, f.module, f.file, f.line) for f in findings] == [
        ("leak", MODULE_B, "release/_reference/tinytorch/core/fixture_b.py", 13)]
    assert findings[0].message == (f"solution text from source/{MODULE_B}/{MODULE_B}.py:15 (cell 2, b-add-two) "
                                   "leaked: 'return add_one(add_one(x))'")


def test_a_name_that_is_no_module_is_refused_by_release_and_reported_by_lint(built_course: Path) -> None:
    publish(built_course, [MODULE_A, "02_fixture"])
    modules = course.discover(built_course)
    message = ("nbgrader_config.py: c.PublishedReference.modules names '02_fixture', not a module of this "
               f"course (known: {MODULE_A}, {MODULE_B})")
    with pytest.raises(TitoError) as raised:
        write_published(built_course, modules)
    assert str(raised.value) == message
    assert [(f.rule, f.file, f.message) for f in lint(modules, execute=False).findings] == [
        ("config", "nbgrader_config.py", message)]


def test_a_stale_reference_package_is_never_published(built_course: Path) -> None:
    publish(built_course, [MODULE_A])
    modules = course.discover(built_course)
    modules[0].export_target.write_text("# edited by hand\n", encoding="utf-8")
    with pytest.raises(TitoError, match=r"tinytorch/core/fixture_a.py: stale .*run `tito export` first"):
        write_published(built_course, modules)


def test_the_setting_defaults_to_nothing_published(built_course: Path) -> None:
    config = built_course / "nbgrader_config.py"
    config.write_text("\n".join(line for line in config.read_text().splitlines() if "PublishedReference" not in line))
    assert published_modules(built_course, course.discover(built_course)) == []


@pytest.mark.slow
def test_tito_release_says_what_it_published(built_course: Path, capsys: pytest.CaptureFixture[str]) -> None:
    publish(built_course, [MODULE_A])
    assert main(["--root", str(built_course), "release", "--module", MODULE_B]) == 0
    assert "published reference release/_reference: 01_fixture_a" in capsys.readouterr().out
    assert (course.published_root(built_course) / "tinytorch/core/fixture_a.py").is_file()

    publish(built_course, [])
    assert main(["--root", str(built_course), "release", "--module", MODULE_B]) == 0
    assert ("published reference release/_reference: none (c.PublishedReference.modules in nbgrader_config.py)"
            in " ".join(capsys.readouterr().out.split()))
    assert not course.published_root(built_course).exists()


def test_publishing_a_module_with_two_files_ships_both(tmp_path: Path) -> None:
    """05_autograd writes tinytorch/core/autograd.py and tinytorch/core/variable.py: both are its
    reference, both are published, and a build lacking one of them lacks the module."""
    from tito.student import reached

    root = tmp_path / "course"
    for part in ("source", "tinytorch"):
        shutil.copytree(REPO / part, root / part, ignore=shutil.ignore_patterns("__pycache__", "*.ipynb"))
    shutil.copy(REPO / "nbgrader_config.py", root)
    names = [m.name for m in MODULES if m.number <= 5]
    publish(root, names)
    modules = course.discover(root)
    assert [m.name for m in write_published(root, modules)] == names
    reference = course.published_root(root)
    assert _files(reference) == ["tinytorch/__init__.py", "tinytorch/core/__init__.py",
                                 "tinytorch/core/activations.py", "tinytorch/core/autograd.py",
                                 "tinytorch/core/layers.py", "tinytorch/core/losses.py",
                                 "tinytorch/core/tensor.py", "tinytorch/core/variable.py"]
    assert (reference / "tinytorch/core/variable.py").read_bytes() == (REPO / "tinytorch/core/variable.py").read_bytes()
    origins = reached.origins(modules[:5], reference)
    assert origins == dict.fromkeys(names, reached.PUBLISHED)
    (reference / "tinytorch/core/variable.py").unlink()
    assert reached.origins(modules[:5], reference)["05_autograd"] == reached.ABSENT
