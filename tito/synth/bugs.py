"""The catalogue of realistic student bugs, each a small named edit of one function's solution.

Every bug records which graded cells it fails (`failing_cells`). Those lists are not guesses:
they were derived by executing the buggy submission the way grading runs it (the instructor's
locked cells with hidden tests restored, the reference of earlier modules only, nbgrader's rule
that an error or any stderr output scores 0) with `python -m tito.synth --derive`, and the slow
test in tests/test_synth.py derives them again and compares. Change a source, re-derive.

`failing_checks` is the differential checkpoint scenarios (`tito/grade/scenarios/`) the bug
should fail: None means "not determined yet" (filled in by whoever owns the scenarios).

A stub profile is a student who wrote only some functions: `first-half` fills the first half of
the module's solution regions (notebook order) and leaves the rest as released; `none` is the
release untouched. Their failing cells are derived the same way.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bug:
    name: str
    module: str
    cell: str  # grade_id of the solution cell the edits apply to
    function: str
    description: str
    edits: tuple[tuple[str, str], ...]  # (old, new): each old occurs exactly once in the filled cell
    failing_cells: tuple[str, ...]  # derived by execution, see the module docstring
    failing_checks: tuple[str, ...] | None = None  # scenario names; None: not determined yet

    @property
    def detected(self) -> bool:
        """False for a bug no graded cell notices (it still costs nothing: full score expected)."""
        return bool(self.failing_cells)


BUGS: tuple[Bug, ...] = (
    # 01 tensor ---------------------------------------------------------------------------------
    Bug(
        "tensor-lists-float64", "01_tensor", "tensor-to-array", "_to_array",
        "dtype policy: Python lists and scalars become float64 instead of float32",
        (("    return np.asarray(data, dtype=np.float32)", "    return np.asarray(data, dtype=np.float64)"),),
        failing_cells=(
            'tensor-creation',
            'tensor-arithmetic',
            'tensor-exp-log',
            'tensor-matmul',
            'tensor-reductions',
            'tensor-graph-records',
            'tensor-checkpoint',
        ),
        failing_checks=(
            'construction_and_dtype',
            'reductions',
        ),
    ),
    Bug(
        "tensor-matmul-elementwise", "01_tensor", "tensor-class", "__matmul__",
        "matmul computed with `*` (elementwise product, broadcasting instead of contracting)",
        (("self._data @ other._data", "self._data * other._data"),),
        failing_cells=(
            'tensor-matmul',
            'tensor-checkpoint',
        ),
        failing_checks=(
            'matrix_multiplication',
        ),
    ),
    Bug(
        "tensor-mean-no-divide", "01_tensor", "tensor-class", "mean",
        "mean returns the sum (forgets to divide by the number of elements)",
        (("        return self.sum(axis=axis, keepdims=keepdims) * (1.0 / count)",
          "        return self.sum(axis=axis, keepdims=keepdims)"),),
        failing_cells=(
            'tensor-reductions',
            'tensor-checkpoint',
        ),
        failing_checks=(
            'reductions',
        ),
    ),
    # 02 activations ----------------------------------------------------------------------------
    Bug(
        "relu-ge", "02_activations", "activations-relu", "relu",
        "relu written with `>=` instead of `>`: the same values everywhere (undetectable; full score)",
        (("    return Tensor.from_op(np.maximum(x.data, 0), \"relu\", (x,))",
          "    return Tensor.from_op(np.where(x.data >= 0, x.data, 0).astype(x.dtype), \"relu\", (x,))"),),
        failing_cells=(),
        failing_checks=(
        ),
    ),
    Bug(
        "sigmoid-naive", "02_activations", "activations-sigmoid", "sigmoid",
        "naive sigmoid 1/(1+exp(-x)): exp overflows for large negative x (RuntimeWarning on stderr)",
        (("    e = np.exp(-np.abs(x.data))\n    out = np.where(x.data >= 0, 1 / (1 + e), e / (1 + e))\n",
          "    out = 1 / (1 + np.exp(-x.data))\n"),),
        failing_cells=(
            'activations-sigmoid-test',
            'activations-checkpoint',
        ),
        failing_checks=(
            'sigmoid_stable',
        ),
    ),
    Bug(
        "softmax-no-shift", "02_activations", "activations-softmax", "softmax",
        "softmax without subtracting the row maximum: overflows to nan for large logits",
        (("    shifted = x - Tensor(x.data.max(axis=axis, keepdims=True))\n", "    shifted = x\n"),),
        failing_cells=(
            'activations-softmax-test',
            'activations-log-softmax-test',
            'activations-checkpoint',
        ),
        failing_checks=(
            'softmax_stable',
        ),
    ),
    # 03 layers ---------------------------------------------------------------------------------
    Bug(
        "dense-weights-transposed", "03_layers", "layers-dense", "__init__/forward",
        "Dense stores weights as (output_size, input_size) and multiplies by their transpose",
        (("(input_size, output_size)).astype", "(output_size, input_size)).astype"),
         ("        out = as_tensor(x) @ self.weights\n", "        out = as_tensor(x) @ self.weights.transpose()\n")),
        failing_cells=(
            'layers-dense-init',
            'layers-dense-seed',
            'layers-dense-forward',
            'layers-linear-alias',
            'layers-mlp',
        ),
        failing_checks=(
            'dense_initialisation',
            'dense_forward',
            'sequential',
        ),
    ),
    Bug(
        "parameters-no-dedup", "03_layers", "layers-module", "parameters",
        "Module.parameters lists a shared parameter once per reference (no de-duplication)",
        (("                if id(parameter) not in seen:\n                    seen.add(id(parameter))\n"
          "                    found.append(parameter)\n",
          "                found.append(parameter)\n"),),
        failing_cells=(
            'layers-module-parameters',
            'layers-sequential-forward',
        ),
        failing_checks=(
            'parameter_discovery',
        ),
    ),
    # 04 losses ---------------------------------------------------------------------------------
    Bug(
        "mse-no-mean", "04_losses", "losses-mse", "mean_squared_error",
        "MSE sums the squared errors instead of averaging them",
        (("    return ((predictions - targets) ** 2).mean()", "    return ((predictions - targets) ** 2).sum()"),),
        failing_cells=(
            'losses-mse-values',
            'losses-classes-aliases',
            'losses-checkpoint',
        ),
        failing_checks=(
            'mean_squared_error',
            'classes_and_graph',
        ),
    ),
    Bug(
        "cross-entropy-log-of-softmax", "04_losses", "losses-log-softmax", "log_softmax_rows",
        "log-softmax as log(softmax(x)) without the shift: overflow and log(0) for large logits",
        (("    shifted = logits - logits.max(axis=-1, keepdims=True)\n"
          "    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))",
          "    exps = np.exp(logits)\n"
          "    return np.log(exps / exps.sum(axis=-1, keepdims=True))"),),
        failing_cells=(
            'losses-log-softmax-values',
            'losses-cross-entropy-stable',
            'losses-classes-aliases',
            'losses-checkpoint',
        ),
        failing_checks=(
            'cross_entropy_stable',
            'classes_and_graph',
        ),
    ),
    # 05 autograd -------------------------------------------------------------------------------
    Bug(
        "sub-rule-sign", "05_autograd", "autograd-arithmetic-rules", "sub_rule",
        "sign error: the gradient of a - b with respect to b is +grad",
        (("    return grad, -grad", "    return grad, grad"),),
        failing_cells=(
            'autograd-elementwise-rules',
            'autograd-backward-checkpoint',
            'autograd-gradient-checks',
            'autograd-variable',
        ),
        failing_checks=(
            'polynomial',
            'several_paths',
            'elementwise_rules',
            'variable_face',
        ),
    ),
    Bug(
        "backward-overwrites", "05_autograd", "autograd-backward", "backward",
        "gradients reaching a node by two paths overwrite each other instead of adding up",
        (("pending[key] = parent_grad if key not in pending else pending[key] + parent_grad",
          "pending[key] = parent_grad"),),
        failing_cells=(
            'autograd-backward-checkpoint',
            'autograd-backward-graphs',
            'autograd-no-grad',
            'autograd-gradient-checks',
            'autograd-variable',
            'autograd-checkpoint',
        ),
        failing_checks=(
            'polynomial',
            'chain_rule',
            'several_paths',
            'diamond_41_levels',
            'elementwise_rules',
            'matmul_and_reductions',
            'no_grad_and_gradient_checks',
            'variable_face',
        ),
    ),
    Bug(
        "unbroadcast-identity", "05_autograd", "autograd-unbroadcast-code", "unbroadcast",
        "broadcast gradients are not summed back to the input's shape (unbroadcast returns grad)",
        (("    grad = np.asarray(grad)\n    if grad.shape == shape:\n",
          "    grad = np.asarray(grad)\n    return grad\n    if grad.shape == shape:\n"),),
        failing_cells=(
            'autograd-unbroadcast',
            'autograd-backward-checkpoint',
            'autograd-backward-graphs',
            'autograd-gradient-checks',
            'autograd-variable',
            'autograd-checkpoint',
        ),
        failing_checks=(
            'dense_sigmoid_mse',
            'broadcast_gradients',
            'matmul_and_reductions',
        ),
    ),
    Bug(
        "matmul-backward-no-transpose", "05_autograd", "autograd-linalg-rules", "matmul_rule",
        "matmul backward forgets the transposes (G @ B and A @ G)",
        (("        grad_a = G @ np.swapaxes(B, -1, -2)\n", "        grad_a = G @ B\n"),
         ("        grad_b = np.swapaxes(A, -1, -2) @ G\n", "        grad_b = A @ G\n")),
        failing_cells=(
            'autograd-array-rules',
            'autograd-backward-checkpoint',
            'autograd-gradient-checks',
            'autograd-checkpoint',
        ),
        failing_checks=(
            'dense_sigmoid_mse',
            'matmul_and_reductions',
            'no_grad_and_gradient_checks',
        ),
    ),
    # 06 optimizers -----------------------------------------------------------------------------
    Bug(
        "zero-grad-noop", "06_optimizers", "optimizers-base", "zero_grad",
        "Optimizer.zero_grad does nothing: gradients pile up across steps",
        (("        for parameter in self.parameters:\n            parameter.grad = None",
          "        pass"),),
        failing_cells=(
            'optimizers-zero-grad-step',
            'optimizers-no-graph-chain',
            'optimizers-convergence',
            'optimizers-checkpoint',
        ),
        failing_checks=(
            'sgd_plain',
            'sgd_momentum',
            'sgd_weight_decay',
            'sgd_momentum_and_decay',
            'adam',
            'adam_betas_and_decay',
            'adam_counts_steps_per_parameter',
            'zero_grad_and_unused_parameters',
            'updates_stay_outside_the_graph',
        ),
    ),
    Bug(
        "sgd-momentum-no-accumulation", "06_optimizers", "optimizers-sgd", "update",
        "SGD momentum uses the velocity but never stores it (no accumulation across steps)",
        (("            velocity *= self.momentum\n            velocity += grad\n            grad = velocity\n",
          "            grad = self.momentum * velocity + grad\n"),),
        failing_cells=(
            'optimizers-sgd-momentum-decay',
        ),
        failing_checks=(
            'sgd_momentum',
            'sgd_momentum_and_decay',
            'updates_stay_outside_the_graph',
        ),
    ),
    Bug(
        "adam-no-bias-correction", "06_optimizers", "optimizers-adam", "update",
        "Adam without bias correction (m_hat = m, v_hat = v)",
        (("        m_hat = m / (1 - self.beta1 ** t)\n        v_hat = v / (1 - self.beta2 ** t)\n",
          "        m_hat = m\n        v_hat = v\n"),),
        failing_cells=(
            'optimizers-adam-exact',
            'optimizers-adam-details',
        ),
        failing_checks=(
            'adam',
            'adam_betas_and_decay',
            'adam_counts_steps_per_parameter',
            'updates_stay_outside_the_graph',
        ),
    ),
    # 07 training -------------------------------------------------------------------------------
    Bug(
        "dataloader-drops-last", "07_training", "training-dataloader", "__iter__",
        "DataLoader silently drops the last, incomplete batch",
        (("        for start in range(0, len(order), self.batch_size):",
          "        for start in range(0, len(order) - self.batch_size + 1, self.batch_size):"),),
        failing_cells=(
            'training-dataloader-batches',
            'training-dataloader-shuffle',
            'training-train-epoch-test',
        ),
        failing_checks=(
            'loader_batches',
            'loader_shuffles_by_seed',
            'train_epoch',
        ),
    ),
    Bug(
        "train-epoch-no-zero-grad", "07_training", "training-train-epoch", "train_epoch",
        "train_epoch never calls optimizer.zero_grad(): gradients of all batches pile up",
        (("        optimizer.zero_grad()\n", ""),),
        failing_cells=(
            'training-train-epoch-test',
            'training-fit-digits',
            'training-checkpoint',
        ),
        failing_checks=(
            'train_epoch',
            'fit',
        ),
    ),
)

BY_NAME: dict[str, Bug] = {bug.name: bug for bug in BUGS}

STUB_PROFILES = ("none", "first-half")

# (module, profile) -> failing graded cells, derived like the bugs' (see the module docstring).
STUB_FAILING_CELLS: dict[tuple[str, str], tuple[str, ...]] = {
    ('01_tensor', 'none'): (
        'tensor-creation',
        'tensor-arithmetic',
        'tensor-exp-log',
        'tensor-matmul',
        'tensor-reductions',
        'tensor-shape-indexing',
        'tensor-comparisons-hashing',
        'tensor-graph-records',
        'tensor-checkpoint',
    ),
    ('01_tensor', 'first-half'): (
        'tensor-creation',
        'tensor-arithmetic',
        'tensor-exp-log',
        'tensor-matmul',
        'tensor-reductions',
        'tensor-shape-indexing',
        'tensor-comparisons-hashing',
        'tensor-graph-records',
        'tensor-checkpoint',
    ),
    ('02_activations', 'none'): (
        'activations-relu-test',
        'activations-sigmoid-test',
        'activations-tanh-test',
        'activations-softmax-test',
        'activations-log-softmax-test',
        'activations-classes-test',
        'activations-graph-test',
        'activations-checkpoint',
    ),
    ('02_activations', 'first-half'): (
        'activations-classes-test',
        'activations-checkpoint',
    ),
    ('03_layers', 'none'): (
        'layers-module-parameters',
        'layers-module-zero-grad',
        'layers-dense-init',
        'layers-dense-seed',
        'layers-dense-forward',
        'layers-linear-alias',
        'layers-sequential-forward',
        'layers-mlp',
        'layers-checkpoint',
    ),
    ('03_layers', 'first-half'): (
        'layers-dense-init',
        'layers-dense-seed',
        'layers-dense-forward',
        'layers-linear-alias',
        'layers-sequential-forward',
        'layers-mlp',
        'layers-checkpoint',
    ),
    ('04_losses', 'none'): (
        'losses-mse-values',
        'losses-log-softmax-values',
        'losses-cross-entropy-indices',
        'losses-cross-entropy-probs',
        'losses-cross-entropy-stable',
        'losses-cross-entropy-graph',
        'losses-bce-values',
        'losses-classes-aliases',
        'losses-checkpoint',
    ),
    ('04_losses', 'first-half'): (
        'losses-cross-entropy-indices',
        'losses-cross-entropy-probs',
        'losses-cross-entropy-stable',
        'losses-cross-entropy-graph',
        'losses-bce-values',
        'losses-classes-aliases',
        'losses-checkpoint',
    ),
    ('05_autograd', 'none'): (
        'autograd-elementwise-rules',
        'autograd-array-rules',
        'autograd-activation-rules',
        'autograd-unbroadcast',
        'autograd-topological-order',
        'autograd-backward-checkpoint',
        'autograd-backward-graphs',
        'autograd-no-grad',
        'autograd-gradient-checks',
        'autograd-variable',
        'autograd-checkpoint',
    ),
    ('05_autograd', 'first-half'): (
        'autograd-activation-rules',
        'autograd-unbroadcast',
        'autograd-topological-order',
        'autograd-backward-checkpoint',
        'autograd-backward-graphs',
        'autograd-no-grad',
        'autograd-gradient-checks',
        'autograd-variable',
        'autograd-checkpoint',
    ),
    ('06_optimizers', 'none'): (
        'optimizers-validation',
        'optimizers-zero-grad-step',
        'optimizers-sgd-plain',
        'optimizers-sgd-momentum-decay',
        'optimizers-no-graph-chain',
        'optimizers-adam-exact',
        'optimizers-adam-details',
        'optimizers-convergence',
        'optimizers-checkpoint',
    ),
    ('06_optimizers', 'first-half'): (
        'optimizers-sgd-plain',
        'optimizers-sgd-momentum-decay',
        'optimizers-no-graph-chain',
        'optimizers-adam-exact',
        'optimizers-adam-details',
        'optimizers-convergence',
        'optimizers-checkpoint',
    ),
    ('07_training', 'none'): (
        'training-dataloader-batches',
        'training-dataloader-shuffle',
        'training-split-test',
        'training-digits-test',
        'training-accuracy-test',
        'training-train-epoch-test',
        'training-evaluate-test',
        'training-fit-digits',
        'training-checkpoint',
    ),
    ('07_training', 'first-half'): (
        'training-accuracy-test',
        'training-train-epoch-test',
        'training-evaluate-test',
        'training-fit-digits',
        'training-checkpoint',
    ),
}


def bugs_of(module: str) -> list[Bug]:
    return [bug for bug in BUGS if bug.module == module]

# (module, profile) -> failing differential checks, derived by running the checks in the sandbox
# (`tito.synth.derive.derive_checks`).
STUB_FAILING_CHECKS: dict[tuple[str, str], tuple[str, ...]] = {
    ('01_tensor', 'none'): (
        'construction_and_dtype',
        'elementwise_arithmetic',
        'numbers_and_arrays_on_either_side',
        'broadcasting',
        'matrix_multiplication',
        'reductions',
        'shape_and_indexing',
        'comparisons_and_hashing',
        'graph_recording',
    ),
    ('01_tensor', 'first-half'): (
        'construction_and_dtype',
        'elementwise_arithmetic',
        'numbers_and_arrays_on_either_side',
        'broadcasting',
        'matrix_multiplication',
        'reductions',
        'shape_and_indexing',
        'graph_recording',
    ),
    ('02_activations', 'none'): (
        'relu',
        'sigmoid_stable',
        'tanh',
        'softmax_stable',
        'log_softmax_stable',
        'activation_classes',
        'graph_recording',
    ),
    ('02_activations', 'first-half'): (
        'activation_classes',
    ),
    ('03_layers', 'none'): (
        'dense_initialisation',
        'dense_forward',
        'parameter_discovery',
        'sequential',
        'zero_grad',
        'graph_recording',
    ),
    ('03_layers', 'first-half'): (
        'dense_initialisation',
        'dense_forward',
        'parameter_discovery',
        'sequential',
        'zero_grad',
        'graph_recording',
    ),
    ('04_losses', 'none'): (
        'mean_squared_error',
        'cross_entropy_labels',
        'cross_entropy_probabilities',
        'cross_entropy_stable',
        'binary_cross_entropy',
        'classes_and_graph',
    ),
    ('04_losses', 'first-half'): (
        'cross_entropy_labels',
        'cross_entropy_probabilities',
        'cross_entropy_stable',
        'binary_cross_entropy',
        'classes_and_graph',
    ),
    ('05_autograd', 'none'): (
        'polynomial',
        'dense_sigmoid_mse',
        'chain_rule',
        'accumulation_and_zero_grad',
        'several_paths',
        'diamond_41_levels',
        'broadcast_gradients',
        'long_chain_10002',
        'elementwise_rules',
        'matmul_and_reductions',
        'cross_entropy_gradient',
        'no_grad_and_gradient_checks',
        'variable_face',
    ),
    ('05_autograd', 'first-half'): (
        'polynomial',
        'dense_sigmoid_mse',
        'chain_rule',
        'accumulation_and_zero_grad',
        'several_paths',
        'diamond_41_levels',
        'broadcast_gradients',
        'long_chain_10002',
        'elementwise_rules',
        'matmul_and_reductions',
        'cross_entropy_gradient',
        'no_grad_and_gradient_checks',
        'variable_face',
    ),
    ('06_optimizers', 'none'): (
        'sgd_plain',
        'sgd_momentum',
        'sgd_weight_decay',
        'sgd_momentum_and_decay',
        'adam',
        'adam_betas_and_decay',
        'adam_counts_steps_per_parameter',
        'zero_grad_and_unused_parameters',
        'validation',
        'updates_stay_outside_the_graph',
    ),
    ('06_optimizers', 'first-half'): (
        'sgd_plain',
        'sgd_momentum',
        'sgd_weight_decay',
        'sgd_momentum_and_decay',
        'adam',
        'adam_betas_and_decay',
        'adam_counts_steps_per_parameter',
        'zero_grad_and_unused_parameters',
        'updates_stay_outside_the_graph',
    ),
    ('07_training', 'none'): (
        'loader_batches',
        'loader_shuffles_by_seed',
        'split',
        'load_digits',
        'accuracy',
        'train_epoch',
        'evaluate',
        'fit',
    ),
    ('07_training', 'first-half'): (
        'accuracy',
        'train_epoch',
        'evaluate',
        'fit',
    ),
}
