"""The book's network.py interface, the array interface, and errors at the boundary."""

import numpy as np
import pytest

from bprop import ConfigError, DataError, Network, OutputOverflowError, ShapeError
from bprop.network import sigmoid_prime


# -- an independent statement of the book's algorithm, for comparison ----------------------
def _s(z):
    return 1.0 / (1.0 + np.exp(-z))


def book_backprop(weights, biases, x, y):
    acts, zs = [x], []
    for w, b in zip(weights, biases):
        zs.append(w @ acts[-1] + b)
        acts.append(_s(zs[-1]))
    delta = (acts[-1] - y) * _s(zs[-1]) * (1 - _s(zs[-1]))
    nb, nw = [delta], [delta @ acts[-2].T]
    for l in range(2, len(weights) + 1):
        delta = (weights[-l + 1].T @ delta) * _s(zs[-l]) * (1 - _s(zs[-l]))
        nb.insert(0, delta)
        nw.insert(0, delta @ acts[-l - 1].T)
    return nb, nw


def book_sgd(weights, biases, data, epochs, mbs, eta, orders):
    weights, biases = [w.copy() for w in weights], [b.copy() for b in biases]
    for order in orders[:epochs]:
        shuffled = [data[i] for i in order]
        for k in range(0, len(shuffled), mbs):
            batch = shuffled[k:k + mbs]
            sb = [np.zeros_like(b) for b in biases]
            sw = [np.zeros_like(w) for w in weights]
            for x, y in batch:
                db, dw = book_backprop(weights, biases, x, y)
                sb = [s + d for s, d in zip(sb, db)]
                sw = [s + d for s, d in zip(sw, dw)]
            weights = [w - (eta / len(batch)) * s for w, s in zip(weights, sw)]
            biases = [b - (eta / len(batch)) * s for b, s in zip(biases, sb)]
    return weights, biases


def _book_data(n, sizes, seed=0, one_hot=True):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        x = rng.random((sizes[0], 1))
        label = int(rng.integers(sizes[-1]))
        y = np.eye(sizes[-1])[:, [label]] if one_hot else label
        out.append((x, y))
    return out


def test_defaults_are_the_books_network():
    net = Network([784, 30, 10], rng=0)
    assert net.num_layers == 3 and net.sizes == [784, 30, 10]
    assert [w.shape for w in net.weights] == [(30, 784), (10, 30)]
    assert [b.shape for b in net.biases] == [(30, 1), (10, 1)]
    assert net.activation_names == ["sigmoid", "sigmoid"] and net.cost.name == "quadratic"
    # N(0, 1) weights and biases
    w = np.concatenate([w.ravel() for w in net.weights])
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1.0) < 0.02


def test_sgd_gives_the_books_numbers(capsys):
    """Same initial weights and mini-batch order -> the book's weights, to rounding."""
    sizes = [5, 4, 3]
    data = _book_data(23, sizes)          # 23: the last mini-batch of each epoch is short
    test = _book_data(11, sizes, seed=1, one_hot=False)
    net = Network(sizes, rng=2)
    w0, b0 = [w.copy() for w in net.weights], [b.copy() for b in net.biases]
    net.rng = np.random.default_rng(42)
    g = np.random.default_rng(42)
    orders = [g.permutation(23) for _ in range(3)]
    net.SGD(iter(data), 3, 5, 3.0, test_data=test)   # any iterable, e.g. a zip, works
    want_w, want_b = book_sgd(w0, b0, data, 3, 5, 3.0, orders)
    for got, want in zip(net.weights + net.biases, want_w + want_b):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    for j, line in enumerate(lines):
        assert line.startswith(f"Epoch {j}: ") and line.endswith(" / 11")
    assert lines[-1] == f"Epoch 2: {net.evaluate(test)} / 11"


def test_sgd_without_test_data_prints_complete_and_returns_none(capsys):
    sizes = [3, 2, 2]
    assert Network(sizes, rng=0).SGD(list(zip(*zip(*_book_data(6, sizes)))), 2, 4, 1.0) is None
    assert capsys.readouterr().out == "Epoch 0 complete\nEpoch 1 complete\n"


def test_backprop_and_feedforward_match_the_book():
    sizes = [4, 6, 5, 3]
    net = Network(sizes, rng=3)
    x, y = _book_data(1, sizes)[0]
    nb, nw = net.backprop(x, y)
    want_b, want_w = book_backprop(net.weights, net.biases, x, y)
    for got, want in zip(nb + nw, want_b + want_w):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    a = x
    for w, b in zip(net.weights, net.biases):
        a = _s(w @ a + b)
    np.testing.assert_allclose(net.feedforward(x), a, rtol=1e-14)
    np.testing.assert_array_equal(net.cost_derivative(a, y), a - y)


def test_evaluate_counts_argmax_with_first_index_on_ties():
    net = Network([2, 3], activations="identity")
    net.weights = [np.zeros((3, 2))]
    net.biases = [np.array([[0.0], [1.0], [1.0]])]     # tie between 1 and 2: argmax is 1
    data = [(np.ones((2, 1)), 1), (np.ones((2, 1)), 2), (np.ones((2, 1)), 1)]
    assert net.evaluate(data) == 2 and isinstance(net.evaluate(data), int)


