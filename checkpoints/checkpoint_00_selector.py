"""Checkpoint 00: the checkpoints test the tinytorch they are pointed at, and only what they claim.

Not a course checkpoint: it proves the harness the other checkpoints rely on.

- `--tinytorch-root` / `$TINYTORCH_ROOT` really select the package: a root whose tensor module is
  broken makes checkpoint 01 fail, a correct copy makes it pass, and the run says which package
  it imported. A root that would silently fall back to the reference is refused.
- Every module has a checkpoint (`Module.checkpoint_py`: in its folder or in checkpoints/), and
  checkpoint k imports only modules 1..k: statically (its import statements) and for real (it
  passes against a root that holds nothing but those modules).

(That each asks the question docs/curriculum.md gives it is tests/test_curriculum.py's.)
"""

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tito.course import discover

REPO = Path(__file__).resolve().parent.parent
CHECKPOINTS = Path(__file__).resolve().parent
REFERENCE = REPO / "tinytorch"
# Course order (tito.course is the one place that knows it): module number of each
# tinytorch.core module, and each module's checkpoint.
COURSE = discover(REPO)
MODULES = {m.export_module.rsplit(".", 1)[-1]: m.number for m in COURSE}
# The files of each (05_autograd writes autograd.py and variable.py).
FILES = {m.export_module.rsplit(".", 1)[-1]: [t.name for t in m.export_targets] for m in COURSE}

pytestmark = pytest.mark.seed_independent


def course_checkpoints() -> dict:
    """{number: path} of every module's checkpoint."""
    return {m.number: m.checkpoint_py for m in COURSE if m.checkpoint_py}


# --------------------------------------------------------------------------- static checks (fast)

def test_there_is_one_checkpoint_per_module():
    assert sorted(course_checkpoints()) == sorted(MODULES.values())
    numbered = {int(p.name[len("checkpoint_"):][:2]) for p in CHECKPOINTS.glob("checkpoint_[0-9][0-9]_*.py")}
    assert numbered - {0} <= set(MODULES.values()), "a checkpoint in checkpoints/ without its module"


def imported_tinytorch_modules(path: Path) -> set:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tinytorch"):
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("tinytorch"))
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
            raise AssertionError(f"{path.name}: dynamic imports hide what a checkpoint needs")
    return names


@pytest.mark.parametrize("number", sorted(MODULES.values()))
def test_checkpoint_imports_only_modules_taught_so_far(number):
    path = course_checkpoints()[number]
    used = set()
    for name in imported_tinytorch_modules(path):
        parts = name.split(".")
        if len(parts) >= 3 and parts[:2] == ["tinytorch", "core"] and parts[2] in MODULES:
            used.add(parts[2])
        elif name not in ("tinytorch", "tinytorch.core"):
            assert len(parts) >= 3 and parts[2] in MODULES, f"{path.name} imports {name}"
    later = sorted(m for m in used if MODULES[m] > number)
    assert not later, f"{path.name} imports modules taught after module {number:02d}: {later}"
    assert any(MODULES[m] == number for m in used), f"{path.name} does not use its own module"


# --------------------------------------------------------------------------- the selector, for real

def make_root(tmp_path: Path, modules, name: str = "root") -> Path:
    """A package root holding the reference's `__init__`s and the given core modules."""
    root = tmp_path / name
    (root / "tinytorch" / "core").mkdir(parents=True)
    shutil.copyfile(REFERENCE / "__init__.py", root / "tinytorch" / "__init__.py")
    shutil.copyfile(REFERENCE / "core" / "__init__.py", root / "tinytorch" / "core" / "__init__.py")
    for name in (name for module in modules for name in FILES[module]):
        shutil.copyfile(REFERENCE / "core" / name, root / "tinytorch" / "core" / name)
    return root


