"""The boundary: every check of what a user hands bprop, in one place.

Public entry points (``Network()`` and its methods, ``train``, ``TrainConfig``, the loaders)
call these once, where the input enters; the maths behind them (:mod:`bprop.backprop`,
:mod:`bprop.outputs`, the training loop) trusts what was checked. Each check either returns
the value in the form bprop computes with (a float array of the network's dtype, int labels,
a list of layer widths) or raises one of :mod:`bprop.errors`' exceptions with a one-line
message saying what is wrong, what was expected and what was got.

Settings are checked from declarative tables of :mod:`bprop.rules`, as ``TrainConfig`` does
with its fields.

The functions named ``check_*(net, ...)`` take ``net``: any object with ``sizes``,
``num_layers``, ``dtype``, ``weights`` and ``biases`` (a :class:`bprop.Network`).
"""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np

from .activations import Activation, get_activation
from .errors import ConfigError, DataError, ShapeError, check_int, check_number, whole
from .numerics import DOT_CHECK_MAX, all_finite
from .rows import OneHotRows, ScaledRows
from .reading import physical_memory
from .outputs import ROWS_PER_PASS, predicted_classes

#: Output activations whose a lies in (0, 1), as the log costs need.
PROBABILITY_OUTPUTS = ("sigmoid", "softmax")
#: More classes than this is a mistake (a count of examples, say), not a classifier's outputs.
MAX_CLASSES = 1_000_000
#: Arrays up to this many values (a column, a small mini-batch) are checked for nan and inf
#: by one dot product (under a microsecond for a 784-pixel column; numerics.all_finite).
SMALL = DOT_CHECK_MAX


def as_rng(rng):
    """A ``numpy.random.Generator`` from None, a non-negative integer seed, or a Generator."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is not None and (isinstance(rng, bool) or not isinstance(rng, Integral) or rng < 0):
        raise ConfigError(f"rng must be None, a non-negative integer seed or a "
                          f"numpy.random.Generator; got {rng!r}")
    return np.random.default_rng(rng)


def check_n_classes(n, name="n_classes"):
    """A number of classes: an integer in [1, MAX_CLASSES], as an int."""
    if whole(n, 1, MAX_CLASSES) is None:
        raise ConfigError(f"{name} must be an integer in [1, {MAX_CLASSES}]; got {n!r}")
    return whole(n)


# -- the network's shape --------------------------------------------------------------------------
def check_sizes(sizes):
    """Layer widths as a list of positive ints, at least two of them."""
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


def check_fits_in_memory(sizes, dtype):
    """ConfigError for a network whose weights and biases alone would not fit in this
    machine's memory (a typo such as ``--hidden 3000000000``), before NumPy tries."""
    memory = physical_memory()
    n = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    if memory is not None and n * dtype.itemsize > memory:
        raise ConfigError(f"sizes {sizes} make {n:,} weights and biases, "
                          f"{n * dtype.itemsize / 2**30:,.1f} GiB in {dtype.name}: more than "
                          f"this machine's {memory / 2**30:,.1f} GiB of memory")


def layer_activations(activations, output, n):
    """One Activation per layer after the input (``n`` of them): ``activations`` is one name
    for all or a list of n names; ``output``, if given, overrides the last."""
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


def check_output_layer(sizes, output, cost):
    """Refuse an output activation that the cost cannot learn with (or softmax on one output)."""
    if output.name == "softmax" and sizes[-1] < 2:
        raise ConfigError("a softmax output layer needs at least 2 outputs (with one, its "
                          "output is always 1)")
    if cost.derivative_into is None and output.name != "sigmoid":
        raise ConfigError(f"cost class {cost.name} has only the book's fn and delta, which "
                          f"assume a sigmoid output layer; got {output.name}")
    if cost.needs_probabilities and output.name not in PROBABILITY_OUTPUTS:
        use = "a softmax" if cost.name == "log-likelihood" else "a sigmoid or softmax"
        raise ConfigError(f"the {cost.name} cost needs outputs in (0, 1): use {use} output "
                          f"layer; got {output.name}")


def check_trainable(net):
    """Before training: finite parameters, and a cost that can learn with this output layer
    (checked here, not in the constructor, so that older model files still load)."""
    check_parameters(net, finite=True)
    if net.cost.name == "log-likelihood" and net.sizes[-1] == 1:
        raise ConfigError("the log-likelihood cost −ln a_y with one output learns only from "
                          "class-1 examples; a binary classifier with one output needs the "
                          "cross-entropy (or quadratic) cost")
    if net.cost.name == "log-likelihood" and net.activations[-1].name != "softmax":
        raise ConfigError(f"the log-likelihood cost −ln a_y with {net.activations[-1].name} "
                          f"outputs pulls each example's true output up and never the others "
                          f"down, so every output goes to 1; use a softmax output layer, or "
                          f"the cross-entropy cost")


