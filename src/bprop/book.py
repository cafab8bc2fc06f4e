"""The book's data, as bprop takes it: lists of ``(x, y)`` columns to and from arrays.

The book's code passes data as lists of pairs: ``(x (n_in, 1), y (n_out, 1) one-hot)`` for
training, ``(x (n_in, 1), int label)`` for testing. :func:`training_arrays` and
:func:`test_arrays` turn such lists (or any iterable, e.g. a ``zip``) into the rows the
training loop takes, checking every item on the way with a one-line error naming the item.
:func:`vectorized_result` is the book's one-hot column. ``bprop.Network``,
``bprop.network2`` and ``bprop.mnist_loader`` use these; nothing here computes.
"""

from __future__ import annotations

import numpy as np

from .errors import DataError, ShapeError, check_class_index
from .outputs import predicted_classes
from .validate import check_n_classes, check_parameters, labels


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
    X = np.empty((len(data), net.sizes[0]), net.dtype)
    Y = np.empty((len(data), net.sizes[-1]), net.dtype)
    for i, (x, y) in enumerate(data):
        X[i] = column(x, net.sizes[0], "x", i)
        Y[i] = column(y, net.sizes[-1], "y", i)
    return X, Y


def test_arrays(net, data, name="test_data"):
    """Rows X and int labels from the book's (x column, int label) pairs; ``name`` is the
    caller's argument, for the errors."""
    data = pairs(data, name)
    if not data:
        raise DataError(f"{name} is empty")
    X = np.empty((len(data), net.sizes[0]), net.dtype)
    for i, (x, _) in enumerate(data):
        X[i] = column(x, net.sizes[0], "x", i)
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


def column(v, n, name, i):
    """Example i's ``x`` or ``y``: a ``(n, 1)`` column (or ``(n,)``) of finite numbers."""
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


def fresh_parameters(net):
    """New weight and bias arrays, as the book's updates make: bprop's training works in
    place, and arrays the caller holds from before must keep their values."""
    check_parameters(net)
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
