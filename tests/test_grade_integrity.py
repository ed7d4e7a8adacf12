"""Integrity flags: one tiny cell per kind of trick, the exact flag it raises, and no flag at all
on any honest cell the course ships (reference solutions, stubs, demo cells)."""

import re
from pathlib import Path

import nbformat
import pytest

from tito.course import discover
from tito.grade import integrity
from tito.grade.model import CellResult, CheckResult, Flag
from tito.source import nbgrader_meta, read_source

REPO = Path(__file__).resolve().parents[1]
MODULE = "tinytorch.core.optimizers"


def flags_of(source: str, **kwargs) -> list[tuple[str, str]]:
    return [(f.kind, f.evidence) for f in integrity.scan([source], module=MODULE, **kwargs)]


# (kind, cell, expected evidence): the evidence names the cell, the line and the code.
CASES = [
    ("ipython-hook",
     "ip = get_ipython()\nip.input_transformers_cleanup.append(lambda lines: [])",
     "cell 0, line 1: ip = get_ipython()  [uses get_ipython()]"),
    ("ipython-hook",
     "from IPython import get_ipython\nget_ipython().events.register('pre_run_cell', lambda: None)",
     "cell 0, line 1: from IPython import get_ipython  [imports IPython]"),
    ("tracing-hook",
     "import sys\nsys.settrace(lambda *a: None)",
     "cell 0, line 2: sys.settrace(lambda *a: None)  [uses sys.settrace]"),
    ("tracing-hook",
     "import threading\nthreading.settrace(print)",
     "cell 0, line 2: threading.settrace(print)  [uses threading.settrace]"),
    ("tracing-hook",
     "from sys import addaudithook as hook\nhook(print)",
     "cell 0, line 2: hook(print)  [uses sys.addaudithook]"),
    ("stream-hijack",
     "import io, sys\nsys.stderr = io.StringIO()",
     "cell 0, line 2: sys.stderr = io.StringIO()  [replaces sys.stderr]"),
    ("numpy-patch",
     "import numpy as np\nnp.allclose = lambda *a, **k: True",
     "cell 0, line 2: np.allclose = lambda *a, **k: True  [assigns numpy.allclose]"),
    ("numpy-patch",
     "import numpy.testing as npt\nnpt.assert_allclose = print",
     "cell 0, line 2: npt.assert_allclose = print  [assigns numpy.testing.assert_allclose]"),
    ("numpy-patch",
     "setattr(np.testing, 'assert_array_equal', print)",
     "cell 0, line 1: setattr(np.testing, 'assert_array_equal', print)  [setattr on numpy.testing]"),
    ("library-patch",
     "import math\nmath.isclose = lambda *a, **k: True",
     "cell 0, line 2: math.isclose = lambda *a, **k: True  [assigns math.isclose (monkeypatches math)]"),
    ("module-patch",
     "import sys\nsys.modules['numpy'] = object()",
     "cell 0, line 2: sys.modules['numpy'] = object()  [assigns sys.modules[]]"),
    ("builtins-patch",
     "import builtins\nbuiltins.isinstance = lambda *a: True",
     "cell 0, line 1: import builtins  [imports builtins]"),
    ("builtins-patch",
     "__builtins__.all = lambda x: True",
     "cell 0, line 1: __builtins__.all = lambda x: True  [assigns __builtins__.all]"),
    ("builtins-patch",
     "all = lambda values: True",
     "cell 0, line 1: all = lambda values: True  [shadows the builtin 'all' for every later cell]"),
    ("assert-helper",
     "class AssertionError(Exception):\n    pass",
     "cell 0, line 1: class AssertionError(Exception):  [rebinds the test helper 'AssertionError']"),
    ("assert-helper",
     "def assert_close(*args, **kwargs):\n    return None",
     "cell 0, line 1: def assert_close(*args, **kwargs):  [rebinds the test helper 'assert_close']"),
    ("eq-override",
     "class Always(int):\n    def __eq__(self, other):\n        return True",
     "cell 0, line 3: return True  [__eq__ returns True instead of comparing]"),
    ("eq-override",
     "class Me:\n    def __eq__(self, other):\n        return self",
     "cell 0, line 3: return self  [__eq__ returns self instead of comparing]"),
    ("eq-override",
     "class Never:\n    def __ne__(self, other):\n        return False",
     "cell 0, line 3: return False  [__ne__ returns False instead of comparing]"),
    ("eq-override",
     "class Truthy:\n    __bool__ = lambda self: True",
     "cell 0, line 2: __bool__ = lambda self: True  [__bool__ always answers the same]"),
    ("eq-override",
     "Tensor.__eq__ = lambda self, other: True",
     "cell 0, line 1: Tensor.__eq__ = lambda self, other: True  [__eq__ always answers the same]"),
    ("reference-import",
     "from tinytorch.core.optimizers import SGD as Reference",
     "cell 0, line 1: from tinytorch.core.optimizers import SGD as Reference  "
     "[imports tinytorch.core.optimizers, the module under grade: the reference solution]"),
    ("reference-import",
     "from tinytorch.core import optimizers",
     "cell 0, line 1: from tinytorch.core import optimizers  "
     "[imports tinytorch.core.optimizers, the module under grade: the reference solution]"),
    ("introspection",
     "import gc\nowners = gc.get_referrers(object())",
     "cell 0, line 2: owners = gc.get_referrers(object())  [uses gc.get_referrers]"),
    ("introspection",
     "import sys\ncaller = sys._getframe(1).f_locals",
     "cell 0, line 2: caller = sys._getframe(1).f_locals  [uses sys._getframe]"),
    ("introspection",
     "import inspect\nframes = inspect.stack()",
     "cell 0, line 2: frames = inspect.stack()  [uses inspect.stack]"),
    ("native-code",
     "import ctypes\nctypes.pythonapi.Py_IncRef",
     "cell 0, line 1: import ctypes  [imports ctypes]"),
    ("grading-env",
     "import os\ngrading = os.environ.get('NBGRADER_EXECUTION')",
     "cell 0, line 2: grading = os.environ.get('NBGRADER_EXECUTION')  [uses os.environ.get]"),
    ("grading-env",
     "%env",
     "cell 0, line 1: %env  [%env reads or sets the environment]"),
    ("grading-import",
     "from nbgrader.api import Gradebook",
     "cell 0, line 1: from nbgrader.api import Gradebook  [imports nbgrader]"),
    ("grading-import",
     "from tito.grade import gradebook",
     "cell 0, line 1: from tito.grade import gradebook  [imports tito]"),
    ("filesystem-probe",
     "text = open('/proc/self/cmdline').read()",
     "cell 0, line 1: text = open('/proc/self/cmdline').read()  [path '/proc/self/cmdline']"),
    ("filesystem-probe",
     "db = '../../../gradebook.db'",
     "cell 0, line 1: db = '../../../gradebook.db'  [path '../../../gradebook.db']"),
    ("process-or-network",
     "import subprocess\nsubprocess.run(['ls'])",
     "cell 0, line 1: import subprocess  [imports subprocess]"),
    ("process-or-network",
     "import os\nos.system('cat /etc/hostname')",
     "cell 0, line 2: os.system('cat /etc/hostname')  [uses os.system]"),
    ("process-or-network",
     "import socket",
     "cell 0, line 1: import socket  [imports socket]"),
    ("process-or-network",
     "!cat ../../gradebook.db",
     "cell 0, line 1: !cat ../../gradebook.db  [shell escape]"),
    ("process-or-network",
     "%%bash\ncat /etc/passwd",
     "cell 0, line 1: %%bash  [%bash runs code outside the cell]"),
    ("dynamic-code",
     "exec('import sy' + 's')",
     "cell 0, line 1: exec('import sy' + 's')  [calls exec]"),
]


