"""The sandbox's properties, each tried by a real command and checked from the host.

Each test runs untrusted-looking code through `Sandbox.run` and asserts on what came back AND on
the host (files untouched, no surviving processes), since the sandboxed code could lie. The
tests skip only when `Sandbox.missing_layers()` says the machine cannot sandbox at all; on the
grading machine and in CI they run.
"""

from __future__ import annotations

import glob
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tito.grade import sandbox as sandbox_module
from tito.grade.sandbox import Limits, RunOutcome, Sandbox, SandboxUnavailable

REPO = Path(__file__).resolve().parents[1]
MISSING = Sandbox.missing_layers()
needs_sandbox = pytest.mark.skipif(bool(MISSING), reason=f"this machine cannot sandbox: {'; '.join(MISSING)}")
pytestmark = needs_sandbox


def py(sb: Sandbox, scratch: Path, code: str, *, timeout: float = 30, **kwargs) -> RunOutcome:
    return sb.run(scratch, ["python", "-c", code], timeout=timeout, **kwargs)


def marker() -> str:
    """A unique `sleep` argument, so the host can find exactly this test's processes."""
    return f"{4000 + os.getpid() % 1000}.{time.time_ns() % 10**9:09d}"


def survivors(mark: str) -> list[int]:
    """Host pids of processes running `sleep <mark>`."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                    if mark.encode() in f.read().split(b"\0"):
                        found.append(int(entry.name))
            except OSError:
                pass
    return found


@pytest.fixture
def sb() -> Sandbox:
    return Sandbox(Limits())


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    return tmp_path / "student_a"


def test_layers_present_on_this_machine():
    assert MISSING == []


def test_command_shape(sb, scratch):
    """No network, pid or user namespace is forgotten, and nothing of the repo is bound."""
    cmd = sb.command(scratch, ["python", "-c", "pass"])
    for flag in ("--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-user", "--disable-userns",
                 "--die-with-parent", "--new-session", "--clearenv", "--no-new-privs"):
        assert flag in cmd
    bound = [cmd[i + 1] for i, a in enumerate(cmd) if a in ("--ro-bind", "--bind")]
    # of the repository: the venv, and the one-line stub that stands in for scikit-learn's __init__
    bound = [b for b in bound if Path(b) != sandbox_module.ABSENT_PACKAGE]
    venv = REPO / ".venv"
    assert not any(Path(b) == REPO or (REPO in Path(b).parents and not (Path(b) == venv or venv in Path(b).parents))
                   for b in bound)
    assert {str(REPO / ".venv"), str(Path(sys.prefix)), str(Path(sys.prefix).resolve())} & set(bound)
    assert cmd[cmd.index("--bind") + 2] == "/scratch"


def test_runs_as_nobody_without_privileges(sb, scratch):
    out = py(sb, scratch, "import os\nstatus = open('/proc/self/status').read()\n"
             "caps = [l.split()[1] for l in status.splitlines() if l.startswith(('CapEff', 'CapPrm', 'CapBnd'))]\n"
             "nnp = [l.split()[1] for l in status.splitlines() if l.startswith('NoNewPrivs')]\n"
             "print(os.getuid(), os.geteuid(), os.getgid(), os.getgroups(), caps, nnp, os.getcwd())")
    assert out.returncode == 0, out.stderr
    assert out.stdout.decode().strip() == "65534 65534 65534 [] ['0000000000000000', '0000000000000000', '0000000000000000'] ['1'] /scratch"


def test_uid_is_nobody_on_the_host_too(sb, scratch):
    """The user namespace maps 65534 to host 65534 (not to root, as a lone root bwrap would)."""
    out = py(sb, scratch, "print(open('/proc/self/uid_map').read().split())")
    assert out.stdout.decode().strip() == "['65534', '65534', '1']"


def test_cannot_see_anything_outside_scratch(sb, tmp_path):
    """The course repo, a gradebook beside the scratch dir and another student's dir: all ENOENT."""
    (tmp_path / "gradebook.db").write_text("hidden tests")
    other = tmp_path / "student_b"
    other.mkdir()
    (other / "answer.py").write_text("secret")
    scratch = tmp_path / "student_a"
    targets = [REPO / "source", REPO / "tinytorch" / "core" / "tensor.py", REPO / "nbgrader_config.py",
               REPO / "tito", tmp_path / "gradebook.db", other / "answer.py", "../gradebook.db",
               "../student_b/answer.py", "/root/.bash_history", "/etc/passwd", "/etc/shadow", "/home", "/var"]
    code = ("import os\nfor t in %r:\n    print(t, os.path.exists(t))" % [str(t) for t in targets])
    out = py(sb, scratch, code)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.decode().splitlines()
    assert lines == [f"{t} False" for t in targets]
    listing = ("import os, importlib.util\n"
               "ls = lambda d: sorted(os.listdir(d)) if os.path.isdir(d) else []\n"
               f"print(ls('/'), ls('/root'), ls({str(REPO)!r}), importlib.util.find_spec('tito'),"
               " importlib.util.find_spec('tinytorch'), sep='|')")
    top, home, repo, tito_spec, tinytorch_spec = py(sb, scratch, listing).stdout.decode().strip().split("|")
    system = {"bin", "dev", "etc", "lib", "lib64", "proc", "sbin", "scratch", "tmp", "usr"}
    assert set(eval(top)) <= system | interpreter_path_names(Path("/"))
    assert eval(home) == sorted(interpreter_path_names(Path("/root")))
    assert eval(repo) == sorted(interpreter_path_names(REPO))
    assert (tito_spec, tinytorch_spec) == ("None", "None")


