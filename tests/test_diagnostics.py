"""Per-layer diagnostics (bprop.diagnostics): values by hand, the training callback, explain()."""

import json
import math

import warnings

import numpy as np
import pytest

from bprop import ConfigError, History, Network, TrainConfig, train
from bprop.diagnostics import Diagnostics, explain, layer_stats
from bprop.train import EpochRecord


# -- a 2-2-1 network worked by hand --------------------------------------------------------------
W2 = [[4.0, 3.0], [0.5, -0.5]]
B2 = [1.0, 0.0]
W3 = [[5.0, -1.0]]
B3 = [0.5]
X = [[1.0, 1.0], [0.0, 1.0], [1.0, 0.0], [0.0, 0.0]]
T = [0.0, 1.0, 0.0, 1.0]            # targets of the single output neuron


def _hand_net(cost="quadratic"):
    net = Network([2, 2, 1], cost=cost)
    net.weights = [np.array(W2), np.array(W3)]
    net.biases = [np.array(B2).reshape(2, 1), np.array(B3).reshape(1, 1)]
    return net


def _sigma(z):
    return 1.0 / (1.0 + math.exp(-z))


def _by_hand(cost="quadratic"):
    """Every diagnostic of the 2-2-1 network on X, T, one scalar at a time."""
    n = len(X)
    gb2, gw2 = [0.0, 0.0], [[0.0, 0.0], [0.0, 0.0]]
    gb3, gw3 = 0.0, [0.0, 0.0]
    sum_a2, sum_a3 = 0.0, 0.0
    slow2 = slow3 = wrong3 = 0
    for x, t in zip(X, T):
        a2 = [_sigma(W2[j][0] * x[0] + W2[j][1] * x[1] + B2[j]) for j in range(2)]
        a3 = _sigma(W3[0][0] * a2[0] + W3[0][1] * a2[1] + B3[0])
        sp3 = a3 * (1 - a3)
        d3 = (a3 - t) * sp3 if cost == "quadratic" else a3 - t        # BP1
        d2 = [W3[0][j] * d3 * a2[j] * (1 - a2[j]) for j in range(2)]   # BP2
        gb3 += d3
        for j in range(2):
            gw3[j] += d3 * a2[j]
            gb2[j] += d2[j]
            for k in range(2):
                gw2[j][k] += d2[j] * x[k]
        sum_a2 += a2[0] + a2[1]
        sum_a3 += a3
        slow2 += sum(a * (1 - a) < 0.025 for a in a2)
        slow3 += sp3 < 0.025
        wrong3 += sp3 < 0.025 and abs(a3 - t) > 0.5

    def norm(values):
        return math.sqrt(sum(v * v for v in values)) / n

    return {
        "grad_b": [norm(gb2), norm([gb3])],
        "grad_w": [norm(gw2[0] + gw2[1]), norm(gw3)],
        "mean_activation": [sum_a2 / (2 * n), sum_a3 / n],
        "saturated": [slow2 / (2 * n), slow3 / n],
        "output_saturated_wrong": wrong3 / n,
        "weight_norm": [math.sqrt(sum(w * w for row in W2 for w in row)),
                        math.sqrt(sum(w * w for w in W3[0]))],
    }


@pytest.mark.parametrize("cost", ["quadratic", "cross-entropy"])
def test_layer_stats_equal_hand_computed_values(cost):
    stats = layer_stats(_hand_net(cost), np.array(X), np.array(T).reshape(-1, 1))
    expected = _by_hand(cost)
    assert stats["layers"] == [2, 3]
    assert stats["cost"] == cost
    assert stats["activations"] == ["sigmoid", "sigmoid"]
    for key, value in expected.items():
        assert stats[key] == pytest.approx(value, rel=1e-12), key
    assert stats["dead"] == [None, None]
    # the example values are not trivial: saturated neurons of both kinds are present
    assert 0 < expected["saturated"][0] < 1 and expected["output_saturated_wrong"] > 0


