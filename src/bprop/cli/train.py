"""``bprop train``: read the flags, load the data, train, checkpoint each epoch, print.

What a checkpoint holds and how a run goes on from one is library policy
(:mod:`bprop.io.checkpoint`: ``Checkpoint.resume``, ``Checkpointer``); what a model file
records about its data set is :func:`bprop.datasets.dataset_record`. This module turns
flags into those calls and the results into lines: one per epoch on stdout, notes on
stderr.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import sys
import time

import numpy as np

from .. import datasets
from ..atomic import FileLock
from ..datasets import data_fingerprint, dataset_record, same_dataset
from ..diagnostics import Diagnostics, explain
from ..errors import ConfigError, DataError, check_int
from ..io import Checkpointer, Resume, history_paths, load_checkpoint
from ..network import Network
from ..stops import held_stops
from ..training import MPIError, TrainConfig, WorkerError, train
from ..training.mpi import mpi_world, reduction_bytes
from ..training.parallel import check_workers
from .activation_flags import activations_from_flags
from .checks import (check_apart, check_directory, check_fits, check_not_the_data,
                     check_save_paths, optional, same_file)
from .output import epoch_line, json_line, note, out
from ..training.progress import Progress
from .signals import stop_status, stopped_by

# Flags of `train` that are the fields of TrainConfig (argparse dest == field name).
_CONFIG_FIELDS = {f.name for f in dataclasses.fields(TrainConfig)} - {"image_shape"}

# `train` defaults outside TrainConfig. TrainConfig's own defaults are the book's.
_TRAIN_DEFAULTS = {
    "dataset": "mnist", "data_dir": None, "validation": 0, "train_size": None, "hidden": [30],
    "activation": ["sigmoid"], "output_activation": None, "cost": "quadratic",
    "init": "normal", "seed": 0, "dtype": "float64", "save": None, "resume": None,
    "json": False, "quiet": False, "diagnostics": False, "plot": None, "overwrite": False,
    "workers": 1, "threads": None,
}


def cmd_train(args):
    """``bprop train``: see the subcommand's --help.

    Order matters for the user: every setting is checked, and the --save path tried, before
    the data is loaded, so that a typo fails in a second rather than after an epoch.
    """
    # With argument_default=SUPPRESS, the namespace holds only the flags actually given.
    given = {k: v for k, v in vars(args).items() if k not in ("func", "command", "debug")}
    comm = mpi_world()
    writer = comm is None or comm.Get_rank() == 0
    if not writer:
        # another rank of an MPI run: it trains, but rank 0 alone prints and writes files
        given = {k: v for k, v in given.items() if k not in ("save", "plot")}
        given["quiet"] = True
    opts, checkpoint = _train_options(given)
    opts["comm"], opts["writer"] = comm, writer
    # one run at a time writes a checkpoint, or reads one to resume it: the second of two
    # runs started at once would otherwise replace the first's file
    with contextlib.ExitStack() as held:
        if opts["resume"] is not None and writer:
            held.enter_context(FileLock(opts["resume"], "--resume"))
        if opts["save"] is not None and not same_file(opts["save"], opts["resume"]):
            held.enter_context(FileLock(opts["save"], "--save"))
        return _train(given, opts, checkpoint)


def _train(given, opts, checkpoint):
    """The run of ``bprop train``, its files locked."""
    quiet = opts["quiet"]
    config, shift = _train_config(given, checkpoint)
    try:
        workers = check_workers(opts["workers"])
    except ConfigError as e:
        raise ConfigError(f"--{e}") from None

    save_path = (opts["save"] or opts["resume"]) if opts["writer"] else None
    if save_path is not None:
        check_not_the_data(save_path, opts["dataset"])
        check_save_paths(save_path, "--save" if opts["save"] else "--resume", opts["resume"],
                         opts["overwrite"])
    plots = optional("bprop.plots", "--plot", needs="matplotlib") \
        if opts["plot"] is not None else None
    if plots is not None:
        check_apart(opts["plot"], "--plot", (save_path, *history_paths(save_path)))
        check_directory(os.path.abspath(opts["plot"]), "--plot", opts["plot"])

    if not quiet and sys.stderr.isatty():   # reading (Fashion-)MNIST takes seconds: say so
        note(f"loading {opts['dataset']} ...")
    try:
        data = datasets.load(opts["dataset"], validation=opts["validation"],
                             dtype=np.dtype(checkpoint.net.dtype if checkpoint else opts["dtype"]),
                             seed=opts["seed"], data_dir=opts["data_dir"],
                             train_size=opts["train_size"], lazy=True)
    except ConfigError as e:        # "validation=0.5" is the library's name for --validation
        raise ConfigError(_flag_names(str(e), ("validation", "train_size"))) from None
    except DataError as e:
        if "dataset" in given or checkpoint is not None:
            raise
        raise DataError(f"no --dataset given, so the book's MNIST: {e}") from None
    if checkpoint is not None:
        net = checkpoint.net
        check_fits(net, data, opts["resume"])
    else:
        net = _build_network(opts, data)
    config = _fit_config_to_data(config, shift, data)
    plan = Resume.new(config) if checkpoint is None else checkpoint.resume(config)
    if not quiet:
        if plan.dropped_optimizer:
            note(f"note: the checkpoint's {plan.dropped_optimizer} state is dropped (now "
                 f"{plan.optimizer.name})")
        if plan.older_regularisation:
            note(f"note: {opts['resume']} was trained by an older bprop that applied "
                 f"--lmbda/--l1 outside {config.optimizer}'s update; from here on they are "
                 f"part of the gradient it follows, so the run will not match an "
                 f"uninterrupted run of that version")
    start_epoch, history = plan.start_epoch, plan.history
    if checkpoint is not None and not plan.nothing_left:
        for sentence in checkpoint.exactness_notes(plan.config,
                                                   _processes(workers, opts["comm"]),
                                                   data_fingerprint(data)):
            note(f"warning: {sentence}")
    if quiet:
        pass
    elif not plan.nothing_left:
        for line in _describe_run(net, data, config, start_epoch, save_path, workers,
                                  opts["comm"]):
            note(line)
    elif plan.stopped:
        note(f"note: nothing to train: {opts['resume']} stopped early after epoch "
             f"{start_epoch} ({history.stopped_early}); change "
             f"--{plan.stopped.replace('_', '-')} to go on")
    else:
        held = (f"all {start_epoch} epochs" if start_epoch == config.epochs else
                f"{start_epoch} epochs, more than --epochs {config.epochs}")
        note(f"note: nothing to train: {opts['resume']} already holds {held} (raise --epochs "
             f"to continue)")
    config = plan.config
    # a run stopped for good is copied to --save with its own settings
    saved_config = (_fit_config_to_data(*_train_config({}, checkpoint), data) if plan.stopped
                    else config)
    checkpointer = None
    if save_path is not None:
        stored = checkpoint.dataset_info if checkpoint is not None else None
        header = dataset_record(opts["dataset"], data, validation=opts["validation"],
                                seed=opts["seed"], train_size=opts["train_size"],
                                data_dir=opts["data_dir"], stored=stored)
        checkpointer = Checkpointer(save_path, net, saved_config, history, plan.optimizer,
                                    extra={"dataset": header,
                                           "workers": _processes(workers, opts["comm"])})
        if checkpoint is not None and same_file(save_path, opts["resume"]):
            checkpointer.saved_epoch = start_epoch  # it holds that much until overwritten
    run = _Run(checkpointer, saved_config, opts["json"],
               Progress.make(quiet, start_epoch + 1, config.epochs), opts["writer"])
    callbacks = [Diagnostics()] if opts["diagnostics"] else []
    started = time.perf_counter()
    try:
        train(net, data.X_train, data.y_train, config,
              validation=None if data.X_val is None else (data.X_val, data.y_val),
              test=(data.X_test, data.y_test), on_epoch_end=run.end_epoch,
              callbacks=callbacks, progress=run.progress, history=history,
              start_epoch=start_epoch, optimizer=plan.optimizer, workers=workers,
              comm=opts["comm"], threads=opts["threads"])
    except KeyboardInterrupt as e:
        run.progress.close()
        note(f"{stopped_by(e)}. {run.where_saved()}")
        return stop_status(e)
    except BrokenPipeError:         # `bprop train ... | head -1`: the reader went away
        run.progress.close()
        note(f"stopped: the epoch lines' reader closed stdout. {run.where_saved()}")
        raise
    except FloatingPointError as e:
        run.progress.close()
        raise FloatingPointError(f"{e}. {run.where_saved()}") from None
    except (WorkerError, MPIError) as e:
        run.progress.close()
        raise type(e)(f"{e}. {run.where_saved()}") from None

    saved_before = run.saved_epoch
    if checkpointer is not None and (config.early_stopping and not plan.nothing_left
                                     or run.saved_epoch is None):
        # Early stopping put the best epoch's weights back after the last checkpoint; and a
        # run with nothing left to train still writes its --save file (a new file only:
        # the --resume file already holds what it would write).
        checkpointer.save(run.saved_epoch or start_epoch)
    if history.stopped_early and not quiet and not plan.stopped:
        note(f"stopped early: {history.stopped_early}")
    # the history's own warnings always (nothing learnt, divergence), the per-layer
    # ones with --diagnostics
    for warning in explain(history, cost=net.cost.name, first_epoch=1,
                           n_classes=net.n_classes):
        note(f"warning: {warning}")
    if save_path is not None and not quiet and not (plan.nothing_left
                                                    and saved_before is not None):
        note(f"model saved to {save_path} (history in "
             f"{', '.join(os.path.basename(p) for p in history_paths(save_path))})")
    if not quiet and not plan.nothing_left:
        note(run_summary(history, start_epoch, time.perf_counter() - started))
    if plots is not None:
        for path in plots.plot_run(save_path, opts["plot"]):
            if not quiet:
                note(f"plot written to {path}")
    return 0


class _Run:
    """What `train` does at each epoch's end: checkpoint, then print the epoch's line."""

    def __init__(self, checkpointer, config, as_json, progress, writer=True):
        self.checkpointer, self.config, self.as_json = checkpointer, config, as_json
        self.progress, self.writer = progress, writer

    @property
    def saved_epoch(self):
        return None if self.checkpointer is None else self.checkpointer.saved_epoch

    def end_epoch(self, record):
        self.progress.close()
        k = record.epoch + 1              # epochs done; record.epoch counts from 0
        # a Ctrl-C (or SIGTERM/SIGHUP) just after the model file was renamed into place would
        # leave a checkpoint newer than the line that reports it: held for the few ms it takes
        with held_stops():
            if self.checkpointer is not None:
                self.checkpointer.save(k)
            if self.as_json:
                fields = dataclasses.asdict(record)
                fields.pop("epoch")
                json_line({"epoch": k, "epochs": self.config.epochs, **fields})
            else:
                out(epoch_line(record, k, self.config))
        self.progress.epoch = k + 1
        self.progress.last_cost = record.running_cost

    def where_saved(self):
        if not self.writer:         # another MPI rank: rank 0 says where the run is saved
            return "Rank 0 says what was saved."
        if self.checkpointer is None:
            return "Nothing was saved (no --save)."
        path = self.checkpointer.path
        if self.saved_epoch is None:
            return f"{path} was not written by this run (no epoch finished)."
        return (f"{path} holds epoch {self.saved_epoch} of {self.config.epochs}; "
                f"continue with: bprop train --resume {path}")


def _train_options(given):
    """``(opts, checkpoint)``: the given flags over the defaults, or over what a --resume
    checkpoint recorded (data set, split, seed); checkpoint is None for a new run."""
    opts = {**_TRAIN_DEFAULTS, **given}
    for flag in ("save", "resume", "plot", "data_dir"):
        if opts[flag] is not None and not str(opts[flag]).strip():
            raise ConfigError(f"--{flag.replace('_', '-')} needs a path; got an empty string")
    if opts["resume"] is None and given.get("epochs") is not None and given["epochs"] < 1:
        raise ConfigError(f"--epochs must be at least 1 (0 would train nothing); got "
                          f"{given['epochs']}")
    if opts["plot"] is not None and not (opts["save"] or opts["resume"]):
        raise ConfigError("--plot needs --save (the plots are drawn from the saved run)")
    if opts["resume"] is None:
        return opts, None
    checkpoint = load_checkpoint(opts["resume"])
    _check_resume(checkpoint, given, opts["resume"])
    info = checkpoint.dataset_info
    for key, field in (("dataset", "name"), ("data_dir", "data_dir"),
                       ("validation", "validation"), ("seed", "seed"),
                       ("train_size", "train_size")):
        if key not in given and info.get(field) is not None:
            opts[key] = info[field]
    if "diagnostics" not in given and any(r.diagnostics for r in checkpoint.history.records):
        opts["diagnostics"] = True      # the history goes on recording what it recorded
    if "data_dir" not in given and not datasets.uses_data_dir(opts["dataset"]):
        opts["data_dir"] = None     # stored by older versions, which ignored it for these
    return opts, checkpoint


def _check_resume(checkpoint, given, path):
    """Refuse flags that would change what a resumed run was started with
    (:meth:`bprop.io.Checkpoint.fixed_settings`)."""
    if not checkpoint.is_training_checkpoint:
        raise ConfigError(f"{path} is a model but not a training checkpoint (no settings or "
                          f"epoch count); train a new model instead")
    stored = checkpoint.fixed_settings()
    stored_name = checkpoint.dataset_info.get("name")
    if given.get("dataset") is not None and stored_name is not None \
            and not same_dataset(given["dataset"], stored_name):
        if stored_name in datasets.AVAILABLE or os.path.exists(stored_name):
            raise ConfigError(f"--dataset {given['dataset']} differs from {path}'s "
                              f"{stored_name}; a resumed run keeps the data it started with")
        if not given.get("quiet"):      # the file moved: the user says where it is now
            note(f"note: {path}'s data set {stored_name} is gone; continuing on "
                 f"{given['dataset']}, which must hold the same data")
    for key, stored_value in stored.items():
        if key not in given:
            continue
        value = given[key]
        if key == "activation" and len(value) == 1:     # one name for every hidden layer
            value = value * len(stored_value)
        if value != stored_value:
            flag = "--" + key.replace("_", "-")
            raise ConfigError(f"{flag} {_show(given[key])} differs from {path}'s "
                              f"{_show(stored_value)}; a resumed run keeps the network and "
                              f"data split it started with")


def _show(value):
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


def _train_config(given, checkpoint):
    """``(TrainConfig, shift)`` from the given flags over a checkpoint's settings. The shift
    is checked against the images once the data is loaded (:func:`_fit_config_to_data`)."""
    fields = dict(checkpoint.meta.get("config") or {}) if checkpoint else {}
    fields.update({k: v for k, v in given.items() if k in _CONFIG_FIELDS})
    shift = fields.pop("shift", 0)
    check_int(shift, "--shift", minimum=0)
    fields.pop("image_shape", None)
    try:
        config = TrainConfig(**fields)
        config.check_given(given)
        return config, shift
    except ConfigError as e:        # name the flag, not the TrainConfig field
        raise ConfigError(_flag_names(str(e))) from None


def _fit_config_to_data(config, shift, data):
    """The config with the data's image shape and the shift, refusing what the data cannot
    give (no images to shift, no validation set to stop early on)."""
    image_shape = data.image_shape if data.image_shape and len(data.image_shape) == 2 else None
    if shift and image_shape is None:
        raise ConfigError(f"--shift needs image data; {data.name} has no image shape")
    if shift and shift >= min(image_shape):
        raise ConfigError(f"--shift {shift} would move the {image_shape[0]}x{image_shape[1]} "
                          f"images of {data.name} out of the picture; give less than "
                          f"{min(image_shape)}")
    if data.X_val is None and (config.early_stopping or config.schedule == "plateau"):
        what = "--early-stopping" if config.early_stopping else "--schedule plateau"
        raise ConfigError(f"{what} needs a validation set: add --validation (e.g. 0.1)")
    return dataclasses.replace(config, shift=shift, image_shape=image_shape)


def _flag_names(message, fields=_CONFIG_FIELDS):
    """A library message with the setting names in ``fields`` written as the flags that set
    them, where they name the setting ("eta must be ...", "validation=0.5"), not where the
    word is prose ("its own validation set")."""
    names = "|".join(sorted(fields, key=len, reverse=True))
    return re.sub(rf"(?<![\w-])({names})(?==| must)",
                  lambda m: "--" + m.group(1).replace("_", "-"), message)


def _build_network(opts, data):
    """A new Network sized from the data: [n_features, *hidden, n_classes]."""
    hidden = opts["hidden"]
    sizes = [data.n_features, *hidden, data.n_classes]
    return Network(sizes, activations_from_flags(opts["activation"], len(hidden),
                                                 opts["output_activation"], opts["cost"]),
                   opts["cost"], opts["init"], rng=opts["seed"], dtype=opts["dtype"])


def run_summary(history, start_epoch, seconds):
    """'done: 30 epochs in 12.3 s; test_acc 0.9722 at the end; best val_acc 0.9650 at
    epoch 21 (test_acc 0.9611)' for the end of a run."""
    records = history.records[start_epoch:] or history.records
    parts = [f"done: {len(records)} epoch{'s' if len(records) != 1 else ''} in "
             f"{seconds:.1f} s"]
    last = history.records[-1] if history.records else None
    if last is not None and last.test_accuracy is not None:
        parts.append(f"test_acc {last.test_accuracy:.4f} at the end")
    scored = [r for r in history.records if r.val_accuracy is not None]
    if scored:
        best = max(scored, key=lambda r: r.val_accuracy)
        test = "" if best.test_accuracy is None else f" (test_acc {best.test_accuracy:.4f})"
        parts.append(f"best val_acc {best.val_accuracy:.4f} at epoch {best.epoch + 1}{test}")
    return "; ".join(parts)