def interpreter_path_names(parent: Path) -> set[str]:
    """The names directly under `parent` that the sandbox creates on the way to the interpreter's
    binds: the only entries it may show there (where the checkout lives differs per machine)."""
    names = set()
    for directory in sandbox_module._interpreter_dirs():
        for path in (directory, directory.resolve()):
            if parent in path.parents:
                names.add(path.relative_to(parent).parts[0])
    return names


def test_readonly_system_private_tmp(sb, scratch):
    code = ("import os, errno\n"
            "for p in ['/usr/evil', '/etc/evil', %r]:\n"
            "    try: open(p, 'w'); print('WROTE', p)\n"
            "    except OSError as e: print(errno.errorcode[e.errno])\n"
            "open('/tmp/mine', 'w').write('x'); open('/scratch/mine', 'w').write('y')\n"
            "print(os.statvfs('/tmp').f_blocks * os.statvfs('/tmp').f_frsize)" % str(Path(sys.prefix) / "evil"))
    out = py(sb, scratch, code)
    lines = out.stdout.decode().split()
    assert lines[:3] == ["EROFS", "EROFS", "EROFS"], out.stderr
    assert int(lines[3]) == sandbox_module.TMP_SIZE
    assert not Path("/tmp/mine").exists() or Path("/tmp/mine").stat().st_uid != 65534
    assert (scratch / "mine").read_text() == "y"
    assert (scratch / "mine").stat().st_uid == 65534


