"""Integer rows on disk (ScaledRows): trained on a mini-batch at a time, never converted whole."""

import numpy as np
import pytest

import bprop
from bprop.errors import ConfigError, ShapeError
from bprop.rows import ScaledRows


@pytest.fixture
def on_disk(tmp_path):
    rng = np.random.default_rng(0)
    raw = rng.integers(0, 256, size=(600, 16), dtype=np.uint8)
    np.save(tmp_path / "X.npy", raw)
    y = (raw[:, 0] > 127).astype(np.int64) + (raw[:, 1] > 127)
    return np.load(tmp_path / "X.npy", mmap_mode="r"), y


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_training_on_a_memmap_equals_training_on_its_floats(on_disk, dtype, optimizer):
    raw, y = on_disk
    floats = np.multiply(np.asarray(raw), 1 / 255, dtype=np.float64).astype(dtype)
    nets = []
    for X in (ScaledRows(raw, 1 / 255), floats):
        net = bprop.Network([16, 10, 3], rng=0, dtype=dtype)
        history = net.fit(X, y, epochs=2, batch_size=20, optimizer=optimizer, eta=0.5,
                          validation=(X, y), monitor_training_cost=True)
        nets.append((net, history))
    (a, ha), (b, hb) = nets
    for p, q in zip(a.weights + a.biases, b.weights + b.biases):
        np.testing.assert_array_equal(p, q)
    assert ha.column("train_cost") == hb.column("train_cost")
    assert ha.column("val_accuracy") == hb.column("val_accuracy")
    np.testing.assert_array_equal(a.predict(ScaledRows(raw)), b.predict(floats))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_scaled_rows_by_default_are_a_loaded_data_sets_rows_bit_for_bit(on_disk, dtype):
    raw, _ = on_disk
    loaded = np.asarray(raw).astype(dtype)          # what bprop.datasets does to bytes
    loaded /= 255
    X = ScaledRows(raw, dtype=dtype)
    assert X.divisor == 255 and X.scale is None
    np.testing.assert_array_equal(X[:], loaded)
    out = np.empty((3, 16), dtype)
    np.testing.assert_array_equal(X.take_into([5, 0, 599], out), loaded[[5, 0, 599]])
    np.testing.assert_array_equal(X.as_dtype(np.float64)[7], loaded[7].astype(np.float64)
                                  if dtype == np.float64 else np.asarray(raw[7]) / 255)
    with pytest.raises(TypeError, match="scale or divisor, not both"):
        ScaledRows(raw, 0.5, divisor=2)


def test_scaled_rows_are_read_a_batch_at_a_time(on_disk):
    raw, y = on_disk

    class Counting(np.ndarray):
        largest = 0

        def __getitem__(self, index):
            got = np.ndarray.__getitem__(self, index)
            if getattr(got, "ndim", 0) == 2:
                Counting.largest = max(Counting.largest, len(got))
            return got
    counted = np.asarray(raw).view(Counting)
    X = ScaledRows(counted, 1 / 255)
    bprop.Network([16, 10, 3], rng=0).fit(X, y, epochs=1, batch_size=25)
    assert Counting.largest == 25                   # no read of more than a mini-batch
    assert repr(X).startswith("ScaledRows(Counting of 600 x 16 uint8, scale=0.00392157")


def test_bad_scaled_rows_are_refused(on_disk):
    raw, y = on_disk
    with pytest.raises(TypeError, match="needs a 2-D integer array"):
        ScaledRows(np.zeros((3, 4)))
    for bad in (dict(scale=np.nan), dict(scale=np.inf), dict(divisor=0), dict(divisor="255")):
        with pytest.raises(ConfigError, match=f"ScaledRows {next(iter(bad))} must be a finite "
                                              f"number other than 0; got"):
            ScaledRows(raw, **bad)
    with pytest.raises(ShapeError, match=r"X has shape \(600, 16\); expected \(n_samples, 8\)"):
        bprop.Network([8, 3], rng=0).fit(ScaledRows(raw), y)


@pytest.mark.parametrize("outputs", [3, 1])
def test_targets_made_from_labels_as_asked_train_as_the_whole_array_does(on_disk, monkeypatch,
                                                                         outputs):
    """A large data set's targets (OneHotRows) give exactly the eager one-hot rows' run."""
    from bprop import validate
    from bprop.rows import OneHotRows
    raw, y = on_disk
    X = ScaledRows(raw, 1 / 255)
    y = (y > 0).astype(np.int64) if outputs == 1 else y
    runs = []
    for lazy in (False, True):
        monkeypatch.setattr(validate, "LAZY_TARGETS", 0 if lazy else 2**62)
        net = bprop.Network([16, 10, outputs], rng=0)
        assert isinstance(net.targets(y, len(y)), OneHotRows) == lazy
        history = net.fit(X, y, epochs=2, batch_size=20, eta=0.5, monitor_training_cost=True,
                          monitor_training_accuracy=True, validation=(X, y))
        runs.append((net, history))
    (a, ha), (b, hb) = runs
    for p, q in zip(a.weights + a.biases, b.weights + b.biases):
        np.testing.assert_array_equal(p, q)
    for field in ("train_cost", "running_cost", "train_accuracy", "val_cost"):
        assert ha.column(field) == hb.column(field), field
    rows = OneHotRows(np.array([2, 0]), 3)
    np.testing.assert_array_equal(rows[0:2], [[0, 0, 1], [1, 0, 0]])
