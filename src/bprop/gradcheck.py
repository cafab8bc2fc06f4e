"""Check backprop against finite differences, and time both (the chapter's "In what sense is
backpropagation a fast algorithm?").

For each weight and bias p, the central difference

    ∂C/∂p ≈ (C(p + ε) − C(p − ε)) / 2ε

costs two forward passes, so the whole gradient costs 2·(number of parameters) forward
passes. Backprop gets all of it from one forward and one backward pass. ``gradcheck``
measures both, so the ratio the chapter argues for is seen, not just stated.

The checker perturbs parameters in place and restores them in a ``finally``. It works in
float64 (a float32 network is checked through a float64 copy of itself). The relative error
of an array is the larger of ‖g − ĝ‖ / (‖g‖ + ‖ĝ‖) in the 2-norm and in the max-norm
(largest entry): the 2-norm alone spreads one wrong entry of a large matrix over all the
others. For example, [100, 30, 10] with weights N(0, 1/n_in) on 10 random examples, with
the median-sized entry of its 3,000 first-layer weight gradients made 0.1% too large,
scores 5e-6 in the 2-norm and 7e-5 to 1e-4 in the max-norm (seeds 0-2).
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from numbers import Real

import numpy as np

from .errors import ConfigError, DataError
from .outputs import summed_cost
from .validate import check_input, check_parameters, check_target


@dataclass
class LayerError:
    """Relative errors of one layer's gradients (the book's layer ``layer``)."""

    layer: int
    weights: float
    biases: float

    @property
    def worst(self):
        return max(self.weights, self.biases)


@dataclass
class GradcheckResult:
    """What :func:`gradcheck` found.

    layers: relative error of ∂C/∂w and ∂C/∂b for each layer (book's numbering, 2 first).
    backprop_passes / numeric_passes: passes through the network each method needed
    (backprop: one forward and one backward).
    backprop_seconds / numeric_seconds: wall time of each (backprop: the best of 5 calls).
    """

    layers: list
    n_params: int
    backprop_passes: int
    numeric_passes: int
    backprop_seconds: float
    numeric_seconds: float

    @property
    def max_error(self):
        return max(layer.worst for layer in self.layers)

    @property
    def speedup(self):
        return self.numeric_seconds / max(self.backprop_seconds, 1e-12)

    def ok(self, tol=1e-6):
        return self.max_error < tol


def relative_error(g, g_hat):
    """‖g − ĝ‖ / max(‖g‖ + ‖ĝ‖, 1e-12), the larger of the 2-norm and the max-norm forms."""
    g, g_hat = np.asarray(g, dtype=np.float64).ravel(), np.asarray(g_hat, dtype=np.float64).ravel()
    diff = g - g_hat
    return float(max(
        np.linalg.norm(diff) / max(np.linalg.norm(g) + np.linalg.norm(g_hat), 1e-12),
        np.abs(diff).max(initial=0.0) / max(np.abs(g).max(initial=0.0)
                                            + np.abs(g_hat).max(initial=0.0), 1e-12)))


def gradcheck(net, x, y, eps=1e-5):
    """Compare backprop's gradient of Σ C_x over the columns of x with central differences.

    x: ``(sizes[0], m)``, one example per column (a single column is fine); y: targets
    ``(sizes[-1], m)``, or int labels ``(m,)``. Every weight and bias is perturbed.
    Returns a :class:`GradcheckResult`.
    """
    if isinstance(eps, bool) or not isinstance(eps, Real) or not 0 < eps < 1:
        raise ConfigError(f"eps must be in (0, 1); got {eps!r}")
    check_parameters(net, finite=True)     # nan weights would give nan errors, no message
    if net.dtype != np.float64:
        net = _float64_copy(net)
    x = check_input(net, x, "x")
    if x.shape[1] == 0:
        raise DataError("x has no examples (0 columns): there is no gradient to check")
    y = np.asarray(y)
    if y.ndim == 1:
        y = net.targets(y, x.shape[1]).T
    y = check_target(net, y, columns=x.shape[1])

    # backprop is timed as the best of a few calls (the first also allocates its buffers);
    # the finite differences, thousands of forward passes, once
    backprop_seconds = np.inf
    for _ in range(5):
        t0 = time.perf_counter()
        nabla_b, nabla_w = net.backprop_batch(x, y)
        backprop_seconds = min(backprop_seconds, time.perf_counter() - t0)

    def cost():
        return summed_cost(net, x, y)       # from zᴸ for the log costs: exact when saturated

    t0 = time.perf_counter()
    numeric_w = [_numeric(w, cost, eps) for w in net.weights]
    numeric_b = [_numeric(b, cost, eps) for b in net.biases]
    numeric_seconds = time.perf_counter() - t0

    layers = [LayerError(layer=i + 2, weights=relative_error(nw, gw), biases=relative_error(nb, gb))
              for i, (nw, gw, nb, gb) in enumerate(zip(nabla_w, numeric_w, nabla_b, numeric_b))]
    return GradcheckResult(layers=layers, n_params=net.n_params, backprop_passes=2,
                           numeric_passes=2 * net.n_params, backprop_seconds=backprop_seconds,
                           numeric_seconds=numeric_seconds)


def _numeric(p, cost, eps):
    """Central differences of cost() with respect to every entry of the array p (in place)."""
    grad = np.empty_like(p)
    flat, g = p.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        try:
            flat[i] = old + eps
            c_plus = cost()
            flat[i] = old - eps
            c_minus = cost()
        finally:
            flat[i] = old
        g[i] = (c_plus - c_minus) / (2 * eps)
    return grad


def _float64_copy(net):
    """The same network (its class, activation and cost objects) with float64 parameters."""
    twin = copy.copy(net)           # a Network's copy has buffers of its own
    twin.dtype = np.dtype(np.float64)
    twin.weights = [w.astype(np.float64) for w in net.weights]
    twin.biases = [b.astype(np.float64) for b in net.biases]
    return twin
