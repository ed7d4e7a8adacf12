"""Turn a submitted notebook into the notebook the autograder runs.

An authority notebook decides every cell that is not the student's answer, as the gradebook does
in nbgrader: every locked cell (tests and given code) comes from it, whatever the submission did
to it. Grading passes the RELEASE notebook (`release/NN/NN.ipynb`, see `tito.grade.stages.prepare`):
it holds nothing a student does not already have, so a cell put back can never carry a solution or
a hidden test into the sandbox (a deleted answer cell comes back as its stub).
Unlike nbgrader, nothing a student does to the structure stops grading: a deleted test cell is put
back, a duplicated graded cell is dropped, a test cell turned into markdown or stripped of its
metadata is recognised by its cell id and restored. Each of these is recorded as a Flag.
Only the student's solution cells and the cells they added are taken from the submission.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from tito.grade.model import Flag, Submission

MAX_NOTEBOOK_BYTES = 20 * 2**20


class SubmissionError(Exception):
    """The submission cannot be graded; the message is the reason recorded for the student."""


@dataclass
class Prepared:
    """The notebook to execute, with what grading needs to know about its cells."""

    notebook: nbformat.NotebookNode
    flags: list[Flag] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    student_cells: list[int] = field(default_factory=list)  # indices of cells the student changed or added

    @property
    def graded(self) -> list[nbformat.NotebookNode]:
        return [c for c in self.notebook.cells if _nbgrader(c).get("grade")]


def read_submission(submission: Submission) -> tuple[nbformat.NotebookNode, list[str]]:
    """Read the submitted notebook, or raise SubmissionError saying exactly what is wrong with it."""
    path, notes = _find_notebook(submission)
    size = path.stat().st_size
    if size == 0:
        raise SubmissionError(f"{path.name}: the file is empty")
    if size > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(f"{path.name}: {size / 2**20:.0f} MB is larger than the "
                              f"{MAX_NOTEBOOK_BYTES // 2**20} MB a notebook may have")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SubmissionError(f"{path.name}: not a UTF-8 text file (byte {error.start} is 0x{raw[error.start]:02x}); "
                              "a notebook is JSON text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise SubmissionError(f"{path.name}: not valid JSON ({error.msg} at line {error.lineno}, column {error.colno}); "
                              "the file is damaged or truncated") from None
    except RecursionError:
        raise SubmissionError(_too_deep(path)) from None
    if not isinstance(data, dict) or "nbformat" not in data:
        raise SubmissionError(f"{path.name}: JSON, but not a notebook (no 'nbformat' field)")
    if SURROGATE_ESCAPE.search(text):
        text, replaced = _without_lone_surrogates(data)
        if replaced:
            notes.append(f"{path.name}: {replaced} invalid character(s) replaced by U+FFFD (lone UTF-16 "
                         "surrogates written as \\u escapes: no text file can hold them)")
    try:
        notebook = nbformat.reads(text, as_version=4)
    except RecursionError:  # nbformat's validation walks the JSON recursively
        raise SubmissionError(_too_deep(path)) from None
    except Exception as error:  # nbformat raises several types for malformed notebooks
        raise SubmissionError(f"{path.name}: not a readable notebook ({type(error).__name__}: {error})") from None
    if data.get("nbformat") != 4:
        notes.append(f"{path.name}: converted from nbformat {data.get('nbformat')} to 4")
    return notebook, notes


SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _without_lone_surrogates(data) -> tuple[str, int]:
    """The notebook's JSON text with every lone surrogate (JSON can escape one, `\\ud800`, but
    no UTF-8 text can hold it: writing the notebook, parsing a cell or making the sandbox's cell
    file would fail) replaced by U+FFFD, and how many there were. Pairs are one character
    already, so only lone halves remain to replace."""
    text = json.dumps(data, ensure_ascii=False)
    cleaned = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return cleaned, cleaned.count("\ufffd") - text.count("\ufffd")


def _too_deep(path: Path) -> str:
    return (f"{path.name}: JSON nested too deeply to read (hundreds of levels of lists or objects "
            "inside one another); a notebook is never that deep")


def _find_notebook(submission: Submission) -> tuple[Path, list[str]]:
    expected = submission.notebook
    if expected.is_file():
        return expected, []
    others = sorted(p for p in submission.folder.glob("*.ipynb") if p.is_file())
    if len(others) == 1:
        return others[0], [f"graded {others[0].name} (expected the name {expected.name})"]
    found = ", ".join(p.name for p in sorted(submission.folder.iterdir())) or "nothing"
    raise SubmissionError(f"no notebook {expected.name} in the submission (found: {found})")


def prepare(instructor: nbformat.NotebookNode, submitted: nbformat.NotebookNode) -> Prepared:
    """Merge: the authority's locked cells (`instructor`: the release, when grading), the
    student's solution cells and added cells."""
    by_grade_id = {_grade_id(c): c for c in instructor.cells if _grade_id(c)}
    by_cell_id = {c.get("id"): c for c in instructor.cells if c.get("id")}
    merged, placed, flags, authored = [], set(), [], set()
    for index, cell in enumerate(submitted.cells):
        original = _instructor_cell_for(cell, by_grade_id, by_cell_id)
        if original is None:
            merged.append(_student_cell(cell, index))  # a cell the student added
            continue
        key = original.get("id")
        if key in placed:
            flags.append(Flag("duplicated-cell", f"cell {index} repeats {_describe(original)}; the copy was dropped"))
            continue
        placed.add(key)
        merged.append(_merge(original, cell, index, flags))
        if merged[-1].cell_type == "code" and merged[-1].source != original.source:
            authored.add(key)
    _reinsert_missing(instructor, merged, placed, flags)
    notebook = nbformat.v4.new_notebook(metadata=instructor.metadata, cells=merged)
    student = [i for i, c in enumerate(merged) if c.get("id") in authored or c.get("id") not in by_cell_id]
    return Prepared(notebook=notebook, flags=flags, student_cells=student)


