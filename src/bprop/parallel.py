"""The old home of the data-parallel workers, kept so that ``from bprop.parallel import ...``
works: everything is now in :mod:`bprop.training.parallel`."""

from .training.parallel import (SPINS_BEFORE_YIELD, WorkerError, Workers,  # noqa: F401
                                available_cpus, check_workers, openblas_controls, reap,
                                shared_array, slice_bounds)
