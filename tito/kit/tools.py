"""The student's side of tito: the modules that `tito check`, `tito build`, `tito submit` and
`check_module` import, and no others.

The other stages are the instructor's: some hold grading details or solution text (the grading
pipeline and its sandbox, the synthetic class's bug catalogue), and none of them can run without
source/ (which holds the modules' specs and their hidden cases). The
kit's tests run the whole student flow on this copy, so a module missing here fails them; and
`copy_tools` refuses a copy in which a module imports (at module level) a tito module the copy
does not hold, so a kit whose tools cannot start is never handed out.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import tito
from tito.errors import TitoError

STUDENT_TOOLS = (
    "__init__.py", "__main__.py", "cli.py", "errors.py",
    "terminal.py",  # the CLI's consoles: names printed with their control characters and markup escaped
    "course.py",  # finds the modules in release/ when there is no source/
    "execute.py", "source.py", "parsing.py",  # runs the student's notebook in a fresh kernel
    "build/__init__.py", "build/partial.py", "build/export.py",  # the student's module, written as export writes it
    "build/student_module.py",
    "release/__init__.py", "release/generate.py", "release/published.py",  # nbgrader_config.py, read as nbgrader reads it
    "student/*.py",
)


def copy_tools(dest: Path) -> None:
    """Copy the student's side of the running tito into `dest/tito/`."""
    package = Path(tito.__file__).resolve().parent
    for pattern in STUDENT_TOOLS:
        found = sorted(package.glob(pattern))
        if not found:
            raise TitoError(f"tito/{pattern}: no such file; update tito.kit.tools.STUDENT_TOOLS")
        for path in found:
            target = dest / "tito" / path.relative_to(package)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    missing = missing_imports(dest)
    if missing:
        raise TitoError("the kit's tools would not start: " + "; ".join(missing)
                        + "; update tito.kit.tools.STUDENT_TOOLS")


def missing_imports(dest: Path) -> list[str]:
    """`tito/x.py imports tito.y` for every module-level import of a tito module (or of a tito
    submodule through `from tito.y import z`) in `dest/tito/` that `dest/tito/` does not hold.
    Imports inside functions are the instructor commands' and are left out."""
    missing = []
    for path in sorted((dest / "tito").rglob("*.py")):
        for name in _module_level_imports(path):
            if not _holds(dest, name):
                missing.append(f"{path.relative_to(dest).as_posix()} imports {name}")
    return missing


def _module_level_imports(path: Path) -> list[str]:
    """The tito modules a file imports at module level (`from tito.a import b` counts `tito.a`,
    and `tito.a.b` too when b is a module of the running tito)."""
    package = Path(tito.__file__).resolve().parent
    names = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                if _module_file(package.parent, sub) is not None:
                    names.append(sub)
    return [name for name in names if name == "tito" or name.startswith("tito.")]


def _holds(dest: Path, name: str) -> bool:
    return _module_file(dest, name) is not None


def _module_file(root: Path, name: str) -> Path | None:
    """The file (or namespace folder) of the module `name` under the package root `root`."""
    base = root.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return base if base.is_dir() else None  # a namespace package (tito/grade/ has no __init__)