def check_parameters(net, finite=False):
    """Check the weights and biases the user may have assigned, and cast them to the
    network's dtype (a tuple of lists becomes a list of C-contiguous arrays).

    finite: also refuse nan or inf in them (once per training run or evaluation, where they
    would otherwise come out as a wrong accuracy or a 'diverged' message; not in the
    per-example methods, where it would double the cost).
    """
    for name in ("weights", "biases"):     # the user may assign a tuple, as the book allows
        arrays = getattr(net, name)
        if not isinstance(arrays, list):
            if isinstance(arrays, np.ndarray) or not hasattr(arrays, "__iter__"):
                raise ShapeError(f"{name} must be a list of arrays, one per layer; got "
                                 f"{type(arrays).__name__}")
            setattr(net, name, list(arrays))
    if len(net.weights) != net.num_layers - 1 or len(net.biases) != net.num_layers - 1:
        raise ShapeError(f"expected {net.num_layers - 1} weight and bias arrays; got "
                         f"{len(net.weights)} and {len(net.biases)}")
    for i, (n_in, n_out) in enumerate(zip(net.sizes[:-1], net.sizes[1:])):
        for name, arrays, shape in (("weights", net.weights, (n_out, n_in)),
                                    ("biases", net.biases, (n_out, 1))):
            try:
                p = np.asarray(arrays[i])
            except ValueError:      # ragged nesting
                raise ShapeError(f"{name}[{i}] is not an array of shape {shape}") from None
            if p.shape != shape:
                raise ShapeError(f"{name}[{i}] has shape {p.shape}; expected {shape}")
            if p.dtype.kind not in "fiub":
                raise DataError(f"{name}[{i}] must hold real numbers; got dtype {p.dtype}")
            if type(arrays[i]) is not np.ndarray or p.dtype != net.dtype or \
                    not p.flags.c_contiguous or not p.flags.writeable:
                arrays[i] = np.array(p, dtype=net.dtype, order="C")
            if finite and not np.isfinite(arrays[i]).all():
                bad = int(np.count_nonzero(~np.isfinite(arrays[i])))
                raise DataError(f"{name}[{i}] holds {bad} non-finite value"
                                f"{'s' if bad != 1 else ''} (nan or inf)")


# -- arrays ----------------------------------------------------------------------------------------
def as_float(a, name, dtype, widen=False):
    """``a`` as a plain ndarray of ``dtype`` (no copy when it already is one), or DataError.

    widen: leave a float32 array as it is for float64 ``dtype``: NumPy widens it exactly,
    wherever it meets the network's float64 arrays (converting a column on every call of a
    per-example method would cost more than the method)."""
    if type(a) is np.ndarray and (a.dtype == dtype or widen and a.dtype == np.float32):
        return a        # (float32 for a float32 dtype is the first case)
    if isinstance(a, np.ma.MaskedArray) and np.ma.is_masked(a):
        raise DataError(f"{name} is a masked array with {int(np.ma.count_masked(a))} masked "
                        f"values; fill or drop them first")
    if type(a).__module__.startswith("scipy.sparse"):
        raise DataError(f"{name} is a sparse matrix; bprop needs a dense array "
                        f"({name}.toarray())")
    try:
        arr = np.asarray(a)     # a plain array: np.matrix and masked arrays are subclasses
        if type(arr) is not np.ndarray:
            arr = np.array(arr)
        if arr.dtype.kind == "O":   # numbers held as Python objects (a pandas column, say)
            arr = arr.astype(dtype)
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


def check_finite(a, name):
    """DataError naming how many values of ``a`` are nan or inf, and where the first is."""
    if a.size <= SMALL and all_finite(a):
        return
    # in chunks of rows, so that checking a large data set allocates little
    chunk = ROWS_PER_PASS
    if all(np.isfinite(a[i:i + chunk]).all() for i in range(0, max(len(a), 1), chunk)):
        return
    bad = ~np.isfinite(a)
    first = np.argwhere(bad)[0]
    where = f"row {first[0]}" if a.ndim == 2 else f"index {tuple(first)}"
    n_nan = int(np.count_nonzero(np.isnan(a)))
    n_inf = int(bad.sum()) - n_nan
    # NaN and infinity named as NumPy and scikit-learn name them
    what = " and ".join(f"{k} {label}{'s' if k != 1 and label == 'infinite value' else ''}"
                        for k, label in ((n_nan, "NaN"), (n_inf, "infinite value")) if k)
    raise DataError(f"{name} contains {what} (first in {where})")


def ready_columns(a, rows, dtype) -> bool:
    """Whether ``a`` is already columns as the per-example methods take them: a C-contiguous
    ndarray ``(rows, m)`` of ``dtype`` (or float32), with no nan or inf; answered in about a
    microsecond for a column (these methods are called in a loop over the examples)."""
    if type(a) is np.ndarray and a.ndim == 2 and a.shape[0] == rows and \
            (a.dtype == dtype or a.dtype == np.float32) and a.flags.c_contiguous and \
            a.size <= SMALL:
        return math.isfinite(np.vdot(a, a))     # false also where the squares overflow
    return False


