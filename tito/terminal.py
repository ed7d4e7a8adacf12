"""Names from students and files, made safe for the instructor's terminal.

A student id, a file name in an LMS zip, a roster name or a notebook path is data: printed raw,
`\\x1b[2J` clears the instructor's screen, `\\r` rewrites the line it is on, and `[/red]` or
`[bold]` is read as rich markup (a closing tag that matches nothing raises `MarkupError`, after
the work was done). Every such name goes through `escape` before it is printed:

    escape(name)     control characters made visible, then rich's own `rich.markup.escape`
    visible(text)    control characters made visible: C0 (\\t, \\n, \\r shown as such, the rest as
                     \\xNN), DEL, C1 (\\x80-\\x9f, which holds the 8-bit CSI) and the Unicode bidi
                     overrides and isolates (\\u202e ...), which reorder what the eye reads

The consoles of the CLI (`console()`) add a backstop: whatever text reaches them, from a string or
a rich `Text` built elsewhere, has its control characters made visible too (newlines excepted:
they are layout), and `:name:` is never turned into an emoji.
"""

from __future__ import annotations

import re
import sys

from rich.console import Console
from rich.markup import escape as _escape_markup
from rich.segment import Segment

_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _show(match: re.Match) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: object, *, newlines: bool = False) -> str:
    """`text` with every control character written out (`\\x1b`, `\\r`, `\\x9b`, `\\u202e`).

    `newlines=True` keeps line breaks (a multi-line message of ours); a name never has one.
    """
    return (_CONTROL_BUT_NEWLINE if newlines else _CONTROL).sub(_show, str(text))


def escape(text: object, *, newlines: bool = False) -> str:
    """A name (or a message holding names) to put inside a rich markup string: printed as it is."""
    return _escape_markup(visible(text, newlines=newlines))


class SafeConsole(Console):
    """A rich Console that never writes a control character it did not make itself.

    Strings are cleaned before markup is parsed (so rich's own stripping of `\\r` cannot hide
    one), and every rendered segment of text is cleaned again (a `Text` built elsewhere). Rich's
    own control segments (cursor moves of a progress bar) are left alone.
    """

    def render_str(self, text: str, **kwargs):
        return super().render_str(visible(text, newlines=True), **kwargs)

    def render(self, renderable, options=None):
        for segment in super().render(renderable, options):
            if segment.control or not _CONTROL_BUT_NEWLINE.search(segment.text):
                yield segment
            else:
                yield Segment(visible(segment.text, newlines=True), segment.style, segment.control)


def console(stderr: bool = False) -> SafeConsole:
    """The CLI's console: wide when piped (CI logs, make), so that paths are never cut."""
    stream = sys.stderr if stderr else sys.stdout
    return SafeConsole(stderr=stderr, highlight=False, emoji=False, width=None if stream.isatty() else 200)
