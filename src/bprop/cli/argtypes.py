"""The argparse types of ``bprop``'s flags: each turns the text given into a value, or
raises ``argparse.ArgumentTypeError`` with the one line argparse prints."""

from __future__ import annotations

import argparse

from ..activations import get_activation
from ..costs import get_cost
from ..errors import ConfigError


def lookup_type(lookup, kind):
    """argparse type that canonicalises a name through a registry lookup (aliases allowed)."""
    def convert(text):
        try:
            return lookup(text).name
        except ConfigError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    convert.__name__ = kind
    return convert


def count_or_fraction(text):
    """``--validation``: an integer count (``5000``) or a fraction (``0.1``)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a count (e.g. 5000) or a fraction (e.g. 0.1); got {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"a fraction must be in [0, 1); got {text}")
    return value


def int_at_least(low, what):
    """An argparse type: an integer >= low, described as ``what`` in its errors."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}; got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected {what}; got {value}")
        return value
    return parse


positive_int = int_at_least(1, "a positive integer")
nonnegative_int = int_at_least(0, "an integer >= 0")


def name_or_path(text):
    """argparse type of every name or path argument (--dataset, --data-dir, MODEL, RUN, OUT,
    FILE): not empty (an empty path would mean the working directory, or nothing)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number; got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number; got {text}")
    return value


activation = lookup_type(get_activation, "activation")
cost = lookup_type(get_cost, "cost")
