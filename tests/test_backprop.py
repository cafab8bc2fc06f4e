"""Backprop is exact: finite differences, per-example == matrix-based, a hand-worked step."""

import numpy as np
import pytest

from bprop import Network, gradcheck
from bprop.gradcheck import relative_error

HIDDEN = ["sigmoid", "tanh", "relu", "identity"]
# every output activation with every cost that accepts it (the log costs need outputs in
# (0, 1); Network refuses them with identity, tanh or relu: see test_network.py)
PAIRS = [("quadratic", out) for out in ("sigmoid", "identity", "softmax", "tanh", "relu")] + \
        [(cost, out) for cost in ("cross-entropy", "log-likelihood") for out in ("sigmoid", "softmax")]


def _batch(sizes, m, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.05, 1.0, size=(sizes[0], m))
    y = np.eye(sizes[-1])[:, rng.integers(0, sizes[-1], m)]
    return x, y


def _net(sizes, hidden, cost, output, seed=1):
    net = Network(sizes, hidden, cost, output=output, rng=seed, init="xavier")
    # keep ReLU pre-activations away from the kink: finite differences step over it otherwise
    for b in net.biases:
        b += 0.1
    return net


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("cost,output", PAIRS)
def test_finite_differences_every_activation_and_cost(hidden, cost, output):
    net = _net([4, 5, 3], hidden, cost, output)
    x, y = _batch([4, 5, 3], 7)
    if hidden == "relu" or output == "relu":
        for w, b in zip(net.weights, net.biases):
            b[...] = 0.5
            np.abs(w, out=w)
    result = gradcheck(net, x, y, eps=1e-6)
    assert result.max_error < 1e-7, result.layers
    assert result.numeric_passes == 2 * net.n_params


def test_random_direction_on_a_bigger_network():
    """Directional derivative along a random direction in parameter space, [30, 40, 20, 10]."""
    sizes = [30, 40, 20, 10]
    net = Network(sizes, "tanh", "log-likelihood", output="softmax", rng=4, init="xavier")
    x, y = _batch(sizes, 16, seed=5)
    nabla_b, nabla_w = net.backprop_batch(x, y)
    rng = np.random.default_rng(6)
    dirs_w = [rng.normal(size=w.shape) for w in net.weights]
    dirs_b = [rng.normal(size=b.shape) for b in net.biases]
    analytic = sum(np.vdot(g, d) for g, d in zip(nabla_w + nabla_b, dirs_w + dirs_b))

    def cost_at(t):
        moved = Network(sizes, "tanh", "log-likelihood", output="softmax")
        moved.weights = [w + t * d for w, d in zip(net.weights, dirs_w)]
        moved.biases = [b + t * d for b, d in zip(net.biases, dirs_b)]
        return moved.cost.fn(moved.feedforward(x), y)

    h = 1e-5
    numeric = (cost_at(h) - cost_at(-h)) / (2 * h)
    assert abs(analytic - numeric) / abs(analytic) < 1e-7


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("cost,output", PAIRS)
def test_summed_per_example_equals_matrix_based(hidden, cost, output):
    sizes = [6, 5, 4, 3]
    net = Network(sizes, hidden, cost, output=output, rng=7)
    x, y = _batch(sizes, 9, seed=8)
    nabla_b, nabla_w = net.backprop_batch(x, y)
    sum_b = [np.zeros_like(b) for b in net.biases]
    sum_w = [np.zeros_like(w) for w in net.weights]
    for k in range(x.shape[1]):
        db, dw = net.backprop(x[:, [k]], y[:, [k]])
        for s, d in zip(sum_b + sum_w, db + dw):
            s += d
    for got, want in zip(nabla_b + nabla_w, sum_b + sum_w):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)


def test_float32_batch_gradients_track_float64():
    sizes = [8, 6, 4]
    net64 = Network(sizes, rng=9)
    net32 = Network(sizes, dtype=np.float32)
    net32.weights = [w.astype(np.float32) for w in net64.weights]
    net32.biases = [b.astype(np.float32) for b in net64.biases]
    x, y = _batch(sizes, 5)
    g64 = net64.backprop_batch(x, y)
    g32 = net32.backprop_batch(x.astype(np.float32), y.astype(np.float32))
    for a, b in zip(g64[0] + g64[1], g32[0] + g32[1]):
        assert b.dtype == np.float32
        assert relative_error(a, b) < 1e-5


