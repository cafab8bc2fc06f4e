"""The user's own data: a directory of IDX files, a ``.npz`` or a ``.csv``.

Data sets are stored one example per row: ``X`` is ``(N, n_features)``, ``y`` is
``(N,)`` integer labels in ``[0, n_classes)``.

- IDX directory: four files named like MNIST's, ``train-images-idx3-ubyte``,
  ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``,
  each optionally ``.gz`` (``test`` may stand for ``t10k``; ``_`` or ``.`` for ``-``).
- ``.npz``: keys ``x_train, y_train, x_test, y_test`` (Keras's ``mnist.npz`` layout),
  optionally ``x_val, y_val``; or just ``X, y``, which are split into train and test
  (a fixed 20% test set). Key case is ignored. Images ``(N, rows, cols)`` are flattened.
  Read with ``allow_pickle=False``.
- ``.csv``: comma-separated, one example per line, the features then the label in the
  last column; an optional header line (detected: any field that is not a number). A
  header that names a column ``label`` (or ``labels``; any case) makes that column the
  label, e.g. the first in Kaggle's MNIST CSVs. The rows are split into
  train and test like ``X, y``.

Features must already lie in ``[0, 1]``, or be pixel bytes (integers in ``0..255``,
divided by 255 here); anything else is rejected rather than silently rescaled. This
module reads and checks; splitting into validation sets and building ``Dataset`` is done
in ``bprop.datasets``.
"""

from __future__ import annotations

import os
import re
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ..reading import check_npz_sizes, check_regular_file
from ..errors import DataError, numpy_reason
from .idx import read_pair

TEST_FRACTION = 0.2  # test share for a .npz with only X, y and for a .csv
SPLIT_SEED = 0  # fixed, so the test set does not move when the user changes seeds

_IDX_RE = re.compile(r"^(train|t10k|test)[-_.](images|labels)[-_.]idx[0-9][-_.]ubyte(\.gz)?$", re.IGNORECASE)
_ROLES = (("train", "images"), ("train", "labels"), ("test", "images"), ("test", "labels"))


def holdout_indices(n: int, n_out: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split ``range(n)`` into ``(keep, out)`` with ``len(out) == n_out``, drawn by a seeded permutation.

    Both index arrays are sorted, so the kept examples stay in their original order.
    """
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[n_out:]), np.sort(perm[:n_out])


def find_idx_files(directory: str | os.PathLike) -> tuple[Path, Path, Path, Path]:
    """Paths of the train images, train labels, test images and test labels IDX files in ``directory``.

    If a file is there both plain and gzipped, the plain one is used.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"no such directory: {directory}")
    found: dict[tuple[str, str], list[Path]] = {role: [] for role in _ROLES}
    entries = sorted(p for p in directory.iterdir() if p.is_file())
    for p in entries:
        m = _IDX_RE.match(p.name)
        if m:
            split = "train" if m[1].lower() == "train" else "test"
            found[(split, m[2].lower())].append(p)
    paths = []
    for (split, kind), candidates in found.items():
        example = f"{'train' if split == 'train' else 't10k'}-{kind}-idx{3 if kind == 'images' else 1}-ubyte[.gz]"
        if not candidates:
            listing = ", ".join(p.name for p in entries[:10]) or "nothing"
            raise DataError(
                f"no {split} {kind} IDX file in {directory}: expected a file named like {example}; "
                f"found {listing}"
            )
        plain = [p for p in candidates if not p.name.lower().endswith(".gz")]
        stems = {p.name.lower().removesuffix(".gz") for p in candidates}
        if len(stems) > 1:
            names = ", ".join(p.name for p in candidates)
            raise DataError(f"more than one {split} {kind} IDX file in {directory}: {names}")
        paths.append(plain[0] if plain else candidates[0])
    return tuple(paths)


