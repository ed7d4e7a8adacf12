"""`python -m tito.synth`: write a synthetic class, or re-derive the bug catalogue.

    python -m tito.synth --students 40 --seed 0 [--module 05_autograd ...] [--force]
    python -m tito.synth --derive [BUG ...] [--module M ...] [--no-demos]
                                                execute each bug (and stub profile) and compare
                                                with the modules' bugs.py; exit 1 on any difference
    python -m tito.synth --derive --write [--module M ...]
                                                derive everything (notebook and cases) of every
                                                module (or of M) and rewrite source/M/bugs.py's lists
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
    parser.add_argument("--module", action="append", dest="modules",
                        help="only this module (repeatable); with --derive, its bugs and stub profiles")
    parser.add_argument("--force", action="store_true", help="overwrite files the generator did not write")
    parser.add_argument("--derive", nargs="*", metavar="BUG",
                        help="re-derive the failing cells of every bug (or of the named ones) and stub profile")
    parser.add_argument("--workers", type=int, default=2, help="kernels at a time for --derive")
    parser.add_argument("--write", action="store_true",
                        help="with --derive (of all bugs): rewrite the derived lists of each module's bugs.py")
    parser.add_argument("--no-demos", action="store_true",
                        help="--derive without the narrative's demo cells (faster; tests may not depend on them)")
    args = parser.parse_args(argv)
    try:
        root = args.root.resolve() if args.root else course.find_root()
        if args.derive is not None:
            modules = [m for name in args.modules or [] for m in course.select(course.discover(root), name)]
            return derive(root, args.derive or None, modules or None, args.workers, demos=not args.no_demos,
                          write=args.write)
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


def derive(root: Path, bugs: list[str] | None, modules: list[course.Module] | None, workers: int,
           demos: bool = True, write: bool = False) -> int:
    from tito.synth.bugs import catalogue
    from tito.synth.derive import derive_all, derive_checks, write_bugs

    chosen = modules or course.discover(root)
    known = catalogue(chosen)
    unknown = sorted(set(bugs or []) - set(known.by_name))
    if unknown:
        raise TitoError(f"unknown bug(s): {', '.join(unknown)} (not in the bugs.py of {', '.join(m.name for m in chosen)})")
    if write and bugs:
        raise TitoError("--write rewrites whole bugs.py files: derive every bug (no bug names; --module to narrow)")
    derived = derive_all(root, modules=chosen, bugs=bugs, stubs=bugs is None, workers=workers, demos=demos)
    if write:
        cells = {("bug", d.name) if d.kind == "bug" else (d.module, d.name): d.failing_cells for d in derived}
        checks = derive_checks(root, modules=chosen, workers=workers)
        for module in chosen:
            console.print(f"rewrote {module.rel(write_bugs(module, cells, checks))} with the derived lists")
        return 0
    table = Table("module", "bug / stub profile", "failing graded cells (derived)", "recorded")
    stale = 0
    for found in derived:
        recorded = (known.by_name[found.name].failing_cells if found.kind == "bug"
                    else known.stub_failing_cells.get((found.module, found.name)))
        same = tuple(recorded or ()) == found.failing_cells and recorded is not None
        stale += not same
        table.add_row(found.module, f"{found.kind}: {found.name}", ", ".join(found.failing_cells) or "(none)",
                      "ok" if same else "[red]differs: " + (", ".join(recorded or ()) or "(none)") + "[/red]")
    console.print(table)
    if stale:
        files = sorted({chosen_module.rel(chosen_module.bugs_py) for chosen_module in chosen})
        errors.print(f"[red]{stale} recorded list{'' if stale == 1 else 's'} differ[/red]: "
                     f"`python -m tito.synth --derive --write` rewrites {', '.join(files)}")
    return 1 if stale else 0

if __name__ == "__main__":
    sys.exit(main())