def test_diagnostics_run_is_layer_stats():
    net = _hand_net()
    Y = np.array(T).reshape(-1, 1)
    assert Diagnostics().run(net, np.array(X), Y) == layer_stats(net, np.array(X), Y)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_callback_sees_the_gradient_before_the_step(optimizer):
    # one mini-batch holding the whole set: the observed gradient is that of the initial net
    net = _hand_net()
    Y = np.array(T).reshape(-1, 1)
    before = _by_hand()
    diag = Diagnostics(every=1)
    h = train(net, np.array(X), Y, TrainConfig(epochs=1, mini_batch_size=4, eta=0.5,
                                                optimizer=optimizer), callbacks=[diag])
    d = h.records[0].diagnostics
    assert d["batches"] == 1 and d["every"] == 1
    for key in ("grad_b", "grad_w", "mean_activation", "saturated", "output_saturated_wrong"):
        assert d[key] == pytest.approx(before[key], rel=1e-9), key
    # the weight norms are the end of the epoch's, after the step
    assert d["weight_norm"] == pytest.approx([np.linalg.norm(w) for w in net.weights])
    assert d["weight_norm"] != pytest.approx(before["weight_norm"])


def test_every_kth_batch_is_observed_and_epochs_start_afresh():
    rng = np.random.default_rng(0)
    X_, y_ = rng.random((100, 5)), rng.integers(0, 3, 100)
    net = Network([5, 4, 3], init="scaled-normal", rng=1)
    h = train(net, X_, y_, TrainConfig(epochs=3, mini_batch_size=10, eta=1.0),
              callbacks=[Diagnostics(every=3)])
    assert [r.diagnostics["batches"] for r in h.records] == [4, 4, 4]      # k = 0, 3, 6, 9
    json.dumps(h.to_dict(), allow_nan=False)                               # JSON-able


def test_dead_relu_units():
    net = Network([3, 4, 2], activations=["relu", "sigmoid"], cost="cross-entropy", rng=0)
    net.weights[0] = np.array([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0], [0.5, 0.2, 0.1],
                               [1.0, 0.0, 0.0]])
    net.biases[0] = np.array([[-1.0], [0.5], [0.1], [0.1]])    # unit 0: z < 0 for x ≥ 0
    X_ = np.random.default_rng(1).random((40, 3))
    y_ = np.arange(40) % 2
    stats = layer_stats(net, X_, y_)
    assert stats["dead"] == [0.25, None]
    assert stats["saturated"][0] is None
    h = train(net, X_, y_, TrainConfig(epochs=2, mini_batch_size=5, eta=0.1),
              callbacks=[Diagnostics(every=2)])
    assert [r.diagnostics["dead"][0] for r in h.records] == [0.25, 0.25]
    assert explain(h) == []
    # a layer that is mostly dead is worth a warning
    net.biases[0][1:] = -5.0
    assert any("never active" in m and "layer 2" in m for m in explain(layer_stats(net, X_, y_)))


def test_dropout_does_not_count_dropped_neurons_as_saturated():
    rng = np.random.default_rng(0)
    X_, y_ = rng.random((60, 6)), rng.integers(0, 2, 60)
    net = Network([6, 8, 2], init="scaled-normal", rng=2)
    for w in net.weights:
        w *= 0.01           # z ≈ b: far from saturation
    for b in net.biases:
        b[...] = 0.0
    h = train(net, X_, y_, TrainConfig(epochs=1, mini_batch_size=6, eta=0.01, dropout=0.5),
              callbacks=[Diagnostics(every=1)])
    assert h.records[0].diagnostics["saturated"] == [0.0, 0.0]


@pytest.mark.parametrize("activations,cost", [(["tanh", "softmax"], "log-likelihood"),
                                              (["relu", "identity"], "quadratic")])
def test_other_activations(activations, cost):
    rng = np.random.default_rng(0)
    X_, y_ = rng.random((30, 4)), rng.integers(0, 3, 30)
    net = Network([4, 5, 3], activations=activations, cost=cost, init="xavier", rng=0,
                  dtype=np.float32)
    h = train(net, X_, y_, TrainConfig(epochs=1, mini_batch_size=5, eta=0.1),
              callbacks=[Diagnostics(every=1)])
    d = h.records[0].diagnostics
    # a softmax output saturates too (its Jacobian's diagonal a(1 − a)); identity does not
    softmax = activations[1] == "softmax"
    assert (d["output_saturated_wrong"] is None) != softmax and (d["saturated"][1] is None) != softmax
    assert (d["saturated"][0] is None) == (activations[0] == "relu")
    assert all(g > 0 for g in d["grad_b"] + d["grad_w"])
    json.dumps(d, allow_nan=False)


