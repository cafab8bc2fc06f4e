"""Plots of a training run: learning curves, per-layer diagnostics, weights, mistakes.

Each ``*_figure`` function returns a matplotlib ``Figure`` of :data:`FIGSIZE` inches at
:data:`DPI` (so a PNG of :data:`PIXELS` = (height, width) pixels):

* :func:`learning_curves_figure`: cost and accuracies per epoch (a :class:`History`);
* :func:`gradient_norms_figure`: ‖∂C/∂bˡ‖ (BP3) and ‖∂C/∂wˡ‖ (BP4) per layer across epochs,
  log scale: the speed at which each layer learns (the book's chapter 5);
* :func:`saturation_figure`: share of saturated neurons per layer (σ′(z) small, so δ is
  small by BP1/BP2), output neurons saturated at the wrong value, dead ReLU units;
* :func:`weights_figure`: the first layer's weights w² as image tiles, one per hidden neuron
  (row j of ``weights[0]`` reshaped to the input image);
* :func:`confusion_figure`: counts of (true class, predicted class) on a test set;
* :func:`most_wrong_figure`: the test images the network gets wrong most confidently.

:func:`plot_run` draws all that apply for a saved model (its header holds the config, the
history and the data set's name) and writes PNGs atomically. matplotlib is imported only
when a figure is made, and only its Agg canvas is used: no pyplot, no global backend
switch, no window. Nothing here prints; a plot that cannot be made is skipped with a
``warnings.warn`` saying why. Epoch axes count from 1 (epoch 1 = after one pass over the
data), as the command line does; a History's records count from 0, as the book does.
"""

from __future__ import annotations

import io as _io
import math
import os
import warnings
from dataclasses import dataclass, field
from numbers import Integral
from pathlib import Path

import numpy as np

from .diagnostics import SATURATION, check_diagnostics, history_records
from .errors import BpropError, ConfigError, DataError, OutputOverflowError, ShapeError, check_int
from .atomic import atomic_write
from .io import load_checkpoint, load_history
from .outputs import class_scores, predicted_classes
from .outputs import confusion_counts
from .training import History
from .validate import check_labels

FIGSIZE = (6.4, 4.8)        # inches
DPI = 100
PIXELS = (round(FIGSIZE[1] * DPI), round(FIGSIZE[0] * DPI))    # (height, width) of each PNG

_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _sup(n):
    return str(n).translate(_SUPERSCRIPTS)