def test_no_network(sb, scratch):
    """The host's loopback port and the outside world are unreachable; only a private `lo`."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    port = listener.getsockname()[1]
    code = ("import socket\n"
            "def attempt(host, port):\n"
            "    s = socket.socket(); s.settimeout(2)\n"
            "    try: s.connect((host, port)); return 'CONNECTED'\n"
            "    except OSError as e: return type(e).__name__\n"
            f"print(attempt('127.0.0.1', {port}), attempt('1.1.1.1', 53), attempt('10.0.0.1', 80))\n"
            "print(sorted(n for _, n in socket.if_nameindex()))\n"
            "try: socket.getaddrinfo('example.com', 80); print('RESOLVED')\n"
            "except OSError as e: print(type(e).__name__)")
    try:
        out = py(sb, scratch, code)
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody came
    finally:
        listener.close()
    first, interfaces, dns = out.stdout.decode().splitlines()
    assert first == "ConnectionRefusedError OSError OSError", out.stderr
    assert interfaces == "['lo']"
    assert dns == "gaierror"


def test_environment_scrubbed(sb, scratch, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    monkeypatch.setenv("TITO_SECRET", "x")
    monkeypatch.setenv("JPY_PARENT_PID", "1")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    out = py(sb, scratch, "import os; print(sorted(os.environ.items()))",
             env={"PYTHONPATH": "/scratch/lib", "NBGRADER_EXECUTION": "autograde", "TITO_X": "1", "JPY_PARENT_PID": "2"})
    env = dict(eval(out.stdout.decode()))
    env.pop("PWD", None)
    assert env == {**sandbox_module.BASE_ENV, "PYTHONPATH": "/scratch/lib"}


def test_no_nested_user_namespaces(sb, scratch):
    out = sb.run(scratch, ["unshare", "--user", "--map-root-user", "true"], timeout=10)
    assert out.returncode != 0


@pytest.mark.slow
def test_memory_limit(scratch):
    sb = Sandbox(Limits(memory_bytes=512 * 2**20))
    out = py(sb, scratch, "try:\n    b = bytearray(3 * 2**30); print('ALLOCATED')\nexcept MemoryError:\n    print('MemoryError')\n"
             "import resource; print(resource.getrlimit(resource.RLIMIT_AS))")
    assert out.stdout.decode().split("\n")[:2] == ["MemoryError", f"({512 * 2**20}, {512 * 2**20})"]


@pytest.mark.slow
def test_cpu_limit(scratch):
    sb = Sandbox(Limits(cpu_seconds=1))
    out = py(sb, scratch, "while True: pass", timeout=20)
    assert not out.timed_out
    assert out.signal == signal.SIGXCPU
    assert out.wall < 10


@pytest.mark.slow
def test_fork_bomb_contained_and_cleaned_up(sb, scratch):
    mark = marker()
    code = ("import os, time\n"
            "made = 0\n"
            "try:\n"
            "    for _ in range(1000):\n"
            "        if os.fork() == 0:\n"
            f"            os.execv('/usr/bin/sleep', ['sleep', '{mark}'])\n"
            "        made += 1\n"
            "except OSError as e:\n"
            "    print('refused', e.errno, made)\n"
            "time.sleep(0.3)\n")
    before = survivors(mark)
    out = py(sb, scratch, code)
    refused, errno_, made = out.stdout.decode().split()
    assert refused == "refused" and int(errno_) == 11  # EAGAIN
    assert 50 < int(made) < Limits().processes
    assert before == [] and survivors(mark) == []


def test_file_size_limit(sb, scratch):
    code = ("import signal, errno\nsignal.signal(signal.SIGXFSZ, signal.SIG_IGN)\nn = 0\n"
            "try:\n    with open('big', 'wb') as f:\n        for _ in range(100):\n"
            "            f.write(b'0' * 2**20); f.flush(); n += 1\n"
            "except OSError as e:\n    print(errno.errorcode[e.errno], n)")
    out = py(sb, scratch, code)
    assert out.stdout.decode().split() == ["EFBIG", str(Limits().file_size_bytes // 2**20)]
    assert (scratch / "big").stat().st_size == Limits().file_size_bytes
    # Python ignores SIGXFSZ by itself; other programs get the kernel's default: death
    out = sb.run(scratch, ["sh", "-c", f"exec head -c {100 * 2**20} /dev/zero > big2"], timeout=10)
    assert out.signal == signal.SIGXFSZ
    assert (scratch / "big2").stat().st_size == Limits().file_size_bytes


def test_open_files_limit(sb, scratch):
    out = py(sb, scratch, "import errno\nh = []\ntry:\n    for _ in range(1000): h.append(open('/dev/null'))\n"
             "except OSError as e: print(errno.errorcode[e.errno], len(h))")
    name, count = out.stdout.decode().split()
    assert name == "EMFILE" and 240 < int(count) < Limits().open_files


def test_timeout_kills_everything_including_a_daemon(sb, scratch):
    mark = marker()
    code = (f"import subprocess, time\nsubprocess.Popen(['setsid', 'sleep', '{mark}'], start_new_session=True)\n"
            "print('started', flush=True)\ntime.sleep(1000)")
    out = py(sb, scratch, code, timeout=1.5)
    assert out.timed_out and out.returncode is None and out.signal == signal.SIGKILL
    assert out.stdout == b"started\n"
    assert 1.5 <= out.wall < 10
    assert survivors(mark) == []


def test_daemon_dies_with_a_finished_command(sb, scratch):
    """The command exits at once, leaving `setsid sleep &` behind: the pid namespace takes it."""
    mark = marker()
    out = sb.run(scratch, ["sh", "-c", f"setsid sleep {mark} >/dev/null 2>&1 </dev/null & echo ok"], timeout=10)
    assert out.returncode == 0 and out.stdout == b"ok\n" and not out.timed_out
    time.sleep(0.2)
    assert survivors(mark) == []


def test_output_is_capped_while_reading(scratch):
    """100 MB on stdout: the first `output_bytes` are kept, the rest read and dropped, quickly."""
    sb = Sandbox(Limits(output_bytes=100_000))
    out = py(sb, scratch, "import sys\nfor _ in range(100): sys.stdout.write('x' * 2**20)\nsys.stderr.write('e' * 300_000)")
    assert out.returncode == 0
    assert out.truncated
    assert out.stdout == b"x" * 100_000 and out.stderr == b"e" * 100_000
    assert out.wall < 10


def test_stdin_and_exit_status(sb, scratch):
    out = sb.run(scratch, ["python", "-c", "import sys; data = sys.stdin.read(); print(data[::-1]); sys.exit(7)"],
                 timeout=10, stdin=b"abc")
    assert (out.returncode, out.stdout, out.signal, out.truncated) == (7, b"cba\n", None, False)
    out = sb.run(scratch, ["python", "-c", "import time; time.sleep(60)"], timeout=1.5, stdin=b"x" * 10**7)
    assert out.timed_out and out.wall < 10  # 10 MB nobody reads does not block the supervisor


def test_readonly_extra_path(sb, tmp_path):
    """A caller's read-only input (outside or inside scratch) is visible but not writable."""
    data = tmp_path / "inputs"
    data.mkdir()
    (data / "x.txt").write_text("ref")
    scratch = tmp_path / "s"
    (scratch / "lib").mkdir(parents=True)
    (scratch / "lib" / "m.py").write_text("v = 1")
    code = (f"import errno\nprint(open({str(data / 'x.txt')!r}).read(), open('/scratch/lib/m.py').read())\n"
            f"for p in [{str(data / 'y')!r}, '/scratch/lib/n.py']:\n"
            "    try: open(p, 'w'); print('WROTE')\n    except OSError as e: print(errno.errorcode[e.errno])")
    out = py(sb, scratch, code, readonly=[data, scratch / "lib"])
    assert out.stdout.decode().split("\n")[:3] == ["ref v = 1", "EROFS", "EROFS"], out.stderr


