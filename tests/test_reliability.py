"""Hostile files and concurrent runs: nothing lost, nothing hangs, one line for bad input.

Each test builds the hostile thing itself: two runs saving to one file, FIFOs and device
files where data is expected, a stopped worker process, files whose headers disagree with
their contents, tampered checkpoints, and temporary files that killed writers left.
"""

import importlib
import itertools
import json
import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest

import bprop
from bprop import Network, TrainConfig
from bprop.atomic import HOST_TAG, FileLock, atomic_write, remove_leftovers
from bprop.errors import DataError, FileInUseError, ModelFileError
from bprop.io import Checkpointer, load_checkpoint

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
needs_flock = pytest.mark.skipif(sys.platform == "win32", reason="no flock on Windows")


def bprop_cli(*args, timeout=60, **kw):
    """``python -m bprop ARGS``: (exit status, stdout, stderr); fails the test on a hang."""
    done = subprocess.run([sys.executable, "-m", "bprop", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, **kw)
    return done.returncode, done.stdout, done.stderr


# -- 1. one run at a time writes a checkpoint ----------------------------------------------------
@needs_flock
def test_a_second_lock_on_a_file_is_refused_and_names_the_holder(tmp_path):
    path = tmp_path / "m.npz"
    with FileLock(path, "--save") as lock:
        assert os.path.exists(lock.lock_path)
        with pytest.raises(FileInUseError, match=rf"--save {path} is being written by another "
                                                 rf"run \(process {os.getpid()}, since "):
            FileLock(path, "--save").acquire()
    assert not os.path.exists(lock.lock_path)       # removed on release
    with FileLock(path):                            # and free again
        pass


@needs_flock
def test_checkpointer_holds_its_file_for_the_run(tmp_path):
    path = tmp_path / "m.npz"
    net = Network([4, 3, 2], rng=0)
    with Checkpointer(path, net, TrainConfig(epochs=1)) as saver:
        with pytest.raises(FileInUseError):
            with Checkpointer(path, Network([4, 3, 2], rng=1), TrainConfig(epochs=1)):
                pass
        bprop.train(net, np.zeros((10, 4)), np.arange(10) % 2, TrainConfig(epochs=1),
                    **saver.train_args())
    assert load_checkpoint(path).epoch == 1


@needs_flock
def test_two_cli_runs_saving_to_one_file_the_second_is_refused(tmp_path):
    pytest.importorskip("sklearn", reason="the digits need scikit-learn")
    save = tmp_path / "x.npz"
    first = subprocess.Popen([sys.executable, "-m", "bprop", "train", "--dataset", "digits",
                              "--epochs", "500", "--save", str(save), "--quiet"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lock = tmp_path / ".x.npz.lock"
        deadline = time.monotonic() + 30
        while not (lock.exists() and lock.stat().st_size) and time.monotonic() < deadline:
            time.sleep(0.05)
        status, _, err = bprop_cli("train", "--dataset", "digits", "--epochs", "1", "--save",
                                   save, "--overwrite")
        assert status == 2
        assert f"--save {save} is being written by another run (process {first.pid}" in err
        assert "bprop train --dataset digits --epochs 500" in err
        # resuming (or copying) the checkpoint the first run is writing is refused too
        while not save.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        status, _, err = bprop_cli("train", "--dataset", "digits", "--resume", save, "--save",
                                   tmp_path / "copy.npz", "--epochs", "600")
        assert status == 2 and f"--resume {save} is being written by another run" in err
    finally:
        first.send_signal(signal.SIGINT)
        first.wait(30)
    assert first.returncode == 130
    assert load_checkpoint(save).epoch >= 1         # the first run's work is there
    assert not lock.exists()


# -- 3. no hangs -------------------------------------------------------------------------------
@needs_fifo
def test_fifos_and_devices_are_refused_not_read(tmp_path):
    for name in ("d.csv", "d.npz", "pic.png", "m.npz", "net.json"):
        os.mkfifo(tmp_path / name)
    for args, what in ((("train", "--dataset", tmp_path / "d.csv"), "d.csv is a named pipe"),
                       (("train", "--dataset", tmp_path / "d.npz"), "d.npz is a named pipe"),
                       (("train", "--dataset", "/dev/zero"), "/dev/zero is a device"),
                       (("info", tmp_path / "m.npz"), "not a regular file")):
        status, _, err = bprop_cli(*args, timeout=20)
        assert status == 2 and what in err, err
    from bprop.datasets.files import read_csv
    with pytest.raises(DataError, match=r"d.csv is a named pipe \(FIFO\); give a .csv file"):
        read_csv(tmp_path / "d.csv")
    from bprop.io.book_json import load_book_json
    with pytest.raises(ModelFileError, match=r"net.json is a named pipe \(FIFO\)"):
        load_book_json(tmp_path / "net.json")


@needs_fifo
def test_a_fifo_history_file_and_picture_are_refused(tmp_path):
    pytest.importorskip("PIL", reason="pictures need Pillow")
    from bprop.io import load_history
    from bprop.predict import read_input
    bprop.save(Network([4, 2], rng=0), tmp_path / "m.npz")
    os.mkfifo(tmp_path / "m.history.json")
    with pytest.raises(DataError, match="is a named pipe"):
        load_history(tmp_path / "m.npz")
    os.mkfifo(tmp_path / "a.png")
    with pytest.raises(DataError, match=r"a.png is a named pipe \(FIFO\)"):
        read_input(tmp_path / "a.png", 4)
    os.mkfifo(tmp_path / "a.npy")
    with pytest.raises(DataError, match=r"a.npy is a named pipe \(FIFO\)"):
        read_input(tmp_path / "a.npy", 4)


def test_a_stopped_worker_stops_the_run_with_a_message(tmp_path):
    from bprop.training.parallel import available_cpus
    import platform
    if not (sys.platform.startswith("linux") and platform.machine().lower() in
            ("x86_64", "amd64") and available_cpus() >= 2):
        pytest.skip("--workers needs Linux on x86-64 with 2 CPUs")
    script = tmp_path / "run.py"
    script.write_text(
        "import numpy as np, bprop, sys\n"
        "X = np.random.default_rng(0).random((20000, 50)); y = np.arange(20000) % 3\n"
        "print('ready', flush=True)\n"
        "try:\n"
        "    bprop.Network([50, 30, 3], rng=0).fit(X, y, epochs=1000, batch_size=100, "
        "workers=2)\n"
        "except bprop.BpropError as e:\n"
        "    print(type(e).__name__, e, flush=True); sys.exit(3)\n")
    run = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert run.stdout.readline().strip() == "ready"
        helper, deadline = None, time.monotonic() + 30
        while helper is None and time.monotonic() < deadline:
            children = subprocess.run(["pgrep", "-P", str(run.pid)], capture_output=True,
                                      text=True).stdout.split()
            helper = int(children[0]) if children else time.sleep(0.05)
        assert helper is not None
        os.kill(helper, signal.SIGSTOP)
        t0 = time.monotonic()
        out, _ = run.communicate(timeout=30)
        waited = time.monotonic() - t0
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 3
    assert f"WorkerError training worker process {helper} is stopped (SIGSTOP?)" in out
    assert waited < 10


# -- 4. bad input is one line, exit 2 ----------------------------------------------------------
@pytest.mark.parametrize("text, match", [
    ("a,b,c,label\n1,2,3,4,0\n1,2,3,4,1\n5,6,7,8,1\n", "names 4 columns but its rows have 5"),
    ("a,b,label,d,e,f\n1,0\n2,1\n3,0\n", "names 6 columns but its rows have 2"),
])
def test_a_csv_header_that_does_not_fit_the_rows_is_refused(tmp_path, text, match):
    path = tmp_path / "d.csv"
    path.write_text(text)
    status, _, err = bprop_cli("train", "--dataset", path, "--epochs", "1")
    assert status == 2 and match in err and len(err.strip().splitlines()) == 1


def test_an_npz_with_corrupt_compressed_data_is_one_line(tmp_path):
    import zipfile
    X = np.random.default_rng(0).random((300, 4))
    y = np.arange(300) % 2
    path = tmp_path / "d.npz"
    np.savez_compressed(path, X_train=X, y_train=y, X_test=X, y_test=y)
    with zipfile.ZipFile(path) as z:
        first = z.infolist()[0]
    data = bytearray(path.read_bytes())
    start = first.header_offset + 30 + len(first.filename) + len(first.extra)
    data[start + 5:start + 40] = bytes(range(35))      # not a deflate stream any more
    path.write_bytes(bytes(data))
    status, _, err = bprop_cli("train", "--dataset", path, "--epochs", "1")
    assert status == 2 and "cannot read d.npz as a .npz archive" in err


@pytest.mark.parametrize("weight, match", [
    (10 ** 400, "holds a number too large for a float"),
    (True, "is not a rectangular array of numbers"),
    ("1.5", "is not a rectangular array of numbers"),
])
def test_network2_json_with_values_that_are_not_floats_is_refused(tmp_path, weight, match):
    path = tmp_path / "net.json"
    path.write_text(json.dumps({"sizes": [2, 2], "weights": [[[weight, 0], [0, 0]]],
                                "biases": [[[0], [0]]], "cost": "CrossEntropyCost"}))
    status, _, err = bprop_cli("info", path)
    assert status == 2 and f"weights[0] {match}" in err


# -- 5. tampered checkpoints -------------------------------------------------------------------
def _rewrite_header(path, change):
    with np.load(path, allow_pickle=False) as d:
        arrays = {k: d[k] for k in d.files}
    meta = json.loads(str(arrays["meta"]))
    change(meta)
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)


@pytest.mark.parametrize("epoch", [2, 5, 9])
def test_an_epoch_count_that_disagrees_with_the_history_is_refused(tmp_path, epoch):
    path = tmp_path / "m.npz"
    net, config = Network([4, 3, 2], rng=0), TrainConfig(epochs=5)
    with Checkpointer(path, net, config) as saver:
        bprop.train(net, np.zeros((10, 4)), np.arange(10) % 2, config, **saver.train_args())
    assert load_checkpoint(path).epoch == 5
    _rewrite_header(path, lambda meta: meta.update(epoch=epoch))
    if epoch == 5:
        return
    with pytest.raises(ModelFileError, match=rf"the header says {epoch} epochs were trained "
                                             r"but its history holds 5 records"):
        load_checkpoint(path)


def test_records_of_the_epochs_since_a_history_less_model_still_load(tmp_path):
    """A run continued from a model saved without its history records only its own epochs."""
    path = tmp_path / "m.npz"
    net, config = Network([4, 3, 2], rng=0), TrainConfig(epochs=5)
    history = bprop.History()
    bprop.train(net, np.zeros((10, 4)), np.arange(10) % 2, config, history=history,
                start_epoch=3)
    Checkpointer(path, net, config, history).save(5)
    assert [r.epoch for r in load_checkpoint(path).history.records] == [3, 4]


# -- 7. leftovers of killed writers --------------------------------------------------------------
def test_temporary_files_of_killed_writers_are_removed_on_the_next_save(tmp_path):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()                                     # a process id that no longer runs
    alive = os.getppid()                            # one that does
    here = HOST_TAG
    target = tmp_path / "m.npz"
    dead_leftover = tmp_path / f".tmp-{gone.pid}.{here}-m.npz-abc123.npz"
    old_style = tmp_path / f".tmp-{gone.pid}-m.npz-abc124.npz"     # before the host tag
    live_leftover = tmp_path / f".tmp-{alive}.{here}-m.npz-def456.npz"
    other_host = tmp_path / f".tmp-{gone.pid}.0badc0de-m.npz-ghi789.npz"
    other_file = tmp_path / f".tmp-{gone.pid}.{here}-other.npz-xyz.npz"
    for p in (dead_leftover, old_style, live_leftover, other_host, other_file):
        p.write_bytes(b"partial")
    atomic_write(target, lambda f: f.write(b"whole"))
    assert target.read_bytes() == b"whole"
    assert not dead_leftover.exists() and not old_style.exists()    # their writers are gone
    assert live_leftover.exists()                   # its writer may still be writing
    assert other_host.exists()                      # another machine's process, maybe alive
    assert other_file.exists()                      # another file's
    remove_leftovers(str(tmp_path / "other.npz"))
    assert not other_file.exists()


def test_temporary_files_are_named_by_process_and_machine(tmp_path):
    """What remove_leftovers reads back: the writer's pid and this machine's tag."""
    seen = []
    atomic_write(tmp_path / "m.npz", lambda f: seen.extend(p.name for p in tmp_path.iterdir()))
    assert len(seen) == 1 and seen[0].startswith(f".tmp-{os.getpid()}.{HOST_TAG}-m.npz-")
    assert len(HOST_TAG) == 8 and int(HOST_TAG, 16) >= 0


def test_a_save_killed_midway_leaves_the_old_file_and_a_leftover_that_goes(tmp_path):
    target = tmp_path / "m.npz"
    bprop.save(Network([4, 3, 2], rng=0), target)
    before = target.read_bytes()
    code = ("import os, signal, bprop.atomic as a\n"
            f"a.atomic_write({str(target)!r}, lambda f: (f.write(b'half'), f.flush(), "
            "os.kill(os.getpid(), signal.SIGKILL)))\n")
    subprocess.run([sys.executable, "-c", code])
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]
    bprop.save(Network([4, 3, 2], rng=1), target)
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]
    assert load_checkpoint(target).net.sizes == [4, 3, 2]


