"""The adversarial suite: the whole catalogue graded in ONE batch with honest students.

For each kind of hostile or broken submission (catalogue.py) the recorded outcome is the expected
one; the batch completes; the honest students' grades are identical to a batch without the
attackers; the machine is left clean (no sandbox process alive, nothing written outside the
scratch area, gradebook rows only for real students). Then: determinism (grading twice gives
the same results, with versions recorded), leaks (no solution or hidden-test text in release/ or
in any feedback page, every module), crash safety (SIGKILL at >= 10 points, resume, same
gradebook; a corrupt or locked gradebook is refused and left untouched), and the security page's
table is the catalogue's.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tito import course
from tito.grade.run import autograde, load_result
from tito.grade.sandbox import SANDBOX_UID, Limits, Sandbox

from . import catalogue as cat

REPO = Path(__file__).resolve().parents[2]
MISSING = Sandbox.missing_layers()
needs_sandbox = pytest.mark.skipif(bool(MISSING), reason="this machine cannot sandbox student code")
LIMITS = Limits(cell_timeout=3.0, notebook_timeout=60.0, memory_bytes=2**30)
HOST_HINTS = {"NBGRADER_EXECUTION": "autograde", "TITO_GRADING_HINT": "the answer is 42"}


def make_course(dest: Path) -> Path:
    """A copy of the course with its release and gradebook (what `make release` leaves)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("source", "release", "tinytorch"):
        shutil.copytree(REPO / name, dest / name, ignore=shutil.ignore_patterns("*.ipynb") if name == "source" else None)
    shutil.copy(REPO / "nbgrader_config.py", dest)
    subprocess.run([sys.executable, "-m", "tito", "release"], cwd=dest, check=True, capture_output=True)
    return dest


def cell_scores(root: Path) -> dict[tuple[str, str, str], tuple[float | None, bool]]:
    """(student, module, grade cell) -> (auto score, needs manual grade), read from the gradebook."""
    with sqlite3.connect(root / "gradebook.db") as db:
        rows = db.execute(
            "select s.student_id, a.name, c.name, g.auto_score, g.needs_manual_grade "
            "from grade g join submitted_notebook n on g.notebook_id = n.id "
            "join submitted_assignment s on n.assignment_id = s.id join assignment a on s.assignment_id = a.id "
            "join base_cell c on g.cell_id = c.id").fetchall()
    return {(s, a, c): (score, bool(manual)) for s, a, c, score, manual in rows}


def flags_in_gradebook(root: Path) -> dict[tuple[str, str], list[tuple[str, str]]]:
    found: dict = {}
    with sqlite3.connect(root / "gradebook.db") as db:
        for student, module, kind, evidence in db.execute("select student, module, kind, evidence from tito_flags"):
            found.setdefault((student, module), []).append((kind, evidence))
    return {key: sorted(value) for key, value in found.items()}


def students_in_gradebook(root: Path) -> set[str]:
    with sqlite3.connect(root / "gradebook.db") as db:
        return ({row[0] for row in db.execute("select id from student")}
                | {row[0] for row in db.execute("select student_id from submitted_assignment")}
                | {row[0] for row in db.execute("select student from tito_flags")})


def sandbox_processes(supervisor: int, markers: tuple[str, ...] = ()) -> list[str]:
    """uid-65534 processes descending from `supervisor` or outside any sandbox's pid namespace,
    and any process whose command line names a marker (other test workers' sandboxes are
    neither: they descend from their own worker, inside their own pid namespace)."""
    host_ns = os.readlink("/proc/self/ns/pid")
    table: dict[int, tuple[int, int, str]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry.name}/status").read_text()
            cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            uid = int(re.search(r"^Uid:\s+(\d+)", status, re.M)[1])
            ppid = int(re.search(r"^PPid:\s+(\d+)", status, re.M)[1])
        except (OSError, TypeError):
            continue
        table[int(entry.name)] = (uid, ppid, cmdline)
    found = []
    for pid, (uid, ppid, cmdline) in table.items():
        if any(m in cmdline for m in markers):
            found.append(f"{pid} {cmdline}")
            continue
        if uid != SANDBOX_UID:
            continue
        try:
            outside = os.readlink(f"/proc/{pid}/ns/pid") == host_ns
        except OSError:
            continue
        ancestor, seen = ppid, 0
        while ancestor > 1 and ancestor != supervisor and seen < 200:
            ancestor, seen = table.get(ancestor, (0, 0, ""))[1], seen + 1
        if outside or ancestor == supervisor:
            found.append(f"{pid} {cmdline}")
    return found


