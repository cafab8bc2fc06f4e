"""``bprop export``: a saved model as an ONNX file (:mod:`bprop.export`)."""

from __future__ import annotations

import os

from ..errors import ConfigError
from .checks import check_writable, optional, require_file, same_file
from .output import out


def cmd_export(args):
    """``bprop export MODEL OUT``: write the model as ONNX and print the path written."""
    require_file(args.model)
    export = optional("bprop.export", "bprop export", needs="onnx")
    if same_file(args.out, args.model):
        raise ConfigError(f"{args.out} is the model file itself; give another name")
    check_writable(args.out, "OUT")
    if os.path.isfile(args.out) and os.path.getsize(args.out) > 0 and not args.overwrite:
        raise ConfigError(f"{args.out} already exists; give --overwrite to replace it")
    export.export_model(args.model, args.out)
    out(args.out)
    return 0
