"""Training rows that stay on disk: integer pixels converted a mini-batch at a time, and
targets made from labels as they are asked for.

A data set larger than memory cannot be converted to floats up front: 2,000,000 Fashion-
MNIST-sized images are 1.5 GB as bytes and 12.5 GB as float64. :class:`ScaledRows` wraps
an integer array, typically a ``numpy.memmap`` or a ``.npy`` opened with
``mmap_mode="r"``, and hands out float rows ``raw / 255`` only for the rows asked for:
the training loop gathers each mini-batch through :meth:`ScaledRows.take_into` (straight
into the backprop workspace), and evaluation reads chunks by slicing. The operating
system's page cache holds the file once per machine, however many processes (MPI ranks)
map it::

    X = bprop.rows.ScaledRows(np.load("X_train.npy", mmap_mode="r"))     # bytes / 255
    net.fit(X, y)               # y: the labels, an ordinary array
"""

from __future__ import annotations

import hashlib
import math
from numbers import Real

import numpy as np

from .errors import ConfigError


def fingerprint(X, Y):
    """``"60000x784:<16 hex digits>"``: the sizes of rows ``X`` and labels or targets ``Y``
    and a hash of up to 256 of their rows, spread over them (as float64), so that two
    processes, or a run and its resumption, can tell their data differ without reading all
    of it."""
    h = hashlib.sha256(repr((X.shape, Y.shape)).encode())
    rows = np.unique(np.linspace(0, len(X) - 1, min(len(X), 256)).astype(np.int64))
    for a in (X, Y):
        h.update(np.ascontiguousarray(a[rows], dtype=np.float64).tobytes())
    return f"{X.shape[0]}x{X.shape[1]}:{h.hexdigest()[:16]}"


class LazyRows:
    """Rows made as they are asked for: ``take_into(idx, out)`` fills a mini-batch's rows,
    indexing (an int, a slice, an index array) returns new ones; ``len``, ``shape``,
    ``ndim`` and ``dtype`` describe them. :func:`bprop.backprop.gather_rows` and the
    chunked passes of :mod:`bprop.outputs` read them so."""

    ndim = 2

    @property
    def shape(self):
        return (len(self), self.width)

    def take_into(self, idx, out):
        raise NotImplementedError

    def part(self, rows):
        """The same kind of rows over the slice ``rows`` of these, made as they are asked
        for too (``X[a:b]`` would make them all at once)."""
        raise NotImplementedError

    def __array__(self, dtype=None, copy=None):
        # np.asarray would otherwise build the whole set row by row, in memory
        raise TypeError(f"{type(self).__name__} are made as they are asked for, never all "
                        f"at once: index them (rows[:1000]) for an array")


class ScaledRows(LazyRows):
    """Rows ``raw[i] / divisor`` (or ``scale × raw[i]``) of an integer array ``raw``
    ``(n, n_features)``, as floats of ``dtype`` (float64 by default; a network converts them
    to its own), never all at once.

    The default, ``divisor=255``, is what bprop's data sets do to pixel bytes, computed in
    ``dtype`` as they compute it, so the rows equal a loaded set's bit for bit; ``scale``
    multiplies instead. ``len``, ``shape``, ``ndim`` and ``dtype`` describe the float rows;
    indexing with an int, a slice or an index array returns them as a new float array.
    """

    def __init__(self, raw, scale=None, dtype=np.float64, *, divisor=None):
        if not hasattr(raw, "dtype") or raw.dtype.kind not in "iu" or raw.ndim != 2:
            raise TypeError("ScaledRows needs a 2-D integer array (uint8 pixels, say), "
                            "one example per row")
        if scale is not None and divisor is not None:
            raise TypeError("ScaledRows takes scale or divisor, not both")
        for name, value in (("scale", scale), ("divisor", divisor)):
            if value is not None and not (isinstance(value, Real) and math.isfinite(value)
                                          and value != 0):
                raise ConfigError(f"ScaledRows {name} must be a finite number other than 0; "
                                  f"got {value!r}")
        self.raw, self.dtype = raw, np.dtype(dtype)
        self.scale = None if scale is None else float(scale)
        self.divisor = None if scale is not None else float(255 if divisor is None else divisor)

    @property
    def width(self):
        return self.raw.shape[1]

    def __len__(self):
        return len(self.raw)

    def __getitem__(self, index):
        raw = np.asarray(self.raw[index])
        return self._convert(raw, np.empty(raw.shape, self.dtype))

    def as_dtype(self, dtype):
        """The same rows handed out as ``dtype`` (the network's)."""
        if np.dtype(dtype) == self.dtype:
            return self
        return ScaledRows(self.raw, self.scale, dtype, divisor=self.divisor)

    def part(self, rows):
        return ScaledRows(self.raw[rows], self.scale, self.dtype, divisor=self.divisor)

    def take_into(self, idx, out):
        """Rows ``idx`` into ``out`` ``(len(idx), n_features)``, scaled: one mini-batch read
        from the file (only those rows' pages) and converted in place."""
        return self._convert(self.raw[idx], out)

    def _convert(self, raw, out):
        if self.divisor is not None:    # in out's dtype, as `X = raw.astype(dtype); X /= 255`
            return np.divide(raw, self.divisor, out=out, dtype=out.dtype, casting="unsafe")
        return np.multiply(raw, self.scale, out=out, casting="unsafe")

    def __repr__(self):
        how = f"divisor={self.divisor:g}" if self.divisor is not None else f"scale={self.scale:g}"
        return (f"ScaledRows({type(self.raw).__name__} of {self.shape[0]:,} x "
                f"{self.shape[1]} {self.raw.dtype}, {how}, dtype={self.dtype})")


class OneHotRows(LazyRows):
    """Target rows made from int ``labels`` as they are asked for: one-hot rows of
    ``n_outputs`` (or, with one output, the label itself as the target), so that a large
    data set's targets take 8 bytes an example (the labels), not 8 per output. The
    training loop gathers them per mini-batch (:meth:`take_into`) and reads chunks by
    slicing, as :class:`ScaledRows`.
    """

    def __init__(self, labels, n_outputs, dtype=np.float64):
        self.labels, self.width, self.dtype = labels, n_outputs, np.dtype(dtype)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        labels = np.atleast_1d(self.labels[index])
        out = np.empty((len(labels), self.width), self.dtype)
        self._fill(labels, out)
        return out

    def part(self, rows):
        return OneHotRows(self.labels[rows], self.width, self.dtype)

    def take_into(self, idx, out):
        """The target rows of examples ``idx`` into ``out`` ``(len(idx), n_outputs)``."""
        self._fill(self.labels[idx], out)
        return out

    def _fill(self, labels, out):
        if self.width == 1:             # a binary classifier: the target is the label
            out[:, 0] = labels
            return
        out.fill(0.0)
        out[np.arange(len(labels)), labels] = 1.0
