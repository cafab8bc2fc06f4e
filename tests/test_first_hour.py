"""A new user's first hour (issue 18): help that fits a terminal, messages that say what to do."""

import os
import subprocess
import sys

import pytest

from bprop.cli.output import epoch_line
from bprop.training import EpochRecord, TrainConfig

COMMANDS = ["", "train", "evaluate", "predict", "gradcheck", "info", "plot", "report", "export"]


def bprop_cli(*args, **env):
    done = subprocess.run([sys.executable, "-m", "bprop", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **env})
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_help_fits_a_100_column_terminal(command):
    status, out, _ = bprop_cli(*([command] if command else []), "--help", COLUMNS="100")
    assert status == 0
    wide = [line for line in out.splitlines() if len(line) > 100]
    assert wide == []


def test_train_without_a_dataset_says_mnist_is_the_default_and_what_needs_no_download(
        tmp_path):
    status, _, err = bprop_cli("train", BPROP_DATA=str(tmp_path), http_proxy="http://127.0.0.1:9",
                               https_proxy="http://127.0.0.1:9")
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith("bprop: error: no --dataset given, so the book's MNIST: MNIST is not "
                          f"in {tmp_path}")
    assert "'digits'" in err and ". Put train-images" in err


def test_the_epoch_lines_time_column_has_one_width():
    config = TrainConfig(epochs=3)
    times = [epoch_line(EpochRecord(epoch=0, eta=3.0, seconds=s), 1, config).split()[-1]
             for s in (0.034, 0.0325, 0.00482, 1.5)]
    assert times == ["0.034s", "0.033s", "0.005s", "1.500s"]


def test_info_shows_the_settings_that_apply_and_the_history_when_asked(tmp_path):
    pytest.importorskip("sklearn", reason="the digits need scikit-learn")
    model = tmp_path / "m.npz"
    assert bprop_cli("train", "--dataset", "digits", "--epochs", "5", "--save", str(model),
                     "--quiet")[0] == 0
    status, out, _ = bprop_cli("info", str(model))
    assert status == 0
    assert "  optimizer                  sgd" in out
    for absent in ("momentum", "beta1", "beta2", "step_size", "gamma", "min_eta_factor",
                   "patience", "dropout", "epoch 1/5"):
        assert absent not in out, absent
    assert "history: 5 epochs (--history shows each); the last:\n  epoch 5/5 " in out
    status, out, _ = bprop_cli("info", str(model), "--history")
    assert [line.split()[1] for line in out.splitlines() if line.startswith("  epoch ")] == \
        ["1/5", "2/5", "3/5", "4/5", "5/5"]
    # an Adam run shows Adam's settings, not momentum's
    assert bprop_cli("train", "--dataset", "digits", "--epochs", "1", "--optimizer", "adam",
                     "--eta", "0.01", "--save", str(model), "--overwrite", "--quiet")[0] == 0
    out = bprop_cli("info", str(model))[1]
    assert "beta1" in out and "beta2" in out and "momentum" not in out


def test_fit_verbose_prints_a_line_per_epoch_and_keeps_the_callers_callback(capsys):
    import numpy as np
    import bprop
    rng = np.random.default_rng(0)
    X, y = rng.random((50, 4)), np.arange(50) % 2
    seen = []
    bprop.Network([4, 3, 2], rng=0).fit(X, y, epochs=3, verbose=1, test=(X, y),
                                        on_epoch_end=lambda r: seen.append(r.epoch))
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines] == ["1/3", "2/3", "3/3"]
    assert "running_cost" in lines[0] and "test_acc" in lines[0] and seen == [0, 1, 2]
    bprop.Network([4, 3, 2], rng=0).fit(X, y, epochs=2)
    assert capsys.readouterr().out == ""                # silent by default


def test_blas_threads_are_chosen_deliberately(monkeypatch):
    from bprop.training import processes
    monkeypatch.setattr(processes, "available_cpus", lambda: 4)
    monkeypatch.setattr(processes.os, "getloadavg", lambda: (0.2, 0, 0))
    assert processes.blas_threads_for([784, 30, 10]) == (1, None)          # small layers
    assert processes.blas_threads_for([784, 256, 256, 10]) == (4, None)
    assert processes.blas_threads_for([784, 256, 10], processes=2) == (2, None)
    assert processes.blas_threads_for([784, 30, 10], threads=3) == (3, None)  # as asked
    assert processes.blas_threads_for([784, 30, 10], threads=1000) == \
        (1000, "1000 BLAS threads on 4 CPUs only take turns; give at most 4")    # said so
    monkeypatch.setattr(processes.os, "getloadavg", lambda: (3.9, 0, 0))      # busy
    n, why = processes.blas_threads_for([784, 256, 256, 10])
    assert n == 1 and why.startswith("1 BLAS thread, not 4: the machine is busy (load "
                                     "average 3.9 on 4 CPUs)")
    n, why = processes.blas_threads_for([784, 30, 10], threads=2)
    assert n == 2 and "consider --threads 1" in why


