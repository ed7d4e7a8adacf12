"""`ast.parse` that is safe to call from the grading pool's threads.

CPython 3.11 keeps the AST constructor's recursion depth in interpreter-wide state, so two
threads parsing at the same moment can fail with "SystemError: AST constructor recursion depth
mismatch" (python/cpython#106905). It happened here in the adversarial suite's batches: a
submission's export cells could not be read and its checks scored 0. Parsing is fast, so one
lock for every parse in the process costs nothing measurable. Our own parses call `parse`;
`serialize_all_parsing` also routes third-party ones through the lock (numpy's `np.load` reads
each array header with `ast.literal_eval`, which calls `ast.parse`).
"""

from __future__ import annotations

import ast
import threading

_LOCK = threading.RLock()
_UNLOCKED = ast.parse


def parse(source, filename="<unknown>", mode="exec", **kwargs) -> ast.AST:
    """`ast.parse`, one thread at a time; raises SyntaxError as ast.parse does.

    Also for code nested too deeply for CPython's parser, where ast.parse raises RecursionError
    or MemoryError instead (`x = 1 + 1 + ...` with 200,000 terms, `a.b.b.b...`, `-----1`): no
    kernel could compile it either, and every caller already knows what to do with code that
    does not parse. Before, such a cell in a submission was an internal grading error.
    """
    with _LOCK:
        try:
            return _UNLOCKED(source, filename, mode, **kwargs)
        except (RecursionError, MemoryError) as error:
            raise SyntaxError(f"too deeply nested for Python's parser ({type(error).__name__})") from None


def serialize_all_parsing() -> None:
    """Make `ast.parse` itself take the lock, for every caller in this process (idempotent).
    The grading pool calls it before it starts its threads."""
    ast.parse = parse
