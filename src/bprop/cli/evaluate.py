"""``bprop evaluate`` and ``bprop predict``: a saved model on data.

Both reload the data set the model was trained on, from its file's header, with the same
splits (:func:`bprop.datasets.load_recorded`), unless ``--dataset`` names another.
``predict`` also classifies picture and ``.npy`` files (:func:`bprop.predict.read_input`),
each file that cannot be read getting an error line of its own.
"""

from __future__ import annotations

import os

import numpy as np

from .. import datasets
from ..datasets import same_dataset
from ..errors import ConfigError, DataError, ShapeError
from ..io import load_checkpoint
from ..outputs import confusion_counts
from ..predict import ascii_art, input_side, output_scores, read_input
from .checks import check_fits
from .output import BAD_INPUT, err, json_line, one_line, out


def cmd_evaluate(args):
    """``bprop evaluate``: accuracy, per-class accuracy, confusion matrix."""
    checkpoint = load_checkpoint(args.model)
    net = checkpoint.net
    data = _data_for_model(args, checkpoint, args.model)
    X, y = {"test": (data.X_test, data.y_test), "train": (data.X_train, data.y_train),
            "validation": (data.X_val, data.y_val)}[args.split]
    if X is None:
        own = args.dataset is None or same_dataset(args.dataset,
                                                   checkpoint.dataset_info.get("name"))
        raise ConfigError(
            f"{data.name} has no validation split for this model (it was trained without "
            f"--validation)" if own else
            f"{data.name} is not the data set {args.model} was trained on, so it has no "
            f"validation split for it; use --split test or train")
    predicted = net.predict(X)
    k = net.n_classes
    confusion = confusion_counts(y, predicted, k)
    totals = confusion.sum(axis=1)
    correct_per_class = np.diag(confusion)
    per_class = [None if t == 0 else float(c / t) for c, t in zip(correct_per_class, totals)]
    correct = int(correct_per_class.sum())
    accuracy = correct / len(y)
    if args.json:
        json_line({"model": args.model, "dataset": data.name, "split": args.split,
                    "examples": len(y), "correct": correct, "accuracy": accuracy,
                    "per_class_accuracy": per_class, "per_class_total": totals,
                    "confusion": confusion})
        return 0
    out(f"model {args.model}  dataset {data.name}  split {args.split}  examples {len(y)}")
    out(f"accuracy {accuracy:.4f}  ({correct} / {len(y)})")
    out()
    names = data.class_names if data.class_names and len(data.class_names) == k else None
    out("class  accuracy  correct  total" + ("  name" if names else ""))
    for c in range(k):
        acc = "-" if per_class[c] is None else f"{per_class[c]:.4f}"
        line = f"{c:<5}  {acc:<8}  {correct_per_class[c]:<7}  {totals[c]:<5}"
        out((line + (f"  {names[c]}" if names else "")).rstrip())
    out()
    out("confusion matrix (rows: true class, columns: predicted class)")
    width = max(len(str(int(confusion.max()))), len(str(k - 1))) + 1
    out("     " + "".join(f"{c:>{width}}" for c in range(k)))
    for c in range(k):
        out(f"{c:>4} " + "".join(f"{v:>{width}}" for v in confusion[c]))
    return 0


def cmd_predict(args):
    """``bprop predict``: classify files, or a data set's first test examples."""
    checkpoint = load_checkpoint(args.model)
    net, info = checkpoint.net, checkpoint.dataset_info
    if args.files and (args.dataset is not None or args.count is not None):
        raise ConfigError("give FILEs or --dataset/--count, not both")
    if args.files:
        return _predict_files(args, net, info)
    if args.dataset is None and args.count is None:
        raise ConfigError("nothing to predict: give image or .npy FILEs, or --dataset NAME "
                          "[--count K] for a data set's test examples")
    data = _data_for_model(args, checkpoint, args.model)
    count = min(args.count or 10, len(data.X_test))
    X, y = data.X_test[:count], data.y_test[:count]
    scores, kind = output_scores(net, X)
    predicted = np.argmax(scores, axis=1)
    side = _side_or_none(net, info)
    names = data.class_names
    for i in range(count):
        p, t = int(predicted[i]), int(y[i])
        record = {"index": i, "predicted": p, kind: float(scores[i, p]), "true": t,
                  "correct": p == t, "scores": scores[i], **_names(names, predicted=p, true=t)}
        _print_prediction(args, side, X[i], record,
                          f"test[{i}]  predicted {_named(p, names)}  {kind} "
                          f"{_number(scores[i, p])}  true {_named(t, names)}  "
                          f"correct {'yes' if p == t else 'no'}")
    if not args.json:
        right = int(np.count_nonzero(predicted == y))
        out(f"correct {right} / {count}")
    return 0


