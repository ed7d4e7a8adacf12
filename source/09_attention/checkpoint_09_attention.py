"""Checkpoint 09 (after module 09, attention).

Question: "Can I build a transformer that learns to reverse a sequence?"

Uses `tinytorch.core.attention`. A checkpoint asks the module's capability question of any
tinytorch build (`--tinytorch-root`), under several seeds; it lives in the module's folder and is
handed to students in their kit's checkpoints/.
"""

import numpy as np

from tinytorch.core.attention import double


def test_double_returns_float32_twice_its_input():
    out = double([1.0, -2.5, 0.0])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.array([2.0, -5.0, 0.0], dtype=np.float32))


def test_double_of_random_arrays():
    x = np.random.standard_normal((4, 3))
    np.testing.assert_allclose(double(x), 2 * x, rtol=1e-6)
