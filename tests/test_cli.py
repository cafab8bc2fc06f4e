"""The command line: output formats, exit statuses, checkpoints, resume, Ctrl-C, predict.

Most tests call ``cli.main(argv)`` in-process; a few run ``python -m bprop`` end to end.
Data: a tiny generated ``.npz`` (200 examples, 16 features, 4 classes) in ``tmp_path``.
"""

import contextlib
import errno
import importlib.util
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest

from bprop import backprop, cli
from bprop.cli.output import epoch_line
from bprop.training.progress import Progress
from bprop.cli.signals import Terminated, stop_status, stopping_signals
from bprop.datasets import dataset_record
from bprop.io import checkpoint
from bprop.datasets import write_idx
from bprop.errors import DataError, ShapeError
from bprop.io import load_checkpoint
from bprop.network import Network
from bprop.predict import prepare_image, read_input, resize_area, typical_box
from bprop.stops import held_stops

SRC = Path(__file__).resolve().parents[1] / "src"
needs_sklearn = pytest.mark.skipif(importlib.util.find_spec("sklearn") is None,
                                   reason="the digits data set needs scikit-learn (bprop[digits])")
needs_matplotlib = pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None,
                                      reason="plots need matplotlib (bprop[plots])")
LINE = re.compile(r"^epoch (\d+)/(\d+)  running_cost \d+\.\d{4}(  val_acc [01]\.\d{4})?"
                  r"  test_acc [01]\.\d{4}  time \d[\d.e+-]*s$")


# -- helpers and fixtures ---------------------------------------------------------------------
def make_npz(path, n=200, n_features=16, n_classes=4, seed=0):
    """Learnable blobs: class centres in [0, 1]^n_features plus noise; 80% train, 20% test."""
    rng = np.random.default_rng(seed)
    centres = rng.random((n_classes, n_features))
    y = rng.integers(0, n_classes, n)
    X = np.clip(centres[y] + 0.15 * rng.standard_normal((n, n_features)), 0.0, 1.0)
    k = n * 4 // 5
    np.savez(path, x_train=X[:k], y_train=y[:k], x_test=X[k:], y_test=y[k:])
    return path


