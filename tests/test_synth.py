"""tito.synth: the synthetic class generator and its bug catalogue.

The generator runs on a copy of the course's sources and releases (it writes submitted/); the
slow tests execute every catalogued bug and stub profile the way grading does and check that the
catalogue's failing cells are still what execution says.
"""

from __future__ import annotations

import collections
import hashlib
import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbgrader.utils import parse_utc

from tito import course
from tito.errors import TitoError
from tito.source import SOLUTION_MARKER, grade_id, is_graded_test, nbgrader_meta, read_source
from tito.synth import ClassManifest, generate_class
from tito.synth.__main__ import main as synth_main
from tito.synth.bugs import STUB_PROFILES, catalogue
from tito.synth.generate import BROKEN_KINDS, MANIFEST, ROSTER, resolve_mix
from tito.synth.variants import submission

REPO = Path(__file__).resolve().parents[1]
MODULES = [m.name for m in course.discover(REPO)]
CATALOGUE = catalogue(course.discover(REPO))  # every module's source/NN_name/bugs.py
BUGS, BY_NAME = CATALOGUE.bugs, CATALOGUE.by_name
STUB_FAILING_CELLS, STUB_FAILING_CHECKS = CATALOGUE.stub_failing_cells, CATALOGUE.stub_failing_checks


def _course(dest: Path) -> Path:
    """The parts of the course the generator reads: sources, releases, nbgrader_config.py."""
    dest.mkdir(parents=True)
    shutil.copy(REPO / "nbgrader_config.py", dest)
    shutil.copytree(REPO / "release", dest / "release")
    shutil.copytree(REPO / "source", dest / "source", ignore=shutil.ignore_patterns("*.ipynb", "__pycache__"))
    return dest


@pytest.fixture(scope="module")
def class40(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ClassManifest]:
    root = _course(tmp_path_factory.mktemp("class40") / "course")
    return root, generate_class(root, 40, seed=0)


def _tree(root: Path) -> dict[str, bytes]:
    files = sorted(p for p in (root / "submitted").rglob("*") if p.is_file())
    files += [root / MANIFEST, root / ROSTER]
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in files}


def _release(module: str) -> nbformat.NotebookNode:
    return nbformat.read(REPO / "release" / module / f"{module}.ipynb", as_version=4)


# ---------------------------------------------------------------------------------------------- generator


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    first = _course(tmp_path / "a")
    second = _course(tmp_path / "b")
    third = _course(tmp_path / "c")
    generate_class(first, 6, seed=3, modules=["02_activations", "05_autograd"])
    generate_class(second, 6, seed=3, modules=["02_activations", "05_autograd"])
    generate_class(third, 6, seed=4, modules=["02_activations", "05_autograd"])
    assert _tree(first) == _tree(second)
    assert _tree(first) != _tree(third)
    assert len([p for p in _tree(first) if p.endswith(".ipynb")]) == 12


def test_default_mix_for_forty_students(class40) -> None:
    root, manifest = class40
    total = 40 * len(MODULES)  # 30% bugs, 10% stubs, 3% late (rounded), 3 broken files
    mix = {"bug": round(0.3 * total), "stubs": round(0.1 * total), "broken": 3}
    mix = {"correct": total - sum(mix.values()), **mix}
    assert manifest.mix == {**mix, "late": round(0.03 * total)}
    entries = manifest.entries()
    assert len(entries) == total
    kinds = collections.Counter(e.variant for e in entries)
    assert kinds == mix
    assert sum(e.late for e in entries) == round(0.03 * total)
    assert all(e.variant in ("correct", "bug") for e in entries if e.late)
    assert {e.bug for e in entries if e.bug} == set(BY_NAME)  # every catalogued bug is in the class
    assert {e.profile for e in entries if e.variant == "broken"} == set(BROKEN_KINDS)
    assert {e.profile for e in entries if e.variant == "stubs"} == set(STUB_PROFILES)
    # the manifest on disk says the same
    loaded = ClassManifest.load(root)
    assert loaded.to_json() == manifest.to_json()
    assert [s.id for s in loaded.students] == [f"s{n:03d}" for n in range(1, 41)]


