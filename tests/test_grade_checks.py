"""Differential checkpoint checks: the reference earns every point, the released stubs none, a
targeted bug loses exactly the scenarios it should, and a student who makes their own process
lie (patched numpy, forged output lines, a forged value pack) gains nothing.

Tests marked slow run the scenarios in the real sandbox (or, on a machine without one, in the
sandbox's unsafe mode); the others test the pieces without running student code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import numpy as np
import pytest

from tito.build import export, student_module
from tito.build.partial import modules_before, partial_reference
from tito.course import discover
from tito.grade import checks
from tito.grade import oracle as oracle_module
from tito.grade.inner import script, valuepack
from tito.grade.oracle import Oracle
from tito.grade.sandbox import Sandbox
from tito.source import read_source

REPO = Path(__file__).resolve().parents[1]
MODULES = {m.name: m for m in discover(REPO)}
NAMES = sorted(MODULES)


@pytest.fixture(scope="session")
def sandbox() -> Sandbox:
    return Sandbox(unsafe=bool(Sandbox.missing_layers()))


@pytest.fixture(scope="session")
def partial_libs(tmp_path_factory):
    built: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in built:
            module = MODULES[name]
            dest = tmp_path_factory.mktemp(f"partial-{name}")
            built[name] = partial_reference(REPO, dest, modules_before(list(MODULES.values()), module))
        return built[name]

    return get


@pytest.fixture(scope="session")
def oracle():
    reference = Oracle(REPO)
    yield reference
    reference.close()


SEED = 20261202


@pytest.fixture
def grade(sandbox, partial_libs, oracle, tmp_path):
    def run(name: str, notebook, partial_lib: Path | None = None, seed: int = SEED):
        module = MODULES[name]
        return checks.run_checks(module, notebook, sandbox=sandbox, scratch=tmp_path / "scratch",
                                 partial_lib=partial_lib or partial_libs(name), oracle=oracle, seed=seed,
                                 timeout=60.0)

    return run


def reference_notebook(name: str) -> nbformat.NotebookNode:
    return read_source(MODULES[name].source_py)


def variant(name: str, *edits: tuple[str, str], append: str = "") -> nbformat.NotebookNode:
    """The reference solution with each `old` text replaced by `new` (each must occur once), and
    `append` added to the end of the first export cell."""
    notebook = reference_notebook(name)
    for old, new in edits:
        hits = [c for c in notebook.cells if c.cell_type == "code" and old in c.source]
        assert len(hits) == 1, f"{old!r} occurs in {len(hits)} cells"
        hits[0].source = hits[0].source.replace(old, new)
    if append:
        first = next(c for c in notebook.cells if c.cell_type == "code" and "#| export" in c.source)
        first.source += "\n" + textwrap.dedent(append)
    return notebook


def failed(results) -> set[str]:
    """The checkpoint cell's cases that disagree (the cases with points)."""
    return {r.name for r in results if not r.passed and r.max_points}


def points(results) -> float:
    return sum(r.points for r in results)


# ----------------------------------------------------------------------------- the scenarios

@pytest.mark.parametrize("name", NAMES)
def test_every_graded_cell_has_cases_and_the_checkpoints_cases_carry_its_20_points(name, oracle):
    specs = oracle.answers(MODULES[name], SEED)["cases"]
    cells = {c.metadata["nbgrader"]["grade_id"] for c in reference_notebook(name).cells
             if c.get("metadata", {}).get("nbgrader", {}).get("grade")}
    checkpoint = name.split("_", 1)[1] + "-checkpoint"
    assert {s["cell"] for s in specs} == cells
    assert sum(s["points"] for s in specs if s["cell"] == checkpoint) == 20
    assert all(s["points"] for s in specs if s["cell"] == checkpoint)
    assert not any(s["points"] for s in specs if s["cell"] != checkpoint)
    assert len({s["case"] for s in specs}) == len(specs)
    assert all(s["keys"] for s in specs)


@pytest.mark.parametrize("name", NAMES)
def test_student_module_is_built_like_tito_export(name):
    # The reference solution's export cells give the reference module, file by file, line for line.
    module = MODULES[name]
    built = student_module.student_module_sources(reference_notebook(name), module)
    exported = export.render(module)
    assert list(built) == list(exported) == list(module.export_modules)
    for target in exported:  # only the header line (which names the source) differs
        assert built[target].splitlines()[1:] == exported[target].splitlines()[1:], target