def run(argv, capsys):
    """``(status, stdout, stderr)`` of ``cli.main(argv)``."""
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def run_quietly(argv):
    """``cli.main`` without pytest's capsys (for module-scoped fixtures)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main([str(a) for a in argv])
    assert status == 0, err.getvalue()
    return out.getvalue()


def _module_env():
    """The environment for a subprocess that imports bprop, installed or from the source tree."""
    return dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (str(SRC), os.environ.get("PYTHONPATH")) if p))


def run_module(*argv, **kw):
    """``python -m bprop ARGV`` in a subprocess; works installed or from the source tree."""
    return subprocess.run([sys.executable, "-m", "bprop", *map(str, argv)], env=_module_env(),
                          capture_output=True, text=True, timeout=60, **kw)


def stop_a_training_run(data, path, signum, *extra, group=False):
    """Start ``bprop train --save path`` (and ``extra`` flags) for ever, send ``signum``
    once the first checkpoint is on disk (to its whole process group, as a terminal's
    Ctrl-C does, with ``group``); ``(exit status, stderr)``."""
    proc = subprocess.Popen([sys.executable, "-m", "bprop", "train", "--dataset", str(data),
                             "--epochs", "100000", "--save", str(path), "--quiet", *extra],
                            env=_module_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=group)
    try:
        deadline = time.monotonic() + 20
        while not path.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        assert path.exists(), proc.stderr.read() if proc.poll() is not None else "no checkpoint"
        if group:
            os.killpg(proc.pid, signum)
        else:
            proc.send_signal(signum)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, err


def one_error_line(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def params(path):
    net = load_checkpoint(path).net
    return net.weights + net.biases


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_npz(tmp_path_factory.mktemp("data") / "tiny.npz")


@pytest.fixture(scope="module")
def model(data, tmp_path_factory):
    """A model trained for 5 epochs on ``data``, saved with its checkpoint header."""
    path = tmp_path_factory.mktemp("model") / "m.npz"
    run_quietly(["train", "--dataset", data, "--epochs", 5, "--save", path, "--quiet"])
    return path


# -- help and usage ------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "gradcheck", "info", "plot",
                                     "report"])
def test_every_command_has_help_with_examples(command, capsys):
    status, out, _ = run([command, "--help"], capsys)
    assert status == 0
    assert "examples:" in out and f"bprop {command}" in out


def test_train_help_gives_the_bytes_an_mpi_step_sums(capsys):
    from bprop.training.mpi import reduction_bytes
    status, out, _ = run(["train", "--help"], capsys)
    assert status == 0 and "mpiexec -n K bprop train" in out
    said = re.search(r"([\d,]+) for \[784, 30, 10\]", " ".join(out.split()))
    assert int(said[1].replace(",", "")) == reduction_bytes(Network([784, 30, 10]))


def test_top_level_help_and_version(capsys):
    status, out, _ = run(["--help"], capsys)
    assert status == 0 and "exit status" in out
    status, out, _ = run(["--version"], capsys)
    assert status == 0 and out.startswith("bprop ")


def test_no_command_is_a_usage_error(capsys):
    status, _, err = run([], capsys)
    assert status == 2
    assert "required" in one_error_line(err)


# -- train: output and files -------------------------------------------------------------------
def test_a_mini_batch_larger_than_the_data_is_described_as_what_it_is(data, capsys):
    status, _, err = run(["train", "--dataset", data, "--epochs", 1, "--mini-batch-size",
                          100000], capsys)
    assert status == 0, err
    assert "1 epoch, mini-batch 160 (all the training examples; 100,000 given), eta 3" in err


def test_train_prints_one_line_per_epoch_and_saves_a_checkpoint(data, tmp_path, capsys):
    path = tmp_path / "runs" / "m.npz"            # the directory does not exist yet
    status, out, err = run(["train", "--dataset", data, "--hidden", 8, "--epochs", 3,
                            "--save", path], capsys)
    assert status == 0, err
    lines = out.splitlines()
    assert len(lines) == 3
    for k, line in enumerate(lines, 1):
        m = LINE.match(line)
        assert m, line
        assert m.group(1, 2) == (str(k), "3") and m.group(3) is None
    assert f"model saved to {path}" in err
    ck = load_checkpoint(path)
    assert ck.epoch == 3 and len(ck.meta["history"]["records"]) == 3
    assert ck.net.sizes == [16, 8, 4]
    info = ck.meta["dataset"]
    assert info["name"] == str(data) and info["n_classes"] == 4 and info["validation"] == 0
    assert info["image_shape"] is None
    assert (tmp_path / "runs" / "m.history.json").exists()
    csv = (tmp_path / "runs" / "m.history.csv").read_text().splitlines()
    assert len(csv) == 4 and "running_cost" in csv[0].split(",")
    column = csv[0].split(",").index("running_cost")
    assert [float(row.split(",")[column]) for row in csv[1:]] == pytest.approx(
        [float(line.split()[3]) for line in lines], abs=5e-5)


def test_train_defaults_are_the_books(data, tmp_path, capsys):
    path = tmp_path / "m.npz"
    status, out, err = run(["train", "--dataset", data, "--epochs", 1, "--save", path], capsys)
    assert status == 0, err
    net = load_checkpoint(path).net
    assert net.sizes == [16, 30, 4] and net.activation_names == ["sigmoid", "sigmoid"]
    assert net.cost.name == "quadratic" and net.init == "normal"
    config = load_checkpoint(path).meta["config"]
    assert (config["mini_batch_size"], config["eta"], config["optimizer"]) == (10, 3.0, "sgd")


def test_train_with_validation_and_json(data, capsys):
    status, out, err = run(["train", "--dataset", data, "--epochs", 2, "--validation", 0.25,
                            "--json", "--quiet"], capsys)
    assert status == 0, err
    assert err == ""                                    # --quiet: no notes
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["epoch"] for r in records] == [1, 2] and records[0]["epochs"] == 2
    for r in records:
        assert 0 <= r["val_accuracy"] <= 1 and 0 <= r["test_accuracy"] <= 1
        assert r["test_total"] == 40 and r["running_cost"] > 0 and r["seconds"] >= 0
        assert r["train_cost"] is None          # the extra pass only when asked for


def test_monitor_training_cost_adds_the_full_pass_cost_to_the_line(data, tmp_path, capsys):
    path = tmp_path / "m.npz"
    status, out, err = run(["train", "--dataset", data, "--epochs", 2,
                            "--monitor-training-cost", "--save", path], capsys)
    assert status == 0, err
    for line in out.splitlines():
        assert re.match(r"^epoch \d/2  running_cost \d\.\d{4}  cost \d\.\d{4}  test_acc ", line)
    ck = load_checkpoint(path)
    assert ck.meta["config"]["monitor_training_cost"] is True
    with np.load(data) as f:
        X, y = f["x_train"], f["y_train"]
    # the line's cost is the book's total_cost of the final weights; the running cost is not
    record = ck.meta["history"]["records"][-1]
    assert record["train_cost"] == pytest.approx(ck.net.mean_cost(X, y), rel=1e-12)
    assert record["running_cost"] != pytest.approx(record["train_cost"], rel=1e-6)
    status, out, err = run(["train", "--resume", path, "--epochs", 3], capsys)
    assert status == 0, err
    assert "  cost " in out                     # a resumed run keeps its monitors


def test_validation_appears_in_the_line(data, capsys):
    status, out, _ = run(["train", "--dataset", data, "--epochs", 1, "--validation", 20], capsys)
    assert status == 0
    assert LINE.match(out.strip()).group(3)


def test_train_options_reach_the_network_and_config(data, tmp_path, capsys):
    path = tmp_path / "m.npz"
    status, _, err = run(["train", "--dataset", data, "--hidden", 12, 6, "--activation", "relu",
                          "tanh", "--cost", "log-likelihood", "--init", "he", "--dtype",
                          "float32", "--epochs", 2, "--eta", 0.1, "--lmbda", 0.5,
                          "--optimizer", "nesterov", "--momentum", 0.5, "--dropout", 0.1,
                          "--clip-norm", 5, "--schedule", "step", "--step-size", 1,
                          "--save", path], capsys)
    assert status == 0, err
    ck = load_checkpoint(path)
    net, config = ck.net, ck.meta["config"]
    assert net.sizes == [16, 12, 6, 4] and net.dtype == np.float32
    assert net.activation_names == ["relu", "tanh", "softmax"]   # softmax goes with log-likelihood
    assert net.cost.name == "log-likelihood" and net.init == "he"
    assert config["optimizer"] == "nesterov" and config["momentum"] == 0.5
    assert (config["lmbda"], config["dropout"], config["clip_norm"]) == (0.5, 0.1, 5.0)
    assert [r["eta"] for r in ck.meta["history"]["records"]] == [0.1, 0.05]


def test_diagnostics_fill_the_history(data, capsys):
    pytest.importorskip("bprop.diagnostics")
    status, out, err = run(["train", "--dataset", data, "--epochs", 1, "--diagnostics",
                            "--json"], capsys)
    assert status == 0, err
    assert json.loads(out)["diagnostics"]["layers"] == [2, 3]


@needs_sklearn
def test_diagnostics_warnings_count_epochs_as_the_epoch_lines_do(capsys):
    status, out, err = run(["train", "--dataset", "digits", "--epochs", 2, "--hidden",
                            *[30] * 6, "--init", "scaled-normal", "--eta", 0.1,
                            "--diagnostics"], capsys)
    assert status == 0, err
    assert out.splitlines()[-1].startswith("epoch 2/2")
    (warning,) = [line for line in err.splitlines() if "warning:" in line]
    assert warning.startswith("bprop: warning: Gradients vanish: in epoch 2, ")   # not 1
    assert warning.endswith("The ratio was above 100 in epochs 1–2.")


# -- bad input: exit 2, one line -------------------------------------------------------------
def _corrupt_idx_dir(tmp_path):
    d = tmp_path / "idx"
    d.mkdir()
    labels = np.zeros(5, np.uint8)
    write_idx(d / "train-images-idx3-ubyte", labels)        # labels where images belong
    write_idx(d / "train-labels-idx1-ubyte", labels)
    write_idx(d / "t10k-images-idx3-ubyte", np.zeros((5, 4, 4), np.uint8))
    write_idx(d / "t10k-labels-idx1-ubyte", labels)
    return d


@pytest.mark.parametrize("argv, message", [
    (["--dataset", "{tmp}/missing.npz"], "no such file or directory"),
    (["--dataset", "{idx}"], "train-images-idx3-ubyte is an IDX file of 1-dimensional uint8 values (magic 0x00000801)"),
    (["--dataset", "mnistt"], "unknown dataset 'mnistt'"),
    (["--activation", "sigmod"], "unknown activation 'sigmod'; choose from identity, relu"),
    (["--output-activation", "softmaxx"], "unknown activation 'softmaxx'"),
    (["--cost", "hinge"], "unknown cost 'hinge'"),
    (["--optimizer", "sdg"], "invalid choice: 'sdg'"),
    (["--eta", "-1"], "--eta must be a positive number; got -1.0"),
    (["--eta", "0"], "eta must be a positive number; got 0.0"),
    (["--eta", "fast"], "invalid float value: 'fast'"),
    (["--epochs", "-2"], "--epochs must be at least 1 (0 would train nothing); got -2"),
    (["--epochs", "0"], "--epochs must be at least 1 (0 would train nothing); got 0"),
    (["--mini-batch-size", "0"], "--mini-batch-size must be an integer >= 1"),
    (["--seed", "-1"], "argument --seed: expected an integer >= 0; got -1"),
    (["--hidden", "0"], "expected a positive integer; got 0"),
    (["--validation", "1.5"], "a fraction must be in [0, 1)"),
    (["--validation", "500"], "leave some for training"),
    (["--dropout", "1"], "dropout must be a number in [0, 1)"),
    (["--hidden", "5", "5", "--activation", "relu", "tanh", "relu"],
     "--activation takes one name, or one per hidden layer (2); got 3"),
    (["--activation", "softmax"], "softmax is only allowed as the output layer's activation"),
    (["--shift", "2"], "--shift needs image data"),
    pytest.param(["--dataset", "digits", "--shift", "8"], "--shift 8 would move the 8x8 images "
                 "of digits out of the picture; give less than 8", marks=needs_sklearn),
    (["--early-stopping"], "--early-stopping needs a validation set: add --validation"),
    (["--schedule", "plateau"], "--schedule plateau needs a validation set"),
    (["--save", "{tmp}/afile/m.npz"], "/afile is a file, not a directory"),
    pytest.param(["--save", "{tmp}/m.npz", "--plot", "{tmp}/afile"],
                 "cannot write --plot {tmp}/afile: {tmp}/afile is a file, not a directory",
                 marks=needs_matplotlib),
    (["--save", "{tmp}"], "is a directory"),
    (["--plot", "{tmp}/plots"], "--plot needs --save"),
    (["--resume", "{tmp}/missing.npz"], "model file not found"),
    (["--frobnicate"], "unrecognized arguments: --frobnicate"),
])
def test_bad_train_input_exits_2_with_one_line(argv, message, data, tmp_path, capsys):
    (tmp_path / "afile").write_text("not a directory")
    idx = _corrupt_idx_dir(tmp_path)
    argv = [a.format(tmp=tmp_path, idx=idx) for a in argv]
    if "--dataset" not in argv:
        argv += ["--dataset", str(data)]
    status, out, err = run(["train", "--epochs", "1", *argv], capsys)
    assert status == 2
    assert message.format(tmp=tmp_path) in one_error_line(err)
    assert out == ""


@pytest.mark.parametrize("argv, name", [(["export", "{model}", ""], "OUT"),
                                        (["info", ""], "MODEL"), (["evaluate", ""], "MODEL"),
                                        (["predict", "{model}", ""], "FILE"),
                                        (["report", ""], "RUN"), (["plot", ""], "RUN")])
def test_an_empty_path_argument_is_named(argv, name, model, capsys):
    status, out, err = run([a.format(model=model) for a in argv], capsys)
    assert status == 2 and out == ""
    assert f"error: argument {name}: must not be empty" in one_error_line(err)


def test_a_closed_stdout_stops_training_saying_where_the_run_is(data, tmp_path):
    """`bprop train ... | head -1`: the reader goes away after one line."""
    path = tmp_path / "m.npz"
    proc = subprocess.Popen([sys.executable, "-m", "bprop", "train", "--dataset", str(data),
                             "--epochs", "100000", "--save", str(path)], env=_module_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().startswith("epoch 1/100000  ")
        proc.stdout.close()
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 1
    last = err.strip().splitlines()[-1]
    at = re.escape(str(path))
    assert re.fullmatch(rf"bprop: stopped: the epoch lines' reader closed stdout\. {at} holds "
                        rf"epoch \d+ of 100000; continue with: bprop train --resume {at}",
                        last), err
    assert load_checkpoint(path).epoch >= 1


def test_unwritable_save_path_fails_before_training(data, tmp_path, capsys, monkeypatch):
    (tmp_path / "afile").write_text("")
    monkeypatch.setattr(cli.train, "train", lambda *a, **k: pytest.fail("training started"))
    status, _, err = run(["train", "--dataset", data, "--save", tmp_path / "afile" / "m.npz"],
                         capsys)
    assert status == 2 and "cannot write --save" in err


def test_report_and_plot_out_paths(model, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "new" / "dir" / "r.html"
    status, stdout, err = run(["report", model, "--out", out], capsys)
    assert status == 0, err
    assert out.exists() and stdout.strip() == str(out)
    status, _, err = run(["report", model, "--out", tmp_path], capsys)
    assert status == 2
    assert f"--out {tmp_path} is a directory" in one_error_line(err) and ".tmp-" not in err
    (tmp_path / "afile").write_text("")
    status, _, err = run(["plot", model, "--out", tmp_path / "afile"], capsys)
    assert status == 2 and "afile is a file, not a directory" in one_error_line(err)


def test_model_that_does_not_fit_the_data(model, tmp_path, capsys):
    other = make_npz(tmp_path / "nine.npz", n_features=9)
    for command in (["evaluate", model], ["predict", model, "--count", 2]):
        status, _, err = run([*command, "--dataset", other], capsys)
        assert status == 2
        assert "takes 16 inputs and gives 4 outputs, but nine.npz has 9 features" in \
            one_error_line(err)
    # a resumed run may not switch data at all (tested in the resume tests)
    status, _, err = run(["train", "--resume", model, "--epochs", 9, "--dataset", other], capsys)
    assert status == 2 and "a resumed run keeps the data it started with" in one_error_line(err)


def test_corrupt_model_file(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 this is not a zip archive")
    for command in ("evaluate", "info", "predict"):
        status, _, err = run([command, bad], capsys)
        assert status == 2
        assert "not a readable bprop model file" in one_error_line(err)


def test_debug_shows_the_traceback(tmp_path, capsys):
    status, _, err = run(["--debug", "info", tmp_path / "missing.npz"], capsys)
    assert status == 2
    assert "Traceback" in err and "model file not found" in err


def test_unexpected_error_is_exit_1(monkeypatch, capsys):
    def boom(args):
        raise RuntimeError("wires crossed")
    monkeypatch.setattr(cli.parser, "cmd_gradcheck", boom)
    status, _, err = run(["gradcheck"], capsys)
    assert status == 1
    assert "unexpected error: RuntimeError: wires crossed (run with --debug" in one_error_line(err)
    status, _, err = run(["gradcheck", "--debug"], capsys)
    assert status == 1 and "Traceback" in err


def test_a_network_bigger_than_memory_is_bad_input(data, capsys):
    status, _, err = run(["train", "--dataset", data, "--hidden", str(10**15),
                          "--epochs", "1"], capsys)
    assert status == 2
    assert "GiB in float64: more than this machine's" in one_error_line(err)


@needs_sklearn
def test_out_of_memory_is_exit_1_with_a_clear_message():
    # a real allocation NumPy refuses, not a mock: 3.4 GiB of weights under a 2 GiB limit on
    # the address space (the network itself fits in the machine's memory)
    resource = pytest.importorskip("resource")
    if not hasattr(resource, "RLIMIT_AS"):
        pytest.skip("no address-space limit here")
    code = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30)); "
            "from bprop import cli; sys.exit(cli.main(['train', '--dataset', 'digits', "
            "'--hidden', str(4 * 10**6), '--epochs', '1', '--quiet']))")
    done = subprocess.run([sys.executable, "-c", code], env=_module_env(), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    line = one_error_line(done.stderr)
    assert line.startswith("bprop: error: out of memory: Unable to allocate")
    assert "smaller network" in line and "unexpected" not in line


def test_diverging_training_is_exit_1_with_a_clear_message(data, tmp_path, capsys):
    status, _, err = run(["train", "--dataset", data, "--epochs", 3, "--eta", 1e10,
                          "--activation", "relu", "--output-activation", "identity", "--quiet",
                          "--save", tmp_path / "m.npz"], capsys)
    assert status == 1
    line = one_error_line(err)
    assert "training diverged" in line and "smaller eta" in line
    assert "was not written by this run" in line


def test_early_stopping_saves_the_restored_best_weights(data, tmp_path, capsys):
    path = tmp_path / "m.npz"
    status, out, err = run(["train", "--dataset", data, "--epochs", 30, "--validation", 40,
                            "--early-stopping", "--patience", 2, "--eta", 30, "--save", path],
                           capsys)
    assert status == 0, err
    ck = load_checkpoint(path)
    history = ck.meta["history"]
    assert history["stopped_early"] and f"stopped early: {history['stopped_early']}" in err
    assert ck.epoch == len(history["records"]) == len(out.splitlines()) < 30


@pytest.mark.parametrize("rules", [
    ["--eta", 20, "--schedule", "plateau", "--patience", 1, "--min-eta-factor", 1024],
    # eta 100 makes the best epoch come before the interruption, so its weights must be kept
    ["--eta", 100, "--early-stopping", "--patience", 3, "--monitor", "val_cost"]])
def test_resume_keeps_schedule_and_early_stopping_state(rules, data, tmp_path, capsys):
    """The plateau rule's eta and counters, and early stopping's best weights, survive a
    checkpoint: the resumed run ends where the uninterrupted one does."""
    common = ["train", "--dataset", data, "--hidden", 10, "--seed", 5, "--validation", 40,
              "--quiet", *rules]
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    assert run([*common, "--epochs", 8, "--save", a], capsys)[0] == 0
    assert run([*common, "--epochs", 3, "--save", b], capsys)[0] == 0
    status, _, err = run(["train", "--resume", b, "--epochs", 8], capsys)
    assert status == 0, err
    for pa, pb in zip(params(a), params(b)):
        assert np.array_equal(pa, pb)
    ha, hb = load_checkpoint(a).meta["history"], load_checkpoint(b).meta["history"]
    assert [r["eta"] for r in ha["records"]] == [r["eta"] for r in hb["records"]]
    assert ha["state"] == hb["state"] and ha["stopped_early"] == hb["stopped_early"]
    if "--schedule" in rules:
        assert len(set(r["eta"] for r in ha["records"])) > 1      # the rule really acted
    else:
        assert ha["stopped_early"] and ha["best_epoch"] < 3       # best before the interruption


def test_model_without_a_data_set_needs_dataset(tmp_path, capsys):
    from bprop.io import save
    path = tmp_path / "plain.npz"
    save(Network([16, 4, 4], rng=0), path)
    status, _, err = run(["evaluate", path], capsys)
    assert status == 2 and "does not say which data set" in one_error_line(err)


# -- resume: bit-identical to an uninterrupted run -----------------------------------------------
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_resume_gives_exactly_the_uninterrupted_weights(optimizer, data, tmp_path, capsys):
    common = ["train", "--dataset", data, "--hidden", 10, "--optimizer", optimizer, "--seed", 3,
              "--dropout", 0.1, "--quiet"]
    if optimizer != "sgd":
        common += ["--eta", 0.05]
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    assert run([*common, "--epochs", 4, "--save", a], capsys)[0] == 0
    assert run([*common, "--epochs", 2, "--save", b], capsys)[0] == 0
    status, out, err = run(["train", "--resume", b, "--epochs", 4], capsys)
    assert status == 0, err
    assert [line.split()[1] for line in out.splitlines()] == ["3/4", "4/4"]
    for pa, pb in zip(params(a), params(b)):
        assert np.array_equal(pa, pb)
    ca, cb = load_checkpoint(a), load_checkpoint(b)
    assert cb.epoch == 4 and cb.meta["rng_state"] == ca.meta["rng_state"]
    strip = [{k: v for k, v in r.items() if k != "seconds"}
             for r in cb.meta["history"]["records"]]
    assert strip == [{k: v for k, v in r.items() if k != "seconds"}
                     for r in ca.meta["history"]["records"]]


def test_train_size_trains_on_the_first_examples_and_is_kept_on_resume(data, model, tmp_path,
                                                                        capsys):
    """--train-size N: the book's training_data[:N] (chapter 3's 1,000 images); the model
    file records it, so resume, evaluate and info use the same N."""
    path = tmp_path / "m.npz"
    status, out, err = run(["train", "--dataset", data, "--validation", 20, "--train-size", 50,
                            "--epochs", 1, "--save", path], capsys)
    assert status == 0, err
    assert "50 training, 20 validation, 40 test examples" in err
    assert load_checkpoint(path).meta["dataset"]["train_size"] == 50
    status, out, _ = run(["evaluate", path, "--split", "train"], capsys)
    assert status == 0 and "examples 50" in out
    status, out, _ = run(["info", path], capsys)
    assert "training on the first 50" in out
    status, out, err = run(["train", "--resume", path, "--epochs", 2], capsys)
    assert status == 0 and out.startswith("epoch 2/2"), err
    status, _, err = run(["train", "--resume", path, "--epochs", 3, "--train-size", 60], capsys)
    assert status == 2 and "--train-size 60 differs from" in one_error_line(err)
    status, _, err = run(["train", "--dataset", data, "--train-size", 500], capsys)
    assert status == 2
    assert one_error_line(err) == ("bprop: error: --train-size=500 is more than the 160 "
                                   "training examples of tiny.npz")
    status, _, err = run(["train", "--resume", model, "--epochs", 6, "--train-size", 60], capsys)
    assert status == 2 and "--train-size 60 differs from" in err and "'s all;" in err


def test_library_words_in_data_errors_become_flags_only_where_they_name_the_setting(
        tmp_path, capsys):
    rng = np.random.default_rng(0)
    arrays = {f"{x}_{split}": (rng.random((n, 4)) if x == "x" else np.arange(n) % 2)
              for split, n in (("train", 20), ("val", 6), ("test", 6)) for x in "xy"}
    np.savez(tmp_path / "own.npz", **arrays)
    status, _, err = run(["train", "--dataset", tmp_path / "own.npz", "--validation", 5], capsys)
    assert status == 2
    assert one_error_line(err) == ("bprop: error: own.npz brings its own validation set of 6 "
                                   "examples; pass --validation=0 to use it; got --validation=5")


def test_resume_refuses_to_change_the_network(model, capsys):
    status, _, err = run(["train", "--resume", model, "--hidden", 7], capsys)
    assert status == 2
    assert "--hidden 7 differs from" in one_error_line(err)


def test_resume_refuses_other_data_and_accepts_the_same_named_differently(data, model,
                                                                         tmp_path, capsys):
    other = make_npz(tmp_path / "other.npz")
    status, _, err = run(["train", "--resume", model, "--dataset", other, "--epochs", 6,
                          "--save", tmp_path / "c.npz"], capsys)
    assert status == 2
    assert f"--dataset {other} differs from {model}'s {data}" in one_error_line(err)
    relative = os.path.relpath(data)               # the same file, written another way
    status, out, err = run(["train", "--resume", model, "--dataset", relative, "--epochs", 6,
                            "--save", tmp_path / "c.npz"], capsys)
    assert status == 0, err


def test_an_idx_folder_named_like_a_built_in_data_set_stays_a_path(tmp_path, capsys,
                                                                   monkeypatch):
    """./fashion holding one's own IDX files is that folder, also for evaluate later."""
    folder = tmp_path / "fashion"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for split, n in (("train", 40), ("t10k", 20)):
        write_idx(folder / f"{split}-images-idx3-ubyte", rng.integers(0, 256, (n, 4, 4),
                                                                      dtype=np.uint8))
        write_idx(folder / f"{split}-labels-idx1-ubyte", np.arange(n, dtype=np.uint8) % 10)
    monkeypatch.chdir(tmp_path)
    status, _, err = run(["train", "--dataset", "./fashion", "--epochs", 1, "--hidden", 5,
                          "--save", "m.npz", "--quiet"], capsys)
    assert status == 0, err
    assert _data_name(tmp_path / "m.npz") == str(folder)
    status, out, err = run(["evaluate", "m.npz"], capsys)
    assert status == 0, err
    assert "examples 20" in out                     # its own 20 test images, not 10,000
    assert "T-shirt" not in out and "  name" not in out     # nor Fashion-MNIST's class names


