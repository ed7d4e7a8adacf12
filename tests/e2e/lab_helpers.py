"""What the real-browser tests share: a JupyterLab server started the way `make lab` starts it, Debian's
headless Chromium driven by Playwright, and the few JupyterLab gestures the tests make.

Playwright never downloads a browser here: it is pointed at /usr/bin/chromium (`apt-get install
chromium`). Tests skip, saying why, when that binary or the playwright package is missing.
Every wait is on a real UI state (a dialog, an output, the kernel's status), never a fixed sleep.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
# Screenshots are test artifacts (gitignored); `TITO_UPDATE_DOCS_IMAGES=1` writes them into
# docs/img instead, so a normal test run never modifies committed files.
SCREENSHOTS = REPO / ("docs/img" if os.environ.get("TITO_UPDATE_DOCS_IMAGES") == "1" else "tests/e2e/artifacts")
BROWSER_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1400, "height": 900}
BIN = Path(sys.executable).parent  # the venv's jupyter, python and tito
KERNEL_IDLE = "Python 3 (ipykernel) | Idle"  # the status bar once the kernel has started and finished
LONG = 180_000  # ms: executing a notebook or grading, on a loaded two-core CI machine


def require_browser() -> None:
    """Skip, naming what is missing, unless Chromium and playwright are both here. Fixtures call it
    before building courses or starting servers, so a machine without a browser wastes no time."""
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("the playwright package is missing (pip install -e '.[dev]')")


def expect(locator):
    """Playwright's retrying assertions (imported late: without playwright the tests skip)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


@contextlib.contextmanager
def chromium():
    """One headless Chromium for a whole test module (starting it costs a second or two)."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser):
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(60_000)
    return page


def screenshot(page, name: str) -> Path:
    """Save the page as `<name>.png`; the docs reference these names (tests/e2e/test_docs_images.py)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


@dataclass(frozen=True)
class Lab:
    """A running JupyterLab: where it listens, its token, the folder it serves."""

    base: str
    token: str
    root: Path

    def url(self, path: str) -> str:
        separator = "&" if "?" in path else "?"
        return f"{self.base}/{path.lstrip('/')}{separator}token={self.token}"

    def lab_url(self, workspace: str, path: str = "") -> str:
        """JupyterLab in a named workspace (its own set of open tabs, so one flow's tabs do not
        clutter another's screenshots), opening `path` if given."""
        return self.url(f"lab/workspaces/{workspace}" + (f"/tree/{path}" if path else ""))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _quiet_settings(settings: Path) -> None:
    """No news or update pop-up over the notebook; every cell rendered (JupyterLab's default
    windowing leaves cells outside the viewport empty, so their text could not be read)."""
    for plugin, values in (("apputils-extension/notification", {"fetchNews": "false", "checkForUpdates": False}),
                           ("notebook-extension/tracker", {"windowingMode": "none"})):
        path = settings / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@contextlib.contextmanager
def running_lab(root: Path, state: Path, user_nbgrader_config: str = ""):
    """JupyterLab on `root` with the course's jupyter_server_config.py, as `make lab` runs it.

    `state` holds what the server writes besides the course (settings, workspaces, runtime files,
    its log) and stands in for the user's ~/.jupyter, so a test never reads or touches the real
    one. `user_nbgrader_config` goes into that folder's nbgrader_config.py, where nbgrader's
    Assignments panel reads a student's exchange settings (it does not read the course's file
    once it looks inside the assignments folder).
    """
    state.mkdir(parents=True, exist_ok=True)
    _quiet_settings(state / "settings")
    config_dir = state / "jupyter-config"
    config_dir.mkdir(exist_ok=True)
    (config_dir / "nbgrader_config.py").write_text(user_nbgrader_config)
    port, token = _free_port(), secrets.token_hex(16)
    environment = dict(os.environ, PATH=str(BIN) + os.pathsep + os.environ.get("PATH", ""),
                       JUPYTER_RUNTIME_DIR=str(state / "runtime"), JUPYTER_CONFIG_DIR=str(config_dir))
    command = [str(BIN / "jupyter"), "lab", "--no-browser", "--allow-root", f"--port={port}",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.token={token}",
               f"--config={root / 'jupyter_server_config.py'}", f"--ServerApp.root_dir={root}",
               f"--LabApp.user_settings_dir={state / 'settings'}", f"--LabApp.workspaces_dir={state / 'workspaces'}"]
    log_path = state / "lab.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(command, cwd=root, env=environment, stdout=log, stderr=subprocess.STDOUT)
        lab = Lab(f"http://127.0.0.1:{port}", token, root)
        try:
            _wait_until_up(lab, server, log_path)
            yield lab
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_until_up(lab: Lab, server: subprocess.Popen, log_path: Path) -> None:
    """Poll the status API (the only wait without a UI to watch: there is no page yet)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(lab.url("api/status"), timeout=2)
            return
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("JupyterLab did not start:\n" + log_path.read_text()[-3000:])
            time.sleep(0.5)


# --- JupyterLab gestures ------------------------------------------------------------------------


def open_notebook(page, lab: Lab, workspace: str, path: str) -> None:
    """Open a notebook and wait until its kernel is idle (started, nothing running)."""
    page.goto(lab.lab_url(workspace, path))
    page.locator(".jp-Notebook .jp-Cell").first.wait_for()
    page.get_by_text(KERNEL_IDLE).wait_for(timeout=LONG)


def menu(page, top: str, item: str) -> None:
    """Click a main-menu entry, e.g. menu(page, "Run", "Run All Cells")."""
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text=top).first.click()
    page.locator(".lm-Menu-item:not(.lm-mod-disabled) .lm-Menu-itemLabel", has_text=item).first.click()


def code_cell(page, index: int):
    """The index-th code cell of the open notebook (0-based, markdown cells not counted)."""
    return page.locator(".jp-Notebook .jp-Cell.jp-CodeCell").nth(index)


def run_all_cells(page) -> None:
    """Run > Run All Cells, with the notebook focused (the command acts on the focused notebook)."""
    code_cell(page, 0).locator(".jp-InputPrompt").click()
    menu(page, "Run", "Run All Cells")


def save_notebook(page) -> None:
    """Ctrl+S, then wait until the tab no longer marks the notebook as modified."""
    page.keyboard.press("ControlOrMeta+s")
    expect(page.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty")).to_have_count(0)


def replace_cell_source(page, cell, text: str) -> None:
    """Type `text` over a cell's source through the editor, as a student pasting their code does:
    focus the CodeMirror editor, select all, insert the text as one input (no auto-indent, no
    auto-closed brackets: those react to single keystrokes only)."""
    editor = cell.locator(".cm-content")
    editor.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.insert_text(text)
