#!/usr/bin/env python
"""Speed of bprop's training loop against the book's algorithm and PyTorch (issue #4).

For each configuration (network, cost, mini-batch size, dtype, BLAS threads) and, in the
same process and run, each implementation:

* ``bprop``        the training pass, ``bprop.training.train`` with nothing monitored
                   (``monitor_running_cost=False``): permutation, gather into preallocated
                   buffers, matrix-based backprop (BP1-BP4), update; in the ``-w2``
                   configurations with ``workers=2`` (two processes, one BLAS thread each,
                   each mini-batch split between them), where every other implementation
                   gets two threads;
* ``fit-default``  what a user runs: ``net.fit(X, y, epochs, batch_size, eta)`` with every
                   other setting at its default (so each epoch also records its running
                   cost, and checks the weights), timed from the end of one epoch to the
                   end of the next; for the configurations of ``FIT_CEILINGS``;
* ``per-example``  the book's ``update_mini_batch``: a loop over the examples of each
                   mini-batch calling ``bprop.backprop.backprop(net, x, y)`` (the book's
                   backprop without ``Network.backprop``'s argument checks), summing, then
                   the update.
                   Slow, so it runs on a subset (``--per-example-subset``) and the time is
                   scaled to a full epoch;
* ``book-code``    the same loop with the operations of the book's own network.py (σ′
                   recomputing σ twice, zero gradients allocated per example), for the
                   float64 sigmoid + quadratic configurations; informational, no target;
* ``torch``        PyTorch on the CPU: the same layers, the same initial weights (copied
                   from bprop's), the same data order (a copy of bprop's generator), and
                   plain SGD with lr = eta on (Σ_x C_x) / m, written the usual way
                   (``nn.Sequential``, ``optim.SGD``, ``loss.backward()``);
* ``torch-functional`` informational, no target: the same in a hand-written loop with
                   less framework per step (``torch.addmm``, ``torch.autograd.grad``,
                   an in-place update), the fastest eager PyTorch we know for these nets;
* ``matmul-floor`` the epoch's matrix products alone at the real shapes and layouts: per
                   mini-batch the forward w @ a, the backward delta @ a.T, delta @ 1 (BP3)
                   and w.T @ delta, into preallocated ``out=`` buffers. No gather, no
                   elementwise work.

Each implementation runs ``--epochs-per-round`` epochs in each of ``--rounds`` interleaved
rounds; the table gives the median seconds per epoch, examples per second and the ratio
``time / bprop's time`` (above 1: bprop is that many times faster). Also measured: the time
to evaluate the 10,000 test examples (``Network.predict``, one batched pass), and the peak
resident memory of a training run in a fresh subprocess against data + model size.

``--check`` exits 1 when a ratio falls below the target recorded in ``TARGETS``, when
``fit-default`` takes more than ``FIT_CEILINGS`` times the training pass, or when one
prediction on one row takes more than ``onerow.TARGET_US`` (torch rows are skipped when
torch is not installed). After the training tables, ``onerow.py`` measures the time per
call of a prediction on 1, 10 and 100 rows, against ONNX Runtime when it is installed.
PyTorch is never a dependency of bprop; install the CPU build with
``pip install torch==2.13.0`` to include it.

The pieces, lowest first: ``benchconfigs.py`` (the configurations and their targets),
``benchmachine.py`` (BLAS threads, what the machine is), ``benchrunners.py`` (the
implementations above, and their agreement), ``benchmemory.py`` (peak memory in a fresh
interpreter), ``benchreport.py`` (ratios, checks and tables). This file picks the
configurations, times each in interleaved rounds, and reports (and writes the JSON).

Usage:  python benchmarks/bench.py [--quick] [--configs PATTERN,...] [--json OUT] [--check]
"""

from __future__ import annotations

import argparse
import fnmatch
import gc
import json
import os
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))     # beside it, also when imported
import onerow  # noqa: E402
from benchconfigs import CONFIGS, MEMORY_SLACK_MIB, MIN_EPOCHS  # noqa: E402
from benchdata import DATA_DIR, N_TRAIN, load_data  # noqa: E402
from benchmachine import BlasThreads, machine_info  # noqa: E402
from benchmemory import measure_memory, memory_child  # noqa: E402
from benchreport import Row, print_report, ratios_and_checks  # noqa: E402
from benchrunners import (BookCodeRunner, BpropRunner, FitDefaultRunner, MatmulFloor,  # noqa: E402
                          PerExampleRunner, TorchFunctionalRunner, TorchRunner, agreement,
                          count_feedforward_passes, eval_time)


