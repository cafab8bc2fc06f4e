"""Accuracy recipes: train named configurations with the real command line, report test accuracy.

Run by ``make accuracy`` (not part of ``make test``). Each recipe is a ``bprop train``
command; this script runs it exactly as printed (``python -m bprop train ... --json``), reads
the per-epoch JSON lines, and prints a table of the test accuracy after the last epoch (no
picking the best epoch on the test set) with the
seed and the command. Recipes whose dataset is not available here (MNIST without its files)
are reported as skipped.

    python benchmarks/accuracy.py                 # every recipe
    python benchmarks/accuracy.py --only best     # recipes whose name contains "best"
    python benchmarks/accuracy.py --epochs 2      # a smoke run: every recipe for 2 epochs
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BOOK_CH1 = ["--hidden", "30", "--epochs", "30", "--mini-batch-size", "10", "--eta", "3.0"]
NETWORK2 = ["--hidden", "100", "--cost", "cross-entropy", "--init", "scaled-normal",
            "--epochs", "30", "--mini-batch-size", "10", "--eta", "0.5", "--lmbda", "5.0"]
BEST = ["--hidden", "1024", "512", "--activation", "relu", "--output-activation", "softmax",
        "--cost", "log-likelihood", "--init", "he", "--dtype", "float32",
        "--optimizer", "adam", "--eta", "0.0005", "--mini-batch-size", "64", "--dropout", "0.3",
        "--schedule", "step", "--step-size", "15", "--gamma", "0.3", "--epochs", "45"]

#: name -> (dataset, flags, what it is)
RECIPES = {
    "book-ch1-fashion": ("fashion", BOOK_CH1, "the book's chapter 1 network [784, 30, 10]"),
    "book-ch1-mnist": ("mnist", BOOK_CH1, "the book's chapter 1 network on MNIST (about 95%)"),
    "network2-fashion": ("fashion", NETWORK2, "network2: [784, 100, 10], cross-entropy, λ = 5"),
    "network2-mnist": ("mnist", NETWORK2, "network2 on MNIST (the book: about 98% after 30 epochs)"),
    "best-fashion": ("fashion", BEST, "bprop's best fully connected recipe"),
    "best-mnist": ("mnist", BEST, "bprop's best fully connected recipe on MNIST"),
}

#: Published MLP results in Fashion-MNIST's own benchmark table, for comparison.
REFERENCES = {"MLPClassifier, one hidden layer of 100 (scikit-learn)": 0.871,
              "MLP 256-128-100": 0.883}


def command(dataset, flags, seed, epochs=None):
    flags = list(flags)
    if epochs is not None:
        i = flags.index("--epochs")
        flags[i + 1] = str(epochs)
    return [sys.executable, "-m", "bprop", "train", "--dataset", dataset, *flags,
            "--seed", str(seed), "--json", "--quiet"]


def dataset_available(name):
    sys.path.insert(0, os.path.join(ROOT, "src"))
    from bprop.datasets import load

    try:
        load(name, download=False)
    except Exception as e:          # noqa: BLE001 - any failure means: skip this recipe
        return str(e).splitlines()[0]
    return None


def run(name, dataset, flags, seed, epochs):
    cmd = command(dataset, flags, seed, epochs)
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src"))
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{name} failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    records = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    accs = [r["test_accuracy"] for r in records if r.get("test_accuracy") is not None]
    return {"recipe": name, "dataset": dataset, "seed": seed, "epochs": len(records),
            "final_test_accuracy": accs[-1],
            "seconds": round(seconds, 1),
            "command": shlex.join(["bprop", *cmd[3:-2]])}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", help="run recipes whose name contains this")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, help="override every recipe's epochs (smoke runs)")
    p.add_argument("--json", help="also write the results to this file")
    args = p.parse_args(argv)
    results = []
    for name, (dataset, flags, what) in RECIPES.items():
        if args.only and args.only not in name:
            continue
        missing = dataset_available(dataset)
        if missing:
            print(f"{name:18s} skipped: {missing}", flush=True)
            continue
        print(f"{name:18s} running ({what}) ...", flush=True)
        r = run(name, dataset, flags, args.seed, args.epochs)
        results.append(r)
        print(f"{name:18s} test accuracy after the last epoch {r['final_test_accuracy']:.4f} "
              f"in {r['seconds']} s\n    {r['command']}", flush=True)
    print("\n| recipe | dataset | epochs | test accuracy (last epoch) | seconds | seed |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['recipe']} | {r['dataset']} | {r['epochs']} | {r['final_test_accuracy']:.2%} "
              f"| {r['seconds']} | {r['seed']} |")
    print("\nReferences (Fashion-MNIST benchmark table): " +
          "; ".join(f"{k}: {v:.1%}" for k, v in REFERENCES.items()))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