def test_the_references_answers_depend_on_the_seed_and_only_on_it(oracle):
    module = MODULES["03_layers"]
    first, again, other = oracle.answers(module, 1), Oracle(REPO), oracle.answers(module, 2)
    try:
        repeat = again.answers(module, 1)
    finally:
        again.close()
    assert repeat["cases"] == first["cases"] and repeat["values"].keys() == first["values"].keys()
    assert all(np.array_equal(repeat["values"][k], first["values"][k]) for k in first["values"])
    differ = [k for k in first["values"] if first["values"][k].dtype.kind == "f"
              and not np.array_equal(first["values"][k], other["values"][k])]
    assert len(differ) >= len(first["cases"]) // 2, "most cases draw their inputs from the seed"


# ----------------------------------------------------------------------------- whole submissions


def test_planning_does_not_wait_for_the_reference(oracle, partial_libs, tmp_path):
    """The reference's answers are asked for in the background: while the reference process is
    busy with another worker's request (its lock held here), planning a submission returns at
    once, the session could run, and the answers arrive once the reference is free."""
    module, seed = MODULES["02_activations"], 777
    with ThreadPoolExecutor(max_workers=1) as planner, oracle._lock:  # another worker's request, running
        planning = planner.submit(checks.plan_checks, module, reference_notebook(module.name), tmp_path / "scratch",
                                  partial_libs(module.name), oracle=oracle, seed=seed)
        plan = planning.result(timeout=30)  # (before: blocked until the reference was free)
        assert plan.failure is None and not plan.answers.done()
    assert plan.answers.result(timeout=60)["cases"] == oracle.answers(module, seed)["cases"]
    assert [spec["case"] for spec in plan.specs] == [spec["case"] for spec in oracle.answers(module, seed)["cases"]]


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_the_reference_solution_gets_every_point(name, grade):
    results, info = grade(name, reference_notebook(name))
    assert [r.message for r in results if not r.passed] == []
    assert points(results) == 20
    assert info["import"]["file"].endswith(f"/lib/tinytorch/core/{checks.module_key(MODULES[name])}.py")


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_the_released_stubs_get_nothing(name, grade):
    release = nbformat.read(MODULES[name].release_ipynb, as_version=4)
    results, info = grade(name, release)
    assert points(results) == 0
    # every graded cell has a case that fails because of a stub (a case may pass on stubs alone:
    # an alias or a given method; its cell still fails by the others)
    stubbed = {r.cell for r in results if not r.passed and "NotImplementedError" in r.message}
    assert stubbed == {r.cell for r in results}, results
    assert any("cell '" in r.message for r in results)  # the error names the student's cell


@pytest.mark.slow
def test_the_students_module_replaces_a_reference_copy_left_in_the_partial_lib(grade, tmp_path):
    # A misconfigured partial reference that holds module k's solution must still grade the student.
    full = partial_reference(REPO, tmp_path / "full", list(MODULES.values()))
    release = nbformat.read(MODULES["06_optimizers"].release_ipynb, as_version=4)
    results, _ = grade("06_optimizers", release, partial_lib=full)
    assert points(results) == 0


def test_stub_errors_name_the_students_cell(sandbox, tmp_path):
    module = MODULES["05_autograd"]
    built = student_module._build_sources(nbformat.read(module.release_ipynb, as_version=4), module)
    spans = {"tinytorch/core/autograd.py": built["tinytorch.core.autograd"][1],
             "tinytorch/core/variable.py": built["tinytorch.core.variable"][1]}

    def line_after(target, definition):
        return next(n for n, l in enumerate(built[target][0].splitlines(), 1) if definition in l) + 1

    engine = line_after("tinytorch.core.autograd", "def backward(")
    face = line_after("tinytorch.core.variable", "def multiply(")
    message = checks._cells_named(f"NotImplementedError (in backward, tinytorch/core/autograd.py line {engine}); "
                                  f"NotImplementedError (in multiply, tinytorch/core/variable.py line {face})", spans)
    assert message == ("NotImplementedError (in backward, cell 'autograd-backward', line 3); "
                       "NotImplementedError (in multiply, cell 'autograd-variable-operations', line 24)")