def test_hand_worked_2_2_1_sgd_step():
    """One update_mini_batch on a 2-2-1 sigmoid/quadratic net, every number worked by hand."""
    net = Network([2, 2, 1])
    w2 = np.array([[0.1, -0.2], [0.4, 0.3]])
    b2 = np.array([[0.05], [-0.1]])
    w3 = np.array([[0.7, -0.5]])
    b3 = np.array([[0.2]])
    net.weights, net.biases = [w2.copy(), w3.copy()], [b2.copy(), b3.copy()]
    x1, y1 = np.array([[1.0], [0.5]]), np.array([[1.0]])
    x2, y2 = np.array([[0.0], [1.0]]), np.array([[0.0]])
    eta = 2.0

    def s(v):
        return 1.0 / (1.0 + np.exp(-v))

    grads = []
    for x, y in ((x1, y1), (x2, y2)):
        # layer 2, neuron by neuron
        z2 = [w2[j, 0] * x[0, 0] + w2[j, 1] * x[1, 0] + b2[j, 0] for j in range(2)]
        a2 = [s(v) for v in z2]
        z3 = w3[0, 0] * a2[0] + w3[0, 1] * a2[1] + b3[0, 0]
        a3 = s(z3)
        d3 = (a3 - y[0, 0]) * a3 * (1 - a3)                                  # BP1
        d2 = [w3[0, j] * d3 * a2[j] * (1 - a2[j]) for j in range(2)]         # BP2
        grads.append((d2, d3, a2, x))
    new_w3 = w3 - eta / 2 * np.array([[sum(d3 * a2[k] for d2, d3, a2, x in grads)
                                       for k in range(2)]])                  # BP4
    new_b3 = b3 - eta / 2 * sum(d3 for d2, d3, a2, x in grads)              # BP3
    new_w2 = w2 - eta / 2 * np.array([[sum(d2[j] * x[k, 0] for d2, d3, a2, x in grads)
                                       for k in range(2)] for j in range(2)])
    new_b2 = b2 - eta / 2 * np.array([[sum(d2[j] for d2, d3, a2, x in grads)] for j in range(2)])

    net.update_mini_batch([(x1, y1), (x2, y2)], eta)
    for got, want in zip(net.weights + net.biases, [new_w2, new_w3, new_b2, new_b3]):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_gradcheck_reports_speed_and_passes():
    net = Network([10, 8, 4], rng=0)
    x, y = _batch([10, 8, 4], 3)
    r = gradcheck(net, x, y)
    assert r.backprop_passes == 2 and r.numeric_passes == 2 * (10 * 8 + 8 + 8 * 4 + 4)
    assert r.numeric_seconds > r.backprop_seconds > 0
    assert [layer.layer for layer in r.layers] == [2, 3]
    assert r.ok()


def test_gradcheck_catches_a_wrong_gradient(monkeypatch):
    """The checker can fail: break BP2 (drop σ′) and it must notice."""
    net = Network([4, 5, 3], rng=0)
    x, y = _batch([4, 5, 3], 4)
    monkeypatch.setattr(type(net.activations[0]), "prime_into", property(
        lambda self: (lambda a, out: (out.fill(1.0), out)[1])), raising=False)
    r = gradcheck(net, x, y)
    assert r.layers[0].worst > 1e-3


def test_gradcheck_restores_parameters_and_checks_float32_in_float64():
    net = Network([3, 4, 2], rng=1, dtype=np.float32)
    before = [w.copy() for w in net.weights]
    x, y = _batch([3, 4, 2], 2)
    r = gradcheck(net, x.astype(np.float32), np.array([0, 1]))
    assert r.max_error < 1e-6
    for a, b in zip(before, net.weights):
        np.testing.assert_array_equal(a, b)


def test_gradcheck_catches_one_wrong_entry_of_a_large_matrix():
    """0.1% off in one median-sized weight of 3,000: the 2-norm error alone was 1.0e-6, on
    the tolerance; the max-norm form makes it 1.2e-5."""
    net = Network([100, 30, 10], rng=0)
    rng = np.random.default_rng(0)
    x, y = rng.random((100, 5)), rng.integers(0, 10, 5)
    assert gradcheck(net, x, y).max_error < 1e-8
    correct = net.backprop_batch

    def one_entry_off(*args, **kwargs):
        nabla_b, nabla_w = correct(*args, **kwargs)
        order = np.argsort(np.abs(nabla_w[0]).ravel())
        nabla_w[0].ravel()[order[len(order) // 2]] *= 1.001
        return nabla_b, nabla_w
    net.backprop_batch = one_entry_off
    r = gradcheck(net, x, y)
    assert r.max_error > 1e-5 and not r.ok()
    assert r.layers[1].worst < 1e-8            # the other layer is still right


def test_gradcheck_of_float32_checks_the_network_given_not_one_rebuilt_from_names():
    """A custom Activation with a 2% wrong σ′ fails in float32 as it does in float64."""
    from bprop.activations import SIGMOID, Activation
    wrong = Activation("sigmoid", SIGMOID.forward,
                       lambda a, out: np.multiply(1.02 * a, 1 - a, out=out))
    x, y = _batch([6, 5, 3], 4)
    for dtype in (np.float64, np.float32):
        net = Network([6, 5, 3], [wrong, "softmax"], cost="log-likelihood", rng=0, dtype=dtype)
        r = gradcheck(net, x.astype(dtype), np.array([0, 2, 1, 2]))
        assert r.max_error > 1e-3, dtype
        assert net.dtype == dtype and net.weights[0].dtype == dtype


@pytest.mark.parametrize("output,cost", [("sigmoid", "cross-entropy"), ("softmax", "log-likelihood"),
                                         ("softmax", "cross-entropy"), ("sigmoid", "log-likelihood")])
def test_gradcheck_of_a_saturated_network_passes(output, cost):
    """Weights ×40 saturate the outputs: the finite differences must use the exact cost from
    zᴸ, not −ln(1 − a) of an a that rounded to 1 (which made cross-entropy fail at 0.98)."""
    net = Network([4, 6, 3], output=output, cost=cost, rng=0)
    net.weights = [40 * w for w in net.weights]
    rng = np.random.default_rng(0)
    X, y = rng.random((4, 5)), rng.integers(0, 3, 5)
    assert net.feedforward(X).max() == 1.0 or net.feedforward(X).min() < 1e-16   # saturated
    assert gradcheck(net, X, y).max_error < 1e-6