def test_unavailable_names_every_missing_layer(monkeypatch):
    monkeypatch.setattr(sandbox_module, "_PROBE", ["bubblewrap (apt-get install bubblewrap)", "root (...)"])
    with pytest.raises(SandboxUnavailable) as error:
        Sandbox()
    assert "bubblewrap" in str(error.value) and "root" in str(error.value) and "--unsafe" in str(error.value)


def test_unsafe_fallback_keeps_env_limits_and_timeouts(monkeypatch, tmp_path):
    monkeypatch.setattr(sandbox_module, "_PROBE", ["bubblewrap (apt-get install bubblewrap)"])
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    sb = Sandbox(Limits(memory_bytes=512 * 2**20), unsafe=True)
    assert not sb.isolated
    scratch = tmp_path / "s"
    out = py(sb, scratch, "import os, resource\nprint(os.getcwd(), os.environ['HOME'], os.environ['PYTHONPATH'],"
             " 'NBGRADER_EXECUTION' in os.environ, resource.getrlimit(resource.RLIMIT_AS)[0])",
             env={"PYTHONPATH": "/scratch/lib"})
    assert out.stdout.decode().split() == [str(scratch), str(scratch), f"{scratch}/lib", "False", str(512 * 2**20)]
    mark = marker()
    out = sb.run(scratch, ["sh", "-c", f"sleep {mark} & sleep 1000"], timeout=1)
    assert out.timed_out and survivors(mark) == []
    out = sb.run(scratch, ["sh", "-c", f"sleep {mark} & echo done"], timeout=20)
    assert (out.returncode, out.stdout, out.timed_out) == (0, b"done\n", False) and out.wall < 5
    assert survivors(mark) == []