def break_addition(root: Path) -> None:
    tensor = root / "tinytorch" / "core" / "tensor.py"
    source = tensor.read_text(encoding="utf-8")
    broken = source.replace('self._data + other._data, "add"', 'self._data - other._data, "add"')
    assert broken != source, "the reference's __add__ changed: update break_addition()"
    tensor.write_text(broken, encoding="utf-8")


def run_checkpoints(*args, root=None, env_root=None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("TINYTORCH_ROOT", "PYTEST_ADDOPTS", "PYTHONPATH")
           and not k.startswith("PYTEST_XDIST")}
    if env_root is not None:
        env["TINYTORCH_ROOT"] = str(env_root)
    env["OPENBLAS_NUM_THREADS"] = "1"  # tiny arrays; don't compete with the xdist workers
    # Plugins the checkpoints do not use cost a second of imports per run.
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:hypothesispytest",
               "-p", "no:anyio", "--checkpoint-seeds=1", "-x", *args]
    if root is not None:
        command.append(f"--tinytorch-root={root}")
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def header_root(result) -> str:
    match = re.search(r"^tinytorch: (\S+)", result.stdout, re.MULTILINE)
    assert match, f"no tinytorch line in the header:\n{result.stdout[-3000:]}{result.stderr[-2000:]}"
    return match.group(1)


def report(result) -> str:
    return f"exit {result.returncode}\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}"


@pytest.mark.slow
def test_a_broken_tensor_module_fails_checkpoint_01(tmp_path):
    root = make_root(tmp_path, ["tensor"])
    break_addition(root)
    result = run_checkpoints("checkpoints/checkpoint_01_tensor.py", root=root)
    assert result.returncode == 1, report(result)
    assert header_root(result) == str(root / "tinytorch")
    assert "failed" in result.stdout


@pytest.mark.slow
def test_the_environment_variable_selects_too(tmp_path):
    root = make_root(tmp_path, ["tensor"])
    break_addition(root)
    result = run_checkpoints("checkpoints/checkpoint_01_tensor.py", env_root=root)
    assert result.returncode == 1, report(result)
    assert header_root(result) == str(root / "tinytorch")


@pytest.mark.slow
def test_a_correct_copy_passes_and_is_the_one_imported(tmp_path):
    root = make_root(tmp_path, ["tensor"])
    result = run_checkpoints("checkpoints/checkpoint_01_tensor.py", root=root)
    assert result.returncode == 0, report(result)
    assert header_root(result) == str(root / "tinytorch")


@pytest.mark.slow
def test_the_default_is_the_reference():
    result = run_checkpoints("checkpoints/checkpoint_01_tensor.py")
    assert result.returncode == 0, report(result)
    assert header_root(result) == str(REFERENCE)


@pytest.mark.slow
def test_a_root_without_tinytorch_is_refused(tmp_path):
    result = run_checkpoints("checkpoints/checkpoint_01_tensor.py", root=tmp_path)
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, report(result)
    assert "has no tinytorch/ directory" in result.stderr


@pytest.mark.slow
def test_a_root_that_would_fall_back_to_the_reference_is_refused(tmp_path):
    # Without tinytorch/__init__.py the directory is only a namespace portion, and Python would
    # import the reference package found later on sys.path: that must stop the run.
    root = make_root(tmp_path, ["tensor"])
    (root / "tinytorch" / "__init__.py").unlink()
    result = run_checkpoints("checkpoints/checkpoint_01_tensor.py", root=root)
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, report(result)
    assert "not from the chosen root" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("number", sorted(MODULES.values()))
def test_checkpoint_passes_with_only_the_modules_taught_so_far(tmp_path, number):
    taught = [name for name, n in MODULES.items() if n <= number]
    root = make_root(tmp_path, taught)
    checkpoint = course_checkpoints()[number].relative_to(REPO)
    result = run_checkpoints(str(checkpoint), root=root)
    assert result.returncode == 0, report(result)
    assert header_root(result) == str(root / "tinytorch")
