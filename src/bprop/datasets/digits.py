"""scikit-learn's 8x8 handwritten digits: 1,797 real digits that need no download.

Pixels are integers 0-16; ``read_digits`` returns them as they are and
``bprop.datasets.load("digits")`` divides by 16. The train/test split is a fixed seeded
permutation (``TEST_SIZE`` = 360 test, 1,437 train), so every run and every seed tests on
the same 360 digits. scikit-learn is imported here, lazily; it is the ``digits`` extra.
Data: UCI "Optical Recognition of Handwritten Digits", as bundled with scikit-learn
(BSD-3-Clause).
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from .files import holdout_indices

TEST_SIZE = 360
SPLIT_SEED = 0


def read_digits():
    """``(train_images, train_labels, test_images, test_labels)`` of scikit-learn's digits.

    Images ``(1437, 8, 8)`` and ``(360, 8, 8)`` float64 with integer values 0-16; labels
    ``(N,)`` int64 in 0-9.
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise DataError(
            "the 'digits' dataset needs scikit-learn: pip install bprop[digits] (or pip install scikit-learn)"
        ) from None
    bunch = load_digits()
    images, labels = np.asarray(bunch.images), np.asarray(bunch.target, dtype=np.int64)
    train, test = holdout_indices(len(images), TEST_SIZE, SPLIT_SEED)
    return images[train], labels[train], images[test], labels[test]
