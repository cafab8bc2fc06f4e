"""Model files: ``.npz`` with a JSON header, written atomically; the book's network2 JSON.

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

Files are read with ``allow_pickle=False`` and every shape is checked. Writes go to a
temporary file in the same directory, are flushed to disk, and are renamed over the target
only when complete: an interrupted save leaves the previous file as it was.

The book's ``network2.py`` JSON (keys sizes, weights, biases, cost) is read and written too.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import tempfile
import zipfile

import numpy as np

from .costs import COSTS_BY_CLASS_NAME, get_cost
from .errors import BpropError, ConfigError, ModelFileError, check_int
from .network import Network
from .validate import check_parameters, check_sizes

FORMAT = "bprop-model"
VERSION = 1


#: The header's ``regularisation`` field: L2 and L1 are in the gradient every optimiser follows.
REGULARISATION = "in-gradient"


def atomic_write(path, write):
    """Call ``write(fileobj)`` on a temporary file beside ``path``, then rename it into place.

    A symbolic link is written through (its target is replaced, the link stays). The file
    keeps the permissions of the one it replaces; a new file gets 0666 less the umask, as
    ``open`` would give it. Anything that exists and is not a regular file (a directory,
    ``/dev/null``, a pipe) is refused rather than replaced.
    """
    shown = os.fspath(path)
    path = os.path.realpath(shown)
    directory = os.path.dirname(path)
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, "is a directory, not a file name", shown)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        raise FileExistsError(errno.EEXIST, "exists and is not a regular file", shown)
    if mode is None:
        umask = os.umask(0)
        os.umask(umask)
        permissions = 0o666 & ~umask
    else:
        permissions = stat.S_IMODE(mode)
    try:
        # a short name (".tmp-k2x9f1ab.npz"): the file's own name may already be near the
        # file system's limit of 255 bytes
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.splitext(path)[1][:16],
                                   dir=directory)
    except OSError as e:            # name the directory, not the temporary file's name
        raise type(e)(e.errno, f"cannot create a file in {directory}: {e.strerror}",
                      shown) from None
    try:
        os.fchmod(fd, permissions)  # not mkstemp's 0600, which would hide models from others
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def save(net, path, *, config=None, history=None, epoch=None, optimizer=None, extra=None):
    """Write ``net`` (and optionally a training checkpoint's state) to ``path`` atomically.

    config: a TrainConfig; history: a History; epoch: epochs completed; optimizer: the
    optimiser whose state to keep; extra: more JSON-able header fields. What :func:`load`
    would refuse is refused here, before anything is written: weights and biases of the
    wrong shape or not finite, settings of the wrong type.
    """
    from .training import History, TrainConfig

    if not isinstance(net, Network):
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


class Checkpoint:
    """What :func:`load_checkpoint` returns: the network plus the saved run's state."""

    def __init__(self, net, meta, optimizer_state, best_params=None):
        self.net = net
        self.meta = meta
        self.optimizer_state = optimizer_state
        self.best_params = best_params

    @property
    def epoch(self):
        return self.meta.get("epoch", 0)

    @property
    def history(self):
        """The saved :class:`bprop.train.History` (empty if none), best weights included."""
        from .training import History

        return History.from_dict(self.meta.get("history") or {}, best_params=self.best_params)


def load(path):
    """Read a model saved by :func:`save`, or a network2 JSON file; returns a Network."""
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
        return Checkpoint(load_book_json(path), {}, {})
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
        raise ModelFileError(f"{path}: header is not valid JSON ({_json_reason(e)})") from None
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
    return Checkpoint(net, meta, optimizer_state, best_params)


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


def _json_reason(e):
    return "nested too deeply" if isinstance(e, RecursionError) else str(e)


def _check_header(path, meta):
    """The checkpoint fields of a header (epoch, config, history, optimizer, dataset) are of
    the types :func:`save` writes; else a ModelFileError naming the file and the field."""
    from .training import History, TrainConfig

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


# -- the book's network2 JSON ---------------------------------------------------------------
def save_book_json(net, path):
    """Write network2's JSON (sizes, weights, biases, cost class name), atomically.

    The format has no field for activations or dtype: it holds sigmoid networks only.
    """
    check_parameters(net, finite=True)
    if any(name != "sigmoid" for name in net.activation_names):
        raise ModelFileError(f"the book's JSON format holds sigmoid networks only; this one "
                             f"has {', '.join(net.activation_names)}: use bprop.save (.npz)")
    data = {"sizes": net.sizes,
            "weights": [np.asarray(w).tolist() for w in net.weights],
            "biases": [np.asarray(b).tolist() for b in net.biases],
            "cost": net.cost.__name__}
    atomic_write(path, lambda f: f.write(json.dumps(data).encode()))


def _json_array(value, name):
    try:
        return np.array(value, dtype=np.float64)
    except (ValueError, TypeError):
        raise ValueError(f"{name} is not a rectangular array of numbers") from None


def load_book_json(path, network_class=Network):
    """Read network2's JSON into ``network_class`` (sigmoid layers, the named cost)."""
    try:
        with open(path, encoding="utf-8-sig") as f:       # a BOM from a Windows editor
            data = json.load(f)
    except FileNotFoundError:
        raise ModelFileError(f"model file not found: {path}") from None
    except OSError as e:
        raise ModelFileError(f"cannot read model file {path}: {e.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:
        raise ModelFileError(f"{path} is not valid JSON: {_json_reason(e)}") from None
    if not isinstance(data, dict) or not {"sizes", "weights", "biases"} <= set(data):
        raise ModelFileError(f"{path}: expected a network2 JSON object with sizes, weights, "
                             f"biases and cost")
    cost_name = data.get("cost", "QuadraticCost")
    if not isinstance(cost_name, str) or cost_name not in COSTS_BY_CLASS_NAME:
        raise ModelFileError(f"{path}: unknown cost {cost_name!r}; expected one of "
                             f"{', '.join(COSTS_BY_CLASS_NAME)}")
    try:
        weights = [_json_array(w, f"weights[{i}]") for i, w in enumerate(data["weights"])]
        biases = [_json_array(b, f"biases[{i}]") for i, b in enumerate(data["biases"])]
        sizes = check_sizes(data["sizes"])
        # the arrays must fit the sizes before the network draws weights of those sizes
        if len(weights) != len(sizes) - 1 or len(biases) != len(sizes) - 1:
            raise ModelFileError(f"{path}: inconsistent network2 file: sizes {sizes} need "
                                 f"{len(sizes) - 1} weight and bias arrays; got "
                                 f"{len(weights)} and {len(biases)}")
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            for name, a, shape in (("weights", weights[i], (n_out, n_in)),
                                   ("biases", biases[i], (n_out, 1))):
                if a.shape != shape:
                    raise ModelFileError(f"{path}: {name}[{i}] has shape {a.shape}; "
                                         f"expected {shape}")
        net = network_class(sizes, cost=get_cost(cost_name))
    except ModelFileError:
        raise
    except (BpropError, ValueError, TypeError) as e:
        raise ModelFileError(f"{path}: inconsistent network2 file: {e}") from None
    net.weights, net.biases = weights, biases
    try:
        check_parameters(net)
    except BpropError as e:
        raise ModelFileError(f"{path}: {e}") from None
    for a in (*net.weights, *net.biases):
        if not np.isfinite(a).all():
            raise ModelFileError(f"{path}: weights or biases are not finite")
    return net


# -- training history beside a model -------------------------------------------------------
HISTORY_COLUMNS = ("epoch", "eta", "seconds", "train_cost", "train_accuracy", "val_cost",
                   "val_accuracy", "test_accuracy")


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
