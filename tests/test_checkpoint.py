"""Checkpoint policy at the library level: resuming (Checkpoint.resume), writing each epoch
(Checkpointer), what a resumed run keeps, and what a model records of its data set. The
command line's tests cover the same through `bprop train --resume`; these hold a Python
program to it."""

import dataclasses
import errno
import json
import os

import numpy as np
import pytest

from bprop import Network, TrainConfig, save, train
from bprop.datasets import data_fingerprint, dataset_id, dataset_record, same_dataset
from bprop.errors import CheckpointError, ModelFileError
from bprop.io import Checkpointer, history_paths, load_checkpoint
from bprop.io import checkpoint as checkpoint_module
from bprop.optimizers import make_optimizer
from bprop.training import History, stopped_for_good


def _data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 6))
    return X, (X[:, 0] > X[:, 1]).astype(int) + 2 * (X[:, 2] > 0.5)


def _run_to(path, config):
    """Train a fresh network for ``config.epochs``, checkpointing every epoch to ``path``."""
    X, y = _data()
    net = Network([6, 5, 4], rng=3)
    ck = Checkpointer(path, net, config)
    train(net, X, y, config, **ck.train_args())
    return net, ck


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_a_run_resumed_in_python_ends_with_the_uninterrupted_weights(tmp_path, optimizer):
    X, y = _data()
    full = TrainConfig(epochs=4, mini_batch_size=8, eta=0.3, optimizer=optimizer)
    whole, _ = _run_to(tmp_path / "whole.npz", full)
    _run_to(tmp_path / "part.npz", dataclasses.replace(full, epochs=2))
    ck = load_checkpoint(tmp_path / "part.npz")
    plan = ck.resume(dataclasses.replace(ck.config, epochs=4))
    assert plan.start_epoch == 2 and not plan.nothing_left and plan.stopped is None
    assert plan.dropped_optimizer is None and plan.optimizer.name == optimizer
    history = train(ck.net, X, y, plan.config, **plan.train_args())
    assert [r.epoch for r in history.records] == [0, 1, 2, 3]
    for a, b in zip(whole.weights + whole.biases, ck.net.weights + ck.net.biases):
        np.testing.assert_array_equal(a, b)


def test_the_checkpointer_writes_the_model_then_the_history_each_epoch(tmp_path):
    path = tmp_path / "m.npz"
    _, ck = _run_to(path, TrainConfig(epochs=3, mini_batch_size=10))
    assert ck.saved_epoch == 3 and load_checkpoint(path).epoch == 3
    json_path, csv_path = history_paths(path)
    assert len(json.loads(open(json_path).read())["records"]) == 3
    assert len(open(csv_path).read().splitlines()) == 4       # a header and three epochs


def test_a_checkpoint_that_cannot_be_written_says_what_the_file_still_holds(tmp_path,
                                                                            monkeypatch):
    real = checkpoint_module.write

    def full_at_epoch_2(*args, **kw):
        if kw["epoch"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kw)
    monkeypatch.setattr(checkpoint_module, "write", full_at_epoch_2)
    path = tmp_path / "m.npz"
    with pytest.raises(CheckpointError, match=f"cannot save epoch 2 to {path}: No space left on "
                                              f"device; the file still holds epoch 1"):
        _run_to(path, TrainConfig(epochs=3, mini_batch_size=10))
    assert load_checkpoint(path).epoch == 1


def test_history_files_that_cannot_be_written_are_a_checkpoint_error(tmp_path, monkeypatch):
    def fails(*args):
        raise OSError(errno.EDQUOT, "Disk quota exceeded")
    monkeypatch.setattr(checkpoint_module, "save_history", fails)
    path = tmp_path / "m.npz"
    net = Network([6, 4], rng=0)
    ck = Checkpointer(path, net, TrainConfig(), History(), make_optimizer("sgd", 1.0))
    with pytest.raises(CheckpointError, match="beside .*m.npz: Disk quota exceeded; the model "
                                              "file holds epoch 4"):
        ck.save(4)
    assert ck.saved_epoch == 4 and load_checkpoint(path).epoch == 4


def test_nothing_is_left_to_train_once_every_epoch_is_done(tmp_path):
    _run_to(tmp_path / "m.npz", TrainConfig(epochs=3, mini_batch_size=10))
    ck = load_checkpoint(tmp_path / "m.npz")
    for epochs in (3, 2):
        plan = ck.resume(dataclasses.replace(ck.config, epochs=epochs))
        assert plan.nothing_left and plan.stopped is None
        assert plan.config.epochs == 3 == plan.start_epoch     # cut to what it holds
    assert not ck.resume(dataclasses.replace(ck.config, epochs=5)).nothing_left


def test_a_run_stopped_early_is_not_trained_again_unless_the_rule_changes(tmp_path):
    X, y = _data()
    config = TrainConfig(epochs=40, mini_batch_size=10, eta=0.01, early_stopping=True,
                         patience=1)
    net = Network([6, 5, 4], rng=3)
    history = train(net, X, y, config, validation=(X, y))
    assert history.stopped_early and len(history.records) < 40
    path = tmp_path / "m.npz"
    save(net, path, config=config, history=history, epoch=len(history.records))
    ck = load_checkpoint(path)
    plan = ck.resume(ck.config)
    assert plan.stopped == "patience" and plan.nothing_left
    assert plan.history.stopped_early == history.stopped_early
    going_on = ck.resume(dataclasses.replace(ck.config, patience=50))
    assert going_on.stopped is None and not going_on.nothing_left
    assert going_on.history.stopped_early is None       # goes on under the new rule


