"""Model files as Networks: :func:`save` one, :func:`load` or :func:`load_checkpoint` it back.

The format, with its writer and reader, is :mod:`bprop.modelfile`; here its arrays become a
Network's, each finite in the network's dtype, and the checkpoint's state a
:class:`Checkpoint`. A file that starts with ``{`` is the book's network2 JSON
(:mod:`bprop.io.book_json`).
"""

from __future__ import annotations

import os
import zipfile

import numpy as np

from .. import modelfile
from ..errors import BpropError, ConfigError, DataError, ModelFileError
from ..network import Network
from ..optimizers import OPTIMIZERS, make_optimizer
from .book_json import load_book_json
from .checkpoint import Checkpoint


def save(net, path, *, config=None, history=None, epoch=None, optimizer=None, extra=None):
    """Write ``net`` (and optionally a training checkpoint's state) to ``path`` atomically.

    config: a TrainConfig; history: a History; epoch: epochs completed; optimizer: the
    optimiser whose state to keep; extra: more JSON-able header fields. What :func:`load`
    would refuse is refused here, before anything is written (:func:`bprop.modelfile.write`).
    """
    if not isinstance(net, Network):
        raise ConfigError(f"save needs a Network; got {type(net).__name__}")
    modelfile.write(net, path, config=config, history=history, epoch=epoch,
                    optimizer=optimizer, extra=extra)


def load(path):
    """Read a model saved by :func:`bprop.save`, or a network2 JSON file; returns a Network."""
    return load_checkpoint(path).net


def load_checkpoint(path):
    """Read a model file with its header and optimiser state; see :class:`Checkpoint`."""
    if not isinstance(path, (str, os.PathLike)):
        raise ModelFileError(f"a model file is read from its path (a str or os.PathLike); "
                             f"got {type(path).__name__}")
    path = os.fspath(path)
    if os.path.exists(path) and not os.path.isfile(path):    # a pipe would block the read
        raise ModelFileError(f"{path} is not a regular file; give a model file")
    try:
        with open(path, "rb") as f:
            head = f.read(64).removeprefix(b"\xef\xbb\xbf").lstrip()[:1]     # UTF-8 BOM
    except FileNotFoundError:
        raise ModelFileError(f"model file not found: {path}") from None
    except OSError as e:
        raise ModelFileError(f"cannot read model file {path}: {e.strerror}") from None
    if head == b"":
        raise ModelFileError(f"{path} is empty or blank (expected a bprop .npz or the book's network2 "
                             f"JSON)")
    if head in (b"{", b"["):        # JSON: the book's network2 format (or not a model)
        return Checkpoint(load_book_json(path), {}, {}, path=path)
    if not zipfile.is_zipfile(path):
        what = "a truncated or corrupt .npz" if head == b"P" else "neither .npz nor JSON"
        raise ModelFileError(f"{path} is not a readable bprop model file ({what}; expected a "
                             f"bprop .npz or the book's network2 JSON)")
    meta, arrays = modelfile.read(path)
    try:
        # a generator of its own (the file's state, when it has one, is put in below): a
        # network made with rng=None would be in book mode and draw from np.random
        net = Network(meta["sizes"], meta["activations"], meta["cost"],
                      init=meta.get("init", "normal"), dtype=meta.get("dtype", "float64"),
                      rng=np.random.default_rng())
    except KeyError as e:
        raise ModelFileError(f"{path}: header lacks {e}") from None
    except BpropError as e:
        raise ModelFileError(f"{path}: inconsistent header: {e}") from None
    layers = range(net.num_layers - 1)       # their shapes were checked by modelfile.read
    net.weights = [_parameter(path, f"w{i}", arrays[f"w{i}"], net.dtype) for i in layers]
    net.biases = [_parameter(path, f"b{i}", arrays[f"b{i}"], net.dtype) for i in layers]
    if "rng_state" in meta:
        try:
            net.rng.bit_generator.state = meta["rng_state"]
        except (TypeError, ValueError, KeyError) as e:
            raise ModelFileError(f"{path}: bad generator state ({e})") from None
    optimizer_state = {k[4:]: np.array(v) for k, v in arrays.items() if k.startswith("opt_")}
    n_best = sum(k.startswith("best_") for k in arrays)
    best_params = None
    if n_best:
        missing = [f"best_{i}" for i in range(n_best) if f"best_{i}" not in arrays]
        if missing:
            raise ModelFileError(f"{path}: the saved best weights lack array {missing[0]}")
        best_params = [_parameter(path, f"best_{i}", arrays[f"best_{i}"], net.dtype)
                       for i in range(n_best)]
        want = [p.shape for p in (*net.weights, *net.biases)]
        if [p.shape for p in best_params] != want:
            raise ModelFileError(f"{path}: the saved best weights do not fit sizes {net.sizes}")
    _check_run_state(path, meta, optimizer_state, net)
    return Checkpoint(net, meta, optimizer_state, best_params, path=path)


def _check_run_state(path, meta, optimizer_state, net):
    """Refuse a header whose epoch count and history disagree (resuming would repeat or
    skip records) and optimiser state that its optimiser could not have written."""
    records = (meta.get("history") or {}).get("records")
    if "epoch" in meta and records:
        # the records are the last epochs trained, one each: all of them, or those since a
        # run was continued from a model saved without its history
        epochs = [r.get("epoch") if isinstance(r, dict) else None for r in records]
        done = int(meta["epoch"])
        if epochs != list(range(done - len(epochs), done)) or len(epochs) > done:
            raise ModelFileError(f"{path}: the header says {int(meta['epoch'])} epochs were "
                                 f"trained but its history holds {len(records)} records "
                                 f"(epochs {_span(epochs)}); the file was altered")
    name = (meta.get("optimizer") or {}).get("name")
    if optimizer_state and name in OPTIMIZERS:
        try:
            make_optimizer(name, 1.0).check_state(optimizer_state,
                                                  (*net.weights, *net.biases))
        except DataError as e:
            raise ModelFileError(f"{path}: {e}") from None


def _span(epochs):
    shown = [e + 1 if isinstance(e, int) else e for e in epochs[:6]]
    return ", ".join(map(str, shown)) + (", ..." if len(epochs) > 6 else "") if epochs else "none"


def _parameter(path, name, a, dtype):
    """A stored weight or bias array in the network's dtype: float and finite there too
    (1e300 stored for a float32 network would become inf)."""
    if a.dtype.kind != "f":
        raise ModelFileError(f"{path}: {name} holds non-finite or non-float values")
    with np.errstate(over="ignore"):
        out = np.array(a, dtype=dtype, order="C")
    if not np.isfinite(out).all():
        what = "non-finite or non-float values" if not np.isfinite(a).all() else \
            f"values beyond {np.dtype(dtype).name}'s range"
        raise ModelFileError(f"{path}: {name} holds {what}")
    return out