def test_multiprocessing_semaphores_work(sb, scratch):
    """A writable /dev/shm: without it multiprocessing's semaphores fail (and libraries that use
    them warn on stderr, scoring a cell 0)."""
    out = py(sb, scratch, "import multiprocessing as mp, multiprocessing.synchronize\nlock = mp.Lock()\n"
             "print(lock.acquire(), __import__('os').statvfs('/dev/shm').f_blocks > 0)")
    assert (out.stdout, out.stderr) == (b"True True\n", b"")


# ---------------------------------------------------------------- the libraries student code sees

FORBIDDEN = ("torch", "scipy", "sklearn", "sympy")


def import_lines(sb: Sandbox, scratch: Path, names) -> dict[str, str]:
    """name -> the last line Python prints for `import name` in the sandbox ('ok' if it worked)."""
    code = ("import importlib, traceback\n"
            f"for name in {sorted(names)!r}:\n"
            "    try:\n"
            "        importlib.import_module(name); print(name, 'ok')\n"
            "    except BaseException as error:\n"
            "        print(name, traceback.format_exception_only(error)[-1].strip())")
    out = py(sb, scratch, code, timeout=120)
    assert out.returncode == 0, out.stderr
    return dict(line.split(" ", 1) for line in out.stdout.decode().splitlines())


def installed_elsewhere() -> set[str]:
    """Top-level import names of installed distributions the sandbox must not show."""
    from importlib import metadata

    allowed = set(sandbox_module.allowed_distributions())
    names = set()
    for top, dists in metadata.packages_distributions().items():
        if (top.isidentifier() and not top.startswith("_") and top not in sys.stdlib_module_names
                and not any(sandbox_module._normalized(d) in allowed for d in dists)):
            names.add(top)
    return names


def test_forbidden_libraries_are_not_there(sb, scratch):
    """torch, scipy, scikit-learn, sympy (installed on the host) fail as if not installed."""
    assert import_lines(sb, scratch, FORBIDDEN) == {name: f"ModuleNotFoundError: No module named '{name}'"
                                                    for name in FORBIDDEN}
    # and exactly so at the top level, as a student sees it (sklearn's folder exists: module 07's data)
    out = py(sb, scratch, "import sklearn")
    assert out.returncode == 1
    assert out.stderr.decode().splitlines()[-1] == "ModuleNotFoundError: No module named 'sklearn'"


