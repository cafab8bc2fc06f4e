"""Data-parallel training over MPI (``mpi4py``): the same SGD on K processes, any machines.

BP1-BP4 give the gradient of the *summed* cost Σₓ Cₓ over a mini-batch, and a sum splits
over any partition of the batch. With ``train(..., comm=MPI.COMM_WORLD)`` (or ``mpiexec -n
K bprop train ...``) every rank holds the whole network and the same training data, draws
the same permutation each epoch (from the network's generator, the same on every rank),
takes its slice of each global mini-batch (:func:`bprop.training.processes.slice_bounds`),
runs the matrix-based BP1-BP4 on it, and the slices' sums are added by **one
``Allreduce`` on one contiguous buffer** (every ``nabla_w``/``nabla_b`` packed into it).
Every rank then takes the same optimiser step, so the weights stay equal on every rank
(and rank 0's are broadcast at each epoch's end, so that no rounding can make them drift)
and equal a one-process run of the same global mini-batches to rounding.

Bytes reduced per step: (number of weights and biases) × the dtype's size, e.g. 190,880 for
[784, 30, 10] in float64 (95,440 in float32); with a ring all-reduce each rank sends and
receives about 2(K−1)/K of that per step.

After each epoch every rank evaluates its share of the validation and test sets (and of
the training set, where monitored; :meth:`MPISteps.share`), and the counts of correct
answers and the cost sums are added up (:meth:`MPISteps.add_up`), so that every rank
records the same history.

With dropout or image shifts each rank draws its own masks, from a generator seeded every
epoch from the network's: a run repeats, and resumes, exactly with the same number of
ranks, but differs from a one-process run (and from one with another number of ranks).

Faults: the ranks check at the start that they train on the same data (sizes and a hash of
rows sampled over it) and the same network, and refuse to start otherwise. Every
reduction is non-blocking and polled, so a rank stopped, hung or dead makes the others
raise :class:`MPIError` after :data:`TIMEOUT` seconds (``BPROP_MPI_TIMEOUT``) rather than
wait forever, and Ctrl-C or SIGTERM (which ``mpiexec`` forwards to every rank) stops each
rank at its next poll.
"""

from __future__ import annotations

import math
import os
import time

import numpy as np

from .. import backprop as core
from ..errors import BpropError, ConfigError, DataError
from ..outputs import CostSum
from ..rows import fingerprint
from .processes import slice_bounds

#: Seconds a rank waits for the others in one reduction before it gives up (MPIError), unless
#: the environment's ``BPROP_MPI_TIMEOUT`` says otherwise (:func:`mpi_timeout`).
TIMEOUT = 60.0
#: Seconds a rank polls a reduction without pausing before it starts to sleep between polls.
SPIN_SECONDS = 0.05


class MPIError(BpropError, RuntimeError):
    """Another rank of an MPI run did not answer in time, or the ranks disagree."""


def mpi_timeout():
    """``BPROP_MPI_TIMEOUT`` (seconds, a positive number), else :data:`TIMEOUT`."""
    text = os.environ.get("BPROP_MPI_TIMEOUT")
    if text is None:
        return TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"BPROP_MPI_TIMEOUT must be a positive number of seconds; got "
                          f"{text!r}")
    return value


def mpi_rank():
    """This process's rank in an ``mpiexec`` launch (from MPICH's or Open MPI's
    environment, without importing MPI), or 0."""
    rank = os.environ.get("PMI_RANK") or os.environ.get("OMPI_COMM_WORLD_RANK")
    return int(rank) if rank and rank.isdigit() else 0


def mpi_world():
    """``MPI.COMM_WORLD`` when this process was started by ``mpiexec`` with more than one
    rank (MPICH's or Open MPI's environment says so), else None. Raises ``ImportError``
    naming the extra to install when the environment is an MPI launch without mpi4py."""
    size = os.environ.get("PMI_SIZE") or os.environ.get("OMPI_COMM_WORLD_SIZE") or \
        os.environ.get("MPI_LOCALNRANKS")
    if size is None or int(size) <= 1:
        return None
    try:
        from mpi4py import MPI
    except ImportError:
        raise ModuleNotFoundError("this was started by mpiexec with several ranks, but "
                                  "training on them needs mpi4py: pip install 'bprop[mpi]'",
                                  name="mpi4py") from None
    return MPI.COMM_WORLD


