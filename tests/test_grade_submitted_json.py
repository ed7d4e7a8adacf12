"""No JSON a student can put in a notebook file makes the supervisor's own stages fail.

The file is the student's: nbformat only logs a schema error and leaves whatever JSON it found in
a cell's fields, metadata and outputs. Each example puts one generated JSON value (or nothing) at
one place of a real submission and runs what the supervisor does with it outside the sandbox:
read, merge with the release, the integrity scan, neutralising and writing the kept notebook.
Either the file is refused with a reason (`SubmissionError`) or every stage succeeds; any other
exception would be an internal grading error. (Fuzzing by hand found three such places first.)
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tito.grade import integrity
from tito.grade.model import Submission
from tito.grade.neutralise import neutralise_cells
from tito.grade.prepare import SubmissionError, prepare, read_submission

REPO = Path(__file__).resolve().parents[1]
MODULE = "03_layers"
RELEASE = nbformat.read(REPO / "release" / MODULE / f"{MODULE}.ipynb", as_version=4)
BASE = json.loads(nbformat.writes(RELEASE))

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8)
CELL_FIELDS = ("source", "metadata", "cell_type", "id", "outputs", "execution_count", "attachments")
NBGRADER_FIELDS = ("grade_id", "grade", "solution", "locked", "points", "task", "schema_version")
GRADED = [i for i, c in enumerate(BASE["cells"]) if c["metadata"].get("nbgrader", {}).get("grade")]
SOLUTIONS = [i for i, c in enumerate(BASE["cells"]) if c["metadata"].get("nbgrader", {}).get("solution")]
MISSING = object()


def places():
    """(cell index or None for the notebook, path of keys) where a value goes."""
    cell = st.sampled_from(GRADED + SOLUTIONS + [0, len(BASE["cells"])])  # the last: an added cell
    in_cell = st.tuples(cell, st.sampled_from(CELL_FIELDS).map(lambda f: (f,)))
    in_nbgrader = st.tuples(cell, st.sampled_from(NBGRADER_FIELDS + ("",)).map(
        lambda f: ("metadata", "nbgrader", f) if f else ("metadata", "nbgrader")))
    in_notebook = st.tuples(st.none(), st.sampled_from([("metadata",), ("metadata", "kernelspec"),
                                                        ("metadata", "language_info"), ("nbformat_minor",)]))
    return in_cell | in_nbgrader | in_notebook


def planted(place, value) -> dict:
    data = json.loads(json.dumps(BASE))
    index, path = place
    if index == len(data["cells"]):
        data["cells"].append({"cell_type": "code", "id": "added", "metadata": {}, "execution_count": None,
                              "outputs": [], "source": "x = 1"})
    target = data if index is None else data["cells"][index]
    for key in path[:-1]:
        if not isinstance(target.get(key), dict):
            target[key] = {}
        target = target[key]
    if value is MISSING:
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(place=places(), value=JSON | st.just(MISSING))
def test_any_json_anywhere_is_refused_with_a_reason_or_graded(tmp_path_factory, place, value):
    folder = tmp_path_factory.mktemp("submission") / "s1" / MODULE
    folder.mkdir(parents=True)
    (folder / f"{MODULE}.ipynb").write_text(json.dumps(planted(place, value)), encoding="utf-8")
    try:
        submitted, _ = read_submission(Submission("s1", MODULE, folder))
    except SubmissionError as refused:
        assert str(refused).startswith(f"{MODULE}.ipynb: ")
        return
    prepared = prepare(RELEASE, submitted)
    cells = prepared.notebook.cells
    integrity.scan([(i, cells[i].source) for i in prepared.student_cells], module=("tinytorch.core.layers",))
    kept = nbformat.from_dict(json.loads(json.dumps(prepared.notebook)))
    neutralise_cells(kept.cells)
    nbformat.writes(kept).encode("utf-8")
