"""The benchmarks' data: Fashion-MNIST's 60,000 training images as rows in [0, 1], read
with gzip and NumPy (no bprop import, so that any checkout of bprop can be timed on it), or
random data of the same shape where Debian's ``dataset-fashion-mnist`` is not installed."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

N_TRAIN = 60_000
DATA_DIR = Path("/usr/share/datasets/fashion-mnist")


def _read_idx(path, magic, ndim):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    got = int.from_bytes(raw[:4], "big")
    if got != magic:
        raise ValueError(f"not an IDX file: magic {got:#010x} in {path} (expected {magic:#010x})")
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_data(data_dir, dtype, n_train=None, test=True):
    """Fashion-MNIST rows in [0, 1] (or random data of the same shape); returns a dict."""
    keys = ("train-images-idx3", "train-labels-idx1", "t10k-images-idx3", "t10k-labels-idx1")
    files = {k: Path(data_dir) / f"{k}-ubyte.gz" for k in keys[:4 if test else 2]}
    if all(p.exists() for p in files.values()):
        source = f"Fashion-MNIST ({data_dir})"
        parts = {}
        for key, path in files.items():
            images = "images" in key
            a = _read_idx(path, 0x803 if images else 0x801, 3 if images else 1)
            if images:
                X = np.empty((len(a), 784), dtype)
                np.divide(a.reshape(len(a), 784), 255.0, out=X, casting="same_kind")
                parts[key] = X
            else:
                parts[key] = a.astype(np.int64)
            del a
        X, y = parts["train-images-idx3"], parts["train-labels-idx1"]
        X_test, y_test = parts.get("t10k-images-idx3"), parts.get("t10k-labels-idx1")
    else:
        source = f"random data of Fashion-MNIST's shape ({data_dir} not found)"
        rng = np.random.default_rng(0)
        X = rng.random((N_TRAIN, 784)).astype(dtype)
        y = rng.integers(0, 10, N_TRAIN)
        X_test = rng.random((10_000, 784)).astype(dtype)
        y_test = rng.integers(0, 10, 10_000)
    if n_train is not None and n_train < len(X):
        X, y = X[:n_train].copy(), y[:n_train].copy()     # copies: free the full arrays
    Y = np.zeros((len(y), 10), dtype)
    Y[np.arange(len(y)), y] = 1.0
    return dict(X=X, y=y, Y=Y, X_test=X_test, y_test=y_test, source=source)
