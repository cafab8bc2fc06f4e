"""The Python API at its boundary: odd arguments get one bprop error naming what is wrong,
never a traceback from inside NumPy and never a silently wrong result (a fuzzing review's
findings for the network, training, saving and loading)."""

import json
from fractions import Fraction

import numpy as np
import pytest

from bprop import ConfigError, DataError, Network, ShapeError, TrainConfig, train
from bprop.errors import ModelFileError
from bprop.io import load, load_book_json, save


def _data(n=20):
    rng = np.random.default_rng(0)
    return rng.random((n, 4)), np.arange(n) % 3


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")     # np.matrix itself
def test_matrix_and_masked_arrays_are_plain_arrays_or_refused():
    X, y = _data()
    net = Network([4, 5, 3], rng=0)
    want = net.predict(X)
    np.testing.assert_array_equal(net.predict(np.matrix(X)), want)
    np.testing.assert_array_equal(net.predict(np.ma.masked_array(X)), want)
    net.fit(np.matrix(X), y, epochs=1)               # was LinAlgError from the cost
    masked = np.ma.masked_array(X, mask=X > 0.9)
    with pytest.raises(DataError, match=r"X is a masked array with \d+ masked values"):
        net.predict(masked)


@pytest.mark.parametrize("eta", [10 ** 400, np.longdouble("1e400"), np.longdouble("1e-400")],
                         ids=["10**400", "longdouble 1e400", "longdouble 1e-400"])
def test_numbers_that_are_no_float64_are_refused_as_settings(eta):
    """1e-400 is positive, but 0.0 as the float it is computed with: no learning at all."""
    with pytest.raises(ConfigError, match="eta must be a positive number"):
        TrainConfig(eta=eta)


def test_any_real_number_is_a_setting():
    assert TrainConfig(eta=Fraction(1, 2)).eta == 0.5          # was a TypeError from isfinite


def test_weights_assigned_as_lists_are_arrays_again_and_complex_ones_refused():
    X, y = _data()
    net = Network([4, 5, 3], rng=0)
    ref = net.predict_proba(X)
    net.weights = [w.tolist() for w in net.weights]
    np.testing.assert_array_equal(net.predict_proba(X), ref)
    nb, nw = net.backprop(X[:1].T, np.eye(3)[:, :1])          # was AttributeError: .T
    assert nw[0].shape == (5, 4)
    net.weights[0] = net.weights[0] + 0j
    with pytest.raises(DataError, match=r"weights\[0\] must hold real numbers; got dtype "
                                        r"complex128"):
        net.predict(X)


def test_huge_labels_are_reported_as_given_not_wrapped():
    X, _ = _data()
    net = Network([4, 5, 3], rng=0)
    with pytest.raises(DataError, match=r"got min=1e\+20, max=1e\+20"):
        net.score(X, np.full(20, 1e20))
    with pytest.raises(DataError, match=r"max=18446744073709551615"):
        net.score(X, np.full(20, 2 ** 64 - 1, dtype=np.uint64))


@pytest.mark.parametrize("call", [
    lambda net: net.SGD(None, 1, 10, 3.0),
    lambda net: net.SGD([(np.zeros((4, 1)), np.zeros((3, 1)))], 1, 10, 3.0, test_data=0),
    lambda net: net.evaluate(None),
    lambda net: net.update_mini_batch(None, 3.0),
])
def test_none_for_the_books_data_is_one_line(call):
    with pytest.raises(DataError, match="must be a list .* of \\(x, y\\) pairs; got"):
        call(Network([4, 5, 3], rng=0))


def test_a_model_file_whose_header_sizes_do_not_fit_its_arrays_allocates_nothing(tmp_path):
    """Network() draws weights of the header's sizes: they are checked against the stored
    arrays first (a header saying 10**12 made load raise MemoryError)."""
    path = tmp_path / "m.npz"
    save(Network([4, 5, 3], rng=0), path)
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays["meta"]))
    meta["sizes"] = [4, 10 ** 12, 3]
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)
    with pytest.raises(ModelFileError, match=r"w0 has shape \(5, 4\); the header's sizes "
                                             r"\[4, 1000000000000, 3\] need"):
        load(path)
    book = tmp_path / "book.json"
    book.write_text(json.dumps({"sizes": [4, 10 ** 12, 3], "weights": [[[0.0] * 4] * 5],
                                "biases": [[[0.0]] * 5], "cost": "QuadraticCost"}))
    with pytest.raises(ModelFileError, match="need 2 weight and bias arrays; got 1 and 1"):
        load_book_json(book)


