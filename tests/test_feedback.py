"""Feedback pages: what a student reads about one graded submission.

The leak tests use the real course. For every module, a submission whose every case disagrees is
graded the way the supervisor grades it (the reference's answers for the submission's seed from
the oracle, compared with the student's values by `tito.grade.checks`, each graded cell scored
by `tito.grade.stages.score`): its page shows every disagreeing case, and no value the reference
computed for a hidden case. A crafted one, whose messages and evidence quote solutions verbatim
(what `inspect.getsource` in a crafted exception would produce), shows no line of a solution
region. (The notebooks hold no hidden tests any more: hidden cases live in the spec.) Pages are
written into tmp dirs whose source/ and release/ link to the repo's.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tito import course
from tito.errors import TitoError
from tito.feedback_pages import run, write_all, write_feedback
from tito.feedback_pages.redact import WITHHELD
from tito.grade import checks
from tito.grade.execute import CellOutcome
from tito.grade.inner import valuepack
from tito.grade.model import CellResult, CheckResult, Flag, GradeResult
from tito.grade.oracle import Oracle
from tito.grade.secret import submission_seed
from tito.grade.stages.score import score_cell
from tito.source import read_source

REPO = Path(__file__).resolve().parents[1]
MODULES = course.discover(REPO)
REGION = re.compile(r"^\s*###\s*(BEGIN|END) SOLUTION\s*$")
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
SECRET = bytes(range(32))  # the course secret of these tests
DIGEST = "ab" * 32
WRONG = 777  # every number of the failing submission (no reference value of the course is 777)


# --- helpers ---------------------------------------------------------------------------------


def region_lines(text: str) -> tuple[list[str], list[str]]:
    """(solution lines, lines outside the solution regions), stripped, non-blank."""
    solution, outside, inside = [], [], False
    for raw in text.splitlines():
        match = REGION.match(raw)
        if match:
            inside = match[1] == "BEGIN"
        elif raw.strip():
            (solution if inside else outside).append(raw.strip())
    return solution, outside


def fingerprints(module: course.Module) -> list[str]:
    """Lines >= 12 chars of the module's solution regions that occur outside the solution regions
    of no course source (as the release lint defines them)."""
    public = "\n".join(line for m in MODULES for line in region_lines(m.source_py.read_text())[1])
    solution, _ = region_lines(module.source_py.read_text())
    return sorted({line for line in solution if len(line) >= 12 and line not in public})


def linked_course(tmp_path: Path) -> Path:
    """A course dir whose source/ and release/ are the repo's (read only); outputs go to tmp."""
    root = tmp_path / "course"
    root.mkdir()
    for name in ("source", "release"):
        if (REPO / name).is_dir():
            (root / name).symlink_to(REPO / name)
    return root


def result(student="ada", module="90_fixture", status="graded", **kwargs) -> GradeResult:
    return GradeResult(student=student, module=module, digest=DIGEST, status=status, **kwargs)


def page_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def card(text: str, grade_id: str) -> str:
    """The HTML of one test cell's card."""
    match = re.search(rf'<section class="card" id="cell-{re.escape(grade_id)}">(.*?)</section>', text, re.S)
    assert match, f"no card for {grade_id}"
    return match[1]


# --- a real grading of a submission whose every case disagrees --------------------------------


@pytest.fixture(scope="module")
def oracle():
    reference = Oracle(REPO)
    yield reference
    reference.close()


def wrong_values(reference: dict) -> bytes:
    """The value pack of a student whose every value differs from the reference's: every number
    WRONG, every boolean flipped, every string replaced (shapes kept)."""
    values = {}
    for key, expected in reference["values"].items():
        if expected.dtype.kind == "b":
            values[key] = ~expected
        elif expected.dtype.kind == "U":
            values[key] = np.array("not the reference's answer")
        else:
            values[key] = np.full(expected.shape, WRONG, dtype=expected.dtype)
    return valuepack.pack(values)