def test_save_may_not_overwrite_the_data(tmp_path, capsys):
    npz = make_npz(tmp_path / "victim.npz")
    rng = np.random.default_rng(0)
    csv = tmp_path / "m.history.csv"             # a data set named like --save m.npz's history
    csv.write_text("".join(f"{a:.3f},{b:.3f},{k}\n" for a, b, k in
                           zip(rng.random(50), rng.random(50), rng.integers(0, 2, 50))))
    for data, save in ((npz, npz), (csv, tmp_path / "m.npz")):
        before = data.read_bytes()
        status, _, err = run(["train", "--dataset", data, "--epochs", 1, "--save", save], capsys)
        assert status == 2
        assert one_error_line(err) == (f"bprop: error: --save {save} would overwrite the "
                                       f"--dataset file {data}; give the model another name")
        assert data.read_bytes() == before
    assert not (tmp_path / "m.npz").exists()


def test_save_to_something_not_a_regular_file_is_refused_before_training(data, tmp_path,
                                                                         capsys):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    status, out, err = run(["train", "--dataset", data, "--epochs", 1, "--save", fifo], capsys)
    assert status == 2 and out == ""
    assert one_error_line(err) == f"bprop: error: --save {fifo} exists and is not a regular file"


def test_resume_with_a_damaged_optimizer_state_is_one_line(data, tmp_path, capsys):
    path = tmp_path / "adam.npz"
    run_quietly(["train", "--dataset", data, "--epochs", 1, "--optimizer", "adam",
                 "--eta", 0.01, "--save", path, "--quiet"])
    with np.load(path, allow_pickle=False) as d:
        arrays = {k: d[k] for k in d.files}
    arrays["opt_m0"] = arrays["opt_m0"].T
    np.savez(path, **arrays)
    status, out, err = run(["train", "--resume", path, "--epochs", 2], capsys)
    assert status == 2 and out == ""
    assert one_error_line(err) == (f"bprop: error: {path}: the saved adam state 'm0' has shape "
                                   f"(16, 30); the network needs (30, 16)")


@pytest.mark.parametrize("command", [pytest.param("plot", marks=needs_matplotlib), "report"])
def test_a_history_file_that_is_not_one_is_named(command, tmp_path, capsys):
    from bprop import save
    save(Network([4, 3, 2], rng=0), tmp_path / "plain.npz")
    (tmp_path / "plain.history.json").write_text("[1, 2]")
    status, _, err = run([command, tmp_path / "plain.npz", "--out", tmp_path / "out"], capsys)
    assert status == 2
    line = one_error_line(err)
    assert line.startswith(f"bprop: error: {tmp_path / 'plain.history.json'} is not a bprop "
                           f"history file (a history must be a JSON object; got list)")


def test_a_checkpoint_that_cannot_be_written_says_what_the_file_holds(data, tmp_path, capsys,
                                                                       monkeypatch):
    real_save, calls = checkpoint.write, []

    def save(*args, **kw):
        calls.append(kw["epoch"])
        if kw["epoch"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(*args, **kw)
    monkeypatch.setattr(checkpoint, "write", save)
    path = tmp_path / "m.npz"
    status, out, err = run(["train", "--dataset", data, "--epochs", 3, "--save", path,
                            "--quiet"], capsys)
    assert status == 1 and calls == [1, 2]
    assert out.splitlines()[0].startswith("epoch 1/3") and len(out.splitlines()) == 1
    assert one_error_line(err) == (f"bprop: error: cannot save epoch 2 to {path}: No space left "
                                   f"on device; the file still holds epoch 1")
    assert load_checkpoint(path).epoch == 1


def test_a_model_with_a_stored_data_dir_its_data_set_ignores_still_loads(data, tmp_path,
                                                                         capsys):
    """Older versions stored --data-dir for any data set; it is ignored where unused."""
    path = tmp_path / "m.npz"
    run_quietly(["train", "--dataset", data, "--epochs", 1, "--save", path, "--quiet"])
    with np.load(path, allow_pickle=False) as d:
        arrays = {k: d[k] for k in d.files}
    meta = json.loads(str(arrays["meta"]))
    meta["dataset"]["data_dir"] = str(tmp_path / "somewhere")
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)
    for command in (["evaluate", path], ["train", "--resume", path, "--epochs", 2, "--quiet"]):
        status, _, err = run(command, capsys)
        assert status == 0, err
    status, _, err = run(["evaluate", path, "--data-dir", tmp_path], capsys)   # given: refused
    assert status == 2 and "is only for mnist and fashion" in one_error_line(err)


def test_resume_after_the_data_file_moved(tmp_path, capsys):
    (tmp_path / "a").mkdir()
    old = make_npz(tmp_path / "a" / "d.npz")
    path = tmp_path / "m.npz"
    run_quietly(["train", "--dataset", old, "--epochs", 1, "--save", path, "--quiet"])
    new = tmp_path / "b"
    (tmp_path / "a").rename(new)
    status, _, err = run(["train", "--resume", path, "--epochs", 2], capsys)
    assert status == 2 and "no such file" in one_error_line(err)
    status, out, err = run(["train", "--resume", path, "--epochs", 2, "--dataset",
                            new / "d.npz"], capsys)
    assert status == 0, err
    assert f"data set {old} is gone; continuing on {new / 'd.npz'}" in err
    assert out.startswith("epoch 2/2")


def _data_name(path):
    return load_checkpoint(path).meta["dataset"]["name"]


def test_resume_accepts_repeating_the_original_flags(model, tmp_path, capsys):
    status, out, err = run(["train", "--resume", model, "--hidden", 30, "--activation",
                            "sigmoid", "--epochs", 6, "--save", tmp_path / "c.npz"], capsys)
    assert status == 0, err
    assert out.startswith("epoch 6/6")


def test_resume_with_nothing_left_to_train(model, tmp_path, capsys):
    copy = tmp_path / "copy.npz"
    status, out, err = run(["train", "--resume", model, "--save", copy], capsys)
    assert status == 0 and out == ""
    assert "nothing to train" in err
    assert load_checkpoint(copy).epoch == 5
    # fewer --epochs than it holds: the copy still says 5 of 5, not "epoch 5/3"
    status, out, err = run(["train", "--resume", model, "--epochs", 3, "--save", copy,
                            "--overwrite"], capsys)
    assert status == 0 and "already holds 5 epochs, more than --epochs 3" in err
    assert load_checkpoint(copy).meta["config"]["epochs"] == 5


def test_resume_in_place_with_fewer_epochs_changes_nothing_and_says_so(model, tmp_path,
                                                                       capsys):
    copy = tmp_path / "same.npz"
    copy.write_bytes(Path(model).read_bytes())
    status, out, err = run(["train", "--resume", copy, "--epochs", 2], capsys)
    assert status == 0 and out == ""
    assert one_error_line(err).endswith("already holds 5 epochs, more than --epochs 2 (raise "
                                        "--epochs to continue)")
    assert copy.read_bytes() == Path(model).read_bytes()
    status, _, err = run(["train", "--resume", copy, "--epochs", 2, "--quiet"], capsys)
    assert status == 0 and err == ""


