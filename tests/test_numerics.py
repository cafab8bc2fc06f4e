"""Overflow-safe norms, and the places that use them: results stay right where the true
value fits in the dtype, and nothing leaks a RuntimeWarning."""

import math
import warnings

import numpy as np
import pytest

from bprop import DataError, Network, TrainConfig, train
from bprop.numerics import norm, squared_norm_times


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_norm_neither_overflows_nor_underflows(dtype):
    big = np.finfo(dtype).max / 4
    tiny = np.finfo(dtype).tiny * 4
    for scale in (big, tiny, 1.0):
        a = np.array([[3.0, 4.0]], dtype) * dtype(scale / 4)
        expected = 5.0 * float(dtype(scale / 4))
        assert norm(a) == pytest.approx(expected, rel=1e-6)
    assert norm(np.zeros((2, 2), dtype)) == 0.0
    assert norm(np.array([np.inf, 1.0], dtype)) == math.inf
    assert math.isnan(norm(np.array([np.nan, 1.0], dtype)))
    assert squared_norm_times(1e-40, np.full(4, 1e20, np.float32)) == pytest.approx(4.0, rel=1e-6)


def _data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 4)), rng.integers(0, 3, n)


def test_clipping_scales_a_step_whose_square_overflows_float32():
    """η = 1e30: each η·g fits in float32 but its square does not. The clip must scale the
    mean gradient's norm (√10 here) to clip_norm, not the step to 0 (which stopped all
    learning)."""
    from bprop.optimizers import SGD
    opt = SGD(1e30, clip_norm=1.0)
    nabla_w = [np.full((2, 5), 1e30, np.float32)]          # η · g with g = 1 everywhere
    nabla_b = [np.zeros((2, 1), np.float32)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt._clip(nabla_w, nabla_b, factor=1e30)
    assert norm(nabla_w[0]) / 1e30 == pytest.approx(1.0, rel=1e-6)


def test_costs_and_diagnostics_of_huge_float32_weights_are_finite_where_the_values_are():
    from bprop.diagnostics import layer_stats
    X, y = _data()
    net = Network([4, 5, 3], "relu", output="softmax", cost="log-likelihood", rng=0,
                  dtype="float32")
    net.weights[0] = net.weights[0] * np.float32(1e20)     # its square overflows float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stats = layer_stats(net, X, y)
        cost = net.mean_cost(X, y, lmbda=1.0)
    assert math.isfinite(stats["weight_norm"][0]) and stats["weight_norm"][0] > 1e19
    l2 = 0.5 * (1.0 / len(X)) * sum(float(np.sum(w.astype(np.float64) ** 2)) for w in net.weights)
    assert math.isfinite(cost) and cost >= l2 * (1 - 1e-6)


def test_outputs_that_overflow_are_an_error_not_class_0():
    net = Network([3, 3, 3], "identity", output="identity", rng=0)
    net.weights = [1e200 * np.eye(3), 1e200 * np.array([[1., 1, 1], [1, 2, 1], [1, 1, 3]])]
    net.biases = [np.zeros((3, 1))] * 2
    X, y = np.eye(3), [0, 1, 2]
    for call in (lambda: net.predict(X), lambda: net.score(X, y), lambda: net.predict_proba(X)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(DataError, match=r"outputs overflow \(float64\) for 3 of 3 "
                                                r"examples .*weights are too large"):
                call()


def test_float32_inputs_beyond_range_are_named():
    net = Network([2, 2], rng=0, dtype="float32")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DataError, match=r"X holds values beyond float32's range"):
            net.predict(np.array([[1e300, 0.5]]))


def test_divergence_names_lmbda_when_it_is_set():
    X, y = _data()
    net = Network([4, 5, 3], rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(FloatingPointError, match=r"training diverged in epoch 1 of 2: .*"
                                                     r"try a smaller eta \(now 1e\+300\) or "
                                                     r"lmbda \(now 1e\+300\)"):
            train(net, X, y, TrainConfig(epochs=2, mini_batch_size=10, eta=1e300, lmbda=1e300))


def test_an_l2_term_beyond_float64_is_inf_and_training_says_diverged():
    X, y = _data()
    net = Network([4, 5, 3], rng=0)
    net.weights[0] = net.weights[0] * 1e160
    assert net.mean_cost(X, y, lmbda=1.0) == math.inf          # not an OverflowError
    assert squared_norm_times(1.0, np.full(4, 1e200)) == math.inf
    with pytest.raises(FloatingPointError, match="training diverged in epoch"):
        train(Network([4, 5, 3], rng=0), X, y,
              TrainConfig(epochs=10, mini_batch_size=10, eta=100.0, lmbda=1e4))


def test_huge_finite_input_is_checked_without_an_overflow_warning():
    """The finiteness check squares the values; squares past the float range are answered
    exactly, without a warning, and without an error where the caller makes overflow one."""
    net = Network([4, 2], rng=0)
    with warnings.catch_warnings(), np.errstate(over="raise"):
        warnings.simplefilter("error")
        np.testing.assert_array_equal(net.feedforward(np.full((4, 1), 1e200)),
                                      net.feedforward(np.full((4, 1), 1e10)))
        net.predict_proba(np.full((3, 4), 1e200))
