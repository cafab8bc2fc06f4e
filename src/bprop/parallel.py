"""Data-parallel training: one mini-batch's backprop shared between worker processes.

BP1-BP4 give the gradient of the *summed* cost Σₓ Cₓ over a mini-batch, and a sum can be
split over any partition of the batch: ∇w = Σ over the slices of (Σ over the slice's
examples). With ``train(..., workers=k)`` the training loop forks k − 1 helper processes
once per run. In every step each process gathers its slice of the mini-batch and runs the
same matrix-based backprop on it (:meth:`bprop.Network._backprop_rows`); the parent adds
the helpers' ``nabla_w``/``nabla_b`` to its own and takes the optimiser's step. Only the
order of the additions differs from one process, so the weights agree with a one-process
run to rounding (a few units in the last place per step).

Why processes: each process has its own interpreter, so the ~20 small NumPy calls and the
gather of a step run truly in parallel (Python threads would take turns under the GIL), and
each runs its own one-thread BLAS on a product half the size. What it costs: a hand-off per
step through shared memory. The processes wait for each other by spinning on counters in
shared memory, which takes well under a microsecond on the same machine; a sleeping wait
(a lock or a pipe) costs tens of microseconds per step on a virtual machine, as much as a
small network's whole step. Between epochs (evaluation, callbacks) the helpers sleep on a
pipe instead. So it pays from mini-batches of about 50 up, and for small mini-batches of a
small network the hand-off costs more than it saves.

The weights and biases live in shared memory while the workers run (``net.weights[l]`` is a
view of it; the arrays the network had get the final values back and are put back in place
when training ends, however it ends). The data set is not copied: ``fork`` gives the helpers
the parent's memory, which they only read.

Limits: Linux on x86-64 (``fork``; and x86's ordering of memory writes, which the hand-off
relies on: the helper's gradients are written before its "done" counter, and a reader that
sees the counter sees the gradients); at most as many workers as CPUs this process may use.
OpenBLAS is set to one thread in every process while the workers run (restored after); with
another BLAS set its thread count to 1 yourself (``OMP_NUM_THREADS=1``), or the processes
fight over the cores. With dropout or shifts each helper draws from its own generator,
seeded from the network's, so runs are repeatable but not identical to one-process runs.
"""

from __future__ import annotations

import mmap
import os
import platform
import signal
import sys
import time

import numpy as np

from .errors import BpropError, ConfigError, whole

#: ``ctl`` fields: the step counter the helpers wait on, the command, the step's rows.
GO, CMD, START, M = range(4)
STEP, END_EPOCH, QUIT = 0, 1, 2
#: spins between checks that the other side is still alive; after ``SPINS_BEFORE_YIELD``
#: spins a waiting process also yields its core (a busy or oversubscribed machine).
CHECK_EVERY = 1 << 14
SPINS_BEFORE_YIELD = 2000


class WorkerError(BpropError, RuntimeError):
    """A helper process of a data-parallel run failed or died."""


