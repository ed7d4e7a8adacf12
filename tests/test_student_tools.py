"""The student's tools (`tito check`, `tito build`, `tito submit`) on the real course.

`check` and `build` read the course (release/, tinytorch/, checkpoints/) and write only into tmp
dirs; `submit` writes into a copy of the course, which the LMS importer then reads back.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import nbformat
import pytest

from tito import course
from tito.cli import main
from tito.collect.lms import import_lms
from tito.student.build import build
from tito.student.check import check
from tito.synth.variants import submission

REPO = Path(__file__).resolve().parents[1]
MODULES = course.discover(REPO)
TENSOR, ACTIVATIONS, LAYERS, LOSSES, AUTOGRAD = (course.select(MODULES, f"0{n}")[0] for n in range(1, 6))


def _write(nb, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


@pytest.mark.slow
def test_check_on_the_release_fails_every_graded_cell_with_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    report = check(REPO, TENSOR)
    assert report.cells and not report.kernel_error
    for cell in report.cells:
        assert not cell.passed
        assert cell.message.startswith("NotImplementedError"), cell
        assert cell.hint.startswith("implement `") and cell.hint.endswith("` first"), cell
    assert report.checkpoint is not None and not report.checkpoint.passed
    assert report.checkpoint.file == "checkpoints/checkpoint_01_tensor.py"
    assert any("NotImplementedError" in line for line in report.checkpoint.failures)
    assert not report.passed

    assert main(["--root", str(REPO), "check", "01_tensor"]) == 1
    out = capsys.readouterr().out
    assert "0/9 cells passed" in out and "implement `" in out and "next:" in out
    assert "checkpoint checkpoints/checkpoint_01_tensor.py: failed" in out
    assert "/tmp" not in out.split("notebook:")[1]  # no temp paths in the checkpoint's failures


@pytest.mark.slow
def test_check_on_a_finished_notebook_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notebook = _write(submission(ACTIVATIONS), tmp_path / "mine" / "02_activations.ipynb")
    assert main(["--root", str(REPO), "check", "activations", "--notebook", str(notebook)]) == 0
    out = capsys.readouterr().out
    assert "8/8 cells passed" in out and "failed" not in out
    assert "checkpoint checkpoints/checkpoint_02_activations.py: passed" in out
    assert "tito submit 02_activations --zip" in out


@pytest.mark.slow
def test_check_runs_the_checkpoint_on_the_students_module(tmp_path: Path) -> None:
    """A notebook whose tests pass but whose exported module is broken fails the checkpoint."""
    nb = submission(ACTIVATIONS)
    for cell in nb.cells:
        if "#| export" in cell.source and "def relu(" in cell.source:
            cell.source += "\n\n\nrelu = None  # a student's stray assignment, after the tests ran\n"
            break
    else:
        pytest.fail("no export cell defines relu")
    report = check(REPO, ACTIVATIONS, _write(nb, tmp_path / "02_activations.ipynb"))
    assert report.checkpoint is not None and not report.checkpoint.passed


def test_build_uses_finished_modules_then_the_published_reference_and_names_what_is_missing(
        tmp_path: Path, capsys) -> None:
    """The course publishes 01-03: a finished notebook is the student's, an unfinished published
    module is the published reference, an unfinished unpublished one is missing."""
    notebooks = tmp_path / "release"
    _write(submission(ACTIVATIONS), notebooks / "02_activations" / "02_activations.ipynb")
    shutil.copytree(TENSOR.release_dir, notebooks / "01_tensor")  # the untouched release: stubs
    _write(submission(LAYERS, profile="first-half"), notebooks / "03_layers" / "03_layers.ipynb")
    _write(submission(LOSSES), notebooks / "04_losses" / "04_losses.ipynb")  # finished, unpublished
    shutil.copytree(AUTOGRAD.release_dir, notebooks / "05_autograd")
    out = tmp_path / "build"
    assert main(["--root", str(REPO), "build", "--notebooks", str(notebooks), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"TINYTORCH_ROOT={out} make checkpoints" in printed
    notebook = f"{tmp_path}/release/05_autograd/05_autograd.ipynb"
    assert (f"05_autograd is missing (the modules after it cannot import it): finish it in {notebook} "
            "or ask your instructor to publish its reference") in printed
    choices = {c.module.name: (c.owner, c.reason) for c in build(REPO, MODULES, notebooks, out)}
    stubs = "`raise NotImplementedError()` stub(s) left"
    assert choices == {
        "01_tensor": ("reference", f"unfinished: 24 {stubs}; the published reference"),
        "02_activations": ("student", "finished (no stubs left in its export cells)"),
        "03_layers": ("reference", f"unfinished: 3 {stubs}; the published reference"),
        "04_losses": ("student", "finished (no stubs left in its export cells)"),
        "05_autograd": ("missing", f"unfinished: 28 {stubs}; its reference is not published"),
        "06_optimizers": ("missing", "no notebook 06_optimizers.ipynb; its reference is not published"),
        "07_training": ("missing", "no notebook 07_training.ipynb; its reference is not published"),
    }
    core = out / "tinytorch" / "core"
    assert sorted(p.name for p in core.glob("*.py")) == [
        "__init__.py", "activations.py", "layers.py", "losses.py", "tensor.py"]
    assert "from the student's notebook (02_activations)" in (core / "activations.py").read_text()
    assert "from the student's notebook (04_losses)" in (core / "losses.py").read_text()
    for module in (TENSOR, LAYERS):
        assert (core / module.export_target.name).read_bytes() == module.published_target.read_bytes()
    assert (out / "tinytorch" / "__init__.py").read_bytes() == (REPO / "tinytorch" / "__init__.py").read_bytes()


def test_check_stops_when_an_earlier_module_is_neither_finished_nor_published(capsys) -> None:
    """05 needs 04, which the course does not publish and the untouched release has not finished."""
    assert main(["--root", str(REPO), "check", "05_autograd"]) == 1
    err = capsys.readouterr().err
    assert ("error: 05_autograd needs 04_losses: finish it in release/04_losses/04_losses.ipynb or ask your "
            "instructor to publish its reference") in " ".join(err.split())


@pytest.mark.slow
def test_check_uses_the_students_finished_module_where_none_is_published(tmp_path: Path, capsys) -> None:
    """05 on the student's own finished 04 (unpublished) and the published 01-03."""
    notebooks = tmp_path / "work"
    _write(submission(LOSSES), notebooks / "04_losses" / "04_losses.ipynb")
    mine = _write(submission(AUTOGRAD), notebooks / "05_autograd" / "05_autograd.ipynb")
    assert main(["--root", str(REPO), "check", "05", "--notebook", str(mine), "--notebooks", str(notebooks)]) == 0
    out = capsys.readouterr().out
    assert ("earlier modules: 01_tensor (published reference), 02_activations (published reference), "
            "03_layers (published reference), 04_losses (your notebook)") in " ".join(out.split())
    assert "11/11 cells passed" in out and "checkpoint checkpoints/checkpoint_05_differentiation.py: passed" in out