def read_idx_dir(directory: str | os.PathLike, n_classes: int | None = None):
    """``(train_images, train_labels, test_images, test_labels)`` from the IDX files in ``directory``.

    Images ``(N, rows, cols)`` uint8, labels ``(N,)`` int64 (in ``[0, n_classes)`` if given).
    Train and test images must have the same ``(rows, cols)``.
    """
    tr_images, tr_labels, te_images, te_labels = find_idx_files(directory)
    X_train, y_train = read_pair(tr_images, tr_labels, n_classes)
    X_test, y_test = read_pair(te_images, te_labels, n_classes)
    if X_train.shape[1:] != X_test.shape[1:]:
        raise DataError(
            f"{tr_images.name} has images of shape {X_train.shape[1:]} but {te_images.name} has {X_test.shape[1:]}"
        )
    return X_train, y_train, X_test, y_test


def _row(i, first_line):
    """Where row i of an array is: "in row i", or in a text file "on line n" (1-based, as
    editors count) when its first row is on line ``first_line``."""
    return f"in row {i}" if first_line is None else f"on line {i + first_line}"


def as_labels(y, where: str, first_line=None) -> np.ndarray:
    """``y`` as ``(N,)`` int64 labels >= 0; ``(N, 1)`` columns are flattened. ``where`` names it in errors,
    ``first_line`` the line of a text file that row 0 came from."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DataError(f"labels {where} must be 1-D integers; got shape {y.shape}")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            bad = int(np.flatnonzero(~np.isfinite(y) | (y != np.round(y)))[0])
            raise DataError(f"labels {where} must be integers; got {y[bad]:g} "
                            f"{_row(bad, first_line)}")
        if np.any(np.abs(y) >= 2.0 ** 63):      # astype would wrap them round to negative
            bad = int(np.flatnonzero(np.abs(y) >= 2.0 ** 63)[0])
            raise DataError(f"labels {where} must be integers in [0, 2^63); got {y[bad]:g} "
                            f"{_row(bad, first_line)}")
    elif y.dtype.kind == "u" and y.size and y.max() >= 2 ** 63:
        raise DataError(f"labels {where} must be integers in [0, 2^63); got {y.max()}")
    elif y.dtype.kind not in "iub":
        raise DataError(f"labels {where} must be integers; got dtype {y.dtype}")
    y = y.astype(np.int64)
    if y.size and y.min() < 0:
        raise DataError(f"labels {where} must be integers >= 0; got min={y.min()}, max={y.max()}")
    return y


def warn_if_not_bytes(what, hi, stacklevel=2):
    """Warn that integers 0..hi read as pixel bytes may not be bytes, when none reaches 128
    (sklearn's 0..16 digits, say)."""
    if hi < 128:
        warnings.warn(f"{what} are integers 0..{hi:g}, read as pixel bytes and divided by 255 "
                      f"(so at most {hi / 255:.3g}); if they are not bytes, scale them to "
                      f"[0, 1] first", stacklevel=stacklevel + 1)


def unit_scale(arrays: list[np.ndarray], dtype, where: str, names=None) -> list[np.ndarray]:
    """The feature arrays as ``dtype``, all scaled by one rule so that they lie in ``[0, 1]``.

    Values already in ``[0, 1]`` are kept; integers in ``0..255`` (pixel bytes) are
    divided by 255, with a warning when none reaches 128 (sklearn's 0..16 digits, say,
    which are not bytes). Anything else, and NaN or infinity, raises ``DataError``
    (:func:`check_features` has already named the row, before any split); so do arrays
    that each fit one rule but not the same one, naming two of them by ``names``.
    """
    for X in arrays:
        check_features(X, where)
    ranges = [(float(X.min()), float(X.max())) for X in arrays if X.size]
    lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
    if 0.0 <= lo and hi <= 1.0:
        return [X.astype(dtype) for X in arrays]
    wholes = [whole_numbers(X) for X in arrays]
    if all(wholes) and 0.0 <= lo and hi <= 255.0:
        warn_if_not_bytes(f"features {where}", hi, stacklevel=3)
        out = []
        for X in arrays:
            X = X.astype(dtype)
            X /= 255
            out.append(X)
        return out
    if names and len(ranges) == len(arrays):
        units = [0.0 <= a and b <= 1.0 for a, b in ranges]
        bytes_ = [w and 0.0 <= a and b <= 255.0 for w, (a, b) in zip(wholes, ranges)]
        if all(u or b for u, b in zip(units, bytes_)):      # each fits a rule, not one rule
            i, j = units.index(False), bytes_.index(False)
            (ilo, ihi), (jlo, jhi) = ranges[i], ranges[j]
            raise different_scales(
                where, (names[i], f"pixel bytes (whole numbers {ilo:g}..{ihi:g})"),
                (names[j], f"numbers in [0, 1] (min={jlo:g}, max={jhi:g})"))
    raise DataError(
        f"features {where} must lie in [0, 1] or be pixel bytes 0..255; got min={lo:g}, max={hi:g}; "
        "rescale them first"
    )


def scale_of(X, where: str) -> tuple[int, float, str]:
    """``(divisor, max, holds)`` of features ``X`` read on their own: divisor 1 for floats
    in ``[0, 1]``, 255 for whole numbers ``0..255`` beyond them (pixel bytes); ``holds`` says
    which, in words, for :func:`different_scales`. NaN, infinity or any other range raise
    ``DataError``."""
    check_features(X, where)
    lo, hi = float(X.min()), float(X.max())
    if 0.0 <= lo and hi <= 1.0:
        return 1, hi, f"floats in [0, 1] ({X.dtype}, min={lo:g}, max={hi:g})"
    if 0.0 <= lo and hi <= 255.0 and whole_numbers(X):
        return 255, hi, f"pixel bytes ({X.dtype} whole numbers {lo:g}..{hi:g})"
    raise DataError(f"features {where} must lie in [0, 1] or be pixel bytes 0..255; got "
                    f"min={lo:g}, max={hi:g}; rescale them first")


def whole_numbers(X, rows=4096) -> bool:
    """Whether every value of ``X`` is a whole number (any integer dtype is), read a block
    of rows at a time (a memory-mapped array is not copied whole), stopping at the first
    block that is not."""
    return X.dtype.kind in "biu" or all(np.array_equal(X[i:i + rows], np.round(X[i:i + rows]))
                                        for i in range(0, len(X), rows))


def different_scales(where: str, first, second) -> DataError:
    """The error for splits of one data set that hold features on different scales, so
    that no one rule reads them all alike; ``first``, ``second``: ``(split, what it holds)``."""
    return DataError(f"the splits {where} are on different scales: {first[0]} holds "
                     f"{first[1]} but {second[0]} holds {second[1]}; save every split the same "
                     f"way: as pixel bytes 0..255 (uint8) or as floats in [0, 1]")


def check_features(X: np.ndarray, where: str, first_line=None) -> None:
    """Refuse features that are not numbers, or NaN or infinite ones, naming the first bad
    row of ``X`` as stored (so call it before splitting off a test set), or its line in a
    text file whose row 0 is on ``first_line``."""
    if X.dtype.kind not in "biuf":
        raise DataError(f"features {where} must be numbers; got dtype {X.dtype}")
    if X.dtype.kind == "f" and not np.all(np.isfinite(X)):
        bad = ~np.isfinite(X)
        n_nan = int(np.isnan(X).sum())
        first = int(np.flatnonzero(bad.reshape(len(X), -1).any(axis=1))[0])
        n = n_nan or int(bad.sum())
        what = f"{n} {'NaN' if n_nan else 'infinite'} value{'s' if n != 1 else ''}"
        raise DataError(f"features {where} contain {what} (first {_row(first, first_line)})")


def _flat(X: np.ndarray, where: str) -> tuple[np.ndarray, tuple[int, ...] | None]:
    """``X`` as ``(N, n_features)`` and the image shape it had, if it had more than 2 dimensions."""
    X = np.asarray(X)
    if X.ndim < 2:
        raise DataError(f"X {where} must have one example per row, shape (N, n_features); got shape {X.shape}")
    if 0 in X.shape[1:]:
        raise DataError(f"X {where} has no features: shape {X.shape}")
    if X.ndim == 2:
        return X, None
    return X.reshape(len(X), -1), tuple(X.shape[1:])


def read_npz(path: str | os.PathLike):
    """``{"train": (X, y), "val": (X, y) or None, "test": (X, y), "image_shape": tuple or None}`` from a ``.npz``.

    ``X`` are ``(N, n_features)`` arrays as stored (not yet scaled), ``y`` are ``(N,)`` int64.
    """
    path = Path(path)
    check_regular_file(path, "a .npz file", DataError)
    try:
        with open(path, "rb") as f:
            if f.read(6) == b"\x93NUMPY":
                raise DataError(f"{path.name} is a .npy file (one array), not a .npz archive "
                                f"of X_train, y_train, X_test, y_test; save them with "
                                f"numpy.savez")
        with np.load(path, allow_pickle=False) as f:
            check_npz_sizes(path, f.files, DataError)
            arrays = {key: f[key] for key in f.files}
    except FileNotFoundError:
        raise DataError(f"no such file: {path}") from None
    except DataError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, zlib.error) as e:
        raise DataError(f"cannot read {path.name} as a .npz archive: {numpy_reason(e)}") from None
    keys = {key.lower(): key for key in arrays}
    if len(keys) != len(arrays):
        raise DataError(f"{path.name} has keys that differ only in case: {', '.join(sorted(arrays))}")

    def get(k):
        return arrays[keys[k]]

    full = ("x_train", "y_train", "x_test", "y_test")
    if all(k in keys for k in full):
        splits = {"train": ("x_train", "y_train"), "test": ("x_test", "y_test")}
        if "x_val" in keys or "y_val" in keys:
            if not ("x_val" in keys and "y_val" in keys):
                raise DataError(f"{path.name} has only one of x_val, y_val; give both or neither")
            splits["val"] = ("x_val", "y_val")
    elif "x" in keys and "y" in keys:
        splits = {"all": ("x", "y")}
    else:
        raise DataError(
            f"{path.name} must hold arrays x_train, y_train, x_test, y_test (optionally x_val, y_val) "
            f"or X, y; found {', '.join(sorted(arrays)) or 'none'}"
        )
    out = {"val": None, "image_shape": None}
    for split, (xk, yk) in splits.items():
        where = f"in {path.name}[{keys[xk]!r}]"
        X, shape = _flat(get(xk), where)
        check_features(X, where)
        y = as_labels(get(yk), f"in {path.name}[{keys[yk]!r}]")
        if len(X) != len(y):
            raise DataError(f"{path.name} has {len(X)} rows in {keys[xk]!r} but {len(y)} labels in {keys[yk]!r}")
        if len(X) == 0:
            raise DataError(f"{path.name}[{keys[xk]!r}] is empty")
        out[split] = (X, y)
        out["image_shape"] = out["image_shape"] or shape
    if "all" in out:
        out["train"], out["test"] = _split_off_test(*out.pop("all"), path.name)
    n_features = {out[s][0].shape[1] for s in ("train", "val", "test") if out[s] is not None}
    if len(n_features) > 1:
        raise DataError(f"the splits in {path.name} have different numbers of features: {sorted(n_features)}")
    return out


