"""The command line: ``bprop train | evaluate | predict | gradcheck | info | plot | report``.

``main(argv)`` parses ``argv`` (default ``sys.argv[1:]``), runs one subcommand and returns
the exit status; ``bprop/__main__.py`` passes it to ``sys.exit``. This is the only module
that prints (besides the book's ``network.Network.SGD`` and ``network2.Network.SGD``):

* stdout: results. ``train`` prints one line per epoch,
  ``epoch 3/30  cost 0.1234  val_acc 0.9512  test_acc 0.9490  time 0.45s``, or with
  ``--json`` one JSON object per epoch; the other commands print their results likewise.
* stderr: notes (what is being trained, where the model went), warnings, the progress bar
  (only when stderr is a terminal, never with ``--quiet``) and errors.

Epochs are counted from 1 here ("epoch 3/30" = three epochs done, which is also what a
checkpoint's ``epoch`` field holds; the diagnostics warnings, ``info``, the plots and the
report count the same way); the records of a saved History (``.history.json``/``.csv``)
count from 0, like the book's ``Epoch 0: ...`` lines.

Exit status: 0 success; 1 an unexpected failure (a one-line message, the traceback with
``--debug``), running out of memory or disk space, a training run whose cost or weights
stopped being finite, or a failed ``gradcheck``; 2 bad usage or bad input (unknown flag or
value, missing, unreadable or corrupt file, data that does not fit the model, a ``--save``
path that cannot be written, a missing optional package), one line on stderr; 130 after a
clean stop on Ctrl-C (SIGTERM and SIGHUP stop as cleanly, with 143 and 129).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import errno
import importlib
import importlib.util
import json
import os
import re
import signal
import sys
import tempfile
import threading
import traceback
import warnings
from pathlib import Path

import numpy as np

from . import __version__, datasets
from . import io as model_io
from .activations import ACTIVATIONS, get_activation
from .costs import COSTS, get_cost
from .diagnostics import Diagnostics, confusion_counts, explain
from .errors import BpropError, ConfigError, DataError, ModelFileError, ShapeError, check_int
from .gradcheck import gradcheck
from .network import INITIALIZERS, Network
from .optimizers import OPTIMIZERS, optimizer_for
from .predict import ascii_art, input_side, output_scores, read_input, typical_box
from .stops import STOPS, held_stops
from .training import (MONITORS, SCHEDULES, EpochRecord, History, TrainConfig,
                       WorkerError, stopped_for_good, train)
from .training.parallel import check_workers

#: Errors that mean bad usage or bad input: exit 2, one line, no traceback.
BAD_INPUT = (ValueError, TypeError, FileNotFoundError, PermissionError, IsADirectoryError,
             NotADirectoryError, FileExistsError, ModuleNotFoundError)

# Flags of `train` that are the fields of TrainConfig (argparse dest == field name).
_CONFIG_FIELDS = {f.name for f in dataclasses.fields(TrainConfig)} - {
    "image_shape", "monitor_training_cost"}

# `train` defaults outside TrainConfig. TrainConfig's own defaults are the book's.
_TRAIN_DEFAULTS = {
    "dataset": "mnist", "data_dir": None, "validation": 0, "train_size": None, "hidden": [30],
    "activation": ["sigmoid"], "output_activation": None, "cost": "quadratic",
    "init": "normal", "seed": 0, "dtype": "float64", "save": None, "resume": None,
    "json": False, "quiet": False, "diagnostics": False, "plot": None, "overwrite": False,
    "workers": 1,
}

# What a resumed run takes from its checkpoint and may not change.
_FIXED_ON_RESUME = ("hidden", "activation", "output_activation", "cost", "init", "dtype",
                    "seed", "validation", "train_size")


# ==============================================================================================
# main
# ==============================================================================================
def main(argv=None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:      # closed by the caller (`2>&-`): write nowhere,
            setattr(sys, name, open(os.devnull, "w"))   # not into the other stream
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if getattr(args, "command", None) == "predict" and \
                not any(a.startswith("-") for a in extra):
            # FILEs after flags (`bprop predict m.npz --show a.png`): argparse gives a
            # positional list only the words before the first flag
            args.files += extra
            extra = []
        if extra:
            parser.commands[args.command].error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as e:             # --help, --version, or a usage error already printed
        return e.code if isinstance(e.code, int) else 2
    debug = getattr(args, "debug", False)
    try:
        with warnings.catch_warnings(), _stopping_signals():
            warnings.showwarning = _show_warning
            return args.func(args)
    except KeyboardInterrupt as e:
        _err(_stopped_by(e))
        return _stop_status(e)
    except BrokenPipeError:             # stdout closed early (`bprop info m.npz | head`)
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 1
    except BAD_INPUT as e:
        return _fail(e, 2, debug)
    except FloatingPointError as e:     # training diverged: not bad input, but no traceback
        return _fail(e, 1, debug)
    except (_MachineFailure, WorkerError) as e:
        return _fail(e, 1, debug)
    except MemoryError as e:            # e.g. --hidden 100000000: the machine, not a bug
        return _fail(_MachineFailure(f"out of memory: {e or 'an allocation failed'}; a smaller "
                                     f"network, mini-batch or data set needs less"), 1, debug)
    except Exception as e:              # a bug or an environment failure
        if debug:
            traceback.print_exc()
        else:
            _err(f"unexpected error: {type(e).__name__}: {_one_line(e)} "
                 f"(run with --debug for the traceback)")
        return 1


class _Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP (``kill``, ``timeout``, a closed terminal), handled as Ctrl-C is:
    the save in progress is finished, the note says what the file holds."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum, frame):
    raise _Terminated(signum)


_STOPPING_SIGNALS = tuple(signum for signum in STOPS if signum != signal.SIGINT)


@contextlib.contextmanager
def _stopping_signals():
    """Within the block, SIGTERM and SIGHUP raise :class:`_Terminated` (a KeyboardInterrupt)
    where they would kill the process; handlers someone else installed are left alone."""
    installed = {}
    if threading.current_thread() is threading.main_thread():
        for signum in _STOPPING_SIGNALS:
            if signal.getsignal(signum) is signal.SIG_DFL:
                installed[signum] = signal.signal(signum, _raise_terminated)
    try:
        yield
    finally:
        for signum, previous in installed.items():
            signal.signal(signum, previous)


def _stopped_by(e):
    if isinstance(e, _Terminated):
        return f"terminated ({signal.Signals(e.signum).name})"
    return "interrupted"


def _stop_status(e):
    """128 + the signal's number, as a shell reports a process it stopped: 130 for Ctrl-C."""
    return 128 + (e.signum if isinstance(e, _Terminated) else signal.SIGINT)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Library warnings (a plot skipped, ...) as one-line notes on stderr."""
    _note(f"warning: {message}")


class _MachineFailure(Exception):
    """The machine, not the input, failed (out of memory, a checkpoint that cannot be
    written): exit 1 with a message saying what happened and what is left."""


def _fail(e, status, debug):
    if debug:
        traceback.print_exc()
    _err(_one_line(e))
    return status


def _one_line(e):
    """An exception's message on one line; OSErrors as 'reason: filename'."""
    if isinstance(e, OSError) and e.strerror and e.filename:
        text = f"{e.strerror}: {e.filename}"
    elif isinstance(e, ModuleNotFoundError) and str(e).startswith("No module named"):
        text = f"{e}; install it (pip install 'bprop[all]' installs every optional package)"
    else:
        text = str(e) or type(e).__name__
    return " ".join(text.split())


def _err(message):
    """An error, on stderr."""
    _note(f"error: {message}")


