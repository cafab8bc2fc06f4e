#!/usr/bin/env python
"""Where one training step's time goes, for a configuration of bench.py.

Times, per mini-batch, the real pieces of ``bprop.train.train``'s loop body, each as a
minimum over blocks of steps (robust against other work on the machine):

* gather     the two ``np.take`` calls into the workspace (as train.py does them, and with
             ``mode="clip"`` for comparison);
* backprop   ``bprop.backprop.backprop_batch`` (forward pass, BP1-BP4);
* update     ``SGD.step``;
* matmuls    the products alone (benchrunners.MatmulFloor), so that backprop − matmuls is the
             elementwise work plus Python overhead.

Usage: python benchmarks/_profile_step.py [CONFIG ...]   (default: all of benchconfigs.CONFIGS)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchconfigs import CONFIGS  # noqa: E402
from benchdata import DATA_DIR, load_data  # noqa: E402
from benchmachine import BlasThreads  # noqa: E402
from benchrunners import MatmulFloor, make_net  # noqa: E402
from bprop.backprop import backprop_batch  # noqa: E402
from bprop.optimizers import SGD  # noqa: E402


def best(fn, blocks=9):
    times = []
    for _ in range(blocks):
        t0 = time.perf_counter()
        steps = fn()
        times.append((time.perf_counter() - t0) / steps)
    return min(times)


def profile(cfg, data):
    net = make_net(cfg, 1)
    X, Y = data["X"], data["Y"]
    n, mbs = len(X), cfg.mini_batch_size
    opt = SGD(cfg.eta)
    steps = max(50, min(600, 60_000 // mbs // 10))
    ws = net.workspace(mbs)
    order = net.rng.permutation(n)
    batches = [order[k * mbs:(k + 1) * mbs] for k in range(steps)]
    scale = opt.grad_scale(mbs)
    floor = MatmulFloor(cfg, steps * mbs)

    def gather(mode):
        def run():
            for idx in batches:
                np.take(X, idx, axis=0, out=ws.x_rows, mode=mode)
                np.take(Y, idx, axis=0, out=ws.y_rows, mode=mode)
            return steps
        return run

    def backprop():
        for _ in batches:
            backprop_batch(net, ws.x, ws.y, ws, scale)
        return steps

    def update():
        for _ in batches:
            opt.step(net.weights, net.biases, ws.nabla_w, ws.nabla_b, n)
        return steps

    def whole():
        for idx in batches:
            np.take(X, idx, axis=0, out=ws.x_rows, mode="clip")     # as train.py does
            np.take(Y, idx, axis=0, out=ws.y_rows, mode="clip")
            nabla_b, nabla_w = backprop_batch(net, ws.x, ws.y, ws, scale)
            opt.step(net.weights, net.biases, nabla_w, nabla_b, n)
        return steps

    with BlasThreads(cfg.threads), np.errstate(over="ignore"):
        t = {"step (gather+backprop+update)": best(whole), "gather (mode=raise)": best(gather("raise")),
             "gather (mode=clip)": best(gather("clip")), "backprop": best(backprop),
             "update (SGD.step)": best(update)}
        floor.run(1)                                    # warm-up
        t["matmuls alone"] = min(floor.run(1)[0][0] for _ in range(9)) / steps
    t["backprop - matmuls (elementwise + Python)"] = t["backprop"] - t["matmuls alone"]
    return t


def main(argv=None):
    names = (argv if argv is not None else sys.argv[1:]) or [c.name for c in CONFIGS]
    datasets = {}
    for name in names:
        cfg = next(c for c in CONFIGS if c.name == name)
        if cfg.dtype not in datasets:
            datasets[cfg.dtype] = load_data(DATA_DIR, np.dtype(cfg.dtype), test=False)
        t = profile(cfg, datasets[cfg.dtype])
        per_epoch = 60_000 / cfg.mini_batch_size
        print(f"\n{cfg.name} (threads={cfg.threads}): us/step, s/epoch, share of the step")
        for k, v in t.items():
            print(f"  {k:44s} {v * 1e6:8.1f} us  {v * per_epoch:6.3f} s  "
                  f"{100 * v / t['step (gather+backprop+update)']:5.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
