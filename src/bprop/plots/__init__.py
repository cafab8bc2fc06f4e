"""Plots of a training run: learning curves, per-layer diagnostics, weights, mistakes.

Each ``*_figure`` function returns a matplotlib ``Figure`` of :data:`FIGSIZE` inches at
:data:`DPI` (so a PNG of :data:`PIXELS` = (height, width) pixels):

* :func:`learning_curves_figure`: cost and accuracies per epoch (a :class:`History`);
* :func:`gradient_norms_figure`: ‖∂C/∂bˡ‖ (BP3) and ‖∂C/∂wˡ‖ (BP4) per layer across epochs,
  log scale: the speed at which each layer learns (the book's chapter 5);
* :func:`saturation_figure`: share of saturated neurons per layer (σ′(z) small, so δ is
  small by BP1/BP2), output neurons saturated at the wrong value, dead ReLU units;
* :func:`weights_figure`: the first layer's weights w² as image tiles, one per hidden neuron
  (row j of ``weights[0]`` reshaped to the input image);
* :func:`confusion_figure`: counts of (true class, predicted class) on a test set;
* :func:`most_wrong_figure`: the test images the network gets wrong most confidently.

:func:`plot_run` draws all that apply for a saved model (its header holds the config, the
history and the data set's name) and writes PNGs atomically. matplotlib is imported only
when a figure is made, and only its Agg canvas is used: no pyplot, no global backend
switch, no window. Nothing here prints; a plot that cannot be made is skipped with a
``warnings.warn`` saying why. Epoch axes count from 1 (epoch 1 = after one pass over the
data), as the command line does; a History's records count from 0, as the book does.
"""

from ..diagnostics import SATURATION  # noqa: F401  (importable from here before)
from ..outputs import confusion_counts  # noqa: F401  (importable from here before)
from .canvas import DPI, FIGSIZE, PIXELS, png_bytes, save_figure
from .history_figures import gradient_norms_figure, learning_curves_figure, saturation_figure
from .network_figures import confusion_figure, most_wrong, most_wrong_figure, weights_figure
from .run import PLOT_NAMES, Run, load_run, plot_run, run_figures

__all__ = ["DPI", "FIGSIZE", "PIXELS", "PLOT_NAMES", "Run", "confusion_figure",
           "gradient_norms_figure", "learning_curves_figure", "load_run", "most_wrong",
           "most_wrong_figure", "plot_run", "png_bytes", "run_figures", "saturation_figure",
           "save_figure", "weights_figure"]
