"""Nothing a student writes or prints runs script in the instructor's browser (issue 9, item 1).

A hostile submission of module 01 is graded by the kit in the real sandbox, then opened in a real
browser the way an instructor opens it: the submission's view in Formgrader (nbconvert renders the
autograded notebook in the Jupyter server's own origin, where a script could drive the contents,
kernels and terminals APIs), its feedback page and the report (in JupyterLab's HTML viewer and
straight from the server's /files/).

The submission carries script in every form we know of: a markdown cell with a `<script>` tag, an
`<img onerror>`, a `javascript:` link (clicked), an `<svg onload>` and an SVG attachment; a raw
cell in the text/html format; code that switches the runner's own allow-list off inside the
sandbox and displays text/html, application/javascript and image/svg+xml outputs (and an HTML
value as the cell's result); an exception whose message is HTML, which reaches the feedback page
through the test cells, and a comment with a script that reaches the report through an integrity
flag's evidence. Every payload logs `PWNED <kind>` to the console, appends to `window.__pwned`
and asks the contents API to write `pwned-<kind>.txt` into the course root. None may happen, and
the hostile text must be there as text (so the test would see it if it had run).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from lab_helpers import REPO, chromium, expect, new_page, require_browser, running_lab

from tito.grade.sandbox import Sandbox

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MODULE = "01_tensor"
STUDENT = "s001"
ROSTER = "id,first_name,last_name,email\ns001,Mallory,Student,mallory@example.org\n"
COURSE_PARTS = ("source", "release", "tinytorch", "checkpoints", "nbgrader_config.py", "jupyter_server_config.py",
                "conftest.py", "pyproject.toml")


def payload(kind: str) -> str:
    """JavaScript without double quotes or spaces (it goes into attributes and link targets)."""
    return (f"window.__pwned=(window.__pwned||[]).concat('{kind}');console.log('PWNED-{kind}');"
            f"fetch('/api/contents/pwned-{kind}.txt',{{method:'PUT',headers:{{'Content-Type':'application/json',"
            f"'X-XSRFToken':(document.cookie.match(/_xsrf=([^;]*)/)||[0,''])[1]}},"
            f"body:JSON.stringify({{type:'file',format:'text',content:'{kind}'}})}})")


HOSTILE_MARKDOWN = (
    "# Mallory's notes\n\n"
    f"<script>{payload('md-script')}</script>\n\n"
    f"An image: <img src=\"missing.png\" onerror=\"{payload('md-img')}\">\n\n"
    f"A link: [click-me](javascript:{payload('md-link')})\n\n"
    f"<svg onload=\"{payload('md-svg')}\"><circle r=\"4\"/></svg>\n\n"
    "An attachment: ![attached](attachment:evil.svg)\n\n"
    "The end of Mallory's notes.\n"
)
SVG_ATTACHMENT = f"<svg xmlns='http://www.w3.org/2000/svg' onload=\"{payload('attachment')}\"/>"
HTML_OUTPUT = f"<script>{payload('html-output')}</script><img src=x onerror=\"{payload('html-output-img')}\">"
SVG_OUTPUT = f"<svg xmlns='http://www.w3.org/2000/svg' onload=\"{payload('svg-output')}\"/>"
EVALUE = f"<img src=x onerror=\"{payload('evalue')}\">EVALUE-MARKER"
RESULT = f"<script>{payload('result')}</script>"
HOSTILE_CODE = f"""import gc
import subprocess  # <script>{payload('evidence')}</script>
from IPython.display import HTML, SVG, Javascript, display

for g in gc.get_objects():  # the runner's allow-list lives in this very process: switch it off
    if isinstance(g, dict) and 'KEEP_MIMETYPES' in g and 'Capture' in g:
        g['KEEP_MIMETYPES'] = ('text/plain', 'image/png', 'text/html', 'application/javascript', 'image/svg+xml')
display(HTML({HTML_OUTPUT!r}))
display(Javascript({payload('js-output')!r}))
display(SVG({SVG_OUTPUT!r}))


class Tensor:  # every test cell that builds a tensor raises an exception whose message is HTML
    def __init__(self, *args, **kwargs):
        raise ValueError({EVALUE!r})


