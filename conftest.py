"""Repo-wide pytest configuration: which tinytorch the tests import, and the checkpoint seeds.

Which tinytorch
    By default the reference package at the repository root. `--tinytorch-root=PATH` (or the
    environment variable TINYTORCH_ROOT; the option wins) names another *package root*: a directory
    that contains `tinytorch/`, e.g. a student's own build, or student module k plus the reference
    of every other module. The root is put first on `sys.path` and `tinytorch` is imported at once,
    before any test module is collected, so every later `import tinytorch.core.x` resolves inside
    that root. If the imported package does not live under the chosen root (a typo, a root without
    `tinytorch/__init__.py`, something that imported tinytorch earlier), the run stops with a usage
    error instead of silently grading the wrong code.

Checkpoint seeds
    Every test in a `checkpoint_*.py` file runs once per seed 0..N-1 (`--checkpoint-seeds=N`,
    default 3; `make test` uses 20). Before each run `np.random.seed(seed)` and `random.seed(seed)`
    are called, so anything drawn from the global generators (Dense's initial weights, for one)
    differs per seed: a checkpoint has to pass for every one of them. Tests that do not depend on
    random state at all (they run subprocesses, or read source files) opt out with the
    `seed_independent` marker.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parent
ROOT_ENV = "TINYTORCH_ROOT"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tinytorch", "TinyTorch checkpoints")
    group.addoption(
        "--tinytorch-root", action="store", default=None, metavar="PATH",
        help=f"directory containing the tinytorch/ package to test (default: ${ROOT_ENV}, "
             "else the reference package at the repository root)")
    group.addoption(
        "--checkpoint-seeds", action="store", type=int, default=3, metavar="N",
        help="run every checkpoint test under the seeds 0..N-1 (default: 3)")


def chosen_root(config: pytest.Config) -> tuple[Path, str]:
    """The package root to test, and where that choice came from (for messages)."""
    option = config.getoption("--tinytorch-root")
    if option:
        raw, source = option, "--tinytorch-root"
    elif os.environ.get(ROOT_ENV):
        raw, source = os.environ[ROOT_ENV], f"${ROOT_ENV}"
    else:
        return REPO_ROOT, "default (the reference package)"
    path = Path(raw).expanduser()
    if not path.is_absolute():
        path = Path(config.invocation_params.dir) / path
    return path.resolve(), source


def _locations(module) -> list[Path]:
    """Where an imported package lives: its __file__, or every entry of a namespace __path__."""
    if getattr(module, "__file__", None):
        return [Path(module.__file__).resolve()]
    return [Path(entry).resolve() for entry in getattr(module, "__path__", [])]


def _check_under(module, package_dir: Path, source: str) -> None:
    places = _locations(module)
    if not places or any(package_dir != place and package_dir not in place.parents
                         for place in places):
        found = ", ".join(str(p) for p in places) or "nowhere"
        raise pytest.UsageError(
            f"{module.__name__} was imported from {found}, not from the chosen root "
            f"{package_dir.parent} ({source}). Is there a {package_dir}/__init__.py?")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "seed_independent: a checkpoint test that does not use random state "
                   "(runs once instead of once per --checkpoint-seeds)")
    if config.getoption("--checkpoint-seeds") < 1:
        raise pytest.UsageError("--checkpoint-seeds must be at least 1")

    root, source = chosen_root(config)
    package_dir = root / "tinytorch"
    if not package_dir.is_dir():
        raise pytest.UsageError(f"the tinytorch root {root} ({source}) has no tinytorch/ directory")
    sys.path.insert(0, str(root))
    import importlib

    importlib.invalidate_caches()
    try:
        tinytorch = importlib.import_module("tinytorch")
    except Exception as error:  # a broken student __init__ must stop the run, visibly
        raise pytest.UsageError(f"importing tinytorch from {root} ({source}) failed: {error!r}")
    _check_under(tinytorch, package_dir, source)
    if (package_dir / "core").is_dir():
        try:
            core = importlib.import_module("tinytorch.core")
        except Exception as error:
            raise pytest.UsageError(f"importing tinytorch.core from {root} failed: {error!r}")
        _check_under(core, package_dir, source)
    config.stash[_ROOT_KEY] = (package_dir, source)


_ROOT_KEY = pytest.StashKey[tuple]()


def pytest_report_header(config: pytest.Config) -> str:
    package_dir, source = config.stash[_ROOT_KEY]
    return f"tinytorch: {package_dir} [{source}]"


def pytest_collection_finish(session: pytest.Session) -> None:
    """After the test modules imported their tinytorch modules: every one must be from the root."""
    package_dir, source = session.config.stash[_ROOT_KEY]
    for name, module in list(sys.modules.items()):
        if (name == "tinytorch" or name.startswith("tinytorch.")) and module is not None:
            _check_under(module, package_dir, source)


def _is_checkpoint(metafunc_or_item) -> bool:
    return Path(str(metafunc_or_item.module.__file__)).name.startswith("checkpoint_")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "checkpoint_seed" not in metafunc.fixturenames or not _is_checkpoint(metafunc):
        return
    if metafunc.definition.get_closest_marker("seed_independent"):
        return
    seeds = range(metafunc.config.getoption("--checkpoint-seeds"))
    metafunc.parametrize("checkpoint_seed", list(seeds), indirect=True,
                         ids=[f"seed{seed}" for seed in seeds])


@pytest.fixture(autouse=True)
def checkpoint_seed(request: pytest.FixtureRequest):
    """The seed of this checkpoint run (None outside checkpoints): seeds numpy's and Python's
    global generators before the test starts."""
    seed = getattr(request, "param", None)
    if seed is not None:
        np.random.seed(seed)
        random.seed(seed)
    return seed