def test_same_seed_same_weights_and_results():
    X = np.random.default_rng(0).random((60, 4))
    y = np.arange(60) % 3
    runs = []
    for _ in range(2):
        net = Network([4, 5, 3], rng=11)
        h = net.fit(X, y, epochs=3, batch_size=7, eta=1.0)
        runs.append((net.weights, h.column("train_cost")))
    for a, b in zip(runs[0][0], runs[1][0]):
        np.testing.assert_array_equal(a, b)
    assert runs[0][1] == runs[1][1]
    other = Network([4, 5, 3], rng=12)
    assert not np.array_equal(other.weights[0], runs[0][0][0])
    # a Generator works as well as a seed
    assert np.array_equal(Network([4, 5, 3], rng=np.random.default_rng(11)).weights[0],
                          Network([4, 5, 3], rng=11).weights[0])


@pytest.mark.parametrize("init,w_std,b_std", [("normal", 1.0, 1.0),
                                              ("scaled-normal", 1 / np.sqrt(400), 1.0),
                                              ("xavier", np.sqrt(2 / 600), 0.0),
                                              ("he", np.sqrt(2 / 400), 0.0)])
def test_initialisers(init, w_std, b_std):
    net = Network([400, 200], init=init, rng=0)
    assert net.weights[0].std() == pytest.approx(w_std, rel=0.02)
    assert net.biases[0].std() == pytest.approx(b_std, abs=0.15)


def test_fit_predict_score_on_arrays_float64_and_float32():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 2)) * 3
    y = rng.integers(0, 3, 300)
    X = centres[y] + rng.normal(size=(300, 2)) * 0.3
    X = (X - X.min()) / (X.max() - X.min())
    for dtype in (np.float64, np.float32):
        net = Network([2, 10, 3], "sigmoid", "cross-entropy", rng=1, dtype=dtype)
        net.fit(X, y, epochs=40, batch_size=10, eta=1.0)
        assert net.weights[0].dtype == dtype
        assert net.predict_proba(X).shape == (300, 3) and net.predict_proba(X).dtype == dtype
        assert net.predict(X).shape == (300,)
        assert net.score(X, y) > 0.95
        assert net.score(X, np.eye(3)[y]) == net.score(X, y)   # one-hot rows work too


def test_fit_takes_one_hot_rows():
    X = np.random.default_rng(0).random((20, 3))
    a, b = Network([3, 2], rng=0), Network([3, 2], rng=0)
    a.fit(X, np.arange(20) % 2, epochs=2, batch_size=5, eta=1.0)
    b.fit(X, np.eye(2)[np.arange(20) % 2], epochs=2, batch_size=5, eta=1.0)
    np.testing.assert_array_equal(a.weights[0], b.weights[0])


# -- errors at the boundary --------------------------------------------------------------
@pytest.mark.parametrize("sizes,match", [([5], "at least two layers"),
                                         ([5, 0, 2], "positive integers"),
                                         ([5, -3], "positive integers"),
                                         ([5, 2.5], "positive integers"),
                                         (7, "must be a list")])
def test_bad_sizes(sizes, match):
    with pytest.raises(ConfigError, match=match):
        Network(sizes)


def test_bad_options():
    with pytest.raises(ConfigError, match="unknown activation 'sigmod'"):
        Network([2, 2], "sigmod")
    with pytest.raises(ConfigError, match="unknown cost"):
        Network([2, 2], cost="hinge")
    with pytest.raises(ConfigError, match="unknown init 'uniform'"):
        Network([2, 2], init="uniform")
    with pytest.raises(ConfigError, match="softmax is only allowed as the output"):
        Network([2, 3, 2], ["softmax", "sigmoid"])
    with pytest.raises(ConfigError, match="activations has 1 entries; expected 2"):
        Network([2, 3, 2], ["relu"])
    with pytest.raises(ConfigError, match="dtype must be float64 or float32"):
        Network([2, 2], dtype=np.int32)
    with pytest.raises(ConfigError, match="dtype must be float64 or float32; got 'foo'"):
        Network([2, 2], dtype="foo")
    with pytest.raises(ConfigError, match="activations must be a name or a list of names"):
        Network([2, 2], activations=None)
    with pytest.raises(ConfigError, match=r"unknown init \['he'\]"):
        Network([2, 2], init=["he"])
    for rng in ("abc", -1, 1.5):
        with pytest.raises(ConfigError, match="rng must be None, a non-negative integer seed"):
            Network([2, 2], rng=rng)
    for out in ("identity", "relu", "tanh"):
        for cost in ("cross-entropy", "log-likelihood"):
            with pytest.raises(ConfigError, match=f"the {cost} cost needs outputs in \\(0, 1\\)"):
                Network([2, 2], output=out, cost=cost)


