"""Peak resident memory of one epoch of training, measured in a fresh interpreter
(``bench.py --memory-child CONFIG``), against the size of the data and of the model.
"""

from __future__ import annotations

import gc
import json
import resource
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

try:
    from bprop.training import TrainConfig, train
except ImportError:     # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from bprop.training import TrainConfig, train

from benchconfigs import CONFIGS
from benchdata import load_data
from benchmachine import BlasThreads
from benchrunners import make_net

#: The script whose hidden ``--memory-child`` option runs :func:`memory_child`.
BENCH = Path(__file__).with_name("bench.py")


def _status_kib(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def memory_child(cfg_name, args):
    """Runs in a fresh interpreter: load data, train one epoch, report peak RSS as JSON."""
    cfg = next(c for c in CONFIGS if c.name == cfg_name)
    if args.threads is not None:
        cfg = replace(cfg, threads=args.threads)
    base = _status_kib("VmRSS")
    # test=True: the same rule as the timed runs (all four files, else random data)
    data = load_data(args.data_dir, np.dtype(cfg.dtype), args.n_train)
    X, y, source = data["X"], data["y"], data["source"]
    del data
    gc.collect()
    net = make_net(cfg, args.seed)
    loaded = _status_kib("VmRSS")
    try:                                      # Linux >= 4.0: reset VmHWM to the current RSS
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        reset = True
    except OSError:
        reset = False
    with BlasThreads(cfg.threads):
        train(net, X, y, TrainConfig(epochs=1, mini_batch_size=cfg.mini_batch_size, eta=cfg.eta,
                                     monitor_running_cost=False))
    out = dict(base_kib=base, loaded_kib=loaded, peak_kib=_status_kib("VmHWM"), source=source,
               ru_maxrss_kib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               hwm_reset=reset, data_bytes=X.nbytes + y.nbytes,
               model_bytes=sum(w.nbytes + b.nbytes for w, b in zip(net.weights, net.biases)))
    print(json.dumps(out))


def measure_memory(cfg, args):
    cmd = [sys.executable, str(BENCH), "--memory-child", cfg.name, "--data-dir",
           str(args.data_dir), "--seed", str(args.seed), "--threads", str(cfg.threads)]
    if args.n_train:
        cmd += ["--n-train", str(args.n_train)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        return {"config": cfg.name,
                "error": res.stderr.strip().splitlines()[-1] if res.stderr else "failed"}
    m = json.loads(res.stdout.strip().splitlines()[-1])
    peak = m["peak_kib"] if m["hwm_reset"] else m["ru_maxrss_kib"]
    # against the interpreter before loading (what the check uses: it also counts what
    # loading leaves behind), and against the resident size once loaded (training alone)
    m["overhead_mib"] = (peak * 1024 - m["base_kib"] * 1024 - m["data_bytes"]
                         - m["model_bytes"]) / 2**20
    m["training_mib"] = (peak - m["loaded_kib"]) / 1024
    m["config"] = cfg.name
    return m
