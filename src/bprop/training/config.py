"""Every setting of a training run: :class:`TrainConfig`, checked from one table.

The settings' allowed values are the table ``TrainConfig.SETTINGS`` (name -> rule of
:mod:`bprop.validate`), applied once when a TrainConfig is made; the training loop trusts
them. :func:`fit_config` builds one from ``Network.fit``'s keyword arguments.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import ClassVar

from ..errors import ConfigError, whole
from ..optimizers import OPTIMIZERS
from ..rules import Choice, Flag, Int, Interval, Number, Optional, check_settings
from .history import json_value

SCHEDULES = ("constant", "step", "plateau")
MONITORS = ("val_accuracy", "val_cost")

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
    pixels per mini-batch (needs image_shape). monitor_running_cost (default on): record the
    mean of the examples' costs as the epoch trained them, nearly free;
    monitor_training_cost (default off): the exact cost of all training rows at the epoch's
    end, one more pass over them (:class:`EpochRecord`). monitor_training_accuracy: likewise
    the training rows' accuracy.
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
    monitor_training_cost: bool = False
    monitor_running_cost: bool = True
    monitor_training_accuracy: bool = False

    #: What each setting may be (rules of bprop.validate). Integers are kept as Python ints,
    #: numbers as Python floats (a NumPy float32 η would do a float64 network's steps in
    #: float32).
    SETTINGS: ClassVar[dict] = {
        "epochs": Int(minimum=0),
        "mini_batch_size": Int(minimum=1),
        "eta": Number(positive=True),
        "lmbda": Number(),
        "l1": Number(),
        "optimizer": Choice(OPTIMIZERS),
        "schedule": Choice(SCHEDULES),
        "monitor": Choice(MONITORS),
        "clip_norm": Optional(Number(positive=True)),
        "step_size": Int(minimum=1),
        "patience": Int(minimum=1),
        "gamma": Interval(0.0, 1.0, low_open=True),
        "dropout": Interval(0.0, 1.0, high_open=True),
        "momentum": Interval(0.0, 1.0, high_open=True),
        "beta1": Interval(0.0, 1.0, high_open=True),
        "beta2": Interval(0.0, 1.0, high_open=True),
        "min_eta_factor": Number(positive=True, above=1),
        "shift": Int(minimum=0),
        "early_stopping": Flag(),
        "monitor_training_cost": Flag(),
        "monitor_running_cost": Flag(),
        "monitor_training_accuracy": Flag(),
    }

    def __post_init__(self):
        check_settings(self, self.SETTINGS)
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

    #: The settings that apply to some runs only, and which (``monitor`` is not one: with
    #: validation data it picks the history's best epoch, early stopping or not).
    ONLY_WITH = {"momentum": "optimizer=momentum or nesterov", "beta1": "optimizer=adam",
                 "beta2": "optimizer=adam", "step_size": "schedule=step",
                 "gamma": "schedule=step", "patience": "early stopping or schedule=plateau",
                 "min_eta_factor": "schedule=plateau"}

    def _applies(self):
        return {
            "momentum": self.optimizer in ("momentum", "nesterov"),
            "beta1": self.optimizer == "adam", "beta2": self.optimizer == "adam",
            "clip_norm": self.clip_norm is not None,
            "step_size": self.schedule == "step", "gamma": self.schedule == "step",
            "patience": self.early_stopping or self.schedule == "plateau",
            "min_eta_factor": self.schedule == "plateau",
            "early_stopping": self.early_stopping,
            "monitor": self.early_stopping,
            "dropout": bool(self.dropout), "shift": bool(self.shift),
            "image_shape": bool(self.shift),
            "monitor_training_cost": self.monitor_training_cost,
            "monitor_running_cost": not self.monitor_running_cost,     # shown when off
            "monitor_training_accuracy": self.monitor_training_accuracy,
        }

    def applicable(self):
        """The settings that mean something for this run, as :meth:`to_dict` gives them:
        momentum only for momentum and Nesterov, β₁ and β₂ only for Adam, the step
        schedule's step_size and gamma only with it, patience with early stopping or the
        plateau rule, and the switches and augmentations only when on."""
        applies = self._applies()
        return {k: v for k, v in self.to_dict().items() if applies.get(k, True)}

    def check_given(self, given):
        """Refuse a setting the user gave (``given``: their names) that this run would
        ignore, as momentum without the momentum or Nesterov optimizer (:data:`ONLY_WITH`)."""
        applies = self._applies()
        for name in sorted(set(given) & self.ONLY_WITH.keys()):
            if not applies[name]:
                raise ConfigError(f"{name}={getattr(self, name)} applies only with "
                                  f"{self.ONLY_WITH[name]}; it would be ignored")

    def to_dict(self):
        """The settings as JSON types (NumPy scalars become Python numbers)."""
        return {k: json_value(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d, strict=False):
        """The TrainConfig that :meth:`to_dict` wrote; fields it does not know are ignored,
        or with ``strict`` refused (``ConfigError``)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if strict and unknown:
            raise ConfigError(f"unknown setting {unknown[0]!r}")
        return cls(**{k: v for k, v in d.items() if k in known})


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
                          f"{', '.join(unknown)}; it takes epochs, batch_size, eta, verbose, "
                          f"validation, test, on_epoch_end, callbacks, workers, comm, threads and "
                          f"{', '.join(sorted(known - {'epochs', 'eta'}))}")
    return TrainConfig(epochs=epochs, mini_batch_size=batch_size, eta=eta, **options)
