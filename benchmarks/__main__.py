"""`python -m benchmarks`: run every benchmark, print a markdown report, save it to results/latest.md.

Options: --repeats N (timed epochs per contender and thread count, default 7), --threads 1,2,
--only mlp|conv|backward|profile|transformer|grading|fairness|distributed (repeatable), --keep-env (do not drop OPENBLAS_CORETYPE /
OPENBLAS_L2_SIZE; see benchmarks/environment.py), --output PATH.
"""

from __future__ import annotations

import argparse
import datetime
import shlex
import sys
import time
from pathlib import Path

from benchmarks.environment import clean_blas_environment

PARTS = ("mlp", "conv", "backward", "profile", "transformer", "grading", "fairness", "distributed")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    parser.add_argument("--only", action="append", choices=PARTS, help="run only these parts")
    parser.add_argument("--keep-env", action="store_true",
                        help="keep OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE (no clean re-exec)")
    parser.add_argument("--output", type=Path,
                        default=Path(__file__).resolve().parent / "results" / "latest.md")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse(argv)
    if not args.keep_env:
        clean_blas_environment(argv)  # may re-exec this process; must precede `import numpy`

    from benchmarks import backward_scaling, mlp_epoch, profile_epoch
    from benchmarks.environment import import_tinytorch, machine_summary

    tinytorch = import_tinytorch()
    parts = args.only or list(PARTS)
    threads = tuple(int(n) for n in args.threads.split(","))
    started = datetime.datetime.now(datetime.timezone.utc)
    command = "python -m benchmarks" + ("" if not argv else " " + shlex.join(argv))
    lines = [f"# Benchmarks, {started:%Y-%m-%d %H:%M} UTC", "",
             f"Command: `{command}`; package: `{Path(tinytorch.__file__).parent}`", ""]
    lines += [f"- {line}" for line in machine_summary()] + [""]
    _emit(lines)

    clock = time.perf_counter()
    if "mlp" in parts:
        _emit(mlp_epoch.report(mlp_epoch.run(threads=threads, repeats=args.repeats)) + [""], lines)
    if "conv" in parts:  # module 08's Conv2d, forward + backward, vs PyTorch eager
        from benchmarks import conv

        _emit(conv.report(conv.run(threads=threads, repeats=args.repeats)) + [""], lines)
    if "backward" in parts:
        _emit(backward_scaling.report(backward_scaling.run(repeats=args.repeats)) + [""],
              lines)
    if "profile" in parts:
        _emit(profile_epoch.report(profile_epoch.run(threads=1)) + [""], lines)
    if "transformer" in parts:  # module 09's block vs nn.TransformerEncoderLayer, and a training run
        from benchmarks import transformer

        _emit(transformer.report(transformer.run(threads=threads, repeats=args.repeats)) + [""], lines)
    if "grading" in parts:  # stock nbgrader vs tito autograde; $TINYTORCH_BENCH_GRADING_SUBMISSIONS
        from benchmarks import grading

        _emit(grading.report(grading.run()) + [""], lines)
    if "fairness" in parts:  # an honest submission beside a CPU hog, with and without cgroups
        from benchmarks import fairness

        _emit(fairness.report(fairness.run()) + [""], lines)
    if "distributed" in parts:  # the local pool vs Dask (LocalCluster, TCP workers without the course)
        from benchmarks import distributed

        _emit(distributed.report(distributed.run()) + [""], lines)
    from benchmarks.environment import load_average

    _emit([f"Total benchmark time: {time.perf_counter() - clock:.0f} s; at the end: {load_average()}."],
          lines)

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"\n(written to {args.output})")
    return 0


def _emit(new: list[str], into: list[str] | None = None) -> None:
    """Print as results arrive (a long run shows progress) and keep them for the file."""
    print("\n".join(new), flush=True)
    if into is not None:
        into.extend(new)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