def test_bad_arguments():
    with pytest.raises(ConfigError, match="every must be an integer >= 1; got 0"):
        Diagnostics(every=0)
    with pytest.raises(ConfigError, match=r"saturation must be a number in \(0, 1\); got 1.5"):
        Diagnostics(saturation=1.5)
    with pytest.raises(ConfigError, match=r"saturation must be a number in \(0, 1\); got 'a'"):
        Diagnostics(saturation="a")             # not a TypeError from 0 < 'a'
    from bprop.optimizers import make_optimizer
    with pytest.raises(ConfigError, match=r"momentum must be a number in \[0, 1\); got None"):
        make_optimizer("momentum", 0.1, momentum=None)
    with pytest.raises(ConfigError, match=r"beta2 must be a number in \[0, 1\); got '0.9'"):
        make_optimizer("adam", 0.1, beta2="0.9")


# -- explain() ---------------------------------------------------------------------------------
def _classification(n=200, n_in=20, n_classes=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, n_in)), rng.integers(0, n_classes, n)


def _saturated_net(cost):
    """Outputs start ≈ 1 for every class: three of four output neurons are badly wrong."""
    net = Network([20, 10, 4], cost=cost, init="scaled-normal", rng=0)
    net.weights[1] = np.abs(net.weights[1]) * 10
    net.biases[1][...] = 10.0
    return net


def test_saturated_output_under_quadratic_cost_is_explained():
    X_, y_ = _classification()
    net = _saturated_net("quadratic")
    stats = layer_stats(net, X_, y_)
    assert stats["output_saturated_wrong"] == pytest.approx(0.75)
    h = train(net, X_, y_, TrainConfig(epochs=2, mini_batch_size=10, eta=0.5),
              callbacks=[Diagnostics(every=1)])
    messages = explain(h)
    assert len(messages) == 1
    assert "saturated" in messages[0] and "cross-entropy" in messages[0]
    assert "δᴸ = (a − y) ⊙ σ′(zᴸ) (BP1)" in messages[0] and "in epoch" in messages[0]
    # the same from the dict form of the history, and from layer_stats
    assert explain(h.to_dict()) == messages
    assert "on the data given" in explain(stats)[0]


def test_saturated_output_under_cross_entropy_is_not_a_problem():
    X_, y_ = _classification()
    config = TrainConfig(epochs=2, mini_batch_size=10, eta=0.5)
    net = _saturated_net("cross-entropy")
    assert explain(layer_stats(net, X_, y_)) == []
    # ... unless the caller says the cost is quadratic
    assert any("slowed" in m for m in explain(layer_stats(net, X_, y_), cost="quadratic"))
    h = train(net, X_, y_, config, callbacks=[Diagnostics(every=1)])
    assert explain(h) == []
    # chapter 3: cross-entropy learns its way out of the saturation, the quadratic cost not
    slow = train(_saturated_net("quadratic"), X_, y_, config, callbacks=[Diagnostics(every=1)])
    wrong = [r.diagnostics["output_saturated_wrong"] for r in h.records]
    wrong_slow = [r.diagnostics["output_saturated_wrong"] for r in slow.records]
    assert wrong[-1] < 0.05 < 0.5 < wrong_slow[-1]


def test_healthy_network_has_no_warnings():
    X_, y_ = _classification()
    net = Network([20, 10, 4], init="scaled-normal", rng=0)
    h = train(net, X_, y_, TrainConfig(epochs=3, mini_batch_size=10, eta=3.0),
              callbacks=[Diagnostics(every=2)])
    assert explain(h) == []


def test_vanishing_gradient_in_a_deep_sigmoid_network():
    X_, y_ = _classification(n=100)
    net = Network([20] + [20] * 6 + [4], init="scaled-normal", rng=0)
    stats = layer_stats(net, X_, y_)
    assert stats["grad_b"][0] * 100 < max(stats["grad_b"][1:])
    h = train(net, X_, y_, TrainConfig(epochs=1, mini_batch_size=10, eta=0.1),
              callbacks=[Diagnostics(every=1)])
    messages = explain(h)
    assert len(messages) == 1
    assert messages[0].startswith("Gradients vanish: in epoch 0, ‖∂C/∂b‖ of layer 2")
    assert "chapter 5" in messages[0]
    # two layers are not enough for that
    shallow = Network([20, 20, 4], init="scaled-normal", rng=0)
    assert explain(layer_stats(shallow, X_, y_)) == []


