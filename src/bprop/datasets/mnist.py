"""MNIST: the four IDX files, and the book's ``mnist.pkl.gz``.

IDX files: 60,000 training and 10,000 test images, ``(N, 28, 28)`` uint8, with uint8
labels 0-9. They are looked for in ``data_dir`` (default ``cache_dir() / "mnist"``), gzipped
or not, and if missing downloaded there from ``MIRRORS`` and checked against the published
SHA-256 sums in ``SHA256``.

``mnist.pkl.gz``: the file the book's ``mnist_loader`` reads, a Python 2 pickle of three
``(images, labels)`` pairs (50,000 training, 10,000 validation, 10,000 test; images
``(N, 784)`` float32 in ``[0, 1)``, labels int64). It is unpickled by ``_NumpyUnpickler``,
which resolves only the names NumPy needs to rebuild arrays, so a pickle that tries to
call anything else (``os.system``, ...) raises ``DataError`` instead of running it.

This module only finds, fetches and reads; scaling to float and splitting happen in
``bprop.datasets.load``.
"""

from __future__ import annotations

import codecs
import gzip
import os
import pickle
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..reading import BoundedReader, check_regular_file, physical_memory
from ..errors import DataError
from .download import cache_dir, download_files
from .files import read_idx_dir

try:  # NumPy >= 2 moved the array-rebuilding functions; old pickles still name numpy.core.
    from numpy._core import multiarray as _multiarray
    from numpy._core import numeric as _numeric
except ImportError:  # pragma: no cover - NumPy 1.x
    from numpy.core import multiarray as _multiarray
    from numpy.core import numeric as _numeric

FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)

# Published SHA-256 of the gzipped files (the same sums torchvision, TensorFlow and others pin).
SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

# Tried in order; yann.lecun.com often refuses automated downloads, so it comes last.
MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]

PKL_NAME = "mnist.pkl.gz"
PKL_URL = "https://github.com/mnielsen/neural-networks-and-deep-learning/raw/master/data/mnist.pkl.gz"

OFFLINE_HINT = (
    "Datasets that need no download: 'digits' (scikit-learn's 8x8 digits; pip install bprop[digits]) "
    "and 'fashion' (Fashion-MNIST from the Debian package dataset-fashion-mnist)."
)


def default_dir() -> Path:
    """Where MNIST's IDX files are kept: ``cache_dir() / "mnist"``."""
    return cache_dir() / "mnist"


def present_file(directory: Path, name: str) -> Path | None:
    """``directory / name``, or the same file without ``.gz``, whichever exists."""
    for candidate in (directory / name, directory / name.removesuffix(".gz")):
        if candidate.is_file():
            return candidate
    return None


def ensure_files(directory: Path, files: Sequence[str], mirrors: Sequence[str],
                 sha256: dict[str, str], *, download: bool, what: str, hint: str) -> None:
    """Make sure ``files`` are in ``directory`` (gzipped or not), downloading the missing ones.

    Raises ``DataError`` naming the directory and the files to put there, plus ``hint``,
    when they are missing and cannot (or may not) be downloaded.
    """
    missing = [name for name in files if present_file(directory, name) is None]
    if not missing:
        return
    where = (
        f"Put {', '.join(files)} (gzipped or not) in {directory} "
        "(or set BPROP_DATA, or give --data-dir / data_dir=). " + hint
    )
    if not download:
        raise DataError(f"{what} is not in {directory} and downloading is off. {where}")
    try:
        download_files(missing, mirrors, directory, sha256)
    except DataError as e:
        raise DataError(f"{what} is not in {directory}, and bprop {e}. {where}") from None


def read_fetched(directory: Path, *, downloadable: bool):
    """``read_idx_dir(directory, n_classes=10)``, its errors saying where the damaged file
    is and, for files bprop downloads, that deleting it fetches it afresh."""
    try:
        return read_idx_dir(directory, n_classes=10)
    except DataError as e:
        fix = "; delete it to download it again" if downloadable else ""
        raise DataError(f"{e} (in {directory}{fix})") from None


def mnist_dir(data_dir: str | os.PathLike | None = None, *, download: bool = True) -> Path:
    """The directory holding MNIST's four IDX files (``data_dir`` or the cache's), after
    downloading what is missing."""
    directory = Path(data_dir) if data_dir is not None else default_dir()
    ensure_files(directory, FILES, MIRRORS, SHA256, download=download, what="MNIST", hint=OFFLINE_HINT)
    return directory


def read_mnist(data_dir: str | os.PathLike | None = None, *, download: bool = True):
    """``(train_images, train_labels, test_images, test_labels)`` of MNIST, downloading once if needed.

    Images ``(60000, 28, 28)`` and ``(10000, 28, 28)`` uint8; labels ``(N,)`` int64 in 0-9.
    """
    return read_fetched(mnist_dir(data_dir, download=download), downloadable=True)


