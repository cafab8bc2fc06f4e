"""Training features (optimisers, schedules, early stopping, regularisers, dropout, shifts),
each checked against values computed independently here, and end-to-end learning."""

import dataclasses

import numpy as np
import pytest

from bprop import ConfigError, Network, TrainConfig, network2, train
from bprop.backprop import backprop_batch
from bprop.training import Dropout, Shifter

N = 12


def _data(seed=0, n=N, sizes=(3, 4, 2)):
    rng = np.random.default_rng(seed)
    X = rng.random((n, sizes[0]))
    y = rng.integers(0, sizes[-1], n)
    return X, y


def _pair(**net_kw):
    """Two identical networks: one to train, one for the hand computation."""
    a = Network([3, 4, 2], rng=3, **net_kw)
    b = Network([3, 4, 2], rng=3, **net_kw)
    return a, b


def _mean_grads(net, X, y):
    """Gradient of the mean cost over the whole data set (full batch)."""
    nb, nw = net.backprop_batch(X.T, np.eye(net.sizes[-1])[y].T)
    return [g / len(X) for g in nw], [g / len(X) for g in nb]


def _run(net, X, y, steps, **kw):
    """`steps` full-batch steps: one per epoch, so shuffling cannot change the gradient."""
    cfg = TrainConfig(epochs=steps, mini_batch_size=len(X), monitor_training_cost=False, **kw)
    return train(net, X, y, cfg)


def _close(net, weights, biases):
    for got, want in zip(net.weights + net.biases, weights + biases):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)


def test_sgd_with_l2_is_the_books_rule():
    X, y = _data()
    net, ref = _pair()
    eta, lmbda = 0.7, 3.0
    _run(net, X, y, 2, eta=eta, lmbda=lmbda)
    w, b = [w.copy() for w in ref.weights], [b.copy() for b in ref.biases]
    for _ in range(2):
        ref.weights, ref.biases = w, b
        gw, gb = _mean_grads(ref, X, y)
        w = [(1 - eta * lmbda / N) * wi - eta * g for wi, g in zip(w, gw)]
        b = [bi - eta * g for bi, g in zip(b, gb)]          # biases are not decayed
    _close(net, w, b)


def test_l1_decay():
    X, y = _data()
    net, ref = _pair()
    eta, l1 = 0.5, 2.0
    _run(net, X, y, 1, eta=eta, l1=l1)
    gw, gb = _mean_grads(ref, X, y)
    w = [wi - eta * l1 / N * np.sign(wi) - eta * g for wi, g in zip(ref.weights, gw)]
    b = [bi - eta * g for bi, g in zip(ref.biases, gb)]
    _close(net, w, b)


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_and_nesterov_two_steps(nesterov):
    X, y = _data()
    net, ref = _pair()
    eta, mu = 0.4, 0.8
    _run(net, X, y, 2, eta=eta, optimizer="nesterov" if nesterov else "momentum", momentum=mu)
    params = [p.copy() for p in ref.weights + ref.biases]
    v = [np.zeros_like(p) for p in params]
    for _ in range(2):
        ref.weights, ref.biases = params[:2], params[2:]
        gw, gb = _mean_grads(ref, X, y)
        g = gw + gb
        v = [mu * vi - eta * gi for vi, gi in zip(v, g)]
        if nesterov:
            params = [p + mu * vi - eta * gi for p, vi, gi in zip(params, v, g)]
        else:
            params = [p + vi for p, vi in zip(params, v)]
    _close(net, params[:2], params[2:])


