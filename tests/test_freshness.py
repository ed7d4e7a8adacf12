"""Generated files that are committed (tinytorch/, release/) must match their sources.

release/ is the student notebooks and the published reference (release/_reference/), which
holds the reference of the modules nbgrader_config.py publishes, copied from tinytorch/, and does
not exist while the config publishes none (as shipped: tests/test_published.py).

A reviewer reads tinytorch/ and release/ in the repository; if they drifted from source/, the
review would be of something no student ever gets. These tests regenerate both and compare.
"""

import shutil
from pathlib import Path

import pytest

from tito import course
from tito.build import export, notebooks
from tito.release import generate, published_modules, write_published

REPO = Path(__file__).resolve().parents[1]
MODULES = course.discover(REPO)


def test_the_modules_are_numbered_from_01_in_course_order():
    """Course order is the number; which modules there are is docs/curriculum.md's (tests/test_curriculum.py).

    Numbers may skip (a module written in parallel, e.g. 09 before 08, keeps the number of its
    place in the course), but never repeat.
    """
    numbers = [m.number for m in MODULES]
    assert numbers[0] == 1 and numbers == sorted(set(numbers)), numbers


def test_reference_package_is_exported_from_the_current_sources():
    stale = export.check(MODULES)
    assert [export.describe(result) for result in stale] == [], "run `make export`"


@pytest.mark.slow
def test_release_is_generated_from_the_current_sources(tmp_path):
    copy = tmp_path / "course"
    shutil.copytree(REPO / "source", copy / "source", ignore=shutil.ignore_patterns("*.ipynb"))
    shutil.copytree(REPO / "tinytorch", copy / "tinytorch", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "nbgrader_config.py", copy)
    stale = []
    modules = course.discover(copy)
    for module in modules:
        notebooks.build(module)
        fresh = generate(copy, module).read_bytes()
        committed = REPO / "release" / module.name / module.release_ipynb.name
        if not committed.is_file() or committed.read_bytes() != fresh:
            stale.append(module.name)
    write_published(copy, modules)
    if _tree(course.published_root(copy)) != _tree(course.published_root(REPO)):
        stale.append("the published reference (release/_reference/)")
    assert stale == [], "release/ is stale for these: run `make release`"


def _tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_release_holds_one_notebook_per_module_and_the_published_reference_only():
    files = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "release").rglob("*") if p.is_file())
    published = published_modules(REPO, MODULES)
    reference = [course.relpath(REPO, target) for m in published for target in m.published_targets]
    inits = ["release/_reference/tinytorch/__init__.py", "release/_reference/tinytorch/core/__init__.py"]
    assert files == sorted([f"release/{m.name}/{m.name}.ipynb" for m in MODULES] + reference
                           + (inits if published else []))
    assert course.published_root(REPO).exists() == bool(published)  # not even an empty folder
