"""Predicting with a trained network: inputs from files, and scores a person can read.

:func:`read_input` turns one file (a picture, or a ``.npy`` array) into the network's input
vector, preparing pictures the way MNIST's digits were made (:mod:`bprop.images`);
:func:`output_scores` turns the outputs into per-class probabilities where the output layer
allows it. The picture functions of :mod:`bprop.images` are importable from here too.
Nothing here prints.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .reading import check_regular_file
from .errors import ConfigError, DataError, ShapeError, check_int, numpy_reason
from .images import (INK_THRESHOLD, MAX_SIDE, MNIST_BOX_FRACTION,  # noqa: F401
                     NOISE_FLOOR_SIGMAS, ascii_art, default_box, input_side, prepare_image,
                     read_image, resize_area, typical_box)
from .outputs import class_scores


def read_input(path, n_inputs, *, image_shape=None, box=None, centre=True):
    """The network input ``(n_inputs,)`` for one file: a picture, or a ``.npy`` array.

    ``.npy``: a vector of ``n_inputs`` values (also as one row or one column), or a 2-D
    array of the model's image shape, is used as it is (values in ``[0, 1]``, or bytes
    0-255, which are divided by 255); several rows of ``n_inputs`` values are refused (one
    example per file); a 2-D array of any other shape is prepared like a picture. Anything
    else is read with Pillow and prepared by :func:`prepare_image` (``centre``: as MNIST's
    digits were made, or False: the whole picture in the frame, as Fashion-MNIST's were).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ConfigError(f"path must be the path of an image or .npy file; got {path!r}")
    check_int(n_inputs, "n_inputs", minimum=1)
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {path}")
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory, not an image or .npy file")
    if path.suffix.lower() == ".npy":
        a = _read_npy(path)
        if a.size == 0:
            raise DataError(f"{path.name} is an empty array (shape {a.shape})")
        if a.ndim == 2 and 1 in a.shape:            # one row or one column: a vector
            a = a.reshape(-1)
        if a.ndim == 2 and a.shape[1] == n_inputs and a.size != n_inputs:
            raise ShapeError(f"{path.name} holds {a.shape[0]} rows of {n_inputs} values; "
                             f"give one example per file")
        if a.ndim == 1 or (a.ndim == 2 and a.size == n_inputs and
                           (image_shape is None or a.shape == tuple(image_shape))):
            if a.size != n_inputs:
                raise ShapeError(f"{path.name} holds a vector of {a.size} values; "
                                 f"the model takes {n_inputs}")
            return _unit(a.reshape(-1), path.name)
        if a.ndim != 2:
            raise ShapeError(f"{path.name} has shape {a.shape}; expected a vector of "
                             f"{n_inputs} values or a 2-D image")
        pixels = _unit(a, path.name, warn=False)    # stretched to peak 1 when prepared
    else:
        pixels = read_image(path)
    side = input_side(n_inputs, image_shape)
    return prepare_image(pixels, side, box=box, centre=centre)


def output_scores(net, X):
    """``(scores, kind)`` for rows X: per-class probabilities where the output allows it.

    A softmax output is a probability distribution already; non-negative outputs (sigmoid,
    ReLU) are divided by their sum (a row of zeros, a dead ReLU output, gets 1/k for every
    class: none is preferred); outputs that can be negative (identity, tanh) are
    returned as they are, with kind "output" instead of "probability". A network with one
    output (a binary classifier) gets two columns, 1 − a and a, for classes 0 and 1.
    """
    a = net.predict_proba(X)
    if a.shape[1] == 1:     # a binary classifier: outputs 1 − a and a for classes 0 and 1
        kind = "probability" if net.activations[-1].name == "sigmoid" else "output"
        return class_scores(a), kind
    if net.activations[-1].name == "softmax":
        return a, "probability"
    if net.activations[-1].name in ("sigmoid", "relu"):
        total = a.sum(axis=1, keepdims=True)
        uniform = np.full_like(a, 1.0 / a.shape[1])
        return np.divide(a, total, out=uniform, where=total > 0), "probability"
    return a, "output"


# -- helpers ------------------------------------------------------------------------------------
def _unit(a, name, warn=True):
    """Values in [0, 1] as float64; bytes 0-255 divided by 255 (with ``warn``, a warning
    when none reaches 128: maybe not bytes); anything else refused."""
    if a.dtype.kind not in "biuf":
        raise DataError(f"{name} must hold numbers; got dtype {a.dtype}")
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise DataError(f"{name} contains non-finite values")
    lo, hi = float(a.min()), float(a.max())
    if 0.0 <= lo and hi <= 1.0:
        return a
    if 0.0 <= lo and hi <= 255.0 and np.all(a == np.round(a)):
        if warn:
            from .datasets.files import warn_if_not_bytes
            warn_if_not_bytes(f"the values in {name}", hi)
        return a / 255.0
    raise DataError(f"{name} must hold values in [0, 1] or bytes 0-255; "
                    f"got min={lo:g}, max={hi:g}")


def _read_npy(path):
    check_regular_file(path, "a .npy file", DataError)
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise DataError(f"cannot read {path.name} as a .npy array: {numpy_reason(e)}") from None
