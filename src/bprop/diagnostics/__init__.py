"""Seeing inside training: per-layer statistics collected during backprop, and the rules that
explain a run from them (the book's chapters 2, 3 and 5).

:mod:`.collect`: :class:`Diagnostics`, a training callback that reads backprop's buffers, and
:func:`layer_stats`, the same numbers on given data. :mod:`.explain`: :func:`explain`, which
turns a history into plain-language warnings. :mod:`.records`: reading histories and
diagnostics dicts that may come from a file.
"""

from ..outputs import confusion_counts  # noqa: F401  (importable from here before)
from .collect import PEAK_PRIME, SATURATION, Diagnostics, layer_stats
from .explain import (COST_REBOUND_WARN, COST_RISE_WARN, DEAD_MIN_SAMPLE, DEAD_WARN,
                      DEAD_WARN_SMALL_SAMPLE, DIVERGING, GRADIENT_RATIO_WARN,
                      OUTPUT_SATURATION_WARN, STALLED, STALLED_COST, explain)
from .records import PER_LAYER, check_diagnostics, history_records

__all__ = ["COST_REBOUND_WARN", "COST_RISE_WARN", "DEAD_MIN_SAMPLE", "DEAD_WARN",
           "DEAD_WARN_SMALL_SAMPLE", "DIVERGING", "GRADIENT_RATIO_WARN",
           "OUTPUT_SATURATION_WARN", "PEAK_PRIME", "PER_LAYER", "SATURATION", "STALLED",
           "STALLED_COST", "Diagnostics", "check_diagnostics", "explain", "history_records",
           "layer_stats"]
