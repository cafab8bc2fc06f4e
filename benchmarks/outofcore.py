#!/usr/bin/env python
"""Training on a data set larger than one wants in memory: a uint8 memmap, read a mini-batch
at a time (:class:`bprop.rows.ScaledRows`).

Writes ``--n`` images of 28x28 bytes as an array directory (Fashion-MNIST's training
images shifted by up to 2 pixels, infiMNIST-style, by :func:`bprop.datasets.write_shifted`;
random bytes without the data set), loads it as a user would (``bprop.datasets.load``
memory-maps it) and trains ``[784, 30, 10]`` on it for ``--epochs`` epochs,
sampling this process's memory every 20 ms: ``RssAnon`` (its own memory, what the data set
must not grow) and ``RssFile`` (pages of the mapped file, the page cache's, shared by every
process that maps it). The goal (issue 16): at most 1 GiB of RssAnon, whatever ``--n``.

``bprop train --dataset DIRECTORY`` (and ``mpiexec -n K bprop train ...``) trains on
such a directory the same way.

Usage:  python benchmarks/outofcore.py [--n 2000000] [--epochs 1] [--dir /tmp]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
try:
    import bprop
except ImportError:     # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(HERE.parent / "src"))
    import bprop
import bprop.datasets  # noqa: E402
import bprop.errors  # noqa: E402


def write_set(directory, n):
    """``n`` shifted Fashion-MNIST training images as an array directory (the library's
    recipe, :func:`bprop.datasets.write_shifted`), or random bytes and labels when the data
    set is not there."""
    try:
        return bprop.datasets.write_shifted("fashion", directory, n, download=False)
    except bprop.errors.DataError:
        rng = np.random.default_rng(0)
        blocks = (rng.integers(0, 256, (min(50_000, n - s), 784), dtype=np.uint8)
                  for s in range(0, n, 50_000))
        bprop.datasets.write_rows(Path(directory) / "X_train.npy", n, 784, blocks)
        test = rng.integers(0, 256, (1000, 784), dtype=np.uint8)
        labels = rng.integers(0, 10, n)
        X_train = np.load(Path(directory) / "X_train.npy", mmap_mode="r")
        return bprop.datasets.write_arrays(directory, X_train, labels, test,
                                           rng.integers(0, 10, 1000), image_shape=(28, 28))


def memory():
    """(RssAnon, RssFile) of this process in bytes, from /proc."""
    fields = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("RssAnon:", "RssFile:")):
                key, value = line.split(":")
                fields[key] = int(value.split()[0]) * 1024
    return fields.get("RssAnon", 0), fields.get("RssFile", 0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=2_000_000)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--mini-batch-size", type=int, default=100)
    ap.add_argument("--dir", default=tempfile.gettempdir())
    ap.add_argument("--keep", action="store_true", help="keep the .npy files")
    args = ap.parse_args(argv)
    path = Path(args.dir) / f"bprop-outofcore-{args.n}"
    t0 = time.perf_counter()
    write_set(path, args.n)
    written = time.perf_counter() - t0
    peak = [0, 0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            anon, file_pages = memory()
            peak[0], peak[1] = max(peak[0], anon), max(peak[1], file_pages)
            time.sleep(0.02)
    before = memory()[0]
    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    try:
        data = bprop.datasets.load(path)        # memory-mapped: X_train a ScaledRows
        net = bprop.Network([784, 30, 10], rng=0)
        t0 = time.perf_counter()
        history = net.fit(data.X_train, data.y_train, epochs=args.epochs,
                          batch_size=args.mini_batch_size, eta=3.0)
        seconds = time.perf_counter() - t0
    finally:
        done.set()
        watcher.join()
        if not args.keep:
            shutil.rmtree(path, ignore_errors=True)
    size = args.n * 784
    print(f"out of core: {args.n:,} images of 784 bytes ({size / 2**30:.2f} GiB on disk; "
          f"{size * 8 / 2**30:.1f} GiB as float64), written in {written:.0f} s; "
          f"{args.epochs} epoch(s) of [784, 30, 10], mini-batch {args.mini_batch_size}, in "
          f"{seconds:.0f} s; running cost {history.records[-1].running_cost:.4f}")
    print(f"memory: RssAnon peak {peak[0] / 2**20:,.0f} MiB ({before / 2**20:,.0f} MiB before "
          f"training), RssFile peak {peak[1] / 2**20:,.0f} MiB (the mapped file's pages); "
          f"goal RssAnon <= 1024 MiB: {'met' if peak[0] <= 2**30 else 'NOT MET'}")
    return 0 if peak[0] <= 2**30 else 1


if __name__ == "__main__":
    sys.exit(main())
