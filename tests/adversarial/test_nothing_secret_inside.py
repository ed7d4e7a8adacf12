"""Nothing secret is ever handed to a sandbox: the structural proof behind the secrets catalogue.

The catalogue tries to get secrets out; this test shows there is nothing to get. A course where
only 01_tensor is published and the course grades against students' own earlier work
(`c.Grading.earlier_modules = "student"`) grades two correct submissions: alice's 02_activations
(its earlier module is published) and bob's 03_layers (its earlier module, 02_activations, is
not: bob's own 02_activations, nothing written, stands in). A spy on `Sandbox.popen` and
`Sandbox.run` records everything each sandbox is handed: its argv (and the full bubblewrap
command, so every host folder it binds), its environment, and every file of its scratch
directory at start (the read-only runner/, lib/ and checks/ folders included). A last cell of each
notebook walks `/` from inside (all but /proc, /sys, /dev, /usr and the interpreter's folders)
and prints every path it can read.

Asserted: the sandbox can read exactly the scratch files and a few system files, nothing of the
course (no source/, tinytorch/, gradebook, .tito/); the files it is handed are the runner's
scripts, the public spec, the published reference of earlier modules (or the student's own), the
student's own module and the release's cells; and none of it, nor argv or the environment,
holds a line of the module's own reference or of an unpublished module's, a hidden-test marker,
the course secret, or the reference's expected values for that submission's seed (raw bytes,
printed arrays, distinctive strings). The detector is shown to find each of those where they
are (source/, the oracle's values, the secret file), so its silence means something.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import nbformat
import pytest

from tito import course
from tito.build.student_module import student_module_source
from tito.grade.inner import script, valuepack
from tito.grade.run import autograde, load_result
from tito.grade.sandbox import BASE_ENV, SCRATCH, Sandbox

from . import catalogue as cat
from . import secrets
from .test_adversarial import LIMITS, make_course, needs_sandbox

WALK = '''import os, sys
skip = {"/proc", "/sys", "/dev", "/usr"} | {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix)}
for folder, dirs, files in os.walk("/"):
    dirs[:] = sorted(d for d in dirs if os.path.join(folder, d) not in skip
                     and os.path.realpath(os.path.join(folder, d)) not in skip)
    for name in sorted(files):
        path = os.path.join(folder, name)
        try:
            with open(path, "rb") as f:
                f.read(1)
            print("READABLE", path)
        except OSError:
            pass
'''
GRADED = {"alice": "02_activations", "bob": "03_layers"}
RUNNER_FILES = {"run_notebook.py", "checks_child.py", "run_cases.py", "casekit.py", "valuepack.py", "cases.py",
                "cells.json"}
SYSTEM = ("/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives/", "/etc/fonts/")
MADE_BY_THE_RUN = {".tito/stdout", ".tito/stderr", ".ipython/profile_default/startup/README"}


class Spy:
    """Everything the sandbox is handed, per call of `popen` or `run`."""

    def __init__(self):
        self.calls: list[dict] = []
        self.lock = threading.Lock()

    def record(self, sandbox: Sandbox, how: str, scratch, argv, readonly=(), env=None) -> None:
        scratch = Path(scratch)
        files = {}
        for path in sorted(scratch.rglob("*")):
            if path.is_file() and not path.is_symlink():
                files[path.relative_to(scratch).as_posix()] = path.read_bytes()
        with self.lock:
            self.calls.append(dict(how=how, scratch=scratch, argv=list(argv), readonly=[Path(p) for p in readonly],
                                   command=sandbox.command(scratch, argv, readonly),
                                   env=sandbox.environment(scratch, env), files=files))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("inside") / "course", ("01_tensor",), "student")
    ctx = cat.Context(root, "0", 0, course="secrets")
    notebooks = {}
    for student, module in GRADED.items():
        nb = cat.filled(ctx, module)
        nb.cells.append(nbformat.v4.new_code_cell(WALK, id="walk"))
        cat.write(root / "submitted" / student / module, module, nb)
        notebooks[student] = nb
    # bob's own 02_activations (nothing written) stands in for its unpublished reference
    cat.write(root / "submitted" / "bob" / "02_activations", "02_activations",
              cat.filled(ctx, "02_activations", profile="none"))
    spy = Spy()
    popen, run = Sandbox.popen, Sandbox.run

    def spy_popen(self, scratch, argv, **kwargs):
        spy.record(self, "popen", scratch, argv, kwargs.get("readonly", ()), kwargs.get("env"))
        return popen(self, scratch, argv, **kwargs)

    def spy_run(self, scratch, argv, **kwargs):
        spy.record(self, "run", scratch, argv, kwargs.get("readonly", ()), kwargs.get("env"))
        return run(self, scratch, argv, **kwargs)

    modules = course.discover(root)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Sandbox, "popen", spy_popen)
        patch.setattr(Sandbox, "run", spy_run)
        for student, module in GRADED.items():
            autograde(root, modules, selected=course.select(modules, module), students=[student], workers=1,
                      limits=LIMITS)
    results = {student: load_result(root, student, module) for student, module in GRADED.items()}
    return dict(root=root, spy=spy, results=results, notebooks=notebooks, modules={m.name: m for m in modules})


def _calls_of(graded, student: str) -> list[dict]:
    """The spy's records of one student's grading (their scratch folder is named after them)."""
    return [c for c in graded["spy"].calls if f"/{student}-{GRADED[student]}-" in str(c["scratch"])]


def _detector(graded, student: str) -> secrets.Detector:
    result = graded["results"][student]
    return secrets.Detector.for_submission(graded["root"], result.module, student, result.digest)


def _own_solution_free(detector: secrets.Detector, module: str) -> secrets.Detector:
    """The same detector without the fingerprints of `module`, wherever else they are one too (08's
    Conv2d draws its weights with a line of 03's Dense): for the files that hold the student's own
    code, which for a correct submission reads like the reference."""
    own = detector.solutions.get(module, set())
    return secrets.Detector({m: p - own for m, p in detector.solutions.items() if m != module}, detector.strings,
                            detector.raw, detector.words)


@pytest.mark.slow
@needs_sandbox
def test_both_submissions_are_graded_on_what_the_sandbox_held(graded):
    for student, module in GRADED.items():
        result = graded["results"][student]
        assert result is not None and result.status == "graded", (student, result and result.reason)
        assert _calls_of(graded, student), f"the spy saw no sandbox for {student}"
    assert graded["results"]["alice"].score == cat.FULL
    # bob's 03_layers is correct, but his own 02_activations stands in for the unpublished
    # reference and raises NotImplementedError: only the cases that use an activation disagree
    bob = graded["results"]["bob"]
    failed = [c for c in bob.checks if not c.passed]
    assert 0 < bob.score < cat.FULL and failed
    assert all("NotImplementedError" in c.message and "activations" in c.message for c in failed if not c.hidden), \
        [c.message for c in failed]


@pytest.mark.slow
@needs_sandbox
def test_the_sandbox_can_read_only_its_scratch_files_and_a_few_system_files(graded):
    root = graded["root"]
    for student, module in GRADED.items():
        executed = json.loads((root / "autograded" / student / module / f"{module}.ipynb").read_text())
        walk = next(c for c in executed["cells"] if c.get("id") == "walk")
        text = "".join("".join(o.get("text", "")) for o in walk["outputs"] if o.get("output_type") == "stream")
        readable = sorted(line.split(" ", 1)[1] for line in text.splitlines() if line.startswith("READABLE "))
        assert readable, f"{student}: the walk printed nothing"
        handed = {name for call in _calls_of(graded, student) for name in call["files"]}
        expected = {f"{SCRATCH}/{name}" for name in handed | MADE_BY_THE_RUN}
        outside = [p for p in readable if not p.startswith(SCRATCH + "/") and not p.startswith(SYSTEM)]
        assert outside == [], f"{student}: readable outside the scratch and the system files"
        # the scratch as the cells see it: what was handed in (the cases' results are wiped
        # before the first cell) and the files the run itself makes; nothing else
        assert {p for p in readable if p.startswith(SCRATCH + "/")} == expected
        assert {f"{SCRATCH}/runner/{n}" for n in RUNNER_FILES} <= set(readable)
        for name in ("source", "tinytorch", "gradebook.db", ".tito", "release", "submitted", "autograded"):
            assert not [p for p in readable if str(root / name) in p or p.startswith(f"/{name}")], name


ABSENT_STUB = (Path(__file__).resolve().parents[2] / "tito" / "grade" / "absent_package.py").resolve()


@pytest.mark.slow
@needs_sandbox
def test_what_the_sandbox_is_handed_is_public_or_the_students_own(graded):
    root, modules = graded["root"], graded["modules"]
    published = modules["01_tensor"].export_target.read_bytes()
    for student, module in GRADED.items():
        calls = _calls_of(graded, student)
        key = modules[module].export_module.rsplit(".", 1)[1]
        for call in calls:
            files = call["files"]
            runner = {n.split("/", 1)[1] for n in files if n.startswith("runner/")}
            assert runner == RUNNER_FILES, runner
            assert files["runner/cases.py"] == modules[module].cases_py.read_bytes()  # the public spec
            for name in RUNNER_FILES - {"cases.py", "cells.json"}:
                assert files[f"runner/{name}"] == script(name).read_bytes()
            for folder in ("lib", "checks/lib"):
                core = {n.rsplit("/", 1)[1]: data for n, data in files.items()
                        if n.startswith(f"{folder}/tinytorch/core/")}
                assert core["tensor.py"] == published
                if module == "03_layers":  # 02_activations is unpublished: bob's own stands in
                    own = student_module_source(root / "submitted" / "bob" / "02_activations" / "02_activations.ipynb",
                                                modules["02_activations"]).encode()
                    assert core["activations.py"] == own
                if folder == "lib":
                    assert f"{key}.py" not in core  # never module k's reference beside the cells
                    assert set(core) == {"__init__.py", "tensor.py"} | ({"activations.py"} if key == "layers" else set())
                else:  # the cases run on the student's own module k
                    notebook = root / "submitted" / student / module / f"{module}.ipynb"
                    assert core[f"{key}.py"] == student_module_source(notebook, modules[module]).encode()
            others = [n for n in files if not n.startswith(("runner/", "lib/", "checks/lib/"))]
            assert others == [], others
            # the cells: the release's and the student's own, nothing else
            release = nbformat.read(modules[module].release_ipynb, as_version=4)
            allowed = {c.source for c in release.cells} | {c.source for c in graded["notebooks"][student].cells}
            cells = json.loads(files["runner/cells.json"])
            assert cells and [c["source"] for c in cells if c["source"] not in allowed] == []
            # the environment: the fixed basics and where the earlier modules are, nothing of the host
            assert set(call["env"]) <= set(BASE_ENV) | {"PYTHONPATH"}
            assert not [v for v in call["env"].values() if str(root) in v]
            # the host folders bound into the sandbox: the system's, the interpreter's, the scratch,
            # and tito's one-line stub that stands in for a package student code may not import
            allowed_roots = [Path("/usr"), Path("/etc"), *(Path(p).resolve() for p in (sys.prefix, sys.base_prefix)),
                             call["scratch"].resolve(), ABSENT_STUB]
            command = call["command"]
            bound = [Path(command[i + 1]) for i, a in enumerate(command) if a in ("--ro-bind", "--bind", "--dev-bind")]
            strays = [p for p in bound if p != Path("/") and not any(p == r or r in p.parents for r in allowed_roots)]
            assert strays == [], strays
            assert not [a for a in call["argv"] if str(root) in a and not a.startswith(str(call["scratch"]))]


@pytest.mark.slow
@needs_sandbox
def test_no_secret_in_anything_the_sandbox_is_handed(graded):
    for student, module in GRADED.items():
        detector = _detector(graded, student)
        own = _own_solution_free(detector, module)
        key = graded["modules"][module].export_module.rsplit(".", 1)[1]
        found = []
        for call in _calls_of(graded, student):
            for name, data in call["files"].items():
                # the student's own code (their cells, their module k) reads like the reference of
                # module k when it is correct: there, every other secret is still looked for
                mine = name == "runner/cells.json" or name == f"checks/lib/tinytorch/core/{key}.py"
                found += [f"{name}: {leak}" for leak in (own if mine else detector).find_bytes(data)]
            found += [f"argv: {leak}" for leak in detector.find("\n".join(call["argv"] + call["command"]))]
            found += [f"env: {leak}" for leak in detector.find("\n".join(f"{k}={v}" for k, v in call["env"].items()))]
        assert found == [], (student, found[:10])


@pytest.mark.slow
@needs_sandbox
def test_the_detector_finds_each_secret_where_it_is(graded):
    root = graded["root"]
    for student, module in GRADED.items():
        detector = _detector(graded, student)
        result = graded["results"][student]
        # the reference solutions: the module's own, and (bob) the unpublished earlier one
        for name in {module, "02_activations"}:
            source = (root / "source" / name / f"{name}.py").read_bytes()
            assert any(leak.startswith(name + ":") for leak in detector.find_bytes(source)), name
        # the expected values: in the oracle's value pack, and printed
        answers = secrets.submission_answers(root, module, student, result.digest)
        assert any("bytes" in leak for leak in detector.find_bytes(valuepack.pack(answers["values"])))
        arrays = [v for v in answers["values"].values() if v.dtype.kind == "f" and v.size >= 4]
        assert arrays and detector.find(repr(arrays[0]) + "\n" + repr(float(arrays[-1].ravel()[-1])))
        # the course secret, as text and as bytes; a hidden-test marker
        secret_file = root / ".tito" / "course-secret"
        assert detector.find_bytes(secret_file.read_bytes())
        assert detector.find_bytes(bytes.fromhex(secret_file.read_text().strip()))
        assert detector.find("### BEGIN HIDDEN TESTS")
        # and through every encoding the catalogue's attacks use
        import base64
        import zlib

        text = (root / "source" / module / f"{module}.py").read_bytes()
        for encoded in (base64.b64encode(text), zlib.compress(text).hex().encode(),
                        base64.b64encode(zlib.compress(text)), text.decode()[::-1].encode(),
                        "\n".join(line[::-1] for line in text.decode().splitlines()).encode()):
            assert detector.find(encoded.decode()), encoded[:40]


def test_decoding_undoes_each_encoding_and_the_numbered_pieces():
    import base64
    import zlib

    secret = "x = np.maximum(scores - scores.max(axis=axis, keepdims=True), -1e9)"
    blob = base64.b64encode(zlib.compress(("header\n" + secret + "\n" * 50).encode())).decode()
    pieces = "\n".join(f"RuntimeError: LEAK {n} {blob[i:i + 24]}" for n, i in enumerate(range(0, len(blob), 24)))
    for text in (secret[::-1], base64.b64encode(secret.encode()).decode(), secret.encode().hex(),
                 base64.b64encode(zlib.compress(secret.encode())).decode(), zlib.compress(secret.encode()).hex(),
                 pieces):
        texts, _ = secrets.decode(text)
        assert any(secret in view for view in texts), text[:60]
    detector = secrets.Detector({"04_losses": {secret}})
    assert detector.find(f"<p>{base64.b64encode(secret.encode()).decode()}</p>")
    assert not detector.find("nothing to see here " * 20)
