"""What ``--activation`` and ``--output-activation`` mean, for the commands that build a
network (``train``, ``gradcheck``)."""

from __future__ import annotations

from ..errors import ConfigError


def activations_from_flags(acts, n_hidden, output, cost):
    """Every layer's activation from --activation (one name, or one per hidden layer) and
    --output-activation (default: softmax for the log-likelihood cost, else sigmoid)."""
    if len(acts) != 1 and len(acts) != n_hidden:
        raise ConfigError(f"--activation takes one name, or one per hidden layer ({n_hidden}); "
                          f"got {len(acts)}")
    hidden_acts = acts * n_hidden if len(acts) == 1 else acts
    return [*hidden_acts, output or ("softmax" if cost == "log-likelihood" else "sigmoid")]
