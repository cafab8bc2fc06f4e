"""Exceptions raised at bprop's public boundary.

Every error a user can cause is a :class:`BpropError` (and a ``ValueError`` or, for
failures of the machine, a ``RuntimeError``) whose message names what is wrong, what was
expected and what was got, or an ``OSError`` for a path that is missing or cannot be
written (and ``ModuleNotFoundError`` for a missing optional package). The command line
turns them into one line on stderr and exit status 2; any other exception, a plain
``TypeError`` from bprop's own code say, is a bug: exit status 1.

``check_int``, ``check_number``, ``check_range``, ``check_dtype`` and ``check_class_index``
are the checks of settings that the network, the optimisers, the training loop, the data
sets and the diagnostics share; ``whole`` reads a whole number (20 or 20.0) as an int, and
``numpy_reason`` and ``json_reason`` word a NumPy or JSON reading error for the user.
"""

import math
import re
from numbers import Integral, Real

import numpy as np


class BpropError(Exception):
    """Base class of bprop's own errors."""


class ShapeError(BpropError, ValueError):
    """An array has the wrong shape for the network or the data it goes with."""


class DataError(BpropError, ValueError):
    """Data is unusable: non-finite values, labels out of range, empty, corrupt or missing files."""


class OutputOverflowError(DataError):
    """The network's outputs overflow its dtype (weights far too large): no prediction."""


class ModelFileError(BpropError, ValueError):
    """A model file is truncated, corrupt or inconsistent."""


class ConfigError(BpropError, ValueError):
    """A setting is out of range or names something that does not exist."""


class FileInUseError(BpropError, ValueError):
    """Another bprop run holds the file (:class:`bprop.atomic.FileLock`): two runs writing
    one checkpoint would lose one of them."""


class CheckpointError(BpropError, RuntimeError):
    """A training checkpoint could not be written (disk full, a quota); the message says
    what the file still holds."""


def whole(value, low=None, high=None):
    """``value`` as an int when it is a whole number (an int, or a float such as 20.0) in
    ``[low, high]`` (either bound may be None), else None; bools are not numbers here."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, Integral):
        n = int(value)
    elif isinstance(value, Real) and math.isfinite(value) and float(value).is_integer():
        n = int(value)
    else:
        return None
    if (low is not None and n < low) or (high is not None and n > high):
        return None
    return n


def check_int(value, name, minimum):
    """value must be an integer (a NumPy one too, not a bool) >= minimum."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}; got {value!r}")


def check_number(value, name, positive=False):
    """value must be a finite real number, > 0 if ``positive``, else >= 0, also as the
    Python float it is computed with (a huge int or a long double beyond float64 is not)."""
    try:
        as_float = float(value) if isinstance(value, Real) else None
    except OverflowError:
        as_float = None
    ok = not isinstance(value, bool) and as_float is not None and np.isfinite(as_float) \
        and (as_float > 0 if positive else as_float >= 0)
    if not ok:
        raise ConfigError(f"{name} must be a {'positive' if positive else 'non-negative'} "
                          f"number; got {value!r}")


def check_range(value, name, low, high, low_open=False, high_open=False):
    """value must be a number in the interval from low to high (open ends as flagged)."""
    ok = not isinstance(value, bool) and isinstance(value, Real) \
        and (value > low if low_open else value >= low) \
        and (value < high if high_open else value <= high)
    if not ok:
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ConfigError(f"{name} must be a number in {interval}; got {value!r}")


def check_class_index(j, n):
    """Refuse a class index outside [0, n) (NumPy would wrap -1 round to the last class);
    an int, a NumPy integer, or a 0-d integer array."""
    if isinstance(j, np.ndarray) and j.ndim == 0 and j.dtype.kind in "iu":
        j = j[()]
    if isinstance(j, (bool, np.bool_)) or not isinstance(j, Integral) or not 0 <= j < n:
        raise DataError(f"class index must be an integer in [0, {n}); got {j!r}")


def check_dtype(dtype):
    """``np.dtype(dtype)``, which must be float64 or float32 (the two bprop computes in)."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise ConfigError(f"dtype must be float64 or float32; got {dtype!r}") from None
    if dt not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ConfigError(f"dtype must be float64 or float32; got {dt}")
    return dt


def numpy_reason(e):
    """A NumPy reading error's message without its advice for Python callers (an
    ``allow_pickle`` or ``usecols`` keyword the command line does not have)."""
    text = str(e)
    if "allow_pickle" in text:
        return "it is not a NumPy file of numbers (NumPy would read it as pickled Python " \
               "objects, which bprop does not load)"
    return re.sub(r";?\s*use `?usecols`? to select a subset and avoid this error\.?", "",
                  text).strip()


def json_reason(e):
    """Why a JSON file could not be read, for a one-line message."""
    return "nested too deeply" if isinstance(e, RecursionError) else str(e)
