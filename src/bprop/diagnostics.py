"""Per-layer diagnostics of training, and warnings that explain them (chapters 2, 3 and 5).

Backprop already computes, for every mini-batch, everything needed to see *how* a network
learns, layer by layer (the book's layer l = 2 … L; list index l − 2 in code):

* speed of learning: ‖∂C/∂bˡ‖ = ‖δˡ‖ (BP3, averaged over the batch) and ‖∂C/∂wˡ‖ (BP4),
  the quantities chapter 5 plots to show that early layers learn more slowly;
* saturation: the share of sigmoid or tanh neurons whose σ′(zˡ) is below a tenth of its
  peak (sigmoid: σ′ < 0.025, i.e. a ≲ 0.03 or a ≳ 0.97; tanh: |a| ≳ 0.95). BP1 and BP2
  multiply δ by σ′(z), so a saturated neuron learns at least ten times slower than it could.
  For a softmax output the same test applies to ∂aⱼ/∂zⱼ = aⱼ(1 − aⱼ), the diagonal of its
  Jacobian, which BP1 multiplies by when the cost is not the log-likelihood;
* for the output layer, the share of neurons saturated at the *wrong* value
  (|a − y| > ½ and σ′(zᴸ) small): chapter 3's learning slowdown under the quadratic cost,
  δᴸ = (a − y) ⊙ σ′(zᴸ), which the cross-entropy cost removes (δᴸ = a − y);
* dead ReLU units: never active (z ≤ 0, so σ′ = 0 and no gradient) on any observed example
  (``examples`` says how many were observed: a unit active on few examples can look dead in
  a small sample);
* the mean activation and the weight norm ‖wˡ‖ of each layer.

:class:`Diagnostics` is a callback for :func:`bprop.train.train`: it looks at every
``every``-th mini-batch (the buffers backprop filled; no extra forward or backward pass)
and, at the end of each epoch, writes its averages into ``record.diagnostics``.
:func:`layer_stats` computes the same numbers on given data in one batched pass, and
:func:`explain` turns a history into plain-language warnings.

All per-layer values are lists indexed like ``weights`` (first entry: the book's layer 2);
``"layers"`` holds the book's numbers. Entries that do not apply (saturation of a ReLU
layer, dead units of a sigmoid layer) are None. This module does not print and does not plot
(see :mod:`bprop.plots`).
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

from .backprop import Workspace, backprop_batch
from .costs import closed_form_delta, get_cost
from .errors import ConfigError, DataError, check_int, check_range
from .numerics import norm
from .outputs import confusion_counts  # noqa: F401  (bprop.diagnostics.confusion_counts)
from .training import EpochRecord, History, check_record
from .validate import check_parameters, check_X, targets

#: A neuron counts as saturated when σ′(z) is below this fraction of σ′'s peak.
SATURATION = 0.1
#: Peak of σ′ for the activations that saturate (at z = 0); softmax: of aⱼ(1 − aⱼ).
PEAK_PRIME = {"sigmoid": 0.25, "tanh": 1.0, "softmax": 0.25}

#: explain() warns when more than this share of output neurons is saturated at the wrong value,
OUTPUT_SATURATION_WARN = 0.1
#: when a hidden ReLU layer has more than this share of dead units,
DEAD_WARN = 0.5
#: or this share when fewer than DEAD_MIN_SAMPLE examples were sampled (a unit active on 1%
#: of the examples looks dead in 100 of them with probability 0.37, in 500 with 0.007),
DEAD_WARN_SMALL_SAMPLE = 0.9
DEAD_MIN_SAMPLE = 500
#: and when layer 2's ‖∂C/∂b‖ is this many times smaller (or larger) than a later layer's.
GRADIENT_RATIO_WARN = 100.0
#: A cost, gradient norm or weight norm beyond this is a run diverging, even while finite.
DIVERGING = 1e30
#: Learning has stopped when no layer's gradient norm reaches this while the cost stays put
STALLED = 1e-8
#: at a mean cost of at least this (below it, the run has converged).
STALLED_COST = 1e-3


class Diagnostics:
    """Training callback: per-layer gradient norms, saturation, activations, weight norms.

    every: look at every ``every``-th mini-batch (train calls :meth:`observe_batch` when
        ``k % every == 0``). At the book's [784, 30, 10] with mini-batches of 10, one look
        costs about 40 µs against 57 µs for the training step itself: every batch would add
        ~70% to the training time, every 20th (the default) adds ~5% (measured by
        ``examples/walkthrough.py --overhead``). Larger mini-batches make it cheaper still.
    saturation: the fraction of σ′'s peak below which a neuron counts as saturated.

    Use ``train(net, X, y, config, callbacks=[Diagnostics()])``; each epoch's
    ``record.diagnostics`` then holds the dict described by :meth:`summary`.
    """

    def __init__(self, every=20, saturation=SATURATION):
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ConfigError(f"every must be an integer >= 1; got {every!r}")
        check_range(saturation, "saturation", 0.0, 1.0, low_open=True, high_open=True)
        self.every = int(every)
        self.saturation = float(saturation)
        self._net = None
        self._start_epoch()

    # -- the callback interface ------------------------------------------------------------
    def observe_batch(self, net, ws, nabla_b, nabla_w, scale):
        """Accumulate one mini-batch's statistics from backprop's buffers.

        ws: the workspace after :func:`bprop.backprop.backprop_batch` (``ws.zs[l]`` is
        zˡ⁺² of shape ``(n, m)``; ``ws.y_rows`` the targets, one per row). nabla_b, nabla_w:
        the summed gradients times ``scale`` (BP3, BP4), so ∂C/∂bˡ, the mean over the batch,
        is ``nabla_b[l] / (scale·m)``.
        """
        if self._net is not net or self._n_layers != len(net.weights):
            self._bind(net)
        m = ws.x_rows.shape[0]
        inv = 1.0 / (scale * m)
        last = len(net.weights) - 1
        self._batches += 1
        self._examples += m
        for l, act in enumerate(net.activations):
            self._grad_b[l] += norm(nabla_b[l]) * inv                   # ‖∂C/∂bˡ‖ = ‖δˡ‖
            self._grad_w[l] += norm(nabla_w[l]) * inv                   # ‖∂C/∂wˡ‖
            z = ws.zs[l]
            # a and σ′ are recomputed from z: ws.activations and ws.sps carry the dropout
            # mask when dropout is on, and σ′(zᴸ) is not stored for a matched cost.
            peak = PEAK_PRIME.get(act.name)
            if peak is not None:
                a = act.forward(z, np.empty_like(z))
                self._mean_a[l] += float(a.sum()) / a.size
                sp = (act.prime_into(a, np.empty_like(a)) if act.prime_into is not None
                      else a * (1.0 - a))       # softmax: its Jacobian's diagonal
                slow = sp < self.saturation * peak
                self._saturated[l] += float(np.count_nonzero(slow)) / slow.size
                if l == last:
                    wrong = np.abs(a - ws.y_rows.T) > 0.5
                    wrong &= slow
                    self._wrong += float(np.count_nonzero(wrong)) / wrong.size
            elif act.name == "relu":
                self._mean_a[l] += float(np.maximum(z, 0.0).sum()) / z.size
                self._ever_active[l] |= (z > 0).any(axis=1)
            else:
                a = act.forward(z, np.empty_like(z))
                self._mean_a[l] += float(a.sum()) / a.size

    def end_epoch(self, record):
        """Write this epoch's averages into ``record.diagnostics`` and start the next epoch."""
        record.diagnostics.update(self.summary())
        self._start_epoch()

    # -- results ---------------------------------------------------------------------------
    def summary(self):
        """The statistics so far this epoch, as a JSON-able dict.

        Keys: ``layers`` (the book's numbers 2 … L), ``activations``, ``cost``, ``every``,
        ``batches`` and ``examples`` (how many were observed), ``saturation_threshold`` (as a
        fraction of σ′'s peak), and per layer: ``grad_b`` (mean ‖∂C/∂bˡ‖), ``grad_w`` (mean ‖∂C/∂wˡ‖),
        ``mean_activation``, ``saturated`` (share of sigmoid/tanh neurons with small σ′),
        ``dead`` (share of ReLU units never active), ``weight_norm`` (‖wˡ‖ now); and
        ``output_saturated_wrong`` (share of output neurons saturated at the wrong value).
        """
        net = self._net
        if net is None:
            return {"every": self.every, "batches": 0}
        n = self._batches or 1
        names = net.activation_names
        saturating = [name in PEAK_PRIME for name in names]
        return {
            "layers": list(range(2, len(net.weights) + 2)),
            "activations": names,
            "cost": net.cost.name,
            "init": net.init,
            "every": self.every,
            "batches": self._batches,
            "examples": self._examples,
            "saturation_threshold": self.saturation,
            "grad_b": [g / n for g in self._grad_b],
            "grad_w": [g / n for g in self._grad_w],
            "mean_activation": [a / n for a in self._mean_a],
            "saturated": [s / n if sat else None for s, sat in zip(self._saturated, saturating)],
            "dead": [None if e is None else 1.0 - float(np.count_nonzero(e)) / e.size
                     for e in self._ever_active],
            "output_saturated_wrong": self._wrong / n if saturating[-1] else None,
            "weight_norm": [norm(w) for w in net.weights],
        }

    def run(self, net, X, y):
        """The same statistics on rows ``X`` (labels or target rows ``y``): :func:`layer_stats`."""
        return layer_stats(net, X, y, saturation=self.saturation)

    # -- state -----------------------------------------------------------------------------
    def _bind(self, net):
        self._net = net
        self._n_layers = len(net.weights)
        self._start_epoch()

    def _start_epoch(self):
        weights = self._net.weights if self._net is not None else []
        activations = self._net.activations if self._net is not None else []
        n = self._n_layers = len(weights)
        self._batches = self._examples = 0
        self._grad_b = [0.0] * n
        self._grad_w = [0.0] * n
        self._mean_a = [0.0] * n
        self._saturated = [0.0] * n
        self._wrong = 0.0
        # per ReLU layer: which units were active (z > 0) on some observed example
        self._ever_active = [np.zeros(w.shape[0], bool) if act.name == "relu" else None
                             for w, act in zip(weights, activations)]


