"""`tito student-kit DEST`: assemble the kit beside DEST, prove it leaks nothing, move it in.

DEST must be empty (or new); `--force` replaces the kit's own entries in a non-empty DEST and
leaves anything else there alone, so a mistyped DEST never loses a student's work.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from tito import course
from tito.course import Module
from tito.errors import TitoError
from tito.kit.files import write_files
from tito.kit.guide import copy_guide
from tito.kit.tools import copy_tools

COURSE_FILES = ("conftest.py", "nbgrader_config.py", "jupyter_server_config.py")  # shipped as they are
KIT_ENTRIES = (".gitignore", "Makefile", "README.md", "checkpoints", "conftest.py", "docs",
               "jupyter_server_config.py", "nbgrader_config.py", "pyproject.toml", "release", "tito")
CHECKPOINT_SELECTION = Path("checkpoints") / "conftest.py"  # skips what a build has not reached (tito.student.reached)
CACHES = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "*.pyc")


def write_kit(root: Path, dest: Path, *, force: bool = False) -> Path:
    """Write the student kit of the course at `root` into `dest` and return `dest`."""
    from tito.release import published_modules

    root, dest = root.resolve(), dest.resolve()
    _refuse(root, dest, force)
    modules = course.discover(root)
    published = published_modules(root, modules)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".student-kit-", dir=dest.parent) as tmp:
        kit = Path(tmp)
        _assemble(root, modules, {m.name for m in published}, kit)
        _refuse_leaks(modules, tuple(published), kit)
        _move_in(kit, dest)
    return dest


def _refuse(root: Path, dest: Path, force: bool) -> None:
    """DEST may not hold the course nor lie inside what the kit is copied from; a non-empty DEST
    needs --force."""
    if dest == root or dest in root.parents:
        raise TitoError(f"{dest}: holds the course itself; choose a folder outside it or a new one inside")
    if any(dest.is_relative_to(root / name) for name in KIT_ENTRIES + ("source", course.PACKAGE)):
        raise TitoError(f"{dest}: inside a folder the kit is made from; choose another (e.g. build/student-kit)")
    if dest.exists() and not dest.is_dir():
        raise TitoError(f"{dest}: not a folder")
    if dest.is_dir() and any(dest.iterdir()) and not force:
        raise TitoError(f"{dest}: not empty; choose an empty or new folder, or --force to replace the kit's "
                        "files in it")


def _assemble(root: Path, modules: list[Module], published: set[str], kit: Path) -> None:
    from tito.student.check import checkpoint_file

    shutil.copytree(root / "release", kit / "release", ignore=CACHES)
    (kit / "checkpoints").mkdir()
    for file in filter(None, (checkpoint_file(root, m) for m in modules)):
        shutil.copyfile(file, kit / "checkpoints" / file.name)
    shutil.copyfile(root / CHECKPOINT_SELECTION, kit / CHECKPOINT_SELECTION)
    for name in COURSE_FILES:
        shutil.copyfile(root / name, kit / name)
    copy_guide(root, kit, published)
    copy_tools(kit)
    write_files(root, kit)
    made = sorted(p.name for p in kit.iterdir())
    if made != sorted(KIT_ENTRIES):
        raise TitoError(f"the kit holds {made}, not {sorted(KIT_ENTRIES)}; update tito.kit.write.KIT_ENTRIES")


def _refuse_leaks(modules: list[Module], published: tuple[Module, ...], kit: Path) -> None:
    """Every module's solution and hidden-test fingerprints, searched in every file of the kit."""
    from tito.lint import context
    from tito.lint.rules import leak

    found = []
    for module in modules:
        for finding in leak.scan(context.load(module, modules, published=published), kit):
            where = course.relpath(kit, module.root / finding.file)
            found.append(f"{where}: {finding.message}")
    if found:
        raise TitoError("the kit would leak, so it was not written:\n" + "\n".join(found[:20]))


def _move_in(kit: Path, dest: Path) -> None:
    dest.mkdir(exist_ok=True)
    for name in KIT_ENTRIES:
        target = dest / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
        (kit / name).rename(target)
