"""Persistence: model files and checkpoints, the book's network2 JSON, history files.

:func:`save`, :func:`load` and :func:`load_checkpoint` (:mod:`.model`) for bprop's
``.npz`` model files (their format: :mod:`bprop.modelfile`);
:class:`Checkpoint`, :class:`Checkpointer` and :class:`Resume` (:mod:`.checkpoint`) for
training checkpoints; :func:`save_book_json` / :func:`load_book_json` (:mod:`.book_json`);
:func:`save_history` and friends (:mod:`.history_files`); :func:`atomic_write`
(:mod:`bprop.atomic`), which model, history, plot, report and IDX files are written with.
"""

from ..atomic import atomic_write
from ..costs import COSTS_BY_CLASS_NAME  # noqa: F401  (importable from here before)
from ..modelfile import FORMAT, REGULARISATION, VERSION
from .book_json import load_book_json, save_book_json
from .checkpoint import Checkpoint, Checkpointer, Resume
from .history_files import HISTORY_COLUMNS, history_paths, load_history, save_history
from .model import load, load_checkpoint, save

__all__ = ["FORMAT", "HISTORY_COLUMNS", "REGULARISATION", "VERSION", "Checkpoint",
           "Checkpointer", "Resume", "atomic_write", "history_paths", "load", "load_book_json",
           "load_checkpoint", "load_history", "save", "save_book_json", "save_history"]
