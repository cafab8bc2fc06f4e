"""ONNX export: ONNX Runtime, given the exported graph, answers as bprop does."""

import json
import subprocess
import sys

import numpy as np
import pytest

import bprop
from bprop import Network

onnx = pytest.importorskip("onnx", reason="onnx is not installed (pip install 'bprop[onnx]')")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install "
                                                "onnxruntime)")
from bprop.export import class_names_of, export_model, save_onnx, to_onnx  # noqa: E402

#: Largest difference from bprop's probabilities allowed, per dtype (the issue's bounds).
TOLERANCE = {np.float64: 1e-12, np.float32: 1e-5}


def run(model, X):
    """``(output, label)`` of an ONNX model (a ModelProto or a path) on rows X."""
    source = model if isinstance(model, str) else model.SerializeToString()
    session = ort.InferenceSession(source, providers=["CPUExecutionProvider"])
    return session.run(["output", "label"], {"input": X})


NETWORKS = [
    ([8, 20, 10], "sigmoid", None, "quadratic"),                # the book's
    ([8, 20, 10], "tanh", "softmax", "log-likelihood"),
    ([8, 20, 15, 3], "relu", "identity", "quadratic"),
    ([8, 20, 1], "relu", "sigmoid", "cross-entropy"),           # one output: a binary label
    ([8, 20, 1], "tanh", "identity", "quadratic"),
    ([8, 5], "sigmoid", "softmax", "log-likelihood"),           # no hidden layer
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sizes, activation, output, cost", NETWORKS)
def test_onnx_runtime_gives_bprops_outputs_and_classes(sizes, activation, output, cost, dtype):
    net = Network(sizes, activation, cost, "xavier", output=output, rng=1, dtype=dtype)
    # trained a little, so that the weights are not the initial draws
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, sizes[0])).astype(dtype)
    y = (X[:, 0] > 0).astype(int) if sizes[-1] <= 2 else rng.integers(0, sizes[-1], 2000)
    net.fit(X[:200], y[:200], epochs=2, eta=0.1)
    model = to_onnx(net)
    output, label = run(model, X)
    assert output.dtype == dtype and output.shape == (2000, sizes[-1])
    np.testing.assert_allclose(output, net.predict_proba(X), rtol=0, atol=TOLERANCE[dtype])
    assert label.dtype == np.int64 and label.shape == (2000,)
    np.testing.assert_array_equal(label, net.predict(X))
    # one Gemm per layer, and an activation for each layer that is not the identity
    ops = [node.op_type for node in model.graph.node]
    assert ops.count("Gemm") == len(sizes) - 1
    names = {node.name for node in model.graph.node}
    for i, act in enumerate(net.activations, 1):
        assert (f"layer{i}.{act.name}" in names) == (act.name != "identity")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_outputs_too_small_for_onnx_runtimes_sigmoid_keep_their_class(dtype):
    # ONNX Runtime's Sigmoid gives exactly 0 below z of about -37 (float64) or -17 (float32):
    # both outputs 0, a tie, and ArgMax would say class 0 where predict says 1
    net = Network([1, 2], output="sigmoid", cost="cross-entropy", rng=0, dtype=dtype)
    net.weights = [np.array([[-100.0], [-50.0]])]
    net.biases = [np.zeros((2, 1))]
    X = np.array([[1.0], [2.0], [8.0], [0.5]], dtype)
    output, label = run(to_onnx(net), X)
    np.testing.assert_allclose(output, net.predict_proba(X), rtol=TOLERANCE[dtype], atol=0)
    np.testing.assert_array_equal(label, net.predict(X))
    # the larger of two tiny numbers; in float32 e^{100} overflows, σ(-100) is 0, and both
    # outputs are 0 for x of 2 and 8 (a true tie, class 0 in both)
    assert label.tolist() == ([1, 1, 1, 1] if dtype == np.float64 else [1, 0, 0, 1])
    # and where e^{-z} overflows, σ is 0 in both, without an error
    net.biases = [np.array([[-800.0], [-900.0]])]
    output, label = run(to_onnx(net), X[:1])
    assert output.tolist() == net.predict_proba(X[:1]).tolist() == [[0.0, 0.0]]
    assert label.tolist() == net.predict(X[:1]).tolist() == [0]


def test_a_whole_test_set_and_the_metadata(tmp_path):
    """The digits' test set, classified by ONNX Runtime as by bprop, from `bprop export`."""
    datasets = pytest.importorskip("bprop.datasets")
    pytest.importorskip("sklearn", reason="the digits need scikit-learn")
    data = datasets.load("digits")
    net = Network([64, 30, 10], rng=0)
    net.fit(data.X_train, data.y_train, epochs=5)
    model_path, onnx_path = tmp_path / "m.npz", tmp_path / "m.onnx"
    bprop.save(net, model_path)
    done = subprocess.run([sys.executable, "-m", "bprop", "export", str(model_path),
                           str(onnx_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(onnx_path)
    output, label = run(str(onnx_path), data.X_test)
    np.testing.assert_allclose(output, net.predict_proba(data.X_test), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(label, net.predict(data.X_test))
    meta = {p.key: p.value for p in onnx.load(str(onnx_path)).metadata_props}
    assert json.loads(meta["sizes"]) == [64, 30, 10] and meta["dtype"] == "float64"
    assert json.loads(meta["activations"]) == ["sigmoid", "sigmoid"]
    assert json.loads(meta["class_names"]) == [str(j) for j in range(10)]
    # a second export to the same file is refused, and --overwrite replaces it
    again = subprocess.run([sys.executable, "-m", "bprop", "export", str(model_path),
                            str(onnx_path)], capture_output=True, text=True)
    assert again.returncode == 2 and "already exists; give --overwrite" in again.stderr
    again = subprocess.run([sys.executable, "-m", "bprop", "export", str(model_path),
                            str(onnx_path), "--overwrite"], capture_output=True, text=True)
    assert again.returncode == 0, again.stderr


def test_class_names_come_from_the_data_set(tmp_path):
    assert class_names_of("fashion", 10)[9] == "Ankle boot"
    assert class_names_of("Fashion-MNIST", 10)[0] == "T-shirt/top"
    assert class_names_of("mnist", 10) == [str(j) for j in range(10)]
    assert class_names_of(None, 3) == ["0", "1", "2"]
    net = Network([4, 3, 10], rng=0)
    with pytest.raises(bprop.ConfigError, match="class_names has 2 names; the network tells "
                                                "10 classes apart"):
        to_onnx(net, ["a", "b"])
    # the book's network2 JSON exports too (a model without a data set record)
    from bprop import network2
    book = network2.Network([4, 3, 2])
    book.save(str(tmp_path / "book.json"))
    assert export_model(tmp_path / "book.json", tmp_path / "book.onnx") == ["0", "1"]
    X = np.random.default_rng(0).random((7, 4))
    np.testing.assert_allclose(run(str(tmp_path / "book.onnx"), X)[0], book.predict_proba(X),
                               atol=1e-12)


def test_bad_weights_are_refused_and_the_old_file_kept(tmp_path):
    net = Network([4, 3, 2], rng=0)
    path = tmp_path / "m.onnx"
    save_onnx(net, path)
    before = path.read_bytes()
    net.weights[0][0, 0] = np.nan
    with pytest.raises(bprop.DataError, match=r"weights\[0\] holds 1 non-finite value"):
        save_onnx(net, path)
    assert path.read_bytes() == before


def test_to_onnx_is_on_the_package():
    assert bprop.to_onnx is to_onnx