def available_cpus():
    """How many CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def check_workers(workers):
    """``workers`` as an int, or ConfigError: a whole number from 1 to the CPUs available,
    and above 1 only where forked helpers can share memory (Linux on x86-64)."""
    k = whole(workers, 1)
    if k is None:
        raise ConfigError(f"workers must be a whole number >= 1; got {workers!r}")
    if k == 1:
        return 1
    if not (sys.platform.startswith("linux") and hasattr(os, "fork")
            and platform.machine().lower() in ("x86_64", "amd64")):
        raise ConfigError(f"workers > 1 needs Linux on an x86-64 CPU; this is "
                          f"{sys.platform} on {platform.machine() or 'an unknown CPU'}")
    cpus = available_cpus()
    if k > cpus:
        raise ConfigError(f"workers {k} is more than the {cpus} CPU{'s' if cpus > 1 else ''} "
                          f"this process may use; the workers would wait for each other")
    return k


def shared_array(shape, dtype):
    """A zeroed array in memory that forked processes share (an anonymous shared mapping)."""
    dtype = np.dtype(dtype)
    count = int(np.prod(shape, dtype=np.int64))
    buf = mmap.mmap(-1, max(count * dtype.itemsize, 1))
    return np.frombuffer(buf, dtype=dtype, count=count).reshape(shape)


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


class Workers:
    """k − 1 forked helpers sharing each mini-batch's backprop with this process.

    Use as a context manager around the training loop: ``start_epoch(order)``, then per
    mini-batch ``backprop(start, m, scale)``, then ``end_epoch()``. Leaving the ``with``
    stops the helpers and puts the network's own weight arrays back.
    """

    def __init__(self, net, X, Y, k, dropout=None, shifter=None, seeds=None):
        self.net, self.X, self.Y, self.k = net, X, Y, k
        self.dropout, self.shifter = dropout, shifter
        self.seeds = seeds                      # one per helper, for dropout and shifts
        self.order = shared_array((len(X),), np.int64)
        self.ctl = shared_array((4,), np.int64)
        self.scale = shared_array((1,), np.float64)
        self.done = shared_array((k,), np.int64)     # done[j]: helper j's last step (-1: failed)
        self.failure = shared_array((k, 512), np.uint8)
        self.nablas = [([shared_array(w.shape, net.dtype) for w in net.weights],
                        [shared_array(b.shape, net.dtype) for b in net.biases])
                       for _ in range(k - 1)]
        self.step = 0
        self.pids, self.pipes = [], []
        self._own = None

    # -- lifetime --------------------------------------------------------------------------
    def __enter__(self):
        net = self.net
        self._own = (net.weights, net.biases)
        shared_w = [shared_array(w.shape, w.dtype) for w in net.weights]
        shared_b = [shared_array(b.shape, b.dtype) for b in net.biases]
        for dst, src in zip((*shared_w, *shared_b), (*net.weights, *net.biases)):
            dst[...] = src
        net.weights, net.biases = shared_w, shared_b
        self._blas = [(set_, get()) for get, set_, _, _ in openblas_controls()]
        try:
            for set_, _ in self._blas:
                set_(1)
            for j in range(1, self.k):
                r, w = os.pipe()
                pid = os.fork()
                if pid == 0:                    # the helper: never returns
                    os.close(w)
                    for _, wfd in self.pipes:
                        os.close(wfd)
                    self._helper_main(j, r)
                os.close(r)
                self.pids.append(pid)
                self.pipes.append((pid, w))
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        self.ctl[CMD] = QUIT
        self.ctl[GO] = self.step = self.step + 1
        for _, w in self.pipes:
            try:
                os.write(w, b"q")
                os.close(w)
            except OSError:
                pass
        deadline = time.monotonic() + 5.0
        for pid in self.pids:
            self._reap(pid, deadline)
        self.pids, self.pipes = [], []
        for set_, before in self._blas:
            set_(before)
        if self._own is not None:
            own_w, own_b = self._own
            for dst, src in zip((*own_w, *own_b), (*self.net.weights, *self.net.biases)):
                dst[...] = src
            self.net.weights, self.net.biases = own_w, own_b
            self._own = None
        return False

    @staticmethod
    def _reap(pid, deadline):
        while True:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                return
            if done:
                return
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return
            time.sleep(0.001)

    # -- the parent's side -----------------------------------------------------------------
    def start_epoch(self, order):
        """Hand the helpers this epoch's permutation and wake them."""
        self.order[:] = order
        self.ctl[CMD] = STEP
        for pid, w in self.pipes:
            try:
                os.write(w, b"e")
            except OSError:
                raise self._died(pid) from None

    def end_epoch(self):
        """Send the helpers back to sleep until the next epoch."""
        self.ctl[CMD] = END_EPOCH
        self.ctl[GO] = self.step = self.step + 1

    def backprop(self, start, m, scale):
        """The gradients of mini-batch ``order[start:start + m]``, times ``scale``, summed
        over every process's slice. Returns ``(ws, nabla_b, nabla_w, ws_scale)``: ``ws`` is
        this process's workspace, which holds its own slice only, and ``ws_scale`` is what
        an observer should read the gradients' scale as (``nabla / (ws_scale · rows of ws)``
        is the mean gradient over the whole mini-batch)."""
        ctl = self.ctl
        ctl[START], ctl[M] = start, m
        self.scale[0] = scale
        self.step += 1
        step = self.step
        ctl[GO] = step                          # written last: the helpers go
        own = slice_bounds(m, self.k)[1]
        ws, nabla_b, nabla_w = self.net._backprop_rows(
            self.X, self.Y, self.order[start:start + own], scale, self.dropout, self.shifter)
        for j, pid in enumerate(self.pids, start=1):
            self._wait(j, pid, step)
        for helper_w, helper_b in self.nablas:
            for nw, hw in zip(nabla_w, helper_w):
                nw += hw
            for nb, hb in zip(nabla_b, helper_b):
                nb += hb
        return ws, nabla_b, nabla_w, scale * m / own

    def _wait(self, j, pid, step):
        done = self.done
        spins = 0
        while True:
            d = done[j]
            if d == step:
                return
            if d < 0:
                text = bytes(self.failure[j]).rstrip(b"\0").decode(errors="replace")
                raise WorkerError(f"training worker {j} failed: {text}")
            spins += 1
            if spins > SPINS_BEFORE_YIELD:
                os.sched_yield()
                if spins % 256 == 0 and os.waitpid(pid, os.WNOHANG)[0]:
                    self.pids.remove(pid)
                    raise self._died(pid)

    def _died(self, pid):
        return WorkerError(f"training worker process {pid} died (killed, or out of memory?)")

    # -- the helper's side -----------------------------------------------------------------
    def _helper_main(self, j, r):
        status = 0
        try:
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                signal.signal(sig, signal.SIG_IGN)      # the parent stops us
            self._helper(j, r)
        except BaseException as e:      # report it, never return into the parent's code
            status = 1
            text = f"{type(e).__name__}: {e}".encode(errors="replace")[:511]
            self.failure[j, :len(text)] = np.frombuffer(text, np.uint8)
            self.done[j] = -1
        finally:
            os._exit(status)            # no atexit handlers, no flushing the parent's buffers

    def _helper(self, j, r):
        net, ctl, parent = self.net, self.ctl, os.getppid()
        own_w, own_b = self.nablas[j - 1]
        dropout, shifter = self.dropout, self.shifter
        if self.seeds is not None:
            rng = np.random.default_rng(self.seeds[j - 1])
            if dropout is not None:
                dropout = (dropout[0], rng)
            if shifter is not None:
                shifter = shifter.with_rng(rng)
        seen = self.step        # as at the fork: the parent may be a step ahead by now
        with np.errstate(over="ignore", invalid="ignore"):
            while os.read(r, 1) == b"e":        # an epoch; b"q" or EOF (parent gone): stop
                while True:
                    spins = 0
                    while ctl[GO] == seen:
                        spins += 1
                        if spins > SPINS_BEFORE_YIELD:
                            os.sched_yield()
                            if spins % 256 == 0 and os.getppid() != parent:
                                return
                    seen = ctl[GO]
                    if ctl[CMD] != STEP:
                        break
                    start, m = int(ctl[START]), int(ctl[M])
                    bounds = slice_bounds(m, self.k)
                    lo, hi = start + bounds[j], start + bounds[j + 1]
                    if hi > lo:
                        ws = net._workspace(hi - lo)
                        ws.nabla_w, ws.nabla_b = own_w, own_b   # write straight into shared memory
                        net._backprop_rows(self.X, self.Y, self.order[lo:hi], float(self.scale[0]),
                                           dropout, shifter)
                    else:                       # fewer examples than processes
                        for g in (*own_w, *own_b):
                            g.fill(0)
                    self.done[j] = seen
                if ctl[CMD] == QUIT:
                    return
