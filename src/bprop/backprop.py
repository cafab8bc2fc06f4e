"""Backpropagation: the four equations BP1-BP4, for one example and for a whole mini-batch.

Notation (the book's):

* ``sizes``: layer widths, input first, e.g. ``[784, 30, 10]``; ``num_layers = len(sizes)``.
* ``weights[i]`` has shape ``(sizes[i+1], sizes[i])``: row j, column k is the weight from
  neuron k in one layer to neuron j in the next. ``biases[i]`` has shape ``(sizes[i+1], 1)``.
  **List index i is the book's layer i + 2**; the input layer has no weights or biases.
* An example is a column and a mini-batch of m examples is a matrix ``(n_l, m)``, so
  z = w a + b is literal. ``activations[0]`` is the input x.

The four equations, in the order this module reads:

* BP1  δᴸ = ∇ₐC ⊙ σ′(zᴸ)             :func:`output_error` (∇ₐC and closed forms: costs.py)
* BP2  δˡ = ((wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ)   :func:`backprop`, :func:`backprop_batch`
* BP3  ∂C/∂bˡ = δˡ                    same places
* BP4  ∂C/∂wˡ = δˡ (aˡ⁻¹)ᵀ            same places

:func:`backprop` is the book's per-example algorithm, kept literal as the reference.
Training uses :func:`backprop_batch`, the chapter's "fully matrix-based" version: the whole
mini-batch goes through as one matrix, one matrix product per layer for each equation
(forward, BP2, BP3 as δ·1, BP4), into the buffers of a :class:`Workspace` allocated once per
mini-batch size. The tests hold the two to 1e-10.

The functions take ``net``: any object with ``weights``, ``biases``, ``activations`` (one
:class:`bprop.activations.Activation` per layer after the input), ``cost`` (a class of
:mod:`bprop.costs`) and ``num_layers``, such as :class:`bprop.Network` (all but
:func:`gather_rows`, which only fills a workspace). Nothing here checks its arguments: the public methods of ``Network`` do that once, at the boundary
(:mod:`bprop.validate`). This module is not an autodiff system: networks are chains of
dense layers only.
"""

from __future__ import annotations

import functools

import numpy as np

from .rows import LazyRows
from .costs import closed_form_delta


class Workspace:
    """Preallocated buffers for backprop over a mini-batch of m examples (no allocation per
    step). ``x_rows``/``y_rows`` hold gathered rows, one example each; ``x``/``y`` are the
    same memory as columns, one example each, as the network takes them."""

    def __init__(self, sizes, m, dtype):
        widths = sizes[1:]
        self.x_rows = np.empty((m, sizes[0]), dtype)
        self.y_rows = np.empty((m, sizes[-1]), dtype)
        self.x, self.y = self.x_rows.T, self.y_rows.T
        self.zs = [np.empty((n, m), dtype) for n in widths]
        self.activations = [None] + [np.empty((n, m), dtype) for n in widths]
        self.sps = [np.empty((n, m), dtype) for n in widths]       # σ′(z) per layer
        self.deltas = [np.empty((n, m), dtype) for n in widths]
        self.nabla_b = [np.empty((n, 1), dtype) for n in widths]
        self.nabla_w = [np.empty((n_out, n_in), dtype) for n_in, n_out in zip(sizes[:-1], widths)]
        self.ones = np.ones((m, 1), dtype)                          # BP3 as delta @ 1
        self.masks = [None] * len(widths)                           # dropout, when on


# -- the forward pass ----------------------------------------------------------------------------
def logits(net, x):
    """zᴸ, the output layer's weighted input, for columns ``x`` ``(sizes[0], m)``. The caller
    silences overflow (a sigmoid of a large negative z)."""
    a = x
    for w, b, act in zip(net.weights[:-1], net.biases, net.activations):
        z = np.dot(w, a)
        z += b
        a = act.forward(z, z)
    z = np.dot(net.weights[-1], a)
    z += net.biases[-1]
    return z


