"""`tito demo`'s own class: a clear remedy when submitted/ holds files it did not write, and
`--rebuild` to start from a fresh class."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from tito.demo import CLASS_STATE, clear_class, run_cycle
from tito.errors import TitoError
from tito_helpers import make_course


def test_foreign_submissions_name_the_rebuild_option_not_a_missing_force(tmp_path: Path) -> None:
    root = make_course(tmp_path / "course")
    real = root / "submitted" / "alice" / "01_fixture_a" / "01_fixture_a.ipynb"
    real.parent.mkdir(parents=True)
    real.write_text("{}")
    with pytest.raises(TitoError) as refused:
        run_cycle(root, students=2, seed=0, workers=1, console=Console(quiet=True))
    assert str(refused.value) == (
        f"{root}: refusing to overwrite files the generator did not write "
        "(submitted/alice/01_fixture_a/01_fixture_a.ipynb); they may be real submissions. "
        "`make demo REBUILD=1` (`tito demo --rebuild`) replaces submitted/, autograded/, feedback/ and the "
        "gradebook with a fresh synthetic class.")


def test_rebuild_removes_the_class_and_everything_graded_from_it(tmp_path: Path) -> None:
    root = make_course(tmp_path / "course")
    for name in ("submitted/alice/01_fixture_a", "autograded/alice/01_fixture_a", "feedback/alice"):
        (root / name).mkdir(parents=True)
    for name in ("gradebook.db", "roster.csv", "synthetic_class.json"):
        (root / name).write_text("x")
    assert clear_class(root) == list(CLASS_STATE)
    assert not any((root / name).exists() for name in CLASS_STATE)
    assert (root / "source" / "01_fixture_a").is_dir() and (root / "nbgrader_config.py").is_file()
    assert clear_class(root) == []