def _grad_record(epoch, grad_b, activations):
    layers = list(range(2, 2 + len(grad_b)))
    diag = dict(layers=layers, grad_b=grad_b, grad_w=grad_b, activations=activations,
                dead=[None] * len(grad_b), cost="log-likelihood")
    return EpochRecord(epoch=epoch, eta=2.0, seconds=1.0, train_cost=0.5, diagnostics=diag)


def test_a_zero_gradient_is_named_without_a_ratio():
    """‖∂C/∂b²‖ = 0 (all units dead): no 300-digit 'ratio', no sigmoid advice for a ReLU net."""
    h = History(records=[_grad_record(0, [0.3, 0.5], ["relu", "softmax"]),
                         _grad_record(1, [0.0, 0.4], ["relu", "softmax"]),
                         _grad_record(2, [0.0, 0.2], ["relu", "softmax"])])
    messages = explain(h)
    assert len(messages) == 1, messages
    assert messages[0].startswith("No gradient reached layer 2 in epoch 2: its ‖∂C/∂b‖ was 0, "
                                  "while layer 3's was 0.2")
    assert "It was 0 in epochs 1–2." in messages[0]
    assert "×" not in messages[0] and "ReLU or tanh" not in messages[0]
    assert "He initialisation" in messages[0]


@pytest.mark.parametrize("activations,init,sigmoid_words,remedy", [
    (["relu", "relu", "softmax"], "he", False, "Fewer layers or a smaller eta help."),
    (["relu", "relu", "softmax"], "normal", False,
     "Fewer layers, He initialisation (init='he'), or a smaller eta help."),
    (["sigmoid", "relu", "softmax"], "normal", True,
     "Fewer layers, tanh hidden layers, or Xavier initialisation (init='xavier') help."),
    (["sigmoid", "sigmoid", "sigmoid"], "normal", True,
     "Fewer layers, ReLU (or tanh) hidden layers, or Xavier initialisation (init='xavier') help."),
    (["tanh", "tanh", "softmax"], "xavier", False, "Fewer layers or ReLU hidden layers help."),
    (["sigmoid", "softmax"], "xavier", True, "ReLU (or tanh) hidden layers help."),   # 1 hidden
])
def test_vanishing_advice_fits_the_network(activations, init, sigmoid_words, remedy):
    """No advice to use what the network already uses (ReLU, tanh, He initialisation)."""
    record = _grad_record(0, [1e-5, 0.1, 0.2][:len(activations)], activations)
    record.diagnostics["init"] = init
    (message,) = explain(History(records=[record]))
    assert message.startswith("Gradients vanish: in epoch 0, ‖∂C/∂b‖ of layer 2 was 1e-05, "
                              f"{'20,000' if len(activations) == 3 else '10,000'}× smaller than "
                              f"layer {4 if len(activations) == 3 else 3}'s")
    assert ("at most 1/4 for a sigmoid" in message) == sigmoid_words
    assert remedy in message


def test_dead_relu_advice_leaves_out_he_initialisation_when_it_is_in_use():
    for init, he in (("he", False), ("normal", True)):
        record = _grad_record(0, [0.1, 0.2], ["relu", "softmax"])
        record.diagnostics.update(init=init, dead=[0.9, None])
        (message,) = explain(History(records=[record]))
        assert message.startswith("90% of the ReLU units in layer 2 were never active")
        assert ("He initialisation" in message) == he and "Lower eta" in message


def test_a_diverging_run_with_finite_numbers_is_called_divergence_not_vanishing():
    """Epoch 1 of a run that overflowed in epoch 2: finite but absurd numbers. The ratio of
    its gradients means nothing; the warning is divergence."""
    record = _grad_record(0, [22.0, 3e139], ["relu", "identity"])
    record.train_cost = 1.9e285
    (message,) = explain(History(records=[record]), first_epoch=1)
    assert message.startswith("Training was diverging in epoch 1: the training cost was 1.9e+285.")
    assert "smaller eta (it was 2)" in message
    record.train_cost = 0.5
    record.diagnostics["weight_norm"] = [1e92, 1e40]
    (message,) = explain(History(records=[record]))
    assert "the largest gradient norm was 3e+139" in message


