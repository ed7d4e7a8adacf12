"""tito.parsing: every parse in the grading process goes through one lock (python/cpython#106905)."""

from __future__ import annotations

import ast
import threading

import numpy as np
import pytest

from tito import parsing


@pytest.fixture
def serialized(monkeypatch):
    monkeypatch.setattr(ast, "parse", ast.parse)  # restored after the test
    parsing.serialize_all_parsing()


def test_parse_is_ast_parse():
    tree = parsing.parse("x = 1\n")
    assert ast.dump(tree) == ast.dump(ast.parse("x = 1\n"))
    with pytest.raises(SyntaxError):
        parsing.parse("def f(:\n")


@pytest.mark.parametrize("source", [
    "x = " + " + ".join(["1"] * 200_000),  # RecursionError in ast.parse
    "a" + ".b" * 200_000,                   # RecursionError
    "x = " + "-" * 200_000 + "1",           # MemoryError
    "f = " + "lambda: " * 100_000 + "1",    # MemoryError
], ids=["sum", "attributes", "unary", "lambdas"])
def test_code_too_deep_for_the_parser_is_a_syntax_error(source):
    """ast.parse raises RecursionError or MemoryError on these; every caller handles SyntaxError
    (a student's cell like this was an internal grading error)."""
    with pytest.raises(SyntaxError) as caught:
        parsing.parse(source)
    assert caught.value.msg.startswith("too deeply nested for Python's parser (")


def test_third_party_parses_wait_for_the_lock(serialized, tmp_path):
    """numpy's np.load parses each array header with ast.literal_eval: while another thread holds
    the lock, it must wait."""
    np.save(tmp_path / "a.npy", np.arange(3))
    loaded = threading.Event()

    def load() -> None:
        np.load(tmp_path / "a.npy")
        loaded.set()

    with parsing._LOCK:
        thread = threading.Thread(target=load)
        thread.start()
        assert not loaded.wait(0.5)  # blocked on the lock, inside ast.literal_eval
    thread.join(5)
    assert loaded.is_set()
    assert ast.literal_eval("{'descr': '<i8', 'shape': (3,)}") == {"descr": "<i8", "shape": (3,)}

