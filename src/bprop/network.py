"""A fully connected feedforward network trained by backpropagation (chapter 2 of the book).

Notation (the book's):

* ``sizes``: layer widths, input first, e.g. ``[784, 30, 10]``; ``num_layers = len(sizes)``.
* ``weights[i]`` has shape ``(sizes[i+1], sizes[i])``: row j, column k is the weight from
  neuron k in one layer to neuron j in the next. ``biases[i]`` has shape ``(sizes[i+1], 1)``.
  **List index i is the book's layer i + 2**; the input layer has no weights or biases.
* Inside the network an example is a column and a mini-batch of m examples is a matrix
  ``(n_l, m)``, so z = w a + b is literal. ``activations[0]`` is the input x.

The four equations of backpropagation, and where they are:

* BP1  δᴸ = ∇ₐC ⊙ σ′(zᴸ)             :meth:`Network._output_error` (∇ₐC and closed forms:
                                      ``costs.py``)
* BP2  δˡ = ((wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ)   :meth:`Network._backprop`, :meth:`Network._backprop_batch`
* BP3  ∂C/∂bˡ = δˡ                    same places
* BP4  ∂C/∂wˡ = δˡ (aˡ⁻¹)ᵀ            same places

:meth:`Network.backprop` is the book's per-example algorithm, kept literal as the reference.
Training uses :meth:`Network._backprop_batch`, the chapter's "fully matrix-based" version:
the whole mini-batch goes through as one matrix, one matrix product per layer for each
equation (forward, BP2, BP3 as δ·1, BP4), into buffers allocated once per mini-batch size.
The tests hold the two to 1e-10.

With no options ``Network(sizes)`` *is* the book's ``network.py``: sigmoid everywhere,
quadratic cost, weights and biases from N(0, 1), and the same ``SGD``, ``update_mini_batch``,
``backprop``, ``evaluate``, ``feedforward`` and ``cost_derivative``. Training on arrays
(``fit``, ``predict``, ``predict_proba``, ``score``) follows NumPy/scikit-learn conventions:
one example per row.

This module is not an autodiff system: networks are chains of dense layers only.
"""

from __future__ import annotations

import dataclasses
import os
from numbers import Integral

import numpy as np

from .activations import Activation, get_activation, sigmoid, sigmoid_prime  # noqa: F401
from .costs import closed_form_delta, cost_from_logits, get_cost
from .numerics import squared_norm_times
from .errors import (ConfigError, DataError, OutputOverflowError, ShapeError, check_dtype,
                     check_int, check_number)
from .optimizers import SGD

#: Weight initialisers: name -> (weight std as a function of (n_in, n_out), bias std).
INITIALIZERS = {
    "normal": (lambda n_in, n_out: 1.0, 1.0),                        # the book's network.py
    "scaled-normal": (lambda n_in, n_out: 1.0 / np.sqrt(n_in), 1.0),  # network2's default
    "xavier": (lambda n_in, n_out: np.sqrt(2.0 / (n_in + n_out)), 0.0),  # Glorot normal
    "he": (lambda n_in, n_out: np.sqrt(2.0 / n_in), 0.0),             # for ReLU
}
_INIT_ALIASES = {"large": "normal", "book": "normal", "default": "scaled-normal",
                 "glorot": "xavier", "kaiming": "he"}
#: Rows per batched pass when predicting, costing or checking many rows: one pass for a test
#: set of 10,000, and memory bounded beyond.
ROWS_PER_PASS = 10_000
PROBABILITY_OUTPUTS = ("sigmoid", "softmax")     # output activations whose a lies in (0, 1)


def _as_rng(rng):
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is not None and (isinstance(rng, bool) or not isinstance(rng, Integral) or rng < 0):
        raise ConfigError(f"rng must be None, a non-negative integer seed or a "
                          f"numpy.random.Generator; got {rng!r}")
    return np.random.default_rng(rng)


class _Workspace:
    """Preallocated buffers for one mini-batch size m (STYLE: no allocation per step)."""

    def __init__(self, sizes, m, dtype):
        widths = sizes[1:]
        self.x_rows = np.empty((m, sizes[0]), dtype)    # gathered rows, one example each
        self.y_rows = np.empty((m, sizes[-1]), dtype)
        self.x, self.y = self.x_rows.T, self.y_rows.T   # the same memory, one example per column
        self.zs = [np.empty((n, m), dtype) for n in widths]
        self.activations = [None] + [np.empty((n, m), dtype) for n in widths]
        self.sps = [np.empty((n, m), dtype) for n in widths]       # σ′(z) per layer
        self.deltas = [np.empty((n, m), dtype) for n in widths]
        self.nabla_b = [np.empty((n, 1), dtype) for n in widths]
        self.nabla_w = [np.empty((n_out, n_in), dtype) for n_in, n_out in zip(sizes[:-1], widths)]
        self.ones = np.ones((m, 1), dtype)                          # BP3 as delta @ 1
        self.masks = [None] * len(widths)                           # dropout, when on


