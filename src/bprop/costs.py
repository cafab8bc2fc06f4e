"""Cost functions C and the output error δᴸ they give (BP1).

Each cost keeps the book's interface (``network2.py``): static methods

* ``fn(a, y)``: the cost summed over the columns (examples) of ``a`` and ``y``, both
  ``(n_L, m)``; for one example, C_x itself.
* ``delta(z, a, y)``: the book's output error δᴸ (BP1) for the cost's own output layer:
  sigmoid for the quadratic and cross-entropy costs, softmax for log-likelihood.

and adds what a network with any output activation needs:

* ``derivative_into(a, y, out)``: ∇ₐC, written into ``out``; BP1 is then
  δᴸ = ∇ₐC ⊙ σ′(zᴸ).
* ``matched``: the output activation for which σ′ cancels and BP1 reduces to δᴸ = a − y.
* ``output_errors``: BP1 in closed form, by output activation, for every pair where the
  division in ∇ₐC cancels (see :func:`closed_form_delta`): the matched pair, and also
  log-likelihood with a sigmoid output, δ = y ⊙ (a − 1), and cross-entropy with a softmax
  output. Computed as written, ∇ₐC ⊙ σ′ would lose all precision once an output saturates.

Matched pairs (δᴸ = a − y exactly):

========================  ====================  ====================================
cost                      output activation     why
========================  ====================  ====================================
quadratic                 identity              ∇ₐC = a − y and σ′ = 1
cross-entropy             sigmoid               ∇ₐC = (a − y) / (a(1 − a)), σ′ = a(1 − a)
log-likelihood            softmax               the softmax Jacobian times −y/a is a − y
========================  ====================  ====================================

(The last holds for targets whose columns sum to 1, as one-hot targets do; for others the
closed form used is a Σy − y.)

The two log costs need outputs that are probabilities, from a sigmoid or softmax output
layer (``needs_probabilities``); ``Network`` refuses them with identity, ReLU or tanh.
``fn(a, y)`` never takes the logarithm of 0: ``a`` is clipped to [the smallest normal
number, the largest number below 1] of its dtype, so a saturated output gives a large
finite cost, never nan or inf; but a finite one that is capped: −ln a at about 708 (87 in
float32), −ln(1 − a) at 53 ln 2 ≈ 36.7 (16.6 in float32). ``Network.mean_cost`` (the costs
training reports) does not go through ``a`` for the log costs with sigmoid or softmax
outputs: :func:`cost_from_logits` computes them from zᴸ, exact however wrong the output.
"""

from __future__ import annotations

import inspect

import numpy as np

from .activations import sigmoid_prime
from .errors import ConfigError


def _clip(a):
    """a clipped to [smallest normal number, largest number below 1]: logarithms and
    quotients stay finite, and nothing that is representable is changed."""
    if a.dtype.kind != "f":
        a = a.astype(np.float64)
    one = a.dtype.type(1)
    return np.clip(a, np.finfo(a.dtype).tiny, np.nextafter(one, a.dtype.type(0)))


# --- BP1 in closed form for a cost and output activation -------------------------------------
# ∇ₐC ⊙ σ′(zᴸ) computed as written divides by a or 1 − a, which loses everything once an
# output saturates (a below 1e-16 or so): exactly the confidently wrong outputs these costs
# are meant to correct fastest. For the built-in pairs the division cancels on paper, and
# these forms are what is left. Each is ``(z, a, y, out) -> out``, writing δᴸ into ``out``.
def _a_minus_y(z, a, y, out):
    """δ = a − y: quadratic + identity, cross-entropy + sigmoid."""
    return np.subtract(a, y, out=out)


def _log_likelihood_softmax(z, a, y, out):
    """δ = a Σₖyₖ − y: the softmax Jacobian times −y/a. For a one-hot (or any normalised)
    target Σₖyₖ = 1 and this is the matched a − y."""
    np.multiply(a, y.sum(axis=0, keepdims=True), out=out)
    out -= y
    return out


def _log_likelihood_sigmoid(z, a, y, out):
    """δ = (−y / a) ⊙ a(1 − a) = y ⊙ (a − 1)."""
    np.subtract(a, 1.0, out=out)
    out *= y
    return out


def _cross_entropy_softmax(z, a, y, out):
    """δⱼ = (aⱼ − yⱼ) + aⱼ Σ_{k≠j} yₖ − Σ_{k≠j} (1 − yₖ) aⱼ rₖ, with rₖ = aₖ / (1 − aₖ): the
    softmax Jacobian diag(a) − a aᵀ times ∇ₐC = (a − y) / (a(1 − a)), multiplied out.

    Each aⱼ rₖ (k ≠ j) is at most 1 (1 − aₖ is a sum that includes aⱼ), and is computed
    from the logits as exp(ln aⱼ + zₖ − lse(z without zₖ)), so it keeps its precision when
    aₖ is within 1e-16 of 1, and when aⱼ or 1 − aₖ underflow: nothing is divided by a
    rounded 1 − aₖ, and nothing cancels.
    """
    log_a = z - np.logaddexp.reduce(z, axis=0, keepdims=True)
    log_r = z - _logsumexp_of_others(z)                         # ln(aₖ / (1 − aₖ))
    np.subtract(a, y, out=out)
    out += a * _sum_of_others(y)
    for k in range(len(z)):
        exponent = log_a + log_r[k]                             # ln(aⱼ rₖ) for every j
        exponent[k] = -np.inf                                   # j ≠ k only
        term = np.exp(exponent)
        term *= 1.0 - y[k]
        out -= term
    return out


