#!/usr/bin/env python
"""Per-call speed of a prediction on one row (and on a few), as a service classifying one
picture at a time meets it: ``Network.predict_proba`` against ONNX Runtime (issue 20).

For a network of the shape of bench.py's ``wide`` configurations (``benchconfigs.WIDE``),
[784, 100, 10] sigmoid, float32, and 1, 10 and 100 rows, in one process and one thread
each, alternating:

* ``bprop``        ``net.predict_proba(X)``: the public call, with its checks of X and of
                   the weights;
* ``onnxruntime``  the same network exported by ``bprop.to_onnx`` (one Gemm and one
                   Sigmoid per layer), ``session.run`` of its ``output`` with one intra-op
                   thread; only when ``onnx`` and ``onnxruntime`` are installed
                   (``pip install 'bprop[onnx]' onnxruntime``);
* ``sklearn``      ``BpropClassifier.predict_proba`` holding the same network: scikit-learn's
                   checks of X, then ``predict_proba`` and the division of the sigmoid
                   outputs by their sum; only with scikit-learn installed;
* ``numpy``        the bare forward pass, z = w·a + b and σ by four ufuncs per layer, no
                   checks: what is left when nothing but the arithmetic runs.

Times are medians over blocks of calls (each block's mean), in microseconds per call.
bench.py runs this after its training table and ``--check`` holds ``bprop`` on one row
to :data:`TARGET_US`; alone: ``python benchmarks/onerow.py [--json OUT]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

try:
    from bprop.network import Network
except ImportError:     # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from bprop.network import Network

SIZES = [784, 100, 10]
ROWS = (1, 10, 100)
#: --check: bprop's predict_proba on one row of SIZES, float32, at most this many µs.
TARGET_US = 25.0


def onnx_session(net):
    """An onnxruntime session computing ``net``'s outputs for rows (the graph
    :func:`bprop.to_onnx` exports), or None when onnx or onnxruntime is not installed."""
    try:
        import onnxruntime
        from bprop.export import to_onnx
        model = to_onnx(net)
    except ImportError:
        return None
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(model.SerializeToString(), options,
                                           providers=["CPUExecutionProvider"])
    return lambda X: session.run(["output"], {"input": X})[0]


def sklearn_estimator(net):
    """A fitted :class:`bprop.sklearn.BpropClassifier` holding ``net`` (its scikit-learn
    checks of X come on top of ``predict_proba``'s), or None without scikit-learn."""
    try:
        from bprop.sklearn import BpropClassifier
    except ImportError:
        return None
    X = np.zeros((SIZES[-1], SIZES[0]), np.float32)
    est = BpropClassifier(SIZES[1:-1], output="sigmoid", cost="quadratic", epochs=0,
                          dtype="float32").fit(X, np.arange(SIZES[-1]))
    est.network_ = net
    return est


def bare_numpy(net):
    """The forward pass alone: two products, two bias additions, σ as four ufuncs."""
    weights, biases = net.weights, net.biases

    def forward(X):
        a = X.T
        for w, b in zip(weights, biases):
            z = np.dot(w, a)
            z += b
            np.negative(z, out=z)
            np.exp(z, out=z)
            z += 1.0
            a = np.reciprocal(z, out=z)
        return a.T
    return forward


def per_call_us(fn, X, calls, blocks):
    """Median over ``blocks`` blocks of ``calls`` calls of the mean µs per call."""
    fn(X)
    means = []
    for _ in range(blocks):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn(X)
        means.append((time.perf_counter() - t0) / calls * 1e6)
    return statistics.median(means)


def measure(blocks=15, seed=0):
    """``{"rows": {n: {impl: µs}}, "max_abs_diff": float | None, ...}`` for SIZES in
    float32, every implementation on one thread (bprop's BLAS set to 1 by the caller)."""
    with np.errstate(over="ignore"):
        net = Network(SIZES, init="xavier", rng=seed, dtype=np.float32)
    rng = np.random.default_rng(seed + 1)
    impls = {"bprop": net.predict_proba, "numpy": bare_numpy(net)}
    ort = onnx_session(net)
    if ort is not None:
        impls["onnxruntime"] = ort
    estimator = sklearn_estimator(net)
    if estimator is not None:
        impls["sklearn"] = estimator.predict_proba
    rows, diff = {}, None
    for n in ROWS:
        X = rng.random((n, SIZES[0]), dtype=np.float32)
        if ort is not None:
            diff = max(diff or 0.0, float(np.max(np.abs(ort(X) - net.predict_proba(X)))))
        calls = max(20, 2000 // n)
        times = {k: [] for k in impls}
        for _ in range(3):                  # alternate, so drift on the machine hits all
            for name, fn in impls.items():
                times[name].append(per_call_us(fn, X, calls, max(1, blocks // 3)))
        rows[n] = {name: statistics.median(t) for name, t in times.items()}
    return dict(sizes=SIZES, dtype="float32", rows=rows, max_abs_diff=diff,
                onnxruntime=ort is not None, target_us=TARGET_US,
                ok=rows[1]["bprop"] <= TARGET_US)


def report(result, p=print):
    """The table of :func:`measure`'s result, and the check's line."""
    impls = ["bprop", "sklearn", "onnxruntime", "numpy"]
    impls = [i for i in impls if i in result["rows"][ROWS[0]]]
    p(f"prediction per call, {result['sizes']} sigmoid, {result['dtype']}, one thread "
      f"(µs, median):")
    p("")
    p("| rows | " + " | ".join(impls) + (" | bprop / onnxruntime |" if "onnxruntime" in impls
                                          else " |"))
    p("|---:|" + "---:|" * (len(impls) + ("onnxruntime" in impls)))
    for n, t in result["rows"].items():
        cells = [f"{t[i]:.1f}" for i in impls]
        if "onnxruntime" in impls:
            cells.append(f"{t['bprop'] / t['onnxruntime']:.2f}")
        p(f"| {n} | " + " | ".join(cells) + " |")
    if result["max_abs_diff"] is not None:
        p(f"\nbprop vs onnxruntime: max |difference| of the outputs {result['max_abs_diff']:.1e}")
    else:
        p("\nonnxruntime not installed: its column is left out (pip install onnx onnxruntime)")
    p(f"check one-row predict_proba: {result['rows'][1]['bprop']:.1f} µs, want <= "
      f"{TARGET_US:g} µs: {'ok' if result['ok'] else 'FAIL'}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--blocks", type=int, default=15)
    ap.add_argument("--json", type=Path, help="write the measurements to this file")
    ap.add_argument("--check", action="store_true",
                    help=f"exit 1 when one row takes bprop more than {TARGET_US:g} µs")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from benchmachine import BlasThreads
    with BlasThreads(1):
        result = measure(args.blocks)
    report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 1 if args.check and not result["ok"] else 0


if __name__ == "__main__":
    sys.exit(main())
