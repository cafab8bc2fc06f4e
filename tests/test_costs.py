"""Costs: hand-computed values, finite at saturated outputs, matched δ equals general BP1."""

import math

import numpy as np
import pytest

from bprop import Network
from bprop.backprop import output_error
from bprop.costs import COSTS, CrossEntropyCost, LogLikelihoodCost, QuadraticCost, get_cost
from bprop.errors import ConfigError


def test_hand_computed_values():
    a = np.array([[0.2], [0.7]])
    y = np.array([[0.0], [1.0]])
    assert QuadraticCost.fn(a, y) == pytest.approx(0.5 * (0.04 + 0.09))
    assert CrossEntropyCost.fn(a, y) == pytest.approx(-np.log(0.8) - np.log(0.7))
    assert LogLikelihoodCost.fn(a, y) == pytest.approx(-np.log(0.7))
    # a batch is the sum over its columns
    A, Y = np.hstack([a, a]), np.hstack([y, y])
    assert QuadraticCost.fn(A, Y) == pytest.approx(2 * QuadraticCost.fn(a, y))


def test_book_delta_methods():
    z = np.array([[0.3], [-1.2]])
    a = 1 / (1 + np.exp(-z))
    y = np.array([[1.0], [0.0]])
    np.testing.assert_allclose(QuadraticCost.delta(z, a, y), (a - y) * a * (1 - a))
    np.testing.assert_allclose(CrossEntropyCost.delta(z, a, y), a - y)


@pytest.mark.parametrize("cost", [CrossEntropyCost, LogLikelihoodCost, QuadraticCost])
def test_finite_at_saturated_outputs(cost):
    a = np.array([[0.0], [1.0]])
    for y in (np.array([[1.0], [0.0]]), np.array([[0.0], [1.0]])):
        value = cost.fn(a, y)
        assert np.isfinite(value)
        grad = cost.derivative_into(a, y, np.empty_like(a))
        assert np.isfinite(grad).all()
    # completely wrong and certain: large, not infinite
    if cost is not QuadraticCost:
        assert cost.fn(a, np.array([[1.0], [0.0]])) > 30


@pytest.mark.parametrize("cost_name,act", [("quadratic", "identity"),
                                           ("cross-entropy", "sigmoid"),
                                           ("log-likelihood", "softmax")])