def _split_off_test(X, y, name):
    """``((X_train, y_train), (X_test, y_test))``: a fixed ``TEST_FRACTION`` of the rows held out for testing."""
    n = len(X)
    if n < 2:
        raise DataError(f"{name} has {n} example; need at least 2 to split off a test set")
    n_test = max(1, round(TEST_FRACTION * n))
    keep, out = holdout_indices(n, n_test, SPLIT_SEED)
    return (X[keep], y[keep]), (X[out], y[out])


LABEL_COLUMN_NAMES = ("label", "labels")


def _is_header(fields):
    """Whether a CSV's first line, split into ``fields``, names the columns: some field is
    not a number, or the fields are the names pandas writes for an unnamed array: an empty
    one (its row index) then 0, 1, 2, ..., or 0, 1, 2, ... alone when there are at least 5
    (a shorter such line is more likely data). Any other line of numbers with an empty
    field is a data row with a value missing, not a header."""
    def counting(names):
        return names == [str(i) for i in range(len(names))]

    def number(text):
        try:
            float(text)
            return True
        except ValueError:
            return False
    if fields[:1] == [""] and len(fields) > 1 and counting(fields[1:]):
        return True                             # pandas: its index's empty name, then 0, 1, ...
    if len(fields) >= 5 and counting(fields):
        return True
    return not all(number(f) or not f for f in fields)


