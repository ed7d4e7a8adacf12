"""The published reference: the instructor chooses the modules whose reference ships in the release.

On the real course (which publishes 01 to 03 and keeps 04 to 07 unpublished) and on the tiny
fixture course (module A published, B not): what `tito release` writes, what the setting
accepts, and the leak lint proving no unpublished module's reference is anywhere under release/.
"""

from __future__ import annotations

import shutil
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


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_the_course_publishes_01_to_03_and_the_release_holds_exactly_their_reference() -> None:
    published = published_modules(REPO, MODULES)
    assert [m.name for m in published] == ["01_tensor", "02_activations", "03_layers"]
    assert _files(REFERENCE) == ["tinytorch/__init__.py", "tinytorch/core/__init__.py",
                                 "tinytorch/core/activations.py", "tinytorch/core/layers.py",
                                 "tinytorch/core/tensor.py"]
    for path in _files(REFERENCE):
        assert (REFERENCE / path).read_bytes() == (REPO / path).read_bytes(), path
    for module in MODULES:
        assert module.published_target.is_file() == (module in published), module.name


def test_no_unpublished_modules_reference_is_anywhere_under_release() -> None:
    """The leak rule's fingerprints of each unpublished module would catch its reference (the
    check is not vacuous), and catch nothing under release/."""
    published = tuple(published_modules(REPO, MODULES))
    unpublished = [m for m in MODULES if m not in published]
    assert unpublished
    for module in unpublished:
        ctx = lint_context.load(module, MODULES, published=published)
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
    assert findings[0].message == (f"solution text from source/{MODULE_B}/{MODULE_B}.ipynb source cell 2 "
                                   "(b-add-two) leaked: 'return add_one(add_one(x))'")


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