def test_a_rising_training_cost_blames_eta_not_the_cost_or_the_initialisation():
    """The book's eta = 100 run: outputs saturate at the wrong value and the cost rises;
    the remedy is a smaller eta, not cross-entropy (which stays stuck at eta = 100 too)."""
    records = []
    for epoch, cost in enumerate([0.5, 0.9, 0.9]):
        record = _grad_record(epoch, [1e-6, 1e-3], ["sigmoid", "sigmoid"])
        record.train_cost, record.eta = cost, 100.0
        record.diagnostics.update(output_saturated_wrong=0.18, saturation_threshold=0.1,
                                  cost="quadratic")
        records.append(record)
    (message,) = explain(History(records=records), first_epoch=1)
    assert message.startswith("The training cost rose from 0.5 in epoch 1 to 0.9 in epoch 3")
    assert "smaller eta (it was 100)" in message
    # down first, then back up far above the lowest (review: cross-entropy at eta = 10 on
    # the digits, 22.99 -> 6.86 -> 18.46, was told 'gradients vanish')
    for record, cost in zip(records, [22.99, 6.86, 18.46]):
        record.train_cost = cost
    (message,) = explain(History(records=records), first_epoch=1)
    assert message.startswith("The training cost rose from 6.86 in epoch 2 to 18.46 in epoch 3")
    # a converging run that wobbles near its minimum is not overshooting (review: 0.0115 to
    # 0.0128 in the last epoch of 60 was called 'eta too large'), and the other warnings
    # are given as before
    for costs in ([0.5, 0.45, 0.54], [0.887, 0.0115, 0.0128]):
        for record, cost in zip(records, costs):
            record.train_cost = cost
        messages = explain(History(records=records))
        assert not any("rose" in m for m in messages) and any("saturated" in m for m in messages)
    # a run that recorded only the running cost (the default) is read the same way
    for record, cost in zip(records, [0.5, 0.9, 0.9]):
        record.train_cost, record.running_cost = None, cost
    (message,) = explain(History(records=records), first_epoch=1)
    assert message.startswith("The training cost rose from 0.5 in epoch 1 to 0.9 in epoch 3")
    records[-1].running_cost = float("inf")
    (message,) = explain(History(records=records), first_epoch=1)
    assert message.startswith("The running cost overflowed to inf in epoch 3")


def test_huge_ratios_are_quoted_in_exponent_notation():
    (message,) = explain(History(records=[_grad_record(0, [1e-20, 1e15], ["sigmoid", "sigmoid"])]))
    assert "1e+35× smaller" in message


def test_dead_units_name_how_many_examples_were_seen():
    X_, y_ = _classification()
    net = Network([20, 10, 4], "relu", init="he", rng=0)
    net.biases[0][...] = -100.0                      # every hidden unit dead
    h = train(net, X_, y_, TrainConfig(epochs=1, mini_batch_size=10, eta=0.1),
              callbacks=[Diagnostics(every=3)])
    assert h.records[0].diagnostics["examples"] == 70          # batches 0, 3, ..., 18
    (message,) = [m for m in explain(h) if "never active" in m]
    assert "every one of the 70 examples observed (every 3rd mini-batch)" in message
    assert message.endswith("A unit active on only a few examples can look dead in a sample of 70.")
    (message,) = [m for m in explain(layer_stats(net, X_, y_)) if "never active" in m]
    assert "every one of the 200 examples given" in message


def test_softmax_output_saturated_under_the_quadratic_cost_is_explained():
    """δᴸ = Jᵀ(a − y): a saturated softmax has J ≈ 0, as σ′ ≈ 0 for a sigmoid."""
    X_, y_ = _classification()
    messages = {}
    for cost in ("quadratic", "log-likelihood"):
        net = Network([20, 10, 4], output="softmax", cost=cost, init="scaled-normal", rng=0)
        net.biases[1][...] = 0.0
        net.biases[1][0] = 30.0                       # class 0 for everything, a₀ ≈ 1
        stats = layer_stats(net, X_, y_)
        assert stats["output_saturated_wrong"] == pytest.approx(0.5 * np.mean(y_ != 0))
        messages[cost] = explain(stats)
    (message,) = messages["quadratic"]
    assert "∂aⱼ/∂zⱼ = aⱼ(1 − aⱼ)" in message and "Use the log-likelihood cost" in message
    assert messages["log-likelihood"] == []


def test_epochs_in_messages_can_count_from_1():
    h = History(records=[_grad_record(0, [1e-5, 0.1], ["sigmoid", "sigmoid"]),
                         _grad_record(1, [1e-5, 0.1], ["sigmoid", "sigmoid"])])
    assert explain(h)[0].startswith("Gradients vanish: in epoch 0,")
    (message,) = explain(h, first_epoch=1)
    assert message.startswith("Gradients vanish: in epoch 1,")
    assert message.endswith("The ratio was above 100 in epochs 1–2.")