def layer_stats(net, X, y, saturation=SATURATION):
    """Per-layer diagnostics of ``net`` on rows ``X`` (labels or target rows ``y``), one pass.

    One batched forward pass (z = w a + b), BP1 for δᴸ, BP2 back through the layers,
    BP3/BP4 for the gradients of the mean cost C = (1/n) Σₓ C_x. Returns the dict of
    :meth:`Diagnostics.summary`, with ``batches`` = 1 and ``dead`` meaning "inactive on every
    row of X". Memory: a few ``(n_l, len(X))`` arrays per layer.
    """
    X = check_X(net, X)
    Y = targets(net, y, len(X))
    check_parameters(net)
    # the network's own matrix-based BP1-BP4, in a workspace of this one batch's size (not
    # cached on the network); the rows themselves stand in for the gathered copies
    ws = Workspace(net.sizes, len(X), net.dtype)
    ws.x_rows, ws.y_rows = X, Y
    # overflow and inf - inf in huge weights come out as non-finite norms, which explain()
    # reports as divergence
    with np.errstate(over="ignore", invalid="ignore"):
        nabla_b, nabla_w = backprop_batch(net, X.T, Y.T, ws)        # sums over the rows
        diag = Diagnostics(every=1, saturation=saturation)
        diag.observe_batch(net, ws, nabla_b, nabla_w, 1.0)
    return diag.summary()