def overflow_ignored(f, numpy_version=np.__version__):
    """``f`` called under ``np.errstate(over="ignore")`` (σ(z) of a large negative z is 0, as
    it should be). NumPy 2's errstate as a decorator keeps each call's state, in 0.7 µs
    against 1.3 µs for a ``with`` block; NumPy 1's keeps one saved state on the decorator,
    which threads and nested calls overwrite, so there each call opens its own block."""
    if np.lib.NumpyVersion(numpy_version) >= "2.0.0":
        return np.errstate(over="ignore")(f)

    @functools.wraps(f)
    def ignoring_overflow(*args):
        with np.errstate(over="ignore"):
            return f(*args)
    return ignoring_overflow


@overflow_ignored
def feedforward(net, x):
    """The network's output for columns ``x``: a = σ(w a + b) layer by layer.

    x: ``(sizes[0], m)``; returns ``(sizes[-1], m)``, a new array. (One loop, computing in
    place, under :func:`overflow_ignored`: the per-example ``feedforward`` is called in a
    loop, and this is most of its time.)
    """
    a = x
    for w, b, act in zip(net.weights, net.biases, net.activations):
        z = np.dot(w, a)
        z += b
        a = act.forward(z, z)
    return a


# -- one example: the book's algorithm -------------------------------------------------------------
def backprop(net, x, y, gradient=None):
    """Gradient of C_x for one example (BP1-BP4), the book's ``backprop`` line for line.

    x: ``(sizes[0], 1)``; y: ``(sizes[-1], 1)``. Returns ``(nabla_b, nabla_w)`` shaped like
    ``net.biases`` and ``net.weights``. Kept literal as the reference that
    :func:`backprop_batch` is tested against. gradient: ∇ₐC as a function ``(a, y)``, the
    book's ``cost_derivative``, where a subclass gives its own (:func:`output_error`).
    """
    nabla_b = [None] * len(net.biases)
    nabla_w = [None] * len(net.weights)
    with np.errstate(over="ignore"):        # σ(z) of a large negative z is 0, as it should be
        # forward pass, keeping every z and a
        activation = x
        activations = [x]
        zs = []
        for b, w, act in zip(net.biases, net.weights, net.activations):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = act.forward(z, np.empty_like(z))
            activations.append(activation)
    # backward pass
    delta = output_error(net, zs[-1], activations[-1], y, gradient=gradient)   # BP1
    nabla_b[-1] = delta                                               # BP3
    nabla_w[-1] = np.dot(delta, activations[-2].T)                    # BP4
    # l = 2 is the last hidden layer, l = 3 the one before, ... (the book's negative index)
    for l in range(2, net.num_layers):
        a = activations[-l]
        sp = net.activations[-l].prime_into(a, np.empty_like(a))     # σ′(z), from a = σ(z)
        delta = np.dot(net.weights[-l + 1].T, delta) * sp            # BP2
        nabla_b[-l] = delta                                           # BP3
        nabla_w[-l] = np.dot(delta, activations[-l - 1].T)            # BP4
    return nabla_b, nabla_w


def output_error(net, z, a, y, delta=None, sp=None, gradient=None):
    """BP1: δᴸ = ∇ₐC ⊙ σ′(zᴸ), for one example or a batch of columns.

    Written into ``delta`` (a new array when None; ``sp`` a buffer for σ′(zᴸ)). For the
    built-in pairs where the division in ∇ₐC cancels against σ′ (a − y for cross-entropy +
    sigmoid, log-likelihood + softmax, quadratic + identity, and the others in
    :func:`bprop.costs.closed_form_delta`), the closed form instead, which stays exact when
    the output saturates. gradient: a function ``(a, y) -> ∇ₐC`` to use instead of the
    cost's (a subclass's ``cost_derivative``); δ is then ``gradient(a, y) ⊙ σ′(zᴸ)``.
    """
    act, cost = net.activations[-1], net.cost
    if gradient is not None:
        delta = np.asarray(gradient(a, y), dtype=np.result_type(a, y))               # ∇ₐC
        if act.prime_into is None:      # softmax: δ = Jᵀ ∇ₐC, J = diag(a) − a aᵀ
            return (delta - np.sum(a * delta, axis=0, keepdims=True)) * a
        return delta * act.prime_into(a, np.empty_like(a))
    closed = closed_form_delta(cost, act.name)
    if closed is not None:
        if delta is None:
            delta = np.empty(np.broadcast_shapes(a.shape, y.shape), np.result_type(a, y))
        return closed(z, a, y, delta)
    if cost.derivative_into is None:        # a book-style cost class: its own BP1
        if delta is None:
            return cost.delta(z, a, y)
        delta[...] = cost.delta(z, a, y)
        return delta
    delta = cost.derivative_into(a, y, np.empty_like(a) if delta is None else delta)  # ∇ₐC
    if act.prime_into is None:      # softmax: δ = Jᵀ ∇ₐC, J = diag(a) − a aᵀ
        delta -= np.sum(a * delta, axis=0, keepdims=True)
        delta *= a
    else:
        delta *= act.prime_into(a, np.empty_like(a) if sp is None else sp)     # ⊙ σ′(zᴸ)
    return delta