def reduction_bytes(net):
    """The bytes each step's Allreduce sums: every weight and bias in the network's dtype."""
    return net.n_params * np.dtype(net.dtype).itemsize


class MPISteps:
    """Each mini-batch's gradients summed over the ranks of ``comm`` (see the module).

    The same calls as :class:`bprop.training.steps.LocalSteps`; ``ws`` is this rank's
    share of the mini-batch and ``ws_scale`` such that ``nabla / (ws_scale · rows of ws)``
    is the whole batch's mean gradient. timeout: seconds to wait for the other ranks.
    """

    def __init__(self, net, X, Y, comm, dropout=None, shifter=None, running_cost=False,
                 timeout=None, merging=()):
        from mpi4py import MPI
        self.MPI, self.comm = MPI, comm
        self.rank, self.k = comm.Get_rank(), comm.Get_size()
        self.evaluators = self.k
        self.net, self.X, self.Y = net, X, Y
        self.dropout, self.shifter = dropout, shifter
        self.costs = CostSum(net) if running_cost else None
        self.timeout = mpi_timeout() if timeout is None else timeout
        self.order = None
        self.merging = list(merging)    # the callbacks whose observations are merged
        self.empty = None               # the workspace of a share with no rows
        params = (*net.weights, *net.biases)
        self.flat = np.zeros(sum(p.size for p in params), net.dtype)
        self.views, offset = [], 0
        for p in params:
            self.views.append(self.flat[offset:offset + p.size].reshape(p.shape))
            offset += p.size
        self.reduce_seconds = 0.0       # time spent in the reductions, for the benchmarks

    def __enter__(self):
        self._wait(self.comm.Ibarrier(), "the start of training")   # every rank is here
        self._check_same_run()
        self._share(self._parameters(), "the initial weights")
        state = self.comm.bcast(self.net.rng.bit_generator.state, root=0)
        self.net.rng.bit_generator.state = state
        return self

    def __exit__(self, *exc):
        return False

    # -- the seam's calls ----------------------------------------------------------------------
    def start_epoch(self, order):
        self.order = order
        if self.dropout is not None or self.shifter is not None:
            # the same draw on every rank keeps the generators equal; each rank then uses
            # its own seed for its masks and shifts
            seeds = self.net.rng.integers(2**63, size=self.k)
            rng = np.random.default_rng(int(seeds[self.rank]))
            self.dropout = None if self.dropout is None else self.dropout.with_rng(rng)
            self.shifter = None if self.shifter is None else self.shifter.with_rng(rng)

    def gradients(self, start, m, scale):
        bounds = slice_bounds(m, self.k)
        lo, hi = start + bounds[self.rank], start + bounds[self.rank + 1]
        ws = self.net.workspace(max(hi - lo, 1))
        n_w = len(self.net.weights)
        if ws.nabla_w[0] is not self.views[0]:
            # backprop writes its sums straight into the buffer the Allreduce sends
            ws.nabla_w, ws.nabla_b = self.views[:n_w], self.views[n_w:]
        if hi > lo:
            core.gather_rows(ws, self.X, self.Y, self.order[lo:hi], self.shifter)
            core.backprop_batch(self.net, ws.x, ws.y, ws, scale, self.dropout)
            if self.costs is not None:
                self.costs.add(ws.zs[-1], ws.y)
        else:                           # a batch smaller than the ranks: nothing here
            self.flat.fill(0.0)
            if self.empty is None:
                self.empty = core.Workspace(self.net.sizes, 0, self.net.dtype)
            ws = self.empty             # what the callbacks see: no rows
        self._allreduce(self.flat, "the gradients of a step")
        return ws, self.views[n_w:], self.views[:n_w], scale * m / max(hi - lo, 1)

    def end_epoch(self):
        total = None
        if self.costs is not None:
            total = np.array([self.costs.take()], np.float64)
            self._allreduce(total, "the epoch's cost")
            total = float(total[0])
        self._share(self._parameters(), "the weights")
        return total

    def agree(self, *flags):
        """Each flag true on every rank when it is true on any (one Allreduce): a stop one
        rank's callback asks for stops them all, rather than leaving the others waiting."""
        votes = np.array(flags, np.int64)
        self._wait(self.comm.Iallreduce(self.MPI.IN_PLACE, votes, op=self.MPI.MAX),
                   "the decision to stop")
        return tuple(bool(v) for v in votes)

    def share(self, n):
        """This rank's slice of a set of ``n`` rows to evaluate: each rank measures its own
        part of the validation and test sets (and the training set, where monitored)."""
        bounds = slice_bounds(n, self.k)
        return slice(int(bounds[self.rank]), int(bounds[self.rank + 1]))

    def add_up(self, values):
        """``values`` summed over the ranks (one Allreduce; the same result on every rank,
        rank 0's being broadcast)."""
        values = np.ascontiguousarray(values, np.float64)
        self._wait(self.comm.Iallreduce(self.MPI.IN_PLACE, values, op=self.MPI.SUM),
                   "the epoch's evaluation")
        self._wait(self.comm.Ibcast(values, root=0), "the epoch's evaluation")
        return values

    # -- helpers -------------------------------------------------------------------------------
    def _parameters(self):
        return (*self.net.weights, *self.net.biases)

    def _allreduce(self, buffer, what):
        t0 = time.perf_counter()
        self._wait(self.comm.Iallreduce(self.MPI.IN_PLACE, buffer, op=self.MPI.SUM), what)
        self.reduce_seconds += time.perf_counter() - t0

    def _share(self, params, what):
        """Rank 0's parameters on every rank (one broadcast of one buffer)."""
        buffer = np.concatenate([p.reshape(-1) for p in params]) if self.rank == 0 else \
            np.empty(sum(p.size for p in params), self.net.dtype)
        self._wait(self.comm.Ibcast(buffer, root=0), what)
        if self.rank != 0:
            offset = 0
            for p in params:
                p[...] = buffer[offset:offset + p.size].reshape(p.shape)
                offset += p.size

    def _wait(self, request, what):
        """Poll a non-blocking request until it completes. MPI moves a non-blocking
        collective on only while it is polled, so the first 50 ms are polled without a
        pause (a step's reduction takes well under that); then a millisecond's sleep
        between polls, so that a stopped or dead rank costs no CPU and is an error after
        ``timeout`` seconds. Ctrl-C (a Python signal handler) is seen at the next poll."""
        start = None
        spins = 0
        while not request.Test():
            spins += 1
            if spins % 64:
                continue
            now = time.monotonic()
            start = start or now
            if now - start < SPIN_SECONDS:
                continue
            if now - start > self.timeout:
                raise MPIError(f"rank {self.rank} of {self.k}: no answer from the other ranks "
                               f"for {self.timeout:.0f} s while summing {what} (a rank "
                               f"stopped, hung or died?); stopping")
            time.sleep(0.001)

    def _check_same_run(self):
        """Refuse to start when the ranks' data or networks differ (another file, another
        version of it, other settings): rank 0's is what the run trains on."""
        mine = (self.net.sizes, str(np.dtype(self.net.dtype)), fingerprint(self.X, self.Y),
                self.merging)
        everyone = self.comm.allgather(mine)
        for rank, theirs in enumerate(everyone):
            if theirs[3] != everyone[0][3]:
                raise MPIError(f"rank {rank} has callbacks {theirs[3]} whose observations are "
                               f"merged over the ranks, rank 0 {everyone[0][3]}; every rank "
                               f"must pass the same callbacks")
            if theirs[:2] != everyone[0][:2]:
                raise MPIError(f"rank {rank} has a network {theirs[0]} {theirs[1]}, rank 0 "
                               f"{everyone[0][0]} {everyone[0][1]}; every rank must train the "
                               f"same network")
            if theirs[2] != everyone[0][2]:
                raise DataError(f"rank {rank}'s training data differ from rank 0's "
                                f"({theirs[2]} against {everyone[0][2]}); every rank must "
                                f"read the same data")

