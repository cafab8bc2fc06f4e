"""Per-layer statistics of training, read off the buffers backprop fills (chapters 2, 3, 5).

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

:class:`Diagnostics` is a callback for :func:`bprop.train`: it looks at every
``every``-th mini-batch (the buffers backprop filled; no extra forward or backward pass)
and, at the end of each epoch, writes its averages into ``record.diagnostics``. In an MPI
run every rank observes its share of each batch, and the shares are merged at the end of
the epoch (:meth:`Diagnostics.merge`), so the statistics are the whole batches'. With
``workers`` the gradients (their norms) are the whole batches', but the activations seen
(saturation, dead ReLUs, mean activation) are the parent process's share of each batch.
:func:`layer_stats` computes the same numbers on given data in one batched pass. The rules
that read these numbers and explain a run are in :mod:`bprop.diagnostics.explain`.

The gradient norms are of the data's cost C₀, BP1-BP4's ∂C/∂w and ∂C/∂b, without the
regularisation terms' λw/n and λ₁ sign(w)/n (which say nothing of how fast a layer learns
from the data). All per-layer values are lists indexed like ``weights`` (first entry: the
book's layer 2);
``"layers"`` holds the book's numbers. Entries that do not apply (saturation of a ReLU
layer, dead units of a sigmoid layer) are None. This module does not print and does not plot
(see :mod:`bprop.plots`).
"""

from __future__ import annotations

import numpy as np

from ..backprop import Workspace, backprop_batch
from ..numerics import norm
from ..rows import LazyRows
from ..rules import Int, Interval, check_settings
from ..validate import check_parameters

#: A neuron counts as saturated when σ′(z) is below this fraction of σ′'s peak.
SATURATION = 0.1
#: Peak of σ′ for the activations that saturate (at z = 0); softmax: of aⱼ(1 − aⱼ).
PEAK_PRIME = {"sigmoid": 0.25, "tanh": 1.0, "softmax": 0.25}


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

    #: What its settings may be (rules of bprop.validate).
    SETTINGS = {"every": Int(minimum=1),
                "saturation": Interval(0.0, 1.0, low_open=True, high_open=True)}

    def __init__(self, every=20, saturation=SATURATION):
        self.every, self.saturation = every, saturation
        check_settings(self, self.SETTINGS)
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
        inv = 1.0 / (scale * max(m, 1))     # (an MPI rank's empty share: scale is the batch's)
        last = len(net.weights) - 1
        self._batches += 1
        for l in range(len(net.weights)):
            self._grad_b[l] += norm(nabla_b[l]) * inv                   # ‖∂C/∂bˡ‖ = ‖δˡ‖
            self._grad_w[l] += norm(nabla_w[l]) * inv                   # ‖∂C/∂wˡ‖
        if m == 0:                      # no rows of this batch here: no activations to see
            return
        self._observed += 1
        self._examples += m
        for l, act in enumerate(net.activations):
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

    def merge(self, add_up):
        """Make this epoch's statistics the whole mini-batches' when several processes (MPI
        ranks) each observed their share of every batch: ``add_up`` sums an array over them
        (one reduction). The gradient norms are the whole batch's already (backprop's sums
        are added before the step); the shares' activation statistics are averaged over
        every share observed (exactly the whole batch's when the shares are equal; a rank
        with no rows of a small batch has none), the examples added up, and a ReLU unit
        counts as alive if it was active on any process."""
        ever = [e for e in self._ever_active if e is not None]
        n = self._n_layers
        v = add_up(np.concatenate([[self._examples, self._observed, self._wrong], self._mean_a,
                                   self._saturated, *[e.astype(np.float64) for e in ever]]))
        # the mean over every share observed, kept as a sum over this rank's batches
        per = self._batches / v[1] if v[1] else 0.0
        self._examples, self._wrong = int(v[0]), float(v[2]) * per
        self._mean_a = [float(a) * per for a in v[3:3 + n]]
        self._saturated = [float(a) * per for a in v[3 + n:3 + 2 * n]]
        offset = 3 + 2 * n
        for e in ever:
            e[:] = v[offset:offset + e.size] > 0
            offset += e.size

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
        self._batches = self._observed = self._examples = 0
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
    X = net.check_X(X)
    if isinstance(X, LazyRows):         # rows on disk: this one pass holds them all anyway
        X = X[:]
    Y = net.targets(y, len(X))
    if isinstance(Y, LazyRows):
        Y = Y[:]
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
