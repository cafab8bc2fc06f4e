"""Parameter updates from backprop's gradients: SGD, momentum, Nesterov, Adam.

Every optimiser gets the gradients of the cost summed over a mini-batch times
``grad_scale(m)`` (the network's backprop scales δᴸ once, BP2-BP4 being linear in δ):

* plain SGD asks for scale η/m, so the gradient buffers already hold the step
  (η/m)·Σ∇ and the update is ``w -= nabla_w`` with no extra pass over w;
* the others ask for 1/m and keep their own state (velocities, moments).

Regularisation is part of the cost, as in chapter 3: C = C₀ + (λ/2n)Σw² + (λ₁/n)Σ|w|, n
the training-set size, biases left out. Every optimiser therefore follows the gradient
∇C₀ + (λ/n)w + (λ₁/n)sign(w). For plain SGD that step is the book's: w shrinks by
(1 − η·λ/n) and moves by η·λ₁/n·sign(w), then ``w -= nabla_w``. The others add (λ/n)w and
(λ₁/n)sign(w) to the weights' gradients before their own update, so that momentum and Adam
minimise the same regularised cost that training reports (a decay applied outside the
velocity would leave momentum with an L2 of λ(1 − μ)). ``clip_norm`` rescales ∇C₀, the
whole gradient of the unregularised cost, when its global 2-norm exceeds the threshold.
"""

from __future__ import annotations

import math

import numpy as np

from .errors import ConfigError, DataError, check_range
from .numerics import norm


class Optimizer:
    """Base class: decay, clipping, and the interface the training loop calls."""

    name = "base"

    def __init__(self, eta, lmbda=0.0, l1=0.0, clip_norm=None):
        # Python floats: a NumPy float32 η would turn a float64 network's steps to float32
        self.eta = float(eta)
        self.lmbda = float(lmbda)
        self.l1 = float(l1)
        self.clip_norm = None if clip_norm is None else float(clip_norm)

    def grad_scale(self, m):
        """What the network should scale the summed gradients by for this optimiser."""
        return 1.0 / m

    def step(self, weights, biases, nabla_w, nabla_b, n):
        """Update ``weights`` and ``biases`` in place; n is the training-set size."""
        raise NotImplementedError

    def state(self):
        """Arrays to checkpoint, as a name -> array dict (empty for stateless optimisers)."""
        return {}

    def load_state(self, arrays):
        """Restore what :meth:`state` returned (``{}``: the state of a new optimiser)."""

    def state_shapes(self, params):
        """name -> shape of what :meth:`state` holds once training ``params`` (the weights,
        then the biases) has begun."""
        return {}

    def check_state(self, arrays, params):
        """Refuse (``DataError``) saved state that :meth:`state` could not have written for
        ``params``: other names or shapes, or values that are not finite numbers."""
        if not arrays:
            return
        expected = self.state_shapes(params)
        if set(arrays) != set(expected):
            extra, lost = sorted(set(arrays) - set(expected)), sorted(set(expected) - set(arrays))
            what = f"has no {lost[0]!r}" if lost else f"has an unexpected {extra[0]!r}"
            raise DataError(f"the saved {self.name} state {what}")
        for name, shape in expected.items():
            a = arrays[name]
            if a.shape != shape:
                raise DataError(f"the saved {self.name} state {name!r} has shape {a.shape}; "
                                f"the network needs {shape}")
            if a.dtype.kind not in "iuf" or not np.isfinite(a).all():
                raise DataError(f"the saved {self.name} state {name!r} holds values that are "
                                f"not finite numbers")

    def _clip(self, nabla_w, nabla_b, factor=1.0):
        """Scale the gradients in place so that their global norm is at most clip_norm.

        ``factor`` is what the buffers were scaled by beyond the mean gradient (η for SGD).
        """
        if self.clip_norm is None:
            return
        # hypot of per-array norms: no overflow where the global norm itself fits
        total = math.hypot(*(norm(g) for g in (*nabla_w, *nabla_b))) / factor
        if total > self.clip_norm:
            shrink = self.clip_norm / total
            for g in (*nabla_w, *nabla_b):
                g *= shrink

    def _decay(self, weights, n):
        """The regularisation's part of an SGD step, in place: w ← (1 − ηλ/n)w (network2's
        L2) and w ← w − (ηλ₁/n)sign(w)."""
        if self.lmbda:
            shrink = 1.0 - self.eta * (self.lmbda / n)     # grouped as the book's network2
            for w in weights:
                w *= shrink
        if self.l1:
            step = self.eta * self.l1 / n
            for w in weights:
                w -= step * np.sign(w)

    def _regularised(self, weights, nabla_w, n):
        """Add the regularisation's gradient (λ/n)w + (λ₁/n)sign(w) to the mean gradients
        ``nabla_w`` in place (for the optimisers whose buffers hold ∇C₀, not a step)."""
        if not (self.lmbda or self.l1):
            return
        for w, nw in zip(weights, nabla_w):
            if self.lmbda:
                nw += (self.lmbda / n) * w
            if self.l1:
                nw += (self.l1 / n) * np.sign(w)


class SGD(Optimizer):
    """w ← (1 − ηλ/n)·w − (ηλ₁/n)·sign(w) − (η/m)·Σ∇w; b ← b − (η/m)·Σ∇b (the book's
    rule, with its L1 variant)."""

    name = "sgd"

    def grad_scale(self, m):
        return self.eta / m

    def step(self, weights, biases, nabla_w, nabla_b, n):
        self._clip(nabla_w, nabla_b, factor=self.eta)
        self._decay(weights, n)
        for w, b, nw, nb in zip(weights, biases, nabla_w, nabla_b):
            w -= nw
            b -= nb


