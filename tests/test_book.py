"""Programs written for the book's network.py and network2.py, seeded as the book's scripts
seed them, give the book's numbers: its draws, its shuffle, its arithmetic bit for bit;
subclasses that override the book's methods are trained through them; a cost class can be
assigned after construction. The book's code is not ours to commit, so each behaviour is
tested directly, against a statement of the book's operations written here
(benchmarks/bookcode.py, which the speed benchmarks time too)."""

import random
import sys
from pathlib import Path

import numpy as np
import pytest

import bprop
from bprop import ConfigError, network, network2

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bookcode  # noqa: E402  (the book's operations, written out; no bprop import)


def _data(n, sizes=(6, 5, 3), seed=0, one_hot=True):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        x = rng.random((sizes[0], 1))
        label = int(rng.integers(sizes[-1]))
        out.append((x, np.eye(sizes[-1])[:, [label]] if one_hot else label))
    return out


def _seed(s=12345678):
    random.seed(s)
    np.random.seed(s)


# -- the book's operations: its order of operations, so its rounding (benchmarks/bookcode.py) --
def _book_update(weights, biases, mini_batch, eta, lmbda, n, delta_of_output):
    nabla_b = [np.zeros(b.shape) for b in biases]
    nabla_w = [np.zeros(w.shape) for w in weights]
    for x, y in mini_batch:
        dnb, dnw = bookcode.backprop(weights, biases, x, y, delta_of_output)
        nabla_b = [nb + d for nb, d in zip(nabla_b, dnb)]
        nabla_w = [nw + d for nw, d in zip(nabla_w, dnw)]
    weights = [(1 - eta * (lmbda / n)) * w - (eta / len(mini_batch)) * nw
               for w, nw in zip(weights, nabla_w)]
    biases = [b - (eta / len(mini_batch)) * nb for b, nb in zip(biases, nabla_b)]
    return weights, biases


def _book_sgd(weights, biases, training_data, epochs, mbs, eta, lmbda=0.0,
              delta_of_output=None):
    """The book's SGD on a copy of the list, from Python's random as it is now."""
    data = list(training_data)
    for _ in range(epochs):
        random.shuffle(data)
        for k in range(0, len(data), mbs):
            weights, biases = _book_update(weights, biases, data[k:k + mbs], eta, lmbda,
                                           len(data), delta_of_output)
    return weights, biases


# -- seeds ---------------------------------------------------------------------------------------
def test_a_seeded_network_draws_the_books_first_weights():
    for module, scale in ((network, lambda x: 1.0), (network2, np.sqrt)):
        _seed(7)
        net = module.Network([4, 3, 2])
        np.random.seed(7)
        biases = [np.random.randn(3, 1), np.random.randn(2, 1)]
        weights = [np.random.randn(3, 4) / scale(4), np.random.randn(2, 3) / scale(3)]
        for got, want in zip(net.biases + net.weights, biases + weights):
            np.testing.assert_array_equal(got, want)
    net.large_weight_initializer()              # network2's other initialiser draws on
    np.random.seed(7)
    np.random.randn(3, 1), np.random.randn(2, 1), np.random.randn(3, 4), np.random.randn(2, 3)
    np.testing.assert_array_equal(net.biases[0], np.random.randn(3, 1))


def test_identically_seeded_runs_repeat_and_other_seeds_differ(capsys):
    runs = []
    for seed in (1, 1, 2):
        _seed(seed)
        net = network.Network([6, 5, 3])
        net.SGD(_data(40), 3, 10, 3.0, test_data=_data(15, one_hot=False, seed=1))
        runs.append((net.weights[0], capsys.readouterr().out))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1]
    assert not np.array_equal(runs[0][0], runs[2][0])


def test_sgd_takes_the_books_steps_in_random_shuffles_order_bit_for_bit():
    """Weights equal the book's operations' own, in the order random.shuffle gives."""
    data = _data(23)                     # 23: each epoch's last mini-batch is short
    _seed(3)
    net = network.Network([6, 5, 3])
    w0, b0 = [w.copy() for w in net.weights], [b.copy() for b in net.biases]
    state = random.getstate()
    net.SGD(list(data), 4, 5, 3.0)
    random.setstate(state)
    weights, biases = _book_sgd(w0, b0, data, 4, 5, 3.0)
    for got, want in zip(net.weights + net.biases, weights + biases):
        np.testing.assert_array_equal(got, want)


