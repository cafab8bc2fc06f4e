"""The book's ways, as bprop keeps them: its data formats, its shuffle, its SGD loop.

* Data: the book's code passes lists of pairs, ``(x (n_in, 1), y (n_out, 1) one-hot)`` for
  training, ``(x (n_in, 1), int label)`` for testing. :func:`training_arrays` and
  :func:`test_arrays` turn such lists (or any iterable, e.g. a ``zip``) into the rows the
  training loop takes, checking every item on the way with a one-line error naming the item.
  :func:`vectorized_result` is the book's one-hot column.
* Order: :class:`Shuffle` gives each epoch's order of the examples: Python's
  ``random.shuffle`` of the caller's list, as the book's ``SGD`` shuffles it, for a network
  made without ``rng``; a permutation from ``net.rng`` otherwise.
* The loop: :func:`sgd` is ``Network.SGD`` (and :func:`train_epochs` network2's too): the
  book's loop, each mini-batch trained through a subclass's overridden methods
  (:func:`overrides`), or in ``book_mode`` by the book's own arithmetic (:func:`step`, bit
  for bit its numbers), or else by the matrix-based loop of :mod:`bprop.training`.

``bprop.Network``, ``bprop.network2`` and ``bprop.mnist_loader`` use these.
"""

from __future__ import annotations

import random

import numpy as np

from .errors import DataError, ShapeError, check_class_index
from .outputs import predicted_classes
from . import backprop as core
from .optimizers import SGD
from .training import TrainConfig, train
from .numerics import all_finite
from .validate import check_n_classes, check_parameters, check_trainable, labels


def items(data, what):
    """The book's data as a list (from any iterable of items), or a one-line error."""
    try:
        return list(data)
    except TypeError:
        raise DataError(f"{what} must be a list (or an iterable) of (x, y) pairs; got "
                        f"{type(data).__name__}") from None


def pair(item, i, what):
    """The book's ``(x, y)`` item, or a one-line error naming which item is not one."""
    try:
        x, y = item
    except (TypeError, ValueError):
        raise DataError(f"{what} item {i} is not an (x, y) pair") from None
    return x, y


def pairs(data, what):
    """Every item of ``data`` as an ``(x, y)`` pair (:func:`items`, :func:`pair`)."""
    return [pair(item, i, what) for i, item in enumerate(items(data, what))]


def training_arrays(net, data, name="training_data"):
    """Rows X, Y from the book's list (or iterable) of (x column, one-hot y column); ``name``
    is the caller's argument, for the errors."""
    data = pairs(data, name)
    if not data:
        raise DataError(f"{name} is empty")
    return rows(net, [x for x, _ in data], net.sizes[0], "x"), \
        rows(net, [y for _, y in data], net.sizes[-1], "y")


def test_arrays(net, data, name="test_data"):
    """Rows X and int labels from the book's (x column, int label) pairs; ``name`` is the
    caller's argument, for the errors."""
    data = pairs(data, name)
    if not data:
        raise DataError(f"{name} is empty")
    X = rows(net, [x for x, _ in data], net.sizes[0], "x")
    found = np.array([label(net, y, i) for i, (_, y) in enumerate(data)])
    return X, labels(net, found, len(data))


def label(net, value, i):
    """An int class label from the book's label: an int (or a 1-element array), or a one-hot
    column or row given where a label was expected."""
    try:
        a = np.asarray(value)
    except ValueError:      # ragged nesting
        raise ShapeError(f"label of example {i} is not an int class label or a one-hot "
                         f"column") from None
    if a.size == 1:
        return a.reshape(())[()]
    if a.shape in ((net.sizes[-1], 1), (net.sizes[-1],)):
        return int(predicted_classes(a.reshape(1, -1))[0])
    raise ShapeError(f"label of example {i} has shape {a.shape}; expected an int class "
                     f"label (or a one-hot column of {net.sizes[-1]})")


def rows(net, columns, n, name):
    """The book's ``(n, 1)`` columns (or ``(n,)``) as rows ``(len(columns), n)`` of the
    network's dtype: in one pass where they are all float arrays of one of those shapes and
    finite, else item by item (:func:`column`), which names the first one that is not."""
    if all(type(v) is np.ndarray and v.dtype.kind == "f" and v.shape in ((n, 1), (n,))
           for v in columns):
        out = np.stack([v.reshape(n) for v in columns]).astype(net.dtype, copy=False)
        if all_finite(out):
            return out
    out = np.empty((len(columns), n), net.dtype)
    for i, v in enumerate(columns):
        out[i] = column(v, n, name, i)
    return out


