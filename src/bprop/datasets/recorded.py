"""What a model file records about the data set it was trained on, and matching it again.

A checkpoint's header holds a ``dataset`` object (:func:`dataset_record`) so that
evaluating, predicting, plotting or resuming later reloads the same data with the same
splits (:func:`bprop.datasets.load_recorded`) and prepares pictures like its images.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


from ..images import typical_box
from ..rows import fingerprint
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
    """A cheap fingerprint of the data a run trains on (a :class:`Dataset`): the splits'
    sizes and up to 256 rows and labels of each (:func:`bprop.rows.fingerprint`), hashed
    together; so that a resumed run can tell that the data changed since it was saved.
    ``"60000x784:<hash>"``."""
    parts = [fingerprint(X, y) if X is not None else "-"
             for X, y in ((data.X_train, data.y_train), (data.X_val, data.y_val),
                          (data.X_test, data.y_test))]
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]
    return f"{len(data.X_train)}x{data.X_train.shape[1]}:{digest}"


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
