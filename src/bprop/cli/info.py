"""``bprop info``: what a model file holds: layers, cost, settings, data set, history."""

from __future__ import annotations

from ..io import load_checkpoint
from ..training import TrainConfig
from .output import epoch_line, json_line, out


def cmd_info(args):
    """``bprop info``: what a model file holds."""
    checkpoint = load_checkpoint(args.model)
    net, meta = checkpoint.net, checkpoint.meta
    if args.json:
        header = {k: v for k, v in meta.items() if k != "rng_state"}
        header.update({"path": args.model, "sizes": net.sizes,
                       "activations": net.activation_names, "cost": net.cost.name,
                       "dtype": net.dtype.name, "n_params": net.n_params})
        json_line(header)
        return 0
    rows = [("model", args.model), ("sizes", " ".join(map(str, net.sizes))),
            ("activations", ", ".join(net.activation_names)), ("cost", net.cost.name),
            ("dtype", net.dtype.name), ("init", net.init), ("parameters", f"{net.n_params:,}")]
    if "epoch" in meta:
        rows.append(("epochs done", str(meta["epoch"])))
    info = checkpoint.dataset_info
    if info.get("name") is not None:
        bits = [str(info["name"])]
        if info.get("validation"):
            bits.append(f"validation {info['validation']}")
        if info.get("train_size"):
            bits.append(f"training on the first {info['train_size']:,}")
        if info.get("image_shape"):
            bits.append("images " + "x".join(map(str, info["image_shape"])))
        if info.get("n_classes") is not None:
            bits.append(f"{info['n_classes']} classes")
        if info.get("seed") is not None:
            bits.append(f"seed {info['seed']}")
        rows.append(("dataset", ", ".join(bits)))
    if "optimizer" in meta:
        rows.append(("optimizer state", meta["optimizer"]["name"]))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        out(f"{key:<{width}}  {value}")
    config = checkpoint.config
    if config is not None:
        out()
        out("training config (the settings that apply to this run)")
        defaults = TrainConfig().to_dict()
        for key, value in config.applicable().items():
            changed = key in defaults and key != "image_shape" and defaults[key] != value
            out(f"  {key:<26} {value}" + (f"   (default {defaults[key]})" if changed else ""))
    history = checkpoint.history
    records = history.records
    if records:         # also from Python's save(net, path, history=h), with no settings
        shown = config or TrainConfig(epochs=len(records))
        out()
        if getattr(args, "history", False) or len(records) <= 3:
            out("history")
            for r in records:
                out("  " + epoch_line(r, r.epoch + 1, shown))
        else:
            out(f"history: {len(records)} epochs (--history shows each); the last:")
            out("  " + epoch_line(records[-1], records[-1].epoch + 1, shown))
        if history.stopped_early:
            out(f"stopped early: {history.stopped_early}")
        # the best epoch by validation accuracy only: picking one by test accuracy is
        # fitting the test set (the book's chapter 3)
        scored = [r for r in records if r.val_accuracy is not None]
        if scored:
            best = max(scored, key=lambda r: r.val_accuracy)
            test = ("" if best.test_accuracy is None
                    else f" (test_accuracy {best.test_accuracy:.4f})")
            out(f"best val_accuracy {best.val_accuracy:.4f} at epoch {best.epoch + 1}{test}")
    return 0
