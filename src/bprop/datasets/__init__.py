"""Data sets for bprop: MNIST, Fashion-MNIST, scikit-learn's digits, and the user's own files.

``load(name_or_path)`` returns a ``Dataset``: one example per row, ``X`` of shape
``(N, n_features)`` as float64 (or float32) in ``[0, 1]``, ``y`` of shape ``(N,)`` int64
labels in ``[0, n_classes)``. The network takes ``X[idx].T`` (a free view) as a batch of
columns ``(n_features, m)``. ``to_book_format`` and ``Dataset.book_data`` build the book's
lists of ``(x (n_features, 1), y)`` tuples for code written against ``mnist_loader``.

Sources (``AVAILABLE``, ``describe()``):

- ``"mnist"``: the four IDX files, from ``data_dir`` or ``cache_dir() / "mnist"``,
  downloaded once from public mirrors and checked by SHA-256 (``bprop.datasets.mnist``).
- ``"fashion"`` (``"fashion-mnist"``): the same format, found where Debian's
  ``dataset-fashion-mnist`` installs it, else in the cache, else downloaded.
- ``"digits"``: scikit-learn's 8x8 digits, no download (needs scikit-learn).
- a path: a directory of IDX files, a ``.npz``, a ``.csv`` (see ``bprop.datasets.files``),
  the book's ``mnist.pkl.gz``, or an array directory of ``.npy`` files, memory-mapped
  (``bprop.datasets.arrays``; ``write_arrays``, ``write_shifted`` write them). A name wins over a same-named directory; write ``./mnist``
  for the directory.

A model file records the data set it was trained on (``dataset_record``, in
``bprop.datasets.recorded``); ``load_recorded`` loads it again with the same splits.

Nothing is read or downloaded at import time; only NumPy is imported.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError, DataError, ShapeError, check_dtype, check_int
from ..validate import MAX_CLASSES, check_n_classes  # noqa: F401  (bprop.datasets.MAX_CLASSES)
from .download import cache_dir, download_files
from ..rows import LazyRows, ScaledRows
from .arrays import read_arrays, read_scale, write_arrays, write_rows
from .files import as_labels, holdout_indices, read_npz, unit_scale
from .idx import read_idx, write_idx
from .recorded import data_fingerprint, dataset_id, dataset_record, same_dataset
from .sources import read_csv_cached, read_image_set, resolve, write_shifted
from .registry import (AVAILABLE, CLASS_NAMES, DatasetInfo, canonical_name, centred_pictures,
                       describe, uses_data_dir)

__all__ = [
    "AVAILABLE",
    "CLASS_NAMES",
    "Dataset",
    "DatasetInfo",
    "cache_dir",
    "canonical_name", "centred_pictures",
    "dataset_id",
    "data_fingerprint", "dataset_record",
    "describe",
    "download_files",
    "load",
    "load_recorded",
    "read_arrays",
    "read_idx",
    "same_dataset",
    "split_validation",
    "to_book_format",
    "uses_data_dir",
    "write_arrays",
    "write_idx",
    "write_rows",
    "write_shifted",
]


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """A data set split into training, optional validation, and test parts.

    X_*: ``(N, n_features)`` float arrays in ``[0, 1]``, one example per row.
    y_*: ``(N,)`` int64 labels in ``[0, n_classes)``.
    X_val, y_val: None when no validation set was asked for (or stored in the file).
    image_shape: e.g. ``(28, 28)``, for showing a row as an image; None for plain features.
    class_names: one name per class for the built-in data sets whose labels are not digits
        (Fashion-MNIST's "T-shirt/top", ...); None otherwise.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray | None
    y_val: np.ndarray | None
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    image_shape: tuple[int, ...] | None
    class_names: tuple[str, ...] | None = None

    @property
    def n_features(self) -> int:
        """Number of inputs, ``sizes[0]`` of a network for this data."""
        return self.X_train.shape[1]

    def __repr__(self) -> str:
        val = "None" if self.X_val is None else str(len(self.X_val))
        return (
            f"Dataset(name={self.name!r}, train={len(self.X_train)}, val={val}, test={len(self.X_test)}, "
            f"n_features={self.n_features}, n_classes={self.n_classes}, image_shape={self.image_shape}, "
            f"dtype={self.X_train.dtype})"
        )

    def book_data(self):
        """``(training_data, validation_data, test_data)`` as the book's ``load_data_wrapper`` gives them.

        training_data: list of ``(x (n_features, 1), one-hot y (n_classes, 1))``;
        validation_data (None without a validation set) and test_data: lists of
        ``(x (n_features, 1), int label)``.
        """
        training_data = to_book_format(self.X_train, self.y_train, self.n_classes, one_hot=True)
        validation_data = (
            None if self.X_val is None else to_book_format(self.X_val, self.y_val, self.n_classes)
        )
        test_data = to_book_format(self.X_test, self.y_test, self.n_classes)
        return training_data, validation_data, test_data


def to_book_format(X: np.ndarray, y: np.ndarray, n_classes: int, *, one_hot: bool = False):
    """The book's list of ``(x, y)`` tuples from rows ``X (N, n)`` and labels ``y (N,)``.

    Each x is a column ``(n, 1)`` (a view of its row). With ``one_hot`` each y is the
    one-hot column ``(n_classes, 1)`` of X's dtype (training data); otherwise a Python
    ``int`` (validation and test data). n_classes: an integer in ``[1, bprop.validate.MAX_CLASSES]``
    above every label.
    """
    n_classes = check_n_classes(n_classes)
    X = X[:] if isinstance(X, LazyRows) else np.asarray(X)    # the book's lists: in memory
    if X.ndim != 2:
        raise DataError(f"X has shape {X.shape}; expected (N, n_features)")
    y = as_labels(y, "given to to_book_format")
    if len(y) != len(X):
        raise DataError(f"X has {len(X)} rows but y has {len(y)} labels")
    if y.size and y.max() >= n_classes:
        raise DataError(f"labels must be integers in [0, {n_classes}); got min={y.min()}, max={y.max()}")
    xs = X[:, :, np.newaxis]  # (N, n, 1): iterating gives the (n, 1) columns as views
    if not one_hot:
        return list(zip(xs, y.tolist()))
    dtype = X.dtype if X.dtype.kind == "f" else np.float64
    ys = np.zeros((len(y), n_classes, 1), dtype=dtype)
    ys[np.arange(len(y)), y, 0] = 1
    return list(zip(xs, ys))


def _n_validation(validation, n: int, name: str) -> int:
    """The number of training examples ``validation`` (a count or a fraction) asks to hold out."""
    if isinstance(validation, (bool, np.bool_)) or not isinstance(validation, (int, float, np.integer, np.floating)):
        raise ConfigError(f"validation must be a count (int) or a fraction (float in [0, 1)); got {validation!r}")
    if isinstance(validation, (float, np.floating)):
        if not 0.0 <= validation < 1.0:
            raise ConfigError(f"validation fraction must be in [0, 1); got {validation}")
        n_val = round(float(validation) * n)
        if validation > 0 and n_val == 0:
            n_val = 1
    else:
        n_val = int(validation)
        if n_val < 0:
            raise ConfigError(f"validation must be >= 0; got {n_val}")
    if n_val >= n:
        raise ConfigError(
            f"validation={validation!r} holds out {n_val} of the {n:,} training examples of {name}; "
            "leave some for training"
        )
    return n_val


def split_validation(X: np.ndarray, y: np.ndarray, validation, *, seed: int = 0, tail: bool = False,
                     name: str = "the data"):
    """``(X_train, y_train, X_val, y_val)`` with ``validation`` examples held out from ``X, y``.

    ``validation``: a count, or a fraction of ``len(X)``; 0 gives ``X_val = y_val = None``.
    The held-out rows are drawn by a permutation seeded with ``seed`` (an integer >= 0, or
    None for a different draw each time); with ``tail`` they are the last rows instead, as
    the book holds out the last 10,000 of MNIST's 60,000. Both parts keep their original
    order. X and y may be lists; they come back as arrays.
    """
    _check_seed(seed)
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y):
        raise ShapeError(f"X has shape {X.shape} and y has shape {y.shape}; "
                         f"expected one label per row of X")
    n = len(X)
    n_val = _n_validation(validation, n, name)
    if n_val == 0:
        return X, y, None, None
    if tail:
        return X[: n - n_val], y[: n - n_val], X[n - n_val :], y[n - n_val :]
    keep, out = holdout_indices(n, n_val, seed)
    return X[keep], y[keep], X[out], y[out]


