"""Keeping hidden tests and solutions out of everything a student reads (nbgrader #917).

The feedback page is built from a whitelist of fields, never from cell sources. But a few fields
carry text that student code controls or that grading copied from a notebook: an assertion's
message, a checkpoint message, a flag's evidence. A submission can raise an exception whose
message is `inspect.getsource(...)` of a hidden test, or of the reference package of an earlier
module that the sandbox holds. So every such string passes through `Secrets.redact`, which
withholds each line that contains a fingerprint of course secrets.

Fingerprints follow the release lint (`tito/lint/rules/leak.py`): the stripped, non-blank lines of
the `### BEGIN SOLUTION` and `### BEGIN HIDDEN TESTS` regions of every course source, at least
12 characters long, that occur nowhere outside those regions in any source (a line the students
can read in their notebook is no secret). All modules count, not just the one graded: the sandbox
of module k holds the reference of modules < k.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MIN_LENGTH = 12
REGION = re.compile(r"^\s*###\s*(?P<kind>BEGIN|END) (?P<what>SOLUTION|HIDDEN TESTS)\s*$")
WITHHELD = "[line withheld: it quotes course material that is not part of your notebook]"


@dataclass(frozen=True)
class Secrets:
    fingerprints: frozenset[str] = frozenset()

    def redact(self, text: str | None) -> str:
        """`text` with every line that contains a fingerprint replaced by a notice."""
        if not text:
            return text or ""
        if not self.fingerprints or not any(fp in text for fp in self.fingerprints):
            return text
        lines = [WITHHELD if any(fp in line for fp in self.fingerprints) else line for line in text.splitlines()]
        return "\n".join(lines)

    def leaks(self, text: str) -> list[str]:
        """The fingerprints that occur in `text` (what a test asserts is empty)."""
        return sorted(fp for fp in self.fingerprints if fp in text)


def split_regions(text: str) -> tuple[list[str], list[str]]:
    """(stripped lines inside solution/hidden-test regions, stripped lines outside them)."""
    inside, outside, current = [], [], False
    for raw in text.splitlines():
        match = REGION.match(raw)
        if match:
            current = match["kind"] == "BEGIN"
            continue
        line = raw.strip()
        if line:
            (inside if current else outside).append(line)
    return inside, outside


def course_secrets(root: Path) -> Secrets:
    """The fingerprints of every `source/NN_name/NN_name.py` under `root` (none if no sources)."""
    sources = sorted((root / "source").glob("*/*.py")) if (root / "source").is_dir() else []
    sources = [p for p in sources if p.stem == p.parent.name]
    key = tuple((str(p.resolve()), p.stat().st_mtime_ns) for p in sources)
    return _secrets(key)


@lru_cache(maxsize=8)
def _secrets(key: tuple[tuple[str, int], ...]) -> Secrets:
    inside, public = [], []
    for path, _ in key:
        regions, outside = split_regions(Path(path).read_text(encoding="utf-8"))
        inside += regions
        public += outside
    public_text = "\n".join(public)
    prints = {line for line in inside if len(line) >= MIN_LENGTH and line not in public_text}
    return Secrets(frozenset(prints))