def _new_figure(figsize=FIGSIZE):
    """An empty Figure on an Agg canvas (matplotlib imported here, lazily)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ModuleNotFoundError("plotting needs matplotlib; install it with "
                                  "pip install bprop[plots]", name="matplotlib") from None
    fig = Figure(figsize=figsize, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def png_bytes(fig):
    """The figure as PNG bytes (:data:`PIXELS` in size)."""
    buf = _io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def save_figure(fig, path):
    """Write the figure as a PNG to ``path``, atomically; returns the path as a Path."""
    path = Path(path)
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=DPI))
    return path


# -- figures from a History --------------------------------------------------------------------
def _records(history, caller):
    return history_records(history, f"{caller} needs a History (or its to_dict(), or a list "
                                    f"of its records)")


def _series(records, name):
    """(epochs, values) of a record field, leaving out epochs where it was not measured."""
    pairs = [(r.epoch + 1, getattr(r, name)) for r in records if getattr(r, name) is not None]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _marker(epochs):
    return "o" if len(epochs) <= 30 else None       # dots for a few epochs, a line for many


def _integer_epochs(ax, epochs):
    """Whole-number epoch ticks (one epoch alone gets its own tick, not 0.95, 0.96, ...)."""
    from matplotlib.ticker import FixedLocator, MaxNLocator

    if len(set(epochs)) == 1:
        ax.xaxis.set_major_locator(FixedLocator(list(epochs)[:1]))
        ax.set_xlim(epochs[0] - 1, epochs[0] + 1)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def learning_curves_figure(history):
    """Mean cost (left) and accuracy (right) per epoch, for whatever the run monitored.

    history: a :class:`History`, its ``to_dict()``, or a list of its records."""
    records = _records(history, "learning_curves_figure")
    fig = _new_figure()
    ax_cost, ax_acc = fig.subplots(1, 2)
    for name, label in (("train_cost", "training"), ("val_cost", "validation")):
        epochs, values = _series(records, name)
        if epochs:
            ax_cost.plot(epochs, values, marker=_marker(epochs), ms=3, label=label)
    for name, label in (("train_accuracy", "training"), ("val_accuracy", "validation"),
                        ("test_accuracy", "test")):
        epochs, values = _series(records, name)
        if epochs:
            ax_acc.plot(epochs, [100 * v for v in values], marker=_marker(epochs), ms=3,
                        label=label)
    ax_cost.set(title="cost C (mean per example)", xlabel="epoch")
    ax_acc.set(title="accuracy (%)", xlabel="epoch")
    for ax in (ax_cost, ax_acc):
        if ax.lines:
            ax.legend(fontsize="small")
        else:
            ax.text(0.5, 0.5, "not monitored", ha="center", va="center", transform=ax.transAxes)
        ax.grid(alpha=0.3)
        _integer_epochs(ax, [r.epoch + 1 for r in records] or [1])
    return fig


def _diagnostic_records(records):
    return [r for r in records if isinstance(r.diagnostics, dict) and r.diagnostics.get("layers")]


def _required_diagnostic_records(history, caller, need):
    """The records of ``history`` that carry diagnostics, each holding the keys in ``need``
    for the same layers; raises when there are none."""
    records = _diagnostic_records(_records(history, caller))
    if not records:
        raise DataError("the history has no diagnostics; train with them on (bprop train "
                        "--diagnostics, or callbacks=[bprop.diagnostics.Diagnostics()])")
    layers = records[-1].diagnostics["layers"]
    for r in records:
        check_diagnostics(r.diagnostics, f"the diagnostics of epoch {r.epoch}", need)
        if list(r.diagnostics["layers"]) != list(layers):
            raise DataError(f"the diagnostics of epoch {r.epoch} are for layers "
                            f"{r.diagnostics['layers']}, those of epoch {records[-1].epoch} "
                            f"for {layers}: not one network")
    return records


def gradient_norms_figure(history):
    """‖∂C/∂bˡ‖ (solid) and ‖∂C/∂wˡ‖ (dashed) per layer across epochs, log scale."""
    records = _required_diagnostic_records(history, "gradient_norms_figure",
                                           ("grad_b", "grad_w"))
    fig = _new_figure()
    ax = fig.subplots()
    epochs = [r.epoch + 1 for r in records]     # counted from 1, as the command line does
    layers = records[-1].diagnostics["layers"]
    zeros = []      # (epochs, color) of norms that are exactly 0: no place on a log scale
    for i, layer in enumerate(layers):
        color = f"C{i % 10}"
        for key, ls, marker, sym in (("grad_b", "-", "o", "b"), ("grad_w", "--", "s", "w")):
            values = [r.diagnostics[key][i] for r in records]
            ax.plot(epochs, [v if v else np.nan for v in values], ls=ls, color=color,
                    marker=marker if _marker(epochs) else None, ms=3,
                    label=f"‖∂C/∂{sym}{_sup(layer)}‖")
            zeros.append(([e for e, v in zip(epochs, values) if v == 0], color))
    ax.set_yscale("log")
    if any(e for e, _ in zeros):
        if not any(np.isfinite(line.get_ydata()).any() for line in ax.lines):
            ax.set_ylim(1e-3, 1)                # every norm was 0: any range will do
        bottom, top = ax.get_ylim()
        ax.set_ylim(bottom, top)                # fixed: the marks sit on the bottom edge
        for e, color in zeros:
            if e:
                ax.plot(e, [bottom] * len(e), ls="", marker="v", ms=6, color=color,
                        clip_on=False)
        ax.plot([], [], ls="", marker="v", color="grey", label="0 (no gradient)")
    ax.set(title="speed of learning per layer (BP3, BP4; mean over sampled mini-batches)",
           xlabel="epoch", ylabel="gradient norm")
    ax.title.set_fontsize("medium")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize="small", ncols=2)
    _integer_epochs(ax, epochs)
    return fig


def saturation_figure(history):
    """Share of saturated (σ′ small) neurons per layer across epochs; dead ReLU units."""
    records = _required_diagnostic_records(history, "saturation_figure",
                                           ("activations", "saturated", "dead"))
    fig = _new_figure()
    ax = fig.subplots()
    epochs = [r.epoch + 1 for r in records]     # counted from 1, as the command line does
    last = records[-1].diagnostics
    for i, (layer, name) in enumerate(zip(last["layers"], last["activations"])):
        color = f"C{i % 10}"
        sat = [r.diagnostics["saturated"][i] for r in records]
        dead = [r.diagnostics["dead"][i] for r in records]
        if any(v is not None for v in sat):
            ax.plot(epochs, [np.nan if v is None else 100 * v for v in sat],
                    marker=_marker(epochs), ms=3, color=color,
                    label=f"layer {layer} ({name}): saturated")
        if any(v is not None for v in dead):
            ax.plot(epochs, [np.nan if v is None else 100 * v for v in dead], ls=":",
                    marker="s" if _marker(epochs) else None, ms=3, color=color,
                    label=f"layer {layer} (relu): dead in the observed mini-batches")
    wrong = [r.diagnostics.get("output_saturated_wrong") for r in records]
    if any(v is not None for v in wrong):
        ax.plot(epochs, [np.nan if v is None else 100 * v for v in wrong], ls="--", color="k",
                marker="^" if _marker(epochs) else None, ms=3,
                label=f"layer {last['layers'][-1]}: saturated at the wrong value")
    threshold = last.get("saturation_threshold")
    threshold = SATURATION if threshold is None else threshold
    ax.set(title=f"saturated neurons: σ′(z) < {threshold:g} × its peak", xlabel="epoch",
           ylabel="% of neurons", ylim=(-3, 103))
    ax.grid(alpha=0.3)
    _integer_epochs(ax, epochs)
    if ax.lines:
        ax.legend(fontsize="small")
    else:
        ax.text(0.5, 0.5, "no sigmoid, tanh or ReLU layers", ha="center", va="center",
                transform=ax.transAxes)
    return fig


# -- figures from a network ----------------------------------------------------------------------
def _image_shape(image_shape, n_inputs):
    """``(height, width)`` from ``image_shape``, which must be two positive integers whose
    product is the network's number of inputs."""
    shape = tuple(image_shape) if isinstance(image_shape, (tuple, list, np.ndarray)) else ()
    if len(shape) != 2 or not all(isinstance(s, Integral) and not isinstance(s, bool) and s > 0
                                  for s in shape):
        raise ShapeError(f"image_shape must be (height, width), two positive integers; "
                         f"got {image_shape!r}")
    h, w = (int(s) for s in shape)
    if h * w != n_inputs:
        raise DataError(f"image_shape {(h, w)} has {h * w} pixels; the network takes "
                        f"{n_inputs} inputs")
    return h, w


