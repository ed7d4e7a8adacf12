"""The executed notebook `keep` produces is inert in nbconvert's HTML exporter (what formgrader uses).

A student controls the markdown and raw cells they add or answer in, and (through a tampered
runner) the outputs of their code cells. Each hostile form below goes through the real `keep`
stage and then through nbconvert's classic HTML template (formgrader's base; its markdown cells
use the same `markdown2html | strip_files_prefix` chain); the rendered page must hold no script,
no event handler, no `javascript:` or `data:` URL, no SVG, no attachment and no raw HTML, while
ordinary markdown (headings, emphasis, code, math, tables) renders as before.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from types import SimpleNamespace

import nbformat
import pytest
from nbconvert import HTMLExporter

from tito.grade.execute import CellOutcome
from tito.grade.neutralise import escaped_text, neutral_markdown, render_markdown
from tito.grade.stages import keep

HOSTILE_MARKDOWN = (
    "# My answer\n\n"
    "<script>window.__pwned = 'script'</script>\n\n"
    "An image <img src=x onerror=\"window.__pwned = 'img'\"> inline.\n\n"
    "[click me](javascript:window.__pwned='link') and [again](JaVaScRiPt:alert(1)) "
    "and <javascript:alert(2)>\n\n"
    "<svg onload=\"window.__pwned = 'svg'\"><circle r=4 /></svg>\n\n"
    "<iframe src=\"/api/contents\"></iframe><form action=\"/api/contents\"><input name=x></form>"
    "<style>body { display: none }</style><a href=\"#\" id=\"notebook\" onclick=\"x()\">clobber</a>\n\n"
    "![attached](attachment:evil.svg) ![data](data:text/html,<script>1</script>)\n"
)
ATTACHMENTS = {"evil.svg": {"image/svg+xml": "PHN2ZyBvbmxvYWQ9ImFsZXJ0KDEpIi8+"}}  # <svg onload="alert(1)"/>
BENIGN = "## Results\n\nThe *loss* is $x^2 < y$ and `a < b` holds.\n\n```python\nif a < b:\n    print(a)\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
ACTIVE_TAGS = {"script", "svg", "math", "iframe", "object", "embed", "form", "input", "button", "style", "link",
               "meta", "base", "textarea", "select"}


class _Elements(HTMLParser):
    """Every element and attribute of a page, as a browser's tokenizer sees them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def dangers(body: str) -> list[tuple]:
    """What could run script or load active content: tags, event handlers, URLs, ids."""
    parser = _Elements()
    parser.feed(body)
    bad = []
    for tag, attrs in parser.found:
        if tag in ACTIVE_TAGS:
            bad.append((tag, attrs))
        for name, value in attrs.items():
            url = re.sub(r"[\x00-\x20]", "", value or "").lower()
            if name.startswith("on") or name in ("style", "srcdoc", "formaction", "name") \
                    or (name in ("href", "src", "action", "xlink:href") and url.split(":", 1)[0] not in ("http", "https", "mailto", "")
                        and not url.startswith("data:image/png;base64,") and ":" in url.split("/", 1)[0]) \
                    or (name == "id" and not value.startswith("cell-id=")):
                bad.append((tag, name, value))
    return bad


def _kept(cells: list, outputs: dict[int, list[dict]] | None = None) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook(cells=cells)
    outcomes = [CellOutcome(index=i, grade_id=None, outputs=o, ran=True) for i, o in (outputs or {}).items()]
    job = SimpleNamespace(keep=True, executed=None, prepared=SimpleNamespace(notebook=notebook),
                          outcome=SimpleNamespace(cells=outcomes), module=SimpleNamespace(name="01_tensor"))
    keep.run(job, None)
    return nbformat.reads(job.executed.decode("utf-8"), as_version=4)


def _body(notebook) -> str:
    html, _ = HTMLExporter(template_name="classic").from_notebook_node(notebook)
    body = html[html.index("<body"):]  # the template's own scripts (MathJax, require.js) are in <head>
    return body.replace('<div class="border-box-sizing" id="notebook" tabindex="-1">', "").replace(
        '<div class="container" id="notebook-container">', "")  # the template's own ids


def test_hostile_markdown_and_raw_cells_render_inert():
    markdown = nbformat.v4.new_markdown_cell(HOSTILE_MARKDOWN, attachments=ATTACHMENTS)
    answer = nbformat.v4.new_markdown_cell("<img src=x onerror=alert(1)> my **answer**",
                                           metadata={"nbgrader": {"solution": True, "grade": True, "grade_id": "q1",
                                                                  "points": 2}})
    raw = nbformat.v4.new_raw_cell("<script>window.__pwned = 'raw'</script>", metadata={"raw_mimetype": "text/html"})
    raw_format = nbformat.v4.new_raw_cell("<img src=x onerror=alert(3)>", metadata={"format": "text/html"})
    kept = _kept([markdown, answer, raw, raw_format])
    body = _body(kept)
    assert dangers(body) == []
    assert "attachments" not in kept.cells[0] and kept.cells[1].metadata.nbgrader.grade_id == "q1"
    assert kept.cells[2].metadata == {} and kept.cells[2].source == "&lt;script&gt;window.__pwned = 'raw'&lt;/script&gt;"
    # what stays: the text, the heading, the links' words, the answer's emphasis, the raw text as text
    assert '<h1>My answer</h1>' in body and '<a rel="noopener noreferrer">click me</a>' in body
    assert "my <strong>answer</strong>" in body
    assert "&lt;script&gt;window.__pwned = 'raw'&lt;/script&gt;" in body
    assert '<img alt="attached" src=""/> <img alt="data"/>' in body


