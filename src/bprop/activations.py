"""Activation functions σ and their derivatives σ′, with a name registry.

Each activation maps a pre-activation ``z`` (shape ``(n_l, m)``: one column per example) to
``a = σ(z)``. The derivative is computed from the cached output where that is cheaper and
exact (sigmoid: a(1 − a); tanh: 1 − a²; ReLU: a > 0), which is what backprop needs in BP1
and BP2: δ = (…) ⊙ σ′(z).

Two forms of each function:

* ``fn(z)`` and ``prime(z, a)`` are safe for any input: they allocate their result and
  never emit a floating-point warning (sigmoid of ±1e4 is exactly 0 or 1, no overflow
  warning).
* ``forward(z, out)`` and ``prime_into(a, out)`` write into preallocated buffers for the
  training hot path. They assume the caller has silenced overflow (``np.errstate``) once
  around the whole loop, not once per call.

Softmax is special: it is not elementwise, so it has no σ′; it may only be the output layer,
paired with the log-likelihood cost (δ = a − y) or handled by the cost's Jacobian product.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .errors import ConfigError


# --- sigmoid ---------------------------------------------------------------------------------
def _sigmoid_into(z, out):
    # σ(z) = 1 / (1 + e^{-z}). For z < -709, e^{-z} overflows to inf and 1/(1+inf) = 0,
    # which is the correctly rounded answer; the overflow flag is silenced by the caller.
    # (0.5 * (1 + tanh(z/2)) would round σ(-40) ≈ 4e-18 to 0.)
    np.negative(z, out)
    np.exp(out, out)
    out += 1.0
    np.reciprocal(out, out)
    return out


def sigmoid(z):
    """The logistic function σ(z) = 1 / (1 + e^{-z}), elementwise, overflow-safe."""
    return SIGMOID.fn(z)


def sigmoid_prime(z):
    """σ′(z) = σ(z)(1 − σ(z)), elementwise (the book's module-level function)."""
    s = sigmoid(z)
    return s * (1.0 - s)


def _sigmoid_prime_into(a, out):
    np.subtract(1.0, a, out=out)
    out *= a
    return out


# --- tanh -------------------------------------------------------------------------------------
def _tanh_into(z, out):
    return np.tanh(z, out=out)


def _tanh_prime_into(a, out):
    np.multiply(a, a, out=out)
    np.subtract(1.0, out, out=out)
    return out


# --- ReLU -------------------------------------------------------------------------------------
def _relu_into(z, out):
    return np.maximum(z, 0.0, out=out)


def _relu_prime_into(a, out):
    # σ′(z) = 1 where z > 0; a > 0 exactly when z > 0. σ′(0) is taken as 0.
    return np.greater(a, 0.0, out=out, casting="unsafe")


# --- identity ---------------------------------------------------------------------------------
def _identity_into(z, out):
    np.copyto(out, z)
    return out


def _identity_prime_into(a, out):
    out.fill(1.0)
    return out


# --- softmax ----------------------------------------------------------------------------------
def _softmax_into(z, out):
    # a_j = e^{z_j} / Σ_k e^{z_k}, per column. Subtracting the column max changes nothing
    # mathematically and keeps every exponent ≤ 0, so nothing overflows.
    np.subtract(z, z.max(axis=0, keepdims=True), out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=0, keepdims=True)
    return out


@dataclass(frozen=True)
class Activation:
    """An activation function σ and its derivative.

    forward(z, out) -> out: writes σ(z) into ``out`` (same shape as z).
    prime_into(a, out) -> out: writes σ′(z) into ``out``, computed from a = σ(z);
        None for softmax, whose derivative is a Jacobian, not elementwise.
    """

    name: str
    forward: Callable
    prime_into: Callable | None

    @property
    def elementwise(self) -> bool:
        return self.prime_into is not None

    def fn(self, z):
        """σ(z), allocating the result; never warns. A number gives a NumPy scalar, as
        NumPy's own functions do."""
        z = _as_float_array(z)
        with np.errstate(over="ignore"):
            return self.forward(z, np.empty_like(z))[()]

    def prime(self, z, a=None):
        """σ′(z), elementwise; ``a`` = σ(z) may be passed to save recomputing it."""
        if self.prime_into is None:
            raise ConfigError(f"activation '{self.name}' has no elementwise derivative")
        if a is None:
            a = self.fn(z)
        return self.prime_into(a, np.empty_like(a))


def _as_float_array(z):
    z = np.asarray(z)
    if z.dtype.kind != "f":
        z = z.astype(np.float64)
    return z


IDENTITY = Activation("identity", _identity_into, _identity_prime_into)
RELU = Activation("relu", _relu_into, _relu_prime_into)
SIGMOID = Activation("sigmoid", _sigmoid_into, _sigmoid_prime_into)
SOFTMAX = Activation("softmax", _softmax_into, None)
TANH = Activation("tanh", _tanh_into, _tanh_prime_into)

ACTIVATIONS = {act.name: act for act in (IDENTITY, RELU, SIGMOID, SOFTMAX, TANH)}


def get_activation(name) -> Activation:
    """Look up an activation by name (or pass an Activation through)."""
    if isinstance(name, Activation):
        return name
    if isinstance(name, str) and name.lower() in ACTIVATIONS:
        return ACTIVATIONS[name.lower()]
    raise ConfigError(
        f"unknown activation {name!r}; choose from {', '.join(sorted(ACTIVATIONS))}"
    )