@pytest.mark.parametrize("optimizer", ["momentum", "nesterov", "adam"])
def test_regularisation_is_in_the_gradient_that_momentum_and_adam_follow(optimizer):
    """C = C0 + (λ/2n)Σw² + (λ1/n)Σ|w|: every optimiser steps along ∇C, so the first step of
    momentum (v = −η∇C) and of Adam (η ∇C/|∇C|) sees the regularisation's gradient too."""
    X, y = _data()
    net, ref = _pair()
    eta, lmbda, l1, mu = 0.3, 4.0, 1.5, 0.8
    _run(net, X, y, 1, eta=eta, lmbda=lmbda, l1=l1, optimizer=optimizer, momentum=mu)
    gw, gb = _mean_grads(ref, X, y)
    gw = [g + lmbda / N * w + l1 / N * np.sign(w) for g, w in zip(gw, ref.weights)]
    g = gw + gb
    if optimizer == "adam":
        step = [eta * gi / (np.abs(gi) + 1e-8) for gi in g]
    else:
        step = [eta * gi * (1 + mu if optimizer == "nesterov" else 1) for gi in g]
    params = [p - d for p, d in zip(ref.weights + ref.biases, step)]
    _close(net, params[:2], params[2:])


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_every_optimizer_with_lmbda_converges_to_the_minimum_of_the_reported_cost(optimizer):
    """A linear network under the quadratic cost with L2 is ridge regression: whatever the
    optimiser, it must end at the ridge solution for λ, whose cost is the one reported."""
    rng = np.random.default_rng(0)
    n, d, lmbda = 40, 3, 20.0
    X = rng.random((n, d))
    t = (X @ [2.0, -1.0, 0.5] + 0.3 + 0.1 * rng.standard_normal(n))[:, None]
    # minimise (1/2n)Σ(wx + b − t)² + (λ/2n)‖w‖²: (AᵀA + λ·diag(1, 1, 1, 0)) [w, b] = Aᵀt
    A = np.hstack([X, np.ones((n, 1))])
    ridge = np.linalg.solve(A.T @ A + np.diag([lmbda] * d + [0.0]), A.T @ t[:, 0])
    net = Network([d, 1], activations="identity", init="scaled-normal", rng=0)
    h = net.fit(X, t, epochs=3000, batch_size=n, eta=0.3 if optimizer != "adam" else 0.01,
                lmbda=lmbda, optimizer=optimizer, monitor_training_cost=True)
    got = np.r_[net.weights[0][0], net.biases[0][0]]
    np.testing.assert_allclose(got, ridge, atol=1e-6)
    best = 0.5 * np.mean((A @ ridge - t[:, 0]) ** 2) + 0.5 * lmbda / n * ridge[:d] @ ridge[:d]
    assert h.records[-1].train_cost == pytest.approx(best, rel=1e-9)


def test_reported_cost_includes_the_l1_term():
    X, y = _data()
    net = Network([3, 4, 2], rng=3)
    h = net.fit(X, y, epochs=1, batch_size=5, eta=0.5, l1=5.0, lmbda=2.0,
                monitor_training_cost=True)
    Y = np.eye(2)[y]
    c0 = 0.5 * np.mean(np.sum((net.predict_proba(X) - Y) ** 2, axis=1))
    l2 = 0.5 * 2.0 / N * sum(np.sum(w ** 2) for w in net.weights)
    l1 = 5.0 / N * sum(np.sum(np.abs(w)) for w in net.weights)
    assert h.records[0].train_cost == pytest.approx(c0 + l2 + l1, rel=1e-12)
    # the running cost adds the same terms, with the epoch's final weights
    assert h.records[0].running_cost > l2 + l1


@pytest.mark.parametrize("cost, output", [("quadratic", "sigmoid"), ("cross-entropy", "sigmoid"),
                                          ("log-likelihood", "softmax")])
def test_running_cost_is_each_batch_cost_before_its_step(cost, output):
    """With one mini-batch per epoch the running cost of epoch j is the cost of every
    training row with the weights epoch j − 1 ended with: train_cost of epoch j − 1."""
    X, y = _data()
    net = Network([3, 4, 2], output=output, cost=cost, rng=3)
    before = net.mean_cost(X, y)
    h = net.fit(X, y, epochs=4, batch_size=N, eta=0.5, monitor_training_cost=True)
    running = [r.running_cost for r in h.records]
    assert running == pytest.approx([before] + [r.train_cost for r in h.records[:-1]],
                                    rel=1e-12)
    assert running[-1] > h.records[-1].train_cost       # a learning run: above the true cost