def test_mix_counts_and_fractions() -> None:
    assert resolve_mix({"bug": 2, "stubs": 0.5, "late": 1}, 10) == {
        "correct": 3, "bug": 2, "stubs": 5, "broken": 0, "late": 1}
    with pytest.raises(TitoError, match="more than the 4 submissions"):
        resolve_mix({"bug": 3, "stubs": 2}, 4)
    with pytest.raises(TitoError, match="unknown key"):
        resolve_mix({"correct": 3}, 4)


def test_expected_outcomes(class40) -> None:
    _, manifest = class40
    for entry in manifest.entries():
        graded = [grade_id(c) for c in _release(entry.module).cells if is_graded_test(c)]
        assert set(entry.expected_failed_cells) <= set(graded)
        due, stamp = parse_utc(entry.due), parse_utc(entry.timestamp)
        assert (stamp > due) == entry.late
        if entry.variant == "correct":
            assert (entry.expected_failed_cells, entry.expected_failed_checks, entry.expected_status) == ([], [], "graded")
        elif entry.variant == "bug":
            bug = BY_NAME[entry.bug]
            assert bug.module == entry.module and entry.expected_failed_cells == list(bug.failing_cells)
            assert entry.expected_failed_checks == list(bug.failing_checks)
        elif entry.variant == "stubs":
            assert entry.expected_failed_cells == list(STUB_FAILING_CELLS[(entry.module, entry.profile)])
            assert entry.expected_failed_checks == list(STUB_FAILING_CHECKS[(entry.module, entry.profile)])
        else:
            assert entry.expected_status == "error" and entry.expected_failed_cells == graded and entry.reason


def test_files_are_nbgrader_submissions(class40) -> None:
    root, manifest = class40
    for entry in manifest.entries():
        folder = root / "submitted" / entry.student / entry.module
        assert sorted(p.name for p in folder.iterdir()) == [f"{entry.module}.ipynb", "timestamp.txt"]
        stamp = (folder / "timestamp.txt").read_text()
        assert stamp == entry.timestamp and stamp.endswith(" UTC") and parse_utc(stamp)
        data = (folder / f"{entry.module}.ipynb").read_bytes()
        if entry.variant == "broken":
            with pytest.raises(ValueError):
                json.loads(data.decode())
            continue
        notebook = nbformat.reads(data.decode(), as_version=4)
        nbformat.validate(notebook)
        _assert_only_solution_cells_differ(entry.module, notebook)


def _assert_only_solution_cells_differ(module: str, notebook: nbformat.NotebookNode) -> None:
    release = _release(module)
    assert len(notebook.cells) == len(release.cells) and notebook.metadata == release.metadata
    for ours, theirs in zip(notebook.cells, release.cells):
        assert (ours.id, ours.cell_type, ours.metadata) == (theirs.id, theirs.cell_type, theirs.metadata)
        if not nbgrader_meta(theirs).get("solution"):
            assert ours.source == theirs.source, f"{module}: locked or given cell {theirs.id} changed"


def test_correct_submission_is_the_source_solution() -> None:
    for module in course.discover(REPO):
        filled = submission(module)
        source = {grade_id(c): c.source for c in read_source(module.source_py).cells if grade_id(c)}
        for cell in filled.cells:
            if nbgrader_meta(cell).get("solution"):
                lines = source[grade_id(cell)].rstrip().splitlines()
                assert cell.source == "\n".join(line for line in lines if not SOLUTION_MARKER.match(line))
                assert "NotImplementedError()" not in cell.source


def test_roster_csv(class40) -> None:
    root, manifest = class40
    lines = (root / ROSTER).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "id,first_name,last_name,email"
    assert len(lines) == 41 and len({line.split(",")[-1] for line in lines[1:]}) == 40
    first = manifest.students[0]
    assert lines[1] == f"{first.id},{first.first_name},{first.last_name},{first.email}"