def test_training_holds_the_blas_threads_it_chose_and_restores_them():
    import numpy as np
    import bprop
    from bprop.training.processes import openblas_controls
    controls = openblas_controls()
    if not controls:
        pytest.skip("NumPy here does not use OpenBLAS")
    get = controls[0][0]
    before = get()
    seen = []
    bprop.Network([4, 3, 2], rng=0).fit(np.zeros((20, 4)), np.arange(20) % 2, epochs=1,
                                        threads=1, on_epoch_end=lambda r: seen.append(get()))
    assert seen == [1] and get() == before
    seen.clear()
    bprop.Network([4, 3, 2], rng=0).fit(np.zeros((20, 4)), np.arange(20) % 2, epochs=1,
                                        threads=2, on_epoch_end=lambda r: seen.append(get()))
    assert seen == [2] and get() == before


def test_a_fashion_picture_is_prepared_as_fashion_mnist_was_not_recentred(tmp_path):
    """A Fashion-MNIST test image saved as a PNG is classified as its array is."""
    Image = pytest.importorskip("PIL.Image", reason="pictures need Pillow")
    import numpy as np
    from bprop.datasets import centred_pictures
    from bprop.images import prepare_image
    from bprop.predict import read_input
    rng = np.random.default_rng(0)
    pixels = np.zeros((28, 28), np.uint8)
    pixels[3:25, 8:20] = rng.integers(60, 256, (22, 12))   # a garment off the centre of mass
    Image.fromarray(pixels).save(tmp_path / "item.png")
    framed = read_input(tmp_path / "item.png", 784, image_shape=[28, 28], centre=False)
    np.testing.assert_array_equal(framed, pixels.reshape(-1) / 255.0)     # exactly its pixels
    centred = read_input(tmp_path / "item.png", 784, image_shape=[28, 28])
    assert not np.allclose(centred, framed)                 # MNIST's way moves and rescales it
    assert not centred_pictures("fashion") and not centred_pictures("Fashion-MNIST")
    assert centred_pictures("mnist") and centred_pictures("digits") and centred_pictures(None)
    # dark on light paper, another size: inverted and fitted whole into the frame
    paper = 255 - np.kron(pixels, np.ones((2, 2), np.uint8))
    framed_big = prepare_image(paper, 28, centre=False)
    np.testing.assert_allclose(framed_big, pixels.reshape(-1) / 255.0, atol=1e-12)


def test_predict_prepares_pictures_by_the_models_data_set(tmp_path):
    Image = pytest.importorskip("PIL.Image", reason="pictures need Pillow")
    import numpy as np
    import bprop
    from bprop.io import load_checkpoint
    net = bprop.Network([784, 10, 10], rng=0)
    model = tmp_path / "m.npz"
    bprop.save(net, model, extra={"dataset": {"name": "fashion", "image_shape": [28, 28],
                                              "n_classes": 10}})
    pixels = np.zeros((28, 28), np.uint8)
    pixels[3:25, 8:20] = 200
    Image.fromarray(pixels).save(tmp_path / "item.png")
    status, out, err = bprop_cli("predict", str(model), str(tmp_path / "item.png"))
    assert status == 0, err
    want = load_checkpoint(model).net.predict_proba(pixels.reshape(1, -1) / 255.0)[0]
    assert f"probability {want.max() / want.sum():.4f}" in out


@pytest.mark.parametrize("cost", ["quadratic", "cross-entropy"])
def test_the_advice_names_eta_when_eta_is_the_problem(cost):
    """eta = 100 was told to use cross-entropy (quadratic) or that gradients vanish."""
    pytest.importorskip("sklearn", reason="the digits need scikit-learn")
    status, _, err = bprop_cli("train", "--dataset", "digits", "--eta", "100", "--epochs", "6",
                               "--cost", cost, "--diagnostics")
    assert status == 0
    warnings = [line for line in err.splitlines() if "warning:" in line]
    assert warnings and "a too large eta (it was 100)" in warnings[0]
    assert not any("cross-entropy" in w or "vanish" in w for w in warnings)


