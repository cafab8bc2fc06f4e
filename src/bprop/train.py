"""The old home of the training loop, kept so that ``from bprop.train import ...`` works:
everything is now in :mod:`bprop.training`."""

from .training import *  # noqa: F401,F403
from .training import __all__  # noqa: F401
from .optimizers import OPTIMIZERS  # noqa: F401  (importable from here before)