def wait_clean(supervisor: int, markers: tuple[str, ...], seconds: float = 10.0) -> list[str]:
    deadline = time.monotonic() + seconds
    while (left := sandbox_processes(supervisor, markers)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def executed_outputs(root: Path, kind: cat.Kind) -> str:
    return cat.outputs_text(root / "autograded" / kind.student / kind.module / f"{kind.module}.ipynb")


def tree_digest(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.relative_to(folder).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


# ----------------------------------------------------------------------------- the batch

@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("adversarial")
    root = make_course(base / "course")
    planted = {root / "PLANTED.txt": "planted in the course root\n", base / "PLANTED-parent.txt": "planted above it\n"}
    for path, text in planted.items():
        path.write_text(text)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    marker = f"{4000 + os.getpid() % 1000}.{time.time_ns() % 10**9:09d}"
    ctx = cat.Context(root, marker, listener.getsockname()[1])
    cat.build_honest(ctx)
    cat.build_all(ctx)
    before_root = sorted(p.name for p in root.iterdir())
    before_submitted = tree_digest(root / "submitted")
    saved = {name: os.environ.get(name) for name in HOST_HINTS}
    os.environ.update(HOST_HINTS)  # grading hints on the host: the env-hints attack must not see them
    try:
        started = time.monotonic()
        summary = autograde(root, course.discover(root), workers=2, limits=LIMITS)
        wall = time.monotonic() - started
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    left = wait_clean(os.getpid(), (marker,))
    try:
        connection, _ = listener.accept()
        connected = True
        connection.close()
    except BlockingIOError:
        connected = False
    listener.close()
    return dict(root=root, summary=summary, wall=wall, planted=planted, before_root=before_root,
                before_submitted=before_submitted, left=left, connected=connected, marker=marker)


@pytest.fixture(scope="module")
def honest_alone(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("honest") / "course")
    cat.build_honest(cat.Context(root, "0", 0))
    autograde(root, course.discover(root), workers=2, limits=LIMITS)
    return root


@pytest.mark.slow
@needs_sandbox
def test_every_kind_is_graded_as_expected_and_nothing_else_is_touched(batch, honest_alone):
    root, summary = batch["root"], batch["summary"]
    # the batch completed: every submission (honest and hostile) has a result
    expected = {(k.student, k.module) for k in cat.KINDS} | {(s, m) for s, entries in cat.HONEST.items()
                                                              for m, _, _ in entries}
    assert {(r.student, r.module) for r in summary.graded} == expected
    assert all(load_result(root, s, m) is not None for s, m in expected)

    # each kind's own outcome
    wrong = {}
    for kind in cat.KINDS:
        found = cat.problems(kind, load_result(root, kind.student, kind.module), executed_outputs(root, kind))
        if found:
            wrong[kind.name] = found
    assert wrong == {}

    # no internal grading error hides behind an expected "error" status
    assert not [r.student for r in summary.graded if "internal grading error" in (r.reason or "")]

    # the honest students: identical per-cell scores and flags to a batch without the attackers
    honest = set(cat.HONEST)
    mine = {k: v for k, v in cell_scores(root).items() if k[0] in honest}
    alone = cell_scores(honest_alone)
    assert mine and mine == alone
    assert ({k: v for k, v in flags_in_gradebook(root).items() if k[0] in honest}
            == flags_in_gradebook(honest_alone))

    # the gradebook holds exactly the students who submitted, and their results' scores
    assert students_in_gradebook(root) == {s for s, _ in expected}
    totals: dict = {}
    for (student, module, _), (score, _) in cell_scores(root).items():
        totals[(student, module)] = totals.get((student, module), 0.0) + (score or 0.0)
    assert totals == {(r.student, r.module): r.score for r in summary.graded}

    # the machine is clean: no sandbox process alive, no connection reached the host
    assert batch["left"] == []
    assert not batch["connected"]
    # nothing written outside the scratch area
    for path, text in batch["planted"].items():
        assert path.read_text() == text
    assert not (root / "pwned.txt").exists() and not (root.parent / "pwned.txt").exists()
    assert not Path(f"/tmp/pwned-{batch['marker']}").exists()
    new = set(p.name for p in root.iterdir()) - set(batch["before_root"])
    assert new <= {"autograded", ".tito"}, new
    assert not list((root / ".tito").glob("work-*")), "the run's scratch area was not removed"
    assert tree_digest(root / "submitted") == batch["before_submitted"]
    assert batch["wall"] < 240, f"the batch took {batch['wall']:.0f} s"

    # no feedback page of the batch shows solution or hidden-test text
    assert feedback_leaks(root) == []


# ----------------------------------------------------------------------------- leaks

def fingerprints(root: Path = REPO) -> dict[str, set[str]]:
    """Per module: stripped lines (>= 12 chars) of solution and hidden-test regions that occur
    nowhere outside those regions in any source, nor in the reference of a module the course
    publishes (release/_reference/ ships that code on purpose)."""
    from tito.release import published_modules

    regions = {"### BEGIN SOLUTION": "### END SOLUTION", "### BEGIN HIDDEN TESTS": "### END HIDDEN TESTS"}
    inside: dict[str, set[str]] = {}
    outside: set[str] = {line.strip() for m in published_modules(root, course.discover(root))
                         for line in m.export_target.read_text().splitlines()}
    for source in sorted((root / "source").glob("[0-9][0-9]_*/[0-9][0-9]_*.py")):
        secret, end = inside.setdefault(source.stem, set()), None
        for line in source.read_text().splitlines():
            text = line.strip()
            if end is None and text in regions:
                end = regions[text]
            elif end is not None and text == end:
                end = None
            elif end is not None:
                secret.add(text)
            else:
                outside.add(text)
    return {m: {t for t in lines if len(t) >= 12 and t not in outside} for m, lines in inside.items()}


def leaks_in(text: str, prints: dict[str, set[str]]) -> list[str]:
    """A fingerprint leaks when it is a whole line of `text` (tags removed), or, from 40
    characters on (distinctive enough), anywhere in it. Shorter fragments such as
    `requires_grad=True)` end secret lines and ordinary prose alike."""
    lines = {line.strip() for line in re.sub(r"<[^>]*>", "\n", text).splitlines()} | \
        {line.strip() for line in text.splitlines()}
    return [f"{module}: {line}" for module, secret in prints.items() for line in secret
            if line in lines or (len(line) >= 40 and line in text)]


def notebook_text(path: Path) -> str:
    nb = json.loads(path.read_text())
    parts = []
    for cell in nb.get("cells", []):
        parts.append("".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"])
        parts.append(json.dumps(cell.get("outputs", [])))
    return "\n".join(parts)


@pytest.mark.slow
def test_nothing_under_release_holds_solution_or_hidden_test_text():
    prints = fingerprints()  # a published module's solutions are public: its hidden tests remain
    assert set(prints) == {m.name for m in course.discover(REPO)} and all(prints.values())
    for module in prints:  # the detector is not vacuous: the instructor's source does leak
        assert leaks_in((REPO / "source" / module / f"{module}.py").read_text(), {module: prints[module]})
    leaked = []
    for path in sorted((REPO / "release").rglob("*")):
        if path.is_file():
            text = notebook_text(path) if path.suffix == ".ipynb" else path.read_text(errors="replace")
            leaked += [f"{path.relative_to(REPO)}: {leak}" for leak in leaks_in(text, prints)]
    assert leaked == []


def feedback_leaks(root: Path) -> list[str]:
    from tito.feedback_pages.page import write_all

    pages = write_all(root)
    assert pages
    prints = fingerprints(root)
    leaked = []
    for page in pages:
        text = html.unescape(page.read_text())
        leaked += [f"{page.relative_to(root)}: {leak}" for leak in leaks_in(text, prints)]
    return leaked



# ----------------------------------------------------------------------------- determinism

def every_module_class(ctx: cat.Context) -> None:
    """Each module: correct, nothing written, and its first catalogued bug (failing tests show
    their messages in feedback: the pages most likely to leak)."""
    from tito.synth.bugs import BUGS

    for module in course.discover(ctx.root):
        bug = next((b.name for b in BUGS if b.module == module.name and b.detected), None)
        for student, args in [("det-correct", {}), ("det-stubs", {"profile": "none"}), ("det-bug", {"bug": bug})]:
            if student == "det-bug" and bug is None:
                continue
            cat.write(ctx.root / "submitted" / student / module.name, module.name, cat.filled(ctx, module.name, **args))


def outcome(result) -> tuple:
    return (result.status, result.reason, result.score,
            [(c.grade_id, c.points, c.passed, c.ename, c.evalue, c.stderr) for c in result.cells],
            [(c.name, c.points, c.passed, c.message) for c in result.checks],
            [(f.kind, f.evidence) for f in result.flags])


@pytest.mark.slow
@needs_sandbox
def test_grading_twice_is_identical_records_versions_and_leaks_nothing_in_any_module(tmp_path):
    root = make_course(tmp_path / "course")
    every_module_class(cat.Context(root, "0", 0))
    modules = course.discover(root)
    # the course's real limits: the batch's 3 s cell timeout would make a loaded machine's
    # slow cells (05_autograd's gradient checks) time out in one run and not the other
    first = autograde(root, modules, workers=2)
    scores = cell_scores(root)
    second = autograde(root, modules, workers=2, force=True)
    assert len(first.graded) == len(second.graded) >= 2 * len(modules)
    one = {(r.student, r.module): outcome(r) for r in first.graded}
    two = {(r.student, r.module): outcome(r) for r in second.graded}
    assert one == two
    assert cell_scores(root) == scores
    for result in second.graded:
        assert {"python", "numpy", "nbgrader"} <= set(result.versions)
        assert result.versions["python"] == ".".join(map(str, sys.version_info[:3]))
    assert {r.module for r in first.graded} == {m.name for m in modules}
    assert feedback_leaks(root) == []


# ----------------------------------------------------------------------------- crash safety

def _results(root: Path) -> int:
    return len(list((root / "autograded").glob("*/*/result.json")))


@pytest.mark.slow
@needs_sandbox
def test_sigkill_at_ten_points_then_resume_gives_the_uninterrupted_gradebook(tmp_path):
    from tito.synth.generate import generate_class

    roots = [make_course(tmp_path / name) for name in ("killed", "straight")]
    for root in roots:
        generate_class(root, 6, seed=11, modules=["01_tensor", "02_activations"], mix={"bug": 1, "stubs": 1, "broken": 1})
    killed, straight = roots
    autograde(straight, course.discover(straight), workers=1)

    command = [sys.executable, "-m", "tito", "autograde", "--workers", "1"]
    delays = [0.3, 0.8, 1.5, 2.5, 3.5]  # during start-up, then while grading
    points, attempt = [], 0
    while len(points) < 10 and attempt < 30:
        attempt += 1
        before = _results(killed)
        process = subprocess.Popen(command, cwd=killed, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        # odd attempts: a fixed delay; even ones: right after the next result file appears
        delay = delays[attempt % len(delays)] if attempt % 2 else None
        deadline = time.monotonic() + (delay if delay is not None else 120)
        while time.monotonic() < deadline and process.poll() is None:
            if delay is None and _results(killed) > before:
                break
            time.sleep(0.02)
        if process.poll() is not None:
            break  # it finished: nothing left to interrupt
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        points.append((delay, before, _results(killed)))
    assert len(set(points)) >= 10, points
    final = subprocess.run(command, cwd=killed, capture_output=True, text=True, timeout=600)
    assert final.returncode == 0, final.stderr[-2000:]
    assert cell_scores(killed) == cell_scores(straight)
    assert flags_in_gradebook(killed) == flags_in_gradebook(straight)
    with sqlite3.connect(killed / "gradebook.db") as db:
        assert db.execute("pragma integrity_check").fetchone()[0] == "ok"


@pytest.mark.slow
@needs_sandbox
def test_a_corrupt_or_locked_gradebook_is_refused_and_left_untouched(tmp_path):
    from tito.grade.gradebook import GradebookError

    root = make_course(tmp_path / "course")
    cat.write(root / "submitted" / "someone" / "02_activations", "02_activations",
              cat.filled(cat.Context(root, "0", 0), "02_activations"))
    modules = course.discover(root)
    book = root / "gradebook.db"
    healthy = book.read_bytes()

    # locked: another connection holds an exclusive lock
    holder = sqlite3.connect(book, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(GradebookError, match="locked by another program"):
            autograde(root, modules, workers=1, limits=LIMITS)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert book.read_bytes() == healthy
    assert not (root / "autograded").exists()

    # corrupt: garbage bytes
    garbage = b"SQLite format 3\0" + bytes(range(256)) * 64
    book.write_bytes(garbage)
    with pytest.raises(GradebookError, match="tito will not overwrite it"):
        autograde(root, modules, workers=1, limits=LIMITS)
    assert book.read_bytes() == garbage
    cli = subprocess.run([sys.executable, "-m", "tito", "autograde"], cwd=root, capture_output=True, text=True)
    assert cli.returncode != 0 and "gradebook" in (cli.stderr + cli.stdout) and "Traceback" not in cli.stderr
    assert book.read_bytes() == garbage

    # restored: grading works and writes it
    book.write_bytes(healthy)
    assert autograde(root, modules, workers=1, limits=LIMITS).graded[0].score == cat.FULL


# ----------------------------------------------------------------------------- the security page

def test_the_security_page_holds_the_current_catalogue():
    page = (REPO / "docs" / "security.md").read_text()
    assert cat.BEGIN + "\n" + cat.markdown() + cat.END in page, \
        "docs/security.md is stale: run `python -m tests.adversarial.catalogue --write-docs`"
    assert len(cat.KINDS) >= 30 and len({k.name for k in cat.KINDS}) == len(cat.KINDS)