def test_bad_inputs_name_the_argument():
    net = Network([4, 3, 2], rng=0)
    with pytest.raises(ShapeError, match=r"x has shape \(4,\); expected \(4, 1\)"):
        net.backprop(np.zeros(4), np.zeros((2, 1)))
    with pytest.raises(ShapeError, match=r"a has shape \(5, 1\); expected \(4, 1\) or \(4, m\)"):
        net.feedforward(np.zeros((5, 1)))
    with pytest.raises(ShapeError, match=r"y has shape \(3, 1\); expected \(2, 1\)"):
        net.backprop(np.zeros((4, 1)), np.zeros((3, 1)))
    with pytest.raises(DataError, match=r"x contains 1 NaN \(first in row 1\)"):
        net.backprop(np.array([[0.0], [np.nan], [0.0], [0.0]]), np.zeros((2, 1)))
    X = np.zeros((5, 4))
    with pytest.raises(DataError, match=r"labels must be integers in \[0, 2\); got min=-1, max=1"):
        net.fit(X, np.array([0, 1, -1, 0, 1]), epochs=1)
    with pytest.raises(ShapeError, match=r"X has shape \(5, 3\); expected \(n_samples, 4\)"):
        net.fit(np.zeros((5, 3)), np.zeros(5, int))
    with pytest.raises(DataError, match="X is empty"):
        net.fit(np.zeros((0, 4)), np.zeros(0, int))
    X[2, 1] = np.inf
    with pytest.raises(DataError, match=r"X contains 1 infinite value \(first in row 2\)"):
        net.predict(X)
    with pytest.raises(ShapeError, match=r"y has shape \(4,\); expected \(5,\) labels"):
        net.fit(np.zeros((5, 4)), np.zeros(4, int))
    with pytest.raises(DataError, match="labels must be integers; got non-integer"):
        net.fit(np.zeros((5, 4)), np.array([0, 1, 0.5, 0, 1]))


@pytest.mark.parametrize("kw,match", [({"eta": 0}, "eta must be a positive number"),
                                      ({"eta": -1.0}, "eta must be a positive number"),
                                      ({"batch_size": 0}, "mini_batch_size must be an integer >= 1"),
                                      ({"epochs": -1}, "epochs must be an integer >= 0"),
                                      ({"lmbda": -0.1}, "lmbda must be a non-negative"),
                                      ({"optimizer": "sgdd"}, "unknown optimizer 'sgdd'"),
                                      ({"schedule": "cosine"}, "unknown schedule 'cosine'")])
def test_bad_training_settings(kw, match):
    net = Network([2, 2], rng=0)
    args = {"epochs": 1, "batch_size": 2, "eta": 1.0} | kw
    with pytest.raises(ConfigError, match=match):
        net.fit(np.zeros((4, 2)), np.zeros(4, int), **args)


def test_book_api_errors():
    net = Network([3, 2], rng=0)
    with pytest.raises(DataError, match="training_data is empty"):
        net.SGD([], 1, 1, 1.0)
    with pytest.raises(DataError, match="mini_batch is empty"):
        net.update_mini_batch([], 1.0)
    with pytest.raises(ConfigError, match="eta must be a positive number"):
        net.update_mini_batch([(np.zeros((3, 1)), np.zeros((2, 1)))], 0.0)
    with pytest.raises(ShapeError, match=r"x of example 1 has shape \(4, 1\); expected \(3, 1\)"):
        net.SGD([(np.zeros((3, 1)), np.zeros((2, 1))), (np.zeros((4, 1)), np.zeros((2, 1)))],
                1, 1, 1.0)
    with pytest.raises(DataError, match=r"labels must be integers in \[0, 2\)"):
        net.evaluate([(np.zeros((3, 1)), 5)])


def test_user_assigned_weights_of_wrong_shape_are_refused():
    net = Network([3, 2], rng=0)
    net.weights = [np.zeros((3, 2))]
    msg = r"weights\[0\] has shape \(3, 2\); expected \(2, 3\)"
    with pytest.raises(ShapeError, match=msg):
        net.fit(np.zeros((4, 3)), np.zeros(4, int), epochs=1)
    with pytest.raises(ShapeError, match=msg):
        net.feedforward(np.zeros((3, 1)))
    with pytest.raises(ShapeError, match=msg):
        net.evaluate([(np.zeros((3, 1)), 1)])
    with pytest.raises(ShapeError, match=msg):
        net.backprop(np.zeros((3, 1)), np.zeros((2, 1)))
    net.weights = [[[1, 2, 3], [4, 5, 6]]]          # nested lists are fine: made arrays
    assert net.feedforward(np.ones((3, 1))).shape == (2, 1)


def test_update_mini_batch_on_a_saturated_network_is_silent():
    """sigmoid(-1000) overflows exp; the answer 0 is right and no warning is due."""
    import warnings
    net = Network([3, 2], rng=0)
    net.weights[0][...] = 1000.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net.update_mini_batch([(-np.ones((3, 1)), np.array([[1.0], [0.0]]))], 1.0)
    assert np.isfinite(net.weights[0]).all()


