"""The bprop model file: its format, how it is written and how it is read.

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

:func:`write` writes one atomically (:func:`bprop.atomic.atomic_write`): an interrupted save
leaves the previous file as it was. :func:`read` reads one back and checks it field by field
and shape by shape; :func:`bprop.io.load_checkpoint` makes the Network from what it returns.
This module sits below :mod:`bprop.network`, so that ``Network.save`` can call it; it reads
a network only through the fields in :data:`NETWORK_FIELDS`, and knows no Network class.
"""

from __future__ import annotations

import json
import re

import numpy as np

from .atomic import atomic_write
from .errors import BpropError, ConfigError, ModelFileError, check_int, json_reason
from .reading import check_npz_sizes
from .training import History, TrainConfig
from .validate import check_parameters, check_sizes

FORMAT = "bprop-model"
VERSION = 1
#: The members a model file may hold: the header, weights and biases, optimiser state and
#: early stopping's best weights (anything else is ignored, never expanded).
MEMBER = re.compile(r"meta|[wb]\d+|opt_\w+|best_\d+")
#: The header's ``regularisation`` field: L2 and L1 are in the gradient every optimiser follows.
REGULARISATION = "in-gradient"
#: What :func:`save` reads of a network.
NETWORK_FIELDS = ("sizes", "num_layers", "activation_names", "cost", "dtype", "init",
                  "weights", "biases", "rng")


def write(net, path, *, config=None, history=None, epoch=None, optimizer=None, extra=None):
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


def read(path):
    """``(meta, arrays)`` of the bprop ``.npz`` at ``path`` (a zip file), read with
    ``allow_pickle=False`` and checked against the format: a ``meta`` header in JSON that
    says its format and version, checkpoint fields of the types :func:`write` writes, and
    weight and bias arrays of the shapes the header's sizes need (checked before a network
    of those sizes is made: a damaged header must not make bprop allocate gigabytes). What
    ``Network()`` itself refuses (unknown activation or cost names) is left to it."""
    try:
        with np.load(path, allow_pickle=False) as data:
            # only the members this format has are expanded, once their sizes are checked
            names = [k for k in data.files if MEMBER.fullmatch(k)]
            check_npz_sizes(path, names, ModelFileError, label=str(path))
            arrays = {k: data[k] for k in names}
    except ModelFileError:
        raise
    except Exception as e:      # zipfile and the .npy header parser raise many kinds
        raise ModelFileError(f"{path} is not a readable bprop model file "
                             f"(truncated or corrupt: {type(e).__name__}: {e})") from None
    if "meta" not in arrays:
        raise ModelFileError(f"{path} has no 'meta' header; not a bprop model file")
    try:
        meta = json.loads(str(arrays["meta"]))
    except (json.JSONDecodeError, RecursionError) as e:
        raise ModelFileError(f"{path}: header is not valid JSON ({json_reason(e)})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{path}: header does not say format '{FORMAT}'")
    if meta.get("version") != VERSION:
        raise ModelFileError(f"{path}: format version {meta.get('version')!r} is not supported "
                             f"(this bprop reads version {VERSION})")
    _check_header(path, meta)
    # the stored arrays must fit the header's sizes before Network() draws weights of those
    # sizes: a damaged header must not make it allocate (and fill) gigabytes
    try:
        sizes = check_sizes(meta.get("sizes"))
    except ConfigError:
        raise ModelFileError(f"{path}: header field 'sizes' must be a list of at least two "
                             f"positive integers; got {meta.get('sizes')!r}") from None
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        for name, shape in ((f"w{i}", (n_out, n_in)), (f"b{i}", (n_out, 1))):
            if name not in arrays:
                raise ModelFileError(f"{path}: array {name} is missing")
            if arrays[name].shape != shape:
                raise ModelFileError(f"{path}: {name} has shape {arrays[name].shape}; the "
                                     f"header's sizes {sizes} need {shape}")
    return meta, arrays


def _check_header(path, meta):
    """The checkpoint fields of a header (epoch, config, history, optimizer, dataset) are of
    the types :func:`write` writes; else a ModelFileError naming the file and the field."""
    epoch = meta.get("epoch", 0)
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise ModelFileError(f"{path}: header field 'epoch' must be an integer >= 0; "
                             f"got {epoch!r}")
    for key in ("config", "history", "optimizer", "dataset"):
        if meta.get(key) is not None and not isinstance(meta[key], dict):
            raise ModelFileError(f"{path}: header field {key!r} must be an object; got "
                                 f"{type(meta[key]).__name__}")
    for key, parse in (("config", lambda d: TrainConfig.from_dict(d, strict=True)),
                       ("history", History.from_dict)):
        if meta.get(key):
            try:
                parse(meta[key])
            except (BpropError, TypeError, ValueError) as e:
                raise ModelFileError(f"{path}: header {key}: {e}") from None
    name = (meta.get("optimizer") or {}).get("name", "")
    if not isinstance(name, str):
        raise ModelFileError(f"{path}: header field 'optimizer' has a name that is not text: "
                             f"{name!r}")
