"""A synthetic class: N students' submissions for every module, each with its expected outcome.

Deterministic: the same (students, seed, modules, mix) writes byte-identical files. Writes

    submitted/<student>/<module>/<module>.ipynb + timestamp.txt   (nbgrader's layout and format)
    roster.csv                                                     id,first_name,last_name,email
    synthetic_class.json                                           the manifest (below)

The manifest maps student -> module -> expected outcome (variant, bug, failing graded cells,
failing checks, status, lateness) and lists every file the generator wrote with its sha256. That
list is what makes a re-run safe: the generator only writes into an empty submitted/ or one that
holds nothing but its own unchanged files, unless forced.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import random
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import nbformat

from tito import course
from tito.errors import TitoError
from tito.source import grade_id, is_graded_test
from tito.synth.bugs import STUB_PROFILES, bugs_of, stubs_of
from tito.synth.names import FIRST_NAMES, LAST_NAMES
from tito.synth.notebook import release_notebook
from tito.synth.variants import submission

MANIFEST = "synthetic_class.json"
ROSTER = "roster.csv"
FORMAT = 1
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"  # nbgrader's Exchange.timestamp_format
FIRST_DUE = datetime(2026, 9, 11, 23, 59, 59, tzinfo=timezone.utc)  # module 01; one every two weeks
VARIANTS = ("correct", "bug", "stubs", "broken")
BROKEN_KINDS = ("invalid-json", "truncated", "empty")
BROKEN_REASONS = {
    "invalid-json": "not valid JSON (a merge conflict left in the file)",
    "truncated": "not valid JSON (the file is cut off)",
    "empty": "the file is empty",
}
# fractions (float) of all submissions, or absolute counts (int); "correct" is the rest.
# late: that many correct or buggy submissions get a timestamp after the module's due date.
# The default has 3 broken files (one of each kind) in a class of 120 submissions or more, fewer
# in a smaller one.
DEFAULT_MIX: dict[str, float | int] = {"bug": 0.30, "stubs": 0.10, "late": 0.03, "broken": 3}
ALL = "*"


@dataclass(frozen=True)
class Student:
    id: str
    first_name: str
    last_name: str
    email: str


@dataclass
class Expected:
    """What grading should find for one synthetic submission."""

    student: str
    module: str
    variant: str  # correct | bug | stubs | broken
    bug: str | None = None
    profile: str | None = None  # stubs: "none" | "first-half"; broken: invalid-json | truncated | empty
    expected_failed_cells: list[str] = field(default_factory=list)  # grade_ids, notebook order
    expected_failed_checks: list[str] | None = None  # case names; ["*"] all; None not determined
    expected_status: str = "graded"  # graded | error
    late: bool = False
    timestamp: str | None = None
    due: str | None = None
    reason: str | None = None  # broken: what is wrong with the file


@dataclass
class ClassManifest:
    seed: int
    students: list[Student]
    modules: list[str]
    due_dates: dict[str, str]
    mix: dict[str, int]  # the counts actually used
    submissions: dict[str, dict[str, Expected]]
    files: dict[str, str] = field(default_factory=dict)  # course-relative path -> sha256

    def expected(self, student: str, module: str) -> Expected:
        try:
            return self.submissions[student][module]
        except KeyError:
            raise KeyError(f"no synthetic submission for {student}/{module}") from None

    def entries(self) -> list[Expected]:
        return [e for per_module in self.submissions.values() for e in per_module.values()]

    def to_json(self) -> dict:
        return {
            "generator": "tito.synth",
            "format": FORMAT,
            "seed": self.seed,
            "modules": self.modules,
            "due_dates": self.due_dates,
            "mix": self.mix,
            "students": [asdict(s) for s in self.students],
            "submissions": {s: {m: _entry_json(e) for m, e in per.items()} for s, per in self.submissions.items()},
            "files": self.files,
        }

    @classmethod
    def from_json(cls, data: dict) -> "ClassManifest":
        if data.get("generator") != "tito.synth":
            raise TitoError(f"{MANIFEST}: not written by tito.synth")
        submissions = {s: {m: Expected(student=s, module=m, **e) for m, e in per.items()}
                       for s, per in data["submissions"].items()}
        return cls(data["seed"], [Student(**s) for s in data["students"]], data["modules"], data["due_dates"],
                   data["mix"], submissions, data.get("files", {}))

    @classmethod
    def load(cls, root: Path) -> "ClassManifest":
        path = root / MANIFEST
        try:
            return cls.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise TitoError(f"{path}: cannot read the synthetic class manifest: {error}") from error


def _entry_json(entry: Expected) -> dict:
    data = asdict(entry)
    del data["student"], data["module"]
    return data


def due_date(module: course.Module) -> datetime:
    return FIRST_DUE + timedelta(days=14 * (module.number - 1))


def format_timestamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(TIMESTAMP_FORMAT)


# ----------------------------------------------------------------------------------------------
# the class


def generate_class(root: Path, students: int, seed: int, modules: list | None = None,
                   mix: dict | None = None, *, force: bool = False) -> ClassManifest:
    """Write the synthetic class into `root` (see the module docstring) and return its manifest.

    `modules`: module names (or Module objects); default every module. `mix`: see DEFAULT_MIX.
    Refuses (TitoError) to touch a submitted/ or roster.csv it did not write, unless `force`.
    """
    root = Path(root).resolve()
    if students < 1:
        raise TitoError("a class needs at least one student")
    chosen = _modules(root, modules)
    previous = check_writable(root, force=force)
    rng = random.Random(seed)
    roster = make_roster(students, rng)
    counts = resolve_mix(mix, students * len(chosen))
    plan = _plan(rng, roster, chosen, counts)

    files: dict[str, bytes] = {}
    for entry in plan:
        module = next(m for m in chosen if m.name == entry.module)
        folder = f"submitted/{entry.student}/{module.name}"
        files[f"{folder}/{module.name}.ipynb"] = _notebook_bytes(module, entry)
        files[f"{folder}/timestamp.txt"] = entry.timestamp.encode()
    files[ROSTER] = roster_csv(roster)

    manifest = ClassManifest(
        seed=seed, students=roster, modules=[m.name for m in chosen],
        due_dates={m.name: format_timestamp(due_date(m)) for m in chosen},
        mix=counts, submissions={},
        files={path: hashlib.sha256(data).hexdigest() for path, data in sorted(files.items())},
    )
    for entry in plan:
        manifest.submissions.setdefault(entry.student, {})[entry.module] = entry
    _remove_previous(root, previous, keep=set(files))
    for path, data in files.items():
        _write(root / path, data)
    _write(root / MANIFEST, (json.dumps(manifest.to_json(), indent=1, ensure_ascii=False) + "\n").encode())
    return manifest


def _modules(root: Path, modules: list | None) -> list[course.Module]:
    everything = course.discover(root)
    if not everything:
        raise TitoError(f"{root}/source: no modules")
    if modules is None:
        return everything
    names = [m.name if isinstance(m, course.Module) else str(m) for m in modules]
    chosen = [m for name in names for m in course.select(everything, name)]
    return sorted({m.name: m for m in chosen}.values(), key=lambda m: m.number)


def resolve_mix(mix: dict | None, total: int) -> dict[str, int]:
    """Counts per variant (and of late submissions) for `total` submissions."""
    wanted = dict(DEFAULT_MIX if mix is None else mix)
    if mix is None:
        wanted["broken"] = min(DEFAULT_MIX["broken"], total // 40)
    unknown = set(wanted) - {"bug", "stubs", "late", "broken"}
    if unknown:
        raise TitoError(f"mix: unknown key(s) {', '.join(sorted(unknown))} (use bug, stubs, late, broken; "
                        "correct is the rest)")
    counts = {}
    for key in ("bug", "stubs", "broken", "late"):
        value = wanted.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise TitoError(f"mix: {key} must be a count (int) or a fraction (float in [0, 1]), got {value!r}")
        if isinstance(value, float):
            if value > 1:
                raise TitoError(f"mix: {key}={value} is not a fraction in [0, 1]")
            value = round(value * total)
        counts[key] = int(value)
    counts["correct"] = total - counts["bug"] - counts["stubs"] - counts["broken"]
    if counts["correct"] < 0:
        raise TitoError(f"mix: bug + stubs + broken = {total - counts['correct']} is more than the "
                        f"{total} submissions")
    if counts["late"] > counts["correct"] + counts["bug"]:
        raise TitoError(f"mix: {counts['late']} late submissions but only "
                        f"{counts['correct'] + counts['bug']} correct or buggy ones")
    return {k: counts[k] for k in ("correct", "bug", "stubs", "broken", "late")}


def _plan(rng: random.Random, roster: list[Student], modules: list[course.Module],
          counts: dict[str, int]) -> list[Expected]:
    """Decide every submission's variant, bug or profile, lateness and timestamp."""
    pairs = [(s.id, m) for s in roster for m in modules]
    order = list(range(len(pairs)))
    rng.shuffle(order)
    variants = (["broken"] * counts["broken"] + ["stubs"] * counts["stubs"] + ["bug"] * counts["bug"]
                + ["correct"] * counts["correct"])
    chosen = {index: variant for index, variant in zip(order, variants)}
    gradable = [i for i in order if chosen[i] in ("correct", "bug")]
    late = set(rng.sample(sorted(gradable), counts["late"]))
    next_bug = {m.name: rng.randrange(max(len(bugs_of(m)), 1)) for m in modules}
    broken_turn = rng.randrange(len(BROKEN_KINDS))

    plan = []
    for index, (student, module) in enumerate(pairs):
        variant = chosen[index]
        entry = Expected(student, module.name, variant)
        graded = _graded_cells(module)
        if variant == "bug" and not bugs_of(module):
            variant = entry.variant = "correct"  # a module without bugs (no bugs.py)
        if variant == "bug":
            catalogue = bugs_of(module)
            bug = catalogue[next_bug[module.name] % len(catalogue)]
            next_bug[module.name] += 1
            entry.bug = bug.name
            entry.expected_failed_cells = list(bug.failing_cells)
            entry.expected_failed_checks = None if bug.failing_checks is None else list(bug.failing_checks)
        elif variant == "correct":
            entry.expected_failed_checks = []
        elif variant == "stubs":
            entry.profile = rng.choice(STUB_PROFILES)
            derived = stubs_of(module, entry.profile)
            entry.expected_failed_cells = list(graded if derived.failing_cells is None else derived.failing_cells)
            entry.expected_failed_checks = list([ALL] if derived.failing_checks is None else derived.failing_checks)
        else:
            entry.profile = BROKEN_KINDS[broken_turn % len(BROKEN_KINDS)]
            broken_turn += 1
            entry.expected_status = "error"
            entry.expected_failed_cells = list(graded)
            entry.expected_failed_checks = [ALL]
            entry.reason = BROKEN_REASONS[entry.profile]
        due = due_date(module)
        entry.late = index in late
        offset = (timedelta(minutes=rng.randint(10, 3 * 24 * 60)) if entry.late
                  else -timedelta(minutes=rng.randint(1, 6 * 24 * 60)))
        moment = due + offset + timedelta(seconds=rng.randint(0, 59), microseconds=rng.randint(0, 999_999))
        entry.timestamp, entry.due = format_timestamp(moment), format_timestamp(due)
        plan.append(entry)
    return plan


