"""The per-epoch progress bar of ``bprop train`` and ``fit(verbose=1)``: on stderr, only
when it is a terminal (and, on the command line, not ``--quiet``)."""

from __future__ import annotations

import shutil
import sys
import time


def clock(seconds):
    """'42s', '3:05', '1:02:03'."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}:{seconds:02d}"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"


def rate(per_second):
    """'850 ex/s', '41k ex/s', '1.2M ex/s'."""
    for scale, suffix in ((1e6, "M"), (1e3, "k")):
        if per_second >= scale:
            value = per_second / scale
            return f"{value:.1f}{suffix} ex/s" if value < 10 else f"{value:.0f}{suffix} ex/s"
    return f"{per_second:.0f} ex/s"


class Progress:
    """A per-epoch progress bar on stderr: tqdm if installed, else a plain one; with the
    previous epoch's running cost, the examples a second and the time left for the whole
    run.

    Called by ``train`` as ``progress(examples_done, n)``; ``close()`` at each epoch's end,
    ``last_cost`` set to the epoch's running cost.
    """

    def __init__(self, tqdm=None, enabled=True, epoch=1, epochs=1):
        self.tqdm = tqdm
        self.enabled = enabled
        self.bar = None
        self.epoch, self.epochs = epoch, epochs
        self.first, self.started, self.epoch_started = epoch, None, None
        self.last_cost = None
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

    def status(self, done, n, now):
        """'running_cost 0.1234  41k ex/s  run 1:05 left' for the bar."""
        parts = [] if self.last_cost is None else [f"running_cost {self.last_cost:.4f}"]
        spent = now - self.epoch_started
        if spent > 0 and done:
            parts.append(rate(done / spent))
        runs = self.epochs - self.first + 1
        fraction = (self.epoch - self.first + done / n) / runs
        if fraction > 0.02:
            total = now - self.started
            parts.append(f"run {clock(total / fraction - total)} left")
        return "  ".join(parts)

    def __call__(self, done, n):
        if not self.enabled:
            return
        now = time.perf_counter()
        if self.started is None:
            self.started = now
        if self.epoch_started is None:
            self.epoch_started = now
        label = f"epoch {self.epoch}/{self.epochs}"
        status = self.status(done, n, now)
        if self.tqdm is not None:
            if self.bar is None:
                self.bar = self.tqdm(total=n, desc=label, leave=False, file=sys.stderr,
                                     dynamic_ncols=True, bar_format="{desc} {bar} "
                                     "{percentage:3.0f}%{postfix}")
            self.bar.set_postfix_str(status, refresh=False)
            self.bar.update(done - self.bar.n)
            return
        filled = 30 * done // n
        line = f"{label} [{'#' * filled}{'.' * (30 - filled)}] {100 * done // n:3d}%  {status}"
        line = "\r" + line[:shutil.get_terminal_size().columns - 1]   # a wrapped line scrolls
        self.width = max(self.width, len(line))
        sys.stderr.write(line.ljust(self.width))
        sys.stderr.flush()
        self.bar = True

    def close(self):
        self.epoch_started = None
        if self.bar is None:
            return
        if self.tqdm is not None:
            self.bar.close()
        else:
            sys.stderr.write("\r" + " " * self.width + "\r")
            sys.stderr.flush()
        self.bar = None