def _check_seed(seed):
    """What ``np.random.default_rng`` takes: None, an integer >= 0, a Generator, ..."""
    try:
        np.random.default_rng(seed)
    except (TypeError, ValueError):
        raise ConfigError(f"seed must be an integer >= 0, a numpy Generator, or None; "
                          f"got {seed!r}") from None


def load_recorded(info: dict, *, dtype, name=None, data_dir=None, download: bool = True) -> Dataset:
    """The data set a model file's ``dataset`` header describes (name, validation split and
    seed, training-set size, data directory), so that its splits are the ones the model was
    trained with; ``name`` and ``data_dir`` override the recorded ones."""
    name = name if name is not None else info.get("name")
    stored_dir = info.get("data_dir") if uses_data_dir(name) else None
    return load(name, validation=info.get("validation") or 0, seed=info.get("seed") or 0,
                train_size=info.get("train_size"), data_dir=data_dir or stored_dir,
                dtype=dtype, download=download)


def _images_to_rows(images: np.ndarray, dtype: np.dtype, scale: float) -> np.ndarray:
    """Images ``(N, rows, cols)`` (or rows ``(N, n)``) of integers 0..scale as rows
    ``(N, rows * cols)`` in [0, 1]."""
    X = images.reshape(len(images), -1).astype(dtype)
    X /= scale
    return X


