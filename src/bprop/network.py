"""A fully connected feedforward network trained by backpropagation (chapter 2 of the book).

:class:`Network` holds the parameters: ``sizes``, ``weights[i]`` of shape ``(sizes[i+1],
sizes[i])`` and ``biases[i]`` of shape ``(sizes[i+1], 1)``, where **list index i is the
book's layer i + 2**. It draws them, offers the book's methods (``feedforward``, ``backprop``,
``update_mini_batch``, ``SGD``, ``evaluate``, ``cost_derivative``) and an array interface
that follows NumPy/scikit-learn conventions, one example per row (``fit``, ``predict``,
``predict_proba``, ``score``, ``mean_cost``).

It computes nothing itself. The maths, BP1-BP4 for one example and for a mini-batch, is in
:mod:`bprop.backprop`; outputs, classes and costs over many rows in :mod:`bprop.outputs`;
training in :mod:`bprop.training`. What the public methods are given is checked once, here
at the boundary, by :mod:`bprop.validate` (and the book's lists of pairs are turned into
arrays by :mod:`bprop.book`).

With no options ``Network(sizes)`` *is* the book's ``network.py``: sigmoid everywhere,
quadratic cost, weights and biases from N(0, 1).
"""

from __future__ import annotations

import numpy as np

from . import backprop as core
from . import book, validate
from .activations import sigmoid, sigmoid_prime  # noqa: F401  (the book's module-level names)
from .costs import get_cost
from .errors import ConfigError, DataError, check_dtype, check_int, check_number
from .modelfile import write
from .optimizers import SGD
from .outputs import mean_cost, output_rows, predicted_classes
from .training import TrainConfig, fit_config, train
from .validate import (as_rng, check_fits_in_memory, check_input, check_output_layer,
                       check_parameters, check_sizes, check_target, check_trainable, labels_of,
                       layer_activations)
# importable from bprop.network before the maths moved out of it
from .outputs import ROWS_PER_PASS, class_scores  # noqa: F401
from .validate import PROBABILITY_OUTPUTS  # noqa: F401

