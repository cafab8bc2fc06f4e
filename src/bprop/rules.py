"""Settings checked from declarative tables: a table maps each setting's name to a
:class:`Rule` (``Int``, ``Number``, ``Interval``, ``Choice``, ``Flag``, ``Optional``), and
:func:`check_settings` applies it, so that a class with many settings (``TrainConfig``, the
diagnostics) states what each may be in one line rather than in an ``if`` of its own::

    SETTINGS = {"epochs": Int(minimum=1), "eta": Number(positive=True),
                "optimizer": Choice(["sgd", "adam"]), "patience": Optional(Int(minimum=1))}
    check_settings(config, SETTINGS)        # each value checked and kept as the rule says

Every rule raises :class:`bprop.errors.ConfigError` naming the setting.
"""

from __future__ import annotations

import numpy as np

from .errors import ConfigError, check_int, check_number, check_range, whole


class Rule:
    """A setting's allowed values: ``check(value, name)`` returns the value as bprop keeps it
    (a Python int, float or bool) or raises ``ConfigError`` naming the setting."""

    def check(self, value, name):
        raise NotImplementedError


class Int(Rule):
    """An integer (a NumPy one too, not a bool) >= minimum, kept as a Python int."""

    def __init__(self, minimum):
        self.minimum = minimum

    def check(self, value, name):
        check_int(value, name, minimum=self.minimum)
        return int(value)   # -(-n // np.uint8(2)) would overflow


class Number(Rule):
    """A finite real number, > 0 if ``positive`` else >= 0, kept as a Python float (a NumPy
    float32 η would do a float64 network's steps in float32); ``above``: also more than it."""

    def __init__(self, positive=False, above=None):
        self.positive, self.above = positive, above

    def check(self, value, name):
        check_number(value, name, positive=self.positive)
        if self.above is not None and value <= self.above:
            raise ConfigError(f"{name} must be greater than {self.above:g}; got {value!r}")
        return float(value)


class Interval(Rule):
    """A number from low to high, open at the ends flagged, kept as a Python float."""

    def __init__(self, low, high, low_open=False, high_open=False):
        self.bounds = (low, high, low_open, high_open)

    def check(self, value, name):
        low, high, low_open, high_open = self.bounds
        check_range(value, name, low, high, low_open=low_open, high_open=high_open)
        return float(value)


class Choice(Rule):
    """One of ``names``: "unknown optimizer 'x'; choose from sgd, momentum, ..."."""

    def __init__(self, names):
        self.names = tuple(names)

    def check(self, value, name):
        if value not in self.names:
            raise ConfigError(f"unknown {name} {value!r}; choose from {', '.join(self.names)}")
        return value


class Flag(Rule):
    """True or False (or 1/0, as a hand-written config may say), kept as a bool."""

    def check(self, value, name):
        if not isinstance(value, (bool, np.bool_)) and whole(value) not in (0, 1):
            raise ConfigError(f"{name} must be True or False; got {value!r}")
        return bool(value)


class Optional(Rule):
    """None, or what ``rule`` allows."""

    def __init__(self, rule):
        self.rule = rule

    def check(self, value, name):
        return None if value is None else self.rule.check(value, name)


def check_settings(obj, table):
    """Check each attribute of ``obj`` named in ``table`` (name -> :class:`Rule`), in the
    table's order, and set it to the value the rule returns."""
    for name, rule in table.items():
        setattr(obj, name, rule.check(getattr(obj, name), name))
