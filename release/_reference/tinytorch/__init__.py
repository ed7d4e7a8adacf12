"""TinyTorch: a deep-learning framework built from scratch in numpy, one course module at a time.

The package is the reference solution of the course, exported from the `#| export` cells of
`source/NN_name/NN_name.py` by `tito export`. Its modules follow the course order:

    core.tensor       01  Tensor: arrays that remember how they were computed
    core.activations  02  ReLU, Sigmoid, Tanh, Softmax
    core.layers       03  Module, Dense (Linear), Sequential
    core.losses       04  MeanSquaredError, CrossEntropyLoss, BinaryCrossEntropy
    core.autograd     05  the backward engine, gradient rules, Variable, no_grad, gradient checks
    core.optimizers   06  SGD, Adam
    core.training     07  DataLoader, training loop, evaluation

This file deliberately imports nothing: a build that holds only some modules (a student's work in
progress, or the autograder's partial reference) must still import cleanly, and an ImportError must
never be swallowed here.
"""

__version__ = "0.1.0"