def test_the_progress_bar_shows_cost_throughput_and_the_runs_time_left(monkeypatch):
    import io
    import time as time_module
    from bprop.training import progress as progress_module
    from bprop.training.progress import Progress, clock, rate
    assert (clock(42), clock(185), clock(3723)) == ("42s", "3:05", "1:02:03")
    assert (rate(850), rate(41022.93), rate(1.23e6)) == ("850 ex/s", "41k ex/s", "1.2M ex/s")
    err = io.StringIO()
    monkeypatch.setattr(progress_module.sys, "stderr", err)
    now = [100.0]
    monkeypatch.setattr(time_module, "perf_counter", lambda: now[0])
    bar = Progress(tqdm=None, epoch=1, epochs=4)
    bar(0, 1000)
    now[0] += 1.0
    bar(500, 1000)                                   # half of epoch 1 of 4 in 1 s
    assert "500 ex/s" in err.getvalue() and "run 7s left" in err.getvalue()
    bar.close()
    bar.last_cost, bar.epoch = 0.1234, 2
    bar(100, 1000)
    assert "running_cost 0.1234" in err.getvalue()


def test_a_run_ends_with_a_summary(tmp_path):
    pytest.importorskip("sklearn", reason="the digits need scikit-learn")
    status, _, err = bprop_cli("train", "--dataset", "digits", "--epochs", "3", "--validation",
                               "200", "--save", str(tmp_path / "m.npz"))
    assert status == 0
    lines = err.splitlines()
    assert "loading" not in err                     # said only to a terminal
    assert lines[-1].startswith("bprop: done: 3 epochs in ") and "test_acc" in lines[-1] \
        and "best val_acc" in lines[-1]
    assert "model saved to" in err and "(history in m.history.json, m.history.csv)" in err


def test_on_a_terminal_loading_is_said_and_the_bar_drawn(tmp_path):
    """On a terminal: the loading note and a bar (an epoch long enough for tqdm to draw)."""
    pty = pytest.importorskip("pty", reason="no pseudo-terminals here")
    from bprop.datasets import load
    try:
        load("fashion", train_size=100, download=False)
    except Exception:
        pytest.skip("Fashion-MNIST is not installed (Debian's dataset-fashion-mnist)")
    master, slave = pty.openpty()
    import fcntl
    import struct
    import termios
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # 120 columns
    done = subprocess.run([sys.executable, "-m", "bprop", "train", "--dataset", "fashion",
                           "--train-size", "30000", "--epochs", "2"], stdout=subprocess.PIPE,
                          stderr=slave, timeout=120)
    os.close(slave)
    seen = b""
    try:
        while True:
            chunk = os.read(master, 65536)
            if not chunk:
                break
            seen += chunk
    except OSError:                 # the other end closed: all read
        pass
    os.close(master)
    text = seen.decode(errors="replace")
    assert done.returncode == 0
    assert "bprop: loading fashion ..." in text and "epoch 1/2" in text and "ex/s" in text
    assert "running_cost" in text and "left" in text          # epoch 2's bar: last cost, time


def test_plots_name_layers_and_explain_the_regularised_validation_cost():
    pytest.importorskip("matplotlib", reason="plots need matplotlib")
    import numpy as np
    import bprop
    from bprop.diagnostics import Diagnostics
    from bprop.plots.history_figures import gradient_norms_figure, learning_curves_figure
    rng = np.random.default_rng(0)
    X, y = rng.random((200, 6)), rng.integers(0, 3, 200)
    history = bprop.Network([6, 5, 4, 3], rng=0).fit(
        X, y, epochs=2, lmbda=5.0, validation=(X[:50], y[:50]), callbacks=[Diagnostics()])
    labels = [t.get_text() for t in gradient_norms_figure(history).axes[0].get_legend().texts]
    assert "‖∂C/∂b‖ hidden layer 1 (l = 2)" in labels and "‖∂C/∂w‖ output (l = 4)" in labels
    label = learning_curves_figure(history, lmbda=5.0).axes[0].get_xlabel()
    assert label.startswith("epoch\nλ = 5") and "validation cost" in label
    assert learning_curves_figure(history).axes[0].get_xlabel() == "epoch"
    label = learning_curves_figure(history, l1=0.5).axes[0].get_xlabel()      # L1 alike
    assert label.startswith("epoch\nλ₁ = 0.5: each cost includes (λ₁/n)Σ|w|") and \
        "validation cost" in label


def test_explain_prints_readably():
    from bprop.diagnostics import explain
    from bprop.training import EpochRecord
    quiet = explain([EpochRecord(epoch=0, eta=1.0, seconds=0.1, running_cost=0.5)])
    assert quiet == [] and str(quiet) == "no warnings"
    records = [EpochRecord(epoch=j, eta=100.0, seconds=0.1, running_cost=0.9,
                           test_accuracy=0.1) for j in range(3)]
    said = explain(records, n_classes=10)
    assert len(said) == 1 and str(said).startswith("- Nothing is being learnt")


