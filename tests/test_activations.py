"""Activations: known values, σ′ against finite differences, saturation without warnings."""

import warnings

import numpy as np
import pytest

from bprop.activations import ACTIVATIONS, get_activation, sigmoid, sigmoid_prime
from bprop.errors import ConfigError


def test_sigmoid_known_values():
    assert sigmoid(0.0) == 0.5
    np.testing.assert_allclose(sigmoid(np.array([1.0, -2.0])),
                               [1 / (1 + np.exp(-1.0)), 1 / (1 + np.exp(2.0))], rtol=1e-15)
    # the tail the tanh form would round to 0
    assert sigmoid(np.array([-40.0]))[0] == pytest.approx(4.248354255291589e-18, rel=1e-12)
    assert sigmoid_prime(0.0) == 0.25
    # a number in, a NumPy scalar out (as np.exp gives, and so the book's sigmoid)
    assert type(sigmoid(0.0)) is np.float64 and type(sigmoid_prime(0.0)) is np.float64


def test_relu_tanh_identity_softmax_values():
    z = np.array([[-1.0, 0.0, 2.0]]).T
    np.testing.assert_array_equal(ACTIVATIONS["relu"].fn(z).ravel(), [0.0, 0.0, 2.0])
    np.testing.assert_allclose(ACTIVATIONS["tanh"].fn(z).ravel(), np.tanh([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(ACTIVATIONS["identity"].fn(z), z)
    a = ACTIVATIONS["softmax"].fn(z)
    np.testing.assert_allclose(a.ravel(), np.exp([-1.0, 0.0, 2.0]) / np.exp([-1.0, 0.0, 2.0]).sum())
    # columns are independent examples
    two = ACTIVATIONS["softmax"].fn(np.hstack([z, 2 * z]))
    np.testing.assert_allclose(two.sum(axis=0), [1.0, 1.0])


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "identity"])
def test_prime_matches_finite_differences(name):
    act = ACTIVATIONS[name]
    z = np.random.default_rng(0).uniform(-3, 3, size=(5, 4))
    z[np.abs(z) < 1e-3] = 0.5            # keep ReLU away from its kink
    h = 1e-6
    numeric = (act.fn(z + h) - act.fn(z - h)) / (2 * h)
    np.testing.assert_allclose(act.prime(z), numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_extreme_inputs_are_finite_and_silent(name):
    act = ACTIVATIONS[name]
    z = np.array([[-1e4, -1000.0, 0.0, 1000.0, 1e4]]).T
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = act.fn(z)
        if act.elementwise:
            sp = act.prime(z, a)
            assert np.isfinite(sp).all()
    assert np.isfinite(a).all()
    if name == "sigmoid":
        np.testing.assert_array_equal(a.ravel()[[0, 1, 3, 4]], [0.0, 0.0, 1.0, 1.0])
    if name == "softmax":
        np.testing.assert_array_equal(a.ravel(), [0, 0, 0, 0, 1.0])


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_registry_round_trips(name):
    assert get_activation(name).name == name
    assert get_activation(get_activation(name)) is ACTIVATIONS[name]


def test_unknown_activation_lists_choices():
    with pytest.raises(ConfigError, match="unknown activation 'sigmod'; choose from identity, "
                                          "relu, sigmoid, softmax, tanh"):
        get_activation("sigmod")


def test_softmax_has_no_elementwise_prime():
    with pytest.raises(ConfigError, match="no elementwise derivative"):
        ACTIVATIONS["softmax"].prime(np.zeros((2, 1)))


def test_float32_stays_float32():
    z = np.linspace(-100, 100, 7, dtype=np.float32).reshape(7, 1)
    for act in ACTIVATIONS.values():
        assert act.fn(z).dtype == np.float32
