#!/usr/bin/env python
"""Training on a data set larger than one wants in memory: a uint8 memmap, read a mini-batch
at a time (:class:`bprop.rows.ScaledRows`).

Writes ``--n`` images of 28x28 bytes to a ``.npy`` file (Fashion-MNIST's training images
shifted by up to 2 pixels, infiMNIST-style, or random bytes without the data set), opens
it with ``mmap_mode="r"`` and trains ``[784, 30, 10]`` on it for ``--epochs`` epochs,
sampling this process's memory every 20 ms: ``RssAnon`` (its own memory, what the data set
must not grow) and ``RssFile`` (pages of the mapped file, the page cache's, shared by every
process that maps it). The goal (issue 16): at most 1 GiB of RssAnon, whatever ``--n``.

The same recipe makes a large augmented set for real use: ``write_shifted(path, n)``.

Usage:  python benchmarks/outofcore.py [--n 2000000] [--epochs 1] [--dir /tmp]
"""

from __future__ import annotations

import argparse
import os
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
from bprop.rows import ScaledRows  # noqa: E402
from benchdata import DATA_DIR, _read_idx  # noqa: E402


def write_shifted(path, n, data_dir=DATA_DIR, seed=0, block=50_000):
    """``n`` images (uint8, ``(n, 784)``) and their labels, written to ``path`` (``.npy``)
    and ``path`` with ``-labels.npy``: Fashion-MNIST's training images, each shifted by up to
    2 pixels in x and y (random bytes and labels when the data set is not there). Written
    ``block`` images at a time: the memory used does not grow with ``n``."""
    rng = np.random.default_rng(seed)
    images_path = Path(data_dir) / "train-images-idx3-ubyte.gz"
    if images_path.exists():
        base = _read_idx(images_path, 0x803, 3)
        labels = _read_idx(Path(data_dir) / "train-labels-idx1-ubyte.gz", 0x801, 1)
    else:
        base = rng.integers(0, 256, (1000, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, 1000).astype(np.uint8)
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(n, 784))
    y = np.empty(n, np.int64)
    for start in range(0, n, block):
        m = min(block, n - start)
        pick = rng.integers(0, len(base), m)
        shifted = np.zeros((m, 32, 32), np.uint8)
        dy, dx = rng.integers(0, 5, m), rng.integers(0, 5, m)
        for k in range(25):         # one of 25 shifts each: a few vectorised copies
            sel = (dy * 5 + dx) == k
            shifted[sel, k // 5:k // 5 + 28, k % 5:k % 5 + 28] = base[pick[sel]]
        X[start:start + m] = shifted[:, 2:30, 2:30].reshape(m, 784)
        y[start:start + m] = labels[pick]
    X.flush()
    del X
    np.save(str(path).removesuffix(".npy") + "-labels.npy", y)
    return path


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
    path = Path(args.dir) / f"bprop-outofcore-{args.n}.npy"
    t0 = time.perf_counter()
    write_shifted(path, args.n)
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
        X = ScaledRows(np.load(path, mmap_mode="r"), scale=1 / 255)
        y = np.load(str(path).removesuffix(".npy") + "-labels.npy")
        net = bprop.Network([784, 30, 10], rng=0)
        t0 = time.perf_counter()
        history = net.fit(X, y, epochs=args.epochs, batch_size=args.mini_batch_size, eta=3.0)
        seconds = time.perf_counter() - t0
    finally:
        done.set()
        watcher.join()
        if not args.keep:
            for p in (path, Path(str(path).removesuffix(".npy") + "-labels.npy")):
                p.unlink(missing_ok=True)
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