def _course_copy(dest: Path) -> Path:
    dest.mkdir()
    shutil.copy(REPO / "nbgrader_config.py", dest)
    shutil.copytree(REPO / "release", dest / "release")
    for module in MODULES:
        (dest / "source" / module.name).mkdir(parents=True)
        shutil.copy(module.source_py, dest / "source" / module.name)
    return dest


def test_submit_zip_is_accepted_by_the_lms_importer(tmp_path: Path, capsys) -> None:
    root = _course_copy(tmp_path / "course")
    notebook = _write(submission(ACTIVATIONS), tmp_path / "work" / "02_activations.ipynb")
    assert main(["--root", str(root), "submit", "02", "--zip", "--student", "s042",
                 "--notebook", str(notebook)]) == 0
    assert "submissions/s042_02_activations.zip" in capsys.readouterr().out
    archive = root / "submissions" / "s042_02_activations.zip"
    with zipfile.ZipFile(archive) as zipped:
        assert zipped.namelist() == ["s042_02_activations.ipynb"]
        assert zipped.read("s042_02_activations.ipynb") == notebook.read_bytes()
    report = import_lms(archive, root, "02_activations", ["s001", "s042"])
    assert [(f.status, f.student, f.dest) for f in report.files] == [
        ("matched", "s042", "submitted/s042/02_activations/02_activations.ipynb")]
    assert (root / report.files[0].dest).read_bytes() == notebook.read_bytes()


def test_submit_refuses_a_bad_id_and_a_missing_exchange(tmp_path: Path, capsys) -> None:
    root = _course_copy(tmp_path / "course")
    assert main(["--root", str(root), "submit", "02", "--zip", "--student", "jane doe"]) == 1
    assert "not a student id" in capsys.readouterr().err
    assert main(["--root", str(root), "submit", "02"]) == 1
    err = capsys.readouterr().err
    assert "no nbgrader exchange is configured" in err and "--zip" in err
    assert not (root / "submissions").exists()