class Momentum(Optimizer):
    """Momentum SGD (chapter 3): v ← μv − η∇C; w ← w + v, with C the regularised cost.
    Nesterov looks ahead along v.

    Nesterov uses the usual reformulation in terms of the current parameters:
    v ← μv − η∇C; w ← w + μv − η∇C.
    """

    name = "momentum"

    def __init__(self, eta, momentum=0.9, nesterov=False, **kw):
        super().__init__(eta, **kw)
        check_range(momentum, "momentum", 0.0, 1.0, high_open=True)
        self.momentum = momentum
        self.nesterov = nesterov
        if nesterov:
            self.name = "nesterov"
        self.velocities = None

    def step(self, weights, biases, nabla_w, nabla_b, n):
        self._clip(nabla_w, nabla_b)
        params, grads = (*weights, *biases), (*nabla_w, *nabla_b)
        if self.velocities is None:
            self.velocities = [np.zeros_like(p) for p in params]
        self._regularised(weights, nabla_w, n)
        mu, eta = self.momentum, self.eta
        for p, g, v in zip(params, grads, self.velocities):
            v *= mu
            v -= eta * g                        # v ← μv − η∇C
            if self.nesterov:
                p += mu * v - eta * g
            else:
                p += v

    def state(self):
        return {} if self.velocities is None else \
            {f"v{i}": v for i, v in enumerate(self.velocities)}

    def load_state(self, arrays):
        self.velocities = [arrays[f"v{i}"] for i in range(len(arrays))] if arrays else None

    def state_shapes(self, params):
        return {f"v{i}": p.shape for i, p in enumerate(params)}


class Adam(Optimizer):
    """Adam (Kingma & Ba): bias-corrected first and second moments of the gradient of the
    regularised cost (L2 in the gradient, as PyTorch's ``Adam(weight_decay=...)``; not AdamW)."""

    name = "adam"

    def __init__(self, eta, beta1=0.9, beta2=0.999, epsilon=1e-8, **kw):
        super().__init__(eta, **kw)
        for name, beta in (("beta1", beta1), ("beta2", beta2)):
            check_range(beta, name, 0.0, 1.0, high_open=True)
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon
        self.t = 0
        self.moments = None

    def step(self, weights, biases, nabla_w, nabla_b, n):
        self._clip(nabla_w, nabla_b)
        params, grads = (*weights, *biases), (*nabla_w, *nabla_b)
        if self.moments is None:
            self.moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
        self._regularised(weights, nabla_w, n)
        self.t += 1
        b1, b2, eta, eps = self.beta1, self.beta2, self.eta, self.epsilon
        c1, c2 = 1.0 - b1 ** self.t, 1.0 - b2 ** self.t        # bias corrections
        for p, g, (mom, vel) in zip(params, grads, self.moments):
            mom *= b1
            mom += (1.0 - b1) * g                               # m ← β₁m + (1 − β₁)g
            vel *= b2
            vel += (1.0 - b2) * g * g                           # v ← β₂v + (1 − β₂)g²
            p -= eta * (mom / c1) / (np.sqrt(vel / c2) + eps)   # w ← w − η m̂ / (√v̂ + ε)

    def state(self):
        if self.moments is None:
            return {}
        out = {"t": np.array(self.t)}
        for i, (mom, vel) in enumerate(self.moments):
            out[f"m{i}"], out[f"v{i}"] = mom, vel
        return out

    def load_state(self, arrays):
        if not arrays:
            self.moments, self.t = None, 0
            return
        self.t = int(arrays["t"])
        k = (len(arrays) - 1) // 2
        self.moments = [(arrays[f"m{i}"], arrays[f"v{i}"]) for i in range(k)]

    def state_shapes(self, params):
        shapes = {"t": ()}
        for i, p in enumerate(params):
            shapes[f"m{i}"] = shapes[f"v{i}"] = p.shape
        return shapes

    def check_state(self, arrays, params):
        """Also refuse what Adam cannot have reached: a step count t that is not a whole
        number ≥ 1, or a negative second moment v (a mean of squares)."""
        super().check_state(arrays, params)
        if not arrays:
            return
        t = float(arrays["t"])
        if t < 1 or t != int(t):
            raise DataError(f"the saved adam state's step count t is {t:g}; it must be a "
                            f"whole number >= 1")
        for name, a in arrays.items():
            if name.startswith("v") and (a < 0).any():
                raise DataError(f"the saved adam state {name!r} holds negative values; a "
                                f"second moment is a mean of squares")


OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam")


def optimizer_for(config):
    """The optimiser a :class:`bprop.TrainConfig` names, with its settings."""
    return make_optimizer(config.optimizer, config.eta, lmbda=config.lmbda, l1=config.l1,
                          clip_norm=config.clip_norm, momentum=config.momentum,
                          beta1=config.beta1, beta2=config.beta2)


def make_optimizer(name, eta, *, lmbda=0.0, l1=0.0, clip_norm=None, momentum=0.9,
                   beta1=0.9, beta2=0.999):
    """Build the named optimiser."""
    kw = dict(lmbda=lmbda, l1=l1, clip_norm=clip_norm)
    if name == "sgd":
        return SGD(eta, **kw)
    if name in ("momentum", "nesterov"):
        return Momentum(eta, momentum=momentum, nesterov=name == "nesterov", **kw)
    if name == "adam":
        return Adam(eta, beta1=beta1, beta2=beta2, **kw)
    raise ConfigError(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")