def _note(message):
    """A note or warning for the user, on stderr (stdout is kept for results); dropped
    when stderr cannot be written (a closed terminal after SIGHUP)."""
    try:
        print(f"bprop: {message}", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def _out(line=""):
    print(line, flush=True)


def _json_line(obj):
    print(json.dumps(obj, default=_to_builtin), flush=True)


def _to_builtin(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, tuple):
        return list(o)
    raise TypeError(f"cannot write {type(o).__name__} as JSON")


# ==============================================================================================
# the parser
# ==============================================================================================
class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr (exit status 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog):
        super().__init__(prog, max_help_position=32, width=min(100, _terminal_width()))


def _terminal_width():
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 100


def _lookup_type(lookup, kind):
    """argparse type that canonicalises a name through a registry lookup (aliases allowed)."""
    def convert(text):
        try:
            return lookup(text).name
        except ConfigError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    convert.__name__ = kind
    return convert


def _count_or_fraction(text):
    """``--validation``: an integer count (``5000``) or a fraction (``0.1``)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a count (e.g. 5000) or a fraction (e.g. 0.1); got {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"a fraction must be in [0, 1); got {text}")
    return value


def _int_at_least(low, what):
    """An argparse type: an integer >= low, described as ``what`` in its errors."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}; got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected {what}; got {value}")
        return value
    return parse


_positive_int = _int_at_least(1, "a positive integer")
_nonnegative_int = _int_at_least(0, "an integer >= 0")


