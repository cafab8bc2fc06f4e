"""Figures from a trained network: its first layer's weights as images, its confusion matrix,
and the examples it gets wrong most confidently."""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np

from ..errors import ConfigError, DataError, ShapeError, check_int
from ..outputs import class_scores, confusion_counts, predicted_classes
from ..validate import check_labels
from .canvas import literal, new_figure


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
    return [literal(c) for c in class_names]        # names from files, drawn as written


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
    fig = new_figure()
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
    fig = new_figure()
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
    fig = new_figure()
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