def _class_names(class_names, n):
    """``class_names`` as a list of ``n`` names (any number when n is None), or None."""
    if class_names is None:
        return None
    if not isinstance(class_names, (list, tuple, np.ndarray)) or \
            (n is not None and len(class_names) != n):
        raise ConfigError(f"class_names must be a list of {n or 'the'} names, one per class; "
                          f"got {class_names!r:.80}")
    return [str(c) for c in class_names]


def weights_figure(net, image_shape, max_tiles=100):
    """The first layer's weights as images: tile j is row j of ``weights[0]`` (neuron j of
    layer 2), reshaped to ``image_shape`` ``(height, width)``; red positive, blue negative,
    each tile scaled to its own largest |w|. At most ``max_tiles`` (>= 1) tiles."""
    check_int(max_tiles, "max_tiles", minimum=1)
    w = np.asarray(net.weights[0], dtype=np.float64)             # (sizes[1], sizes[0])
    h, wd = _image_shape(image_shape, w.shape[1])
    n = min(w.shape[0], max_tiles)
    cols = math.ceil(math.sqrt(n * 4 / 3))                       # about the figure's aspect
    rows = math.ceil(n / cols)
    montage = np.full((rows * (h + 1) - 1, cols * (wd + 1) - 1), np.nan)
    for j in range(n):
        r, c = divmod(j, cols)
        tile = w[j].reshape(h, wd)
        scale = np.abs(tile).max()
        montage[r * (h + 1):r * (h + 1) + h, c * (wd + 1):c * (wd + 1) + wd] = \
            tile / scale if scale > 0 else tile
    fig = _new_figure()
    ax = fig.subplots()
    import matplotlib

    # 32 levels: enough to read the pattern, and the PNG a third smaller than with 256
    cmap = matplotlib.colormaps["RdBu_r"].resampled(32).with_extremes(bad="white")
    ax.imshow(montage, cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    shown = f"first {n} of {w.shape[0]}" if n < w.shape[0] else f"{n}"
    ax.set_title(f"weights into layer 2 ({shown} neurons), as {h}×{wd} images",
                 fontsize="medium")
    return fig


def confusion_figure(net, X, y, n_classes=None, class_names=None):
    """Confusion matrix of ``net`` on rows X with int labels y (rows true, columns predicted).

    n_classes: default the network's number of classes (2 for one output), at least that;
    the labels must lie in ``[0, n_classes)``. class_names: one per class, or None.
    """
    if n_classes is None:
        n_classes = net.n_classes
    check_int(n_classes, "n_classes", minimum=1)
    class_names = _class_names(class_names, n_classes)
    pred = net.predict(X)
    y = check_labels(y, len(pred), n_classes)
    if len(pred) and pred.max() >= n_classes:   # a network with more outputs than classes
        raise DataError(f"the network predicts class {int(pred.max())}, beyond n_classes="
                        f"{n_classes}; give n_classes={int(pred.max()) + 1} or more")
    counts = confusion_counts(y, pred, n_classes)
    fig = _new_figure()
    ax = fig.subplots()
    ax.imshow(counts, cmap="Blues", interpolation="nearest")
    if n_classes <= 20:
        big = counts.max() / 2
        for i in range(n_classes):
            for j in range(n_classes):
                ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if counts[i, j] > big else "black")
    labels = list(class_names) if class_names else [str(i) for i in range(n_classes)]
    ticks = range(n_classes)
    ax.set_xticks(ticks, labels, rotation=45 if class_names else 0, ha="right" if class_names
                  else "center", fontsize="small")
    ax.set_yticks(ticks, labels, fontsize="small")
    ax.set(xlabel="predicted", ylabel="true")
    accuracy = float(np.trace(counts)) / max(int(counts.sum()), 1)
    ax.set_title(f"confusion matrix on {len(y):,} test examples (accuracy {accuracy:.2%})",
                 fontsize="medium")
    return fig


