"""What a model file records about the data set it was trained on, and matching it again.

A checkpoint's header holds a ``dataset`` object (:func:`dataset_record`) so that
evaluating, predicting, plotting or resuming later reloads the same data with the same
splits (:func:`bprop.datasets.load_recorded`) and prepares pictures like its images.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from ..images import typical_box
from .registry import AVAILABLE, canonical_name


def dataset_record(dataset, data, *, validation=0, seed=0, train_size=None, data_dir=None,
                   stored=None):
    """The ``dataset`` header field of a model trained on ``data`` (a :class:`Dataset`),
    loaded as ``load(dataset, validation=..., seed=..., train_size=..., data_dir=...)``.

    name: :func:`dataset_id`; validation, seed, train_size: as passed to ``load``; data_dir:
    the same, made absolute so that the model file works from any directory; n_classes,
    image_shape: the data's; fingerprint: :func:`data_fingerprint`; box: the side of the box its images' ink fills
    (:func:`bprop.images.typical_box`), for preparing pictures like the training images,
    taken from ``stored`` (the header being continued) when it has one.
    """
    info = {"name": dataset_id(dataset), "validation": validation, "seed": seed,
            "train_size": train_size,
            "data_dir": None if data_dir is None else
            os.path.abspath(os.path.expanduser(data_dir)),
            "n_classes": data.n_classes,
            "image_shape": list(data.image_shape) if data.image_shape else None}
    info["fingerprint"] = data_fingerprint(data)
    stored = stored or {}
    if "box" in stored:
        info["box"] = stored["box"]
    elif data.image_shape and len(data.image_shape) == 2 and \
            data.image_shape[0] == data.image_shape[1]:
        info["box"] = typical_box(data.X_train, data.image_shape)
    return info


def data_fingerprint(data):
    """A cheap fingerprint of the data a run trains on (a :class:`Dataset`): the split's
    sizes, all labels and up to 256 rows of each split spread over it, hashed; so that a
    resumed run can tell that the data changed since it was saved. ``"60000x784:<hash>"``."""
    h = hashlib.sha256()
    for X, y in ((data.X_train, data.y_train), (data.X_val, data.y_val),
                 (data.X_test, data.y_test)):
        if X is None:
            h.update(b"-")
            continue
        h.update(repr((X.shape, y.shape)).encode())
        rows = np.unique(np.linspace(0, len(X) - 1, min(len(X), 256)).astype(np.int64))
        h.update(np.ascontiguousarray(X[rows], dtype=np.float64).tobytes())
        h.update(np.ascontiguousarray(y, dtype=np.int64).tobytes())
    return f"{len(data.X_train)}x{data.X_train.shape[1]}:{h.hexdigest()[:16]}"


def dataset_id(dataset):
    """What a header stores for a data set: the canonical name of a built-in one, else the
    absolute path given (``./fashion``, a folder of one's own IDX files, is a path, not the
    built-in Fashion-MNIST)."""
    name = canonical_name(dataset)
    if name in AVAILABLE:
        return name
    return os.path.abspath(os.path.expanduser(dataset))


def same_dataset(given, stored):
    """Whether a data set's name or path names the one a header records (a name or a path)."""
    if stored is None:
        return False
    if canonical_name(given) == canonical_name(stored):
        return True
    try:
        return Path(given).expanduser().resolve() == Path(stored).expanduser().resolve()
    except (OSError, RuntimeError, TypeError):
        return False