BUGS = {
    "matmul reversed": ("01_tensor", [(
        '        return Tensor.from_op(self._data @ other._data, "matmul", (self, other))',
        '        return Tensor.from_op(other._data @ self._data, "matmul", (self, other))')],
        {"matrix_multiplication"}),
    "naive sigmoid": ("02_activations", [(
        "    e = np.exp(-np.abs(x.data))\n    out = np.where(x.data >= 0, 1 / (1 + e), e / (1 + e))",
        "    out = 1 / (1 + np.exp(-x.data))")],
        {"sigmoid_stable"}),
    "parameters counted twice": ("03_layers", [(
        "                if id(parameter) not in seen:", "                if True:")],
        {"parameter_discovery"}),
    "cross-entropy without the max shift": ("04_losses", [(
        "    shifted = logits - logits.max(axis=-1, keepdims=True)\n", "    shifted = logits\n")],
        {"cross_entropy_stable", "classes_and_graph"}),
    "mul rule with the sign flipped": ("05_autograd", [(
        "    return (grad * b.data if a.requires_grad else None,\n"
        "            grad * a.data if b.requires_grad else None)",
        "    return (-grad * b.data if a.requires_grad else None,\n"
        "            -grad * a.data if b.requires_grad else None)")],
        {"polynomial", "dense_sigmoid_mse", "chain_rule", "accumulation_and_zero_grad", "several_paths",
         "diamond_41_levels", "broadcast_gradients", "long_chain_10002", "elementwise_rules",
         "matmul_and_reductions", "no_grad_and_gradient_checks", "variable_face"}),
    "unbroadcast returns the gradient unchanged": ("05_autograd", [(
        "    grad = np.asarray(grad)\n    if grad.shape == shape:\n        return grad",
        "    return np.asarray(grad)")],
        {"dense_sigmoid_mse", "broadcast_gradients", "matmul_and_reductions"}),
    "SGD forgets its velocity": ("06_optimizers", [(
        "            velocity *= self.momentum\n            velocity += grad\n            grad = velocity",
        "            velocity = self.momentum * velocity + grad\n            grad = velocity")],
        {"sgd_momentum", "sgd_momentum_and_decay", "updates_stay_outside_the_graph"}),
    "DataLoader shuffles the same way every epoch": ("07_training", [(
        "        order = self.rng.permutation(len(self.inputs)) if self.shuffle",
        "        order = np.random.default_rng(0).permutation(len(self.inputs)) if self.shuffle")],
        {"loader_shuffles_by_seed", "trainer"}),  # (the Trainer draws its batches from the loader)
}


@pytest.mark.slow
@pytest.mark.parametrize("bug", sorted(BUGS))
def test_a_targeted_bug_loses_exactly_its_scenarios(bug, grade):
    name, edits, expected = BUGS[bug]
    results, _ = grade(name, variant(name, *edits))
    assert failed(results) == expected, {r.name: r.message for r in results if not r.passed}
    total = {r.name: r.max_points for r in results}
    assert points(results) == 20 - sum(total[n] for n in expected)


SIGN_BUG = BUGS["mul rule with the sign flipped"][1]


@pytest.mark.slow
def test_patching_numpy_in_the_students_process_changes_nothing(grade):
    lies = """
        np.allclose = lambda *args, **kwargs: True
        np.array_equal = lambda *args, **kwargs: True
        np.testing.assert_allclose = lambda *args, **kwargs: None
        np.testing.assert_array_equal = lambda *args, **kwargs: None
        """
    results, _ = grade("05_autograd", variant("05_autograd", *SIGN_BUG, append=lies))
    assert failed(results) == BUGS["mul rule with the sign flipped"][2]


