"""The API decisions of docs/tinytorch.md, one test per row of its table, in the same order.

Each name or behaviour that users of the original TinyTorch course, of its seeds or of PyTorch
reach for is either supported (both spellings work), or refused with a clear message, or follows
PyTorch; the test pins the decided behaviour with exact values and exact messages. The names are
read from the modules inside each test, so that a missing name fails its own test only.
"""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinytorch
from tinytorch.core import activations, autograd, layers, losses, optimizers, training, variable
from tinytorch.core.tensor import Tensor

PACKAGE_ROOT = Path(tinytorch.__file__).resolve().parents[1]
CORE_MODULES = sorted(path.stem for path in (PACKAGE_ROOT / "tinytorch" / "core").glob("*.py")
                      if path.stem != "__init__")


def test_layer_is_the_base_class_of_every_layer():
    class Scale(layers.Layer):
        def __init__(self):
            self.factor = Tensor([2.0], requires_grad=True)

        def forward(self, x):
            return x * self.factor

    scale = Scale()
    assert layers.Layer is layers.Module
    assert isinstance(layers.Dense(2, 3), layers.Layer)
    assert scale.parameters() == [scale.factor]
    np.testing.assert_array_equal(scale(Tensor([1.0, -3.0])).data, [2.0, -6.0])


def test_create_mlp_composes_dense_layers_and_activations_like_the_original_course():
    net = layers.create_mlp(3, [4, 2], 1, rng=np.random.default_rng(0))
    assert layers.create_mlp is layers.MLP and isinstance(net, layers.Sequential)
    assert [type(layer).__name__ for layer in net.layers] == [
        "Dense", "ReLU", "Dense", "ReLU", "Dense", "Sigmoid"]
    assert [(layer.input_size, layer.output_size) for layer in net.layers[::2]] == [(3, 4), (4, 2), (2, 1)]
    rng = np.random.default_rng(0)
    by_hand = layers.Sequential(layers.Dense(3, 4, rng=rng), activations.ReLU(),
                                layers.Dense(4, 2, rng=rng), activations.ReLU(),
                                layers.Dense(2, 1, rng=rng), activations.Sigmoid())
    x = Tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    np.testing.assert_array_equal(net(x).data, by_hand(x).data)
    logits = layers.MLP(64, [], 10, activation=activations.Tanh, output_activation=None)
    assert [type(layer).__name__ for layer in logits.layers] == ["Dense"]


def test_binary_cross_entropy_loss_is_the_original_courses_name_for_binary_cross_entropy():
    loss = losses.BinaryCrossEntropyLoss()(Tensor([0.9, 0.2]), Tensor([1.0, 0.0]))
    assert losses.BinaryCrossEntropyLoss is losses.BinaryCrossEntropy
    assert loss.item() == pytest.approx(-(np.log(0.9 + 1e-7) + np.log(0.8 + 1e-7)) / 2, rel=1e-6)


def test_log_softmax_is_importable_from_core_losses_as_module_02s_function():
    from tinytorch.core.losses import log_softmax

    assert log_softmax is activations.log_softmax
    np.testing.assert_array_equal(log_softmax(Tensor([[0.0, -1000.0]])).data, [[0.0, -1000.0]])


def test_mse_and_cross_entropy_losses_are_importable_from_core_training():
    from tinytorch.core.training import CrossEntropyLoss, MSELoss

    assert MSELoss is losses.MeanSquaredError
    assert CrossEntropyLoss is losses.CrossEntropyLoss
    assert MSELoss()(Tensor([1.0, 2.0, 3.0]), Tensor([1.0, 2.0, 5.0])).item() == pytest.approx(4 / 3, rel=1e-7)


def test_sequential_takes_its_layers_as_arguments_or_as_one_list():
    first, second = layers.Dense(2, 3, rng=np.random.default_rng(0)), activations.ReLU()
    from_list = layers.Sequential([first, second])
    from_tuple = layers.Sequential((first, second))
    x = Tensor([[1.0, -2.0]])
    assert from_list.layers == [first, second] and from_tuple.layers == [first, second]
    np.testing.assert_array_equal(from_list(x).data, layers.Sequential(first, second)(x).data)
    assert len(layers.Sequential([])) == 0


def test_softmax_functions_take_pytorchs_dim_keyword_and_refuse_two_different_axes():
    scores = Tensor([[1.0, 5.0], [3.0, 5.0]])
    np.testing.assert_array_equal(activations.log_softmax(scores, dim=0).data,
                                  activations.log_softmax(scores, axis=0).data)
    np.testing.assert_array_equal(activations.softmax(scores, dim=0).data[:, 1], [0.5, 0.5])
    assert activations.Softmax(dim=0).axis == 0
    with pytest.raises(TypeError) as refused:
        activations.log_softmax(scores, 0, dim=1)
    assert str(refused.value) == "got axis=0 and dim=1: pass one of them (dim is PyTorch's name for axis)"


