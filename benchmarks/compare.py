#!/usr/bin/env python
"""Two checkouts of bprop side by side: is a change within noise of before?

For each configuration of ``bench.py`` and each of ``--rounds`` rounds, trains ``--epochs``
epochs with each checkout in turn, in a fresh process (the first to go alternates from round
to round), the way ``bench.py``'s ``bprop`` row does: ``train`` with nothing monitored
(``monitor_training_cost`` and, where the checkout has it, ``monitor_running_cost`` off),
the configuration's BLAS threads and workers. Then times
``Network.predict`` on the 10,000 test images (best of 3). Prints, per configuration, the
median and fastest epoch of each checkout and the ratio after / before (below 1: faster).

Usage::

    git worktree add /tmp/before HEAD~3        # or any checkout of bprop
    .venv/bin/python benchmarks/compare.py /tmp/before/src src --configs 'book-*' --rounds 3

Each process reads the data itself (``benchdata``, no bprop import), so any checkout whose
``Network``/``TrainConfig``/``train`` take the usual arguments can be timed.
"""

from __future__ import annotations

import argparse
import dataclasses
import fnmatch
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent


def child(src, cfg, epochs, n_train, data_dir):
    """In a fresh process whose ``bprop`` comes from ``src``: the epoch times and the time
    to predict the test set, as JSON on stdout."""
    sys.path[:0] = [src, str(HERE)]
    import numpy as np

    import bprop
    from benchdata import load_data
    from bprop import Network, TrainConfig, train

    if not Path(bprop.__file__).resolve().is_relative_to(Path(src).resolve()):
        raise SystemExit(f"bprop came from {bprop.__file__}, not {src}")
    data = load_data(data_dir, np.dtype(cfg["dtype"]), n_train)
    net = Network(list(cfg["sizes"]), activations=cfg["hidden"], output=cfg["output"],
                  cost=cfg["cost"], init=cfg["init"], rng=1, dtype=cfg["dtype"])
    # the training pass alone, nothing monitored, in checkouts from before and after the
    # running cost (monitor_running_cost) came
    quiet = {name: False for name in ("monitor_training_cost", "monitor_running_cost")
             if name in {f.name for f in dataclasses.fields(TrainConfig)}}
    config = TrainConfig(epochs=epochs, mini_batch_size=cfg["mini_batch_size"],
                         eta=cfg["eta"], **quiet)
    history = train(net, data["X"], data["y"], config, workers=cfg["workers"])
    predict = []
    for _ in range(3):
        t0 = time.perf_counter()
        net.predict(data["X_test"])
        predict.append(time.perf_counter() - t0)
    print(json.dumps({"epochs": [r.seconds for r in history.records],
                      "predict": min(predict), "source": data["source"]}))


def run_child(src, cfg, args):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(cfg.threads),
               OMP_NUM_THREADS=str(cfg.threads))
    env.pop("PYTHONPATH", None)
    done = subprocess.run([sys.executable, __file__, "--child", src, json.dumps(asdict(cfg)),
                           str(args.epochs), str(args.n_train or 0), str(args.data_dir)],
                          capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{src} failed on {cfg.name}:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def main(argv=None):
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--child":
        src, cfg, epochs, n_train, data_dir = sys.argv[2:7]
        return child(src, json.loads(cfg), int(epochs), int(n_train) or None, data_dir)
    sys.path.insert(0, str(HERE))
    from benchconfigs import CONFIGS
    from benchdata import DATA_DIR

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("before", help="the src directory of the checkout to compare against")
    ap.add_argument("after", help="the src directory of the checkout being measured")
    ap.add_argument("--configs", default="*", help="bench.py configuration names or globs, "
                                                   "comma-separated (default all)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds per configuration (default 3)")
    ap.add_argument("--epochs", type=int, default=2, help="epochs per process (default 2)")
    ap.add_argument("--n-train", type=int, help="train on the first N images (default all)")
    ap.add_argument("--data-dir", default=str(DATA_DIR),
                    help=f"Fashion-MNIST's IDX files (default {DATA_DIR}; random data "
                         f"of its shape where they are not)")
    args = ap.parse_args(argv)

    patterns = [p.strip() for p in args.configs.split(",")]
    configs = [c for c in CONFIGS if any(fnmatch.fnmatch(c.name, p) for p in patterns)]
    trees = {"before": str(Path(args.before).resolve()), "after": str(Path(args.after).resolve())}
    print(f"load average {os.getloadavg()[0]:.2f} at the start; {args.rounds} rounds of "
          f"{args.epochs} epochs per checkout and configuration", file=sys.stderr)
    rows = []
    for cfg in configs:
        times = {name: [] for name in trees}
        predict = {name: [] for name in trees}
        for r in range(args.rounds):
            order = list(trees) if r % 2 == 0 else list(trees)[::-1]
            for name in order:
                result = run_child(trees[name], cfg, args)
                times[name] += result["epochs"]
                predict[name].append(result["predict"])
            print(f"  {cfg.name} round {r + 1}: " + "  ".join(
                f"{n} {statistics.median(times[n]):.4f}" for n in trees), file=sys.stderr)
        rows.append((cfg, times, predict, result["source"]))
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end; data: {rows[0][3]}\n")
    print("| config | before s/epoch (median, min) | after s/epoch (median, min) "
          "| after/before median | min | predict 10k before / after (ms) |")
    print("|---|---|---|---:|---:|---|")
    for cfg, times, predict, _ in rows:
        b, a = times["before"], times["after"]
        print(f"| {cfg.name} | {statistics.median(b):.4f}, {min(b):.4f} "
              f"| {statistics.median(a):.4f}, {min(a):.4f} "
              f"| {statistics.median(a) / statistics.median(b):.3f} | {min(a) / min(b):.3f} "
              f"| {min(predict['before']) * 1e3:.1f} / {min(predict['after']) * 1e3:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