def graded_failing_submission(module: course.Module, oracle: Oracle) -> tuple[GradeResult, dict]:
    """(the result, the reference's answers for its seed): every notebook test passed (as a forged
    verdict would), every case disagrees, every cell scored as `stages.score` scores it."""
    res = result(module=module.name)
    seed = submission_seed(SECRET, res.student, res.module, res.digest)
    plan = checks.CheckPlan(module, oracle.answers_later(module, seed), seed, {})
    reference = plan.reference
    lines = b"\n".join(json.dumps({"case": s["case"], "status": "ok"}).encode() for s in plan.specs)
    run_ = checks.CheckRun(stdout=lines, stderr=b"", returncode=0, timed_out=False, signal=None, wall=1.0,
                           values=wrong_values(reference))
    res.checks, _ = checks.score_checks(plan, run_, None, 60.0)
    for index, cell in enumerate(read_source(module.source_py).cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            outcome = CellOutcome(index, meta["grade_id"], ran=True)  # no error, no stderr: passed
            res.cells.append(score_cell(meta, outcome, [c for c in res.checks if c.cell == meta["grade_id"]]))
    return res, reference


def shown(value: np.ndarray) -> set[str]:
    """How a value would appear in a message (`checks._show`): whole, and number by number."""
    texts = {checks._show(value)}
    if value.dtype.kind in "iuf":
        texts |= {checks._show(np.asarray(v)) for v in value.ravel()[:100]}
    return texts


def hidden_value_prints(res: GradeResult, reference: dict) -> list[str]:
    """What the reference computed for the hidden cases, as a message would show it, leaving out
    what the page may show anyway: public cases' values, the student's values, and the page's
    own text when no message is shown (titles, docstrings, styles)."""
    hidden, public = set(), set()
    for spec in reference["cases"]:
        for name in spec["keys"]:
            (hidden if spec["hidden"] else public).update(shown(reference["values"][f"{spec['case']}/{name}"]))
    public.add(str(WRONG))
    silent = replace(res, cells=[replace(c, evalue="") for c in res.cells],
                     checks=[replace(c, message="") for c in res.checks])
    public.add(html.unescape(page_of(silent)))
    everything_public = "\n".join(public)
    return sorted(p for p in hidden if len(p) >= 6 and p not in everything_public)


def page_of(res: GradeResult) -> str:
    from tito.feedback_pages import render

    return render(REPO, res)


def leaked(prints: list[str], page: str) -> list[str]:
    return [p for p in prints if p in page or p in html.unescape(page)]


# --- solutions and hidden cases' values never leak ---------------------------------------------


@pytest.mark.parametrize("module", MODULES, ids=[m.name for m in MODULES])
def test_failing_page_leaks_no_solution_line_or_hidden_value(tmp_path: Path, module: course.Module, oracle) -> None:
    root = linked_course(tmp_path)
    source_text = module.source_py.read_text()
    assert "BEGIN HIDDEN TESTS" not in source_text, "hidden tests are back in the notebook: redact.py no longer withholds them"
    solution = fingerprints(module)
    assert solution, f"{module.name}: the source should have solutions"

    # A graded submission: every notebook test passed, every case disagrees.
    graded, reference = graded_failing_submission(module, oracle)
    assert graded.checks and not any(c.passed for c in graded.checks)
    assert all(c.ename == "ReferenceMismatch" and c.points == 0 for c in graded.cells)
    text = page_text(write_feedback(root, graded, module))
    plain = html.unescape(text)
    hidden = [c for c in graded.checks if c.hidden]
    assert hidden, f"{module.name}: the spec should have hidden cases"
    for check in graded.checks:  # every case is listed with its message (public ones with the expected value)
        assert check.message in plain
    assert all("which differs from the reference" in c.message for c in hidden)
    assert text.count("<code>hidden case</code>") == len(hidden)
    assert not [c.name for c in hidden if f"<code>{c.name}</code>" in text]
    prints = hidden_value_prints(graded, reference)
    assert len(prints) >= 10, f"{module.name}: too few distinctive hidden values to prove anything"
    assert leaked(prints, text) == [], "a value the reference computed for a hidden case is in the page"
    assert leaked(solution, text) == []
    # ...and the check would see one: the same page with the hidden cases' expected values shown
    revealed = replace(graded, checks=[replace(c, message=_revealed(c, reference)) if c.hidden else c
                                       for c in graded.checks])
    assert leaked(prints, page_of(revealed))

    # A crafted one: messages, case messages and evidence quote the solutions and the source.
    regions = "\n".join(f"    {line}" for line in solution)
    crafted = result(
        module=module.name,
        cells=[replace(c, ename="AssertionError", evalue="leak:\n" + regions) for c in graded.cells],
        checks=[replace(c, message=source_text) for c in graded.checks[:3]]
               + [CheckResult("leaky-case", 5, 0, False, source_text)],  # bound to no cell
        flags=[Flag("restored-locked-cell", source_text)],
    )
    text = page_text(write_feedback(root, crafted, module))
    assert leaked(solution, text) == [], "solution text in the feedback page"
    assert WITHHELD in text and "leak:" in text


def _revealed(check: CheckResult, reference: dict) -> str:
    """A hidden case's message had it shown the reference's value (what must never happen)."""
    spec = next(s for s in reference["cases"] if s["case"] == check.name)
    name = spec["keys"][0]
    expected = reference["values"][f"{check.name}/{name}"]
    return f"{name}: expected {checks._show(expected)}"


def test_another_modules_solution_is_withheld_too(tmp_path: Path) -> None:
    """Every module's solutions are withheld, not only the graded module's (defense in depth: no
    sandbox should hold an unpublished reference, but a message quoting one must still not show it)."""
    root = linked_course(tmp_path)
    first, last = MODULES[0], MODULES[-1]
    solution = fingerprints(first)
    leaked_text = "\n".join(solution[:20])
    page = write_feedback(root, result(module=last.name, cells=[CellResult("x-test", 5, 0, False, "AssertionError", leaked_text)]))
    assert leaked(solution[:20], page_text(page)) == []


def test_titles_come_from_the_release_docstrings(tmp_path: Path) -> None:
    root = linked_course(tmp_path)
    if not (REPO / "release" / "05_autograd" / "05_autograd.ipynb").is_file():
        pytest.skip("no release of 05_autograd")
    cells = [CellResult("autograd-elementwise-rules", 12, 12, True, has_hidden_tests=True, notebook_passed=True),
             CellResult("autograd-not-in-release", 3, 3, True, notebook_passed=True)]
    text = page_text(write_feedback(root, result(module="05_autograd", cells=cells)))
    assert "Elementwise rules" in text
    assert "add, sub, mul, div, neg, pow, exp and log rules, called directly on recorded nodes." in text
    assert "Not in release" in text  # no release cell: the grade id made readable


# --- contents ----------------------------------------------------------------------------------


def fixture_cells() -> list[CellResult]:
    """Cells as `stages.score` scores them: a pass, a test that passed in the notebook but whose
    cases differ, a stub, a warning on stderr, a hostile message, a partly earned checkpoint."""
    return [
        CellResult("fixture-creation", 10, 10, True, has_hidden_tests=True, notebook_passed=True),
        CellResult("fixture-arithmetic", 15, 0, False, "ReferenceMismatch",
                   "case arithmetic_broadcast: out: expected [2. 4.] got [2. 3.] (1 more case disagree)",
                   has_hidden_tests=True, notebook_passed=True),
        CellResult("fixture-matmul", 10, 0, False, "NotImplementedError", ""),
        CellResult("fixture-warnings", 5, 0, False, None, "output on stderr: UserWarning: overflow", stderr=True),
        CellResult("fixture-xss", 5, 0, False, "AssertionError", XSS),
        CellResult("fixture-checkpoint", 20, 12, False, "ReferenceMismatch",
                   "case checkpoint_backward: grad of x: expected [0.5 0.25] got [0.5 0.5] (1 more case disagree)",
                   has_hidden_tests=True, notebook_passed=True),
    ]


def fixture_checks() -> list[CheckResult]:
    """The cases of `fixture_cells`, as `tito.grade.checks` compares them."""
    return [
        CheckResult("creation_values", 0, 0, True, cell="fixture-creation"),
        CheckResult("creation_any_shape", 0, 0, True, cell="fixture-creation", hidden=True),
        CheckResult("arithmetic_broadcast", 0, 0, False, "out: expected [2. 4.] got [2. 3.]", cell="fixture-arithmetic"),
        CheckResult("arithmetic_scalars", 0, 0, True, cell="fixture-arithmetic"),
        CheckResult("arithmetic_any_shape", 0, 0, False, "out: got [2. 3. 5.], which differs from the reference",
                    cell="fixture-arithmetic", hidden=True),
        CheckResult("matmul_values", 0, 0, False, "NotImplementedError: Tensor.__matmul__ is not written yet",
                    cell="fixture-matmul"),
        CheckResult("checkpoint_forward", 8, 8, True, cell="fixture-checkpoint"),
        CheckResult("checkpoint_backward", 4, 0, False, "grad of x: expected [0.5 0.25] got [0.5 0.5]",
                    cell="fixture-checkpoint"),
        CheckResult("checkpoint_batch", 4, 4, True, cell="fixture-checkpoint", hidden=True),
        CheckResult("checkpoint_sizes", 4, 0, False, "sizes: got [3 3], which differs from the reference",
                    cell="fixture-checkpoint", hidden=True),
    ]


HIDDEN_BADGE = '<span class="badge hidden" title="the grader also ran hidden cases for this cell">+ hidden cases</span>'


def test_failing_page_shows_scores_statuses_messages(tmp_path: Path) -> None:
    res = result(cells=fixture_cells(), checks=fixture_checks())
    path = write_feedback(tmp_path, res, "90_fixture")
    assert path == tmp_path / "feedback" / "ada" / "90_fixture" / "90_fixture.html"
    text = page_text(path)
    assert "Feedback for <strong>ada</strong>" in text
    assert "22 <small>/ 65 points &middot; 34%</small>" in text  # the cases' points count through the checkpoint cell
    assert "1 of 6 test cells passed (1 partly); 5 of 10 of the grader's cases agreed with the reference." in text
    for gid in ("fixture-creation", "fixture-arithmetic", "fixture-matmul", "fixture-warnings", "fixture-checkpoint"):
        assert f'id="cell-{gid}"' in text
    # badges: cells (1 passed, 2 failed, 2 errors, 1 partly passing), then one per listed case
    assert text.count('class="badge passed"') == 1 + 2 and text.count('class="badge failed"') == 2 + 5
    assert text.count('class="badge error"') == 2 and text.count('class="badge partly"') == 1
    assert "How a cell is scored:" in text
    assert 'id="not-graded"' not in text and 'id="flags"' not in text and 'id="other-cases"' not in text


def test_a_passing_cells_cases_are_not_listed(tmp_path: Path) -> None:
    text = page_text(write_feedback(tmp_path, result(cells=fixture_cells(), checks=fixture_checks())))
    creation = card(text, "fixture-creation")
    assert '<span class="badge passed">passed</span>' in creation and "10 / 10" in creation
    assert HIDDEN_BADGE in creation
    assert "<table>" not in creation and "creation_values" not in creation


def test_a_test_that_passed_with_a_disagreeing_case_shows_the_case(tmp_path: Path) -> None:
    text = page_text(write_feedback(tmp_path, result(cells=fixture_cells(), checks=fixture_checks())))
    arithmetic = card(text, "fixture-arithmetic")
    assert '<span class="badge failed">failed</span>' in arithmetic and "0 / 15" in arithmetic
    assert "Your notebook&#39;s test passed, but the grader ran your code on inputs of its own" in arithmetic
    assert "ReferenceMismatch" not in arithmetic  # the table below says which case, in words
    # the public case: its name and its message, the reference's value included
    assert "<td><code>arithmetic_broadcast</code></td>" in arithmetic
    assert "<pre>out: expected [2. 4.] got [2. 3.]</pre>" in arithmetic
    # the hidden case: "hidden case" and its message, which has the student's value only
    assert "<td><code>hidden case</code></td>" in arithmetic
    assert "<pre>out: got [2. 3. 5.], which differs from the reference</pre>" in arithmetic
    assert "arithmetic_any_shape" not in text
    assert "arithmetic_scalars" not in arithmetic  # agreeing cases of a gate cell are counted, not listed
    assert arithmetic.count('<span class="badge failed">differs</span>') == 2
    assert "<th>points</th>" not in arithmetic  # its cases carry no points: they gate the cell
    assert "1 of 3 cases agreed." in arithmetic
    assert HIDDEN_BADGE in arithmetic


def test_the_checkpoint_cell_shows_its_cases_points(tmp_path: Path) -> None:
    text = page_text(write_feedback(tmp_path, result(cells=fixture_cells(), checks=fixture_checks())))
    checkpoint = card(text, "fixture-checkpoint")
    assert '<span class="pts">12 / 20</span>' in checkpoint
    assert '<span class="badge partly">partly passing</span>' in checkpoint
    assert "did not pass" not in checkpoint  # its notebook test passed
    assert "<th>points</th>" in checkpoint
    rows = re.findall(r"<tr>\s*<td><code>([^<]*)</code></td>\s*<td><span class=\"badge (\w+)\">(\w+)</span></td>\s*"
                      r"<td>([^<]*)</td>", checkpoint)
    assert rows == [  # every case, agreeing or not, with its points
        ("checkpoint_forward", "passed", "agrees", "8 / 8"),
        ("checkpoint_backward", "failed", "differs", "0 / 4"),
        ("hidden case", "passed", "agrees", "4 / 4"),
        ("hidden case", "failed", "differs", "0 / 4"),
    ]
    assert "<pre>grad of x: expected [0.5 0.25] got [0.5 0.5]</pre>" in checkpoint
    assert "<pre>sizes: got [3 3], which differs from the reference</pre>" in checkpoint
    assert "checkpoint_batch" not in text and "checkpoint_sizes" not in text
    assert HIDDEN_BADGE in checkpoint


def test_the_hidden_cases_badge_marks_cells_with_hidden_cases(tmp_path: Path) -> None:
    text = page_text(write_feedback(tmp_path, result(cells=fixture_cells(), checks=fixture_checks())))
    assert text.count(HIDDEN_BADGE) == 3
    assert [gid for gid in ("fixture-creation", "fixture-arithmetic", "fixture-matmul", "fixture-warnings",
                            "fixture-xss", "fixture-checkpoint") if HIDDEN_BADGE in card(text, gid)] == [
        "fixture-creation", "fixture-arithmetic", "fixture-checkpoint"]
    assert "have cases that are not in your\nnotebook: when one differs you learn which value, never the reference's value." in text


def test_errors_stubs_and_stderr_are_explained(tmp_path: Path) -> None:
    text = page_text(write_feedback(tmp_path, result(cells=fixture_cells(), checks=fixture_checks())))
    matmul = card(text, "fixture-matmul")
    assert '<span class="badge error">error</span>' in matmul
    assert "still raises NotImplementedError" in matmul
    assert "<td><code>matmul_values</code></td>" in matmul
    assert "<pre>NotImplementedError: Tensor.__matmul__ is not written yet</pre>" in matmul
    assert "0 of 1 cases agreed." in matmul and HIDDEN_BADGE not in matmul
    warnings = card(text, "fixture-warnings")
    assert "any error or stderr output in a graded cell scores 0" in warnings
    assert "<pre>output on stderr: UserWarning: overflow</pre>" in warnings
    assert "<pre>AssertionError: " in card(text, "fixture-xss")


def test_the_checkpoint_cell_is_scored_by_its_cases_whatever_its_notebook_test_says(tmp_path: Path) -> None:
    cells = [CellResult("fixture-checkpoint", 20, 20, True, "stderr", "output on stderr: DeprecationWarning: x",
                        stderr=True)]  # as `stages.score` labels a checkpoint verdict lost to stderr
    cases = [CheckResult("checkpoint_forward", 12, 12, True, cell="fixture-checkpoint"),
             CheckResult("checkpoint_backward", 8, 8, True, cell="fixture-checkpoint")]
    text = page_text(write_feedback(tmp_path, result(cells=cells, checks=cases)))
    checkpoint = card(text, "fixture-checkpoint")
    assert '<span class="badge passed">passed</span>' in checkpoint and '<span class="pts">20 / 20</span>' in checkpoint
    assert "2 of 2 agreed. Its test in your notebook did not pass (the message below): that costs no points" in checkpoint
    assert "<pre>output on stderr: DeprecationWarning: x</pre>" in checkpoint  # no "stderr: " label
    assert checkpoint.count('<span class="badge passed">agrees</span>') == 2
    assert "scores 0" not in checkpoint  # nbgrader's stderr rule does not apply to the checkpoint cell


def test_a_cell_that_never_ran_says_so(tmp_path: Path) -> None:
    cells = [CellResult("fixture-late", 10, 0, False, "NotRun", "not run: notebook timeout after 900 s in cell 12")]
    text = page_text(write_feedback(tmp_path, result(cells=cells, checks=[
        CheckResult("late_values", 0, 0, True, cell="fixture-late")])))
    late = card(text, "fixture-late")
    assert '<span class="badge error">error</span>' in late
    assert "This cell did not run: the notebook stopped before it." in late
    assert "<pre>NotRun: not run: notebook timeout after 900 s in cell 12</pre>" in late
    assert "raised NotRun" not in late


def test_cases_bound_to_no_cell_are_still_shown(tmp_path: Path) -> None:
    """A result.json written before cases were bound to cells (its checks have no cell)."""
    res = result(cells=fixture_cells()[:1], checks=[CheckResult("forward", 5, 0, False, "values differ")])
    text = page_text(write_feedback(tmp_path, res))
    assert 'id="other-cases"' in text
    assert "<td><code>forward</code></td>" in text and "0 / 5" in text and "<pre>values differ</pre>" in text


def test_student_strings_are_escaped(tmp_path: Path) -> None:
    res = result(
        cells=fixture_cells(),
        checks=[CheckResult("xss_case", 0, 0, False, XSS, cell="fixture-xss")],
        flags=[Flag("grading-machinery", "get_ipython().input_transformers_post.append(f)  # " + XSS)],
    )
    text = page_text(write_feedback(tmp_path, res))
    assert "<script" not in text and "<img" not in text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in text
    assert text.count("&lt;script&gt;") == 3  # the cell's message, the case's, the flag's evidence
    # defence in depth: the page allows no script at all
    assert "default-src 'none'" in text


def test_page_is_self_contained(tmp_path: Path) -> None:
    cells = [c for c in fixture_cells() if c.grade_id != "fixture-xss"]  # its message is escaped HTML
    text = page_text(write_feedback(tmp_path, result(cells=cells, checks=fixture_checks())))
    assert "<style>" in text
    assert not re.search(r"<(link|script|img|iframe)\b", text)
    assert not re.search(r"(src|href)\s*=", text)
    assert "http://" not in text and "https://" not in text


def test_flags_with_evidence(tmp_path: Path) -> None:
    res = result(cells=fixture_cells()[:1], flags=[
        Flag("grading-machinery", "cell 7, line 3: builtins.__dict__['assert_equal'] = lambda *a: None"),
        Flag("tests-pass-checks-fail", "fixture-arithmetic passed in the notebook, but 1 of its 3 cases disagree"),
        Flag("tests-fail-checks-pass", "fixture-matmul failed in the notebook (AssertionError), but all 2 of its cases agree"),
        Flag("something-new", "unknown kinds are shown too"),
    ])
    text = page_text(write_feedback(tmp_path, res))
    assert 'id="flags"' in text
    assert "builtins.__dict__[&#39;assert_equal&#39;] = lambda *a: None" in text
    assert ("A test passed in your notebook, but some of the grader&#39;s cases for the same cell computed values "
            "that differ from the reference&#39;s. The cell&#39;s points follow the cases") in text
    assert ("A test failed in your notebook (or wrote to stderr) although every one of the grader&#39;s cases for "
            "the same cell agreed with the reference.") in text
    assert "fixture-arithmetic passed in the notebook, but 1 of its 3 cases disagree" in text
    assert "<code>something-new</code>" in text and "unknown kinds are shown too" in text


@pytest.mark.parametrize(
    ("reason", "hint"),
    [
        ("notebook timed out after 600 s (cell 14)", "longer than the time limit"),
        ("not valid JSON: Expecting value: line 1 column 1 (char 0)", "not a readable Jupyter notebook"),
        ("graded cell tensor-arithmetic appears twice (duplicated)", "cannot repair"),
        ("kernel died (exit code -9)", "stopped unexpectedly"),
        ("MemoryError: over the 2 GiB limit", "more memory than the grader allows"),
        ("something nobody foresaw", "stopped the grader before any test could run"),
    ],
)
def test_error_submission_explains_why_and_what_to_do(tmp_path: Path, reason: str, hint: str) -> None:
    text = page_text(write_feedback(tmp_path, result(status="error", reason=reason)))
    assert "Your submission could not be graded" in text
    assert "Not graded" in text and "points &middot;" not in text
    assert reason.replace("'", "&#39;") in text
    assert hint in text
    assert "Restart &amp; Run All" in text and "submit again" in text


def test_error_reason_is_escaped(tmp_path: Path) -> None:
    text = page_text(write_feedback(tmp_path, result(status="error", reason=XSS)))
    assert "<script" not in text and "&lt;script&gt;" in text


def test_passing_page(tmp_path: Path) -> None:
    res = result(cells=[CellResult("fixture-a", 50, 50, True, has_hidden_tests=True, notebook_passed=True),
                        CellResult("fixture-b", 30, 30, True, notebook_passed=True),
                        CellResult("fixture-checkpoint", 20, 20, True, notebook_passed=True)],  # carries the cases' points
                 checks=[CheckResult("a_values", 0, 0, True, cell="fixture-a"),
                         CheckResult("a_any_shape", 0, 0, True, cell="fixture-a", hidden=True),
                         CheckResult("b_values", 0, 0, True, cell="fixture-b"),
                         CheckResult("forward", 20, 20, True, cell="fixture-checkpoint")])
    text = page_text(write_feedback(tmp_path, res))
    assert "100 <small>/ 100 points &middot; 100%</small>" in text
    assert "3 of 3 test cells passed; 4 of 4 of the grader's cases agreed with the reference." in text
    assert text.count(HIDDEN_BADGE) == 1 and HIDDEN_BADGE in card(text, "fixture-a")
    assert "Cells marked <span class=\"badge hidden\">+ hidden cases</span> have cases that are not in your" in text
    assert "<table>" not in card(text, "fixture-a") + card(text, "fixture-b")  # nothing differed
    checkpoint = card(text, "fixture-checkpoint")
    assert "<td><code>forward</code></td>" in checkpoint and "<td>20 / 20</td>" in checkpoint
    assert "1 of 1 agreed." in checkpoint
    assert 'class="badge failed"' not in text


def test_unsafe_names_and_mismatched_module_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TitoError, match="not a plain student/module name"):
        write_feedback(tmp_path, result(student="../../etc"))
    with pytest.raises(TitoError, match="asked to write it as module"):
        write_feedback(tmp_path, result(), "01_tensor")
    assert not (tmp_path / "feedback").exists()


