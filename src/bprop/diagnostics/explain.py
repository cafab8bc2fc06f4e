"""Plain-language warnings that explain a training run, from its history and diagnostics.

:func:`explain` reads the per-epoch costs and the per-layer statistics that
:class:`bprop.diagnostics.Diagnostics` collected, and says, in the book's terms, what
slowed or broke learning and what to try: divergence and a too large η, output neurons
saturated at the wrong value (chapter 3), dead ReLU units, vanishing or exploding gradients
(chapter 5). The thresholds are the constants below. Nothing here prints.
"""

from __future__ import annotations

import math

from ..costs import closed_form_delta, get_cost
from ..errors import check_int
from .collect import SATURATION
from .records import check_diagnostics, field_of, history_records

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


class Warnings(list):
    """What :func:`explain` returns: a list of warnings (strings), printed one per line,
    or "no warnings"."""

    def __str__(self):
        return "\n".join(f"- {w}" for w in self) if self else "no warnings"


def explain(history, cost=None, first_epoch=0, n_classes=None):
    """Plain-language warnings about a training history: a :class:`Warnings` list, empty when
    nothing stands out, that prints one warning per line (``print(explain(history))``).

    history: a :class:`bprop.History`, its ``to_dict()``, a list of its epoch records
    (``EpochRecord``s, or their dicts; ``diagnostics`` from :class:`Diagnostics`), or one
    :func:`layer_stats` dict. Anything else is a ``ConfigError``; a dict whose fields have
    the wrong types a ``DataError`` naming the field (:func:`check_diagnostics`).
    cost: the cost's name; default: the one the diagnostics record.
    first_epoch: the number the messages give the records' epoch 0 (the command line, which
    counts epochs from 1, passes 1). n_classes: the classes the network tells apart, for
    telling an accuracy at chance. Looks for:

    * a cost that stopped being finite, or a cost, gradient or weight norm beyond 1e30
      (divergence; the gradient ratios of such a run mean nothing and are not quoted);
    * a training cost (the full pass's ``train_cost`` where the run measured it, else the
      ``running_cost``) that ended more than 10% above where the first epoch left it, or at
      more than twice its lowest: the steps overshoot (eta too large; the saturation and
      gradient advice is then left out, since a smaller eta is the remedy for what they
      would describe). A converging run's epoch-to-epoch wobble near its minimum is not
      this;
    * (with ``n_classes``, and no diagnostics needed) a training cost that has not fallen
      over the last three epochs while the test or validation accuracy stays at chance:
      the network learns nothing, most often because a too large eta saturated it (the
      saturation and gradient advice is then left out: a smaller eta is the remedy);
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
            check_diagnostics(field_of(r, "diagnostics") or {},
                              f"the diagnostics of epoch {field_of(r, 'epoch')}")

    def number(epoch):
        return None if epoch is None else epoch + first_epoch

    diverged = (_explain_divergence(records, number) or _explain_rising_cost(records, number)
                or _explain_stalled(records, number)
                or _explain_flat_at_chance(records, number, n_classes))
    messages = list(diverged)
    diags = [(number(field_of(r, "epoch")), field_of(r, "diagnostics") or {}) for r in records]
    diags = [(epoch, d) for epoch, d in diags if d.get("layers")]
    if not diags:
        return Warnings(messages)
    if not diverged:
        messages += _explain_output_saturation(diags, cost)
    messages += _explain_dead(diags)
    if not diverged:
        messages += _explain_gradient_ratio(diags)
    return Warnings(messages)


def _explain_divergence(records, number):
    for r in records:
        when, eta = _when(number(field_of(r, "epoch"))), field_of(r, "eta")
        advice = (f"the steps were too large. Try a smaller eta{_was(eta)}, e.g. a tenth of "
                  f"it; L2 "
                  f"regularisation (lmbda) or gradient clipping also keep the weights in range.")
        for name, label in (("train_cost", "training cost"), ("running_cost", "running cost"),
                            ("val_cost", "validation cost")):
            value = field_of(r, name)
            if value is not None and not math.isfinite(value):
                what = ("became nan (not a number: inf − inf or 0·inf along the way)"
                        if math.isnan(value) else f"overflowed to {value}")
                return [f"The {label} {what} {when}. The weights grew until z = w·a + b or "
                        f"the cost overflowed: {advice}"]
        diag = field_of(r, "diagnostics") or {}
        for g in (*(diag.get("grad_b") or ()), *(diag.get("grad_w") or ())):
            if g is not None and not math.isfinite(g):
                return [f"The gradients were not finite {when}: the weights are too large "
                        f"(training diverged). Try a smaller eta{_was(eta)}."]
        huge = [(label, value) for label, value in (
            ("training cost", training_cost(r)), ("validation cost", field_of(r, "val_cost")),
            ("largest gradient norm", _largest_gradient(diag)),
            ("largest weight norm", max(_finite(diag.get("weight_norm") or ()), default=None)))
            if value is not None and value > DIVERGING]
        if huge:
            label, value = huge[0]
            return [f"Training was diverging {when}: the {label} was {value:.2g}. The weights "
                    f"grow without bound when {advice}"]
    return []


def training_cost(record):
    """A record's training cost: the full pass's where the run measured it (``train_cost``),
    else the mean of the examples' costs as they were trained (``running_cost``)."""
    cost = field_of(record, "train_cost")
    return field_of(record, "running_cost") if cost is None else cost


