"""What a training run measured: one :class:`EpochRecord` per epoch in a :class:`History`.

A History is also the state a run resumes from: the schedules' and early stopping's
counters (``state``), the best epoch and its weights (``best_params``). ``to_dict`` and
``from_dict`` are its JSON form, the schema that model files and ``.history.json`` files
hold; ``from_dict`` and :func:`check_record` refuse a dict that is not of that schema with a
``DataError`` naming the field.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from numbers import Integral, Real

import numpy as np

from ..errors import DataError

#: ``History.stopped_early`` when ``on_epoch_end`` returned True.
STOPPED_BY_CALLBACK = "stopped by callback"


@dataclass
class EpochRecord:
    """What one epoch measured. Costs are means per example; accuracies fractions.

    train_cost: the cost of every training row with the epoch's final weights (an extra
    pass, ``monitor_training_cost``). running_cost: the mean over the training examples of
    each one's cost as its mini-batch was trained, with the weights before its step (as
    Keras reports its loss; a short last mini-batch weighs by its examples; no extra pass,
    ``monitor_running_cost``); while a run learns it lies above
    ``train_cost``. Both include the regularisation terms, at the epoch's end.
    """

    epoch: int
    eta: float
    seconds: float
    train_cost: float | None = None
    running_cost: float | None = None
    train_accuracy: float | None = None
    val_cost: float | None = None
    val_accuracy: float | None = None
    test_accuracy: float | None = None
    test_correct: int | None = None
    test_total: int | None = None
    diagnostics: dict = field(default_factory=dict)


def epoch_line(record, k, config):
    """``epoch 3/30  running_cost 0.1234  val_acc 0.9512  test_acc 0.9490  time 0.450s``: the
    line of record ``record`` after ``k`` epochs of ``config.epochs`` (``cost``: the
    training cost of the epoch's final weights, with --monitor-training-cost)."""
    parts = [f"epoch {k}/{config.epochs}"]
    for label, value in (("running_cost", record.running_cost), ("cost", record.train_cost),
                         ("train_acc", record.train_accuracy), ("val_acc", record.val_accuracy),
                         ("test_acc", record.test_accuracy)):
        if value is None:
            continue
        if label.endswith("cost") and value != 0 and not 1e-4 <= abs(value) < 1e4:
            parts.append(f"{label} {value:.4g}")   # 1.456e+83, not 83 digits
        else:
            parts.append(f"{label} {value:.4f}")
    if config.schedule != "constant":
        parts.append(f"eta {record.eta:g}")
    # a column of one width: 0.005s, 0.482s, 12.345s (3 significant digits mixed 0.034s
    # and 0.0325s)
    parts.append(f"time {record.seconds:.3f}s")
    return "  ".join(parts)



def epoch_printer(config, then=None):
    """An ``on_epoch_end`` that prints each epoch's :func:`epoch_line` on stdout, then calls
    ``then`` (the caller's own, whose answer it passes on)."""
    def end(record):
        print(epoch_line(record, record.epoch + 1, config), flush=True)
        return then(record) if then is not None else None
    return end


@dataclass
class History:
    """Per-epoch records of a run, why it stopped, and the state of its schedules.

    state: JSON-able scalars of the plateau rule and early stopping (current η, best score,
    epochs since the best); best_params: the best weights and biases seen, kept when early
    stopping is on. A checkpoint saves both, so a resumed run continues exactly.
    """

    records: list = field(default_factory=list)
    stopped_early: str | None = None
    best_epoch: int | None = None
    state: dict = field(default_factory=dict)
    best_params: list | None = field(default=None, repr=False)

    def __repr__(self):
        last = self.records[-1] if self.records else None
        shown = [f"{len(self.records)} epoch{'s' if len(self.records) != 1 else ''}"]
        for name in ("train_cost", "running_cost", "val_accuracy", "test_accuracy"):
            value = getattr(last, name, None)
            if value is not None:
                shown.append(f"last {name}={value:.4g}")
        if self.best_epoch is not None:
            shown.append(f"best_epoch={self.best_epoch}")
        if self.stopped_early:
            shown.append(f"stopped_early={self.stopped_early!r}")
        return f"History({', '.join(shown)}; .records has one EpochRecord per epoch)"

    def column(self, name):
        """One field across epochs, e.g. ``history.column("val_accuracy")``."""
        return [getattr(r, name) for r in self.records]

    def to_dict(self):
        """Everything but best_params (arrays, which model files store beside it), as JSON
        types (a NumPy scalar such as ``fit(eta=np.float32(0.5))`` records becomes a float)."""
        return {"records": [{k: json_value(v) for k, v in asdict(r).items()}
                            for r in self.records],
                "stopped_early": self.stopped_early, "best_epoch": json_value(self.best_epoch),
                "state": {k: json_value(v) for k, v in self.state.items()}}

    @classmethod
    def from_dict(cls, d, best_params=None):
        """The History that :meth:`to_dict` wrote; ``DataError`` naming the field when ``d``
        is not such a dict (a hand-edited or foreign history file)."""
        if not isinstance(d, dict):
            raise DataError(f"a history must be a JSON object; got {type(d).__name__}")
        records = d.get("records", [])
        if not isinstance(records, list):
            raise DataError(f"history 'records' must be a list; got {type(records).__name__}")
        stopped, best, state = d.get("stopped_early"), d.get("best_epoch"), d.get("state", {})
        if stopped is not None and not isinstance(stopped, str):
            raise DataError(f"history 'stopped_early' must be text or null; got {stopped!r}")
        if best is not None and not _is_int(best):
            raise DataError(f"history 'best_epoch' must be an integer or null; got {best!r}")
        if not isinstance(state, dict):
            raise DataError(f"history 'state' must be an object; got {type(state).__name__}")
        return cls(records=[EpochRecord(**check_record(r, i)) for i, r in enumerate(records)],
                   stopped_early=stopped, best_epoch=best, state=dict(state),
                   best_params=best_params)


def json_value(value):
    """``value`` as a JSON type: a NumPy scalar becomes the Python number it holds."""
    return value.item() if isinstance(value, np.generic) else value


_INT_FIELDS = ("epoch", "test_correct", "test_total")
_REQUIRED_FIELDS = ("epoch", "eta", "seconds")


def _is_int(value):
    return isinstance(value, Integral) and not isinstance(value, bool)


def check_record(r, i, required=True):
    """``r``, the ``asdict`` form of record ``i``, with each field's type checked
    (``DataError`` naming it); without ``required``, fields may be left out."""
    if not isinstance(r, dict):
        raise DataError(f"history record {i} must be an object; got {type(r).__name__}")
    known = {f.name for f in fields(EpochRecord)}
    unknown = sorted(set(r) - known)
    missing = [name for name in _REQUIRED_FIELDS if r.get(name) is None] if required else []
    if unknown or missing:
        what = f"unknown field {unknown[0]!r}" if unknown else f"no {missing[0]!r}"
        raise DataError(f"history record {i} has {what}")
    for name, value in r.items():
        if name == "diagnostics":
            ok, want = isinstance(value, dict), "an object"
        elif name in _INT_FIELDS:
            ok, want = value is None or (_is_int(value) and value >= 0), "an integer >= 0"
        elif name.endswith("_accuracy"):        # a report would show 750%
            ok = value is None or (isinstance(value, Real) and not isinstance(value, bool)
                                   and 0 <= value <= 1)
            want = "a fraction in [0, 1]"
        else:
            ok = value is None or (isinstance(value, Real) and not isinstance(value, bool))
            want = "a number"
        if not ok:
            raise DataError(f"history record {i}: {name!r} must be {want}; got {value!r}")
    return r