def test_per_example_feedforward_checks_what_it_skips_converting():
    """The quick path (a float column of the right shape, parameters already checked) still
    refuses nan and inf, a parameter reshaped in place, and a saturating sigmoid stays silent
    even where the caller makes overflow an error."""
    net = Network([3, 2], rng=0)
    x = np.ones((3, 1))
    first = net.feedforward(x)
    assert net.feedforward(x) is not first                  # a new array each call
    for bad, what in ((np.inf, "1 infinite value"), (np.nan, "1 NaN")):
        for dtype in (np.float64, np.float32):
            column = np.ones((3, 1), dtype)
            column[1] = bad
            with pytest.raises(DataError, match=f"a contains {what} \\(first in row 1\\)"):
                net.feedforward(column)
    net.biases[0].shape = (1, 2)                            # same array, another shape
    with pytest.raises(ShapeError, match=r"biases\[0\] has shape \(1, 2\)"):
        net.feedforward(x)
    net.biases[0].shape = (2, 1)
    net.feedforward(x)
    net.weights, net.biases = net.weights + net.biases[:1], []      # same arrays, joined
    with pytest.raises(ShapeError, match="expected 1 weight and bias arrays; got 2 and 0"):
        net.feedforward(x)
    net.weights, net.biases = net.weights[:1], net.weights[1:]
    net.weights[0][...] = 1000.0
    with np.errstate(over="raise"):
        assert np.array_equal(net.feedforward(-x), np.zeros((2, 1)))
    np.testing.assert_array_equal(net.feedforward(np.ones((3, 1), np.float32)),
                                  net.feedforward(x))


class BookCrossEntropy:
    """A cost written in the book's style: static fn and delta only."""

    @staticmethod
    def fn(a, y):
        return np.sum(np.nan_to_num(-y * np.log(a) - (1 - y) * np.log(1 - a)))

    @staticmethod
    def delta(z, a, y):
        return a - y


def test_a_book_style_cost_class_trains_like_the_builtin_one():
    from bprop import network2
    X = np.random.default_rng(0).random((30, 3))
    y = np.arange(30) % 2
    mine = network2.Network([3, 4, 2], cost=BookCrossEntropy, rng=1)
    ours = network2.Network([3, 4, 2], rng=1)
    mine.fit(X, y, epochs=3, batch_size=5, eta=0.5, lmbda=1.0)
    ours.fit(X, y, epochs=3, batch_size=5, eta=0.5, lmbda=1.0)
    for a, b in zip(mine.weights + mine.biases, ours.weights + ours.biases):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert mine.cost.name == "BookCrossEntropy" and issubclass(mine.cost, BookCrossEntropy)
    with pytest.raises(ConfigError, match="has only the book's fn and delta, which assume a "
                                          "sigmoid output layer; got softmax"):
        Network([3, 2], cost=BookCrossEntropy, output="softmax")


class BookColumnQuadratic:
    """The book's quadratic cost written for one column, as the book's fn may be: it is
    wrong on a whole batch (np.dot(d.T, d)[0, 0] is the first example's cost only)."""

    @staticmethod
    def fn(a, y):
        d = a - y
        return 0.5 * np.dot(d.T, d)[0, 0]

    @staticmethod
    def delta(z, a, y):
        return (a - y) * sigmoid_prime(z)


def test_a_book_style_cost_fn_is_the_cost_of_one_example():
    from bprop import network2
    rng = np.random.default_rng(0)
    X, y = rng.random((40, 3)), np.arange(40) % 2
    mine = network2.Network([3, 4, 2], cost=BookColumnQuadratic, rng=1)
    ours = network2.Network([3, 4, 2], cost=network2.QuadraticCost, rng=1)
    ours.weights, ours.biases = mine.weights, mine.biases
    assert mine.mean_cost(X, y, lmbda=0.5) == pytest.approx(ours.mean_cost(X, y, lmbda=0.5), rel=1e-12)
    data = [(x.reshape(3, 1), int(label)) for x, label in zip(X, y)]
    assert mine.total_cost(data, 0.0, convert=True) == pytest.approx(
        ours.total_cost(data, 0.0, convert=True), rel=1e-12)

    class Vector(BookColumnQuadratic):
        fn = staticmethod(lambda a, y: (a - y).ravel())
    with pytest.raises(ConfigError, match=r"Vector.fn\(a, y\) must give one number for one "
                                          r"example; got float64 of shape \(2,\)"):
        network2.Network([3, 4, 2], cost=Vector, rng=1).mean_cost(X, y)


def test_a_cost_instance_stands_for_its_class():
    """The book's cost methods are static, so cost=CrossEntropyCost() works there."""
    from bprop import network2
    assert network2.Network([3, 2], cost=network2.CrossEntropyCost()).cost is network2.CrossEntropyCost
    assert issubclass(Network([3, 2], cost=BookCrossEntropy()).cost, BookCrossEntropy)

    class Methods:                      # instance methods: would fail in training
        def fn(self, a, y):
            return 0.0

        def delta(self, z, a, y):
            return a - y
    for given in (Methods(), Methods):  # the class too, not just an instance
        with pytest.raises(ConfigError, match=r"cost Methods: fn\(a, y\) and delta\(z, a, y\) "
                                              r"must be callable on the class"):
            Network([3, 2], cost=given)

    def fn(a, y):
        return 0.5 * float(np.sum((a - y) ** 2))

    class Plain:                        # functions as class attributes, and classmethods:
        pass                            # callable on the class, as the book calls them
    Plain.fn, Plain.delta = fn, lambda z, a, y: (a - y) * a * (1 - a)

    class ByClass:
        @classmethod
        def fn(cls, a, y):
            return fn(a, y)

        @classmethod
        def delta(cls, z, a, y):
            return (a - y) * a * (1 - a)
    for cost in (Plain, ByClass):
        Network([3, 2], cost=cost, rng=0).fit(np.ones((4, 3)), [0, 1, 0, 1], epochs=1)


