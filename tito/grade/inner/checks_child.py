"""Run the module's cases in a forked child of the notebook runner (runs INSIDE the sandbox).

Why a child of the runner and not a sandbox of their own: starting a sandboxed interpreter and
importing numpy is most of what a cheap submission costs. The runner pays it once, forks this
child before any notebook cell has run, waits for it, and only then runs the cells. So the
cases see a pristine interpreter, as in a sandbox of their own: nothing the notebook does can
reach them, and they are over before it starts.

The child runs `run_cases.main` on the student's module (`checks/lib`, not the notebook's `lib/`),
in its own session so that whatever it leaves running is killed with it. The runner reads its
stdout and stderr (capped), enforces the time limit, reads `values.pack` without following links,
kills every process the child left, wipes every place the child could write (the working
directory apart from the read-only mounts, /tmp, /dev/shm, System V IPC objects) and reports
everything as ONE "checks" event on its channel, before the first cell starts. The supervisor
trusts none of it beyond its schema: the child ran the student's code, and the comparison with
the reference happens outside.
"""

from __future__ import annotations

import base64
import os
import select
import signal
import stat
import sys
import time

STDOUT_CAP = 1 * 2**20  # bytes of the case runner's JSON lines kept (one short line per case)
STDERR_TAIL = 4000  # bytes of its stderr kept (the end: where the error is)


def run(case_args: list[str], out_dir: str, timeout: float, values_cap: int, *, isolate: bool) -> dict:
    """Fork, run the cases (`run_cases.py` with `case_args`), wait at most `timeout` seconds;
    the "checks" event.

    `isolate`: afterwards, kill every other process in the sandbox and wipe what the child could
    write (only in a sandbox with its own pid namespace and private /tmp, where nothing else
    lives: never in the unsafe mode)."""
    start = time.monotonic()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(out_r)
        os.close(err_r)
        _child(case_args, out_w, err_w)  # never returns
    os.close(out_w)
    os.close(err_w)
    stdout, stderr, status = _collect(pid, out_r, err_r, start + timeout)
    _killpg(pid)  # whatever it left running
    if status is None:  # still running at the deadline (and maybe out of its process group)
        _kill(pid)
        os.waitpid(pid, 0)
        returncode, sig = None, signal.SIGKILL
    else:
        returncode, sig = _status(status)
    if isolate:
        _kill_strays()
    values, problem = _values(out_dir, values_cap)
    if isolate:
        wipe_writable()
    return {"event": "checks", "stdout": stdout.decode("utf-8", "replace"),
            "stderr": stderr.decode("utf-8", "replace"), "returncode": returncode, "signal": sig,
            "timed_out": status is None, "wall": round(time.monotonic() - start, 4),
            "values": base64.b64encode(values).decode("ascii") if values is not None else None,
            "values_problem": problem}


def _child(case_args: list[str], out_w: int, err_w: int) -> None:
    runner_dir = os.path.dirname(os.path.abspath(__file__))
    try:
        os.setsid()  # its own process group: the runner kills whatever it leaves behind
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        os.closerange(3, _max_fd())  # the runner's channel and capture files are not its business
        for name in ("SIGINT", "SIGTERM"):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
        lib = os.path.abspath(os.path.join("checks", "lib"))
        # the student's module and the earlier modules beside it, never the notebook's lib/
        # (PYTHONPATH); the runner's folder stays for `run_cases` and `casekit` (read-only)
        notebook_lib = {os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p}
        sys.path[:] = [lib, runner_dir] + [p for p in sys.path[1:] if p and os.path.abspath(p) not in notebook_lib]
        os.environ["PYTHONPATH"] = lib
        sys.stdout = os.fdopen(1, "w", buffering=1)
        sys.stderr = os.fdopen(2, "w", buffering=1)
        import run_cases

        code = run_cases.main(["run_cases.py", *case_args])
    except BaseException as error:  # noqa: BLE001 (report anything, never return to the runner)
        try:
            os.write(2, f"the check runner failed: {type(error).__name__}: {error}\n".encode())
        except OSError:
            pass
        code = 1
    os._exit(code if isinstance(code, int) else 1)


WRITABLE = ("/tmp", "/dev/shm")
READ_ONLY = ("runner", "lib", "checks")  # the working directory's read-only mounts


def wipe_writable() -> None:
    """Remove everything the cases could have left for the cells: the working directory's entries
    (but its read-only mounts), the contents of /tmp and /dev/shm, and System V shared memory,
    semaphores and message queues. Runs after every other process of the sandbox is dead."""
    for name in os.listdir("."):
        if name not in READ_ONLY:
            _remove(name)
    for folder in WRITABLE:
        for name in _listdir(folder):
            _remove(os.path.join(folder, name))
    _remove_ipc()


