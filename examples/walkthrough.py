#!/usr/bin/env python
"""See inside training: the observations of the book's chapters 2, 3 and 5, made with bprop.

    PYTHONPATH=src python examples/walkthrough.py                # all sections, ~20 s
    PYTHONPATH=src python examples/walkthrough.py --overhead     # also time the diagnostics, ~30 s

Sections (docs/walkthrough.md shows what they print):

1. A sigmoid neuron that starts saturated learns slowly under the quadratic cost and
   fast under cross-entropy (chapter 3's opening); then a whole [784, 30, 10] network.
2. Learning speed per layer in [784, 30, 30, 30, 10]: ‖∂C/∂bˡ‖ is smaller the earlier the
   layer (chapter 5), at the start and across 500 epochs of the book's protocol.
3. Backprop against finite differences: agreement and speed (chapter 2's last section).
4. A trained [784, 30, 10] at the book's settings: its plots and its HTML report.
5. (--overhead) what leaving the diagnostics on costs at the book's settings.

Images go to --img (default runs/walkthrough/img; ``--img docs/img`` regenerates the
pictures docs/walkthrough.md shows, on request only), the model and report to --run-dir
(default runs/walkthrough). Needs matplotlib for the images (pip install bprop[plots]).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from bprop import Network, TrainConfig, gradcheck, save, train
from bprop.datasets import load
from bprop.diagnostics import Diagnostics, explain, layer_stats



def section(title):
    print(f"\n## {title}\n")


def show_warnings(messages):
    for m in messages or ["no warnings"]:
        print(f"  explain: {m}")


# -- 1. saturation under the quadratic cost -------------------------------------------------------
def saturated_neuron(img):
    """Chapter 3's opening: one sigmoid neuron, x = 1, y = 0, starting at w = b = 2 (a ≈ 0.98)."""
    section("1. A neuron that starts saturated")
    X, y = np.array([[1.0]]), np.array([[0.0]])            # one example; target row y = 0
    runs = {}
    for cost, eta in (("quadratic", 0.15), ("cross-entropy", 0.15), ("cross-entropy", 0.005)):
        net = Network([1, 1], cost=cost)
        net.weights[0][...] = 2.0
        net.biases[0][...] = 2.0
        a = float(net.feedforward(X.T)[0, 0])
        start = layer_stats(net, X, y)
        outputs = []                    # a after each epoch
        h = train(net, X, y, TrainConfig(epochs=300, mini_batch_size=1, eta=eta),
                  callbacks=[Diagnostics(every=1)],
                  on_epoch_end=lambda r: outputs.append(float(net.feedforward(X.T)[0, 0])))
        runs[(cost, eta)] = outputs
        below = next((k for k, out in enumerate(outputs) if out < 0.5), None)
        print(f"{cost} cost, eta = {eta:g}: a = {a:.2f}, σ′(z) = {a * (1 - a):.4f}, "
              f"∂C/∂b = {start['grad_b'][0]:.4f} at the start; a after 1, 50, 150, 300 "
              f"epochs: {', '.join(f'{outputs[k]:.2f}' for k in (0, 49, 149, 299))}; "
              + (f"a < 0.5 from epoch {below}" if below is not None else
                 f"a still above 0.5 after {len(outputs)} epochs"))
        if eta == 0.15:
            show_warnings(explain(h))
    if img is not None:
        from matplotlib.figure import Figure

        from bprop.plots import save_figure

        fig = Figure(figsize=(6.4, 3.6), dpi=100, layout="constrained")
        ax = fig.subplots()
        for (cost, eta), outputs in runs.items():
            ax.plot(range(1, 301), outputs, label=f"{cost}, η = {eta:g}")
        ax.set(xlabel="epoch", ylabel="output a (target 0)", ylim=(0, 1),
               title="one sigmoid neuron, x = 1, starting at w = b = 2")
        ax.legend()
        ax.grid(alpha=0.3)
        print(f"  image: {save_figure(fig, img / 'saturated_neuron.png')}")