# -- warnings that explain -----------------------------------------------------------------------
def explain(history, cost=None, first_epoch=0):
    """Plain-language warnings about a training history; an empty list when nothing stands out.

    history: a :class:`bprop.train.History`, its ``to_dict()``, a list of its epoch records
    (``EpochRecord``s, or their dicts; ``diagnostics`` from :class:`Diagnostics`), or one
    :func:`layer_stats` dict. Anything else is a ``ConfigError``; a dict whose fields have
    the wrong types a ``DataError`` naming the field (:func:`check_diagnostics`).
    cost: the cost's name; default: the one the diagnostics record.
    first_epoch: the number the messages give the records' epoch 0 (the command line, which
    counts epochs from 1, passes 1). Looks for:

    * a cost that stopped being finite, or a cost, gradient or weight norm beyond 1e30
      (divergence; the gradient ratios of such a run mean nothing and are not quoted);
    * a training cost that ended more than 10% above where the first epoch left it, or at
      more than twice its lowest: the steps overshoot (eta too large; the saturation and
      gradient advice is then left out, since a smaller eta is the remedy for what they
      would describe). A converging run's epoch-to-epoch wobble near its minimum is not
      this;
    * every layer's gradient norm below 1e-8 in the last epoch, after an epoch where they
      were not, with the training cost where it started and not near 0 (≥ 1e-3): the steps
      saturated every neuron (eta too large; the other advice is left out as above);
    * output neurons saturated at the wrong value under a cost whose δᴸ keeps σ′(zᴸ) (BP1):
      learning slows down (chapter 3); the cross-entropy cost fixes it;
    * hidden ReLU layers with mostly dead units (over 90% of them when the share comes from
      fewer than 500 sampled examples, where rarely active units look dead);
    * ‖∂C/∂b²‖ orders of magnitude below (or above) a later layer's: vanishing (exploding)
      gradients (chapter 5), or exactly 0: no gradient reaches the first layer.
    """
    check_int(first_epoch, "first_epoch", minimum=0)
    if isinstance(history, dict) and "layers" in history:       # one layer_stats() result
        check_diagnostics(history, "the layer_stats dict")
        records = [{"epoch": None, "diagnostics": history}]
    else:
        records = history_records(history, "explain needs a History (or its to_dict(), or a "
                                           "list of its records), or the dict of layer_stats",
                                  partial=True)
        for r in records:
            check_diagnostics(_get(r, "diagnostics") or {},
                              f"the diagnostics of epoch {_get(r, 'epoch')}")

    def number(epoch):
        return None if epoch is None else epoch + first_epoch

    diverged = (_explain_divergence(records, number) or _explain_rising_cost(records, number)
                or _explain_stalled(records, number))
    messages = list(diverged)
    diags = [(number(_get(r, "epoch")), _get(r, "diagnostics") or {}) for r in records]
    diags = [(epoch, d) for epoch, d in diags if d.get("layers")]
    if not diags:
        return messages
    if not diverged:
        messages += _explain_output_saturation(diags, cost)
    messages += _explain_dead(diags)
    if not diverged:
        messages += _explain_gradient_ratio(diags)
    return messages


