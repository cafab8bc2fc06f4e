#!/usr/bin/env python
"""Fault injection: runs killed while they save, and runs started together on one file.

Round after round, on the digits (no download), with real ``bprop train`` processes:

* ``kill``: a run saving a checkpoint after every epoch is sent SIGKILL at a random moment
  (often mid-save); then its file must be absent (killed before its first save) or a
  checkpoint that loads; ``bprop train --resume`` must go on from it; and the temporary
  file a killed save leaves must be gone after that next save.
* ``race``: two runs are started at once with the same ``--save`` file; exactly one may
  train (the other is refused with exit status 2 and a line naming the first), and the
  file must hold the one that trained.

Prints the counts: runs, losses (a run that reported its model saved whose model is not
there, or two that both did), broken files (a file that does not load), leftovers
(temporary files still there after the next save). All but runs must be 0; ``--check``
exits 1 otherwise. ``tests/test_reliability.py`` runs a few rounds of each.

Usage:  python benchmarks/faults.py [--rounds 20] [--check]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
try:
    import bprop  # noqa: F401
except ImportError:     # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(HERE.parent / "src"))
from bprop.errors import BpropError  # noqa: E402
from bprop.io import load_checkpoint  # noqa: E402

TRAIN = [sys.executable, "-m", "bprop", "train", "--dataset", "digits", "--quiet"]


def _env():
    env = dict(os.environ)
    src = str(HERE.parent / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _loads(path):
    try:
        return load_checkpoint(path).epoch
    except (BpropError, OSError):
        return None


def kill_round(directory, rng, counts):
    """One run killed at a random moment, then resumed."""
    save = directory / "k.npz"
    run = subprocess.Popen([*TRAIN, "--epochs", "200", "--save", str(save)], env=_env(),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(rng.uniform(0.5, 2.5))       # start-up takes about 0.5 s; epochs ~10 ms
    run.send_signal(signal.SIGKILL)
    run.wait()
    counts["runs"] += 1
    if not save.exists():
        return
    epoch = _loads(save)
    if epoch is None:
        counts["broken"] += 1
        return
    resumed = subprocess.run([*TRAIN, "--resume", str(save), "--epochs", str(epoch + 1)],
                             env=_env(), capture_output=True, text=True)
    counts["runs"] += 1
    if resumed.returncode != 0 or _loads(save) != epoch + 1:
        counts["losses"] += 1
    counts["leftovers"] += sum(p.name.startswith(".tmp-") for p in directory.iterdir())


def race_round(directory, counts):
    """Two runs started together on one new --save file."""
    save = directory / "r.npz"
    runs = [subprocess.Popen([*TRAIN, "--epochs", "30", "--save", str(save), "--seed", str(s)],
                             env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True) for s in (1, 2)]
    results = [(r.wait(), r.stderr.read()) for r in runs]
    counts["runs"] += 2
    trained = [status for status, _ in results if status == 0]
    refused = [err for status, err in results if status == 2 and "being written by another run"
               in err]
    if len(trained) != 1 or len(refused) != 1:
        counts["losses"] += 1
    if _loads(save) != 30:
        counts["broken" if save.exists() else "losses"] += 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=20, help="rounds of each (default 20)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--check", action="store_true", help="exit 1 unless all counts are 0")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    counts = {"runs": 0, "losses": 0, "broken": 0, "leftovers": 0}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.rounds):
            round_dir = Path(tmp) / str(i)
            round_dir.mkdir()
            kill_round(round_dir, rng, counts)
            race_round(round_dir, counts)
    print(f"faults: {args.rounds} rounds of SIGKILL during training and of two runs on one "
          f"file: runs {counts['runs']}, losses {counts['losses']}, broken files "
          f"{counts['broken']}, leftovers {counts['leftovers']}")
    failed = counts["losses"] or counts["broken"] or counts["leftovers"]
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    sys.exit(main())