def saturated_network(data):
    """A [784, 30, 10] whose outputs all start near 1, under each cost: 3 epochs on 1,000 images."""
    print("\nA [784, 30, 10] network whose output biases start at +5 (every a ≈ 1), "
          "3 epochs on 1,000 images, eta 0.5:")
    X, y = data.X_train[:1000], data.y_train[:1000]
    for cost in ("quadratic", "cross-entropy"):
        net = Network([784, 30, 10], cost=cost, init="scaled-normal", rng=0)
        net.biases[1][...] = 5.0
        start = layer_stats(net, X, y)
        h = train(net, X, y, TrainConfig(epochs=3, mini_batch_size=10, eta=0.5),
                  test=(data.X_test, data.y_test), callbacks=[Diagnostics(every=1)])
        wrong = [r.diagnostics["output_saturated_wrong"] for r in h.records]
        print(f"{cost:13s} output neurons saturated at the wrong value: "
              f"{start['output_saturated_wrong']:.0%} at the start, "
              + ", ".join(f"{w:.1%}" for w in wrong) + " over epochs 0–2; test accuracy "
              + ", ".join(f"{r.test_accuracy:.1%}" for r in h.records))
        show_warnings(explain(h))


# -- 2. learning speed per layer ------------------------------------------------------------------
def speed_of_learning(data, img):
    section("2. Learning speed per layer (chapter 5)")
    X, y = data.X_train[:1000], data.y_train[:1000]
    for sizes in ([784, 30, 30, 10], [784, 30, 30, 30, 10], [784, 30, 30, 30, 30, 10]):
        net = Network(sizes, cost="cross-entropy", init="scaled-normal", rng=0)
        g = layer_stats(net, X, y)["grad_b"]
        print(f"{str(sizes):26s} ‖∂C/∂bˡ‖ for l = 2 … {len(sizes)}: "
              + ", ".join(f"{v:.3f}" for v in g))
    # the book's protocol: 1,000 training images, mini-batch 10, eta 0.1, 500 epochs
    net = Network([784, 30, 30, 30, 10], cost="cross-entropy", init="scaled-normal", rng=0)
    t0 = time.perf_counter()
    h = train(net, X, y, TrainConfig(epochs=500, mini_batch_size=10, eta=0.1),
              callbacks=[Diagnostics(every=1)])
    seconds = time.perf_counter() - t0
    print(f"\n[784, 30, 30, 30, 10], 500 epochs on 1,000 images ({seconds:.0f} s):")
    for epoch in (0, 9, 99, 499):
        g = h.records[epoch].diagnostics["grad_b"]
        print(f"  epoch {epoch:3d}: ‖∂C/∂bˡ‖ = " + ", ".join(f"{v:.4f}" for v in g))
    show_warnings(explain(h))
    deep = Network([784] + [30] * 6 + [10], init="scaled-normal", rng=0)
    g = layer_stats(deep, X, y)["grad_b"]
    print("\n[784, 30 × 6, 10], quadratic cost: ‖∂C/∂bˡ‖ = " + ", ".join(f"{v:.1e}" for v in g))
    show_warnings(explain(layer_stats(deep, X, y)))
    if img is not None:
        from matplotlib.figure import Figure

        from bprop.plots import save_figure

        # the book's figure: ‖∂C/∂bˡ‖ of the hidden layers against the epoch
        fig = Figure(figsize=(6.4, 3.6), dpi=100, layout="constrained")
        ax = fig.subplots()
        for i in range(3):
            ax.plot([r.diagnostics["grad_b"][i] for r in h.records],
                    label=f"hidden layer {i + 1} (l = {i + 2})")
        ax.set(xlabel="epoch", ylabel="‖∂C/∂bˡ‖", yscale="log",
               title="speed of learning, [784, 30, 30, 30, 10], 1,000 images")
        ax.legend()
        ax.grid(alpha=0.3)
        print(f"  image: {save_figure(fig, img / 'speed_of_learning.png')}")


# -- 3. gradient check ----------------------------------------------------------------------------
def finite_differences(data):
    section("3. Backprop against finite differences")
    for sizes, m in (([784, 30, 10], 1), ([784, 30, 10], 10), ([784, 30, 30, 30, 10], 10)):
        net = Network(sizes, init="scaled-normal", rng=0)
        r = gradcheck(net, data.X_train[:m].T, data.y_train[:m])
        print(f"{str(sizes):22s} m={m:<3d} {r.n_params:,} parameters: max relative error "
              f"{r.max_error:.1e}; backprop {r.backprop_seconds * 1e3:.2f} ms "
              f"({r.backprop_passes} passes), finite differences {r.numeric_seconds:.1f} s "
              f"({r.numeric_passes:,} passes): {r.speedup:,.0f}× faster")


