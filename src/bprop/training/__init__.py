"""Training: the loop, its settings and history, schedules, augmentation, data parallelism.

``train(net, X, y, config)`` (:mod:`.loop`) runs mini-batch SGD over any object with a
network's parameters; :class:`TrainConfig` (:mod:`.config`) holds the settings,
:class:`History` and :class:`EpochRecord` (:mod:`.history`) what was measured. The other
modules: :mod:`.schedules` (learning-rate schedules, early stopping), :mod:`.augment`
(dropout, image shifts), :mod:`.steps` (where a step's gradients come from) and
:mod:`.parallel` (worker processes sharing each mini-batch) and :mod:`.mpi` (MPI ranks
sharing it, on one machine or many).
"""

from .augment import Dropout, Shifter
from .config import MONITORS, SCHEDULES, TrainConfig, fit_config
from .history import (STOPPED_BY_CALLBACK, EpochRecord, History, check_record, epoch_line,
                      epoch_printer)
from .loop import fit, train
from .mpi import MPIError, MPISteps, mpi_world
from .parallel import WorkerError, Workers
from .schedules import stopped_for_good, stopping_rule_met
from .steps import LocalSteps

__all__ = ["MONITORS", "SCHEDULES", "STOPPED_BY_CALLBACK", "Dropout", "EpochRecord",
           "History", "LocalSteps", "MPIError", "MPISteps", "Shifter", "TrainConfig", "WorkerError", "Workers",
           "check_record", "epoch_line", "epoch_printer", "fit", "fit_config", "mpi_world", "stopped_for_good", "stopping_rule_met", "train"]