# ---------------------------------------------------------------------------------------------- catalogue


def test_catalogue_shape() -> None:
    assert len(BUGS) >= 12 and len(BY_NAME) == len(BUGS)
    for module in MODULES:
        assert any(b.module == module for b in BUGS), f"source/{module}/bugs.py has no bug"
        graded = [grade_id(c) for c in _release(module).cells if is_graded_test(c)]
        for profile in STUB_PROFILES:
            assert set(STUB_FAILING_CELLS[(module, profile)]) <= set(graded)
        assert STUB_FAILING_CELLS[(module, "none")] == tuple(graded)  # the release fails every graded cell
    for bug in BUGS:
        graded = [grade_id(c) for c in _release(bug.module).cells if is_graded_test(c)]
        assert list(bug.failing_cells) == [g for g in graded if g in bug.failing_cells], bug.name


@pytest.mark.parametrize("bug", BUGS, ids=lambda b: b.name)
def test_bug_edits_only_its_cell(bug) -> None:
    module = next(m for m in course.discover(REPO) if m.name == bug.module)
    correct, buggy = submission(module), submission(module, bug=bug.name)
    changed = [grade_id(a) for a, b in zip(correct.cells, buggy.cells) if a.source != b.source]
    assert changed == [bug.cell]


def test_a_stale_edit_is_an_error() -> None:
    from tito.synth.notebook import fill, release_notebook, solution_regions

    module = next(m for m in course.discover(REPO) if m.name == "05_autograd")
    with pytest.raises(TitoError, match="occurs 0 times"):
        fill(release_notebook(module), solution_regions(module),
             edits={"autograd-backward": [("no such line", "x")]})


_DERIVED = [("bug", b.module, b.name, b.failing_cells) for b in BUGS] + [
    ("stubs", m, p, STUB_FAILING_CELLS[(m, p)]) for m in MODULES for p in STUB_PROFILES if p != "none"]


@pytest.mark.slow
@pytest.mark.parametrize("kind,module,name,recorded", _DERIVED, ids=[f"{k}-{n}-{m}" for k, m, n, _ in _DERIVED])
def test_catalogue_matches_execution(kind: str, module: str, name: str, recorded: tuple[str, ...]) -> None:
    """Re-derive by running the buggy submission as grading does, without the narrative's demo
    cells (tests may not depend on them; they are most of the time; `python -m tito.synth --derive`
    runs them too). The `none` stub profile is the release itself: the lint proves that it fails
    every graded cell."""
    from tito.synth.derive import failing_cells

    target = next(m for m in course.discover(REPO) if m.name == module)
    variant = {"bug": name} if kind == "bug" else {"profile": name}
    found = failing_cells(REPO, target, demos=False, **variant)
    assert found.failing_cells == recorded, found.detail


# ---------------------------------------------------------------------------------------------- CLI


def _digest(root: Path) -> str:
    return hashlib.sha256(repr(sorted(_tree(root).items())).encode()).hexdigest()


def test_cli_refuses_to_overwrite_real_submissions(tmp_path: Path, capsys) -> None:
    root = _course(tmp_path / "course")
    real = root / "submitted" / "alice" / "01_tensor" / "01_tensor.ipynb"
    real.parent.mkdir(parents=True)
    real.write_text("{}")
    argv = ["--root", str(root), "--students", "3", "--seed", "1", "--module", "01_tensor"]
    assert synth_main(argv) == 1
    err = "".join(capsys.readouterr().err.split())  # rich wraps long lines
    assert "refusingtooverwrite" in err and "submitted/alice/01_tensor/01_tensor.ipynb" in err
    assert not (root / MANIFEST).exists() and not (root / "submitted" / "s001").exists()
    assert synth_main(argv + ["--force"]) == 0
    assert real.read_text() == "{}"  # forced: written beside it, the foreign file is not deleted
    assert (root / "submitted" / "s003" / "01_tensor" / "01_tensor.ipynb").is_file()


