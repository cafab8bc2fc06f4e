"""``bprop plot`` and ``bprop report``: a saved run's plots as PNGs, or one HTML page."""

from __future__ import annotations

import os

from ..errors import ConfigError
from ..io import history_paths
from .checks import check_directory, check_writable, optional, out_path, require_file, same_file
from .output import note, out


def cmd_plot(args):
    """``bprop plot``: bprop.plots.plot_run, printing the paths written."""
    require_file(args.run)
    plots = optional("bprop.plots", "bprop plot", needs="matplotlib")
    target = out_path(args.out, os.path.splitext(args.run)[0] + "-plots")
    existed = os.path.isdir(target)
    check_directory(os.path.abspath(target), "--out", target)
    paths = plots.plot_run(args.run, target, dataset=getattr(args, "dataset", None))
    for path in paths:
        out(str(path))
    if not paths:
        note("note: no plot applies to this model file (the warnings above say why)")
        if not existed and not os.listdir(target):
            os.rmdir(target)           # made for nothing
    return 0


def cmd_report(args):
    """``bprop report``: bprop.report.write_report, printing the path written."""
    require_file(args.run)
    report = optional("bprop.report", "bprop report")
    target = out_path(args.out, os.path.splitext(args.run)[0] + "-report.html")
    for read in (args.run, *history_paths(args.run)):
        if os.path.exists(read) and same_file(target, read):
            raise ConfigError(f"--out {target} is {read}, which the report is made from; "
                              f"give another name")
    check_writable(target, "--out" if args.out is not None else "the report")
    out(str(report.write_report(args.run, target, dataset=getattr(args, "dataset", None))))
    return 0
