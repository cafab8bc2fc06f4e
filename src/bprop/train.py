"""The training loop: mini-batch SGD (and friends) over arrays, with a per-epoch History.

``train(net, X, y, config)`` is what ``Network.fit``, the book's ``Network.SGD`` and the
command line all run. One epoch:

1. shuffle an index permutation from ``net.rng`` (never the data itself);
2. for each run of ``mini_batch_size`` indices, gather the rows into the network's
   preallocated ``(m, n_in)`` buffer, run the matrix-based backprop (BP1-BP4) on its
   transpose (a free view: one example per column), and let the optimiser update w and b;
3. evaluate what the config asks for, check that the cost and the weights are finite, and
   hand an :class:`EpochRecord` to the callbacks.

Nothing here prints. Learning-rate schedules, early stopping, dropout and on-the-fly image
shifts are options of :class:`TrainConfig`.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import asdict, dataclass, field, fields
from numbers import Integral, Real

import numpy as np

from . import backprop as core
from . import outputs
from .errors import (ConfigError, DataError, OutputOverflowError, ShapeError, check_int,
                     check_number, check_range, whole)
from .optimizers import OPTIMIZERS, Optimizer, optimizer_for
from .validate import check_parameters, check_trainable, check_X, labels_of, targets
from .parallel import Workers, check_workers

SCHEDULES = ("constant", "step", "plateau")
MONITORS = ("val_accuracy", "val_cost")
#: ``History.stopped_early`` when ``on_epoch_end`` returned True.
STOPPED_BY_CALLBACK = "stopped by callback"


@dataclass
class TrainConfig:
    """Every setting of a training run (recorded in saved models).

    epochs, mini_batch_size, eta: as in the book. lmbda: L2 regularisation λ, the cost's
    term (λ/2n)Σw² (with SGD the book's w ← (1 − ηλ/n)w); l1: L1 regularisation λ₁, the
    term (λ₁/n)Σ|w|. Reported costs include both terms. optimizer: sgd, momentum, nesterov,
    adam (each minimising the regularised cost, :mod:`bprop.optimizers`).
    schedule: "constant"; "step" (η·gamma every step_size epochs); "plateau" (the book's
    chapter 3 rule: halve η when validation accuracy has not improved for ``patience`` epochs,
    stop once η has fallen to 1/``min_eta_factor`` of its start). early_stopping: stop when ``monitor`` has
    not improved for ``patience`` epochs and restore the best weights. dropout: probability of
    dropping a hidden neuron. shift: augment image inputs by random shifts of up to this many
    pixels per mini-batch (needs image_shape).
    """

    epochs: int = 30
    mini_batch_size: int = 10
    eta: float = 3.0
    lmbda: float = 0.0
    l1: float = 0.0
    optimizer: str = "sgd"
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    clip_norm: float | None = None
    schedule: str = "constant"
    step_size: int = 10
    gamma: float = 0.5
    patience: int = 10
    min_eta_factor: float = 128.0
    early_stopping: bool = False
    monitor: str = "val_accuracy"
    dropout: float = 0.0
    shift: int = 0
    image_shape: tuple | None = None
    monitor_training_cost: bool = True
    monitor_training_accuracy: bool = False

    def __post_init__(self):
        check_int(self.epochs, "epochs", minimum=0)
        check_int(self.mini_batch_size, "mini_batch_size", minimum=1)
        check_number(self.eta, "eta", positive=True)
        for name in ("lmbda", "l1"):
            check_number(getattr(self, name), name)
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"unknown optimizer {self.optimizer!r}; "
                              f"choose from {', '.join(OPTIMIZERS)}")
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"unknown schedule {self.schedule!r}; "
                              f"choose from {', '.join(SCHEDULES)}")
        if self.monitor not in MONITORS:
            raise ConfigError(f"unknown monitor {self.monitor!r}; choose from {', '.join(MONITORS)}")
        if self.clip_norm is not None:
            check_number(self.clip_norm, "clip_norm", positive=True)
        check_int(self.step_size, "step_size", minimum=1)
        check_int(self.patience, "patience", minimum=1)
        check_range(self.gamma, "gamma", 0.0, 1.0, low_open=True)
        check_range(self.dropout, "dropout", 0.0, 1.0, high_open=True)
        check_range(self.momentum, "momentum", 0.0, 1.0, high_open=True)
        check_range(self.beta1, "beta1", 0.0, 1.0, high_open=True)
        check_range(self.beta2, "beta2", 0.0, 1.0, high_open=True)
        check_number(self.min_eta_factor, "min_eta_factor", positive=True)
        if self.min_eta_factor <= 1:
            raise ConfigError(f"min_eta_factor must be greater than 1; got {self.min_eta_factor!r}")
        check_int(self.shift, "shift", minimum=0)
        for name in ("epochs", "mini_batch_size", "step_size", "patience", "shift"):
            # NumPy integers as Python ints: -(-n // np.uint8(2)) would overflow
            setattr(self, name, int(getattr(self, name)))
        for name in ("eta", "lmbda", "l1", "momentum", "beta1", "beta2", "gamma",
                     "min_eta_factor", "dropout", "clip_norm"):
            # and Python floats: a NumPy float32 η would do a float64 network's steps in float32
            if getattr(self, name) is not None:
                setattr(self, name, float(getattr(self, name)))
        for name in ("early_stopping", "monitor_training_cost", "monitor_training_accuracy"):
            value = getattr(self, name)     # True/False, or 1/0 (a hand-written config)
            if not isinstance(value, (bool, np.bool_)) and whole(value) not in (0, 1):
                raise ConfigError(f"{name} must be True or False; got {value!r}")
            setattr(self, name, bool(value))
        if self.image_shape is not None:
            shape = self.image_shape
            if isinstance(shape, (str, bytes)) or not hasattr(shape, "__len__") or \
                    len(shape) != 2 or any(whole(s, 1) is None for s in shape):
                raise ConfigError(f"image_shape must be (height, width), two positive "
                                  f"integers; got {shape!r}")
            self.image_shape = tuple(whole(s) for s in shape)
        if self.shift and self.image_shape is None:
            raise ConfigError("shift needs image_shape (the inputs' height and width)")
        if self.shift and self.shift >= min(self.image_shape):
            raise ConfigError(f"shift {self.shift} would move {self.image_shape[0]}x"
                              f"{self.image_shape[1]} images out of the picture; give less "
                              f"than {min(self.image_shape)}")

    def to_dict(self):
        """The settings as JSON types (NumPy scalars become Python numbers)."""
        return {k: _plain(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d, strict=False):
        """The TrainConfig that :meth:`to_dict` wrote; fields it does not know are ignored,
        or with ``strict`` refused (``ConfigError``)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if strict and unknown:
            raise ConfigError(f"unknown setting {unknown[0]!r}")
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass
class EpochRecord:
    """What one epoch measured. Costs are means per example; accuracies fractions."""

    epoch: int
    eta: float
    seconds: float
    train_cost: float | None = None
    train_accuracy: float | None = None
    val_cost: float | None = None
    val_accuracy: float | None = None
    test_accuracy: float | None = None
    test_correct: int | None = None
    test_total: int | None = None
    diagnostics: dict = field(default_factory=dict)


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
        for name in ("train_cost", "val_accuracy", "test_accuracy"):
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
        return {"records": [{k: _plain(v) for k, v in asdict(r).items()} for r in self.records],
                "stopped_early": self.stopped_early, "best_epoch": _plain(self.best_epoch),
                "state": {k: _plain(v) for k, v in self.state.items()}}

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
        return cls(records=[_record_from_dict(r, i) for i, r in enumerate(records)],
                   stopped_early=stopped, best_epoch=best, state=dict(state),
                   best_params=best_params)


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _shown(x):
    """x as short as it reads exactly: 128, 1.0000001, 1048576 (not 128.0 or 1.04858e+06)."""
    x = float(x)
    return f"{x:.0f}" if x.is_integer() and abs(x) < 1e16 else repr(x)


_INT_FIELDS = ("epoch", "test_correct", "test_total")
_REQUIRED_FIELDS = ("epoch", "eta", "seconds")


def _is_int(value):
    return isinstance(value, Integral) and not isinstance(value, bool)


def _record_from_dict(r, i):
    """One :class:`EpochRecord` from its ``asdict`` form, each field's type checked."""
    return EpochRecord(**check_record(r, i))


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
        else:
            ok = value is None or (isinstance(value, Real) and not isinstance(value, bool))
            want = "a number"
        if not ok:
            raise DataError(f"history record {i}: {name!r} must be {want}; got {value!r}")
    return r


def fit_config(epochs, batch_size, eta, **options):
    """The TrainConfig of ``Network.fit(X, y, epochs, batch_size, eta, **options)``: the
    options are its fields, ``mini_batch_size`` may stand for ``batch_size`` (default 10)."""
    if "mini_batch_size" in options:                # TrainConfig's own name
        if batch_size is not None and options["mini_batch_size"] != batch_size:
            raise ConfigError(f"fit got batch_size={batch_size!r} and mini_batch_size="
                              f"{options['mini_batch_size']!r}; give one")
        batch_size = options.pop("mini_batch_size")
    batch_size = 10 if batch_size is None else batch_size
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ConfigError(f"fit got unknown option{'s' if len(unknown) > 1 else ''} "
                          f"{', '.join(unknown)}; it takes epochs, batch_size, eta, "
                          f"validation, test, on_epoch_end, callbacks, workers and "
                          f"{', '.join(sorted(known - {'epochs', 'eta'}))}")
    return TrainConfig(epochs=epochs, mini_batch_size=batch_size, eta=eta, **options)


def train(net, X, y, config, *, validation=None, test=None, on_epoch_end=None,
          callbacks=(), progress=None, history=None, start_epoch=0, optimizer=None, workers=1):
    """Train ``net`` in place on rows ``X`` with labels or target rows ``y``.

    validation, test: optional ``(X, labels)`` pairs, evaluated after each epoch.
    on_epoch_end: called with each :class:`EpochRecord`; returning True stops training.
    callbacks: objects with optional ``observe_batch(net, ws, nabla_b, nabla_w, scale)``,
        ``every`` (call it every this many mini-batches) and ``end_epoch(record)``. With
        ``workers`` > 1, ``ws`` holds this process's share of the mini-batch, and ``scale``
        is such that ``nabla / (scale · rows of ws)`` is still the whole batch's mean.
    progress: called as ``progress(examples_done, n)`` about a hundred times an epoch.
    history, start_epoch, optimizer: to resume a run (see :mod:`bprop.io` checkpoints).
    workers: processes that share each mini-batch's backprop (:mod:`bprop.parallel`; Linux
        on x86-64). 1, the default, trains in this process alone and repeats a run exactly;
        more gives the same weights to rounding (with dropout or shifts, other random draws),
        faster for mini-batches from about 50 up.
    Returns the :class:`History`. Raises ``FloatingPointError`` when the cost or the weights
    stop being finite, naming the epoch (counted from 1: "in epoch 3 of 30").
    """
    if not isinstance(config, TrainConfig):
        raise ConfigError("config must be a TrainConfig")
    X = check_X(net, X)
    Y = targets(net, y, len(X))
    validation = _eval_set(net, validation, "validation")
    test = _eval_set(net, test, "test")
    if (config.early_stopping or config.schedule == "plateau") and validation is None:
        raise ConfigError(f"{'early stopping' if config.early_stopping else 'the plateau schedule'}"
                          " needs validation data")
    if config.image_shape is not None and math.prod(config.image_shape) != net.sizes[0]:
        raise ShapeError(f"image_shape {config.image_shape} has {math.prod(config.image_shape)} "
                         f"pixels; the network takes {net.sizes[0]} inputs")
    check_trainable(net)
    callbacks = _check_callbacks(callbacks, on_epoch_end, progress)
    check_int(start_epoch, "start_epoch", minimum=0)
    history = history if history is not None else History()
    if not isinstance(history, History):
        raise ConfigError(f"history must be a History (to resume a run) or None; got "
                          f"{type(history).__name__}")
    if history.best_params is not None and [p.shape for p in history.best_params] != \
            [p.shape for p in (*net.weights, *net.biases)]:
        raise ShapeError("the history's best weights are another network's (their shapes "
                         "differ from this one's)")
    optimizer = optimizer or optimizer_for(config)
    if not isinstance(optimizer, Optimizer):
        raise ConfigError(f"optimizer must be an Optimizer (bprop.optimizers) or None; got "
                          f"{optimizer!r}")
    try:
        optimizer.check_state(optimizer.state(), (*net.weights, *net.biases))
    except DataError as e:
        raise ShapeError(f"the optimizer holds state for another network: {e}") from None
    observers = [c for c in callbacks if hasattr(c, "observe_batch")]
    workers = check_workers(workers)
    n, mbs = len(X), config.mini_batch_size
    dropout = Dropout(1.0 - config.dropout, net.rng) if config.dropout else None
    shifter = _Shifter(config.image_shape, config.shift, net.rng) if config.shift else None
    n_batches = -(-n // mbs)
    progress_every = max(1, n_batches // 100)
    pool = None
    if workers > 1 and start_epoch < config.epochs:
        # each helper draws its own dropout masks and shifts, seeded from net.rng every epoch
        pool = Workers(net, X, Y, workers, dropout, shifter)

    with pool if pool is not None else contextlib.nullcontext():
        for j in range(start_epoch, config.epochs):
            optimizer.eta = _eta_for(j, config, history)
            t0 = time.perf_counter()
            order = net.rng.permutation(n)
            if pool is not None:
                pool.start_epoch(order)
            # overflow is expected in a saturating sigmoid; a diverging run is caught below,
            # once per epoch, by the finiteness checks of _evaluate_epoch
            with np.errstate(over="ignore", invalid="ignore"):
                for k, start in enumerate(range(0, n, mbs)):
                    m = min(mbs, n - start)
                    scale = optimizer.grad_scale(m)
                    if pool is None:
                        ws = core.gather_rows(net.workspace(m), X, Y, order[start:start + m],
                                              shifter)
                        nabla_b, nabla_w = core.backprop_batch(net, ws.x, ws.y, ws, scale,
                                                               dropout)
                        ws_scale = scale
                    else:
                        ws, nabla_b, nabla_w, ws_scale = pool.backprop(start, m, scale)
                    for obs in observers:
                        if k % getattr(obs, "every", 1) == 0:
                            obs.observe_batch(net, ws, nabla_b, nabla_w, ws_scale)
                    optimizer.step(net.weights, net.biases, nabla_w, nabla_b, n)
                    if progress is not None and (k % progress_every == 0 or k == n_batches - 1):
                        progress(start + m, n)
            if pool is not None:
                pool.end_epoch()
            seconds = time.perf_counter() - t0
            record = _evaluate_epoch(net, j, optimizer.eta, seconds, config, X, Y, validation,
                                     test)
            for cb in callbacks:
                if hasattr(cb, "end_epoch"):
                    cb.end_epoch(record)
            history.records.append(record)
            stop = _track(net, record, config, history)
            if on_epoch_end is not None and on_epoch_end(record):
                history.stopped_early = history.stopped_early or STOPPED_BY_CALLBACK
                break
            if stop:
                break
    _restore_best(net, config, history)
    return history


def _check_callbacks(callbacks, on_epoch_end, progress):
    """The callbacks as a list, each hook callable and each ``every`` a positive integer,
    checked before the first epoch rather than failing at its end."""
    try:
        callbacks = list(callbacks)
    except TypeError:
        raise ConfigError(f"callbacks must be a list of callback objects; got "
                          f"{type(callbacks).__name__}") from None
    for name, fn in (("on_epoch_end", on_epoch_end), ("progress", progress)):
        if fn is not None and not callable(fn):
            raise ConfigError(f"{name} must be a function or None; got {fn!r}")
    for cb in callbacks:
        hooks = [h for h in ("observe_batch", "end_epoch") if hasattr(cb, h)]
        if not hooks or not all(callable(getattr(cb, h)) for h in hooks):
            raise ConfigError(f"callback {cb!r} has no callable observe_batch or end_epoch")
        if hasattr(cb, "observe_batch"):
            check_int(getattr(cb, "every", 1), f"{type(cb).__name__}.every", minimum=1)
    return callbacks


def _evaluate_epoch(net, j, eta, seconds, config, X, Y, validation, test):
    record = EpochRecord(epoch=j, eta=eta, seconds=seconds)
    for i, w in enumerate(net.weights):
        if not np.isfinite(w).all():
            raise _diverged(j, config, eta, f"weights[{i}] are no longer finite")
    check_parameters(net)       # a callback may have assigned new ones
    if config.monitor_training_cost:
        record.train_cost = outputs.mean_cost(net, X, Y, config.lmbda, config.l1)
        if not np.isfinite(record.train_cost):
            raise _diverged(j, config, eta, f"the cost is {record.train_cost}")

    if config.monitor_training_accuracy or validation is not None or test is not None:
        check_parameters(net, finite=True)

    def predicted(rows):
        try:
            return outputs.predict(net, rows)
        except OutputOverflowError as e:    # the weights grew too large
            raise _diverged(j, config, eta, str(e)) from None

    if config.monitor_training_accuracy:
        record.train_accuracy = float(np.mean(predicted(X) == outputs.predicted_classes(Y)))
    if validation is not None:
        Xv, yv, Yv = validation
        record.val_accuracy = float(np.mean(predicted(Xv) == yv))
        record.val_cost = outputs.mean_cost(net, Xv, Yv, config.lmbda, config.l1)
    if test is not None:
        Xt, yt, _ = test
        record.test_correct = int(np.count_nonzero(predicted(Xt) == yt))
        record.test_total = len(yt)
        record.test_accuracy = record.test_correct / len(yt)
    return record


def _diverged(j, config, eta, what):
    """The FloatingPointError that ends a diverging run, naming the epoch (from 1)."""
    also = f" or lmbda (now {config.lmbda:g})" if config.lmbda else ""
    return FloatingPointError(f"training diverged in epoch {j + 1} of {config.epochs}: "
                              f"{what}; try a smaller eta (now {eta:g}){also}")


def _eta_for(j, config, history):
    """η for epoch j: the schedule's value, or what the plateau rule has left it at."""
    if config.schedule == "step":
        return config.eta * config.gamma ** (j // config.step_size)
    return history.state.get("eta", config.eta)


def _track(net, record, config, history):
    """Note the best epoch, apply the plateau rule, decide early stopping (True: stop).

    All state lives in ``history`` (``state`` and ``best_params``), so a checkpoint that
    saves the history resumes these rules exactly where they were.
    """
    if record.val_accuracy is None:
        return False
    state = history.state
    score = -record.val_cost if config.monitor == "val_cost" else record.val_accuracy
    if "best_score" not in state or score > state["best_score"]:
        state["best_score"], state["since_best"] = score, 0
        history.best_epoch = record.epoch
        if config.early_stopping:
            history.best_params = [p.copy() for p in (*net.weights, *net.biases)]
    else:
        state["since_best"] += 1
    if config.schedule == "plateau":
        # the book's rule: halve eta after `patience` epochs without a better accuracy
        if record.val_accuracy > state.get("plateau_best", -1.0):
            state["plateau_best"], state["plateau_wait"] = record.val_accuracy, 0
        else:
            state["plateau_wait"] += 1
            if state["plateau_wait"] >= config.patience:
                state["eta"] = state.get("eta", config.eta) / 2.0
                state["plateau_wait"] = 0
                if _eta_at_its_limit(state, config):
                    history.stopped_early = (
                        f"eta fell to 1/{_shown(config.eta / state['eta'])} of its start, "
                        f"the plateau schedule's limit 1/{_shown(config.min_eta_factor)}")
                    return True
    if _out_of_patience(state, config):
        history.stopped_early = f"no improvement in {config.monitor} for {config.patience} epochs"
        return True
    return False


def stopping_rule_met(history, config):
    """The stopping rule a run's state meets under ``config``: "patience" (early stopping:
    no better epoch for ``patience`` epochs), "min_eta_factor" (the plateau schedule has
    halved η down to its limit), or None. A resumed run that meets one stops at once."""
    if _out_of_patience(history.state, config):
        return "patience"
    if _eta_at_its_limit(history.state, config):
        return "min_eta_factor"
    return None


def _out_of_patience(state, config):
    return config.early_stopping and state.get("since_best", 0) >= config.patience


def _eta_at_its_limit(state, config):
    return config.schedule == "plateau" and \
        state.get("eta", config.eta) <= config.eta / config.min_eta_factor


def _restore_best(net, config, history):
    """Early stopping's last step: the best epoch's weights back into the network."""
    if config.early_stopping and history.best_params is not None:
        for dst, src in zip((*net.weights, *net.biases), history.best_params):
            dst[...] = src


class Dropout:
    """Inverted dropout on hidden layers: each neuron kept with probability ``keep`` and its
    activation scaled by 1/keep, so that E[a] is unchanged (drawn from ``rng``)."""

    def __init__(self, keep, rng):
        self.keep, self.rng = keep, rng

    def with_rng(self, rng):
        """The same dropout drawn from another generator (a data-parallel helper's)."""
        return Dropout(self.keep, rng)

    def mask(self, a):
        """A mask for activations ``a``: 1/keep where a neuron is kept, 0 where dropped."""
        return (self.rng.random(a.shape) < self.keep).astype(a.dtype) / self.keep


class _Shifter:
    """Random shifts of image rows by up to ``s`` pixels, zero-filled (the book's chapter 6
    expansion of MNIST, done on the fly per mini-batch, never materialised)."""

    def __init__(self, image_shape, s, rng):
        self.h, self.w = image_shape
        self.s = s
        self.rng = rng

    def with_rng(self, rng):
        """The same shifts drawn from another generator (a data-parallel helper's)."""
        return _Shifter((self.h, self.w), self.s, rng)

    def __call__(self, x_rows):
        m, s, h, w = len(x_rows), self.s, self.h, self.w
        padded = np.zeros((m, h + 2 * s, w + 2 * s), x_rows.dtype)
        padded[:, s:s + h, s:s + w] = x_rows.reshape(m, h, w)
        dy, dx = self.rng.integers(0, 2 * s + 1, size=(2, m))
        rows = dy[:, None] + np.arange(h)                # (m, h)
        cols = dx[:, None] + np.arange(w)                # (m, w)
        x_rows[...] = padded[np.arange(m)[:, None, None], rows[:, :, None],
                             cols[:, None, :]].reshape(m, h * w)


def _eval_set(net, data, name):
    if data is None:
        return None
    try:
        X, y = data
    except (TypeError, ValueError):
        raise DataError(f"{name} must be an (X, y) pair") from None
    X = check_X(net, X)
    labels = labels_of(net, y, len(X))
    # the validation cost is measured against the targets as given (target rows are not
    # always one-hot), made once here; the test set is only scored
    Y = targets(net, y, len(X)) if name == "validation" else None
    return X, labels, Y