def test_weights_beyond_float32_in_a_float32_model_file_are_refused(tmp_path):
    path = tmp_path / "m.npz"
    save(Network([4, 5, 3], rng=0, dtype=np.float32), path)
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["w0"] = np.full((5, 4), 1e300)
    np.savez(path, **arrays)
    with pytest.raises(ModelFileError, match="w0 holds values beyond float32's range"):
        load(path)


def test_deeply_nested_json_is_a_model_file_error(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100000 + "]" * 100000)
    with pytest.raises(ModelFileError, match="not valid JSON: nested too deeply"):
        load(path)


@pytest.mark.parametrize("change, error, match", [
    (lambda net: net.weights.__setitem__(0, np.ones((5, 4), int)), None, None),
    (lambda net: net.weights[0].__setitem__((0, 0), np.nan), DataError, "non-finite"),
    (lambda net: net.biases.__setitem__(0, np.zeros(5)), ShapeError,
     r"biases\[0\] has shape \(5,\); expected \(5, 1\)"),
])
def test_save_refuses_what_load_would_refuse(change, error, match, tmp_path):
    net = Network([4, 5, 3], rng=0)
    change(net)
    path = tmp_path / "m.npz"
    if error is None:       # integer weights are cast, as training casts them
        save(net, path)
        assert load(path).weights[0].dtype == np.float64
        return
    with pytest.raises(error, match=match):
        save(net, path)
    assert not path.exists()


@pytest.mark.parametrize("kw, match", [
    ({"config": {"epochs": 3}}, "config must be a TrainConfig or None; got dict"),
    ({"history": []}, "history must be a History or None; got list"),
    ({"epoch": "x"}, "epoch must be an integer >= 0"),
    ({"extra": {"sizes": [1, 2]}}, "extra may not replace the header field 'sizes'"),
    ({"extra": {"a": np.zeros(2)}}, "cannot be written as JSON"),
])
def test_save_checks_its_settings(kw, match, tmp_path):
    with pytest.raises(ConfigError, match=match):
        save(Network([4, 5, 3], rng=0), tmp_path / "m.npz", **kw)


@pytest.mark.parametrize("kw, match", [
    ({"early_stopping": "no"}, "early_stopping must be True or False; got 'no'"),
    ({"image_shape": (4.9, 4)}, r"image_shape must be \(height, width\), two positive integers"),
    ({"image_shape": "88"}, r"image_shape must be \(height, width\)"),
    ({"shift": 2, "image_shape": (2, 2)}, "shift 2 would move 2x2 images out of the picture"),
])
def test_train_config_refuses_what_it_used_to_coerce(kw, match):
    with pytest.raises(ConfigError, match=match):
        TrainConfig(**kw)


def test_image_shape_pixels_are_counted_without_overflow():
    X, y = _data()
    with pytest.raises(ShapeError, match="has 18446744073709551616 pixels; the network takes 4"):
        train(Network([4, 5, 3], rng=0), X, y, TrainConfig(image_shape=(2 ** 32, 2 ** 32)))


@pytest.mark.parametrize("kw, error, match", [
    ({"callbacks": None}, ConfigError, "callbacks must be a list of callback objects"),
    ({"callbacks": [object()]}, ConfigError, "has no callable observe_batch or end_epoch"),
    ({"callbacks": [type("Every0", (), {"every": 0, "observe_batch": lambda *a: None})()]},
     ConfigError, "Every0.every must be an integer >= 1"),
    ({"on_epoch_end": 3}, ConfigError, "on_epoch_end must be a function or None"),
    ({"progress": 3}, ConfigError, "progress must be a function or None"),
    ({"history": {}}, ConfigError, "history must be a History"),
    ({"start_epoch": -2}, ConfigError, "start_epoch must be an integer >= 0"),
    ({"optimizer": "adam"}, ConfigError, "optimizer must be an Optimizer"),
])
def test_train_checks_its_hooks_before_the_first_epoch(kw, error, match, monkeypatch):
    from bprop import backprop
    X, y = _data()
    calls = []
    original = backprop.backprop_batch
    monkeypatch.setattr(backprop, "backprop_batch",
                        lambda *a, **k: calls.append(1) or original(*a, **k))
    with pytest.raises(error, match=match):
        train(Network([4, 5, 3], rng=0), X, y, TrainConfig(epochs=1), **kw)
    assert calls == []                                   # nothing trained first