def column(v, n, name, i):
    """Example i's ``x`` or ``y``: a ``(n, 1)`` column (or ``(n,)``) of finite numbers."""
    try:
        v = np.asarray(v)
    except ValueError:      # ragged nesting
        raise ShapeError(f"{name} of example {i} is not a ({n}, 1) column") from None
    if v.shape not in ((n, 1), (n,)):
        raise ShapeError(f"{name} of example {i} has shape {v.shape}; expected ({n}, 1)")
    v = v.reshape(n)
    if v.dtype.kind not in "fiub" or not all_finite(v):
        raise DataError(f"{name} of example {i} is not finite numbers")
    return v


def fresh_parameters(net):
    """New weight and bias arrays (of parameters already checked), as the book's updates
    make: bprop's training works in place, and arrays the caller holds from before must
    keep their values."""
    net.weights = [np.array(w, dtype=net.dtype) for w in net.weights]
    net.biases = [np.array(b, dtype=net.dtype) for b in net.biases]


def vectorized_result(j, n=10) -> np.ndarray:
    """The one-hot ``(n, 1)`` column for digit ``j`` (float64, as in the book; ``n`` = 10
    there), refusing a ``j`` outside [0, n) (NumPy would wrap -1 round to the last class)
    and an ``n`` that is not an integer in [1, ``bprop.validate.MAX_CLASSES``]."""
    n = check_n_classes(n, "n")
    check_class_index(j, n)
    e = np.zeros((n, 1))
    e[j] = 1.0
    return e


#: The book's methods that its exercises override; ``SGD`` then goes through them.
BOOK_METHODS = ("backprop", "cost_derivative", "update_mini_batch", "feedforward")


def overrides(net, base, names=BOOK_METHODS):
    """Which of the methods ``names`` the class of ``net`` defines anew (not ``base``'s)."""
    return {name for name in names if getattr(type(net), name) is not getattr(base, name)}


class Shuffle:
    """Each epoch's order of ``data``, the book's training list: call it with n, the number of
    examples, for an index permutation of the list as it was given.

    For a network made without ``rng`` (``net.book_mode``) the order is the book's:
    ``random.shuffle``, and a list the caller passed is left shuffled as the book's ``SGD``
    leaves its argument (``random.shuffle``'s permutation depends only on the list's length
    and the generator, so shuffling the indices shuffles the items alike). Otherwise a
    permutation from ``net.rng`` of the list as given, which is left as it was.
    """

    def __init__(self, net, data):
        self.net = net
        self.data = data if isinstance(data, list) and net.book_mode else None
        self.given = list(data) if self.data is not None else None
        #: In book mode, the caller's list as shuffled so far: ``order[k]`` is where its
        #: k-th item was when given.
        self.order = None

    def __call__(self, n):
        if not self.net.book_mode:
            return self.net.rng.permutation(n)
        if self.order is None:
            self.order = list(range(n))
        random.shuffle(self.order)
        if self.data is not None:
            self.data[:] = [self.given[i] for i in self.order]
        return np.array(self.order)


def sgd(net, base, training_data, epochs, mini_batch_size, eta, test_data=None):
    """The book's ``network.py`` ``SGD`` for ``net`` (``base``: the class whose methods count
    as not overridden): each epoch, shuffle (:class:`Shuffle`), cut consecutive mini-batches,
    train on each, print ``Epoch j: correct / n_test`` (or ``Epoch j complete``).

    How each mini-batch is trained (:func:`train_epochs`): where the class of ``net``
    overrides one of :data:`BOOK_METHODS`, by its ``update_mini_batch``, as the book's code
    runs; in ``net.book_mode``, by the book's arithmetic (:func:`step`), so that the numbers
    are the book's bit for bit; otherwise by the matrix-based loop of
    :func:`bprop.training.train`. Where the class overrides ``evaluate``, the counts are its.
    """
    pairs_ = pairs(training_data, "training_data")
    X, Y = training_arrays(net, pairs_)
    if test_data is not None:
        test_data = items(test_data, "test_data")
    # the book tests `if test_data:`, so an empty list means no test data
    evaluate = test_data and overrides(net, base, (*BOOK_METHODS, "evaluate"))
    test = test_arrays(net, test_data) if test_data and not evaluate else None
    check_parameters(net)
    fresh_parameters(net)
    config = TrainConfig(epochs=epochs, mini_batch_size=mini_batch_size, eta=eta,
                         monitor_running_cost=False)

    def report(j, record=None):
        if not test_data:
            print(f"Epoch {j} complete")
            return
        if evaluate:
            correct = net.evaluate(test_data)
        elif record is not None:
            correct = record.test_correct
        else:
            correct = int(np.count_nonzero(net.predict(test[0]) == test[1]))
        print(f"Epoch {j}: {correct} / {len(test_data)}")

    train_epochs(net, base, pairs_, X, Y, config, Shuffle(net, training_data), report,
                 lambda mini_batch: net.update_mini_batch(mini_batch, eta), test=test)


