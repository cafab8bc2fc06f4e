#!/usr/bin/env python
"""Two engines side by side: MPI ranks (``mpiexec -n 2``) against the local ``--workers 2``.

For bench.py's ``-w2`` configurations (Fashion-MNIST, or random data of its shape), in
alternating rounds, the seconds of one training epoch (the median of ``--epochs`` epochs
after a first one that warms up) with:

* ``1 process``  ``train(net, X, y, config)``, one BLAS thread;
* ``workers 2``  ``train(..., workers=2)``: two forked processes, shared memory, spinning;
* ``MPI -n 2``   ``mpiexec -n 2``, each rank ``train(..., comm=MPI.COMM_WORLD)`` with one
                 BLAS thread (the run starts once per round; its start-up is not counted),
                 and the share of its epoch spent waiting in the Allreduce.

Prints medians and the ratio workers / MPI (above 1: MPI is faster). ``--busy`` runs one
process spinning on a CPU meanwhile (the machine has 2), as a busy host would.

Usage:  python benchmarks/scale.py [--rounds 3] [--epochs 3] [--busy] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
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
from benchconfigs import CONFIGS  # noqa: E402
from benchdata import DATA_DIR, load_data  # noqa: E402

W2 = [c for c in CONFIGS if c.name.endswith("-w2")]


def network(config):
    hidden = [config.hidden] * (len(config.sizes) - 2)
    return bprop.Network(list(config.sizes), hidden + [config.output], config.cost,
                         config.init, rng=0, dtype=config.dtype)


def epoch_seconds(config, X, y, epochs, **kw):
    """Seconds of each epoch after the first (``bprop.train`` with ``kw``), and the seconds
    spent in MPI's reductions when ``comm`` is given."""
    net = network(config)
    seconds = []
    settings = bprop.TrainConfig(epochs=epochs + 1, mini_batch_size=config.mini_batch_size,
                                 eta=config.eta)
    bprop.train(net, X, y, settings, on_epoch_end=lambda r: seconds.append(r.seconds), **kw)
    return seconds[1:]


def rank_run(name, epochs, data_dir):
    """What each rank of ``mpiexec -n 2`` runs: JSON of the epoch seconds, from rank 0."""
    from mpi4py import MPI

    from bprop.training import mpi as mpi_module
    config = next(c for c in W2 if c.name == name)
    data = load_data(data_dir, np.dtype(config.dtype), test=False)
    spent = []
    real = mpi_module.MPISteps.__exit__

    def keep(self, *exc):       # the reductions' seconds, read as the steps object closes
        spent.append(self.reduce_seconds)
        return real(self, *exc)
    mpi_module.MPISteps.__exit__ = keep
    seconds = epoch_seconds(config, data["X"], data["y"], epochs, comm=MPI.COMM_WORLD)
    if MPI.COMM_WORLD.rank == 0:
        print(json.dumps({"seconds": seconds, "reduce": spent[0] * epochs / (epochs + 1)}))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--busy", action="store_true", help="one CPU kept busy meanwhile")
    ap.add_argument("--configs", default=None, help="comma-separated names (default: all -w2)")
    ap.add_argument("--data-dir", default=str(DATA_DIR))
    ap.add_argument("--json", type=Path)
    ap.add_argument("--rank-run", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.rank_run:
        return rank_run(args.rank_run, args.epochs, args.data_dir)
    mpiexec = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or \
        shutil.which("mpiexec")
    configs = [c for c in W2 if args.configs is None or c.name in args.configs.split(",")]
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.busy else None
    results = {}
    try:
        for config in configs:
            data = load_data(args.data_dir, np.dtype(config.dtype), test=False)
            X, y = data["X"], data["y"]
            times = {"1 process": [], "workers 2": [], "MPI -n 2": []}
            reduce_share = []
            for r in range(args.rounds):
                order = list(times) if r % 2 == 0 else list(reversed(times))
                for engine in order:
                    if engine == "1 process":
                        times[engine] += epoch_seconds(config, X, y, args.epochs)
                    elif engine == "workers 2":
                        times[engine] += epoch_seconds(config, X, y, args.epochs, workers=2)
                    elif mpiexec is not None:
                        done = subprocess.run(
                            [mpiexec, "-n", "2", sys.executable, __file__, "--rank-run",
                             config.name, "--epochs", str(args.epochs), "--data-dir",
                             args.data_dir], capture_output=True, text=True, check=True)
                        got = json.loads(done.stdout.strip().splitlines()[-1])
                        times[engine] += got["seconds"]
                        reduce_share.append(got["reduce"] / sum(got["seconds"]))
            medians = {k: statistics.median(v) for k, v in times.items() if v}
            results[config.name] = dict(medians, reduce_share=statistics.median(reduce_share)
                                        if reduce_share else None)
    finally:
        if busy is not None:
            busy.kill()
    load = os.getloadavg()[0]
    print(f"epoch seconds, median of {args.rounds} rounds x {args.epochs} epochs; "
          f"{'one CPU kept busy' if args.busy else 'no other load started'}; load average "
          f"{load:.2f}; data: {data['source']}")
    print("| config | 1 process | workers 2 | MPI -n 2 | workers / MPI | Allreduce share |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, m in results.items():
        mpi = m.get("MPI -n 2")
        cells = [f"{m['1 process']:.3f}", f"{m['workers 2']:.3f}",
                 f"{mpi:.3f}" if mpi else "-",
                 f"{m['workers 2'] / mpi:.2f}" if mpi else "-",
                 f"{m['reduce_share']:.0%}" if m["reduce_share"] is not None else "-"]
        print(f"| {name} | " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps({"busy": args.busy, "load": load, "results": results},
                                        indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
