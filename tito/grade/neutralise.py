"""Student markup made inert before anything renders it (DESIGN §3 rule 6).

Formgrader shows `autograded/<student>/<module>/<module>.ipynb` in the instructor's Jupyter
origin, through nbconvert's HTML exporter, which passes a markdown cell's raw HTML through as it is
and keeps `javascript:` links (`IPythonRenderer(allow_harmful_protocols=True)`): a script there runs
as the instructor and can drive the server's contents, kernels and terminals APIs. So `keep`
writes every markdown cell as HTML that is already sanitised:

- the source is rendered with nbconvert's own markdown renderer (the one formgrader uses, so no
  difference between two markdown parsers can smuggle anything through), without attachments
  (they are dropped from the cell: an `attachment:` image becomes an image without a source);
- the HTML is cleaned by nh3 (ammonia): an allow-list of tags and attributes, no script, style,
  SVG, MathML, iframe, form or event attribute; link and image URLs relative or over http, https
  or mailto (no `javascript:`, no `data:`); no ids or names (nothing can shadow the ids
  formgrader's script looks up);
- it is stored as ONE line in a `<div>`, newlines written `&#10;`: CommonMark and mistune pass an
  HTML block through verbatim up to the first blank line, and there is none. The result is
  rendered again with the same renderer before it is kept; should that not give back exactly the
  cleaned HTML, the cell is kept as escaped text instead (every character but letters, digits
  and spaces written as a character reference, which no markdown parser turns into markup).

The supervisor's work on a student's markdown is bounded, so that no notebook stalls a grading
worker: rendering costs up to about 0.6 s for 64 KiB of pathological markdown, and cleaning deeply
nested tags grows with the square of their number (100,000 nested `<div>` took 25 s). A cell
longer than `RENDERED_CELL_CHARS`, one that renders to more than `RENDERED_CELL_TAGS` tags, and
every cell after the notebook's first `RENDERED_NOTEBOOK_CHARS` characters of markdown are kept
as escaped text: the student's words, shown as text. The release's own cells are far inside all
three (at most 4.4 K characters and 480 tags a cell, 29 K characters a notebook).

Math survives (`$...$` is text to the cleaner; MathJax reads it from the page), code blocks keep
their highlighting classes. Raw cells lose their output format and their source is escaped: they
show as text. Code cells' sources are highlighted (escaped) by nbconvert; their outputs are the
supervisor's allow-list (`tito.grade.execute._valid_output`: text, PNG, streams, errors).
"""

from __future__ import annotations

import functools
import html

import nh3
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

TAGS = set(nh3.ALLOWED_TAGS) - {"area", "map"}  # image maps: links without a visible anchor
ATTRIBUTES = {tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()}
ATTRIBUTES["*"] = {"class", "title", "lang", "dir"}
URL_SCHEMES = {"http", "https", "mailto"}
CLASS_DROPPED = {"mermaid"}  # a script library would render it (the lab template loads one)
MARK = "tito-sanitised"
RENDERED_CELL_CHARS = 64 * 2**10
RENDERED_CELL_TAGS = 4096
RENDERED_NOTEBOOK_CHARS = 512 * 2**10


def clean_html(html: str) -> str:
    """`html` with everything that could run script, submit or navigate on its own removed."""
    return nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES,
                     attribute_filter=_attribute_filter, strip_comments=True)


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "class":
        kept = [name for name in value.split() if name not in CLASS_DROPPED]
        return " ".join(kept) or None
    return value


class _Renderer(IPythonRenderer):
    """nbconvert's renderer, but an `attachment:` image has no source (attachments are dropped)."""

    def _embed_image_or_attachment(self, src: str) -> str:
        return "" if src.startswith("attachment:") else src


def render_markdown(source: str) -> str:
    """What nbconvert's HTML exporter (formgrader) makes of a markdown cell without attachments."""
    renderer = _Renderer(escape=False, attachments={}, exclude_anchor_links=True)
    return MarkdownWithMath(renderer=renderer).render(source)


def _text(source) -> str:
    """A cell's source as one string (nbformat allows a list of lines)."""
    return "".join(source) if isinstance(source, list) else str(source)


def neutral_markdown(source: str) -> str:
    """A markdown source that renders as the sanitised rendering of `source`, and as nothing more."""
    source = _text(source)
    if len(source) > RENDERED_CELL_CHARS:
        return escaped_text(source)
    return (_remembered_neutral_markdown if len(source) <= REMEMBERED_CHARS else _neutral_markdown)(source)


def _neutral_markdown(source: str) -> str:
    try:
        rendered = render_markdown(source)
    except Exception:  # a renderer error (e.g. a missing attachment): show the text
        return escaped_text(source)
    if rendered.count("<") > RENDERED_CELL_TAGS:
        return escaped_text(source)  # cleaning that many (perhaps nested) tags could take minutes
    cleaned = clean_html(rendered)
    packed = f'<div class="{MARK}">' + cleaned.replace("\r", "").replace("\n", "&#10;") + "</div>"
    try:
        again = render_markdown(packed).strip()
    except Exception:
        again = None
    if again != packed:
        return escaped_text(source)
    return packed


# A pure function of the text, remembered for short texts: most markdown cells of a class are the
# release's own, and rendering and sanitising each again cost the supervisor 25 ms per submission.
REMEMBERED_CHARS = 16_384
_remembered_neutral_markdown = functools.lru_cache(maxsize=2048)(_neutral_markdown)


def escaped_text(source: str) -> str:
    """`source` as plain text: letters, digits, spaces and newlines kept, every other character a
    numeric character reference (never markup, a link, an emphasis or a code span)."""
    return "".join(c if c.isalnum() or c in " \n" else f"&#{ord(c)};" for c in source)


def neutralise_cells(cells) -> None:
    """Make a notebook's cells inert (in place), rendering at most `RENDERED_NOTEBOOK_CHARS`
    characters of markdown in all: the cells after that are kept as escaped text."""
    budget = RENDERED_NOTEBOOK_CHARS
    for cell in cells:
        source = _text(cell.get("source", "")) if cell.get("cell_type") == "markdown" else ""
        budget -= len(source)
        neutralise_cell(cell, render=budget >= 0)


def neutralise_cell(cell, render: bool = True) -> None:
    """Make one nbformat cell inert for any HTML renderer (in place); `render=False` keeps a
    markdown cell as escaped text."""
    cell.pop("attachments", None)
    if cell.get("cell_type") == "markdown":
        source = cell.get("source", "")
        cell["source"] = neutral_markdown(source) if render else escaped_text(_text(source))
    elif cell.get("cell_type") == "raw":
        metadata = cell.get("metadata", {})
        for key in ("format", "raw_mimetype"):
            metadata.pop(key, None)
        cell["source"] = html.escape(_text(cell.get("source", "")), quote=False)
    elif cell.get("cell_type") == "code":
        count = cell.get("execution_count")
        if not (count is None or (isinstance(count, int) and not isinstance(count, bool))):
            cell["execution_count"] = None