def test_only_the_stopping_rules_stop_a_run_for_good():
    config = TrainConfig(early_stopping=True, patience=2, schedule="plateau", min_eta_factor=4)
    h = History(stopped_early="stopped by callback", state={"since_best": 5})
    assert stopped_for_good(h, config) is None                  # a callback's stop goes on
    h = History(stopped_early="no improvement", state={"since_best": 2})
    assert stopped_for_good(h, config) == "patience"
    assert stopped_for_good(h, dataclasses.replace(config, patience=3)) is None
    h = History(stopped_early="eta fell", state={"eta": 0.75})
    assert stopped_for_good(h, config) == "min_eta_factor"
    assert stopped_for_good(h, dataclasses.replace(config, min_eta_factor=8)) is None


def test_another_optimizer_drops_the_saved_state(tmp_path):
    _run_to(tmp_path / "m.npz", TrainConfig(epochs=2, mini_batch_size=10,
                                               optimizer="momentum", eta=0.1))
    ck = load_checkpoint(tmp_path / "m.npz")
    plan = ck.resume(dataclasses.replace(ck.config, epochs=4, optimizer="adam"))
    assert plan.dropped_optimizer == "momentum" and plan.optimizer.name == "adam"
    assert plan.optimizer.state() == {}


def test_saved_optimizer_state_of_another_network_is_a_model_file_error(tmp_path):
    _run_to(tmp_path / "m.npz", TrainConfig(epochs=1, mini_batch_size=10,
                                               optimizer="momentum", eta=0.1))
    ck = load_checkpoint(tmp_path / "m.npz")
    ck.optimizer_state["v0"] = np.zeros((2, 2))
    with pytest.raises(ModelFileError, match="m.npz: the saved momentum state 'v0' has shape"):
        ck.resume(ck.config)


def test_older_checkpoints_say_their_regularisation_was_applied_differently(tmp_path):
    config = TrainConfig(epochs=1, mini_batch_size=10, optimizer="momentum", eta=0.1, lmbda=1.0)
    _run_to(tmp_path / "m.npz", config)
    ck = load_checkpoint(tmp_path / "m.npz")
    assert not ck.resume(ck.config).older_regularisation
    del ck.meta["regularisation"]                      # as bprop wrote them before 2026-11-23
    assert ck.resume(ck.config).older_regularisation
    assert not ck.resume(dataclasses.replace(ck.config, optimizer="sgd")).older_regularisation
    assert not ck.resume(dataclasses.replace(ck.config, lmbda=0.0)).older_regularisation


def _dataset(X, n_classes, image_shape=None):
    from bprop.datasets import Dataset
    y = np.zeros(len(X), int)
    return Dataset("mine", X, y, None, None, X, y, n_classes, image_shape)


def test_what_a_resumed_run_keeps(tmp_path):
    net = Network([6, 5, 3, 4], ["relu", "tanh", "softmax"], "log-likelihood", init="he",
                  rng=0, dtype=np.float32)
    path = tmp_path / "m.npz"
    data = _dataset(np.zeros((3, 6)), n_classes=4)
    save(net, path, config=TrainConfig(), history=History(), epoch=1,
         extra={"dataset": dataset_record("digits", data, validation=0.1, seed=7)})
    ck = load_checkpoint(path)
    assert ck.is_training_checkpoint
    assert ck.fixed_settings() == {
        "hidden": [5, 3], "activation": ["relu", "tanh"], "output_activation": "softmax",
        "cost": "log-likelihood", "init": "he", "dtype": "float32", "seed": 7,
        "validation": 0.1, "train_size": "all"}
    save(net, path)
    assert not load_checkpoint(path).is_training_checkpoint


def test_the_data_set_record(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    images = np.zeros((3, 16))
    images[:, 5] = 1.0                                  # ink one pixel wide in a 4x4 frame
    data = _dataset(images, n_classes=10, image_shape=(4, 4))
    record = dataset_record("Fashion-MNIST", data, seed=2, train_size=100, data_dir="d")
    assert record == {"name": "fashion", "validation": 0, "seed": 2, "train_size": 100,
                      "data_dir": str(tmp_path / "d"), "n_classes": 10, "image_shape": [4, 4],
                      "fingerprint": data_fingerprint(data), "box": 1}
    assert record["fingerprint"].startswith("3x16:")
    images[2, 0] = 0.5                                  # any change of a row sampled, or size
    assert data_fingerprint(data) != record["fingerprint"]
    assert dataset_record("fashion", data, stored={"box": 20})["box"] == 20   # kept on resume
    flat = _dataset(np.zeros((3, 5)), n_classes=3)
    assert "box" not in dataset_record("mine.csv", flat)
    assert dataset_id("./fashion") == str(tmp_path / "fashion")              # a path, not a name
    assert same_dataset("Fashion-MNIST", "fashion") and same_dataset("./x.csv",
                                                                     str(tmp_path / "x.csv"))
    assert not same_dataset("mnist", "fashion") and not same_dataset("mnist", None)
    os.makedirs("sub")
    assert same_dataset("sub/../x.csv", "x.csv")
