"""The training loop: mini-batch SGD (and friends) over arrays, with a per-epoch History.

``train(net, X, y, config)`` is what ``Network.fit``, the book's ``Network.SGD`` and the
command line all run. One epoch:

1. shuffle an index permutation from ``net.rng`` (never the data itself);
2. for each run of ``mini_batch_size`` indices, get the mini-batch's gradients from the
   steps object (:mod:`bprop.training.steps`: gather the rows, run the matrix-based
   backprop BP1-BP4; or share the batch between worker processes), show them to the
   callbacks, and let the optimiser update w and b;
3. evaluate what the config asks for (by default only the running cost: the mean of the
   examples' costs as their mini-batches were trained, which the steps object kept, so
   no extra pass over the data), check that the cost and the weights are finite, and hand
   an :class:`EpochRecord` to the callbacks; then apply the schedules and stopping rules
   (:mod:`bprop.training.schedules`).

``net`` is a :class:`bprop.Network`, or any object with its parameters (``sizes``,
``weights``, ``biases``, ``activations``, ``cost``, ``dtype``, ``rng``) and public methods
(``workspace``, ``check_X``, ``targets``, ``predict``, ``mean_cost``): the loop uses only
public names, and a subclass's overrides of those methods are the ones it calls. A network
whose class overrides the book's methods (its ``overridden``) is refused: the loop does not
call them. Nothing here prints.
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np

from ..errors import ConfigError, DataError, OutputOverflowError, ShapeError, check_int
from ..optimizers import Optimizer, optimizer_for
from ..outputs import predicted_classes, regularisation
from ..rows import LazyRows, OneHotRows
from ..validate import check_trainable, labels_of
from .augment import Dropout, Shifter
from .config import TrainConfig, fit_config
from .history import STOPPED_BY_CALLBACK, EpochRecord, History, epoch_printer
from .mpi import MPISteps
from .parallel import Workers, check_workers
from .processes import BlasThreads, blas_threads_for, blas_threads_now
from .progress import Progress
from .schedules import eta_for, restore_best, track
from .steps import LocalSteps


def train(net, X, y, config, *, validation=None, test=None, on_epoch_end=None,
          callbacks=(), progress=None, history=None, start_epoch=0, optimizer=None, workers=1,
          comm=None, threads=None):
    """Train ``net`` in place on rows ``X`` with labels or target rows ``y``.

    validation, test: optional ``(X, labels)`` pairs, evaluated after each epoch.
    on_epoch_end: called with each :class:`EpochRecord`; returning True stops training.
    callbacks: objects with optional ``observe_batch(net, ws, nabla_b, nabla_w, scale)``,
        ``every`` (call it every this many mini-batches) and ``end_epoch(record)``. With
        ``workers`` > 1 or MPI, ``ws`` holds this process's share of the mini-batch, and
        ``scale`` is such that ``nabla / (scale · rows of ws)`` is still the whole batch's
        mean; with MPI a callback's ``merge(add_up)``, if it has one, is called on every
        rank before ``end_epoch`` to combine the ranks' observations (every rank must pass
        the same such callbacks).
    progress: called as ``progress(examples_done, n)`` about a hundred times an epoch.
    history, start_epoch, optimizer: to resume a run (see :mod:`bprop.io` checkpoints).
    workers: processes that share each mini-batch's backprop (:mod:`bprop.training.parallel`;
        Linux on x86-64). 1, the default, trains in this process alone and repeats a run
        exactly; more gives the same weights to rounding (with dropout or shifts, other
        random draws), faster for mini-batches from about 50 up.
    comm: an MPI communicator (``mpi4py.MPI.COMM_WORLD``): every rank calls ``train`` with
        the same network, data and settings, and each mini-batch is shared between the
        ranks, its gradients summed by one Allreduce (:mod:`bprop.training.mpi`); the
        weights end equal on every rank and to a one-process run's to rounding.
    threads: BLAS threads for the run (restored after); default: 1 for networks whose
        largest weight matrix is under 100,000 entries (a second thread does not help them),
        else this process's share of the CPUs, and 1 with a warning when the machine is
        busy (:func:`bprop.training.processes.blas_threads_for`). The last digits of the
        weights can depend on the thread count.
    Returns the :class:`History`. Raises ``FloatingPointError`` when the cost or the weights
    stop being finite, naming the epoch (counted from 1: "in epoch 3 of 30").
    """
    if not isinstance(config, TrainConfig):
        raise ConfigError("config must be a TrainConfig")
    X = net.check_X(X)
    Y = net.targets(y, len(X))
    validation = _eval_set(net, validation, "validation")
    test = _eval_set(net, test, "test")
    callbacks, history, optimizer = _check_run(net, config, validation, callbacks, on_epoch_end,
                                               progress, history, start_epoch, optimizer)
    workers = check_workers(workers)
    if threads is not None:
        check_int(threads, "threads", minimum=1)
    ranks = comm.Get_size() if comm is not None else 1
    threads, why = blas_threads_for(net.sizes, threads, processes=max(workers, ranks),
                                    current=blas_threads_now())
    if why is not None:
        warnings.warn(why, stacklevel=2)
    if comm is not None and comm.Get_size() > 1 and workers > 1:
        raise ConfigError("give workers or an MPI communicator, not both (with MPI, start "
                          "one rank per CPU instead)")
    observers = [c for c in callbacks if hasattr(c, "observe_batch")]
    n, mbs = len(X), config.mini_batch_size
    dropout = Dropout(1.0 - config.dropout, net.rng) if config.dropout else None
    shifter = Shifter(config.image_shape, config.shift, net.rng) if config.shift else None
    n_batches = -(-n // mbs)
    progress_every = max(1, n_batches // 100)
    if comm is not None and comm.Get_size() > 1:
        steps = MPISteps(net, X, Y, comm, dropout, shifter, config.monitor_running_cost,
                         merging=[type(cb).__name__ for cb in callbacks if hasattr(cb, "merge")])
    elif workers > 1 and start_epoch < config.epochs:
        # each helper draws its own dropout masks and shifts, seeded from net.rng every epoch
        steps = Workers(net, X, Y, workers, dropout, shifter, config.monitor_running_cost)
    else:
        steps = LocalSteps(net, X, Y, dropout, shifter, config.monitor_running_cost)

    last_good = _LastGood(net, optimizer)
    with BlasThreads(threads), steps:
        for j in range(start_epoch, config.epochs):
            optimizer.eta = eta_for(j, config, history)
            t0 = time.perf_counter()
            steps.start_epoch(net.rng.permutation(n))
            # overflow is expected in a saturating sigmoid; a diverging run is caught below,
            # once per epoch, by the finiteness checks of _evaluate_epoch
            with np.errstate(over="ignore", invalid="ignore"):
                for k, start in enumerate(range(0, n, mbs)):
                    m = min(mbs, n - start)
                    ws, nabla_b, nabla_w, ws_scale = steps.gradients(start, m,
                                                                     optimizer.grad_scale(m))
                    for obs in observers:
                        if k % getattr(obs, "every", 1) == 0:
                            obs.observe_batch(net, ws, nabla_b, nabla_w, ws_scale)
                    optimizer.step(net.weights, net.biases, nabla_w, nabla_b, n)
                    if progress is not None and (k % progress_every == 0 or k == n_batches - 1):
                        progress(start + m, n)
            summed = steps.end_epoch()
            seconds = time.perf_counter() - t0
            try:
                record = _evaluate_epoch(net, j, optimizer.eta, seconds, config, X, Y,
                                         validation, test, summed, steps)
            except FloatingPointError as e:
                last_good.put_back()
                since = f"after epoch {j}" if j > start_epoch else "it started this run with"
                raise FloatingPointError(f"{e}; the network's weights are those {since} "
                                         f"again") from None
            for cb in callbacks:
                if steps.evaluators > 1 and hasattr(cb, "merge"):
                    # each process observed its share of the batches (Diagnostics.merge)
                    cb.merge(steps.add_up)
                if hasattr(cb, "end_epoch"):
                    cb.end_epoch(record)
            history.records.append(record)
            stop = track(net, record, config, history)
            asked = on_epoch_end is not None and bool(on_epoch_end(record))
            # with MPI, every rank stops when any decides to (a callback of one rank's own)
            asked, stop = steps.agree(asked, stop)
            if asked:
                history.stopped_early = history.stopped_early or STOPPED_BY_CALLBACK
                break
            if stop:
                break
            if j + 1 < config.epochs:
                last_good.keep()        # as the callbacks left them
    restore_best(net, config, history)
    return history


class _LastGood:
    """The weights and the optimiser's state of the last epoch that ended finite, put back
    when the next one diverges (a network trained for an hour is not lost to one too large
    eta), kept in arrays of their own that each epoch refreshes in place."""

    def __init__(self, net, optimizer):
        self.net, self.optimizer = net, optimizer
        self.params = [p.copy() for p in self._live()]
        self.state = self._state()

    def _live(self):
        return (*self.net.weights, *self.net.biases)

    def _state(self):
        return {name: np.array(a, copy=True) for name, a in self.optimizer.state().items()}

    def keep(self):
        for p, kept in zip(self._live(), self.params):
            np.copyto(kept, p)
        self.state = self._state()

    def put_back(self):
        for p, kept in zip(self._live(), self.params):
            np.copyto(p, kept)
        self.optimizer.load_state(self.state)        # this run ends: it may have them


def fit(net, X, y, epochs=30, batch_size=None, eta=3.0, verbose=0, **options):
    """``Network.fit``: the options are :func:`fit_config`'s, plus ``validation``, ``test``,
    ``on_epoch_end``, ``callbacks``, ``workers``, ``comm`` and ``threads`` as :func:`train`
    takes them; ``verbose`` prints each epoch's line, and on a terminal draws a bar while
    an epoch runs."""
    extra = {k: options.pop(k) for k in ("validation", "test", "on_epoch_end", "callbacks",
                                         "workers", "comm", "threads") if k in options}
    config = fit_config(epochs, batch_size, eta, **options)
    config.check_given(options)
    if verbose:
        bar = Progress.make(False, 1, config.epochs)     # drawn only on a terminal
        lines = epoch_printer(config, extra.get("on_epoch_end"))

        def end(record):
            bar.close()
            bar.epoch, bar.last_cost = record.epoch + 2, record.running_cost
            return lines(record)
        extra["on_epoch_end"], extra["progress"] = end, bar
        try:
            return train(net, X, y, config, **extra)
        finally:
            bar.close()
    return train(net, X, y, config, **extra)


def _check_run(net, config, validation, callbacks, on_epoch_end, progress, history,
               start_epoch, optimizer):
    """``(callbacks, history, optimizer)`` for the run, checked before the first epoch: the
    config against the network and data, the callbacks, and the history and optimizer to
    resume with (this network's) or new ones."""
    if (config.early_stopping or config.schedule == "plateau") and validation is None:
        raise ConfigError(f"{'early stopping' if config.early_stopping else 'the plateau schedule'}"
                          " needs validation data")
    if config.image_shape is not None and math.prod(config.image_shape) != net.sizes[0]:
        raise ShapeError(f"image_shape {config.image_shape} has {math.prod(config.image_shape)} "
                         f"pixels; the network takes {net.sizes[0]} inputs")
    check_trainable(net)
    if config.dropout and len(net.sizes) < 3:
        raise ConfigError(f"dropout drops hidden neurons, and the network {net.sizes} has "
                          f"no hidden layer")
    overridden = sorted(getattr(net, "overridden", ()))
    if overridden:
        raise ConfigError(f"{type(net).__name__} overrides {', '.join(overridden)}, which fit "
                          "and train do not call (they compute the gradients from the cost, "
                          "a mini-batch at a time); train it with SGD, which calls them")
    callbacks = _check_callbacks(callbacks, on_epoch_end, progress)
    check_int(start_epoch, "start_epoch", minimum=0)
    history = history if history is not None else History()
    if not isinstance(history, History):
        raise ConfigError(f"history must be a History (to resume a run) or None; got "
                          f"{type(history).__name__}")
    if history.best_params is not None and [p.shape for p in history.best_params] != \
            [p.shape for p in (*net.weights, *net.biases)]:
        raise ShapeError("the history's best weights are another network's (their shapes "
                         "differ from this one's)")
    optimizer = optimizer or optimizer_for(config)
    if not isinstance(optimizer, Optimizer):
        raise ConfigError(f"optimizer must be an Optimizer (bprop.optimizers) or None; got "
                          f"{optimizer!r}")
    try:
        optimizer.check_state(optimizer.state(), (*net.weights, *net.biases))
    except DataError as e:
        raise ShapeError(f"the optimizer holds state for another network: {e}") from None
    return callbacks, history, optimizer


def _check_callbacks(callbacks, on_epoch_end, progress):
    """The callbacks as a list, each hook callable and each ``every`` a positive integer,
    checked before the first epoch rather than failing at its end."""
    try:
        callbacks = list(callbacks)
    except TypeError:
        raise ConfigError(f"callbacks must be a list of callback objects; got "
                          f"{type(callbacks).__name__}") from None
    for name, fn in (("on_epoch_end", on_epoch_end), ("progress", progress)):
        if fn is not None and not callable(fn):
            raise ConfigError(f"{name} must be a function or None; got {fn!r}")
    for cb in callbacks:
        hooks = [h for h in ("observe_batch", "end_epoch") if hasattr(cb, h)]
        if not hooks or not all(callable(getattr(cb, h)) for h in hooks):
            raise ConfigError(f"callback {cb!r} has no callable observe_batch or end_epoch")
        if hasattr(cb, "observe_batch"):
            check_int(getattr(cb, "every", 1), f"{type(cb).__name__}.every", minimum=1)
    return callbacks


def _evaluate_epoch(net, j, eta, seconds, config, X, Y, validation, test, summed=None,
                    steps=None):
    """The epoch's record: what the config monitors, measured on data checked at the start;
    ``summed``: the epoch's Σₓ C_x as trained (for the running cost), or None. ``steps``:
    the run's steps object; with MPI each rank measures its share of every set and the
    shares are added up (:meth:`~bprop.training.mpi.MPISteps.share`), so that every rank
    records the same numbers."""
    record = EpochRecord(epoch=j, eta=eta, seconds=seconds)
    for name in ("weights", "biases"):     # an inf bias under a sigmoid leaves the cost finite
        for i, p in enumerate(getattr(net, name)):
            if not np.isfinite(p).all():
                raise _diverged(j, config, eta, f"{name}[{i}] are no longer finite")
    if summed is not None:
        record.running_cost = summed / len(X) + regularisation(net, len(X), config.lmbda,
                                                               config.l1)
    if steps is not None and steps.evaluators > 1:
        _evaluate_shares(net, j, eta, config, X, Y, validation, test, steps, record)
        return record
    if config.monitor_training_cost:
        record.train_cost = net.mean_cost(X, Y, config.lmbda, config.l1)
    _check_costs(record, j, config, eta)

    def predicted(rows):
        try:
            return net.predict(rows)
        except OutputOverflowError as e:    # the weights grew too large
            raise _diverged(j, config, eta, str(e)) from None

    if config.monitor_training_accuracy:
        record.train_accuracy = float(np.mean(predicted(X) == _truth(Y)))
    if validation is not None:
        Xv, yv, Yv = validation
        record.val_accuracy = float(np.mean(predicted(Xv) == yv))
        record.val_cost = net.mean_cost(Xv, Yv, config.lmbda, config.l1)
    if test is not None:
        Xt, yt, _ = test
        record.test_correct = int(np.count_nonzero(predicted(Xt) == yt))
        record.test_total = len(yt)
        record.test_accuracy = record.test_correct / len(yt)
    return record


def _truth(Y):
    return Y.labels if isinstance(Y, OneHotRows) else predicted_classes(Y)


def _part(rows, part):
    """Rows ``part`` (a slice) of an array, or of lazy rows without making them all."""
    return rows.part(part) if isinstance(rows, LazyRows) else rows[part]


def _check_costs(record, j, config, eta):
    for cost in (record.running_cost, record.train_cost):
        if cost is not None and not np.isfinite(cost):
            raise _diverged(j, config, eta, f"the cost is {cost}")


def _evaluate_shares(net, j, eta, config, X, Y, validation, test, steps, record):
    """:func:`_evaluate_epoch`'s measurements, each process on its share of each set: the
    counts of correct answers and the summed costs, added up in one reduction (with a flag
    for outputs that overflowed on any process, so that every process stops alike)."""
    sums = dict.fromkeys(("overflow", "train_cost", "train_correct", "val_cost", "val_correct",
                          "test_correct"), 0.0)

    def measure(rows, targets, labels, cost, correct):
        part = steps.share(len(rows))
        if part.stop == part.start:
            return
        mine = _part(rows, part)
        if cost:
            sums[cost] = net.mean_cost(mine, _part(targets, part)) * (part.stop - part.start)
        if correct:
            truth = _truth(_part(targets, part)) if labels is None else labels[part]
            sums[correct] = np.count_nonzero(net.predict(mine) == truth)

    try:
        if config.monitor_training_cost or config.monitor_training_accuracy:
            measure(X, Y, None, config.monitor_training_cost and "train_cost",
                    config.monitor_training_accuracy and "train_correct")
        if validation is not None:
            Xv, yv, Yv = validation
            measure(Xv, Yv, yv, "val_cost", "val_correct")
        if test is not None:
            measure(test[0], None, test[1], None, "test_correct")
    except OutputOverflowError:
        sums["overflow"] = 1.0
    total = dict(zip(sums, steps.add_up(np.array(list(sums.values())))))
    if total["overflow"]:
        raise _diverged(j, config, eta, "the network's outputs overflow: its weights are too "
                                        "large")
    n = len(X)
    if config.monitor_training_cost:
        record.train_cost = total["train_cost"] / n + regularisation(net, n, config.lmbda,
                                                                      config.l1)
    if config.monitor_training_accuracy:
        record.train_accuracy = float(total["train_correct"] / n)
    if validation is not None:
        n_val = len(validation[1])
        record.val_accuracy = float(total["val_correct"] / n_val)
        record.val_cost = total["val_cost"] / n_val + regularisation(net, n_val, config.lmbda,
                                                                      config.l1)
    if test is not None:
        record.test_correct, record.test_total = int(total["test_correct"]), len(test[1])
        record.test_accuracy = record.test_correct / record.test_total
    _check_costs(record, j, config, eta)


def _diverged(j, config, eta, what):
    """The FloatingPointError that ends a diverging run, naming the epoch (from 1)."""
    also = f" or lmbda (now {config.lmbda:g})" if config.lmbda else ""
    return FloatingPointError(f"training diverged in epoch {j + 1} of {config.epochs}: "
                              f"{what}; try a smaller eta (now {eta:g}){also}")


def _eval_set(net, data, name):
    """``(X, labels, target rows or None)`` of a validation or test set, checked once."""
    if data is None:
        return None
    try:
        X, y = data
    except (TypeError, ValueError):
        raise DataError(f"{name} must be an (X, y) pair") from None
    X = net.check_X(X)
    labels = labels_of(net, y, len(X))
    # the validation cost is measured against the targets as given (target rows are not
    # always one-hot), made once here; the test set is only scored
    Y = net.targets(y, len(X)) if name == "validation" else None
    return X, labels, Y
