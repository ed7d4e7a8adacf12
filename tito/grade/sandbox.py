"""Run untrusted student code: bubblewrap, an unprivileged uid, resource limits, a scrubbed env.

The layers, outermost first (every one is checked on this machine by `missing_layers`):

0. a cgroup of its own (v2, else v1 `cpu` and `memory`, where the host lets root write them):
   the same CPU share as every other sandbox, and a memory limit for all its processes together
   (`Cgroup`; removed after the run; without writable cgroups grading goes on without, and
   `Sandbox.missing_limits` says why);
1. an outer `bwrap` run by root, without a user namespace: new pid, network, ipc, uts and cgroup
   namespaces (no network: only a private loopback) and a new root holding read-only binds of
   /usr, the course's virtualenv and the base interpreter it points to (in root's 0700 home: only
   root can bind it, which is why this stage runs as root), the scratch directory read-write at
   /scratch and a private, size-limited /tmp. Every folder of installed packages shows only the
   distributions student code may use (`allowed_distributions`: numpy, matplotlib, IPython and
   what they require, from the installed metadata), plus module 07's data file (`DATA_FILES`):
   a staged view of them bound over the folder (`library_view`), else an empty tmpfs with each
   of them bound back;
2. `setpriv` drops to uid/gid 65534 with no capabilities, no supplementary groups and
   no_new_privs;
3. an inner `bwrap` run by uid 65534 adds a user namespace that maps 65534 to itself (so the
   code is uid 65534 on the host too, never root in disguise) and forbids further user namespaces.
   The user namespace also scopes RLIMIT_NPROC: the kernel counts processes per user *per user
   namespace*, so a fork bomb hits its own 64 and cannot starve a neighbouring sandbox. (A single
   bwrap run by root would map the sandbox uid to host root, for which the kernel does not enforce
   RLIMIT_NPROC at all: measured here, 300 forks went through.)
4. `prlimit`: address space, CPU seconds (SIGXCPU at the limit, SIGKILL 2 s later for code that
   catches it), processes, file size, open files, no core files.

The supervisor holds the outer bwrap in its own process group. Killing it kills the pid-1 of the
sandbox's pid namespace (`--die-with-parent`), and the kernel then kills every process in that
namespace: a daemonized child (`setsid sleep 1000 &`) cannot outlive the run.

`argv[0] == "python"` means the course's interpreter (`sys.executable`); only its virtualenv
folder is visible, never the repository that holds it (the editable install's .pth names the
repository root, which inside the sandbox is an empty directory).
"""

from __future__ import annotations

import functools
import glob
import itertools
import logging
import os
import re
import selectors
import shutil
import signal
import site
import subprocess
import sys
import sysconfig
import threading
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import IO, Mapping, Sequence

from tito.errors import TitoError
from tito.grade.library_view import staged_views

log = logging.getLogger(__name__)