@pytest.mark.parametrize("argv,message", [
    (["--epochs", "0"], "--epochs must be at least 1"),
    (["--save", ""], "--save needs a path; got an empty string"),
    (["--data-dir", " "], "argument --data-dir: must not be empty"),
    (["--dataset", ""], "argument --dataset: must not be empty"),
    (["--shift", "-1"], "--shift must be an integer >= 0; got -1"),
    (["--validation", "-5"], "--validation must be >= 0; got -5"),
    (["--validation", "0.99999"], "--validation=0.99999 holds out"),
])
def test_train_flags_that_would_do_nothing(argv, message, data, capsys):
    status, _, err = run(["train", "--dataset", data, *argv], capsys)
    assert status == 2 and message in one_error_line(err)


def test_help_on_a_console_without_unicode(tmp_path):
    """η, λ and ½ in --help become '?' on an ASCII console, not a traceback."""
    env = dict(os.environ, PYTHONIOENCODING="ascii")
    out = subprocess.run([sys.executable, "-m", "bprop", "train", "--help"], capture_output=True,
                         text=True, env=env, cwd=tmp_path, encoding="ascii", errors="strict")
    assert out.returncode == 0 and out.stderr == "" and "--lmbda" in out.stdout


def test_data_dir_is_stored_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, y = np.zeros((3, 2)), np.zeros(3, int)
    data = types.SimpleNamespace(name="mnist", n_classes=10, image_shape=None, X_train=X,
                                 y_train=y, X_val=None, y_val=None, X_test=X, y_test=y)
    assert dataset_record("mnist", data, data_dir="rel")["data_dir"] == str(tmp_path / "rel")


def test_resume_of_a_plain_model_is_refused(tmp_path, capsys):
    from bprop.io import save
    path = tmp_path / "plain.npz"
    save(Network([16, 4, 4], rng=0), path)
    status, _, err = run(["train", "--resume", path], capsys)
    assert status == 2 and "not a training checkpoint" in err


# -- Ctrl-C -----------------------------------------------------------------------------------------
def test_ctrl_c_in_epoch_2_leaves_epoch_1_and_resumes_exactly(data, tmp_path, capsys,
                                                              monkeypatch):
    common = ["train", "--dataset", data, "--hidden", 10, "--quiet"]
    full = tmp_path / "full.npz"
    assert run([*common, "--epochs", 3, "--save", full], capsys)[0] == 0
    one = tmp_path / "one.npz"
    assert run([*common, "--epochs", 1, "--save", one], capsys)[0] == 0

    batches_per_epoch = 16                       # 160 training examples, mini-batches of 10
    original = backprop.backprop_batch
    calls = []

    def interrupt_in_epoch_2(*args, **kw):
        calls.append(1)
        if len(calls) == batches_per_epoch + 5:
            raise KeyboardInterrupt
        return original(*args, **kw)

    monkeypatch.setattr(backprop, "backprop_batch", interrupt_in_epoch_2)
    path = tmp_path / "m.npz"
    status, out, err = run([*common, "--epochs", 3, "--save", path], capsys)
    monkeypatch.undo()
    assert status == 130
    assert out.count("\n") == 1                  # epoch 1's line only
    assert f"{path} holds epoch 1 of 3; continue with: bprop train --resume {path}" in err
    ck = load_checkpoint(path)
    assert ck.epoch == 1 and len(ck.meta["history"]["records"]) == 1
    for p, q in zip(params(path), params(one)):
        assert np.array_equal(p, q)
    assert run(["train", "--resume", path], capsys)[0] == 0       # to the checkpoint's 3 epochs
    for p, q in zip(params(path), params(full)):
        assert np.array_equal(p, q)


def test_ctrl_c_while_saving_keeps_the_previous_checkpoint(data, tmp_path, capsys, monkeypatch):
    calls = []
    real_fsync = os.fsync

    def fsync(fd):
        calls.append(fd)
        if len(calls) == 4:          # per epoch: model, history .json, history .csv
            raise KeyboardInterrupt
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    path = tmp_path / "m.npz"
    status, _, err = run(["train", "--dataset", data, "--epochs", 3, "--save", path,
                          "--quiet"], capsys)
    monkeypatch.undo()
    assert status == 130 and "holds epoch 1 of 3" in err
    assert load_checkpoint(path).epoch == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.history.csv", "m.history.json",
                                                          "m.npz"]


def test_ctrl_c_during_a_save_still_prints_the_saved_epochs_line(data, tmp_path, capsys,
                                                                   monkeypatch):
    """The note says which epoch the file holds; the last printed line is that epoch."""
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("another SIGINT handler is installed")
    real = checkpoint.save_history
    calls = []

    def save_history(*args, **kwargs):
        real(*args, **kwargs)
        calls.append(1)
        if len(calls) == 2:                        # epoch 2 is on disk, its line not printed
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(checkpoint, "save_history", save_history)
    path = tmp_path / "m.npz"
    status, out, err = run(["train", "--dataset", data, "--epochs", 5, "--save", path],
                           capsys)
    assert status == 130 and "holds epoch 2 of 5" in err
    assert out.splitlines()[-1].startswith("epoch 2/5")


def test_ctrl_c_without_save(data, capsys, monkeypatch):
    monkeypatch.setattr(cli.train, "train", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt))
    status, _, err = run(["train", "--dataset", data], capsys)
    assert status == 130 and "Nothing was saved (no --save)" in err


def test_ctrl_c_on_resume_before_an_epoch_ends(model, tmp_path, capsys, monkeypatch):
    copy = tmp_path / "copy.npz"
    copy.write_bytes(model.read_bytes())
    monkeypatch.setattr(cli.train, "train", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt))
    status, _, err = run(["train", "--resume", copy, "--epochs", 9], capsys)
    assert status == 130 and f"{copy} holds epoch 5 of 9" in err