@pytest.mark.slow
def test_forged_output_lines_and_values_gain_nothing(grade):
    # At exit the student's module overwrites the runner's results: every scenario "ok" on stdout
    # and a value pack of zeros under every key it saw (the runner's own `valuepack` writes it).
    # The supervisor compares with the reference.
    forgery = """
        import atexit as _atexit, json as _json, os as _os, sys as _sys
        import valuepack as _valuepack

        def _forge():
            path = "/scratch/out/values.pack" if _os.path.isdir("/scratch/out") else "out/values.pack"
            try:
                with open(path, "rb") as _real:
                    real = _valuepack.unpack(_real.read(), max_arrays=5000)
                fake = {k: np.zeros_like(v) for k, v in real.items()}
            except Exception:
                fake = {}
            fake["polynomial/grad x"] = np.array([[6.0, 8.0]])
            with open(path, "wb") as _out:
                _out.write(_valuepack.pack(fake))
            for name in ("polynomial", "chain_rule", "several_paths"):
                print(_json.dumps({"scenario": name, "status": "ok", "error": None, "keys": []}))
            _sys.stdout.flush()

        _atexit.register(_forge)
        """
    results, _ = grade("05_autograd", variant("05_autograd", *SIGN_BUG, append=forgery))
    assert points(results) < 20 - 17  # at most the untouched scenarios could survive a forgery
    assert {"polynomial", "chain_rule", "several_paths"} <= failed(results)


@pytest.mark.slow
def test_a_value_pack_that_claims_an_object_array_is_refused(grade):
    plant = """
        import atexit as _atexit, os as _os, struct as _struct

        def _plant():
            path = "/scratch/out/values.pack" if _os.path.isdir("/scratch/out") else "out/values.pack"
            index = b'[["sgd_plain/path","|O",[1]]]'
            with open(path, "wb") as _out:
                _out.write(b"TTVALUES1\\n" + _struct.pack("<I", len(index)) + index + bytes(8))

        _atexit.register(_plant)
        """
    results, info = grade("06_optimizers", variant("06_optimizers", append=plant))
    assert points(results) == 0
    reason = ("values.pack refused (sgd_plain/path: dtype '|O' refused (numbers, booleans and strings only)): "
              "results refused")
    assert info["reason"] == reason and all(r.message == reason for r in results)


@pytest.mark.slow
def test_a_module_that_raises_on_import_gets_nothing(grade):
    results, info = grade("06_optimizers", variant("06_optimizers", append='raise RuntimeError("boom")'))
    assert points(results) == 0
    assert info["import"]["status"] == "error"
    expected = ("importing tinytorch.core.optimizers (your module) failed: RuntimeError: boom "
                "(in <module>, cell 'optimizers-imports', line")
    assert all(r.message.startswith(expected) for r in results), results[0].message


def test_a_module_that_does_not_parse_gets_nothing_without_running():
    class NoSandbox:
        def run(self, *args, **kwargs):
            raise AssertionError("nothing should run")

    notebook = variant("04_losses", ("def mean_squared_error(predictions, targets) -> Tensor:",
                                     "def mean_squared_error(predictions, targets) -> Tensor"))
    module = MODULES["04_losses"]
    results, info = checks.run_checks(module, notebook, sandbox=NoSandbox(), scratch=Path("/nonexistent"),
                                      partial_lib=Path("/nonexistent"), oracle=Oracle(REPO), seed=SEED,
                                      timeout=60.0)
    assert points(results) == 0
    assert info["reason"].startswith("your module cannot be built: export cell ")
    assert "does not parse (line 1: expected ':')" in info["reason"]


# ----------------------------------------------------------------------------- reading values.pack

def write_pack(path: Path, data: bytes) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "values.pack").write_bytes(data)
    return path


def test_values_are_read_and_unexpected_keys_dropped(tmp_path):
    out = write_pack(tmp_path / "out", valuepack.pack({"a/x": np.arange(3), "a/name": np.array("relu"),
                                                        "z/extra": np.ones(2)}))
    values, reason = checks.read_values(out, {"a/x", "a/name"})
    assert reason is None and sorted(values) == ["a/name", "a/x"]
    np.testing.assert_array_equal(values["a/x"], np.arange(3))
    assert values["a/name"].shape == () and str(values["a/name"]) == "relu"


