"""Exceptions raised at bprop's public boundary.

Every error a user can cause is a ``ValueError`` or ``TypeError`` subclass whose message
names what is wrong, what was expected and what was got. The command line turns them into
one line on stderr and exit status 2.
"""


class BpropError(Exception):
    """Base class of bprop's own errors."""


class ShapeError(BpropError, ValueError):
    """An array has the wrong shape for the network or the data it goes with."""


class DataError(BpropError, ValueError):
    """Data is unusable: non-finite values, labels out of range, empty, corrupt or missing files."""


class ModelFileError(BpropError, ValueError):
    """A model file is truncated, corrupt or inconsistent."""


class ConfigError(BpropError, ValueError):
    """A setting is out of range or names something that does not exist."""