def test_ctrl_c_is_held_until_a_checkpoint_is_complete():
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("another SIGINT handler is installed")
    done = []
    with pytest.raises(KeyboardInterrupt):
        with held_stops():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.01)
            done.append("saved")
    assert done == ["saved"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_sigint_end_to_end(data, tmp_path):
    path = tmp_path / "m.npz"
    status, err = stop_a_training_run(data, path, signal.SIGINT)
    assert status == 130, err
    assert "Traceback" not in err and "interrupted" in err
    ck = load_checkpoint(path)
    assert ck.epoch >= 1 and len(ck.meta["history"]["records"]) == ck.epoch
    assert f"holds epoch {ck.epoch} of 100000" in err


def _processes_running(text):
    """Live processes whose command line contains ``text``."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().decode(errors="replace")
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(int(entry))
    return found


def test_ctrl_c_with_workers_stops_every_process(data, tmp_path):
    from bprop.training.parallel import available_cpus
    if not (sys.platform.startswith("linux") and available_cpus() >= 2):
        pytest.skip("needs Linux with at least 2 CPUs")
    path = tmp_path / "m.npz"
    status, err = stop_a_training_run(data, path, signal.SIGINT, "--workers", "2",
                                      "--mini-batch-size", "20", group=True)
    assert status == 130, err
    assert "Traceback" not in err and "interrupted" in err
    ck = load_checkpoint(path)
    assert f"holds epoch {ck.epoch} of 100000" in err
    assert _processes_running(str(path)) == []


def test_train_with_workers(data, tmp_path, capsys):
    from bprop.training.parallel import available_cpus
    if not (sys.platform.startswith("linux") and available_cpus() >= 2):
        pytest.skip("needs Linux with at least 2 CPUs")
    paths = [tmp_path / "one.npz", tmp_path / "two.npz"]
    for path, workers in zip(paths, ("1", "2")):
        status, out, err = run(["train", "--dataset", data, "--epochs", 2, "--mini-batch-size",
                                20, "--workers", workers, "--save", path], capsys)
        assert status == 0, err
        assert ("2 worker processes" in err) == (workers == "2")
    for a, b in zip(params(paths[0]), params(paths[1])):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_a_worker_that_cannot_start_is_one_line(data, tmp_path, capsys, monkeypatch):
    from bprop.training.parallel import available_cpus
    if not (sys.platform.startswith("linux") and available_cpus() >= 2):
        pytest.skip("needs Linux with at least 2 CPUs")

    def no_more_processes():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_more_processes)
    status, _, err = run(["train", "--dataset", data, "--epochs", 2, "--workers", 2, "--quiet"],
                         capsys)
    assert status == 1
    assert one_error_line(err) == ("bprop: error: could not start a training worker process: "
                                   "Resource temporarily unavailable. Nothing was saved (no "
                                   "--save).")


@pytest.mark.parametrize("value, message", [
    ("0", "argument --workers: expected an integer >= 1; got 0"),
    ("two", "argument --workers: expected an integer >= 1; got 'two'"),
    ("100000", "--workers 100000 is more than the")])
def test_workers_checked_before_the_data(value, message, tmp_path, capsys):
    status, _, err = run(["train", "--dataset", tmp_path / "missing.npz", "--workers", value],
                         capsys)
    assert status == 2 and message in one_error_line(err)


# -- end to end ---------------------------------------------------------------------------------
def test_python_dash_m_bprop(data, tmp_path):
    path = tmp_path / "m.npz"
    done = run_module("train", "--dataset", data, "--epochs", 2, "--save", path)
    assert done.returncode == 0, done.stderr
    assert all(LINE.match(line) for line in done.stdout.splitlines())
    done = run_module("evaluate", path)
    assert done.returncode == 0 and "accuracy" in done.stdout
    done = run_module("train", "--dataset", data, "--activation", "sigmod")
    assert done.returncode == 2
    assert "unknown activation 'sigmod'" in one_error_line(done.stderr)


# -- evaluate, info, gradcheck --------------------------------------------------------------------
def test_evaluate_names_the_classes_where_the_data_set_has_names(model, capsys, monkeypatch):
    from bprop import datasets
    status, plain, _ = run(["evaluate", model], capsys)
    assert status == 0 and "  name" not in plain
    # class names come by the kind of data set load() resolved ("fashion" when built in);
    # give the .npz kind some for this test
    monkeypatch.setitem(datasets.CLASS_NAMES, "npz", ("ant", "bee", "cat", "dog"))
    status, out, _ = run(["evaluate", model], capsys)
    assert status == 0
    assert "class  accuracy  correct  total  name" in out
    table = out.split("total  name\n")[1].split("\n\n")[0].splitlines()
    assert [line.split()[-1] for line in table] == ["ant", "bee", "cat", "dog"]
    assert datasets.CLASS_NAMES["fashion"][9] == "Ankle boot"


def test_evaluate_prints_accuracy_per_class_and_confusion(model, capsys):
    status, out, err = run(["evaluate", model], capsys)
    assert status == 0, err
    assert re.search(r"^accuracy [01]\.\d{4}  \(\d+ / 40\)$", out, re.M)
    assert "class  accuracy  correct  total" in out and "confusion matrix" in out
    rows = out.split("predicted class)\n")[1].splitlines()[1:]
    confusion = np.array([[int(v) for v in row.split()[1:]] for row in rows])
    assert confusion.shape == (4, 4) and confusion.sum() == 40


def test_evaluate_json(model, capsys):
    status, out, _ = run(["evaluate", model, "--json"], capsys)
    assert status == 0
    result = json.loads(out)
    confusion = np.array(result["confusion"])
    assert confusion.sum() == result["examples"] == 40
    assert np.trace(confusion) == result["correct"]
    assert result["accuracy"] == result["correct"] / 40
    assert len(result["per_class_accuracy"]) == 4


def test_evaluate_keeps_the_models_validation_split_when_dataset_names_its_data(
        data, tmp_path, capsys):
    path = tmp_path / "v.npz"
    run_quietly(["train", "--dataset", data, "--epochs", 1, "--validation", 40,
                 "--save", path, "--quiet"])
    counts = {}
    for extra in ([], ["--dataset", data]):
        for split in ("train", "validation"):
            status, out, err = run(["evaluate", path, "--split", split, "--json", *extra],
                                   capsys)
            assert status == 0, err
            counts[(bool(extra), split)] = json.loads(out)["examples"]
    assert counts[(False, "validation")] == counts[(True, "validation")] == 40
    assert counts[(False, "train")] == counts[(True, "train")]
    other = make_npz(tmp_path / "other.npz")
    status, _, err = run(["evaluate", path, "--dataset", other, "--split", "validation"],
                         capsys)
    assert status == 2
    assert "is not the data set" in one_error_line(err)


def test_evaluate_knows_its_data_set_by_any_alias(tmp_path, capsys):
    pytest.importorskip("sklearn")
    path = tmp_path / "d.npz"
    run_quietly(["train", "--dataset", "digits", "--validation", 300, "--hidden", 5,
                 "--epochs", 1, "--save", path, "--quiet"])
    status, out, err = run(["evaluate", path, "--dataset", "DIGITS", "--split", "validation",
                            "--json"], capsys)
    assert status == 0, err
    assert json.loads(out)["examples"] == 300


def test_evaluate_validation_split_needs_one(model, capsys):
    status, _, err = run(["evaluate", model, "--split", "validation"], capsys)
    assert status == 2 and "no validation split" in err


def test_info(model, capsys):
    status, out, _ = run(["info", model], capsys)
    assert status == 0
    assert re.search(r"^sizes\s+16 30 4$", out, re.M)
    assert re.search(r"^parameters\s+634$", out, re.M)              # 16*30+30 + 30*4+4
    assert re.search(r"^epochs done\s+5$", out, re.M)
    # no validation set: no "best epoch", which would be picked on the test set
    assert "epoch 5/5  running_cost" in out and "best " not in out
    status, out, _ = run(["info", model, "--json"], capsys)
    header = json.loads(out)
    assert header["n_params"] == 634 and header["epoch"] == 5 and "rng_state" not in header


def test_gradcheck_passes_and_reports_the_speed_ratio(capsys):
    status, out, err = run(["gradcheck", "--sizes", 4, 5, 3], capsys)
    assert status == 0, err
    assert re.search(r"^layer 2  weights \d\.\d\de-\d+  biases", out, re.M)
    assert re.search(r"^max_error \S+  tol 1e-06  ok$", out, re.M)
    assert re.search(r"ratio \d+\.\dx$", out, re.M)
    assert "86 passes" in out                          # two per parameter: 2 * 43


def test_gradcheck_says_how_long_a_long_check_takes_as_a_note(monkeypatch, capsys):
    monkeypatch.setattr("bprop.cli.gradcheck.gradcheck_seconds", lambda *args, **kwargs: 10.0)
    status, out, err = run(["gradcheck", "--sizes", 4, 5, 3], capsys)
    assert status == 0 and "  ok" in out
    assert err.strip() == "bprop: checking 43 parameters: about 10 s"      # not an error


def test_gradcheck_json_and_other_networks(capsys):
    status, out, _ = run(["gradcheck", "--sizes", 6, 5, 4, 3, "--activation", "tanh", "relu",
                          "--cost", "log-likelihood", "--examples", 3, "--json"], capsys)
    assert status == 0
    result = json.loads(out)
    assert result["ok"] and result["activations"] == ["tanh", "relu", "softmax"]
    assert [layer["layer"] for layer in result["layers"]] == [2, 3, 4]
    assert result["numeric_passes"] == 2 * result["n_params"] and result["speedup"] > 0


def test_gradcheck_failure_is_exit_1(capsys):
    status, _, err = run(["gradcheck", "--tol", 1e-300], capsys)
    assert status == 1 and "gradcheck failed" in err
    status, _, err = run(["gradcheck", "--tol", -1], capsys)
    assert status == 2 and "expected a positive number; got -1" in err


# -- plot and report (the modules are stand-ins here) --------------------------------------------
@needs_matplotlib
def test_plot_and_report_call_their_modules(model, monkeypatch, capsys):
    seen = {}

    def plot_run(run, out_dir, dataset=None):
        seen["plot"] = (run, out_dir)
        return [os.path.join(out_dir, "a.png"), os.path.join(out_dir, "b.png")]

    def write_report(run, out_path, dataset=None):
        seen["report"] = (run, out_path)
        return out_path

    monkeypatch.setitem(sys.modules, "bprop.plots",
                        types.SimpleNamespace(plot_run=plot_run, PLOT_NAMES=("a", "b")))
    monkeypatch.setitem(sys.modules, "bprop.report",
                        types.SimpleNamespace(write_report=write_report, is_report=None))
    stem = str(model)[:-len(".npz")]
    status, out, _ = run(["plot", model], capsys)
    assert status == 0 and out.splitlines() == [f"{stem}-plots/a.png", f"{stem}-plots/b.png"]
    assert seen["plot"] == (str(model), f"{stem}-plots")
    status, out, _ = run(["report", model, "--out", "r.html"], capsys)
    assert status == 0 and out.strip() == "r.html" and seen["report"] == (str(model), "r.html")


@needs_matplotlib
def test_train_plot_flag(data, tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setitem(sys.modules, "bprop.plots", types.SimpleNamespace(
        plot_run=lambda run, out_dir: calls.append((run, out_dir)) or ["x.png"]))
    path = tmp_path / "m.npz"
    status, _, err = run(["train", "--dataset", data, "--epochs", 1, "--save", path, "--plot",
                          tmp_path / "plots"], capsys)
    assert status == 0 and calls == [(str(path), str(tmp_path / "plots"))]
    assert "plot written to x.png" in err


def test_missing_optional_module(model, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "bprop.report", None)      # import raises
    status, _, err = run(["report", model], capsys)
    assert status == 2
    assert "bprop report needs bprop.report" in one_error_line(err)
    status, _, err = run(["report", "missing.npz"], capsys)
    assert status == 2 and "no such model file" in err


def test_missing_matplotlib_stops_plotting_before_any_work(data, model, tmp_path,
                                                           monkeypatch, capsys):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "matplotlib" else real_find_spec(name, *a))
    expected = ("needs the package 'matplotlib': pip install 'bprop[all]' "
                "(or pip install matplotlib)")
    status, out, err = run(["train", "--dataset", data, "--epochs", 1, "--save",
                            tmp_path / "m.npz", "--plot", tmp_path / "plots"], capsys)
    assert status == 2 and out == ""                         # no epoch was trained
    assert one_error_line(err) == f"bprop: error: --plot {expected}"
    status, out, err = run(["plot", model, "--out", tmp_path / "p2"], capsys)
    assert status == 2 and one_error_line(err) == f"bprop: error: bprop plot {expected}"
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no model, no empty folders


def test_plot_of_a_plain_model_says_why_nothing_was_drawn(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from bprop import save
    save(Network([64, 5, 3], rng=0), tmp_path / "plain.npz")
    status, out, err = run(["plot", tmp_path / "plain.npz", "--out", tmp_path / "p"], capsys)
    assert status == 0 and out == ""
    assert "first layer's weights skipped: the model file and its data do not give the " \
           "inputs an image shape" in err
    assert err.rstrip().endswith("no plot applies to this model file (the warnings above "
                                 "say why)")


@pytest.mark.parametrize("command", [pytest.param("plot", marks=needs_matplotlib), "report"])
def test_empty_out_path_is_refused(model, command, capsys):
    status, _, err = run([command, model, "--out", ""], capsys)
    assert status == 2
    assert one_error_line(err) == "bprop: error: --out needs a path; got an empty string"


# -- predict ----------------------------------------------------------------------------------------
def test_predict_takes_files_after_flags_and_names_an_empty_array(model, data, tmp_path,
                                                                   capsys):
    with np.load(data) as f:
        np.save(tmp_path / "v.npy", f["x_test"][0])
    status, before, _ = run(["predict", model, tmp_path / "v.npy", "--json"], capsys)
    assert status == 0
    status, after, err = run(["predict", model, "--json", tmp_path / "v.npy"], capsys)
    assert status == 0, err
    assert after == before
    status, _, err = run(["predict", model, "--cout", 3], capsys)
    assert status == 2 and "unrecognized arguments: --cout 3" in err     # 3 is not a FILE
    assert "(see 'bprop predict --help')" in err
    np.save(tmp_path / "empty.npy", np.zeros((0, 16)))
    status, _, err = run(["predict", model, tmp_path / "empty.npy"], capsys)
    assert status == 2
    assert one_error_line(err) == "bprop: error: empty.npy is an empty array (shape (0, 16))"


def test_predict_npy_vector_and_image(model, data, tmp_path, capsys):
    with np.load(data) as f:
        x_test = f["x_test"]
    net = load_checkpoint(model).net
    expected = net.predict(x_test[:2])
    np.save(tmp_path / "v.npy", x_test[0])
    np.save(tmp_path / "img.npy", x_test[1].reshape(4, 4))      # the model's own image shape
    status, out, err = run(["predict", model, tmp_path / "v.npy", tmp_path / "img.npy"], capsys)
    assert status == 0, err
    lines = out.splitlines()
    # the file names padded to one width, so the columns line up
    assert lines[0].startswith(f"{tmp_path / 'v.npy'}    predicted {expected[0]}  probability 0.")
    assert lines[0].index("predicted") == lines[1].index("predicted")
    assert f"predicted {expected[1]}  " in lines[1]
    status, out, _ = run(["predict", model, tmp_path / "v.npy", "--json"], capsys)
    result = json.loads(out)
    assert result["predicted"] == expected[0] and abs(sum(result["scores"]) - 1) < 1e-9
    # integers 0..16 (scikit-learn's raw digits) are not bytes: read as bytes, with a warning
    np.save(tmp_path / "raw.npy", np.arange(16).reshape(4, 4) + 1)
    status, out, err = run(["predict", model, tmp_path / "raw.npy"], capsys)
    assert status == 0 and "the values in raw.npy are integers 0..16, read as pixel bytes" in err
    # a picture of another shape is stretched to peak 1 anyway: no warning
    picture = np.zeros((12, 12), int)
    picture[2:10, 5:7] = 16
    np.save(tmp_path / "pic.npy", picture)
    status, out, err = run(["predict", model, tmp_path / "pic.npy"], capsys)
    assert status == 0 and "pixel bytes" not in err, err


def test_predict_npy_row_and_column_are_vectors_and_batches_are_refused(model, data,
                                                                       tmp_path, capsys):
    """(1, n) and (n, 1) arrays are the example itself, not a picture to crop and resize."""
    with np.load(data) as f:
        x = f["x_test"][:3]
    expected = load_checkpoint(model).net.predict(x[:1])[0]
    np.save(tmp_path / "row.npy", x[:1])
    np.save(tmp_path / "col.npy", x[0].reshape(-1, 1))
    for name in ("row.npy", "col.npy"):
        status, out, err = run(["predict", model, tmp_path / name, "--json"], capsys)
        assert status == 0, err
        assert json.loads(out)["predicted"] == expected
    np.save(tmp_path / "rows.npy", x)
    status, _, err = run(["predict", model, tmp_path / "rows.npy"], capsys)
    assert status == 2
    assert "rows.npy holds 3 rows of 16 values; give one example per file" in one_error_line(err)


def test_predict_refuses_inputs_that_do_not_fit(model, tmp_path, capsys):
    np.save(tmp_path / "short.npy", np.zeros(10))
    status, _, err = run(["predict", model, tmp_path / "short.npy"], capsys)
    assert status == 2
    assert "short.npy holds a vector of 10 values; the model takes 16" in one_error_line(err)
    status, _, err = run(["predict", model, tmp_path / "nope.png"], capsys)
    assert status == 2 and "no such file" in one_error_line(err)
    status, _, err = run(["predict", model], capsys)
    assert status == 2 and "nothing to predict" in one_error_line(err)


def test_predict_unreadable_picture(model, tmp_path, capsys):
    pytest.importorskip("PIL")
    (tmp_path / "x.png").write_bytes(b"not a png at all")
    status, _, err = run(["predict", model, tmp_path / "x.png"], capsys)
    assert status == 2 and "x.png is not an image Pillow can read" in one_error_line(err)


def test_predict_errors_name_the_file(model, tmp_path, capsys):
    np.save(tmp_path / "blank.npy", np.zeros((9, 9)))        # a picture with no ink
    np.save(tmp_path / "ok.npy", np.zeros(16))
    status, _, err = run(["predict", model, tmp_path / "ok.npy", tmp_path / "blank.npy"],
                         capsys)
    assert status == 2
    assert one_error_line(err).endswith(f"{tmp_path / 'blank.npy'}: the image is blank: no "
                                        f"ink differs from the background")


def test_predict_png_needs_a_square_input(tmp_path, capsys):
    pil = pytest.importorskip("PIL.Image")
    from bprop.io import save
    path = tmp_path / "m.npz"
    save(Network([10, 3], rng=0), path)
    pil.fromarray(np.zeros((20, 20), np.uint8)).save(tmp_path / "x.png")
    status, _, err = run(["predict", path, tmp_path / "x.png"], capsys)
    assert status == 2
    assert "10 inputs, not a square image" in one_error_line(err)


def test_predict_dataset_examples(model, capsys):
    status, out, _ = run(["predict", model, "--count", 3], capsys)
    assert status == 0
    lines = out.splitlines()
    assert len(lines) == 4
    assert re.match(r"^test\[0\]  predicted \d  probability \d\.\d{4}  true \d  correct (yes|no)$",
                    lines[0])
    assert re.match(r"^correct \d / 3$", lines[-1])


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    pytest.importorskip("sklearn")
    path = tmp_path_factory.mktemp("digits") / "digits.npz"
    run_quietly(["train", "--dataset", "digits", "--epochs", 10, "--seed", 1, "--save", path,
                 "--quiet"])
    return path


def test_predict_png_of_a_digit(digits_model, tmp_path, capsys):
    pil = pytest.importorskip("PIL.Image")
    from bprop import datasets
    assert load_checkpoint(digits_model).meta["dataset"]["box"] == 8   # digits fill the frame
    data = datasets.load("digits")
    net = load_checkpoint(digits_model).net
    right = np.flatnonzero(net.predict(data.X_test) == data.y_test)[:10]
    files = []
    for i in right:
        # a "photo": 10x upscaled, dark ink on white paper, one of them with transparency
        img = 255 - np.round(255 * np.kron(data.X_test[i].reshape(8, 8), np.ones((10, 10))))
        img = img.astype(np.uint8)
        path = tmp_path / f"digit{i}.png"
        if len(files) == 1:
            rgba = np.zeros((80, 80, 4), np.uint8)
            rgba[..., 3] = 255 - img                         # black strokes, transparent paper
            pil.fromarray(rgba, "RGBA").save(path)
        else:
            pil.fromarray(img).save(path)
        files.append(path)
    status, out, err = run(["predict", digits_model, *files], capsys)
    assert status == 0, err
    predicted = [int(line.split("  predicted ")[1].split()[0]) for line in out.splitlines()]
    assert predicted[0] == data.y_test[right[0]]
    assert predicted[1] == data.y_test[right[1]]             # the transparent one
    assert np.mean(np.array(predicted) == data.y_test[right]) >= 0.9


def test_read_image_scales_16_bit_greyscale(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    from bprop.predict import read_image
    levels = np.arange(256, dtype=np.uint16).reshape(16, 16)
    paths = {}
    for bits, a in ((8, levels.astype(np.uint8)), (16, levels * 257)):
        paths[bits] = tmp_path / f"grey{bits}.png"
        pil.fromarray(a).save(paths[bits])
    assert pil.open(paths[16]).mode.startswith("I")           # really a 16-bit file
    # 257 * k / 65535 == k / 255: the same grey levels as the 8-bit file, not clipped to 0/1
    np.testing.assert_allclose(read_image(paths[16]), read_image(paths[8]), atol=1e-15)
    assert read_image(paths[8])[0, 1] == pytest.approx(1 / 255)


def test_read_image_refuses_pictures_without_a_known_white_level(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    from bprop.predict import read_image
    for name, a in (("int32.tif", np.arange(64, dtype=np.int32).reshape(8, 8) * 10**6),
                    ("float.tif", np.linspace(0, 3, 64, dtype=np.float32).reshape(8, 8))):
        pil.fromarray(a).save(tmp_path / name)
        with pytest.raises(DataError, match=f"{name} has .* pixels, whose white level"):
            read_image(tmp_path / name)


def test_read_image_turns_a_photo_by_its_exif_orientation(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    from bprop.predict import read_image
    upright = np.full((6, 10), 255, np.uint8)
    upright[1, 2:8] = 0                                         # a horizontal stroke
    stored = np.rot90(upright)                                  # kept a quarter turn anticlockwise
    exif = pil.Exif()
    exif[0x0112] = 6                                            # Orientation: rotate 90° CW to show
    pil.fromarray(np.ascontiguousarray(stored)).save(tmp_path / "photo.png", exif=exif)
    pil.fromarray(np.ascontiguousarray(stored)).save(tmp_path / "plain.png")
    np.testing.assert_array_equal(read_image(tmp_path / "photo.png"), upright / 255.0)
    assert read_image(tmp_path / "plain.png").shape == (10, 6)   # no tag: left as stored


def test_predict_prints_a_huge_unbounded_output_in_exponent_notation(tmp_path, capsys):
    net = Network([4, 3], "identity", rng=0)
    net.weights[0][:] = 1e150
    net.save(tmp_path / "huge.npz")
    np.save(tmp_path / "v.npy", np.full(4, 0.5))
    status, out, _ = run(["predict", tmp_path / "huge.npz", tmp_path / "v.npy"], capsys)
    assert status == 0 and out.strip().endswith("predicted 0  output 2e+150")


def test_predict_show_draws_the_input(digits_model, capsys):
    status, out, _ = run(["predict", digits_model, "--count", 1, "--show"], capsys)
    assert status == 0
    assert len(out.splitlines()) == 1 + 8 + 1 and "@" in out
    # with --json every line is still one JSON object; the drawing is a field of it
    status, out, _ = run(["predict", digits_model, "--count", 2, "--show", "--json"], capsys)
    records = [json.loads(line) for line in out.splitlines()]
    assert status == 0 and len(records) == 2
    assert len(records[0]["drawing"]) == 8 and all(len(row) == 16 for row in records[0]["drawing"])


# -- image preparation (bprop.predict) -----------------------------------------------------------
def test_prepare_image_fits_and_centres_like_mnist():
    img = np.full((100, 60), 255, np.uint8)          # white paper
    img[10:50, 5:15] = 0                             # a dark bar, 40 tall, 10 wide, off-centre
    x = prepare_image(img, 28)
    field = x.reshape(28, 28)
    assert x.min() >= 0 and x.max() == pytest.approx(1.0)
    rows, cols = np.flatnonzero(field.any(1)), np.flatnonzero(field.any(0))
    assert len(rows) == 20 and len(cols) == 5        # fitted into 20x20, aspect kept
    cy = np.arange(28) @ field.sum(1) / field.sum()
    cx = np.arange(28) @ field.sum(0) / field.sum()
    assert abs(cy - 13.5) <= 0.5 and abs(cx - 13.5) <= 0.5


def test_prepare_image_keeps_light_ink_on_black_and_takes_a_box():
    img = np.zeros((16, 16))
    img[4:12, 6:10] = 0.5                           # light on dark: not inverted, stretched to 1
    x = prepare_image(img, 8, box=8).reshape(8, 8)
    assert x.max() == 1.0 and np.count_nonzero(x.any(1)) == 8


def test_prepare_image_rejects_blank_and_bad_arrays():
    with pytest.raises(DataError, match="blank"):
        prepare_image(np.full((5, 5), 200, np.uint8), 28)
    with pytest.raises(ShapeError, match="2-D"):
        prepare_image(np.zeros(5), 28)


def _photo_of_a_seven(background, ink, size=400, noise=0.0, gradient=0.0, seed=0,
                      vignette=0.0):
    """A '7' (a bar and a slanted stroke, 24 px thick) on paper of grey level
    ``background`` (bytes), with Gaussian noise, a left-to-right lighting gradient, and
    light falling off toward the corners (to 1 - vignette of the centre's)."""
    radius2 = np.add.outer(np.linspace(-1, 1, size) ** 2, np.linspace(-1, 1, size) ** 2) / 2
    img = float(background) * (1.0 - vignette * radius2)
    img[80:104, 100:300] = ink
    for r in range(104, 330):
        c = int(300 - (r - 104) * 0.6)
        img[r, c - 12:c + 12] = ink
    img += gradient * np.linspace(-1, 1, size)[None, :]
    img += np.random.default_rng(seed).normal(0, noise, img.shape) if noise else 0
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("background,ink,noise,gradient,vignette", [
    (215, 0, 2, 0, 0), (215, 0, 3, 0, 0), (215, 0, 8, 0, 0), (215, 0, 2, 15, 0),  # noise, light
    (230, 0, 0, 0, 0.6), (230, 0, 3, 0, 0.5),           # corners at 40-50% of the centre
    (120, 20, 0, 0, 0), (120, 20, 4, 0, 0),             # dark ink on mid-grey paper
    (150, 250, 0, 0, 0),                                # chalk on a light-grey board
])
def test_prepare_image_of_a_photo_matches_the_clean_drawing(background, ink, noise, gradient,
                                                            vignette):
    """Stray noisy pixels and uneven light must not stretch the crop, and the ink decides
    the inversion, not the paper's grey level alone."""
    clean = prepare_image(_photo_of_a_seven(255, 0), 28).reshape(28, 28)
    photo = prepare_image(_photo_of_a_seven(background, ink, noise=noise, gradient=gradient,
                                            vignette=vignette), 28).reshape(28, 28)
    for field in (clean, photo):
        rows, cols = np.flatnonzero(field.max(1) > 0.3), np.flatnonzero(field.max(0) > 0.3)
        assert rows[-1] - rows[0] + 1 >= 19 and rows[0] >= 3    # the 7 fills the 20x20 box
        assert cols[0] >= 2 and cols[-1] <= 25                  # and stays inside the frame
    assert np.abs(photo - clean).mean() < 0.03 and np.abs(photo - clean).max() < 0.5


def test_prepare_image_of_thin_strokes_uneven_light_and_a_stray_pixel():
    """Review cases: a 1-pixel stroke on noisy paper (the 3x3 mean never clears the noise
    floor: it crashed), a strong left-to-right fall of light (called blank), and one bright
    pixel on noisy paper (blank, not a crop around it)."""
    rng = np.random.default_rng(0)
    thin = np.clip(0.7 + rng.normal(0, 0.06, (28, 28)), 0, 1)
    thin[4:24, 14] = 0.0
    field = prepare_image(thin, 28).reshape(28, 28)
    assert np.count_nonzero(field.max(0) > 0.5) <= 3 and np.count_nonzero(field.max(1) > 0.5) >= 18
    uneven = np.ones((28, 28)) * np.linspace(0.6, 1.0, 28)[None, :]
    uneven[5:23, 12:16] *= 0.2
    field = prepare_image(uneven, 28).reshape(28, 28)
    assert np.count_nonzero(field.max(1) > 0.5) >= 19           # the bar fills the box's height
    lone = np.clip(0.7 + rng.normal(0, 0.06, (28, 28)), 0, 1)
    lone[10, 10] = 0.0
    with pytest.raises(DataError, match="the image is blank"):
        prepare_image(lone, 28)


def test_resize_area_keeps_the_mean():
    a = np.random.default_rng(0).random((13, 7))
    for shape in ((5, 3), (20, 11), (13, 7)):
        assert resize_area(a, *shape).mean() == pytest.approx(a.mean())
    np.testing.assert_allclose(resize_area(a, 13, 7), a)


def test_typical_box():
    X = np.zeros((3, 28, 28))
    X[:, 4:24, 10:18] = 1.0
    assert typical_box(X.reshape(3, -1), (28, 28)) == 20


def test_read_input_npy_bytes_and_bad_values(tmp_path):
    np.save(tmp_path / "b.npy", np.arange(16, dtype=np.uint8) * 10)
    np.testing.assert_allclose(read_input(tmp_path / "b.npy", 16), np.arange(16) * 10 / 255)
    np.save(tmp_path / "neg.npy", -np.ones(16))
    with pytest.raises(DataError, match=r"values in \[0, 1\] or bytes"):
        read_input(tmp_path / "neg.npy", 16)


def test_progress_bar_without_tqdm(monkeypatch):
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    bar = Progress(tqdm=None, epoch=2, epochs=5)
    bar(50, 100)
    bar.close()
    text = err.getvalue()
    assert "epoch 2/5 [###############...............]  50%" in text
    assert text.endswith("\r")
    assert Progress.make(quiet=True, epoch=1, epochs=1).enabled is False


@pytest.mark.parametrize("content", ["", "a,b,label\n"])
def test_empty_csv_is_one_error_line(content, tmp_path, capsys):
    (tmp_path / "empty.csv").write_text(content)
    status, _, err = run(["train", "--dataset", tmp_path / "empty.csv", "--quiet"], capsys)
    assert status == 2
    assert one_error_line(err).endswith("empty.csv holds no data rows")


@pytest.mark.parametrize("cost,shown", [(0.1935, "cost 0.1935"), (0.0, "cost 0.0000"),
                                        (1.456e83, "cost 1.456e+83"), (3e-7, "cost 3e-07")])
def test_epoch_line_shows_any_cost_in_a_few_characters(cost, shown):
    from bprop.train import EpochRecord, TrainConfig
    record = EpochRecord(epoch=0, eta=1.0, seconds=0.1, train_cost=cost)
    assert f"  {shown}  " in epoch_line(record, 1, TrainConfig(epochs=3))


# -- nothing the user had is lost; paths checked before training ---------------------------------
def test_save_refuses_to_replace_an_existing_file_without_overwrite(model, data, tmp_path, capsys):
    copy = tmp_path / "m.npz"
    copy.write_bytes(model.read_bytes())
    status, out, err = run(["train", "--dataset", data, "--epochs", 1, "--save", copy], capsys)
    assert status == 2 and out == ""
    assert one_error_line(err) == (f"bprop: error: --save {copy} already exists (a model of 5 "
                                   f"epochs; continue it with --resume {copy}, or give "
                                   f"--overwrite to replace it)")
    assert copy.read_bytes() == model.read_bytes()
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    status, _, err = run(["train", "--dataset", data, "--epochs", 1, "--save", notes], capsys)
    assert status == 2 and "(a file that is not a bprop model give --overwrite" not in err
    assert "a file that is not a bprop model; give --overwrite to replace it" in err
    assert notes.read_text() == "my notes\n"
    status, _, err = run(["train", "--dataset", data, "--epochs", 1, "--save", copy,
                          "--overwrite", "--quiet"], capsys)
    assert status == 0, err
    assert load_checkpoint(copy).epoch == 1


def test_resume_saving_to_itself_or_a_new_copy_needs_no_overwrite(model, tmp_path, capsys):
    copy = tmp_path / "m.npz"
    copy.write_bytes(model.read_bytes())
    assert run(["train", "--resume", copy, "--epochs", 6, "--quiet"], capsys)[0] == 0
    assert run(["train", "--resume", copy, "--epochs", 7, "--save", copy, "--quiet"],
               capsys)[0] == 0
    assert load_checkpoint(copy).epoch == 7


@pytest.mark.parametrize("make, argv, message", [
    (None, ["--save", "{tmp}/newdir/"], "--save {tmp}/newdir/ is a directory; give a file name"),
    (lambda t: (t / "loop.npz").symlink_to(t / "loop.npz"), ["--save", "{tmp}/loop.npz"],
     "cannot write --save {tmp}/loop.npz: Too many levels of symbolic links"),
    (lambda t: (t / "m.history.json").mkdir(), ["--save", "{tmp}/m.npz"],
     "cannot write --save {tmp}/m.npz: {tmp}/m.history.json beside it is a directory"),
    (None, ["--save", "{tmp}/" + "b" * 250 + ".npz"],
     "the file {tmp}/" + "b" * 250 + ".history.json beside it is 263 bytes long; the file "
     "system allows 255"),
    (None, ["--save", "{tmp}/m.npz", "--plot", "{tmp}/m.npz"],
     "--plot {tmp}/m.npz is the path of {tmp}/m.npz, which this run writes"),
])
def test_save_paths_that_would_fail_after_an_epoch_fail_before_training(make, argv, message,
                                                                       data, tmp_path, capsys):
    if make is not None:
        make(tmp_path)
    if "--plot" in argv and importlib.util.find_spec("matplotlib") is None:
        pytest.skip("needs matplotlib")
    before = sorted(p.name for p in tmp_path.iterdir())
    argv = [a.format(tmp=tmp_path) for a in argv]
    status, out, err = run(["train", "--dataset", data, "--epochs", 1, *argv], capsys)
    assert status == 2 and out == ""
    assert message.format(tmp=tmp_path) in one_error_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == before       # nothing written


def test_a_long_name_the_file_system_allows_is_saved_with_its_history(data, tmp_path, capsys):
    """The temporary files beside a 241-byte name (history: 250) stay within 255 bytes."""
    path = tmp_path / ("b" * 237 + ".npz")
    status, _, err = run(["train", "--dataset", data, "--epochs", 1, "--save", path, "--quiet"],
                         capsys)
    assert status == 0, err
    assert load_checkpoint(path).epoch == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["b" * 237 + s for s in (".npz", ".history.json", ".history.csv")])


def test_report_out_may_not_replace_the_model_or_its_history(model, tmp_path, capsys):
    copy = tmp_path / "m.npz"
    copy.write_bytes(model.read_bytes())
    history = tmp_path / "m.history.json"
    history.write_bytes(Path(str(model)[:-4] + ".history.json").read_bytes())
    for out in (copy, history):
        before = out.read_bytes()
        status, stdout, err = run(["report", copy, "--out", out], capsys)
        assert status == 2 and stdout == ""
        assert one_error_line(err) == (f"bprop: error: --out {out} is {out}, which the "
                                       f"report is made from; give another name")
        assert out.read_bytes() == before


def test_resuming_a_run_that_stopped_early_trains_nothing_unless_its_patience_changes(
        data, tmp_path, capsys):
    path = tmp_path / "m.npz"
    status, _, err = run(["train", "--dataset", data, "--epochs", 30, "--validation", 40,
                          "--early-stopping", "--patience", 2, "--eta", 30, "--save", path,
                          "--quiet"], capsys)
    assert status == 0, err
    before, ck = path.read_bytes(), load_checkpoint(path)
    assert ck.epoch < 30 and ck.meta["history"]["stopped_early"]
    status, out, err = run(["train", "--resume", path], capsys)
    assert status == 0 and out == ""
    assert one_error_line(err) == (f"bprop: note: nothing to train: {path} stopped early after "
                                   f"epoch {ck.epoch} ({ck.meta['history']['stopped_early']}); "
                                   f"change --patience to go on")
    assert path.read_bytes() == before
    status, out, err = run(["train", "--resume", path, "--patience", 50, "--epochs",
                            ck.epoch + 2, "--quiet"], capsys)
    assert status == 0 and len(out.splitlines()) == 2, err
    after = load_checkpoint(path)
    assert after.epoch == ck.epoch + 2 and after.meta["history"]["stopped_early"] is None


def test_resume_keeps_recording_diagnostics(data, tmp_path, capsys):
    path = tmp_path / "m.npz"
    assert run(["train", "--dataset", data, "--epochs", 2, "--diagnostics", "--save", path,
                "--quiet"], capsys)[0] == 0
    assert run(["train", "--resume", path, "--epochs", 4, "--quiet"], capsys)[0] == 0
    records = load_checkpoint(path).meta["history"]["records"]
    assert len(records) == 4 and all(r["diagnostics"] for r in records)


@pytest.mark.parametrize("signame, status", [("SIGTERM", 143), ("SIGHUP", 129)])
def test_sigterm_and_sighup_stop_as_cleanly_as_ctrl_c(signame, status, data, tmp_path):
    if not hasattr(signal, signame):
        pytest.skip(f"no {signame} here")
    path = tmp_path / "m.npz"
    returncode, err = stop_a_training_run(data, path, getattr(signal, signame))
    assert returncode == status, err
    assert "Traceback" not in err and f"terminated ({signame})" in err
    ck = load_checkpoint(path)
    assert f"holds epoch {ck.epoch} of 100000" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.history.csv", "m.history.json",
                                                          "m.npz"]        # no temporary file


