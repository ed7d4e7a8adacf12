"""Realistic bugs of 09_attention for the synthetic class, and what each stub profile fails.

Each bug is one function's solution with a small edit (`edits`: (old, new) pairs applied to the
filled cell `cell`). `failing_cells` and `failing_checks` are derived, never typed: after changing
the module's source or its cases, run `python -m tito.synth --derive --write --module 09_attention`,
which rewrites this file (notes belong in a bug's description). See source/AUTHORING.md.
"""

from tito.synth.bugs import Bug, Stubs

BUGS = (
    Bug(
        'attention-double-adds', 'attention-double', 'double',
        'adds the input to 1 instead of to itself',
        (
            ('    return 2 * np.asarray(x, dtype=np.float32)', '    return 1 + np.asarray(x, dtype=np.float32)'),
        ),
        failing_cells=(
            'attention-double-test',
            'attention-checkpoint',
        ),
        failing_checks=(
            'double_values',
            'double_any_shape',
            'checkpoint_double',
            'checkpoint_double_numbers',
        ),
    ),
)

STUBS = {
    'none': Stubs(
        failing_cells=(
            'attention-double-test',
            'attention-checkpoint',
        ),
        failing_checks=(
            'double_values',
            'double_any_shape',
            'checkpoint_double',
            'checkpoint_double_numbers',
        ),
    ),
    'first-half': Stubs(
        failing_cells=(
        ),
        failing_checks=(
        ),
    ),
}
