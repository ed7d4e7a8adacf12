"""leak: no solution or hidden-test text appears anywhere under release/.

Each non-blank line of a solution region (or of a hidden-tests region, which the `spec` rule
forbids in a source anyway) that is long enough to be distinctive and is not public is a
fingerprint. Public is what occurs outside the regions of any
course source (a hidden test's `from tinytorch.core.layers import Dense` is no secret when module
03 shows it), the reference code of the modules the course publishes (nbgrader_config.py,
c.PublishedReference.modules), which `tito release` ships in release/_reference/, and the
modules' checkpoints, which every student runs. Every file under release/ is scanned (notebooks
cell by cell), so a copied `.py`, an output that printed a solution, a stub that failed to clear,
or an unpublished module's reference under release/_reference/ are all caught. `scan` searches
any folder the same way: `tito student-kit` scans the whole kit before it is written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tito.course import Module
from tito.lint.context import ModuleContext
from tito.lint.findings import Finding
from tito.source import grade_id, read_source

RULE = "leak"
MIN_LENGTH = 12
REGION = re.compile(r"^\s*###\s*(?P<kind>BEGIN|END) (?P<what>SOLUTION|HIDDEN TESTS)\s*$")
WHAT = {"SOLUTION": "solution", "HIDDEN TESTS": "hidden-test"}


@dataclass(frozen=True)
class Fingerprint:
    text: str
    cell: int
    grade_id: str | None
    what: str  # "solution" or "hidden-test"


def check(ctx: ModuleContext) -> list[Finding]:
    return scan(ctx, ctx.root / "release")


def scan(ctx: ModuleContext, folder: Path) -> list[Finding]:
    """Every fingerprint of the module found in any file under `folder` (release/, or a whole
    student kit before it is handed out)."""
    prints = fingerprints(ctx)
    if not prints or not folder.is_dir():
        return []
    findings = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        lines = _release_lines(path)
        whole = "\n".join(text for *_, text in lines)
        present = [fp for fp in prints if fp.text in whole]  # most files hold none: skip their lines
        for cell, gid, line, text in lines if present else []:
            findings += [_finding(ctx, path, cell, gid, line, fp) for fp in present if fp.text in text]
    return findings


def fingerprints(ctx: ModuleContext) -> list[Fingerprint]:
    """Distinctive region lines of the source, each with the source cell it came from."""
    inside = [
        Fingerprint(line, index, grade_id(cell), what)
        for index, cell in enumerate(ctx.source.cells)
        for what, line in _classify(cell.source)
        if what
    ]
    public = "\n".join([_public_text(m.source_py, m.source_py.stat().st_mtime_ns) for m in ctx.modules]
                       + [_published_text(target) for m in ctx.published for target in m.export_targets]
                       + [_checkpoints_text(ctx.modules)])
    unique: dict[str, Fingerprint] = {}
    for fp in inside:
        if len(fp.text) >= MIN_LENGTH and fp.text not in public:
            unique.setdefault(fp.text, fp)
    return list(unique.values())


@lru_cache(maxsize=64)
def _public_text(source_py: Path, mtime_ns: int) -> str:
    """The text of a course source outside its solution and hidden-test regions."""
    lines = []
    for cell in read_source(source_py).cells:
        lines += [line for what, line in _classify(cell.source) if what is None]
    return "\n".join(lines)


def _published_text(target: Path) -> str:
    """A published module's reference code (one of its export targets), public by the instructor's choice."""
    return target.read_text(encoding="utf-8") if target.is_file() else ""


def _checkpoints_text(modules: list[Module]) -> str:
    """The modules' checkpoints (`Module.checkpoint_py`): public tests students run, so a line one
    of them shares with a hidden test (`x = rng.standard_normal((5, 4))...`) tells nothing."""
    files = sorted({m.checkpoint_py for m in modules if m.checkpoint_py})
    return "\n".join(p.read_text(encoding="utf-8") for p in files)


def _classify(source: str) -> list[tuple[str | None, str]]:
    """(region kind or None, stripped line) for each non-blank, non-marker line."""
    lines, current = [], None
    for raw in source.splitlines():
        match = REGION.match(raw)
        if match:
            current = WHAT[match["what"]] if match["kind"] == "BEGIN" else None
        elif raw.strip():
            lines.append((current, raw.strip()))
    return lines


def _release_lines(path: Path) -> list[tuple[int | None, str | None, int, str]]:
    """(cell, grade_id, line, text) of a release file: notebooks per cell, other files per line."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".ipynb":
        try:
            return _notebook_lines(json.loads(text))
        except (ValueError, AttributeError, TypeError):
            pass  # not a notebook after all: scan it as text
    return [(None, None, n, line) for n, line in enumerate(text.splitlines(), start=1)]


def _notebook_lines(nb: dict) -> list[tuple[int | None, str | None, int, str]]:
    """Cell sources and text outputs, line by line."""
    lines = []
    for index, cell in enumerate(nb.get("cells", [])):
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        texts = [_joined(cell.get("source", ""))] + [_output_text(o) for o in cell.get("outputs", [])]
        for text in texts:
            lines += [(index, gid, n, line) for n, line in enumerate(text.splitlines(), start=1)]
    return lines


def _joined(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _output_text(output: dict) -> str:
    parts = [_joined(output.get("text", ""))]
    parts += [_joined(v) for v in output.get("data", {}).values() if isinstance(v, (str, list))]
    parts += [output.get("evalue", "")] + list(output.get("traceback", []))
    return "\n".join(str(p) for p in parts)


def _finding(ctx: ModuleContext, path: Path, cell, gid, line: int, fp: Fingerprint) -> Finding:
    lines = ctx.source.cells[fp.cell].source.splitlines()
    line_in_cell = next((n for n, text in enumerate(lines, start=1) if text.strip() == fp.text), None)
    source = (f"{ctx.source_file}:{ctx.source_line(fp.cell, line_in_cell)} (cell {fp.cell}"
              + (f", {fp.grade_id})" if fp.grade_id else ")"))
    message = f"{fp.what} text from {source} leaked: {fp.text!r}"
    return Finding(RULE, ctx.module.name, ctx.module.rel(path), cell, gid, line, message)
