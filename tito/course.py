"""Where things are: the course root and its ordered list of modules.

Every other stage asks this module for paths, so the layout of the course directory is
written down exactly once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from tito.errors import TitoError

CONFIG_FILE = "nbgrader_config.py"
SOURCE, RELEASE = "source", "release"  # where modules are found: the instructor's course, a student kit
CHECKPOINTS = "checkpoints"  # the course's checkpoints (and, in a student kit, every module's)
PACKAGE = "tinytorch"
PUBLISHED_DIR = "_reference"  # release/_reference/: never an assignment (those are source/NN_name)
MODULE_DIR = re.compile(r"^(?P<number>\d{2})_(?P<title>[a-z0-9_]+)$")
DEFAULT_EXP = re.compile(r"^\s*#\|\s*default_exp\s+(?P<target>\S+)\s*$")
# `#| export` (the default target) or `#| export core.variable` (a cell for another file)
EXPORT = re.compile(r"^\s*#\|\s*export(?:\s+(?P<target>\S+))?\s*$")
DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


@dataclass(frozen=True)
class Module:
    """One course module: `source/NN_title/NN_title.py` and everything derived from it.

    `name` is the directory name (`01_tensor`), which is also nbgrader's assignment id.
    `declared_in` says which file names its export target: the source in the instructor's course,
    the release notebook in a student kit (which has no source/).
    """

    number: int
    name: str
    root: Path
    declared_in: str = SOURCE

    @property
    def title(self) -> str:
        """The name without its number (`tensor`), for tables and messages."""
        return self.name.split("_", 1)[1]

    @property
    def source_py(self) -> Path:
        return self.root / "source" / self.name / f"{self.name}.py"

    @property
    def cases_py(self) -> Path:
        """The module's spec: its cases, each bound to a graded cell (`source/NN/cases.py`)."""
        return self.root / "source" / self.name / "cases.py"

    @property
    def bugs_py(self) -> Path:
        """Its realistic bugs and stub profiles for the synthetic class (`source/NN/bugs.py`, read by tito.synth)."""
        return self.root / "source" / self.name / "bugs.py"

    @property
    def checkpoint_py(self) -> Path | None:
        """The module's checkpoint, a pytest file asking its capability question of any tinytorch
        build: `source/NN_name/checkpoint_NN_name.py` when the module keeps it in its folder (what
        `tito new-module` writes), else `checkpoints/checkpoint_NN_*.py` (the first modules' place,
        and the only one in a student kit, which gets a copy of each); None without one."""
        own = self.root / SOURCE / self.name / f"checkpoint_{self.name}.py"
        if own.is_file():
            return own
        return next(iter(sorted((self.root / CHECKPOINTS).glob(f"checkpoint_{self.number:02d}_*.py"))), None)

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
        return self.published_targets[0]

    @property
    def published_targets(self) -> tuple[Path, ...]:
        """Each of `export_targets` in the published reference (`release/_reference/tinytorch/...`)."""
        return tuple(published_root(self.root) / t.relative_to(self.root) for t in self.export_targets)

    @property
    def export_module(self) -> str:
        """The dotted module the `#| default_exp` directive names (`tinytorch.core.tensor`)."""
        return self.export_modules[0]

    @cached_property
    def export_modules(self) -> tuple[str, ...]:
        """Every dotted module this module's cells export to: the `#| default_exp` one first, then
        each one a `#| export <module>` cell names, in the order they first appear."""
        if self.declared_in == RELEASE:
            targets = read_release_export_modules(self.release_ipynb)
        else:
            targets = read_export_modules(self.source_py)
        return tuple(f"{PACKAGE}.{target}" for target in targets)

    @property
    def export_target(self) -> Path:
        """The file the `#| default_exp` cells go to (`<root>/tinytorch/core/tensor.py`)."""
        return self.export_targets[0]

    @property
    def export_targets(self) -> tuple[Path, ...]:
        """Every file `tito export` writes for this module, `export_target` first."""
        return tuple(module_path(self.root, dotted) for dotted in self.export_modules)

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


def module_path(root: Path, dotted: str) -> Path:
    """The file of the dotted module `dotted` under `root` (`tinytorch.core.tensor` -> `tinytorch/core/tensor.py`)."""
    return root.joinpath(*dotted.split(".")).with_suffix(".py")


def read_default_exp(source_py: Path) -> str:
    """The first `#| default_exp X` in a source; a source without one cannot be exported."""
    return _default_exp(source_py, source_py.read_text(encoding="utf-8").splitlines())