def test_an_object_array_is_refused(tmp_path):
    index = b'[["a/x","|O8",[1]]]'
    out = write_pack(tmp_path / "out", valuepack.MAGIC + len(index).to_bytes(4, "little") + index + bytes(8))
    assert checks.read_values(out) == ({}, "values.pack refused (a/x: dtype '|O8' refused (numbers, booleans and "
                                           "strings only)): results refused")


def test_a_file_over_the_cap_is_refused(tmp_path):
    out = write_pack(tmp_path / "out", valuepack.pack({"a/x": np.zeros(2000)}))
    assert checks.read_values(out, cap=4000) == ({}, "values.pack is 0.0 MB, over the 0 MB cap: results refused")


def test_more_arrays_than_the_cap_are_refused(tmp_path):
    out = write_pack(tmp_path / "out", valuepack.pack({f"a/{n}": np.zeros(1) for n in range(checks.MEMBERS_CAP + 1)}))
    assert checks.read_values(out) == ({}, "values.pack refused (it holds 5001 arrays (cap 5000)): results refused")


def test_links_are_not_followed(tmp_path):
    secret = write_pack(tmp_path / "secret", valuepack.pack({"a/x": np.arange(3)}))
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(secret / "values.pack", out / "values.pack")
    assert "cannot be opened safely" in checks.read_values(out)[1]
    os.symlink(secret, tmp_path / "linked")
    assert "replaced by something else" in checks.read_values(tmp_path / "linked")[1]


def test_garbage_is_refused_and_nothing_is_no_reason(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    assert checks.read_values(out) == ({}, None)
    (out / "values.pack").write_bytes(b"PK\x03\x04 an npz, say")
    assert checks.read_values(out)[1] == ("values.pack refused (not a value pack (it does not start with the "
                                          "format's mark)): results refused")


def test_scratch_links_planted_by_student_code_are_removed_not_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("x")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    for name in ("checks", "out"):
        os.symlink(victim, scratch / name)
    module = MODULES["02_activations"]
    lib = partial_reference(REPO, tmp_path / "partial", modules_before(list(MODULES.values()), module))
    checks._build_scratch(scratch, lib, {Path("tinytorch/core/activations.py"): "x = 1\n"})
    assert (victim / "keep.txt").read_text() == "x" and sorted(p.name for p in victim.iterdir()) == ["keep.txt"]
    assert not (scratch / "checks").is_symlink() and not (scratch / "out").exists()
    assert (scratch / "checks/lib/tinytorch/core/activations.py").read_text() == "x = 1\n"
    assert (scratch / "checks/lib/tinytorch/core/tensor.py").is_file()


# ----------------------------------------------------------------------------- comparing

@pytest.mark.parametrize("expected, actual, message", [
    (np.array([[0.25, 0.5]]), np.array([[0.5, 1.0]]), "grad w: expected [[0.25 0.5 ]] got [[0.5 1. ]]"),
    (np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-9]), None),
    (np.array([1.0, 2.0]), np.array([[1.0, 2.0]]), "grad w: expected shape (2,) got (1, 2) ([[1. 2.]])"),
    (np.array(True), np.array(1.0), "grad w: expected a boolean, got float 1."),
    (np.array("float32"), np.array("float64"), "grad w: expected 'float32' got 'float64'"),
    (np.array(3), np.array(3.0), None),
    (np.array([np.nan, np.inf]), np.array([np.nan, np.inf]), None),
    (np.array([1.0]), np.array([np.nan]), "grad w: expected [1.] got [nan]"),
])
def test_compare_values(expected, actual, message):
    assert checks.compare_values("grad w", expected, actual, rtol=1e-6, atol=1e-9) == message


# ----------------------------------------------------------------------------- the runner itself