# -- a mini-batch: the matrix-based version ----------------------------------------------------------
def backprop_batch(net, x, y, ws, scale=1.0, dropout=None, gradient=None):
    """Gradient of Σₓ C_x over a mini-batch, matrix-based (the chapter's Problem), into the
    buffers of the :class:`Workspace` ``ws``; returns ``(ws.nabla_b, ws.nabla_w)``.

    x: ``(sizes[0], m)``, one example per column; y: ``(sizes[-1], m)``. The gradients are
    of ``scale`` times the summed cost: BP2-BP4 are linear in δ, so scaling δᴸ once by η/m
    hands back the SGD step itself and spares a pass over every weight matrix. The caller
    silences overflow (sigmoid of large negative z) once around its loop.

    dropout: None, or an object whose ``mask(a)`` draws an inverted-dropout mask for a
    hidden layer's activations (:class:`bprop.training.augment.Dropout`). gradient: ∇ₐC as
    a function ``(a, y)``, where a subclass gives its own (:func:`output_error`).

    The products go to the same BLAS either way; ``np.dot`` reaches it in less time than
    ``np.matmul`` for w a, δ·1 and wᵀδ at small m (0.4-0.8 µs a call at mini-batch 10),
    ``np.matmul`` in less for δ aᵀ, so each is written with the faster one.
    """
    last = len(net.weights) - 1
    a = x
    for l, (w, b, act) in enumerate(zip(net.weights, net.biases, net.activations)):
        z = ws.zs[l]
        np.dot(w, a, out=z)                                            # (n_l, m)
        z += b
        a = act.forward(z, ws.activations[l + 1])
        if l < last:
            # σ′(z) for BP2, now, while it can be read off the unmasked a
            act.prime_into(a, ws.sps[l])
            if dropout is not None:
                mask = ws.masks[l] = dropout.mask(a)
                a *= mask           # inverted dropout: E[a] is unchanged
                ws.sps[l] *= mask   # a = mask ⊙ σ(z), so ∂a/∂z = mask ⊙ σ′(z)
    ws.activations[0] = x
    delta = output_error(net, z, a, y, ws.deltas[-1], ws.sps[-1], gradient)   # BP1
    if scale != 1.0:
        delta *= scale
    for l in range(last, -1, -1):
        np.matmul(delta, ws.activations[l].T, out=ws.nabla_w[l])        # BP4
        np.dot(delta, ws.ones, out=ws.nabla_b[l])                      # BP3, summed over m
        if l > 0:
            prev = ws.deltas[l - 1]
            np.dot(net.weights[l].T, delta, out=prev)                  # BP2 ...
            prev *= ws.sps[l - 1]                                      # ... ⊙ σ′(z)
            delta = prev
    return ws.nabla_b, ws.nabla_w


def gather_rows(ws, X, Y, idx, shift=None):
    """Rows ``idx`` of ``X`` and ``Y`` into the workspace ``ws`` (which holds ``len(idx)``
    examples); ``shift``, if given, augments the gathered rows in place. Returns ``ws``,
    whose ``x``/``y`` are then the mini-batch as columns."""
    # mode="clip": idx comes from a permutation, so it is always in range, and unlike the
    # default "raise" it writes straight into out= (no hidden buffer)
    for rows, out in ((X, ws.x_rows), (Y, ws.y_rows)):
        if isinstance(rows, LazyRows):  # integer rows on disk, targets made from labels
            rows.take_into(idx, out)
        else:
            np.take(rows, idx, axis=0, out=out, mode="clip")
    if shift is not None:
        shift(ws.x_rows)
    return ws