# -- measuring -----------------------------------------------------------------------------------
def bench_config(cfg, data, args, torch, budget=None):
    """All implementations on one config, interleaved; once it has at least MIN_EPOCHS epochs
    in two rounds, stop early when the config has used ``budget`` seconds (a busy machine
    must not stretch make bench without end)."""
    t_start = time.perf_counter()
    n = len(data["X"])
    rows = {}
    runners = []
    bp = BpropRunner(cfg, data, args.seed)
    runners.append(bp)
    if "fit-default" in args.impls and FitDefaultRunner.applies(cfg):
        runners.append(FitDefaultRunner(cfg, data, args.seed))
    if torch is not None and "torch" in args.impls:
        runners.append(TorchRunner(cfg, data, bp, torch))
    if torch is not None and "torch-functional" in args.impls:
        runners.append(TorchFunctionalRunner(cfg, data, bp, torch))
    if "per-example" in args.impls:
        runners.append(PerExampleRunner(cfg, data, args.seed, min(args.per_example_subset, n)))
    if "book-code" in args.impls and BookCodeRunner.applies(cfg):
        runners.append(BookCodeRunner(cfg, data, args.seed, min(args.per_example_subset, n)))
    if "matmul-floor" in args.impls:
        runners.append(MatmulFloor(cfg, n))
    for r in runners:
        rows[r.name] = Row(cfg.name, r.name)
    with BlasThreads(cfg.threads, torch) as threads:
        in_force = threads.current()
        sync = agreement(cfg, data, args.seed, torch) if "torch" in rows else None
        sync_f = (agreement(cfg, data, args.seed, torch, TorchFunctionalRunner)
                  if "torch-functional" in rows else None)
        rounds_done = 0
        for rnd in range(args.rounds):
            # rotate the order so that no implementation always runs first after a switch
            for r in runners[rnd % len(runners):] + runners[:rnd % len(runners)]:
                gc.collect()
                times, measured = r.run(args.epochs_per_round)
                row = rows[r.name]
                row.measured_on = measured
                row.seconds += [t * N_TRAIN / measured for t in times]
                print(f"  round {rnd + 1} {r.name:13s} "
                      + " ".join(f"{t:.3f}" for t in row.seconds[-len(times):]) + " s/epoch",
                      file=sys.stderr, flush=True)
            rounds_done = rnd + 1
            # issue #4 asks for medians over at least five epochs in at least two rounds
            enough = rounds_done >= 2 and rounds_done * args.epochs_per_round >= MIN_EPOCHS
            if budget is not None and enough and time.perf_counter() - t_start > budget:
                print(f"  over the time budget ({budget:.0f} s): stopping after {rounds_done} "
                      "rounds", file=sys.stderr)
                break
        X_test = data["X_test"]
        evals = {"bprop": eval_time(bp.net.predict, X_test, args.eval_repeats),
                 "passes": count_feedforward_passes(bp.net, X_test),
                 "accuracy": float(np.mean(bp.net.predict(X_test) == data["y_test"]))}
        if "torch" in rows:
            tr = next(r for r in runners if r.name == "torch")
            evals["torch"] = eval_time(tr.predict, X_test, args.eval_repeats)
    for name, row in rows.items():
        if row.measured_on != n:            # a subset of the data (the footnote's "*")
            row.note = f"timed on {row.measured_on} examples, scaled to {N_TRAIN}"
    return dict(config=asdict(cfg), rows=list(rows.values()), eval=evals,
                torch_weight_diff=sync, torch_functional_weight_diff=sync_f,
                threads_fixed=threads.fixed, threads_in_force=in_force, rounds=rounds_done)


