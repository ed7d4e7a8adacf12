"""`python -m tito.synth`: write a synthetic class, or re-derive the bug catalogue.

    python -m tito.synth --students 40 --seed 0 [--module 05_autograd ...] [--force]
    python -m tito.synth --derive [BUG ...] [--no-demos]
                                                execute each bug (and stub profile) and compare
                                                with the catalogue; exit 1 on any difference
    python -m tito.synth --derive --write       derive everything (notebook and cases) and
                                                rewrite tito/synth/bugs.py's lists in place
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from tito import course
from tito.errors import TitoError

console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
errors = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 200)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tito.synth", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, help="course directory (default: found from the cwd upward)")
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--module", action="append", dest="modules", help="only this module (repeatable)")
    parser.add_argument("--force", action="store_true", help="overwrite files the generator did not write")
    parser.add_argument("--derive", nargs="*", metavar="BUG",
                        help="re-derive the failing cells of every bug (or of the named ones) and stub profile")
    parser.add_argument("--workers", type=int, default=2, help="kernels at a time for --derive")
    parser.add_argument("--write", action="store_true",
                        help="with --derive (of everything): rewrite tito/synth/bugs.py's derived lists in place")
    parser.add_argument("--no-demos", action="store_true",
                        help="--derive without the narrative's demo cells (faster; tests may not depend on them)")
    args = parser.parse_args(argv)
    try:
        root = args.root.resolve() if args.root else course.find_root()
        if args.derive is not None:
            return derive(root, args.derive or None, args.workers, demos=not args.no_demos, write=args.write)
        return generate(root, args)
    except TitoError as error:
        errors.print(f"[red]error:[/red] {error}")
        return 1


def generate(root: Path, args: argparse.Namespace) -> int:
    from tito.synth.generate import MANIFEST, ROSTER, ForeignFiles, generate_class

    try:
        manifest = generate_class(root, args.students, args.seed, args.modules, force=args.force)
    except ForeignFiles as error:
        raise TitoError(f"{error} Use --force to overwrite anyway.") from None
    table = Table("module", "correct", "bug", "stubs", "broken", "late", title=f"synthetic class (seed {args.seed})")
    for module in manifest.modules:
        entries = [manifest.expected(s.id, module) for s in manifest.students]
        kinds = collections.Counter(e.variant for e in entries)
        table.add_row(module, *(str(kinds[v]) for v in ("correct", "bug", "stubs", "broken")),
                      str(sum(e.late for e in entries)))
    console.print(table)
    console.print(f"{len(manifest.students)} students, {len(manifest.entries())} submissions in submitted/; "
                  f"roster in {ROSTER}; expected outcomes in {MANIFEST}")
    return 0


def derive(root: Path, bugs: list[str] | None, workers: int, demos: bool = True, write: bool = False) -> int:
    from tito.synth import bugs as catalogue
    from tito.synth.bugs import BY_NAME, STUB_FAILING_CELLS
    from tito.synth.derive import derive_all, derive_checks, write_catalogue

    unknown = sorted(set(bugs or []) - set(BY_NAME))
    if unknown:
        raise TitoError(f"unknown bug(s): {', '.join(unknown)}")
    if write and bugs:
        raise TitoError("--write rewrites the whole catalogue: derive everything (no bug names)")
    derived = derive_all(root, bugs=bugs, stubs=bugs is None, workers=workers, demos=demos)
    if write:
        cells = {("bug", d.name) if d.kind == "bug" else (d.module, d.name): d.failing_cells for d in derived}
        write_catalogue(Path(catalogue.__file__), cells, derive_checks(root, workers=workers))
        console.print(f"rewrote {Path(catalogue.__file__).name} with the derived lists")
        return 0
    table = Table("module", "bug / stub profile", "failing graded cells (derived)", "catalogue")
    stale = 0
    for found in derived:
        recorded = (BY_NAME[found.name].failing_cells if found.kind == "bug"
                    else STUB_FAILING_CELLS.get((found.module, found.name)))
        same = tuple(recorded or ()) == found.failing_cells and recorded is not None
        stale += not same
        table.add_row(found.module, f"{found.kind}: {found.name}", ", ".join(found.failing_cells) or "(none)",
                      "ok" if same else "[red]differs: " + (", ".join(recorded or ()) or "(none)") + "[/red]")
    console.print(table)
    if stale:
        errors.print(f"[red]{stale} catalogue entr{'y' if stale == 1 else 'ies'} differ[/red]: "
                     "update tito/synth/bugs.py with the derived lists")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
