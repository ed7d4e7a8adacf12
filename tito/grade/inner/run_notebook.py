"""Execute a notebook's code cells inside the sandbox and report each cell as a JSON line.

Runs INSIDE the sandbox, copied into the scratch directory: standard library, IPython and numpy
only, never tito. Usage:
    python run_notebook.py [--output-bytes N] [--outputs-kept N] [--line-bytes N] [--capture-dir DIR]
                           [--checks JSON_ARGS --checks-out DIR --checks-timeout S --values-cap N
                            --isolate 1]
                           [cells.json]
With --checks, the module's cases run first, in a forked child of this still pristine process
(`checks_child.py`, given the case runner's arguments as a JSON list), and their results come as
one "checks" event before the first cell. With --isolate (a real sandbox only), whatever the
cases left running is killed and every place they could write is wiped before the first cell:
nothing flows from the cases to the cells.

The runner's folder is mounted read-only, and no directory the student's code can write is on
`sys.path` (checked before the first cell): no cell can plant a module the runner or a later
cell imports. The process is not dumpable, so a child cannot attach to it.

Input: a JSON list of {"index", "source", "grade_id"} (the code cells, in order).
Output, on the ORIGINAL stdout (a private duplicate of fd 1 taken at startup), one JSON object
per line:
    {"event": "checks", ...}            (with --checks only; see checks_child.py)
    {"event": "start", "index": i}
    {"event": "done", "index": i, "ename", "evalue", "traceback", "stdout", "stderr", "outputs"}
    {"event": "end"}
Everything the student's code prints goes to that cell's capture instead: fds 1 and 2 point to
per-cell files under /scratch/.tito/, which receive `print` (sys.stdout/sys.stderr write through,
capped) as well as `os.write(1, ...)`, C libraries and child processes; so the supervisor can
still read what a cell printed when it kills the process.

All cells share ONE IPython InteractiveShell (magics work as in Jupyter). Before each cell,
`random` and `numpy.random` are seeded from the cell's index. Warnings go to stderr, as in
Jupyter. A KeyboardInterrupt (the supervisor's SIGINT at the per-cell timeout) ends that cell
with ename "CellTimeoutError" and the next cell runs.

The supervisor trusts nothing in these lines beyond their schema: this process runs student code
and could be made to write anything.
"""

from __future__ import annotations

import base64
import gc
import json
import os
import random
import re
import signal
import sys

SEED = 20240601
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
CAPTURE_DIR = "/scratch/.tito"
TRUNCATED = "\n[... output truncated by the grader ...]\n"
DISPLAYS_DROPPED = "\n[... further displayed outputs dropped by the grader ...]\n"
REPORT_CUT = "\n[... this cell's outputs cut short: too large to report ...]\n"
KEEP_MIMETYPES = ("text/plain", "image/png")