def test_weights_assigned_as_a_tuple_are_used():
    """The book's code only iterates over weights and biases, so a tuple works there."""
    net = Network([3, 4, 2], rng=0)
    ref = net.feedforward(np.ones((3, 1)))
    net.weights = tuple(w.astype(np.float32) for w in net.weights)
    net.biases = tuple(np.asfortranarray(b) for b in net.biases)
    np.testing.assert_allclose(net.feedforward(np.ones((3, 1))), ref, rtol=1e-6)
    assert net.evaluate([(np.ones((3, 1)), 0)]) in (0, 1)
    assert isinstance(net.weights, list) and net.weights[0].dtype == np.float64
    net.weights = np.zeros((4, 3))
    with pytest.raises(ShapeError, match="weights must be a list of arrays, one per layer; got ndarray"):
        net.feedforward(np.ones((3, 1)))


def test_diverging_training_names_the_epoch():
    rng = np.random.default_rng(0)
    X = rng.random((50, 3)) * 10
    y = rng.normal(size=(50, 2)) * 100
    net = Network([3, 8, 2], "identity", rng=0)
    with pytest.raises(FloatingPointError, match=r"training diverged in epoch 1 of 3: .*smaller eta"):
        net.fit(X, y, epochs=3, batch_size=5, eta=50.0)


# -- the book's interface: semantics and bad input (found in review) -------------------------------
def test_book_updates_leave_arrays_the_caller_holds_unchanged():
    """The book's update_mini_batch and SGD make new arrays; arrays held from before (or
    assigned by the user) keep their values."""
    net = Network([3, 4, 2], rng=0)
    before = net.weights
    snapshot = [w.copy() for w in before]
    net.update_mini_batch([(np.ones((3, 1)), np.array([[1.0], [0.0]]))], 3.0)
    assert all(np.array_equal(b, s) for b, s in zip(before, snapshot))
    assert not np.array_equal(net.weights[0], snapshot[0])
    mine = [np.zeros((4, 3)), np.zeros((2, 4))]
    net.weights = mine
    net.SGD([(np.ones((3, 1)), np.array([[1.0], [0.0]]))] * 4, 1, 2, 3.0)
    assert not mine[1].any() and net.weights[1].any()


def test_one_element_array_labels_are_labels():
    net = Network([4, 3], rng=0)
    x = np.linspace(0, 1, 4).reshape(4, 1)
    p = int(np.argmax(net.feedforward(x)))
    assert net.evaluate([(x, np.array([[p]]))]) == 1
    assert net.evaluate([(x, np.int64(p))]) == 1
    assert net.evaluate([(x, np.eye(3)[p])]) == 1                  # a one-hot row
    assert net.evaluate([(x, p), (x, np.eye(3)[:, [p]])]) == 2     # mixed int and column
    with pytest.raises(ShapeError, match="label of example 0 has shape \\(2, 2\\)"):
        net.evaluate([(x, np.eye(2))])


def test_empty_test_data_is_no_test_data_as_in_the_book(capsys):
    net = Network([2, 2], rng=0)
    assert net.evaluate([]) == 0
    net.SGD([(np.ones((2, 1)), np.array([[1.0], [0.0]]))] * 2, 1, 1, 1.0, test_data=[])
    assert capsys.readouterr().out == "Epoch 0 complete\n"


def test_non_finite_weights_are_refused_before_they_make_a_wrong_number():
    net = Network([4, 5, 3], rng=0)
    net.weights[0] = np.full((5, 4), np.nan)
    x = np.ones((4, 1))
    with pytest.raises(DataError, match=r"weights\[0\] holds 20 non-finite values"):
        net.evaluate([(x, 0), (x * 0.5, 0)])
    with pytest.raises(DataError, match="non-finite"):
        net.SGD([(x, np.eye(3)[:, [0]])] * 2, 1, 2, 3.0)
    with pytest.raises(DataError, match="non-finite"):
        net.predict(np.ones((2, 4)))
    with pytest.raises(DataError, match=r"weights\[0\] holds 20 non-finite values"):
        net.mean_cost(np.ones((2, 4)), [0, 1])


def test_a_bias_that_became_inf_in_training_stops_the_run():
    """Under a sigmoid an inf bias gives σ = 1 and a finite cost: the epoch's check of the
    parameters, not the cost, must see it."""
    class Breaker:
        def observe_batch(self, net, ws, nabla_b, nabla_w, scale):
            net.biases[0][1, 0] = np.inf

    net = Network([4, 5, 3], rng=0)
    X, y = np.random.default_rng(0).random((20, 4)), np.arange(20) % 3
    with pytest.raises(FloatingPointError, match=r"epoch 1 .*biases\[0\] are no longer finite"):
        net.fit(X, y, epochs=2, callbacks=[Breaker()])