def history_records(history, needs, partial=False):
    """The epoch records of a History, of its ``to_dict()``, or of any iterable of
    EpochRecords (or of their dicts). Dicts are checked by ``History.from_dict``
    (``DataError`` naming the field), or with ``partial`` kept as they are, fields left out
    (:func:`explain` reads what is there). Anything else: ``ConfigError`` starting with
    ``needs``, which says what the caller takes."""
    if isinstance(history, History):
        return history.records
    if isinstance(history, dict) and "records" in history:
        records = history["records"]
        if partial and isinstance(records, list):
            return _record_list(records, needs, partial)
        return History.from_dict(history).records
    if isinstance(history, dict):
        keys = ", ".join(map(str, list(history)[:5])) or "none"
        raise ConfigError(f"{needs}; got a dict with keys {keys}")
    if isinstance(history, (str, bytes)) or not hasattr(history, "__iter__"):
        raise ConfigError(f"{needs}; got {type(history).__name__}")
    return _record_list(list(history), needs, partial)


def _record_list(records, needs, partial):
    if all(isinstance(r, EpochRecord) for r in records):
        return records
    if all(isinstance(r, dict) for r in records):
        if partial:
            return [check_record(r, i, required=False) for i, r in enumerate(records)]
        return History.from_dict({"records": records}).records
    kinds = sorted({type(r).__name__ for r in records})
    raise ConfigError(f"{needs}; got records of type {', '.join(kinds)}")


