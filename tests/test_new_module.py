"""A module is one folder: `tito new-module` in a copy of the course, a second function written into
it, and the whole course cycle on it (release, lint, autograde of the solution, a blank release
and a synthetic class, feedback, report, the checkpoints, the test suite's module discovery) with
no file edited outside its folder. The module is called `NN_probe`, NN the number after the course's
last module (modules are numbered without gaps), so the name never collides with a real module.

The one thing a new module asks outside its folder is its row in docs/curriculum.md, and the test
suite says so: tests/test_curriculum.py fails in the copy, printing the row to add.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tito import course
from tito.errors import TitoError
from tito.grade import run_lock
from tito.grade.sandbox import Sandbox
from tito.scaffold import new_module

REPO = Path(__file__).resolve().parents[1]
NAME = f"{course.discover(REPO)[-1].number + 1:02d}_probe"
LOCK_FILE = run_lock.sqlite_lock_file(Path("gradebook.db")).name  # autograde's, beside the gradebook
TOP_LEFT_OUT = {".git", ".venv", "submitted", "autograded", "feedback", "report", "gradebook.db", ".tito", "build",
                ".pytest_cache", ".hypothesis", "roster.csv", "synthetic_class.json",
                LOCK_FILE}  # student data, caches, the venv

HALVE = '''

# %% [markdown]
# ## Step 2: halve

# %% nbgrader={"grade": false, "grade_id": "probe-halve", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def halve(x) -> np.ndarray:
    """Half of `x`, as a float32 array."""
    ### BEGIN SOLUTION
    return np.asarray(x, dtype=np.float32) / 2
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "probe-halve-test", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
np.testing.assert_array_equal(halve([2.0, 3.0]), np.array([1.0, 1.5], dtype=np.float32))
'''
HALVE_CASES = '''

@case("probe-halve-test")
def halve_values(tt, rng):
    return {"halve(x)": arr(tt.probe.halve(rng.standard_normal(4)))}
'''


def copy_course(dest: Path) -> Path:
    """The course as it is on disk (committed or not), without student data, caches or the venv."""
    def left_out(folder: str, names: list[str]) -> list[str]:
        top = Path(folder) == REPO
        derived = Path(folder).parent.name == "source"  # source/NN_name/NN_name.ipynb
        return [n for n in names if (top and n in TOP_LEFT_OUT) or n == "__pycache__" or (derived and n.endswith(".ipynb"))]

    shutil.copytree(REPO, dest, ignore=left_out)
    return dest


def run(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "200"}
    env.pop("PYTEST_ADDOPTS", None)
    done = subprocess.run([sys.executable, *args], cwd=root, env=env, capture_output=True, text=True, timeout=900)
    assert not check or done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def tree(root: Path) -> dict[str, bytes]:
    """Every file an author could have edited (derived and generated files aside)."""
    derived = ("release/", "tinytorch/", "submitted/", "autograded/", "feedback/", "report/", "grades")
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
            if p.is_file() and not p.relative_to(root).as_posix().startswith(derived)
            and "__pycache__" not in p.parts and ".tito" not in p.parts and p.suffix != ".ipynb"
            and p.name not in ("gradebook.db", "roster.csv", "synthetic_class.json", LOCK_FILE)}


@pytest.mark.slow
@pytest.mark.skipif(bool(Sandbox.missing_layers()), reason="this machine cannot sandbox student code")
def test_a_new_module_is_one_folder_through_the_whole_cycle(tmp_path: Path) -> None:
    root = copy_course(tmp_path / "course")
    before = tree(root)
    run(root, "-m", "tito", "new-module", NAME, "Probe", "--question", "Can I double and halve arrays?")
    folder = root / "source" / NAME
    source, cases = folder / f"{NAME}.py", folder / "cases.py"
    source.write_text(source.read_text() + HALVE)  # the author writes a second function, its test and case
    cases.write_text(cases.read_text() + HALVE_CASES)

    run(root, "-m", "tito", "export")
    run(root, "-m", "tito", "release", "--module", NAME)
    lint = run(root, "-m", "tito", "lint", "--module", NAME)
    assert f"│ {NAME} │ 3            │ 35     │ 3/3             │ 3/3                   │" in lint.stdout
    stale = run(root, "-m", "tito.synth", "--derive", "--module", NAME, check=False)
    assert stale.returncode == 1 and "stubs: first-half" in stale.stdout  # the new function changed what it fails
    run(root, "-m", "tito.synth", "--derive", "--write", "--module", NAME)
    module = course.select(course.discover(root), NAME)[0]
    assert "'probe-halve-test'," in module.bugs_py.read_text()
    run(root, "-m", "tito.synth", "--derive", "--module", NAME)  # now recorded as derived

    from tito.demo import compare_with_expected
    from tito.grade.run import autograde
    from tito.synth.generate import generate_class
    from tito.synth.variants import submission

    modules = course.discover(root)
    manifest = generate_class(root, 4, seed=2, modules=[NAME], mix={"bug": 1, "stubs": 2, "broken": 0, "late": 0})
    for student, notebook in (("author", submission(module)), ("blank", nbformat.read(module.release_ipynb, 4))):
        (root / "submitted" / student / NAME).mkdir(parents=True)
        nbformat.write(notebook, str(root / "submitted" / student / NAME / f"{NAME}.ipynb"))
    summary = autograde(root, modules, selected=[module], workers=2, published=modules)
    scores = {r.student: r.score for r in summary.graded}
    assert (scores.pop("author"), scores.pop("blank")) == (35.0, 0.0)
    paired = compare_with_expected(root, [r for r in summary.graded if r.student in scores], manifest)
    assert [(r.student, r.score) for r, e in paired if r.score != e] == [] and len(paired) == 4

    run(root, "-m", "tito", "feedback", "--module", NAME)
    assert (root / "feedback" / "author" / NAME / f"{NAME}.html").is_file()
    run(root, "-m", "tito", "report")
    assert NAME in (root / "report" / "index.html").read_text()

    checkpoints = run(root, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--checkpoint-seeds=2",
                      f"source/{NAME}/checkpoint_{NAME}.py", "checkpoints/checkpoint_00_selector.py", "-m", "not slow")
    assert " passed" in checkpoints.stdout and "failed" not in checkpoints.stdout

    discovery = run(root, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow", "tests/test_synth.py",
                    "tests/test_freshness.py", "tests/test_curriculum.py", "-k", "catalogue or numbered or curriculum or "
                    "module_table or row", check=False)
    assert discovery.returncode == 1
    failed = [line for line in discovery.stdout.splitlines() if line.startswith("FAILED")]
    assert [line.split(" - ")[0] for line in failed] == [
        "FAILED tests/test_curriculum.py::test_the_module_table_is_the_modules_in_source"]
    assert (f"docs/curriculum.md has no row for {NAME} (add: | {NAME} | `tinytorch.core.probe` | what the "
            f"student builds | 35 (3) | `checkpoint_{NAME}.py`: \"Can I double and halve arrays?\" |)") in discovery.stdout

    after = tree(root)
    assert sorted(p for p in after if after.get(p) != before.get(p)) == sorted(
        f"source/{NAME}/{name}" for name in (f"{NAME}.py", "cases.py", f"checkpoint_{NAME}.py", "bugs.py"))


def test_new_module_refuses_what_would_clash(tmp_path: Path) -> None:
    root = tmp_path / "course"
    shutil.copytree(REPO / "source", root / "source", ignore=shutil.ignore_patterns("*.ipynb", "__pycache__"))
    shutil.copy(REPO / "nbgrader_config.py", root)
    before = sorted(p.name for p in (root / "source").iterdir())
    for name, title, message in (
            ("8_spatial", "Spatial", "'8_spatial': a module is named NN_name (two digits, then lower-case letters, "
                                     "digits and underscores), e.g. 08_spatial"),
            ("03_spatial", "Spatial", "number 03 is already 03_layers's"),
            ("09_losses", "Losses", "04_losses already exports to tinytorch.core.losses: choose another name"),
            (NAME, " ", 'the title is empty: give the module a title, e.g. "Spatial"'),
            ("01_tensor", "Tensor", "source/01_tensor: already exists")):
        with pytest.raises(TitoError) as refused:
            new_module(root, name, title)
        assert str(refused.value) == message
    assert sorted(p.name for p in (root / "source").iterdir()) == before
