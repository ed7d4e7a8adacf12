"""Fixture courses for the tito tests: tiny, real nbgrader course directories in tmp dirs.

`tests/fixtures/course/` is a valid two-module course (01_fixture_a, 02_fixture_b) with its own
tiny `tinytorch/` package root; `tests/fixtures/lint/` holds one deliberately broken variant of
module A per lint rule. Every course gets the repo's real nbgrader_config.py, so the tests also
exercise the configuration students' releases are built with.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tito import course
from tito.build import export, notebooks
from tito.release import generate

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
COURSE = FIXTURES / "course"
BROKEN = FIXTURES / "lint"
MODULE_A = "01_fixture_a"
MODULE_B = "02_fixture_b"


def make_course(dest: Path) -> Path:
    """A fresh copy of the valid fixture course (sources and package root only) at `dest`.

    The real config publishes the real course's modules; the fixture course publishes none.
    """
    shutil.copytree(COURSE, dest, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "nbgrader_config.py", dest / "nbgrader_config.py")
    publish(dest, [])
    return dest


def publish(root: Path, names: list[str]) -> None:
    """Set c.PublishedReference.modules of the course at `root` (a later line wins)."""
    with (root / "nbgrader_config.py").open("a", encoding="utf-8") as config:
        config.write(f"c.PublishedReference.modules = {names!r}\n")


def build(root: Path, modules: list[course.Module] | None = None) -> list[course.Module]:
    """export + notebooks + nbgrader release of every module (or of `modules`)."""
    everything = course.discover(root)
    export.export(everything)
    for module in modules or everything:
        notebooks.build(module)
        generate(root, module)
    return everything


def module(root: Path, name: str) -> course.Module:
    return next(m for m in course.discover(root) if m.name == name)


def break_module_a(root: Path, variant: str) -> course.Module:
    """Replace module A's source with `tests/fixtures/lint/<variant>.py`."""
    target = module(root, MODULE_A)
    shutil.copy(BROKEN / f"{variant}.py", target.source_py)
    return target


def copy_course(template: Path, dest: Path) -> Path:
    """A copy of an already built course (cheaper than building again)."""
    shutil.copytree(template, dest, symlinks=True)
    return dest


_TEMPLATE: list[Path] = []  # one built course per test process, shared by every test module


@pytest.fixture(scope="session")
def built_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The valid fixture course, exported and released once per process; do not mutate.

    (Building costs seconds: nbgrader opens its gradebook through an `alembic` subprocess.)
    """
    if not _TEMPLATE:
        root = make_course(tmp_path_factory.mktemp("template") / "course")
        build(root)
        _TEMPLATE.append(root)
    return _TEMPLATE[0]


@pytest.fixture
def built_course(built_template: Path, tmp_path: Path) -> Path:
    """A private, mutable copy of the built fixture course."""
    return copy_course(built_template, tmp_path / "course")
