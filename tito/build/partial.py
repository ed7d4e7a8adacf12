"""A partial reference package: the reference of some modules only.

Used to run a release notebook (and, later, a student submission) in a kernel that can import
the modules taught before, but never the reference of the module under test: with `dest` first
on PYTHONPATH, `import tinytorch.core.<this module>` fails instead of finding the solution.
The package `__init__`s import nothing, so a package holding only some modules imports cleanly.

The modules are copied from the instructor's full reference (`<root>/tinytorch/`) or, for the
student's tools and the release, from another package root such as the published reference.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tito.course import PACKAGE, Module, modules_before
from tito.errors import TitoError

__all__ = ["partial_reference", "modules_before", "copy_package_inits"]


def partial_reference(root: Path, dest: Path, modules: list[Module], origin: Path | None = None) -> Path:
    """Copy the package `__init__`s and every export target of `modules` into `dest/tinytorch/`.

    `origin` is the package root copied from (default `root`, the instructor's full reference).
    Returns `dest`, ready to be put first on PYTHONPATH.
    """
    root = root.resolve()
    origin = (origin or root).resolve()
    copy_package_inits(origin, dest, Path(PACKAGE))
    for module in modules:
        for target in module.export_targets:
            relative = target.relative_to(root)
            copy_package_inits(origin, dest, relative)
            _copy(origin, dest, relative)
    return dest


def copy_package_inits(origin: Path, dest: Path, relative: Path) -> None:
    """The `__init__.py` of every package from `tinytorch/` down to `relative` (a package or a
    module path under a package root), copied from `origin`, or empty where it has none."""
    packages = [p for p in reversed(relative.parents) if p != Path(".")]
    if not relative.suffix:
        packages.append(relative)
    for package in packages:
        init = package / "__init__.py"
        copy = dest / init
        copy.parent.mkdir(parents=True, exist_ok=True)
        if (origin / init).is_file():
            shutil.copyfile(origin / init, copy)
        elif not copy.exists():
            copy.write_text("", encoding="utf-8")


def _copy(origin: Path, dest: Path, relative: Path) -> None:
    if not (origin / relative).is_file():
        raise TitoError(f"{origin / relative}: missing from the reference package; run `tito export` first")
    copy = dest / relative
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(origin / relative, copy)
