"""From a release notebook back to a filled-in submission: the stubs replaced by code.

A release cell holds one stub (`# YOUR CODE HERE` / `raise NotImplementedError()`, indented like
the solution region it replaced) per `### BEGIN SOLUTION` region of the instructor's source cell
with the same grade_id, in the same order. Filling stub i with region i gives back the reference
solution (without the marker lines); a bug then edits the filled text; a stub left alone is a
function the student did not write.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import nbformat

from tito.course import Module
from tito.errors import TitoError
from tito.source import SOLUTION_MARKER, grade_id, nbgrader_meta, read_source

DEFAULT_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"


@dataclass(frozen=True)
class Region:
    """One solution region: the cell it lives in, its position there, and its code."""

    cell: str  # grade_id of the solution cell
    index: int  # 0-based position among that cell's regions
    function: str | None  # the innermost `def` the region sits in (for names and messages)
    code: str  # the region's lines, markers excluded, indentation kept


def solution_regions(module: Module) -> list[Region]:
    """Every solution region of the module's source, in notebook order."""
    return list(_regions(module.source_py, module.source_py.stat().st_mtime_ns))


@lru_cache(maxsize=32)
def _regions(path: Path, _mtime: int) -> tuple[Region, ...]:
    regions: list[Region] = []
    for cell in read_source(path).cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type != "code" or not meta.get("solution"):
            continue
        regions.extend(_cell_regions(path, meta.get("grade_id"), cell.source))
    return tuple(regions)


def _cell_regions(path: Path, cell_id: str | None, text: str) -> list[Region]:
    found: list[Region] = []
    function, inside, body = None, False, []
    for number, line in enumerate(text.splitlines(), 1):
        marker = SOLUTION_MARKER.match(line)
        if marker and marker[1] == "BEGIN":
            if inside:
                raise TitoError(f"{path}: cell {cell_id}: nested BEGIN SOLUTION (line {number} of the cell)")
            inside, body = True, []
        elif marker:
            if not inside:
                raise TitoError(f"{path}: cell {cell_id}: END SOLUTION without BEGIN (line {number} of the cell)")
            found.append(Region(str(cell_id), len(found), function, "\n".join(body)))
            inside = False
        elif inside:
            body.append(line)
        else:
            match = re.match(r"\s*(?:async\s+)?def\s+(\w+)", line)
            function = match[1] if match else function
    if inside:
        raise TitoError(f"{path}: cell {cell_id}: BEGIN SOLUTION without END")
    return found


def stub_pattern(stub: str = DEFAULT_STUB) -> re.Pattern:
    """The released stub at any indentation (every line of it carries the same indent)."""
    lines = stub.splitlines()
    body = r"\n\1".join(re.escape(line) for line in lines[1:])
    return re.compile(r"^([ \t]*)" + re.escape(lines[0]) + (r"\n\1" + body if body else "") + r"[ \t]*$", re.M)


def release_notebook(module: Module) -> nbformat.NotebookNode:
    """The module's release notebook (cached while the file is unchanged: do not modify it)."""
    if not module.release_ipynb.is_file():
        raise TitoError(f"{module.rel(module.release_ipynb)}: missing; run `tito release` first")
    return _read_notebook(module.release_ipynb, module.release_ipynb.stat().st_mtime_ns)


@lru_cache(maxsize=32)
def _read_notebook(path: Path, _mtime: int) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def fill(
    release: nbformat.NotebookNode,
    regions: list[Region],
    *,
    leave: set[tuple[str, int]] = frozenset(),
    edits: dict[str, list[tuple[str, str]]] | None = None,
    stub: str = DEFAULT_STUB,
    where: str = "release",
) -> nbformat.NotebookNode:
    """A copy of `release` with every stub replaced by its region's code.

    `leave`: (cell grade_id, region index) pairs whose stub stays (functions not written).
    `edits`: per cell grade_id, (old, new) text replacements applied to the filled cell; each
    `old` must occur exactly once (a bug that no longer applies is an error, not a no-op).
    """
    by_cell: dict[str, list[Region]] = {}
    for region in regions:
        by_cell.setdefault(region.cell, []).append(region)
    notebook = copy.deepcopy(release)
    pattern = stub_pattern(stub)
    seen: set[str] = set()
    for cell in notebook.cells:
        gid = grade_id(cell)
        if cell.cell_type != "code" or not nbgrader_meta(cell).get("solution"):
            continue
        wanted = by_cell.get(gid, [])
        stubs = pattern.findall(cell.source)
        if len(stubs) != len(wanted):
            raise TitoError(f"{where}: cell {gid}: {len(stubs)} stub(s) but the source has {len(wanted)} "
                            "solution region(s); is the release stale? (`tito release`)")
        seen.add(gid)
        cell.source = _fill_cell(cell.source, pattern, wanted, leave)
        for old, new in (edits or {}).get(gid, []):
            count = cell.source.count(old)
            if count != 1:
                raise TitoError(f"{where}: cell {gid}: the edit's text occurs {count} times (expected once):\n{old}")
            cell.source = cell.source.replace(old, new)
    missing = sorted(set(by_cell) - seen)
    if missing:
        raise TitoError(f"{where}: solution cell(s) {', '.join(missing)} of the source are not in the release")
    unknown = sorted(set(edits or {}) - seen)
    if unknown:
        raise TitoError(f"{where}: edits name cell(s) that are not solution cells: {', '.join(unknown)}")
    return notebook


def _fill_cell(text: str, pattern: re.Pattern, regions: list[Region], leave: set[tuple[str, int]]) -> str:
    position = iter(regions)

    def replace(match: re.Match) -> str:
        region = next(position)
        return match[0] if (region.cell, region.index) in leave else region.code

    return pattern.sub(replace, text)


def with_instructor_cells(submission: nbformat.NotebookNode, source: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """What grading runs: the submission with every locked nbgrader cell (graded tests, read-only
    cells) taken from `source`, by grade_id (the tests are the same in the source and the release)."""
    instructor = {grade_id(c): c for c in source.cells if grade_id(c)}
    notebook = copy.deepcopy(submission)
    for cell in notebook.cells:
        gid = grade_id(cell)
        if gid and not nbgrader_meta(cell).get("solution") and gid in instructor:
            cell.source = instructor[gid].source
    return notebook