#: Weight initialisers: name -> (weight std as a function of (n_in, n_out), bias std).
INITIALIZERS = {
    "normal": (lambda n_in, n_out: 1.0, 1.0),                        # the book's network.py
    "scaled-normal": (lambda n_in, n_out: 1.0 / np.sqrt(n_in), 1.0),  # network2's default
    "xavier": (lambda n_in, n_out: np.sqrt(2.0 / (n_in + n_out)), 0.0),  # Glorot normal
    "he": (lambda n_in, n_out: np.sqrt(2.0 / n_in), 0.0),             # for ReLU
}
_INIT_ALIASES = {"large": "normal", "book": "normal", "default": "scaled-normal",
                 "glorot": "xavier", "kaiming": "he"}


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
        self.sizes = check_sizes(sizes)
        self.num_layers = len(self.sizes)
        self.dtype = check_dtype(dtype)
        check_fits_in_memory(self.sizes, self.dtype)
        self.activations = layer_activations(activations, output, self.num_layers - 1)
        self.cost = get_cost(cost)
        check_output_layer(self.sizes, self.activations[-1], self.cost)
        self.rng = as_rng(rng)
        self.initialize(init)
        self._workspaces = {}

    def __copy__(self):
        """A shallow copy with buffers of its own (it may compute in another dtype)."""
        twin = object.__new__(type(self))
        vars(twin).update(vars(self), _workspaces={})
        return twin

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
        binary classifier, :func:`bprop.outputs.predicted_classes`)."""
        return max(self.sizes[-1], 2)

    @property
    def n_params(self):
        return sum(w.size + b.size for w, b in zip(self.weights, self.biases))

    def __repr__(self):
        return (f"Network(sizes={self.sizes}, activations={self.activation_names}, "
                f"cost={self.cost.name!r}, dtype={self.dtype.name})")

    def workspace(self, m):
        """The preallocated buffers for backprop over m examples (a
        :class:`bprop.backprop.Workspace`), made on first use and kept for the next
        mini-batch of that size."""
        ws = self._workspaces.get(m)
        if ws is None or ws.x_rows.dtype != self.dtype:
            ws = self._workspaces[m] = core.Workspace(self.sizes, m, self.dtype)
        return ws

    # -- the book's methods (BP1-BP4 in bprop.backprop) ------------------------------------------
    def feedforward(self, a):
        """Output of the network for input ``a``: a = σ(w a + b) layer by layer.

        a: ``(sizes[0], 1)`` for one example, or ``(sizes[0], m)`` for m examples as columns.
        Returns ``(sizes[-1], 1)`` or ``(sizes[-1], m)``.
        """
        a = check_input(self, a, "a")
        check_parameters(self)
        return core.feedforward(self, a)

    def backprop(self, x, y):
        """Gradient of C_x for one example (BP1-BP4), the book's per-example algorithm.

        x: ``(sizes[0], 1)``; y: ``(sizes[-1], 1)``. Returns ``(nabla_b, nabla_w)`` shaped
        like ``self.biases`` and ``self.weights`` (:func:`bprop.backprop.backprop`).
        """
        x = check_input(self, x, "x", columns=1)
        y = check_target(self, y, columns=1)
        check_parameters(self)
        return core.backprop(self, x, y)

    def backprop_batch(self, x, y):
        """Gradient of Σₓ C_x over a mini-batch, matrix-based (the chapter's Problem).

        x: ``(sizes[0], m)``, one example per column; y: ``(sizes[-1], m)``. Returns new
        ``(nabla_b, nabla_w)`` lists: the sums over the batch of what :meth:`backprop` gives
        for each column (:func:`bprop.backprop.backprop_batch`).
        """
        x = check_input(self, x, "x")
        y = check_target(self, y, columns=x.shape[1])
        check_parameters(self)
        with np.errstate(over="ignore"):
            nabla_b, nabla_w = core.backprop_batch(self, x, y, self.workspace(x.shape[1]))
        return [nb.copy() for nb in nabla_b], [nw.copy() for nw in nabla_w]

    def update_mini_batch(self, mini_batch, eta, lmbda=0.0, n=None):
        """One gradient-descent step on a mini-batch of ``(x, y)`` pairs.

        w ← (1 − η·λ/n)·w − (η/m)·Σ∇w and b ← b − (η/m)·Σ∇b, m = len(mini_batch). With
        the default ``lmbda=0`` this is network.py's method; with ``lmbda`` and ``n`` (the
        training-set size) it is network2.py's. The gradients come from the matrix-based
        backprop: the examples are stacked as the columns of one matrix.
        """
        mini_batch = book.pairs(mini_batch, "mini_batch")
        if not mini_batch:
            raise DataError("mini_batch is empty")
        check_number(eta, "eta", positive=True)
        check_number(lmbda, "lmbda")
        if lmbda and n is None:
            raise ConfigError("n (the training-set size) is needed when lmbda is not 0")
        if n is not None:
            check_int(n, "n (the training-set size)", minimum=1)
        x = np.hstack([check_input(self, x, "x", columns=1) for x, _ in mini_batch])
        y = np.hstack([check_target(self, y, columns=1) for _, y in mini_batch])
        m = len(mini_batch)
        check_trainable(self)
        with np.errstate(over="ignore"):
            nabla_b, nabla_w = core.backprop_batch(self, x, y, self.workspace(m), scale=eta / m)
        book.fresh_parameters(self)
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
        X, Y = book.training_arrays(self, training_data)
        if test_data is not None:
            test_data = book.items(test_data, "test_data")
        # the book tests `if test_data:`, so an empty list means no test data
        test = book.test_arrays(self, test_data) if test_data else None
        book.fresh_parameters(self)

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
        test_data = book.items(test_data, "test_data")
        if not test_data:
            return 0
        X, y = book.test_arrays(self, test_data)
        return int(np.count_nonzero(self.predict(X) == y))

    def cost_derivative(self, output_activations, y):
        """∂C_x/∂a for the quadratic cost: a − y (the book's method)."""
        return output_activations - y

    # -- the array interface -------------------------------------------------------------------
    def fit(self, X, y, epochs=30, batch_size=None, eta=3.0, **options):
        """Train on rows ``X`` ``(n_samples, sizes[0])`` and labels ``y``.

        y: int labels ``(n_samples,)`` in ``[0, sizes[-1])`` (0 or 1 with one output) or
        one-hot/target rows ``(n_samples, sizes[-1])``. ``options`` are the fields of
        :class:`bprop.TrainConfig` (``lmbda``, ``optimizer``, ...; its ``mini_batch_size``
        may stand for ``batch_size``, default 10) plus ``validation=(X_val, y_val)``,
        ``test=(X_test, y_test)``, ``on_epoch_end``, ``callbacks`` and ``workers`` (as
        :func:`bprop.train` takes them). Returns a :class:`bprop.History`.
        """
        extra = {k: options.pop(k) for k in ("validation", "test", "on_epoch_end", "callbacks",
                                             "workers") if k in options}
        return train(self, X, y, fit_config(epochs, batch_size, eta, **options), **extra)

    def predict_proba(self, X):
        """Output activations for rows X: ``(n_samples, sizes[-1])``, one row per example.

        With a softmax output each row is a probability distribution; with sigmoid outputs
        each entry lies in (0, 1) but a row need not sum to 1 (``bprop predict`` divides by
        the sum, :func:`bprop.predict.output_scores`). ``OutputOverflowError`` when an
        output overflows, rather than an argmax of inf or nan.
        """
        X = self.check_X(X)
        check_parameters(self, finite=True)
        return output_rows(self, X)

    def predict(self, X):
        """Predicted class for each row of X: the argmax of the output (first index on
        ties), or with one output 1 where it exceeds 0.5 (:func:`predicted_classes`)."""
        return predicted_classes(self.predict_proba(X))

    def score(self, X, y):
        """Fraction of rows of X whose predicted class equals the label."""
        y = labels_of(self, y, len(self.check_X(X)))
        return float(np.mean(self.predict(X) == y))

    def mean_cost(self, X, y, lmbda=0.0, l1=0.0):
        """Mean cost over rows X (labels or target rows y), plus the regularisation terms
        ½(λ/n)Σ‖w‖² and (λ₁/n)Σ|w|, n = len(X) (as the book's ``total_cost``).

        The log costs with a sigmoid or softmax output are computed from the output layer's
        zᴸ (:func:`bprop.costs.cost_from_logits`), exactly even where aᴸ rounds to 0 or 1.
        """
        check_number(lmbda, "lmbda")
        check_number(l1, "l1")
        X = self.check_X(X)
        Y = self.targets(y, len(X))
        check_parameters(self)
        return mean_cost(self, X, Y, float(lmbda), float(l1))

    def check_X(self, X):
        """X as a float array ``(n_samples, sizes[0])`` of the network's dtype, or raise."""
        return validate.check_X(self, X)

    def targets(self, y, n):
        """Target rows ``(n, sizes[-1])`` from int labels or target rows, or raise."""
        return validate.targets(self, y, n)

    def save(self, path):
        """Write the network to a ``.npz`` model file, atomically (:func:`bprop.save`)."""
        write(self, path)