def test_network2_takes_the_books_l2_steps_bit_for_bit(capsys):
    # n = 21, eta = 0.7, lmbda = 0.5: 1 − η(λ/n), the book's grouping, differs in the last
    # bit from 1 − ηλ/n
    assert (1 - 0.7 * (0.5 / 21)) != (1 - 0.7 * 0.5 / 21)
    data = _data(21)
    _seed(4)
    net = network2.Network([6, 5, 3])
    w0, b0 = [w.copy() for w in net.weights], [b.copy() for b in net.biases]
    state = random.getstate()
    net.SGD(list(data), 3, 5, 0.7, lmbda=0.5)
    random.setstate(state)
    weights, biases = _book_sgd(w0, b0, data, 3, 5, 0.7, lmbda=0.5,
                                delta_of_output=lambda z, a, y: a - y)
    for got, want in zip(net.weights + net.biases, weights + biases):
        np.testing.assert_array_equal(got, want)


def test_network2s_costs_are_the_books_to_the_last_digit():
    """total_cost as the book computes it: each example's C_x / n in the list's order, then
    ½(λ/n)Σ‖w‖² with np.linalg.norm."""
    data = _data(30)
    _seed(5)
    net = network2.Network([6, 5, 3])
    want = 0.0
    for x, y in data:
        a = x
        for w, b in zip(net.weights, net.biases):
            a = bookcode.sigmoid(np.dot(w, a) + b)
        want += np.sum(-y * np.log(a) - (1 - y) * np.log(1 - a)) / len(data)
    want += 0.5 * (5.0 / len(data)) * sum(np.linalg.norm(w) ** 2 for w in net.weights)
    assert net.total_cost(data, 5.0) == want
    labelled = [(x, int(np.argmax(y))) for x, y in data]
    assert net.total_cost(labelled, 5.0, convert=True) == want


def test_the_callers_list_is_shuffled_in_place_as_the_book_does():
    data = _data(20)
    _seed(6)
    given = list(data)
    network.Network([6, 5, 3]).SGD(given, 2, 5, 1.0)
    random.seed(6)
    np.random.seed(6)
    np.random.randn(5, 1), np.random.randn(3, 1)    # the draws a network would make
    want = list(data)
    random.shuffle(want)
    random.shuffle(want)
    assert [id(x) for x, _ in given] == [id(x) for x, _ in want]
    # a network given its own generator leaves the caller's list alone
    kept = list(data)
    network.Network([6, 5, 3], rng=0).SGD(kept, 2, 5, 1.0)
    assert [id(x) for x, _ in kept] == [id(x) for x, _ in data]


# -- subclasses -----------------------------------------------------------------------------------
def test_a_subclass_update_mini_batch_gets_the_books_mini_batches(capsys):
    seen = []

    class Recording(network.Network):
        def update_mini_batch(self, mini_batch, eta):
            seen.append([id(x) for x, _ in mini_batch])
            super().update_mini_batch(mini_batch, eta)

    data = _data(12)
    _seed(8)
    net = Recording([6, 5, 3])
    given = list(data)
    state = random.getstate()
    net.SGD(given, 2, 5, 1.0)
    random.setstate(state)
    want, order = [], list(data)
    for _ in range(2):
        random.shuffle(order)
        want += [[id(x) for x, _ in order[k:k + 5]] for k in range(0, 12, 5)]
    assert seen == want                                  # 3 mini-batches a epoch, in order
    # and the override changes nothing: the same weights as without it
    _seed(8)
    plain = network.Network([6, 5, 3])
    plain.SGD(list(data), 2, 5, 1.0)
    for a, b in zip(net.weights + net.biases, plain.weights + plain.biases):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("rng", [None, 0])
def test_overridden_backprop_cost_derivative_and_feedforward_are_called(rng, capsys):
    calls = {"backprop": 0, "cost_derivative": 0, "feedforward": 0}

    class Counted(network.Network):
        def backprop(self, x, y):
            calls["backprop"] += 1
            return super().backprop(x, y)

        def cost_derivative(self, output_activations, y):
            calls["cost_derivative"] += 1
            return super().cost_derivative(output_activations, y)

        def feedforward(self, a):
            calls["feedforward"] += 1
            return super().feedforward(a)

    net = Counted([6, 5, 3], rng=rng)
    net.SGD(_data(17), 2, 5, 1.0, test_data=_data(7, one_hot=False, seed=1))
    assert calls == {"backprop": 34, "cost_derivative": 34, "feedforward": 14}
    assert capsys.readouterr().out.count(" / 7\n") == 2


def test_a_cost_derivative_override_is_the_gradient_backprop_uses():
    class Doubled(network.Network):
        def cost_derivative(self, output_activations, y):
            return 2 * (output_activations - y)

    x, y = _data(1)[0]
    plain, doubled = network.Network([6, 5, 3], rng=1), Doubled([6, 5, 3], rng=1)
    for a, b in zip(sum(plain.backprop(x, y), []), sum(doubled.backprop(x, y), [])):
        np.testing.assert_allclose(2 * a, b, rtol=1e-14)


