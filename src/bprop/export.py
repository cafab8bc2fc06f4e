"""ONNX export: a trained network as a graph that ONNX Runtime (or any ONNX runtime) runs.

:func:`to_onnx` turns a :class:`bprop.Network` into an ``onnx.ModelProto``; :func:`save_onnx`
writes it to a file, whole or not at all (``bprop export model.npz model.onnx`` does this for
a saved model). The graph computes exactly what ``net.predict_proba`` and ``net.predict``
do, one row per example:

* input ``input``: ``(N, sizes[0])``, float32 or float64 as the network's dtype;
* per layer one ``Gemm`` (z = a·wᵀ + b, the book's z = w a + b for rows) and its
  activation: ``Tanh``, ``Relu``, ``Softmax`` over axis 1, none for identity, and the sigmoid
  as bprop computes it, 1 / (1 + e^{-z}) in four nodes (ONNX Runtime's ``Sigmoid`` rounds
  outputs below about e^{-37} to 0, which ties the classes of a row whose outputs are all
  that small, and ``label`` would then differ from ``predict``);
* output ``output``: ``(N, sizes[-1])``, the output layer's activations (``predict_proba``);
* output ``label``: ``(N,)`` int64, the predicted class: the argmax of ``output`` (first
  index on ties), or with one output whether it exceeds 0.5 (``predict``).

The model's metadata (``metadata_props``) holds ``class_names`` (a JSON list, when the data
set's classes have names), ``sizes``, ``activations``, ``cost`` and ``dtype``. Needs the
``onnx`` package (``pip install 'bprop[onnx]'``); opset 13, IR version 8.
"""

from __future__ import annotations

import json

import numpy as np

from .atomic import atomic_write
from .datasets.registry import CLASS_NAMES, canonical_name
from .errors import ConfigError
from .io import load_checkpoint
from .validate import check_parameters
from .version import __version__

#: The ONNX operator of the activations that are one node (the identity is none; the sigmoid
#: is four, :func:`_sigmoid_nodes`).
OPERATORS = {"tanh": "Tanh", "relu": "Relu", "softmax": "Softmax"}
OPSET = 13
IR_VERSION = 8


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError("ONNX export needs the onnx package: pip install 'bprop[onnx]'") \
            from None
    return onnx


def to_onnx(net, class_names=None, *, name="bprop"):
    """The ONNX model (``onnx.ModelProto``) of ``net``'s forward pass; see the module.

    class_names: one name per class (``net.n_classes`` of them), stored in the metadata.
    """
    onnx = _onnx()
    from onnx import TensorProto, helper, numpy_helper
    check_parameters(net, finite=True)
    if class_names is not None:
        class_names = [str(c) for c in class_names]
        if len(class_names) != net.n_classes:
            raise ConfigError(f"class_names has {len(class_names)} names; the network tells "
                              f"{net.n_classes} classes apart")
    dtype = np.dtype(net.dtype)
    elem = TensorProto.DOUBLE if dtype == np.float64 else TensorProto.FLOAT
    nodes, weights = [], []
    a = "input"
    for i, (w, b, act) in enumerate(zip(net.weights, net.biases, net.activations)):
        layer = f"layer{i + 1}"
        weights += [numpy_helper.from_array(np.asarray(w, dtype), f"{layer}.weight"),
                    numpy_helper.from_array(np.asarray(b, dtype).reshape(-1), f"{layer}.bias")]
        z = f"{layer}.z"
        nodes.append(helper.make_node("Gemm", [a, f"{layer}.weight", f"{layer}.bias"], [z],
                                      name=f"{layer}.gemm", transB=1))
        if act.name == "identity":
            a = z
            continue
        a = f"{layer}.a"
        if act.name == "sigmoid":
            nodes += _sigmoid_nodes(helper, z, a, layer)
            continue
        op = OPERATORS[act.name]
        attrs = {"axis": 1} if op == "Softmax" else {}
        nodes.append(helper.make_node(op, [z], [a], name=f"{layer}.{act.name}", **attrs))
    if any(act.name == "sigmoid" for act in net.activations):
        weights.append(numpy_helper.from_array(np.array(1.0, dtype), "one"))
    nodes.append(helper.make_node("Identity", [a], ["output"], name="output"))
    nodes += _label_nodes(onnx, weights, net.sizes[-1], dtype)
    n = "N"
    graph = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info("input", elem, [n, net.sizes[0]])],
        [helper.make_tensor_value_info("output", elem, [n, net.sizes[-1]]),
         helper.make_tensor_value_info("label", TensorProto.INT64, [n])],
        initializer=weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="bprop", producer_version=__version__,
                              doc_string=f"bprop network {net.sizes}")
    model.ir_version = IR_VERSION
    metadata = {"sizes": json.dumps(net.sizes),
                "activations": json.dumps([act.name for act in net.activations]),
                "cost": net.cost.name, "dtype": dtype.name}
    if class_names is not None:
        metadata["class_names"] = json.dumps(class_names)
    helper.set_model_props(model, metadata)
    onnx.checker.check_model(model)
    return model


