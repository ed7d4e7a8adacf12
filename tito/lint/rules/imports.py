"""imports: a module imports only what a student of that week has.

Allowed: the standard library, numpy, matplotlib, sklearn, and `tinytorch.core.<x>` where x
is the export target of an EARLIER module. A later module, the module's own target (the
reference solution!), `tito` or a helper that does not exist (seed 003) are findings.

One part of tito is the student's: `tito.student` (e.g. `check_module`, the check a student runs
from the closing section). It is allowed in plain narrative cells only, never in an nbgrader or
export cell: grading runs those where tito cannot be imported, and skips the narrative's cells.

Two exceptions, both imports inside a function body (deferred: they run only when called):
a later module (e.g. `Tensor.backward` reaching for the autograd engine of module 05), which
runs only when that later feature is used (should a graded test of this module need it,
release-exec fails it, because the release runs with the earlier modules only); and, in an
export cell, another of this module's own files (`core.autograd` fetching `core.variable` on
first use), which the notebook never needs: its cells share one namespace.
"""

from __future__ import annotations

import ast
import sys

from tito.build.export import cell_target
from tito.course import Module
from tito.lint.context import ModuleContext, code_cells
from tito.lint.findings import Finding
from tito.lint.rules.python import try_parse
from tito.source import is_exported, nbgrader_meta

RULE = "imports"
THIRD_PARTY = {"numpy", "matplotlib", "sklearn"}
STUDENT_TOOLS = "tito.student"


def check(ctx: ModuleContext) -> list[Finding]:
    owners = _export_owners(ctx)
    findings = []
    for index, cell in code_cells(ctx.source):
        tree = try_parse(cell.source)
        deferred = _deferred_lines(tree) if tree else set()
        narrative = not nbgrader_meta(cell) and not is_exported(cell)
        home = _cell_home(ctx.module, cell)
        for node, name in _imported_names(tree) if tree else []:
            if narrative and _is_student_tool(name):
                continue
            message = _verdict(ctx.module, owners, name, node.lineno in deferred, home)
            if message:
                findings.append(ctx.source_finding(RULE, index, node.lineno, message))
    return findings


def _export_owners(ctx: ModuleContext) -> dict[str, Module]:
    """Dotted export module -> the course module that produces it (unreadable ones skipped)."""
    owners = {}
    for module in ctx.modules:
        try:
            owners.update((dotted, module) for dotted in module.export_modules)
        except Exception:  # its own lint reports a missing default_exp
            continue
    return owners


def _imported_names(tree: ast.Module) -> list[tuple[ast.stmt, str]]:
    """(statement, dotted name) for every import; `from a.b import c` also yields `a.b.c`."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(node, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names += _from_names(node)
    return names


def _from_names(node: ast.ImportFrom) -> list[tuple[ast.stmt, str]]:
    if node.level:
        return [(node, "." * node.level + (node.module or ""))]
    if node.module in ("tinytorch", "tinytorch.core"):
        return [(node, f"{node.module}.{alias.name}") for alias in node.names]
    return [(node, node.module or "")]


def _deferred_lines(tree: ast.Module) -> set[int]:
    """Lines of import statements that sit inside a function body."""
    lines = set()
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines |= {n.lineno for n in ast.walk(function) if isinstance(n, (ast.Import, ast.ImportFrom))}
    return lines


def _cell_home(module: Module, cell) -> str | None:
    """The dotted module an export cell goes to (None for any other cell, or a bad directive,
    which the export reports)."""
    if not is_exported(cell):
        return None
    try:
        return cell_target(module, module.source_py, cell.source)
    except Exception:
        return None


def _is_student_tool(name: str) -> bool:
    return name == STUDENT_TOOLS or name.startswith(f"{STUDENT_TOOLS}.")


def _verdict(module: Module, owners: dict[str, Module], name: str, deferred: bool,
             home: str | None = None) -> str | None:
    """None when allowed, else why not. `home`: the file the import's export cell goes to."""
    top = name.split(".")[0]
    if top in sys.stdlib_module_names or top in THIRD_PARTY:
        return None
    owner = owners.get(name)
    if owner is None:
        return f"imports {name}: not stdlib, numpy, matplotlib, sklearn or an earlier module's tinytorch.core.<x>"
    if owner.number == module.number and not (deferred and home is not None and name != home):
        return f"imports {name}, this module's own export target (the reference solution)"
    if owner.number > module.number and not deferred:
        return f"imports {name} from a later module ({owner.name})"
    return None
