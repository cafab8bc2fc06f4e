"""From the network's outputs to answers: outputs for many rows, classes, costs, counts.

The functions here run the forward pass over rows ``X`` ``(n, sizes[0])``,
:data:`ROWS_PER_PASS` rows at a time (:func:`checked_feedforward` for outputs, whose checks
of each z stand in for a check of the weights; :func:`bprop.backprop.logits` for costs),
and read classes and costs off the outputs. Like the backprop core they trust their arguments (``Network``'s public
methods and the training loop check them once, :mod:`bprop.validate`), with one
exception: an output that overflows is refused (:class:`bprop.OutputOverflowError`), since
an argmax of inf or nan would name class 0, a wrong answer.
"""

from __future__ import annotations

import numpy as np

from .backprop import logits
from .costs import cost_from_logits
from .errors import OutputOverflowError
from .numerics import all_finite, squared_norm_times

#: Rows per batched pass when predicting, costing or checking many rows: one pass for a test
#: set of 10,000, and memory bounded beyond.
ROWS_PER_PASS = 10_000


def class_scores(a):
    """Per-class scores from output rows ``a`` ``(n, sizes[-1])``: ``a`` itself, or for a
    network with one output (a binary classifier trained on 0/1 targets) the two columns
    1 − a and a, the outputs for class 0 and class 1."""
    a = np.asarray(a)
    return np.concatenate([1 - a, a], axis=1) if a.shape[1] == 1 else a


def predicted_classes(a):
    """The class of each output row ``a`` ``(n, sizes[-1])``: the argmax of
    :func:`class_scores` (first index on ties), so with one output 1 where it exceeds 0.5."""
    return np.argmax(class_scores(a), axis=1)


def checked_feedforward(net, x):
    """``(a, finite)``: the output for columns ``x`` (a = σ(w a + b) layer by layer), and
    whether every layer's z was finite. For finite inputs, a nan or inf weight or bias makes
    a z non-finite for every example (0·inf is nan), so a pass whose zs are all finite also
    proves the parameters finite, and its outputs (every activation maps a finite z to a
    finite a): what a prediction must know, for two small checks instead of a pass over
    every weight."""
    finite = True
    a = x
    with np.errstate(over="ignore", invalid="ignore"):
        for w, b, act in zip(net.weights, net.biases, net.activations):
            z = np.dot(w, a)
            z += b
            finite = finite and all_finite(z)
            a = act.forward(z, z)
    return a, finite


def output_rows(net, X, check_parameters=None):
    """Output activations for rows ``X``: ``(n, sizes[-1])``, one row per example.

    Where a layer's z was not finite (:func:`checked_feedforward`), ``check_parameters()``
    is called first (it raises if a weight or bias is nan or inf), then
    ``OutputOverflowError`` for the rows whose output is not finite (weights far too
    large; a z that overflowed to ±inf under a sigmoid still gives a finite 0 or 1)."""
    chunk = ROWS_PER_PASS
    if len(X) <= chunk:                 # one pass (a single row, a test set)
        a, finite = checked_feedforward(net, X[0:len(X)].T)
        out = np.ascontiguousarray(a.T)
    else:
        out, finite = np.empty((X.shape[0], net.sizes[-1]), net.dtype), True
        for start in range(0, X.shape[0], chunk):
            a, ok = checked_feedforward(net, X[start:start + chunk].T)
            out[start:start + chunk] = a.T
            finite = finite and ok
    if finite:
        return out
    if check_parameters is not None:
        check_parameters()
    bad = ~np.isfinite(out).all(axis=1)
    if bad.any():
        raise OutputOverflowError(f"the network's outputs overflow ({net.dtype.name}) for "
                                  f"{int(bad.sum())} of {len(X)} examples (first in row "
                                  f"{int(np.flatnonzero(bad)[0])}): its weights are too large")
    return out


def summed_cost(net, x, y):
    """Σₓ C_x over columns ``x`` and targets ``y`` (:func:`logits_cost` of their zᴸ)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return logits_cost(net, logits(net, x), y)


def logits_cost(net, z, y):
    """Σₓ C_x of output-layer weighted inputs ``z`` ``(sizes[-1], m)`` against targets ``y``:
    from zᴸ itself where the cost and output allow it (:func:`bprop.costs.cost_from_logits`:
    exact even where aᴸ rounds to 0 or 1), else ``cost.fn(a, y)`` with a = σ(zᴸ); ``z`` is
    left as it is. The caller silences overflow (a diverging run's cost comes out inf or
    nan)."""
    from_logits = cost_from_logits(net.cost, net.activations[-1].name)
    if from_logits is not None:
        return from_logits(z, y)
    return net.cost.fn(net.activations[-1].forward(z, np.empty_like(z)), y)


class CostSum:
    """Σₓ C_x over mini-batches handed in one at a time as training makes them (their zᴸ and
    targets, :meth:`add`), for the running cost of an epoch: each call copies the batch's
    columns aside, and the cost is computed :attr:`COLUMNS` columns at a time, one call of
    :func:`logits_cost` for hundreds of small batches. :meth:`take` returns the sum so far
    and starts again from 0."""

    COLUMNS = 4096

    def __init__(self, net):
        self.net = net
        self.z = np.empty((net.sizes[-1], self.COLUMNS), net.dtype)
        self.y = np.empty_like(self.z)
        self.used, self.total = 0, 0.0

    def add(self, z, y):
        """Count the columns of ``z``, zᴸ of a batch, with targets ``y`` (both copied)."""
        m = z.shape[1]
        if self.used + m > self.COLUMNS:
            self._flush()
        if m > self.COLUMNS // 8:               # a large batch is costed at once
            self.total += logits_cost(self.net, z, y)
            return
        self.z[:, self.used:self.used + m] = z
        self.y[:, self.used:self.used + m] = y
        self.used += m

    def _flush(self):
        if self.used:
            u, self.used = self.used, 0
            with np.errstate(over="ignore", invalid="ignore"):
                self.total += logits_cost(self.net, self.z[:, :u], self.y[:, :u])

    def take(self):
        """Σₓ C_x of every column added since the last call."""
        self._flush()
        total, self.total = self.total, 0.0
        return total


def regularisation(net, n, lmbda=0.0, l1=0.0):
    """The cost's regularisation terms ½(λ/n)Σ‖w‖² + (λ₁/n)Σ|w| for n training examples."""
    cost = 0.0
    if lmbda:
        cost += sum(squared_norm_times(0.5 * lmbda / n, w) for w in net.weights)
    if l1:
        cost += l1 / n * sum(float(np.abs(w).sum(dtype=np.float64)) for w in net.weights)
    return cost


def mean_cost(net, X, Y, lmbda=0.0, l1=0.0):
    """Mean cost over rows ``X`` with target rows ``Y``, plus the regularisation terms
    ½(λ/n)Σ‖w‖² and (λ₁/n)Σ|w|, n = len(X) (as the book's ``total_cost``). A diverging
    run's overflow comes out as an inf or nan cost, which the training loop reports."""
    cost = 0.0
    chunk = ROWS_PER_PASS
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, len(X), chunk):
            cost += logits_cost(net, logits(net, X[start:start + chunk].T),
                                Y[start:start + chunk].T)
    return cost / len(X) + regularisation(net, len(X), lmbda, l1)


def confusion_counts(y_true, y_pred, n_classes):
    """``(n_classes, n_classes)`` int array: entry [i, j] counts examples of class i predicted j."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return np.bincount(y_true * n_classes + y_pred,
                       minlength=n_classes * n_classes).reshape(n_classes, n_classes)