def train_epochs(net, base, pairs, X, Y, config, shuffle, report, update, test=None):
    """Train ``net`` for ``config.epochs`` on the book's ``pairs`` (and their rows X, Y) in
    ``shuffle``'s order, calling ``report(j)`` after each epoch: through ``update(mini_batch)``
    (the network's ``update_mini_batch``) where its class overrides one of
    :data:`BOOK_METHODS`; in ``net.book_mode`` by :func:`step`, the book's arithmetic; else
    by :func:`bprop.training.train`'s matrix-based loop, which also scores ``test`` (``(X,
    labels)``) and hands ``report`` the epoch's record as well."""
    mbs, n = config.mini_batch_size, len(pairs)
    overridden = overrides(net, base)
    if not overridden and not net.book_mode:    # the matrix-based loop, shuffling from net.rng
        train(net, X, Y, config, test=test,
              on_epoch_end=lambda record: report(record.epoch, record))
        return
    if overridden:
        def train_on(idx):
            update([pairs[i] for i in idx])
    else:
        check_trainable(net)
        backprop = backprop_of(net, base)
        columns = [(x[:, None], y[:, None]) for x, y in zip(X, Y)]

        def train_on(idx):
            step(net, [columns[i] for i in idx], config.eta, config.lmbda, n, backprop)
    for j in range(config.epochs):
        order = shuffle(n)
        for k in range(0, n, mbs):
            train_on(order[k:k + mbs])
        report(j)


def backprop_of(net, base):
    """The per-example gradients ``(x, y) -> (nabla_b, nabla_w)`` of the book's update: the
    network's own ``backprop`` where its class overrides it or ``cost_derivative``, else
    :func:`bprop.backprop.backprop` (the same arithmetic, without re-checking columns)."""
    if overrides(net, base, ("backprop", "cost_derivative")):
        return net.backprop
    return lambda x, y: core.backprop(net, x, y)


def cost_derivative_of(net, base):
    """The ∇ₐC that BP1 uses in the per-example ``backprop``: a subclass's own
    ``cost_derivative`` (the book's exercises override it), else None (the cost's)."""
    return net.cost_derivative if overrides(net, base, ("cost_derivative",)) else None


def step(net, columns, eta, lmbda, n, backprop):
    """The book's ``update_mini_batch``, operation for operation, in place: the gradients
    ``backprop(x, y)`` of the ``(x, y)`` columns summed in order, then
    w ← (1 − η(λ/n))·w − (η/m)·Σ∇w and b ← b − (η/m)·Σ∇b, m = len(columns). The same
    operations in the same order as the book's code, so the same numbers, bit for bit."""
    nabla_b = [np.zeros(b.shape, net.dtype) for b in net.biases]
    nabla_w = [np.zeros(w.shape, net.dtype) for w in net.weights]
    for x, y in columns:
        delta_nabla_b, delta_nabla_w = backprop(x, y)
        for nabla, delta in zip((*nabla_b, *nabla_w), (*delta_nabla_b, *delta_nabla_w)):
            nabla += delta
    scale = eta / len(columns)
    for nabla in (*nabla_b, *nabla_w):
        nabla *= scale
    SGD(eta, lmbda=lmbda).step(net.weights, net.biases, nabla_w, nabla_b, n)


def total_cost(net, X, Y, lmbda, order=None):
    """network2's ``total_cost`` over rows X and target rows Y, operation for operation (its
    numbers to the last printed digit): each example's cost (:func:`cost_of`), in ``order``
    (the book's list as shuffled so far; default as given), accumulated as
    ``cost += C_x / n``, then ½(λ/n)·Σ‖w‖² with ``np.linalg.norm``."""
    cost, n = 0.0, len(X)
    check_parameters(net)
    for i in range(n) if order is None else order:
        cost += cost_of(net.cost, core.feedforward(net, X[i][:, None]), Y[i][:, None]) / n
    return cost + 0.5 * (lmbda / n) * sum(np.linalg.norm(w) ** 2 for w in net.weights)


def cost_of(cost, a, y):
    """C_x of one example as the book's cost classes compute it: the quadratic cost as
    ½‖a − y‖² with ``np.linalg.norm``, cross-entropy as Σ −y ln a − (1 − y) ln(1 − a). Where
    that is not finite (a saturated output: the book's ``nan_to_num`` would make it 0 or
    1.8e308), bprop's own ``cost.fn``, which stays finite and right."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if cost.name == "quadratic":
            c = 0.5 * np.linalg.norm(a - y) ** 2
        elif cost.name == "cross-entropy":
            c = np.sum(-y * np.log(a) - (1 - y) * np.log(1 - a))
        else:
            return cost.fn(a, y)
    return c if np.isfinite(c) else cost.fn(a, y)
