"""Norms that neither overflow nor underflow where the answer itself fits in a float, and a
quick test that an array is finite.

‖a‖ computed as √(Σ aᵢ²) in a's dtype overflows once an entry passes √max (1.8e19 in
float32, 1.3e154 in float64), and underflows to 0 for entries below √tiny, although the
norm itself is representable. Gradient clipping, the L2 term of the cost and the diagnostics'
norms use :func:`norm`, which falls back to a scaled sum only when the direct one is not
trustworthy, so the common case costs one pass.
"""

from __future__ import annotations

import math

import numpy as np


# below this a sum of squares may have lost digits to gradual underflow: recompute scaled
_TRUST_ABOVE = {np.dtype(t): np.finfo(t).tiny / np.finfo(t).eps for t in (np.float32, np.float64)}


def norm(a) -> float:
    """‖a‖ (the Frobenius norm of an array of any shape) as a Python float.

    inf only when a holds inf (or the norm exceeds the float64 range); nan when a holds nan.
    One ``einsum`` pass in a's dtype (it raises no floating-point warnings); a second,
    scaled pass only when that sum overflowed or came out near the underflow range. Not
    np.dot or np.linalg.norm: a multithreaded BLAS wakes its threads for a dot product of a
    few thousand numbers, which can cost milliseconds.
    """
    a = np.asarray(a)
    if a.dtype not in _TRUST_ABOVE:
        a = a.astype(np.float64)
    flat = a.reshape(-1)
    squares = float(np.einsum("i,i->", flat, flat))
    if _TRUST_ABOVE[a.dtype] < squares < math.inf:
        return math.sqrt(squares)
    if flat.size == 0:
        return 0.0
    biggest = float(np.max(np.abs(flat)))       # nan propagates; 0 means a is all zeros
    if biggest == 0.0 or not math.isfinite(biggest):
        return biggest
    scaled = flat.astype(np.float64) / biggest
    return biggest * math.sqrt(float(np.einsum("i,i->", scaled, scaled)))


#: Up to this many numbers :func:`all_finite` first tries one dot product.
DOT_CHECK_MAX = 100_000


def all_finite(a) -> bool:
    """Whether a numeric array holds no nan or inf; for a small one (a column, a mini-batch,
    a layer's z) by one dot product, finite unless ``a`` holds nan or inf or its squares
    pass the float range (then answered exactly)."""
    if a.dtype.kind != "f":
        return True
    if a.size <= DOT_CHECK_MAX and a.flags.c_contiguous:
        flat = a.reshape(-1)
        with np.errstate(over="ignore"):    # squares past the float range: answered below
            if math.isfinite(np.dot(flat, flat)):
                return True
    return bool(np.isfinite(a).all())


def squared_norm_times(c, a) -> float:
    """c · ‖a‖² for c ≥ 0, overflowing only where the product itself does (the L2 term
    ½(λ/n)‖w‖² with huge weights and a tiny λ/n)."""
    if not c:
        return 0.0
    root = math.sqrt(c) * norm(a)
    return root * root          # a float product overflows to inf; ** would raise instead
