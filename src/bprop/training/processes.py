"""What the data-parallel workers (:mod:`bprop.training.parallel`) need of the operating
system: how many CPUs this process may use, memory that forked processes share, OpenBLAS's
thread controls, each process's share of a mini-batch, and waiting for or on a helper.
"""

from __future__ import annotations

import functools
import mmap
import os
import signal
import time

import numpy as np


def available_cpus():
    """How many CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def shared_array(shape, dtype):
    """A zeroed array in memory that forked processes share (an anonymous shared mapping)."""
    dtype = np.dtype(dtype)
    count = int(np.prod(shape, dtype=np.int64))
    buf = mmap.mmap(-1, max(count * dtype.itemsize, 1))
    return np.frombuffer(buf, dtype=dtype, count=count).reshape(shape)


@functools.lru_cache(maxsize=None)
def openblas_controls():
    """(get, set, corename, path) ctypes functions of each OpenBLAS loaded in this process.

    NumPy's wheels bundle OpenBLAS with a ``scipy_`` prefix and a ``64_`` suffix; plain
    builds have neither. Empty when no OpenBLAS is loaded (or /proc cannot be read).
    """
    import ctypes

    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f
                     if "openblas" in line.rsplit("/", 1)[-1].lower() and "/" in line}
    except OSError:
        return []
    controls = []
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_", "64_"), ("", "64_"), ("", "")):
            get = getattr(lib, f"{prefix}openblas_get_num_threads{suffix}", None)
            set_ = getattr(lib, f"{prefix}openblas_set_num_threads{suffix}", None)
            if get is not None and set_ is not None:
                core = getattr(lib, f"{prefix}openblas_get_corename{suffix}", None)
                if core is not None:
                    core.restype = ctypes.c_char_p
                controls.append((get, set_, core, path))
                break
    return controls


def slice_bounds(m, k):
    """Where each of k processes' share of an m-example mini-batch starts and ends: as even
    as can be, the parent's (the first) never smaller than another's."""
    base, extra = divmod(m, k)
    bounds = [0]
    for j in range(k):
        bounds.append(bounds[-1] + base + (1 if j < extra else 0))
    return bounds


def process_state(pid):
    """The state letter of process ``pid`` in /proc (R running, S sleeping, T stopped, ...),
    or "" where it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0].decode()
    except (OSError, IndexError):
        return ""


def reap(pid, deadline):
    """Wait for helper ``pid`` to exit (SIGKILL once ``deadline`` passes, or at once when it
    is stopped and cannot exit); -1: reaped."""
    if pid < 0:
        return
    while True:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done:
            return
        if time.monotonic() > deadline or process_state(pid) in ("T", "t"):    # stopped
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return
        time.sleep(0.001)


#: A layer whose weight matrix has fewer entries than this runs no faster on a second BLAS
#: thread (benchmarks/README.md: the book's [784, 30, 10] and [784, 100, 10] at mini-batch
#: 10-100), and a second thread on a busy machine makes it much slower.
SMALL_LAYER = 100_000


def blas_threads_for(sizes, threads=None, processes=1, current=None):
    """``(n, why)``: the BLAS threads a training process should use, and why when it is
    fewer than asked or than the CPUs allow (a warning's text), else None.

    threads: the caller's choice, kept (but said to be too many when the machine is busy);
    else 1 for networks whose largest weight matrix is under :data:`SMALL_LAYER` entries,
    else this process's share of the CPUs (``processes`` training processes), and 1 when
    the machine is already busy (load average at or above the CPUs less a half); never more
    than ``current``, the count in force (a limit the user set: OPENBLAS_NUM_THREADS,
    threadpoolctl, a job scheduler's)."""
    cpus = available_cpus()
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = 0.0
    busy = load >= cpus - 0.5
    if threads is not None:
        why = None
        if threads > cpus:
            why = (f"{threads} BLAS threads on {cpus} CPU{'s' if cpus > 1 else ''} only take "
                   f"turns; give at most {cpus}")
        elif threads > 1 and busy:
            why = (f"{threads} BLAS threads on a busy machine (load average {load:.1f} on "
                   f"{cpus} CPUs) can be many times slower than 1; consider --threads 1")
        return threads, why
    if max(a * b for a, b in zip(sizes[:-1], sizes[1:])) < SMALL_LAYER:
        return 1, None
    share = max(1, cpus // max(processes, 1))
    if current is not None:
        share = min(share, current)
    if busy and share > 1:
        return 1, (f"1 BLAS thread, not {share}: the machine is busy (load average "
                   f"{load:.1f} on {cpus} CPUs)")
    return share, None


def blas_threads_now():
    """The fewest threads any loaded OpenBLAS is set to, or None without OpenBLAS."""
    counts = [get() for get, _, _, _ in openblas_controls()]
    return min(counts) if counts else None


class BlasThreads:
    """Hold every loaded OpenBLAS at ``n`` threads for a ``with`` block, then restore the
    counts they had (a no-op without OpenBLAS, or with ``n`` None)."""

    def __init__(self, n):
        self.n, self.before = n, []

    def __enter__(self):
        if self.n is not None:
            self.before = [(set_, get()) for get, set_, _, _ in openblas_controls()]
            for set_, _ in self.before:
                set_(self.n)
        return self

    def __exit__(self, *exc):
        for set_, before in self.before:
            set_(before)
        self.before = []
        return False
