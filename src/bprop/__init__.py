"""bprop: backpropagation and mini-batch SGD for fully connected networks, in NumPy.

After chapter 2 of Michael Nielsen's *Neural Networks and Deep Learning*. ``bprop.Network``
runs programs written for the book's ``network.py`` unchanged (``bprop.network2`` and
``bprop.mnist_loader`` stand in for the book's other two modules) and adds an array
interface (``fit``, ``predict``, ``score``). Importing bprop needs NumPy only; the other
modules (``bprop.diagnostics``, ``bprop.plots``, ``bprop.datasets``, ...) load on first use.
``bprop.sklearn`` has scikit-learn estimators, and ``bprop.to_onnx(net)`` exports a network
as ONNX (each needs its optional package).
"""

import importlib

from .activations import ACTIVATIONS, sigmoid, sigmoid_prime
from .costs import COSTS, CrossEntropyCost, LogLikelihoodCost, QuadraticCost
from .errors import (BpropError, ConfigError, DataError, ModelFileError, OutputOverflowError,
                     ShapeError)
from .gradcheck import gradcheck, gradcheck_seconds
from .io import load, save
from .network import INITIALIZERS, Network
# `import bprop.train` gives the old module (bprop.training's names); `bprop.train` stays the
# function: the module is imported first, then the name is bound to the function
from . import train as _train_module
from .training import EpochRecord, History, TrainConfig, train

del _train_module

from .version import __version__  # noqa: F401  (bprop.__version__)

__all__ = [
    "ACTIVATIONS", "COSTS", "INITIALIZERS", "BpropError", "ConfigError", "CrossEntropyCost",
    "DataError", "EpochRecord", "History", "LogLikelihoodCost", "ModelFileError", "Network",
    "OutputOverflowError", "QuadraticCost", "ShapeError", "TrainConfig", "gradcheck",
    "gradcheck_seconds", "load", "save", "sigmoid",
    "sigmoid_prime", "train",
]

_LAZY = {"cli", "datasets", "diagnostics", "export", "mnist_loader", "network2", "plots",
         "predict", "report", "sklearn"}


def __getattr__(name):
    """``bprop.diagnostics`` and the like after a plain ``import bprop`` (PEP 562), and
    ``bprop.to_onnx`` (:func:`bprop.export.to_onnx`, which needs the onnx package)."""
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    if name == "to_onnx":
        return importlib.import_module(".export", __name__).to_onnx
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