def _over_others(ufunc, v, identity):
    """For each row k of v, ``ufunc`` reduced over every *other* row of its column (e.g.
    Σ_{i≠k} vᵢ), as the reduction of a prefix and a suffix: never a total with vₖ taken out
    again, which would lose the small terms when one vₖ dominates."""
    prefix = np.full_like(v, identity)
    suffix = np.full_like(v, identity)
    ufunc.accumulate(v[:-1], axis=0, out=prefix[1:])            # over i < k
    suffix[:-1] = ufunc.accumulate(v[:0:-1], axis=0)[::-1]      # over i > k
    return ufunc(prefix, suffix)


def _sum_of_others(v):
    """Σ_{i≠k} vᵢ for each row k."""
    return _over_others(np.add, v, 0.0)


def _logsumexp_of_others(z):
    """ln Σ_{i≠k} exp(zᵢ) for each row k."""
    return _over_others(np.logaddexp, z, -np.inf)


def closed_form_delta(cost, activation_name):
    """The closed-form BP1 ``(z, a, y, out) -> δ`` for this cost and output activation, or None
    when δ has to be computed as ∇ₐC ⊙ σ′(z) (or the softmax Jacobian product)."""
    form = getattr(cost, "output_errors", {}).get(activation_name)
    if form is None and getattr(cost, "matched", None) == activation_name:
        form = _a_minus_y
    return form


# --- the log costs from the logits zᴸ ------------------------------------------------------------
# ln σ(z) = −softplus(−z) and ln(1 − σ(z)) = −softplus(z); ln softmax(z)ⱼ = zⱼ − lse(z) and
# ln(1 − softmax(z)ⱼ) = lse(z without zⱼ) − lse(z). Each is ``(z, y) -> Σ over the batch``.
def _softplus(t):
    """ln(1 + eᵗ), for any t without overflow."""
    return np.maximum(t, 0.0) + np.log1p(np.exp(-np.abs(t)))


def _cross_entropy_sigmoid_logits(z, y):
    return float(np.sum(y * _softplus(-z) + (1.0 - y) * _softplus(z)))


def _log_likelihood_sigmoid_logits(z, y):
    return float(np.sum(y * _softplus(-z)))


def _log_likelihood_softmax_logits(z, y):
    lse = np.logaddexp.reduce(z, axis=0, keepdims=True)
    return float(np.sum(y * (lse - z)))


def _cross_entropy_softmax_logits(z, y):
    lse = np.logaddexp.reduce(z, axis=0, keepdims=True)
    return float(np.sum(y * (lse - z) + (1.0 - y) * (lse - _logsumexp_of_others(z))))


def cost_from_logits(cost, activation_name):
    """``(z, y) -> C`` summed over the batch, computed from the output layer's zᴸ, for the
    log costs with a sigmoid or softmax output; None for other pairs (use ``fn(a, y)``)."""
    return getattr(cost, "from_logits", {}).get(activation_name)


class QuadraticCost:
    """C = ½‖a − y‖² per example (the cost of chapters 1 and 2)."""

    name = "quadratic"
    matched = "identity"
    output_errors = {"identity": _a_minus_y}
    needs_probabilities = False   # any output activation will do

    @staticmethod
    def fn(a, y):
        return 0.5 * float(np.sum((a - y) ** 2))

    @staticmethod
    def delta(z, a, y):
        """BP1 for a sigmoid output layer: δ = (a − y) ⊙ σ′(z).

        The book's interface; training takes BP1 from :func:`bprop.backprop.output_error`,
        with any output activation."""
        return (a - y) * sigmoid_prime(z)

    @staticmethod
    def derivative_into(a, y, out):
        """∇ₐC = a − y."""
        return np.subtract(a, y, out=out)


class CrossEntropyCost:
    """C = Σⱼ −yⱼ ln aⱼ − (1 − yⱼ) ln(1 − aⱼ) per example (chapter 3)."""

    name = "cross-entropy"
    matched = "sigmoid"
    output_errors = {"sigmoid": _a_minus_y, "softmax": _cross_entropy_softmax}
    from_logits = {"sigmoid": _cross_entropy_sigmoid_logits,
                   "softmax": _cross_entropy_softmax_logits}
    needs_probabilities = True   # outputs must lie in (0, 1)

    @staticmethod
    def fn(a, y):
        a = _clip(np.asarray(a))
        return float(np.sum(-y * np.log(a) - (1.0 - y) * np.log1p(-a)))

    @staticmethod
    def delta(z, a, y):
        """BP1 for a sigmoid output layer: σ′ cancels, δ = a − y.

        The book's interface; training takes BP1 from :func:`bprop.backprop.output_error`,
        with any output activation."""
        return a - y

    @staticmethod
    def derivative_into(a, y, out):
        """∇ₐC = (a − y) / (a(1 − a)), with a clipped away from 0 and 1."""
        ac = _clip(a)
        np.subtract(a, y, out=out)
        out /= ac * (1.0 - ac)
        return out


