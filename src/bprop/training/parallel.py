"""Data-parallel training: one mini-batch's backprop shared between worker processes.

BP1-BP4 give the gradient of the *summed* cost Σₓ Cₓ over a mini-batch, and a sum can be
split over any partition of the batch: ∇w = Σ over the slices of (Σ over the slice's
examples). With ``train(..., workers=k)`` the training loop forks k − 1 helper processes
once per run. In every step each process gathers its slice of the mini-batch and runs the
same matrix-based backprop on it (:func:`bprop.backprop.gather_rows`,
:func:`bprop.backprop.backprop_batch`);
the parent adds the helpers' ``nabla_w``/``nabla_b`` to its own and takes the optimiser's
step. Only the order of the additions differs from one process, so the weights agree with
a one-process run to rounding (a few units in the last place per step).

Why processes: each process has its own interpreter, so the ~20 small NumPy calls and the
gather of a step run truly in parallel (Python threads would take turns under the GIL), and
each runs its own one-thread BLAS on a product half the size. What it costs per step: the
hand-off, and adding each helper's gradients to the parent's (a pass over every weight
matrix). The processes wait for each other by spinning on counters in shared memory, which
takes well under a microsecond on the same machine (a sleeping wait, on a lock or a pipe,
costs tens of microseconds per step on a virtual machine, as much as a small network's
whole step); between epochs (evaluation, callbacks) the helpers sleep on a socket instead.
So it pays from mini-batches of about 50 up; for mini-batches of 10 of a 784-input network
the extra pass over w¹ and the hand-off make training slower (1.5-2× in our runs).

The weights and biases live in shared memory while the workers run (``net.weights[l]`` is a
view of it; the arrays the network had get the final values back and are put back in place
when training ends, however it ends; arrays a callback assigns to ``net.weights`` between
epochs are copied in). The data set is not copied: ``fork`` gives the helpers the parent's
memory, which they only read; so they see the training data as it was when training began
(a callback that changes ``X`` in place changes it for the parent's share only).

Limits: Linux on x86-64 (``fork``; and x86's ordering of memory writes, which the hand-off
relies on: a helper's gradients are written before its "done" counter, so a reader that
sees the counter sees the gradients; NumPy and OpenBLAS fence any non-temporal stores they
make before returning); at most as many workers as CPUs this process may use (a CPU quota
of a container is not seen). OpenBLAS is set to one thread in every process while the
workers run (restored after); with another BLAS set its thread count to 1 yourself
(``OMP_NUM_THREADS=1``), or the processes fight over the cores. With dropout or shifts each
helper draws from its own generator, seeded every epoch from the network's, so a run
repeats, and resumes, exactly with the same number of workers, but differs from a
one-process run.
"""

from __future__ import annotations

import os
import platform
import signal
import socket
import sys
import time
import warnings

import numpy as np

from .. import backprop as core
from ..errors import BpropError, ConfigError, whole
from ..stops import STOPS, held_stops
from .processes import (BlasThreads, available_cpus, process_state, reap, shared_array,
                        slice_bounds)
from .processes import openblas_controls  # noqa: F401  (importable from here, as it was)
from .steps import LocalSteps, OneDecides

#: ``ctl`` fields: the word the helpers wait on (step << 2 | command), the step's rows.
GO, START, M = range(3)
STEP, END_EPOCH, QUIT = 0, 1, 2
#: After this many spins a waiting process yields its core at every spin (a busy or
#: oversubscribed machine) and checks every 256 spins that the other side is alive.
SPINS_BEFORE_YIELD = 2000
#: A process that has waited this long sleeps a millisecond a spin instead of yielding.
SLEEP_AFTER = 0.05
#: The parent gives up on a helper that has not finished its share of a step for this many
#: seconds (the helper's share is no larger than the parent's own), or at once when the
#: helper is stopped (SIGSTOP).
WAIT_TIMEOUT = 60.0


class WorkerError(BpropError, RuntimeError):
    """A helper process of a data-parallel run failed or died."""


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


