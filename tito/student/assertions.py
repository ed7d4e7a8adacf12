"""An IPython extension for the kernel of `tito check`: a failing bare `assert` shows its values.

`assert np.array_equal(p.grad.data, [-1.0, 2.0]), "step must not change the gradient"` fails
with its message only; the student cannot see what `p.grad.data` was. When an AssertionError
comes from an `assert` statement, this adds the value of each compared expression to its
message (`p.grad.data = array([-1.,  3.])`), the way pytest's assertion rewriting would. Only
names, attributes, subscripts and literals are evaluated again, in the failing frame: never a
call, which could change state. numpy's testing asserts already show the values and are left as
they are. Grading never loads this: it changes a message, never an outcome.
"""

from __future__ import annotations

import ast
import linecache

VALUE_CHARS = 200  # of each value's repr
SAFE = (ast.Name, ast.Attribute, ast.Subscript, ast.Constant, ast.List, ast.Tuple, ast.UnaryOp, ast.Slice,
        ast.Load)


def load_ipython_extension(shell) -> None:
    shell.set_custom_exc((AssertionError,), _show_with_values)


def _show_with_values(shell, etype, value, tb, tb_offset=None):
    """IPython's custom exception handler: the values first, then the usual traceback."""
    values = compared_values(tb)
    if values:
        message = str(value)
        value.args = ("\n".join(([message] if message else []) + values),)
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset, running_compiled_code=True)


def compared_values(tb) -> list[str]:
    """`expression = value` for each operand of the `assert` that raised, [] if it was no assert."""
    while tb.tb_next is not None:
        tb = tb.tb_next
    frame = tb.tb_frame
    try:
        tree = ast.parse("".join(linecache.getlines(frame.f_code.co_filename)))
    except SyntaxError:
        return []
    statement = next((node for node in ast.walk(tree) if isinstance(node, ast.Assert)
                      and node.lineno <= tb.tb_lineno <= (node.end_lineno or node.lineno)), None)
    if statement is None:
        return []
    return [f"{ast.unparse(node)} = {_value(node, frame)}" for node in _operands(statement.test)]


def _operands(test: ast.expr) -> list[ast.expr]:
    """What the assertion compares: a comparison's sides, a call's arguments, a negated operand;
    only those that are safe to evaluate again and are not literals (those are in the source)."""
    if isinstance(test, ast.Compare):
        candidates = [test.left, *test.comparators]
    elif isinstance(test, ast.Call):
        candidates = list(test.args)
    elif isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        candidates = [test.operand]
    else:
        candidates = [test]
    return [node for node in candidates if _safe(node) and not _literal(node)]


def _safe(node: ast.expr) -> bool:
    return all(isinstance(part, SAFE) or isinstance(part, (ast.expr_context, ast.unaryop)) for part in ast.walk(node))


def _literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _value(node: ast.expr, frame) -> str:
    try:
        value = eval(compile(ast.Expression(node), "<assert>", "eval"), frame.f_globals, frame.f_locals)
    except Exception as error:  # noqa: BLE001 (the student's objects can raise anything)
        return f"<{type(error).__name__} while evaluating it again>"
    text = repr(value)
    return text if len(text) <= VALUE_CHARS else text[:VALUE_CHARS] + "..."