#: explain() calls the steps too large when the last training cost exceeds the first
#: epoch's by more than this factor, or the lowest one by more than COST_REBOUND_WARN.
COST_RISE_WARN = 1.1
COST_REBOUND_WARN = 2.0


def _explain_rising_cost(records, number):
    costs = [(number(field_of(r, "epoch")), training_cost(r), field_of(r, "eta")) for r in records]
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
        return _largest_gradient(field_of(r, "diagnostics") or {})

    costs = [training_cost(r) for r in records]
    # a cost near 0 with gradients near 0 is a run that converged (in its first epoch, even)
    if len(records) < 2 or None in costs or costs[-1] < 0.95 * costs[0] or \
            costs[-1] < STALLED_COST:
        return []
    last = records[-1]
    before = [g for g in map(largest_gradient, records[:-1]) if g is not None]
    now = largest_gradient(last)
    if now is None or now >= STALLED or not before or max(before) < STALLED:
        return []
    eta = field_of(last, "eta")
    return [f"Learning stopped {_when(number(field_of(last, 'epoch')))}: the largest gradient norm "
            f"of any layer was {now:.2g}, and the training cost stayed at "
            f"{costs[-1]:.4g} (it was {costs[0]:.4g}). Every neuron is saturated, σ′(z) ≈ 0: "
            f"the weights grew too large, as a too large eta makes them. Try a smaller "
            f"eta{_was(eta)}, e.g. a tenth of it."]


def _explain_flat_at_chance(records, number, n_classes):
    """Over the last three epochs the training cost did not fall at all (a saturated run's
    is flat, or wobbles upward), and the test (else validation) accuracy stayed at chance
    (at most 1.2/n_classes) in each: nothing is learnt. A slow run still falls and is not
    this. The diagnostics are not needed to see it; they say why."""
    if n_classes is None or len(records) < 3:
        return []
    last = records[-3:]
    costs = [training_cost(r) for r in last]
    accuracies = [field_of(r, "test_accuracy") if field_of(r, "test_accuracy") is not None
                  else field_of(r, "val_accuracy") for r in last]
    if None in costs or None in accuracies or not all(map(math.isfinite, costs)) or \
            max(accuracies) > 1.2 / n_classes or costs[-1] < costs[0] * (1 - 1e-3):
        return []
    eta = field_of(records[-1], "eta")
    observed = any(field_of(r, "diagnostics") for r in records)
    return [f"Nothing is being learnt: over epochs {number(field_of(last[0], 'epoch'))}-"
            f"{number(field_of(last[-1], 'epoch'))} the training cost did not fall (it is "
            f"{costs[-1]:.4g}) and the accuracy stayed at chance for {n_classes} classes "
            f"({accuracies[-1]:.3f}). Most often a too large eta{_was(eta)} has saturated "
            f"every neuron: try a tenth of it"
            + ("." if observed else " (--diagnostics shows the gradients layer by layer).")]


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
