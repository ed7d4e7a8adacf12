"""The student's module: their `#| export` cells, written the way `tito export` writes the reference
(one file per export target of the module).

Grading imports it in the sandbox (the cases run on it), and the student's own tools build their
package from it (`tito build`, `tito check`); an error in it names the notebook cell and line it
came from, not a line of a file the student never saw. The code is never executed here.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from tito import parsing
from tito.build.export import HEADER, _split_future_imports, _strip_markers, cell_target, public_names, sibling_import
from tito.course import Module, module_path
from tito.errors import TitoError
from tito.source import DIRECTIVE, SOLUTION_MARKER, is_exported


def student_module_source(notebook, module: Module) -> str:
    """The text of the student's `tinytorch/core/<x>.py` (the module's first export target): their
    `#| export` cells, as `tito export` would write it (directives and solution markers dropped,
    `from __future__` first, `__all__`).

    `notebook` is a path or a notebook node. The code is never executed here. Cells that do not
    parse are kept as they are (importing the module will then fail with the student's own
    SyntaxError; `export_problems` names the cell).
    """
    return student_module_sources(notebook, module)[module.export_module]


def student_module_sources(notebook, module: Module) -> dict[str, str]:
    """The text of each of the module's export targets, by dotted module, built from the student's
    cells (see `student_module_source`); a target none of their cells reaches is still written."""
    return {target: text for target, (text, _) in _build_sources(_read(notebook), module).items()}


def student_module_files(notebook, module: Module) -> dict[Path, str]:
    """`student_module_sources` by file, relative to a package root (`tinytorch/core/autograd.py`)."""
    return {module_path(Path(), target): text for target, text in student_module_sources(notebook, module).items()}


def _build_sources(notebook, module: Module) -> dict[str, tuple[str, list[tuple[int, list[int], str]]]]:
    """{dotted module: (its text, [(first line in the file, the cell's line numbers, cell label)])},
    so that an error in a file can name the notebook cell and line it came from."""
    grouped: dict[str, list[tuple[int, str]]] = {target: [] for target in module.export_modules}
    for index, code in _export_cells(notebook):
        target = _target(module, notebook.cells[index].source)
        if code and target in grouped:
            grouped[target].append((index, code))
    header = HEADER.format(source=f"the student's notebook ({module.name})")
    default = module.export_module
    built = {}
    for target, cells in grouped.items():
        body = "\n\n\n".join(code for _, code in cells)
        extra = ""
        if target != default:
            extra = sibling_import(default, "\n".join(code for _, code in grouped[default]), body)
        built[target] = _build_file(notebook, header, cells, extra)
    return built


def _build_file(notebook, header: str, cells: list[tuple[int, str]], extra: str) -> tuple[str, list]:
    """One file from its cells (`extra`, an import line, above them) and where each cell landed."""
    body = "\n\n\n".join(code for _, code in cells)
    future, rest = _split_future_imports(body)
    try:
        names = public_names(body)
    except SyntaxError:
        names = None
    parts = [header, *future]
    if names is not None:
        parts.append("__all__ = [\n" + "".join(f'    "{n}",\n' for n in names) + "]")
    if extra:
        parts.append(extra)
    head = "\n\n".join(p for p in parts if p) + "\n\n"
    text = (head + rest).rstrip("\n") + "\n"
    spans, line = [], head.count("\n") + 1
    for index, code in cells:
        cell = notebook.cells[index]
        original = _kept_line_numbers(cell.source)
        if len(original) != len(code.splitlines()):
            original = list(range(1, len(code.splitlines()) + 1))
        kept = [n for n, l in zip(original, code.splitlines()) if not l.startswith("from __future__ import")]
        label = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or f"cell {index}"
        spans.append((line, kept, label))
        line += len(kept) + 2
    return text, spans


def _target(module: Module, source: str) -> str | None:
    """The dotted module a student's export cell goes to (None for a target that is no module path)."""
    try:
        return cell_target(module, Path(f"the student's notebook ({module.name})"), source)
    except TitoError:
        return None


def _kept_line_numbers(source: str) -> list[int]:
    """The 1-based line numbers of a cell that `_strip_markers` keeps, in order."""
    lines = source.splitlines()
    kept = [n for n, l in enumerate(lines, 1) if not DIRECTIVE.match(l) and not SOLUTION_MARKER.match(l)]
    while kept and not lines[kept[0] - 1].strip():
        kept.pop(0)
    while kept and not lines[kept[-1] - 1].strip():
        kept.pop()
    return kept


def _name_cells(message: str, spans: list, filename: str) -> str:
    """'tinytorch/core/x.py line 413' -> "cell 'autograd-backward', line 28": what the student sees."""
    def replace(match):
        number = int(match.group(1))
        for first, lines, label in spans:
            if first <= number < first + len(lines):
                return f"cell {label!r}, line {lines[number - first]}"
        return match.group(0)

    return re.sub(re.escape(filename) + r" line (\d+)", replace, message)


def export_problems(notebook, module: Module | None = None) -> list[str]:
    """One message per export cell that does not parse, or (given `module`) that names a target
    that is not one of the module's files; empty when the module can be built."""
    notebook = _read(notebook)
    problems = []
    for index, code in _export_cells(notebook):
        try:
            parsing.parse(code)
        except SyntaxError as error:
            problems.append(f"export cell {index} does not parse (line {error.lineno}: {error.msg})")
        if module is not None and _target(module, notebook.cells[index].source) not in module.export_modules:
            problems.append(f"export cell {index} names a file this module does not export to "
                            f"(its files: {', '.join(module.export_modules)})")
    return problems


def _read(notebook) -> nbformat.NotebookNode:
    if isinstance(notebook, (str, Path)):
        return nbformat.read(str(notebook), as_version=4)
    return notebook


def _export_cells(notebook) -> list[tuple[int, str]]:
    return [(index, _strip_markers(cell.source)) for index, cell in enumerate(notebook.cells)
            if is_exported(cell)]
