"""Feedback pages: what a student reads about one graded submission.

The leak tests use the real course: for every module a failing submission's page, even one whose
messages quote hidden tests and solutions verbatim (what `inspect.getsource` in a crafted
exception would produce), contains none of the fingerprints of the source's hidden-test and
solution regions. Pages are written into tmp dirs whose source/ and release/ link to the repo's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tito import course
from tito.errors import TitoError
from tito.feedback_pages import run, write_all, write_feedback
from tito.feedback_pages.redact import WITHHELD
from tito.grade.model import CellResult, CheckResult, Flag, GradeResult
from tito.source import grade_id, is_graded_test, points, read_source

REPO = Path(__file__).resolve().parents[1]
MODULES = course.discover(REPO)
REGION = re.compile(r"^\s*###\s*(BEGIN|END) (SOLUTION|HIDDEN TESTS)\s*$")
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


# --- helpers ---------------------------------------------------------------------------------


def region_lines(text: str) -> tuple[list[str], list[str], list[str]]:
    """(hidden-test lines, solution lines, lines outside both), stripped, non-blank."""
    hidden, solution, outside, current = [], [], [], None
    for raw in text.splitlines():
        match = REGION.match(raw)
        if match:
            current = match[2] if match[1] == "BEGIN" else None
        elif raw.strip():
            {"HIDDEN TESTS": hidden, "SOLUTION": solution, None: outside}[current].append(raw.strip())
    return hidden, solution, outside


def fingerprints(module: course.Module) -> tuple[list[str], list[str]]:
    """Lines >= 12 chars of the module's hidden-test / solution regions unique to those regions
    (they occur outside the regions of no course source, as the release lint defines them)."""
    public = "\n".join(line for m in MODULES for line in region_lines(m.source_py.read_text())[2])
    hidden, solution, _ = region_lines(module.source_py.read_text())
    unique = lambda lines: sorted({l for l in lines if len(l) >= 12 and l not in public})  # noqa: E731
    return unique(hidden), unique(solution)


def graded_cells(module: course.Module) -> list[tuple[str, float, bool]]:
    nb = read_source(module.source_py)
    return [(grade_id(c), points(c), "BEGIN HIDDEN TESTS" in c.source) for c in nb.cells if is_graded_test(c)]


def linked_course(tmp_path: Path) -> Path:
    """A course dir whose source/ and release/ are the repo's (read only); outputs go to tmp."""
    root = tmp_path / "course"
    root.mkdir()
    for name in ("source", "release"):
        if (REPO / name).is_dir():
            (root / name).symlink_to(REPO / name)
    return root


def result(student="ada", module="90_fixture", status="graded", **kwargs) -> GradeResult:
    return GradeResult(student=student, module=module, digest="ab" * 32, status=status, **kwargs)


def fixture_cells() -> list[CellResult]:
    return [
        CellResult("fixture-creation", 10, 10, True, has_hidden_tests=True),
        CellResult("fixture-arithmetic", 15, 0, False, "AssertionError", "expected [2. 4.], got [2. 3.]", has_hidden_tests=True),
        CellResult("fixture-matmul", 10, 0, False, "NotImplementedError", ""),
        CellResult("fixture-warnings", 5, 0, False, None, None, stderr=True),
        CellResult("fixture-xss", 5, 0, False, "AssertionError", XSS),
    ]


def page_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# --- hidden tests and solutions never leak -----------------------------------------------------


@pytest.mark.parametrize("module", MODULES, ids=[m.name for m in MODULES])
def test_failing_page_leaks_no_hidden_test_or_solution_line(tmp_path: Path, module: course.Module) -> None:
    root = linked_course(tmp_path)
    hidden, solution = fingerprints(module)
    assert hidden and solution, f"{module.name}: the source should have hidden tests and solutions"
    source_text = module.source_py.read_text()
    cells = graded_cells(module)
    assert cells and any(h for _, _, h in cells)

    # A plain failing submission: every graded cell fails with an ordinary message.
    plain = result(module=module.name, cells=[
        CellResult(gid, pts, 0, False, "AssertionError", f"{gid}: wrong value", has_hidden_tests=h) for gid, pts, h in cells
    ])
    text = page_text(write_feedback(root, plain, module))
    assert [fp for fp in hidden + solution if fp in text] == []
    for gid, _, _ in cells:
        assert f"{gid}: wrong value" in text

    # A crafted one: messages, checkpoint messages and evidence quote the regions and the source.
    regions = "\n".join(f"    {line}" for line in hidden + solution)
    crafted = result(
        module=module.name,
        cells=[CellResult(gid, pts, 0, False, "AssertionError", "leak:\n" + regions, has_hidden_tests=h) for gid, pts, h in cells],
        checks=[CheckResult("leaky-scenario", 5, 0, False, source_text)],
        flags=[Flag("restored-locked-cell", source_text)],
    )
    text = page_text(write_feedback(root, crafted, module))
    assert [fp for fp in hidden if fp in text] == [], "hidden-test text in the feedback page"
    assert [fp for fp in solution if fp in text] == [], "solution text in the feedback page"
    assert WITHHELD in text and "leak:" in text


