"""Data sets as directories of ``.npy`` files that runs memory-map rather than read.

An *array directory* holds ``X_train.npy``, ``y_train.npy``, ``X_test.npy``, ``y_test.npy``
(optionally ``X_val.npy``, ``y_val.npy``) and, optionally, ``bprop-arrays.json``
(``{"image_shape": [28, 28], "class_names": [...]}``, either may be null), which bprop's
writers write last (and the cache needs, to know what it is a copy of). Rows ``X`` are
``(N, n_features)`` (or ``(N, rows, cols)`` images) of pixel bytes (uint8) or floats in
[0, 1], every split the same way (:func:`read_scale`); labels ``y`` are ``(N,)`` integers.

``X`` is opened with ``mmap_mode="r"``: nothing is read until it is used, the operating
system's page cache holds the file once however many processes (MPI ranks) map it, and a
set larger than memory trains a mini-batch at a time (:class:`bprop.rows.ScaledRows`).

Two writers: :func:`write_arrays` (arrays in memory), :func:`write_rows` (rows streamed in
blocks: a set larger than memory). ``bprop.datasets.load`` keeps a copy of the IDX and CSV
data sets it decodes as array directories under ``cache_dir() / "arrays"``
(:func:`cached`, :func:`store`), so that later runs map them instead of decoding gzip or
parsing text again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np

from ..atomic import atomic_write
from ..errors import DataError
from ..reading import check_regular_file
from ..training.augment import Shifter
from .files import (as_labels, different_scales, scale_of, warn_if_not_bytes,
                    whole_numbers)

NAMES = ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test")
META = "bprop-arrays.json"
META_MAX_BYTES = 1 << 20


def is_array_dir(path) -> bool:
    """Whether ``path`` is a directory holding an ``X_train.npy``."""
    return (Path(path) / "X_train.npy").is_file()


def write_arrays(directory, X_train, y_train, X_test, y_test, *, X_val=None, y_val=None,
                 image_shape=None, class_names=None, sources=None) -> Path:
    """Write a data set as an array directory (created if needed); each file atomically,
    the description last. Returns the directory."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    given = dict(zip(NAMES, (X_train, y_train, X_val, y_val, X_test, y_test)))
    if (X_val is None) != (y_val is None):
        raise DataError("give both X_val and y_val, or neither")
    for name, a in given.items():
        kind = None if a is None else np.asarray(a).dtype
        if name.startswith("X") and kind is not None and kind != np.uint8 and kind.kind != "f":
            raise DataError(f"{name} holds {kind}; an array directory's rows are pixel bytes "
                            f"(uint8) or floats in [0, 1]")
    _unmark(directory)
    for name, a in given.items():
        if a is not None:
            _save(directory, name, a)
        else:
            (directory / f"{name}.npy").unlink(missing_ok=True)
    _mark(directory, image_shape, class_names, sources)
    return directory


def _save(directory, name, a):
    """``directory/name.npy``, written atomically."""
    a = np.ascontiguousarray(a)
    atomic_write(directory / f"{name}.npy", lambda f: np.save(f, a, allow_pickle=False))


def write_rows(path, n, width, blocks, dtype=np.uint8) -> Path:
    """Write ``n`` rows of ``width`` to the ``.npy`` file ``path``, block by block, from the
    iterable ``blocks`` of ``(m, width)`` arrays: memory does not grow with ``n``. Atomic:
    a run stopped halfway leaves no file (or the previous one)."""
    dtype = np.dtype(dtype)

    def write(f):
        np.lib.format.write_array_header_2_0(
            f, {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False,
                "shape": (int(n), int(width))})
        done = 0
        for given in blocks:
            given = np.asarray(given)
            block = np.ascontiguousarray(given, dtype)
            if block.ndim != 2 or block.shape[1] != width or done + len(block) > n:
                raise DataError(f"a block of shape {block.shape} does not fit rows "
                                f"{done}.. of ({n}, {width})")
            if given.dtype != dtype and not np.array_equal(block, given):
                raise DataError(f"the block for rows {done}.. holds values that {dtype} cannot "
                                f"hold exactly (min {given.min()}, max {given.max()})")
            f.write(block.tobytes())
            done += len(block)
        if done != n:
            raise DataError(f"{done:,} rows were given for a file of {n:,}")

    atomic_write(path, write)
    return Path(path)


