"""The sandbox's properties, each tried by a real command and checked from the host.

Each test runs untrusted-looking code through `Sandbox.run` and asserts on what came back AND on
the host (files untouched, no surviving processes), since the sandboxed code could lie. The
tests skip only when `Sandbox.missing_layers()` says the machine cannot sandbox at all; on the
grading machine and in CI they run.
"""

from __future__ import annotations

import os
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
    assert not any(Path(b) == REPO or (Path(b) != REPO / ".venv" and REPO in Path(b).parents) for b in bound)
    assert str(REPO / ".venv") in bound or str(Path(sys.prefix)) in bound
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
    """A writable /dev/shm: without it joblib (scikit-learn) warns on stderr, scoring a cell 0."""
    out = py(sb, scratch, "import multiprocessing as mp, joblib.parallel\nlock = mp.Lock()\n"
             "print(joblib.parallel.mp is not None, __import__('os').statvfs('/dev/shm').f_blocks > 0)")
    assert (out.stdout, out.stderr) == (b"True True\n", b"")
