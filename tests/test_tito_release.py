"""tito.release: nbgrader generate_assignment through its API, reproducible and leak-free."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tito import TitoError
from tito.build import notebooks
from tito.release import generate
from tito_helpers import MODULE_A, built_course, built_template, module  # noqa: F401 (fixtures)


def _release_files(root: Path) -> dict[str, bytes]:
    release = root / "release"
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(release.rglob("*")) if p.is_file()}


def test_release_holds_exactly_the_student_notebooks(built_course: Path) -> None:
    assert sorted(_release_files(built_course)) == [
        "release/01_fixture_a/01_fixture_a.ipynb",
        "release/02_fixture_b/02_fixture_b.ipynb",
    ]
    nb = json.loads((built_course / "release" / MODULE_A / f"{MODULE_A}.ipynb").read_text())
    solution = next(c for c in nb["cells"] if c["id"] == "a-add-one")
    text = "".join(solution["source"])
    assert "raise NotImplementedError()" in text and "result_of_adding" not in text
    test = next(c for c in nb["cells"] if c["id"] == "test-add-one")
    assert "HIDDEN" not in "".join(test["source"]) and test["metadata"]["nbgrader"]["locked"] is True


def test_release_twice_is_byte_identical(built_course: Path) -> None:
    before = _release_files(built_course)
    a = module(built_course, MODULE_A)
    notebooks.build(a)
    generate(built_course, a)
    assert _release_files(built_course) == before


def test_nbgrader_failure_names_the_module(built_course: Path) -> None:
    a = module(built_course, MODULE_A)
    text = a.source_py.read_text().replace("    ### END SOLUTION\n\n\nclass", "\n\nclass", 1)
    a.source_py.write_text(text)  # a BEGIN SOLUTION never closed: nbgrader raises
    notebooks.build(a)
    with pytest.raises(TitoError, match=r"01_fixture_a: nbgrader generate_assignment failed:(.|\n)*nested begin solution"):
        generate(built_course, a)


def test_config_without_py_ignore_would_leak_and_is_refused(built_course: Path) -> None:
    config = built_course / "nbgrader_config.py"
    config.write_text(config.read_text().replace(', "*.py"]', "]"))
    with pytest.raises(TitoError, match=r"unexpected files in the release: release/01_fixture_a/01_fixture_a\.py"):
        generate(built_course, module(built_course, MODULE_A))


def test_missing_source_notebook_is_a_clear_error(built_course: Path) -> None:
    a = module(built_course, MODULE_A)
    a.source_ipynb.unlink()
    with pytest.raises(TitoError, match="01_fixture_a.ipynb: missing; run `tito notebooks` first"):
        generate(built_course, a)


def test_release_refuses_a_module_its_spec_cannot_grade(built_course: Path, capsys) -> None:
    """`tito release` names the file and line to fix: a graded cell without cases, and checkpoint
    case points that do not add up to the cell's."""
    from tito.cli import main

    a = module(built_course, MODULE_A)
    a.source_py.write_text(a.source_py.read_text() + (
        '\n# %% nbgrader={"grade": true, "grade_id": "fixture_a-checkpoint", "locked": true, "points": 4, '
        '"schema_version": 3, "solution": false, "task": false}\nassert add_one(2) == 3\n'))
    before = _release_files(built_course)
    assert main(["--root", str(built_course), "release", "--module", MODULE_A]) == 1
    marker = a.source_py.read_text().splitlines().index("assert add_one(2) == 3")  # the line above it, 1-based
    assert " ".join(capsys.readouterr().err.split()) == " ".join((
        f"error: {MODULE_A}: not released, its spec cannot grade it (see source/AUTHORING.md): "
        f"source/{MODULE_A}/{MODULE_A}.py:{marker}: cell 6 (fixture_a-checkpoint): [spec] graded cell without "
        f"cases in source/{MODULE_A}/cases.py: nothing could score it").split())
    a.cases_py.write_text(a.cases_py.read_text() + (
        '\n\n@case("fixture_a-checkpoint", points=3)\ndef checkpoint(tt, rng):\n'
        '    return {"add_one(2)": tt.fixture_a.add_one(2)}\n'))
    assert main(["--root", str(built_course), "release", "--module", MODULE_A]) == 1
    assert (f"[spec] the checkpoint's cases carry 3 points in source/{MODULE_A}/cases.py, the cell 4: a perfect "
            "submission would not get them all") in " ".join(capsys.readouterr().err.split())
    assert _release_files(built_course) == before  # nothing released
