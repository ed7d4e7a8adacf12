"""Everything the lint rules of one module look at, loaded once."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import nbformat

from tito.build.notebooks import to_notebook
from tito.course import Module, modules_before
from tito.lint.findings import Finding
from tito.source import grade_id

CELL_MARKER = re.compile(r"^# %%")  # a jupytext percent cell starts on the line after its marker


@dataclass
class ModuleContext:
    """One module, its in-memory source notebook, its release notebook (None if missing), and
    the modules whose reference the course publishes (their code is public)."""

    module: Module
    modules: list[Module]
    source: nbformat.NotebookNode
    release: nbformat.NotebookNode | None
    timeout: int = 60
    published: tuple[Module, ...] = ()
    findings: list[Finding] = field(default_factory=list)

    @property
    def root(self) -> Path:
        return self.module.root

    @property
    def source_file(self) -> str:
        """Findings on the source name the `.py` the author edits (never the derived notebook)."""
        return self.module.rel(self.module.source_py)

    @cached_property
    def cell_markers(self) -> list[int]:
        """The 1-based line of each cell's `# %%` marker in the `.py` source, in cell order."""
        lines = self.module.source_py.read_text(encoding="utf-8").splitlines()
        return [number for number, line in enumerate(lines, start=1) if CELL_MARKER.match(line)]

    def source_line(self, cell: int, line: int | None) -> int | None:
        """Line `line` of source cell `cell` as a line of the `.py` file: a code cell's lines follow
        its marker one for one; a finding on the whole cell points at the marker, which holds the
        cell's nbgrader metadata. None if the markers and the cells do not match up."""
        if len(self.cell_markers) != len(self.source.cells) or not 0 <= cell < len(self.cell_markers):
            return None
        marker = self.cell_markers[cell]
        return marker if line is None else marker + line

    @property
    def release_file(self) -> str:
        return self.module.rel(self.module.release_ipynb)

    @property
    def earlier(self) -> list[Module]:
        return modules_before(self.modules, self.module)

    def finding(self, rule: str, file: str, cell: int | None, line: int | None, message: str,
                notebook: nbformat.NotebookNode | None = None) -> Finding:
        """A finding whose grade_id is read from `notebook`'s cell (the source by default)."""
        nb = self.source if notebook is None else notebook
        gid = grade_id(nb.cells[cell]) if cell is not None and cell < len(nb.cells) else None
        return Finding(rule, self.module.name, file, cell, gid, line, message)

    def source_finding(self, rule: str, cell: int | None, line: int | None, message: str) -> Finding:
        """A finding on line `line` of source cell `cell`, located in the `.py` file (see source_line)."""
        file_line = line if cell is None else self.source_line(cell, line)
        return self.finding(rule, self.source_file, cell, file_line, message)

    def release_finding(self, rule: str, cell: int | None, line: int | None, message: str) -> Finding:
        return self.finding(rule, self.release_file, cell, line, message, self.release)


def load(module: Module, modules: list[Module], timeout: int = 60,
         published: tuple[Module, ...] = ()) -> ModuleContext:
    """Build the module's context (the source notebook comes straight from the .py)."""
    path = module.release_ipynb
    release = nbformat.read(path, as_version=4) if path.is_file() else None
    return ModuleContext(module, modules, to_notebook(module), release, timeout, published=published)


def code_cells(notebook: nbformat.NotebookNode) -> list[tuple[int, nbformat.NotebookNode]]:
    """(index, cell) of every code cell, indices counted over all cells as Jupyter shows them."""
    return [(i, c) for i, c in enumerate(notebook.cells) if c.cell_type == "code"]
