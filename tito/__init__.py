"""tito: the TinyTorch course tooling.

A chain of small stages around stock nbgrader (see docs/architecture.md):

    tito.course          where things are (modules, paths, export targets)
    tito.build.export    source/NN/NN.py  -> tinytorch/<default_exp>.py (+ one file per `#| export X`)
    tito.build.notebooks source/NN/NN.py  -> source/NN/NN.ipynb
    tito.release         source/NN/NN.ipynb -> release/NN/NN.ipynb (nbgrader generate_assignment)
    tito.lint            source + release -> findings
    tito.execute         run a notebook in a fresh kernel, report per-cell outcomes
"""

from tito.errors import TitoError

# Set in the environment of every kernel tito starts (tito.execute). A notebook cell that would
# start tito itself (`tito.student.check_module`) skips when it sees it: a check inside a check,
# a lint or a synthetic run would recurse or waste minutes.
UNDER_TITO = "TITO_EXECUTING"

__all__ = ["TitoError", "UNDER_TITO"]
