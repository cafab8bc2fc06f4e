"""The flags of ``bprop train``, its help and examples (its command is :mod:`.train`)."""

from __future__ import annotations

import argparse

from .. import datasets
from ..network import INITIALIZERS
from ..optimizers import OPTIMIZERS
from ..training import MONITORS, SCHEDULES, TrainConfig
from . import argtypes
from .helpformat import ACT_NAMES, COST_NAMES, HIDDEN_ACT_NAMES, Formatter
from .train import cmd_train


def add_train(sub, common):
    """The ``train`` subcommand of the parser ``sub``, with all its flags and help."""
    d = TrainConfig()
    p = sub.add_parser(
        "train", parents=[common], formatter_class=Formatter,
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
                        f"({HIDDEN_ACT_NAMES}; default sigmoid)")
    g.add_argument("--output-activation", type=argtypes.activation, metavar="NAME",
                   help=f"output layer's activation ({ACT_NAMES}; default sigmoid, or "
                        f"softmax with --cost log-likelihood)")
    g.add_argument("--cost", type=argtypes.cost, metavar="NAME",
                   help=f"{COST_NAMES} (default quadratic)")
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