def test_a_stop_signal_during_a_save_is_held_until_the_save_is_done():
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        pytest.skip("another SIGTERM handler is installed")
    done = []
    with stopping_signals():
        with pytest.raises(KeyboardInterrupt) as stop:
            with held_stops():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.01)
                done.append("saved")
    assert done == ["saved"] and stop_status(stop.value) == 143
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_closed_stderr_neither_crashes_nor_writes_errors_to_stdout(data, tmp_path):
    env = _module_env()
    code = ("import os, sys; os.close(2); sys.stderr = None; from bprop import cli; "
            "sys.exit(cli.main(sys.argv[1:]))")
    ok = subprocess.run([sys.executable, "-c", code, "train", "--dataset", str(data),
                         "--epochs", "1"], env=env, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and LINE.match(ok.stdout.strip())
    bad = subprocess.run([sys.executable, "-c", code, "info", str(tmp_path / "none.npz")],
                         env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stdout == ""


def test_numpy_advice_for_python_callers_stays_out_of_errors(model, tmp_path, capsys):
    text = tmp_path / "x.npy"
    text.write_text("hello\n")
    status, _, err = run(["predict", model, text], capsys)
    assert status == 2
    assert one_error_line(err) == ("bprop: error: cannot read x.npy as a .npy array: it is not "
                                   "a NumPy file of numbers (NumPy would read it as pickled "
                                   "Python objects, which bprop does not load)")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("0.1,0.2,0\n0.3,1\n")
    status, _, err = run(["train", "--dataset", ragged], capsys)
    assert status == 2
    assert one_error_line(err).endswith("the number of columns changed from 3 to 2 at row 2")


def test_labels_that_are_ids_not_class_numbers_are_refused(tmp_path, capsys):
    rng = np.random.default_rng(0)
    rows = [f"{a:.3f},{b:.3f},{k}" for a, b, k in zip(rng.random(40), rng.random(40),
                                                       rng.integers(0, 2, 40))]
    rows[7] = rows[7].rsplit(",", 1)[0] + ",1000000000000"
    path = tmp_path / "ids.csv"
    path.write_text("\n".join(rows) + "\n")
    status, _, err = run(["train", "--dataset", path, "--epochs", 1], capsys)
    assert status == 2
    assert "the labels run up to 1,000,000,000,000, which would need 1,000,000,000,001 " \
           "outputs for the 3 label values that occur" in err.splitlines()[-1]


def test_a_picture_too_large_for_pillow_is_bad_input(model, tmp_path, capsys, monkeypatch):
    PIL = pytest.importorskip("PIL.Image")
    monkeypatch.setattr(PIL, "MAX_IMAGE_PIXELS", 1000)     # so a small file is "too large"
    path = tmp_path / "big.png"
    PIL.new("L", (100, 100), 255).save(path)
    status, _, err = run(["predict", model, path], capsys)
    assert status == 2
    assert one_error_line(err) == ("bprop: error: big.png is too large a picture to read "
                                   "(Pillow's limit is 2,000 pixels); scale it down first")


# -- review of the above: regressions and holes ---------------------------------------------------
def _binary_csv(path, n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 4))
    y = (X[:, 0] > X[:, 1]).astype(int)
    path.write_text("".join(",".join(f"{v:.4f}" for v in row) + f",{k}\n" for row, k in zip(X, y)))
    return path


def test_a_one_output_model_works_with_the_commands_on_two_class_data(tmp_path, capsys):
    from bprop.datasets import load
    csv = _binary_csv(tmp_path / "bin.csv")
    d = load(csv)
    net = Network([4, 5, 1], cost="cross-entropy", init="scaled-normal", rng=0)
    net.fit(d.X_train, d.y_train, epochs=30, eta=0.5)
    path = tmp_path / "one.npz"
    net.save(path)
    status, out, err = run(["evaluate", path, "--dataset", csv], capsys)
    assert status == 0, err
    assert f"accuracy {net.score(d.X_test, d.y_test):.4f}" in out
    status, out, err = run(["predict", path, "--dataset", csv, "--count", 5], capsys)
    assert status == 0, err
    want = net.predict(d.X_test[:5])
    assert [int(re.search(r"predicted (\d)", line)[1]) for line in out.splitlines()[:5]] == \
        list(want)


def test_a_run_stopped_by_a_callback_resumes(data, tmp_path, capsys):
    from bprop import TrainConfig, train
    from bprop.datasets import load
    from bprop.io import save
    d = load(data)
    net = Network([16, 30, 4], rng=0)
    config = TrainConfig(epochs=5)
    h = train(net, d.X_train, d.y_train, config, on_epoch_end=lambda r: r.epoch == 1)
    assert h.stopped_early == "stopped by callback"
    path = tmp_path / "cb.npz"
    save(net, path, config=config, history=h, epoch=2,
         extra={"dataset": dataset_record(str(data), d)})
    status, out, err = run(["train", "--resume", path, "--quiet"], capsys)
    assert status == 0 and len(out.splitlines()) == 3, err        # epochs 3 to 5
    assert load_checkpoint(path).epoch == 5


def test_a_stopped_run_saved_to_itself_by_another_name_is_not_rewritten(data, tmp_path, capsys,
                                                                        monkeypatch):
    path = tmp_path / "m.npz"
    assert run(["train", "--dataset", data, "--epochs", 30, "--validation", 40,
                "--early-stopping", "--patience", 2, "--eta", 30, "--save", path, "--quiet"],
               capsys)[0] == 0
    before = path.read_bytes()
    monkeypatch.chdir(tmp_path)
    status, _, err = run(["train", "--resume", path, "--save", "./m.npz", "--epochs", 99,
                          "--eta", 0.01], capsys)
    assert status == 0 and "nothing to train" in err and "model saved" not in err
    assert path.read_bytes() == before
    copy = tmp_path / "copy.npz"                     # a copy keeps the run's own settings
    assert run(["train", "--resume", path, "--save", copy, "--eta", 0.01, "--quiet"],
               capsys)[0] == 0
    assert load_checkpoint(copy).meta["config"]["eta"] == 30


def test_no_diagnostics_turns_them_off_on_resume(data, tmp_path, capsys):
    path = tmp_path / "m.npz"
    assert run(["train", "--dataset", data, "--epochs", 1, "--diagnostics", "--save", path,
                "--quiet"], capsys)[0] == 0
    assert run(["train", "--resume", path, "--epochs", 2, "--no-diagnostics", "--quiet"],
               capsys)[0] == 0
    records = load_checkpoint(path).meta["history"]["records"]
    assert records[0]["diagnostics"] and not records[1]["diagnostics"]


def test_save_into_an_empty_file_such_as_mktemps_is_allowed(data, tmp_path, capsys):
    path = tmp_path / "tmpabc.npz"
    path.write_bytes(b"")
    status, _, err = run(["train", "--dataset", data, "--epochs", 1, "--save", path, "--quiet"],
                         capsys)
    assert status == 0, err
    assert load_checkpoint(path).epoch == 1


def test_save_refuses_to_replace_another_runs_history(data, tmp_path, capsys):
    first = tmp_path / "m.npz"
    assert run(["train", "--dataset", data, "--epochs", 1, "--save", first, "--quiet"],
               capsys)[0] == 0
    history = (tmp_path / "m.history.json").read_bytes()
    other = tmp_path / "m.ckpt"
    status, _, err = run(["train", "--dataset", data, "--epochs", 1, "--save", other], capsys)
    assert status == 2
    assert one_error_line(err) == (f"bprop: error: --save {other} would replace "
                                   f"{tmp_path / 'm.history.json'}, another run's history; "
                                   f"give --overwrite to replace it, or another name")
    assert (tmp_path / "m.history.json").read_bytes() == history


def test_save_over_a_model_that_is_not_a_checkpoint_does_not_advise_resume(data, tmp_path,
                                                                           capsys):
    path = tmp_path / "py.npz"
    Network([16, 5, 4], rng=0).save(path)
    status, _, err = run(["train", "--dataset", data, "--epochs", 1, "--save", path], capsys)
    assert status == 2
    assert one_error_line(err) == (f"bprop: error: --save {path} already exists (a bprop "
                                   f"model; give --overwrite to replace it)")


def test_a_stop_with_stderr_gone_still_exits_with_the_stop_status(data, tmp_path, capsys,
                                                                  monkeypatch):
    """After SIGHUP the terminal is gone: writing the note fails (EIO), the exit status
    must still say how the run stopped."""
    class Gone(io.StringIO):
        def write(self, s):
            raise OSError(errno.EIO, "Input/output error")
    monkeypatch.setattr(cli.train, "train", lambda *a, **k: (_ for _ in ()).throw(
        Terminated(signal.SIGHUP)))
    monkeypatch.setattr(sys, "stderr", Gone())
    assert cli.main(["train", "--dataset", str(data), "--quiet"]) == 129


def test_resuming_an_older_checkpoint_with_momentum_and_lmbda_says_the_rule_changed(
        data, tmp_path, capsys):
    path = tmp_path / "m.npz"
    assert run(["train", "--dataset", data, "--epochs", 1, "--optimizer", "momentum",
                "--lmbda", 5, "--save", path, "--quiet"], capsys)[0] == 0
    status, _, err = run(["train", "--resume", path, "--epochs", 2], capsys)
    assert status == 0 and "older bprop" not in err
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays["meta"]))
    del meta["regularisation"]                       # as files written before the change
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)
    status, _, err = run(["train", "--resume", path, "--epochs", 3], capsys)
    assert status == 0
    assert "was trained by an older bprop that applied --lmbda/--l1 outside momentum's update" \
        in err


