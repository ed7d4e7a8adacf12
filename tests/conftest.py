"""Shared configuration of the test suite.

Hypothesis profiles (choose with the environment variable HYPOTHESIS_PROFILE):

    ci   (default)  derandomized: the same examples on every run, so a red build is reproducible
                    and never flaky; no example database written into the working tree.
    dev             random examples, remembered in .hypothesis/ so a failure found once is
                    replayed first next time. Use it to hunt for new counterexamples.
    thorough        like dev, with ten times the examples.

No deadline anywhere: a gradient check by central differences evaluates the function twice per
input element, and a loaded two-core CI machine must not turn that into a failure.
"""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True)

settings.register_profile("ci", max_examples=50, derandomize=True, database=None, **_COMMON)
settings.register_profile("dev", max_examples=50, **_COMMON)
settings.register_profile("thorough", max_examples=500, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh, seeded generator per test: inputs are random-looking but identical on every run."""
    return np.random.default_rng(20240601)


@pytest.fixture
def grad_mode_guard():
    """Fail a test that leaves gradient recording switched off (a leaked `no_grad`)."""
    from tinytorch.core.tensor import Tensor

    yield
    leaked = not Tensor.grad_enabled
    Tensor.grad_enabled = True
    assert not leaked, "the test left Tensor.grad_enabled == False"


@pytest.fixture(scope="session")
def postgres():
    """One real PostgreSQL server for the whole session (tests/postgres.py); each test creates its
    own database on it. Skips where the server is not installed; under CI=true that fails."""
    from postgres import PostgresServer, find_bin_dir, missing_reason

    reason = missing_reason()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the PostgreSQL tests: {reason}")
        pytest.skip(reason)
    server = PostgresServer(find_bin_dir())
    try:
        server.start()
        yield server
    finally:
        server.stop()
