"""A training run's history beside its model file: ``<stem>.history.json`` (everything) and
``<stem>.history.csv`` (the scalar columns, for a spreadsheet), written atomically."""

from __future__ import annotations

import json
import os

from ..atomic import atomic_write
from ..reading import check_regular_file
from ..errors import DataError
from ..training import History

HISTORY_COLUMNS = ("epoch", "eta", "seconds", "train_cost", "running_cost", "train_accuracy",
                   "val_cost", "val_accuracy", "test_accuracy")


def history_paths(model_path):
    """``(json_path, csv_path)`` of the history files kept beside a model file."""
    stem = os.path.splitext(os.fspath(model_path))[0]
    return stem + ".history.json", stem + ".history.csv"


def save_history(history, model_path):
    """Write ``history`` as JSON (everything) and CSV (the scalar columns) beside the model."""
    json_path, csv_path = history_paths(model_path)
    atomic_write(json_path, lambda f: f.write(json.dumps(history.to_dict(), indent=1).encode()))
    lines = [",".join(HISTORY_COLUMNS)]
    for r in history.records:
        lines.append(",".join("" if getattr(r, c) is None else repr(getattr(r, c))
                              for c in HISTORY_COLUMNS))
    atomic_write(csv_path, lambda f: f.write(("\n".join(lines) + "\n").encode()))
    return json_path, csv_path


def load_history(model_path):
    """The History in ``<stem>.history.json`` beside a model file, or None when there is no
    such file; ``DataError`` when it is not a bprop history."""
    json_path = history_paths(model_path)[0]
    if not os.path.exists(json_path):
        return None
    check_regular_file(json_path, "a bprop history file", DataError)
    with open(json_path, encoding="utf-8") as f:
        try:
            return History.from_dict(json.load(f))
        except (ValueError, TypeError) as e:    # JSON, or History.from_dict's DataError
            raise DataError(f"{json_path} is not a bprop history file ({e})") from None
