"""The bprop model file: its format, and how it is written (reading it back: :mod:`bprop.io`).

A bprop model file is an uncompressed ``.npz`` holding ``w0 … w{L-2}`` and ``b0 …`` (the
book's layers 2 … L) and ``meta``, a JSON string:

    {"format": "bprop-model", "version": 1, "sizes": [...], "activations": [...],
     "cost": "quadratic", "dtype": "float64", "init": "normal",
     "config": {...}, "regularisation": "in-gradient", "history": {...}, "epoch": k,
     "rng_state": {...}, "optimizer": {"name": ..., "keys": [...]}, "dataset": {...}}

Everything after ``init`` is optional: a training checkpoint stores the run's settings, its
history, how many epochs are done, the generator's state and the optimiser's arrays
(``opt_*``), so that a resumed run ends with exactly the weights of an uninterrupted one;
the command line adds the data set it was trained on. ``regularisation`` marks files
written since L2/L1 became part of the gradient momentum and Adam follow
(:data:`REGULARISATION`); older checkpoints lack it.

:func:`save` writes one atomically (:func:`bprop.atomic.atomic_write`): an interrupted save
leaves the previous file as it was. This module sits below :mod:`bprop.network`, so that
``Network.save`` can call it; it reads a network only through the fields in
:data:`NETWORK_FIELDS`.
"""

from __future__ import annotations

import json

import numpy as np

from .atomic import atomic_write
from .errors import ConfigError, check_int
from .training import History, TrainConfig
from .validate import check_parameters

FORMAT = "bprop-model"
VERSION = 1
#: The header's ``regularisation`` field: L2 and L1 are in the gradient every optimiser follows.
REGULARISATION = "in-gradient"
#: What :func:`save` reads of a network.
NETWORK_FIELDS = ("sizes", "num_layers", "activation_names", "cost", "dtype", "init",
                  "weights", "biases", "rng")


def save(net, path, *, config=None, history=None, epoch=None, optimizer=None, extra=None):
    """Write ``net`` (and optionally a training checkpoint's state) to ``path`` atomically.

    config: a TrainConfig; history: a History; epoch: epochs completed; optimizer: the
    optimiser whose state to keep; extra: more JSON-able header fields. What :func:`load`
    would refuse is refused here, before anything is written: weights and biases of the
    wrong shape or not finite, settings of the wrong type.
    """
    if not all(hasattr(net, name) for name in NETWORK_FIELDS):
        raise ConfigError(f"save needs a Network; got {type(net).__name__}")
    check_parameters(net, finite=True)
    for value, kind, name in ((config, TrainConfig, "config"), (history, History, "history")):
        if value is not None and not isinstance(value, kind):
            raise ConfigError(f"{name} must be a {kind.__name__} or None; got "
                              f"{type(value).__name__}")
    if epoch is not None:
        check_int(epoch, "epoch", minimum=0)
    if extra is not None and not isinstance(extra, dict):
        raise ConfigError(f"extra must be a dict of header fields; got {type(extra).__name__}")
    arrays = {}
    meta = {"format": FORMAT, "version": VERSION, "sizes": net.sizes,
            "activations": net.activation_names, "cost": net.cost.name,
            "dtype": net.dtype.name, "init": net.init}
    if config is not None:
        meta["config"] = config.to_dict()
        # lmbda and l1 are in the gradient that momentum and Adam follow; checkpoints
        # without this field were trained with them applied outside (bprop before 2026-11-23)
        meta["regularisation"] = REGULARISATION
    if history is not None:
        meta["history"] = history.to_dict()
        for i, p in enumerate(history.best_params or ()):
            arrays[f"best_{i}"] = np.asarray(p)
    if epoch is not None:
        meta["epoch"] = int(epoch)
        meta["rng_state"] = net.rng.bit_generator.state
    for i, (w, b) in enumerate(zip(net.weights, net.biases)):
        arrays[f"w{i}"], arrays[f"b{i}"] = np.asarray(w), np.asarray(b)
    if optimizer is not None:
        state = optimizer.state()
        meta["optimizer"] = {"name": optimizer.name, "keys": sorted(state)}
        arrays.update({f"opt_{k}": v for k, v in state.items()})
    if extra:
        clash = sorted(set(extra) & set(meta))
        if clash:
            raise ConfigError(f"extra may not replace the header field {clash[0]!r}")
        meta.update(extra)
    try:
        arrays["meta"] = np.array(json.dumps(meta))
    except (TypeError, ValueError) as e:      # e.g. a NumPy array in extra
        raise ConfigError(f"the model header cannot be written as JSON: {e}") from None
    atomic_write(path, lambda f: np.savez(f, **arrays))
