"""``main(argv)``: parse, run one subcommand, and turn what happened into an exit status.

0 success; 2 bad usage or bad input (one line on stderr); 1 anything unexpected, running
out of memory or disk space, a diverged run, a failed worker process or gradient check
(``--debug`` shows the traceback); 128 + the signal's number after a clean stop on Ctrl-C,
SIGTERM or SIGHUP.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import traceback
import warnings

from ..errors import CheckpointError
from ..training import MPIError, WorkerError
from ..training.mpi import mpi_rank
from .output import BAD_INPUT, err, one_line, show_warning, silence
from .parser import build_parser
from .signals import stop_status, stopped_by, stopping_signals


#: Seconds rank 0 of a failed MPI run waits, its error printed, before it aborts the job.
ABORT_PAUSE = 0.5


def main(argv=None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status.

    Under ``mpiexec``, ranks other than 0 print only their errors; a rank that fails
    (exit status 1 or 2) aborts the whole MPI run, so that no other rank waits for it; a
    rank stopped by a signal (130, 143) exits at once."""
    status = _main(argv)
    world = sys.modules["mpi4py.MPI"].COMM_WORLD if "mpi4py.MPI" in sys.modules else None
    if world is not None and world.Get_size() > 1:
        if status in (130, 143):
            # stopped by Ctrl-C or SIGTERM, every rank alike: leave without MPI_Finalize,
            # which would report the reductions the signal cut short ("MPICH: Builtin
            # communicator ... has pending references")
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(OSError, ValueError):
                    stream.flush()
            os._exit(status)
        if status in (1, 2):
            # an error every rank meets (a diverged run) is rank 0's to report and end; one
            # of another rank's own ends the run in a moment. Rank 0 too waits a little:
            # Abort kills the job at once, and mpiexec could drop the error line it has
            # not yet forwarded (measured: 3 lines lost in 40 aborts without the pause)
            time.sleep(ABORT_PAUSE if world.Get_rank() == 0 else 2.0)
            world.Abort(status)
    return status


def _main(argv):
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:      # closed by the caller (`2>&-`): write nowhere,
            setattr(sys, name, open(os.devnull, "w"))   # not into the other stream
    silence(mpi_rank())
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if getattr(args, "command", None) == "predict" and \
                not any(a.startswith("-") for a in extra):
            # FILEs after flags (`bprop predict m.npz --show a.png`): argparse gives a
            # positional list only the words before the first flag
            args.files += extra
            extra = []
        if extra:
            parser.commands[args.command].error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as e:             # --help, --version, or a usage error already printed
        return e.code if isinstance(e.code, int) else 2
    debug = getattr(args, "debug", False)
    try:
        with warnings.catch_warnings(), stopping_signals():
            warnings.showwarning = show_warning
            return args.func(args)
    except KeyboardInterrupt as e:
        err(stopped_by(e))
        return stop_status(e)
    except BrokenPipeError:             # stdout closed early (`bprop info m.npz | head`)
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 1
    except (CheckpointError, WorkerError, MPIError) as e:  # the machine failed, not the input
        return _fail(e, 1, debug)
    except BAD_INPUT as e:              # what bprop's checks name: bad input or usage
        return _fail(e, 2, debug)
    except FloatingPointError as e:     # training diverged: not bad input, but no traceback
        return _fail(e, 1, debug)
    except MemoryError as e:            # e.g. --hidden 100000000: the machine, not a bug
        return _fail(f"out of memory: {str(e) or 'an allocation failed'}; a smaller network, "
                     f"mini-batch or data set needs less", 1, debug)
    except Exception as e:              # a bug or an environment failure
        if debug:
            traceback.print_exc()
        else:
            err(f"unexpected error: {type(e).__name__}: {one_line(e)} "
                f"(run with --debug for the traceback)")
        return 1


def _fail(e, status, debug):
    """Report ``e`` (an exception, or a message) on one line; return ``status``."""
    if debug:
        traceback.print_exc()
    err(one_line(e) if isinstance(e, BaseException) else e)
    return status