#: The per-layer lists of a diagnostics dict (one number, or None, per layer).
PER_LAYER = ("grad_b", "grad_w", "mean_activation", "saturated", "dead", "weight_norm")


def check_diagnostics(d, where, need=()):
    """Refuse a diagnostics dict (:meth:`Diagnostics.summary`, hand-written or read from a
    file) whose fields have the wrong types, or that lacks one of the keys in ``need``:
    ``DataError`` naming ``where`` and the field. Other fields may be left out."""
    if not isinstance(d, dict):
        raise DataError(f"{where} must be a dict; got {type(d).__name__}")
    missing = [key for key in need if d.get(key) is None]
    if missing:
        raise DataError(f"{where} have no {missing[0]!r}; expected the dict that "
                        f"bprop.diagnostics.Diagnostics writes")

    def number(v):
        return v is None or (isinstance(v, Real) and not isinstance(v, bool))

    def count(v, low):
        return v is None or (isinstance(v, Integral) and not isinstance(v, bool) and v >= low)

    layers = d.get("layers")
    if layers is not None and not (isinstance(layers, (list, tuple))
                                   and all(count(k, 1) and k is not None for k in layers)):
        raise DataError(f"{where}: 'layers' must be a list of layer numbers; got {layers!r:.80}")
    n = len(layers) if layers else None
    for key in ("activations", *PER_LAYER):
        v = d.get(key)
        item = (lambda a: isinstance(a, str)) if key == "activations" else number
        if v is not None and not (isinstance(v, (list, tuple)) and all(map(item, v))
                                  and (n is None or len(v) == n)):
            want = "names" if key == "activations" else "numbers"
            per = f", one per layer ({n})" if n is not None else ""
            raise DataError(f"{where}: {key!r} must be a list of {want}{per}; got {v!r:.80}")
    checks = [(key, number, "a number") for key in ("output_saturated_wrong",
                                                    "saturation_threshold")]
    checks += [("every", lambda v: count(v, 1), "an integer >= 1")]
    checks += [(key, lambda v: count(v, 0), "an integer >= 0") for key in ("batches", "examples")]
    checks += [(key, lambda v: v is None or isinstance(v, str), "a name")
               for key in ("cost", "init")]
    for key, ok, want in checks:
        if not ok(d.get(key)):
            raise DataError(f"{where}: {key!r} must be {want}; got {d[key]!r:.80}")


def _get(record, name):
    return record.get(name) if isinstance(record, dict) else getattr(record, name, None)


def _explain_divergence(records, number):
    for r in records:
        when, eta = _when(number(_get(r, "epoch"))), _get(r, "eta")
        advice = (f"the steps were too large. Try a smaller eta{_was(eta)}, e.g. a tenth of "
                  f"it; L2 "
                  f"regularisation (lmbda) or gradient clipping also keep the weights in range.")
        for name, label in (("train_cost", "training cost"), ("val_cost", "validation cost")):
            value = _get(r, name)
            if value is not None and not math.isfinite(value):
                what = ("became nan (not a number: inf − inf or 0·inf along the way)"
                        if math.isnan(value) else f"overflowed to {value}")
                return [f"The {label} {what} {when}. The weights grew until z = w·a + b or "
                        f"the cost overflowed: {advice}"]
        diag = _get(r, "diagnostics") or {}
        for g in (*(diag.get("grad_b") or ()), *(diag.get("grad_w") or ())):
            if g is not None and not math.isfinite(g):
                return [f"The gradients were not finite {when}: the weights are too large "
                        f"(training diverged). Try a smaller eta{_was(eta)}."]
        huge = [(label, value) for label, value in (
            ("training cost", _get(r, "train_cost")), ("validation cost", _get(r, "val_cost")),
            ("largest gradient norm", _largest_gradient(diag)),
            ("largest weight norm", max(_finite(diag.get("weight_norm") or ()), default=None)))
            if value is not None and value > DIVERGING]
        if huge:
            label, value = huge[0]
            return [f"Training was diverging {when}: the {label} was {value:.2g}. The weights "
                    f"grow without bound when {advice}"]
    return []