def test_dense_takes_the_original_courses_use_bias_keyword():
    layer = layers.Dense(2, 3, use_bias=False, rng=np.random.default_rng(0))
    assert layer.bias is None and layer.parameters() == [layer.weights]
    np.testing.assert_array_equal(layer(Tensor([[1.0, 1.0]])).data, [layer.weights.data.sum(axis=0)])
    assert layers.Dense(2, 3, use_bias=True).bias.shape == (3,)
    assert layers.Dense(2, 3, bias=False, use_bias=True).bias is None, "either keyword turns the bias off"


def test_variable_takes_seed_001s_signature_with_grad_fn_none_only():
    leaf = variable.Variable(3.0, True, None)
    assert leaf.requires_grad and leaf.is_leaf and leaf.grad_fn is None
    assert (leaf * leaf).grad_fn is autograd.GRADIENT_RULES["mul"]
    with pytest.raises(TypeError) as refused:
        variable.Variable(3.0, requires_grad=True, grad_fn=lambda grad: grad)
    assert str(refused.value) == ("Variable(grad_fn=...) must be None: results of operations get their "
                                  "grad_fn from the engine (build them with +, *, add, multiply, ...)")


def test_numpy_reads_a_variable_as_its_values():
    v = variable.Variable(2.0)
    (v * v).backward()
    assert np.allclose(v.grad, 4.0)
    values = np.asarray(variable.Variable(np.array([1.5, -2.0])))
    assert values.dtype == np.float64 and values.tolist() == [1.5, -2.0]
    assert np.asarray(variable.Variable([1, 2]), dtype=np.int64).tolist() == [1, 2]


def test_the_classic_face_imports_from_autograd_too_but_the_engine_never_loads_it():
    from tinytorch.core.autograd import Variable, add, divide, multiply, subtract
    assert (Variable, add, subtract, multiply, divide) == (variable.Variable, variable.add, variable.subtract,
                                                          variable.multiply, variable.divide)
    assert not {"Variable", "add", "subtract", "multiply", "divide"} & set(autograd.__all__)
    with pytest.raises(AttributeError) as missing:
        autograd.Varaible
    assert str(missing.value) == "module 'tinytorch.core.autograd' has no attribute 'Varaible'"
    loaded = "print(sorted(m for m in sys.modules if m.startswith('tinytorch.core.')))\n"
    result = _fresh_python("import sys\nfrom tinytorch.core import autograd\n"
                           "from tinytorch.core.tensor import Tensor\n"
                           "x = Tensor([3.0], requires_grad=True)\n(x * x).backward()\n" + loaded
                           + "from tinytorch.core.autograd import Variable\nv = Variable(3.0)\n(v * v).backward()\n"
                           "print(v.grad.data.data.tolist())\n" + loaded)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["['tinytorch.core.autograd', 'tinytorch.core.tensor']", "6.0",
                                          "['tinytorch.core.autograd', 'tinytorch.core.tensor', "
                                          "'tinytorch.core.variable']"]


def test_abs_of_a_tensor_has_the_gradient_sign_of_x_and_zero_at_zero():
    x = Tensor(np.array([-2.5, 0.0, 3.0]), requires_grad=True)
    y = abs(x)
    assert y.dtype == np.float64 and y.data.tolist() == [2.5, 0.0, 3.0]
    y.sum().backward()
    assert x.grad.data.tolist() == [-1.0, 0.0, 1.0]
    assert abs(Tensor([-1.0, 2.0])).dtype == np.float32


def test_a_loss_is_0_d_as_in_pytorch_so_its_number_is_item_not_data_0():
    loss = losses.MeanSquaredError()(Tensor([1.0, 2.0]), Tensor([1.0, 4.0]))
    assert loss.shape == () and loss.item() == 2.0 and isinstance(loss.item(), float)
    with pytest.raises(IndexError, match="0-dimensional"):
        loss.data[0]


def test_gelu_takes_pytorchs_approximate_keyword_and_refuses_any_other_form():
    x = Tensor(np.array([-1.0, 0.0, 1.0]), requires_grad=True)
    exact = activations.gelu(x)
    phi1 = 0.5 * (1 + math.erf(1 / math.sqrt(2)))
    np.testing.assert_allclose(exact.data, [-(1 - phi1), 0.0, phi1], rtol=1e-15)
    tanh_form = activations.gelu(x, approximate="tanh").data
    inner = math.sqrt(2 / math.pi) * 1.044715
    np.testing.assert_allclose(tanh_form, [-0.5 * (1 - math.tanh(inner)), 0.0, 0.5 * (1 + math.tanh(inner))],
                               rtol=1e-15)
    exact.sum().backward()   # the given rule: Phi(x) + x Phi'(x), with Phi'(1) = e^-0.5 / sqrt(2 pi)
    density = math.exp(-0.5) / math.sqrt(2 * math.pi)
    np.testing.assert_allclose(x.grad.data, [1 - phi1 - density, 0.5, phi1 + density], rtol=1e-15)
    assert activations.GELU().approximate == "none"
    np.testing.assert_array_equal(activations.GELU("tanh")(x).data, tanh_form)
    for make in (lambda: activations.gelu(x, approximate="exact"), lambda: activations.GELU("exact")):
        with pytest.raises(ValueError) as caught:
            make()
        assert str(caught.value) == "gelu: approximate must be 'none' or 'tanh', got 'exact'"


