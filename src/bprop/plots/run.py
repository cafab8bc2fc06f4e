"""The plots of a saved run: its model file's network, header and history, the data set it
names, and every figure that applies, written as PNGs."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..datasets import load_recorded, same_dataset
from ..errors import BpropError, ConfigError, DataError, OutputOverflowError
from ..io import load_checkpoint, load_history
from ..training import History
from .canvas import save_figure
from .history_figures import (diagnostic_records, gradient_norms_figure, learning_curves_figure,
                              saturation_figure)
from .network_figures import confusion_figure, most_wrong_figure, weights_figure


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
    return Run(path, checkpoint.net, meta, history, checkpoint.dataset_info)


def _load_dataset(run, dataset, notes):
    """The run's data set: the one given (a Dataset, or a name or path, loaded without
    downloading), else the one its header names; None with a note."""
    if isinstance(dataset, (str, os.PathLike)):
        # the header's split where it names the same data set (only the test set is used)
        info = run.dataset_info if same_dataset(dataset, run.dataset_info.get("name")) else {}
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
        figures.append(("learning_curves", "Learning curves",
                        learning_curves_figure(records, lmbda=run.config.get("lmbda") or 0.0,
                                               l1=run.config.get("l1") or 0.0)))
    else:
        notes.append("learning curves skipped: the model file has no training history")
    if diagnostic_records(records):
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


#: The plots :func:`plot_run` may write, each as ``<name>.png`` (those that apply).
PLOT_NAMES = ("learning_curves", "gradient_norms", "saturation", "first_layer_weights",
              "confusion_matrix", "most_wrong")


def plot_run(run, out_dir=None, dataset=None):
    """Draw every plot that applies to a saved model and write them as PNGs; returns the paths.

    run: the model's ``.npz`` path (its header gives the config, history and data set).
    out_dir: where to write (created if needed); default ``<stem>-plots/`` beside the model.
    dataset: the data set for the confusion matrix and the most-wrong images: a
        :class:`bprop.datasets.Dataset`, or a name or path as for
        :func:`bprop.datasets.load` (loaded without downloading; an error if it cannot
        be); default: reload the one named in the header (never downloads). Plots that
        cannot be made are skipped with a ``warnings.warn`` saying why.
    Files: ``<name>.png`` for the names of :data:`PLOT_NAMES` that apply.
    """
    run = run if isinstance(run, Run) else load_run(run)
    out_dir = Path(out_dir) if out_dir is not None else \
        run.path.with_name(run.path.stem + "-plots")
    figures, notes = run_figures(run, dataset)     # (without matplotlib: no empty out_dir)
    for note in notes:
        warnings.warn(note, stacklevel=2)
    out_dir.mkdir(parents=True, exist_ok=True)
    return [save_figure(fig, out_dir / f"{name}.png") for name, _, fig in figures]
