"""Scripts that run INSIDE the sandbox (copied into the scratch directory, never imported there).

They use the standard library, IPython and numpy only: the sandbox cannot see tito, and nothing
they print is trusted beyond its schema. `valuepack.py` is the one the supervisor imports too:
the format the cases' values cross the boundary in, read on this side by `valuepack.unpack`.
"""

from pathlib import Path

INNER = Path(__file__).resolve().parent


def script(name: str) -> Path:
    """The path of one inner script (`run_notebook.py`, `run_cases.py`)."""
    return INNER / name
