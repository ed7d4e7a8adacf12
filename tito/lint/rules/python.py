"""Parsing a notebook code cell as Python, the way IPython would run it."""

from __future__ import annotations

import ast
import re

from tito import parsing

MAGIC = re.compile(r"^(?P<indent>\s*)[%!]")


def without_magics(source: str) -> str:
    """Replace IPython line magics and shell escapes with `pass` (same line numbers)."""
    lines = []
    for line in source.splitlines():
        match = MAGIC.match(line)
        lines.append(f"{match['indent']}pass" if match else line)
    return "\n".join(lines)


def parse(source: str) -> ast.Module:
    """`ast.parse` of the cell with magics removed; raises SyntaxError."""
    return parsing.parse(without_magics(source))


def try_parse(source: str) -> ast.Module | None:
    try:
        return parse(source)
    except SyntaxError:
        return None