def test_rmsprop_takes_pytorchs_defaults_and_adds_eps_after_the_square_root():
    p = Tensor(np.array([0.0]), requires_grad=True)
    rmsprop = optimizers.RMSprop([p])
    assert (rmsprop.lr, rmsprop.alpha, rmsprop.eps, rmsprop.weight_decay, rmsprop.momentum) == \
        (0.01, 0.99, 1e-8, 0.0, 0.0)
    p.grad = Tensor(np.array([1.0]))
    rmsprop.step()
    np.testing.assert_allclose(p.data, [-0.01 / (0.1 + 1e-8)], rtol=1e-15)   # s = 0.01: sqrt(s) + eps
    q = Tensor(np.array([0.0]), requires_grad=True)
    big_eps = optimizers.RMSprop([q], lr=1.0, eps=1.0)      # sqrt(s + eps) would give -1 / sqrt(1.01)
    q.grad = Tensor(np.array([1.0]))
    big_eps.step()
    np.testing.assert_allclose(q.data, [-1.0 / 1.1], rtol=1e-15)


def test_trainer_is_an_object_over_fit_whose_history_continues_across_calls():
    def run():
        line = layers.Dense(1, 1, rng=np.random.default_rng(0))
        loader = training.DataLoader(np.array([[1.0], [2.0], [3.0]]), np.array([[2.0], [4.0], [6.0]]),
                                     batch_size=2, shuffle=False)
        return line, loader, losses.MeanSquaredError(), optimizers.SGD(line.parameters(), lr=0.05)

    line, loader, loss_fn, optimizer = run()
    trainer = training.Trainer(line, loss_fn, optimizer, loader)
    trainer.fit(1)
    assert trainer.fit(2) is trainer.history and trainer.epochs == 3
    same, *pieces = run()
    assert trainer.history == training.fit(same, *pieces, epochs=3)
    assert line.weights.data.tolist() == same.weights.data.tolist()
    with pytest.raises(ValueError) as caught:
        trainer.evaluate()
    assert str(caught.value) == "Trainer.evaluate: no inputs given and no validation data to fall back on"


def test_calling_a_module_passes_keywords_to_forward_so_layers_with_options_need_no_call_of_their_own():
    from tinytorch.core.attention import MultiHeadAttention, TransformerBlock, causal_mask

    class Shift(layers.Module):
        def forward(self, x, by=0.0):
            return x + by

    assert Shift()(Tensor([1.0, 2.0]), by=10.0).data.tolist() == [11.0, 12.0]
    assert "__call__" not in vars(MultiHeadAttention) and "__call__" not in vars(TransformerBlock)
    rng = np.random.default_rng(0)
    block = TransformerBlock(8, 2, rng=np.random.default_rng(1))
    x = Tensor(rng.standard_normal((2, 5, 8)))
    mask = causal_mask(5)
    np.testing.assert_array_equal(block(x, mask=mask).data, block.forward(x, mask).data)
    assert not np.array_equal(block(x, mask=mask).data, block(x).data), "the mask reaches the attention"
    attention = block.self_attn
    np.testing.assert_array_equal(attention(x, mask=mask).data, attention.forward(x, x, x, mask).data)


@pytest.mark.parametrize("name", CORE_MODULES)
def test_each_core_module_imports_first_in_a_fresh_interpreter(name):
    result = _fresh_python(f"import tinytorch.core.{name}")
    assert result.returncode == 0, result.stderr


def test_backward_on_module_01_loads_the_engine_and_nothing_else():
    """tensor -> autograd -> losses -> tensor was a circle: the engine now loads only module 01."""
    result = _fresh_python(
        "import sys\n"
        "from tinytorch.core.tensor import Tensor\n"
        "x = Tensor([3.0], requires_grad=True)\n"
        "(x * x + x).backward()\n"
        "print(x.grad.data.tolist(), sorted(m for m in sys.modules if m.startswith('tinytorch.core.')))\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[7.0] ['tinytorch.core.autograd', 'tinytorch.core.tensor']"


def _fresh_python(code: str) -> subprocess.CompletedProcess:
    """Run `code` in a new interpreter that imports this tinytorch and nothing imported before."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=PACKAGE_ROOT, env={"PYTHONPATH": str(PACKAGE_ROOT), "PATH": "/usr/bin:/bin"})
