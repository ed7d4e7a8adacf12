"""Real-browser smoke test: JupyterLab 4 (as `make lab` starts it) driven by Playwright in Debian's
headless Chromium. The test starts and stops the server and the browser itself.

Skips, saying why, when /usr/bin/chromium (`apt-get install chromium`) or the playwright Python
package is missing. Never downloads a browser: Playwright is pointed at Debian's binary.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
# Screenshots are test artifacts (gitignored); `TITO_UPDATE_DOCS_IMAGES=1` writes them into
# docs/img instead, so a normal test run never modifies committed files.
SCREENSHOTS = REPO / ("docs/img" if os.environ.get("TITO_UPDATE_DOCS_IMAGES") == "1" else "tests/e2e/artifacts")
BROWSER_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _playwright():
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is missing (pip install -e '.[dev]')")
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _course_copy(dest: Path) -> Path:
    """The course as a student gets it: the release, the nbgrader and server configuration."""
    dest.mkdir()
    for name in ("nbgrader_config.py", "jupyter_server_config.py"):
        shutil.copy(REPO / name, dest / name)
    shutil.copytree(REPO / "release" / "01_tensor", dest / "release" / "01_tensor")
    return dest


def _quiet_settings(settings: Path) -> None:
    """No news or update pop-up over the notebook; every cell rendered (JupyterLab's default
    windowing leaves cells outside the viewport empty, so their text could not be read)."""
    for plugin, values in (("apputils-extension/notification", {"fetchNews": "false", "checkForUpdates": False}),
                           ("notebook-extension/tracker", {"windowingMode": "none"})):
        path = settings / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@pytest.fixture
def lab(tmp_path: Path):
    """A running JupyterLab on a copy of the course: (base url, token, course root).
    Skips first if the browser or playwright is missing: no server is started for nothing."""
    _playwright()
    root = _course_copy(tmp_path / "course")
    _quiet_settings(tmp_path / "settings")
    port, token = _free_port(), secrets.token_hex(16)
    bindir = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    command = [str(Path(bindir) / "jupyter"), "lab", "--no-browser", "--allow-root", f"--port={port}",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.token={token}",
               f"--config={root / 'jupyter_server_config.py'}", f"--ServerApp.root_dir={root}",
               f"--LabApp.user_settings_dir={tmp_path / 'settings'}",
               f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}"]
    log = (tmp_path / "lab.log").open("w")
    server = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not start:\n" + (tmp_path / "lab.log").read_text()[-3000:])
                time.sleep(0.5)
        yield base, token, root
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def test_release_notebook_runs_and_shows_the_stub_error(lab) -> None:
    sync_playwright = _playwright()
    base, token, _ = lab
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(60_000)
            page.goto(f"{base}/lab/tree/release/01_tensor/01_tensor.ipynb?token={token}")
            page.locator(".jp-Notebook .jp-Cell").first.wait_for()
            page.get_by_text("Python 3 (ipykernel) | Idle").wait_for()  # the kernel is up
            page.locator(".jp-Notebook .jp-Cell.jp-CodeCell").first.click()  # the notebook has focus
            page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-item:not(.lm-mod-disabled) .lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            # Run All stops at the first error: the first cell that calls a stub
            error = page.locator(".jp-OutputArea-output", has_text="NotImplementedError").first
            error.wait_for(timeout=120_000)
            error.scroll_into_view_if_needed()
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "lab_release_stub_error.png"))
            text = error.inner_text()
            assert "NotImplementedError" in text and "raise NotImplementedError()" in text
        finally:
            browser.close()