# -- 2. no memory bombs ----------------------------------------------------------------------
def test_a_gzip_idx_file_declaring_more_than_memory_is_refused_before_expanding(tmp_path):
    import gzip
    from bprop.datasets.idx import read_idx
    path = tmp_path / "bomb-idx3-ubyte.gz"
    with gzip.open(path, "wb") as f:
        f.write(bytes.fromhex("00000803") + (10 ** 9).to_bytes(4, "big")
                + (28).to_bytes(4, "big") * 2 + bytes(1000))
    with pytest.raises(DataError, match=r"IDX file bomb-idx3-ubyte.gz \(1,000,000,000 items of "
                                        r"shape \(28, 28\)\) declares 784.0 GB of data, more "
                                        r"than this machine's"):
        read_idx(path)


def test_a_gzip_idx_file_is_read_no_further_than_its_header_declares(tmp_path, monkeypatch):
    import gzip
    from bprop.datasets import idx
    path = tmp_path / "long-idx1-ubyte.gz"
    with gzip.open(path, "wb") as f:
        f.write(bytes.fromhex("00000801") + (10).to_bytes(4, "big") + bytes(10 ** 6))
    read = []
    real = gzip.GzipFile.read
    monkeypatch.setattr(gzip.GzipFile, "read", lambda self, n=-1: read.append(n) or real(self, n))
    with pytest.raises(DataError, match="longer than its header promises"):
        idx.read_idx(path)
    assert max(read) == 11          # the 10 bytes declared and one to see that more follow