#: explain() calls the steps too large when the last training cost exceeds the first
#: epoch's by more than this factor, or the lowest one by more than COST_REBOUND_WARN.
COST_RISE_WARN = 1.1
COST_REBOUND_WARN = 2.0


def _explain_rising_cost(records, number):
    costs = [(number(_get(r, "epoch")), _get(r, "train_cost"), _get(r, "eta")) for r in records]
    costs = [c for c in costs if c[1] is not None and math.isfinite(c[1])]
    if len(costs) < 2:
        return []
    last, best = costs[-1], min(costs[:-1], key=lambda c: c[1])
    if last[1] > COST_RISE_WARN * costs[0][1]:
        start = costs[0]
    elif last[1] > COST_REBOUND_WARN * best[1]:
        start = best
    else:
        return []
    return [f"The training cost rose from {start[1]:.4g} {_when(start[0])} to {last[1]:.4g} "
            f"{_when(last[0])}: the steps overshoot the minimum they are meant to approach, "
            f"so eta is too large (the book's chapter 3, choosing the learning rate). Try a "
            f"smaller eta{_was(last[2])}, e.g. a tenth of it."]


def _explain_stalled(records, number):
    """Every layer's gradient about 0 in the last epoch, after an epoch where they were
    not, while the training cost did not fall: the steps threw the weights so far that
    every neuron saturated, which a too large eta does. (A run that converged has a cost
    far below its start; a network saturated from its start, by large initial weights,
    gets chapter 3's advice instead.)"""
    def largest_gradient(r):
        return _largest_gradient(_get(r, "diagnostics") or {})

    costs = [_get(r, "train_cost") for r in records]
    # a cost near 0 with gradients near 0 is a run that converged (in its first epoch, even)
    if len(records) < 2 or None in costs or costs[-1] < 0.95 * costs[0] or \
            costs[-1] < STALLED_COST:
        return []
    last = records[-1]
    before = [g for g in map(largest_gradient, records[:-1]) if g is not None]
    now = largest_gradient(last)
    if now is None or now >= STALLED or not before or max(before) < STALLED:
        return []
    eta = _get(last, "eta")
    return [f"Learning stopped {_when(number(_get(last, 'epoch')))}: the largest gradient norm "
            f"of any layer was {now:.2g}, and the training cost stayed at "
            f"{costs[-1]:.4g} (it was {costs[0]:.4g}). Every neuron is saturated, σ′(z) ≈ 0: "
            f"the weights grew too large, as a too large eta makes them. Try a smaller "
            f"eta{_was(eta)}, e.g. a tenth of it."]


def _threshold(d):
    """The saturation threshold a diagnostics dict records (the default when it does not)."""
    threshold = d.get("saturation_threshold")
    return SATURATION if threshold is None else threshold


def _was(eta):
    """" (it was 3)", the eta a message advises lowering, when known."""
    return "" if eta is None else f" (it was {eta:g})"


def _finite(values):
    return [v for v in values if v is not None and math.isfinite(v)]


def _largest_gradient(d):
    """The largest finite ‖∂C/∂b‖ or ‖∂C/∂w‖ of any layer in a diagnostics dict (or None)."""
    return max(_finite(d.get("grad_b") or ()) + _finite(d.get("grad_w") or ()), default=None)


def _times(ratio):
    """A ratio for a message: 1,234 or, when huge, 1.2e+140."""
    return f"{ratio:,.0f}" if ratio < 1e6 else f"{ratio:.2g}"


