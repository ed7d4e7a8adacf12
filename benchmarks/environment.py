"""The process the benchmarks run in: a clean BLAS environment, the package under test, the machine.

On some processors this machine sets OPENBLAS_CORETYPE (and OPENBLAS_L2_SIZE) for the sake of
older OpenBLAS builds; with a current numpy they pin OpenBLAS to a slower kernel. OpenBLAS reads
them when it is loaded, so they cannot be dropped from inside a process that has imported numpy:
`clean_blas_environment()` re-executes the benchmark once, before numpy is imported, with the two
variables removed from its own environment only (nothing else is changed, and no other process
sees the difference). `--keep-env` skips this. The report says what was removed and which kernel
OpenBLAS then chose.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

STRIPPED = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
_MARK = "TINYTORCH_BENCH_STRIPPED"  # set in the re-executed process: what was removed
REPO = Path(__file__).resolve().parent.parent


def clean_blas_environment(argv: list[str]) -> None:
    """Re-exec this benchmark without OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE (numpy must not be loaded)."""
    present = {name: os.environ[name] for name in STRIPPED if name in os.environ}
    if not present or _MARK in os.environ:
        return
    assert "numpy" not in sys.modules, "clean_blas_environment() must run before numpy is imported"
    env = {k: v for k, v in os.environ.items() if k not in STRIPPED}
    env[_MARK] = " ".join(f"{k}={v}" for k, v in present.items())
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, "-m", "benchmarks", *argv], env)


def stripped_variables() -> str:
    return os.environ.get(_MARK, "")


def import_tinytorch():
    """The package under test: $TINYTORCH_ROOT if set (a student's build), else the reference."""
    root = Path(os.environ.get("TINYTORCH_ROOT") or REPO).resolve()
    sys.path.insert(0, str(root))
    import tinytorch

    where = Path(tinytorch.__file__).resolve()
    if root not in where.parents:
        raise SystemExit(f"tinytorch was imported from {where}, not from {root}")
    return tinytorch


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def blas_description() -> list[str]:
    """One line per BLAS/OpenMP library loaded in this process (threadpoolctl's view)."""
    from threadpoolctl import threadpool_info

    lines = []
    for info in threadpool_info():
        name = Path(info["filepath"]).name
        extra = ", ".join(f"{key} {info[key]}" for key in ("architecture", "threading_layer")
                          if info.get(key))
        version = info.get("version") or ""
        lines.append(f"{info['internal_api']} {version} ({name}; {extra or info['user_api']}; "
                     f"{info['num_threads']} threads by default)".replace("  ", " "))
    return lines


def load_average() -> str:
    """Other processes share the cores: a load above the core count makes every figure noisy."""
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "load average unknown"
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


def machine_summary() -> list[str]:
    import numpy

    lines = [f"CPU: {cpu_model()}, {os.cpu_count()} logical cores; {load_average()}",
             f"Python {platform.python_version()}, numpy {numpy.__version__}"]
    try:
        import torch

        blas = "MKL" if torch.backends.mkl.is_available() else "its bundled BLAS"
        lines.append(f"torch {torch.__version__} (matrix products through {blas}; "
                     f"oneDNN {'on' if torch.backends.mkldnn.is_available() else 'off'})")
    except ImportError:
        lines.append("torch: not installed (the PyTorch columns are skipped)")
    removed = stripped_variables()
    kept = [f"{k}={os.environ[k]}" for k in STRIPPED if k in os.environ]
    if removed:
        lines.append(f"removed for this process only (re-exec): {removed}")
    elif kept:
        lines.append(f"kept (--keep-env): {' '.join(kept)}")
    else:
        lines.append("OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE: not set")
    lines.extend(f"BLAS: {line}" for line in blas_description())
    return lines
