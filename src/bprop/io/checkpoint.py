"""Training checkpoints: what one holds, how a run writes one, how a run goes on from one.

A checkpoint is a model file whose header also holds the run's settings, history, epochs
done, generator state and optimiser state (:mod:`bprop.modelfile`). Three pieces of policy
live here, so that the command line and a Python program go on from one the same way:

* :class:`Checkpointer` writes one after each epoch: the model file (atomically), then the
  history files beside it; a failed write is a :class:`bprop.errors.CheckpointError` saying
  what the file still holds.
* :meth:`Checkpoint.resume` says how a run goes on under (possibly changed) settings: where
  it starts, with which history and optimiser state, and whether anything is left to train
  (a run that early stopping or the plateau schedule stopped, which the settings would stop
  again at once, is not trained further).
* :meth:`Checkpoint.fixed_settings`: what a resumed run keeps (the network, the seed and
  the data split); ``bprop train --resume`` refuses flags that differ from it.

In Python::

    saver = Checkpointer("run.npz", net, config)           # a checkpoint after every epoch
    bprop.train(net, X, y, config, **saver.train_args())
    ck = bprop.io.load_checkpoint("run.npz")                # later, perhaps after Ctrl-C
    plan = ck.resume(dataclasses.replace(ck.config, epochs=60))
    bprop.train(ck.net, X, y, plan.config, **plan.train_args())
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..atomic import FileLock
from ..errors import CheckpointError, DataError, ModelFileError
from ..modelfile import REGULARISATION, write
from ..optimizers import Optimizer, optimizer_for
from ..stops import held_stops
from ..training import History, TrainConfig, stopped_for_good
from .history_files import save_history


class Checkpoint:
    """What :func:`bprop.io.load_checkpoint` returns: the network plus the saved run's state.

    net: the Network; meta: the file's header; optimizer_state: the saved optimiser arrays;
    best_params: early stopping's best weights, if kept; path: the file it came from.
    """

    def __init__(self, net, meta, optimizer_state, best_params=None, path=None):
        self.net = net
        self.meta = meta
        self.optimizer_state = optimizer_state
        self.best_params = best_params
        self.path = path

    @property
    def epoch(self):
        """Epochs done."""
        return self.meta.get("epoch", 0)

    @property
    def history(self):
        """The saved :class:`bprop.History` (empty if none), best weights included; a new
        object at every call."""
        return History.from_dict(self.meta.get("history") or {}, best_params=self.best_params)

    @property
    def config(self):
        """The saved :class:`bprop.TrainConfig`, or None for a model saved without one."""
        settings = self.meta.get("config")
        return TrainConfig.from_dict(settings) if settings else None

    @property
    def is_training_checkpoint(self):
        """Whether the file holds what resuming needs (settings and an epoch count)."""
        return "config" in self.meta and "epoch" in self.meta

    @property
    def dataset_info(self):
        """The header's ``dataset`` fields (:func:`bprop.datasets.dataset_record`); {} when
        it has none."""
        info = self.meta.get("dataset")
        return info if isinstance(info, dict) else {}

    def fixed_settings(self):
        """What a run resumed from here keeps: the hidden widths and activations, the output
        activation, cost, init, dtype, and the data set's seed, validation split and
        training-set size ("all" when it used every example)."""
        net, info = self.net, self.dataset_info
        return {"hidden": net.sizes[1:-1], "activation": net.activation_names[:-1],
                "output_activation": net.activation_names[-1], "cost": net.cost.name,
                "init": net.init, "dtype": net.dtype.name, "seed": info.get("seed"),
                "validation": info.get("validation"),
                "train_size": info.get("train_size") or "all"}

    def restore_optimizer(self, optimizer):
        """Load the saved optimiser state (velocities, moments) into ``optimizer`` when it is
        the same kind; returns the saved one's name when its state is dropped instead (the
        run goes on with another optimiser), else None."""
        saved = (self.meta.get("optimizer") or {}).get("name")
        if saved == optimizer.name:
            try:
                optimizer.check_state(self.optimizer_state,
                                      (*self.net.weights, *self.net.biases))
            except DataError as e:
                raise ModelFileError(f"{self.path}: {e}") from None
            optimizer.load_state(self.optimizer_state)
            return None
        return saved if self.optimizer_state else None

    def exactness_notes(self, config, workers=1, fingerprint=None):
        """What keeps a resumed run from matching an uninterrupted one, as sentences: data
        whose ``fingerprint`` (:func:`bprop.datasets.data_fingerprint`) differs from the one
        the header records; another number of ``workers`` (processes sharing each
        mini-batch: --workers or MPI ranks) than the run was trained with, when it draws
        dropout masks or shifts (each process draws its own)."""
        notes = []
        stored = self.dataset_info.get("fingerprint")
        if stored is not None and fingerprint is not None and stored != fingerprint:
            notes.append(f"the data differ from those {self.path} was trained on "
                         f"(fingerprint {stored}, now {fingerprint}): the run goes on, but "
                         f"will not match one that was not interrupted")
        before = self.meta.get("workers")
        if before is not None and before != workers and (config.dropout or config.shift):
            notes.append(f"{self.path} was trained with {before} process"
                         f"{'es' if before != 1 else ''} sharing each mini-batch (--workers "
                         f"or MPI ranks), this run has {workers}: with "
                         f"dropout or shifts each process draws its own random numbers, so "
                         f"the run will not match one that was not interrupted")
        return notes

    def resume(self, config, optimizer=None):
        """How the saved run goes on under ``config`` (a :class:`Resume`).

        optimizer: the optimiser to go on with (default: the one ``config`` names); it gets
        the saved state when it is of the saved kind.
        """
        optimizer = optimizer if optimizer is not None else optimizer_for(config)
        dropped = self.restore_optimizer(optimizer)
        history, start = self.history, int(self.epoch)
        stopped = stopped_for_good(history, config)
        nothing_left = start >= config.epochs or stopped is not None
        if nothing_left:
            config = dataclasses.replace(config, epochs=start)
        else:
            history.stopped_early = None        # going on with new stopping settings
        older = (config.optimizer != "sgd" and bool(config.lmbda or config.l1)
                 and self.meta.get("regularisation") != REGULARISATION)
        return Resume(config, history, start, optimizer, stopped, nothing_left, dropped, older)


@dataclass
class Resume:
    """How a checkpoint's run goes on (:meth:`Checkpoint.resume`).

    config: the settings to train with (``epochs`` cut to ``start_epoch`` when nothing is
    left to train); history, start_epoch, optimizer: what :func:`bprop.train` takes to go on
    (:meth:`train_args`). stopped: for a run that early stopping or the plateau schedule
    stopped and ``config`` would stop again at once, the setting that would let it go on
    ("patience" or "min_eta_factor"), else None. nothing_left: no epoch to train (all done,
    or stopped). dropped_optimizer: the saved optimiser's name when its state was dropped
    for another optimiser. older_regularisation: the file predates L2/L1 in the gradient
    that momentum and Adam follow, and ``config`` uses them with such an optimiser, so the
    run will not match an uninterrupted run of that older version.
    """

    config: TrainConfig
    history: History
    start_epoch: int
    optimizer: Optimizer
    stopped: str | None
    nothing_left: bool
    dropped_optimizer: str | None
    older_regularisation: bool

    @classmethod
    def new(cls, config, optimizer=None):
        """A run that starts afresh: epoch 0, a new history, the optimiser ``config`` names."""
        return cls(config, History(), 0, optimizer if optimizer is not None else
                   optimizer_for(config), None, False, None, False)

    def train_args(self):
        """``history``, ``start_epoch`` and ``optimizer`` as :func:`bprop.train` takes them."""
        return {"history": self.history, "start_epoch": self.start_epoch,
                "optimizer": self.optimizer}


class Checkpointer:
    """Writes a training run's checkpoint to ``path``: the model file, then its history files
    beside it (``<stem>.history.json``/``.csv``).

    net, config: the run's; history, optimizer: the ones :func:`bprop.train` is given (new
    ones by default), so that each save holds their state at that epoch; extra: more header
    fields (the command line records the data set). Called with an epoch's record it saves
    the epochs done so far: ``train(net, X, y, config, **checkpointer.train_args())``.

    saved_epoch: the epochs the file holds; None until this run has written it (set it to
    the checkpoint's epoch when a resumed run writes back to the file it came from).
    """

    def __init__(self, path, net, config, history=None, optimizer=None, extra=None):
        self.path, self.net, self.config, self.extra = path, net, config, extra
        self.history = History() if history is None else history
        self.optimizer = optimizer_for(config) if optimizer is None else optimizer
        self.saved_epoch = None

    def __call__(self, record):
        self.save(record.epoch + 1)

    def __enter__(self):
        """``with Checkpointer(...) as saver:`` holds ``path`` for the run
        (:class:`bprop.atomic.FileLock`): another run that tries to write it meanwhile is
        refused with ``FileInUseError`` instead of replacing this run's checkpoint."""
        self._lock = FileLock(self.path)
        self._lock.acquire()
        return self

    def __exit__(self, *exc):
        self._lock.release()

    def train_args(self):
        """``history``, ``optimizer`` and ``on_epoch_end`` (this checkpointer) as
        :func:`bprop.train` takes them."""
        return {"history": self.history, "optimizer": self.optimizer, "on_epoch_end": self}

    def save(self, epoch):
        """Checkpoint after ``epoch`` epochs. Stopping signals (Ctrl-C) are held meanwhile, so
        that the file and what the caller reports about it agree."""
        with held_stops():
            try:
                write(self.net, self.path, config=self.config, history=self.history,
                      epoch=epoch, optimizer=self.optimizer, extra=self.extra)
            except OSError as e:        # disk full, quota, file size limit
                held = "what it held before" if self.saved_epoch is None \
                    else f"epoch {self.saved_epoch}"
                raise CheckpointError(f"cannot save epoch {epoch} to {self.path}: "
                                      f"{e.strerror or e}; the file still holds {held}") from e
            self.saved_epoch = epoch
            try:
                save_history(self.history, self.path)
            except OSError as e:
                raise CheckpointError(f"cannot write the history files beside {self.path}: "
                                      f"{e.strerror or e}; the model file holds epoch "
                                      f"{epoch}") from e
