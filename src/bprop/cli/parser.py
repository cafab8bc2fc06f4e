"""The ``bprop`` argument parser: every subcommand's flags, help and examples.

Flags carry the book's words (``--eta --lmbda --epochs --mini-batch-size``). A usage error is
one line on stderr and exit status 2. Each subcommand's function is in its own module:
:mod:`.train`, :mod:`.evaluate` (evaluate, predict), :mod:`.gradcheck`, :mod:`.info`,
:mod:`.plot` (plot, report), :mod:`.export`.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap

from .. import datasets
from ..version import __version__
from ..activations import ACTIVATIONS
from ..costs import COSTS
from ..network import INITIALIZERS
from ..optimizers import OPTIMIZERS
from ..training import MONITORS, SCHEDULES, TrainConfig
from . import argtypes
from .evaluate import cmd_evaluate, cmd_predict
from .export import cmd_export
from .gradcheck import MAX_GRADCHECK_SECONDS, cmd_gradcheck
from .info import cmd_info
from .plot import cmd_plot, cmd_report
from .train import cmd_train


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr (exit status 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and examples as written (their line breaks kept), but a line of prose
    (one that starts unindented) longer than the terminal wrapped at words rather than by
    the terminal mid-word; indented lines (the example commands) are left whole."""

    def __init__(self, prog):
        super().__init__(prog, max_help_position=32, width=min(100, _terminal_width()))

    def _fill_text(self, text, width, indent):
        lines = []
        for line in text.splitlines():
            if line[:1].isspace():
                lines.append(indent + line)
                continue
            lines += textwrap.wrap(line, width, initial_indent=indent,
                                   subsequent_indent=indent, break_on_hyphens=False,
                                   break_long_words=False) or [""]
        return "\n".join(lines)


def _terminal_width():
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 100


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
  bprop export runs/digits/model.npz runs/digits/model.onnx

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
    _add_export(sub, common)
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

  epoch 3/30  running_cost 0.1234  val_acc 0.9512  test_acc 0.9490  time 0.450s

