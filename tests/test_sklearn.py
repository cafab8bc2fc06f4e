"""bprop.sklearn: the estimators pass scikit-learn's own checks and work in its tools."""

import io
import pickle
import re
import warnings
from contextlib import redirect_stdout

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="scikit-learn is not installed (pip install 'bprop[sklearn]')")
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import MinMaxScaler, StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from bprop import Network  # noqa: E402
from bprop.errors import DataError, ShapeError  # noqa: E402
from bprop.sklearn import BpropClassifier, BpropRegressor  # noqa: E402

#: Checks that may skip, each for a reason scikit-learn itself gives as optional.
OPTIONAL = {
    # array API support is experimental in scikit-learn and opt-in (SCIPY_ARRAY_API=1 and
    # the array-api-strict package); bprop is NumPy only
    "check_array_api_input": "array API input is optional",
    # pandas is not a dependency of scikit-learn; the check skips without it
    "check_classifier_data_not_an_array": "pandas is not installed",
    "check_regressor_data_not_an_array": "pandas is not installed",
}


@parametrize_with_checks([BpropClassifier(), BpropRegressor()])
def test_scikit_learn_check_estimator(estimator, check, monkeypatch):
    name = getattr(check, "func", check).__name__
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")     # run the array API check too
    try:
        check(estimator)
    except pytest.skip.Exception as skipped:
        if name not in OPTIONAL:
            raise AssertionError(f"{name} skipped, which it may not: {skipped}") from None
        raise


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def test_grid_search_and_cross_validation_on_digits(digits):
    X, y = digits
    search = GridSearchCV(BpropClassifier(epochs=5, random_state=0),
                          {"eta": [0.05, 0.5], "hidden_layer_sizes": [(10,), (30,)]}, cv=3)
    search.fit(X, y)
    assert search.best_params_["eta"] == 0.5        # 0.05 learns far less in 5 epochs
    assert search.best_score_ > 0.85
    scores = cross_val_score(BpropClassifier(epochs=5, random_state=0), X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.8


def test_pipeline_with_a_scaler_and_string_labels(digits):
    X, y = digits
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                      "nine"])[y]
    pipe = make_pipeline(MinMaxScaler(), BpropClassifier(epochs=5, random_state=1))
    pipe.fit(X[:1200], names[:1200])
    clf = pipe[-1]
    assert list(clf.classes_) == sorted(set(names))
    assert clf.n_features_in_ == 64 and clf.network_.sizes == [64, 30, 10]
    assert pipe.score(X[1200:], names[1200:]) > 0.85
    proba = pipe.predict_proba(X[1200:])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (clf.classes_[proba.argmax(axis=1)] == pipe.predict(X[1200:])).all()


def test_the_fitted_network_is_the_estimators_and_random_state_repeats(digits):
    X, y = digits
    a = BpropClassifier(epochs=3, random_state=7).fit(X, y)
    b = BpropClassifier(epochs=3, random_state=7).fit(X, y)
    c = BpropClassifier(epochs=3, random_state=8).fit(X, y)
    for w, v in zip(a.network_.weights, b.network_.weights):
        np.testing.assert_array_equal(w, v)
    assert not np.array_equal(a.network_.weights[0], c.network_.weights[0])
    assert a.n_iter_ == 3 and len(a.loss_curve_) == 3
    assert a.loss_curve_ == a.history_.column("running_cost")
    assert a.loss_curve_[-1] < a.loss_curve_[0]
    # predict_proba is the network's own output
    np.testing.assert_array_equal(a.predict_proba(X), a.network_.predict_proba(X))


def test_pickles_and_predicts_the_same(digits):
    X, y = digits
    clf = BpropClassifier(epochs=2, random_state=0, optimizer="adam", eta=0.01).fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    again.partial_fit(X, y)         # and goes on training, Adam's state included
    assert again.n_iter_ == 3


def test_partial_fit_continues_the_network_and_the_optimiser(digits):
    X, y = digits
    whole = BpropClassifier(epochs=3, random_state=3, optimizer="momentum", eta=0.1).fit(X, y)
    step = BpropClassifier(epochs=3, random_state=3, optimizer="momentum", eta=0.1)
    with pytest.raises(ValueError, match="classes must be given on the first call"):
        step.partial_fit(X, y)
    for _ in range(3):
        step.partial_fit(X, y, classes=np.arange(10))
    # three one-epoch calls are the three epochs of fit: same draws, velocity kept
    for w, v in zip(whole.network_.weights, step.network_.weights):
        np.testing.assert_allclose(w, v, rtol=1e-12, atol=1e-12)
    assert step.n_iter_ == 3 and [r.epoch for r in step.history_.records] == [0, 1, 2]
    with pytest.raises(ValueError, match=r"labels not in classes: \[10\]"):
        step.partial_fit(X[:3], np.array([0, 1, 10]))
    with pytest.raises(ValueError, match="differ from those of the first call"):
        step.partial_fit(X, y, classes=np.arange(11))


