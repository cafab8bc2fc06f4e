"""The old home of the data-parallel workers, kept so that ``from bprop.parallel import ...``
works: everything is now in :mod:`bprop.training.parallel` and
:mod:`bprop.training.processes`."""

from .training.parallel import SPINS_BEFORE_YIELD, WorkerError, Workers, check_workers  # noqa: F401
from .training.processes import (available_cpus, openblas_controls, reap,  # noqa: F401
                                 shared_array, slice_bounds)
