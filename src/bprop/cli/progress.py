"""The per-epoch progress bar: on stderr, only when it is a terminal and not ``--quiet``."""

from __future__ import annotations

import sys


class Progress:
    """A per-epoch progress bar on stderr: tqdm if installed, else a plain one.

    Called by ``train`` as ``progress(examples_done, n)``; ``close()`` at each epoch's end.
    """

    def __init__(self, tqdm=None, enabled=True, epoch=1, epochs=1):
        self.tqdm = tqdm
        self.enabled = enabled
        self.bar = None
        self.epoch, self.epochs = epoch, epochs
        self.width = 0

    @classmethod
    def make(cls, quiet, epoch, epochs):
        """A bar when stderr is a terminal and not --quiet; otherwise one that does nothing."""
        if quiet or not sys.stderr.isatty():
            return cls(enabled=False)
        try:
            from tqdm import tqdm
        except ImportError:
            tqdm = None
        return cls(tqdm, epoch=epoch, epochs=epochs)

    def __call__(self, done, n):
        if not self.enabled:
            return
        label = f"epoch {self.epoch}/{self.epochs}"
        if self.tqdm is not None:
            if self.bar is None:
                self.bar = self.tqdm(total=n, desc=label, unit="ex", leave=False,
                                     file=sys.stderr, dynamic_ncols=True)
            self.bar.update(done - self.bar.n)
            return
        filled = 30 * done // n
        line = f"\r{label} [{'#' * filled}{'.' * (30 - filled)}] {100 * done // n:3d}%"
        self.width = len(line)
        sys.stderr.write(line)
        sys.stderr.flush()
        self.bar = True

    def close(self):
        if self.bar is None:
            return
        if self.tqdm is not None:
            self.bar.close()
        else:
            sys.stderr.write("\r" + " " * self.width + "\r")
            sys.stderr.flush()
        self.bar = None
