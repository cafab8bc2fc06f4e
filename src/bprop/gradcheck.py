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

Both the check and its estimate run under training's rule for BLAS threads
(:func:`bprop.training.processes.blas_threads_for`): each finite-difference pass is a small
forward pass, which a second BLAS thread only slows, many times over on a busy machine.
"""

from __future__ import annotations

import copy
import time
import warnings
from dataclasses import dataclass
from numbers import Real

import numpy as np

from .errors import ConfigError, DataError, check_int
from .outputs import summed_cost
from .training.processes import BlasThreads, blas_threads_for, blas_threads_now
from .validate import check_input, check_parameters, check_target


#: backprop is timed as the best of this many calls
BACKPROP_CALLS = 5


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
    n_params: the network's parameters; checked: how many of them were perturbed (all, or
    the ``sample``).
    backprop_passes / numeric_passes: passes through the network each method needed
    (backprop: one forward and one backward).
    backprop_seconds / numeric_seconds: wall time of each (backprop: the best of
    :data:`BACKPROP_CALLS` calls).
    """

    layers: list
    n_params: int
    backprop_passes: int
    numeric_passes: int
    backprop_seconds: float
    numeric_seconds: float
    checked: int | None = None

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


def gradcheck(net, x, y, eps=1e-5, sample=None, rng=None, threads=None):
    """Compare backprop's gradient of Σ C_x over the columns of x with central differences.

    x: ``(sizes[0], m)``, one example per column (a single column is fine); y: targets
    ``(sizes[-1], m)``, or int labels ``(m,)``. Every weight and bias is perturbed, or with
    ``sample`` that many of them drawn at random (by ``rng``, a seed or Generator), spread
    over the arrays by their sizes and at least one from each: a large network has too many
    for two forward passes each (:func:`gradcheck_seconds` tells how long all would take).
    threads: BLAS threads, held for the check and restored after; default as training's
    (:func:`bprop.training.processes.blas_threads_for`: 1 for layers under 100,000 weights),
    with a warning where it is too many for a busy machine.
    Returns a :class:`GradcheckResult`.
    """
    net, x, y = _checked(net, x, y, eps, threads)
    if sample is not None:
        check_int(sample, "sample (parameters to check)", minimum=1)
    params = (*net.weights, *net.biases)
    picks = _sample(params, sample, np.random.default_rng(rng))
    threads, why = _threads(net, threads)
    if why is not None:
        warnings.warn(why, stacklevel=2)

    def cost():
        return summed_cost(net, x, y)       # from zᴸ for the log costs: exact when saturated

    with BlasThreads(threads):
        # backprop is timed as the best of a few calls (the first also allocates its
        # buffers); the finite differences, thousands of forward passes, once
        backprop_seconds = np.inf
        for _ in range(BACKPROP_CALLS):
            t0 = time.perf_counter()
            nabla_b, nabla_w = net.backprop_batch(x, y)
            backprop_seconds = min(backprop_seconds, time.perf_counter() - t0)
        t0 = time.perf_counter()
        numeric = [_numeric(p, cost, eps, index) for p, index in zip(params, picks)]
        numeric_seconds = time.perf_counter() - t0

    exact = [g.reshape(-1)[index] for g, index in zip((*nabla_w, *nabla_b), picks)]
    k = len(net.weights)
    layers = [LayerError(layer=i + 2, weights=relative_error(exact[i], numeric[i]),
                         biases=relative_error(exact[k + i], numeric[k + i])) for i in range(k)]
    checked = sum(len(index) for index in picks)
    return GradcheckResult(layers=layers, n_params=net.n_params, backprop_passes=2,
                           numeric_passes=2 * checked, backprop_seconds=backprop_seconds,
                           numeric_seconds=numeric_seconds, checked=checked)