print('hostile outputs displayed')
HTML({RESULT!r})
"""


def _snapshot(page, name: str) -> None:
    """A test artifact only (never a docs picture, whatever TITO_UPDATE_DOCS_IMAGES says)."""
    folder = REPO / "tests" / "e2e" / "artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"))


def _require_everything() -> None:
    """Skip (fail in CI) without a browser or a sandbox."""
    missing = Sandbox.missing_layers()
    if os.environ.get("CI") == "true":
        assert not missing, f"CI must be able to sandbox: {missing}"
        assert Path("/usr/bin/chromium").is_file(), "CI must have chromium"
    if missing:
        pytest.skip(f"this machine cannot sandbox student code: {'; '.join(missing)}")
    require_browser()


def _run(root: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", *args], cwd=root, capture_output=True, text=True, timeout=900)
    if done.returncode:
        pytest.fail(f"`{' '.join(args)}` failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def _hostile_submission(root: Path) -> None:
    notebook = nbformat.read(root / "release" / MODULE / f"{MODULE}.ipynb", as_version=4)
    first_test = next(i for i, c in enumerate(notebook.cells) if c.metadata.get("nbgrader", {}).get("grade"))
    import base64

    markdown = nbformat.v4.new_markdown_cell(HOSTILE_MARKDOWN, attachments={
        "evil.svg": {"image/svg+xml": base64.b64encode(SVG_ATTACHMENT.encode()).decode()}})
    raw = nbformat.v4.new_raw_cell(f"<script>{payload('raw')}</script>RAW-MARKER", metadata={"raw_mimetype": "text/html"})
    code = nbformat.v4.new_code_cell(HOSTILE_CODE)
    notebook.cells[first_test:first_test] = [markdown, raw, code]
    folder = root / "submitted" / STUDENT / MODULE
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / f"{MODULE}.ipynb")
    (folder / "timestamp.txt").write_text("2026-09-10 05:49:16.892589 UTC")


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A course with the hostile submission graded: autograded notebook, feedback page, report."""
    _require_everything()
    root = tmp_path_factory.mktemp("markup") / "course"
    root.mkdir()
    for part in COURSE_PARTS:
        if (REPO / part).is_file():
            shutil.copy(REPO / part, root / part)
        else:
            ignored = ("__pycache__", "*.ipynb") if part == "source" else ("__pycache__",)
            shutil.copytree(REPO / part, root / part, ignore=shutil.ignore_patterns(*ignored))
    (root / "roster.csv").write_text(ROSTER)
    _run(root, "tito", "release", "--module", MODULE)
    _run(root, "tito", "collect", "roster", "roster.csv")
    _hostile_submission(root)
    _run(root, "tito", "autograde", "--module", MODULE)
    _run(root, "tito", "feedback", "--module", MODULE)
    _run(root, "tito", "report")
    return root


@pytest.fixture(scope="module")
def lab(course: Path, tmp_path_factory):
    with running_lab(course, tmp_path_factory.mktemp("markup-lab")) as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    with chromium() as running:
        yield running


def _submission_id(root: Path) -> str:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", course_id="tinytorch") as gradebook:
        return gradebook.find_submission_notebook(MODULE, MODULE, STUDENT).id


def _watched_page(browser):
    page = new_page(browser)
    page.console_messages_seen = []
    page.on("console", lambda message: page.console_messages_seen.append(message.text))
    page.on("dialog", lambda dialog: (page.console_messages_seen.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    return page


def _nothing_ran(page, root: Path, where: str) -> None:
    """No payload logged, set `window.__pwned` in any frame or wrote a marker into the course."""
    pwned = {}
    for frame in page.frames:
        try:
            value = frame.evaluate("() => window.__pwned === undefined ? null : window.__pwned")
        except Exception:  # a frame that went away or forbids evaluation (an opaque sandbox)
            continue
        if value is not None:
            pwned[frame.url] = value
    logged = [text for text in page.console_messages_seen if "PWNED" in text or text.startswith("dialog:")]
    markers = sorted(p.name for p in root.glob("pwned-*"))
    assert (pwned, logged, markers) == ({}, [], []), f"script ran in {where}"


def test_formgrader_shows_the_hostile_submission_without_running_it(browser, lab, course) -> None:
    page = _watched_page(browser)
    page.goto(lab.url(f"formgrader/submissions/{_submission_id(course)}/"), wait_until="load")
    notes = page.locator("#notebook-container").get_by_text("The end of Mallory's notes.")
    notes.wait_for()
    expect(page.locator("#notebook-container .output_stdout pre", has_text="hostile outputs displayed")).to_be_visible()
    _snapshot(page, "markup_formgrader_submission")
    _nothing_ran(page, course, "formgrader's view of the submission")
    link = page.locator("#notebook-container a", has_text="click-me")
    expect(link).to_have_count(1)
    link.click()
    _nothing_ran(page, course, "formgrader's view of the submission, the link clicked")
    assert link.get_attribute("href") is None, "the javascript: target is gone, the words stay"
    assert "EVALUE-MARKER" in page.locator("#notebook-container").first.inner_text()  # the error output, as text
    assert page.evaluate(ACTIVE_ELEMENTS, "#notebook-container") == []


ACTIVE_ELEMENTS = """(root) => {
  const found = [];
  for (const element of document.querySelectorAll(`${root} *`)) {
    const tag = element.tagName.toLowerCase();
    if (['script', 'svg', 'iframe', 'object', 'embed', 'style'].includes(tag)) found.push(tag);
    for (const attribute of element.attributes) {
      const value = attribute.value.replace(/[\\s\\x00-\\x20]/g, '').toLowerCase();
      if (attribute.name.startsWith('on') || value.startsWith('javascript:') ||
          (value.startsWith('data:') && !value.startsWith('data:image/png;base64,')))
        found.push(`${tag} ${attribute.name}=${attribute.value.slice(0, 40)}`);
    }
  }
  return found;
}"""


@pytest.mark.parametrize("path", [f"feedback/{STUDENT}/{MODULE}/{MODULE}.html", "report/index.html"])
def test_feedback_page_and_report_show_hostile_text_as_text(browser, lab, course, path) -> None:
    page = _watched_page(browser)
    page.goto(lab.lab_url("markup-" + path.split("/")[0], path))  # a workspace each: one viewer open
    viewer = page.frame_locator(".jp-HTMLViewer iframe")
    marker = "EVALUE-MARKER" if path.startswith("feedback") else "import subprocess  # <script>"
    expect(viewer.get_by_text(marker).first).to_be_visible()
    _snapshot(page, "markup_" + path.split("/")[0])
    _nothing_ran(page, course, f"JupyterLab's viewer of {path}")
    direct = _watched_page(browser)
    direct.goto(lab.url(f"files/{path}"), wait_until="load")
    expect(direct.get_by_text(marker).first).to_be_visible()
    _nothing_ran(direct, course, f"/files/{path}")