def test_a_venv_reached_through_a_link_shows_no_more(tmp_path):
    """The interpreter named through a symbolic link to its venv (a venv in a linked folder, a
    checkout in a worktree): its package folders are bound at the link's path too, and must be
    hidden there as well. (Before, only the real paths were: every package imported.)"""
    link = tmp_path / "linked-venv"
    link.symlink_to(Path(sys.prefix).resolve(), target_is_directory=True)
    code = ("import json, sys\n"
            "from pathlib import Path\n"
            "from tito.grade.sandbox import Limits, Sandbox\n"
            "names = ('numpy', 'scipy', 'sklearn', 'torch')\n"
            "probe = 'import importlib\\nfor n in %r:\\n    try: importlib.import_module(n); print(n, \"ok\")\\n"
            "    except ImportError as e: print(n, type(e).__name__)' % (names,)\n"
            "out = Sandbox(Limits()).run(Path(sys.argv[1]), ['python', '-c', probe], timeout=120)\n"
            "print(json.dumps([sys.prefix, out.stdout.decode(), out.stderr.decode()[-2000:]]))")
    done = subprocess.run([str(link / "bin" / "python"), "-c", code, str(tmp_path / "scratch")],
                          env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    prefix, stdout, stderr = json.loads(done.stdout.splitlines()[-1])
    assert prefix == str(link)
    assert stdout.splitlines() == ["numpy ok", "scipy ModuleNotFoundError", "sklearn ModuleNotFoundError",
                                   "torch ModuleNotFoundError"], stderr


@pytest.mark.slow
def test_no_other_installed_package_is_there(sb, scratch):
    names = installed_elsewhere()
    assert {"scipy", "sklearn", "sympy", "nbgrader", "pytest", "joblib"} <= names
    assert import_lines(sb, scratch, names) == {name: f"ModuleNotFoundError: No module named '{name}'"
                                                for name in names}


def test_the_allowed_set_comes_from_the_metadata():
    allowed = sandbox_module.allowed_distributions()
    for name in ("numpy", "matplotlib", "matplotlib-inline", "ipython", "traitlets",
                 "pyparsing", "pillow", "kiwisolver", "jedi", "prompt-toolkit", "pygments"):
        assert name in allowed
    for name in ("scipy", "scikit-learn", "sympy", "torch", "joblib", "nbgrader", "pytest", "pandas"):
        assert name not in allowed


def test_no_folder_of_packages_can_be_added_to_sys_path(sb, scratch):
    """The interpreters' package folders (the venv's, the base interpreter's, the system's) show
    only the allowed distributions: a student who edits sys.path finds nothing more."""
    folders = [str(f) for f in sandbox_module.package_folders()]
    code = ("import os, json\n"
            f"print(json.dumps({{f: sorted(os.listdir(f)) if os.path.isdir(f) else None for f in {folders!r}}}))")
    out = py(sb, scratch, code)
    seen = json.loads(out.stdout)
    expected = {f: sorted(dest.name for _, dest in sandbox_module.library_binds() if dest.parent == Path(f).resolve())
                for f in folders}  # (a folder named through a link shows what its real one shows)
    data_package = {dest.parent.parent.parent.name for _, dest in sandbox_module.library_binds()
                    if dest.name == "digits.csv.gz"}
    expected = {f: sorted(set(names) | {n for n in data_package if (Path(f) / n).is_dir()})
                for f, names in expected.items()}
    assert seen == expected
    venv = str(Path(sys.prefix).resolve() / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages")
    assert "numpy" in seen[venv] and "scipy" not in seen[venv] and "sklearn" in seen[venv]
    assert not any("scipy" in names or "sympy" in names for names in seen.values())


def test_numpy_matplotlib_and_ipython_work(sb, scratch):
    code = ("import numpy as np, matplotlib\n"
            "import matplotlib.pyplot as plt\n"
            "import matplotlib_inline.backend_inline as inline\n"
            "from IPython.core.interactiveshell import InteractiveShell\n"
            "figure, axis = plt.subplots(); axis.plot(np.arange(3)); figure.savefig('/scratch/plot.png')\n"
            "shell = InteractiveShell.instance()\n"
            "result = shell.run_cell('x = 6 * 7\\nx', store_history=False)\n"
            "print(matplotlib.get_backend(), inline.__name__, result.result, np.__name__)")
    out = py(sb, scratch, code, timeout=60)
    assert (out.stdout.decode(), out.stderr.decode()) == ("Out[0]: 42\nAgg matplotlib_inline.backend_inline 42 numpy\n", "")
    assert (scratch / "plot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_module_07_finds_the_digits_without_scikit_learn(sb, scratch):
    """`find_spec('sklearn')` locates the folder (module 07's `digits_file`), the file is the
    host's, and the folder holds nothing else: no code of scikit-learn's."""
    code = ("import importlib.util, os, hashlib\n"
            "spec = importlib.util.find_spec('sklearn')\n"
            "folder = spec.submodule_search_locations[0]\n"
            "path = os.path.join(folder, 'datasets', 'data', 'digits.csv.gz')\n"
            "print(sorted(os.listdir(folder)), sorted(os.listdir(os.path.join(folder, 'datasets'))),"
            " hashlib.sha256(open(path, 'rb').read()).hexdigest())")
    out = py(sb, scratch, code)
    import hashlib
    import importlib.util

    host = Path(importlib.util.find_spec("sklearn").submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"
    assert out.stdout.decode().strip() == f"['__init__.py', 'datasets'] ['data'] {hashlib.sha256(host.read_bytes()).hexdigest()}"


@pytest.mark.slow
def test_module_07_grades_fully(tmp_path):
    """The instructor's solution of module 07 (the digits, matplotlib's plots) scores every point."""
    import nbformat

    from tito.course import discover
    from tito.grade import pipeline
    from tito.grade.model import Submission
    from tito.source import read_source

    modules = list(discover(REPO))
    module = next(m for m in modules if m.name == "07_training")
    context = pipeline.GradingContext(REPO, modules, Sandbox(), work=tmp_path, published=modules)
    try:
        folder = tmp_path / "submitted" / "s1" / module.name
        folder.mkdir(parents=True)
        nbformat.write(read_source(module.source_py), folder / f"{module.name}.ipynb")
        result = pipeline.grade_one(context, Submission("s1", module.name, folder), tmp_path / "autograded")
    finally:
        context.cleanup()
    assert (result.status, result.reason) == ("graded", None)
    assert [(c.grade_id, c.ename) for c in result.cells if not c.passed] == []
    assert result.score == result.max_score > 0
    assert all(c.passed for c in result.checks)


# ---------------------------------------------------------------- cgroups: a CPU share and a memory limit

IN_CI = os.environ.get("CI") == "true"


def tito_cgroups() -> list[str]:
    """This process's sandbox cgroups that exist now, in every hierarchy."""
    found = []
    for pattern in ("/sys/fs/cgroup/*/tito-%d-*", "/sys/fs/cgroup/*/*/*/tito-%d-*", "/sys/fs/cgroup/tito-%d-*",
                    "/sys/fs/cgroup/*/*/tito-%d-*"):
        found += glob.glob(pattern % os.getpid())
    return sorted(found)


@pytest.fixture
def cgroups():
    missing = Sandbox.missing_limits()
    if missing and not IN_CI:
        pytest.skip(f"this machine has no writable cgroups: {missing}")
    assert missing == []


def test_every_process_of_a_sandbox_is_in_its_cgroup_which_is_removed_after(cgroups, scratch):
    sb = Sandbox(Limits(memory_bytes=768 * 2**20))
    code = ("import subprocess, time\n"
            "subprocess.Popen(['setsid', 'sleep', '30'])\n"
            "print('ready', flush=True)\n"
            "time.sleep(30)")
    proc = sb.popen(scratch, ["python", "-c", code])
    try:
        assert proc.stdout.readline() == b"ready\n"
        group = sb.cgroup(proc)
        names = {folder.name for folder in group.folders}
        assert len(names) == 1 and re.fullmatch(rf"tito-{os.getpid()}-\d+", names.pop())
        pids = group.pids()
        assert set(sandbox_module._descendants(sandbox_module._process_tree(), proc.pid)) <= set(pids)
        assert {sandbox_module._process_tree()[p][0] for p in pids} >= {"bwrap", "python", "sleep"}
        if group.hierarchy.version == 1:
            cpu, memory = group.folders
            assert (cpu / "cpu.shares").read_text() == "1024\n"
            assert (memory / "memory.limit_in_bytes").read_text() == f"{768 * 2**20}\n"
        else:
            assert (group.folders[0] / "cpu.weight").read_text() == "100\n"
            assert (group.folders[0] / "memory.max").read_text() == f"{768 * 2**20}\n"
        assert tito_cgroups() == sorted(str(f) for f in group.folders)
    finally:
        sb.kill(proc)
    assert tito_cgroups() == []
    assert all(not sandbox_module.process_alive(p) for p in pids)
    out = py(sb, scratch, "print('again')")  # run() removes its cgroup too
    assert out.stdout == b"again\n" and tito_cgroups() == []


@pytest.mark.slow
def test_memory_limit_covers_all_processes_together(cgroups, scratch):
    """Four processes, each well inside the 512 MiB address-space limit, filling 300 MiB each: the
    sandbox's memory limit (the same 512 MiB, for all of them together) stops them, which the
    per-process limit alone did not (the gap of '64 processes at the address-space limit')."""
    sb = Sandbox(Limits(memory_bytes=512 * 2**20))
    code = ("import os, time\n"
            "kids = []\n"
            "for i in range(4):\n"
            "    pid = os.fork()\n"
            "    if pid == 0:\n"
            "        block = bytearray(300 * 2**20)\n"
            "        for j in range(0, len(block), 4096): block[j] = 1\n"
            "        time.sleep(3)\n"
            "        os._exit(0)\n"
            "    kids.append(pid)\n"
            "print(sorted(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in kids))")
    proc = sb.popen(scratch, ["python", "-c", code])
    group = sb.cgroup(proc)
    try:
        stdout, _ = proc.communicate(timeout=60)
        oom_kills = group.oom_kills()
    finally:
        sb.kill(proc)
    statuses = eval(stdout.decode())
    assert len(statuses) == 4 and statuses.count(-signal.SIGKILL) >= 2 and set(statuses) <= {0, -signal.SIGKILL}
    assert oom_kills == statuses.count(-signal.SIGKILL)
    assert tito_cgroups() == []


def test_a_tmpfs_file_counts_against_the_memory_limit(cgroups, scratch):
    """/tmp's pages are RAM: in a 384 MiB sandbox, 240 MiB written to /tmp and then 200 MiB filled
    in a process (inside its address-space limit) end in the OOM killer, not in a host out of
    memory."""
    sb = Sandbox(Limits(memory_bytes=384 * 2**20))
    code = ("for n in range(4):\n"  # four files of 60 MiB (each file is capped at 64)
            "    with open(f'/tmp/fill{n}', 'wb') as f:\n"
            "        for _ in range(60): f.write(b'1' * 2**20)\n"
            "print('written', flush=True)\n"
            "block = bytearray(200 * 2**20)\n"
            "for j in range(0, len(block), 4096): block[j] = 1\n"
            "print('FILLED')")
    out = py(sb, scratch, code, timeout=60)
    assert (out.stdout, out.signal) == (b"written\n", signal.SIGKILL), out.stderr
    assert tito_cgroups() == []


def test_without_cgroups_grading_works_and_says_so(monkeypatch, scratch, caplog):
    monkeypatch.setattr(sandbox_module, "_CGROUP", [None])
    monkeypatch.setattr(sandbox_module, "_CGROUP_PROBLEM", ["not root: the cgroup hierarchies are writable by root only"])
    assert Sandbox.missing_limits() == ["cgroups (not root: the cgroup hierarchies are writable by root only)"]
    with caplog.at_level("WARNING", logger="tito.grade.sandbox"):
        sb = Sandbox(Limits())
    assert sb.cgroups is None
    assert caplog.messages == ["no CPU share or memory limit per sandbox: cgroups (not root: the cgroup "
                               "hierarchies are writable by root only)"]
    proc = sb.popen(scratch, ["python", "-c", "print('ok')"])
    assert sb.cgroup(proc) is None and tito_cgroups() == []
    assert proc.communicate(timeout=30)[0] == b"ok\n"
    sb.kill(proc)


def test_stale_cgroups_of_a_dead_supervisor_are_removed(cgroups):
    hierarchy = sandbox_module._cgroup_hierarchy()
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = [parent / f"tito-{dead.pid}-7" for parent in hierarchy.parents]
    for folder in stale:
        folder.mkdir()
    sandbox_module._remove_stale(hierarchy)
    assert [folder.exists() for folder in stale] == [False] * len(stale)
