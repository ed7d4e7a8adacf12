"""Integrity flags: student code that touches the grading machinery, and verdicts that disagree.

`scan` reads the student's cells statically (never runs them): the syntax tree where a cell
parses, its text where it does not (IPython magics and shell escapes are read line by line
first), and also where a cell is too long to parse here (over `PARSED_CELL_CHARS`: walking the
tree of 2 MB of `a,a,a,...` took 16 s of the supervisor's time) or nested too deeply to walk. Each finding becomes a `Flag(kind, evidence)` for a reviewer, with the cell, the line and
the code. A flag is not a verdict: it asks a human to look. Kinds:

    ipython-hook        get_ipython(), input transformers, AST transformers, events, run_cell, magics
    tracing-hook        sys.settrace / setprofile, threading.settrace, sys.addaudithook, sys.monitoring
    stream-hijack       replacing sys.stdout / sys.stderr / excepthook / displayhook, os.dup2
    numpy-patch         assigning to (or setattr/delattr on) numpy or numpy.testing attributes
    library-patch       assigning attributes of other imported modules (math.isclose = ...)
    module-patch        sys.modules / sys.meta_path / sys.path_hooks / importlib.reload tricks
    builtins-patch      builtins / __builtins__, rebinding builtins tests rely on (all, isinstance, ...)
    assert-helper       defining or rebinding AssertionError or assert* helpers (or protected names)
    eq-override         __eq__ / __bool__ / < ... returning a fixed truthy answer or `self`,
                        __ne__ a fixed falsy one (`return True`, `return self`, `return False`)
    reference-import    importing tinytorch.core.<the module under grade> (the reference solution)
    introspection       gc.get_referrers/get_objects, sys._getframe, inspect.stack, frame and
                        code objects (f_back, f_locals, __code__, __globals__)
    native-code         ctypes, cffi
    grading-env         any use of os.environ / getenv, mentioning NBGRADER_* or TITO_*, %env
    grading-import      importing nbgrader, tito, otter, nbclient, jupyter_client, ipykernel
    filesystem-probe    /proc, gradebook files, parent directories, the course's folders
    process-or-network  subprocess, os.system/popen/exec*/spawn*/fork, socket, urllib, requests,
                        shell escapes (!cmd, %%bash, %system)
    dynamic-code        exec, eval, compile, __import__, importlib.import_module

`cross_check` compares the verdicts: every graded cell passing while a differential check fails
is the signature of a notebook whose own tests were fooled ("tests-pass-checks-fail").
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping, Sequence

from tito import parsing
from tito.grade.model import CellResult, CheckResult, Flag

EVIDENCE_CODE_CAP = 160
PARSED_CELL_CHARS = 256 * 2**10  # solution cells are a few KB; the scan costs ~8 us per character
FLAGS_PER_KIND = 10

KNOWN_MODULES = {  # names the instructor's own cells import: resolvable even without an import here
    "np": "numpy", "numpy": "numpy", "sys": "sys", "os": "os", "gc": "gc", "inspect": "inspect",
    "builtins": "builtins", "threading": "threading", "ctypes": "ctypes", "subprocess": "subprocess",
    "socket": "socket", "importlib": "importlib", "IPython": "IPython", "math": "math",
    "warnings": "warnings", "unittest": "unittest", "pytest": "pytest",
}

TRACING = {"sys.settrace", "sys.setprofile", "threading.settrace", "threading.setprofile",
           "threading.settrace_all_threads", "threading.setprofile_all_threads", "sys.addaudithook",
           "sys.monitoring", "sys.gettrace", "sys.getprofile", "sys.call_tracing"}
INTROSPECTION = {"sys._getframe", "sys._current_frames", "sys._current_exceptions", "inspect.stack",
                 "inspect.currentframe", "inspect.getouterframes", "inspect.getinnerframes",
                 "inspect.trace", "inspect.getframeinfo", "gc.get_referrers", "gc.get_referents",
                 "gc.get_objects", "gc.get_stats"}
FRAME_ATTRIBUTES = {"f_back", "f_locals", "f_globals", "f_builtins", "f_code", "f_trace", "tb_frame",
                    "gi_frame", "cr_frame", "__code__", "__globals__"}
IPYTHON_ATTRIBUTES = {"input_transformers_cleanup", "input_transformers_post", "ast_transformers",
                      "input_splitter", "input_transformer_manager", "register_magic_function",
                      "register_magics", "set_custom_exc", "run_cell", "run_cell_async", "run_line_magic",
                      "run_cell_magic", "user_ns", "user_global_ns", "display_pub", "showtraceback",
                      "register_post_execute"}
STREAMS = {"stdout", "stderr", "__stdout__", "__stderr__", "excepthook", "displayhook", "unraisablehook"}
MODULE_HOOKS = {"sys.modules", "sys.meta_path", "sys.path_hooks", "sys.path_importer_cache",
                "importlib.reload", "importlib.invalidate_caches"}
PROCESS = {"os.system", "os.popen", "os.fork", "os.forkpty", "os.kill", "os.killpg", "os.posix_spawn",
           "os.posix_spawnp", "os.startfile", "os.execv", "os.execve", "os.execl", "os.execle",
           "os.execlp", "os.execlpe", "os.execvp", "os.execvpe", "os.spawnl", "os.spawnle",
           "os.spawnlp", "os.spawnlpe", "os.spawnv", "os.spawnve", "os.spawnvp", "os.spawnvpe",
           "os.dup2"}
PROCESS_MODULES = {"subprocess", "socket", "multiprocessing", "pty", "urllib", "http", "requests",
                   "ftplib", "smtplib", "telnetlib", "asyncio", "concurrent", "signal", "ssl", "webbrowser",
                   "xmlrpc", "paramiko", "httpx", "aiohttp", "pexpect", "sh"}
NATIVE_MODULES = {"ctypes", "_ctypes", "cffi", "mmap"}
GRADING_MODULES = {"nbgrader", "tito", "otter", "nbclient", "nbconvert", "jupyter_client", "ipykernel",
                   "traitlets", "IPython", "gradebook"}
STUDENT_TOOL = "tito.student"  # the closing check cell's import: the student's own tool, which
                               # grading skips (and which the sandbox cannot import anyway)


def _is_student_tool(name: str) -> bool:
    return name == STUDENT_TOOL or name.startswith(STUDENT_TOOL + ".")


DYNAMIC = {"exec", "eval", "compile", "__import__", "importlib.import_module", "importlib.__import__",
           "importlib.util.spec_from_file_location", "runpy.run_path", "runpy.run_module"}
ASSERT_BUILTINS = {"AssertionError", "Exception", "BaseException", "isinstance", "issubclass", "all",
                   "any", "abs", "bool", "float", "int", "len", "round", "type", "hasattr", "getattr",
                   "callable", "print", "repr", "str", "id", "sorted", "__import__", "exec", "eval",
                   "open", "object", "super", "NotImplementedError", "True", "False"}
COMPARISONS = {"__eq__", "__ne__", "__bool__", "__lt__", "__le__", "__gt__", "__ge__"}
ENV_NAMES = {"os.environ", "os.environb", "os.getenv", "os.getenvb", "os.putenv", "os.unsetenv"}
PROBE_STRINGS = re.compile(r"(^/proc\b|/proc/|gradebook|\.\./|^/work/|^/root\b|/etc/passwd|"
                           r"(^|/)(source|autograded|submitted|feedback|release)/\d\d_)")
GRADING_STRINGS = re.compile(r"NBGRADER|TITO_|JPY_PARENT_PID")
DEFAULT_EXP = re.compile(r"#\|\s*default_exp\s+(\S+)")

SHELL_MAGICS = {"system", "sx", "bash", "sh", "script", "perl", "ruby", "python", "python2",
                "python3", "pypy", "svg", "html", "javascript", "js", "writefile", "file"}
ENV_MAGICS = {"env", "set_env"}
BENIGN_MAGICS = {"matplotlib", "time", "timeit", "prun", "precision", "pprint", "who", "whos",
                 "pdef", "pdoc", "psource", "pinfo", "config", "capture", "debug", "xmode",
                 "page", "lsmagic", "magic", "history", "pwd", "automagic"}

# Text rules for cells that do not parse: (kind, pattern).
TEXT_RULES = [
    ("ipython-hook", re.compile(r"get_ipython|input_transformers|ast_transformers|input_splitter|"
                                r"register_magic|set_custom_exc|\brun_cell\b|events\.register")),
    ("tracing-hook", re.compile(r"\b(settrace|setprofile|addaudithook|monitoring)\b")),
    ("introspection", re.compile(r"\b(_getframe|get_referrers|get_referents|get_objects|f_back|f_locals|"
                                 r"f_globals|__code__|__globals__|_current_frames)\b|inspect\.(stack|currentframe)")),
    ("numpy-patch", re.compile(r"\b(np|numpy)(\.\w+)+\s*=[^=]|setattr\(\s*(np|numpy)\b")),
    ("builtins-patch", re.compile(r"__builtins__|\bbuiltins\b")),
    ("assert-helper", re.compile(r"^\s*(AssertionError|assert\w*)\s*=[^=]|^\s*def\s+assert\w*")),
    ("module-patch", re.compile(r"sys\.(modules|meta_path|path_hooks)|importlib\.reload")),
    ("native-code", re.compile(r"\b(ctypes|cffi)\b")),
    ("grading-env", re.compile(r"environ|getenv|NBGRADER|TITO_")),
    ("grading-import", re.compile(r"\b(import|from)\s+(nbgrader|tito(?!\.student\b)|otter|nbclient|jupyter_client|"
                                  r"ipykernel)\b")),
    ("filesystem-probe", re.compile(r"/proc\b|gradebook|\.\./")),
    ("process-or-network", re.compile(r"\b(subprocess|socket|urllib|requests|os\.system|os\.popen|"
                                      r"os\.fork|os\.exec\w*|os\.spawn\w*|multiprocessing|os\.dup2)\b")),
    ("dynamic-code", re.compile(r"\b(exec|eval|compile|__import__)\s*\(|import_module")),
    ("eq-override", re.compile(r"def\s+__(eq|ne|bool)__")),
]


# ----------------------------------------------------------------------------- scan

def scan(cells, *, module: str | Iterable[str] | None = None, protected: Iterable[str] = ()) -> list[Flag]:
    """Flags for the student's cells (solution cells and cells they added; not locked cells).

    `cells` is a list of sources (evidence then counts cells from 0 in that list), a mapping
    {notebook cell index: source} or a list of (index, source) pairs. `module` is the dotted
    module under grade (`tinytorch.core.optimizers`), or all of its files (`Module.export_modules`);
    when None it is read from a `#| default_exp` line in the cells, if any. `protected` names helpers defined by the
    instructor's locked cells (rebinding them is flagged like assert helpers).
    """
    pairs = _pairs(cells)
    module = module or _default_exp(pairs)
    modules = (module,) if isinstance(module, str) else tuple(module or ())
    scanner = _Scanner(modules, set(protected))
    for index, source in pairs:
        scanner.cell(index, source)
    return scanner.flags


def _pairs(cells) -> list[tuple[int, str]]:
    if isinstance(cells, Mapping):
        return [(int(i), str(s)) for i, s in cells.items()]
    pairs = []
    for position, item in enumerate(cells):
        if isinstance(item, tuple):
            pairs.append((int(item[0]), str(item[1])))
        else:
            pairs.append((position, str(item)))
    return pairs


def _default_exp(pairs) -> str | None:
    for _, source in pairs:
        match = DEFAULT_EXP.search(source)
        if match:
            target = match.group(1)
            return target if target.startswith("tinytorch.") else f"tinytorch.{target}"
    return None


class _Scanner:
    def __init__(self, modules: tuple[str, ...], protected: set[str]):
        self.modules = modules  # the files of the module under grade (dotted), none when unknown
        self.protected = protected
        self.aliases = dict(KNOWN_MODULES)  # name -> dotted module (or object) it stands for
        self.module_names: set[str] = set(KNOWN_MODULES)  # names bound by `import X` (modules)
        self.flags: list[Flag] = []
        self._seen: set[tuple[str, int, int]] = set()
        self._counts: dict[str, int] = {}

    def graded(self, name: str) -> str | None:
        """The file of the module under grade that `name` is or lies in (None: none of them)."""
        return next((m for m in self.modules if name == m or name.startswith(m + ".")), None)

    # ------------------------------------------------------------------ reporting
    def flag(self, kind: str, index: int, lineno: int, why: str) -> None:
        key = (kind, index, lineno)
        if key in self._seen:
            return
        self._seen.add(key)
        self._counts[kind] = self._counts.get(kind, 0) + 1
        if self._counts[kind] > FLAGS_PER_KIND:
            return
        code = self.lines[lineno - 1].strip() if 0 < lineno <= len(self.lines) else ""
        if len(code) > EVIDENCE_CODE_CAP:
            code = code[:EVIDENCE_CODE_CAP - 3] + "..."
        self.flags.append(Flag(kind, f"cell {index}, line {lineno}: {code}  [{why}]"))

    # ------------------------------------------------------------------ one cell
    def cell(self, index: int, source: str) -> None:
        self.index, self.lines = index, source.splitlines()
        python = self._magics(index, source)
        if python is None:
            return
        if len(python) > PARSED_CELL_CHARS:
            self._text(index, f"in a cell of {len(python):,} characters, read as text")
            return
        try:
            tree = parsing.parse(python)
        except SyntaxError:
            self._text(index, "in a cell that does not parse")
            return
        try:
            self._imports(tree)
            self._visit(tree)
        except RecursionError:  # `a.b.b.b...` 2,000 deep parses, but is too deep to walk
            self._text(index, "in a cell nested too deeply to read, read as text")

    def _magics(self, index: int, source: str) -> str | None:
        """Flag IPython magics and shell escapes; return the cell with them blanked (None: a
        cell magic made the whole cell non-Python)."""
        lines = source.splitlines()
        out = []
        for lineno, line in enumerate(lines, 1):
            stripped = line.lstrip()
            indent = line[:len(line) - len(stripped)]
            cell_magic = re.match(r"%%\s*(\w+)", stripped)
            line_magic = re.match(r"%\s*(\w+)", stripped)
            shell = stripped.startswith("!") or re.match(r"[\w\s,]+=\s*!", stripped)
            if cell_magic and not any(l.strip() for l in lines[:lineno - 1]):
                name = cell_magic.group(1)
                self._magic(name, index, lineno)
                if name in {"time", "timeit", "capture", "prun"}:
                    out.append(indent + "pass")
                    continue
                return None
            if shell:
                self.flag("process-or-network", index, lineno, "shell escape")
                out.append(indent + "pass")
            elif line_magic:
                self._magic(line_magic.group(1), index, lineno)
                out.append(indent + "pass")
            else:
                out.append(line)
        return "\n".join(out)

    def _magic(self, name: str, index: int, lineno: int) -> None:
        if name in SHELL_MAGICS:
            self.flag("process-or-network", index, lineno, f"%{name} runs code outside the cell")
        elif name in ENV_MAGICS:
            self.flag("grading-env", index, lineno, f"%{name} reads or sets the environment")
        elif name not in BENIGN_MAGICS:
            self.flag("ipython-hook", index, lineno, f"IPython magic %{name}")

    def _text(self, index: int, why: str) -> None:
        for lineno, line in enumerate(self.lines, 1):
            for kind, pattern in TEXT_RULES:
                if pattern.search(line):
                    self.flag(kind, index, lineno, why)

    # ------------------------------------------------------------------ names
    def _imports(self, tree: ast.AST) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    bound = alias.asname or alias.name.split(".")[0]
                    self.aliases[bound] = alias.name if alias.asname else alias.name.split(".")[0]
                    self.module_names.add(bound)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    if alias.name != "*":
                        self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def resolve(self, node: ast.AST) -> str | None:
        """The dotted name an expression stands for (`np.testing.assert_allclose`), if static."""
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call):
            base = self.resolve(node.func)
            return f"{base}()" if base else None
        if isinstance(node, ast.Subscript):
            base = self.resolve(node.value)
            return f"{base}[]" if base else None
        return None

    def _root_is_module(self, node: ast.AST) -> str | None:
        """For `a.b.c`, the module `a` stands for when `a` was bound by `import a`."""
        while isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        if isinstance(node, ast.Name) and node.id in self.module_names:
            return self.aliases.get(node.id, node.id)
        return None

    # ------------------------------------------------------------------ the tree
    def _visit(self, tree: ast.Module) -> None:
        for statement in tree.body:  # module level: rebinding of builtins and helpers
            self._top_level(statement)
        for node in ast.walk(tree):
            self._node(node)

    def _top_level(self, statement: ast.stmt) -> None:
        names: list[tuple[str, int]] = []
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append((statement.name, statement.lineno))
        elif isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            for target in targets:
                for node in ast.walk(target):
                    if isinstance(node, ast.Name):
                        names.append((node.id, statement.lineno))
        elif isinstance(statement, (ast.Import, ast.ImportFrom)):
            for alias in statement.names:
                if alias.asname:
                    names.append((alias.asname, statement.lineno))
        for name, lineno in names:
            if name == "AssertionError" or name.startswith("assert") or name in self.protected:
                self.flag("assert-helper", self.index, lineno, f"rebinds the test helper {name!r}")
            elif name in ASSERT_BUILTINS:
                self.flag("builtins-patch", self.index, lineno, f"shadows the builtin {name!r} for every later cell")

    def _node(self, node: ast.AST) -> None:
        index = self.index
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            self._import_node(node)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in COMPARISONS:
            self._comparison(node)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                # `__eq__ = lambda ...` in a class body, or `Tensor.__eq__ = lambda ...` anywhere
                name = target.id if isinstance(target, ast.Name) else getattr(target, "attr", None)
                if name in COMPARISONS and isinstance(node.value, ast.Lambda) and _fixed_answer(name, node.value.body):
                    self.flag("eq-override", index, node.lineno, f"{name} always answers the same")
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = (node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target])
            for target in targets:
                for part in _targets(target):
                    self._store(part, node.lineno)
        elif isinstance(node, ast.Call):
            self._call(node)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            self._attribute(node)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            self._name(node)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            self._string(node)
        elif isinstance(node, ast.Compare) and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
            if any(self.resolve(c) in ENV_NAMES for c in node.comparators):
                self.flag("grading-env", index, node.lineno, "looks into the environment")
        elif isinstance(node, (ast.For, ast.comprehension)):
            if self.resolve(node.iter) in ENV_NAMES:
                self.flag("grading-env", index, getattr(node, "lineno", node.iter.lineno), "lists the environment")

    def _import_node(self, node) -> None:
        modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                   else [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names])
        for name in modules:
            top = name.split(".")[0]
            graded = self.graded(name)
            if graded:
                self.flag("reference-import", self.index, node.lineno,
                          f"imports {graded}, the module under grade: the reference solution")
            if top in NATIVE_MODULES:
                self.flag("native-code", self.index, node.lineno, f"imports {top}")
            elif top in PROCESS_MODULES:
                self.flag("process-or-network", self.index, node.lineno, f"imports {top}")
            elif top in GRADING_MODULES and not _is_student_tool(name):
                self.flag("ipython-hook" if top in {"IPython", "ipykernel"} else "grading-import",
                          self.index, node.lineno, f"imports {top}")
            elif top == "builtins":
                self.flag("builtins-patch", self.index, node.lineno, "imports builtins")
            elif top == "gc" and isinstance(node, ast.ImportFrom):
                if any(f"gc.{a.name}" in INTROSPECTION for a in node.names):
                    self.flag("introspection", self.index, node.lineno, "imports object-graph walkers")

    def _comparison(self, node) -> None:
        """An answer fixed in advance, in the direction that makes asserts pass: `__eq__` (and
        `__bool__`, `<`, ...) always truthy or `self`, `__ne__` always falsy (None included)."""
        returns = [n for n in ast.walk(node) if isinstance(n, ast.Return)]
        raises = any(isinstance(n, ast.Raise) for n in ast.walk(node))
        if not returns and not raises and node.name == "__ne__":
            self.flag("eq-override", self.index, node.lineno, f"{node.name} returns nothing (None: never unequal)")
        for ret in returns:
            if _fixed_answer(node.name, ret.value):
                shown = ast.unparse(ret.value) if ret.value is not None else "None"
                self.flag("eq-override", self.index, ret.lineno, f"{node.name} returns {shown} instead of comparing")
                break

    def _store(self, target: ast.AST, lineno: int) -> None:
        name = self.resolve(target) or ""
        root = self._root_is_module(target)
        if isinstance(target, ast.Name):
            if target.id == "__builtins__":
                self.flag("builtins-patch", self.index, lineno, "rebinds __builtins__")
            return
        if root == "numpy" or name.startswith("numpy."):
            self.flag("numpy-patch", self.index, lineno, f"assigns {name or 'a numpy attribute'}")
        elif root == "builtins" or name.startswith(("builtins.", "__builtins__")):
            self.flag("builtins-patch", self.index, lineno, f"assigns {name}")
        elif any(name == hook or name.startswith(hook + ".") or name.startswith(hook + "[") for hook in MODULE_HOOKS):
            self.flag("module-patch", self.index, lineno, f"assigns {name}")
        elif name.startswith("sys.") and name.split(".")[1].split("[")[0] in STREAMS:
            self.flag("stream-hijack", self.index, lineno, f"replaces {name}")
        elif name in ENV_NAMES or name.startswith("os.environ"):
            return  # the Load of os.environ inside the target is reported already
        elif root and not root.startswith("tinytorch"):
            self.flag("library-patch", self.index, lineno, f"assigns {name} (monkeypatches {root})")
        if isinstance(target, ast.Attribute) and target.attr in FRAME_ATTRIBUTES:
            self.flag("introspection", self.index, lineno, f"assigns {target.attr}")

    def _call(self, node: ast.Call) -> None:
        name = self.resolve(node.func) or ""
        index, lineno = self.index, node.lineno
        if name in DYNAMIC or name.endswith(".import_module"):
            self.flag("dynamic-code", index, lineno, f"calls {name}")
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                self._dynamic_import(node.args[0].value, lineno)
        if name in {"setattr", "delattr", "getattr", "hasattr"} and len(node.args) >= 2:
            owner = self.resolve(node.args[0]) or ""
            root = self._root_is_module(node.args[0])
            attr = node.args[1].value if isinstance(node.args[1], ast.Constant) else None
            dotted = f"{owner}.{attr}" if attr else f"{owner}.<computed>"
            if name in {"setattr", "delattr"}:
                if root == "numpy" or owner.startswith("numpy"):
                    self.flag("numpy-patch", index, lineno, f"{name} on {owner}")
                elif root == "builtins" or owner.startswith(("builtins", "__builtins__")):
                    self.flag("builtins-patch", index, lineno, f"{name} on {owner}")
                elif owner.startswith("sys"):
                    self.flag("stream-hijack" if attr in STREAMS else "module-patch", index, lineno, f"{name} on {owner}")
                elif root and not root.startswith("tinytorch"):
                    self.flag("library-patch", index, lineno, f"{name} on {owner}")
            if attr:
                self._dotted(dotted, lineno)
        if name in {"vars", "globals", "locals"} and node.args:
            owner = self.resolve(node.args[0]) or ""
            if owner in {"numpy", "builtins"} or owner.startswith("numpy."):
                self.flag("numpy-patch" if owner.startswith("numpy") else "builtins-patch", index, lineno,
                          f"{name}({owner}) hands out the module's namespace")

    def _dynamic_import(self, text: str, lineno: int) -> None:
        if self.graded(text):
            self.flag("reference-import", self.index, lineno, f"imports {text} dynamically")

    def _attribute(self, node: ast.Attribute) -> None:
        name = self.resolve(node)
        if name:
            self._dotted(name, node.lineno)
        if node.attr in FRAME_ATTRIBUTES:
            self.flag("introspection", self.index, node.lineno, f"reads .{node.attr}")
        if node.attr in IPYTHON_ATTRIBUTES:
            self.flag("ipython-hook", self.index, node.lineno, f"touches .{node.attr} (IPython's machinery)")
        if node.attr == "register" and isinstance(node.value, ast.Attribute) and node.value.attr == "events":
            self.flag("ipython-hook", self.index, node.lineno, "registers an IPython event callback")

    def _dotted(self, name: str, lineno: int) -> None:
        index = self.index
        bare = name.replace("()", "").replace("[]", "")
        tracing = [t for t in TRACING if bare == t or bare.startswith(t + ".")]
        introspection = [t for t in INTROSPECTION if bare == t or bare.startswith(t + ".")]
        if tracing:
            self.flag("tracing-hook", index, lineno, f"uses {tracing[0]}")
        elif introspection:
            self.flag("introspection", index, lineno, f"uses {introspection[0]}")
        elif bare in PROCESS or bare.startswith(("subprocess.", "socket.", "multiprocessing.", "pty.")):
            self.flag("process-or-network", index, lineno, f"uses {bare}")
        elif bare.startswith(("ctypes.", "cffi.")) or bare in {"ctypes", "cffi"}:
            self.flag("native-code", index, lineno, f"uses {bare}")
        elif bare in ENV_NAMES or bare.startswith(("os.environ.", "os.environb.")):
            self.flag("grading-env", index, lineno, f"uses {bare}")
        elif bare.startswith(("get_ipython", "IPython.", "ipykernel.")):
            self.flag("ipython-hook", index, lineno, f"uses {bare}")
        elif any(bare == t or bare.startswith(t + ".") for t in MODULE_HOOKS):
            self.flag("module-patch", index, lineno, f"uses {bare}")
        elif bare.startswith(("builtins.", "__builtins__")):
            self.flag("builtins-patch", index, lineno, f"uses {bare}")
        graded = self.graded(bare)
        if graded:
            self.flag("reference-import", index, lineno, f"uses {graded}, the module under grade")

    def _name(self, node: ast.Name) -> None:
        name = self.aliases.get(node.id, node.id)
        if node.id == "get_ipython" or name.endswith(".get_ipython"):
            self.flag("ipython-hook", self.index, node.lineno, "uses get_ipython()")
        elif node.id == "__builtins__":
            self.flag("builtins-patch", self.index, node.lineno, "uses __builtins__")
        elif name in TRACING or name in INTROSPECTION or name in PROCESS or name in ENV_NAMES:
            if name != node.id:  # `from sys import settrace` then `settrace(...)`
                self._dotted(name, node.lineno)
        elif node.id in {"exec", "eval", "compile", "__import__"} and node.id == name:
            self.flag("dynamic-code", self.index, node.lineno, f"uses {node.id}")

    def _string(self, node: ast.Constant) -> None:
        text = node.value
        if len(text) > 400:
            return  # docstrings and prose
        if GRADING_STRINGS.search(text):
            self.flag("grading-env", self.index, node.lineno, "mentions a grading variable")
        if PROBE_STRINGS.search(text):
            self.flag("filesystem-probe", self.index, node.lineno, f"path {text[:60]!r}")
        if any(text.strip() in {m, m.replace(".", "/") + ".py"} for m in self.modules):
            self.flag("reference-import", self.index, node.lineno, f"names {text!r}")


def _targets(target: ast.AST) -> list[ast.AST]:
    if isinstance(target, (ast.Tuple, ast.List)):
        return [t for element in target.elts for t in _targets(element)]
    if isinstance(target, ast.Starred):
        return _targets(target.value)
    return [target]


def _fixed_answer(method: str, value: ast.AST | None) -> bool:
    """True when `method` returns an answer that does not depend on what is compared and makes
    an assert pass: `self`, or a constant that is truthy (falsy for `__ne__`)."""
    if isinstance(value, ast.Name) and value.id == "self":
        return True
    if value is None:
        return method == "__ne__"
    if isinstance(value, ast.Constant):
        return (not value.value) if method == "__ne__" else bool(value.value)
    return False


# ----------------------------------------------------------------------------- cross-check

def cross_check(cells: Sequence[CellResult], checks: Sequence[CheckResult]) -> list[Flag]:
    """A flag for every graded cell whose notebook verdict and cases disagree.

    "tests-pass-checks-fail": the cell passed in the notebook (no error, no stderr) but a case
    bound to it disagrees with the reference: the verdict the student's process gave is not the
    one the values give (a forged verdict looks like this; so does a bug the visible test misses).
    "tests-fail-checks-pass": the other way round (a test the cases do not cover, a warning on
    stderr, or a notebook that was sabotaged). Points never depend on these flags.
    """
    flags = []
    for cell in cells:
        cases = [c for c in checks if c.cell == cell.grade_id]
        if not cases or cell.ename == "NotRun":
            continue
        failed = [c for c in cases if not c.passed]
        if cell.notebook_passed and failed:
            listed = "; ".join("a hidden case" if c.hidden else f"{c.name}: {c.message}" for c in failed[:4])
            more = f" (and {len(failed) - 4} more)" if len(failed) > 4 else ""
            flags.append(Flag("tests-pass-checks-fail", (
                f"{cell.grade_id} passed in the notebook, but {len(failed)} of its {len(cases)} cases "
                f"disagree with the reference: {listed}{more}")[:2000]))
        elif not cell.notebook_passed and not failed:
            flags.append(Flag("tests-fail-checks-pass", (
                f"{cell.grade_id} failed in the notebook ({cell.ename}), but all {len(cases)} of its "
                f"cases agree with the reference")[:2000]))
    return flags
