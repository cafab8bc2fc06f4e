#!/usr/bin/env python
"""A book program with bprop against the book's operations: the same numbers, and no slower.

The book's chapter 1 run, seeded as its scripts seed (``random.seed``, ``np.random.seed``):
``Network([784, 30, 10])``, ``SGD(training_data, epochs, 10, 3.0, test_data)``, on the first
``--n`` Fashion-MNIST training images and ``--test`` test images in the book's list format.
In the same process, alternating who goes first, round after round:

* ``SGD epoch``: one epoch of the book's operations (``bookcode.py``) against bprop's
  ``network.Network`` made without ``rng`` (book mode: the book's draws, shuffle and
  per-example arithmetic), printed lines compared (they must be identical);
* ``backprop per call`` and ``feedforward per call``: a loop of the public methods over the
  examples, as the book's figure scripts call them, against the book's functions (the
  fastest of three passes in each round).

Prints medians over the rounds and their ratio "book / bprop" (above 1: bprop is faster),
and the ratio of the fastest rounds (other work on the machine only ever adds time: when
the two ratios differ much, the run was disturbed). ``--check`` exits 1
when the printed lines differ or when the SGD epoch or the backprop call is slower than the
book's (the feedforward call is reported: bprop checks its argument and guards the sigmoid
against overflow warnings on each call, which the book's does not).

Usage:  python benchmarks/book_speed.py [--n 3000] [--rounds 5] [--check]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import os
import random
import statistics
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")      # one thread, as the book's code runs
import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
try:
    from bprop import network
except ImportError:     # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(HERE.parent / "src"))
    from bprop import network
sys.path.insert(0, str(HERE))
import bookcode  # noqa: E402
from benchdata import DATA_DIR, load_data  # noqa: E402

SIZES = [784, 30, 10]
SEED = 12345678


def book_lists(n, n_test, data_dir):
    """The book's training and test lists from the first n (n_test) images."""
    data = load_data(data_dir, np.dtype(np.float64), n)
    training = [(x.reshape(-1, 1), y.reshape(-1, 1)) for x, y in zip(data["X"], data["Y"])]
    test = [(x.reshape(-1, 1), int(y)) for x, y in
            zip(data["X_test"][:n_test], data["y_test"][:n_test])]
    return training, test, data["source"]


def sgd_epoch(make, training, test):
    """Seconds and printed lines of one seeded epoch of ``make(SIZES).SGD``."""
    random.seed(SEED)
    np.random.seed(SEED)
    net, given, out = make(SIZES), list(training), io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings(), no_gc():
        warnings.simplefilter("ignore")         # the book's sigmoid warns of overflow
        t0 = time.perf_counter()
        net.SGD(given, 1, 10, 3.0, test_data=test)
        seconds = time.perf_counter() - t0
    return seconds, out.getvalue()


@contextlib.contextmanager
def no_gc():
    """The garbage collector off while timing, as ``timeit`` has it (both sides allocate)."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def per_call(fn, args, passes=3):
    """Microseconds per call of ``fn`` over the argument tuples ``args``: the fastest of
    ``passes`` passes (other work on the machine only ever adds time)."""
    best = float("inf")
    with warnings.catch_warnings(), no_gc():
        warnings.simplefilter("ignore")
        for _ in range(passes):
            t0 = time.perf_counter()
            for a in args:
                fn(*a)
            best = min(best, time.perf_counter() - t0)
    return best / len(args) * 1e6


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=3000, help="training examples (default 3000)")
    ap.add_argument("--test", type=int, default=1000, help="test examples (default 1000)")
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    ap.add_argument("--data-dir", default=str(DATA_DIR))
    ap.add_argument("--check", action="store_true",
                    help="exit 1 if the lines differ or bprop is slower than the book")
    args = ap.parse_args(argv)
    training, test, source = book_lists(args.n, args.test, args.data_dir)
    print(f"# book_speed: {args.n} training, {len(test)} test examples of {source}; "
          f"{args.rounds} rounds; load average {os.getloadavg()[0]:.2f}", file=sys.stderr)
    np.random.seed(SEED)
    book_net = bookcode.Network(SIZES)
    net = network.Network(SIZES, rng=0)
    net.weights = [w.copy() for w in book_net.weights]
    net.biases = [b.copy() for b in book_net.biases]
    xy = training
    xs = [(x,) for x, _ in xy]
    times = {key: {"book": [], "bprop": []} for key in ("sgd", "backprop", "feedforward")}
    lines = {}
    for r in range(args.rounds):
        for who in (("book", "bprop") if r % 2 == 0 else ("bprop", "book")):
            book = who == "book"
            seconds, lines[who] = sgd_epoch(bookcode.Network if book else network.Network,
                                            training, test)
            times["sgd"][who].append(seconds)
            times["backprop"][who].append(per_call(book_net.backprop if book else net.backprop,
                                                   xy))
            times["feedforward"][who].append(
                per_call(book_net.feedforward if book else net.feedforward, xs))
    same = lines["book"] == lines["bprop"]
    rows = [("SGD epoch (s)", "sgd", True), ("backprop per call (µs)", "backprop", True),
            ("feedforward per call (µs)", "feedforward", False)]
    print("| per-example, as the book's programs run | book's operations | bprop | book / bprop "
          "| (fastest rounds) | target |")
    print("|---|---:|---:|---:|---:|---|")
    failed = [] if same else ["printed lines differ"]
    for label, key, held in rows:
        book, ours = (statistics.median(times[key][w]) for w in ("book", "bprop"))
        ratio = book / ours
        status = (">= 1: " + ("ok" if ratio >= 1 else "NOT MET")) if held else "reported"
        if held and ratio < 1:
            failed.append(label)
        fastest = min(times[key]["book"]) / min(times[key]["bprop"])
        print(f"| {label} | {book:.4g} | {ours:.4g} | {ratio:.2f} | {fastest:.2f} | {status} |")
    print(f"\nprinted lines identical: {'yes' if same else 'NO'} ({lines['bprop'].strip()!r})")
    if args.check and failed:
        print(f"--check: not met: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
