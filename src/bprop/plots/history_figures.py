"""Figures from a training History: learning curves, and per layer the speed of learning
(‖∂C/∂bˡ‖, ‖∂C/∂wˡ‖) and the share of saturated neurons across epochs."""

from __future__ import annotations

import textwrap

import numpy as np

from ..diagnostics import SATURATION, check_diagnostics, history_records
from ..errors import DataError
from .canvas import literal, new_figure


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


def learning_curves_figure(history, lmbda=0.0, l1=0.0):
    """Mean cost (left) and accuracy (right) per epoch, for whatever the run monitored.

    history: a :class:`History`, its ``to_dict()``, or a list of its records. lmbda, l1:
    the run's L2 λ and L1 λ₁; when one is not 0 a note says why the validation cost lies
    above the training cost (the terms (λ/2n)Σw² and (λ₁/n)Σ|w| divide by the validation
    set's smaller n, the book's convention), which is not over-fitting."""
    records = _records(history, "learning_curves_figure")
    fig = new_figure()
    ax_cost, ax_acc = fig.subplots(1, 2)
    for name, label in (("train_cost", "training"), ("running_cost", "training, running"),
                        ("val_cost", "validation")):
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
    terms = [t for t, on in ((f"λ = {lmbda:g}", lmbda), (f"λ₁ = {l1:g}", l1)) if on]
    if terms and any(r.val_cost is not None for r in records):
        # under the axis, in the space the layout keeps for the label: not over the plot
        what = " and ".join(t for t, on in (("(λ/2n)Σw²", lmbda), ("(λ₁/n)Σ|w|", l1)) if on)
        note = textwrap.fill(f"{', '.join(terms)}: each cost includes {what} with its own "
                             f"set's n, so the validation cost (smaller n) lies above the "
                             f"training cost by more than over-fitting would", 46)
        ax_cost.set_xlabel(f"epoch\n{note}", fontsize="small")
    ax_acc.set(title="accuracy (%)", xlabel="epoch")
    for ax in (ax_cost, ax_acc):
        if ax.lines:
            ax.legend(fontsize="small")
        else:
            ax.text(0.5, 0.5, "not monitored", ha="center", va="center", transform=ax.transAxes)
        ax.grid(alpha=0.3)
        _integer_epochs(ax, [r.epoch + 1 for r in records] or [1])
    return fig


def diagnostic_records(records):
    return [r for r in records if isinstance(r.diagnostics, dict) and r.diagnostics.get("layers")]


def _required_diagnostic_records(history, caller, need):
    """The records of ``history`` that carry diagnostics, each holding the keys in ``need``
    for the same layers; raises when there are none."""
    records = diagnostic_records(_records(history, caller))
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


def _layer_name(layer, layers):
    """'hidden layer 1 (l = 2)', 'output (l = 3)': the book's l, named, rather than a
    superscript that reads as a square (‖∂C/∂b²‖)."""
    if layer == layers[-1]:
        return f"output (l = {layer})"
    return f"hidden layer {layer - 1} (l = {layer})"


def gradient_norms_figure(history):
    """‖∂C/∂bˡ‖ (solid) and ‖∂C/∂wˡ‖ (dashed) per layer across epochs, log scale."""
    records = _required_diagnostic_records(history, "gradient_norms_figure",
                                           ("grad_b", "grad_w"))
    fig = new_figure()
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
                    label=f"‖∂C/∂{sym}‖ {_layer_name(layer, layers)}")
            zeros.append(([e for e, v in zip(epochs, values) if v == 0], color, sym))
    ax.set_yscale("log")
    zeros = [z for z in zeros if z[0]]
    if zeros:
        if not any(np.isfinite(line.get_ydata()).any() for line in ax.lines):
            ax.set_ylim(1e-3, 1)                # every norm was 0: any range will do
        # one row of marks per norm, up from the bottom edge (x in epochs, y in the axes'
        # height): on one row the last layer's marks would hide the others'; ▼ for b, ▽ w
        for k, (e, color, sym) in enumerate(zeros):
            ax.plot(e, [0.025 + 0.04 * k] * len(e), ls="", marker="v", ms=6, color=color,
                    fillstyle="full" if sym == "b" else "none",
                    transform=ax.get_xaxis_transform(), clip_on=False)
        ax.plot([], [], ls="", marker="v", color="grey", label="0 (no gradient): ▼ b, ▽ w")
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
    fig = new_figure()
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
                    label=f"layer {layer} ({literal(name)}): saturated")
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
