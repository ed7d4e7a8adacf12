"""The staged view of the allowed libraries: the same files, rebuilt when they change."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tito.grade import library_view
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


def release_holds() -> None:
    """As if this process had ended: its shared locks on the stages it used are gone."""
    while library_view._HELD:
        library_view._HELD.pop().close()
    staged_views.cache_clear()


def test_a_replaced_file_makes_a_new_view_and_the_old_one_goes_once_unused(tmp_path):
    folder, binds = make_folder(tmp_path)
    first = staged_views(binds, (folder,), ())[folder]
    replacement = folder / "single.py.new"
    replacement.write_text("X = 3\n")
    replacement.rename(folder / "single.py")  # as pip reinstalls: a new file, a new inode
    staged_views.cache_clear()  # (a supervisor stages once per process; the next run sees it)
    second = staged_views(binds, (folder,), ())[folder]
    assert second != first and (second / "single.py").read_text() == "X = 3\n"
    assert (first / "single.py").read_text() == "X = 2\n"  # this process still holds the first
    release_holds()
    assert staged_views(binds, (folder,), ())[folder] == second and not first.exists()


def test_a_view_another_supervisor_uses_is_never_removed(tmp_path):
    """Two courses sharing one venv stage different views (their tito files differ); neither
    may remove the other's while it runs."""
    folder, binds = make_folder(tmp_path)
    other = subprocess.Popen([sys.executable, "-c", (
        "import sys\nfrom pathlib import Path\nfrom tito.grade.library_view import staged_views\n"
        f"folder = Path({str(folder)!r})\n"
        f"view = staged_views(((folder / 'single.py', folder / 'single.py'),), (folder,), ())[folder]\n"
        "print(view, flush=True)\nsys.stdin.read()")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        theirs = Path(other.stdout.readline().strip())
        ours = staged_views(binds, (folder,), ())[folder]
        assert ours != theirs and theirs.is_dir() and ours.is_dir()
    finally:
        other.communicate("")
    release_holds()
    staged_views(binds, (folder,), ())
    assert not theirs.exists() and ours.is_dir()


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
        assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["site-packages"]
    finally:
        (elsewhere / "pkg" / "__init__.py").unlink()
        (elsewhere / "pkg").rmdir()
        elsewhere.rmdir()