# -- command line --------------------------------------------------------------------------------
def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 10k training examples, 1 epoch per round, small subsets")
    ap.add_argument("--configs", default="*",
                    help="comma-separated names or glob patterns, e.g. 'book-*,wide-mb100-f32' "
                    f"(all: {', '.join(c.name for c in CONFIGS)})")
    ap.add_argument("--impls", default="bprop,fit-default,torch,torch-functional,per-example,"
                                       "book-code,matmul-floor",
                    help="comma-separated implementations to run beside bprop")
    ap.add_argument("--rounds", type=int, default=6,
                    help="interleaved rounds: each implementation in turn, then again")
    ap.add_argument("--epochs-per-round", type=int, default=1)
    ap.add_argument("--budget", type=float, default=480.0,
                    help="seconds for all configs; a config over its share stops once it has "
                    "at least 5 epochs in at least 2 rounds (default 480)")
    ap.add_argument("--per-example-subset", type=int, default=6000)
    ap.add_argument("--n-train", type=int, default=None,
                    help="train on the first N examples (times are scaled to 60,000)")
    ap.add_argument("--threads", type=int, default=None,
                    help="BLAS/torch threads for every one-process config (default: each "
                         "config's own; the -w2 configs keep 2, bprop's two processes)")
    ap.add_argument("--eval-repeats", type=int, default=5)
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-memory subprocesses")
    ap.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if installed")
    ap.add_argument("--no-onerow", action="store_true",
                    help="skip the per-call prediction table (benchmarks/onerow.py)")
    ap.add_argument("--data-dir", type=Path, default=DATA_DIR)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", type=Path, help="write all measurements to this file")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 when a ratio falls below its target (TARGETS), fit as called "
                    "by default takes more than FIT_CEILINGS times the training pass, a "
                    "training run's memory overhead exceeds MEMORY_SLACK_MIB, or a one-row "
                    "prediction exceeds onerow.TARGET_US")
    ap.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.quick:
        args.n_train = args.n_train or 10_000
        args.epochs_per_round = 1
        args.rounds = 2
        args.per_example_subset = min(args.per_example_subset, 1000)
        args.eval_repeats = 2
    args.impls = {s.strip() for s in args.impls.split(",")} | {"bprop"}
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.memory_child:
        memory_child(args.memory_child, args)
        return 0
    patterns = [p.strip() for p in args.configs.split(",") if p.strip()]
    configs = [c for c in CONFIGS if any(fnmatch.fnmatch(c.name, p) or p == c.name
                                         for p in patterns)]
    if args.threads is not None:        # the -w2 ones give everyone both CPUs: left as they are
        configs = [c if c.workers > 1 else replace(c, threads=args.threads) for c in configs]
    if not configs:
        print(f"no configuration matches {args.configs!r}; choose from "
              f"{', '.join(c.name for c in CONFIGS)}", file=sys.stderr)
        return 2
    torch = None
    if not args.no_torch and {"torch", "torch-functional"} & set(args.impls):
        try:
            import torch
        except ImportError:
            print("note: torch is not installed; its rows and checks are skipped "
                  "(pip install torch==2.13.0 for the CPU build)", file=sys.stderr)
    info = machine_info(torch)
    t_start = time.perf_counter()
    datasets, results = {}, []
    for cfg in configs:
        if cfg.dtype not in datasets:
            datasets[cfg.dtype] = load_data(args.data_dir, np.dtype(cfg.dtype), args.n_train)
        data = datasets[cfg.dtype]
        args.source = data["source"]
        print(f"{cfg.name}: sizes={list(cfg.sizes)} {cfg.hidden}/{cfg.output} {cfg.cost} "
              f"mb={cfg.mini_batch_size} eta={cfg.eta} {cfg.dtype} threads={cfg.threads}",
              file=sys.stderr, flush=True)
        results.append(bench_config(cfg, data, args, torch, args.budget / len(configs)))
    datasets.clear()
    gc.collect()
    memory = [] if args.no_memory else [measure_memory(c, args) for c in configs if c.memory]
    one_row = None
    if not args.no_onerow:
        with BlasThreads(1):
            one_row = onerow.measure(blocks=6 if args.quick else 15)
    info["loadavg_end"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    checks = ratios_and_checks(results, torch is not None)
    print_report(info, results, memory, checks, args)
    if one_row is not None:
        print()
        onerow.report(one_row)
    print(f"\ntotal {time.perf_counter() - t_start:.0f} s; command: "
          f"{Path(sys.executable).name} benchmarks/bench.py {' '.join(argv or sys.argv[1:])}")
    failed = [c for c in checks if c["kind"] == "target" and c["ok"] is False]
    failed += [m for m in memory if "error" in m or m["overhead_mib"] > MEMORY_SLACK_MIB]
    failed += [one_row] if one_row is not None and not one_row["ok"] else []
    if args.json:
        out = dict(machine=info, args={k: (sorted(v) if isinstance(v, set) else str(v)
                                           if isinstance(v, Path) else v)
                                       for k, v in vars(args).items()},
                   results=[dict(r, rows=[dict(asdict(row), median=row.median, ratio=row.ratio,
                                               ratio_min=row.ratio_min)
                                          for row in r["rows"]]) for r in results],
                   memory=memory, checks=checks, one_row=one_row)
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2))
    if args.check and failed:
        print(f"--check: {len(failed)} target(s) not met", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
