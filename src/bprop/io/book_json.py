"""The book's ``network2.py`` JSON: keys sizes, weights, biases (nested lists) and cost (the
cost class's name). It holds sigmoid networks only; written atomically like everything else.
"""

from __future__ import annotations

import json

import numpy as np

from ..atomic import atomic_write
from ..costs import COSTS_BY_CLASS_NAME, get_cost
from ..reading import check_regular_file
from ..errors import BpropError, ModelFileError, json_reason
from ..network import Network
from ..validate import check_parameters, check_sizes


def save_book_json(net, path):
    """Write network2's JSON (sizes, weights, biases, cost class name), atomically.

    The format has no field for activations or dtype: it holds sigmoid networks only.
    """
    check_parameters(net, finite=True)
    if any(name != "sigmoid" for name in net.activation_names):
        raise ModelFileError(f"the book's JSON format holds sigmoid networks only; this one "
                             f"has {', '.join(net.activation_names)}: use bprop.save (.npz)")
    data = {"sizes": net.sizes,
            "weights": [np.asarray(w).tolist() for w in net.weights],
            "biases": [np.asarray(b).tolist() for b in net.biases],
            "cost": net.cost.__name__}
    atomic_write(path, lambda f: f.write(json.dumps(data).encode()))


def _json_array(value, name):
    """A JSON array of numbers as float64: not strings or booleans (which NumPy would turn
    into numbers), nor integers beyond a float's range."""
    try:
        given = np.array(value, dtype=object)     # the JSON values as they are
        if not all(type(v) in (int, float) for v in given.reshape(-1)):
            raise TypeError
        return given.astype(np.float64)
    except (ValueError, TypeError):
        raise ValueError(f"{name} is not a rectangular array of numbers") from None
    except OverflowError:
        raise ValueError(f"{name} holds a number too large for a float") from None


def load_book_json(path, network_class=Network):
    """Read network2's JSON into ``network_class`` (sigmoid layers, the named cost)."""
    check_regular_file(path, "the book's network2 JSON", ModelFileError)
    try:
        with open(path, encoding="utf-8-sig") as f:       # a BOM from a Windows editor
            data = json.load(f)
    except FileNotFoundError:
        raise ModelFileError(f"model file not found: {path}") from None
    except OSError as e:
        raise ModelFileError(f"cannot read model file {path}: {e.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:
        raise ModelFileError(f"{path} is not valid JSON: {json_reason(e)}") from None
    if not isinstance(data, dict) or not {"sizes", "weights", "biases"} <= set(data):
        raise ModelFileError(f"{path}: expected a network2 JSON object with sizes, weights, "
                             f"biases and cost")
    cost_name = data.get("cost", "QuadraticCost")
    if not isinstance(cost_name, str) or cost_name not in COSTS_BY_CLASS_NAME:
        raise ModelFileError(f"{path}: unknown cost {cost_name!r}; expected one of "
                             f"{', '.join(COSTS_BY_CLASS_NAME)}")
    try:
        weights = [_json_array(w, f"weights[{i}]") for i, w in enumerate(data["weights"])]
        biases = [_json_array(b, f"biases[{i}]") for i, b in enumerate(data["biases"])]
        sizes = check_sizes(data["sizes"])
        # the arrays must fit the sizes before the network draws weights of those sizes
        if len(weights) != len(sizes) - 1 or len(biases) != len(sizes) - 1:
            raise ModelFileError(f"{path}: inconsistent network2 file: sizes {sizes} need "
                                 f"{len(sizes) - 1} weight and bias arrays; got "
                                 f"{len(weights)} and {len(biases)}")
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            for name, a, shape in (("weights", weights[i], (n_out, n_in)),
                                   ("biases", biases[i], (n_out, 1))):
                if a.shape != shape:
                    raise ModelFileError(f"{path}: {name}[{i}] has shape {a.shape}; "
                                         f"expected {shape}")
        net = network_class(sizes, cost=get_cost(cost_name))
    except ModelFileError:
        raise
    except (BpropError, ValueError, TypeError) as e:
        raise ModelFileError(f"{path}: inconsistent network2 file: {e}") from None
    net.weights, net.biases = weights, biases
    try:
        check_parameters(net)
    except BpropError as e:
        raise ModelFileError(f"{path}: {e}") from None
    for a in (*net.weights, *net.biases):
        if not np.isfinite(a).all():
            raise ModelFileError(f"{path}: weights or biases are not finite")
    return net