def test_benign_markdown_renders_as_nbconvert_renders_it():
    kept = _kept([nbformat.v4.new_markdown_cell(BENIGN)])
    source = kept.cells[0].source
    assert "\n" not in source and source.startswith('<div class="tito-sanitised"><h2>Results</h2>')
    rendered = render_markdown(source)
    assert "<em>loss</em> is $x^2 &lt; y$ and <code>a &lt; b</code> holds." in rendered
    assert '<span class="k">if</span> <span class="n">a</span> <span class="o">&lt;</span>' in rendered
    assert "<table>&#10;<thead>&#10;<tr>&#10;  <th>a</th>" in rendered
    assert render_markdown(source).strip() == source  # rendering it again changes nothing


def test_markdown_the_renderer_would_change_falls_back_to_text():
    # a source whose rendering cannot be packed (the renderer raises) is kept as plain text
    assert escaped_text("<b>a</b> *b*\n") == "&#60;b&#62;a&#60;&#47;b&#62; &#42;b&#42;\n"
    assert render_markdown(escaped_text("<script>x()</script> [a](javascript:y)")).strip() == \
        "<p>&lt;script&gt;x()&lt;/script&gt; [a](javascript:y)</p>"
    assert neutral_markdown(["# a", "\n", "b"]) == '<div class="tito-sanitised"><h1>a</h1>&#10;<p>b</p>&#10;</div>'


def test_markdown_too_costly_to_clean_is_kept_as_text():
    """100,000 nested `<div>` took the cleaner 25 s (its cost grows with the square of the
    nesting); a cell longer than 64 KiB, or rendering to more than 4096 tags, is kept as text
    without being rendered or cleaned, so no student's markdown can stall a grading worker."""
    nested = "<div>" * 100_000
    assert neutral_markdown(nested) == escaped_text(nested) == "&#60;div&#62;" * 100_000
    many_tags = "<b>x</b> " * 2100  # 4200 tags in 19 K characters
    assert neutral_markdown(many_tags) == escaped_text(many_tags)
    long_words = "word " * 14_000  # 70 K characters, no markup at all
    assert neutral_markdown(long_words) == escaped_text(long_words) == long_words
    fits = "<b>x</b> " * 2000
    assert neutral_markdown(fits).startswith('<div class="tito-sanitised"><p><b>x</b> <b>x</b>')


def test_a_notebook_renders_at_most_512_kib_of_markdown_the_rest_is_text():
    cells = [nbformat.v4.new_markdown_cell(f"cell {i}: " + "word " * 12_600) for i in range(10)]  # 63 K each
    kept = _kept(cells)
    rendered = [c.source.startswith('<div class="tito-sanitised"><p>cell') for c in kept.cells]
    assert rendered == [True] * 8 + [False] * 2
    assert kept.cells[8].source == escaped_text(cells[8].source) and kept.cells[9].source.startswith("cell 9&#58; word")


def test_outputs_kept_are_the_supervisors_and_cells_are_plain():
    png = "iVBORw0KGgoAAAANSUhEUg=="  # the PNG signature and an IHDR header, base64
    code = nbformat.v4.new_code_cell("print(1)")
    outputs = {0: [{"output_type": "stream", "name": "stdout", "text": "<script>window.__pwned = 'stream'</script>\n"},
                   {"output_type": "display_data", "data": {"image/png": png, "text/plain": "<Figure>"}, "metadata": {}}]}
    kept = _kept([code], outputs)
    body = _body(kept)
    assert dangers(body) == []
    assert "<pre>&lt;script&gt;window.__pwned = 'stream'&lt;/script&gt;\n</pre>" in body
    assert f'src="data:image/png;base64,{png}"' in body


@pytest.mark.parametrize("kind", ["script", "img", "link", "svg"])
def test_each_hostile_markdown_form_alone(kind):
    source = {"script": "<script>window.__pwned = 1</script>", "img": "<img src=x onerror=alert(1)>",
              "link": "[x](javascript:alert(1))", "svg": "<svg><script>alert(1)</script></svg>"}[kind]
    body = _body(_kept([nbformat.v4.new_markdown_cell(source)]))
    assert dangers(body) == []
