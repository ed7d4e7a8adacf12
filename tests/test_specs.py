"""Every module's spec (`source/NN_name/cases.py`) against the reference package.

Grading compares a student's values with the reference's on inputs drawn from a per-submission
seed, so a spec is only sound when every case runs on the reference under ANY seed, gives the same
values for the same seed in a fresh process, and declares (statically, as the lint reads it) the
cells it really binds (as the runner reports them). The seeds are the checkpoints' seeds
(`--checkpoint-seeds`, 20 in `make test`), each mixed into a 63-bit number like a real seed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tito.course import discover
from tito.grade.oracle import Oracle
from tito.lint.rules.spec import declared_cases

REPO = Path(__file__).resolve().parents[1]
MODULES = discover(REPO)


@pytest.fixture(scope="module")
def oracle():
    reference = Oracle(REPO)
    yield reference
    reference.close()


def seeds(config) -> list[int]:
    return [(n * 0x9E3779B97F4A7C15) % 2**63 for n in range(1, config.getoption("--checkpoint-seeds") + 1)]


@pytest.mark.slow
@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.name)
def test_every_case_runs_on_the_reference_under_every_seed(module, oracle, pytestconfig):
    for seed in seeds(pytestconfig):
        answers = oracle.answers(module, seed)  # raises, naming the case, when one fails
        assert answers["values"] and all(spec["keys"] for spec in answers["cases"])


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.name)
def test_the_same_seed_gives_the_same_values_in_a_fresh_process(module, oracle):
    first = oracle.answers(module, 12345)
    again = Oracle(REPO)
    try:
        second = again.answers(module, 12345)
    finally:
        again.close()
    assert first["cases"] == second["cases"]
    assert first["values"].keys() == second["values"].keys()
    different = [k for k in first["values"] if not np.array_equal(first["values"][k], second["values"][k],
                                                                   equal_nan=first["values"][k].dtype.kind == "f")]
    assert different == []


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.name)
def test_the_lint_reads_the_cells_the_runner_reports(module, oracle):
    static = [(cell, points) for cell, _, points in declared_cases(module.cases_py.read_text())]
    reported = [(spec["cell"], spec["points"]) for spec in oracle.answers(module, 1)["cases"]]
    assert static == reported
