"""The implementations bench.py times, each a runner whose ``run(epochs)`` returns the
seconds of each epoch and the number of examples it trained on: bprop's training pass,
``fit`` as called by default, the book's per-example loop (with bprop's backprop and with
the book's own operations), PyTorch two ways, and the matrix products alone; and the
checks that they compute the same steps (:func:`agreement`) and the evaluation's timing.

Each implementation is described in bench.py's docstring and in benchmarks/README.md.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

try:
    from bprop.network import Network
except ImportError:     # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from bprop.network import Network
from bprop.backprop import backprop
from bprop.training import TrainConfig, train

import bookcode
from benchconfigs import AGREEMENT_EXAMPLES, FIT_CEILINGS


def make_net(cfg, seed):
    return Network(list(cfg.sizes), activations=cfg.hidden, output=cfg.output, cost=cfg.cost,
                   init=cfg.init, rng=seed, dtype=cfg.dtype)


class BpropRunner:
    """bprop's real training loop: ``train`` with no per-epoch monitoring."""

    name = "bprop"

    def __init__(self, cfg, data, seed):
        self.cfg, self.data = cfg, data
        self.net = make_net(cfg, seed)
        self.rng_state = self.net.rng.bit_generator.state     # for torch's data order
        self.epochs_done = 0

    def run(self, epochs):
        """Train ``epochs`` epochs; returns seconds per epoch as ``train`` timed them."""
        cfg = self.cfg
        config = TrainConfig(epochs=self.epochs_done + epochs, mini_batch_size=cfg.mini_batch_size,
                             eta=cfg.eta, monitor_running_cost=False)
        history = train(self.net, self.data["X"], self.data["y"], config,
                        start_epoch=self.epochs_done, workers=cfg.workers)
        self.epochs_done += epochs
        return [r.seconds for r in history.records], len(self.data["X"])


class FitDefaultRunner:
    """``net.fit`` as a user calls it: epochs, batch size and η given, the rest defaults.

    Each call trains ``epochs + 1`` epochs and times the gaps between the ends of
    consecutive epochs (an ``on_epoch_end`` callback), so every timed epoch includes what
    the loop does between epochs (the running cost, the weights' finiteness check), and the
    call's one-time checks of X and y fall in its first, untimed epoch (in a real run they
    are spread over 30 epochs).
    """

    name = "fit-default"

    def __init__(self, cfg, data, seed):
        self.cfg, self.data = cfg, data
        self.net = make_net(cfg, seed)

    @staticmethod
    def applies(cfg):
        return (cfg.name, "fit-default") in FIT_CEILINGS

    def run(self, epochs):
        cfg, stamps = self.cfg, []
        stamps.append(time.perf_counter())
        self.net.fit(self.data["X"], self.data["y"], epochs=epochs + 1,
                     batch_size=cfg.mini_batch_size, eta=cfg.eta, workers=cfg.workers,
                     on_epoch_end=lambda record: stamps.append(time.perf_counter()))
        return [float(t) for t in np.diff(stamps)[1:]], len(self.data["X"])


class PerExampleRunner:
    """The book's ``SGD``/``update_mini_batch``: one ``backprop(x, y)`` call per example.

    Runs on the first ``subset`` examples (the book's list of column pairs, built once, not
    timed); the caller scales the time to a full epoch.
    """

    name = "per-example"

    def __init__(self, cfg, data, seed, subset):
        self.cfg = cfg
        self.net = make_net(cfg, seed)
        self.rng = np.random.default_rng(seed + 1)
        X, Y = data["X"][:subset], data["Y"][:subset]
        self.training_data = [(x.reshape(-1, 1).copy(), y.reshape(-1, 1).copy())
                              for x, y in zip(X, Y)]

    def backprop(self, x, y):
        """The book's backprop as bprop keeps it (:func:`bprop.backprop.backprop`), without
        the argument checks that the public ``Network.backprop`` adds (the book's code has
        none)."""
        return backprop(self.net, x, y)

    def run(self, epochs):
        net, cfg, data = self.net, self.cfg, self.training_data
        times = []
        for _ in range(epochs):
            t0 = time.perf_counter()
            order = self.rng.permutation(len(data))
            mbs = cfg.mini_batch_size
            for k in range(0, len(data), mbs):
                mini_batch = [data[i] for i in order[k:k + mbs]]
                nabla_b = [np.zeros(b.shape, b.dtype) for b in net.biases]
                nabla_w = [np.zeros(w.shape, w.dtype) for w in net.weights]
                for x, y in mini_batch:
                    delta_nabla_b, delta_nabla_w = self.backprop(x, y)
                    nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
                    nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
                step = cfg.eta / len(mini_batch)
                net.weights = [w - step * nw for w, nw in zip(net.weights, nabla_w)]
                net.biases = [b - step * nb for b, nb in zip(net.biases, nabla_b)]
            times.append(time.perf_counter() - t0)
        return times, len(data)


