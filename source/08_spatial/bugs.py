"""Realistic bugs of 08_spatial for the synthetic class, and what each stub profile fails.

Each bug is one function's solution with a small edit (`edits`: (old, new) pairs applied to the
filled cell `cell`). `failing_cells` and `failing_checks` are derived, never typed: after changing
the module's source or its cases, run `python -m tito.synth --derive --write --module 08_spatial`,
which rewrites this file (notes belong in a bug's description). See source/AUTHORING.md.
"""

from tito.synth.bugs import Bug, Stubs

BUGS = (
    Bug(
        'windows-no-stride', 'spatial-windows', 'windows',
        'forgets the stride: returns the windows at every position',
        (
            ('axis=(2, 3))[:, :, ::stride, ::stride]', 'axis=(2, 3))'),
        ),
        failing_cells=(
            'spatial-windows-test',
            'spatial-im2col-test',
            'spatial-col2im-test',
            'spatial-conv2d-test',
            'spatial-conv2d-rule-test',
            'spatial-max-pool-test',
            'spatial-layers-test',
            'spatial-checkpoint',
        ),
        failing_checks=(
            'windows_values',
            'windows_edge_sizes',
            'im2col_values',
            'im2col_float32_and_k1',
            'conv2d_values',
            'conv2d_float32',
            'max_pool_values',
            'max_pool_overlapping_and_ties',
            'layers_pool_flatten_sequential',
            'checkpoint_cnn_gradients',
            'checkpoint_cnn_learns_bars',
            'checkpoint_conv_pool_pipeline',
        ),
    ),
    Bug(
        'im2col-window-transposed', 'spatial-im2col', 'im2col',
        'flattens each window column by column (axes k, k swapped), which no longer matches weight.reshape',
        (
            ('view.transpose(0, 1, 4, 5, 2, 3)', 'view.transpose(0, 1, 5, 4, 2, 3)'),
        ),
        failing_cells=(
            'spatial-im2col-test',
            'spatial-col2im-test',
            'spatial-conv2d-test',
            'spatial-conv2d-rule-test',
            'spatial-checkpoint',
        ),
        failing_checks=(
            'im2col_values',
            'im2col_float32_and_k1',
            'conv2d_values',
            'conv2d_float32',
            'layers_conv_init_and_forward',
            'layers_pool_flatten_sequential',
            'checkpoint_cnn_gradients',
            'checkpoint_cnn_learns_bars',
            'checkpoint_conv_pool_pipeline',
        ),
    ),
    Bug(
        'col2im-assigns', 'spatial-col2im', 'col2im',
        'assigns instead of adding: where windows overlap, only the last offset survives',
        (
            ('v:v + s * out_w:s] += cols', 'v:v + s * out_w:s] = cols'),
        ),
        failing_cells=(
            'spatial-col2im-test',
            'spatial-conv2d-rule-test',
            'spatial-max-pool-rule-test',
            'spatial-checkpoint',
        ),
        failing_checks=(
            'col2im_values',
            'col2im_counts_and_dtype',
            'conv2d_rule_values',
            'conv2d_rule_without_bias',
            'max_pool_rule_overlapping',
            'checkpoint_cnn_gradients',
        ),
    ),
    Bug(
        'conv2d-ignores-padding', 'spatial-conv2d', 'conv2d',
        'never pads the input (padding is recorded but not applied)',
        (
            ('    padded = _pad(x.data, padding)\n', '    padded = x.data\n'),
        ),
        failing_cells=(
            'spatial-conv2d-test',
            'spatial-layers-test',
            'spatial-checkpoint',
        ),
        failing_checks=(
            'conv2d_values',
            'conv2d_float32',
            'layers_conv_init_and_forward',
            'checkpoint_cnn_gradients',
            'checkpoint_cnn_learns_bars',
            'checkpoint_conv_pool_pipeline',
        ),
    ),
    Bug(
        'conv2d-rule-first-image', 'spatial-conv2d-rule', 'conv2d_rule',
        'takes the weight gradient of the first image only, instead of the sum over the batch',
        (
            ('.sum(axis=0).reshape(weight.shape)', '[0].reshape(weight.shape)'),
        ),
        failing_cells=(
            'spatial-conv2d-rule-test',
        ),
        failing_checks=(
            'conv2d_rule_values',
            'conv2d_rule_without_bias',
            'conv2d_rule_weight_only',
            'checkpoint_cnn_gradients',
            'checkpoint_cnn_learns_bars',
        ),
    ),
    Bug(
        'conv2d-rule-bias-mean', 'spatial-conv2d-rule', 'conv2d_rule',
        'averages the bias gradient over batch and positions instead of summing it',
        (
            ('grad.sum(axis=(0, 2, 3))', 'grad.mean(axis=(0, 2, 3))'),
        ),
        failing_cells=(
            'spatial-conv2d-rule-test',
        ),
        failing_checks=(
            'conv2d_rule_values',
            'conv2d_rule_weight_only',
            'checkpoint_cnn_gradients',
            'checkpoint_cnn_learns_bars',
        ),
    ),
    Bug(
        'max-pool-stride-one', 'spatial-max-pool', 'max_pool2d',
        'defaults the stride to 1 (overlapping windows) instead of to the kernel size',
        (
            ('stride = kernel_size if stride is None else stride', 'stride = 1 if stride is None else stride'),
        ),
        failing_cells=(
            'spatial-max-pool-test',
            'spatial-layers-test',
            'spatial-checkpoint',
        ),
        failing_checks=(
            'max_pool_values',
            'max_pool_overlapping_and_ties',
            'layers_pool_flatten_sequential',
            'checkpoint_cnn_gradients',
            'checkpoint_cnn_learns_bars',
            'checkpoint_conv_pool_pipeline',
        ),
    ),
    Bug(
        'max-pool-rule-spreads', 'spatial-max-pool-rule', 'max_pool2d_rule',
        'shares each output gradient equally among the whole window instead of giving it to the winner',
        (
            ('(np.arange(k * k) == winners[..., np.newaxis]) * grad[..., np.newaxis]', 'np.ones(winners.shape + (k * k,)) * grad[..., np.newaxis] / (k * k)'),
        ),
        failing_cells=(
            'spatial-max-pool-rule-test',
            'spatial-checkpoint',
        ),
        failing_checks=(
            'max_pool_rule_values',
            'max_pool_rule_overlapping',
            'checkpoint_cnn_gradients',
            'checkpoint_cnn_learns_bars',
        ),
    ),
    Bug(
        'conv2d-layer-glorot', 'spatial-layers', 'Conv2d.__init__',
        "initialises with Dense's Glorot bound sqrt(6 / (fan_in + fan_out)) instead of PyTorch's 1/sqrt(fan_in)",
        (
            ('bound = 1.0 / np.sqrt(in_channels * k * k)', 'bound = np.sqrt(6.0 / (in_channels * k * k + out_channels * k * k))'),
        ),
        failing_cells=(
            'spatial-layers-test',
        ),
        failing_checks=(
            'layers_conv_init_and_forward',
            'layers_pool_flatten_sequential',
        ),
    ),
)