def _name_or_path(text):
    """argparse type of --dataset and --data-dir: not empty (an empty path would mean the
    working directory)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number; got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number; got {text}")
    return value


_activation = _lookup_type(get_activation, "activation")
_cost = _lookup_type(get_cost, "cost")
_ACT_NAMES = ", ".join(sorted(ACTIVATIONS))
_HIDDEN_ACT_NAMES = ", ".join(sorted(n for n, act in ACTIVATIONS.items() if act.elementwise))
_COST_NAMES = ", ".join(COSTS)


def build_parser():
    """The ``bprop`` argument parser with all its subcommands."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback when something fails")

    parser = _Parser(
        prog="bprop", formatter_class=_Formatter, parents=[common],
        description="Backpropagation and mini-batch SGD for fully connected networks "
                    "(chapter 2 of Nielsen's Neural Networks and Deep Learning).",
        epilog="""examples:
  bprop train --dataset digits --save runs/digits/model.npz
  bprop train --dataset mnist                     # the book: [784, 30, 10], 30 epochs, eta 3.0
  bprop evaluate runs/digits/model.npz
  bprop predict runs/digits/model.npz my-digit.png
  bprop gradcheck --sizes 4 5 3

exit status: 0 ok; 1 unexpected failure, out of memory or disk space, diverged training
(cost or weights no longer finite) or failed gradcheck; 2 bad usage or bad input (one line
on stderr); 130 stopped by Ctrl-C (143 by SIGTERM, 129 by SIGHUP: the same clean stop).
Run 'bprop COMMAND --help' for a command's options.""")
    parser.add_argument("--version", action="version", version=f"bprop {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_train(sub, common)
    _add_evaluate(sub, common)
    _add_predict(sub, common)
    _add_gradcheck(sub, common)
    _add_info(sub, common)
    _add_plot(sub, common)
    _add_report(sub, common)
    parser.commands = sub.choices       # name -> its parser, for errors found after parsing
    return parser


def _add_train(sub, common):
    d = TrainConfig()
    p = sub.add_parser(
        "train", parents=[common], formatter_class=_Formatter,
        argument_default=argparse.SUPPRESS,
        help="train a network (the book's defaults: [n_in, 30, n_out], 30 epochs, eta 3.0)",
        description="""Train a fully connected network by mini-batch SGD and backpropagation.

The defaults are the book's: one hidden layer of 30 sigmoid neurons, the quadratic cost,
weights and biases from N(0, 1), 30 epochs, mini-batches of 10, eta = 3.0. The input and
output layers are sized from the data. After each epoch one line goes to stdout:

  epoch 3/30  cost 0.1234  val_acc 0.9512  test_acc 0.9490  time 0.45s

(cost: mean training cost, plus ½(λ/n)Σw² with --lmbda and (λ₁/n)Σ|w| with --l1, n the
training-set size, as the book's total_cost; the history's val_cost adds the same terms
with n the validation-set size; val_acc only with --validation; train_acc with
--monitor-training-accuracy; eta when a schedule changes it). With --save the model is
written atomically after every epoch, with its settings, history and optimiser state, so
it is also a checkpoint: Ctrl-C leaves the last finished epoch on disk (exit status 130),
and --resume continues the run to exactly the weights an uninterrupted run would reach
(except after a finished --early-stopping run, which is saved with its best epoch's
weights and continues from those).""",
        epilog="""examples:
  bprop train --dataset digits --save runs/digits/model.npz
  bprop train --dataset mnist --hidden 100 --cost cross-entropy --eta 0.5 --lmbda 5 \\
      --epochs 60 --validation 10000
  bprop train --dataset fashion --hidden 100 50 --activation relu --output-activation softmax \\
      --cost log-likelihood --init he --optimizer momentum --eta 0.02 --json
  bprop train --resume runs/digits/model.npz --epochs 60    # continue to 60 epochs

datasets (--dataset):
""" + datasets.describe())
    g = p.add_argument_group("data")
    g.add_argument("--dataset", metavar="NAME|PATH", type=_name_or_path,
                   help="mnist (default; downloaded once), fashion, digits (scikit-learn's "
                        "8x8 digits, no download), or a directory of IDX files, a .npz, a "
                        ".csv (label last, or in the column a header names 'label'), or the "
                        "book's mnist.pkl.gz")
    g.add_argument("--data-dir", metavar="DIR", type=_name_or_path,
                   help="where the mnist/fashion IDX files are (or are downloaded to)")
    g.add_argument("--validation", type=_count_or_fraction, metavar="N|FRACTION",
                   help="hold out this many training examples (or this fraction) as a "
                        "validation set (default 0; MNIST holds out the last ones, like the "
                        "book's 50,000/10,000 split)")
    g.add_argument("--train-size", type=_positive_int, metavar="N",
                   help="train on the first N training examples only (after the validation "
                        "split), as the book's chapter 3 does with 1,000 images to show "
                        "overfitting; L2's n is then N (default: all)")
    g = p.add_argument_group("network")
    g.add_argument("--hidden", type=_positive_int, nargs="*", metavar="N",
                   help="hidden layer widths, e.g. --hidden 100 50 (default 30; "
                        "--hidden with no number: no hidden layer)")
    g.add_argument("--activation", type=_activation, nargs="+", metavar="NAME",
                   help=f"hidden layers' activation, one for all or one per hidden layer "
                        f"({_HIDDEN_ACT_NAMES}; default sigmoid)")
    g.add_argument("--output-activation", type=_activation, metavar="NAME",
                   help=f"output layer's activation ({_ACT_NAMES}; default sigmoid, or "
                        f"softmax with --cost log-likelihood)")
    g.add_argument("--cost", type=_cost, metavar="NAME",
                   help=f"{_COST_NAMES} (default quadratic)")
    g.add_argument("--init", choices=list(INITIALIZERS),
                   help="weight initialiser: normal = N(0, 1), the book's network.py "
                        "(default); scaled-normal = N(0, 1/n_in), network2's; xavier; he")
    g.add_argument("--dtype", choices=["float64", "float32"],
                   help="float64 (default) or float32 (faster, less exact)")
    g.add_argument("--seed", type=_nonnegative_int,
                   help="seed for the initial weights, shuffling, dropout and the validation "
                        "split (default 0: the same command gives the same run)")
    g = p.add_argument_group("training (the book's words)")
    g.add_argument("--epochs", type=int, help=f"epochs to train (default {d.epochs}); with "
                                              f"--resume, the total, by default the "
                                              f"checkpoint's own")
    g.add_argument("--mini-batch-size", type=int, help=f"default {d.mini_batch_size}")
    g.add_argument("--eta", type=float, help=f"learning rate (default {d.eta})")
    g.add_argument("--lmbda", type=float,
                   help="L2 regularisation: adds (lmbda/2n) sum w^2 to the cost; with sgd "
                        "the step is w -> (1 - eta*lmbda/n) w - ... (default 0)")
    g.add_argument("--l1", type=float,
                   help="L1 regularisation: adds (l1/n) sum |w| to the cost (default 0)")
    g.add_argument("--optimizer", choices=list(OPTIMIZERS),
                   help="sgd (default), momentum, nesterov, adam")
    g.add_argument("--momentum", type=float,
                   help=f"momentum coefficient mu for momentum/nesterov (default {d.momentum})")
    g.add_argument("--beta1", type=float, help=f"Adam's beta1 (default {d.beta1})")
    g.add_argument("--beta2", type=float, help=f"Adam's beta2 (default {d.beta2})")
    g.add_argument("--clip-norm", type=float, metavar="NORM",
                   help="rescale the gradient when its 2-norm exceeds NORM (default off)")
    g.add_argument("--schedule", choices=list(SCHEDULES),
                   help="learning-rate schedule: constant (default); step: eta*gamma every "
                        "--step-size epochs; plateau: halve eta after --patience epochs "
                        "without better validation accuracy, stop when it has fallen "
                        "--min-eta-factor times (the book's chapter 3; needs --validation)")
    g.add_argument("--step-size", type=int, help=f"default {d.step_size}")
    g.add_argument("--gamma", type=float, help=f"default {d.gamma}")
    g.add_argument("--min-eta-factor", type=float, help=f"default {d.min_eta_factor:g}")
    g.add_argument("--patience", type=int,
                   help=f"epochs without improvement for --early-stopping and the plateau "
                        f"schedule (default {d.patience})")
    g.add_argument("--early-stopping", action=argparse.BooleanOptionalAction,
                   help="stop when --monitor has not improved for --patience epochs, keep the "
                        "best weights (needs --validation)")
    g.add_argument("--monitor", choices=list(MONITORS),
                   help="what early stopping watches (default val_accuracy)")
    g.add_argument("--dropout", type=float, metavar="P",
                   help="drop hidden neurons with probability P (default 0)")
    g.add_argument("--shift", type=int, metavar="PIXELS",
                   help="augment images by random shifts of up to PIXELS (default 0)")
    g.add_argument("--monitor-training-accuracy", action=argparse.BooleanOptionalAction,
                   help="also measure accuracy on the training data each epoch")
    g = p.add_argument_group("speed")
    g.add_argument("--workers", type=_int_at_least(1, "an integer >= 1"), metavar="N",
                   help="processes that share each mini-batch's backprop, one CPU each "
                        "(default 1; Linux on x86-64). The same weights to rounding (with "
                        "--dropout/--shift: other random draws); faster from mini-batches of "
                        "about 50 up, slower at 10")
    g = p.add_argument_group("output")
    g.add_argument("--save", metavar="PATH",
                   help="write the model (a checkpoint) to PATH after every epoch, with its "
                        "history as PATH's stem + .history.json/.csv (directories are created; "
                        "an existing PATH is refused unless --overwrite)")
    g.add_argument("--overwrite", action="store_true",
                   help="let --save replace an existing file")
    g.add_argument("--resume", metavar="PATH",
                   help="continue the run saved in PATH (saving back to it unless --save "
                        "says otherwise); the network, seed, data set and split come from it "
                        "(--dataset only to say where a moved data file is now)")
    g.add_argument("--json", action="store_true", help="one JSON object per epoch on stdout")
    g.add_argument("--quiet", action="store_true", help="no progress bar and no notes")
    g.add_argument("--diagnostics", action=argparse.BooleanOptionalAction,
                   help="record per-layer gradient/activation statistics in the history and "
                        "warn about saturation, vanishing or exploding gradients (a --resume "
                        "keeps what the checkpoint did unless told)")
    g.add_argument("--plot", metavar="DIR", help="draw the run's plots into DIR at the end "
                                                 "(needs --save and matplotlib)")
    p.set_defaults(func=cmd_train)


def _add_evaluate(sub, common):
    p = sub.add_parser(
        "evaluate", parents=[common], formatter_class=_Formatter,
        help="accuracy, per-class accuracy and confusion matrix of a saved model",
        description="Evaluate a saved model on a data set's test (or validation, or training) "
                    "split: accuracy, accuracy per class and the confusion matrix.",
        epilog="""examples:
  bprop evaluate runs/digits/model.npz               # the data set it was trained on
  bprop evaluate model.npz --dataset fashion --json
  bprop evaluate model.npz --split validation""")
    p.add_argument("model", metavar="MODEL", help="a model file written by bprop train --save")
    _add_dataset_flags(p)
    p.add_argument("--split", choices=["test", "validation", "train"], default="test",
                   help="which part of the data (default test)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_evaluate)


def _add_dataset_flags(p):
    p.add_argument("--dataset", metavar="NAME|PATH", type=_name_or_path,
                   help="data set (default: the one the model was trained on, from its file)")
    p.add_argument("--data-dir", metavar="DIR", type=_name_or_path,
                   help="where the mnist/fashion IDX files are")


def _add_predict(sub, common):
    p = sub.add_parser(
        "predict", parents=[common], formatter_class=_Formatter,
        help="classify image files (PNG, JPEG, .npy) or a data set's test examples",
        description="""Classify pictures with a saved model, printing the predicted class and
its probability for each file:

  digit.png  predicted 3  probability 0.9712

A picture of any size is prepared the way MNIST's digits were: grey levels, inverted
when the ink is darker than the paper, the paper's grey and noise taken away, cropped to
the ink, fitted into a box keeping its aspect
ratio (20x20 in a 28x28 field for MNIST; the box is measured from the training images
and stored in the model, e.g. the whole 8x8 frame for scikit-learn's digits), centred by
its centre of mass, values in [0, 1]. The model must take a square image. A .npy file
holds a vector of the model's input size or a 2-D image (values in [0, 1] or bytes).
"probability" is the softmax output, or a sigmoid or ReLU output divided by its sum;
identity and tanh outputs are shown as they are, as "output". A file that cannot be
read or prepared (blank, the wrong size) gets an error line of its own and the others are
still classified (exit status 2).

With --dataset and/or --count K, predicts the first K examples of a data set's test split
instead and prints the true class beside the predicted one.""",
        epilog="""examples:
  bprop predict runs/digits/model.npz seven.png three.jpg
  bprop predict runs/digits/model.npz --count 5       # 5 test digits of its data set
  bprop predict model.npz x.npy --json --show""")
    p.add_argument("model", metavar="MODEL", help="a model file written by bprop train --save")
    p.add_argument("files", metavar="FILE", nargs="*", help="PNG/JPEG (needs Pillow) or .npy")
    _add_dataset_flags(p)
    p.add_argument("--count", type=_positive_int, metavar="K",
                   help="with a data set: how many test examples (default 10)")
    p.add_argument("--json", action="store_true", help="one JSON object per input")
    p.add_argument("--show", action="store_true",
                   help="draw each prepared input as text (to check the preparation); "
                        "with --json, as the object's \"drawing\", a list of rows")
    p.set_defaults(func=cmd_predict)


def _add_gradcheck(sub, common):
    p = sub.add_parser(
        "gradcheck", parents=[common], formatter_class=_Formatter,
        help="check backprop against finite differences, and time both",
        description="""Compare backpropagation's gradient with central finite differences on
a small random network, layer by layer (relative error |g - g'| / (|g| + |g'|), in the
2-norm or of the largest entry, whichever is worse), and
measure how much faster backprop is: it needs one forward and one backward pass, finite
differences two forward passes per parameter (the chapter's "In what sense is
backpropagation a fast algorithm?"). Exit status 0 when the largest error is below --tol,
1 when it is not.""",
        epilog="""examples:
  bprop gradcheck --sizes 4 5 3
  bprop gradcheck --sizes 64 100 10 --activation relu --output-activation softmax \\
      --cost log-likelihood --examples 20""")
    p.add_argument("--sizes", type=_positive_int, nargs="+", default=[4, 5, 3], metavar="N",
                   help="layer widths, input first (default 4 5 3)")
    p.add_argument("--activation", type=_activation, nargs="+", default=["sigmoid"],
                   metavar="NAME", help=f"hidden layers' activation(s) "
                                        f"({_HIDDEN_ACT_NAMES}; default sigmoid)")
    p.add_argument("--output-activation", type=_activation, metavar="NAME",
                   help="default sigmoid; softmax with --cost log-likelihood")
    p.add_argument("--cost", type=_cost, default="quadratic", metavar="NAME",
                   help=f"{_COST_NAMES} (default quadratic)")
    p.add_argument("--examples", type=_positive_int, default=7, metavar="M",
                   help="examples in the batch (default 7)")
    p.add_argument("--seed", type=_nonnegative_int, default=0, help="default 0")
    p.add_argument("--eps", type=float, default=1e-5, help="finite-difference step (default 1e-5)")
    p.add_argument("--tol", type=_positive_float, default=1e-6,
                   help="largest relative error that passes (default 1e-6)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_gradcheck)


def _add_info(sub, common):
    p = sub.add_parser(
        "info", parents=[common], formatter_class=_Formatter,
        help="what a model file holds: layers, cost, parameters, settings, history",
        description="Show a model file's layers, activations, cost, parameter count, the "
                    "data set and training settings it was trained with, and its history.",
        epilog="examples:\n  bprop info runs/digits/model.npz\n  bprop info model.npz --json")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--json", action="store_true", help="print the header as JSON")
    p.set_defaults(func=cmd_info)


def _add_plot(sub, common):
    p = sub.add_parser(
        "plot", parents=[common], formatter_class=_Formatter,
        help="draw a training run's plots (needs matplotlib)",
        description="Draw the plots of a saved run (cost and accuracy per epoch, and the "
                    "diagnostics if it was trained with --diagnostics) and print their paths.",
        epilog="examples:\n  bprop plot runs/digits/model.npz        # into runs/digits/model-plots/")
    p.add_argument("run", metavar="RUN", help="a model file written by bprop train --save")
    p.add_argument("--out", metavar="DIR",
                   help="output directory (default: <model stem>-plots beside the model)")
    _add_test_set_flag(p)
    p.set_defaults(func=cmd_plot)


def _add_report(sub, common):
    p = sub.add_parser(
        "report", parents=[common], formatter_class=_Formatter,
        help="write an HTML report of a training run",
        description="Write an HTML report of a saved run (settings, history, plots, "
                    "diagnostics) and print its path.",
        epilog="examples:\n  bprop report runs/digits/model.npz      # runs/digits/model-report.html")
    p.add_argument("run", metavar="RUN", help="a model file written by bprop train --save")
    p.add_argument("--out", metavar="PATH",
                   help="output file (default: <model stem>-report.html beside the model)")
    _add_test_set_flag(p)
    p.set_defaults(func=cmd_report)


def _add_test_set_flag(p):
    p.add_argument("--dataset", metavar="NAME|PATH", type=_name_or_path,
                   help="the data set whose test split the confusion matrix and most-wrong "
                        "images use (default: the one the model file names, if any)")


# ==============================================================================================
# train
# ==============================================================================================
def cmd_train(args):
    """``bprop train``: see the subcommand's --help.

    Order matters for the user: every setting is checked, and the --save path tried, before
    the data is loaded, so that a typo fails in a second rather than after an epoch.
    """
    # With argument_default=SUPPRESS, the namespace holds only the flags actually given.
    given = {k: v for k, v in vars(args).items() if k not in ("func", "command", "debug")}
    opts, checkpoint = _train_options(given)
    quiet = opts["quiet"]
    config, shift = _train_config(given, checkpoint)
    try:
        workers = check_workers(opts["workers"])
    except ConfigError as e:
        raise ConfigError(f"--{e}") from None

    save_path = opts["save"] or opts["resume"]
    if save_path is not None:
        _check_not_the_data(save_path, opts["dataset"])
        _check_save_paths(save_path, "--save" if opts["save"] else "--resume", opts["resume"],
                          opts["overwrite"])
    plots = _optional("bprop.plots", "--plot", needs="matplotlib") \
        if opts["plot"] is not None else None
    if plots is not None:
        _check_apart(opts["plot"], "--plot", (save_path, *model_io.history_paths(save_path)))
        _check_directory(os.path.abspath(opts["plot"]), "--plot", opts["plot"])

    try:
        data = datasets.load(opts["dataset"], validation=opts["validation"],
                             dtype=np.dtype(checkpoint.net.dtype if checkpoint else opts["dtype"]),
                             seed=opts["seed"], data_dir=opts["data_dir"],
                             train_size=opts["train_size"])
    except ConfigError as e:        # "validation=0.5" is the library's name for --validation
        raise ConfigError(_flag_names(str(e), ("validation", "train_size"))) from None
    if checkpoint is not None:
        net = checkpoint.net
        _check_fits(net, data, opts["resume"])
    else:
        net = _build_network(opts, data)
    config = _fit_config_to_data(config, shift, data)
    optimizer = optimizer_for(config)
    history, start_epoch = History(), 0
    if checkpoint is not None:
        history, start_epoch = checkpoint.history, int(checkpoint.epoch)
        _restore_optimizer(optimizer, checkpoint, net, opts["resume"], quiet)
        if not quiet and config.optimizer != "sgd" and (config.lmbda or config.l1) and \
                checkpoint.meta.get("regularisation") != model_io.REGULARISATION:
            _note(f"note: {opts['resume']} was trained by an older bprop that applied "
                  f"--lmbda/--l1 outside {config.optimizer}'s update; from here on they are "
                  f"part of the gradient it follows, so the run will not match an "
                  f"uninterrupted run of that version")
    extra = _data_header(opts, data, checkpoint)

    run = _Run(net, config, history, optimizer, save_path, extra, opts["json"],
               _Progress.make(quiet, start_epoch + 1, config.epochs))
    if checkpoint is not None and _same_file(save_path, opts["resume"]):
        run.saved_epoch = start_epoch           # the file holds that much until overwritten
    stopped = None if checkpoint is None else stopped_for_good(checkpoint.history, config)
    stopped = None if stopped is None else "--" + stopped.replace("_", "-")
    nothing_left = start_epoch >= config.epochs or stopped is not None
    if quiet:
        pass
    elif stopped:
        _note(f"note: nothing to train: {opts['resume']} stopped early after epoch "
              f"{start_epoch} ({history.stopped_early}); change {stopped} to go on")
    elif nothing_left:
        held = (f"all {start_epoch} epochs" if start_epoch == config.epochs else
                f"{start_epoch} epochs, more than --epochs {config.epochs}")
        _note(f"note: nothing to train: {opts['resume']} already holds {held} (raise --epochs "
              f"to continue)")
    else:
        _note(_describe_run(net, data, config, start_epoch, save_path, workers))
    if stopped:         # train nothing; a --save copy keeps the run's own settings
        run.config = _fit_config_to_data(*_train_config({}, checkpoint), data)
        config = dataclasses.replace(config, epochs=start_epoch)
    elif nothing_left:  # a --save copy holds what the checkpoint holds, its settings too
        config = run.config = dataclasses.replace(config, epochs=start_epoch)
    elif checkpoint is not None:
        history.stopped_early = None    # going on with new stopping settings
    callbacks = [Diagnostics()] if opts["diagnostics"] else []
    try:
        train(net, data.X_train, data.y_train, config,
              validation=None if data.X_val is None else (data.X_val, data.y_val),
              test=(data.X_test, data.y_test), on_epoch_end=run.end_epoch,
              callbacks=callbacks, progress=run.progress, history=history,
              start_epoch=start_epoch, optimizer=optimizer, workers=workers)
    except KeyboardInterrupt as e:
        run.progress.close()
        _note(f"{_stopped_by(e)}. {run.where_saved()}")
        return _stop_status(e)
    except FloatingPointError as e:
        run.progress.close()
        raise FloatingPointError(f"{e}. {run.where_saved()}") from None
    except WorkerError as e:
        run.progress.close()
        raise WorkerError(f"{e}. {run.where_saved()}") from None

    saved_before = run.saved_epoch
    if save_path is not None and (config.early_stopping and not nothing_left
                                  or run.saved_epoch is None):
        # Early stopping put the best epoch's weights back after the last checkpoint; and a
        # run with nothing left to train still writes its --save file (a new file only:
        # the --resume file already holds what it would write).
        run.save(run.saved_epoch or start_epoch)
    if history.stopped_early and not quiet and not stopped:
        _note(f"stopped early: {history.stopped_early}")
    if opts["diagnostics"]:
        for warning in explain(history, cost=net.cost.name, first_epoch=1):
            _note(f"warning: {warning}")
    if save_path is not None and not quiet and not (nothing_left and saved_before is not None):
        _note(f"model saved to {save_path}")
    if plots is not None:
        for path in plots.plot_run(save_path, opts["plot"]):
            if not quiet:
                _note(f"plot written to {path}")
    return 0


def _same_file(a, b):
    """Whether paths a and b name one file: the same inode when both exist (a hard link
    too), else the same path once links are resolved."""
    if a is None or b is None:
        return False
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def _train_config(given, checkpoint):
    """``(TrainConfig, shift)`` from the given flags over a checkpoint's settings. The shift
    is checked against the images once the data is loaded (:func:`_fit_config_to_data`)."""
    fields = dict(checkpoint.meta.get("config") or {}) if checkpoint else {}
    fields.update({k: v for k, v in given.items() if k in _CONFIG_FIELDS})
    shift = fields.pop("shift", 0)
    check_int(shift, "--shift", minimum=0)
    fields.pop("image_shape", None)
    try:
        return TrainConfig(**fields), shift
    except ConfigError as e:        # name the flag, not the TrainConfig field
        raise ConfigError(_flag_names(str(e))) from None


def _fit_config_to_data(config, shift, data):
    """The config with the data's image shape and the shift, refusing what the data cannot
    give (no images to shift, no validation set to stop early on)."""
    image_shape = data.image_shape if data.image_shape and len(data.image_shape) == 2 else None
    if shift and image_shape is None:
        raise ConfigError(f"--shift needs image data; {data.name} has no image shape")
    if shift and shift >= min(image_shape):
        raise ConfigError(f"--shift {shift} would move the {image_shape[0]}x{image_shape[1]} "
                          f"images of {data.name} out of the picture; give less than "
                          f"{min(image_shape)}")
    if data.X_val is None and (config.early_stopping or config.schedule == "plateau"):
        what = "--early-stopping" if config.early_stopping else "--schedule plateau"
        raise ConfigError(f"{what} needs a validation set: add --validation (e.g. 0.1)")
    return dataclasses.replace(config, shift=shift, image_shape=image_shape)


def _restore_optimizer(optimizer, checkpoint, net, path, quiet):
    """Load a checkpoint's optimiser state (velocities, moments) into ``optimizer`` when it
    is the same kind; a different optimiser starts afresh, with a note."""
    saved = (checkpoint.meta.get("optimizer") or {}).get("name")
    if saved == optimizer.name:
        try:
            optimizer.check_state(checkpoint.optimizer_state, (*net.weights, *net.biases))
        except DataError as e:
            raise ModelFileError(f"{path}: {e}") from None
        optimizer.load_state(checkpoint.optimizer_state)
    elif checkpoint.optimizer_state and not quiet:
        _note(f"note: the checkpoint's {saved} state is dropped (now {optimizer.name})")


def _train_options(given):
    """``(opts, checkpoint)``: the given flags over the defaults, or over what a --resume
    checkpoint recorded (data set, split, seed); checkpoint is None for a new run."""
    opts = {**_TRAIN_DEFAULTS, **given}
    for flag in ("save", "resume", "plot", "data_dir"):
        if opts[flag] is not None and not str(opts[flag]).strip():
            raise ConfigError(f"--{flag.replace('_', '-')} needs a path; got an empty string")
    if opts["resume"] is None and given.get("epochs") == 0:
        raise ConfigError("--epochs must be at least 1 (0 would train nothing)")
    if opts["plot"] is not None and not (opts["save"] or opts["resume"]):
        raise ConfigError("--plot needs --save (the plots are drawn from the saved run)")
    if opts["resume"] is None:
        return opts, None
    checkpoint = model_io.load_checkpoint(opts["resume"])
    _check_resume(checkpoint, given, opts["resume"])
    info = _data_info(checkpoint.meta)
    for key, field in (("dataset", "name"), ("data_dir", "data_dir"),
                       ("validation", "validation"), ("seed", "seed"),
                       ("train_size", "train_size")):
        if key not in given and info.get(field) is not None:
            opts[key] = info[field]
    if "diagnostics" not in given and any(r.diagnostics for r in checkpoint.history.records):
        opts["diagnostics"] = True      # the history goes on recording what it recorded
    if "data_dir" not in given and not datasets.uses_data_dir(opts["dataset"]):
        opts["data_dir"] = None     # stored by older versions, which ignored it for these
    return opts, checkpoint


class _Run:
    """What `train` does at each epoch's end: checkpoint, then print the epoch's line."""

    def __init__(self, net, config, history, optimizer, save_path, extra, as_json, progress):
        self.net, self.config, self.history, self.optimizer = net, config, history, optimizer
        self.save_path, self.extra, self.as_json = save_path, extra, as_json
        self.progress = progress
        self.saved_epoch = None

    def end_epoch(self, record):
        self.progress.close()
        k = record.epoch + 1              # epochs done; record.epoch counts from 0
        # a Ctrl-C (or SIGTERM/SIGHUP) just after the model file was renamed into place would
        # leave a checkpoint newer than the line that reports it: held for the few ms it takes
        with held_stops():
            if self.save_path is not None:
                self.save(k)
            if self.as_json:
                fields = dataclasses.asdict(record)
                fields.pop("epoch")
                _json_line({"epoch": k, "epochs": self.config.epochs, **fields})
            else:
                _out(_epoch_line(record, k, self.config))
        self.progress.epoch = k + 1

    def save(self, k):
        """Checkpoint after k epochs: the model (atomically), then the history files."""
        with held_stops():
            try:
                model_io.save(self.net, self.save_path, config=self.config,
                              history=self.history, epoch=k, optimizer=self.optimizer,
                              extra=self.extra)
            except OSError as e:        # disk full, quota, file size limit
                held = "what it held before" if self.saved_epoch is None \
                    else f"epoch {self.saved_epoch}"
                raise _MachineFailure(f"cannot save epoch {k} to {self.save_path}: "
                                   f"{e.strerror or e}; the file still holds {held}") from e
            self.saved_epoch = k
            try:
                model_io.save_history(self.history, self.save_path)
            except OSError as e:
                raise _MachineFailure(f"cannot write the history files beside {self.save_path}: "
                                   f"{e.strerror or e}; the model file holds epoch {k}") from e

    def where_saved(self):
        if self.save_path is None:
            return "Nothing was saved (no --save)."
        if self.saved_epoch is None:
            return f"{self.save_path} was not written by this run (no epoch finished)."
        return (f"{self.save_path} holds epoch {self.saved_epoch} of {self.config.epochs}; "
                f"continue with: bprop train --resume {self.save_path}")


def _epoch_line(record, k, config):
    """``epoch 3/30  cost 0.1234  val_acc 0.9512  test_acc 0.9490  time 0.45s``."""
    parts = [f"epoch {k}/{config.epochs}"]
    for label, value in (("cost", record.train_cost), ("train_acc", record.train_accuracy),
                         ("val_acc", record.val_accuracy), ("test_acc", record.test_accuracy)):
        if value is None:
            continue
        if label == "cost" and value != 0 and not 1e-4 <= abs(value) < 1e4:
            parts.append(f"{label} {value:.4g}")   # 1.456e+83, not 83 digits
        else:
            parts.append(f"{label} {value:.4f}")
    if config.schedule != "constant":
        parts.append(f"eta {record.eta:g}")
    parts.append(f"time {record.seconds:.3g}s")   # 3 significant digits: 0.00482s, 12.3s
    return "  ".join(parts)


def _flag_names(message, fields=_CONFIG_FIELDS):
    """A library message with the setting names in ``fields`` written as the flags that set
    them, where they name the setting ("eta must be ...", "validation=0.5"), not where the
    word is prose ("its own validation set")."""
    names = "|".join(sorted(fields, key=len, reverse=True))
    return re.sub(rf"(?<![\w-])({names})(?==| must)",
                  lambda m: "--" + m.group(1).replace("_", "-"), message)


def _check_resume(checkpoint, given, path):
    """Refuse flags that would change what a resumed run was started with."""
    meta, net = checkpoint.meta, checkpoint.net
    if "config" not in meta or "epoch" not in meta:
        raise ConfigError(f"{path} is a model but not a training checkpoint (no settings or "
                          f"epoch count); train a new model instead")
    info = _data_info(meta)
    stored = {"hidden": net.sizes[1:-1], "output_activation": net.activation_names[-1],
              "cost": net.cost.name, "init": net.init, "dtype": net.dtype.name,
              "seed": info.get("seed"), "validation": info.get("validation"),
              "train_size": info.get("train_size") or "all"}
    hidden_acts = net.activation_names[:-1]
    stored_name = info.get("name")
    if given.get("dataset") is not None and stored_name is not None \
            and not _same_dataset(given["dataset"], stored_name):
        if stored_name in datasets.AVAILABLE or os.path.exists(stored_name):
            raise ConfigError(f"--dataset {given['dataset']} differs from {path}'s "
                              f"{stored_name}; a resumed run keeps the data it started with")
        if not given.get("quiet"):      # the file moved: the user says where it is now
            _note(f"note: {path}'s data set {stored_name} is gone; continuing on "
                  f"{given['dataset']}, which must hold the same data")
    for key in _FIXED_ON_RESUME:
        if key not in given:
            continue
        value = given[key]
        if key == "activation":
            same = (value * len(hidden_acts) if len(value) == 1 else value) == hidden_acts
            stored_value = hidden_acts
        else:
            stored_value = stored[key]
            same = value == stored_value
        if not same:
            flag = "--" + key.replace("_", "-")
            raise ConfigError(f"{flag} {_show(value)} differs from {path}'s {_show(stored_value)}; "
                              f"a resumed run keeps the network and data split it started with")


def _show(value):
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


def _build_network(opts, data):
    """A new Network sized from the data: [n_features, *hidden, n_classes]."""
    hidden = opts["hidden"]
    sizes = [data.n_features, *hidden, data.n_classes]
    return Network(sizes, _layer_activations(opts["activation"], len(hidden),
                                             opts["output_activation"], opts["cost"]),
                   opts["cost"], opts["init"], rng=opts["seed"], dtype=opts["dtype"])


def _layer_activations(acts, n_hidden, output, cost):
    """Every layer's activation from --activation (one name, or one per hidden layer) and
    --output-activation (default: softmax for the log-likelihood cost, else sigmoid)."""
    if len(acts) != 1 and len(acts) != n_hidden:
        raise ConfigError(f"--activation takes one name, or one per hidden layer ({n_hidden}); "
                          f"got {len(acts)}")
    hidden_acts = acts * n_hidden if len(acts) == 1 else acts
    return [*hidden_acts, output or ("softmax" if cost == "log-likelihood" else "sigmoid")]


def _data_header(opts, data, checkpoint):
    """``{"dataset": {...}}``: the model-file header field (``save(extra=...)``) that lets
    evaluate, predict, plot and report reload the data a model was trained on.

    name: the canonical data set name, or the absolute path of the user's file or directory;
    validation, seed, train_size: as passed to ``datasets.load``; data_dir: the same, made
    absolute so that the model file works from any directory; n_classes, image_shape: the
    data's; box: the side of the box its images' ink fills (:func:`bprop.predict.typical_box`),
    for preparing pictures like the training images.
    """
    info = {"name": _dataset_id(opts["dataset"]), "validation": opts["validation"], "seed": opts["seed"],
            "train_size": opts["train_size"],
            "data_dir": None if opts["data_dir"] is None else
            os.path.abspath(os.path.expanduser(opts["data_dir"])),
            "n_classes": data.n_classes,
            "image_shape": list(data.image_shape) if data.image_shape else None}
    stored = _data_info(checkpoint.meta) if checkpoint is not None else {}
    if "box" in stored:
        info["box"] = stored["box"]
    elif data.image_shape and len(data.image_shape) == 2 and \
            data.image_shape[0] == data.image_shape[1]:
        info["box"] = typical_box(data.X_train, data.image_shape)
    return {"dataset": info}


def _dataset_id(dataset):
    """What the header stores for ``--dataset``: the canonical name of a built-in data set,
    else the absolute path the user gave (``./fashion``, a folder of one's own IDX files,
    is a path, not the built-in Fashion-MNIST)."""
    name = datasets.canonical_name(dataset)
    if name in datasets.AVAILABLE:
        return name
    return os.path.abspath(os.path.expanduser(dataset))


def _data_info(meta):
    """The header's ``dataset`` dict (see :func:`_data_header`); {} when it has none."""
    info = meta.get("dataset")
    return info if isinstance(info, dict) else {}


def _describe_run(net, data, config, start_epoch, save_path, workers=1):
    n_val = 0 if data.X_val is None else len(data.X_val)
    acts = "/".join(dict.fromkeys(net.activation_names))
    what = f"resuming at epoch {start_epoch + 1}" if start_epoch else "training"
    return (f"{what} {net.sizes} ({acts}, {net.cost.name} cost, {net.dtype.name}) on "
            f"{data.name}: {len(data.X_train)} training, {n_val} validation, "
            f"{len(data.X_test)} test examples; {config.epochs} "
            f"epoch{'s' if config.epochs != 1 else ''}, mini-batch "
            f"{config.mini_batch_size}, eta {config.eta:g}, {config.optimizer}"
            + (f", {workers} worker processes" if workers > 1 else "")
            + (f"; saving to {save_path}" if save_path else ""))


def _check_writable(path, flag="--save", shown=None):
    """Fail before any work, not after it, when the file ``path`` cannot be written; makes
    its directory. ``shown``: the path the user gave, when ``path`` is a file beside it."""
    shown = path if shown is None else shown
    example = "model.npz" if flag in ("--save", "--resume") else "out"
    if path != shown and os.path.isdir(path):
        raise ConfigError(f"cannot write {flag} {shown}: {path} beside it is a directory")
    if os.path.isdir(path) or path.endswith((os.sep, "/")):
        raise ConfigError(f"{flag} {shown} is a directory; give a file name, e.g. "
                          f"{os.path.join(path, example)}")
    directory = os.path.dirname(os.path.realpath(path))
    name = os.fsencode(os.path.basename(path))
    try:
        limit = os.pathconf(directory, "PC_NAME_MAX")
    except (OSError, ValueError):   # not made yet
        limit = 255
    if len(name) > limit:
        what = "its name" if path == shown else f"the file {path} beside it"
        raise ConfigError(f"cannot write {flag} {shown}: {what} is {len(name)} bytes long; "
                          f"the file system allows {limit}")
    try:
        os.stat(path)
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.ENAMETOOLONG):    # a symbolic link loop, ...
            raise ConfigError(f"cannot write {flag} {shown}: {e.strerror}") from None
    if os.path.exists(path) and not os.path.isfile(path):
        raise ConfigError(f"{flag} {shown} exists and is not a regular file")
    _check_directory(directory, flag, shown)


def _check_save_paths(save_path, flag, resume, overwrite):
    """The model file and the history files beside it: writable, and no one's data lost.

    An existing file is replaced only when it is the --resume file or with --overwrite."""
    paths = (save_path, *model_io.history_paths(save_path))
    for path in paths:
        _check_writable(path, flag, save_path)
    if flag == "--resume" or overwrite or _same_file(save_path, resume):
        return
    if resume is not None:      # a copy of a run: the --resume file's history is not lost
        paths = [p for p in paths if not _same_file(p, resume)]
    taken = [p for p in paths if os.path.isfile(p) and os.path.getsize(p) > 0]
    if not taken:               # an empty file (mktemp's) holds nothing to lose
        return
    if taken[0] != save_path:
        raise ConfigError(f"--save {save_path} would replace {taken[0]}, another run's history; "
                          f"give --overwrite to replace it, or another name")
    try:
        checkpoint = model_io.load_checkpoint(save_path)
    except (BpropError, OSError, ValueError):
        held = "a file that is not a bprop model;"
    else:
        held = (f"a model of {int(checkpoint.epoch)} epochs; continue it with --resume "
                f"{save_path}, or" if "config" in checkpoint.meta and "epoch" in checkpoint.meta
                else "a bprop model;")
    raise ConfigError(f"--save {save_path} already exists ({held} give --overwrite to "
                      f"replace it)")


def _check_apart(directory, flag, files):
    """Refuse a directory to be made at the path of one of the ``files`` to be written."""
    for f in files:
        if _same_file(directory, f):
            raise ConfigError(f"{flag} {directory} is the path of {f}, which this run writes; "
                              f"give another directory")


def _check_not_the_data(save_path, dataset):
    """Refuse a --save file (or its history files beside it) that is the --dataset file."""
    data_path = _dataset_id(dataset)
    if data_path in datasets.AVAILABLE or not os.path.isfile(data_path):
        return
    for written in (save_path, *model_io.history_paths(save_path)):
        if _same_file(written, data_path):
            raise ConfigError(f"--save {save_path} would overwrite the --dataset file "
                              f"{dataset}; give the model another name")


def _check_directory(directory, flag, given):
    """Make ``directory`` if need be and check that files can be created in it."""
    try:
        os.makedirs(directory, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except (FileExistsError, NotADirectoryError):
        blocker = next((p for p in _parents(directory) if os.path.exists(p)
                        and not os.path.isdir(p)), directory)
        raise ConfigError(f"cannot write {flag} {given}: {blocker} is a file, not a "
                          f"directory") from None
    except OSError as e:
        raise ConfigError(f"cannot write {flag} {given}: {e.strerror or e} "
                          f"({directory})") from None


def _parents(directory):
    """``directory`` and its ancestors, the top one first."""
    parts = []
    while True:
        parts.append(directory)
        parent = os.path.dirname(directory)
        if parent == directory:
            return parts[::-1]
        directory = parent


def _check_fits(net, data, model_path):
    if net.sizes[0] != data.n_features or net.n_classes < data.n_classes:
        raise ShapeError(f"{model_path} takes {net.sizes[0]} inputs and gives {net.sizes[-1]} "
                         f"output{'s' if net.sizes[-1] != 1 else ''}, but {data.name} has "
                         f"{data.n_features} features and {data.n_classes} classes")


class _Progress:
    """A per-epoch progress bar on stderr: tqdm if installed, else a plain one.

    Called by ``train`` as ``progress(examples_done, n)``; ``close()`` at each epoch's end.
    """

    def __init__(self, tqdm=None, enabled=True, epoch=1, epochs=1):
        self.tqdm = tqdm
        self.enabled = enabled
        self.bar = None
        self.epoch, self.epochs = epoch, epochs
        self.width = 0

    @classmethod
    def make(cls, quiet, epoch, epochs):
        """A bar when stderr is a terminal and not --quiet; otherwise one that does nothing."""
        if quiet or not sys.stderr.isatty():
            return cls(enabled=False)
        try:
            from tqdm import tqdm
        except ImportError:
            tqdm = None
        return cls(tqdm, epoch=epoch, epochs=epochs)

    def __call__(self, done, n):
        if not self.enabled:
            return
        label = f"epoch {self.epoch}/{self.epochs}"
        if self.tqdm is not None:
            if self.bar is None:
                self.bar = self.tqdm(total=n, desc=label, unit="ex", leave=False,
                                     file=sys.stderr, dynamic_ncols=True)
            self.bar.update(done - self.bar.n)
            return
        filled = 30 * done // n
        line = f"\r{label} [{'#' * filled}{'.' * (30 - filled)}] {100 * done // n:3d}%"
        self.width = len(line)
        sys.stderr.write(line)
        sys.stderr.flush()
        self.bar = True

    def close(self):
        if self.bar is None:
            return
        if self.tqdm is not None:
            self.bar.close()
        else:
            sys.stderr.write("\r" + " " * self.width + "\r")
            sys.stderr.flush()
        self.bar = None


# ==============================================================================================
# evaluate, predict
# ==============================================================================================
def cmd_evaluate(args):
    """``bprop evaluate``: accuracy, per-class accuracy, confusion matrix."""
    checkpoint = model_io.load_checkpoint(args.model)
    net = checkpoint.net
    data = _data_for_model(args, checkpoint, args.model)
    X, y = {"test": (data.X_test, data.y_test), "train": (data.X_train, data.y_train),
            "validation": (data.X_val, data.y_val)}[args.split]
    if X is None:
        own = args.dataset is None or _same_dataset(args.dataset,
                                                    _data_info(checkpoint.meta).get("name"))
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
        _json_line({"model": args.model, "dataset": data.name, "split": args.split,
                    "examples": len(y), "correct": correct, "accuracy": accuracy,
                    "per_class_accuracy": per_class, "per_class_total": totals,
                    "confusion": confusion})
        return 0
    _out(f"model {args.model}  dataset {data.name}  split {args.split}  examples {len(y)}")
    _out(f"accuracy {accuracy:.4f}  ({correct} / {len(y)})")
    _out()
    names = data.class_names if data.class_names and len(data.class_names) == k else None
    _out("class  accuracy  correct  total" + ("  name" if names else ""))
    for c in range(k):
        acc = "-" if per_class[c] is None else f"{per_class[c]:.4f}"
        line = f"{c:<5}  {acc:<8}  {correct_per_class[c]:<7}  {totals[c]:<5}"
        _out((line + (f"  {names[c]}" if names else "")).rstrip())
    _out()
    _out("confusion matrix (rows: true class, columns: predicted class)")
    width = max(len(str(int(confusion.max()))), len(str(k - 1))) + 1
    _out("     " + "".join(f"{c:>{width}}" for c in range(k)))
    for c in range(k):
        _out(f"{c:>4} " + "".join(f"{v:>{width}}" for v in confusion[c]))
    return 0


def cmd_predict(args):
    """``bprop predict``: classify files, or a data set's first test examples."""
    checkpoint = model_io.load_checkpoint(args.model)
    net, meta = checkpoint.net, checkpoint.meta
    if args.files and (args.dataset is not None or args.count is not None):
        raise ConfigError("give FILEs or --dataset/--count, not both")
    if args.files:
        return _predict_files(args, net, meta)
    if args.dataset is None and args.count is None:
        raise ConfigError("nothing to predict: give image or .npy FILEs, or --dataset NAME "
                          "[--count K] for a data set's test examples")
    data = _data_for_model(args, checkpoint, args.model)
    count = min(args.count or 10, len(data.X_test))
    X, y = data.X_test[:count], data.y_test[:count]
    scores, kind = output_scores(net, X)
    predicted = np.argmax(scores, axis=1)
    side = _side_or_none(net, meta)
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
        _out(f"correct {right} / {count}")
    return 0


def _predict_files(args, net, meta):
    """Each file's prediction; a file that cannot be read or prepared (blank, the wrong
    size, not an image) gets an error line of its own, the others are still predicted, and
    the exit status is then 2."""
    info = _data_info(meta)
    image_shape, box = info.get("image_shape"), info.get("box")
    read = []
    for f in args.files:
        try:
            read.append((f, _read_named(f, net.sizes[0], image_shape, box)))
        except BAD_INPUT as e:
            read.append((f, e))
    good = [(f, x) for f, x in read if isinstance(x, np.ndarray)]
    if good:
        scores, kind = output_scores(net, np.stack([x for _, x in good]))
        predicted = dict(zip([f for f, _ in good], scores))
    side = _side_or_none(net, meta)
    names = datasets.CLASS_NAMES.get(datasets.canonical_name(info.get("name") or ""))
    for f, x in read:
        if not isinstance(x, np.ndarray):
            _err(_one_line(x))
            continue
        s = predicted[f]
        p = int(np.argmax(s))
        record = {"file": f, "predicted": p, kind: float(s[p]), "scores": s,
                  **_names(names, predicted=p)}
        _print_prediction(args, side, x, record,
                          f"{f}  predicted {_named(p, names)}  {kind} {_number(s[p])}")
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
        _json_line(dict(record, drawing=drawing) if drawing else record)
        return
    _out(line)
    for row in drawing:
        _out(row)


def _number(v):
    """A score for a text line: 4 decimals, or 4 significant digits beyond 1e6 (an
    unbounded output that has grown huge)."""
    return f"{v:.4f}" if abs(v) < 1e6 else f"{v:.4g}"


def _read_named(path, n_inputs, image_shape, box):
    """read_input, with the file's name in any error that does not already give it."""
    try:
        return read_input(path, n_inputs, image_shape=image_shape, box=box)
    except (ShapeError, DataError) as e:
        if os.path.basename(path) in str(e):
            raise
        raise type(e)(f"{path}: {e}") from None


def _side_or_none(net, meta):
    try:
        return input_side(net.sizes[0], _data_info(meta).get("image_shape"))
    except ShapeError:
        return None


def _data_for_model(args, checkpoint, model_path):
    """The data set a model was trained on (from its header), or the one named by --dataset.

    When --dataset names the data set the model was trained on, its validation split (size
    and seed) is the model's own, so that ``--split train`` and ``--split validation`` mean
    what they meant in training; any other data set is taken whole.
    """
    info = _data_info(checkpoint.meta)
    if args.dataset is not None and not _same_dataset(args.dataset, info.get("name")):
        info = {}
    name = args.dataset if args.dataset is not None else info.get("name")
    if name is None:
        raise ConfigError(f"{model_path} does not say which data set it was trained on; "
                          f"give --dataset")
    data = datasets.load_recorded(info, name=name, data_dir=args.data_dir,
                                  dtype=checkpoint.net.dtype)
    _check_fits(checkpoint.net, data, model_path)
    return data


def _same_dataset(given, stored):
    """Whether --dataset names the data set stored in a model header (a name or a path)."""
    if stored is None:
        return False
    if datasets.canonical_name(given) == datasets.canonical_name(stored):
        return True
    try:
        return Path(given).expanduser().resolve() == Path(stored).expanduser().resolve()
    except (OSError, RuntimeError):
        return False


# ==============================================================================================
# gradcheck, info, plot, report
# ==============================================================================================
def cmd_gradcheck(args):
    """``bprop gradcheck``: backprop vs finite differences on a random network."""
    sizes = args.sizes
    if len(sizes) < 2:
        raise ConfigError(f"--sizes needs at least two layers (input and output); got {sizes}")
    activations = _layer_activations(args.activation, len(sizes) - 2, args.output_activation,
                                     args.cost)
    if not (0 < args.eps < 1):
        raise ConfigError(f"--eps must be in (0, 1); got {args.eps}")
    if sizes[-1] == 1 and get_cost(args.cost).name == "log-likelihood":
        raise ConfigError("the log-likelihood cost needs at least 2 outputs (a softmax layer); "
                          "for one output use cross-entropy")
    net = Network(sizes, activations, args.cost, "scaled-normal", rng=args.seed)
    x = net.rng.random((sizes[0], args.examples))                     # (n_in, m)
    labels = net.rng.integers(0, net.n_classes, size=args.examples)
    result = gradcheck(net, x, labels, eps=args.eps)
    ok = result.ok(args.tol)
    if args.json:
        _json_line({"sizes": sizes, "activations": net.activation_names, "cost": net.cost.name,
                    "examples": args.examples, "eps": args.eps, "tol": args.tol, "ok": ok,
                    "max_error": result.max_error,
                    "layers": [dataclasses.asdict(layer) for layer in result.layers],
                    "n_params": result.n_params, "backprop_passes": result.backprop_passes,
                    "numeric_passes": result.numeric_passes,
                    "backprop_seconds": result.backprop_seconds,
                    "numeric_seconds": result.numeric_seconds, "speedup": result.speedup})
    else:
        _out(f"gradcheck  sizes {' '.join(map(str, sizes))}  activations "
             f"{','.join(net.activation_names)}  cost {net.cost.name}  examples {args.examples}"
             f"  eps {args.eps:g}")
        for layer in result.layers:
            _out(f"layer {layer.layer}  weights {layer.weights:.2e}  biases {layer.biases:.2e}")
        _out(f"max_error {result.max_error:.2e}  tol {args.tol:g}  {'ok' if ok else 'FAILED'}")
        _out(f"params {result.n_params}  backprop {result.backprop_passes} passes "
             f"{result.backprop_seconds * 1e3:.3f} ms  finite differences "
             f"{result.numeric_passes} passes {result.numeric_seconds * 1e3:.3f} ms  "
             f"ratio {result.speedup:.1f}x")
    if not ok:
        _err(f"gradcheck failed: max relative error {result.max_error:.2e} > tol {args.tol:g}")
        return 1
    return 0


def cmd_info(args):
    """``bprop info``: what a model file holds."""
    checkpoint = model_io.load_checkpoint(args.model)
    net, meta = checkpoint.net, checkpoint.meta
    if args.json:
        header = {k: v for k, v in meta.items() if k != "rng_state"}
        header.update({"path": args.model, "sizes": net.sizes,
                       "activations": net.activation_names, "cost": net.cost.name,
                       "dtype": net.dtype.name, "n_params": net.n_params})
        _json_line(header)
        return 0
    rows = [("model", args.model), ("sizes", " ".join(map(str, net.sizes))),
            ("activations", ", ".join(net.activation_names)), ("cost", net.cost.name),
            ("dtype", net.dtype.name), ("init", net.init), ("parameters", f"{net.n_params:,}")]
    if "epoch" in meta:
        rows.append(("epochs done", str(meta["epoch"])))
    info = _data_info(meta)
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
        _out(f"{key:<{width}}  {value}")
    config = TrainConfig.from_dict(meta["config"]) if meta.get("config") else None
    if config is not None:
        _out()
        _out("training config")
        defaults = TrainConfig().to_dict()
        for key, value in meta["config"].items():
            changed = key in defaults and key != "image_shape" and defaults[key] != value
            _out(f"  {key:<26} {value}" + (f"   (default {defaults[key]})" if changed else ""))
    history = meta.get("history") or {}
    records = [EpochRecord(**r) for r in history.get("records", [])]
    if records:         # also from Python's save(net, path, history=h), with no settings
        shown = config or TrainConfig(epochs=len(records))
        _out()
        _out("history")
        for r in records:
            _out("  " + _epoch_line(r, r.epoch + 1, shown))
        if history.get("stopped_early"):
            _out(f"stopped early: {history['stopped_early']}")
        # the best epoch by validation accuracy only: picking one by test accuracy is
        # fitting the test set (the book's chapter 3)
        scored = [r for r in records if r.val_accuracy is not None]
        if scored:
            best = max(scored, key=lambda r: r.val_accuracy)
            test = ("" if best.test_accuracy is None
                    else f" (test_accuracy {best.test_accuracy:.4f})")
            _out(f"best val_accuracy {best.val_accuracy:.4f} at epoch {best.epoch + 1}{test}")
    return 0


def cmd_plot(args):
    """``bprop plot``: bprop.plots.plot_run, printing the paths written."""
    _require_file(args.run)
    plots = _optional("bprop.plots", "bprop plot", needs="matplotlib")
    out = _out_path(args.out, os.path.splitext(args.run)[0] + "-plots")
    existed = os.path.isdir(out)
    _check_directory(os.path.abspath(out), "--out", out)
    paths = plots.plot_run(args.run, out, dataset=getattr(args, "dataset", None))
    for path in paths:
        _out(str(path))
    if not paths:
        _note("note: no plot applies to this model file (the warnings above say why)")
        if not existed and not os.listdir(out):
            os.rmdir(out)           # made for nothing
    return 0


def cmd_report(args):
    """``bprop report``: bprop.report.write_report, printing the path written."""
    _require_file(args.run)
    report = _optional("bprop.report", "bprop report")
    out = _out_path(args.out, os.path.splitext(args.run)[0] + "-report.html")
    for read in (args.run, *model_io.history_paths(args.run)):
        if os.path.exists(read) and _same_file(out, read):
            raise ConfigError(f"--out {out} is {read}, which the report is made from; "
                              f"give another name")
    _check_writable(out, "--out" if args.out is not None else "the report")
    _out(str(report.write_report(args.run, out, dataset=getattr(args, "dataset", None))))
    return 0


def _out_path(given, default):
    if given is None:
        return default
    if not given.strip():
        raise ConfigError("--out needs a path; got an empty string")
    return given


def _require_file(path):
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such model file: {path}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a directory; give a model file")


def _optional(module, what, needs=None):
    """Import one of bprop's optional modules, or raise a one-line ConfigError (exit 2).

    needs: a package the module imports only when it is used (plots: matplotlib), checked
    now, so that a missing one stops the command before any work, not after it.
    """
    if needs is not None and importlib.util.find_spec(needs) is None:
        raise ConfigError(f"{what} needs the package {needs!r}: pip install 'bprop[all]' "
                          f"(or pip install {needs})")
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name == module:
            raise ConfigError(f"{what} needs {module}, which this installation of bprop "
                              f"does not have") from None
        raise ConfigError(f"{what} needs the package {e.name!r}: pip install "
                          f"'bprop[all]' (or pip install {e.name})") from None
