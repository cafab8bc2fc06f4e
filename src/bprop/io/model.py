"""Reading a bprop model file back into a Network, checking every field and shape.

The format and its writer are in :mod:`bprop.modelfile`. Files are read with
``allow_pickle=False``; the stored arrays must fit the header's sizes before a network of
those sizes is made (a damaged header must not make bprop allocate gigabytes), and every
weight must be finite in the network's dtype. A file that starts with ``{`` is the book's
network2 JSON (:mod:`bprop.io.book_json`).
"""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np

from ..errors import BpropError, ConfigError, ModelFileError, json_reason
from ..modelfile import FORMAT, VERSION
from ..network import Network
from ..training import History, TrainConfig
from ..validate import check_sizes
from .book_json import load_book_json
from .checkpoint import Checkpoint


def load(path):
    """Read a model saved by :func:`bprop.save`, or a network2 JSON file; returns a Network."""
    return load_checkpoint(path).net


def load_checkpoint(path):
    """Read a model file with its header and optimiser state; see :class:`Checkpoint`."""
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
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except Exception as e:      # zipfile and the .npy header parser raise many kinds
        raise ModelFileError(f"{path} is not a readable bprop model file "
                             f"(truncated or corrupt: {type(e).__name__}: {e})") from None
    return _from_arrays(path, arrays)


def _from_arrays(path, arrays):
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
    try:
        net = Network(meta["sizes"], meta["activations"], meta["cost"], init=meta.get("init", "normal"),
                      dtype=meta.get("dtype", "float64"))
    except KeyError as e:
        raise ModelFileError(f"{path}: header lacks {e}") from None
    except BpropError as e:
        raise ModelFileError(f"{path}: inconsistent header: {e}") from None
    # shapes checked above
    net.weights = [_parameter(path, f"w{i}", arrays[f"w{i}"], net.dtype)
                   for i in range(len(sizes) - 1)]
    net.biases = [_parameter(path, f"b{i}", arrays[f"b{i}"], net.dtype)
                  for i in range(len(sizes) - 1)]
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
    return Checkpoint(net, meta, optimizer_state, best_params, path=path)


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


def _check_header(path, meta):
    """The checkpoint fields of a header (epoch, config, history, optimizer, dataset) are of
    the types :func:`save` writes; else a ModelFileError naming the file and the field."""
    epoch = meta.get("epoch", 0)
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise ModelFileError(f"{path}: header field 'epoch' must be an integer >= 0; "
                             f"got {epoch!r}")
    for key in ("config", "history", "optimizer", "dataset"):
        if meta.get(key) is not None and not isinstance(meta[key], dict):
            raise ModelFileError(f"{path}: header field {key!r} must be an object; got "
                                 f"{type(meta[key]).__name__}")
    for key, read in (("config", lambda d: TrainConfig.from_dict(d, strict=True)),
                      ("history", History.from_dict)):
        if meta.get(key):
            try:
                read(meta[key])
            except (BpropError, TypeError, ValueError) as e:
                raise ModelFileError(f"{path}: header {key}: {e}") from None
    name = (meta.get("optimizer") or {}).get("name", "")
    if not isinstance(name, str):
        raise ModelFileError(f"{path}: header field 'optimizer' has a name that is not text: "
                             f"{name!r}")