# -- a user's session (review): partial predictions, info, messages -------------------------------
def test_predict_classifies_the_files_it_can_and_names_the_others(model, data, tmp_path, capsys):
    with np.load(data) as f:
        x_test = f["x_test"]
    expected = load_checkpoint(model).net.predict(x_test[:2])
    np.save(tmp_path / "a.npy", x_test[0])
    np.save(tmp_path / "bad.npy", np.zeros(5))                      # the wrong size
    np.save(tmp_path / "b.npy", x_test[1])
    status, out, err = run(["predict", model, tmp_path / "a.npy", tmp_path / "bad.npy",
                            tmp_path / "b.npy"], capsys)
    assert status == 2
    lines = out.splitlines()
    assert len(lines) == 2 and f"predicted {expected[0]}" in lines[0] and \
        f"predicted {expected[1]}" in lines[1]
    assert "bad.npy" in one_error_line(err)


def test_info_shows_a_history_saved_without_settings(tmp_path, capsys):
    from bprop.io import save
    rng = np.random.default_rng(0)
    net = Network([3, 4, 2], rng=0)
    h = net.fit(rng.random((20, 3)), np.arange(20) % 2, epochs=2)
    save(net, tmp_path / "py.npz", history=h)
    status, out, _ = run(["info", tmp_path / "py.npz"], capsys)
    assert status == 0
    assert "history" in out.splitlines() and "  epoch 2/2  running_cost " in out