RUNNER_CASES = '''
import os, time
import numpy as np
from casekit import registry

print("printed at import: must not reach the JSON lines either")

CASES = []
case = registry(CASES)
STATE = {"touched": False}


@case("tensor-checkpoint", points=1)
def fine(tt, rng):
    print("student output must not reach the JSON lines")
    return {"x": tt.tensor.Tensor([1.0, 2.0]).data, "label": "ok", "n": 3, "drawn": rng.integers(0, 2**31)}


@case("tensor-checkpoint", points=1, budget=0.5)
def hangs_and_swallows_exceptions(tt, rng):
    while True:
        try:
            time.sleep(0.05)
        except BaseException:
            pass


@case("tensor-checkpoint", points=1)
def leaks_state(tt, rng):
    STATE["touched"] = True
    tt.tensor.Tensor.grad_enabled = False
    return {"ok": 1}


@case("tensor-checkpoint", points=1)
def sees_the_state_left_before(tt, rng):
    return {"touched": STATE["touched"], "grad_enabled": tt.tensor.Tensor.grad_enabled}


@case("tensor-checkpoint", points=1)
def exits(tt, rng):
    os._exit(3)


@case("tensor-checkpoint", points=1)
def starts_fresh_after_an_exit(tt, rng):
    return {"touched": STATE["touched"], "grad_enabled": tt.tensor.Tensor.grad_enabled}


@case("tensor-checkpoint", points=1)
def returns_an_object(tt, rng):
    return {"x": object()}


@case("tensor-checkpoint", points=1)
def raises(tt, rng):
    raise ValueError("nope")


@case("tensor-checkpoint", points=1)
def asks_for_a_later_module(tt, rng):
    return {"x": tt.autograd}


@case("tensor-creation", hidden=True)
def hidden_one(tt, rng):
    return {"x": rng.standard_normal(2)}
'''


def run_cases(tmp_path: Path, seed: int) -> tuple[dict, dict, bytes]:
    folder = Path(tempfile.mkdtemp(prefix=f"runner-{seed}-", dir=tmp_path))
    (folder / "cases.py").write_text(RUNNER_CASES)
    for name in checks.INNER:
        (folder / name).write_bytes(script(name).read_bytes())
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    order = ",".join(oracle_module.course_order(REPO))
    done = subprocess.run([sys.executable, str(folder / checks.RUNNER), str(folder / "cases.py"),
                           str(folder / "out"), "--module", "tensor", "--modules", order, "--seed", str(seed)],
                          env=env, capture_output=True, timeout=60)
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    values, reason = checks.read_values(folder / "out")
    assert reason is None
    return lines, values, done.stderr


def test_the_runner_isolates_each_case(tmp_path):
    lines, values, stderr = run_cases(tmp_path, seed=7)
    assert lines[0]["module"] == "tinytorch.core.tensor" and lines[0]["status"] == "ok"
    by_name = {line["case"]: line for line in lines[1:]}
    assert by_name["fine"]["status"] == "ok" and by_name["fine"]["keys"] == ["drawn", "label", "n", "x"]
    assert by_name["fine"]["cell"] == "tensor-checkpoint" and by_name["fine"]["points"] == 1.0
    assert by_name["hidden_one"]["hidden"] is True and by_name["hidden_one"]["points"] is None
    assert by_name["hangs_and_swallows_exceptions"]["error"] == "timed out after 0.5 s"
    assert by_name["leaks_state"]["status"] == "ok"
    assert by_name["exits"]["error"].startswith("the case ended the process (exit status 3)")
    assert "value 'x' is a object" in by_name["returns_an_object"]["error"]
    assert by_name["raises"]["error"] == "ValueError: nope"
    assert "a case of module 'tensor' may not use module 'autograd' (it may use: tensor)" \
        in by_name["asks_for_a_later_module"]["error"]
    # the cases share one process, as the notebook's cells do, until one ends it
    assert bool(values["sees_the_state_left_before/touched"]) is True
    assert bool(values["sees_the_state_left_before/grad_enabled"]) is False
    assert bool(values["starts_fresh_after_an_exit/touched"]) is False
    assert bool(values["starts_fresh_after_an_exit/grad_enabled"]) is True
    assert str(values["fine/label"]) == "ok" and values["fine/x"].tolist() == [1.0, 2.0]
    assert b"student output" in stderr


def test_each_case_draws_its_inputs_from_the_seed_and_its_own_name(tmp_path):
    _, first, _ = run_cases(tmp_path, seed=7)
    _, again, _ = run_cases(tmp_path, seed=7 + 0)  # the same seed: the same inputs
    _, other, _ = run_cases(tmp_path, seed=8)
    assert first["fine/drawn"] == again["fine/drawn"] != other["fine/drawn"]
    assert first["fine/drawn"] != first["hidden_one/x"][0]