def test_matched_delta_equals_general_bp1(cost_name, act):
    """a − y equals ∇ₐC ⊙ σ′(z) (or the softmax Jacobian product) computed the long way."""
    rng = np.random.default_rng(3)
    z = rng.normal(size=(4, 6))
    y = np.eye(4)[:, rng.integers(0, 4, 6)]
    cost = get_cost(cost_name)
    assert cost.matched == act
    net = Network([3, 4], act, cost)
    a = net.activations[-1].fn(z)
    grad = cost.derivative_into(a, y, np.empty_like(a))
    if act == "softmax":
        general = np.stack([(np.diag(a[:, k]) - np.outer(a[:, k], a[:, k])) @ grad[:, k]
                            for k in range(6)], axis=1)
    else:
        general = grad * net.activations[-1].prime(z, a)
    np.testing.assert_allclose(output_error(net, z, a, y), general, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(a - y, general, rtol=1e-10, atol=1e-12)


def test_lookup_by_name_class_and_class_name():
    for name, cost in COSTS.items():
        assert get_cost(name) is cost
        assert get_cost(cost) is cost
        assert get_cost(cost.__name__) is cost
    with pytest.raises(ConfigError, match="unknown cost 'hinge'; choose from quadratic, "
                                          "cross-entropy, log-likelihood"):
        get_cost("hinge")


def _logsumexp(v):
    top = np.max(v)
    return top + np.log(np.sum(np.exp(v - top)))


def _stable_cost(cost_name, output, z, y):
    """C(z) for one column, from the logits, in a form that never rounds a saturated output
    to 0 or 1: ln σ(z) = −softplus(−z), ln softmax(z)ₖ = zₖ − lse(z), and
    ln(1 − softmax(z)ₖ) = lse(z without zₖ) − lse(z)."""
    if output == "sigmoid":
        log_a, log_1ma = -np.logaddexp(0.0, -z), -np.logaddexp(0.0, z)
    else:
        lse = _logsumexp(z)
        log_a = z - lse
        log_1ma = np.array([_logsumexp(np.delete(z, k)) - lse for k in range(len(z))])
    if cost_name == "log-likelihood":
        return -np.sum(y * log_a)
    return -np.sum(y * log_a + (1 - y) * log_1ma)


@pytest.mark.parametrize("cost_name,output", [("log-likelihood", "sigmoid"),
                                              ("cross-entropy", "softmax"),
                                              ("log-likelihood", "softmax"),
                                              ("cross-entropy", "sigmoid")])
@pytest.mark.parametrize("z", [[-40.0, 0.0], [-60.0, 0.0, 3.0], [0.3, -1.2, 2.0],
                               [30.0, -5.0, -700.0], [800.0, 0.0], [800.0, 0.0, 0.0],
                               [95.0, 0.0], [110.0, 0.0, -3.0]])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("soft", [False, True])
def test_bp1_keeps_its_precision_at_saturated_outputs(cost_name, output, z, dtype, soft):
    """δᴸ = ∂C/∂zᴸ, checked by central differences (in float64) of a cost written from the
    logits, also where an output is within 1e-17 of 0 or 1 or underflows (the confidently
    wrong case), in float32 too, for one-hot and for soft targets."""
    z = np.array(z)
    n = len(z)
    net = Network([1, n], output, cost_name, dtype=dtype)
    targets = [np.full(n, 0.5 / n) + 0.5 * np.eye(n)[t] for t in range(n)] if soft \
        else list(np.eye(n))
    for y in targets:
        zc = z[:, None].astype(dtype)
        a = net.activations[-1].fn(zc)
        delta = output_error(net, zc, a, y[:, None].astype(dtype))[:, 0]
        assert delta.dtype == dtype
        h = 1e-5
        numeric = np.array([(_stable_cost(cost_name, output, z + h * e, y)
                             - _stable_cost(cost_name, output, z - h * e, y)) / (2 * h)
                            for e in np.eye(n)])
        tol = dict(rtol=1e-6, atol=1e-9) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(delta, numeric, **tol)


def test_softmax_needs_two_outputs():
    with pytest.raises(ConfigError, match="softmax output layer needs at least 2 outputs"):
        Network([3, 1], output="softmax", cost="cross-entropy")



def test_log_likelihood_softmax_with_targets_that_do_not_sum_to_one():
    """δ = a Σy − y (a − y only when Σy = 1), checked by finite differences."""
    from bprop import gradcheck

    rng = np.random.default_rng(1)
    net = Network([4, 5, 3], output="softmax", cost="log-likelihood", rng=1)
    result = gradcheck(net, rng.random((4, 6)), rng.random((3, 6)))
    assert result.ok(1e-6), result.max_error


# -- costs from the logits (Network.mean_cost) ----------------------------------------------------
@pytest.mark.parametrize("cost,output", [("cross-entropy", "sigmoid"), ("cross-entropy", "softmax"),
                                         ("log-likelihood", "sigmoid"),
                                         ("log-likelihood", "softmax")])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mean_cost_from_logits_agrees_with_fn_where_a_is_exact(cost, output, dtype):
    net = Network([4, 5, 3], output=output, cost=cost, rng=1, dtype=dtype)
    rng = np.random.default_rng(0)
    X, y = rng.random((20, 4)), rng.integers(0, 3, 20)
    a = net.feedforward(X.T.astype(dtype))
    expected = net.cost.fn(a, np.eye(3, dtype=dtype)[y].T) / 20
    assert net.mean_cost(X, y) == pytest.approx(expected, rel=1e-12 if dtype == np.float64 else 1e-5)


def _one_layer(output, cost, z, dtype=np.float64):
    net = Network([1, len(z)], output=output, cost=cost, rng=0, dtype=dtype)
    net.weights = [np.zeros((len(z), 1), dtype)]
    net.biases = [np.array(z, dtype).reshape(-1, 1)]
    return net


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_saturated_wrong_outputs_cost_what_they_cost(dtype):
    """σ(40) rounds to 1, so −ln(1 − a) from a is capped at 36.7 (16.6 in float32); from z
    it is softplus(40) = 40 + ln(1 + e⁻⁴⁰)."""
    x = np.zeros((1, 1))
    z = [40.0, -3.0, 0.5]
    softplus = lambda t: max(t, 0.0) + math.log1p(math.exp(-abs(t)))
    net = _one_layer("sigmoid", "cross-entropy", z, dtype)          # true class 1
    exact = softplus(40.0) + softplus(3.0) + softplus(0.5)
    assert net.mean_cost(x, [1]) == pytest.approx(exact, rel=1e-6)
    a = net.feedforward(x.astype(dtype))
    assert net.cost.fn(a, np.array([[0.], [1.], [0.]])) < exact - 3    # the capped form
    # softmax outputs 800 apart: a₂ underflows to 0, −ln a₂ = 800 exactly from z
    for cost in ("log-likelihood", "cross-entropy"):
        net = _one_layer("softmax", cost, [800.0, 0.0], dtype) if dtype == np.float64 else \
            _one_layer("softmax", cost, [80.0, 0.0], dtype)
        gap = 800.0 if dtype == np.float64 else 80.0
        expected = gap if cost == "log-likelihood" else 2 * gap    # + −ln(1 − a₁) = gap
        assert net.mean_cost(x, [1]) == pytest.approx(expected, rel=1e-6)
