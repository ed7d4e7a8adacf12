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
from tito.grade import run_lock
from tito.grade.run import autograde, load_result
from tito.grade.sandbox import SANDBOX_UID, Limits, Sandbox

from . import catalogue as cat
from . import secrets
from .secrets import leaks_in

REPO = Path(__file__).resolve().parents[2]
MISSING = Sandbox.missing_layers()
needs_sandbox = pytest.mark.skipif(bool(MISSING), reason="this machine cannot sandbox student code")
LIMITS = Limits(cell_timeout=3.0, notebook_timeout=60.0, memory_bytes=2**30)
HOST_HINTS = {"NBGRADER_EXECUTION": "autograde", "TITO_GRADING_HINT": "the answer is 42"}


def make_course(dest: Path, published: tuple[str, ...] = (), earlier_modules: str = "published") -> Path:
    """A copy of the course with its release and gradebook (what `make release` leaves), whose
    config publishes the reference of `published` and grades against `earlier_modules` (grading
    a module needs its earlier modules: published, or the student's own)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("source", "release", "tinytorch"):
        shutil.copytree(REPO / name, dest / name, ignore=shutil.ignore_patterns("*.ipynb") if name == "source" else None)
    config = (REPO / "nbgrader_config.py").read_text()
    (dest / "nbgrader_config.py").write_text(
        config + "\n# the test's course\n"
        f"c.PublishedReference.modules = {list(published)!r}\nc.Grading.earlier_modules = {earlier_modules!r}\n")
    subprocess.run([sys.executable, "-m", "tito", "release"], cwd=dest, check=True, capture_output=True)
    return dest


def make_catalogue_course(dest: Path, name: str = "main") -> Path:
    return make_course(dest, cat.COURSES[name]["published"], cat.COURSES[name]["earlier_modules"])


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


def twin_result(root: Path, kind: cat.Kind):
    return load_result(root, kind.base.twin, kind.base.module) if kind.expect.twin and kind.base else None


def tree_digest(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.relative_to(folder).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


# ----------------------------------------------------------------------------- the batch

@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("adversarial")
    root = make_catalogue_course(base / "course")
    secrets_root = make_catalogue_course(base / "secrets", "secrets")
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
    cat.build_all(cat.Context(secrets_root, marker, 0, course="secrets"))
    before_root = sorted(p.name for p in root.iterdir())
    before_submitted = tree_digest(root / "submitted")
    saved = {name: os.environ.get(name) for name in HOST_HINTS}
    os.environ.update(HOST_HINTS)  # grading hints on the host: the env-hints attack must not see them
    try:
        started = time.monotonic()
        summary = autograde(root, course.discover(root), workers=2, limits=LIMITS)
        wall = time.monotonic() - started
        secrets_modules = course.discover(secrets_root)
        secrets_summary = autograde(secrets_root, secrets_modules, workers=2, limits=LIMITS,
                                    selected=course.select(secrets_modules, "03_layers"))
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
                before_submitted=before_submitted, left=left, connected=connected, marker=marker,
                roots={"main": root, "secrets": secrets_root}, secrets_summary=secrets_summary)


@pytest.fixture(scope="module")
def honest_alone(tmp_path_factory):
    root = make_catalogue_course(tmp_path_factory.mktemp("honest") / "course")
    cat.build_honest(cat.Context(root, "0", 0))
    autograde(root, course.discover(root), workers=2, limits=LIMITS)
    return root


@pytest.mark.slow
@needs_sandbox
def test_every_kind_is_graded_as_expected_and_nothing_else_is_touched(batch, honest_alone):
    root, summary = batch["root"], batch["summary"]
    # the batch completed: every submission (honest, hostile, twin) has a result
    expected = cat.expected_submissions("main")
    assert {(r.student, r.module) for r in summary.graded} == expected
    assert all(load_result(root, s, m) is not None for s, m in expected)
    assert ({(r.student, r.module) for r in batch["secrets_summary"].graded}
            == cat.expected_submissions("secrets"))

    # each kind's own outcome (a twin kind: its twin's, cell by cell)
    wrong = {}
    for kind in cat.KINDS:
        where = batch["roots"][kind.course]
        found = cat.problems(kind, load_result(where, kind.student, kind.module), executed_outputs(where, kind),
                             twin_result(where, kind))
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
    assert new <= {"autograded", ".tito", run_lock.sqlite_lock_file(root / "gradebook.db").name}, new
    assert not list((root / ".tito").glob("work-*")), "the run's scratch area was not removed"
    assert tree_digest(root / "submitted") == batch["before_submitted"]
    assert batch["wall"] < 240, f"the batch took {batch['wall']:.0f} s"

    # no feedback page of the batch shows solution or hidden-test text
    assert feedback_leaks(root) == []


def notebook_everything(path: Path) -> str:
    """The executed notebook's sources and every output, each text field as plain text."""
    try:
        nb = json.loads(path.read_text())
    except (OSError, ValueError):
        return ""
    parts = []
    for cell in nb.get("cells", []):
        parts.append("".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"])
        for output in cell.get("outputs", []):
            parts.append(json.dumps(output))
            fields = [output.get("text"), *(output.get("data") or {}).values()]
            parts += ["".join(f) if isinstance(f, list) else str(f) for f in fields if f]
            parts.append("\n".join(output.get("traceback") or []))
    return "\n".join(parts)


@pytest.mark.slow
@needs_sandbox
def test_no_secret_comes_out_in_any_encoding(batch):
    """The secrets kinds (in a course whose 02_activations is unpublished and stands in from the
    student's own work): decoded every way they encoded it, neither the executed notebook nor the
    feedback page holds a line of an unpublished reference (03_layers, 02_activations, ...), a
    hidden-test marker, the reference's expected values for that submission's seed, or the course
    secret. Each attack ran to its end, and the decoding sees what it sent out."""
    from tito.feedback_pages.page import write_feedback

    root = batch["roots"]["secrets"]
    kinds = [k for k in cat.KINDS if k.expect.secrets]
    assert len(kinds) >= 6
    leaked, blind = {}, []
    for kind in kinds:
        result = load_result(root, kind.student, kind.module)
        assert result is not None and result.status == "graded", kind.name
        shown = {c.name for c in result.checks if not c.hidden and "expected " in c.message}
        detector = secrets.Detector.for_submission(root, kind.module, kind.student, result.digest, shown=shown)
        assert detector.solutions["03_layers"] and detector.solutions["02_activations"] and detector.strings
        executed = notebook_everything(root / "autograded" / kind.student / kind.module / f"{kind.module}.ipynb")
        page = html.unescape(write_feedback(root, result).read_text())
        found = detector.find(executed) + detector.find(page)
        if found:
            leaked[kind.name] = found[:10]
        if kind.expect.decoded:
            texts, _ = secrets.decode(executed + "\n" + page)
            if not any(kind.expect.decoded in view for view in texts[1:]):
                blind.append(kind.name)
    assert leaked == {}
    assert blind == [], "the decoding did not see what these attacks sent out"


# ----------------------------------------------------------------------------- leaks

def fingerprints(root: Path = REPO) -> dict[str, set[str]]:
    return secrets.fingerprints(root)


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
    from tito.synth.bugs import bugs_of

    for module in course.discover(ctx.root):
        bug = next((b.name for b in bugs_of(module) if b.detected), None)
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
    root = make_course(tmp_path / "course", earlier_modules="student")  # nothing published: every
    every_module_class(cat.Context(root, "0", 0))                      # reference is a secret
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

    roots = [make_course(tmp_path / name, ("01_tensor",)) for name in ("killed", "straight")]
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

    root = make_course(tmp_path / "course", ("01_tensor",))
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
    categories = [k.category for k in cat.KINDS]
    assert categories.count("forgery") >= 10 and categories.count("secrets") >= 6
    for kind in cat.KINDS:  # a forgery's expectation is computed (its twin's), never typed
        assert kind.category != "forgery" or (kind.expect.twin and kind.expect.score is None and kind.base)
        assert kind.category != "secrets" or (kind.expect.secrets and kind.course == "secrets" and kind.expect.ran)