def test_cli_rewrites_its_own_class(tmp_path: Path, capsys) -> None:
    root = _course(tmp_path / "course")
    assert synth_main(["--root", str(root), "--students", "4", "--seed", "1", "--module", "03"]) == 0
    assert "4 students, 4 submissions" in capsys.readouterr().out
    assert synth_main(["--root", str(root), "--students", "2", "--seed", "1", "--module", "03"]) == 0
    assert sorted(p.name for p in (root / "submitted").iterdir()) == ["s001", "s002"]  # s003, s004 removed
    # a generated file edited by someone (a real resubmission?) is no longer the generator's
    edited = root / "submitted" / "s002" / "03_layers" / "03_layers.ipynb"
    edited.write_bytes(edited.read_bytes() + b" ")
    assert synth_main(["--root", str(root), "--students", "2", "--seed", "1", "--module", "03"]) == 1
    assert "submitted/s002/03_layers/03_layers.ipynb" in "".join(capsys.readouterr().err.split())
    # and a hand-written roster is protected the same way
    other = _course(tmp_path / "other")
    (other / ROSTER).write_text("id,first_name,last_name,email\nx1,A,B,a@b.cd\n")
    assert synth_main(["--root", str(other), "--students", "2", "--module", "03"]) == 1


def test_unreadable_manifest_protects_until_forced(tmp_path: Path) -> None:
    root = _course(tmp_path / "course")
    (root / MANIFEST).write_text("{not json")
    with pytest.raises(TitoError, match="cannot read the synthetic class manifest"):
        generate_class(root, 2, seed=0, modules=["04"])
    assert generate_class(root, 2, seed=0, modules=["04"], force=True).modules == ["04_losses"]
    assert ClassManifest.load(root).seed == 0


# ---------------------------------------------------------------------------------------------- bugs.py


def test_a_broken_bugs_file_names_its_file_and_line(tmp_path: Path) -> None:
    from tito.synth.bugs import bugs_of

    root = _course(tmp_path / "course")
    module = course.select(course.discover(root), "02")[0]
    module.bugs_py.write_text('from tito.synth.bugs import Bug, Stubs\n\nBUGS = (\n    Bug("x", "c", "f", "d", ()),\n    Bug("x",\n)\n')
    with pytest.raises(TitoError) as broken:
        bugs_of(module)
    assert str(broken.value) == "source/02_activations/bugs.py:3: SyntaxError: '(' was never closed"
    module.bugs_py.write_text('from tito.synth.bugs import Bug\n\nBUGS = (Bug("x", "c"),)\n')
    with pytest.raises(TitoError) as wrong:
        bugs_of(module)
    assert str(wrong.value) == ("source/02_activations/bugs.py:3: TypeError: Bug.__init__() missing 3 required "
                                "positional arguments: 'function', 'description', and 'edits'")
    module.bugs_py.write_text('from tito.synth.bugs import Bug\n\nBUGS = (Bug("x", "c", "f", "d", ()), Bug("x", "c", "f", "d", ()))\n')
    with pytest.raises(TitoError, match=r"^source/02_activations/bugs.py: a bug name is used twice \(x\)$"):
        bugs_of(module)
    module.bugs_py.write_text('STUBS = {"all-but-one": None}\n')
    with pytest.raises(TitoError, match=r"^source/02_activations/bugs.py: BUGS must hold Bug"):
        bugs_of(module)
    module.bugs_py.unlink()  # a module without bugs.py has none: its "bug" students submit correct work
    assert bugs_of(module) == ()


def test_a_bug_in_two_modules_is_refused(tmp_path: Path) -> None:
    root = _course(tmp_path / "course")
    first, second = course.discover(root)[:2]
    second.bugs_py.write_text(second.bugs_py.read_text().replace("'relu-ge'", "'tensor-lists-float64'"))
    with pytest.raises(TitoError) as twice:
        catalogue(course.discover(root))
    assert str(twice.value) == ("bug 'tensor-lists-float64' is in both source/01_tensor/bugs.py and "
                                "source/02_activations/bugs.py")
