"""``bprop gradcheck``: backprop against finite differences on a small random network.

The check is estimated before it starts (:func:`bprop.gradcheck.gradcheck_seconds`: its
finite-difference passes and what the network's size costs whatever the sample), and both
run with the BLAS threads ``bprop train`` would use (``--threads``, else 1 for small layers).
"""

from __future__ import annotations

import dataclasses
import math

from ..costs import get_cost
from ..errors import ConfigError
from ..gradcheck import gradcheck, gradcheck_seconds, parameters_checked
from ..network import Network
from .output import err, json_line, note, out
from .activation_flags import activations_from_flags


#: gradcheck refuses a check estimated at more seconds than this (--max-time).
MAX_GRADCHECK_SECONDS = 60.0


def _duration(seconds):
    """'0.02 s', '40 s', '12 min', '3.2 h'."""
    if seconds < 1:
        return f"{seconds:.2g} s"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def cmd_gradcheck(args):
    """``bprop gradcheck``: backprop vs finite differences on a random network."""
    sizes = args.sizes
    if len(sizes) < 2:
        raise ConfigError(f"--sizes needs at least two layers (input and output); got {sizes}")
    activations = activations_from_flags(args.activation, len(sizes) - 2,
                                         args.output_activation, args.cost)
    if not (0 < args.eps < 1):
        raise ConfigError(f"--eps must be in (0, 1); got {args.eps}")
    if sizes[-1] == 1 and get_cost(args.cost).name == "log-likelihood":
        raise ConfigError("the log-likelihood cost needs at least 2 outputs (a softmax layer); "
                          "for one output use cross-entropy")
    net = Network(sizes, activations, args.cost, "scaled-normal", rng=args.seed)
    x = net.rng.random((sizes[0], args.examples))                     # (n_in, m)
    labels = net.rng.integers(0, net.n_classes, size=args.examples)
    threads = getattr(args, "threads", None)    # --threads, where the parser offers it
    checked = parameters_checked(net, args.sample)
    took = gradcheck_seconds(net, x, labels, checked, threads=threads)
    if took > args.max_time:
        # fewer parameters help only where the passes, not the network's size, take the time
        fewer = ("--sample 1000 to check 1,000 of them drawn at random, or "
                 if checked > 1000 else "")
        raise ConfigError(f"checking {checked:,} of the {net.n_params:,} parameters of "
                          f"{net.sizes} takes about {_duration(took)} (two forward passes "
                          f"each); give {fewer}--max-time {math.ceil(took * 1.5)} to wait for it")
    if took > 3 and not args.json:
        note(f"checking {checked:,} parameters: about {_duration(took)}")
    result = gradcheck(net, x, labels, eps=args.eps, sample=args.sample, rng=args.seed,
                       threads=threads)
    ok = result.ok(args.tol)
    if args.json:
        json_line({"sizes": sizes, "activations": net.activation_names, "cost": net.cost.name,
                    "examples": args.examples, "eps": args.eps, "tol": args.tol, "ok": ok,
                    "max_error": result.max_error,
                    "layers": [dataclasses.asdict(layer) for layer in result.layers],
                    "n_params": result.n_params, "checked": result.checked,
                    "backprop_passes": result.backprop_passes,
                    "numeric_passes": result.numeric_passes,
                    "backprop_seconds": result.backprop_seconds,
                    "numeric_seconds": result.numeric_seconds, "speedup": result.speedup})
    else:
        out(f"gradcheck  sizes {' '.join(map(str, sizes))}  activations "
             f"{','.join(net.activation_names)}  cost {net.cost.name}  examples {args.examples}"
             f"  eps {args.eps:g}")
        for layer in result.layers:
            out(f"layer {layer.layer}  weights {layer.weights:.2e}  biases {layer.biases:.2e}")
        out(f"max_error {result.max_error:.2e}  tol {args.tol:g}  {'ok' if ok else 'FAILED'}")
        out(f"params {result.n_params}" + (f" ({result.checked:,} checked)"
                                            if result.checked != result.n_params else "") +
            f"  backprop {result.backprop_passes} passes "
             f"{result.backprop_seconds * 1e3:.3f} ms  finite differences "
             f"{result.numeric_passes} passes {result.numeric_seconds * 1e3:.3f} ms  "
             f"ratio {result.speedup:.1f}x")
    if not ok:
        err(f"gradcheck failed: max relative error {result.max_error:.2e} > tol {args.tol:g}")
        return 1
    return 0