@pytest.mark.parametrize("kind, source, evidence", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_trick_raises_its_flag(kind, source, evidence):
    found = flags_of(source)
    assert (kind, evidence) in found, found


def test_every_kind_is_covered():
    documented = set(re.findall(r"^    ([a-z][a-z-]+)  ", integrity.__doc__, flags=re.MULTILINE))
    assert documented == {kind for kind, _, _ in CASES}


def test_a_cell_that_does_not_parse_is_read_as_text():
    found = flags_of("def broken(:\n    sys.settrace(f)")
    assert ("tracing-hook", "cell 0, line 2: sys.settrace(f)  [in a cell that does not parse]") in found


def test_a_cell_too_long_to_parse_here_is_read_as_text():
    """Walking the syntax tree costs the supervisor about 8 us a character (2 MB of `a,a,a,...`
    took 16 s): a cell over PARSED_CELL_CHARS is read as text, and still flagged."""
    filler = "x = (" + "1," * (integrity.PARSED_CELL_CHARS // 2) + ")"
    found = flags_of(f"{filler}\nsys.settrace(f)")
    length = len(filler) + len("\nsys.settrace(f)")
    assert found == [("tracing-hook", f"cell 0, line 2: sys.settrace(f)  [in a cell of {length:,} characters, read as text]")]


def test_a_cell_too_deep_to_walk_is_read_as_text():
    """`a.b.b.b...` 2,000 deep parses, but walking it recursively raised RecursionError, which
    was an internal grading error for the whole submission."""
    found = flags_of("y = a" + ".b" * 2000 + "\nsys.settrace(f)")
    assert found == [("tracing-hook", "cell 0, line 2: sys.settrace(f)  [in a cell nested too deeply to read, read as text]")]


def test_evidence_uses_the_notebook_cell_index():
    flags = integrity.scan({12: "x = 1", 40: "import ctypes"})
    assert [(f.kind, f.evidence) for f in flags] == [("native-code", "cell 40, line 1: import ctypes  [imports ctypes]")]


def test_the_module_under_grade_is_read_from_default_exp():
    flags = integrity.scan(["#| default_exp core.layers\nimport numpy as np",
                            "from tinytorch.core.layers import Dense"])
    assert [f.kind for f in flags] == ["reference-import"]
    earlier = integrity.scan(["#| default_exp core.layers", "from tinytorch.core.tensor import Tensor"])
    assert earlier == []


def test_every_file_of_the_module_under_grade_is_its_reference():
    files = ("tinytorch.core.autograd", "tinytorch.core.variable")
    cells = ["from tinytorch.core.variable import Variable", "import tinytorch.core.autograd as ag",
             "from tinytorch.core.tensor import Tensor", "path = 'tinytorch/core/variable.py'"]
    flags = integrity.scan(cells, module=files)
    assert [(f.kind, f.evidence) for f in flags] == [
        ("reference-import", "cell 0, line 1: from tinytorch.core.variable import Variable  "
                             "[imports tinytorch.core.variable, the module under grade: the reference solution]"),
        ("reference-import", "cell 1, line 1: import tinytorch.core.autograd as ag  "
                             "[imports tinytorch.core.autograd, the module under grade: the reference solution]"),
        ("reference-import", "cell 3, line 1: path = 'tinytorch/core/variable.py'  "
                             "[names 'tinytorch/core/variable.py']")]


def test_protected_helpers():
    found = flags_of("check_close = print", protected={"check_close"})
    assert found == [("assert-helper", "cell 0, line 1: check_close = print  [rebinds the test helper 'check_close']")]


def test_honest_look_alikes_are_not_flagged():
    honest = '''
import numpy as np
from tinytorch.core.tensor import Tensor


class Wrapper:
    def __eq__(self, other):
        return Tensor(self.data == other.data, dtype=bool)

    def __ne__(self, other):
        return NotImplemented

    def __bool__(self):
        return bool(self.data)

    def __lt__(self, other):
        raise NotImplementedError()


def step(self, grad):
    Tensor.grad_enabled = False
    self.velocity *= 0.9
    grad.data[...] = 0.0
    np.add.at(grad, [0], 1.0)
    total = max(1, 2)
    return np.allclose(grad, 0)
'''
    assert flags_of(honest) == []


def test_the_students_own_check_tool_is_not_grading_machinery():
    assert flags_of('from tito.student import check_module\n\ncheck_module("01_tensor")') == []
    assert [f.kind for f in integrity.scan({0: "import tito.student.check"})] == []
    assert [f.kind for f in integrity.scan({0: "from tito import student"})] == ["grading-import"]


def source_cells(module, notebook):
    """Every code cell a student can edit: solution cells, export cells, unlocked demo cells
    (the closing check cell included: its `tito.student` import is the student's own tool)."""
    cells = {}
    for index, cell in enumerate(notebook.cells):
        meta = nbgrader_meta(cell)
        if cell.cell_type == "code" and not meta.get("locked") and not (meta.get("grade") and not meta.get("solution")):
            cells[index] = cell.source
    return cells


@pytest.mark.parametrize("module", discover(REPO), ids=lambda m: m.name)
def test_no_flags_on_the_reference_solutions_and_the_release(module):
    for notebook in (read_source(module.source_py), nbformat.read(module.release_ipynb, as_version=4)):
        cells = source_cells(module, notebook)
        assert cells
        assert integrity.scan(cells, module=module.export_modules) == []


# ----------------------------------------------------------------------------- cross-check

def cell(grade_id, passed=True):
    return CellResult(grade_id=grade_id, max_points=10, points=10 if passed else 0, passed=passed,
                      ename=None if passed else "AssertionError", notebook_passed=passed)


def check(name, passed=True, message="", cell="a", hidden=False):
    return CheckResult(name=name, max_points=0, points=0, passed=passed, message=message, cell=cell, hidden=hidden)


def test_a_cell_that_passed_in_the_notebook_while_a_case_disagrees_is_flagged():
    flags = integrity.cross_check([cell("a"), cell("b")],
                                  [check("polynomial"), check("diamond", False, "grad leaf: expected 1.0 got 2.0"),
                                   check("chain", cell="b")])
    assert flags == [Flag("tests-pass-checks-fail",
                          "a passed in the notebook, but 1 of its 2 cases disagree with the reference: "
                          "diamond: grad leaf: expected 1.0 got 2.0")]


def test_every_disagreeing_cell_is_flagged_and_hidden_messages_are_not_repeated():
    # Sparing one cell (or the checkpoint) no longer keeps the others quiet.
    flags = integrity.cross_check([cell("a"), cell("b"), cell("c", False)],
                                  [check("x", False, "v: got 2", cell="a"), check("y", False, "w: got 3", cell="b",
                                                                                  hidden=True),
                                   check("z", False, cell="c")])
    assert [f.evidence for f in flags] == [
        "a passed in the notebook, but 1 of its 1 cases disagree with the reference: x: v: got 2",
        "b passed in the notebook, but 1 of its 1 cases disagree with the reference: a hidden case"]


def test_a_cell_that_failed_in_the_notebook_while_its_cases_agree_is_flagged():
    stderr = CellResult(grade_id="b", max_points=10, points=0, passed=False, ename=None, stderr=True)
    flags = integrity.cross_check([stderr], [check("x", cell="b")])
    assert flags == [Flag("tests-fail-checks-pass",
                          "b failed in the notebook (None), but all 1 of its cases agree with the reference")]


@pytest.mark.parametrize("cells, checks", [
    ([cell("a", False)], [check("x", False)]),               # the notebook's test saw the bug too
    ([cell("a")], [check("x")]),                             # everything agrees
    ([], [check("x", False)]),                               # nothing graded in the notebook
    ([cell("a")], []),                                       # no cases
    ([cell("a")], [check("x", False, cell="b")]),            # the case belongs to another cell
])
def test_no_cross_check_flag_when_verdicts_agree(cells, checks):
    assert integrity.cross_check(cells, checks) == []
