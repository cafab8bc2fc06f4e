"""The named data sets: what each is, its aliases, how it is obtained, its class names."""

from __future__ import annotations

from dataclasses import dataclass

from .download import cache_dir


@dataclass(frozen=True)
class DatasetInfo:
    """One row of ``AVAILABLE``: what a named data set is and how it is obtained."""

    name: str
    aliases: tuple[str, ...]
    offline: str  # how to have it without a network, or "no"
    download: bool  # fetched from public mirrors when missing
    size: str
    licence: str
    description: str


AVAILABLE = {
    info.name: info
    for info in (
        DatasetInfo(
            "digits", (), "yes (bundled with scikit-learn)", False,
            "1,437 train + 360 test, 8x8", "BSD-3-Clause (scikit-learn); data from UCI optdigits",
            "scikit-learn's handwritten digits; needs pip install bprop[digits]",
        ),
        DatasetInfo(
            "fashion", ("fashion-mnist",), "yes with Debian's dataset-fashion-mnist", True,
            "60,000 train + 10,000 test, 28x28; 30 MB download", "MIT",
            "Zalando's Fashion-MNIST: ten kinds of clothing, MNIST's format",
        ),
        DatasetInfo(
            "mnist", (), "no (copy the files into the cache)", True,
            "60,000 train + 10,000 test, 28x28; 11 MB download", "CC BY-SA 3.0",
            "LeCun, Cortes and Burges's handwritten digits, the book's data",
        ),
    )
}
_NAMES = {alias: info.name for info in AVAILABLE.values() for alias in (info.name, *info.aliases)}
_NAMES["fashion_mnist"] = "fashion"


def describe(width=88) -> str:
    """``AVAILABLE`` as plain text no wider than ``width`` (for ``--help`` or a README): a
    line per data set, its size and licence, and how to have it offline, indented below."""
    import textwrap
    lines = []
    for info in AVAILABLE.values():
        names = " / ".join((info.name, *info.aliases))
        how = ("downloads when missing; offline: " if info.download else "offline: ") + \
            info.offline
        lines.append(f"{names}: {info.size}")
        lines += textwrap.wrap(f"{how}; licence {info.licence}", width, break_on_hyphens=False,
                               initial_indent="    ", subsequent_indent="    ")
    lines += textwrap.wrap("Or a path: a directory of IDX files, a .npz, a .csv, the book's "
                           "mnist.pkl.gz, or an array directory of .npy files. Downloads go to "
                           f"{cache_dir()} ($BPROP_DATA, else $XDG_CACHE_HOME/bprop, else "
                           "~/.cache/bprop), and decoded IDX and CSV data to its arrays/ folder.",
                           width, break_on_hyphens=False)
    return "\n".join(lines)


#: The named data sets whose pictures fill their frame (no MNIST-style centring): a picture
#: given to a model trained on one is fitted whole into the frame (images.frame_image).
FRAMED_PICTURES = frozenset({"fashion"})


def centred_pictures(name_or_path):
    """Whether pictures for a model trained on this data set are prepared as MNIST's digits
    were (cropped to the ink and centred by its mass): all but :data:`FRAMED_PICTURES`,
    named or as the folder holding them (Debian's /usr/share/datasets/fashion-mnist)."""
    text = str(name_or_path or "")
    folder = text.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1]
    return not ({canonical_name(text), canonical_name(folder)} & FRAMED_PICTURES)


#: Class names of the named data sets whose labels are not just digits.
CLASS_NAMES = {
    "fashion": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                "Sneaker", "Bag", "Ankle boot"),
}


def uses_data_dir(name_or_path):
    """Whether ``data_dir`` means anything for this data set (mnist and fashion only)."""
    return canonical_name(name_or_path) in ("mnist", "fashion")


def canonical_name(name_or_path):
    """The data set's canonical name for a name or alias in any case ("Fashion-MNIST" ->
    "fashion"); anything else (a path) comes back unchanged."""
    if isinstance(name_or_path, str) and name_or_path.strip().lower() in _NAMES:
        return _NAMES[name_or_path.strip().lower()]
    return name_or_path
