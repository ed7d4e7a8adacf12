"""Release stage: source/NN/NN.ipynb -> release/NN/NN.ipynb through nbgrader itself."""

from tito.release.generate import generate, load_config

__all__ = ["generate", "load_config"]
