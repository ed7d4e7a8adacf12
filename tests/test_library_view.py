"""The staged view of the allowed libraries: the same files, rebuilt when they change."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tito.grade.library_view import STAGE_PREFIX, staged_views


def make_folder(root: Path) -> tuple[Path, tuple[tuple[Path, Path], ...]]:
    """A package folder holding an allowed package, a module file and a forbidden package."""
    folder = root / "site-packages"
    (folder / "allowed" / "sub").mkdir(parents=True)
    (folder / "allowed" / "__init__.py").write_text("VALUE = 1\n")
    (folder / "allowed" / "sub" / "data.txt").write_text("data\n")
    (folder / "single.py").write_text("X = 2\n")
    (folder / "forbidden").mkdir()
    (folder / "forbidden" / "__init__.py").write_text("SECRET = 3\n")
    binds = ((folder / "allowed", folder / "allowed"), (folder / "single.py", folder / "single.py"))
    return folder, binds


def tree(path: Path) -> dict[str, str]:
    return {str(p.relative_to(path)): p.read_text() for p in sorted(path.rglob("*")) if p.is_file()}


def test_the_view_holds_the_bound_files_only_as_hard_links(tmp_path):
    folder, binds = make_folder(tmp_path)
    view = staged_views(binds, (folder,), ())[folder]
    assert view.parent == tmp_path and view.name.startswith(STAGE_PREFIX + "site-packages-")
    assert tree(view) == {"allowed/__init__.py": "VALUE = 1\n", "allowed/sub/data.txt": "data\n", "single.py": "X = 2\n"}
    assert os.stat(view / "single.py").st_ino == os.stat(folder / "single.py").st_ino


def test_a_replaced_file_makes_a_new_view_and_the_old_one_goes(tmp_path):
    folder, binds = make_folder(tmp_path)
    first = staged_views(binds, (folder,), ())[folder]
    replacement = folder / "single.py.new"
    replacement.write_text("X = 3\n")
    replacement.rename(folder / "single.py")  # as pip reinstalls: a new file, a new inode
    staged_views.cache_clear()  # (a supervisor stages once per process; the next run sees it)
    second = staged_views(binds, (folder,), ())[folder]
    assert second != first and not first.exists()
    assert (second / "single.py").read_text() == "X = 3\n"


def test_a_folder_that_shows_nothing_gets_no_view(tmp_path):
    folder, binds = make_folder(tmp_path)
    other = tmp_path / "other" / "dist-packages"
    other.mkdir(parents=True)
    assert list(staged_views(binds, (folder, other), ())) == [folder]


def test_without_hard_links_there_is_no_view(tmp_path):
    """A library on another filesystem than its package folder's parent: no view (the sandbox
    then binds the libraries one by one), and no half-built stage is left behind."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("no second filesystem at /dev/shm")
    folder, _ = make_folder(tmp_path)
    elsewhere = Path(os.path.realpath(shm)) / f"tito-view-test-{os.getpid()}"
    (elsewhere / "pkg").mkdir(parents=True)
    (elsewhere / "pkg" / "__init__.py").write_text("")
    try:
        assert staged_views(((elsewhere / "pkg", folder / "pkg"),), (folder,), ()) == {}
        assert sorted(p.name for p in tmp_path.iterdir()) == ["site-packages"]
    finally:
        (elsewhere / "pkg" / "__init__.py").unlink()
        (elsewhere / "pkg").rmdir()
        elsewhere.rmdir()