def test_npz_members_are_checked_before_they_are_expanded(tmp_path):
    import io
    import zipfile
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (10 ** 12, 4)})
    path = tmp_path / "d.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("X_train.npy", header.getvalue() + bytes(64))
        for key in ("y_train", "X_test", "y_test"):
            buf = io.BytesIO()
            np.save(buf, np.zeros(3))
            z.writestr(f"{key}.npy", buf.getvalue())
    status, _, err = bprop_cli("train", "--dataset", path, "--epochs", "1")
    assert status == 2
    assert "d.npz: member 'X_train' declares an array of shape (1000000000000, 4) (32.0 TB) " \
           "but holds 192 bytes" in err


def test_a_models_unknown_members_are_never_expanded(tmp_path):
    import zipfile
    path = tmp_path / "m.npz"
    net = Network([4, 3, 2], rng=0)
    bprop.save(net, path)
    with zipfile.ZipFile(path, "a") as z:        # a member that would fail if expanded
        info = zipfile.ZipInfo("junk.npy")
        info.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(info, b"\x93NUMPY" + bytes(1000))
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        junk = z.getinfo("junk.npy")
    start = junk.header_offset + 30 + len(junk.filename) + len(junk.extra)
    data[start:start + junk.compress_size] = b"\xff" * junk.compress_size     # not deflate
    path.write_bytes(bytes(data))
    loaded = bprop.load(path)
    np.testing.assert_array_equal(loaded.weights[0], net.weights[0])


