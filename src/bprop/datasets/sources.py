"""Where ``bprop.datasets.load`` gets a data set's arrays: what a name or path stands for
(:func:`resolve`), the images of MNIST, Fashion-MNIST, IDX directories and the digits
(:func:`read_image_set`) and parsed ``.csv`` files (:func:`read_csv_cached`), decoded once
and then memory-mapped from the cache (:mod:`bprop.datasets.arrays`); and
:func:`write_shifted`, which writes a large augmented set from such images.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ConfigError, DataError, check_int
from ..reading import check_regular_file
from .arrays import cached, is_array_dir, stamp, store, write_shifted_arrays
from .download import cache_dir
from .files import find_idx_files, read_csv, read_idx_dir
from .registry import AVAILABLE, CLASS_NAMES, canonical_name


def resolve(name_or_path) -> tuple[str, Path | None]:
    """``(kind, path)``: kind is a dataset name, or "idx", "npz", "csv", "pkl" for a path."""
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise ConfigError(f"load() takes a dataset name or a path; got {type(name_or_path).__name__}")
    name = canonical_name(name_or_path)
    if name in AVAILABLE:
        return name, None
    path = Path(name_or_path).expanduser()
    if not path.exists():
        text = os.fspath(name_or_path)
        if isinstance(name_or_path, str) and os.sep not in text and "/" not in text and not path.suffix:
            choices = ", ".join(sorted(AVAILABLE))
            raise ConfigError(
                f"unknown dataset {text!r}; choose from {choices}, or give a path to a directory "
                "of IDX files or .npy arrays, a .npz, a .csv or mnist.pkl.gz"
            )
        raise DataError(f"no such file or directory: {path}")
    if path.is_dir():
        return ("arrays" if is_array_dir(path) else "idx"), path
    check_regular_file(path, "a directory of IDX files, a .npz, a .csv or a .pkl.gz", DataError)
    lower = path.name.lower()
    for suffix, kind in ((".npz", "npz"), (".csv", "csv"), (".pkl.gz", "pkl"), (".pkl", "pkl")):
        if lower.endswith(suffix):
            return kind, path
    raise ConfigError(
        f"cannot tell what {path.name} holds; give a directory of IDX files, a .npz, a .csv or a .pkl.gz"
    )


def read_image_set(kind, path, data_dir, download):
    """``(train_images, train_labels, test_images, test_labels, scale)`` of an image data
    set, as integers 0..scale. Decoded IDX files are cached as array directories
    (:mod:`bprop.datasets.arrays`): a later call maps the cache instead of decoding."""
    if kind == "digits":
        from .digits import read_digits
        return (*read_digits(), 16)
    if kind == "mnist":
        from .mnist import mnist_dir, read_fetched
        directory, downloadable = mnist_dir(data_dir, download=download), True
    elif kind == "fashion":
        from .fashion import DEBIAN_DIRS, fashion_dir
        from .mnist import read_fetched
        directory = fashion_dir(data_dir, download=download)
        downloadable = directory not in DEBIAN_DIRS
    else:
        directory = path
    files = find_idx_files(directory)
    parts = cached(cache_dir(), files)
    if parts is None:
        stamped = stamp(files)
        images, labels, test_images, test_labels = read_idx_dir(directory) if kind == "idx" \
            else read_fetched(directory, downloadable=downloadable)
        parts = {"train": (images.reshape(len(images), -1), labels), "val": None,
                 "test": (test_images.reshape(len(test_images), -1), test_labels),
                 "image_shape": images.shape[1:]}
        store(cache_dir(), files, parts, stamped)
    (X, y), (Xt, yt), shape = parts["train"], parts["test"], tuple(parts["image_shape"])
    return X.reshape(len(X), *shape), y, Xt.reshape(len(Xt), *shape), yt, 255


def read_csv_cached(path):
    """:func:`read_csv`, parsed once: later calls map the cached arrays."""
    parts = cached(cache_dir(), [path])
    if parts is None:
        stamped = stamp([path])
        parts = read_csv(path)
        store(cache_dir(), [path], parts, stamped)
    return parts


def write_shifted(source, directory, n, *, shift=2, seed=0, data_dir=None, download=True,
                  progress=None) -> Path:
    """Write a large augmented data set: ``n`` training images of ``source`` ("mnist",
    "fashion" or a directory of IDX files), each shifted by up to ``shift`` pixels, as an
    array directory that ``load(directory)`` (and ``bprop train --dataset DIRECTORY``)
    memory-maps, with the source's test set. ``n`` = 8,000,000 Fashion-MNIST images are
    6.3 GB on disk and train in well under 1 GiB of memory. Returns the directory."""
    check_int(n, "n", minimum=1)
    check_int(shift, "shift", minimum=0)
    kind, path = resolve(source)
    if kind not in ("mnist", "fashion", "idx"):
        raise ConfigError(f"write_shifted needs MNIST, Fashion-MNIST or a directory of IDX "
                          f"images; got {source!r}")
    images, labels, test_images, test_labels, _ = read_image_set(kind, path, data_dir, download)
    return write_shifted_arrays(directory, images, labels, test_images, test_labels, n,
                                shift=shift, seed=seed, progress=progress,
                                class_names=CLASS_NAMES.get(kind))