def _instructor_cell_for(cell, by_grade_id: dict, by_cell_id: dict):
    """The instructor cell this submitted cell stands for: by grade_id, else by cell id."""
    grade_id = _grade_id(cell)
    if grade_id and grade_id in by_grade_id:
        return by_grade_id[grade_id]
    return by_cell_id.get(cell.get("id"))


def _merge(original, cell, index: int, flags: list[Flag]):
    """Take the student's source for their solution cells; the instructor's cell for the rest."""
    meta = _nbgrader(original)
    if meta.get("solution") and not meta.get("locked"):
        if _kind(cell) != original.cell_type:
            flags.append(Flag("changed-cell-type", f"cell {index} ({_describe(original)}) was turned into "
                                                   f"{_kind(cell)}; its code was kept as the answer"))
        return _restored(original, source=_source_text(cell))
    if original.cell_type == "code" and meta.get("locked", meta.get("grade")):
        if _source_text(cell) != original.source and not meta.get("grade"):
            pass  # given code edited: restored silently, as nbgrader does
        elif _kind(cell) != original.cell_type:
            flags.append(Flag("changed-cell-type", f"cell {index} ({_describe(original)}) was turned into "
                                                   f"{_kind(cell)}; the original test was restored"))
        elif not _grade_id(cell):
            flags.append(Flag("stripped-metadata", f"cell {index} ({_describe(original)}) lost its nbgrader "
                                                   "metadata; the original test was restored"))
        elif meta.get("grade") and _normalised(_source_text(cell)) != _normalised(original.source):
            flags.append(Flag("edited-locked-cell", f"cell {index} ({_describe(original)}) was edited; "
                                                    "the original test was restored"))
        return _restored(original)
    if original.cell_type == "code" and _kind(cell) == "code":
        return _restored(original, source=_source_text(cell))  # an unlocked demo cell: the student's version
    return _restored(original)


def _reinsert_missing(instructor, merged: list, placed: set, flags: list[Flag]) -> None:
    """Put back every locked or graded instructor cell the submission lost, after its predecessor."""
    position = {c.get("id"): i for i, c in enumerate(merged)}
    previous_id = None
    for cell in instructor.cells:
        key = cell.get("id")
        meta = _nbgrader(cell)
        if key not in placed and (meta.get("grade") or meta.get("locked") or meta.get("solution")):
            at = position.get(previous_id, -1) + 1
            merged.insert(at, _restored(cell))
            position = {c.get("id"): i for i, c in enumerate(merged)}
            placed.add(key)
            if meta.get("grade") or meta.get("solution"):
                flags.append(Flag("deleted-cell", f"{_describe(cell)} was missing and was put back"))
        if key in placed:
            previous_id = key


def _restored(original, source: str | None = None):
    """A copy of the instructor's cell (ids and metadata intact), outputs cleared."""
    cell = nbformat.from_dict(json.loads(json.dumps(original)))
    if source is not None:
        cell.source = source
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    return cell


def _student_cell(cell, position: int):
    """A cell the student added, rebuilt from its type and text alone. Everything else in it is
    the submitted file's (any JSON at all: a number as source, a raw cell's format that is not
    text, a v3 heading cell) and nothing grades it; kept, it made writing the notebook fail."""
    text = _source_text(cell)
    kind = cell.get("cell_type")
    new = (nbformat.v4.new_code_cell if kind == "code" else
           nbformat.v4.new_markdown_cell if kind in ("markdown", "heading") else nbformat.v4.new_raw_cell)
    cell_id = cell.get("id")
    return new(text, id=cell_id if isinstance(cell_id, str) and CELL_ID.fullmatch(cell_id) else f"added-{position}")


CELL_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")  # nbformat 4.5's pattern for a cell id


def _kind(cell) -> str:
    """A submitted cell's type as text (a file may lack it or hold anything there)."""
    kind = cell.get("cell_type")
    return kind if isinstance(kind, str) else "unknown"


def _source_text(cell) -> str:
    """A submitted cell's source as text (nbformat allows a list of lines; a file may hold anything)."""
    source = cell.get("source", "")
    if isinstance(source, list):
        return "".join(part if isinstance(part, str) else str(part) for part in source)
    return source if isinstance(source, str) else str(source)


def _normalised(source: str) -> str:
    """A test cell's code without blank lines and trailing spaces (saving in another editor is
    no edit)."""
    return "\n".join(line.rstrip() for line in source.strip().splitlines() if line.strip())


def _nbgrader(cell) -> dict:
    """A cell's nbgrader metadata; {} when missing or not an object (a submitted file may hold
    any JSON there: a string or a list used to crash the merge)."""
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def _grade_id(cell) -> str | None:
    """The cell's grade_id when it is a non-empty string (a list or object is no id)."""
    grade_id = _nbgrader(cell).get("grade_id")
    return grade_id if isinstance(grade_id, str) and grade_id else None


def _describe(cell) -> str:
    grade_id = _grade_id(cell)
    return f"graded cell {grade_id}" if _nbgrader(cell).get("grade") else f"cell {grade_id or cell.get('id')}"