def test_a_picture_is_refused_by_its_size_before_it_is_decoded(tmp_path, monkeypatch):
    Image = pytest.importorskip("PIL.Image", reason="pictures need Pillow")
    from bprop import images
    Image.new("L", (300, 200), 255).save(tmp_path / "big.png")
    monkeypatch.setattr(images, "MAX_PICTURE_PIXELS", 50_000)
    with pytest.raises(DataError, match=r"^big.png is 300x200 pixels \(0 megapixels\); bprop "
                                        r"prepares pictures of at most 0 megapixels"):
        images.read_image(tmp_path / "big.png")


def test_the_books_pickle_expands_no_further_than_half_the_memory(tmp_path, monkeypatch):
    import gzip
    import pickle
    from bprop.datasets import mnist
    X, y = np.random.default_rng(0).random((1000, 784)).astype(np.float32), np.zeros(1000, int)
    with gzip.open(tmp_path / "mnist.pkl.gz", "wb") as f:
        pickle.dump(((X, y), (X, y), (X, y)), f)
    assert len(mnist.read_pkl_gz(tmp_path / "mnist.pkl.gz")) == 3     # fine as it is
    monkeypatch.setattr(mnist, "physical_memory", lambda: 2_000_000)
    with pytest.raises(DataError, match="mnist.pkl.gz expands to more than 0.0 GB, half this "
                                        "machine's memory"):
        mnist.read_pkl_gz(tmp_path / "mnist.pkl.gz")


