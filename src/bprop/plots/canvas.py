"""The canvas every bprop figure is drawn on: a matplotlib Figure of :data:`FIGSIZE` inches
at :data:`DPI` on an Agg canvas (matplotlib imported lazily; no pyplot, no window), and
writing it as a PNG, atomically."""

from __future__ import annotations

import functools
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


def literal_text(f):
    """``f`` run with matplotlib's ``text.parse_math`` off: every string in bprop's figures
    is drawn as written (a class name such as ``US$5 or $6`` is not read as mathtext, and an
    invalid one does not fail the plot). The figure builders, and the drawing of a figure
    into a PNG (where ticks get their labels), are wrapped in it."""
    @functools.wraps(f)
    def literally(*args, **kwargs):
        try:
            import matplotlib
        except ImportError:             # new_figure says what to install
            return f(*args, **kwargs)
        with matplotlib.rc_context({"text.parse_math": False}):
            return f(*args, **kwargs)
    return literally


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


@literal_text
def png_bytes(fig):
    """The figure as PNG bytes (:data:`PIXELS` in size)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


@literal_text
def save_figure(fig, path):
    """Write the figure as a PNG to ``path``, atomically; returns the path as a Path."""
    path = Path(path)
    atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=DPI))
    return path
