"""The allowed libraries as one folder per package folder, staged once, bound once.

The sandbox hides every folder of installed packages and shows only the allowed distributions
(`sandbox.library_binds`: some sixty files and folders). Bound one by one, they cost bubblewrap
about 0.1 s per sandbox, a fifth of a submission's whole grading. Staged instead as a tree of
hard links beside the package folder (same files, same inodes, no copy), the view is ONE
read-only bind per folder, and the sandbox sees exactly the same names and contents.

A stage is keyed by what it shows: the binds and, for each allowed distribution, its version and
its RECORD's inode and mtime (a reinstall writes a new RECORD, so the view never shows files
the venv no longer has). It is built under a temporary name and renamed into place, so
supervisors running at once never see half a stage. A supervisor holds a shared lock on its
stage for its life; a stage nobody holds (another key: packages reinstalled since) is removed,
one in use never is (two courses sharing a venv, a run that began before an upgrade). Where
hard links are impossible (another filesystem, no permission), there is no stage and the
sandbox binds the libraries one by one as before.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import logging
import os
import shutil
from importlib import metadata
from pathlib import Path

log = logging.getLogger(__name__)

STAGE_PREFIX = ".tito-library-view-"
LOCK_SUFFIX = ".lock"
_HELD: list = []  # this process's open, shared-locked lock files of the stages it uses


@functools.lru_cache(maxsize=None)
def staged_views(binds: tuple[tuple[Path, Path], ...], folders: tuple[Path, ...],
                 distributions: tuple[str, ...]) -> dict[Path, Path]:
    """{package folder: its staged view} for every folder that shows something; {} where
    staging is impossible (then the caller binds `binds` one by one)."""
    key = _key(binds, distributions)
    views = {}
    for folder in folders:
        inside = [(src, dest) for src, dest in binds if folder in dest.parents]
        if not inside:
            continue
        try:
            views[folder] = _stage(folder, inside, key)
        except OSError as error:
            log.warning("no staged library view for %s (%s): binding its libraries one by one", folder, error)
            return {}
    return views


def _key(binds: tuple[tuple[Path, Path], ...], distributions: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    for src, dest in binds:
        digest.update(f"{src}\0{dest}\0".encode())
        if src.is_file():
            status = src.stat()
            digest.update(f"{status.st_ino}:{status.st_mtime_ns}\0".encode())
    for name in distributions:
        dist = metadata.distribution(name)
        records = [dist.locate_file(f) for f in dist.files or [] if f.name == "RECORD"]
        status = os.stat(records[0]) if records and os.path.exists(records[0]) else None
        digest.update(f"{name}={dist.version}:{status.st_ino if status else 0}:"
                      f"{status.st_mtime_ns if status else 0}\0".encode())
    return digest.hexdigest()[:16]


def _stage(folder: Path, binds: list[tuple[Path, Path]], key: str) -> Path:
    """The view of `folder` under `folder.parent`, built unless it exists, and held: a shared
    lock on its lock file, kept for this process's life, tells other supervisors it is in use."""
    final = folder.parent / f"{STAGE_PREFIX}{folder.name}-{key}"
    _hold(final)
    if not final.is_dir():
        _build(final, folder, binds)
    _remove_unused_stages(folder, final)
    return final


def _build(final: Path, folder: Path, binds: list[tuple[Path, Path]]) -> None:
    building = final.with_name(f"{final.name}.building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    try:
        building.mkdir(mode=0o755)
        for src, dest in binds:
            _place(src, building / dest.relative_to(folder))
        os.chmod(building, 0o755)
        try:
            building.rename(final)
        except OSError:
            if not final.is_dir():  # (another supervisor's rename won: use its stage)
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)


def _hold(stage: Path) -> None:
    """A shared lock on `<stage>.lock`, kept open. The lock file may have been unlinked by a
    remover between our open and our lock: then lock the new one."""
    lock_path = stage.with_name(stage.name + LOCK_SUFFIX)
    while True:
        handle = open(lock_path, "a")
        fcntl.flock(handle, fcntl.LOCK_SH)
        try:
            if os.fstat(handle.fileno()).st_ino == os.stat(lock_path).st_ino:
                _HELD.append(handle)
                return
        except FileNotFoundError:
            pass
        handle.close()


def _place(src: Path, target: Path) -> None:
    """`src` at `target`: hard links for a library's own files, a copy for a file of tito's
    (the stand-in `__init__.py`), which may live on another filesystem."""
    for parent in reversed(target.parents):
        if not parent.exists():
            parent.mkdir(mode=0o755)
    if src.is_dir():
        shutil.copytree(src, target, symlinks=True, copy_function=os.link)
        return
    try:
        os.link(src, target)
    except OSError:
        shutil.copy2(src, target)


def _remove_unused_stages(folder: Path, keep: Path) -> None:
    """Stages of other keys that no supervisor holds (a package reinstalled since, a course gone):
    removed under an exclusive lock, which fails at once while any supervisor uses the stage
    (another course sharing this venv, a run that began before an upgrade)."""
    for lock_path in folder.parent.glob(f"{STAGE_PREFIX}{folder.name}-*{LOCK_SUFFIX}"):
        stage = lock_path.with_name(lock_path.name[:-len(LOCK_SUFFIX)])
        if stage == keep:
            continue
        with open(lock_path, "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            shutil.rmtree(stage, ignore_errors=True)
            lock_path.unlink(missing_ok=True)
