"""Cost functions C and the output error δᴸ they give (BP1).

Each cost keeps the book's interface (``network2.py``): static methods

* ``fn(a, y)``: the cost summed over the columns (examples) of ``a`` and ``y``, both
  ``(n_L, m)``; for one example, C_x itself.
* ``delta(z, a, y)``: the book's output error for a sigmoid output layer.

and adds what a network with any output activation needs:

* ``derivative_into(a, y, out)``: ∇ₐC, written into ``out``; BP1 is then
  δᴸ = ∇ₐC ⊙ σ′(zᴸ).
* ``matched``: the output activation for which σ′ cancels and BP1 reduces to δᴸ = a − y.

Matched pairs (δᴸ = a − y exactly):

========================  ====================  ====================================
cost                      output activation     why
========================  ====================  ====================================
quadratic                 identity              ∇ₐC = a − y and σ′ = 1
cross-entropy             sigmoid               ∇ₐC = (a − y) / (a(1 − a)), σ′ = a(1 − a)
log-likelihood            softmax               the softmax Jacobian times −y/a is a − y
========================  ====================  ====================================

The two log costs need outputs that are probabilities, from a sigmoid or softmax output
layer (``needs_probabilities``); ``Network`` refuses them with identity, ReLU or tanh.
Logarithms never see 0: ``a`` is clipped to [eps, 1 − eps] with eps the dtype's machine
epsilon, so a saturated output gives a large finite cost, never nan or inf.
"""

from __future__ import annotations

import numpy as np

from .activations import sigmoid_prime
from .errors import ConfigError


def _clip(a):
    if a.dtype.kind != "f":
        a = a.astype(np.float64)
    eps = np.finfo(a.dtype).eps
    return np.clip(a, eps, 1.0 - eps)


class QuadraticCost:
    """C = ½‖a − y‖² per example (the cost of chapters 1 and 2)."""

    name = "quadratic"
    matched = "identity"
    needs_probabilities = False   # outputs must lie in (0, 1)

    @staticmethod
    def fn(a, y):
        return 0.5 * float(np.sum((a - y) ** 2))

    @staticmethod
    def delta(z, a, y):
        """BP1 for a sigmoid output layer: δ = (a − y) ⊙ σ′(z)."""
        return (a - y) * sigmoid_prime(z)

    @staticmethod
    def derivative_into(a, y, out):
        """∇ₐC = a − y."""
        return np.subtract(a, y, out=out)


class CrossEntropyCost:
    """C = Σⱼ −yⱼ ln aⱼ − (1 − yⱼ) ln(1 − aⱼ) per example (chapter 3)."""

    name = "cross-entropy"
    matched = "sigmoid"
    needs_probabilities = True   # outputs must lie in (0, 1)

    @staticmethod
    def fn(a, y):
        a = _clip(np.asarray(a))
        return float(np.sum(-y * np.log(a) - (1.0 - y) * np.log1p(-a)))

    @staticmethod
    def delta(z, a, y):
        """BP1 for a sigmoid output layer: σ′ cancels, δ = a − y."""
        return a - y

    @staticmethod
    def derivative_into(a, y, out):
        """∇ₐC = (a − y) / (a(1 − a)), with a clipped away from 0 and 1."""
        ac = _clip(a)
        np.subtract(a, y, out=out)
        out /= ac * (1.0 - ac)
        return out


class LogLikelihoodCost:
    """C = −ln a_y per example, y the true class (chapter 3's softmax cost).

    With one-hot ``y`` this is −Σⱼ yⱼ ln aⱼ.
    """

    name = "log-likelihood"
    matched = "softmax"
    needs_probabilities = True   # outputs must lie in (0, 1)

    @staticmethod
    def fn(a, y):
        a = np.asarray(a)
        return float(-np.sum(y * np.log(_clip(a))))

    @staticmethod
    def delta(z, a, y):
        """BP1 for a softmax output layer: δ = a − y."""
        return a - y

    @staticmethod
    def derivative_into(a, y, out):
        """∇ₐC = −y / a, with a clipped away from 0."""
        np.divide(y, _clip(a), out=out)
        np.negative(out, out=out)
        return out


COSTS = {cost.name: cost for cost in (QuadraticCost, CrossEntropyCost, LogLikelihoodCost)}
# The book's class names, used by its JSON files ("cost": "CrossEntropyCost").
COSTS_BY_CLASS_NAME = {cost.__name__: cost for cost in COSTS.values()}
_ALIASES = {"mse": "quadratic", "cross_entropy": "cross-entropy", "crossentropy": "cross-entropy",
            "log_likelihood": "log-likelihood", "nll": "log-likelihood"}


def get_cost(cost):
    """Look up a cost by name or class name, or pass a cost class through.

    A class written for the book (static ``fn(a, y)`` and ``delta(z, a, y)`` only) is
    accepted for a sigmoid output layer, whose σ′ its ``delta`` builds in: it comes back as a
    subclass with ``name`` set and ``derivative_into = None``, which tells the network to
    take BP1 from ``delta``.
    """
    if isinstance(cost, type) and hasattr(cost, "fn") and hasattr(cost, "delta"):
        if hasattr(cost, "derivative_into") and hasattr(cost, "matched"):
            return cost
        return type(cost.__name__, (cost,), {"name": getattr(cost, "name", cost.__name__),
                                             "matched": None, "derivative_into": None,
                                             "needs_probabilities": False,
                                             "__doc__": cost.__doc__})
    if isinstance(cost, str):
        key = _ALIASES.get(cost.lower(), cost.lower())
        if key in COSTS:
            return COSTS[key]
        if cost in COSTS_BY_CLASS_NAME:
            return COSTS_BY_CLASS_NAME[cost]
    raise ConfigError(f"unknown cost {cost!r}; choose from {', '.join(COSTS)}")