class Network:
    """A feedforward network of dense layers.

    sizes: layer widths, input first (at least two layers, all positive).
    activations: one name for every layer, or a list with one name per non-input layer
        (identity, relu, sigmoid, softmax, tanh). Default sigmoid, as in the book.
    output: activation of the output layer, overriding the last of ``activations``.
    cost: "quadratic" (the book's chapters 1-2), "cross-entropy", "log-likelihood", or one
        of the cost classes in :mod:`bprop.costs`.
    init: "normal" (the book's N(0, 1)), "scaled-normal" (N(0, 1/n_in), network2's),
        "xavier", or "he".
    rng: seed or ``numpy.random.Generator`` for the initial weights, shuffling and dropout.
    dtype: float64 (default, exact) or float32 (faster).
    """

    def __init__(self, sizes, activations="sigmoid", cost="quadratic", init="normal", *,
                 output=None, rng=None, dtype=np.float64):
        self.sizes = _check_sizes(sizes)
        self.num_layers = len(self.sizes)
        self.dtype = check_dtype(dtype)
        _check_fits_in_memory(self.sizes, self.dtype)
        self.activations = _layer_activations(activations, output, self.num_layers - 1)
        self.cost = get_cost(cost)
        if self.activations[-1].name == "softmax" and self.sizes[-1] < 2:
            raise ConfigError("a softmax output layer needs at least 2 outputs (with one, its "
                              "output is always 1)")
        if self.cost.derivative_into is None and self.activations[-1].name != "sigmoid":
            raise ConfigError(f"cost class {self.cost.name} has only the book's fn and delta, "
                              f"which assume a sigmoid output layer; got "
                              f"{self.activations[-1].name}")
        if self.cost.needs_probabilities and self.activations[-1].name not in PROBABILITY_OUTPUTS:
            raise ConfigError(f"the {self.cost.name} cost needs outputs in (0, 1): use a "
                              f"sigmoid or softmax output layer; got {self.activations[-1].name}")
        self.rng = _as_rng(rng)
        self.initialize(init)
        self._workspaces = {}

    # -- set-up --------------------------------------------------------------------------------
    def initialize(self, init="normal"):
        """Draw fresh weights and biases with the named initialiser from ``self.rng``, and
        record its name in ``self.init`` (model files and the diagnostics' advice read it).

        Biases first, then weights, layer by layer, as the book's constructor does.
        """
        name = _INIT_ALIASES.get(init, init) if isinstance(init, str) else init
        if not isinstance(name, str) or name not in INITIALIZERS:
            raise ConfigError(f"unknown init {init!r}; choose from {', '.join(INITIALIZERS)}")
        self.init = name
        w_std, b_std = INITIALIZERS[name]
        pairs = list(zip(self.sizes[:-1], self.sizes[1:]))
        self.biases = [(b_std * self.rng.standard_normal((n_out, 1))).astype(self.dtype)
                       for _, n_out in pairs]
        self.weights = [(w_std(n_in, n_out) * self.rng.standard_normal((n_out, n_in)))
                        .astype(self.dtype) for n_in, n_out in pairs]

    def default_weight_initializer(self):
        """network2's initialiser: weights N(0, 1/n_in), biases N(0, 1)."""
        self.initialize("scaled-normal")

    def large_weight_initializer(self):
        """network.py's initialiser: weights and biases N(0, 1)."""
        self.initialize("normal")

    @property
    def activation_names(self):
        return [act.name for act in self.activations]

    @property
    def n_classes(self):
        """How many classes the network tells apart: one per output, or 2 for one output (a
        binary classifier, :func:`predicted_classes`)."""
        return max(self.sizes[-1], 2)

    @property
    def n_params(self):
        return sum(w.size + b.size for w, b in zip(self.weights, self.biases))

    def __repr__(self):
        return (f"Network(sizes={self.sizes}, activations={self.activation_names}, "
                f"cost={self.cost.name!r}, dtype={self.dtype.name})")

    # -- the forward pass and backpropagation (BP1-BP4) ----------------------------------------
    def feedforward(self, a):
        """Output of the network for input ``a``: a = σ(w a + b) layer by layer.

        a: ``(sizes[0], 1)`` for one example, or ``(sizes[0], m)`` for m examples as columns.
        Returns ``(sizes[-1], 1)`` or ``(sizes[-1], m)``.
        """
        z = self._logits(self._check_input(a, "a"))
        with np.errstate(over="ignore"):
            return self.activations[-1].forward(z, z)

    def _logits(self, x):
        """zᴸ, the output layer's weighted input, for checked columns ``x``."""
        self._check_parameters()
        a = x
        with np.errstate(over="ignore"):
            for w, b, act in zip(self.weights[:-1], self.biases[:-1], self.activations):
                z = w @ a
                z += b
                a = act.forward(z, z)
            z = self.weights[-1] @ a
            z += self.biases[-1]
        return z

    def _summed_cost(self, x, y):
        """Σₓ C_x over checked columns ``x`` and targets ``y``: from zᴸ where the cost and
        output allow it (:func:`bprop.costs.cost_from_logits`), else ``cost.fn(a, y)``."""
        from_logits = cost_from_logits(self.cost, self.activations[-1].name)
        if from_logits is None:
            return self.cost.fn(self.feedforward(x), y)
        return from_logits(self._logits(x), y)

    def backprop(self, x, y):
        """Gradient of C_x for one example (BP1-BP4), the book's per-example algorithm.

        x: ``(sizes[0], 1)``; y: ``(sizes[-1], 1)``. Returns ``(nabla_b, nabla_w)`` shaped
        like ``self.biases`` and ``self.weights``. Kept literal as the reference that the
        matrix-based :meth:`backprop_batch` is tested against.
        """
        x = self._check_input(x, "x", columns=1)
        y = self._check_target(y, columns=1)
        self._check_parameters()
        return self._backprop(x, y)

    def _backprop(self, x, y):
        """:meth:`backprop` without the checks: the book's algorithm, line for line (the
        benchmarks time this, as the book's code has no checks either)."""
        nabla_b = [None] * len(self.biases)
        nabla_w = [None] * len(self.weights)
        # forward pass, keeping every z and a
        activation = x
        activations = [x]
        zs = []
        for b, w, act in zip(self.biases, self.weights, self.activations):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = act.fn(z)
            activations.append(activation)
        # backward pass
        delta = self._output_error(zs[-1], activations[-1], y)       # BP1
        nabla_b[-1] = delta                                           # BP3
        nabla_w[-1] = np.dot(delta, activations[-2].T)                # BP4
        # l = 2 is the last hidden layer, l = 3 the one before, ... (the book's negative index)
        for l in range(2, self.num_layers):
            sp = self.activations[-l].prime(zs[-l], activations[-l])
            delta = np.dot(self.weights[-l + 1].T, delta) * sp       # BP2
            nabla_b[-l] = delta                                       # BP3
            nabla_w[-l] = np.dot(delta, activations[-l - 1].T)        # BP4
        return nabla_b, nabla_w

    def _output_error(self, z, a, y, delta=None, sp=None):
        """BP1: δᴸ = ∇ₐC ⊙ σ′(zᴸ), written into ``delta`` (a new array when None; ``sp`` a
        buffer for σ′(zᴸ)). For the built-in pairs where the division in ∇ₐC cancels
        against σ′ (a − y for cross-entropy + sigmoid, log-likelihood + softmax, quadratic +
        identity, and the others in :func:`bprop.costs.closed_form_delta`), the closed form
        instead, which stays exact when the output saturates."""
        act = self.activations[-1]
        closed = closed_form_delta(self.cost, act.name)
        if closed is not None:
            if delta is None:
                delta = np.empty(np.broadcast_shapes(a.shape, y.shape), np.result_type(a, y))
            return closed(z, a, y, delta)
        if self.cost.derivative_into is None:       # a book-style cost class: its own BP1
            if delta is None:
                return self.cost.delta(z, a, y)
            delta[...] = self.cost.delta(z, a, y)
            return delta
        delta = self.cost.derivative_into(a, y, np.empty_like(a) if delta is None else delta)  # ∇ₐC
        if act.prime_into is None:      # softmax: δ = Jᵀ ∇ₐC, J = diag(a) − a aᵀ
            delta -= np.sum(a * delta, axis=0, keepdims=True)
            delta *= a
        else:
            delta *= act.prime_into(a, np.empty_like(a) if sp is None else sp)   # ⊙ σ′(zᴸ)
        return delta

    def backprop_batch(self, x, y):
        """Gradient of Σₓ C_x over a mini-batch, matrix-based (the chapter's Problem).

        x: ``(sizes[0], m)``, one example per column; y: ``(sizes[-1], m)``. Returns new
        ``(nabla_b, nabla_w)`` lists: the sums over the batch of what :meth:`backprop` gives
        for each column.
        """
        x = self._check_input(x, "x")
        y = self._check_target(y, columns=x.shape[1])
        self._check_parameters()
        with np.errstate(over="ignore"):
            nabla_b, nabla_w = self._backprop_batch(x, y, self._workspace(x.shape[1]))
        return [nb.copy() for nb in nabla_b], [nw.copy() for nw in nabla_w]

    def _workspace(self, m):
        ws = self._workspaces.get(m)
        if ws is None or ws.x_rows.dtype != self.dtype:
            ws = self._workspaces[m] = _Workspace(self.sizes, m, self.dtype)
        return ws

    def _backprop_rows(self, X, Y, idx, scale, dropout=None, shift=None):
        """:meth:`_gather_rows`, then :meth:`_backprop_batch` on them. Returns ``(ws,
        nabla_b, nabla_w)``: one training step's gradients, as the training loop (and each
        data-parallel worker) takes them."""
        ws = self._gather_rows(X, Y, idx, shift)
        nabla_b, nabla_w = self._backprop_batch(ws.x, ws.y, ws, scale, dropout)
        return ws, nabla_b, nabla_w

    def _gather_rows(self, X, Y, idx, shift=None):
        """Rows ``idx`` of ``X`` and ``Y`` into the workspace for ``len(idx)`` examples
        (``shift``, if given, augments the gathered rows in place); returns the workspace."""
        ws = self._workspace(len(idx))
        # mode="clip": idx comes from a permutation, so it is always in range, and unlike
        # the default "raise" it writes straight into out= (no hidden buffer)
        np.take(X, idx, axis=0, out=ws.x_rows, mode="clip")
        np.take(Y, idx, axis=0, out=ws.y_rows, mode="clip")
        if shift is not None:
            shift(ws.x_rows)
        return ws

    def _backprop_batch(self, x, y, ws, scale=1.0, dropout=None):
        """Matrix-based BP1-BP4 into the buffers of ``ws``; returns (nabla_b, nabla_w).

        x: ``(sizes[0], m)``; y: ``(sizes[-1], m)``. The gradients are of ``scale`` times the
        summed cost: BP2-BP4 are linear in δ, so scaling δᴸ once by η/m hands back the SGD
        step itself and spares a pass over every weight matrix. The caller silences
        overflow (sigmoid of large negative z) once around its loop.

        dropout: None, or (keep probability, Generator): inverted dropout on hidden layers.
        """
        last = len(self.weights) - 1
        a = x
        for l, (w, b, act) in enumerate(zip(self.weights, self.biases, self.activations)):
            z = ws.zs[l]
            np.matmul(w, a, out=z)                                     # (n_l, m)
            z += b
            a = act.forward(z, ws.activations[l + 1])
            if l < last:
                # σ′(z) for BP2, now, while it can be read off the unmasked a
                act.prime_into(a, ws.sps[l])
                if dropout is not None:
                    keep, rng = dropout
                    mask = ws.masks[l] = (rng.random(a.shape) < keep).astype(a.dtype) / keep
                    a *= mask           # inverted dropout: E[a] is unchanged
                    ws.sps[l] *= mask   # a = mask ⊙ σ(z), so ∂a/∂z = mask ⊙ σ′(z)
        ws.activations[0] = x
        delta = self._output_error(z, a, y, ws.deltas[-1], ws.sps[-1])  # BP1
        if scale != 1.0:
            delta *= scale
        for l in range(last, -1, -1):
            np.matmul(delta, ws.activations[l].T, out=ws.nabla_w[l])    # BP4
            np.matmul(delta, ws.ones, out=ws.nabla_b[l])               # BP3, summed over m
            if l > 0:
                prev = ws.deltas[l - 1]
                np.matmul(self.weights[l].T, delta, out=prev)          # BP2 ...
                prev *= ws.sps[l - 1]                                  # ... ⊙ σ′(z)
                delta = prev
        return ws.nabla_b, ws.nabla_w

    # -- the book's training interface ---------------------------------------------------------
    def update_mini_batch(self, mini_batch, eta, lmbda=0.0, n=None):
        """One gradient-descent step on a mini-batch of ``(x, y)`` pairs.

        w ← (1 − η·λ/n)·w − (η/m)·Σ∇w and b ← b − (η/m)·Σ∇b, m = len(mini_batch). With
        the default ``lmbda=0`` this is network.py's method; with ``lmbda`` and ``n`` (the
        training-set size) it is network2.py's. The gradients come from the matrix-based
        backprop: the examples are stacked as the columns of one matrix.
        """
        mini_batch = [_pair(item, i, "mini_batch")
                      for i, item in enumerate(_items(mini_batch, "mini_batch"))]
        if not mini_batch:
            raise DataError("mini_batch is empty")
        check_number(eta, "eta", positive=True)
        check_number(lmbda, "lmbda")
        if lmbda and n is None:
            raise ConfigError("n (the training-set size) is needed when lmbda is not 0")
        if n is not None:
            check_int(n, "n (the training-set size)", minimum=1)
        x = np.hstack([self._check_input(x, "x", columns=1) for x, _ in mini_batch])
        y = np.hstack([self._check_target(y, columns=1) for _, y in mini_batch])
        m = len(mini_batch)
        self._check_trainable()
        with np.errstate(over="ignore"):
            nabla_b, nabla_w = self._backprop_batch(x, y, self._workspace(m), scale=eta / m)
        self._book_fresh_parameters()
        # the training loop's SGD step: L2 shrink by (1 − ηλ/n), then w -= nabla_w
        SGD(eta, lmbda=lmbda).step(self.weights, self.biases, nabla_w, nabla_b, n)

    def SGD(self, training_data, epochs, mini_batch_size, eta, test_data=None):
        """Train with mini-batch stochastic gradient descent (the book's network.py).

        training_data: list (or any iterable, e.g. a ``zip``) of ``(x, y)`` with x
        ``(sizes[0], 1)`` and y one-hot ``(sizes[-1], 1)``. test_data: ``(x, label)`` pairs
        with int labels. Each epoch shuffles (an index permutation from ``self.rng``; the
        caller's list is left as it was), cuts consecutive mini-batches, and prints
        ``Epoch j: correct / n_test`` or ``Epoch j complete``. Returns None, as the book's does.
        """
        from .train import TrainConfig, train

        X, Y = self._book_training_arrays(training_data)
        if test_data is not None:
            test_data = _items(test_data, "test_data")
        # the book tests `if test_data:`, so an empty list means no test data
        test = self._book_test_arrays(test_data) if test_data else None
        self._book_fresh_parameters()

        def report(record):
            if test is not None:
                print(f"Epoch {record.epoch}: {record.test_correct} / {record.test_total}")
            else:
                print(f"Epoch {record.epoch} complete")

        train(self, X, Y, TrainConfig(epochs=epochs, mini_batch_size=mini_batch_size, eta=eta,
                                      monitor_training_cost=False),
              test=test, on_epoch_end=report)

    def evaluate(self, test_data):
        """Number of ``(x, label)`` pairs whose predicted class (the output's argmax, or with
        one output whether it exceeds 0.5) equals the label (an int); 0 for no pairs, as the
        book's sum over an empty list."""
        test_data = _items(test_data, "test_data")
        if not test_data:
            return 0
        X, labels = self._book_test_arrays(test_data)
        return int(np.count_nonzero(self.predict(X) == labels))

    def cost_derivative(self, output_activations, y):
        """∂C_x/∂a for the quadratic cost: a − y (the book's method)."""
        return output_activations - y

    # -- the array interface -------------------------------------------------------------------
    def fit(self, X, y, epochs=30, batch_size=None, eta=3.0, **options):
        """Train on rows ``X`` ``(n_samples, sizes[0])`` and labels ``y``.

        y: int labels ``(n_samples,)`` in ``[0, sizes[-1])`` (0 or 1 with one output) or
        one-hot/target rows ``(n_samples, sizes[-1])``. ``options`` are the fields of
        :class:`bprop.train.TrainConfig` (``lmbda``, ``optimizer``, ...; its
        ``mini_batch_size`` may stand for ``batch_size``, default 10) plus
        ``validation=(X_val, y_val)``, ``test=(X_test, y_test)``, ``on_epoch_end``,
        ``callbacks`` and ``workers`` (as :func:`bprop.train.train` takes them).
        Returns a :class:`bprop.train.History`.
        """
        from .train import TrainConfig, train

        extra = {k: options.pop(k) for k in ("validation", "test", "on_epoch_end", "callbacks",
                                             "workers") if k in options}
        if "mini_batch_size" in options:                # TrainConfig's own name
            if batch_size is not None and options["mini_batch_size"] != batch_size:
                raise ConfigError(f"fit got batch_size={batch_size!r} and mini_batch_size="
                                  f"{options['mini_batch_size']!r}; give one")
            batch_size = options.pop("mini_batch_size")
        batch_size = 10 if batch_size is None else batch_size
        known = {f.name for f in dataclasses.fields(TrainConfig)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(f"fit got unknown option{'s' if len(unknown) > 1 else ''} "
                              f"{', '.join(unknown)}; it takes epochs, batch_size, eta, "
                              f"validation, test, on_epoch_end, callbacks, workers and "
                              f"{', '.join(sorted(known - {'epochs', 'eta'}))}")
        config = TrainConfig(epochs=epochs, mini_batch_size=batch_size, eta=eta, **options)
        return train(self, X, y, config, **extra)

    def predict_proba(self, X):
        """Output activations for rows X: ``(n_samples, sizes[-1])``, one row per example.

        With a softmax output each row is a probability distribution; with sigmoid outputs
        each entry lies in (0, 1) but a row need not sum to 1 (``bprop predict`` divides by
        the sum, :func:`bprop.predict.output_scores`). ``DataError`` when an output
        overflows, rather than an argmax of inf or nan.
        """
        X = self.check_X(X)
        self._check_parameters(finite=True)
        out = np.empty((X.shape[0], self.sizes[-1]), self.dtype)
        chunk = ROWS_PER_PASS
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, X.shape[0], chunk):
                out[start:start + chunk] = self.feedforward(X[start:start + chunk].T).T
        bad = ~np.isfinite(out).all(axis=1)
        if bad.any():       # argmax of inf or nan would name class 0: a wrong answer
            raise OutputOverflowError(f"the network's outputs overflow ({self.dtype.name}) for "
                            f"{int(bad.sum())} of {len(X)} examples (first in row "
                            f"{int(np.flatnonzero(bad)[0])}): its weights are too large")
        return out

    def predict(self, X):
        """Predicted class for each row of X: the argmax of the output (first index on
        ties), or with one output 1 where it exceeds 0.5 (:func:`predicted_classes`)."""
        return predicted_classes(self.predict_proba(X))

    def score(self, X, y):
        """Fraction of rows of X whose predicted class equals the label."""
        labels = self._labels_of(y, len(self.check_X(X)))
        return float(np.mean(self.predict(X) == labels))

    def mean_cost(self, X, y, lmbda=0.0, l1=0.0):
        """Mean cost over rows X (labels or target rows y), plus the regularisation terms
        ½(λ/n)Σ‖w‖² and (λ₁/n)Σ|w|, n = len(X) (as the book's ``total_cost``).

        The log costs with a sigmoid or softmax output are computed from the output layer's
        zᴸ (:func:`bprop.costs.cost_from_logits`), exactly even where aᴸ rounds to 0 or 1.
        """
        check_number(lmbda, "lmbda")
        check_number(l1, "l1")
        lmbda, l1 = float(lmbda), float(l1)
        X = self.check_X(X)
        Y = self.targets(y, len(X))
        cost = 0.0
        chunk = ROWS_PER_PASS
        # a diverging run's overflow comes out as an inf or nan cost, which train reports
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, len(X), chunk):
                cost += self._summed_cost(X[start:start + chunk].T, Y[start:start + chunk].T)
        cost /= len(X)
        if lmbda:
            cost += sum(squared_norm_times(0.5 * lmbda / len(X), w) for w in self.weights)
        if l1:
            cost += l1 / len(X) * sum(float(np.abs(w).sum(dtype=np.float64)) for w in self.weights)
        return cost

    def save(self, path):
        """Write the network to a ``.npz`` model file, atomically (see :mod:`bprop.io`)."""
        from .io import save

        save(self, path)

    # -- validation at the boundary ------------------------------------------------------------
    def _check_input(self, a, name, columns=None):
        a = _as_float(a, name, self.dtype)
        n_in = self.sizes[0]
        if a.ndim != 2 or a.shape[0] != n_in or (columns is not None and a.shape[1] != columns):
            want = f"({n_in}, 1)" if columns == 1 else f"({n_in}, 1) or ({n_in}, m)"
            raise ShapeError(f"{name} has shape {a.shape}; expected {want}")
        _check_finite(a, name)
        return a

    def _check_target(self, y, columns):
        y = _as_float(y, "y", self.dtype)
        shape = (self.sizes[-1], columns)
        if y.shape != shape:
            raise ShapeError(f"y has shape {y.shape}; expected {shape} "
                             f"(one-hot column{'s' if columns != 1 else ''})")
        _check_finite(y, "y")
        return y

    def _check_trainable(self):
        """Before training: finite parameters, and a cost that can learn with this output
        layer (checked here, not in the constructor, so that older model files still load)."""
        self._check_parameters(finite=True)
        if self.cost.name == "log-likelihood" and self.sizes[-1] == 1:
            raise ConfigError("the log-likelihood cost −ln a_y with one output learns only "
                              "from class-1 examples; a binary classifier with one output "
                              "needs the cross-entropy (or quadratic) cost")

    def _check_parameters(self, finite=False):
        """Check weights/biases the user may have assigned; cast them to the network's dtype.

        finite: also refuse nan or inf in them (once per training run or evaluation, where
        they would otherwise come out as a wrong accuracy or a 'diverged' message; not in
        the per-example methods, where it would double the cost).
        """
        for name in ("weights", "biases"):     # the user may assign a tuple, as the book allows
            arrays = getattr(self, name)
            if not isinstance(arrays, list):
                if isinstance(arrays, np.ndarray) or not hasattr(arrays, "__iter__"):
                    raise ShapeError(f"{name} must be a list of arrays, one per layer; got "
                                     f"{type(arrays).__name__}")
                setattr(self, name, list(arrays))
        if len(self.weights) != self.num_layers - 1 or len(self.biases) != self.num_layers - 1:
            raise ShapeError(f"expected {self.num_layers - 1} weight and bias arrays; got "
                             f"{len(self.weights)} and {len(self.biases)}")
        for i, (n_in, n_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            for name, arrays, shape in (("weights", self.weights, (n_out, n_in)),
                                        ("biases", self.biases, (n_out, 1))):
                try:
                    p = np.asarray(arrays[i])
                except ValueError:      # ragged nesting
                    raise ShapeError(f"{name}[{i}] is not an array of shape {shape}") from None
                if p.shape != shape:
                    raise ShapeError(f"{name}[{i}] has shape {p.shape}; expected {shape}")
                if p.dtype.kind not in "fiub":
                    raise DataError(f"{name}[{i}] must hold real numbers; got dtype {p.dtype}")
                if type(arrays[i]) is not np.ndarray or p.dtype != self.dtype or \
                        not p.flags.c_contiguous or not p.flags.writeable:
                    arrays[i] = np.array(p, dtype=self.dtype, order="C")
                if finite and not np.isfinite(arrays[i]).all():
                    bad = int(np.count_nonzero(~np.isfinite(arrays[i])))
                    raise DataError(f"{name}[{i}] holds {bad} non-finite value"
                                    f"{'s' if bad != 1 else ''} (nan or inf)")

    def check_X(self, X):
        """X as a float array ``(n_samples, sizes[0])`` of the network's dtype, or raise."""
        X = _as_float(X, "X", self.dtype)
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise ShapeError(f"X has shape {X.shape}; expected (n_samples, {self.sizes[0]})")
        if X.shape[0] == 0:
            raise DataError("X is empty (0 samples)")
        _check_finite(X, "X")
        return X

    def _labels(self, y, n):
        """Int labels ``(n,)`` checked against the classes the network tells apart."""
        return _check_labels(y, n, self.n_classes, self.sizes[-1])

    def _labels_of(self, y, n):
        """Int labels from int labels or one-hot rows, checked against the output layer."""
        y = np.asarray(y)
        if y.ndim == 2 and y.shape == (n, self.sizes[-1]):
            y = _as_float(y, "y", self.dtype)
            _check_finite(y, "y")
            return predicted_classes(y)
        return self._labels(y, n)

    def targets(self, y, n):
        """Target rows ``(n, sizes[-1])`` from int labels or target rows, or raise."""
        y = np.asarray(y)
        if y.ndim == 2:
            if y.shape != (n, self.sizes[-1]):
                raise ShapeError(f"y has shape {y.shape}; expected ({n},) labels or "
                                 f"({n}, {self.sizes[-1]}) one-hot rows")
            y = _as_float(y, "y", self.dtype)
            _check_finite(y, "y")
            return y
        labels = self._labels(y, n)
        Y = np.zeros((n, self.sizes[-1]), self.dtype)
        if self.sizes[-1] == 1:         # a binary classifier: the target is the label
            Y[:, 0] = labels
        else:
            Y[np.arange(n), labels] = 1.0
        return Y

    def _book_fresh_parameters(self):
        """New weight and bias arrays, as the book's updates make: the training below works
        in place, and arrays the caller holds from before must keep their values."""
        self._check_parameters()
        self.weights = [np.array(w, dtype=self.dtype) for w in self.weights]
        self.biases = [np.array(b, dtype=self.dtype) for b in self.biases]

    def _book_training_arrays(self, training_data, name="training_data"):
        """Rows X, Y from the book's list (or iterable) of (x column, one-hot y column);
        ``name`` is the caller's argument, for the errors."""
        pairs = [_pair(item, i, name) for i, item in enumerate(_items(training_data, name))]
        if not pairs:
            raise DataError(f"{name} is empty")
        X = np.empty((len(pairs), self.sizes[0]), self.dtype)
        Y = np.empty((len(pairs), self.sizes[-1]), self.dtype)
        for i, (x, y) in enumerate(pairs):
            X[i] = self._check_book_column(x, self.sizes[0], "x", i)
            Y[i] = self._check_book_column(y, self.sizes[-1], "y", i)
        return X, Y

    def _book_test_arrays(self, test_data, name="test_data"):
        """Rows X and int labels from the book's (x column, int label) pairs; ``name`` is
        the caller's argument, for the errors."""
        pairs = [_pair(item, i, name) for i, item in enumerate(_items(test_data, name))]
        if not pairs:
            raise DataError(f"{name} is empty")
        X = np.empty((len(pairs), self.sizes[0]), self.dtype)
        for i, (x, _) in enumerate(pairs):
            X[i] = self._check_book_column(x, self.sizes[0], "x", i)
        labels = np.array([self._book_label(label, i) for i, (_, label) in enumerate(pairs)])
        return X, self._labels(labels, len(pairs))

    def _book_label(self, label, i):
        """An int class label from the book's label: an int (or a 1-element array), or a
        one-hot column or row given where a label was expected."""
        try:
            a = np.asarray(label)
        except ValueError:      # ragged nesting
            raise ShapeError(f"label of example {i} is not an int class label or a one-hot "
                             f"column") from None
        if a.size == 1:
            return a.reshape(())[()]
        if a.shape in ((self.sizes[-1], 1), (self.sizes[-1],)):
            return int(predicted_classes(a.reshape(1, -1))[0])
        raise ShapeError(f"label of example {i} has shape {a.shape}; expected an int class "
                         f"label (or a one-hot column of {self.sizes[-1]})")

    @staticmethod
    def _check_book_column(v, n, name, i):
        try:
            v = np.asarray(v)
        except ValueError:      # ragged nesting
            raise ShapeError(f"{name} of example {i} is not a ({n}, 1) column") from None
        if v.shape not in ((n, 1), (n,)):
            raise ShapeError(f"{name} of example {i} has shape {v.shape}; expected ({n}, 1)")
        v = v.reshape(n)
        if v.dtype.kind not in "fiub" or not np.all(np.isfinite(v)):
            raise DataError(f"{name} of example {i} is not finite numbers")
        return v


# -- classes from outputs -----------------------------------------------------------------------
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


# -- helpers ------------------------------------------------------------------------------------
def _check_sizes(sizes):
    try:
        sizes = list(sizes)
    except TypeError:
        raise ConfigError(f"sizes must be a list of layer widths; got {sizes!r}") from None
    if len(sizes) < 2:
        raise ConfigError(f"sizes needs at least two layers (input and output); got {sizes}")
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, Integral) or s <= 0:
            raise ConfigError(f"layer widths must be positive integers; got {sizes}")
    return [int(s) for s in sizes]


