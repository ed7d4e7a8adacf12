"""One student's feedback page for one module: `feedback/<student>/<module>/<module>.html`.

The page is rendered from a whitelist of result fields (scores, grade ids, case names, messages,
evidence), never from a notebook's cells, so solutions have no way in except through the
messages; those pass through `Secrets.redact` and jinja2's autoescaping (an assertion message
holding `<script>` renders as text). Each test cell's card says how the cell was scored: its
notebook test's verdict and the cases bound to it (`CheckResult.cell`), the disagreeing ones
listed with their messages, every case of the checkpoint cell with its points. A hidden case is
shown as "hidden case"; its message names the value that differs and the student's value, never
the reference's (see `tito.grade.checks.compare_values`). Titles of test cells come from the
student release (`release/NN/NN.ipynb`, which students already hold): the docstring of the
cell's `test_` function when there is one, else the grade id made readable. The header says when
the submission came in (nbgrader's gradebook, read through `tito.results`), whether it was late,
by how much and what that cost under the course's policy (`tito.late`). A checkpoint cell that
earned some of its points is "partly passing", with the cases that differ named; a cell that
raised an error names the function that raised it (`CellResult.raised_in`).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import jinja2

from tito.course import Module
from tito.errors import TitoError
from tito.feedback_pages.redact import Secrets, course_secrets
from tito.grade.model import CellResult, GradeResult
from tito.late import course_policy, format_delay, load_assessed
from tito.results import UNKNOWN, Lateness, Results, feedback_path, is_safe_name, notes, review_flags

MESSAGE_CAP = 4000  # characters of one message shown; the rest is cut with a note
TEST_DOCSTRING = re.compile(r"def\s+test_\w*\s*\([^)]*\)\s*(?:->[^:]*)?:\s*(?:[rRuU]?)(\"\"\"|''')(?P<doc>.*?)\1", re.S)

FLAG_TEXT = {
    "restored-locked-cell": "A locked cell (a test or provided code) was changed, so grading used the original.",
    "edited-locked-cell": "A test cell was edited, so grading used the original test.",
    "changed-cell-type": "A cell's type was changed (for example code turned into markdown); grading repaired it.",
    "stripped-metadata": "A cell lost its grading metadata, so grading used the original cell.",
    "deleted-cell": "A graded or locked cell was missing, so grading put the original back.",
    "duplicated-cell": "A graded cell appeared more than once; grading kept only one copy.",
    "execution": "Running the notebook did not finish normally.",
    "grading-machinery": "Your code touches the machinery that runs the tests (for example input "
    "transformers, tracing hooks, or replacing numpy, builtins or assertion helpers).",
    "tests-pass-checks-fail": "A test passed in your notebook, but some of the grader's cases for the same cell "
    "computed values that differ from the reference's. The cell's points follow the cases (its card lists them).",
    "tests-fail-checks-pass": "A test failed in your notebook (or wrote to stderr) although every one of the grader's "
    "cases for the same cell agreed with the reference. A cell scores only when both pass; the checkpoint cell "
    "scores the points of its agreeing cases whatever its notebook test says.",
}

REASON_HINTS = (
    (("timeout", "timed out", "time limit"), "Your notebook ran longer than the time limit. Look for an "
     "endless loop or very slow code (a training run with too many epochs, a Python loop over a large array)."),
    (("memory", "memoryerror", "out of memory"), "Your notebook used more memory than the grader allows. "
     "Look for huge arrays or data kept in a list that grows without end."),
    (("json", "corrupt", "not a notebook", "nbformat", "unreadable", "invalid notebook"), "The submitted file "
     "is not a readable Jupyter notebook. Submit the .ipynb file itself (not a copy saved by another program), "
     "and check that it opens in Jupyter."),
    (("duplicat", "deleted", "missing", "metadata"), "The notebook's structure was changed in a way the grader "
     "cannot repair (graded cells deleted, duplicated or their metadata edited). Fetch a fresh copy of the "
     "assignment, paste your solutions into the answer cells only, and submit that."),
    (("kernel", "died", "crash", "exit"), "The Python process running your notebook stopped unexpectedly (for "
     "example a call to exit(), a crash in native code or unbounded recursion)."),
)
GENERIC_HINT = "Something in the submission stopped the grader before any test could run."
INTERNAL = "internal grading error"
INTERNAL_HINT = ("This is a problem of the grader, not of your work: the course staff have been told. "
                 "You do not need to change anything; the submission will be graded again.")


@dataclass
class CellView:
    grade_id: str
    title: str
    description: str
    points: float
    max_points: float
    status: str  # "passed" | "partly" | "failed" | "error" (also the badge's CSS class)
    ename: str | None
    message: str
    explanation: str
    hidden: bool
    cases: list[dict]

    @property
    def label(self) -> str:
        return "partly passing" if self.status == "partly" else self.status


def write_feedback(root: Path, result: GradeResult, module: Module | str | None = None, *,
                   lateness: Lateness = UNKNOWN, policy: str = "") -> Path:
    """Write the feedback page of one result (with its lateness and the late policy in words, when
    known); returns its path."""
    name = module.name if isinstance(module, Module) else (module or result.module)
    if name != result.module:
        raise TitoError(f"feedback for {result.student}/{result.module}: asked to write it as module {name!r}")
    if not (is_safe_name(result.student) and is_safe_name(result.module)):
        raise TitoError(f"feedback: {result.student!r}/{result.module!r} is not a plain student/module name")
    html = render(root, result, lateness, policy)
    path = feedback_path(root, result.student, result.module)
    _write_atomic(path, html)
    return path


def load(root: Path) -> tuple[Results, str]:
    """The results to write pages for (late penalties assessed first) and the late policy in
    words. A gradebook that cannot be used stops no page: they are written without lateness
    (`Results.gradebook_note` says why)."""
    return load_assessed(root), course_policy(root)


def write_all(root: Path, module: str | None = None, student: str | None = None) -> list[Path]:
    """A page for every readable result.json (optionally one module / one student)."""
    written = []
    loaded, policy = load(root)
    for entry in loaded.entries:
        if (module is None or entry.module == module) and (student is None or entry.student == student):
            written.append(write_feedback(root, entry.result, lateness=entry.lateness, policy=policy))
    return written


def render(root: Path, result: GradeResult, lateness: Lateness = UNKNOWN, policy: str = "") -> str:
    secrets = course_secrets(root)
    titles = _titles(*_release_key(root, result.module))
    checks = [
        dict(name="hidden case" if c.hidden else c.name, cell=c.cell, hidden=c.hidden, points=c.points,
             max_points=c.max_points, passed=c.passed, message=_message(c.message, secrets))
        for c in result.checks
    ]
    cells = [_cell_view(cell, titles.get(cell.grade_id), result.module, secrets,
                        [c for c in checks if c["cell"] == cell.grade_id]) for cell in result.cells]
    flags = [
        dict(kind=f.kind, explanation=FLAG_TEXT.get(f.kind, ""), evidence=_message(f.evidence, secrets))
        for f in review_flags(result)
    ]
    reason = result.reason or "no reason was recorded"
    internal = reason.lower().startswith(INTERNAL)
    if internal:  # the traceback is for the instructor (it is in the report), not for the student
        reason = reason.splitlines()[0]
    score, max_score = result.score, result.max_score
    penalty = min(lateness.penalty, score) if result.status == "graded" else 0.0
    context = dict(
        student=result.student,
        module=result.module,
        module_title=_readable(result.module.split("_", 1)[-1]),
        status=result.status,
        reason=_message(reason, secrets),
        hint=INTERNAL_HINT if internal else _reason_hint(reason),
        internal=internal,
        score=_num(score),
        max_score=_num(max_score),
        percent=f"{100 * score / max_score:.0f}%" if max_score > 0 else "-",
        cells=cells,
        cells_passed=sum(c.status == "passed" for c in cells),
        cells_partly=sum(c.status == "partly" for c in cells),
        submission=_submission_view(lateness, policy, penalty, score, max_score),
        checks=checks,
        checks_passed=sum(c["passed"] for c in checks),
        other_cases=[c for c in checks if c["cell"] not in {cell.grade_id for cell in cells}]
        if result.status == "graded" else [],
        flags=flags,
        notes=[_message(n.evidence, secrets) for n in notes(result)],
        any_hidden=any(c.hidden for c in cells),
        digest=(result.digest or "")[:12],
        num=_num,
    )
    return _environment().get_template("feedback.html").render(**context)


def _cell_view(cell: CellResult, doc: str | None, module: str, secrets: Secrets, cases: list[dict]) -> CellView:
    cell = replace(cell, raised_in=secrets.redact(cell.raised_in) or None)  # the student's traceback named it
    ename = None if cell.ename == "stderr" else cell.ename  # score's label for a verdict lost to stderr
    weighted = bool(cases) and all(c["max_points"] for c in cases)  # the checkpoint cell
    message = _message(cell.evalue, secrets)
    if ename == "ReferenceMismatch" and any(not c["passed"] for c in cases):
        message = ""  # it quotes the first disagreeing case, which the table lists with every other
    if weighted:
        status, explanation = _checkpoint_status(cell, cases)
    elif 0 < cell.points < cell.max_points:  # only the checkpoint cell scores in parts; an old result may too
        status, explanation = "partly", f"This cell earned {_num(cell.points)} of its {_num(cell.max_points)} points."
    elif cell.passed:
        status, explanation = "passed", ""
    elif ename == "ReferenceMismatch":
        status, explanation = "failed", ("Your notebook's test passed, but the grader ran your code on inputs of "
                                         "its own and the values differ from the reference's (see the cases below).")
    elif ename == "NotRun":
        status, explanation = "error", "This cell did not run: the notebook stopped before it."
    elif ename == "NoCases":
        status, explanation = "error", ""  # the message says it: a course bug, not the student's
    elif ename == "AssertionError" or (ename is None and not cell.stderr):
        status, explanation = "failed", "" if cell.evalue else "The test failed without a message."
    else:
        status, explanation = "error", _error_text(cell, ename)
    return CellView(
        grade_id=cell.grade_id,
        title=_cell_title(cell.grade_id, module),
        description=secrets.redact(doc or ""),
        points=cell.points,
        max_points=cell.max_points,
        status=status,
        ename=None if ename == "ReferenceMismatch" and not message else ename,
        message=message,
        explanation=explanation,
        hidden=cell.has_hidden_tests or any(c["hidden"] for c in cases),
        cases=cases,
    )


def _error_text(cell: CellResult, ename: str | None) -> str:
    """What the error of a test cell means, naming the function that raised it when known."""
    if ename == "NotImplementedError":
        text = _stub_text(cell)
    elif ename:
        where = f" in {cell.raised_in}" if cell.raised_in else ""
        text = f"The cell raised {ename}{where} before its checks finished."
    else:
        text = ""
    if cell.stderr:
        text += (" " if text else "") + (
            "The cell wrote to stderr (for example a warning). By nbgrader's rule any error or stderr "
            "output in a graded cell scores 0, even when its assertions pass."
        )
    return text


def _stub_text(cell: CellResult) -> str:
    if cell.raised_in:
        return (f"{cell.raised_in} still raises NotImplementedError: fill in its solution region "
                "(where it says # YOUR CODE HERE).")
    return "A function this test calls still raises NotImplementedError: replace its stub with your code."


def _checkpoint_status(cell: CellResult, cases: list[dict]) -> tuple[str, str]:
    """The checkpoint cell scores the points of its cases that agree; its notebook test is
    feedback only (`tito.grade.stages.score`). Some points but not all: partly passing."""
    agreed = sum(c["passed"] for c in cases)
    explanation = (f"This cell scores the points of its cases that agree with the reference: {agreed} of "
                   f"{len(cases)} agreed.")
    differ = [c["name"] for c in cases if not c["passed"]]
    if differ and cell.points > 0:
        explanation += (f" It earned {_num(cell.points)} of its {_num(cell.max_points)} points; "
                        f"{'this case differs' if len(differ) == 1 else 'these cases differ'}: {', '.join(differ)}.")
    if not cell.notebook_passed:
        explanation += (" Its test in your notebook did not pass (the message below): that costs no points "
                        "here, but it may tell you why cases differ.")
        if cell.ename == "NotImplementedError":
            explanation += " " + _stub_text(cell)
    if cell.passed:
        return "passed", explanation
    return ("partly" if cell.points > 0 else "failed"), explanation


def _submission_view(lateness: Lateness, policy: str, penalty: float, score: float, max_score: float) -> dict | None:
    """When the submission came in and what lateness cost (None when the gradebook has no time)."""
    if lateness.submitted is None:
        return None
    return dict(
        submitted=_utc(lateness.submitted),
        due=_utc(lateness.due) if lateness.due else None,
        late=lateness.late,
        delay=format_delay(lateness.seconds_late),
        penalty=_num(penalty),
        final=_num(max(0.0, score - penalty)),
        max_score=_num(max_score),
        policy=policy,
    )


def _utc(moment) -> str:
    """nbgrader's times are naive UTC."""
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _cell_title(grade_id: str, module: str) -> str:
    """`autograd-elementwise-rules` in 05_autograd -> `Elementwise rules`."""
    words = grade_id
    prefix = module.split("_", 1)[-1].replace("_", "-") + "-"
    if words.startswith(prefix) and len(words) > len(prefix):
        words = words[len(prefix):]
    if words.endswith("-test") and len(words) > 5:
        words = words[: -len("-test")]
    return _readable(words)