def test_running_cost_adds_up_mini_batches_of_any_size():
    """Mini-batches of 7 and a last one of 2 (and more columns than one CostSum buffer
    holds): the running cost is the mean of every example's cost as it was trained."""
    rng = np.random.default_rng(5)
    X, y = rng.random((5000, 3)), rng.integers(0, 2, 5000)
    seen = []

    class Watch:
        def observe_batch(self, net, ws, nabla_b, nabla_w, scale):
            seen.append(0.5 * float(np.sum((ws.activations[-1] - ws.y) ** 2)))

    net = Network([3, 4, 2], rng=1)
    h = net.fit(X, y, epochs=1, batch_size=7, eta=0.5, callbacks=[Watch()])
    assert len(seen) == -(-5000 // 7)
    assert h.records[0].running_cost == pytest.approx(sum(seen) / 5000, rel=1e-12)
    assert net.fit(X, y, epochs=1, monitor_running_cost=False).records[0].running_cost is None


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_numpy_float32_settings_leave_a_float64_network_in_float64(optimizer):
    """eta = np.float32(0.1) is the same number as float(np.float32(0.1)); under NumPy 2's
    promotion rules it would have made the decay and step factors float32."""
    X, y = _data()
    a, b = _pair()
    _run(a, X, y, 3, eta=np.float32(0.1), lmbda=np.float32(3.0), l1=np.float32(0.5),
         momentum=np.float32(0.9), optimizer=optimizer)
    _run(b, X, y, 3, eta=float(np.float32(0.1)), lmbda=3.0, l1=0.5,
         momentum=float(np.float32(0.9)), optimizer=optimizer)
    for p, q in zip(a.weights + a.biases, b.weights + b.biases):
        np.testing.assert_array_equal(p, q)


def test_adam_two_steps():
    X, y = _data()
    net, ref = _pair()
    eta, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    _run(net, X, y, 2, eta=eta, optimizer="adam")
    params = [p.copy() for p in ref.weights + ref.biases]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    for t in (1, 2):
        ref.weights, ref.biases = params[:2], params[2:]
        gw, gb = _mean_grads(ref, X, y)
        g = gw + gb
        m = [b1 * mi + (1 - b1) * gi for mi, gi in zip(m, g)]
        v = [b2 * vi + (1 - b2) * gi ** 2 for vi, gi in zip(v, g)]
        m_hat = [mi / (1 - b1 ** t) for mi in m]
        v_hat = [vi / (1 - b2 ** t) for vi in v]
        params = [p - eta * mh / (np.sqrt(vh) + eps)
                  for p, mh, vh in zip(params, m_hat, v_hat)]
    _close(net, params[:2], params[2:])


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_gradient_clipping_by_global_norm(optimizer):
    X, y = _data()
    net, ref = _pair()
    eta, clip = 0.5, 0.01
    _run(net, X, y, 1, eta=eta, clip_norm=clip, optimizer=optimizer)
    gw, gb = _mean_grads(ref, X, y)
    g = gw + gb
    norm = np.sqrt(sum(np.sum(gi ** 2) for gi in g))
    assert norm > clip                                  # the clip really acts
    g = [gi * clip / norm for gi in g]
    if optimizer == "sgd":
        params = [p - eta * gi for p, gi in zip(ref.weights + ref.biases, g)]
    else:   # Adam's first step: m̂ = g, v̂ = g², so each parameter moves by η g / (|g| + ε)
        params = [p - eta * gi / (np.abs(gi) + 1e-8) for p, gi in zip(ref.weights + ref.biases, g)]
    _close(net, params[:2], params[2:])


def test_step_schedule():
    X, y = _data()
    net = Network([3, 4, 2], rng=0)
    h = _run(net, X, y, 5, eta=1.0, schedule="step", step_size=2, gamma=0.1)
    np.testing.assert_allclose(h.column("eta"), [1.0, 1.0, 0.1, 0.1, 0.01])


def test_plateau_schedule_halves_and_stops(monkeypatch):
    """The book's rule: halve eta after `patience` epochs without a better accuracy; stop
    when eta has fallen by the factor."""
    X, y = _data(n=40)
    net = Network([3, 4, 2], rng=0)
    # freeze the accuracy: predictions never change, so every epoch is "no improvement"
    monkeypatch.setattr(Network, "predict", lambda self, X: np.zeros(len(X), int))
    cfg = TrainConfig(epochs=50, mini_batch_size=10, eta=1.0, schedule="plateau", patience=2,
                      min_eta_factor=8, monitor_training_cost=False)
    h = train(net, X, y, cfg, validation=(X, y))
    assert h.column("eta")[:7] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    assert "eta fell to 1/8 of its start, the plateau schedule's limit 1/8" in h.stopped_early
    assert len(h.records) == 7          # the 3rd halving reaches 1/8 of eta and stops


def test_early_stopping_restores_best_weights():
    X, y = _data(n=40)
    Xv, yv = _data(seed=1, n=30)
    net = Network([3, 4, 2], rng=0)
    snapshots = []
    cfg = TrainConfig(epochs=30, mini_batch_size=5, eta=30.0, early_stopping=True, patience=3,
                      monitor="val_cost", monitor_training_cost=False)
    h = train(net, X, y, cfg, validation=(Xv, yv),
              on_epoch_end=lambda r: snapshots.append([w.copy() for w in net.weights]))
    costs = h.column("val_cost")
    best = int(np.argmin(costs))
    assert h.best_epoch == best
    assert h.stopped_early and len(costs) == best + 1 + 3
    for got, want in zip(net.weights, snapshots[best]):
        np.testing.assert_array_equal(got, want)


def test_early_stopping_needs_validation_data():
    with pytest.raises(ConfigError, match="early stopping needs validation data"):
        train(Network([3, 2]), *_data(sizes=(3, 2)), TrainConfig(early_stopping=True))


def test_dropout_masks_gradient_and_seed():
    """Dropout's gradient is the gradient of the thinned network; its masks follow the seed;
    nothing is dropped at evaluation."""
    net = Network([5, 6, 3], "tanh", output="sigmoid", rng=0)
    rng = np.random.default_rng(1)
    x = rng.random((5, 4))
    y = np.eye(3)[:, [0, 1, 2, 0]]
    ws = net.workspace(4)
    nb, nw = backprop_batch(net, x, y, ws, 1.0, Dropout(0.5, np.random.default_rng(7)))
    nw = [g.copy() for g in nw]
    mask = ws.masks[0].copy()
    np.testing.assert_array_equal(                        # same seed, same mask
        (np.random.default_rng(7).random((6, 4)) < 0.5) / 0.5, mask)

    def cost(w0):
        a1 = np.tanh(w0 @ x + net.biases[0]) * mask
        a2 = 1 / (1 + np.exp(-(net.weights[1] @ a1 + net.biases[1])))
        return 0.5 * np.sum((a2 - y) ** 2)

    h, w0 = 1e-6, net.weights[0]
    numeric = np.zeros_like(w0)
    for idx in np.ndindex(w0.shape):
        e = np.zeros_like(w0)
        e[idx] = h
        numeric[idx] = (cost(w0 + e) - cost(w0 - e)) / (2 * h)
    np.testing.assert_allclose(nw[0], numeric, rtol=1e-6, atol=1e-9)
    # evaluation uses no mask
    np.testing.assert_allclose(net.feedforward(x), 1 / (1 + np.exp(-(
        net.weights[1] @ np.tanh(net.weights[0] @ x + net.biases[0]) + net.biases[1]))))


def test_dropout_training_is_reproducible():
    X, y = _data(n=30)
    runs = []
    for _ in range(2):
        net = Network([3, 8, 2], rng=4)
        train(net, X, y, TrainConfig(epochs=2, mini_batch_size=5, eta=1.0, dropout=0.3))
        runs.append(net.weights[0])
    np.testing.assert_array_equal(*runs)
    assert not np.array_equal(runs[0], Network([3, 8, 2], rng=4).weights[0])


def test_shift_augmentation():
    img = np.zeros((4, 4))
    img[1, 2] = 1.0
    rows = np.stack([img.ravel()] * 50)
    before = rows.copy()
    Shifter((4, 4), 1, np.random.default_rng(0))(rows)
    assert rows.shape == before.shape
    seen = set()
    for r in rows:
        (i, j), = np.argwhere(r.reshape(4, 4) == 1.0)
        assert abs(i - 1) <= 1 and abs(j - 2) <= 1 and r.sum() == 1.0   # moved, not smeared
        seen.add((i, j))
    assert len(seen) == 9                                      # every shift in {-1, 0, 1}²
    again = np.stack([img.ravel()] * 50)
    Shifter((4, 4), 1, np.random.default_rng(0))(again)
    np.testing.assert_array_equal(rows, again)                 # deterministic under a seed
    # shifting off the edge fills with zeros
    edge = np.tile(np.eye(1, 16), (200, 1))            # one pixel lit, at (0, 0)
    Shifter((4, 4), 3, np.random.default_rng(5))(edge)
    kept = edge.sum(axis=1)
    assert set(kept) == {0.0, 1.0} and 0 < kept.sum() < 200   # some shifted out, none smeared
    for r in edge[kept == 1]:
        (i, j), = np.argwhere(r.reshape(4, 4) == 1.0)
        assert i <= 3 and j <= 3


def test_shift_training_keeps_labels_and_needs_image_shape():
    X, y = _data(n=20, sizes=(16, 3))
    net = Network([16, 3], rng=0)
    h = train(net, X, y, TrainConfig(epochs=2, mini_batch_size=5, eta=1.0, shift=1,
                                     image_shape=(4, 4)), validation=(X, y))
    assert len(h.records) == 2
    with pytest.raises(ConfigError, match="shift needs image_shape"):
        TrainConfig(shift=1)


def test_network2_sgd_gives_the_books_numbers_and_lines(capsys):
    sizes = [4, 5, 3]
    rng = np.random.default_rng(0)
    tr = [(rng.random((4, 1)), network2.vectorized_result(int(rng.integers(3)), 3))
          for _ in range(17)]
    ev = [(rng.random((4, 1)), int(rng.integers(3))) for _ in range(9)]
    net = network2.Network(sizes, rng=1)
    assert net.cost is network2.CrossEntropyCost
    w, b = [w.copy() for w in net.weights], [b.copy() for b in net.biases]
    net.rng = np.random.default_rng(9)
    orders = np.random.default_rng(9)
    orders = [orders.permutation(17) for _ in range(2)]
    eta, lmbda, mbs = 0.5, 2.0, 4
    result = net.SGD(tr, 2, mbs, eta, lmbda=lmbda, evaluation_data=ev,
                     monitor_evaluation_cost=True, monitor_evaluation_accuracy=True,
                     monitor_training_cost=True, monitor_training_accuracy=True)

    def s(z):
        return 1 / (1 + np.exp(-z))

    for order in orders:                                  # the book's update, by hand
        data = [tr[i] for i in order]
        for k in range(0, 17, mbs):
            batch = data[k:k + mbs]
            gw = [np.zeros_like(wi) for wi in w]
            gb = [np.zeros_like(bi) for bi in b]
            for x, y in batch:
                a1 = s(w[0] @ x + b[0])
                a2 = s(w[1] @ a1 + b[1])
                d2 = a2 - y                                                  # cross-entropy
                d1 = (w[1].T @ d2) * a1 * (1 - a1)
                gw[0] += d1 @ x.T
                gw[1] += d2 @ a1.T
                gb[0] += d1
                gb[1] += d2
            w = [(1 - eta * lmbda / 17) * wi - eta / len(batch) * g for wi, g in zip(w, gw)]
            b = [bi - eta / len(batch) * g for bi, g in zip(b, gb)]
    _close(net, w, b)
    ev_cost, ev_acc, tr_cost, tr_acc = result
    assert len(ev_cost) == len(ev_acc) == len(tr_cost) == len(tr_acc) == 2
    assert ev_acc[-1] == net.accuracy(ev) and tr_acc[-1] == net.accuracy(tr, convert=True)
    assert tr_cost[-1] == pytest.approx(net.total_cost(tr, lmbda))
    assert ev_cost[-1] == pytest.approx(net.total_cost(ev, lmbda, convert=True))
    out = capsys.readouterr().out.split("\n")
    assert out[:6] == ["Epoch 0 training complete", f"Cost on training data: {tr_cost[0]}",
                       f"Accuracy on training data: {tr_acc[0]} / 17",
                       f"Cost on evaluation data: {ev_cost[0]}",
                       f"Accuracy on evaluation data: {ev_acc[0]} / 9", ""]


def test_network2_total_cost_by_hand():
    net = network2.Network([2, 2], rng=0)
    data = [(np.array([[0.5], [1.0]]), network2.vectorized_result(1, 2))]
    a = net.feedforward(data[0][0])
    y = data[0][1]
    want = np.sum(-y * np.log(a) - (1 - y) * np.log(1 - a)) + 0.5 * 3.0 * np.sum(net.weights[0] ** 2)
    assert net.total_cost(data, 3.0) == pytest.approx(want)
    assert net.total_cost([(data[0][0], 1)], 3.0, convert=True) == pytest.approx(want)


def test_network2_initialisers():
    net = network2.Network([400, 300], rng=0)                 # default: N(0, 1/n_in) weights
    assert net.weights[0].std() == pytest.approx(1 / 20, rel=0.02)
    assert net.biases[0].std() == pytest.approx(1.0, rel=0.2)
    assert net.init == "scaled-normal"
    net.large_weight_initializer()                            # N(0, 1) for both
    assert net.weights[0].std() == pytest.approx(1.0, rel=0.02)
    assert net.biases[0].std() == pytest.approx(1.0, rel=0.2)
    assert net.init == "normal"           # recorded: model files and diagnostics read it
    net.default_weight_initializer()
    assert net.weights[0].std() == pytest.approx(1 / 20, rel=0.02)
    assert net.init == "scaled-normal"
    with pytest.raises(ConfigError, match="unknown init 'nope'"):
        net.initialize("nope")


@pytest.mark.parametrize("kw,match", [
    ({"gamma": -1.0}, r"gamma must be a number in \(0, 1\]"),
    ({"gamma": 0.0}, r"gamma must be a number in \(0, 1\]"),
    ({"gamma": float("nan")}, r"gamma must be a number"),
    ({"min_eta_factor": 0}, "min_eta_factor must be a positive number"),
    ({"min_eta_factor": 1}, "min_eta_factor must be greater than 1"),
    ({"momentum": "x"}, r"momentum must be a number in \[0, 1\)"),
    ({"dropout": "0.5"}, r"dropout must be a number in \[0, 1\)"),
    ({"beta2": 1.0}, r"beta2 must be a number in \[0, 1\)"),
    ({"shift": 1, "image_shape": (1, 2, 2)}, r"image_shape must be \(height, width\)"),
])
def test_bad_config_values(kw, match):
    with pytest.raises(ConfigError, match=match):
        TrainConfig(**kw)


@pytest.mark.slow
def test_learns_the_digits():
    """End to end: the book's network on real handwritten digits beats a floor."""
    pytest.importorskip("sklearn")
    from bprop.datasets import load
    d = load("digits")
    net = Network([64, 30, 10], rng=0)
    h = net.fit(d.X_train, d.y_train, epochs=30, batch_size=10, eta=3.0, test=(d.X_test, d.y_test))
    assert h.records[-1].test_accuracy > 0.9
    assert h.records[-1].running_cost < h.records[0].running_cost


def test_history_round_trips_numpy_scalars_and_refuses_what_it_cannot_be():
    """A record holding NumPy scalars round-trips: from_dict(to_dict()) takes them back."""
    from bprop.errors import DataError
    from bprop.train import History
    rng = np.random.default_rng(0)
    net = Network([3, 4, 2], rng=0)
    h = net.fit(rng.random((20, 3)), np.arange(20) % 2, epochs=2, eta=0.5)
    h.records[0].eta = np.float32(0.5)
    back = History.from_dict(h.to_dict())
    assert back.column("eta") == h.column("eta") and back.column("epoch") == [0, 1]
    d = h.to_dict()
    assert type(d["records"][0]["eta"]) is float   # to_dict writes JSON types
    import json
    json.dumps(d)                                  # so the history can be saved
    d["records"][1]["epoch"] = np.int64(1)
    assert History.from_dict(d).records[1].epoch == 1
    d["records"][1]["eta"] = True                  # a bool is not a number here
    with pytest.raises(DataError, match="history record 1: 'eta' must be a number; got True"):
        History.from_dict(d)
    d["records"][1]["eta"] = 0.5
    for field, value in (("test_accuracy", 7.5), ("train_accuracy", -0.1),
                         ("val_accuracy", float("nan"))):    # a hand-edited file
        bad = {**d, "records": [d["records"][0], {**d["records"][1], field: value}]}
        with pytest.raises(DataError, match=rf"history record 1: '{field}' must be a fraction "
                                            rf"in \[0, 1\]; got {value}"):
            History.from_dict(bad)
    History.from_dict({**d, "records": [{**d["records"][0], "test_accuracy": 1.0}]})


def test_history_repr_is_a_short_summary():
    rng = np.random.default_rng(0)
    net = Network([3, 4, 2], rng=0)
    h = net.fit(rng.random((20, 3)), np.arange(20) % 2, epochs=3, eta=0.5)
    text = repr(h)
    assert text.startswith("History(3 epochs, last running_cost=") and len(text) < 200
    assert "EpochRecord(" not in text


def test_plateau_stop_message_shows_the_limit_unrounded():
    rng = np.random.default_rng(0)
    X, y = rng.random((30, 3)), np.zeros(30, int)
    y[::2] = 1
    net = Network([3, 2], rng=0)
    h = train(net, X, y, TrainConfig(epochs=20, mini_batch_size=10, eta=1e-9,
                                     schedule="plateau", patience=1, min_eta_factor=1.0000001),
              validation=(X, y))
    assert h.stopped_early == "eta fell to 1/2 of its start, the plateau schedule's limit " \
                              "1/1.0000001"
    h = train(Network([3, 2], rng=0), X, y,
              TrainConfig(epochs=20, mini_batch_size=10, eta=1e-9, schedule="plateau",
                          patience=1, min_eta_factor=np.float64(4.0)), validation=(X, y))
    assert h.stopped_early.endswith("limit 1/4")                # not np.float64(4.0)


@pytest.mark.parametrize("int_type", [np.uint8, np.uint64, np.int32])
def test_numpy_integer_settings_train_like_python_ints(int_type):
    """The book's range(0, n, mbs) takes a NumPy unsigned mini-batch size; so must train."""
    rng = np.random.default_rng(0)
    X, y = rng.random((23, 3)), np.arange(23) % 2
    nets = [Network([3, 4, 2], rng=0) for _ in range(2)]
    nets[0].fit(X, y, epochs=int_type(2), batch_size=int_type(5), eta=1.0)
    nets[1].fit(X, y, epochs=2, batch_size=5, eta=1.0)
    for a, b in zip(nets[0].weights, nets[1].weights):
        np.testing.assert_array_equal(a, b)
    config = TrainConfig(epochs=int_type(1), mini_batch_size=int_type(4), step_size=int_type(3))
    assert all(type(v) is int for v in (config.epochs, config.mini_batch_size, config.step_size))


def test_checkpoint_of_numpy_scalar_settings_saves_and_loads(tmp_path):
    """eta as np.float32 reaches TrainConfig, the records and the plateau state: all saved
    as JSON numbers."""
    from bprop import save
    from bprop.io import load_checkpoint
    rng = np.random.default_rng(0)
    X, y = rng.random((30, 3)), np.arange(30) % 2
    net = Network([3, 4, 2], rng=0)
    config = TrainConfig(epochs=3, mini_batch_size=10, eta=np.float32(1e-9),
                         schedule="plateau", patience=1, min_eta_factor=1e6)   # halves eta
    h = train(net, X, y, config, validation=(X, y))
    save(net, tmp_path / "c.npz", config=config, history=h, epoch=3)
    ck = load_checkpoint(tmp_path / "c.npz")
    assert ck.meta["config"]["eta"] == pytest.approx(1e-9, rel=1e-6)
    assert type(ck.meta["history"]["state"]["eta"]) is float


def test_training_evaluates_through_the_networks_own_methods():
    """A subclass's predict, mean_cost, check_X and targets are what train calls (it takes
    any object with a Network's public methods)."""
    calls = []

    class Counted(Network):
        def predict(self, X):
            calls.append("predict")
            return super().predict(X)

        def mean_cost(self, X, y, lmbda=0.0, l1=0.0):
            calls.append("mean_cost")
            return super().mean_cost(X, y, lmbda, l1)

        def targets(self, y, n):
            calls.append("targets")
            return super().targets(y, n)

    X, y = _data(n=40)
    Counted([3, 4, 2], rng=0).fit(X, y, epochs=2, validation=(X, y), test=(X, y),
                                  monitor_training_cost=True)
    assert calls.count("predict") == 4          # validation and test, each epoch
    assert calls.count("mean_cost") == 4        # training and validation cost, each epoch
    assert calls.count("targets") >= 2          # the training and validation targets


# -- settings that would be ignored are refused --------------------------------------------------
@pytest.mark.parametrize("given, message", [
    (dict(momentum=0.5), "momentum=0.5 applies only with optimizer=momentum or nesterov"),
    (dict(beta1=0.8), "beta1=0.8 applies only with optimizer=adam"),
    (dict(optimizer="momentum", beta2=0.9), "beta2=0.9 applies only with optimizer=adam"),
    (dict(gamma=0.1), "gamma=0.1 applies only with schedule=step"),
    (dict(step_size=3, schedule="constant"), "step_size=3 applies only with schedule=step"),
    (dict(patience=3), "patience=3 applies only with early stopping or schedule=plateau"),
    (dict(min_eta_factor=4.0), "min_eta_factor=4.0 applies only with schedule=plateau")])
def test_fit_refuses_a_setting_that_would_be_ignored(given, message):
    X, y = np.random.default_rng(0).random((20, 4)), np.arange(20) % 2
    net = Network([4, 3, 2], rng=0)
    with pytest.raises(ConfigError, match=f"^{message}; it would be ignored$"):
        net.fit(X, y, epochs=1, **given)


def test_settings_that_apply_are_taken_and_dropout_needs_a_hidden_layer(capsys):
    from bprop import cli
    rng = np.random.default_rng(0)
    X, y = rng.random((40, 4)), np.arange(40) % 2
    Network([4, 3, 2], rng=0).fit(X, y, epochs=1, optimizer="nesterov", momentum=0.5)
    Network([4, 3, 2], rng=0).fit(X, y, epochs=1, optimizer="adam", beta1=0.8, beta2=0.9)
    Network([4, 3, 2], rng=0).fit(X, y, epochs=1, schedule="step", step_size=1, gamma=0.5)
    Network([4, 3, 2], rng=0).fit(X, y, epochs=2, early_stopping=True, patience=1,
                                  monitor="val_cost", validation=(X[:10], y[:10]))
    Network([4, 3, 2], rng=0).fit(X, y, epochs=2, schedule="plateau", patience=1,
                                  min_eta_factor=2.0, validation=(X[:10], y[:10]))
    # monitor picks the best epoch of any run with validation data, early stopping or not
    best = [Network([4, 3, 2], rng=0).fit(X, y, epochs=6, eta=1.0, monitor=monitor,
                                          validation=(X[:10], y[:10])).best_epoch
            for monitor in ("val_accuracy", "val_cost")]
    assert None not in best
    with pytest.raises(ConfigError, match=r"^dropout drops hidden neurons, and the network "
                                          r"\[4, 2\] has no hidden layer$"):
        Network([4, 2], rng=0).fit(X, y, epochs=1, dropout=0.5)
    # the command line names its flags
    status = cli.main(["train", "--dataset", "digits", "--epochs", "1", "--momentum", "0.5"])
    assert status == 2
    assert capsys.readouterr().err == ("bprop: error: --momentum=0.5 applies only with "
                                       "--optimizer=momentum or nesterov; it would be ignored\n")


def test_a_diverged_run_puts_back_the_optimiser_state_and_what_callbacks_did():
    from bprop.optimizers import optimizer_for
    X, y = np.random.default_rng(0).random((50, 4)), np.arange(50) % 2
    net = Network([4, 8, 2], output="identity", rng=0)
    config = TrainConfig(epochs=5, eta=1e8, optimizer="momentum")
    optimizer = optimizer_for(config)
    kept = {}

    def clip(record):               # a max-norm constraint, applied after each epoch
        for w in net.weights:
            np.clip(w, -1e3, 1e3, out=w)
        kept["params"] = [p.copy() for p in (*net.weights, *net.biases)]
        kept["state"] = {k: v.copy() for k, v in optimizer.state().items()}

    with pytest.raises(FloatingPointError, match="weights are those after epoch"):
        train(net, X, y, config, optimizer=optimizer, on_epoch_end=clip)
    for p, want in zip((*net.weights, *net.biases), kept["params"]):
        np.testing.assert_array_equal(p, want)          # as the callback left them
    assert kept["state"] and optimizer.state().keys() == kept["state"].keys()
    for name, want in kept["state"].items():
        np.testing.assert_array_equal(optimizer.state()[name], want)
    # and training goes on from there with a smaller eta (sklearn's partial_fit does this)
    optimizer.eta = 1e-3
    train(net, X, y, TrainConfig(epochs=1, eta=1e-3, optimizer="momentum"),
          optimizer=optimizer)
    # diverging in the first epoch gives a new optimiser's state back
    net, optimizer = Network([4, 8, 2], output="identity", rng=0), optimizer_for(config)
    with pytest.raises(FloatingPointError, match="it started this run with again"):
        train(net, X, y, dataclasses.replace(config, eta=1e200), optimizer=optimizer)
    assert optimizer.state() == {}


def test_a_diverged_run_gives_back_the_last_finite_weights():
    """Nothing the user had is lost: fit's network is not left holding inf and nan."""
    X, y = np.random.default_rng(0).random((50, 4)), np.arange(50) % 2
    net = Network([4, 8, 2], output="identity", rng=0)
    start = [p.copy() for p in (*net.weights, *net.biases)]
    after = []
    with pytest.raises(FloatingPointError, match=r"diverged in epoch 4 of 5: .*; the network's "
                                                 r"weights are those after epoch 3 again$"):
        net.fit(X, y, epochs=5, eta=1e8, on_epoch_end=lambda record: after.append(
            [p.copy() for p in (*net.weights, *net.biases)]))
    assert len(after) == 3
    for p, kept in zip((*net.weights, *net.biases), after[-1]):
        np.testing.assert_array_equal(p, kept)
    net = Network([4, 8, 2], output="identity", rng=0)
    with pytest.raises(FloatingPointError, match="those it started this run with again$"):
        net.fit(X, y, epochs=5, eta=1e200)
    for p, kept in zip((*net.weights, *net.biases), start):
        np.testing.assert_array_equal(p, kept)


def test_the_running_cost_is_the_mean_over_examples_as_each_mini_batch_was_trained():
    """n = 21 in mini-batches of 10, 10 and 1: the last example weighs 1/21, not 1/3."""
    rng = np.random.default_rng(3)
    X, y = rng.random((21, 4)), rng.integers(0, 3, 21)
    seen = []

    class Costs:                # called with each mini-batch before its step
        def observe_batch(self, net, ws, nabla_b, nabla_w, scale):
            seen.append(net.mean_cost(ws.x_rows, ws.y_rows) * len(ws.x_rows))

    net = Network([4, 5, 3], rng=0)
    history = net.fit(X, y, epochs=1, batch_size=10, eta=1.0, callbacks=[Costs()])
    assert len(seen) == 3
    assert history.records[0].running_cost == pytest.approx(sum(seen) / 21, rel=1e-12)
    assert history.records[0].running_cost != pytest.approx(np.mean(
        [seen[0] / 10, seen[1] / 10, seen[2]]), rel=1e-6)