def _check_classes(y_train, n_classes, name):
    """Labels of the user's own data: at least two classes, and a warning when most label
    values never occur (the label read from the wrong column, or numbered from 1000); an
    error when the outputs they ask for are absurd (over 1,000 and over 10 per label value
    that occurs: an ID or a measurement, not a class number)."""
    present = np.unique(y_train)
    if len(present) < 2:
        raise DataError(f"every training label in {name} is {present[0]}; a classifier needs "
                        f"at least 2 classes (is the label in another column?)")
    if n_classes > max(1000, 10 * len(present)):
        raise DataError(f"{name}: the labels run up to {n_classes - 1:,}, which would need "
                        f"{n_classes:,} outputs for the {len(present):,} label values that "
                        f"occur; labels must be class numbers 0, 1, 2, ... (is the label in "
                        f"another column?)")
    if 2 * len(present) < n_classes:
        warnings.warn(f"{name}: the labels run from 0 to {n_classes - 1}, but only "
                      f"{len(present)} of those {n_classes} values occur in the training set, "
                      f"so the network gets {n_classes} outputs; is the label in another "
                      f"column? (Labels should be 0, 1, 2, ...)", stacklevel=3)


def load(name_or_path, *, validation=0, dtype=np.float64, seed: int = 0,
         data_dir: str | os.PathLike | None = None, download: bool = True,
         train_size: int | None = None, lazy: bool | None = None) -> Dataset:
    """Load a data set by name or path as a ``Dataset`` (rows ``(N, n_features)``, labels ``(N,)``).

    name_or_path: "mnist", "fashion" (or "fashion-mnist"), "digits", a directory of IDX
        files, a ``.npz``, a ``.csv``, the book's ``mnist.pkl.gz``, or an array directory
        (``X_train.npy`` ..., :mod:`bprop.datasets.arrays`).
    validation: examples held out from the training set as a validation set, a count or
        a fraction. For "mnist" and array directories they are the last ones
        (``validation=10000`` gives the book's 50,000/10,000 split); otherwise a permutation seeded with ``seed`` picks them.
        A file that brings its own validation set (``mnist.pkl.gz``, a ``.npz`` with
        ``x_val``) keeps it; ``validation`` must then be 0 or its size.
    dtype: float64 (default) or float32, for the X arrays.
    seed: an integer >= 0, for the validation split only (test sets never move); None draws
        a different split each time.
    train_size: keep only the first ``train_size`` training examples (after the validation
        split), as the book's chapter 3 trains on ``training_data[:1000]``; None keeps all.
    data_dir: for "mnist" and "fashion", the directory to read (and download) the IDX
        files in, instead of the cache.
    download: for "mnist" and "fashion", fetch missing files; False raises ``DataError``
        naming the directory and files instead.
    lazy: keep the training images as bytes, converted a mini-batch at a time as training
        reads them (``X_train`` a :class:`bprop.rows.ScaledRows`, equal bit for bit to the
        converted rows): for MNIST, Fashion-MNIST, IDX and array directories of bytes, which are
        memory-mapped, so that a set larger than memory trains and the processes of an
        MPI run share one copy. None (the default): lazy for array directories only.
    """
    dt = check_dtype(dtype)
    if train_size is not None:
        check_int(train_size, "train_size", minimum=1)
    _check_seed(seed)
    if data_dir is not None and not isinstance(data_dir, (str, os.PathLike)):
        raise ConfigError(f"data_dir must be a path to a directory; got {data_dir!r}")
    kind, path = resolve(name_or_path)
    lazy = kind == "arrays" if lazy is None else bool(lazy)
    if data_dir is not None and not uses_data_dir(kind):
        raise ConfigError(f"a data directory (data_dir, --data-dir) is only for mnist and "
                          f"fashion; {name_or_path} does not use one")
    X_val = y_val = None
    image_shape = None
    n_classes = None
    scale = None    # integer images: X_train stays integers until split, then / scale
    val_converted = False       # a file's own validation rows, converted where read

    if kind in ("mnist", "fashion", "idx", "digits"):
        tr_images, y_train, te_images, y_test, scale = read_image_set(kind, path, data_dir, download)
        n_classes = None if kind == "idx" else 10
        image_shape = tuple(tr_images.shape[1:])
        X_train = tr_images.reshape(len(tr_images), -1)
        X_test = _images_to_rows(te_images, dt, scale)
    elif kind == "arrays":
        parts = read_arrays(path)
        (X_train, y_train), (X_test, y_test) = parts["train"], parts["test"]
        X_val, y_val = parts["val"] or (None, None)
        image_shape = parts["image_shape"]
        # one rule for every split (bytes / 255, or floats in [0, 1] kept), or DataError
        divisor = read_scale(path, parts)

        def rows(X):
            return _images_to_rows(X, dt, divisor) if divisor != 1 else X.astype(dt)
        X_test = rows(X_test)
        if X_val is not None:
            X_val, val_converted = rows(X_val), True
        if X_train.dtype == np.uint8:
            scale = 255         # pixel bytes: the training rows stay on disk if lazy
        else:
            X_train = rows(X_train)
    elif kind == "pkl":
        from .mnist import read_pkl_gz
        (X_train, y_train), (X_val, y_val), (X_test, y_test) = read_pkl_gz(path)
        X_train, X_val, X_test = (X.astype(dt) for X in (X_train, X_val, X_test))
        n_classes = 10
        image_shape = (28, 28) if X_train.shape[1] == 784 else None
    else:
        parts = read_npz(path) if kind == "npz" else read_csv_cached(path)
        (X_train, y_train), (X_test, y_test) = parts["train"], parts["test"]
        Xs = [X_train, X_test]
        if parts["val"] is not None:
            X_val, y_val = parts["val"]
            Xs.append(X_val)
        Xs = unit_scale(Xs, dt, f"in {path.name}",
                        names=("the training set", "the test set", "the validation set"))
        X_train, X_test = Xs[0], Xs[1]
        X_val = Xs[2] if X_val is not None else None
        image_shape = parts["image_shape"]

    name = kind if path is None else path.name
    if n_classes is None:
        n_classes = int(max(y.max() for y in (y_train, y_val, y_test) if y is not None)) + 1
        _check_classes(y_train, n_classes, name)
    if X_val is not None:
        n_val = _n_validation(validation, len(X_train) + len(X_val), name)
        if n_val not in (0, len(X_val)):
            raise ConfigError(
                f"{name} brings its own validation set of {len(X_val)} examples; "
                f"pass validation=0 to use it; got validation={validation!r}"
            )
    else:
        X_train, y_train, X_val, y_val = split_validation(
            X_train, y_train, validation, seed=seed, tail=kind in ("mnist", "arrays"), name=name
        )
    if train_size is not None:
        if train_size > len(X_train):
            raise ConfigError(f"train_size={train_size} is more than the {len(X_train)} "
                              f"training examples of {name}")
        # copies (or, for bytes, the conversion below), so the rest can be freed
        X_train, y_train = X_train[:train_size], y_train[:train_size].copy()
        if scale is None:
            X_train = X_train.copy()
    if scale is not None:       # split as bytes, converted once: no float copy of the whole
        X_train = ScaledRows(X_train, dtype=dt, divisor=scale) if lazy and \
            X_train.dtype.kind in "iu" else _images_to_rows(X_train, dt, scale)
        if X_val is not None and not val_converted:
            X_val = _images_to_rows(X_val, dt, scale)
    if kind == "arrays" and parts["class_names"]:
        class_names = tuple(parts["class_names"])
    else:
        class_names = CLASS_NAMES.get(kind)     # kind: "fashion" only when built in
    return Dataset(name, X_train, y_train, X_val, y_val, X_test, y_test, n_classes, image_shape,
                   class_names=class_names)