class LogLikelihoodCost:
    """C = −ln a_y per example, y the true class (chapter 3's softmax cost).

    With one-hot ``y`` this is −Σⱼ yⱼ ln aⱼ.
    """

    name = "log-likelihood"
    matched = "softmax"
    output_errors = {"softmax": _log_likelihood_softmax, "sigmoid": _log_likelihood_sigmoid}
    from_logits = {"softmax": _log_likelihood_softmax_logits,
                   "sigmoid": _log_likelihood_sigmoid_logits}
    needs_probabilities = True   # outputs must lie in (0, 1)

    @staticmethod
    def fn(a, y):
        a = np.asarray(a)
        return float(-np.sum(y * np.log(_clip(a))))

    @staticmethod
    def delta(z, a, y):
        """BP1 for a softmax output layer: δ = a − y.

        The book's interface; training takes BP1 from :func:`bprop.backprop.output_error`,
        with any output activation."""
        return a - y

    @staticmethod
    def derivative_into(a, y, out):
        """∇ₐC = −y / a, with a clipped away from 0."""
        np.divide(y, _clip(a), out=out)
        np.negative(out, out=out)
        return out


def _per_example_sum(book_cost):
    """Σₓ C_x over the columns of a batch, from a book cost class's one-example ``fn``."""
    fn = book_cost.fn

    def summed(a, y):
        total = 0.0
        for j in range(a.shape[1]):
            c = np.asarray(fn(a[:, j:j + 1], y[:, j:j + 1]))
            if c.size != 1 or c.dtype.kind not in "iuf":
                raise ConfigError(f"{book_cost.__name__}.fn(a, y) must give one number for "
                                  f"one example; got {c.dtype} of shape {c.shape}")
            total += float(c.reshape(()))
        return total
    return summed


COSTS = {cost.name: cost for cost in (QuadraticCost, CrossEntropyCost, LogLikelihoodCost)}
# The book's class names, used by its JSON files ("cost": "CrossEntropyCost").
COSTS_BY_CLASS_NAME = {cost.__name__: cost for cost in COSTS.values()}
_ALIASES = {"mse": "quadratic", "cross_entropy": "cross-entropy", "crossentropy": "cross-entropy",
            "log_likelihood": "log-likelihood", "nll": "log-likelihood"}


def _takes(f, k):
    """Whether ``f`` can be called with k positional arguments."""
    try:
        inspect.signature(f).bind(*range(k))
    except TypeError:
        return False
    except ValueError:          # no signature to read (a builtin): let the call decide
        return callable(f)
    return True


def get_cost(cost):
    """Look up a cost by name or class name, or pass a cost class through.

    A class written for the book (static ``fn(a, y)`` and ``delta(z, a, y)`` only) is
    accepted for a sigmoid output layer, whose σ′ its ``delta`` builds in: it comes back as a
    subclass with ``name`` set and ``derivative_into = None``, which tells the network to
    take BP1 from ``delta``. Its ``fn`` is the cost of one example, as in the book, so the
    subclass calls it once per column and sums. An instance of such a class (the book's
    methods are static, so ``cost=CrossEntropyCost()`` works there) stands for its class.
    """
    if not isinstance(cost, (type, str)) and hasattr(cost, "fn") and hasattr(cost, "delta"):
        cost = type(cost)       # an instance stands for its class
    if isinstance(cost, type) and hasattr(cost, "fn") and hasattr(cost, "delta"):
        if hasattr(cost, "derivative_into") and hasattr(cost, "matched"):
            return cost
        if not all(_takes(getattr(cost, name), k) for name, k in (("fn", 2), ("delta", 3))):
            raise ConfigError(f"cost {cost.__name__}: fn(a, y) and delta(z, a, y) must be "
                              f"callable on the class, as the book's static methods are "
                              f"(these take self)")
        return type(cost.__name__, (cost,), {"name": getattr(cost, "name", cost.__name__),
                                             "matched": None, "derivative_into": None,
                                             "needs_probabilities": False,
                                             "fn": staticmethod(_per_example_sum(cost)),
                                             "__doc__": cost.__doc__})
    if isinstance(cost, str):
        key = _ALIASES.get(cost.lower(), cost.lower())
        if key in COSTS:
            return COSTS[key]
        if cost in COSTS_BY_CLASS_NAME:
            return COSTS_BY_CLASS_NAME[cost]
    raise ConfigError(f"unknown cost {cost!r}; choose from {', '.join(COSTS)}")