def check_input(net, a, name, columns=None):
    """Input columns ``(sizes[0], m)`` (exactly ``columns`` of them, if given); float32
    columns for a float64 network are left as they are (:func:`as_float`'s ``widen``)."""
    if ready_columns(a, net.sizes[0], net.dtype) and (columns is None or a.shape[1] == columns):
        return a
    a = as_float(a, name, net.dtype, widen=True)
    n_in = net.sizes[0]
    if a.ndim != 2 or a.shape[0] != n_in or (columns is not None and a.shape[1] != columns):
        want = f"({n_in}, 1)" if columns == 1 else f"({n_in}, 1) or ({n_in}, m)"
        raise ShapeError(f"{name} has shape {a.shape}; expected {want}")
    check_finite(a, name)
    return a


def check_target(net, y, columns):
    """Target columns ``(sizes[-1], columns)`` (float32 ones left as they are, as inputs)."""
    y = as_float(y, "y", net.dtype, widen=True)
    shape = (net.sizes[-1], columns)
    if y.shape != shape:
        raise ShapeError(f"y has shape {y.shape}; expected {shape} "
                         f"(one-hot column{'s' if columns != 1 else ''})")
    check_finite(y, "y")
    return y


def check_step(eta, lmbda, n):
    """The settings of one gradient step (``update_mini_batch``): η > 0, λ a number, and the
    training-set size n, which L2's shrink factor 1 − ηλ/n needs when λ is not 0."""
    check_number(eta, "eta", positive=True)
    check_number(lmbda, "lmbda")
    if lmbda and n is None:
        raise ConfigError("n (the training-set size) is needed when lmbda is not 0")
    if n is not None:
        check_int(n, "n (the training-set size)", minimum=1)


def check_example(net, x, y):
    """One example's input and target columns, as :func:`check_input` and
    :func:`check_target` check them (quickly when both are :func:`ready_columns`)."""
    if ready_columns(x, net.sizes[0], net.dtype) and x.shape[1] == 1 and \
            ready_columns(y, net.sizes[-1], net.dtype) and y.shape[1] == 1:
        return x, y
    return check_input(net, x, "x", columns=1), check_target(net, y, columns=1)


def check_X(net, X):
    """Rows X as a float array ``(n_samples, sizes[0])`` of the network's dtype; or
    :class:`bprop.rows.ScaledRows` (integer rows on disk) as they are, in that dtype."""
    if isinstance(X, ScaledRows):
        if X.shape[1] != net.sizes[0] or len(X) == 0:
            raise ShapeError(f"X has shape {X.shape}; expected (n_samples, {net.sizes[0]})")
        return X.as_dtype(net.dtype)
    X = as_float(X, "X", net.dtype)
    if X.ndim != 2 or X.shape[1] != net.sizes[0]:
        hint = ""
        if X.ndim == 1:
            hint = (". Reshape your data: X.reshape(-1, 1) if it is one feature, "
                    "X.reshape(1, -1) if it is one sample")
        raise ShapeError(f"X has shape {X.shape}; expected (n_samples, {net.sizes[0]}){hint}")
    if X.shape[0] == 0:
        raise DataError("X is empty (0 samples)")
    check_finite(X, "X")
    return X


def check_labels(y, n, n_classes, n_outputs=None):
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


def labels(net, y, n):
    """Int labels ``(n,)`` checked against the classes the network tells apart."""
    return check_labels(y, n, net.n_classes, net.sizes[-1])


def labels_of(net, y, n):
    """Int labels from int labels or one-hot rows, checked against the output layer."""
    if isinstance(y, OneHotRows):
        return y.labels
    y = np.asarray(y)
    if y.ndim == 2 and y.shape == (n, net.sizes[-1]):
        y = as_float(y, "y", net.dtype)
        check_finite(y, "y")
        return predicted_classes(y)
    return labels(net, y, n)


#: Targets larger than this (bytes) are made from the labels as training asks for them
#: (:class:`bprop.rows.OneHotRows`) rather than all at once.
LAZY_TARGETS = 64 * 2**20


def targets(net, y, n):
    """Target rows ``(n, sizes[-1])`` from int labels or target rows; for labels of a data
    set whose target rows would pass :data:`LAZY_TARGETS` bytes, a
    :class:`bprop.rows.OneHotRows` that makes them as they are asked for."""
    if isinstance(y, OneHotRows):
        return y
    y = np.asarray(y)
    if y.ndim == 2:
        if y.shape != (n, net.sizes[-1]):
            raise ShapeError(f"y has shape {y.shape}; expected ({n},) labels or "
                             f"({n}, {net.sizes[-1]}) one-hot rows")
        y = as_float(y, "y", net.dtype)
        check_finite(y, "y")
        return y
    y = labels(net, y, n)
    if n * net.sizes[-1] * net.dtype.itemsize > LAZY_TARGETS:
        return OneHotRows(y, net.sizes[-1], net.dtype)
    Y = np.zeros((n, net.sizes[-1]), net.dtype)
    if net.sizes[-1] == 1:         # a binary classifier: the target is the label
        Y[:, 0] = y
    else:
        Y[np.arange(n), y] = 1.0
    return Y