class BookCodeRunner(PerExampleRunner):
    """What the book's own network.py costs (issue #4's first table has a column for "the
    book's per-example code"): informational, no target.

    Same algorithm as ``per-example``, with the book's operations where they differ from
    ``bprop.backprop.backprop``: σ′(z) recomputes σ(z) twice (bprop reuses a = σ(z)), ``backprop``
    allocates zero gradients for every example, and there is no overflow-safe sigmoid.
    Only for the book's float64 sigmoid + quadratic networks.
    """

    name = "book-code"

    @staticmethod
    def applies(cfg):
        return (cfg.hidden, cfg.output, cfg.cost, cfg.dtype) == ("sigmoid", "sigmoid",
                                                                 "quadratic", "float64")

    def backprop(self, x, y):
        return bookcode.backprop(self.net.weights, self.net.biases, x, y)

    def run(self, epochs):
        with np.errstate(over="ignore"):        # the book's code warns here
            return super().run(epochs)


class TorchRunner:
    """The same network and update in PyTorch (CPU), eager mode, idiomatic nn/optim."""

    name = "torch"

    def __init__(self, cfg, data, bprop_runner, torch):
        self.torch, self.cfg = torch, cfg
        nn = torch.nn
        dt = {"float64": torch.float64, "float32": torch.float32}[cfg.dtype]
        net = bprop_runner.net
        layers = []
        acts = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU}
        for i, (w, b) in enumerate(zip(net.weights, net.biases)):
            lin = nn.Linear(w.shape[1], w.shape[0], dtype=dt)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(w))
                lin.bias.copy_(torch.from_numpy(b[:, 0]))
            layers.append(lin)
            act = cfg.hidden if i < len(net.weights) - 1 else cfg.output
            if act != "softmax":            # softmax is fused into cross_entropy below
                layers.append(acts[act]())
        self.model = nn.Sequential(*layers)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=cfg.eta)
        self.X = torch.from_numpy(data["X"])
        self.Y = torch.from_numpy(data["Y"])
        self.labels = torch.from_numpy(data["y"])
        # bprop draws each epoch's permutation from net.rng; replay the same draws
        self.rng = np.random.Generator(type(net.rng.bit_generator)())
        self.rng.bit_generator.state = bprop_runner.rng_state

    def run(self, epochs):
        n, mbs = len(self.X), self.cfg.mini_batch_size
        times = []
        for _ in range(epochs):
            t0 = time.perf_counter()
            order = self.torch.from_numpy(self.rng.permutation(n))
            for start in range(0, n, mbs):
                self.step(order[start:start + mbs])
            times.append(time.perf_counter() - t0)
        return times, n

    def loss(self, out, idx):
        """(1/m) Σ_x C_x for the mini-batch ``idx``, scaled as bprop scales its step."""
        F = self.torch.nn.functional
        if self.cfg.cost == "quadratic":        # (1/m) Σ_x ½‖a − y‖²
            return F.mse_loss(out, self.Y.index_select(0, idx), reduction="sum") * (0.5 / len(idx))
        # (1/m) Σ_x −ln softmax(z)_y
        return F.cross_entropy(out, self.labels.index_select(0, idx), reduction="sum") / len(idx)

    def step(self, idx):
        loss = self.loss(self.model(self.X.index_select(0, idx)), idx)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()

    def parameters(self):
        """Weights (out, in) and biases as (out, 1) arrays, in bprop's order."""
        linear = [m for m in self.model if isinstance(m, self.torch.nn.Linear)]
        return ([m.weight.detach().numpy() for m in linear]
                + [m.bias.detach().numpy()[:, None] for m in linear])

    def predict(self, X):
        with self.torch.no_grad():
            return self.model(self.torch.from_numpy(X)).argmax(dim=1).numpy()


class TorchFunctionalRunner(TorchRunner):
    """The same network, data order and update as ``TorchRunner``, in a hand-written loop:
    tensors instead of modules, ``torch.addmm`` for z = a wᵀ + b, ``torch.autograd.grad``
    and an in-place update instead of an optimiser (1.2-1.4x less time per step than the
    nn/optim loop here). Informational: the issue's targets are against ``torch``."""

    name = "torch-functional"

    def __init__(self, cfg, data, bprop_runner, torch):
        super().__init__(cfg, data, bprop_runner, torch)
        linear = [m for m in self.model if isinstance(m, torch.nn.Linear)]
        self.W = [m.weight.detach().clone().requires_grad_() for m in linear]
        self.B = [m.bias.detach().clone().requires_grad_() for m in linear]
        self.params = self.W + self.B
        self.hidden = {"sigmoid": torch.sigmoid, "relu": torch.relu}[cfg.hidden]

    def forward(self, a):
        last = len(self.W) - 1
        for i, (w, b) in enumerate(zip(self.W, self.B)):
            z = self.torch.addmm(b, a, w.t())
            if i < last:
                a = self.hidden(z)
            else:                           # softmax is fused into cross_entropy
                a = z if self.cfg.output == "softmax" else self.torch.sigmoid(z)
        return a

    def step(self, idx):
        params = self.params
        loss = self.loss(self.forward(self.X.index_select(0, idx)), idx)
        grads = self.torch.autograd.grad(loss, params)
        with self.torch.no_grad():
            for p, g in zip(params, grads):
                p.add_(g, alpha=-self.cfg.eta)

    def parameters(self):
        return ([w.detach().numpy() for w in self.W]
                + [b.detach().numpy()[:, None] for b in self.B])

    def predict(self, X):
        with self.torch.no_grad():
            return self.forward(self.torch.from_numpy(X)).argmax(dim=1).numpy()