def test_messages_a_session_found_wrong(data, tmp_path, capsys):
    status, _, err = run(["gradcheck", "--sizes", 5, 4, 1, "--cost", "log-likelihood"], capsys)
    assert status == 2
    assert one_error_line(err) == ("bprop: error: the log-likelihood cost needs at least 2 "
                                   "outputs (a softmax layer); for one output use cross-entropy")
    path = tmp_path / "one.npz"
    Network([16, 3, 1], rng=0).save(path)
    rows = "".join(f"{','.join(['0.5'] * 16)},{k % 3}\n" for k in range(30))
    (tmp_path / "three.csv").write_text(rows)
    status, _, err = run(["evaluate", path, "--dataset", tmp_path / "three.csv"], capsys)
    assert status == 2 and "gives 1 output, but three.csv has 16 features and 3 classes" in err


def test_plot_and_report_take_the_data_set_for_a_model_saved_from_python(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    csv = _binary_csv(tmp_path / "bin.csv")
    from bprop.datasets import load
    d = load(csv)
    net = Network([4, 5, 1], cost="cross-entropy", init="scaled-normal", rng=0)
    h = net.fit(d.X_train, d.y_train, epochs=3, eta=0.5)
    from bprop.io import save
    save(net, tmp_path / "py.npz", history=h)
    status, out, err = run(["plot", tmp_path / "py.npz"], capsys)
    assert status == 0 and "confusion" not in out and "give --dataset" in err
    status, out, err = run(["plot", tmp_path / "py.npz", "--dataset", csv], capsys)
    assert status == 0 and "confusion" in out, err
    status, out, err = run(["report", tmp_path / "py.npz", "--dataset", csv], capsys)
    assert status == 0 and "confusion" in Path(out.strip()).read_text()


def test_predict_names_the_classes_of_a_data_set_that_has_names(tmp_path, capsys):
    from bprop.datasets import CLASS_NAMES, fashion
    if not all((fashion.DEBIAN_DIRS[0] / f"{n}-ubyte.gz").is_file() for n in (
            "train-images-idx3", "train-labels-idx1", "t10k-images-idx3", "t10k-labels-idx1")):
        pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
    path = tmp_path / "f.npz"
    status, _, err = run(["train", "--dataset", "fashion", "--train-size", 200, "--epochs", 1,
                          "--save", path, "--quiet"], capsys)
    assert status == 0, err
    status, out, _ = run(["predict", path, "--dataset", "fashion", "--count", 2], capsys)
    names = CLASS_NAMES["fashion"]
    line = out.splitlines()[0]
    p, t = (int(v) for v in re.findall(r"(?:predicted|true) (\d)", line))
    assert f"predicted {p} ({names[p]})" in line and f"true {t} ({names[t]})" in line
    status, out, _ = run(["predict", path, "--dataset", "fashion", "--count", 1, "--json"], capsys)
    record = json.loads(out)
    assert record["predicted_name"] == names[record["predicted"]]
    assert record["true_name"] == names[record["true"]]


def test_report_and_plot_keep_the_users_files_unless_told(model, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    notes = tmp_path / "notes.csv"
    notes.write_text("a,b,label\n0.1,0.2,1\n")
    status, stdout, err = run(["report", model, "--out", notes], capsys)
    assert status == 2 and stdout == ""
    assert one_error_line(err) == (f"bprop: error: --out {notes} already exists and is not a "
                                   f"bprop report; give --overwrite to replace it, or another "
                                   f"name")
    assert notes.read_text() == "a,b,label\n0.1,0.2,1\n"
    # a report bprop wrote is replaced without asking; anything with --overwrite
    page = tmp_path / "r.html"
    for _ in range(2):
        status, _, err = run(["report", model, "--out", page], capsys)
        assert status == 0, err
    status, _, err = run(["report", model, "--out", notes, "--overwrite"], capsys)
    assert status == 0 and "<title>bprop report: " in notes.read_text()
    # plot: a directory given with --out keeps PNGs of the plots' names
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    (pictures / "learning_curves.png").write_bytes(b"mine")
    (pictures / "holiday.png").write_bytes(b"mine too")
    status, stdout, err = run(["plot", model, "--out", pictures], capsys)
    assert status == 2 and stdout == ""
    assert one_error_line(err) == (f"bprop: error: --out {pictures} already holds "
                                   f"learning_curves.png; give --overwrite to replace them, or "
                                   f"another directory")
    assert (pictures / "learning_curves.png").read_bytes() == b"mine"
    status, stdout, _ = run(["plot", model, "--out", pictures, "--overwrite"], capsys)
    assert status == 0 and str(pictures / "learning_curves.png") in stdout.split()
    assert (pictures / "holiday.png").read_bytes() == b"mine too"


def test_plot_that_fails_leaves_no_directory_it_made(model, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    bad = tmp_path / "bad.csv"
    bad.write_text("not,a\ndata,set\n")
    target = tmp_path / "made"
    status, _, err = run(["plot", model, "--dataset", bad, "--out", target], capsys)
    assert status == 2 and "error" in err
    assert not target.exists()


def test_report_out_may_be_a_history_path_that_does_not_exist(model, tmp_path, capsys):
    copy = tmp_path / "m.npz"
    copy.write_bytes(model.read_bytes())
    out = tmp_path / "m.history.csv"             # the model's history CSV, not there
    status, stdout, err = run(["report", copy, "--out", out], capsys)
    assert status == 0, err
    assert out.read_text().lstrip().lower().startswith("<!doctype html")


def test_plot_with_nothing_to_draw_leaves_no_empty_folder(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "plain.npz"
    Network([3, 4, 2], rng=0).save(path)
    status, out, err = run(["plot", path], capsys)
    assert status == 0 and out == "" and "no plot applies" in err
    assert not (tmp_path / "plain-plots").exists()
