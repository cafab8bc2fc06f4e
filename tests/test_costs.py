"""Costs: hand-computed values, finite at saturated outputs, matched δ equals general BP1."""

import numpy as np
import pytest

from bprop import Network
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
    np.testing.assert_allclose(net._output_error(z, a, y), general, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(a - y, general, rtol=1e-10, atol=1e-12)


def test_lookup_by_name_class_and_class_name():
    for name, cost in COSTS.items():
        assert get_cost(name) is cost
        assert get_cost(cost) is cost
        assert get_cost(cost.__name__) is cost
    with pytest.raises(ConfigError, match="unknown cost 'hinge'; choose from quadratic, "
                                          "cross-entropy, log-likelihood"):
        get_cost("hinge")
