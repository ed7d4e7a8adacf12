"""Try a module's spec while writing it: `python -m tito.grade.try_cases 02_activations`.

Runs the module's cases, sandboxed as grading runs them, on the solution, on every stub profile
and on every bug of the synthetic class, under several seeds, and prints which graded cells'
cases disagree with the reference for each. A spec is sound when the solution agrees under every
seed, each stub profile fails the cells whose functions it leaves empty, and each bug is caught
by the same cells under every seed (a case that catches a bug only for some inputs makes grades
depend on luck).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tito import course
from tito.build.partial import partial_reference
from tito.grade import config as grading_config
from tito.grade.checks import run_checks
from tito.grade.oracle import Oracle
from tito.grade.sandbox import Sandbox
from tito.synth.bugs import STUB_PROFILES, bugs_of
from tito.synth.variants import submission


def failing_cells(module, notebook, *, oracle, sandbox, lib: Path, seed: int,
                  timeout: float) -> tuple[set[str], list[str]]:
    """(the graded cells with a disagreeing case, one line per disagreeing case)."""
    with tempfile.TemporaryDirectory(prefix="tito-try-") as scratch:
        results, _ = run_checks(module, notebook, sandbox=sandbox, scratch=Path(scratch), partial_lib=lib,
                                oracle=oracle, seed=seed, timeout=timeout)
    failed = [r for r in results if not r.passed]
    return {r.cell for r in failed}, [f"{r.cell} {r.name}: {r.message}" for r in failed]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tito.grade.try_cases", description=__doc__)
    parser.add_argument("module", help="the module: 02_activations, 02 or activations")
    parser.add_argument("--seeds", type=int, default=5, help="seeds per variant (default 5)")
    parser.add_argument("--only", choices=("solution", "stubs", "bugs"), help="one kind of variant")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every disagreement")
    args = parser.parse_args(argv)
    root = course.find_root(Path.cwd())
    modules = course.discover(root)
    module = course.select(modules, args.module)[0]
    settings = grading_config.load(root)
    oracle, sandbox = Oracle(root), Sandbox(settings.limits)
    variants = []
    if args.only in (None, "solution"):
        variants.append(("solution", {}))
    if args.only in (None, "stubs"):
        variants += [(f"stubs:{p}", {"profile": p}) for p in STUB_PROFILES]
    if args.only in (None, "bugs"):
        variants += [(f"bug:{b.name}", {"bug": b.name}) for b in bugs_of(module)]
    sound = True
    with tempfile.TemporaryDirectory(prefix="tito-try-lib-") as tmp:
        lib = partial_reference(root, Path(tmp) / "lib", course.modules_before(modules, module))
        try:
            for label, kwargs in variants:
                notebook = submission(module, **kwargs)
                seen = {}
                for seed in range(1, args.seeds + 1):
                    cells, lines = failing_cells(module, notebook, oracle=oracle, sandbox=sandbox, lib=lib,
                                                 seed=seed * 7919, timeout=settings.cases_timeout)
                    seen[seed] = cells
                    if args.verbose or (label == "solution" and lines):
                        for line in lines:
                            print(f"    seed {seed}: {line}")
                distinct = {frozenset(c) for c in seen.values()}
                stable = len(distinct) == 1
                sound &= stable and (label != "solution" or not seen[1])
                cells = sorted(next(iter(distinct))) if stable else "VARIES: " + "; ".join(
                    f"seed {s}: {sorted(c)}" for s, c in seen.items())
                print(f"{label:40s} {cells}")
        finally:
            oracle.close()
    return 0 if sound else 1


if __name__ == "__main__":
    sys.exit(main())