def _predict_files(args, net, info):
    """Each file's prediction; a file that cannot be read or prepared (blank, the wrong
    size, not an image) gets an error line of its own, the others are still predicted, and
    the exit status is then 2."""
    image_shape, box = info.get("image_shape"), info.get("box")
    centre = datasets.centred_pictures(info.get("name"))     # Fashion-MNIST's fill the frame
    read = []
    for f in args.files:
        try:
            read.append((f, _read_named(f, net.sizes[0], image_shape, box, centre)))
        except BAD_INPUT as e:
            read.append((f, e))
    good = [(f, x) for f, x in read if isinstance(x, np.ndarray)]
    if good:
        scores, kind = output_scores(net, np.stack([x for _, x in good]))
        predicted = dict(zip([f for f, _ in good], scores))
    side = _side_or_none(net, info)
    names = datasets.CLASS_NAMES.get(datasets.canonical_name(info.get("name") or ""))
    # columns: the file names padded to the longest, the classes to the widest
    width = max((len(f) for f, x in read if isinstance(x, np.ndarray)), default=0)
    label = max((len(_named(c, names)) for c in range(net.n_classes)), default=0)
    for f, x in read:
        if not isinstance(x, np.ndarray):
            err(one_line(x))
            continue
        s = predicted[f]
        p = int(np.argmax(s))
        record = {"file": f, "predicted": p, kind: float(s[p]), "scores": s,
                  **_names(names, predicted=p)}
        _print_prediction(args, side, x, record,
                          f"{f:<{width}}  predicted {_named(p, names):<{label}}  {kind} "
                          f"{_number(s[p])}")
    return 2 if len(good) < len(read) else 0


def _named(c, names):
    """``9 (Ankle boot)`` for a data set with class names, else ``9``."""
    return f"{c} ({names[c]})" if names and c < len(names) else str(c)


def _names(names, **classes):
    """``{"predicted_name": ..., ...}`` for the JSON output, when the classes have names."""
    return {f"{key}_name": names[c] for key, c in classes.items() if names and c < len(names)}


def _print_prediction(args, side, x, record, line):
    """One prediction: a JSON object (with the drawing as a list of rows under --show, so
    that stdout stays one JSON object per line) or a text line (the drawing below it)."""
    drawing = ascii_art(x, side) if args.show and side else []
    if args.json:
        json_line(dict(record, drawing=drawing) if drawing else record)
        return
    out(line)
    for row in drawing:
        out(row)


def _number(v):
    """A score for a text line: 4 decimals, or 4 significant digits beyond 1e6 (an
    unbounded output that has grown huge)."""
    return f"{v:.4f}" if abs(v) < 1e6 else f"{v:.4g}"


def _read_named(path, n_inputs, image_shape, box, centre=True):
    """read_input, with the file's name in any error that does not already give it."""
    try:
        return read_input(path, n_inputs, image_shape=image_shape, box=box, centre=centre)
    except (ShapeError, DataError) as e:
        if os.path.basename(path) in str(e):
            raise
        raise type(e)(f"{path}: {e}") from None


def _side_or_none(net, info):
    """The side of the square picture the model takes (its data set's ``info``), or None."""
    try:
        return input_side(net.sizes[0], info.get("image_shape"))
    except ShapeError:
        return None


def _data_for_model(args, checkpoint, model_path):
    """The data set a model was trained on (from its header), or the one named by --dataset.

    When --dataset names the data set the model was trained on, its validation split (size
    and seed) is the model's own, so that ``--split train`` and ``--split validation`` mean
    what they meant in training; any other data set is taken whole.
    """
    info = checkpoint.dataset_info
    if args.dataset is not None and not same_dataset(args.dataset, info.get("name")):
        info = {}
    name = args.dataset if args.dataset is not None else info.get("name")
    if name is None:
        raise ConfigError(f"{model_path} does not say which data set it was trained on; "
                          f"give --dataset")
    data = datasets.load_recorded(info, name=name, data_dir=args.data_dir,
                                  dtype=checkpoint.net.dtype)
    check_fits(checkpoint.net, data, model_path)
    return data