@pytest.mark.parametrize("where", ["weights", "biases"])
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("n", [1, 3, 10_001])
def test_a_non_finite_parameter_set_in_place_is_refused_by_predict(where, bad, n):
    """predict_proba proves the parameters finite from its own zs (no pass over the
    weights): an inf weight under a sigmoid gives a finite output, σ(inf) = 1, which must
    still be refused, and so must one changed in place after a first prediction."""
    net = Network([4, 5, 3], rng=0, dtype=np.float32)
    X = np.full((n, 4), 0.5)
    first = net.predict_proba(X)
    getattr(net, where)[1][2, 0] = bad
    with pytest.raises(DataError, match=rf"{where}\[1\] holds 1 non-finite value"):
        net.predict_proba(X)
    getattr(net, where)[1][2, 0] = 0.0
    net.predict_proba(X)
    getattr(net, where)[0][0, 0] = bad
    with pytest.raises(DataError, match=rf"{where}\[0\] holds 1 non-finite value"):
        net.predict(X)
    assert first.shape == (n, 3) and first.flags.c_contiguous


def test_a_z_that_overflows_under_a_sigmoid_still_predicts():
    """Finite weights so large that z overflows float32: σ(±inf) is exactly 0 or 1, a right
    answer, so nothing is refused; an identity output that overflows is."""
    net = Network([2, 3, 2], rng=0, dtype=np.float32)
    net.weights[0][...] = 3e38
    X = np.array([[1.0, 1.0], [-1.0, -1.0]])
    assert np.isfinite(net.predict_proba(X)).all()
    linear = Network([2, 3, 2], activations="identity", rng=0, dtype=np.float32)
    linear.weights[0][...] = 3e38
    with pytest.raises(OutputOverflowError, match="outputs overflow"):
        linear.predict_proba(X)


@pytest.mark.parametrize("lmbda,n,message", [
    (float("nan"), 10, "lmbda must be a non-negative number; got nan"),
    (-1.0, 10, "lmbda must be a non-negative number; got -1.0"),
    (1.0, 0, "n \\(the training-set size\\) must be an integer >= 1; got 0"),
    (1.0, -10, "must be an integer >= 1; got -10"),
    (1.0, "10", "must be an integer >= 1; got '10'"),
])
def test_update_mini_batch_checks_lmbda_and_n(lmbda, n, message):
    net = Network([3, 2], rng=0)
    with pytest.raises(ConfigError, match=message):
        net.update_mini_batch([(np.ones((3, 1)), np.array([[1.0], [0.0]]))], 1.0, lmbda, n)


def test_score_and_mean_cost_check_their_arguments():
    net = Network([3, 2], rng=0)
    X = np.ones((4, 3))
    with pytest.raises(DataError, match="y .*not finite|y contains"):
        net.score(X, np.full((4, 2), np.nan))
    with pytest.raises(ConfigError, match="lmbda must be a non-negative number; got -1.0"):
        net.mean_cost(X, [0, 1, 0, 1], lmbda=-1.0)
    with pytest.raises(ConfigError, match="lmbda must be"):
        net.mean_cost(X, [0, 1, 0, 1], lmbda="a")


def test_malformed_items_name_the_item():
    net = Network([3, 2], rng=0)
    with pytest.raises(DataError, match="mini_batch item 0 is not an \\(x, y\\) pair"):
        net.update_mini_batch([np.ones((3, 1))], 1.0)
    with pytest.raises(DataError, match="training_data item 1 is not an \\(x, y\\) pair"):
        net.SGD([(np.ones((3, 1)), np.ones((2, 1))), (1, 2, 3)], 1, 2, 1.0)
    with pytest.raises(DataError, match="test_data item 0 is not an \\(x, y\\) pair"):
        net.evaluate([5])


def test_network2_data_errors_name_the_argument_and_empty_accuracy_is_0():
    from bprop import network2
    net = network2.Network([3, 2], rng=0)
    assert net.accuracy([]) == 0 and net.accuracy([], convert=True) == 0
    with pytest.raises(DataError, match="data item 0 is not an \\(x, y\\) pair"):
        net.total_cost([(np.ones((3, 1)),)], 0.0)
    with pytest.raises(DataError, match="^data is empty"):
        net.total_cost([], 0.0)
    with pytest.raises(DataError, match="evaluation_data item 0 is not"):
        net.SGD([(np.ones((3, 1)), np.ones((2, 1)))], 1, 1, 1.0, evaluation_data=[5])


def test_fit_takes_trainconfig_names_and_names_unknown_options():
    net = Network([3, 2], rng=0)
    X, y = np.random.default_rng(0).random((20, 3)), np.arange(20) % 2
    history = net.fit(X, y, epochs=1, mini_batch_size=5, eta=1.0)
    assert len(history.records) == 1
    with pytest.raises(ConfigError, match="fit got unknown option foo; it takes epochs"):
        net.fit(X, y, epochs=1, foo=3)