# ---------------------------------------------------------------------------- mnist.pkl.gz

# The only globals a pickle of NumPy arrays needs, mapped to the objects themselves, so
# find_class never imports a module by a name taken from the file.
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _multiarray._reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _multiarray._reconstruct,
    ("numpy.core.multiarray", "scalar"): _multiarray.scalar,
    ("numpy._core.multiarray", "scalar"): _multiarray.scalar,
    # Protocol 5 (pickle.HIGHEST_PROTOCOL) rebuilds an array from its bytes.
    ("numpy.core.numeric", "_frombuffer"): _numeric._frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _numeric._frombuffer,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    # Python 3 writes bytes as _codecs.encode(str, "latin1") under protocol 2.
    ("_codecs", "encode"): codecs.encode,
}


class _NumpyUnpickler(pickle.Unpickler):
    """Unpickler that admits NumPy's array-rebuilding names and nothing else."""

    def find_class(self, module, name):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise DataError(
                f"refusing to unpickle {module}.{name}: only NumPy arrays are allowed in {PKL_NAME}"
            ) from None


def read_pkl_gz(path: str | os.PathLike):
    """The three ``(images, labels)`` pairs in the book's ``mnist.pkl.gz``: training, validation, test.

    Images ``(N, n_features)`` float arrays in ``[0, 1]`` as stored (float32 in the book's
    file, 784 = 28 x 28 features); labels ``(N,)`` int64. Reads with ``encoding="latin1"``
    (the file is a Python 2 pickle). Raises ``DataError`` for a missing, corrupt or
    unexpected file, and for any pickle that references more than NumPy arrays.
    """
    path = Path(path)
    check_regular_file(path, "the book's mnist.pkl.gz", DataError)
    if not path.is_file():
        raise DataError(f"no such file: {path}")
    try:
        with open(path, "rb") as raw:
            gzipped = raw.read(2) == b"\x1f\x8b"
        # the book's file is gzipped; a plain pickle of the same tuple is read as well
        with (gzip.open if gzipped else open)(path, "rb") as f:
            if gzipped:     # a pickle declares no size: expand no more than half the memory
                limit = (physical_memory() or 2**34) // 2
                f = BoundedReader(f, limit, DataError,
                                  f"{path.name} expands to more than {limit / 1e9:,.1f} GB, half "
                                  f"this machine's memory; it is not the book's mnist.pkl.gz")
            data = _NumpyUnpickler(f, encoding="latin1").load()
    except DataError:
        raise
    except (pickle.UnpicklingError, EOFError, OSError, zlib.error, ValueError, TypeError,
            AttributeError, IndexError, KeyError) as e:
        raise DataError(f"corrupt {path.name}: {type(e).__name__}: {e}") from None
    return _check_pkl(data, path.name)


def _check_pkl(data, name: str):
    """``data`` checked to be three ``(images (N, d) float in [0, 1], labels (N,) int)`` pairs."""
    if not isinstance(data, (tuple, list)) or len(data) != 3:
        raise DataError(
            f"{name} must hold 3 (images, labels) pairs (training, validation, test); "
            f"got {type(data).__name__}"
        )
    out = []
    n_features = None
    for split, pair in zip(("training", "validation", "test"), data):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise DataError(f"the {split} entry of {name} must be an (images, labels) pair")
        X, y = pair
        if not isinstance(X, np.ndarray) or X.ndim != 2 or X.dtype.kind != "f":
            got = f"shape {X.shape}, dtype {X.dtype}" if isinstance(X, np.ndarray) else type(X).__name__
            raise DataError(f"{split} images in {name} must be a 2-D float array (N, n_features); got {got}")
        if not isinstance(y, np.ndarray) or y.ndim != 1 or y.dtype.kind not in "iu":
            got = f"shape {y.shape}, dtype {y.dtype}" if isinstance(y, np.ndarray) else type(y).__name__
            raise DataError(f"{split} labels in {name} must be a 1-D integer array (N,); got {got}")
        if len(X) != len(y) or len(X) == 0:
            raise DataError(f"{name} has {len(X)} {split} images but {len(y)} labels")
        if n_features is not None and X.shape[1] != n_features:
            raise DataError(f"{split} images in {name} have {X.shape[1]} features; training images have {n_features}")
        n_features = X.shape[1]
        if not np.all(np.isfinite(X)) or X.min() < 0 or X.max() > 1:
            raise DataError(f"{split} images in {name} must be finite and in [0, 1]")
        if y.min() < 0 or y.max() >= 10:
            raise DataError(f"{split} labels in {name} must be integers in [0, 10); got min={y.min()}, max={y.max()}")
        out.append((X, y.astype(np.int64, copy=False)))
    return tuple(out)