def write_shifted_arrays(directory, images, labels, test_images, test_labels, n, *, shift=2,
                         seed=0, block=50_000, progress=None, class_names=None) -> Path:
    """An array directory of ``n`` training images drawn at random from ``images`` ``(N,
    rows, cols)`` (integers), each shifted by up to ``shift`` pixels in x and y, zero-filled
    (the book's chapter 6 expansion of MNIST, infiMNIST-style), with their ``labels``; and
    the test set as it is. Written ``block`` images at a time: the memory used does not grow
    with ``n``. progress: called as ``progress(images_written, n)`` after each block;
    class_names: recorded for the data set's labels (Fashion-MNIST's, say)."""
    images = np.asarray(images)
    rng = np.random.default_rng(seed)
    shifter = Shifter(images.shape[1:], shift, rng)
    width = int(np.prod(images.shape[1:]))
    picks = []

    def blocks():
        for start in range(0, n, block):
            pick = rng.integers(0, len(images), min(block, n - start))
            picks.append(pick)
            rows = images[pick].reshape(len(pick), width)
            shifter(rows)
            yield rows
            if progress is not None:
                progress(start + len(pick), n)

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    _unmark(directory)
    for name in ("X_val", "y_val"):             # a previous set's: not this one's
        (directory / f"{name}.npy").unlink(missing_ok=True)
    write_rows(directory / "X_train.npy", n, width, blocks(), images.dtype)
    y = np.asarray(labels)[np.concatenate(picks)] if picks else np.empty(0, np.int64)
    _save(directory, "y_train", y)
    _save(directory, "X_test", np.asarray(test_images).reshape(len(test_images), -1))
    _save(directory, "y_test", test_labels)
    _mark(directory, images.shape[1:], class_names, None)
    return directory


def read_arrays(directory):
    """``{"train": (X, y), "val": (X, y) or None, "test": (X, y), "image_shape",
    "class_names"}`` from an array directory: ``X`` memory-mapped ``(N, n_features)``, as
    stored; ``y`` ``(N,)`` int64 in memory."""
    directory = Path(directory)
    meta = _meta(directory) or {}
    out = {"val": None, "image_shape": meta.get("image_shape"),
           "class_names": meta.get("class_names")}
    for split in ("train", "val", "test"):
        xp, yp = directory / f"X_{split}.npy", directory / f"y_{split}.npy"
        if split == "val" and not xp.exists() and not yp.exists():
            continue
        X, y = _load(xp, mmap=True), _load(yp, mmap=False)
        if X.ndim < 2 or 0 in X.shape[1:]:
            raise DataError(f"{xp} must hold one example per row, (N, n_features); got "
                            f"shape {X.shape}")
        if X.dtype != np.uint8 and X.dtype.kind != "f":
            raise DataError(f"{xp} holds {X.dtype}; an array directory's rows are pixel bytes "
                            f"(uint8) or floats in [0, 1]")
        if X.ndim > 2:
            out["image_shape"] = out["image_shape"] or X.shape[1:]
            X = X.reshape(len(X), -1)             # a view: still the mapped file
        y = as_labels(y, f"in {yp.name}")
        if len(X) != len(y) or len(X) == 0:
            raise DataError(f"{directory} has {len(X):,} rows in {xp.name} and {len(y):,} "
                            f"labels in {yp.name}; they must be as many, and not none")
        out[split] = (X, y)
    widths = {out[s][0].shape[1] for s in ("train", "val", "test") if out[s] is not None}
    if len(widths) > 1:
        raise DataError(f"the splits in {directory} have different numbers of features: "
                        f"{sorted(widths)}")
    _check_meta(directory, out, widths.pop())
    return out


def read_scale(directory, parts) -> int:
    """The one divisor for the rows of every split in ``parts`` (as :func:`read_arrays`
    gives them) of the array directory ``directory``: 255 for pixel bytes, 1 for floats in
    [0, 1]. Rows of uint8 are bytes by their type, and are not read; float rows are bytes
    when they are whole numbers 0..255 beyond [0, 1] (with a warning when none reaches 128).
    Splits read different ways raise ``DataError``, naming the first two that differ: each
    scaled by its own rule, training and test rows would lie on different scales. A float
    split of 0s and 1s only reads the same either way, and follows the others."""
    held = {}                                   # "X_train.npy": (divisor, max or None, words)
    for split in ("train", "val", "test"):
        if parts[split] is not None:
            X, name = parts[split][0], f"X_{split}.npy"
            if X.dtype == np.uint8:
                held[name] = (255, None, "pixel bytes (uint8)")
                continue
            divisor, hi, what = scale_of(X, f"in {Path(directory) / name}")
            if divisor != 1 or not whole_numbers(X):
                held[name] = (divisor, hi, what)
    if not held:
        return 1
    (first, (divisor, _, what)), *others = held.items()
    for name, (other, _, other_what) in others:
        if other != divisor:
            raise different_scales(f"in {directory}", (first, what), (name, other_what))
    highs = [hi for _, hi, _ in held.values() if hi is not None]
    if divisor == 255 and highs:
        warn_if_not_bytes(f"features in {directory}", max(highs), stacklevel=3)
    return divisor


def _check_meta(directory, out, width):
    """The description's image shape (whole numbers whose product is the rows' width) and
    class names (strings, one per class), as tuples; DataError naming the file if not."""
    where = Path(directory) / META
    shape, names = out["image_shape"], out["class_names"]
    if shape is not None:
        if not isinstance(shape, (list, tuple)) or not shape or not all(
                isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape) \
                or np.prod(shape) != width:
            raise DataError(f"{where}: image_shape must be whole numbers whose product is the "
                            f"rows' {width} features; got {shape!r}")
        out["image_shape"] = tuple(shape)
    if names is not None:
        labels = max(int(y.max()) for y in (out[s][1] for s in ("train", "val", "test")
                                             if out[s] is not None)) + 1
        if not isinstance(names, list) or not all(isinstance(c, str) for c in names) or \
                len(names) < labels:
            raise DataError(f"{where}: class_names must be a list of at least {labels} "
                            f"strings, one per class; got {names!r:.80}")
        out["class_names"] = tuple(names)