(running_cost: the mean over the training examples of the cost each had when its
mini-batch was trained, before its step, as Keras reports its loss: free, but above the cost of the
epoch's final weights while the network learns; cost, with --monitor-training-cost: that
cost, the mean over all training examples, the book's total_cost, at the price of one
more pass over them. Both add ½(λ/n)Σw² with --lmbda and (λ₁/n)Σ|w| with --l1, n the
training-set size; the history's val_cost adds the same terms with n the validation-set
size. val_acc only with --validation; train_acc with --monitor-training-accuracy; eta when
a schedule changes it). With --save the model is
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
    g.add_argument("--dataset", metavar="NAME|PATH", type=argtypes.name_or_path,
                   help="mnist (default; downloaded once), fashion, digits (scikit-learn's "
                        "8x8 digits, no download), or a directory of IDX files, a .npz, a "
                        ".csv (label last, or in the column a header names 'label'), the "
                        "book's mnist.pkl.gz, or an array directory (X_train.npy, y_train.npy, "
                        "X_test.npy, y_test.npy: memory-mapped, any size; "
                        "bprop.datasets.write_shifted writes one)")
    g.add_argument("--data-dir", metavar="DIR", type=argtypes.name_or_path,
                   help="where the mnist/fashion IDX files are (or are downloaded to)")
    g.add_argument("--validation", type=argtypes.count_or_fraction, metavar="N|FRACTION",
                   help="hold out this many training examples (or this fraction) as a "
                        "validation set (default 0; MNIST and array directories hold out "
                        "the last ones, like the book's 50,000/10,000 split; others a seeded "
                        "random draw)")
    g.add_argument("--train-size", type=argtypes.positive_int, metavar="N",
                   help="train on the first N training examples only (after the validation "
                        "split), as the book's chapter 3 does with 1,000 images to show "
                        "overfitting; L2's n is then N (default: all)")
    g = p.add_argument_group("network")
    g.add_argument("--hidden", type=argtypes.positive_int, nargs="*", metavar="N",
                   help="hidden layer widths, e.g. --hidden 100 50 (default 30; "
                        "--hidden with no number: no hidden layer)")
    g.add_argument("--activation", type=argtypes.activation, nargs="+", metavar="NAME",
                   help=f"hidden layers' activation, one for all or one per hidden layer "
                        f"({_HIDDEN_ACT_NAMES}; default sigmoid)")
    g.add_argument("--output-activation", type=argtypes.activation, metavar="NAME",
                   help=f"output layer's activation ({_ACT_NAMES}; default sigmoid, or "
                        f"softmax with --cost log-likelihood)")
    g.add_argument("--cost", type=argtypes.cost, metavar="NAME",
                   help=f"{_COST_NAMES} (default quadratic)")
    g.add_argument("--init", choices=list(INITIALIZERS),
                   help="weight initialiser: normal = N(0, 1), the book's network.py "
                        "(default); scaled-normal = N(0, 1/n_in), network2's; xavier; he")
    g.add_argument("--dtype", choices=["float64", "float32"],
                   help="float64 (default) or float32 (faster, less exact)")
    g.add_argument("--seed", type=argtypes.nonnegative_int,
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
    g.add_argument("--monitor-training-cost", action=argparse.BooleanOptionalAction,
                   help="also measure the cost of the training data with each epoch's final "
                        "weights, one more pass over it (the line's 'cost'; the default "
                        "'running_cost' is free)")
    g.add_argument("--monitor-training-accuracy", action=argparse.BooleanOptionalAction,
                   help="also measure accuracy on the training data each epoch")
    g = p.add_argument_group(
        "speed", description="More machines: mpiexec -n K bprop train ... (pip install "
        "'bprop[mpi]'). Each rank backprops its share of every mini-batch and one Allreduce a "
        "step sums the gradients: 8 bytes per weight and bias (4 in float32), 190,880 for "
        "[784, 30, 10]; the run's figure is printed at the start.")
    g.add_argument("--workers", type=argtypes.int_at_least(1, "an integer >= 1"), metavar="N",
                   help="processes that share each mini-batch's backprop, one CPU each "
                        "(default 1; Linux on x86-64). The same weights to rounding (with "
                        "--dropout/--shift: other random draws); faster from mini-batches of "
                        "about 50 up, slower at 10")
    g.add_argument("--threads", type=argtypes.int_at_least(1, "an integer >= 1"), metavar="N",
                   help="BLAS threads (default: 1 for layers under 100,000 weights, where a "
                        "second thread does not help, else the CPUs; 1 on a busy machine, "
                        "with a warning). The last digits of the results can depend on it")
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
    p.add_argument("model", metavar="MODEL", type=argtypes.name_or_path,
                   help="a model file written by bprop train --save")
    _add_dataset_flags(p)
    p.add_argument("--split", choices=["test", "validation", "train"], default="test",
                   help="which part of the data (default test)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_evaluate)


def _add_dataset_flags(p):
    p.add_argument("--dataset", metavar="NAME|PATH", type=argtypes.name_or_path,
                   help="data set (default: the one the model was trained on, from its file)")
    p.add_argument("--data-dir", metavar="DIR", type=argtypes.name_or_path,
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
    p.add_argument("model", metavar="MODEL", type=argtypes.name_or_path,
                   help="a model file written by bprop train --save")
    p.add_argument("files", metavar="FILE", nargs="*", type=argtypes.name_or_path,
                   help="PNG/JPEG (needs Pillow) or .npy")
    _add_dataset_flags(p)
    p.add_argument("--count", type=argtypes.positive_int, metavar="K",
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
1 when it is not. Before it starts the check is estimated: two forward passes per parameter
checked, plus what the network's size costs however few are checked (checking its
parameters, five backprop calls). A check estimated at more than --max-time is refused,
saying how long it would take (--sample checks some of the parameters); one of more than a
few seconds says so before it starts. Both run with the BLAS threads 'bprop train' would use.""",
        epilog="""examples:
  bprop gradcheck --sizes 4 5 3
  bprop gradcheck --sizes 64 100 10 --activation relu --output-activation softmax \\
      --cost log-likelihood --examples 20""")
    p.add_argument("--sizes", type=argtypes.positive_int, nargs="+", default=[4, 5, 3], metavar="N",
                   help="layer widths, input first (default 4 5 3)")
    p.add_argument("--activation", type=argtypes.activation, nargs="+", default=["sigmoid"],
                   metavar="NAME", help=f"hidden layers' activation(s) "
                                        f"({_HIDDEN_ACT_NAMES}; default sigmoid)")
    p.add_argument("--output-activation", type=argtypes.activation, metavar="NAME",
                   help="default sigmoid; softmax with --cost log-likelihood")
    p.add_argument("--cost", type=argtypes.cost, default="quadratic", metavar="NAME",
                   help=f"{_COST_NAMES} (default quadratic)")
    p.add_argument("--examples", type=argtypes.positive_int, default=7, metavar="M",
                   help="examples in the batch (default 7)")
    p.add_argument("--seed", type=argtypes.nonnegative_int, default=0, help="default 0")
    p.add_argument("--eps", type=float, default=1e-5, help="finite-difference step (default 1e-5)")
    p.add_argument("--tol", type=argtypes.positive_float, default=1e-6,
                   help="largest relative error that passes (default 1e-6)")
    p.add_argument("--sample", type=argtypes.positive_int, metavar="K",
                   help="check K parameters drawn at random (at least one per array), not "
                        "all: two forward passes each")
    p.add_argument("--max-time", type=argtypes.positive_float, default=MAX_GRADCHECK_SECONDS,
                   metavar="S", help=f"refuse a check estimated (its passes and backprop "
                                     f"calls) at more than S seconds, saying how long it "
                                     f"would take (default {MAX_GRADCHECK_SECONDS:g})")
    p.add_argument("--threads", type=argtypes.int_at_least(1, "an integer >= 1"), metavar="N",
                   help="BLAS threads (default: 1 for layers under 100,000 weights, where a "
                        "second thread does not help, else the CPUs; 1 on a busy machine, "
                        "with a warning). The last digits of the results can depend on it")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_gradcheck)


def _add_info(sub, common):
    p = sub.add_parser(
        "info", parents=[common], formatter_class=_Formatter,
        help="what a model file holds: layers, cost, parameters, settings, history",
        description="Show a model file's layers, activations, cost, parameter count, the "
                    "data set and training settings it was trained with, and its history.",
        epilog="examples:\n  bprop info runs/digits/model.npz\n  bprop info model.npz --history\n"
               "  bprop info model.npz --json")
    p.add_argument("model", metavar="MODEL", type=argtypes.name_or_path)
    p.add_argument("--history", action="store_true", help="print every epoch of the history "
                                                          "(default: the last)")
    p.add_argument("--json", action="store_true", help="print the header as JSON")
    p.set_defaults(func=cmd_info)


def _add_plot(sub, common):
    _add_saved_run_command(
        sub, common, "plot", cmd_plot,
        help="draw a training run's plots (needs matplotlib)",
        description="Draw the plots of a saved run (cost and accuracy per epoch, and the "
                    "diagnostics if it was trained with --diagnostics) and print their paths.",
        example="bprop plot runs/digits/model.npz        # into runs/digits/model-plots/",
        out=("DIR", "output directory (default: <model stem>-plots beside the model)"),
        overwrite="replace PNGs of the plots' names in a DIR given with --out (in the default "
                  "directory they are replaced without asking)")


def _add_report(sub, common):
    _add_saved_run_command(
        sub, common, "report", cmd_report,
        help="write an HTML report of a training run",
        description="Write an HTML report of a saved run (settings, history, plots, "
                    "diagnostics) and print its path.",
        example="bprop report runs/digits/model.npz      # runs/digits/model-report.html",
        out=("PATH", "output file (default: <model stem>-report.html beside the model)"),
        overwrite="replace PATH even if it is not a report bprop wrote (one is replaced "
                  "without asking)")


def _add_export(sub, common):
    p = sub.add_parser(
        "export", parents=[common], formatter_class=_Formatter,
        help="write a model as ONNX, to run it anywhere (needs onnx)",
        description="Write a saved model (a bprop .npz or the book's network2 JSON) as an "
                    "ONNX file: one Gemm and one activation per layer, input 'input' (N, "
                    "inputs) in the model's dtype, outputs 'output' (what predict_proba "
                    "gives) and 'label' (the predicted class, int64); the data set's class "
                    "names in its metadata. Needs pip install 'bprop[onnx]'.",
        epilog="examples:\n  bprop export runs/digits/model.npz runs/digits/model.onnx")
    p.add_argument("model", metavar="MODEL", type=argtypes.name_or_path,
                   help="a model file written by bprop train --save")
    p.add_argument("out", metavar="OUT", type=argtypes.name_or_path, help="the ONNX file to write")
    p.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    p.set_defaults(func=cmd_export)


def _add_saved_run_command(sub, common, name, func, help, description, example, out,
                           overwrite):
    """A command that reads a run saved by ``bprop train --save`` and writes ``--out``."""
    p = sub.add_parser(name, parents=[common], formatter_class=_Formatter, help=help,
                       description=description, epilog=f"examples:\n  {example}")
    p.add_argument("run", metavar="RUN", type=argtypes.name_or_path,
                   help="a model file written by bprop train --save")
    metavar, out_help = out
    p.add_argument("--out", metavar=metavar, help=out_help)
    p.add_argument("--dataset", metavar="NAME|PATH", type=argtypes.name_or_path,
                   help="the data set whose test split the confusion matrix and most-wrong "
                        "images use (default: the one the model file names, if any)")
    p.add_argument("--overwrite", action="store_true", help=overwrite)
    p.set_defaults(func=func)