def read_export_modules(source_py: Path) -> list[str]:
    """The `#| default_exp` target of a source, then each other target its `#| export X` cells name."""
    return _export_modules(source_py, source_py.read_text(encoding="utf-8").splitlines())


def read_release_export_modules(release_ipynb: Path) -> list[str]:
    """`read_export_modules` of a release notebook's code cells: a student kit's only record of where
    a module's code goes (nbgrader keeps the directives, which sit outside any solution)."""
    try:
        cells = json.loads(release_ipynb.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise TitoError(f"{release_ipynb}: not a readable notebook ({type(error).__name__}: {error})") from None
    code = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in cells if c.get("cell_type") == "code"]
    return _export_modules(release_ipynb, "\n".join(code).splitlines())


def cell_export_target(path: Path, line: str) -> str | None:
    """The target an `#| export X` line names (None for a bare `#| export`, or no export line);
    a target that is no dotted module path is an error naming `path`."""
    match = EXPORT.match(line)
    target = match["target"] if match else None
    if target is not None and not DOTTED.match(target):
        raise TitoError(f"{path}: `#| export {target}` is not a dotted module path (write `#| export core.<name>`)")
    return target


def _export_modules(path: Path, lines: list[str]) -> list[str]:
    targets = [_default_exp(path, lines)]
    for line in lines:
        target = cell_export_target(path, line)
        if target is not None and target not in targets:
            targets.append(target)
    return targets


def _default_exp(path: Path, lines: list[str]) -> str:
    for line in lines:
        match = DEFAULT_EXP.match(line)
        if match:
            target = match["target"]
            if not DOTTED.match(target):
                raise TitoError(f"{path}: `#| default_exp {target}` is not a dotted module path")
            return target
    raise TitoError(f"{path}: no `#| default_exp <module>` directive; tito cannot tell where to export")


def find_root(start: Path | None = None) -> Path:
    """The course root: the nearest directory, from `start` upward, holding nbgrader_config.py."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / CONFIG_FILE).is_file():
            return candidate
    raise TitoError(f"{here}: not inside a course directory (no {CONFIG_FILE} here or above)")


def is_student_kit(root: Path) -> bool:
    """A course folder without source/ but with release/: what students get (`tito student-kit`)."""
    return not (root / SOURCE).is_dir() and (root / RELEASE).is_dir()


def require_source(root: Path, command: str) -> None:
    """Instructor commands need the sources; in a student kit, say so instead of failing later."""
    if is_student_kit(root):
        raise TitoError(f"this is a student kit: no source/ in {root}; "
                        f"`tito {command}` is an instructor command (run it in the course repository)")


def discover(root: Path) -> list[Module]:
    """Every `source/NN_name/NN_name.py`, ordered by number; duplicate numbers are an error.

    In a student kit, every `release/NN_name/NN_name.ipynb` instead: the student's tools need the
    module list too, and the release is all a student has.
    """
    if is_student_kit(root):
        return _discover(root, RELEASE, ".ipynb")
    return _discover(root, SOURCE, ".py")


def _discover(root: Path, folder: str, suffix: str) -> list[Module]:
    modules = []
    base = root / folder
    for directory in sorted(base.iterdir()) if base.is_dir() else []:
        match = MODULE_DIR.match(directory.name)
        if match and (directory / f"{directory.name}{suffix}").is_file():
            modules.append(Module(int(match["number"]), directory.name, root.resolve(), folder))
    _reject_duplicate_numbers(modules)
    return sorted(modules, key=lambda m: m.number)


def _reject_duplicate_numbers(modules: list[Module]) -> None:
    """Course order is the module number, so two modules may not share one."""
    seen: dict[int, str] = {}
    for module in modules:
        if module.number in seen:
            folder = module.declared_in
            raise TitoError(f"{folder}/{module.name}: number {module.number:02d} already used by "
                            f"{folder}/{seen[module.number]}")
        seen[module.number] = module.name


def select(modules: list[Module], name: str | None) -> list[Module]:
    """All modules, or the one called `name` (`05_autograd`, `05` or `autograd`)."""
    if name is None:
        return modules
    chosen = [m for m in modules if name in (m.name, f"{m.number:02d}", m.title)]
    if not chosen:
        known = ", ".join(m.name for m in modules) or "none"
        folder = modules[0].declared_in if modules else SOURCE
        raise TitoError(f"no module called {name!r} under {folder}/ (known: {known})")
    return chosen


def modules_before(modules: list[Module], module: Module) -> list[Module]:
    """The modules taught before `module`: what a student of `module` may import."""
    return [m for m in modules if m.number < module.number]