# -- 6. what a resumed run's exactness depends on is recorded and said ---------------------------
def _csv(path, seed):
    rng = np.random.default_rng(seed)
    X = rng.random((300, 4))
    np.savetxt(path, np.column_stack([X, (X[:, 0] > 0.5).astype(int)]), delimiter=",")


def test_resuming_on_changed_data_is_said(tmp_path):
    data, model = tmp_path / "d.csv", tmp_path / "m.npz"
    _csv(data, 0)
    assert bprop_cli("train", "--dataset", data, "--epochs", "2", "--save", model)[0] == 0
    status, _, err = bprop_cli("train", "--resume", model, "--epochs", "3")
    assert status == 0 and "warning" not in err             # the same data: nothing to say
    _csv(data, 1)                                            # same sizes, other values
    status, _, err = bprop_cli("train", "--resume", model, "--epochs", "4")
    assert status == 0
    assert f"warning: the data differ from those {model} was trained on (fingerprint " \
           f"240x4:" in err and "will not match one that was not interrupted" in err


def test_resuming_dropout_with_other_workers_is_said(tmp_path):
    from bprop.training.parallel import available_cpus
    if not (sys.platform.startswith("linux") and available_cpus() >= 2):
        pytest.skip("--workers needs Linux with 2 CPUs")
    data, model = tmp_path / "d.csv", tmp_path / "m.npz"
    _csv(data, 0)
    status, _, err = bprop_cli("train", "--dataset", data, "--epochs", "1", "--dropout", "0.2",
                               "--hidden", "8", "--workers", "2", "--mini-batch-size", "20",
                               "--save", model)
    assert status == 0, err
    assert load_checkpoint(model).meta["workers"] == 2
    status, _, err = bprop_cli("train", "--resume", model, "--epochs", "2")
    assert status == 0
    assert f"warning: {model} was trained with 2 processes sharing each mini-batch " \
           f"(--workers or MPI ranks), this run has 1: with dropout or shifts" in err