def _check_fits_in_memory(sizes, dtype):
    """ConfigError for a network whose weights and biases alone would not fit in this
    machine's memory (a typo such as ``--hidden 3000000000``), before NumPy tries."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):      # not a POSIX system: let NumPy try
        return
    n = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    if n * dtype.itemsize > memory > 0:
        raise ConfigError(f"sizes {sizes} make {n:,} weights and biases, "
                          f"{n * dtype.itemsize / 2**30:,.1f} GiB in {dtype.name}: more than "
                          f"this machine's {memory / 2**30:,.1f} GiB of memory")


def _layer_activations(activations, output, n):
    if isinstance(activations, (str, Activation)):
        names = [activations] * n
    else:
        try:
            names = list(activations)
        except TypeError:
            raise ConfigError(f"activations must be a name or a list of names; "
                              f"got {activations!r}") from None
        if len(names) != n:
            raise ConfigError(f"activations has {len(names)} entries; expected {n} "
                              f"(one per layer after the input)")
    if output is not None:
        names[-1] = output
    acts = [get_activation(a) for a in names]
    for act in acts[:-1]:
        if not act.elementwise:
            raise ConfigError(f"{act.name} is only allowed as the output layer's activation")
    return acts


def _as_float(a, name, dtype):
    if type(a) is np.ndarray and a.dtype == dtype:
        return a
    if isinstance(a, np.ma.MaskedArray) and np.ma.is_masked(a):
        raise DataError(f"{name} is a masked array with {int(np.ma.count_masked(a))} masked "
                        f"values; fill or drop them first")
    try:
        arr = np.asarray(a)     # a plain array: np.matrix and masked arrays are subclasses
        if type(arr) is not np.ndarray:
            arr = np.array(arr)
    except (TypeError, ValueError):
        raise DataError(f"{name} is not a numeric array") from None
    if arr.dtype.kind not in "fiub":
        raise DataError(f"{name} must be numeric; got dtype {arr.dtype}")
    with np.errstate(over="ignore"):
        out = arr.astype(dtype, copy=False)
    if arr.dtype.kind == "f" and arr.dtype.itemsize > np.dtype(dtype).itemsize \
            and np.isinf(out).any() and not np.isinf(arr).any():
        big = np.finfo(dtype).max
        raise DataError(f"{name} holds values beyond {np.dtype(dtype).name}'s range "
                        f"(±{big:.3g}); scale them, or use float64")
    return out


def _check_finite(a, name):
    # in chunks of rows, so that checking a large data set allocates little
    chunk = ROWS_PER_PASS
    if all(np.isfinite(a[i:i + chunk]).all() for i in range(0, max(len(a), 1), chunk)):
        return
    bad = ~np.isfinite(a)
    first = np.argwhere(bad)[0]
    where = f"row {first[0]}" if a.ndim == 2 else f"index {tuple(first)}"
    raise DataError(f"{name} contains {int(bad.sum())} non-finite values (first in {where})")


def _check_labels(y, n, n_classes, n_outputs=None):
    """Int labels ``(n,)`` in ``[0, n_classes)``; ``n_outputs``: the width of the target
    rows the error message offers instead (default n_classes)."""
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n:
        raise ShapeError(f"y has shape {y.shape}; expected ({n},) labels or "
                         f"({n}, {n_outputs or n_classes}) one-hot rows")
    if y.dtype.kind == "b":         # a binary classifier's labels: False/True are 0/1
        y = y.astype(np.int64)
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise DataError("labels must be integers; got non-integer values")
    elif y.dtype.kind not in "iu":
        raise DataError(f"labels must be integers; got dtype {y.dtype}")
    if n and (y.min() < 0 or y.max() >= n_classes):     # before a cast could wrap them
        lo, hi = (f"{v:g}" if y.dtype.kind == "f" else str(v) for v in (y.min(), y.max()))
        raise DataError(f"labels must be integers in [0, {n_classes}); got min={lo}, max={hi}")
    return y.astype(np.int64, copy=False)


def _items(data, what):
    """The book's data as a list (any iterable of items), or a one-line error."""
    try:
        return list(data)
    except TypeError:
        raise DataError(f"{what} must be a list (or an iterable) of (x, y) pairs; got "
                        f"{type(data).__name__}") from None


def _pair(item, i, what):
    """The book's ``(x, y)`` item, or a one-line error naming which item is not one."""
    try:
        x, y = item
    except (TypeError, ValueError):
        raise DataError(f"{what} item {i} is not an (x, y) pair") from None
    return x, y
