"""The machine a benchmark runs on: the BLAS (and torch) thread count fixed for a run
(:class:`BlasThreads`), and what is known of the CPU, BLAS and environment
(:func:`machine_info`), for the report's header and its JSON.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np

try:
    from bprop.training.parallel import openblas_controls
except ImportError:     # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from bprop.training.parallel import openblas_controls


class BlasThreads:
    """Fix the BLAS thread count for one config (threadpoolctl, else OpenBLAS via ctypes),
    and torch's."""

    def __init__(self, n, torch_mod=None):
        self.n, self.torch = n, torch_mod
        self.ctx, self.restore, self.fixed = None, [], False

    def __enter__(self):
        try:
            from threadpoolctl import threadpool_limits
            self.ctx = threadpool_limits(limits=self.n, user_api="blas")
            self.fixed = True
        except ImportError:
            for get, set_, _, _ in openblas_controls():
                self.restore.append((set_, get()))
                set_(self.n)
                self.fixed = True
        if self.torch is not None:
            self.torch_before = self.torch.get_num_threads()
            self.torch.set_num_threads(self.n)
        return self

    def current(self):
        """The thread counts in force now: the BLAS libraries' (threadpoolctl, else
        OpenBLAS's own getter) and torch's."""
        try:
            from threadpoolctl import threadpool_info
            blas = [d["num_threads"] for d in threadpool_info() if d.get("user_api") == "blas"]
        except ImportError:
            blas = [get() for get, _, _, _ in openblas_controls()]
        return {"blas": blas,
                "torch": self.torch.get_num_threads() if self.torch is not None else None}

    def __exit__(self, *exc):
        if self.ctx is not None:
            self.ctx.restore_original_limits()
        for set_, before in self.restore:
            set_(before)
        if self.torch is not None:
            self.torch.set_num_threads(self.torch_before)


def machine_info(torch_mod):
    info = {"python": platform.python_version(), "numpy": np.__version__,
            "platform": platform.platform(), "cpus": os.cpu_count(),
            "torch": getattr(torch_mod, "__version__", None),
            "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                                   "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                                   "MKL_NUM_THREADS")}}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        info["cpu"] = next((ln.split(":", 1)[1].strip() for ln in out.splitlines()
                            if ln.startswith("Model name")), platform.processor())
        flags = next((ln for ln in out.splitlines() if ln.startswith("Flags")), "")
        info["simd"] = [f for f in ("avx2", "fma", "avx512f") if f" {f}" in flags]
    except OSError:
        info["cpu"] = platform.processor()
    try:
        from threadpoolctl import threadpool_info
        # num_threads here is the default before any config's limit; each result's
        # "threads_in_force" holds what its runs had
        info["blas"] = [{k: d.get(k) for k in ("internal_api", "prefix", "version",
                                                "architecture", "num_threads",
                                                "threading_layer", "filepath")}
                        for d in threadpool_info()]
    except ImportError:
        cfg = np.show_config(mode="dicts") if np.lib.NumpyVersion(np.__version__) >= "1.26.0" \
            else {}
        blas = cfg.get("Build Dependencies", {}).get("blas", {}) if cfg else {}
        controls = openblas_controls()
        core = controls[0][2] if controls and controls[0][2] is not None else None
        info["blas"] = [{"internal_api": blas.get("name"), "version": blas.get("version"),
                         "architecture": core().decode() if core else "?",
                         "num_threads": controls[0][0]() if controls else None,
                         "filepath": controls[0][3] if controls else None}]
    info["loadavg_start"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    if "scipy" in sys.modules:
        info["warning"] = ("scipy was imported: its own OpenBLAS may compete with NumPy's "
                           "for the cores")
    return info