def test_early_stopping_and_verbose(digits):
    X, y = digits
    out = io.StringIO()
    with redirect_stdout(out):
        clf = BpropClassifier(epochs=40, early_stopping=True, patience=2, random_state=0,
                              verbose=1).fit(X, y)
    lines = out.getvalue().splitlines()
    assert clf.n_iter_ < 40 and len(lines) == clf.n_iter_
    assert lines[0].startswith("epoch 1/40, running cost ") and "val accuracy" in lines[0]
    assert clf.history_.stopped_early
    out = io.StringIO()
    with redirect_stdout(out):
        clf.partial_fit(X, y)
    assert out.getvalue().startswith(f"epoch {clf.n_iter_}, running cost ")
    with pytest.raises(ValueError, match="validation_fraction=1.5"):
        BpropClassifier(early_stopping=True, validation_fraction=1.5).fit(X, y)


def test_one_sigmoid_output_gives_two_probability_columns():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    # with two classes the default network has two softmax outputs
    assert BpropClassifier(epochs=2, random_state=0).fit(X, y).network_.sizes[-1] == 2
    clf = BpropClassifier(output="sigmoid", cost="cross-entropy", epochs=20, random_state=0)
    clf.fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (200, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert clf.score(X, y) > 0.9


def test_regressor_fits_several_targets():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 4))
    Y = np.column_stack([X @ [1.0, -2.0, 0.5, 0.0], np.tanh(X[:, 0])])
    reg = make_pipeline(StandardScaler(), BpropRegressor(epochs=60, random_state=0))
    reg.fit(X, Y)
    assert reg.predict(X).shape == (500, 2)
    assert reg.score(X, Y) > 0.95
    one = BpropRegressor(epochs=5, random_state=0).fit(X, Y[:, 0])
    assert one.predict(X).shape == (500,)


@pytest.mark.parametrize("dtype, n, scale, message", [
    ("float32", 20, 1e300, r"^y holds values beyond float32's range \(±3.4e\+38\); scale "),
    ("float32", 20, 1e20, r"^y holds values up to .*e\+19: the sum of their squares over 20 "
                          r"targets overflows float32 \(each must stay under ±2.06e\+18\)"),
    ("float32", 2000, 1e18, r"over 2,000 targets overflows float32 \(each must stay under "
                            r"±2.06e\+17\)"),
    ("float64", 2000, 1e153, r"^y holds values up to .*e\+15[23]: the sum of their squares over "
                             r"2,000 targets overflows float64 \(each must stay under "
                             r"±1.5e\+152\); scale them, e.g. with .*StandardScaler$")])