def test_gradcheck_takes_any_real_eps():
    from bprop import gradcheck

    net = Network([3, 2], rng=0)
    result = gradcheck(net, np.ones((3, 1)), [1], eps=np.float32(1e-4))
    assert result.ok(1e-4)
    with pytest.raises(ConfigError, match="eps must be in \\(0, 1\\); got True"):
        gradcheck(net, np.ones((3, 1)), [1], eps=True)


@pytest.mark.parametrize("j", [-1, 10, 2.5])
def test_vectorized_result_refuses_bad_class_indices(j):
    from bprop import mnist_loader, network2

    for f in (mnist_loader.vectorized_result, network2.vectorized_result):
        with pytest.raises(DataError, match="class index must be an integer in \\[0, 10\\)"):
            f(j)


def test_network2_sgd_also_leaves_held_arrays_and_takes_empty_evaluation_data(capsys):
    from bprop import network2

    net = network2.Network([3, 2], rng=0)
    held = net.weights[0]
    snapshot = held.copy()
    result = net.SGD([(np.ones((3, 1)), np.array([[1.0], [0.0]]))] * 4, 1, 2, 0.5,
                     evaluation_data=[], monitor_evaluation_accuracy=True)
    assert np.array_equal(held, snapshot) and not np.array_equal(net.weights[0], snapshot)
    assert result[1] == []
    assert capsys.readouterr().out == "Epoch 0 training complete\n\n"


def test_labels_as_0d_arrays_and_ragged_labels():
    from bprop import mnist_loader

    assert mnist_loader.vectorized_result(np.array(3))[3, 0] == 1.0
    net = Network([2, 3], rng=0)
    with pytest.raises(ShapeError, match="label of example 0 is not an int class label"):
        net.evaluate([(np.ones((2, 1)), [1, [2]])])
    with pytest.raises(ShapeError, match="x of example 0 is not a \\(2, 1\\) column"):
        net.evaluate([([[1.0], [2.0, 3.0]], 1)])


# -- a network with one output: a binary classifier ----------------------------------------
def _binary(n=200):
    rng = np.random.default_rng(0)
    X = rng.random((n, 2))
    return X, (X[:, 0] > X[:, 1]).astype(np.int64)


@pytest.mark.parametrize("as_rows", [False, True])
def test_one_output_accuracy_thresholds_at_half_instead_of_an_argmax_of_one_column(as_rows):
    """argmax over a single column is always 0, so every accuracy came out as 1.0."""
    X, t = _binary()
    y = t[:, None].astype(float) if as_rows else t           # 0/1 targets or int labels
    net = Network([2, 8, 1], cost="cross-entropy", init="scaled-normal", rng=0)
    h = net.fit(X, y, epochs=3, batch_size=10, eta=0.5, validation=(X, t),
                monitor_training_accuracy=True)
    a = net.predict_proba(X)[:, 0]
    want = float(np.mean((a > 0.5) == t))
    assert want < 0.9                                   # far from the 1.0 that argmax gave
    assert h.records[-1].train_accuracy == want and h.records[-1].val_accuracy == want
    assert net.score(X, t) == want and net.score(X, y) == want
    np.testing.assert_array_equal(net.predict(X), (a > 0.5).astype(int))
    np.testing.assert_array_equal(net.targets(t, len(t))[:, 0], t)     # label 1 -> target 1
    with pytest.raises(DataError, match=r"labels must be integers in \[0, 2\)"):
        net.targets(t + 1, len(t))


def test_one_output_early_stopping_sees_the_accuracy_improve():
    X, t = _binary()
    net = Network([2, 8, 1], cost="cross-entropy", init="scaled-normal", rng=0)
    h = net.fit(X, t, epochs=40, batch_size=10, eta=0.5, validation=(X, t),
                early_stopping=True, patience=5)
    assert h.best_epoch > 0 and max(h.column("val_accuracy")) > 0.9


def test_one_output_book_evaluate_and_prediction_scores():
    from bprop.predict import output_scores
    X, t = _binary(50)
    net = Network([2, 3, 1], rng=1)
    a = net.predict_proba(X)
    assert net.evaluate([(x[:, None], int(c)) for x, c in zip(X, t)]) == \
        int(np.sum((a[:, 0] > 0.5) == t))
    scores, kind = output_scores(net, X)
    assert kind == "probability"
    np.testing.assert_allclose(scores, np.hstack([1 - a, a]))


def test_one_output_with_the_log_likelihood_cost_is_refused_for_training():
    """−ln a_y over one output is 0 for every class-0 example: nothing pulls a down. Such a
    network still loads (older model files hold some) and predicts; it does not train."""
    X, t = _binary(20)
    net = Network([2, 3, 1], cost="log-likelihood", rng=0)
    assert net.predict(X).shape == (20,)
    with pytest.raises(ConfigError, match="log-likelihood cost .* with one output learns only "
                                          "from class-1 examples"):
        net.fit(X, t, epochs=1)
    with pytest.raises(ConfigError, match="with one output learns only from class-1 examples"):
        net.update_mini_batch([(X[0][:, None], np.ones((1, 1)))], 0.5)
    Network([2, 3, 2], output="softmax", cost="log-likelihood", rng=0).fit(X, t, epochs=1)