def _sigmoid_nodes(helper, z, a, layer):
    """σ(z) = 1 / (1 + e^{-z}) from ``z`` to ``a``, node by node as bprop computes it (an
    e^{-z} that overflows is inf, and σ is then 0, as in bprop). Uses the initializer
    ``one``."""
    names = [f"{layer}.{step}" for step in ("minus_z", "exp_minus_z", "denominator")]
    return [helper.make_node("Neg", [z], [names[0]], name=names[0]),
            helper.make_node("Exp", [names[0]], [names[1]], name=names[1]),
            helper.make_node("Add", [names[1], "one"], [names[2]], name=names[2]),
            helper.make_node("Reciprocal", [names[2]], [a], name=f"{layer}.sigmoid")]


def _label_nodes(onnx, weights, n_out, dtype):
    """The nodes from ``output`` to ``label``: ArgMax over the outputs, or for one output
    whether it exceeds 0.5 (as :func:`bprop.outputs.predicted_classes`)."""
    helper, numpy_helper = onnx.helper, onnx.numpy_helper
    if n_out > 1:
        return [helper.make_node("ArgMax", ["output"], ["label"], name="label", axis=1,
                                 keepdims=0)]
    weights += [numpy_helper.from_array(np.array(0.5, dtype), "threshold"),
                numpy_helper.from_array(np.array([1], np.int64), "column")]
    return [helper.make_node("Greater", ["output", "threshold"], ["above"], name="above"),
            helper.make_node("Cast", ["above"], ["label_column"], name="to_int64",
                             to=onnx.TensorProto.INT64),
            helper.make_node("Squeeze", ["label_column", "column"], ["label"], name="label")]


def save_onnx(net, path, class_names=None):
    """Write :func:`to_onnx` of ``net`` to ``path`` (atomically: an interrupted write
    leaves any file that was there as it was)."""
    model = to_onnx(net, class_names)
    data = model.SerializeToString()
    atomic_write(path, lambda f: f.write(data))
    return path


def class_names_of(dataset, n_classes):
    """The names of a data set's classes (a name or path as a model file records it): the
    named ones of :data:`bprop.datasets.registry.CLASS_NAMES`, else the labels "0", "1", ...
    """
    names = CLASS_NAMES.get(canonical_name(dataset)) if isinstance(dataset, str) else None
    if names is not None and len(names) == n_classes:
        return list(names)
    return [str(j) for j in range(n_classes)]


def export_model(model_path, onnx_path):
    """Write the model file ``model_path`` (a bprop ``.npz`` or the book's network2 JSON)
    as ONNX to ``onnx_path``, with its data set's class names. Returns the class names."""
    checkpoint = load_checkpoint(model_path)
    net = checkpoint.net
    names = class_names_of(checkpoint.dataset_info.get("name"), net.n_classes)
    save_onnx(net, onnx_path, names)
    return names