def read_csv(path: str | os.PathLike):
    """Like ``read_npz`` for a ``.csv``: features, then the label in the last column, or in
    the column an optional header line names ``label`` (see the module docstring)."""
    path = Path(path)
    check_regular_file(path, "a .csv file", DataError)
    label_column = -1
    try:
        with open(path, encoding="utf-8-sig") as f:
            fields = [field.strip().strip('"') for field in f.readline().split(",")]
            header = int(_is_header(fields))
            if header:
                names = [field.lower() for field in fields]
                named = [i for i, name in enumerate(names) if name in LABEL_COLUMN_NAMES]
                if len(named) > 1:
                    raise DataError(f"the header of {path.name} names more than one label "
                                    f"column: {', '.join(names[i] for i in named)}")
                if named:
                    label_column = named[0]
            f.seek(0)
            with warnings.catch_warnings():     # "input contained no data": said below
                warnings.simplefilter("ignore", UserWarning)
                data = np.loadtxt(f, delimiter=",", skiprows=header, ndmin=2,
                                  dtype=np.float64)
    except FileNotFoundError:
        raise DataError(f"no such file: {path}") from None
    except UnicodeDecodeError:
        raise DataError(f"{path.name} is not a UTF-8 text file") from None
    except DataError:
        raise
    except ValueError as e:
        # NumPy counts the rows after the header from 0 and the columns from 1: say lines
        reason = re.sub(r"at row (\d+), column (\d+)",
                        lambda m: f"on line {int(m[1]) + 1 + header}, column {m[2]}",
                        numpy_reason(e))
        raise DataError(f"cannot parse {path.name} as comma-separated numbers: "
                        f"{reason}") from None
    if data.size == 0:
        raise DataError(f"{path.name} holds no data rows")
    if header and len(fields) != data.shape[1]:
        # a row can be read as the header when the widths differ: refuse, do not guess
        raise DataError(f"the header of {path.name} names {len(fields)} columns but its rows "
                        f"have {data.shape[1]}")
    first = data[:, 0]
    if header and names[0] == "" and np.all(first == np.round(first)) and np.all(first >= 0) \
            and len(np.unique(first)) == len(first):
        # pandas' to_csv writes its row index (shuffled or filtered, maybe) as an unnamed
        # first column of distinct integers: not a feature
        data = data[:, 1:]
        label_column = label_column - 1 if label_column > 0 else label_column
    if data.shape[1] < 2:
        raise DataError(f"{path.name} needs at least 2 columns (features, then the label); got {data.shape[1]}")
    if label_column == -1 or label_column == data.shape[1] - 1:
        X, label_column = data[:, :-1], data.shape[1] - 1
    else:
        X = np.delete(data, label_column, axis=1)
    where = ("in the last column" if label_column == data.shape[1] - 1
             else f"in column {label_column + 1}")
    y = as_labels(data[:, label_column], f"{where} of {path.name}", first_line=1 + header)
    check_features(X, f"in {path.name}", first_line=1 + header)
    train, test = _split_off_test(X, y, path.name)
    return {"train": train, "val": None, "test": test, "image_shape": None}
