"""A module's build id changes with what grading it reads, and only with that."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tito.course import discover
from tito.grade.course_build import course_build_id, module_build_id

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def course(tmp_path):
    """The files build ids read, copied: sources (for discovery), specs, releases, reference, config."""
    for module in discover(REPO):
        folder = tmp_path / "source" / module.name
        folder.mkdir(parents=True)
        shutil.copy(module.source_py, folder)
        shutil.copy(module.cases_py, folder)
        (tmp_path / "release" / module.name).mkdir(parents=True)
        shutil.copy(module.release_ipynb, tmp_path / "release" / module.name)
    shutil.copytree(REPO / "tinytorch", tmp_path / "tinytorch")
    shutil.copy(REPO / "nbgrader_config.py", tmp_path)
    return tmp_path


def ids(root: Path) -> dict[str, str]:
    modules = discover(root)
    return {m.name: module_build_id(root, modules, m) for m in modules}


def test_a_reference_change_makes_its_module_and_the_later_ones_stale(course):
    before = ids(course)
    target = course / "tinytorch" / "core" / "layers.py"
    target.write_text(target.read_text() + "\n# fixed\n")
    after = ids(course)
    changed = sorted(name for name in before if before[name] != after[name])
    assert changed == [name for name in sorted(before) if name >= "03"]


@pytest.mark.parametrize("file", ["variable.py", "../../release/_reference/tinytorch/core/variable.py"])
def test_a_change_to_a_modules_second_file_makes_it_and_the_later_ones_stale(course, file):
    # 05_autograd writes tinytorch/core/variable.py too: its reference and its published copy count
    before = ids(course)
    target = course / "tinytorch" / "core" / file
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text((target.read_text() if target.is_file() else "") + "\n# fixed\n")
    after = ids(course)
    assert sorted(name for name in before if before[name] != after[name]) == [
        name for name in sorted(before) if name >= "05"]


def test_a_spec_change_makes_only_its_module_stale(course):
    before = ids(course)
    spec = course / "source" / "05_autograd" / "cases.py"
    spec.write_text(spec.read_text() + "\n")
    after = ids(course)
    assert sorted(name for name in before if before[name] != after[name]) == ["05_autograd"]


def test_the_config_and_the_release_count_and_the_course_id_follows(course):
    modules = discover(course)
    whole = course_build_id(course, modules)
    notebook = course / "release" / "01_tensor" / "01_tensor.ipynb"
    notebook.write_bytes(notebook.read_bytes() + b" ")
    assert ids(course)["01_tensor"] != ids(REPO)["01_tensor"]
    assert course_build_id(course, modules) != whole
    config = course / "nbgrader_config.py"
    before = ids(course)
    config.write_text(config.read_text() + "\nc.LatePolicy.percent_per_day = 50\n")
    assert ids(course) == before  # a late policy changes no grade's points
    config.write_text(config.read_text() + "\nc.Grading.memory_mb = 1024\n")
    assert set(ids(course).values()).isdisjoint(before.values())


def test_the_ids_are_stable_and_short():
    assert ids(REPO) == ids(REPO)
    assert all(len(value) == 16 and int(value, 16) >= 0 for value in ids(REPO).values())
