#!/usr/bin/env python
"""How far MPI data parallelism pays: a model of K machines from measured step times.

A step of mini-batch m on K machines costs its compute, shared out, plus a ring
all-reduce of the gradients:

    t(K) = t_compute / K + 2 (K − 1) / K · bytes / bandwidth + 2 (K − 1) · latency

t_compute is one process's time per step, measured (``scale.py --json``: its "1 process"
epoch seconds over 60,000 / m steps); bytes = parameters × the dtype's size; latency is
that of one message over TCP on Ethernet (default 30 µs). The speed-up is t(1) / t(K).
Prints it for K = 2 ... 64 on 10, 25 and 100 Gbit/s, and for each network the largest K
that still gains 10% on the one before (past it, MPI stops paying); also for mini-batches
ten times larger, whose compute a step is taken as ten times the measured one (the bytes
stay the same: larger mini-batches are what make more machines pay).

Usage:  python benchmarks/scale_model.py scale.json [--latency-us 30]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchconfigs import CONFIGS  # noqa: E402

KS = (2, 4, 8, 16, 32, 64)
GBITS = (10, 25, 100)


def step_time(t_compute, nbytes, k, gbit, latency):
    if k == 1:
        return t_compute
    return t_compute / k + 2 * (k - 1) / k * nbytes / (gbit * 1e9 / 8) + 2 * (k - 1) * latency


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("json", type=Path, help="what scale.py --json wrote")
    ap.add_argument("--latency-us", type=float, default=30.0)
    args = ap.parse_args(argv)
    results = json.loads(args.json.read_text())["results"]
    latency = args.latency_us * 1e-6
    configs = {c.name: c for c in CONFIGS}
    print(f"speed-up t(1)/t(K) of a step, ring all-reduce, {args.latency_us:g} µs a message")
    print("| network, mini-batch, dtype | bytes a step | compute a step | Gbit/s | "
          + " | ".join(f"K={k}" for k in KS) + " | pays up to |")
    print("|---|---:|---:|---:|" + "---:|" * len(KS) + "---:|")
    for name, measured in results.items():
        c = configs[name]
        steps = 60_000 / c.mini_batch_size
        nbytes = c.n_params * (8 if c.dtype == "float64" else 4)
        for times in (1, 10):
            t_compute = measured["1 process"] / steps * times
            rows(c, c.mini_batch_size * times, t_compute, nbytes, latency)
    return 0


def rows(c, m, t_compute, nbytes, latency):
    """The table's rows of one network at mini-batch m."""
    for gbit in GBITS:
        speedups = [t_compute / step_time(t_compute, nbytes, k, gbit, latency) for k in KS]
        best, before = 1, 1.0
        for k, s in zip(KS, speedups):
            if s < 1.1 * before:
                break
            best, before = k, s
        label = f"{list(c.sizes)}, {m}, {c.dtype}" if gbit == GBITS[0] else ""
        cells = " | ".join(f"{s:.1f}" for s in speedups)
        print(f"| {label} | {nbytes:,} | {t_compute * 1e3:.2f} ms | {gbit} | {cells} | "
              f"{'K=' + str(best) if best > 1 else 'never'} |")


if __name__ == "__main__":
    sys.exit(main())