STUBS = {
    'none': Stubs(
        failing_cells=(
            'spatial-windows-test',
            'spatial-im2col-test',
            'spatial-col2im-test',
            'spatial-conv2d-test',
            'spatial-conv2d-rule-test',
            'spatial-max-pool-test',
            'spatial-max-pool-rule-test',
            'spatial-layers-test',
            'spatial-checkpoint',
        ),
        failing_checks=(
            'windows_values',
            'windows_edge_sizes',
            'im2col_values',
            'im2col_float32_and_k1',
            'col2im_values',
            'col2im_counts_and_dtype',
            'conv2d_values',
            'conv2d_float32',
            'conv2d_one_by_one',
            'conv2d_rule_values',
            'conv2d_rule_without_bias',
            'conv2d_rule_weight_only',
            'max_pool_values',
            'max_pool_overlapping_and_ties',
            'max_pool_rule_values',
            'max_pool_rule_overlapping',
            'layers_conv_init_and_forward',
            'layers_pool_flatten_sequential',
            'checkpoint_cnn_gradients',
            'checkpoint_cnn_learns_bars',
            'checkpoint_conv_pool_pipeline',
        ),
    ),
    'first-half': Stubs(
        failing_cells=(
            'spatial-max-pool-rule-test',
            'spatial-layers-test',
            'spatial-checkpoint',
        ),
        failing_checks=(
            'max_pool_rule_values',
            'max_pool_rule_overlapping',
            'layers_conv_init_and_forward',
            'layers_pool_flatten_sequential',
            'checkpoint_cnn_gradients',
            'checkpoint_cnn_learns_bars',
            'checkpoint_conv_pool_pipeline',
        ),
    ),
}
