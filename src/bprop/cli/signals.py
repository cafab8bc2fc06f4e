"""Stopping the command line cleanly: Ctrl-C, SIGTERM and SIGHUP.

SIGTERM and SIGHUP (``kill``, ``timeout``, a closed terminal) are turned into a
:class:`Terminated`, a ``KeyboardInterrupt``, so that they stop a run as Ctrl-C does: the
save in progress is finished (:func:`bprop.stops.held_stops`) and the note says what the
file holds. The exit status is 128 + the signal's number, as a shell reports it.
"""

from __future__ import annotations

import contextlib
import signal
import threading

from ..stops import STOPS


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, handled as Ctrl-C is."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum, frame):
    raise Terminated(signum)


#: The stopping signals other than SIGINT (whose default handler already raises).
TERMINATING = tuple(signum for signum in STOPS if signum != signal.SIGINT)


@contextlib.contextmanager
def stopping_signals():
    """Within the block, SIGTERM and SIGHUP raise :class:`Terminated` where they would kill
    the process; handlers someone else installed are left alone."""
    installed = {}
    if threading.current_thread() is threading.main_thread():
        for signum in TERMINATING:
            if signal.getsignal(signum) is signal.SIG_DFL:
                installed[signum] = signal.signal(signum, _raise_terminated)
    try:
        yield
    finally:
        for signum, previous in installed.items():
            signal.signal(signum, previous)


def stopped_by(e):
    """"interrupted", or "terminated (SIGTERM)", for a stop's note."""
    if isinstance(e, Terminated):
        return f"terminated ({signal.Signals(e.signum).name})"
    return "interrupted"


def stop_status(e):
    """128 + the signal's number, as a shell reports a process it stopped: 130 for Ctrl-C."""
    return 128 + (e.signum if isinstance(e, Terminated) else signal.SIGINT)