def _explain_output_saturation(diags, cost):
    bad = []
    for epoch, d in diags:
        share = d.get("output_saturated_wrong")
        if share is not None and share > OUTPUT_SATURATION_WARN:
            bad.append((epoch, share, d))
    if not bad:
        return []
    epoch, share, d = max(bad, key=lambda t: t[1])
    cost_obj = get_cost(cost or d.get("cost") or "quadratic")
    output = (d.get("activations") or ["sigmoid"])[-1]
    if closed_form_delta(cost_obj, output) is not None:
        return []       # σ′(zᴸ) cancels from δᴸ: saturation does not slow learning
    grad = "(a − y)" if cost_obj.name == "quadratic" else "∇ₐC"
    if output == "softmax":
        slope, bp1 = "∂aⱼ/∂zⱼ = aⱼ(1 − aⱼ)", f"δᴸ = Jᵀ {grad} with the softmax Jacobian J"
        suggestion = "the log-likelihood cost, for which δᴸ = a − y"
    else:
        slope, bp1 = "σ′(zᴸ)", f"δᴸ = {grad} ⊙ σ′(zᴸ)"
        suggestion = ("the cross-entropy cost, for which δᴸ = a − y" if output == "sigmoid"
                      else "a softmax output layer with the log-likelihood cost (δᴸ = a − y)")
    return [f"Learning is slowed by saturated output neurons: {_when(epoch)}, "
            f"{share:.0%} of the output neurons were saturated at the wrong value "
            f"(|a − y| > 0.5 with {slope} below {_threshold(d):g} of its peak). "
            f"Under the {cost_obj.name} cost the output error is {bp1} "
            f"(BP1), so these neurons barely learn although they are badly wrong (the book's "
            f"chapter 3). Use {suggestion}."
            + _epochs_note(bad, f"more than {OUTPUT_SATURATION_WARN:.0%} were")]


def _explain_dead(diags):
    # Hidden sigmoid layers are not warned about: a trained network's hidden neurons are
    # mostly saturated (90% at the book's [784, 30, 10] after one epoch) and learn fine.
    messages = []
    epoch, d = diags[-1]
    # in a few sampled batches a unit that is rarely active looks dead: only a layer that
    # is nearly all dead is worth a warning then
    small = (d.get("every") or 1) > 1 and (d.get("examples") or DEAD_MIN_SAMPLE) < DEAD_MIN_SAMPLE
    threshold = DEAD_WARN_SMALL_SAMPLE if small else DEAD_WARN
    for layer, dead in zip(d["layers"][:-1], (d.get("dead") or ())[:-1]):
        if dead is not None and dead > threshold:
            where, caveat = _observed(d)
            messages.append(
                f"{dead:.0%} of the ReLU units in layer {layer} were never active {_when(epoch)} "
                f"(\"dead\": z ≤ 0 on {where}, so σ′(z) = 0 and BP2 passes them no "
                f"gradient). Lower eta"
                + ("." if d.get("init") == "he" else ", or use He initialisation (init='he').")
                + caveat)
    return messages