def most_wrong(net, X, y, k=15):
    """Indices of the ≤ k misclassified rows with the largest a_predicted − a_true, most first.

    y: int labels in ``[0, classes)``, one per row of X; k: an integer >= 1."""
    check_int(k, "k", minimum=1)
    a = net.predict_proba(X)                                        # (N, sizes[-1])
    pred = predicted_classes(a)
    a = class_scores(a)
    y = check_labels(y, len(a), a.shape[1])
    wrong = np.flatnonzero(pred != y)
    margin = a[wrong, pred[wrong]] - a[wrong, y[wrong]]
    order = np.argsort(-margin, kind="stable")[:k]
    return wrong[order]


def most_wrong_figure(net, X, y, image_shape, k=15, class_names=None):
    """A grid of the test images the network gets wrong most confidently (:func:`most_wrong`)."""
    h, w = _image_shape(image_shape, net.sizes[0])
    class_names = _class_names(class_names, None)
    X = net.check_X(X)
    y = np.asarray(y)
    idx = most_wrong(net, X, y, k)
    fig = _new_figure()
    ax = fig.subplots()
    ax.set_axis_off()
    if not len(idx):
        ax.text(0.5, 0.5, "no misclassified examples", ha="center", va="center")
        return fig
    a = class_scores(net.predict_proba(X[idx]))
    cols = math.ceil(math.sqrt(k * 4 / 3))
    rows = math.ceil(len(idx) / cols)
    gap_x, gap_y = max(1, w // 4), max(2, h // 2)       # room for a caption above each image
    montage = np.full((rows * (h + gap_y), cols * (w + gap_x) - gap_x), np.nan)

    def name(c):
        return class_names[c] if class_names and c < len(class_names) else str(c)

    for n, (i, out) in enumerate(zip(idx, a)):
        r, c = divmod(n, cols)
        top, left = r * (h + gap_y) + gap_y, c * (w + gap_x)
        montage[top:top + h, left:left + w] = np.asarray(X[i]).reshape(h, w)
        pred = int(np.argmax(out))
        a_pred = f"{out[pred]:.2f}" if abs(out[pred]) < 100 else f"{out[pred]:.2g}"
        ax.text(left + w / 2, top - 0.5, f"{name(int(y[i]))} → {name(pred)}\na={a_pred}",
                ha="center", va="bottom", fontsize=7)
    import matplotlib

    cmap = matplotlib.colormaps["gray_r"].with_extremes(bad="white")
    ax.imshow(montage, cmap=cmap, vmin=0, vmax=max(1.0, float(np.nanmax(montage))),
              interpolation="nearest")
    ax.set_title("most confidently wrong, most first (by a of the prediction − a of the true "
                 "class)\ntrue → predicted; a: output of the predicted class", fontsize="medium")
    return fig


# -- a saved run ---------------------------------------------------------------------------------
@dataclass
class Run:
    """A saved model with what its header says about how it was trained."""

    path: Path
    net: object
    meta: dict
    history: History
    dataset_info: dict = field(default_factory=dict)

    @property
    def config(self):
        return self.meta.get("config") or {}

    @property
    def image_shape(self):
        shape = self.dataset_info.get("image_shape") or self.config.get("image_shape")
        return tuple(shape) if shape else None


def load_run(run):
    """A model file's network, header and history (the header's, else ``<stem>.history.json``)."""
    if not isinstance(run, (str, os.PathLike)):
        raise ConfigError(f"run must be a model file's path (or a Run); got {type(run).__name__}")
    path = Path(run)
    checkpoint = load_checkpoint(path)
    meta = checkpoint.meta
    if meta.get("history"):
        history = checkpoint.history        # with the best weights, where kept
    else:
        history = load_history(path) or History()
    info = meta.get("dataset")
    return Run(path, checkpoint.net, meta, history, info if isinstance(info, dict) else {})


def _same_dataset(given, stored):
    """Whether a data set's name or path names the one a model header records."""
    from .datasets import canonical_name

    if stored is None:
        return False
    if canonical_name(given) == canonical_name(stored):
        return True
    try:
        return Path(given).expanduser().resolve() == Path(stored).expanduser().resolve()
    except (OSError, RuntimeError, TypeError):
        return False


def _load_dataset(run, dataset, notes):
    """The run's data set: the one given (a Dataset, or a name or path, loaded without
    downloading), else the one its header names; None with a note."""
    if isinstance(dataset, (str, os.PathLike)):
        from .datasets import load_recorded

        # the header's split where it names the same data set (only the test set is used)
        info = run.dataset_info if _same_dataset(dataset, run.dataset_info.get("name")) else {}
        dataset = load_recorded(info, name=dataset, dtype=run.net.dtype, download=False)
    elif dataset is not None and not all(hasattr(dataset, a) for a in ("X_test", "y_test",
                                                                        "n_classes")):
        raise ConfigError(f"dataset must be a bprop.datasets.Dataset, or a data set's name or "
                          f"path; got {type(dataset).__name__}")
    if dataset is None:
        name = run.dataset_info.get("name")
        if not name:
            notes.append("confusion matrix and most-wrong images skipped: the model file does "
                         "not name its data set (give --dataset, or in Python dataset=)")
            return None
        try:
            from .datasets import load_recorded
            dataset = load_recorded(run.dataset_info, dtype=run.net.dtype, download=False)
        except (BpropError, ImportError, OSError, ValueError) as e:
            notes.append(f"confusion matrix and most-wrong images skipped: cannot load the "
                         f"data set {name!r} ({e})")
            return None
    if dataset.X_test.shape[1] != run.net.sizes[0] or \
            dataset.n_classes > run.net.n_classes:
        notes.append(f"confusion matrix and most-wrong images skipped: data set "
                     f"{dataset.name!r} ({dataset.X_test.shape[1]} features, "
                     f"{dataset.n_classes} classes) does not fit the network {run.net.sizes}")
        return None
    return dataset


def _not_images(image_shape):
    if not image_shape:
        return "the model file and its data do not give the inputs an image shape"
    return f"the inputs are not 2-D images (shape {tuple(image_shape)})"


def run_figures(run, dataset=None):
    """``(figures, notes)`` for a saved run: figures is a list of ``(name, title, Figure)``,
    notes says which plots were skipped and why. ``run``: a model path or a :class:`Run`."""
    run = run if isinstance(run, Run) else load_run(run)
    notes, figures = [], []
    records = run.history.records
    if records:
        figures.append(("learning_curves", "Learning curves", learning_curves_figure(records)))
    else:
        notes.append("learning curves skipped: the model file has no training history")
    if _diagnostic_records(records):
        try:
            figures.append(("gradient_norms", "Speed of learning per layer",
                            gradient_norms_figure(records)))
            figures.append(("saturation", "Saturated neurons per layer",
                            saturation_figure(records)))
        except DataError as e:      # diagnostics edited by hand, or from another program
            notes.append(f"per-layer plots skipped: {e}")
    elif records:
        notes.append("per-layer plots skipped: the history has no diagnostics (train with "
                     "them on: bprop train --diagnostics, or "
                     "callbacks=[bprop.diagnostics.Diagnostics()])")
    ds = _load_dataset(run, dataset, notes)
    image_shape = run.image_shape or (ds.image_shape if ds is not None else None)
    if image_shape and int(np.prod(image_shape)) == run.net.sizes[0] and len(image_shape) == 2:
        figures.append(("first_layer_weights", "First layer's weights",
                        weights_figure(run.net, image_shape)))
    else:
        notes.append(f"first layer's weights skipped: {_not_images(image_shape)}")
    if ds is not None:
        n_classes = run.net.n_classes
        class_names = getattr(ds, "class_names", None) or run.dataset_info.get("class_names")
        if not isinstance(class_names, (list, tuple)) or len(class_names) != n_classes:
            class_names = None
        try:
            figures.append(("confusion_matrix", "Confusion matrix (test set)",
                            confusion_figure(run.net, ds.X_test, ds.y_test, n_classes,
                                             class_names)))
            if image_shape and len(image_shape) == 2:
                figures.append(("most_wrong", "Most confidently wrong test images",
                                most_wrong_figure(run.net, ds.X_test, ds.y_test, image_shape,
                                                  class_names=class_names)))
            else:
                notes.append(f"most-wrong images skipped: {_not_images(image_shape)}")
        except OutputOverflowError as e:    # weights far too large: no prediction to plot
            notes.append(f"confusion matrix and most-wrong images skipped: {e}")
    return figures, notes


def plot_run(run, out_dir=None, dataset=None):
    """Draw every plot that applies to a saved model and write them as PNGs; returns the paths.

    run: the model's ``.npz`` path (its header gives the config, history and data set).
    out_dir: where to write (created if needed); default ``<stem>-plots/`` beside the model.
    dataset: the data set for the confusion matrix and the most-wrong images: a
        :class:`bprop.datasets.Dataset`, or a name or path as for
        :func:`bprop.datasets.load` (loaded without downloading; an error if it cannot
        be); default: reload the one named in the header (never downloads). Plots that
        cannot be made are skipped with a ``warnings.warn`` saying why.
    Files: learning_curves.png, gradient_norms.png, saturation.png,
    first_layer_weights.png, confusion_matrix.png, most_wrong.png.
    """
    run = run if isinstance(run, Run) else load_run(run)
    out_dir = Path(out_dir) if out_dir is not None else \
        run.path.with_name(run.path.stem + "-plots")
    out_dir.mkdir(parents=True, exist_ok=True)
    figures, notes = run_figures(run, dataset)
    for note in notes:
        warnings.warn(note, stacklevel=2)
    return [save_figure(fig, out_dir / f"{name}.png") for name, _, fig in figures]