def gradcheck_seconds(net, x, y, params=None, threads=None):
    """About how long :func:`gradcheck` on ``x`` and ``y`` takes to perturb ``params``
    parameters (default: all of the network's; :func:`parameters_checked` tells how many a
    ``sample`` is), with ``threads`` as it takes them: two forward passes each (the best of
    3 timed), plus what a large network costs whatever the sample: checking its parameters
    (and a float32 network's float64 copy) and :data:`BACKPROP_CALLS` backprop calls (one
    timed: the first, which also allocates the gradients' buffers)."""
    t0 = time.perf_counter()
    net, x, y = _checked(net, x, y, 1e-5, threads)
    checking = time.perf_counter() - t0
    with BlasThreads(_threads(net, threads)[0]):
        t0 = time.perf_counter()
        net.backprop_batch(x, y)
        backprop = time.perf_counter() - t0
        forward = np.inf
        for _ in range(3):
            t0 = time.perf_counter()
            summed_cost(net, x, y)
            forward = min(forward, time.perf_counter() - t0)
    passes = 2 * (net.n_params if params is None else params)
    return checking + BACKPROP_CALLS * backprop + passes * forward


def parameters_checked(net, sample=None):
    """How many parameters :func:`gradcheck` perturbs with ``sample``: all of them, or about
    ``sample`` shared out by the arrays' sizes, at least one from each."""
    if sample is not None:
        check_int(sample, "sample (parameters to check)", minimum=1)
    sizes = [p.size for p in (*net.weights, *net.biases)]
    return sum(_shares(sizes, sample))


def _checked(net, x, y, eps, threads=None):
    """``(net, x, y)`` checked, a float32 network as its float64 copy, labels as targets."""
    if isinstance(eps, bool) or not isinstance(eps, Real) or not 0 < eps < 1:
        raise ConfigError(f"eps must be in (0, 1); got {eps!r}")
    if threads is not None:
        check_int(threads, "threads", minimum=1)
    check_parameters(net, finite=True)     # nan weights would give nan errors, no message
    if net.dtype != np.float64:
        net = _float64_copy(net)
    x = check_input(net, x, "x")
    if x.shape[1] == 0:
        raise DataError("x has no examples (0 columns): there is no gradient to check")
    y = np.asarray(y)
    if y.ndim == 1:
        y = net.targets(y, x.shape[1]).T
    return net, x, check_target(net, y, columns=x.shape[1])


def _threads(net, threads):
    """``(n, why)``: the BLAS threads for checking ``net``, by training's rule."""
    return blas_threads_for(net.sizes, threads, current=blas_threads_now())


def _shares(sizes, sample):
    """How many entries to perturb in arrays of ``sizes``: all of them, or ``sample`` in all,
    shared out by the sizes (at least one each)."""
    if sample is None or sample >= sum(sizes):
        return sizes
    return [min(n, max(1, round(sample * n / sum(sizes)))) for n in sizes]


def _sample(params, sample, rng):
    """The flat indices to perturb in each array: all of them, or ``sample`` in all, shared
    out by the arrays' sizes (at least one each, none twice)."""
    sizes = [p.size for p in params]
    if sample is None or sample >= sum(sizes):
        return [np.arange(n) for n in sizes]
    return [np.sort(rng.choice(n, size=k, replace=False))
            for n, k in zip(sizes, _shares(sizes, sample))]


def _numeric(p, cost, eps, index):
    """Central differences of cost() with respect to the entries ``index`` of the flattened
    array p (perturbed in place, each put back)."""
    flat = p.reshape(-1)
    g = np.empty(len(index))
    for j, i in enumerate(index):
        old = flat[i]
        try:
            flat[i] = old + eps
            c_plus = cost()
            flat[i] = old - eps
            c_minus = cost()
        finally:
            flat[i] = old
        g[j] = (c_plus - c_minus) / (2 * eps)
    return g


def _float64_copy(net):
    """The same network (its class, activation and cost objects) with float64 parameters."""
    twin = copy.copy(net)           # a Network's copy has buffers of its own
    twin.dtype = np.dtype(np.float64)
    twin.weights = [w.astype(np.float64) for w in net.weights]
    twin.biases = [b.astype(np.float64) for b in net.biases]
    return twin