def _listdir(folder: str) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []


def _remove(path: str) -> None:
    """Remove a file, a link or a tree the child may have made unreadable (mode 000 folders)."""
    try:
        info = os.lstat(path)
    except OSError:
        return
    if stat.S_ISDIR(info.st_mode):
        try:
            os.chmod(path, 0o700)
        except OSError:
            pass
        for name in _listdir(path):
            _remove(os.path.join(path, name))
        try:
            os.rmdir(path)
        except OSError:
            pass
    else:
        try:
            os.unlink(path)
        except OSError:
            pass


def _remove_ipc() -> None:
    """IPC_RMID every System V object of this IPC namespace (the sandbox's own)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
    except Exception:  # noqa: BLE001
        return
    for table, control in (("shm", libc.shmctl), ("sem", libc.semctl), ("msg", libc.msgctl)):
        try:
            with open(f"/proc/sysvipc/{table}") as handle:
                rows = handle.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 1 and fields[1].isdigit():
                if table == "sem":
                    control(int(fields[1]), 0, 0)  # semctl(id, semnum, IPC_RMID)
                else:
                    control(int(fields[1]), 0, None)  # IPC_RMID is 0


def _max_fd() -> int:
    try:
        return int(os.sysconf("SC_OPEN_MAX"))
    except (ValueError, OSError):
        return 4096


def _collect(pid: int, out_r: int, err_r: int, deadline: float) -> tuple[bytes, bytes, int | None]:
    """Both pipes until they close or the deadline passes: (stdout, stderr tail, wait status or
    None if the child is still running). A process the child left behind may hold the pipes
    open: one second after the child has exited, what came is what there is."""
    stdout, stderr = bytearray(), bytearray()
    open_fds = {out_r, err_r}
    status, exited_at = None, None
    while open_fds:
        now = time.monotonic()
        if status is None:
            done, found = os.waitpid(pid, os.WNOHANG)
            if done:
                status, exited_at = found, now
        if now >= deadline or (exited_at is not None and now > exited_at + 1.0):
            break
        ready, _, _ = select.select(list(open_fds), [], [], min(deadline - now, 0.05 if exited_at is None else 0.2))
        for fd in ready:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                open_fds.discard(fd)
                os.close(fd)
            elif fd == out_r:
                stdout += chunk[: max(0, STDOUT_CAP - len(stdout))]
            else:
                stderr = (stderr + chunk)[-STDERR_TAIL:]
    for fd in open_fds:
        os.close(fd)
    if status is None:
        done, found = os.waitpid(pid, os.WNOHANG)
        status = found if done else None
    return bytes(stdout), bytes(stderr), status


def _kill_strays() -> None:
    """SIGKILL every process of the sandbox but this runner and its ancestors (the sandbox's own
    bwrap processes), until none is left: what the checks started, even in a session of its own,
    must not run beside the notebook (a fork bomb would starve it)."""
    keep = _ancestors()
    for _ in range(100):
        strays = [int(n) for n in os.listdir("/proc") if n.isdigit() and int(n) not in keep]
        if not strays:
            return
        for pid in strays:
            _kill(pid)
        _reap_children()
        time.sleep(0.001)


def _ancestors() -> set[int]:
    chain, pid = {os.getpid()}, os.getpid()
    while pid > 1:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                pid = int(handle.read().rsplit(")", 1)[1].split()[1])  # field 4: the parent
        except (OSError, ValueError, IndexError):
            break
        chain.add(pid)
    return chain


def _reap_children() -> None:
    """Reap our own dead children (orphans of the checks are reaped by the namespace's init)."""
    while True:
        try:
            done, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if not done:
            return


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _killpg(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _status(status: int) -> tuple[int | None, int | None]:
    if os.WIFSIGNALED(status):
        return None, os.WTERMSIG(status)
    return os.WEXITSTATUS(status), None


def _values(out_dir: str, cap: int) -> tuple[bytes | None, str | None]:
    """values.pack as the child left it: (bytes, None), (None, None) when there is none, or
    (None, reason) when it is not a plain file within the cap."""
    try:
        if not stat.S_ISDIR(os.lstat(out_dir).st_mode):
            return None, "the results directory was replaced by something else (a link?): results refused"
        fd = os.open(os.path.join(out_dir, "values.pack"), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None, None
    except OSError as error:
        return None, f"values.pack cannot be opened safely ({error.strerror}): results refused"
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            return None, "values.pack is not a regular file: results refused"
        if info.st_size > cap:
            return None, f"values.pack is {info.st_size / 2**20:.1f} MB, over the {cap / 2**20:.0f} MB cap: results refused"
        return handle.read(cap + 1), None
