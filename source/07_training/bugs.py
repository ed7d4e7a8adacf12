"""Realistic bugs of 07_training for the synthetic class, and what each stub profile fails.

Each bug is one function's solution with a small edit (`edits`: (old, new) pairs applied to the
filled cell `cell`). `failing_cells` and `failing_checks` are derived, never typed: after changing
the module's source or its cases, run `python -m tito.synth --derive --write --module 07_training`,
which rewrites this file (notes belong in a bug's description). See source/AUTHORING.md.
"""

from tito.synth.bugs import Bug, Stubs

BUGS = (
    Bug(
        'dataloader-drops-last', 'training-dataloader', '__iter__',
        'DataLoader silently drops the last, incomplete batch',
        (
            ('        for start in range(0, len(order), self.batch_size):', '        for start in range(0, len(order) - self.batch_size + 1, self.batch_size):'),
        ),
        failing_cells=(
            'training-dataloader-batches',
            'training-dataloader-shuffle',
            'training-train-epoch-test',
            'training-trainer-test',
        ),
        failing_checks=(
            'loader_cuts_batches',
            'loader_batch_size_table',
            'loader_dtypes_and_shapes',
            'loader_shuffles_each_epoch',
            'loader_seeded_reproducible',
            'train_epoch_steps',
            'trainer_continues_across_calls',
            'loader_batches',
            'loader_shuffles_by_seed',
            'train_epoch',
        ),
    ),
    Bug(
        'train-epoch-no-zero-grad', 'training-train-epoch', 'train_epoch',
        'train_epoch never calls optimizer.zero_grad(): gradients of all batches pile up',
        (
            ('        optimizer.zero_grad()\n', ''),
        ),
        failing_cells=(
            'training-train-epoch-test',
            'training-fit-digits',
            'training-trainer-test',
            'training-checkpoint',
        ),
        failing_checks=(
            'train_epoch_steps',
            'train_epoch_batches_of_one',
            'fit_history_on_digits',
            'fit_without_validation',
            'fit_then_held_out',
            'trainer_continues_across_calls',
            'trainer_validation_and_evaluate',
            'trainer_learns_a_line',
            'train_epoch',
            'fit',
            'trainer',
        ),
    ),
    Bug(
        'trainer-history-restarts', 'training-trainer', 'fit',
        "Trainer.fit replaces its history with the last call's: training continues, its record does not",
        (
            ('        for key, values in run.items():\n            self.history[key].extend(values)\n', '        self.history = run\n'),
        ),
        failing_cells=(
            'training-trainer-test',
        ),
        failing_checks=(
            'trainer_continues_across_calls',
            'trainer_validation_and_evaluate',
            'trainer_learns_a_line',
            'trainer',
        ),
    ),
    Bug(
        'trainer-history-nested', 'training-trainer', 'fit',
        "Trainer.fit appends each call's list to the history instead of extending it (a list of lists)",
        (
            ('            self.history[key].extend(values)\n', '            self.history[key].append(values)\n'),
        ),
        failing_cells=(
            'training-trainer-test',
        ),
        failing_checks=(
            'trainer_continues_across_calls',
            'trainer_validation_and_evaluate',
            'trainer_learns_a_line',
            'trainer',
        ),
    ),
)

STUBS = {
    'none': Stubs(
        failing_cells=(
            'training-dataloader-batches',
            'training-dataloader-shuffle',
            'training-split-test',
            'training-digits-test',
            'training-accuracy-test',
            'training-train-epoch-test',
            'training-evaluate-test',
            'training-fit-digits',
            'training-trainer-test',
            'training-checkpoint',
        ),
        failing_checks=(
            'loader_cuts_batches',
            'loader_batch_size_table',
            'loader_dtypes_and_shapes',
            'loader_shuffles_each_epoch',
            'loader_seeded_reproducible',
            'split_seeded',
            'split_defaults_and_rounding',
            'digits_default_split',
            'digits_half_split',
            'accuracy_of_scores',
            'accuracy_lists_and_ties',
            'train_epoch_steps',
            'train_epoch_batches_of_one',
            'evaluate_chunks',
            'evaluate_default_chunks',
            'evaluate_weighs_short_chunk',
            'fit_history_on_digits',
            'fit_without_validation',
            'fit_then_held_out',
            'trainer_continues_across_calls',
            'trainer_validation_and_evaluate',
            'trainer_learns_a_line',
            'loader_batches',
            'loader_shuffles_by_seed',
            'split',
            'load_digits',
            'accuracy',
            'train_epoch',
            'evaluate',
            'fit',
            'trainer',
        ),
    ),
    'first-half': Stubs(
        failing_cells=(
            'training-train-epoch-test',
            'training-evaluate-test',
            'training-fit-digits',
            'training-trainer-test',
            'training-checkpoint',
        ),
        failing_checks=(
            'train_epoch_steps',
            'train_epoch_batches_of_one',
            'evaluate_chunks',
            'evaluate_default_chunks',
            'evaluate_weighs_short_chunk',
            'fit_history_on_digits',
            'fit_without_validation',
            'fit_then_held_out',
            'trainer_continues_across_calls',
            'trainer_validation_and_evaluate',
            'trainer_learns_a_line',
            'train_epoch',
            'evaluate',
            'fit',
            'trainer',
        ),
    ),
}