def _graded_cells(module: course.Module) -> tuple[str, ...]:
    return tuple(grade_id(c) for c in release_notebook(module).cells if is_graded_test(c))


def _notebook_bytes(module: course.Module, entry: Expected) -> bytes:
    if entry.variant == "stubs":
        notebook = submission(module, profile=entry.profile)
    else:
        notebook = submission(module, bug=entry.bug)
    text = nbformat.writes(notebook)
    text = text if text.endswith("\n") else text + "\n"
    if entry.variant != "broken":
        return text.encode("utf-8")
    if entry.profile == "empty":
        return b""
    if entry.profile == "truncated":
        return text.encode("utf-8")[: len(text) * 3 // 5]
    # a merge conflict resolved by nobody: git's markers in the middle of the JSON
    lines = text.splitlines(keepends=True)
    middle = len(lines) // 2
    conflict = ["<<<<<<< HEAD\n", *lines[middle:middle + 3], "=======\n", *lines[middle:middle + 3],
                ">>>>>>> origin/main\n"]
    return "".join(lines[:middle] + conflict + lines[middle + 3:]).encode("utf-8")


# ----------------------------------------------------------------------------------------------
# the roster


def make_roster(count: int, rng: random.Random) -> list[Student]:
    """`count` students s001... with distinct names drawn from the fixed lists."""
    width = max(3, len(str(count)))
    pairs = [(f, l) for f in FIRST_NAMES for l in LAST_NAMES]
    if count > len(pairs):
        raise TitoError(f"at most {len(pairs)} synthetic students (the name lists are small)")
    chosen = rng.sample(pairs, count)
    emails: set[str] = set()
    roster = []
    for number, (first, last) in enumerate(chosen, 1):
        local = f"{ascii_name(first)}.{ascii_name(last)}"
        email, suffix = f"{local}@students.example.edu", 2
        while email in emails:  # ascii folding may collide
            email, suffix = f"{local}{suffix}@students.example.edu", suffix + 1
        emails.add(email)
        roster.append(Student(f"s{number:0{width}d}", first, last, email))
    return roster


def ascii_name(name: str) -> str:
    """Lowercase ASCII letters only: 'Zoë' -> 'zoe', "O'Brien" -> 'obrien', 'García-López' -> 'garcialopez'."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def roster_csv(roster: list[Student]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "first_name", "last_name", "email"])
    for s in roster:
        writer.writerow([s.id, s.first_name, s.last_name, s.email])
    return out.getvalue().encode("utf-8")


# ----------------------------------------------------------------------------------------------
# never overwrite real data


class ForeignFiles(TitoError):
    """submitted/ or roster.csv holds files the generator did not write; the caller names the remedy
    (`tito synth --force`, `tito demo --rebuild`)."""


def check_writable(root: Path, *, force: bool = False) -> ClassManifest | None:
    """The previous synthetic manifest (or None); TitoError if submitted/ or roster.csv holds
    anything the generator did not write (a real submission, an edited file), unless `force`."""
    try:
        previous = ClassManifest.load(root) if (root / MANIFEST).is_file() else None
    except TitoError:
        if not force:
            raise
        previous = None  # forced: an unreadable manifest protects nothing
    known = previous.files if previous else {}
    foreign = []
    submitted = root / "submitted"
    present = sorted(p for p in submitted.rglob("*") if p.is_file()) if submitted.is_dir() else []
    if (root / ROSTER).is_file():
        present.append(root / ROSTER)
    for path in present:
        rel = path.relative_to(root).as_posix()
        if known.get(rel) != _sha256(path):
            foreign.append(rel)
    if foreign and not force:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise ForeignFiles(f"{root}: refusing to overwrite files the generator did not write ({shown}); "
                           "they may be real submissions.")
    return previous


def _remove_previous(root: Path, previous: ClassManifest | None, keep: set[str]) -> None:
    """Delete the previous run's files that this run does not write again (and emptied folders)."""
    if previous is None:
        return
    for rel in sorted(set(previous.files) - keep):
        path = root / rel
        if path.is_file():
            path.unlink()
        for parent in path.parents:
            if parent == root or not parent.is_dir() or any(parent.iterdir()):
                break
            parent.rmdir()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