def test_backprop_batch_sums_what_backprop_gives_with_a_cost_derivative_override():
    class CrossEntropyByHand(network.Network):        # the book's exercise: another ∇ₐC
        def cost_derivative(self, output_activations, y):
            return (output_activations - y) / (output_activations * (1 - output_activations))

    net = CrossEntropyByHand([6, 5, 3], rng=2)
    pairs = _data(4)
    x, y = np.hstack([x for x, _ in pairs]), np.hstack([y for _, y in pairs])
    nabla_b, nabla_w = net.backprop_batch(x, y)
    per_example = [net.backprop(x, y) for x, y in pairs]
    for l in range(2):
        np.testing.assert_allclose(nabla_b[l], sum(nb[l] for nb, _ in per_example), rtol=1e-12)
        np.testing.assert_allclose(nabla_w[l], sum(nw[l] for _, nw in per_example), rtol=1e-12)
    plain = network.Network([6, 5, 3], rng=2).backprop_batch(x, y)
    assert not np.allclose(plain[1][-1], nabla_w[-1])       # not the quadratic cost's


@pytest.mark.parametrize("method", ["backprop", "cost_derivative", "update_mini_batch",
                                    "feedforward"])
def test_fit_and_train_refuse_a_subclass_whose_book_methods_they_would_not_call(method):
    Overriding = type("Overriding", (network.Network,),
                      {method: lambda self, *args: getattr(network.Network, method)(self, *args)})
    net = Overriding([6, 5, 3], rng=0)
    assert net.overridden == {method}
    X, labels = np.random.default_rng(0).random((8, 6)), np.arange(8) % 3
    before = [w.copy() for w in net.weights]
    with pytest.raises(ConfigError, match=f"^Overriding overrides {method}, which fit and "
                                          "train do not call.*SGD"):
        net.fit(X, labels, epochs=1)
    with pytest.raises(ConfigError, match=f"overrides {method}"):
        bprop.train(net, X, labels, bprop.TrainConfig(epochs=1))
    assert all(np.array_equal(a, b) for a, b in zip(before, net.weights))
    # a subclass that adds methods of its own trains as a Network does
    Adding = type("Adding", (network.Network,), {"describe": lambda self: "mine"})
    assert Adding([6, 5, 3], rng=0).overridden == set()
    Adding([6, 5, 3], rng=0).fit(X, labels, epochs=1)


def test_network2_monitors_call_a_subclasss_total_cost_and_accuracy(capsys):
    calls = []

    class Monitored(network2.Network):
        def total_cost(self, data, lmbda, convert=False):
            calls.append(("total_cost", convert))
            return super().total_cost(data, lmbda, convert)

        def accuracy(self, data, convert=False):
            calls.append(("accuracy", convert))
            return super().accuracy(data, convert)

    net = Monitored([6, 5, 3], rng=0)
    costs = net.SGD(_data(20), 2, 5, 0.5, lmbda=1.0, evaluation_data=_data(8, one_hot=False),
                    monitor_evaluation_cost=True, monitor_evaluation_accuracy=True,
                    monitor_training_cost=True, monitor_training_accuracy=True)
    assert calls == [("total_cost", False), ("accuracy", True), ("total_cost", True),
                     ("accuracy", False)] * 2
    assert [len(c) for c in costs] == [2, 2, 2, 2]


# -- costs assigned after construction ---------------------------------------------------------
def test_a_book_style_cost_class_assigned_after_construction_trains(capsys):
    class MyCost:                                        # the book's style: static fn, delta
        @staticmethod
        def fn(a, y):
            return 0.5 * np.linalg.norm(a - y) ** 2

        @staticmethod
        def delta(z, a, y):
            return (a - y) * bookcode.sigmoid(z) * (1 - bookcode.sigmoid(z))

    data = _data(20)
    assigned = network2.Network([6, 5, 3], rng=2)
    assigned.cost = MyCost
    given = network2.Network([6, 5, 3], cost=MyCost, rng=2)
    for net in (assigned, given):
        net.SGD(data, 2, 5, 0.5, monitor_training_cost=True)
    for a, b in zip(assigned.weights, given.weights):
        np.testing.assert_array_equal(a, b)
    assert assigned.cost.name == "MyCost"


def test_a_cost_that_cannot_learn_with_the_output_is_refused_at_assignment():
    net = network.Network([6, 3], "identity", rng=0)
    with pytest.raises(ConfigError, match="the cross-entropy cost needs outputs in"):
        net.cost = "cross-entropy"
    with pytest.raises(ConfigError, match="unknown cost 'hinge'"):
        net.cost = "hinge"
    assert net.cost.name == "quadratic"                  # unchanged
