"""What the command line prints: results on stdout, notes, warnings and errors on stderr.

stdout holds results only (one line per epoch, or one JSON object per line with ``--json``),
so that it can be piped; everything said to the user goes to stderr, prefixed ``bprop:``.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from ..errors import BpropError
from ..training.history import epoch_line, json_value  # noqa: F401  (the CLI's name)

#: Errors that mean bad usage or bad input: exit 2, one line, no traceback. Only what
#: bprop's checks raise (and missing or unwritable paths): a ValueError or TypeError from
#: elsewhere is a bug in bprop, exit 1 ("unexpected error", --debug for the traceback).
BAD_INPUT = (BpropError, FileNotFoundError, PermissionError, IsADirectoryError,
             NotADirectoryError, FileExistsError, ModuleNotFoundError)


#: Under ``mpiexec``, the rank of this process when it is not rank 0: it prints no results
#: and no notes, only its errors (named by rank); rank 0 speaks for the run.
SILENT_RANK = None


def silence(rank):
    """Make this process one of an MPI run's other ranks (see :data:`SILENT_RANK`)."""
    global SILENT_RANK
    SILENT_RANK = rank if rank else None


def note(message, error=False):
    """A note or warning for the user, on stderr (stdout is kept for results); dropped
    when stderr cannot be written (a closed terminal after SIGHUP)."""
    if SILENT_RANK is not None and not error:
        return
    who = "bprop" if SILENT_RANK is None else f"bprop (rank {SILENT_RANK})"
    try:
        print(f"{who}: {message}", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def err(message):
    """An error, on stderr."""
    note(f"error: {message}", error=True)


def out(line=""):
    """A line of results, on stdout."""
    if SILENT_RANK is None:
        print(line, flush=True)


def json_line(obj):
    """One JSON object on one line of stdout (NumPy values as JSON numbers and lists)."""
    if SILENT_RANK is None:
        print(json.dumps(obj, default=_to_builtin), flush=True)


def _to_builtin(o):
    if isinstance(o, np.generic):
        return json_value(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, tuple):
        return list(o)
    raise TypeError(f"cannot write {type(o).__name__} as JSON")


def one_line(e):
    """An exception's message on one line; OSErrors as 'reason: filename'."""
    if isinstance(e, OSError) and e.strerror and e.filename:
        text = f"{e.strerror}: {e.filename}"
    elif isinstance(e, ModuleNotFoundError) and str(e).startswith("No module named"):
        text = f"{e}; install it (pip install 'bprop[all]' installs every optional package)"
    else:
        text = str(e) or type(e).__name__
    return " ".join(text.split())


def show_warning(message, category, filename, lineno, file=None, line=None):
    """Library warnings (a plot skipped, ...) as one-line notes on stderr (the signature of
    ``warnings.showwarning``)."""
    note(f"warning: {message}")
