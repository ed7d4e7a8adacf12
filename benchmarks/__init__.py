"""Benchmarks of the reference package, measured side by side with PyTorch in one process.

`python -m benchmarks` (or `make bench`) runs them all, prints a markdown report and writes it to
`benchmarks/results/latest.md` (not committed). docs/benchmarks.md explains each measurement.

- `mlp_epoch`: one epoch of a 784-128-10 MLP on 60,000 samples, tinytorch vs PyTorch eager (and a
  hand-written numpy floor), at equal thread counts.
- `backward_scaling`: backward time per graph node on long chains, and a 40-level diamond.
- `profile_epoch`: where a tinytorch epoch spends its time (cProfile).
"""
