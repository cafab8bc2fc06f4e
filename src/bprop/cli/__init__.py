"""The command line: ``bprop train | evaluate | predict | gradcheck | info | plot | report``.

``main(argv)`` parses ``argv`` (default ``sys.argv[1:]``), runs one subcommand and returns
the exit status; ``bprop/__main__.py`` passes it to ``sys.exit``. This package is the only
part of bprop that prints (besides the book's ``network.Network.SGD`` and
``network2.Network.SGD``):

* stdout: results. ``train`` prints one line per epoch,
  ``epoch 3/30  running_cost 0.1234  val_acc 0.9512  test_acc 0.9490  time 0.450s``, or with
  ``--json`` one JSON object per epoch; the other commands print their results likewise.
* stderr: notes (what is being trained, where the model went), warnings, the progress bar
  (only when stderr is a terminal, never with ``--quiet``) and errors.

Epochs are counted from 1 here ("epoch 3/30" = three epochs done, which is also what a
checkpoint's ``epoch`` field holds; the diagnostics warnings, ``info``, the plots and the
report count the same way); the records of a saved History (``.history.json``/``.csv``)
count from 0, like the book's ``Epoch 0: ...`` lines.

Exit status: 0 success; 1 an unexpected failure (a one-line message, the traceback with
``--debug``), running out of memory or disk space, a training run whose cost or weights
stopped being finite, or a failed ``gradcheck``; 2 bad usage or bad input (unknown flag or
value, missing, unreadable or corrupt file, data that does not fit the model, a ``--save``
path that cannot be written, a missing optional package), one line on stderr; 130 after a
clean stop on Ctrl-C (SIGTERM and SIGHUP stop as cleanly, with 143 and 129).

The modules: :mod:`.main` (exit statuses), :mod:`.parser` (every flag), one per command or
group (:mod:`.train`, :mod:`.evaluate` with predict, :mod:`.gradcheck`, :mod:`.info`,
:mod:`.plot` with report), and what they share: :mod:`.checks` (paths and other checks made
before the work), :mod:`.progress`, :mod:`.output`, :mod:`.signals`. Policy that is not about
the command line (resuming, checkpoints, what a model records of its data) is in the
library, where a Python program gets it too.
"""

from .evaluate import cmd_evaluate, cmd_predict
from .gradcheck import cmd_gradcheck
from .info import cmd_info
from .main import main
from .output import BAD_INPUT
from .parser import build_parser
from .plot import cmd_plot, cmd_report
from .train import cmd_train

__all__ = ["BAD_INPUT", "build_parser", "cmd_evaluate", "cmd_gradcheck", "cmd_info", "cmd_plot",
           "cmd_predict", "cmd_report", "cmd_train", "main"]
