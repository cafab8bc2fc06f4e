"""Holding Ctrl-C (and SIGTERM/SIGHUP turned into it) while something must finish.

A ``KeyboardInterrupt`` can be raised between any two Python operations. Where that would
leave things half done (a checkpoint renamed into place but not yet reported; helper
processes forked but not yet recorded, or not yet stopped), :func:`held_stops` swaps the
Python handlers of the stopping signals for ones that only note the signal, and calls the
original handler once the block is done. Python runs signal handlers in the main thread
only, so only the main thread holds anything; elsewhere the block runs as it is (and the
signal interrupts the main thread, not it).
"""

import contextlib
import signal
import threading

#: Signals that stop a run.
STOPS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
              if hasattr(signal, name))


@contextlib.contextmanager
def held_stops():
    """Within the block, a stopping signal whose handler is a Python function is noted, not
    handled; after it, the first one noted is handled (its handler called: Python's default
    SIGINT handler raises KeyboardInterrupt). Signals left to the system (SIG_DFL, SIG_IGN)
    are not held."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending = []
    previous = {}
    for signum in STOPS:
        handler = signal.getsignal(signum)
        if callable(handler):
            previous[signum] = signal.signal(signum, lambda s, frame: pending.append(s))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if pending:
        previous[pending[0]](pending[0], None)
