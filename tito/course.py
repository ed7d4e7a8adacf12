"""Where things are: the course root and its ordered list of modules.

Every other stage asks this module for paths, so the layout of the course directory is
written down exactly once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from tito.errors import TitoError

CONFIG_FILE = "nbgrader_config.py"
PACKAGE = "tinytorch"
PUBLISHED_DIR = "_reference"  # release/_reference/: never an assignment (those are source/NN_name)
MODULE_DIR = re.compile(r"^(?P<number>\d{2})_(?P<title>[a-z0-9_]+)$")
DEFAULT_EXP = re.compile(r"^\s*#\|\s*default_exp\s+(?P<target>\S+)\s*$")
DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


@dataclass(frozen=True)
class Module:
    """One course module: `source/NN_title/NN_title.py` and everything derived from it.

    `name` is the directory name (`01_tensor`), which is also nbgrader's assignment id.
    """

    number: int
    name: str
    root: Path

    @property
    def title(self) -> str:
        """The name without its number (`tensor`), for tables and messages."""
        return self.name.split("_", 1)[1]

    @property
    def source_py(self) -> Path:
        return self.root / "source" / self.name / f"{self.name}.py"

    @property
    def source_ipynb(self) -> Path:
        return self.root / "source" / self.name / f"{self.name}.ipynb"

    @property
    def release_dir(self) -> Path:
        return self.root / "release" / self.name

    @property
    def release_ipynb(self) -> Path:
        return self.release_dir / f"{self.name}.ipynb"

    @property
    def published_target(self) -> Path:
        """This module's file in the published reference; it exists only if the module is published."""
        return published_root(self.root) / self.export_target.relative_to(self.root)

    @cached_property
    def export_module(self) -> str:
        """The dotted module the `#| default_exp` directive names (`tinytorch.core.tensor`)."""
        return f"{PACKAGE}.{read_default_exp(self.source_py)}"

    @property
    def export_target(self) -> Path:
        """The file `tito export` writes (`<root>/tinytorch/core/tensor.py`)."""
        return self.root.joinpath(*self.export_module.split(".")).with_suffix(".py")

    def rel(self, path: Path) -> str:
        """A path relative to the course root, the way findings and errors print it."""
        return relpath(self.root, path)


def relpath(root: Path, path: Path) -> str:
    """`path` relative to `root` with forward slashes (falls back to the full path)."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def published_root(root: Path) -> Path:
    """The package root of the published reference (`release/_reference/`, holding `tinytorch/`).

    It ships inside the release, which students have. nbgrader finds assignments under `source/`
    (and module folders are `NN_name`), so it never takes this folder for one.
    """
    return root.resolve() / "release" / PUBLISHED_DIR


def read_default_exp(source_py: Path) -> str:
    """The first `#| default_exp X` in a source; a source without one cannot be exported."""
    for line in source_py.read_text(encoding="utf-8").splitlines():
        match = DEFAULT_EXP.match(line)
        if match:
            target = match["target"]
            if not DOTTED.match(target):
                raise TitoError(f"{source_py}: `#| default_exp {target}` is not a dotted module path")
            return target
    raise TitoError(f"{source_py}: no `#| default_exp <module>` directive; tito cannot tell where to export")


def find_root(start: Path | None = None) -> Path:
    """The course root: the nearest directory, from `start` upward, holding nbgrader_config.py."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / CONFIG_FILE).is_file():
            return candidate
    raise TitoError(f"{here}: not inside a course directory (no {CONFIG_FILE} here or above)")


def discover(root: Path) -> list[Module]:
    """Every `source/NN_name/NN_name.py`, ordered by number; duplicate numbers are an error."""
    source = root / "source"
    modules = []
    for directory in sorted(source.iterdir()) if source.is_dir() else []:
        match = MODULE_DIR.match(directory.name)
        if match and (directory / f"{directory.name}.py").is_file():
            modules.append(Module(int(match["number"]), directory.name, root.resolve()))
    _reject_duplicate_numbers(modules)
    return sorted(modules, key=lambda m: m.number)


def _reject_duplicate_numbers(modules: list[Module]) -> None:
    """Course order is the module number, so two modules may not share one."""
    seen: dict[int, str] = {}
    for module in modules:
        if module.number in seen:
            raise TitoError(f"source/{module.name}: number {module.number:02d} already used by source/{seen[module.number]}")
        seen[module.number] = module.name


def select(modules: list[Module], name: str | None) -> list[Module]:
    """All modules, or the one called `name` (`05_autograd`, `05` or `autograd`)."""
    if name is None:
        return modules
    chosen = [m for m in modules if name in (m.name, f"{m.number:02d}", m.title)]
    if not chosen:
        known = ", ".join(m.name for m in modules) or "none"
        raise TitoError(f"no module called {name!r} under source/ (known: {known})")
    return chosen


def modules_before(modules: list[Module], module: Module) -> list[Module]:
    """The modules taught before `module`: what a student of `module` may import."""
    return [m for m in modules if m.number < module.number]
