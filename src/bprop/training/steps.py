"""Where a training step's gradients come from: the training loop's one seam.

The loop asks a *steps* object, once per epoch, ``start_epoch(order)`` (the epoch's
permutation), then for each mini-batch ``gradients(start, m, scale)``: the gradients of
``scale`` times the cost summed over examples ``order[start:start + m]``, as
``(ws, nabla_b, nabla_w, ws_scale)``, and at the end ``end_epoch()``, which returns the
cost Σₓ C_x of the epoch's examples as they were trained (each mini-batch's with the
weights before its step; the running cost), or None when not asked to keep it; then
``agree(*flags)``, the epoch's stop decisions as every process of the run takes them. For
the epoch's evaluation, shared by ``evaluators`` processes, ``share(n)`` is the slice of a
set of n rows this process measures and ``add_up(values)`` sums what they measured. It is used as a context manager
around the whole run.

:class:`LocalSteps` computes them in this process: gather the rows, run the matrix-based
BP1-BP4 (:func:`bprop.backprop.backprop_batch`). :class:`bprop.training.parallel.Workers`
answers the same calls by sharing each mini-batch between processes and adding their sums,
since BP1-BP4's gradients are sums over examples, and
:class:`bprop.training.mpi.MPISteps` by sharing it between MPI ranks and summing their
gradients with one Allreduce.

``ws`` is the workspace that holds this process's rows (what a diagnostics callback reads);
``ws_scale`` is such that ``nabla / (ws_scale · rows of ws)`` is the mean gradient over the
whole mini-batch.
"""

from __future__ import annotations

from .. import backprop as core
from ..outputs import CostSum


class OneDecides:
    """The calls of the seam that only matter when several processes decide and evaluate
    (MPI): one process (this one, or a parent with helpers) takes every decision and
    evaluates every set whole."""

    #: How many processes share the epoch's evaluation (:meth:`share`, :meth:`add_up`).
    evaluators = 1

    def agree(self, *flags):
        """The epoch's decisions (stop or not) as every process sharing the run sees them:
        here, as they are."""
        return flags

    def share(self, n):
        """The slice of a set of ``n`` rows this process evaluates: here, all of them."""
        return slice(0, n)

    def add_up(self, values):
        """``values`` (a float64 array) summed over the processes that evaluate: here, as
        they are."""
        return values


class LocalSteps(OneDecides):
    """One process: each mini-batch's gradients from :func:`bprop.backprop.backprop_batch`.

    net: the network (its ``workspace(m)`` buffers are used); X, Y: training rows and target
    rows; dropout, shifter: augmentation (:mod:`bprop.training.augment`) or None;
    running_cost: keep the epoch's running cost (from the zᴸ each step leaves in the
    workspace: no extra pass).
    """

    def __init__(self, net, X, Y, dropout=None, shifter=None, running_cost=False):
        self.net, self.X, self.Y = net, X, Y
        self.dropout, self.shifter = dropout, shifter
        self.costs = CostSum(net) if running_cost else None
        self.order = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def start_epoch(self, order):
        self.order = order

    def gradients(self, start, m, scale):
        ws = core.gather_rows(self.net.workspace(m), self.X, self.Y,
                              self.order[start:start + m], self.shifter)
        nabla_b, nabla_w = core.backprop_batch(self.net, ws.x, ws.y, ws, scale, self.dropout)
        if self.costs is not None:
            self.costs.add(ws.zs[-1], ws.y)
        return ws, nabla_b, nabla_w, scale

    def end_epoch(self):
        return None if self.costs is None else self.costs.take()

