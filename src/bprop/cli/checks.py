"""Checks a command makes before its work, so that a typo fails in a second rather than after
an epoch: paths that cannot be written or would replace someone's file, optional packages
that are missing, data that does not fit the model. Each failure is a ``ConfigError`` (or a
``ShapeError``) with one line naming the flag.
"""

from __future__ import annotations

import errno
import importlib
import importlib.util
import os
import tempfile

from ..datasets import AVAILABLE, dataset_id
from ..errors import BpropError, ConfigError, ShapeError
from ..io import history_paths, load_checkpoint


def same_file(a, b):
    """Whether paths a and b name one file: the same inode when both exist (a hard link
    too), else the same path once links are resolved."""
    if a is None or b is None:
        return False
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def check_writable(path, flag="--save", shown=None):
    """Fail before any work, not after it, when the file ``path`` cannot be written; makes
    its directory. ``shown``: the path the user gave, when ``path`` is a file beside it."""
    shown = path if shown is None else shown
    example = "model.npz" if flag in ("--save", "--resume") else "out"
    if path != shown and os.path.isdir(path):
        raise ConfigError(f"cannot write {flag} {shown}: {path} beside it is a directory")
    if os.path.isdir(path) or path.endswith((os.sep, "/")):
        raise ConfigError(f"{flag} {shown} is a directory; give a file name, e.g. "
                          f"{os.path.join(path, example)}")
    directory = os.path.dirname(os.path.realpath(path))
    name = os.fsencode(os.path.basename(path))
    try:
        limit = os.pathconf(directory, "PC_NAME_MAX")
    except (OSError, ValueError):   # not made yet
        limit = 255
    if len(name) > limit:
        what = "its name" if path == shown else f"the file {path} beside it"
        raise ConfigError(f"cannot write {flag} {shown}: {what} is {len(name)} bytes long; "
                          f"the file system allows {limit}")
    try:
        os.stat(path)
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.ENAMETOOLONG):    # a symbolic link loop, ...
            raise ConfigError(f"cannot write {flag} {shown}: {e.strerror}") from None
    if os.path.exists(path) and not os.path.isfile(path):
        raise ConfigError(f"{flag} {shown} exists and is not a regular file")
    check_directory(directory, flag, shown)


def check_save_paths(save_path, flag, resume, overwrite):
    """The model file and the history files beside it: writable, and no one's data lost.

    An existing file is replaced only when it is the --resume file or with --overwrite."""
    paths = (save_path, *history_paths(save_path))
    for path in paths:
        check_writable(path, flag, save_path)
    if flag == "--resume" or overwrite or same_file(save_path, resume):
        return
    if resume is not None:      # a copy of a run: the --resume file's history is not lost
        paths = [p for p in paths if not same_file(p, resume)]
    taken = [p for p in paths if os.path.isfile(p) and os.path.getsize(p) > 0]
    if not taken:               # an empty file (mktemp's) holds nothing to lose
        return
    if taken[0] != save_path:
        raise ConfigError(f"--save {save_path} would replace {taken[0]}, another run's history; "
                          f"give --overwrite to replace it, or another name")
    try:
        checkpoint = load_checkpoint(save_path)
    except (BpropError, OSError, ValueError):
        held = "a file that is not a bprop model;"
    else:
        held = (f"a model of {int(checkpoint.epoch)} epochs; continue it with --resume "
                f"{save_path}, or" if checkpoint.is_training_checkpoint else "a bprop model;")
    raise ConfigError(f"--save {save_path} already exists ({held} give --overwrite to "
                      f"replace it)")


def check_apart(directory, flag, files):
    """Refuse a directory to be made at the path of one of the ``files`` to be written."""
    for f in files:
        if same_file(directory, f):
            raise ConfigError(f"{flag} {directory} is the path of {f}, which this run writes; "
                              f"give another directory")


def check_not_the_data(save_path, dataset):
    """Refuse a --save file (or its history files beside it) that is the --dataset file."""
    data_path = dataset_id(dataset)
    if data_path in AVAILABLE or not os.path.isfile(data_path):
        return
    for written in (save_path, *history_paths(save_path)):
        if same_file(written, data_path):
            raise ConfigError(f"--save {save_path} would overwrite the --dataset file "
                              f"{dataset}; give the model another name")


def check_directory(directory, flag, given):
    """Make ``directory`` if need be and check that files can be created in it."""
    try:
        os.makedirs(directory, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except (FileExistsError, NotADirectoryError):
        blocker = next((p for p in _parents(directory) if os.path.exists(p)
                        and not os.path.isdir(p)), directory)
        raise ConfigError(f"cannot write {flag} {given}: {blocker} is a file, not a "
                          f"directory") from None
    except OSError as e:
        raise ConfigError(f"cannot write {flag} {given}: {e.strerror or e} "
                          f"({directory})") from None


def _parents(directory):
    """``directory`` and its ancestors, the top one first."""
    parts = []
    while True:
        parts.append(directory)
        parent = os.path.dirname(directory)
        if parent == directory:
            return parts[::-1]
        directory = parent


def require_file(path):
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such model file: {path}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a directory; give a model file")


def out_path(given, default):
    if given is None:
        return default
    if not given.strip():
        raise ConfigError("--out needs a path; got an empty string")
    return given


def check_fits(net, data, model_path):
    """Refuse data whose features or classes the model (from ``model_path``) cannot take."""
    if net.sizes[0] != data.n_features or net.n_classes < data.n_classes:
        raise ShapeError(f"{model_path} takes {net.sizes[0]} inputs and gives {net.sizes[-1]} "
                         f"output{'s' if net.sizes[-1] != 1 else ''}, but {data.name} has "
                         f"{data.n_features} features and {data.n_classes} classes")


def optional(module, what, needs=None):
    """Import one of bprop's optional modules, or raise a one-line ConfigError (exit 2).

    needs: a package the module imports only when it is used (plots: matplotlib), checked
    now, so that a missing one stops the command before any work, not after it.
    """
    if needs is not None and importlib.util.find_spec(needs) is None:
        raise ConfigError(f"{what} needs the package {needs!r}: pip install 'bprop[all]' "
                          f"(or pip install {needs})")
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name == module:
            raise ConfigError(f"{what} needs {module}, which this installation of bprop "
                              f"does not have") from None
        raise ConfigError(f"{what} needs the package {e.name!r}: pip install "
                          f"'bprop[all]' (or pip install {e.name})") from None
