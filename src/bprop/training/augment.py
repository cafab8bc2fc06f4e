"""Augmentation drawn afresh for every mini-batch: dropout masks and image shifts.

Both draw from a ``numpy.random.Generator`` (the network's, or a data-parallel helper's own,
:meth:`with_rng`), so a seeded run repeats exactly.
"""

from __future__ import annotations

import numpy as np


class Dropout:
    """Inverted dropout on hidden layers: each neuron kept with probability ``keep`` and its
    activation scaled by 1/keep, so that E[a] is unchanged.
    :func:`bprop.backprop.backprop_batch` multiplies a hidden layer's a and σ′(z) by
    :meth:`mask`."""

    def __init__(self, keep, rng):
        self.keep, self.rng = keep, rng

    def with_rng(self, rng):
        """The same dropout drawn from another generator (a data-parallel helper's)."""
        return Dropout(self.keep, rng)

    def mask(self, a):
        """A mask for activations ``a``: 1/keep where a neuron is kept, 0 where dropped."""
        return (self.rng.random(a.shape) < self.keep).astype(a.dtype) / self.keep


class Shifter:
    """Random shifts of image rows by up to ``s`` pixels, zero-filled (the book's chapter 6
    expansion of MNIST, done on the fly per mini-batch, never materialised)."""

    def __init__(self, image_shape, s, rng):
        self.h, self.w = image_shape
        self.s = s
        self.rng = rng

    def with_rng(self, rng):
        """The same shifts drawn from another generator (a data-parallel helper's)."""
        return Shifter((self.h, self.w), self.s, rng)

    def __call__(self, x_rows):
        """Shift each row of ``x_rows`` ``(m, h * w)`` in place."""
        m, s, h, w = len(x_rows), self.s, self.h, self.w
        padded = np.zeros((m, h + 2 * s, w + 2 * s), x_rows.dtype)
        padded[:, s:s + h, s:s + w] = x_rows.reshape(m, h, w)
        dy, dx = self.rng.integers(0, 2 * s + 1, size=(2, m))
        rows = dy[:, None] + np.arange(h)                # (m, h)
        cols = dx[:, None] + np.arange(w)                # (m, w)
        x_rows[...] = padded[np.arange(m)[:, None, None], rows[:, :, None],
                             cols[:, None, :]].reshape(m, h * w)
