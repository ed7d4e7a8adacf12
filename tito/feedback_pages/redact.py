"""Keeping solution lines out of everything a student reads (defense in depth, nbgrader #917).

The feedback page is built from a whitelist of fields, never from cell sources. But a few fields
carry text that student code controls or that grading copied from a run: an assertion's message,
a case's message, a flag's evidence. No solution should be able to reach them: the sandbox of
module k never holds module k's reference, and holds an earlier module's reference only once it
is published (`c.PublishedReference.modules`); the notebooks hold no hidden tests (hidden cases
live in each module's spec, and their messages never show the reference's value). Still, should
a solution reach a sandbox by mistake (a misconfigured course, a grader bug), a submission could
raise an exception whose message is `inspect.getsource(...)` of it. So every such string passes
through `Secrets.redact`, which withholds each line that contains a fingerprint of a solution.

Fingerprints follow the release lint (`tito/lint/rules/leak.py`): the stripped, non-blank lines of
the `### BEGIN SOLUTION` regions of every course source (`source/NN_name/NN_name.py`), at least
12 characters long, that occur nowhere outside those regions in any source (a line the students
can read in their notebook is no secret). Every module counts, not just the one graded, published
ones included: withholding a line the student may also read elsewhere costs little.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MIN_LENGTH = 12
REGION = re.compile(r"^\s*###\s*(?P<kind>BEGIN|END) SOLUTION\s*$")
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


def split_regions(text: str) -> tuple[list[str], list[str]]:
    """(stripped lines inside solution regions, stripped lines outside them), blank lines dropped."""
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