def test_another_networks_history_or_optimizer_is_refused_and_its_best_weights_not_restored():
    from bprop.optimizers import make_optimizer
    X, y = _data()
    a = Network([4, 5, 3], rng=0)
    h = a.fit(X, y, epochs=4, validation=(X, y), early_stopping=True, patience=1)
    assert h.best_params is not None
    other = Network([4, 6, 3], rng=1)
    with pytest.raises(ShapeError, match="the history's best weights are another network's"):
        train(other, X, y, TrainConfig(epochs=1), history=h)
    adam = make_optimizer("adam", 0.01)
    train(a, X, y, TrainConfig(epochs=1, optimizer="adam"), optimizer=adam)
    with pytest.raises(ShapeError, match="the optimizer holds state for another network"):
        train(other, X, y, TrainConfig(epochs=1, optimizer="adam"), optimizer=adam)
    # same sizes, early stopping off: training goes on from its own weights, not h's best
    c = Network([4, 5, 3], rng=2)
    train(c, X, y, TrainConfig(epochs=2), history=h, start_epoch=len(h.records))
    assert not any(np.array_equal(w, b) for w, b in zip(c.weights, h.best_params))


def test_fit_refuses_two_different_batch_sizes():
    X, y = _data()
    with pytest.raises(ConfigError, match="fit got batch_size=3 and mini_batch_size=5; give one"):
        Network([4, 5, 3], rng=0).fit(X, y, batch_size=3, mini_batch_size=5)
    h = Network([4, 5, 3], rng=0).fit(X, y, epochs=1, mini_batch_size=5)
    assert h.records


def test_gradcheck_refuses_no_examples_and_nan_weights():
    from bprop.gradcheck import gradcheck
    net = Network([4, 5, 3], rng=0)
    with pytest.raises(DataError, match="x has no examples"):
        gradcheck(net, np.empty((4, 0)), np.empty((3, 0)))
    net.weights[0][0, 0] = np.nan
    with pytest.raises(DataError, match=r"weights\[0\] holds 1 non-finite value"):
        gradcheck(net, np.ones((4, 2)), np.zeros((3, 2)))


# -- what the checks above must still let through (review of them) -----------------------------
def test_settings_as_hand_written_configs_give_them_still_load():
    c = TrainConfig.from_dict({"early_stopping": 0, "monitor_training_cost": 1,
                               "image_shape": [8.0, 8.0]})
    assert c.early_stopping is False and c.monitor_training_cost is True
    assert c.image_shape == (8, 8)
    with pytest.raises(ConfigError, match="early_stopping must be True or False; got 2"):
        TrainConfig(early_stopping=2)


def test_whole_number_floats_are_sizes_where_integers_are_expected():
    from bprop.datasets import to_book_format
    from bprop.predict import prepare_image
    img = np.zeros((30, 30))
    img[5:25, 12:18] = 1.0
    np.testing.assert_array_equal(prepare_image(img, 28, box=20.0), prepare_image(img, 28, box=20))
    X, y = _data(6)
    assert len(to_book_format(X, y, 3.0, one_hot=True)[0][1]) == 3


def test_a_one_output_log_likelihood_model_file_still_loads(tmp_path):
    net = Network([4, 3, 1], cost="log-likelihood", rng=0)
    save(net, tmp_path / "ll.npz")
    assert load(tmp_path / "ll.npz").predict(_data()[0]).shape == (20,)


def test_a_network_too_big_for_memory_is_refused_before_numpy_tries():
    import os
    if not hasattr(os, "sysconf"):
        pytest.skip("no sysconf here")
    with pytest.raises(ConfigError, match=r"sizes \[4, 1000000000000, 3\] make "
                                          r"8,000,000,000,003 weights and biases, .* GiB in "
                                          r"float64: more than this machine's"):
        Network([4, 10**12, 3])
    assert Network([784, 30, 10], dtype=np.float32).sizes == [784, 30, 10]