# -- 8. messages, and the exit-code contract ---------------------------------------------------
def test_a_bug_is_exit_1_not_bad_input(monkeypatch, capsys, tmp_path):
    import importlib
    cli_main = importlib.import_module("bprop.cli.main")
    parser = importlib.import_module("bprop.cli.parser")

    def broken(args):
        return None + 1                             # a TypeError of our own making
    monkeypatch.setattr(parser, "cmd_info", broken)
    assert cli_main.main(["info", str(tmp_path / "m.npz")]) == 1
    assert "unexpected error: TypeError" in capsys.readouterr().err

    def exhausted(args):
        raise MemoryError()                         # NumPy's, say, with no message
    monkeypatch.setattr(parser, "cmd_info", exhausted)
    assert cli_main.main(["info", str(tmp_path / "m.npz")]) == 1
    assert capsys.readouterr().err.startswith("bprop: error: out of memory: an allocation "
                                              "failed; a smaller network")

    def refuses(args):
        raise DataError("m.npz is bad")              # what our checks say: bad input
    monkeypatch.setattr(parser, "cmd_info", refuses)
    assert cli_main.main(["info", str(tmp_path / "m.npz")]) == 2
    assert capsys.readouterr().err.strip() == "bprop: error: m.npz is bad"


@pytest.mark.parametrize("text, match", [
    ("1,2,0\n3,4,1\n5,6,18446744073709551617\n7,8,1\n",
     r"labels in the last column of d.csv must be integers in \[0, 2\^63\); got 1.84467e\+19 "
     r"on line 3"),
    ("a,b,label\n1,2,0\n3,4,1\n5,nan,1\n7,8,1\n",
     r"features in d.csv contain 1 NaN value \(first on line 4\)"),
    ("a,b,label\n1,2,0\n3,4,1\n5,x,1\n7,8,1\n",
     r"could not convert string 'x' to float64 on line 4, column 2"),
])
def test_csv_messages_count_lines_as_editors_do(tmp_path, text, match):
    from bprop.datasets import load
    (tmp_path / "d.csv").write_text(text)
    with pytest.raises(DataError, match=match):
        load(tmp_path / "d.csv")


def test_a_npy_named_npz_is_said_to_be_one(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((5, 3)))
    os.replace(tmp_path / "a.npy", tmp_path / "a.npz")
    status, _, err = bprop_cli("train", "--dataset", tmp_path / "a.npz")
    assert status == 2 and "a.npz is a .npy file (one array), not a .npz archive" in err


# -- 9. no silent failures: nothing learnt, an endless gradient check ----------------------------
def test_a_run_that_learns_nothing_is_warned_of_without_diagnostics(tmp_path):
    pytest.importorskip("sklearn", reason="the digits need scikit-learn")
    status, _, err = bprop_cli("train", "--dataset", "digits", "--epochs", "5", "--eta", "1000")
    assert status == 0
    assert "warning: Nothing is being learnt: over epochs 3-5 the training cost did not fall" \
           in err and "a too large eta (it was 1000)" in err
    assert "try a tenth of it (--diagnostics shows the gradients layer by layer)." in err
    # with --diagnostics the advice to use it is left out
    status, _, err = bprop_cli("train", "--dataset", "digits", "--epochs", "5", "--eta", "1000",
                               "--diagnostics")
    assert status == 0 and "Nothing is being learnt" in err
    assert "try a tenth of it." in err and "--diagnostics shows" not in err
    status, _, err = bprop_cli("train", "--dataset", "digits", "--epochs", "5")
    assert status == 0 and "warning" not in err