def test_another_modules_solution_is_withheld_too(tmp_path: Path) -> None:
    """The sandbox of module k holds the reference of modules < k: their solutions are secrets."""
    root = linked_course(tmp_path)
    first, last = MODULES[0], MODULES[-1]
    _, solution = fingerprints(first)
    leaked = "\n".join(solution[:20])
    page = write_feedback(root, result(module=last.name, cells=[CellResult("x-test", 5, 0, False, "AssertionError", leaked)]))
    text = page_text(page)
    assert [fp for fp in solution[:20] if fp in text] == []


def test_titles_come_from_the_release_docstrings(tmp_path: Path) -> None:
    root = linked_course(tmp_path)
    if not (REPO / "release" / "05_autograd" / "05_autograd.ipynb").is_file():
        pytest.skip("no release of 05_autograd")
    cells = [CellResult("autograd-elementwise-rules", 12, 12, True, has_hidden_tests=True),
             CellResult("autograd-not-in-release", 3, 3, True)]
    text = page_text(write_feedback(root, result(module="05_autograd", cells=cells)))
    assert "Elementwise rules" in text
    assert "add, sub, mul, div, neg, pow, exp and log rules, called directly on recorded nodes." in text
    assert "Not in release" in text  # no release cell: the grade id made readable


# --- contents ----------------------------------------------------------------------------------


def test_failing_page_shows_scores_statuses_messages(tmp_path: Path) -> None:
    checks = [CheckResult("forward-values", 10, 10, True, ""), CheckResult("backward-grads", 10, 0, False, "grad of x differs at [0, 1]: 0.5 != 0.25")]
    res = result(cells=fixture_cells(), checks=checks)
    path = write_feedback(tmp_path, res, "90_fixture")
    assert path == tmp_path / "feedback" / "ada" / "90_fixture" / "90_fixture.html"
    text = page_text(path)
    assert "Feedback for <strong>ada</strong>" in text
    assert "10 <small>/ 45 points &middot; 22%</small>" in text  # checks count through the checkpoint cell
    assert "1 of 5 test cells passed; 1 of 2 checkpoint scenarios passed." in text
    for gid in ("fixture-creation", "fixture-arithmetic", "fixture-matmul", "fixture-warnings"):
        assert f'id="cell-{gid}"' in text
    assert "AssertionError: expected [2. 4.], got [2. 3.]" in text
    assert "This cell also ran hidden tests" in text
    assert "The message above may come from one of them" in text  # the failing hidden-test cell
    assert "still raises NotImplementedError" in text
    assert "any error or stderr output in a graded cell scores 0" in text
    assert text.count('class="badge passed"') == 2 and text.count('class="badge failed"') == 3
    assert text.count('class="badge error"') == 2
    assert "<code>backward-grads</code>" in text and "grad of x differs at [0, 1]: 0.5 != 0.25" in text
    assert 'id="not-graded"' not in text and 'id="flags"' not in text


def test_student_strings_are_escaped(tmp_path: Path) -> None:
    res = result(
        cells=fixture_cells(),
        checks=[CheckResult("scenario", 1, 0, False, XSS)],
        flags=[Flag("grading-machinery", "get_ipython().input_transformers_post.append(f)  # " + XSS)],
    )
    text = page_text(write_feedback(tmp_path, res))
    assert "<script" not in text and "<img" not in text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in text
    assert text.count("&lt;script&gt;") == 3
    # defence in depth: the page allows no script at all
    assert "default-src 'none'" in text


def test_page_is_self_contained(tmp_path: Path) -> None:
    text = page_text(write_feedback(tmp_path, result(cells=fixture_cells()[:4])))
    assert "<style>" in text
    assert not re.search(r"<(link|script|img|iframe)\b", text)
    assert not re.search(r"(src|href)\s*=", text)
    assert "http://" not in text and "https://" not in text


def test_flags_with_evidence(tmp_path: Path) -> None:
    res = result(cells=fixture_cells()[:1], flags=[
        Flag("grading-machinery", "cell 7, line 3: builtins.__dict__['assert_equal'] = lambda *a: None"),
        Flag("tests-pass-checks-fail", "test cells 100% but checkpoint scenarios 0/4"),
        Flag("something-new", "unknown kinds are shown too"),
    ])
    text = page_text(write_feedback(tmp_path, res))
    assert 'id="flags"' in text
    assert "builtins.__dict__[&#39;assert_equal&#39;] = lambda *a: None" in text
    assert "the independent checkpoint checks of the same code failed" in text
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
    res = result(cells=[CellResult("fixture-a", 50, 50, True, has_hidden_tests=True), CellResult("fixture-b", 30, 30, True),
                        CellResult("fixture-checkpoint", 20, 20, True)],  # carries the checks' points
                 checks=[CheckResult("forward", 20, 20, True)])
    text = page_text(write_feedback(tmp_path, res))
    assert "100 <small>/ 100 points &middot; 100%</small>" in text
    assert text.count('<span class="badge hidden" title="this cell also ran hidden tests">') == 1
    assert "also ran hidden tests: extra cases of the same functions" in text
    assert "This cell also ran hidden tests" not in text  # the per-cell note is for failures


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
