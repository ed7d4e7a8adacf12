"""What must never come out of a sandbox, and how to find it however it was encoded.

The secrets of a course, for one submission:
- the reference solution of every module that is not published (the module under grade, and any
  earlier module a course grading against students' own work has not published): the stripped
  lines of its solution regions that occur nowhere outside them (`fingerprints`);
- hidden-test text (`### BEGIN HIDDEN TESTS` regions, should a source still hold one);
- the reference's expected values of the module's cases for that submission's seed
  (`value_prints`: the raw bytes and the printed forms of every float array of 4 or more
  elements, and every distinctive string; anything that occurs in public text is left out);
- the course secret (`.tito/course-secret`): its hex text and its bytes.

Student code can print anything it reads, encoded so that a line-matching redaction cannot see
it: `decode` undoes base64, hex, zlib and reversed lines (of whole text and of each line), a
level deep in whatever it decoded, and joins the numbered pieces an attack sent out one error
message at a time.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tito import course

REGIONS = {"### BEGIN SOLUTION": "### END SOLUTION", "### BEGIN HIDDEN TESTS": "### END HIDDEN TESTS"}
HIDDEN_MARKER = "BEGIN HIDDEN TESTS"
BASE64 = re.compile(rb"[A-Za-z0-9+/]{24,}={0,2}")
HEX = re.compile(rb"(?:[0-9a-fA-F]{2}){16,}")
PIECE = re.compile(r"LEAK (\d+) ([A-Za-z0-9+/=]+)")  # leak_cases_phase.py's numbered pieces
DIGITS = re.compile(r"\d{6}")  # a printed float array worth a fingerprint has a long run of digits


# ----------------------------------------------------------------------------- solutions

def fingerprints(root: Path) -> dict[str, set[str]]:
    """Per module: stripped lines (>= 12 chars) of solution and hidden-test regions that occur
    nowhere outside those regions in any source, nor in the reference of a module the course
    publishes (release/_reference/ ships that code on purpose), nor in the public code every
    sandbox holds (the specs, the case kit and the runner's scripts: `visited.add(id(node))` is
    no secret when the case kit says it too)."""
    from tito.grade.inner import INNER
    from tito.release import published_modules

    inside: dict[str, set[str]] = {}
    public = [target for m in published_modules(root, course.discover(root)) for target in m.export_targets]
    public += sorted((root / "source").glob("*/cases.py")) + sorted(INNER.glob("*.py"))
    outside: set[str] = {line.strip() for path in public for line in path.read_text().splitlines()}
    for source in sorted((root / "source").glob("[0-9][0-9]_*/[0-9][0-9]_*.py")):
        secret, end = inside.setdefault(source.stem, set()), None
        for line in source.read_text().splitlines():
            text = line.strip()
            if end is None and text in REGIONS:
                end = REGIONS[text]
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


# ----------------------------------------------------------------------------- expected values

def submission_answers(root: Path, module: str, student: str, digest: str) -> dict:
    """The reference's answers to `module`'s cases for this submission's seed, asked of the
    oracle exactly as grading does (the same secret, the same seed)."""
    from tito.grade import config
    from tito.grade.oracle import Oracle
    from tito.grade.secret import course_secret, submission_seed

    settings = config.load(root)
    seed = submission_seed(course_secret(settings.secret_file), student, module, digest)
    oracle = Oracle(root)
    try:
        return oracle.answers(course.select(course.discover(root), module)[0], seed)
    finally:
        oracle.close()


def public_text(root: Path, module: str) -> str:
    """What students hold anyway: the release notebook, every spec, the case kit and the value
    pack's code, the published reference."""
    from tito.grade.inner import script
    from tito.release import published_modules

    parts = [(root / "release" / module / f"{module}.ipynb").read_text(), script("casekit.py").read_text(),
             script("valuepack.py").read_text()]
    parts += [p.read_text() for p in sorted((root / "source").glob("*/cases.py"))]
    parts += [target.read_text() for m in published_modules(root, course.discover(root)) for target in m.export_targets]
    return "\n".join(parts)