class Capture:
    """What one cell produced, in order.

    Stream text lives in the cell's capture files (fds 1 and 2), written there at once by
    `print` and by fd-level writers alike, so it survives a cell that kills the process. This
    object remembers where each Python-level write began and where displays came in between,
    so the outputs can be put back in order; every stream is capped at `cap` bytes, displays
    together too, and a cell keeps at most `outputs_kept` outputs (what the supervisor keeps).
    """

    def __init__(self, cap: int, outputs_kept: int):
        self.cap = cap
        self.items: list[tuple] = []  # ("stream", name, start offset) | ("display", output)
        self.dropped = {"stdout": False, "stderr": False}
        self.display_bytes = 0
        # room for what `assemble` adds: two streams' starts, two truncation notes, the note on
        # dropped displays; and the error output (0: no limit, a run by hand)
        self.most_items = outputs_kept - 8 if outputs_kept > 0 else float("inf")
        self.displays_dropped = False

    def note_stream(self, name: str, offset: int) -> None:
        last = self.items[-1] if self.items else None
        if last is None or last[0] != "stream" or last[1] != name:
            self.items.append(("stream", name, offset))

    def display(self, output_type: str, data: dict, **extra) -> None:
        if len(self.items) >= self.most_items or self.display_bytes >= self.cap:
            self.displays_dropped = True  # countless small outputs would outgrow the cell's report
            return
        kept = {}
        for mime in KEEP_MIMETYPES:
            value = data.get(mime)
            if value is None:
                continue
            if isinstance(value, bytes):
                value = base64.b64encode(value).decode("ascii")
            if not isinstance(value, str):
                value = str(value)
            if len(value) + self.display_bytes > self.cap:
                if mime != "text/plain":
                    continue  # an image past the cap is dropped
                value = value[: max(0, self.cap - self.display_bytes)] + TRUNCATED
            self.display_bytes += len(value)
            kept[mime] = value
        if kept:
            self.items.append(("display", {"output_type": output_type, "data": kept, "metadata": {}, **extra}))

    def assemble(self, data: dict[str, bytes], over: dict[str, bool]) -> tuple[list[dict], dict[str, str]]:
        """The nbformat outputs and the full text of each stream, from the capture files' bytes."""
        items = list(self.items)
        for name in ("stderr", "stdout"):
            starts = [i[2] for i in items if i[0] == "stream" and i[1] == name]
            if data[name] and (not starts or starts[0] > 0):
                items.insert(0, ("stream", name, 0))  # fd-level text written before any print
        outputs, last_of = [], {}
        for position, item in enumerate(items):
            if item[0] == "display":
                outputs.append(item[1])
                continue
            _, name, begin = item
            later = [i[2] for i in items[position + 1:] if i[0] == "stream" and i[1] == name]
            text = data[name][begin: later[0] if later else len(data[name])].decode("utf-8", "replace")
            if text:
                if outputs and outputs[-1]["output_type"] == "stream" and outputs[-1]["name"] == name:
                    outputs[-1]["text"] += text
                else:
                    outputs.append({"output_type": "stream", "name": name, "text": text})
                last_of[name] = outputs[-1]
        if self.displays_dropped:
            outputs.append({"output_type": "stream", "name": "stdout", "text": DISPLAYS_DROPPED})
        texts = {}
        for name in ("stdout", "stderr"):
            texts[name] = data[name].decode("utf-8", "replace")
            if over[name] or self.dropped[name]:
                texts[name] += TRUNCATED
                if name in last_of:
                    last_of[name]["text"] += TRUNCATED
                else:
                    outputs.append({"output_type": "stream", "name": name, "text": TRUNCATED})
        return outputs, texts


CURRENT: Capture | None = None


class CappedStream:
    """sys.stdout / sys.stderr during a cell: text goes straight to fd 1 / fd 2 (the cell's
    capture file), unbuffered, and stops at the cap (the rest is dropped, never written)."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, name: str, fd: int):
        self.name_ = name
        self.fd = fd

    def write(self, text) -> int:
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        text = str(text)
        capture = CURRENT
        data = text.encode("utf-8", "replace")
        if capture is None or not data:
            return len(text)
        try:
            offset = os.lseek(self.fd, 0, os.SEEK_CUR)
        except OSError:  # the student pointed fd 1 somewhere else
            return len(text)
        capture.note_stream(self.name_, offset)
        room = capture.cap - offset
        if len(data) > room:
            capture.dropped[self.name_] = True
            data = data[: max(0, room)]
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self.fd, view):]
        except OSError:
            pass
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self.fd  # fd-level writes land in the cell's capture file

    def readable(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    @property
    def buffer(self):
        return _Buffer(self)

    @property
    def closed(self) -> bool:
        return False


class _Buffer:
    def __init__(self, stream: CappedStream):
        self.stream = stream

    def write(self, data: bytes) -> int:
        self.stream.write(bytes(data).decode("utf-8", "replace"))
        return len(data)

    def flush(self) -> None:
        pass


def make_shell(cap: int):
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    class CollectingDisplayHook(DisplayHook):
        """Out[n] values become execute_result outputs (as ipykernel sends them)."""

        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            if CURRENT is not None:
                CURRENT.display("execute_result", format_dict, execution_count=self.prompt_count)

        def finish_displayhook(self):
            pass

    class CollectingPublisher(DisplayPublisher):
        """display(...) and inline matplotlib figures become display_data outputs."""

        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):
            if CURRENT is not None:
                CURRENT.display("display_data", data)

        def clear_output(self, wait=False):
            pass

    class Shell(InteractiveShell):
        displayhook_class = CollectingDisplayHook
        display_pub_class = CollectingPublisher
        last_error: tuple[str, str, str] | None = None

        def _showtraceback(self, etype, evalue, stb):
            text = ANSI.sub("", "\n".join(stb) if isinstance(stb, list) else str(stb))
            Shell.last_error = (etype.__name__, _safe_str(evalue), text)

        def enable_gui(self, gui=None):  # no event loops in a sandbox
            pass

        def ask_exit(self):  # exit() / quit(): ends the cell (the runner goes on)
            self.exit_now = True

    config = Config()
    config.HistoryManager.enabled = False
    config.HistoryManager.hist_file = ":memory:"
    config.InteractiveShell.colors = "nocolor"
    config.InteractiveShell.autoindent = False
    config.InteractiveShell.xmode = "Context"
    return Shell.instance(config=config)


def _safe_str(value) -> str:
    """str() of a student's exception, which may itself raise or be huge."""
    try:
        text = str(value)
    except BaseException:  # noqa: BLE001 (a __str__ that raises anything at all)
        text = f"<unprintable {type(value).__name__}>"
    return text[:10000]