def _explain_gradient_ratio(diags):
    vanish, explode, none = [], [], []
    for epoch, d in diags:
        grads = d.get("grad_b") or []
        if len(grads) < 2 or not all(g is not None and math.isfinite(g) for g in grads):
            continue
        first, later = grads[0], max(grads[1:])
        j = 1 + grads[1:].index(later)
        if first == 0.0:                # no ratio to quote: nothing reached the first layer
            if later > 0.0:
                none.append((epoch, d, j))
            continue
        if later > GRADIENT_RATIO_WARN * first:
            vanish.append((epoch, later / first, d, j))
        low = min(grads[1:])
        if low > 0.0 and first > GRADIENT_RATIO_WARN * low:
            explode.append((epoch, first / low, d, 1 + grads[1:].index(low)))
    messages = []
    if none:
        epoch, d, j = none[-1]
        g, layers = d["grad_b"], d["layers"]
        messages.append(
            f"No gradient reached layer {layers[0]} {_when(epoch)}: its ‖∂C/∂b‖ was 0, while "
            f"layer {layers[j]}'s was {g[j]:.2g}, so it did not learn at all. BP2 multiplies "
            f"δ by σ′(zˡ) on the way back, and σ′ is 0 for a ReLU unit that is inactive on "
            f"every example (\"dead\") and underflows to 0 for a fully saturated sigmoid. "
            f"{_remedy(d)}"
            + _epochs_note([(e,) for e, _, _ in none], "it was 0"))
    if vanish:
        epoch, ratio, d, j = max(vanish, key=lambda t: t[1])
        g, layers = d["grad_b"], d["layers"]
        bound = (", which is at most 1/4 for a sigmoid"
                 if "sigmoid" in (d.get("activations") or ["sigmoid"])[:-1] else "")
        messages.append(
            f"Gradients vanish: {_when(epoch)}, ‖∂C/∂b‖ of layer {layers[0]} was "
            f"{g[0]:.2g}, {_times(ratio)}× smaller than layer {layers[j]}'s ({g[j]:.2g}), so "
            f"layer {layers[0]} learns that much more slowly. Going back through each layer, "
            f"BP2 multiplies δ by (wˡ⁺¹)ᵀ and by σ′(zˡ){bound} (the book's chapter 5, "
            f"\"the vanishing gradient problem\"). {_remedy(d)}"
            + _epochs_note(vanish, f"the ratio was above {GRADIENT_RATIO_WARN:g}"))
    if explode:
        epoch, ratio, d, j = max(explode, key=lambda t: t[1])
        g, layers = d["grad_b"], d["layers"]
        messages.append(
            f"Gradients explode: {_when(epoch)}, ‖∂C/∂b‖ of layer {layers[0]} was "
            f"{g[0]:.2g}, {_times(ratio)}× larger than layer {layers[j]}'s ({g[j]:.2g}): large "
            f"weights multiply δ on the way back (BP2; the book's chapter 5). Lower eta, or "
            f"initialise with smaller weights."
            + _epochs_note(explode, f"the ratio was above {GRADIENT_RATIO_WARN:g}"))
    return messages


def _remedy(d):
    """What helps a vanishing gradient, for the hidden activations and initialisation the
    network has (nothing it already uses)."""
    hidden = set((d.get("activations") or ["sigmoid"])[:-1])
    relu_only = bool(hidden) and hidden <= {"relu"}
    helps = ["Fewer layers"] if len(d.get("layers", ())) > 2 else []
    if not relu_only:
        others = [name for name in ("ReLU", "tanh") if name.lower() not in hidden]
        if others:
            helps.append(f"{others[0]}{f' (or {others[1]})' if len(others) > 1 else ''} "
                         f"hidden layers")
    init = "he" if relu_only else "xavier"
    if d.get("init") != init:
        helps.append(f"{'He' if init == 'he' else 'Xavier'} initialisation (init='{init}')")
    if relu_only:
        helps.append("a smaller eta")
    if not helps:
        return ""
    if len(helps) <= 2:
        return f"{' or '.join(helps)} help."
    return f"{', '.join(helps[:-1])}, or {helps[-1]} help."


def _observed(d):
    """(which examples a 'dead' share was measured on, a caveat or "") for a message."""
    n, every = d.get("examples"), d.get("every") or 1
    if n is None:
        return "every observed example", ""
    if every == 1:
        return f"every one of the {n:,} examples {'given' if d.get('batches') == 1 else 'seen'}", ""
    return (f"every one of the {n:,} examples observed (every {_nth(every)} mini-batch)",
            f" A unit active on only a few examples can look dead in a sample of {n:,}.")


def _nth(k):
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def _epochs_note(items, what):
    """" The ratio was above 100 in epochs 0–4." when a condition held in several epochs."""
    epochs = [t[0] for t in items]
    if len(epochs) < 2 or any(e is None for e in epochs):
        return ""
    if epochs == list(range(epochs[0], epochs[-1] + 1)):
        where = f"epochs {epochs[0]}–{epochs[-1]}"
    else:
        where = f"{len(epochs)} epochs between {epochs[0]} and {epochs[-1]}"
    return f" {what[0].upper()}{what[1:]} in {where}."


def _when(epoch):
    return "on the data given" if epoch is None else f"in epoch {epoch}"