def _processes(workers, comm):
    """How many processes share each mini-batch: the workers, or the MPI ranks."""
    return comm.Get_size() if comm is not None else workers


def _describe_run(net, data, config, start_epoch, save_path, workers=1, comm=None):
    n_val = 0 if data.X_val is None else len(data.X_val)
    acts = "/".join(dict.fromkeys(net.activation_names))
    what = f"resuming at epoch {start_epoch + 1}" if start_epoch else "training"
    batch = f"{config.mini_batch_size}" if config.mini_batch_size <= len(data.X_train) else \
        f"{len(data.X_train):,} (all the training examples; {config.mini_batch_size:,} given)"
    # two lines, each short enough not to wrap mid-word in a terminal
    return (f"{what} {net.sizes} ({acts}, {net.cost.name} cost, {net.dtype.name}) on "
            f"{data.name}: {len(data.X_train):,} training, {n_val:,} validation, "
            f"{len(data.X_test):,} test examples",
            f"{config.epochs} epoch{'s' if config.epochs != 1 else ''}, mini-batch "
            f"{batch}, eta {config.eta:g}, {config.optimizer}"
            + (f", {workers} worker processes" if workers > 1 else "")
            + (f", {comm.Get_size()} MPI ranks ({reduction_bytes(net):,} bytes summed a "
               f"step)" if comm is not None else "")
            + (f"; saving to {save_path}" if save_path else ""))