def test_the_sample_pictures_are_recognised(tmp_path):
    """examples/pictures: the README's seven.png with a digits model, trousers.png with a
    Fashion-MNIST one (each drawn by examples/pictures/draw.py)."""
    pytest.importorskip("PIL", reason="pictures need Pillow")
    pytest.importorskip("sklearn", reason="the digits need scikit-learn")
    from pathlib import Path
    pictures = Path(__file__).resolve().parents[1] / "examples" / "pictures"
    model = tmp_path / "digits.npz"
    assert bprop_cli("train", "--dataset", "digits", "--epochs", "30", "--save", str(model),
                     "--quiet")[0] == 0
    status, out, _ = bprop_cli("predict", str(model), str(pictures / "seven.png"))
    assert status == 0 and "predicted 7" in out
    from bprop.datasets import load
    try:
        load("fashion", train_size=100, download=False)
    except Exception:
        return                                   # Fashion-MNIST not installed: digits only
    model = tmp_path / "fashion.npz"
    assert bprop_cli("train", "--dataset", "fashion", "--hidden", "100", "--epochs", "3",
                     "--train-size", "20000", "--cost", "cross-entropy", "--eta", "0.5",
                     "--save", str(model), "--quiet")[0] == 0
    status, out, _ = bprop_cli("predict", str(model), str(pictures / "trousers.png"))
    assert status == 0 and "predicted 1 (Trouser)" in out


def test_fit_verbose_draws_a_bar_on_a_terminal():
    pty = pytest.importorskip("pty", reason="no pseudo-terminals here")
    import fcntl
    import struct
    import termios
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    code = ("import numpy as np, bprop; r = np.random.default_rng(0); "
            "X = r.random((60000, 100)); y = r.integers(0, 10, 60000); "
            "bprop.Network([100, 30, 10], rng=0).fit(X, y, epochs=2, verbose=1)")
    done = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=slave,
                          text=True, timeout=120)
    os.close(slave)
    seen = b""
    try:
        while chunk := os.read(master, 65536):
            seen += chunk
    except OSError:
        pass
    os.close(master)
    assert done.returncode == 0
    assert [line.split()[1] for line in done.stdout.splitlines()] == ["1/2", "2/2"]
    text = seen.decode(errors="replace")
    assert "epoch 1/2" in text and "ex/s" in text and "epoch 2/2" in text


def test_review_fixes_threads_limits_slow_runs_help_examples_folders_and_bar_width(
        monkeypatch, tmp_path):
    import io
    from bprop.datasets import centred_pictures
    from bprop.diagnostics import explain
    from bprop.training import EpochRecord, processes
    from bprop.training import progress as progress_module
    # a limit the user set (OPENBLAS_NUM_THREADS=1, threadpoolctl) is never raised
    monkeypatch.setattr(processes, "available_cpus", lambda: 4)
    monkeypatch.setattr(processes.os, "getloadavg", lambda: (0.1, 0, 0))
    assert processes.blas_threads_for([784, 256, 256, 10], current=1) == (1, None)
    assert processes.blas_threads_for([784, 256, 256, 10], current=8) == (4, None)
    # a slow run (cost still falling) or a settled binary classifier is not 'nothing learnt'
    slow = [EpochRecord(epoch=j, eta=0.01, seconds=0.1, running_cost=0.45 - 0.01 * j,
                        test_accuracy=0.11) for j in range(3)]
    assert explain(slow, n_classes=10) == []
    settled = [EpochRecord(epoch=j, eta=1.0, seconds=0.1, running_cost=0.2,
                           test_accuracy=0.707) for j in range(3)]
    assert explain(settled, n_classes=2) == []
    # example commands in --help stay whole however narrow the terminal
    out = bprop_cli("train", "--help", COLUMNS="60")[1]
    assert "  bprop train --resume runs/digits/model.npz --epochs 60    # continue to 60 " \
           "epochs" in out
    # Fashion-MNIST given as Debian's folder prepares pictures as Fashion-MNIST's
    assert not centred_pictures("/usr/share/datasets/fashion-mnist")
    assert not centred_pictures("/data/fashion/")
    assert centred_pictures("/data/my-digits")
    # the plain bar never wider than the terminal (a wrapped line would scroll)
    err = io.StringIO()
    monkeypatch.setattr(progress_module.sys, "stderr", err)
    monkeypatch.setattr(progress_module.shutil, "get_terminal_size",
                        lambda: os.terminal_size((50, 20)))
    bar = progress_module.Progress(tqdm=None, epoch=3, epochs=30)
    bar.last_cost = 0.1234
    bar(0, 100)
    bar(50, 100)
    assert max(len(chunk) for chunk in err.getvalue().split("\r")) <= 50


def test_a_slow_run_is_not_told_eta_is_too_large():
    pytest.importorskip("sklearn", reason="the digits need scikit-learn")
    status, _, err = bprop_cli("train", "--dataset", "digits", "--eta", "0.01", "--epochs", "12")
    assert status == 0 and "Nothing is being learnt" not in err