def write_result(root: Path, res: GradeResult) -> Path:
    path = root / "autograded" / res.student / res.module / "result.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(res.to_json()), encoding="utf-8")
    return path


def test_write_all_and_the_command(tmp_path: Path) -> None:
    from io import StringIO

    from rich.console import Console

    write_result(tmp_path, result("ada", "90_fixture", cells=fixture_cells()))
    write_result(tmp_path, result("bob", "90_fixture", status="error", reason="kernel died"))
    write_result(tmp_path, result("ada", "91_other", cells=fixture_cells()[:1], flags=[Flag("grading-machinery", "x")]))
    bad = tmp_path / "autograded" / "eve" / "90_fixture" / "result.json"
    bad.parent.mkdir(parents=True)
    bad.write_text("{not json")
    moved = write_result(tmp_path, result("mallory", "90_fixture"))
    moved.parent.rename(tmp_path / "autograded" / "mallory" / "92_elsewhere")

    written = write_all(tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == [
        "feedback/ada/90_fixture/90_fixture.html",
        "feedback/ada/91_other/91_other.html",
        "feedback/bob/90_fixture/90_fixture.html",
    ]
    assert write_all(tmp_path, module="91_other") == [tmp_path / "feedback/ada/91_other/91_other.html"]

    out = StringIO()
    paths = run(tmp_path, Console(file=out, width=200), student="ada")
    assert len(paths) == 2
    text = out.getvalue()
    assert "2 feedback page(s) written under feedback/" in text
    assert "skipped autograded/eve/90_fixture/result.json: cannot read it" in text
    assert "autograded/mallory/92_elsewhere/result.json: names 'mallory'/'90_fixture'" in text


def test_notes_are_not_flags(tmp_path: Path) -> None:
    res = result(cells=fixture_cells()[:1], flags=[Flag("note", "graded work.ipynb (expected the name 90_fixture.ipynb)")])
    text = page_text(write_feedback(tmp_path, res))
    assert 'id="flags"' not in text and 'id="notes"' in text
    assert "graded work.ipynb (expected the name 90_fixture.ipynb)" in text


def test_internal_error_shows_no_traceback_to_the_student(tmp_path: Path) -> None:
    reason = 'internal grading error (reported to the instructor):\nTraceback (most recent call last):\n  File "/srv/tito/grade/pipeline.py"'
    text = page_text(write_feedback(tmp_path, result(status="error", reason=reason)))
    assert "internal grading error (reported to the instructor):" in text
    assert "Traceback" not in text and "pipeline.py" not in text
    assert "a problem of the grader, not of your work" in text
    assert "What to do:" not in text


# --- partly passing, the function still raising NotImplementedError (issue 10, item 6) ---------


def card_texts(page: str, grade_id: str) -> dict[str, str]:
    """The texts a student reads on one cell's card: its badge, points and explanation."""
    section = card(page, grade_id)
    return dict(badge=re.search(r'<span class="badge \w+">([^<]*)</span>', section)[1],
                points=re.search(r'<span class="pts">([^<]*)</span>', section)[1],
                note=html.unescape(re.search(r'<p class="note">(.*?)</p>', section, re.S)[1]))


def test_a_partly_earned_checkpoint_is_partly_passing_and_names_the_cases_that_differ(tmp_path: Path) -> None:
    """16 of 20 points: as `stages.score` scores a checkpoint whose notebook test hit a warning
    (the label "stderr", no ename) and one of whose five cases differs."""
    cells = [CellResult("fixture-checkpoint", 20, 16, False, "stderr", "output on stderr: RuntimeWarning: overflow",
                        stderr=True)]
    cases = [CheckResult(f"checkpoint_{n}", 4, 4, True, cell="fixture-checkpoint") for n in ("a", "b", "c")] + [
        CheckResult("checkpoint_sizes", 4, 0, False, "sizes: got [3 3], which differs from the reference",
                    cell="fixture-checkpoint", hidden=True),
        CheckResult("checkpoint_grad", 4, 4, True, cell="fixture-checkpoint")]
    page = page_text(write_feedback(tmp_path, result(cells=cells, checks=cases)))
    assert card_texts(page, "fixture-checkpoint") == dict(
        badge="partly passing", points="16 / 20",
        note="This cell scores the points of its cases that agree with the reference: 4 of 5 agreed. It earned 16 "
             "of its 20 points; this case differs: hidden case. Its test in your notebook did not pass (the message "
             "below): that costs no points here, but it may tell you why cases differ.")
    assert "failed without a message" not in page and "checkpoint_sizes" not in page
    assert "0 of 1 test cells passed (1 partly)" in page


def test_a_stub_names_the_function_that_still_raises(tmp_path: Path) -> None:
    cells = [CellResult("fixture-pow", 10, 0, False, "NotImplementedError", "", raised_in="Tensor.__pow__"),
             CellResult("fixture-old", 10, 0, False, "NotImplementedError", ""),  # a result from before raised_in
             CellResult("fixture-value", 10, 0, False, "ValueError", "shapes (2,) and (3,)", raised_in="Tensor.reshape"),
             CellResult("fixture-checkpoint", 20, 4, False, "NotImplementedError", "", raised_in="as_tensor")]
    cases = [CheckResult("a", 4, 4, True, cell="fixture-checkpoint"),
             CheckResult("b", 16, 0, False, "NotImplementedError (in as_tensor, cell 'tensor-as-tensor', line 19)",
                         cell="fixture-checkpoint")]
    page = page_text(write_feedback(tmp_path, result(cells=cells, checks=cases)))
    assert card_texts(page, "fixture-pow")["note"] == (
        "Tensor.__pow__ still raises NotImplementedError: fill in its solution region (where it says # YOUR CODE HERE).")
    assert card_texts(page, "fixture-old")["note"] == (
        "A function this test calls still raises NotImplementedError: replace its stub with your code.")
    assert card_texts(page, "fixture-value")["note"] == "The cell raised ValueError in Tensor.reshape before its checks finished."
    assert card_texts(page, "fixture-checkpoint")["note"].endswith(
        "Its test in your notebook did not pass (the message below): that costs no points here, but it may tell you "
        "why cases differ. as_tensor still raises NotImplementedError: fill in its solution region (where it says "
        "# YOUR CODE HERE).")


def test_the_raising_function_is_escaped(tmp_path: Path) -> None:
    cells = [CellResult("fixture-pow", 10, 0, False, "NotImplementedError", "", raised_in=XSS)]
    page = page_text(write_feedback(tmp_path, result(cells=cells)))
    assert "<script" not in page and "<img" not in page
    assert card_texts(page, "fixture-pow")["note"].startswith(XSS + " still raises NotImplementedError")


# The traceback IPython printed for a stubbed `as_tensor` (a real one, ANSI colours removed).
STUB_TRACEBACK = """---------------------------------------------------------------------------
NotImplementedError                       Traceback (most recent call last)
Cell In[6], line 45
---> 45 test_tensor_arithmetic()

Cell In[6], line 7, in test_tensor_arithmetic()
----> 7 cases = [(a + row, a_np + row_np), (a - row, a_np - row_np), (a * row, a_np * row_np),

Cell In[3], line 158, in Tensor.__add__(self, other)
--> 158     other = as_tensor(other, like=self)

Cell In[4], line 19, in as_tensor(value, like)
     18 # YOUR CODE HERE
---> 19 raise NotImplementedError()

NotImplementedError: """


@pytest.mark.parametrize(("traceback", "raised_in"), [
    (STUB_TRACEBACK, "as_tensor"),
    (STUB_TRACEBACK.split("\n\nCell In[4]")[0] + "\n\nNotImplementedError: ", "Tensor.__add__"),
    ("File ~/tinytorch/core/tensor.py:42, in Tensor.__pow__(self, other)\nNotImplementedError: ", "Tensor.__pow__"),
    ("Cell In[6], line 45\nNameError: name 'x' is not defined", None),  # no function: the cell itself
])
def test_score_names_the_innermost_function_of_the_traceback(traceback: str, raised_in: str | None) -> None:
    meta = {"grade_id": "tensor-arithmetic", "points": 15, "grade": True}
    outcome = CellOutcome(6, "tensor-arithmetic", "NotImplementedError", "", traceback=traceback, ran=True)
    cell = score_cell(meta, outcome, [CheckResult("x", 0, 0, True, cell="tensor-arithmetic")])
    assert (cell.points, cell.ename, cell.raised_in) == (0.0, "NotImplementedError", raised_in)
    assert CellResult(**json.loads(json.dumps(cell.__dict__))) == cell  # survives result.json


def test_the_raising_function_is_redacted_like_every_message() -> None:
    """No solution line of today's course fits in a function name (no spaces, no calls), so the
    redaction is shown with a fingerprint that does."""
    from tito.feedback_pages.page import _cell_view
    from tito.feedback_pages.redact import Secrets

    cell = CellResult("fixture-pow", 10, 0, False, "NotImplementedError", "", raised_in="Tensor.__pow__")
    view = _cell_view(cell, None, "90_fixture", Secrets(frozenset({"Tensor.__pow__"})), [])
    assert view.explanation.startswith(WITHHELD + " still raises NotImplementedError")
