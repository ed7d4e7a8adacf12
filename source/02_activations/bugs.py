"""Realistic bugs of 02_activations for the synthetic class, and what each stub profile fails.

Each bug is one function's solution with a small edit (`edits`: (old, new) pairs applied to the
filled cell `cell`). `failing_cells` and `failing_checks` are derived, never typed: after changing
the module's source or its cases, run `python -m tito.synth --derive --write --module 02_activations`,
which rewrites this file (notes belong in a bug's description). See source/AUTHORING.md.
"""

from tito.synth.bugs import Bug, Stubs

BUGS = (
    Bug(
        'relu-ge', 'activations-relu', 'relu',
        'relu written with `>=` instead of `>`: the same values everywhere (undetectable; full score)',
        (
            ('    return Tensor.from_op(np.maximum(x.data, 0), "relu", (x,))', '    return Tensor.from_op(np.where(x.data >= 0, x.data, 0).astype(x.dtype), "relu", (x,))'),
        ),
        failing_cells=(
        ),
        failing_checks=(
        ),
    ),
    Bug(
        'sigmoid-naive', 'activations-sigmoid', 'sigmoid',
        'naive sigmoid 1/(1+exp(-x)): exp overflows for large negative x (RuntimeWarning on stderr)',
        (
            ('    e = np.exp(-np.abs(x.data))\n    out = np.where(x.data >= 0, 1 / (1 + e), e / (1 + e))\n', '    out = 1 / (1 + np.exp(-x.data))\n'),
        ),
        failing_cells=(
            'activations-sigmoid-test',
            'activations-checkpoint',
        ),
        failing_checks=(
            'sigmoid_extremes',
            'sigmoid_wide_float32',
            'sigmoid_stable',
        ),
    ),
    Bug(
        'gelu-erf-times-sqrt2', 'activations-gelu', 'gelu',
        'exact gelu with erf(x * sqrt(2)) instead of erf(x / sqrt(2)): the CDF of the wrong normal',
        (
            ('        cdf = 0.5 * (1 + erf(x.data / math.sqrt(2)))\n', '        cdf = 0.5 * (1 + erf(x.data * math.sqrt(2)))\n'),
        ),
        failing_cells=(
            'activations-gelu-test',
            'activations-classes-test',
            'activations-checkpoint',
        ),
        failing_checks=(
            'gelu_float64',
            'gelu_float32',
            'gelu_graph',
            'gelu_wide',
            'classes_as_layers',
            'gelu_finite',
            'activation_classes',
        ),
    ),
    Bug(
        'gelu-tanh-square', 'activations-gelu', 'gelu',
        'tanh-form gelu with 0.044715 x^2 instead of x^3: right for x >= 0 only near 0, wrong elsewhere',
        (
            ('x.data + 0.044715 * x.data ** 3', 'x.data + 0.044715 * x.data ** 2'),
        ),
        failing_cells=(
            'activations-gelu-test',
            'activations-checkpoint',
        ),
        failing_checks=(
            'gelu_tanh_float64',
            'gelu_extremes',
            'gelu_float32',
            'gelu_graph',
            'gelu_wide',
            'classes_as_layers',
            'gelu_finite',
        ),
    ),
    Bug(
        'gelu-always-tanh', 'activations-gelu', 'gelu',
        'gelu testing `if approximate:` (a non-empty string is true): the tanh form even for "none"',
        (
            ('    if approximate == "tanh":\n', '    if approximate:\n'),
        ),
        failing_cells=(
            'activations-gelu-test',
            'activations-classes-test',
        ),
        failing_checks=(
            'gelu_float64',
            'gelu_float32',
            'gelu_graph',
            'gelu_wide',
            'classes_as_layers',
            'gelu_finite',
            'activation_classes',
        ),
    ),
    Bug(
        'softmax-no-shift', 'activations-softmax', 'softmax',
        'softmax without subtracting the row maximum: overflows to nan for large logits',
        (
            ('    shifted = x - Tensor(x.data.max(axis=axis, keepdims=True))\n', '    shifted = x\n'),
        ),
        failing_cells=(
            'activations-softmax-test',
            'activations-checkpoint',
        ),
        failing_checks=(
            'softmax_rows',
            'softmax_large_scores',
            'softmax_large_float64',
            'softmax_huge_float64',
            'softmax_stable',
        ),
    ),
)

STUBS = {
    'none': Stubs(
        failing_cells=(
            'activations-relu-test',
            'activations-sigmoid-test',
            'activations-tanh-test',
            'activations-gelu-test',
            'activations-softmax-test',
            'activations-log-softmax-test',
            'activations-classes-test',
            'activations-graph-test',
            'activations-checkpoint',
        ),
        failing_checks=(
            'relu_values',
            'relu_float64_and_lists',
            'relu_graph',
            'relu_any_shape',
            'sigmoid_float64',
            'sigmoid_extremes',
            'sigmoid_float32',
            'sigmoid_graph',
            'sigmoid_wide_float64',
            'sigmoid_wide_float32',
            'tanh_float64',
            'tanh_extremes',
            'tanh_graph',
            'tanh_grid',
            'gelu_float64',
            'gelu_tanh_float64',
            'gelu_extremes',
            'gelu_float32',
            'gelu_graph',
            'gelu_wide',
            'softmax_rows',
            'softmax_large_scores',
            'softmax_large_float64',
            'softmax_axis',
            'softmax_huge_float64',
            'softmax_from_list',
            'log_softmax_float64',
            'log_softmax_extremes',
            'log_softmax_float32',
            'log_softmax_wide_columns',
            'log_softmax_from_list',
            'classes_as_layers',
            'classes_record_ops',
            'classes_3d',
            'graph_softmax_records',
            'graph_plain_input',
            'graph_recording_off',
            'graph_chain_and_columns',
            'relu',
            'sigmoid_stable',
            'tanh',
            'gelu_finite',
            'softmax_stable',
            'log_softmax_stable',
            'activation_classes',
            'graph_recording',
        ),
    ),
    'first-half': Stubs(
        failing_cells=(
            'activations-classes-test',
            'activations-checkpoint',
        ),
        failing_checks=(
            'classes_as_layers',
            'classes_record_ops',
            'classes_3d',
            'gelu_finite',
            'activation_classes',
        ),
    ),
}
