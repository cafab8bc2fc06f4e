"""``bprop plot`` and ``bprop report``: a saved run's plots as PNGs, or one HTML page."""

from __future__ import annotations

import os

from ..errors import ConfigError
from ..io import history_paths
from .checks import check_directory, check_writable, optional, out_path, require_file, same_file
from .output import note, out


def cmd_plot(args):
    """``bprop plot``: bprop.plots.plot_run, printing the paths written. A directory given
    with --out keeps PNGs of the plots' names unless --overwrite (the default one beside
    the model is bprop's own)."""
    require_file(args.run)
    plots = optional("bprop.plots", "bprop plot", needs="matplotlib")
    target = out_path(args.out, os.path.splitext(args.run)[0] + "-plots")
    if args.out is not None and not args.overwrite:
        there = [f"{name}.png" for name in plots.PLOT_NAMES
                 if os.path.exists(os.path.join(target, f"{name}.png"))]
        if there:
            raise ConfigError(f"--out {target} already holds {', '.join(there)}; give "
                              f"--overwrite to replace them, or another directory")
    existed = os.path.isdir(target)
    check_directory(os.path.abspath(target), "--out", target)
    paths = []
    try:
        paths = plots.plot_run(args.run, target, dataset=getattr(args, "dataset", None))
    finally:
        if not paths and not existed and not os.listdir(target):
            os.rmdir(target)           # made for nothing
    for path in paths:
        out(str(path))
    if not paths:
        note("note: no plot applies to this model file (the warnings above say why)")
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
    flag = "--out" if args.out is not None else "the report"
    check_writable(target, flag)
    if os.path.isfile(target) and os.path.getsize(target) > 0 and not args.overwrite and \
            not report.is_report(target):
        raise ConfigError(f"{flag} {target} already exists and is not a bprop report; give "
                          f"--overwrite to replace it, or another name")
    out(str(report.write_report(args.run, target, dataset=getattr(args, "dataset", None))))
    return 0