# -- 4. a run at the book's settings, its plots and report ----------------------------------------
def book_run(data, img, run_dir, epochs):
    section(f"4. [784, 30, 10] at the book's settings, {epochs} epochs")
    from bprop.io import save_history

    net = Network([784, 30, 10], rng=0)
    config = TrainConfig(epochs=epochs, mini_batch_size=10, eta=3.0)
    h = train(net, data.X_train, data.y_train, config, validation=(data.X_val, data.y_val),
              test=(data.X_test, data.y_test), callbacks=[Diagnostics()])
    for r in h.records:
        d = r.diagnostics
        print(f"epoch {r.epoch}: test {r.test_accuracy:.2%}, ‖∂C/∂b‖ "
              + ", ".join(f"{g:.4f}" for g in d["grad_b"])
              + ", saturated " + ", ".join(f"{s:.0%}" for s in d["saturated"])
              + f", output wrong and saturated {d['output_saturated_wrong']:.1%}")
    show_warnings(explain(h))
    run_dir.mkdir(parents=True, exist_ok=True)
    model = run_dir / "book.npz"
    save(net, model, config=config, history=h,
         extra={"dataset": {"name": data.name, "validation": len(data.X_val),
                            "image_shape": list(data.image_shape), "n_classes": data.n_classes}})
    save_history(h, model)
    if img is not None:
        from bprop.plots import plot_run
        from bprop.report import write_report

        for path in plot_run(model, out_dir=img, dataset=data):
            print(f"  image: {path} ({path.stat().st_size // 1024} KB)")
        print(f"  report: {write_report(model, dataset=data)}")


# -- 5. what the diagnostics cost -----------------------------------------------------------------
def overhead(data, repeats=5):
    section("5. Overhead of the diagnostics at the book's settings")
    config = TrainConfig(epochs=1, mini_batch_size=10, eta=3.0, monitor_running_cost=False)
    everys = [None, 1, 10, 20]
    best = {e: np.inf for e in everys}
    for _ in range(repeats):
        for e in everys:            # interleaved, so drift in the machine's speed hits all
            net = Network([784, 30, 10], rng=0)
            h = train(net, data.X_train, data.y_train, config,
                      callbacks=[] if e is None else [Diagnostics(every=e)])
            best[e] = min(best[e], h.records[0].seconds)
    base, n_batches = best[None], -(-len(data.X_train) // 10)
    print(f"without diagnostics: {base:.3f} s per epoch of {len(data.X_train):,} examples "
          f"({base / n_batches * 1e6:.0f} µs per mini-batch; best of {repeats})")
    for e in everys[1:]:
        extra = 100 * (best[e] / base - 1)
        said = f"{extra:+.1f}%" if extra >= 0 else "no more (within the timing noise)"
        print(f"Diagnostics(every={e}): {best[e]:.3f} s, {said}")
    print(f"one observation: {(best[1] - base) / n_batches * 1e6:.0f} µs")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="fashion", help="data set name or path (default fashion)")
    parser.add_argument("--img", type=Path, default=Path("runs") / "walkthrough" / "img",
                        help="where the images go (default runs/walkthrough/img; docs/img "
                             "regenerates the walk-through's own)")
    parser.add_argument("--run-dir", type=Path, default=Path("runs") / "walkthrough")
    parser.add_argument("--no-images", action="store_true")
    parser.add_argument("--epochs", type=int, default=5, help="epochs of section 4 (default 5)")
    parser.add_argument("--overhead", action="store_true", help="also time the diagnostics")
    args = parser.parse_args(argv)
    img = None if args.no_images else args.img
    if img is not None:
        img.mkdir(parents=True, exist_ok=True)
    data = load(args.data, validation=10000, download=False)
    print(f"data: {data!r}")
    saturated_neuron(img)
    saturated_network(data)
    speed_of_learning(data, img)
    finite_differences(data)
    book_run(data, img, args.run_dir, args.epochs)
    if args.overhead:
        overhead(data)


if __name__ == "__main__":
    main()