class MatmulFloor:
    """The epoch's matrix products alone, at bprop's shapes and memory layouts.

    Per mini-batch: z = w @ a per layer (a = x_rows.T for the first, an F-ordered view),
    nabla_w = delta @ a.T and nabla_b = delta @ 1 per layer, and delta_prev = w.T @ delta
    for all but the first, each with the call bprop makes for it (``np.dot``, or
    ``np.matmul`` for delta @ a.T: whichever reaches BLAS faster).
    Operands are fixed random arrays; only the products are timed.
    """

    name = "matmul-floor"

    def __init__(self, cfg, n):
        rng = np.random.default_rng(0)
        dt, sizes = np.dtype(cfg.dtype), cfg.sizes
        self.n, self.mbs = n, cfg.mini_batch_size

        def r(*shape):
            return rng.standard_normal(shape).astype(dt)

        self.buffers = {}
        for m in {self.mbs, n % self.mbs} - {0}:
            x_rows = r(m, sizes[0])
            self.buffers[m] = dict(
                a=[x_rows.T] + [r(k, m) for k in sizes[1:-1]],      # layer inputs
                z=[np.empty((k, m), dt) for k in sizes[1:]],
                delta=[r(k, m) for k in sizes[1:]],
                back=[np.empty((k, m), dt) for k in sizes[1:-1]],
                nabla_w=[np.empty((o, i), dt) for i, o in zip(sizes[:-1], sizes[1:])],
                nabla_b=[np.empty((k, 1), dt) for k in sizes[1:]],
                ones=np.ones((m, 1), dt))
        self.weights = [r(o, i) for i, o in zip(sizes[:-1], sizes[1:])]

    def run(self, epochs):
        matmul, dot, weights = np.matmul, np.dot, self.weights
        L = len(weights)
        times = []
        for _ in range(epochs):
            t0 = time.perf_counter()
            for start in range(0, self.n, self.mbs):
                bf = self.buffers[min(self.mbs, self.n - start)]
                a, z, delta, back, nabla_w, nabla_b, ones = (
                    bf["a"], bf["z"], bf["delta"], bf["back"], bf["nabla_w"], bf["nabla_b"],
                    bf["ones"])
                for l in range(L):
                    dot(weights[l], a[l], out=z[l])
                for l in range(L - 1, -1, -1):
                    matmul(delta[l], a[l].T, out=nabla_w[l])
                    dot(delta[l], ones, out=nabla_b[l])                 # BP3, as bprop does
                    if l > 0:
                        dot(weights[l].T, delta[l], out=back[l - 1])
            times.append(time.perf_counter() - t0)
        return times, self.n


# -- agreement and evaluation --------------------------------------------------------------------
def eval_time(predict, X, repeats):
    predict(X)                                   # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        predict(X)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def count_feedforward_passes(net, X):
    """How many forward passes ``predict`` makes for X (1 = one batched pass): calls of
    ``bprop.outputs.checked_feedforward``, the pass ``Network.predict`` runs."""
    import bprop.outputs as outputs
    calls = [0]
    original = outputs.checked_feedforward

    def counting(*args):
        calls[0] += 1
        return original(*args)

    outputs.checked_feedforward = counting
    try:
        net.predict(X)
    finally:
        outputs.checked_feedforward = original
    return calls[0]


def agreement(cfg, data, seed, torch, runner=None, n=AGREEMENT_EXAMPLES):
    """Max relative difference of bprop's and torch's weights and biases after one epoch on
    n examples (``runner``: the torch implementation's class, default ``TorchRunner``).

    Same initial weights, same data order, same update: they should agree to rounding
    (a long run drifts apart: SGD at eta = 3 amplifies last-bit differences).
    """
    d = dict(data, X=data["X"][:n], y=data["y"][:n], Y=data["Y"][:n])
    bp = BpropRunner(cfg, d, seed)
    tr = (runner or TorchRunner)(cfg, d, bp, torch)
    bp.run(1)
    tr.run(1)
    return max(float(np.max(np.abs(a - b)) / (np.max(np.abs(a)) or 1.0))
               for a, b in zip((*bp.net.weights, *bp.net.biases), tr.parameters()))
