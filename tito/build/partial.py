"""A partial reference package: the reference of some modules only.

Used to run a release notebook (and, later, a student submission) in a kernel that can import
the modules taught before, but never the reference of the module under test: with `dest` first
on PYTHONPATH, `import tinytorch.core.<this module>` fails instead of finding the solution.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tito.course import PACKAGE, Module, modules_before
from tito.errors import TitoError

__all__ = ["partial_reference", "modules_before"]


def partial_reference(root: Path, dest: Path, modules: list[Module]) -> Path:
    """Copy the package `__init__`s and the export targets of `modules` into `dest/tinytorch/`.

    Returns `dest`, ready to be put first on PYTHONPATH.
    """
    root = root.resolve()
    (dest / PACKAGE).mkdir(parents=True, exist_ok=True)
    _copy_init(root, dest, root / PACKAGE)
    for module in modules:
        target = module.export_target
        for package in _packages_above(root, target):
            _copy_init(root, dest, package)
        _copy(root, dest, target)
    return dest


def _packages_above(root: Path, target: Path) -> list[Path]:
    """Package directories between the course root and `target`, outermost first."""
    return [p for p in reversed(target.parents) if root in p.parents]


def _copy_init(root: Path, dest: Path, package: Path) -> None:
    """Copy the package's `__init__.py`, or create an empty one if the reference has none."""
    init = package / "__init__.py"
    copy = dest / init.relative_to(root)
    copy.parent.mkdir(parents=True, exist_ok=True)
    if init.is_file():
        shutil.copyfile(init, copy)
    elif not copy.exists():
        copy.write_text("", encoding="utf-8")


def _copy(root: Path, dest: Path, path: Path) -> None:
    if not path.is_file():
        raise TitoError(f"{path}: missing from the reference package; run `tito export` first")
    copy = dest / path.relative_to(root)
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, copy)