def _readable(words: str) -> str:
    text = re.sub(r"[-_]+", " ", words).strip()
    return text[:1].upper() + text[1:]


def _reason_hint(reason: str) -> str:
    lowered = reason.lower()
    for keys, hint in REASON_HINTS:
        if any(k in lowered for k in keys):
            return hint
    return GENERIC_HINT


def _message(text: str | None, secrets: Secrets) -> str:
    text = secrets.redact(text or "")
    if len(text) > MESSAGE_CAP:
        text = text[:MESSAGE_CAP] + f"\n[... {len(text) - MESSAGE_CAP} more characters not shown]"
    return text


def _num(value: float) -> str:
    """Points as people write them: 12, 7.5, 3.33."""
    text = f"{round(float(value), 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _release_key(root: Path, module: str) -> tuple[str, int]:
    path = root / "release" / module / f"{module}.ipynb"
    try:
        return str(path), path.stat().st_mtime_ns
    except OSError:
        return str(path), -1


@lru_cache(maxsize=32)
def _titles(path: str, mtime_ns: int) -> dict[str, str]:
    """grade_id -> first docstring line of the cell's test function, from the student release."""
    if mtime_ns < 0:
        return {}
    try:
        cells = json.loads(Path(path).read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError, AttributeError):
        return {}
    titles = {}
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {}) if isinstance(cell, dict) else {}
        source = cell.get("source", "") if isinstance(cell, dict) else ""
        source = "".join(source) if isinstance(source, list) else str(source)
        match = TEST_DOCSTRING.search(source)
        if meta.get("grade_id") and match and match["doc"].strip():
            titles[meta["grade_id"]] = match["doc"].strip().splitlines()[0].strip()
    return titles


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,  # every {{ }} is HTML-escaped: student strings render inert
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
