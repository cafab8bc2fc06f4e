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
quadratic cost, weights and biases from N(0, 1), and without ``rng`` the book's mode
(:attr:`Network.book_mode`): NumPy's global generator, Python's ``random.shuffle`` and the
book's per-example arithmetic in ``SGD``, so that a book program seeded as the book's
scripts are prints the book's numbers (:mod:`bprop.book`).
"""

from __future__ import annotations

from operator import attrgetter, is_

import numpy as np

from . import backprop as core
from . import book, validate
from .activations import sigmoid, sigmoid_prime  # noqa: F401  (the book's module-level names)
from .costs import get_cost
from .errors import ConfigError, DataError, check_dtype, check_number
from .modelfile import write
from .optimizers import SGD
from .outputs import mean_cost, output_rows, predicted_classes
from .training import fit
from .validate import (as_rng, check_example, check_fits_in_memory, check_input,
                       check_output_layer, check_parameters, check_sizes, check_step,
                       check_target, check_trainable, labels_of, layer_activations)
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
_shape = attrgetter("shape")
_INIT_ALIASES = {"large": "normal", "book": "normal", "default": "scaled-normal",
                 "glorot": "xavier", "kaiming": "he"}


def _no_caches():
    """A network's caches, empty: its buffers per mini-batch size (``Network.workspace``),
    and the parameters, their shapes and the number of weights last found good."""
    return {"_workspaces": {}, "_checked": ([], [], 0)}


class Network:
    """A feedforward network of dense layers.

    sizes: layer widths, input first (at least two layers, all positive).
    activations: one name for every layer, or a list with one name per non-input layer
        (identity, relu, sigmoid, tanh; softmax only last). Default sigmoid, as the book's.
    output: activation of the output layer, overriding the last of ``activations``.
    cost: "quadratic" (the book's chapters 1-2), "cross-entropy", "log-likelihood", or one
        of the cost classes in :mod:`bprop.costs`.
    init: "normal" (the book's N(0, 1)), "scaled-normal" (N(0, 1/n_in), network2's),
        "xavier", or "he".
    rng: seed or ``numpy.random.Generator`` for the initial weights, shuffling and dropout;
        or None (the default): the book's mode (:attr:`book_mode`), in which a program
        seeded as the book's scripts are (``random.seed``, ``np.random.seed``) prints the
        book's numbers: the weights come from NumPy's global generator as the book draws
        them, and ``SGD`` shuffles the caller's list with ``random.shuffle`` and computes
        each mini-batch example by example, in the book's order of operations.
    dtype: float64 (default, exact) or float32 (faster).
    """

    def __init__(self, sizes, activations="sigmoid", cost="quadratic", init="normal", *,
                 output=None, rng=None, dtype=np.float64):
        self.sizes = check_sizes(sizes)
        self.num_layers = len(self.sizes)
        self.dtype = check_dtype(dtype)
        check_fits_in_memory(self.sizes, self.dtype)
        self.activations = layer_activations(activations, output, self.num_layers - 1)
        self.cost = cost
        self.rng = rng
        self.initialize(init)
        vars(self).update(_no_caches())

    def __getstate__(self):     # pickles leave the caches behind
        return {**vars(self), **_no_caches()}

    def __setstate__(self, state):      # older bprops' pickles hold caches of other forms
        vars(self).update(state, **_no_caches())

    def __copy__(self):
        """A shallow copy with buffers of its own (it may compute in another dtype)."""
        twin = object.__new__(type(self))
        vars(twin).update(vars(self), _workspaces={})
        return twin

    # -- set-up --------------------------------------------------------------------------------
    @property
    def cost(self):
        """The cost class (:mod:`bprop.costs`); a name or class assigned is checked."""
        return self._cost

    @cost.setter
    def cost(self, cost):
        cost = get_cost(cost)
        check_output_layer(self.sizes, self.activations[-1], cost)
        self._cost = cost

    @property
    def rng(self):
        """The ``numpy.random.Generator`` for shuffling, dropout and image shifts; with
        ``rng=None`` seeded when first needed from NumPy's, so ``np.random.seed`` holds."""
        if self._rng is None:
            self._rng = np.random.default_rng(np.random.randint(2**63, dtype=np.int64))
        return self._rng

    @rng.setter
    def rng(self, rng):
        #: Made with ``rng=None``: the book's generators and per-example arithmetic in SGD.
        self.book_mode = rng is None
        self._rng = None if rng is None else as_rng(rng)

    def initialize(self, init="normal"):
        """Draw fresh weights and biases with the named initialiser (:func:`initial_parameters`:
        from ``self.rng``, or in :attr:`book_mode` as the book draws them), and record its
        name in ``self.init`` (model files and the diagnostics' advice read it)."""
        name = _INIT_ALIASES.get(init, init) if isinstance(init, str) else init
        if not isinstance(name, str) or name not in INITIALIZERS:
            raise ConfigError(f"unknown init {init!r}; choose from {', '.join(INITIALIZERS)}")
        self.init = name
        self.biases, self.weights = initial_parameters(
            self.sizes, name, None if self.book_mode else self.rng, self.dtype)

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
    def overridden(self):
        """The book's methods (``book.BOOK_METHODS``) this class redefines; ``fit`` refuses."""
        return book.overrides(self, Network)

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

    def _check_parameters(self):
        """:func:`bprop.validate.check_parameters`, skipped while the weights and the biases
        are the very arrays, of the same shapes, that it last passed (the per-example methods
        call this on every call; the book lets a program assign new weights at any time)."""
        weights, biases = self.weights, self.biases
        if type(weights) is list and type(biases) is list:
            params = weights + biases
            checked, shapes, n_weights = self._checked
            if len(weights) == n_weights and len(params) == len(checked) and \
                    all(map(is_, params, checked)) and list(map(_shape, params)) == shapes:
                return
        check_parameters(self)
        params = self.weights + self.biases
        self._checked = params, list(map(_shape, params)), len(self.weights)

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
        self._check_parameters()
        return core.feedforward(self, a)

    def backprop(self, x, y):
        """Gradient of C_x for one example (BP1-BP4), the book's per-example algorithm.

        x: ``(sizes[0], 1)``; y: ``(sizes[-1], 1)``. Returns ``(nabla_b, nabla_w)`` shaped
        like ``self.biases`` and ``self.weights`` (:func:`bprop.backprop.backprop`).
        """
        x, y = check_example(self, x, y)
        self._check_parameters()
        return core.backprop(self, x, y, book.cost_derivative_of(self, Network))

    def backprop_batch(self, x, y):
        """Gradient of Σₓ C_x over a mini-batch, matrix-based (the chapter's Problem).

        x: ``(sizes[0], m)``, one example per column; y: ``(sizes[-1], m)``. Returns new
        ``(nabla_b, nabla_w)`` lists: the sums over the batch of what :meth:`backprop` gives
        for each column (:func:`bprop.backprop.backprop_batch`).
        """
        x = check_input(self, x, "x")
        y = check_target(self, y, columns=x.shape[1])
        self._check_parameters()
        with np.errstate(over="ignore"):
            nabla_b, nabla_w = core.backprop_batch(self, x, y, self.workspace(x.shape[1]),
                                                   gradient=book.cost_derivative_of(self, Network))
        return [nb.copy() for nb in nabla_b], [nw.copy() for nw in nabla_w]

    def update_mini_batch(self, mini_batch, eta, lmbda=0.0, n=None):
        """One gradient-descent step on a mini-batch of ``(x, y)`` pairs.

        w ← (1 − η·λ/n)·w − (η/m)·Σ∇w and b ← b − (η/m)·Σ∇b, m = len(mini_batch). With
        the default ``lmbda=0`` this is network.py's method; with ``lmbda`` and ``n`` (the
        training-set size) it is network2.py's. The gradients come from the matrix-based
        backprop, the examples stacked as the columns of one matrix; in :attr:`book_mode`, or
        where a subclass overrides ``backprop`` or ``cost_derivative``, from ``backprop`` of
        each example, summed in order as the book's method does (:func:`bprop.book.step`).
        """
        mini_batch = book.pairs(mini_batch, "mini_batch")
        if not mini_batch:
            raise DataError("mini_batch is empty")
        check_step(eta, lmbda, n)
        m = len(mini_batch)
        if self.book_mode or book.overrides(self, Network, ("backprop", "cost_derivative")):
            columns = [(check_input(self, x, "x", columns=1), check_target(self, y, columns=1))
                       for x, y in mini_batch]
            check_trainable(self)
            book.fresh_parameters(self)
            book.step(self, columns, eta, lmbda, n, book.backprop_of(self, Network))
            return
        x = np.hstack([check_input(self, x, "x", columns=1) for x, _ in mini_batch])
        y = np.hstack([check_target(self, y, columns=1) for _, y in mini_batch])
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
        with int labels. Each epoch shuffles (:class:`bprop.book.Shuffle`: with ``rng=None``
        Python's ``random.shuffle`` of the caller's list, as the book does; else a permutation
        from ``self.rng``, the list left as it was), cuts consecutive mini-batches, and prints
        ``Epoch j: correct / n_test`` or ``Epoch j complete``. Returns None, as the book's does.

        With ``rng=None`` (:attr:`book_mode`) each mini-batch is trained by the book's
        per-example arithmetic, so that a seeded program gives the book's numbers bit for bit;
        with an ``rng``, by the matrix-based backprop. A subclass that overrides
        ``backprop``, ``cost_derivative``, ``update_mini_batch`` or ``feedforward`` is trained
        through them, one ``update_mini_batch`` call per mini-batch, and its ``evaluate``
        (the book's, through ``feedforward``) counts the test results.
        """
        book.sgd(self, Network, training_data, epochs, mini_batch_size, eta, test_data)

    def evaluate(self, test_data):
        """Number of ``(x, label)`` pairs whose predicted class (the output's argmax, or with
        one output whether it exceeds 0.5) equals the label (an int); 0 for no pairs, as the
        book's sum over an empty list."""
        test_data = book.items(test_data, "test_data")
        if not test_data:
            return 0
        if book.overrides(self, Network, ("feedforward",)):     # the book's, through it
            return sum(int(np.argmax(self.feedforward(x)) == y) for x, y in test_data)
        X, y = book.test_arrays(self, test_data)
        return int(np.count_nonzero(self.predict(X) == y))

    def cost_derivative(self, output_activations, y):
        """∂C_x/∂a for the quadratic cost: a − y (the book's method)."""
        return output_activations - y

    # -- the array interface -------------------------------------------------------------------
    def fit(self, X, y, epochs=30, batch_size=None, eta=3.0, verbose=0, **options):
        """Train on rows ``X`` ``(n_samples, sizes[0])`` and labels ``y``.

        y: int labels ``(n_samples,)`` in ``[0, sizes[-1])`` (0 or 1 with one output) or
        one-hot/target rows ``(n_samples, sizes[-1])``. ``options`` are the fields of
        :class:`bprop.TrainConfig` (``lmbda``, ``optimizer``, ...; its ``mini_batch_size``
        may stand for ``batch_size``, default 10) plus ``validation=(X_val, y_val)``,
        ``test=(X_test, y_test)``, ``on_epoch_end``, ``callbacks``, ``workers``, ``comm`` (an
        MPI communicator) and ``threads`` (BLAS threads), as :func:`bprop.train` takes them. verbose: print a line
        per epoch (``epoch 3/30  running_cost 0.1234  test_acc 0.9490  time 0.450s``).
        Returns a :class:`bprop.History`.
        """
        return fit(self, X, y, epochs, batch_size, eta, verbose, **options)

    def predict_proba(self, X):
        """Output activations for rows X: ``(n_samples, sizes[-1])``, one row per example.

        With a softmax output each row is a probability distribution; with sigmoid outputs
        each entry lies in (0, 1) but a row need not sum to 1 (``bprop predict`` divides by
        the sum, :func:`bprop.predict.output_scores`). ``OutputOverflowError`` when an
        output overflows, rather than an argmax of inf or nan.
        """
        X = self.check_X(X)
        self._check_parameters()        # shapes and dtypes; nan or inf: output_rows asks
        return output_rows(self, X, lambda: check_parameters(self, finite=True))

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
        check_parameters(self, finite=True)
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


def initial_parameters(sizes, init, rng, dtype):
    """``(biases, weights)`` drawn with the initialiser ``init`` (a key of
    :data:`INITIALIZERS`): biases first, then weights, layer by layer, as the book's
    constructor draws them; from the Generator ``rng``, or with ``rng=None`` from NumPy's
    global generator exactly as the book's ``np.random.randn(y, x)`` (``/ np.sqrt(x)`` for
    network2's scaled-normal), so that ``np.random.seed`` gives the book's weights."""
    w_std, b_std = INITIALIZERS[init]
    pairs = list(zip(sizes[:-1], sizes[1:]))
    if rng is None:
        biases = [b_std * np.random.randn(n_out, 1) for _, n_out in pairs]
        weights = [np.random.randn(n_out, n_in) / np.sqrt(n_in) if init == "scaled-normal"
                   else w_std(n_in, n_out) * np.random.randn(n_out, n_in)
                   for n_in, n_out in pairs]
    else:
        biases = [b_std * rng.standard_normal((n_out, 1)) for _, n_out in pairs]
        weights = [w_std(n_in, n_out) * rng.standard_normal((n_out, n_in))
                   for n_in, n_out in pairs]
    return [b.astype(dtype) for b in biases], [w.astype(dtype) for w in weights]