def test_explain_of_layer_stats_with_non_finite_gradients():
    net = Network([3, 4, 2], "relu", output="identity", rng=0)
    net.weights = [np.full(w.shape, 1e200) for w in net.weights]
    X, y = np.ones((5, 3)), np.zeros((5, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")                  # no RuntimeWarning leaks out
        stats = layer_stats(net, X, y)
    (message,) = explain(stats)
    assert message == ("The gradients were not finite on the data given: the weights are too "
                       "large (training diverged). Try a smaller eta.")


@pytest.mark.parametrize("value,words", [(float("nan"), "became nan"),
                                         (float("inf"), "overflowed to inf")])
def test_non_finite_cost_is_explained(value, words):
    h = History(records=[EpochRecord(epoch=0, eta=30.0, seconds=1.0, train_cost=0.5),
                         EpochRecord(epoch=1, eta=30.0, seconds=1.0, train_cost=value)])
    messages = explain(h)
    assert len(messages) == 1
    assert words in messages[0] and "epoch 1" in messages[0]
    assert messages[0].startswith("The training cost ")
    assert "smaller eta (it was 30)" in messages[0]


def test_explain_without_diagnostics():
    h = History(records=[EpochRecord(epoch=0, eta=3.0, seconds=1.0, train_cost=0.5)])
    assert explain(h) == [] and explain([]) == []


@pytest.mark.parametrize("cost,output,warns", [("log-likelihood", "sigmoid", False),
                                               ("quadratic", "sigmoid", True)])
def test_output_saturation_warning_only_where_bp1_has_sigma_prime(cost, output, warns):
    """Log-likelihood with a sigmoid output has δ = y(a − 1): no σ′, no slowdown to warn of."""
    net = Network([4, 3], output=output, cost=cost, rng=0)
    net.weights = [np.zeros((3, 4))]
    net.biases = [np.full((3, 1), -30.0)]            # every output saturated near 0
    rng = np.random.default_rng(0)
    X, y = rng.random((50, 4)), rng.integers(0, 3, 50)
    warnings = explain(layer_stats(net, X, y), cost=cost)
    assert any("saturated output neurons" in w for w in warnings) == warns


# -- explain() refuses what it cannot read (fuzzing review) -------------------------------------
@pytest.mark.parametrize("history,got", [(None, "got NoneType"), ("abc", "got str"),
                                         ([1, 2], "got records of type int"),
                                         ({"epochs": []}, "got a dict with keys epochs")])
def test_explain_refuses_what_is_not_a_history(history, got):
    """'abc', [1, 2] and a dict of something else used to come back [] ("healthy")."""
    with pytest.raises(ConfigError, match=r"explain needs a History \(or its to_dict\(\), or a "
                                          r"list of its records\), or the dict of layer_stats; "
                                          + got):
        explain(history)


def test_explain_checks_record_dicts_like_history_from_dict():
    from bprop import DataError

    with pytest.raises(DataError, match="history 'records' must be a list; got str"):
        explain({"records": "abc"})
    with pytest.raises(DataError, match="history record 0: 'train_cost' must be a number; got 'a'"):
        explain([{"epoch": 0, "eta": 1.0, "seconds": 1.0, "train_cost": "a"}])
    record = _grad_record(0, [1e-5, 0.1], ["sigmoid", "sigmoid"])
    from dataclasses import asdict
    assert explain([asdict(record)]) == explain(History(records=[record]))
    # partial dicts and iterators, as explain took them before its checks
    rising = [{"epoch": 0, "train_cost": 1.0}, {"epoch": 1, "train_cost": 2.0}]
    assert any("eta is too large" in w or "too large" in w for w in explain(rising))
    assert explain(iter([record])) == explain(History(records=[record]))


@pytest.mark.parametrize("field,value,words", [
    ("grad_b", "ab", r"'grad_b' must be a list of numbers, one per layer \(2\); got 'ab'"),
    ("grad_w", [1.0], r"'grad_w' must be a list of numbers, one per layer \(2\)"),
    ("activations", [1, 2], r"'activations' must be a list of names"),
    ("layers", "ab", r"'layers' must be a list of layer numbers; got 'ab'"),
    ("every", 0, r"'every' must be an integer >= 1; got 0"),
    ("saturation_threshold", "0.1", r"'saturation_threshold' must be a number; got '0.1'"),
])
def test_explain_names_a_diagnostics_field_of_the_wrong_type(field, value, words):
    from bprop import DataError

    record = _grad_record(0, [1e-5, 0.1], ["sigmoid", "sigmoid"])
    record.diagnostics[field] = value
    with pytest.raises(DataError, match="the diagnostics of epoch 0: " + words):
        explain(History(records=[record]))
    with pytest.raises(DataError, match="the layer_stats dict: " if field != "layers" else "'layers'"):
        explain(record.diagnostics)


def test_explain_tolerates_diagnostics_that_leave_fields_out():
    record = _grad_record(0, [0.1, 0.2], ["sigmoid", "sigmoid"])
    record.diagnostics.update(output_saturated_wrong=0.5, dead=None, activations=None,
                              cost="quadratic")
    (message,) = explain(History(records=[record]))
    assert "saturated at the wrong value" in message and "below 0.1 of its peak" in message
    with pytest.raises(ConfigError, match="first_epoch must be an integer >= 0; got '1'"):
        explain(History(records=[record]), first_epoch="1")


def test_every_gradient_about_zero_while_the_cost_stays_put_is_eta_too_large():
    """The book's quadratic cost at eta 300 (or Adam at 3) saturates every neuron at once:
    the gradients underflow to ~1e-20 and the cost stays at 0.5. The advice was 'use
    cross-entropy' or a 150,000x 'vanishing gradient' ratio between two zeros."""
    stuck = [_grad_record(0, [0.02, 0.06], ["sigmoid", "sigmoid"])] + \
        [_grad_record(k, [1e-54, 1e-49], ["sigmoid", "sigmoid"]) for k in (1, 2)]
    messages = explain(History(records=stuck))
    assert len(messages) == 1, messages
    assert messages[0].startswith("Learning stopped in epoch 2: the largest gradient norm of "
                                  "any layer was 1e-49, and the training cost stayed at 0.5")
    assert "Try a smaller eta (it was 2)" in messages[0]
    # the same gradients after a cost that fell to nearly 0 are a run that converged
    converged = [_grad_record(0, [0.02, 0.06], ["sigmoid", "sigmoid"])] + \
        [_grad_record(k, [1e-12, 1e-10], ["sigmoid", "sigmoid"]) for k in (1, 2)]
    converged[0].train_cost, converged[-1].train_cost = 0.5, 1e-9
    assert not any("Learning stopped" in m for m in explain(History(records=converged)))
    # ... also when it converged within its first epoch (the cost flat near 0 after it)
    for r in converged:
        r.train_cost = 3.8e-8
    assert not any("Learning stopped" in m for m in explain(History(records=converged)))
    # and tiny gradients from the first epoch on are a network saturated by its initial
    # weights (chapter 3's case), not by its steps
    saturated = [_grad_record(k, [1e-54, 1e-49], ["sigmoid", "sigmoid"]) for k in range(3)]
    assert not any("Learning stopped" in m for m in explain(History(records=saturated)))


def test_the_cli_says_eta_is_too_large_for_the_books_run_at_eta_300(capsys):
    pytest.importorskip("sklearn")
    from bprop import cli
    assert cli.main(["train", "--dataset", "digits", "--eta", "300", "--epochs", "3",
                     "--diagnostics", "--quiet"]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "Learning stopped" in warnings[0] and "smaller eta" in warnings[0]


def test_a_dead_share_from_a_small_sample_needs_a_nearly_dead_layer():
    """At mini-batch 10 with every=20, 2,000 examples give a sample of 100: 77% looked dead
    where all 2,000 said 38%. Below 500 sampled examples only > 90% is warned about."""
    def record(dead, examples):
        diag = dict(layers=[2, 3], grad_b=[0.1, 0.1], grad_w=[0.1, 0.1],
                    activations=["relu", "softmax"], dead=[dead, None], every=20,
                    examples=examples, batches=examples // 10, init="he")
        return EpochRecord(epoch=0, eta=0.1, seconds=1.0, diagnostics=diag)
    def warned(dead, examples):
        return any("never active" in m for m in explain(History(records=[record(dead, examples)])))
    assert not warned(0.77, 100) and warned(0.95, 100)
    assert warned(0.77, 600)
