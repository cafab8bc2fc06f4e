"""The ``bprop`` argument parser: every subcommand's flags, help and examples.

Flags carry the book's words (``--eta --lmbda --epochs --mini-batch-size``). A usage error is
one line on stderr and exit status 2. Each subcommand's function is in its own module:
:mod:`.train`, :mod:`.evaluate` (evaluate, predict), :mod:`.gradcheck`, :mod:`.info`,
:mod:`.plot` (plot, report), :mod:`.export`; ``train``'s many flags are in :mod:`.train_flags`,
the help's formatting in :mod:`.helpformat`.
"""

from __future__ import annotations

import argparse

from ..version import __version__
from . import argtypes
from .evaluate import cmd_evaluate, cmd_predict
from .export import cmd_export
from .gradcheck import MAX_GRADCHECK_SECONDS, cmd_gradcheck
from .info import cmd_info
from .helpformat import COST_NAMES, HIDDEN_ACT_NAMES, Formatter, Parser
from .plot import cmd_plot, cmd_report
from .train_flags import add_train


def build_parser():
    """The ``bprop`` argument parser with all its subcommands."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback when something fails")

    parser = Parser(
        prog="bprop", formatter_class=Formatter, parents=[common],
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
    add_train(sub, common)
    _add_evaluate(sub, common)
    _add_predict(sub, common)
    _add_gradcheck(sub, common)
    _add_info(sub, common)
    _add_plot(sub, common)
    _add_report(sub, common)
    _add_export(sub, common)
    parser.commands = sub.choices       # name -> its parser, for errors found after parsing
    return parser


def _add_evaluate(sub, common):
    p = sub.add_parser(
        "evaluate", parents=[common], formatter_class=Formatter,
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
        "predict", parents=[common], formatter_class=Formatter,
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
        "gradcheck", parents=[common], formatter_class=Formatter,
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
                                        f"({HIDDEN_ACT_NAMES}; default sigmoid)")
    p.add_argument("--output-activation", type=argtypes.activation, metavar="NAME",
                   help="default sigmoid; softmax with --cost log-likelihood")
    p.add_argument("--cost", type=argtypes.cost, default="quadratic", metavar="NAME",
                   help=f"{COST_NAMES} (default quadratic)")
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
        "info", parents=[common], formatter_class=Formatter,
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
        "export", parents=[common], formatter_class=Formatter,
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
    p = sub.add_parser(name, parents=[common], formatter_class=Formatter, help=help,
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