def _load(path, mmap):
    check_regular_file(path, "a .npy file", DataError)
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except FileNotFoundError:
        raise DataError(f"no such file: {path}") from None
    except (OSError, ValueError, EOFError) as e:
        raise DataError(f"cannot read {path} as a .npy file: {e}") from None


# -- the cache of decoded IDX data sets ----------------------------------------------------
#: Sources smaller than this (bytes, all files together) are not cached: they are read in
#: milliseconds anyway.
CACHE_MIN_BYTES = 1 << 20


def stamp(paths):
    """What the cache is valid for: each source file's real path, size, inode and times
    (a file rewritten in place, or replaced by another, gets another stamp)."""
    out = []
    for p in paths:
        st = os.stat(p)
        out.append([os.path.realpath(p), st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns])
    return out


def _worth_caching(paths):
    return sum(os.path.getsize(p) for p in paths) >= CACHE_MIN_BYTES


def _prune(cache_root):
    """Remove the cached copies of files that are gone or have changed since."""
    for meta_path in (Path(cache_root) / "arrays").glob(f"*/{META}"):
        try:
            sources = json.loads(meta_path.read_text()).get("sources") or []
            if all(os.path.exists(s[0]) and stamp([s[0]]) == [s] for s in sources):
                continue
        except (OSError, ValueError, TypeError, AttributeError, IndexError):
            pass
        shutil.rmtree(meta_path.parent, ignore_errors=True)


def cache_path(cache_root, paths) -> Path:
    """The array directory under ``cache_root`` that caches the files ``paths``."""
    key = hashlib.sha256("\n".join(os.path.realpath(p) for p in paths).encode()).hexdigest()
    return Path(cache_root) / "arrays" / key[:20]


def cached(cache_root, paths):
    """The parts (as :func:`read_arrays` gives them, rows memory-mapped) cached for the
    source files ``paths``, or None when the cache is missing, unreadable or older than the
    files."""
    if not _worth_caching(paths):
        return None
    directory = cache_path(cache_root, paths)
    try:
        meta = _meta(directory)
        if meta is None or meta.get("sources") != stamp(paths):
            return None
        return read_arrays(directory)
    except (OSError, DataError, ValueError):
        return None


def store(cache_root, paths, parts, stamped):
    """Cache ``parts`` (``{"train": (X, y), "val", "test", "image_shape"}``) read from the
    source files ``paths``: rows whose values are all bytes (0..255, whole) as uint8, others
    as they are. ``stamped``: :func:`stamp` of the files taken *before* they were read,
    so that a file changed while it was read makes the copy stale at once. A cache that
    cannot be written (a read-only or full disk) is left out silently: it only saves time. Sources under :data:`CACHE_MIN_BYTES` are not cached;
    the copies of sources that are gone or changed are removed first."""
    if not _worth_caching(paths):
        return
    _prune(cache_root)
    directory = cache_path(cache_root, paths)
    splits = [parts[s] or (None, None) for s in ("train", "test", "val")]
    bytes_only = all(X is None or X.dtype == np.uint8 or _whole_bytes(X) for X, _ in splits)
    (X, y), (Xt, yt), (Xv, yv) = [
        (None if X is None else X.astype(np.uint8) if bytes_only else X, y) for X, y in splits]
    try:
        write_arrays(directory, X, y, Xt, yt, X_val=Xv, y_val=yv,
                     image_shape=parts.get("image_shape"), sources=stamped)
    except OSError:
        shutil.rmtree(directory, ignore_errors=True)


def _whole_bytes(X):
    return X.dtype.kind in "iuf" and X.size > 0 and X.min() >= 0 and X.max() <= 255 and \
        (X.dtype.kind != "f" or bool(np.all(X == np.round(X))))


def _meta(directory):
    path = Path(directory) / META
    check_regular_file(path, "a JSON file", DataError)
    try:
        with open(path, "rb") as f:
            text = f.read(META_MAX_BYTES + 1)
        if len(text) > META_MAX_BYTES:
            raise DataError(f"{path} is over {META_MAX_BYTES:,} bytes; it describes a data "
                            f"set in a few lines")
        meta = json.loads(text)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise DataError(f"cannot read {path}: {e}") from None
    if not isinstance(meta, dict):
        raise DataError(f"{Path(directory) / META} is not a JSON object")
    return meta


def _mark(directory, image_shape, class_names, sources):
    meta = {"image_shape": None if image_shape is None else [int(d) for d in image_shape],
            "class_names": None if class_names is None else [str(c) for c in class_names],
            "sources": sources}
    atomic_write(directory / META, lambda f: f.write(json.dumps(meta).encode()))


def _unmark(directory):
    (Path(directory) / META).unlink(missing_ok=True)
