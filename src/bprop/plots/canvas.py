"""The canvas every bprop figure is drawn on: a matplotlib Figure of :data:`FIGSIZE` inches
at :data:`DPI` on an Agg canvas (matplotlib imported lazily; no pyplot, no window), and
writing it as a PNG, atomically."""

from __future__ import annotations

import io
from pathlib import Path

from ..atomic import atomic_write

FIGSIZE = (6.4, 4.8)        # inches
DPI = 100
PIXELS = (round(FIGSIZE[1] * DPI), round(FIGSIZE[0] * DPI))    # (height, width) of each PNG

_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def superscript(n):
    """n in superscript digits: the book's layer index on a symbol (w², δ³)."""
    return str(n).translate(_SUPERSCRIPTS)


def literal(text):
    """``text`` (a class or activation name read from a file) escaped for matplotlib, which
    would read ``$...$`` as mathtext: drawn as written (a name such as ``US$5 or $6`` is not
    set in italics, and an invalid one such as ``$\\foo$`` does not fail the plot)."""
    return str(text).replace("$", r"\$")


def new_figure(figsize=FIGSIZE):
    """An empty Figure on an Agg canvas (matplotlib imported here, lazily)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ModuleNotFoundError("plotting needs matplotlib; install it with "
                                  "pip install bprop[plots]", name="matplotlib") from None
    fig = Figure(figsize=figsize, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def png_bytes(fig):
    """The figure as PNG bytes (:data:`PIXELS` in size)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def save_figure(fig, path):
    """Write the figure as a PNG to ``path``, atomically; returns the path as a Path."""
    path = Path(path)
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=DPI))
    return path
