"""Release stage: source/NN/NN.ipynb -> release/NN/NN.ipynb through nbgrader itself, and the
published reference -> release/_reference/."""

from tito.release.generate import check_spec, generate, load_config
from tito.release.published import published_modules, write_published

__all__ = ["check_spec", "generate", "load_config", "published_modules", "write_published"]