def forget(shell, error: BaseException) -> None:
    """Free what a cell IPython itself failed on left behind, now, while stderr goes nowhere.

    When compiling a cell fails inside `run_cell` (code too deeply nested for the parser raises
    RecursionError there), the coroutine it had created is freed with the exception's frames and
    warns that it was "never awaited": freed during the next cell, that warning landed on the
    next cell's stderr and failed a test the student had passed.
    """
    type(shell).last_error = None
    sys.last_type = sys.last_value = sys.last_traceback = None
    error.__traceback__ = None
    gc.collect()


def cut_short(done: dict, line_bytes: int) -> dict:
    """A cell's report that fits on one line of `line_bytes`: its texts shortened, its outputs
    replaced by a note (and its error, if any).

    JSON writes a control character as 6 bytes, so text within the caps can still make a report
    longer than the supervisor reads, and a line it cannot read would cost every later cell.
    Each of the four texts (stdout, stderr, the traceback and the error output's copy of it)
    keeps line_bytes // 32 characters: at most 6/32 of the line each, even escaped.
    """
    keep = line_bytes // 32
    traceback = done["traceback"][:keep]
    outputs = [{"output_type": "stream", "name": "stdout", "text": REPORT_CUT}]
    outputs += [dict(o, traceback=traceback.splitlines()[:2000]) for o in done["outputs"] if o["output_type"] == "error"]
    return dict(done, stdout=done["stdout"][:keep], stderr=done["stderr"][:keep], traceback=traceback,
                outputs=outputs)


def seed(index: int) -> None:
    random.seed(SEED + index)
    try:
        import numpy

        numpy.random.seed((SEED + index) % 2**32)
    except Exception:  # noqa: BLE001 (a student may have broken numpy itself)
        pass


