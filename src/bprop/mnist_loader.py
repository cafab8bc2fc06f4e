"""The book's ``mnist_loader``: ``load_data``, ``load_data_wrapper``, ``vectorized_result``.

Programs written for the book run with ``from bprop import mnist_loader``. The data is
the book's ``mnist.pkl.gz`` (50,000 training, 10,000 validation, 10,000 test images), by
default from ``cache_dir() / "mnist.pkl.gz"`` (``$BPROP_DATA``, else
``$XDG_CACHE_HOME/bprop``, else ``~/.cache/bprop``), else from ``../data/mnist.pkl.gz``
where the book's own loader looks (a script run from the book's ``src`` folder). It is
unpickled safely: only NumPy arrays are admitted. Nothing is downloaded; ``bprop.datasets.load("mnist",
validation=10000)`` gives the same split from the IDX files, as rows.

Shapes, as in the book: x is a column ``(784, 1)``; a training y is a one-hot column
``(10, 1)``; a validation or test y is an int.
"""

from __future__ import annotations

import os
from pathlib import Path

from .book import vectorized_result
from .datasets import to_book_format
from .datasets.download import cache_dir
from .datasets.mnist import PKL_NAME, PKL_URL, read_pkl_gz
from .errors import DataError


#: Where the book's ``mnist_loader`` reads the file, relative to the working directory.
BOOK_PATH = Path("..", "data", PKL_NAME)


def load_data(path: str | os.PathLike | None = None):
    """``(training_data, validation_data, test_data)``, each an ``(images, labels)`` pair.

    images: ``(N, 784)`` float32 in ``[0, 1)``; labels: ``(N,)`` int64; N is 50,000,
    10,000 and 10,000. ``path`` defaults to ``cache_dir() / "mnist.pkl.gz"``, or to the
    book's ``../data/mnist.pkl.gz`` when only that one exists.
    """
    if path is None:
        cached = cache_dir() / PKL_NAME
        path = BOOK_PATH if not cached.exists() and BOOK_PATH.is_file() else cached
        where = f"{path} not found (nor {BOOK_PATH}, where the book's loader looks)"
    else:
        path = Path(path)
        where = f"{path} not found"
    if path.is_dir():
        raise DataError(f"{path} is a directory; give the path of the book's mnist.pkl.gz")
    if not path.is_file():
        raise DataError(
            f"{where}. Download the book's data from {PKL_URL} and put it there "
            "(or set BPROP_DATA, or pass path=...); or use bprop.datasets.load('mnist', "
            "validation=10000), which reads MNIST's IDX files."
        )
    return read_pkl_gz(path)


def load_data_wrapper(path: str | os.PathLike | None = None):
    """``(training_data, validation_data, test_data)`` as lists of ``(x, y)`` tuples.

    training_data: 50,000 ``(x (784, 1), y (10, 1) one-hot)``; validation_data and
    test_data: 10,000 ``(x (784, 1), int label)`` each. Lists, so they can be reused.
    """
    tr_d, va_d, te_d = load_data(path)
    # Targets from vectorized_result, float64 like the book's, whatever the images' dtype.
    training_data = [(x, vectorized_result(y)) for x, y in to_book_format(tr_d[0], tr_d[1], 10)]
    validation_data = to_book_format(va_d[0], va_d[1], 10)
    test_data = to_book_format(te_d[0], te_d[1], 10)
    return training_data, validation_data, test_data