SANDBOX_UID = 65534  # nobody
SCRATCH = "/scratch"
TMP_SIZE = 256 * 2**20  # the private /tmp is a tmpfs of this size
SHM_SIZE = 64 * 2**20  # and /dev/shm
SCRUBBED_PREFIXES = ("NBGRADER_", "TITO_")
SCRUBBED_NAMES = ("JPY_PARENT_PID",)
BASE_ENV = {
    "PATH": "/usr/bin:/bin",
    "HOME": SCRATCH,
    "LANG": "C.UTF-8",
    "PYTHONHASHSEED": "0",
    "PYTHONDONTWRITEBYTECODE": "1",
    "MPLBACKEND": "Agg",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = 2 * 2**30  # address space (prlimit --as)
    cpu_seconds: int = 600
    processes: int = 64  # RLIMIT_NPROC, counted per uid 65534 inside the sandbox's user namespace
    file_size_bytes: int = 64 * 2**20
    open_files: int = 256
    cell_timeout: float = 60.0
    notebook_timeout: float = 900.0
    output_bytes: int = 2**20  # cap per captured stream
    # the sandbox's CPU weight among its neighbours (cgroup v1 cpu.shares; v2 cpu.weight is
    # share * 100 / 1024): every sandbox gets the same, so eight busy processes in one sandbox get
    # one sandbox's share, not eight. Its memory limit (RAM + its tmpfs pages, all processes
    # together) is `memory_bytes`, the address-space limit of one process.
    cpu_share: int = 1024


class SandboxUnavailable(TitoError):
    """This machine cannot isolate student code; the message names every missing layer."""


@dataclass
class RunOutcome:
    returncode: int | None  # None: killed by the supervisor (timeout)
    stdout: bytes
    stderr: bytes
    timed_out: bool
    wall: float
    signal: int | None  # the signal that ended the sandboxed command, when one did
    truncated: bool  # stdout or stderr exceeded Limits.output_bytes (the rest was read and dropped)


_PROBE: list[str] | None = None


class Sandbox:
    """Runs commands in the sandbox described above (or, with `unsafe=True` on a machine that
    lacks a layer, as a plain subprocess with the same limits, environment and timeouts)."""

    def __init__(self, limits: Limits = Limits(), unsafe: bool = False):
        self.limits = limits
        missing = self.missing_layers()
        if missing and not unsafe:
            raise SandboxUnavailable(
                "cannot grade safely on this machine; missing: " + "; ".join(missing)
                + " (or pass --unsafe to run student code without isolation)")
        self.isolated = not missing
        if not self.isolated:
            log.warning("UNSAFE: student code runs without isolation (missing: %s)", "; ".join(missing))
        self.cgroups = _cgroup_hierarchy() if self.isolated else None
        if self.isolated and self.cgroups is None:
            log.warning("no CPU share or memory limit per sandbox: %s", "; ".join(self.missing_limits()))
        self._groups: dict[int, Cgroup] = {}  # popen's pid -> its sandbox's cgroup
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- probing

    @staticmethod
    def missing_layers() -> list[str]:
        """What this machine lacks to sandbox student code (empty: everything works).

        Probed once per process by really running `true` through every layer.
        """
        global _PROBE
        if _PROBE is None:
            _PROBE = _probe()
        return list(_PROBE)

    @staticmethod
    def missing_limits() -> list[str]:
        """What this machine lacks to give each sandbox a CPU share and a memory limit (empty:
        cgroups work). Grading runs without them: each process keeps its rlimits, but a
        submission's processes together may use several CPUs and 64 x the address-space limit."""
        hierarchy = _cgroup_hierarchy()
        return [] if hierarchy is not None else [f"cgroups ({_CGROUP_PROBLEM[0]})"]

    # ---------------------------------------------------------------- commands

    def command(self, scratch: Path, argv: list[str], readonly: Sequence[Path] = ()) -> list[str]:
        """The full command line that runs `argv` in the sandbox (without its environment:
        `popen` passes that)."""
        return self._command(Path(scratch), argv, readonly, env={})

    def _command(self, scratch: Path, argv: list[str], readonly: Sequence[Path], env: Mapping[str, str]) -> list[str]:
        argv = [sys.executable if i == 0 and a == "python" else a for i, a in enumerate(argv)]
        if not self.isolated:
            return _prlimit(self.limits) + [_outside(a, scratch) for a in argv]
        return (_outer_bwrap(scratch.resolve(), readonly, env)
                + _drop_privileges() + _inner_bwrap() + _prlimit(self.limits) + argv)

    def environment(self, scratch: Path, env: Mapping[str, str] | None = None) -> dict[str, str]:
        """The scrubbed environment: fixed basics, then the caller's extras minus grading hints."""
        full = dict(BASE_ENV)
        for key, value in (env or {}).items():
            if not key.startswith(SCRUBBED_PREFIXES) and key not in SCRUBBED_NAMES:
                full[key] = value
        if not self.isolated:
            full = {k: _outside(v, Path(scratch)) for k, v in full.items()}
        return full

    def popen(self, scratch: Path, argv: list[str], *, readonly: Sequence[Path] = (),
              env: Mapping[str, str] | None = None, stdin=subprocess.PIPE,
              stdout=subprocess.PIPE, stderr=subprocess.PIPE) -> subprocess.Popen:
        """Start `argv` in the sandbox in a new session (its own process group); the caller must
        end it with `kill` (or let `run` do everything)."""
        scratch = Path(scratch)
        prepare_scratch(scratch)
        full_env = self.environment(scratch, env)
        if self.isolated:
            # bwrap --clearenv + --setenv: the variables reach the command, not bwrap itself
            cmd = self._command(scratch, argv, readonly, full_env)
            popen_env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
            cwd = "/"
        else:
            cmd = self._command(scratch, argv, readonly, full_env)
            popen_env, cwd = full_env, str(scratch)
        group = Cgroup.create(self.cgroups, self.limits) if self.cgroups is not None else None
        if group is not None:  # the first process joins the cgroup before it execs bwrap
            cmd = group.enter_command() + cmd
        try:
            proc = subprocess.Popen(cmd, stdin=stdin, stdout=stdout, stderr=stderr, env=popen_env,
                                    cwd=cwd, start_new_session=True, close_fds=True)
        except BaseException:
            if group is not None:
                group.remove()
            raise
        if group is not None:
            with self._lock:
                self._groups[proc.pid] = group
        return proc

    def cgroup(self, proc: subprocess.Popen) -> "Cgroup | None":
        """The cgroup of the sandbox `popen` started (None without cgroups, or once removed)."""
        with self._lock:
            return self._groups.get(proc.pid)

    def run(self, scratch: Path, argv: list[str], *, timeout: float, readonly: Sequence[Path] = (),
            env: Mapping[str, str] | None = None, stdin: bytes | None = None) -> RunOutcome:
        """Run to completion or until `timeout` seconds of wall clock, then kill everything.

        Output is read as it comes and capped at `Limits.output_bytes` per stream; the rest is
        read and dropped, so a command printing 100 MB neither blocks nor fills memory.
        """
        start = time.monotonic()
        proc = self.popen(scratch, argv, readonly=readonly, env=env,
                          stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL)
        if stdin is not None:  # from a thread: a command that never reads must not block us
            threading.Thread(target=_feed, args=(proc.stdin, stdin), daemon=True).start()
        reader = CappedReader({"stdout": proc.stdout, "stderr": proc.stderr}, self.limits.output_bytes)
        deadline = start + timeout
        timed_out = False
        exited_at = None
        while not reader.done:
            now = time.monotonic()
            if now >= deadline:
                timed_out = True
                break
            if exited_at is None and proc.poll() is not None:
                exited_at = now
            if exited_at is not None and now > exited_at + 1.0:
                break  # unsafe mode: a stray child of the finished command holds the pipes open
            reader.poll(min(deadline - now, 0.5))
        if timed_out:
            self.kill(proc)
            reader.drain(1.0)
        else:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                timed_out = True
            self.kill(proc)  # the command's own children die with it
        reader.close()
        for stream in (proc.stdout, proc.stderr):
            stream.close()
        returncode = None if timed_out else proc.returncode
        return RunOutcome(returncode=returncode, stdout=reader.data["stdout"], stderr=reader.data["stderr"],
                          timed_out=timed_out, wall=time.monotonic() - start,
                          signal=signal.SIGKILL if timed_out else self.exit_signal(proc.returncode),
                          truncated=reader.truncated)

    # ---------------------------------------------------------------- signals

    def exit_signal(self, returncode: int | None) -> int | None:
        """The signal that ended the sandboxed command, from the returncode the supervisor sees.

        bwrap reports a child killed by signal N as exit status 128 + N (both layers do)."""
        if returncode is None:
            return None
        if returncode < 0:
            return -returncode
        if self.isolated and 128 < returncode < 128 + 65:
            return returncode - 128
        return None

    def command_pid(self, proc: subprocess.Popen) -> int | None:
        """The host pid of the sandboxed command itself (the process `argv` started), if alive."""
        if not self.isolated:
            return proc.pid if proc.poll() is None else None
        tree = _process_tree()
        # outer bwrap -> pid 1 of the namespace -> inner bwrap (uid 65534) -> the command
        for pid in _descendants(tree, proc.pid):
            name, uid, _, _ = tree[pid]
            if name == "bwrap" and uid == SANDBOX_UID:
                children = [c for c, (_, _, ppid, _) in tree.items() if ppid == pid and tree[c][0] != "bwrap"]
                if children:
                    return min(children)
        return None

    def interrupt(self, proc: subprocess.Popen, sig: int = signal.SIGINT) -> bool:
        """Send `sig` to the sandboxed command only (like a Jupyter interrupt); False if gone."""
        pid = self.command_pid(proc)
        if pid is None:
            return False
        try:
            os.kill(pid, sig)
            return True
        except ProcessLookupError:
            return False

    def kill(self, proc: subprocess.Popen) -> None:
        """SIGKILL the sandbox and everything in it, and reap it. Safe to call twice."""
        tree = _process_tree()
        # its descendants, and (unsafe mode) orphans left in its session: it was started with
        # start_new_session, so its pid is the session id
        victims = _descendants(tree, proc.pid) if proc.poll() is None else []
        victims += [pid for pid, (_, _, _, session) in tree.items() if session == proc.pid and pid not in victims]
        with self._lock:
            group = self._groups.pop(proc.pid, None)
        if group is not None:  # what the cgroup holds, whatever became of its parents
            victims += [pid for pid in group.pids() if pid not in victims]
            group.lift_cpu_share()
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for pid in victims:  # belt and braces: unsafe mode has no pid namespace to tear down
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover (a process stuck in the kernel)
            log.error("sandbox process %d did not die", proc.pid)
        # the outer bwrap dies at once; the namespace's processes are torn down asynchronously:
        # wait for them, so "killed" means gone when this returns
        deadline = time.monotonic() + 10
        while victims and time.monotonic() < deadline:
            victims = [pid for pid in victims if process_alive(pid)]
            if victims:
                time.sleep(0.01)
        if victims:  # pragma: no cover
            log.error("sandbox processes %s survived SIGKILL", victims)
        if group is not None:
            group.remove()


# -------------------------------------------------------------------- helpers


def prepare_scratch(scratch: Path) -> None:
    """The scratch dir must be writable by the sandbox's uid (and by nobody else)."""
    scratch.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        os.chown(scratch, SANDBOX_UID, SANDBOX_UID)
        os.chmod(scratch, 0o700)


def _feed(pipe: IO[bytes], data: bytes) -> None:
    try:
        pipe.write(data)
    except OSError:  # BrokenPipeError included: the command exited without reading
        pass
    finally:
        try:
            pipe.close()
        except OSError:
            pass


def _outside(value: str, scratch: Path) -> str:
    """Unsafe mode: '/scratch/...' in argv and env means the real scratch directory."""
    if value == SCRATCH or value.startswith(SCRATCH + "/"):
        return str(scratch) + value[len(SCRATCH):]
    return value.replace(":" + SCRATCH + "/", ":" + str(scratch) + "/")


def _interpreter_dirs() -> list[Path]:
    """The virtualenv and the base interpreter it points to (both resolved)."""
    dirs = [Path(sys.prefix), Path(sys.base_prefix)]
    exe = Path(sys.executable).resolve()
    if not any(_under(exe, d.resolve()) for d in dirs):
        dirs.append(exe.parent.parent)
    return dirs


# ------------------------------------------------------------------ the libraries student code sees

# What student code may import besides the standard library: the distributions below and every
# distribution they require (read from the installed metadata, extras and markers evaluated), and
# nothing else. numpy is the course; matplotlib draws the narrative's plots (matplotlib-inline is
# IPython's inline backend); IPython and traitlets are the runner's kernel
# (`inner/run_notebook.py`); the case runner needs numpy only.
ALLOWED_DISTRIBUTIONS = ("numpy", "matplotlib", "matplotlib-inline", "ipython", "traitlets")
# Data files of a distribution whose code stays out: bound read-only at their own path, with
# `absent_package.py` over the package's __init__.py, so `importlib.util.find_spec` finds the
# folder while `import` fails as for a package that is not installed. Module 07 reads the digits.
DATA_FILES = (("scikit-learn", "sklearn/datasets/data/digits.csv.gz"),)
ABSENT_PACKAGE = Path(__file__).resolve().with_name("absent_package.py")
# other interpreters' package folders that /usr would otherwise show (sys.path can be edited)
SYSTEM_PACKAGE_GLOBS = ("/usr/lib/python3*/dist-packages", "/usr/lib/python3*/site-packages",
                        "/usr/local/lib/python3*/dist-packages", "/usr/local/lib/python3*/site-packages")


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.lru_cache(maxsize=None)
def allowed_distributions() -> tuple[str, ...]:
    """The normalized names of the distributions the sandbox shows: `ALLOWED_DISTRIBUTIONS` and
    what they require (transitively, for this interpreter, without extras), installed ones only."""
    from packaging.requirements import InvalidRequirement, Requirement

    seen: set[str] = set()
    todo = list(ALLOWED_DISTRIBUTIONS)
    while todo:
        name = _normalized(todo.pop())
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen.add(name)
        for line in dist.requires or []:
            try:
                requirement = Requirement(line)
            except InvalidRequirement:
                continue
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return tuple(sorted(seen))


@functools.lru_cache(maxsize=None)
def package_folders() -> tuple[Path, ...]:
    """Every folder of installed packages this interpreter or the host's others could import
    from: hidden inside the sandbox (an empty, read-only tmpfs), apart from what is bound back."""
    folders = {Path(p) for p in site.getsitepackages()}
    for prefix in (sys.prefix, sys.base_prefix):
        for key in ("purelib", "platlib"):
            folders.add(Path(sysconfig.get_path(key, vars={"base": prefix, "platbase": prefix})))
    for pattern in SYSTEM_PACKAGE_GLOBS:
        folders.update(Path(p) for p in glob.glob(pattern))
    # each by its real path and by the path this interpreter names it by: a venv reached through a
    # symbolic link is bound at both, so both must be hidden (else sys.path shows every package)
    existing = [f for f in folders if f.is_dir()]
    return tuple(sorted({f.resolve() for f in existing} | {Path(os.path.abspath(f)) for f in existing}))


@functools.lru_cache(maxsize=None)
def library_binds() -> tuple[tuple[Path, Path], ...]:
    """(host path, sandbox path) of every package folder, module file and data file the sandbox
    shows from the interpreter's package folders, from the allowed distributions' RECORDs."""
    binds: dict[Path, Path] = {}
    folders = package_folders()
    for name in allowed_distributions():
        dist = metadata.distribution(name)
        for top in sorted({PurePosixPath(f).parts[0] for f in dist.files or [] if PurePosixPath(f).parts}):
            if top in ("..", "__pycache__") or top.endswith(".pth"):
                continue  # scripts in bin/, a shared bytecode cache, path hooks
            path = Path(dist.locate_file(top)).resolve()
            if path.exists() and any(_under(path, f) and path != f for f in folders):
                binds[path] = path
    for name, relative in DATA_FILES:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        data = Path(dist.locate_file(relative)).resolve()
        init = Path(dist.locate_file(PurePosixPath(relative).parts[0])).resolve() / "__init__.py"
        if data.is_file():
            binds[data] = data
            binds[ABSENT_PACKAGE] = init
    return tuple((src, dest) for src, dest in binds.items())


def _under(path: Path, parent: Path) -> bool:
    return path == parent or parent in path.parents


class _Mounts:
    """bwrap's mount arguments as they are built: what is bound, hidden and made so far."""

    def __init__(self, cmd: list[str], made: set[Path], bound: list[Path], masked: list[Path]):
        self.cmd, self.made, self.bound, self.masked = cmd, made, bound, masked

    def copy(self) -> "_Mounts":
        return _Mounts(list(self.cmd), set(self.made), list(self.bound), list(self.masked))

    def covered(self, path: Path) -> bool:
        """Already visible through a bind (and not hidden again under an empty tmpfs)."""
        return any(_under(path, b) for b in self.bound) and not any(_under(path, m) for m in self.masked)

    def parents(self, dest: Path) -> None:
        for parent in reversed(dest.parents):  # bwrap would make them 0700 (unreadable by uid 65534)
            if parent not in self.made and not self.covered(parent):
                self.cmd += ["--perms", "0755", "--dir", str(parent)]
                self.made.add(parent)

    def bind_ro(self, src: Path, dest: Path) -> None:
        if self.covered(dest):
            return
        self.parents(dest)
        self.cmd += ["--ro-bind", str(src), str(dest)]
        self.bound.append(dest)


def _outer_bwrap(scratch: Path, readonly: Sequence[Path], env: Mapping[str, str]) -> list[str]:
    folders = package_folders()
    views = staged_views(library_binds(), tuple(folders), allowed_distributions())
    mounts = _host_mounts(tuple(folders), tuple(sorted(views.items()))).copy()
    mounts.cmd += ["--bind", str(scratch), SCRATCH]
    for path in readonly:
        path = Path(path).resolve()
        if _under(path, scratch):
            mounts.cmd += ["--ro-bind", str(path), SCRATCH + "/" + path.relative_to(scratch).as_posix()]
        else:
            mounts.bind_ro(path, path)
    # /dev/shm: multiprocessing's semaphores need a writable one, or libraries that use them warn
    # on stderr, which scores a test cell 0
    cmd = mounts.cmd + ["--proc", "/proc", "--dev", "/dev", "--size", str(SHM_SIZE), "--perms", "1777",
                        "--tmpfs", "/dev/shm", "--remount-ro", "/", "--chdir", SCRATCH, "--clearenv"]
    for key, value in env.items():
        cmd += ["--setenv", key, value]
    return cmd + ["--"]


@functools.lru_cache(maxsize=None)
def _host_mounts(folders: tuple[Path, ...], views: tuple[tuple[Path, Path], ...]) -> _Mounts:
    """What every sandbox sees of the host, the same for all of them: built once per process (it
    walks some sixty library binds against every bind before them), then copied per sandbox."""
    mounts = _Mounts(["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                      "--unshare-cgroup-try", "--hostname", "sandbox", "--die-with-parent",
                      "--ro-bind", "/usr", "/usr"], {Path("/"), Path("/tmp")}, [Path("/usr")], [])
    for link in ("bin", "lib", "lib64", "sbin"):
        target = Path("/") / link
        if target.is_symlink():
            mounts.cmd += ["--symlink", os.readlink(target), str(target)]
        elif target.is_dir():
            mounts.cmd += ["--ro-bind", str(target), str(target)]
    # the private /tmp comes before every other bind: an interpreter or venv that lives under /tmp
    # (a CI checkout, say) is then bound inside it instead of being hidden by it
    mounts.cmd += ["--size", str(TMP_SIZE), "--perms", "1777", "--tmpfs", "/tmp"]
    for etc in ("/etc/ld.so.cache", "/etc/alternatives", "/etc/localtime", "/etc/fonts"):
        if os.path.exists(etc):
            mounts.bind_ro(Path(etc), Path(etc))
    # the interpreter and the standard library, with every folder of installed packages hidden
    # under an empty read-only tmpfs; then only the allowed distributions' files are bound back
    for directory in _interpreter_dirs():
        real = directory.resolve()
        mounts.bind_ro(real, real)
        if directory != real:
            mounts.bind_ro(real, directory)
    staged = dict(views)
    for folder in folders:
        if not mounts.covered(folder):  # (one that no bind shows needs no hiding)
            continue
        view = staged.get(folder.resolve())  # (a folder named through a link shows its real one's)
        if view is not None:  # the allowed libraries only, staged: one bind
            mounts.cmd += ["--ro-bind", str(view), str(folder)]
            mounts.bound.append(folder)
        else:
            mounts.cmd += ["--size", "4096", "--perms", "0555", "--tmpfs", str(folder)]
            mounts.masked.append(folder)
        mounts.made.add(folder)
    for src, dest in library_binds():
        mounts.bind_ro(src, dest)
        for alias in folders:  # the same file under a folder named through a link
            real = alias.resolve()
            if alias != real and _under(dest, real):
                mounts.bind_ro(src, alias / dest.relative_to(real))
    return mounts


def _drop_privileges() -> list[str]:
    uid = str(SANDBOX_UID)
    return ["/usr/bin/setpriv", "--reuid", uid, "--regid", uid, "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]


def _inner_bwrap() -> list[str]:
    uid = str(SANDBOX_UID)
    return ["/usr/bin/bwrap", "--unshare-user", "--disable-userns", "--uid", uid, "--gid", uid,
            "--dev-bind", "/", "/", "--die-with-parent", "--new-session", "--chdir", SCRATCH, "--"]


def _prlimit(limits: Limits) -> list[str]:
    return [shutil.which("prlimit") or "/usr/bin/prlimit",
            f"--as={limits.memory_bytes}", f"--cpu={limits.cpu_seconds}:{limits.cpu_seconds + 2}",
            f"--nproc={limits.processes}", f"--fsize={limits.file_size_bytes}",
            f"--nofile={limits.open_files}", "--core=0", "--"]


def _probe() -> list[str]:
    missing = []
    if shutil.which("bwrap") is None:
        missing.append("bubblewrap (apt-get install bubblewrap)")
    for tool in ("prlimit", "setpriv"):
        if shutil.which(tool) is None:
            missing.append(f"{tool} (apt-get install util-linux)")
    if os.geteuid() != 0:
        missing.append("root (needed to bind the interpreter from root's 0700 home and to run "
                       f"student code as --uid {SANDBOX_UID})")
    if missing:
        return missing
    import tempfile

    with tempfile.TemporaryDirectory(prefix="tito-probe-") as tmp:
        scratch = Path(tmp)
        prepare_scratch(scratch)
        cmd = (_outer_bwrap(scratch, (), {"PATH": "/usr/bin:/bin"}) + _drop_privileges()
               + _inner_bwrap() + _prlimit(Limits())
               + [sys.executable, "-c", "import os; assert os.getuid() == 65534; open('ok', 'w')"])
        try:
            result = subprocess.run(cmd, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as error:
            return [f"user/network namespaces (bwrap could not run: {error})"]
        if result.returncode != 0 or not (scratch / "ok").exists():
            err = result.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
            return [f"user/network namespaces (bwrap failed: {err[0]})"]
    return []


# -------------------------------------------------------------------- cgroups

CGROUP_ROOT = Path("/sys/fs/cgroup")
CGROUP_PREFIX = "tito-"  # tito-<supervisor pid>-<n>: a sandbox's cgroup, removed after its run
_CGROUP: list = []  # [hierarchy or None], probed once per process
_CGROUP_PROBLEM: list[str] = [""]
_SEQUENCE = itertools.count(1)


@dataclass(frozen=True)
class Hierarchy:
    """Where this supervisor makes its sandboxes' cgroups: cgroup v2 (one folder, `cpu` and
    `memory` enabled) or v1 (a folder in the `cpu` and one in the `memory` hierarchy), each under
    the cgroup the supervisor itself is in."""

    version: int
    parents: tuple[Path, ...]  # v2: (one,); v1: (cpu, memory)


def _own_cgroup(controller: str | None) -> str | None:
    """This process's cgroup path in the v1 hierarchy of `controller` (None: the v2 one)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if (controller is None and controllers == "") or (controller and controller in controllers.split(",")):
            return path
    return None


def _cgroup_hierarchy() -> Hierarchy | None:
    if not _CGROUP:
        _CGROUP.append(_probe_cgroups())
    return _CGROUP[0]


def _probe_cgroups() -> Hierarchy | None:
    """v2 where the host has it with `cpu` and `memory`, else v1 `cpu` and `memory`; each tried by
    really making (and removing) a cgroup. None, with the reason in _CGROUP_PROBLEM, otherwise."""
    problems = []
    if os.geteuid() != 0:
        _CGROUP_PROBLEM[0] = "not root: the cgroup hierarchies are writable by root only"
        return None
    candidates = []
    if (CGROUP_ROOT / "cgroup.controllers").is_file():
        own = _own_cgroup(None)
        if own is not None:
            candidates.append(Hierarchy(2, (CGROUP_ROOT / own.lstrip("/"),)))
    else:
        problems.append("no cgroup v2 at /sys/fs/cgroup")
    cpu, memory = _own_cgroup("cpu"), _own_cgroup("memory")
    if cpu is not None and memory is not None and (CGROUP_ROOT / "cpu" / "cpu.shares").is_file() \
            and (CGROUP_ROOT / "memory" / "memory.limit_in_bytes").is_file():
        candidates.append(Hierarchy(1, (CGROUP_ROOT / "cpu" / cpu.lstrip("/"),
                                        CGROUP_ROOT / "memory" / memory.lstrip("/"))))
    else:
        problems.append("no cgroup v1 `cpu` and `memory` hierarchies under /sys/fs/cgroup")
    for hierarchy in candidates:
        _remove_stale(hierarchy)
        try:
            group = Cgroup.create(hierarchy, Limits(memory_bytes=256 * 2**20))
        except OSError as error:
            problems.append(f"cgroup v{hierarchy.version} not writable: {error}")
            continue
        group.remove()
        return hierarchy
    _CGROUP_PROBLEM[0] = "; ".join(problems)
    return None


def _remove_stale(hierarchy: Hierarchy) -> None:
    """The cgroups of supervisors that are gone (a run killed by SIGKILL), if empty."""
    for parent in hierarchy.parents:
        try:
            entries = list(parent.glob(CGROUP_PREFIX + "*"))
        except OSError:
            continue
        for entry in entries:
            match = re.fullmatch(re.escape(CGROUP_PREFIX) + r"(\d+)-\d+", entry.name)
            if match and not process_alive(int(match.group(1))):
                try:
                    entry.rmdir()
                except OSError:
                    pass


class Cgroup:
    """One sandbox's cgroup (one folder per hierarchy): made before the sandbox starts, removed
    when it is dead."""

    def __init__(self, hierarchy: Hierarchy, folders: list[Path]):
        self.hierarchy = hierarchy
        self.folders = folders

    @classmethod
    def create(cls, hierarchy: Hierarchy, limits: Limits) -> "Cgroup":
        name = f"{CGROUP_PREFIX}{os.getpid()}-{next(_SEQUENCE)}"
        group = cls(hierarchy, [])
        try:
            for parent in hierarchy.parents:
                folder = parent / name
                folder.mkdir()
                group.folders.append(folder)
            if hierarchy.version == 2:
                folder = group.folders[0]
                _write(folder / "cpu.weight", str(max(1, min(10000, round(limits.cpu_share * 100 / 1024)))))
                _write(folder / "memory.max", str(limits.memory_bytes))
                if (folder / "memory.swap.max").exists():
                    _write(folder / "memory.swap.max", "0")
            else:
                cpu, memory = group.folders
                _write(cpu / "cpu.shares", str(max(2, limits.cpu_share)))
                _write(memory / "memory.limit_in_bytes", str(limits.memory_bytes))
                if (memory / "memory.memsw.limit_in_bytes").exists():  # no swapping past it either
                    _write(memory / "memory.memsw.limit_in_bytes", str(limits.memory_bytes))
        except OSError:
            group.remove()
            raise
        return group

    def enter_command(self) -> list[str]:
        """A prefix that moves the command's first process into this cgroup, then execs it: every
        process of the sandbox is born inside."""
        script = 'for procs in "$@"; do [ "$procs" = -- ] && break; echo $$ > "$procs" || exit 125; shift; done; shift; exec "$@"'
        return ["/bin/sh", "-c", script, "sh"] + [str(f / "cgroup.procs") for f in self.folders] + ["--"]

    def lift_cpu_share(self) -> None:
        """The largest CPU share: a killed process must run to die, and one starved by a small
        share beside busy neighbours can take longer than the kill waits (then its cgroup stays)."""
        control, value = ("cpu.weight", "10000") if self.hierarchy.version == 2 else ("cpu.shares", "262144")
        try:
            _write(self.folders[0] / control, value)
        except (OSError, IndexError):
            pass

    def pids(self) -> list[int]:
        found: set[int] = set()
        for folder in self.folders:
            try:
                found.update(int(line) for line in (folder / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                pass
        return sorted(found)

    def stat(self, name: str) -> dict[str, int]:
        """A flat-keyed file of the cgroup (memory.events, memory.stat, cpu.stat), as numbers."""
        values = {}
        for folder in self.folders:
            try:
                for line in (folder / name).read_text().splitlines():
                    key, _, value = line.partition(" ")
                    if value.strip().lstrip("-").isdigit():
                        values[key] = int(value)
            except OSError:
                pass
        return values

    def oom_kills(self) -> int:
        """How many processes the kernel's OOM killer ended for this cgroup's memory limit."""
        if self.hierarchy.version == 2:
            return self.stat("memory.events").get("oom_kill", 0)
        return self.stat("memory.oom_control").get("oom_kill", 0)

    def remove(self) -> None:
        """rmdir each folder (once its processes are gone: the kernel refuses a busy one; the
        namespace's teardown can lag the kill by a moment, so this retries for up to 5 s)."""
        deadline = time.monotonic() + 5
        for folder in reversed(self.folders):
            while True:
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError as error:
                    if time.monotonic() > deadline:
                        log.error("cgroup %s not removed: %s", folder, error)
                        break
                    for pid in self.pids():
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except OSError:
                            pass
                    time.sleep(0.02)
        self.folders = []


def _write(path: Path, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def cpu_pressure() -> float | None:
    """The host's cumulative CPU pressure (seconds during which some runnable task waited for a
    CPU: /proc/pressure/cpu `some total`), or None where the kernel does not report it."""
    try:
        for line in Path("/proc/pressure/cpu").read_text().splitlines():
            if line.startswith("some "):
                return int(line.rsplit("total=", 1)[1]) / 1e6
    except (OSError, ValueError, IndexError):
        pass
    return None


def _process_tree() -> dict[int, tuple[str, int, int, int]]:
    """pid -> (name, uid, ppid, session id) for every process on the host."""
    tree = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
            uid = os.stat(f"/proc/{entry.name}").st_uid
            name = stat[stat.index(b"(") + 1: stat.rindex(b")")].decode(errors="replace")
            fields = stat[stat.rindex(b")") + 2:].split()
            ppid, session = int(fields[1]), int(fields[3])
        except (OSError, ValueError, IndexError):
            continue
        tree[int(entry.name)] = (name, uid, ppid, session)
    return tree


def process_alive(pid: int) -> bool:
    """Still a process (a zombie, dead and waiting for its parent, does not count)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return False


def _descendants(tree: dict[int, tuple[str, int, int, int]], root: int) -> list[int]:
    """Every descendant of `root`, parents before children."""
    children: dict[int, list[int]] = {}
    for pid, (_, _, ppid, _) in tree.items():
        children.setdefault(ppid, []).append(pid)
    out, stack = [], list(children.get(root, []))
    while stack:
        pid = stack.pop(0)
        out.append(pid)
        stack.extend(children.get(pid, []))
    return out


class CappedReader:
    """Reads several pipes at once, keeping at most `cap` bytes of each and dropping the rest."""

    def __init__(self, streams: Mapping[str, IO[bytes] | None], cap: int):
        self.cap = cap
        self.data = {name: b"" for name in streams}
        self.chunks: dict[str, list[bytes]] = {name: [] for name in streams}
        self.sizes = {name: 0 for name in streams}
        self.truncated = False
        self.selector = selectors.DefaultSelector()
        for name, stream in streams.items():
            if stream is not None:
                self.selector.register(stream, selectors.EVENT_READ, name)

    @property
    def done(self) -> bool:
        return not self.selector.get_map()

    def poll(self, timeout: float) -> None:
        for key, _ in self.selector.select(timeout):
            chunk = os.read(key.fd, 65536)
            if not chunk:
                self.selector.unregister(key.fileobj)
                continue
            name = key.data
            room = self.cap - self.sizes[name]
            if room > 0:
                self.chunks[name].append(chunk[:room])
                self.sizes[name] += min(room, len(chunk))
            if len(chunk) > max(room, 0):
                self.truncated = True

    def drain(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self.done and time.monotonic() < end:
            self.poll(0.1)

    def close(self) -> None:
        for key in list(self.selector.get_map().values()):
            self.selector.unregister(key.fileobj)
        self.selector.close()
        self.data = {name: b"".join(chunks) for name, chunks in self.chunks.items()}