def value_prints(answers: dict, public: str, shown: set[str] = frozenset()) -> tuple[set[str], set[bytes]]:
    """(strings, byte strings) that identify the expected values of `answers`: for every float
    array of at least 4 elements its raw bytes (as computed, float64 and float32), its repr,
    str, tolist and the grader's one-line form, and each element's repr; every string value of
    8 characters or more. Text fingerprints need a run of 6 digits (a printed random value) or
    are distinctive strings, and none occurs in `public`. Cases in `shown` are left out: a
    public case's mismatch message shows its expected value to the student on purpose."""
    from tito.grade.checks import _show

    strings: set[str] = set()
    raw: set[bytes] = set()
    for key, value in answers["values"].items():
        if key.split("/", 1)[0] in shown:
            continue
        value = np.asarray(value)
        if value.dtype.kind == "f" and value.size >= 4:
            raw |= {value.tobytes(), value.astype(np.float64).tobytes(), value.astype(np.float32).tobytes()}
            printed = {repr(value), str(value), repr(value.tolist()), _show(value),
                       np.array2string(value, separator=", ")} | {repr(float(x)) for x in value.ravel()}
            strings |= {s for s in printed if DIGITS.search(s)}
        elif value.dtype.kind == "U" and len(str(value)) >= 8:
            strings.add(str(value))
    return {s for s in strings if len(s) >= 12 and s not in public}, {b for b in raw if len(set(b)) > 4}


# ----------------------------------------------------------------------------- decoding

def decode(text: str, depth: int = 2) -> tuple[list[str], list[bytes]]:
    """Every reading of `text` an attack could have used: (texts, byte strings). The text as it
    is, reversed, each line reversed; what base64 and hex tokens decode to, and what zlib
    inflates those to (a truncated stream gives what it had); the numbered LEAK pieces joined in
    order; and, `depth` levels down, the same for each decoded text."""
    texts = [text, text[::-1], "\n".join(line[::-1] for line in text.splitlines())]
    data = text.encode("utf-8", "replace")
    blobs: list[bytes] = []
    for match in BASE64.finditer(data):
        token = match.group()
        try:
            blobs.append(base64.b64decode(token + b"=" * (-len(token) % 4)))
        except (binascii.Error, ValueError):
            pass
    for match in HEX.finditer(data):
        token = match.group()
        blobs.append(bytes.fromhex(token[: len(token) // 2 * 2].decode()))
    pieces = {}
    for number, piece in PIECE.findall(text):
        pieces.setdefault(int(number), piece)
    if pieces:
        joined = "".join(pieces[n] for n in sorted(pieces))
        try:
            blobs.append(base64.b64decode(joined + "=" * (-len(joined) % 4)))
        except (binascii.Error, ValueError):
            pass
    inflated = [b for b in map(_inflate, blobs) if b]
    blobs += inflated
    for blob in blobs:
        decoded = blob.decode("utf-8", "replace")
        texts.append(decoded)
        if depth > 1 and (BASE64.search(blob) or HEX.search(blob)):
            more_texts, more_blobs = decode(decoded, depth - 1)
            texts += more_texts[1:]
            blobs += more_blobs
    return texts, blobs


def _inflate(blob: bytes) -> bytes:
    try:
        return zlib.decompressobj().decompress(blob, 64 * 2**20)
    except zlib.error:
        return b""


# ----------------------------------------------------------------------------- the detector

@dataclass
class Detector:
    """Every secret of one submission; `find(text)` names the ones `text` holds, decoded."""

    solutions: dict[str, set[str]] = field(default_factory=dict)  # module -> fingerprint lines
    strings: set[str] = field(default_factory=set)  # expected values, printed
    raw: set[bytes] = field(default_factory=set)  # expected values and the course secret, as bytes
    words: dict[str, str] = field(default_factory=dict)  # other exact strings -> what they are

    @classmethod
    def for_submission(cls, root: Path, module: str, student: str, digest: str, *,
                       shown: set[str] = frozenset()) -> "Detector":
        secret = (root / ".tito" / "course-secret").read_text().strip()
        strings, raw = value_prints(submission_answers(root, module, student, digest), public_text(root, module),
                                    shown)
        raw.add(bytes.fromhex(secret))
        return cls(fingerprints(root), strings, raw,
                   {secret: "the course secret", secret.upper(): "the course secret",
                    HIDDEN_MARKER: "a hidden-test marker"})

    def find(self, text: str) -> list[str]:
        texts, blobs = decode(text)
        found: set[str] = set()
        for view in texts:
            found.update(leaks_in(view, self.solutions))
            found.update(f"expected value {s[:60]!r}" for s in self.strings if s in view)
            found.update(f"{what} ({word[:12]}...)" for word, what in self.words.items() if word in view)
        for blob in blobs:
            found.update(f"expected values or the course secret as bytes ({len(b)} bytes)" for b in self.raw
                         if b in blob)
        return sorted(found)

    def find_bytes(self, data: bytes) -> list[str]:
        """For files: the bytes as they are, and as text."""
        found = {f"{len(b)} raw bytes of expected values or the course secret" for b in self.raw if b in data}
        return sorted(found | set(self.find(data.decode("utf-8", "replace"))))