def not_dumpable() -> None:
    """prctl(PR_SET_DUMPABLE, 0): no process of the same uid (a forked child of the cases, a cell's
    subprocess) can ptrace this one or write its memory through /proc."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)
    except Exception:  # noqa: BLE001 (not Linux: nothing to harden)
        pass


def importable_path(path: list[str], isolated: bool) -> list[str]:
    """`sys.path` without the runner's own folder, the working directory and (in a real sandbox,
    where this process is an unprivileged user) any folder this process can write: a module
    planted there must never be imported by a later cell."""
    runner = os.path.dirname(os.path.abspath(__file__))
    kept = []
    for entry in path:
        folder = os.path.abspath(entry) if entry else os.getcwd()
        if folder in (runner, os.getcwd()) or (isolated and os.path.isdir(folder) and os.access(folder, os.W_OK)):
            continue
        kept.append(entry)
    return kept


IN_CELL = False


def on_sigint(signum, frame):
    if IN_CELL:
        raise KeyboardInterrupt
    # between cells (a late interrupt): nothing to stop


def main(argv: list[str]) -> int:
    global CURRENT, IN_CELL, CAPTURE_DIR
    options = {"--output-bytes": str(2**20), "--outputs-kept": "0", "--line-bytes": "0",  # 0: no limit
               "--capture-dir": CAPTURE_DIR, "--checks": "",
               "--checks-out": "out", "--checks-timeout": "60", "--values-cap": str(4 * 2**20), "--isolate": ""}
    args = list(argv)
    for option in options:
        if option in args:
            at = args.index(option)
            options[option] = args[at + 1]
            del args[at: at + 2]
    cap, CAPTURE_DIR = int(options["--output-bytes"]), options["--capture-dir"]
    outputs_kept, line_bytes = int(options["--outputs-kept"]), int(options["--line-bytes"])
    cells_path = args[0] if args else "/scratch/cells.json"

    channel = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)

    def emit(event: dict) -> None:
        line = json.dumps(event, ensure_ascii=True)
        if 0 < line_bytes <= len(line) and event["event"] == "done":
            line = json.dumps(cut_short(event, line_bytes), ensure_ascii=True)
        channel.write(line + "\n")
        channel.flush()

    with open(cells_path, encoding="utf-8") as f:
        cells = json.load(f)
    isolate = bool(options["--isolate"])
    not_dumpable()
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large write fails with EFBIG, no kill

    # the matplotlib backend of a Jupyter kernel: figures become image/png outputs at the end of
    # the cell and plt.show() does not warn (Agg would print a UserWarning to stderr)
    try:
        import importlib.util

        if importlib.util.find_spec("matplotlib_inline") is not None:
            os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    except Exception:  # noqa: BLE001
        pass
    try:
        import numpy  # noqa: F401 (imported once, before the checks fork and the first cell's clock)
    except Exception:  # noqa: BLE001
        pass
    if options["--checks"]:
        import checks_child  # beside this script

        emit(checks_child.run(json.loads(options["--checks"]), options["--checks-out"],
                              float(options["--checks-timeout"]), int(options["--values-cap"]), isolate=isolate))
    sys.path[:] = importable_path(sys.path, isolate)
    os.makedirs(CAPTURE_DIR, exist_ok=True)
    # opened once, reused by every cell: a cell that exhausts its file descriptors cannot stop
    # the runner from capturing the next one
    captures = {name: os.open(f"{CAPTURE_DIR}/{name}", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
                for name in ("stdout", "stderr")}
    shell = make_shell(cap)
    real_stdout, real_stderr = sys.stdout, sys.stderr
    out_stream, err_stream = CappedStream("stdout", 1), CappedStream("stderr", 2)

    for cell in cells:
        index = int(cell["index"])
        for fd, name in ((1, "stdout"), (2, "stderr")):
            os.ftruncate(captures[name], 0)
            os.lseek(captures[name], 0, os.SEEK_SET)
            os.dup2(captures[name], fd)
        capture = Capture(cap, outputs_kept)
        CURRENT = capture
        sys.stdout, sys.stderr = out_stream, err_stream
        type(shell).last_error = None
        seed(index)
        signal.signal(signal.SIGINT, on_sigint)
        emit({"event": "start", "index": index})
        error, ipython_failed = None, False
        try:
            IN_CELL = True
            try:
                result = shell.run_cell(cell["source"], store_history=True)
            finally:
                IN_CELL = False
            error = result.error_before_exec or result.error_in_exec
        except KeyboardInterrupt as interrupt:  # the SIGINT landed outside the cell's own code
            error = interrupt
        except BaseException as problem:  # noqa: BLE001 (IPython itself failed on this cell)
            error, ipython_failed = problem, True
        finally:
            IN_CELL = False
            sys.stdout, sys.stderr = real_stdout, real_stderr
            CURRENT = None
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
        shell.exit_now = False  # exit()/quit() in a cell ends that cell, not the notebook

        data, over = {}, {}
        for name, fd in captures.items():
            try:
                raw = os.pread(fd, cap + 1, 0)  # one byte more than kept: tells truncation
            except OSError:
                raw = b""
            data[name], over[name] = raw[:cap], len(raw) > cap
        outputs, texts = capture.assemble(data, over)

        ename = evalue = None
        traceback = ""
        if error is not None:
            recorded = type(shell).last_error
            ename, evalue = type(error).__name__, _safe_str(error)
            if recorded is not None:
                traceback = recorded[2]
            if isinstance(error, KeyboardInterrupt):
                ename, evalue = "CellTimeoutError", "interrupted at the per-cell timeout"
            traceback = traceback[:cap]
            outputs.append({"output_type": "error", "ename": ename, "evalue": evalue,
                            "traceback": traceback.splitlines()[:2000]})
        emit({"event": "done", "index": index, "ename": ename, "evalue": evalue, "traceback": traceback,
              "stdout": texts["stdout"], "stderr": texts["stderr"], "outputs": outputs})
        if ipython_failed:
            forget(shell, error)
            error = None
    emit({"event": "end"})
    channel.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