def test_regressor_targets_too_large_for_the_cost_get_one_line(dtype, n, scale, message):
    """Not a cast warning and 'y contains infinite values', nor a run that 'diverged' and
    asks for a smaller eta: the targets are what is wrong."""
    X = np.random.default_rng(0).uniform(size=(n, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DataError, match=message):
            BpropRegressor(epochs=1, random_state=0, dtype=dtype).fit(X, X[:, 0] * scale)
        BpropRegressor(epochs=1, random_state=0, dtype=dtype).fit(X, X[:, 0] * 1e3)
    # just under the limit the cost stays finite: the fit runs (whatever it learns)
    y = np.full(n, 0.9 * np.sqrt(np.finfo(dtype).max / (4 * n)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        BpropRegressor(epochs=1, random_state=0, dtype=dtype).fit(X, y)


def test_random_state_takes_generators_and_refuses_what_it_cannot_use():
    X, y = np.random.default_rng(0).uniform(size=(20, 3)), np.arange(20) % 2
    fits = [BpropClassifier(epochs=1, random_state=np.random.default_rng(5)).fit(X, y)
            for _ in range(2)]
    np.testing.assert_array_equal(fits[0].network_.weights[0], fits[1].network_.weights[0])
    for bad in (-1, 1.5, "seed"):
        with pytest.raises(ValueError, match=r"^random_state must be None, an int >= 0, a "
                                             r"numpy RandomState or Generator; got "):
            BpropClassifier(epochs=1, random_state=bad).fit(X, y)


def test_bad_hyperparameters_are_refused_in_fit_with_bprops_line():
    X, y = np.zeros((10, 2)), np.arange(10) % 2
    clf = BpropClassifier(eta=-1)           # scikit-learn: __init__ only stores it
    with pytest.raises(ValueError, match="eta must be a positive number; got -1"):
        clf.fit(X, y)
    with pytest.raises(ValueError, match="unknown activation"):
        BpropClassifier(activation="swish").fit(X, y)
    with pytest.raises(ValueError, match=r"at least 2 classes; got 1 class \('a'\)"):
        BpropClassifier().fit(X, np.array(["a"] * 10))


# -- the Network's own array interface speaks scikit-learn's language ---------------------------
def test_network_array_messages_follow_scikit_learn_conventions():
    net = Network([4, 3, 2], rng=0)
    X = np.zeros((5, 4))
    X[1, 1], X[3, 0], X[4, 0] = np.nan, np.inf, -np.inf
    with pytest.raises(DataError, match=r"X contains 1 NaN and 2 infinite values \(first in row 1\)"):
        net.predict(X)
    with pytest.raises(ShapeError, match=r"expected \(n_samples, 4\). Reshape your data: "
                                         r"X.reshape\(-1, 1\) if it is one feature"):
        net.predict(np.zeros(4))
    sparse = pytest.importorskip("scipy.sparse")
    with pytest.raises(DataError, match=r"X is a sparse matrix; bprop needs a dense array"):
        net.predict(sparse.csr_matrix(np.zeros((3, 4))))
    # numbers held as Python objects are numbers; other objects are refused
    objects = np.arange(12.0).reshape(3, 4).astype(object)
    np.testing.assert_array_equal(net.predict(objects), net.predict(np.arange(12.0).reshape(3, 4)))
    with pytest.raises(DataError, match="X is not a numeric array"):
        net.predict(np.full((3, 4), "a", dtype=object))


def test_rows_on_disk_are_read_as_they_are_and_give_the_same_fit(tmp_path):
    """ScaledRows (a memory-mapped byte array) train and predict as the same rows in
    memory do, bit for bit; they are never made whole (np.asarray of them raises), and
    early stopping holds out their last rows."""
    from bprop.rows import ScaledRows
    raw, y = load_digits(return_X_y=True)
    np.save(tmp_path / "X.npy", raw.astype(np.uint8))
    lazy = ScaledRows(np.load(tmp_path / "X.npy", mmap_mode="r"), divisor=16)
    X = raw / 16.0
    for make in (lambda: BpropClassifier(epochs=3, random_state=0),
                 lambda: BpropRegressor(epochs=3, random_state=0)):
        target = y if make().__class__ is BpropClassifier else np.column_stack([y, -y]) / 9
        on_disk, in_memory = make().fit(lazy, target), make().fit(X, target)
        np.testing.assert_array_equal(on_disk.network_.weights[0], in_memory.network_.weights[0])
        np.testing.assert_array_equal(on_disk.predict(lazy), in_memory.predict(X))
        assert on_disk.n_features_in_ == 64
        on_disk.partial_fit(lazy, target)
        in_memory.partial_fit(X, target)
        np.testing.assert_array_equal(on_disk.predict(X), in_memory.predict(X))
    clf = BpropClassifier(epochs=3, random_state=0)
    assert clf.fit(lazy, y).score(lazy, y) == clf.score(X, y) > 0.8
    with pytest.raises(ValueError, match="X has 32 features, but BpropClassifier is "
                                         "expecting 64 features as input"):
        clf.predict(ScaledRows(np.zeros((5, 32), np.uint8)))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        BpropClassifier().fit(lazy, y[:-1])
    # the checks validate_data makes, with its messages
    with pytest.raises(ValueError, match="requires y to be passed, but the target y is None"):
        BpropClassifier().fit(lazy, None)
    for shape, what in (((0, 64), "0 sample"), ((5, 0), "0 feature")):
        with pytest.raises(ValueError, match=re.escape(f"with {what}(s) (shape={shape})")):
            BpropClassifier().fit(ScaledRows(np.zeros(shape, np.uint8)), np.zeros(shape[0]))
    as_text = BpropRegressor(epochs=1, random_state=0).fit(lazy, (y / 9).astype(str))
    np.testing.assert_array_equal(as_text.predict(lazy),
                                  BpropRegressor(epochs=1, random_state=0).fit(lazy, y / 9)
                                  .predict(lazy))
    pandas = pytest.importorskip("pandas")
    named = BpropClassifier(epochs=1, random_state=0).fit(
        pandas.DataFrame(X, columns=[f"pixel{i}" for i in range(64)]), y)
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        named.predict(lazy)
    stopped = BpropClassifier(epochs=2, early_stopping=True, validation_fraction=0.25,
                              random_state=0).fit(lazy, y)
    held_out = np.arange(len(y) - int(round(0.25 * len(y))), len(y))
    last = stopped.history_.records[-1].val_accuracy
    assert last == pytest.approx(stopped.score(X[held_out], y[held_out]))
