"""Realistic bugs of 09_attention for the synthetic class, and what each stub profile fails.

Each bug is one function's solution with a small edit (`edits`: (old, new) pairs applied to the
filled cell `cell`). `failing_cells` and `failing_checks` are derived, never typed: after changing
the module's source or its cases, run `python -m tito.synth --derive --write --module 09_attention`,
which rewrites this file (notes belong in a bug's description). See source/AUTHORING.md.
"""

from tito.synth.bugs import Bug, Stubs

BUGS = (
    Bug(
        'embedding-negative-ids', 'attention-embedding', 'forward',
        'checks only the upper bound of the ids: -1 silently picks the last row, as numpy indexing does',
        (
            ('        outside = (ids < 0) | (ids >= self.num_embeddings)\n', '        outside = ids >= self.num_embeddings\n'),
        ),
        failing_cells=(
            'attention-embedding-test',
        ),
        failing_checks=(
            'embedding_bad_ids',
        ),
    ),
    Bug(
        'positions-sin-cos-swapped', 'attention-positions', 'sinusoidal_positions',
        'cosines in the even columns and sines in the odd ones',
        (
            ('    table[:, 0::2] = np.sin(angles)\n    table[:, 1::2] = np.cos(angles)\n', '    table[:, 0::2] = np.cos(angles)\n    table[:, 1::2] = np.sin(angles)\n'),
        ),
        failing_cells=(
            'attention-positions-test',
        ),
        failing_checks=(
            'positions_table',
            'positions_added',
            'checkpoint_gradients',
        ),
    ),
    Bug(
        'layernorm-eps-outside-sqrt', 'attention-layernorm', 'forward',
        'adds eps after the square root instead of under it: sqrt(var) + eps',
        (
            ('        return centred / (variance + self.eps).sqrt() * self.weight + self.bias\n', '        return centred / (variance.sqrt() + self.eps) * self.weight + self.bias\n'),
        ),
        failing_cells=(
            'attention-layernorm-test',
        ),
        failing_checks=(
            'layernorm_values_and_gradients',
            'layernorm_float32',
            'layernorm_two_dimensions',
            'block_values_and_gradients',
            'block_causal',
            'checkpoint_block_forward',
            'checkpoint_gradients',
        ),
    ),
    Bug(
        'causal-mask-upper', 'attention-causal-mask', 'causal_mask',
        'the upper triangle (np.triu): every position sees the future and not the past',
        (
            ('    return np.tril(np.ones((length, length), dtype=bool))', '    return np.triu(np.ones((length, length), dtype=bool))'),
        ),
        failing_cells=(
            'attention-causal-mask-test',
        ),
        failing_checks=(
            'causal_mask_values',
            'causal_mask_one',
            'checkpoint_block_forward',
            'checkpoint_causal',
        ),
    ),
    Bug(
        'sdpa-no-scale', 'attention-sdpa', 'scaled_dot_product_attention',
        'forgets to divide the scores by sqrt(d)',
        (
            ('    scores = (query @ _swap_last_axes(key)) * (1.0 / np.sqrt(query.shape[-1]))\n', '    scores = query @ _swap_last_axes(key)\n'),
        ),
        failing_cells=(
            'attention-sdpa-test',
            'attention-mha-test',
        ),
        failing_checks=(
            'sdpa_values_and_gradients',
            'sdpa_cross_attention_and_masks',
            'mha_self_attention',
            'mha_cross_attention_with_mask',
            'block_values_and_gradients',
            'block_causal',
            'checkpoint_block_forward',
            'checkpoint_gradients',
        ),
    ),
    Bug(
        'sdpa-softmax-over-queries', 'attention-sdpa', 'scaled_dot_product_attention',
        'takes the softmax along the queries (axis -2) instead of the keys',
        (
            ('    return softmax(scores, axis=-1) @ value', '    return softmax(scores, axis=-2) @ value'),
        ),
        failing_cells=(
            'attention-sdpa-test',
            'attention-mha-test',
            'attention-block-test',
        ),
        failing_checks=(
            'sdpa_values_and_gradients',
            'sdpa_cross_attention_and_masks',
            'mha_self_attention',
            'mha_cross_attention_with_mask',
            'block_values_and_gradients',
            'block_causal',
            'checkpoint_block_forward',
            'checkpoint_causal',
            'checkpoint_gradients',
        ),
    ),
    Bug(
        'mha-split-without-transpose', 'attention-mha', 'split_heads',
        'reshapes straight to (batch, heads, length, head_dim): heads get scrambled slices of tokens',
        (
            ('        return x.reshape(batch, length, self.num_heads, self.head_dim).transpose(0, 2, 1, 3)\n', '        return x.reshape(batch, self.num_heads, length, self.head_dim)\n'),
        ),
        failing_cells=(
            'attention-mha-test',
            'attention-block-test',
        ),
        failing_checks=(
            'mha_self_attention',
            'mha_cross_attention_with_mask',
            'block_values_and_gradients',
            'block_causal',
            'checkpoint_block_forward',
            'checkpoint_causal',
            'checkpoint_gradients',
        ),
    ),
    Bug(
        'block-post-norm', 'attention-block', 'forward',
        'normalises after the residual sums (post-norm) instead of before each sub-layer',
        (
            ('        x = x + self.self_attn(self.norm1(x), mask=mask)\n        return x + self.linear2(relu(self.linear1(self.norm2(x))))\n', '        x = self.norm1(x + self.self_attn(x, mask=mask))\n        return self.norm2(x + self.linear2(relu(self.linear1(x))))\n'),
        ),
        failing_cells=(
            'attention-block-test',
        ),
        failing_checks=(
            'block_values_and_gradients',
            'block_causal',
            'checkpoint_block_forward',
            'checkpoint_gradients',
        ),
    ),
)

STUBS = {
    'none': Stubs(
        failing_cells=(
            'attention-embedding-test',
            'attention-positions-test',
            'attention-layernorm-test',
            'attention-causal-mask-test',
            'attention-sdpa-test',
            'attention-mha-test',
            'attention-block-test',
            'attention-checkpoint',
        ),
        failing_checks=(
            'embedding_lookup',
            'embedding_bad_ids',
            'positions_table',
            'positions_added',
            'layernorm_values_and_gradients',
            'layernorm_float32',
            'layernorm_two_dimensions',
            'causal_mask_values',
            'causal_mask_one',
            'sdpa_values_and_gradients',
            'sdpa_cross_attention_and_masks',
            'mha_self_attention',
            'mha_cross_attention_with_mask',
            'block_values_and_gradients',
            'block_causal',
            'checkpoint_block_forward',
            'checkpoint_causal',
            'checkpoint_gradients',
            'checkpoint_learns_reversal',
        ),
    ),
    'first-half': Stubs(
        failing_cells=(
            'attention-mha-test',
            'attention-block-test',
            'attention-checkpoint',
        ),
        failing_checks=(
            'mha_self_attention',
            'mha_cross_attention_with_mask',
            'block_values_and_gradients',
            'block_causal',
            'checkpoint_block_forward',
            'checkpoint_causal',
            'checkpoint_gradients',
            'checkpoint_learns_reversal',
        ),
    ),
}