class Workers(OneDecides):
    """k − 1 forked helpers sharing each mini-batch's backprop with this process.

    The training loop's steps object (:mod:`bprop.training.steps`), like ``LocalSteps``:
    used as a context manager around the training loop, ``start_epoch(order)``, then per
    mini-batch ``gradients(start, m, scale)``, then ``end_epoch()``. Leaving the ``with``
    stops the helpers and puts the network's own weight arrays back.

    The hand-off: ``ctl[GO]`` holds one word, ``step << 2 | command``, written last, after
    the step's ``START``/``M``/scale; a helper reads the word once, does the step (or goes
    to sleep, or quits) and writes the step into ``done[j]``, after its gradients. Then,
    while the parent adds and steps, it gathers its rows of the next mini-batch (the
    training loop's next one starts where this one ended; if the parent asks for other rows
    they are gathered then). Between epochs a helper sleeps on a socket; the parent wakes it
    with one byte.
    """

    def __init__(self, net, X, Y, k, dropout=None, shifter=None, running_cost=False):
        self.net, self.X, self.Y, self.k = net, X, Y, k
        self.dropout, self.shifter = dropout, shifter
        #: This process's share of every step (a forked helper's copy keeps its own running
        #: cost), and where the helpers put theirs at each epoch's end.
        self.local = LocalSteps(net, X, Y, dropout, shifter, running_cost)
        self.summed = shared_array((k,), np.float64)
        self.order = shared_array((len(X),), np.int64)
        self.ctl = shared_array((3,), np.int64)
        self.scale = shared_array((1,), np.float64)
        self.seeds = shared_array((k,), np.int64)    # this epoch's, for dropout and shifts
        self.done = shared_array((k,), np.int64)     # done[j]: helper j's last step (-1: failed)
        self.failure = shared_array((k, 512), np.uint8)
        self.nablas = [([shared_array(w.shape, net.dtype) for w in net.weights],
                        [shared_array(b.shape, net.dtype) for b in net.biases])
                       for _ in range(k - 1)]
        self.step = 0
        self.pids, self.sockets = [], []
        self._own = self._shared = None
        self._blas = BlasThreads(1)

    # -- lifetime --------------------------------------------------------------------------
    def __enter__(self):
        net = self.net
        self._own = (net.weights, net.biases)
        shared_w = [shared_array(w.shape, w.dtype) for w in net.weights]
        shared_b = [shared_array(b.shape, b.dtype) for b in net.biases]
        for dst, src in zip((*shared_w, *shared_b), (*net.weights, *net.biases)):
            dst[...] = src
        self._shared = (shared_w, shared_b)
        net.weights, net.biases = list(shared_w), list(shared_b)
        try:
            self._blas.__enter__()      # one BLAS thread a process while the workers run
            for j in range(1, self.k):
                self._fork(j)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _fork(self, j):
        ours, theirs = socket.socketpair()
        with held_stops():                  # no Ctrl-C between the fork and its bookkeeping
            try:
                with warnings.catch_warnings():
                    # Python 3.12+ warns of fork() with threads running (OpenBLAS's): the
                    # helper only computes with NumPy and takes no lock another thread holds
                    warnings.filterwarnings("ignore", ".*fork", DeprecationWarning)
                    pid = os.fork()
            except OSError as e:
                ours.close()
                theirs.close()
                raise WorkerError(f"could not start a training worker process: "
                                  f"{e.strerror or e}") from None
            if pid == 0:                    # the helper: never returns
                self._helper_main(j, theirs, ours)
            theirs.close()
            self.pids.append(pid)
            self.sockets.append(ours)

    def __exit__(self, *exc):
        with held_stops():          # a second Ctrl-C must not leave this half done
            self._go(QUIT)
            for sock in self.sockets:
                try:
                    sock.send(b"q", socket.MSG_NOSIGNAL)
                except OSError:     # that helper is gone
                    pass
                finally:
                    sock.close()
            deadline = time.monotonic() + 5.0
            for pid in self.pids:
                reap(pid, deadline)
            self.pids, self.sockets = [], []
            self._blas.__exit__()
            if self._own is not None:
                own_w, own_b = self._own
                for dst, src in zip((*own_w, *own_b), (*self.net.weights, *self.net.biases)):
                    dst[...] = src
                self.net.weights, self.net.biases = own_w, own_b
                self._own = None
        return False

    # -- the parent's side -----------------------------------------------------------------
    def _go(self, command):
        self.step += 1
        self.ctl[GO] = self.step << 2 | command
        return self.step

    def start_epoch(self, order):
        """Hand the helpers this epoch's permutation (and seeds) and wake them."""
        self._adopt_rebound_arrays()
        self.order[:] = order
        self.local.start_epoch(self.order)
        if self.dropout is not None or self.shifter is not None:
            # drawn each epoch from the network's generator: a resumed run (whose generator
            # comes back from the checkpoint) continues as the uninterrupted one
            self.seeds[1:] = self.net.rng.integers(2**63, size=self.k - 1)
        for j, (pid, sock) in enumerate(zip(self.pids, self.sockets), start=1):
            try:
                sock.send(b"e", socket.MSG_NOSIGNAL)
            except OSError:
                raise self._failed(j, pid) from None

    def _adopt_rebound_arrays(self):
        """Where a callback gave the network new weight arrays, take their values into the
        shared ones (which the helpers read) and put those back in place."""
        net = self.net
        shared_w, shared_b = self._shared
        for have, shared, what in ((net.weights, shared_w, "weights"),
                                   (net.biases, shared_b, "biases")):
            if len(have) == len(shared) and all(a is b for a, b in zip(have, shared)):
                continue
            shapes = [np.shape(a) for a in have]
            if shapes != [a.shape for a in shared]:
                raise WorkerError(f"the network's {what} were replaced by arrays of shapes "
                                  f"{shapes} during training; the workers hold "
                                  f"{[a.shape for a in shared]}")
            for dst, src in zip(shared, have):
                dst[...] = src
        net.weights, net.biases = list(shared_w), list(shared_b)

    def end_epoch(self):
        """Send the helpers back to sleep until the next epoch (and hear that they went);
        returns the epoch's running cost, every process's, or None (as ``LocalSteps``)."""
        step = self._go(END_EPOCH)
        for j, pid in enumerate(self.pids, start=1):
            self._wait(j, pid, step)
        own = self.local.end_epoch()
        return None if own is None else own + float(self.summed[1:].sum())

    def gradients(self, start, m, scale):
        """The gradients of mini-batch ``order[start:start + m]``, times ``scale``, summed
        over every process's slice. Returns ``(ws, nabla_b, nabla_w, ws_scale)``: ``ws`` is
        this process's workspace, which holds its own slice only, and ``ws_scale`` is what
        an observer should read the gradients' scale as (``nabla / (ws_scale · rows of ws)``
        is the mean gradient over the whole mini-batch)."""
        ctl = self.ctl
        ctl[START], ctl[M] = start, m
        self.scale[0] = scale
        step = self._go(STEP)                   # written last: the helpers go
        lo, hi = self._rows(0, start, m)
        ws, nabla_b, nabla_w, _ = self.local.gradients(lo, hi - lo, scale)
        for j, pid in enumerate(self.pids, start=1):
            self._wait(j, pid, step)
        for helper_w, helper_b in self.nablas:
            for nw, hw in zip(nabla_w, helper_w):
                nw += hw
            for nb, hb in zip(nabla_b, helper_b):
                nb += hb
        return ws, nabla_b, nabla_w, scale * m / (hi - lo)

    def _wait(self, j, pid, step):
        done = self.done
        spins, since, waited = 0, None, 0.0
        while True:
            d = done[j]
            if d == step:
                return
            if d < 0:
                raise self._failed(j, pid)
            spins += 1
            if spins > SPINS_BEFORE_YIELD:
                if waited > SLEEP_AFTER:
                    time.sleep(0.001)
                else:
                    os.sched_yield()
                if spins % 256 == 0:
                    if os.waitpid(pid, os.WNOHANG)[0]:
                        self.pids[j - 1] = -1           # reaped
                        raise self._failed(j, pid)
                    now = time.monotonic()
                    since = since or now
                    waited = now - since
                    if waited > 1.0 and process_state(pid) in ("T", "t"):
                        raise WorkerError(f"training worker process {pid} is stopped "
                                          f"(SIGSTOP?), so the run cannot go on")
                    if waited > WAIT_TIMEOUT:
                        raise WorkerError(f"training worker process {pid} has not finished "
                                          f"its share of a step in {WAIT_TIMEOUT:.0f} s "
                                          f"(hung?), so the run stops")

    def _rows(self, j, start, m):
        """Where process j's share of mini-batch ``order[start:start + m]`` starts and ends."""
        bounds = slice_bounds(m, self.k)
        return start + bounds[j], start + bounds[j + 1]

    def _failed(self, j, pid):
        """The error for helper j: its own message if it wrote one, else that it died."""
        if self.done[j] < 0:
            text = bytes(self.failure[j]).rstrip(b"\0").decode(errors="replace")
            return WorkerError(f"training worker {j} failed: {text}")
        return WorkerError(f"training worker process {pid} died (killed, or out of memory?)")

    # -- the helper's side -----------------------------------------------------------------
    def _helper_main(self, j, sock, parent_end):
        status = 0
        try:
            for sig in STOPS:
                signal.signal(sig, signal.SIG_IGN)      # the parent stops us
            parent_end.close()
            for other in self.sockets:                  # earlier helpers' parent ends
                other.close()
            self._helper(j, sock)
        except BaseException as e:      # report it, never return into the parent's code
            status = 1
            text = f"{type(e).__name__}: {e}".encode(errors="replace")[:511]
            self.failure[j, :len(text)] = np.frombuffer(text, np.uint8)
            self.done[j] = -1
        finally:
            os._exit(status)            # no atexit handlers, no flushing the parent's buffers

    def _helper(self, j, sock):
        net, ctl, parent = self.net, self.ctl, os.getppid()
        own_w, own_b = self.nablas[j - 1]
        costs = self.local.costs            # the fork's copy: this helper's share alone
        seen = self.step << 2               # as at the fork: the parent may be a step ahead now
        n, ready = len(self.X), None        # ready: the rows already gathered for a step
        with np.errstate(over="ignore", invalid="ignore"):
            while sock.recv(1) == b"e":     # an epoch; b"q" or b"" (the parent is gone): stop
                dropout, shifter = self.dropout, self.shifter
                if dropout is not None or shifter is not None:
                    rng = np.random.default_rng(int(self.seeds[j]))
                    dropout = None if dropout is None else dropout.with_rng(rng)
                    shifter = None if shifter is None else shifter.with_rng(rng)
                while True:
                    spins, since, waited = 0, None, 0.0
                    word = ctl[GO]
                    while word == seen:
                        spins += 1
                        if spins > SPINS_BEFORE_YIELD:
                            # the parent may be busy (callbacks) or stopped: wait without
                            # burning a core
                            if waited > SLEEP_AFTER:
                                time.sleep(0.001)
                            else:
                                os.sched_yield()
                            if spins % 256 == 0:
                                if os.getppid() != parent:
                                    return
                                now = time.monotonic()
                                since = since or now
                                waited = now - since
                        word = ctl[GO]
                    seen = word
                    step, command = int(word) >> 2, int(word) & 3
                    if command == STEP:
                        start, m = int(ctl[START]), int(ctl[M])
                        lo, hi = self._rows(j, start, m)
                        if hi > lo:
                            ws = net.workspace(hi - lo)
                            if ready != (lo, hi):
                                core.gather_rows(ws, self.X, self.Y, self.order[lo:hi], shifter)
                            ws.nabla_w, ws.nabla_b = own_w, own_b   # straight into shared memory
                            core.backprop_batch(net, ws.x, ws.y, ws, float(self.scale[0]),
                                                dropout)
                            if costs is not None:
                                costs.add(ws.zs[-1], ws.y)
                        else:                       # fewer examples than processes
                            for g in (*own_w, *own_b):
                                g.fill(0)
                    if command == END_EPOCH and costs is not None:
                        self.summed[j] = costs.take()           # written before done[j]
                    self.done[j] = step
                    ready = None
                    if command == STEP and start + m < n:
                        # while the parent adds and steps: the next mini-batch's rows (the
                        # training loop's next one starts where this one ended)
                        lo, hi = self._rows(j, start + m, min(m, n - start - m))
                        if hi > lo:
                            core.gather_rows(net.workspace(hi - lo), self.X, self.Y,
                                             self.order[lo:hi], shifter)
                            ready = (lo, hi)
                    if command == QUIT:
                        return
                    if command == END_EPOCH:
                        break


