"""One self-contained HTML page about a training run: settings, history, plots, warnings.

``write_report(model_path)`` reads the model file's header (sizes, activations, cost,
the training config, the per-epoch history and the data set's name), draws the plots of
:mod:`bprop.plots` into memory and embeds them as ``data:`` URIs, and adds the warnings
of :func:`bprop.diagnostics.explain`. The page references nothing outside itself, so it
can be mailed, archived or opened offline. Every piece of text from the file is escaped
with ``html.escape``. Without matplotlib the page is written without plots, saying so.
Epochs are counted from 1 throughout the page, as the command line counts them.
"""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path

import numpy as np

from .atomic import atomic_write
from .diagnostics import explain
from .errors import BpropError
from .version import __version__

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 80rem; margin: 1.5rem auto;
       padding: 0 1rem; color: #222; line-height: 1.4; }
.card { border: 1px solid #ccc; border-radius: 6px; padding: 0.8rem 1.2rem;
        background: #fafafa; display: grid; gap: 0.2rem 2rem;
        grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); }
.card div { font-size: 0.95rem; } .card b { display: inline-block; min-width: 8rem; }
.plots { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(28rem, 1fr)); }
details { margin: 1rem 0; } summary { font-size: 1.2rem; font-weight: bold; cursor: pointer; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: right; }
th { background: #f3f3f3; } td.key, th.key { text-align: left; }
.warnings li { background: #fff4e0; border-left: 4px solid #e69500; margin: 0.5rem 0;
               padding: 0.5rem; list-style: none; }
.notes { color: #666; font-size: 0.9rem; }
figure { margin: 1rem 0; } img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.9rem; color: #555; }
.scroll { overflow-x: auto; }
"""


#: What the first kilobyte of every page :func:`write_report` writes holds (its title's start).
MARK = b"<title>bprop report: "


def is_report(path):
    """Whether the file ``path`` is a page :func:`write_report` wrote (``bprop report``
    replaces those without asking)."""
    try:
        with open(path, "rb") as f:
            return MARK in f.read(1024)
    except OSError:
        return False


def write_report(run, out_path=None, dataset=None):
    """Write the HTML report of the model file ``run``; returns its path.

    out_path: default ``<stem>-report.html`` beside the model. dataset: as for
    :func:`bprop.plots.plot_run` (used for the confusion matrix and the most-wrong images).
    The file is written atomically.
    """
    from .plots import load_run

    info = load_run(run)
    out_path = Path(out_path) if out_path is not None else \
        info.path.with_name(info.path.stem + "-report.html")
    try:
        from .plots import png_bytes, run_figures

        figures, notes = run_figures(info, dataset)
        images = [(name, title, png_bytes(fig)) for name, title, fig in figures]
    except ImportError as e:
        images, notes = [], [f"plots skipped: {e}"]
    page = render_report(info, images, notes)
    atomic_write(out_path, lambda f: f.write(page.encode("utf-8")))
    return out_path


def render_report(info, images, notes=()):
    """The report page as a string. info: a :class:`bprop.plots.Run`; images: a list of
    ``(name, title, png_bytes)``; notes: lines saying what was left out."""
    e = html.escape
    net, meta, records = info.net, info.meta, info.history.records
    warnings = explain(info.history, cost=net.cost.name, first_epoch=1, n_classes=net.n_classes)
    title = f"bprop report: {_title(info)}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f"<p>{e(run_summary(info))}</p>",
        summary_card(info, warnings),
    ]
    if warnings:
        parts.append('<ul class="warnings">')
        parts += [f"<li>{e(w)}</li>" for w in warnings]
        parts.append("</ul>")
    else:
        parts.append('<p class="notes">No warnings: nothing in the history stands out'
                     + ("" if any(r.diagnostics for r in records) else
                        " (the run recorded no per-layer diagnostics, so only the cost was "
                        "checked)") + ".</p>")
    parts.append('<h2>Plots</h2><div class="plots">')
    for name, title_, png in images:
        uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        parts.append(f'<figure id="{e(name)}"><img src="{uri}" alt="{e(title_)}">'
                     f"<figcaption>{e(title_)}</figcaption></figure>")
    parts.append("</div>")
    if not images:
        parts.append("<p>No plots.</p>")
    if notes:
        parts.append('<ul class="notes">')
        parts += [f"<li>{e(n)}</li>" for n in notes]
        parts.append("</ul>")

    parts.append("<details><summary>Network and data set</summary>")
    network = [("sizes", net.sizes), ("activations", ", ".join(net.activation_names)),
               ("cost", net.cost.name), ("dtype", net.dtype.name),
               ("init", meta.get("init", "")), ("parameters", f"{net.n_params:,}")]
    if "epoch" in meta:
        network.append(("epochs completed", meta["epoch"]))
    network += [(f"data set: {_DATA_LABELS.get(key, key)}", value)
                for key, value in info.dataset_info.items() if value is not None]
    parts.append(_settings_table(network))
    parts.append("</details>")
    if info.config:
        parts.append("<details><summary>Training settings</summary>")
        parts.append('<p class="notes">The settings that apply to this run (momentum only '
                     'for momentum and Nesterov, Adam\'s betas only for Adam, ...).</p>')
        parts.append(_settings_table(list(_applicable(info.config).items())))
        parts.append("</details>")

    parts.append(f"<details><summary>History ({len(records)} epochs)</summary>")
    if records:
        parts.append('<p class="notes">Epochs are counted from 1 (epoch 1 = after one pass '
                     'over the data), as the command line prints them; the records in the '
                     '.history.json and .history.csv files count from 0, as the book\'s code '
                     'does.</p>')
        parts.append(history_table(records))
        if info.history.stopped_early:
            parts.append(f"<p>Stopped early: {e(info.history.stopped_early)}.</p>")
    else:
        parts.append("<p>The model file holds no training history.</p>")
    parts.append("</details>")
    parts.append(f'<p class="notes">Written by bprop {e(__version__)}.</p>')
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# the model header's data set fields (bprop.datasets.dataset_record), as a reader would name them
_DATA_LABELS = {"data_dir": "directory", "validation": "validation split",
                "seed": "split seed", "n_classes": "classes", "image_shape": "image shape",
                "box": "ink box side, pixels (for preparing pictures to predict)"}


def _title(info):
    """What tells this run from another: the network, the data set, the file's name."""
    name = info.dataset_info.get("name")
    data = f" on {Path(str(name)).name}" if name else ""
    return f"{'-'.join(map(str, info.net.sizes))}{data} ({info.path.name})"


def _applicable(settings):
    """The saved settings that apply to the run (:meth:`bprop.TrainConfig.applicable`)."""
    from .training import TrainConfig
    try:
        return TrainConfig.from_dict(settings).applicable()
    except (BpropError, TypeError, ValueError):    # an older or damaged header: all of it
        return dict(settings)


def summary_card(info, warnings):
    """The page's first box: data set, network, accuracy (best and final), epochs and time,
    and how many warnings follow."""
    e = html.escape
    net, records = info.net, info.history.records
    items = [("data set", info.dataset_info.get("name") or "not recorded"),
             ("network", f"{net.sizes}, {', '.join(dict.fromkeys(net.activation_names))}, "
                         f"{net.cost.name} cost, {net.dtype.name}"),
             ("parameters", f"{net.n_params:,}")]
    if records:
        last = records[-1]
        for field, label in (("test_accuracy", "test accuracy"),
                             ("val_accuracy", "validation accuracy")):
            values = [getattr(r, field) for r in records if getattr(r, field) is not None]
            if values:
                best = max(values)
                at = next(r.epoch for r in records if getattr(r, field) == best) + 1
                final = getattr(last, field)
                items.append((label, f"{final:.2%} in the last epoch ({last.epoch + 1}), "
                                     f"best {best:.2%} (epoch {at})"
                              if final is not None else f"best {best:.2%} (epoch {at})"))
        seconds = sum(r.seconds for r in records)
        items.append(("epochs", f"{len(records)}, {seconds:.1f} s of training"))
        if info.history.stopped_early:
            items.append(("stopped early", info.history.stopped_early))
    items.append(("warnings", str(len(warnings)) + (" (below)" if warnings else "")))
    rows = "".join(f"<div><b>{e(k)}</b> {e(str(v))}</div>" for k, v in items)
    return f'<div class="card" id="summary">{rows}</div>'


def _settings_table(pairs):
    e = html.escape
    rows = [f'<tr><th class="key">{e(str(k))}</th><td class="key">{e(_fmt(v))}</td></tr>'
            for k, v in pairs]
    return "<table><tbody>\n" + "\n".join(rows) + "\n</tbody></table>"


def run_summary(info):
    """One sentence about a saved run (a :class:`bprop.plots.Run`): the network, the data,
    the epochs, and the accuracy of the weights the file holds."""
    net, records = info.net, info.history.records
    text = f"A {'-'.join(map(str, net.sizes))} network ({net.cost.name} cost)"
    name = info.dataset_info.get("name")
    if name:
        text += f" trained on {name}"
    if records:
        text += f", {len(records)} epoch{'s' if len(records) != 1 else ''}"
        best = info.history.best_epoch
        # a finished early-stopping run saved the best epoch's weights, not the last
        # epoch's; a checkpoint written before the end holds the last epoch's
        restored = best is not None and info.config.get("early_stopping") \
            and _holds_best(net, info.history.best_params)
        shown = next((r for r in records if r.epoch == best), records[-1]) if restored \
            else records[-1]
        for field, label in (("test_accuracy", "test"), ("val_accuracy", "validation")):
            value = getattr(shown, field)
            if value is not None:
                which = (f"the saved weights' (epoch {shown.epoch + 1}, restored by early "
                         f"stopping)" if restored else "final")
                text += f"; {which} {label} accuracy {value:.2%}"
                break
        if best is not None and not restored:
            text += f" (best validation epoch {best + 1})"
    return text + "."


def _holds_best(net, best_params):
    """Whether the network's weights and biases are the saved best ones."""
    params = (*net.weights, *net.biases)
    return best_params is not None and len(best_params) == len(params) and \
        all(np.array_equal(p, b) for p, b in zip(params, best_params))


def history_table(records):
    """The epoch records as an HTML table (epochs counted from 1; columns nothing filled left
    out), with each layer's ‖∂C/∂b‖ where the run recorded diagnostics."""
    e = html.escape
    columns = [(name, label) for name, label in (
        ("epoch", "epoch"), ("eta", "η"), ("seconds", "seconds"), ("train_cost", "training cost"),
        ("running_cost", "running cost"), ("train_accuracy", "training acc."),
        ("val_cost", "validation cost"),
        ("val_accuracy", "validation acc."), ("test_accuracy", "test acc."))
        if any(getattr(r, name) is not None for r in records)]
    layers = next((r.diagnostics["layers"] for r in reversed(records)
                   if (r.diagnostics or {}).get("layers")), [])
    head = [label for _, label in columns]
    head += [f"‖∂C/∂b‖ layer {layer}" for layer in layers]
    head += ["output saturated wrong"] if layers else []
    rows = ['<div class="scroll"><table><thead><tr>'
            + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr></thead><tbody>"]
    for r in records:
        cells = []
        for name, _ in columns:
            value = getattr(r, name)
            if name == "epoch":
                value += 1                  # counted from 1, as the command line does
            if name.endswith("accuracy") and value is not None:
                cells.append(f"{100 * value:.2f}%")
            else:
                cells.append(_fmt(value))
        d = r.diagnostics or {}
        grads = d.get("grad_b") or [None] * len(layers)
        cells += [_fmt(g) for g in grads[:len(layers)]]
        if layers:
            wrong = d.get("output_saturated_wrong")
            cells.append("" if wrong is None else f"{100 * wrong:.1f}%")
        rows.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>")
    rows.append("</tbody></table></div>")
    return "\n".join(rows)


def _fmt(value):
    if value is None:
        return ""
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)