def test_the_log_likelihood_cost_trains_only_a_softmax_output():
    """With sigmoid outputs −ln a_y pulls only the true output up: every output goes to 1,
    the cost to 0, and the accuracy stays at chance. Such a network loads, predicts and has
    right gradients (gradcheck); it does not train."""
    X, labels = np.random.default_rng(0).random((30, 4)), np.arange(30) % 3
    net = Network([4, 5, 3], cost="log-likelihood", rng=0)
    assert net.predict(X).shape == (30,) and net.activation_names[-1] == "sigmoid"
    message = (r"^the log-likelihood cost −ln a_y with sigmoid outputs pulls each example's "
               r"true output up and never the others down, so every output goes to 1; use a "
               r"softmax output layer, or the cross-entropy cost$")
    with pytest.raises(ConfigError, match=message):
        net.fit(X, labels, epochs=1)
    with pytest.raises(ConfigError, match=message):
        net.SGD([(X[0][:, None], np.eye(3)[:, [0]])], 1, 1, 0.5)
    Network([4, 5, 3], output="softmax", cost="log-likelihood", rng=0).fit(X, labels, epochs=1)
    with pytest.raises(ConfigError, match=r"needs outputs in \(0, 1\): use a softmax output "
                                          r"layer; got relu"):
        Network([4, 5, 3], output="relu", cost="log-likelihood")


def test_one_output_label_shape_error_offers_the_right_target_rows():
    X, _ = _binary(6)
    with pytest.raises(ShapeError, match=r"expected \(6,\) labels or \(6, 1\) one-hot rows"):
        Network([2, 3, 1], rng=0).score(X, np.zeros((6, 2)))


def test_validation_cost_is_measured_against_the_target_rows_given():
    """Target rows that are not 0/1 (regression): val_cost must use them, not the classes
    they threshold to."""
    rng = np.random.default_rng(0)
    X = rng.random((50, 2))
    T = (0.2 + 0.6 * X[:, :1])                        # targets in (0.2, 0.8)
    net = Network([2, 4, 1], init="scaled-normal", rng=0)
    h = net.fit(X, T, epochs=2, eta=0.5, validation=(X, T), monitor_training_cost=True)
    assert h.records[-1].val_cost == pytest.approx(net.mean_cost(X, T), rel=1e-12)
    assert h.records[-1].val_cost == pytest.approx(h.records[-1].train_cost, rel=1e-12)


def test_bool_labels_are_classes_0_and_1():
    X, t = _binary()
    a = Network([2, 8, 1], cost="cross-entropy", init="scaled-normal", rng=0)
    b = Network([2, 8, 1], cost="cross-entropy", init="scaled-normal", rng=0)
    a.fit(X, t == 1, epochs=2, eta=0.5)
    b.fit(X, t, epochs=2, eta=0.5)
    for p, q in zip(a.weights, b.weights):
        np.testing.assert_array_equal(p, q)
    assert a.score(X, t == 1) == b.score(X, t)


@pytest.mark.parametrize("numpy_version", [np.__version__, "1.26.4"])
def test_feedforwards_overflow_guard_keeps_each_callers_error_state(numpy_version):
    """Threads and nested calls each get their own np.errstate back (NumPy 1's errstate
    decorator kept one saved state for all calls, so there the guard is a with block)."""
    import threading
    from bprop.backprop import overflow_ignored

    @overflow_ignored
    def inner():
        return np.geterr()["over"]

    guarded = overflow_ignored(lambda: (np.geterr()["over"], inner(), np.geterr()["over"]),
                               numpy_version)
    with np.errstate(over="warn", divide="raise"):
        assert guarded() == ("ignore", "ignore", "ignore")
        assert np.geterr()["over"] == "warn" and np.geterr()["divide"] == "raise"
    net = Network([4, 3, 2], rng=0)
    net.weights[0][...] = 1000.0
    x, seen = -np.ones((4, 1)), {}

    def loop(name, state):
        with np.errstate(**state):
            for _ in range(3000):
                net.feedforward(x)
            seen[name] = np.geterr()

    runs = [threading.Thread(target=loop, args=("raise", {"all": "raise"})),
            threading.Thread(target=loop, args=("warn", {"all": "warn"}))]
    for t in runs:
        t.start()
    for t in runs:
        t.join()
    assert set(seen["raise"].values()) == {"raise"} and set(seen["warn"].values()) == {"warn"}


def test_pickles_carry_no_caches_and_older_pickles_load():
    """A pickled network leaves its buffers behind; one pickled by an older bprop (its
    record of checked parameters a list of pairs) works after loading."""
    import pickle
    net = Network([784, 100, 10], rng=0)
    net.backprop_batch(np.zeros((784, 500)), np.zeros((10, 500)))   # 500-column buffers
    assert len(pickle.dumps(net)) < 1.1 * sum(p.nbytes for p in net.weights + net.biases)
    old = dict(vars(net), _checked=[(p, p.shape) for p in net.weights + net.biases])
    again = Network.__new__(Network)
    again.__setstate__(old)
    np.testing.assert_array_equal(again.feedforward(np.ones((784, 1))),
                                  net.feedforward(np.ones((784, 1))))
