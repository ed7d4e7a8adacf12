# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Module 09: Attention
#
# What this module builds and why the course needs it here (the narrative is yours to write;
# source/AUTHORING.md says what a module holds). This skeleton releases, lints and grades as it
# stands: one function to write (`double`), its graded test, the checkpoint cell and the check.
#
# ## Learning goals
# - Write `double`, the module's first exported function.

# %% nbgrader={"grade": false, "grade_id": "attention-imports", "locked": false, "schema_version": 3, "solution": false, "task": false}
#| default_exp core.attention
#| export
import numpy as np

# %% [markdown]
# ## Where this code lives
#
# The `#| export` cells become `tinytorch/core/attention.py`
# (`from tinytorch.core.attention import double`).
#
# ## Step 1: double
#
# `double(x)` returns twice `x` as a float32 array: `double([1, 2])` is `array([2., 4.], dtype=float32)`.

# %% nbgrader={"grade": false, "grade_id": "attention-double", "locked": false, "schema_version": 3, "solution": true, "task": false}
#| export
def double(x) -> np.ndarray:
    """Twice `x`, as a float32 array (lists, numbers and arrays are accepted)."""
    ### BEGIN SOLUTION
    return 2 * np.asarray(x, dtype=np.float32)
    ### END SOLUTION

# %% [markdown]
# ### Test: double
# Exact values and the float32 dtype.

# %% nbgrader={"grade": true, "grade_id": "attention-double-test", "locked": true, "points": 10, "schema_version": 3, "solution": false, "task": false}
np.testing.assert_array_equal(double([1.0, 2.0]), np.array([2.0, 4.0], dtype=np.float32))
assert double(3).dtype == np.float32

# %% [markdown]
# ## Checkpoint cell (20 points)
#
# This last graded cell asks the checkpoint's question of your own code, in a few lines. When your
# notebook is graded, its 20 points are decided differently: the autograder exports your module,
# runs the checkpoint's cases on it in a sandbox (with the published reference standing in for
# the earlier modules), on inputs drawn for your submission, and compares the values with the
# reference's outside your notebook. Passing here is a good sign; the comparison is what counts.

# %% nbgrader={"grade": true, "grade_id": "attention-checkpoint", "locked": true, "points": 20, "schema_version": 3, "solution": false, "task": false}
def test_checkpoint_attention():
    """Can I build a transformer that learns to reverse a sequence?"""
    np.testing.assert_array_equal(double(np.arange(3.0)), np.array([0.0, 2.0, 4.0], dtype=np.float32))


test_checkpoint_attention()

# %% [markdown]
# ## Check your work
#
# Save the notebook (Ctrl+S), then run the cell below. It runs the same check as
# `tito check 09_attention` in a terminal: your saved notebook, top to bottom in a fresh kernel that
# sees only the earlier modules (as grading does), then the module's checkpoint on the code of
# your export cells. It lists which visible tests pass, the first failure of the others and what
# to try next. At grading, each test cell's points also need the grader's own cases for it (some
# of them hidden) to agree with the reference. When tito or nbgrader runs this notebook, the
# cell only says it was skipped.

# %%
from tito.student import check_module

check_module("09_attention")
