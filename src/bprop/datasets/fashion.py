"""Fashion-MNIST: Zalando's drop-in replacement for MNIST, in the same IDX format.

60,000 training and 10,000 test images of clothing, ``(N, 28, 28)`` uint8, labels 0-9:
T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot
(``bprop.datasets.CLASS_NAMES["fashion"]``). MIT licence.

Looked for, in order:
1. ``data_dir``, if given (and downloaded there if missing);
2. ``DEBIAN_DIRS``, where Debian's ``dataset-fashion-mnist`` package installs it
   (``/usr/share/datasets/fashion-mnist``). Debian recompresses the files, so their
   SHA-256 differs from the published one; they are trusted as installed by the package
   manager and checked as IDX like any other file;
3. ``cache_dir() / "fashion-mnist"``, downloading there from ``MIRRORS`` if missing, with
   the published SHA-256 sums in ``SHA256``.
"""

from __future__ import annotations

import os
from pathlib import Path

from .download import cache_dir
from .mnist import FILES, ensure_files, present_file, read_fetched

DEBIAN_DIRS = [Path("/usr/share/datasets/fashion-mnist")]

# Published SHA-256 of the gzipped files from zalandoresearch/fashion-mnist.
SHA256 = {
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}

MIRRORS = [
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
]

OFFLINE_HINT = (
    "On Debian or Ubuntu, `apt-get install dataset-fashion-mnist` installs it in "
    f"{DEBIAN_DIRS[0]}. Dataset that needs no download: 'digits' "
    "(scikit-learn's 8x8 digits; pip install bprop[digits])."
)


def default_dir() -> Path:
    """Where downloaded Fashion-MNIST files are kept: ``cache_dir() / "fashion-mnist"``."""
    return cache_dir() / "fashion-mnist"


def find_fashion(data_dir: str | os.PathLike | None = None) -> Path | None:
    """The first directory holding all four Fashion-MNIST files: ``data_dir``, else Debian's, else the cache."""
    candidates = [Path(data_dir)] if data_dir is not None else [*DEBIAN_DIRS, default_dir()]
    for directory in candidates:
        if all(present_file(directory, name) for name in FILES):
            return directory
    return None


def fashion_dir(data_dir: str | os.PathLike | None = None, *, download: bool = True) -> Path:
    """The directory holding Fashion-MNIST's four IDX files: ``data_dir``, else Debian's,
    else the cache's (downloading what is missing there)."""
    directory = find_fashion(data_dir)
    if directory is None:
        directory = Path(data_dir) if data_dir is not None else default_dir()
        ensure_files(directory, FILES, MIRRORS, SHA256, download=download,
                     what="Fashion-MNIST", hint=OFFLINE_HINT)
    return directory


def read_fashion(data_dir: str | os.PathLike | None = None, *, download: bool = True):
    """``(train_images, train_labels, test_images, test_labels)`` of Fashion-MNIST.

    Images ``(60000, 28, 28)`` and ``(10000, 28, 28)`` uint8; labels ``(N,)`` int64 in 0-9.
    """
    directory = fashion_dir(data_dir, download=download)
    # Debian's copy is the package's to mend; elsewhere a deleted file is fetched again
    return read_fetched(directory, downloadable=directory not in DEBIAN_DIRS)