def test_gradcheck_samples_parameters_and_refuses_what_would_take_too_long():
    from bprop.gradcheck import gradcheck, gradcheck_seconds
    net = Network([30, 20, 10], rng=0)
    rng = np.random.default_rng(1)
    x, labels = rng.random((30, 5)), rng.integers(0, 10, 5)
    result = gradcheck(net, x, labels, sample=50, rng=0)
    assert result.n_params == 830 and 50 <= result.checked <= 54       # one per array at least
    assert result.numeric_passes == 2 * result.checked and result.ok()
    # the estimate: two timed forward passes per parameter, plus the fixed costs (the
    # parameter checks, five backprop calls), on a clock where everything timed takes 1 s
    # (the real times are too noisy on a shared host to compare two estimates)
    clock = itertools.count()
    checker = importlib.import_module("bprop.gradcheck")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(checker, "time", types.SimpleNamespace(perf_counter=lambda: next(clock)))
        assert gradcheck_seconds(net, x, labels, 100) == 1 + checker.BACKPROP_CALLS + 2 * 100
        assert gradcheck_seconds(net, x, labels) == 1 + checker.BACKPROP_CALLS + 2 * 830

    wrong = Network([30, 20, 10], rng=0)
    exact = wrong.backprop_batch

    def off(x, y):                                  # a backprop that is 1% off in layer 3
        nabla_b, nabla_w = exact(x, y)
        nabla_w[1] *= 1.01
        return nabla_b, nabla_w
    wrong.backprop_batch = off
    assert not gradcheck(wrong, x, labels, sample=20, rng=0).ok()

    status, out, err = bprop_cli("gradcheck", "--sizes", "784", "1000", "10")
    assert status == 2 and "checking 795,010 of the 795,010 parameters of [784, 1000, 10] takes " \
                           "about" in err and "give --sample 1000" in err
    status, out, err = bprop_cli("gradcheck", "--sizes", "784", "1000", "10", "--sample", "300")
    assert status == 0 and "params 795010 (30" in out


def test_the_fault_injection_script_loses_nothing(capsys):
    """benchmarks/faults.py: SIGKILL at random moments of runs that save every epoch, and
    two runs started together on one file (a few rounds; `make faults` runs 20)."""
    pytest.importorskip("sklearn", reason="the digits need scikit-learn")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import faults
    assert faults.main(["--rounds", "2", "--check"]) == 0
    out = capsys.readouterr().out
    assert "losses 0, broken files 0, leftovers 0" in out


def test_a_bad_mpi_timeout_is_one_line_and_mpi4py_missing_is_bad_usage(monkeypatch, capsys,
                                                                       tmp_path):
    import importlib
    from bprop.errors import ConfigError
    from bprop.training.mpi import mpi_timeout, mpi_world
    monkeypatch.setenv("BPROP_MPI_TIMEOUT", "1m")
    with pytest.raises(ConfigError, match="BPROP_MPI_TIMEOUT must be a positive number of "
                                          "seconds; got '1m'"):
        mpi_timeout()
    monkeypatch.setenv("BPROP_MPI_TIMEOUT", "2.5")
    assert mpi_timeout() == 2.5
    monkeypatch.setenv("PMI_SIZE", "2")
    monkeypatch.setitem(sys.modules, "mpi4py", None)        # not installed
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'bprop\[mpi\]'"):
        mpi_world()
    cli_main = importlib.import_module("bprop.cli.main")
    assert cli_main.main(["train", "--dataset", "digits", "--epochs", "1"]) == 2
    assert "training on them needs mpi4py" in capsys.readouterr().err
