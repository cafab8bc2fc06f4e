"""Data-parallel training on MPI: `mpiexec -n 2` runs match one process, and survive faults.

Needs mpi4py and an MPI (``pip install 'bprop[mpi]'``: mpi4py and MPICH's wheels); the
tests skip, saying so, without them. Each test starts real MPI runs with the mpiexec
installed beside this Python.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mpi4py", reason="mpi4py is not installed (pip install 'bprop[mpi]')")
MPIEXEC = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")
if MPIEXEC is None:
    pytest.skip("no mpiexec (pip install 'bprop[mpi]' brings MPICH's)", allow_module_level=True)

SRC = str(Path(__file__).resolve().parents[1] / "src")


def mpirun(n, args, env=None, timeout=120, **kw):
    """``mpiexec -n N python ARGS``: the finished process (stdout, stderr as text)."""
    environment = {**os.environ, "PYTHONPATH": SRC, **(env or {})}
    return subprocess.run([MPIEXEC, "-n", str(n), sys.executable, *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=environment,
                          **kw)


def script(tmp_path, text):
    path = tmp_path / "run.py"
    path.write_text(textwrap.dedent(text))
    return path


SAME_AS_ONE_PROCESS = """
    import json, sys
    import numpy as np
    import bprop
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    rng = np.random.default_rng(0)
    X, y = rng.random((700, 20)), rng.integers(0, 5, 700)
    worst, equal = {}, True
    for opt, dtype, extra in (("sgd", "float64", {"lmbda": 0.5}), ("momentum", "float64",
                              {"l1": 0.05}), ("nesterov", "float64", {}),
                              ("adam", "float64", {"lmbda": 0.1}), ("sgd", "float32", {})):
        nets = []
        for c in (comm, None):
            net = bprop.Network([20, 15, 5], rng=3, dtype=dtype)
            net.fit(X, y, epochs=2, batch_size=33, eta=0.5 if opt == "sgd" else 0.01,
                    optimizer=opt, comm=c, **extra)
            nets.append(net)
        a, b = nets
        worst[f"{opt}-{dtype}"] = max(float(np.abs(p - q).max() / np.abs(q).max())
                                      for p, q in zip(a.weights + a.biases, b.weights + b.biases))
        everyone = comm.allgather([w.copy() for w in a.weights])
        equal = equal and all(np.array_equal(p, q) for p, q in zip(everyone[0], everyone[-1]))
    if comm.rank == 0:
        print(json.dumps({"worst": worst, "equal": equal}))
"""


@pytest.mark.parametrize("transport", ["shared memory", "network (TCP loopback)"])
def test_two_ranks_give_one_process_weights_to_rounding(tmp_path, transport):
    # MPICH: treat the ranks as on different machines, and (its UCX) send over TCP only
    env = {"MPIR_CVAR_NOLOCAL": "1", "UCX_TLS": "tcp,self", "UCX_LOG_LEVEL": "info"} \
        if transport.startswith("network") else {}
    done = mpirun(2, [script(tmp_path, SAME_AS_ONE_PROCESS)], env=env)
    assert done.returncode == 0, done.stderr
    said = done.stdout + done.stderr                # UCX logs to either
    if env and "UCX" in said:                       # the ranks did talk over TCP
        assert "intra-node cfg#1 tag(tcp/" in said
    result = json.loads([line for line in done.stdout.splitlines() if line.startswith("{")][-1])
    assert result["equal"]                          # every rank holds the same weights
    for name, worst in result["worst"].items():
        assert worst <= (1e-12 if "float64" in name else 1e-5), (name, worst)


def test_the_diagnostics_gradient_norms_are_the_whole_batchs(tmp_path):
    code = """
        import numpy as np, bprop, json
        from bprop.diagnostics import Diagnostics
        from mpi4py import MPI
        rng = np.random.default_rng(0)
        X, y = rng.random((300, 12)), rng.integers(0, 3, 300)
        out = []
        for c in (MPI.COMM_WORLD, None):
            history = bprop.Network([12, 8, 3], rng=1).fit(
                X, y, epochs=1, batch_size=30, comm=c, callbacks=[Diagnostics(every=1)])
            out.append(history.records[-1].diagnostics)
        if MPI.COMM_WORLD.rank == 0:
            print(json.dumps(out))
    """
    done = mpirun(2, [script(tmp_path, code)])
    assert done.returncode == 0, done.stderr
    ours, one = json.loads(done.stdout)
    assert ours["batches"] == one["batches"] == 10
    for key in ("grad_w", "grad_b", "weight_norm"):
        assert ours[key] == pytest.approx(one[key], rel=1e-12), key


def test_cli_rank_0_alone_prints_and_saves_and_resume_changes_ranks(tmp_path):
    pytest.importorskip("sklearn", reason="the digits need scikit-learn")
    model = tmp_path / "m.npz"
    done = mpirun(2, ["-m", "bprop", "train", "--dataset", "digits", "--epochs", "3",
                      "--save", model])
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[1] for line in lines] == ["1/3", "2/3", "3/3"]   # once, not twice
    assert "2 MPI ranks (18,080 bytes summed a step)" in done.stderr
    assert "(rank 1)" not in done.stderr
    # one process goes on from the two ranks' checkpoint, and two ranks from that one
    alone = subprocess.run([sys.executable, "-m", "bprop", "train", "--resume", model,
                            "--epochs", "4"], capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": SRC})
    assert alone.returncode == 0, alone.stderr
    done = mpirun(2, ["-m", "bprop", "train", "--resume", model, "--epochs", "5"])
    assert done.returncode == 0, done.stderr
    from bprop.io import load_checkpoint
    resumed = load_checkpoint(model)
    assert resumed.epoch == 5 and len(resumed.history.records) == 5
    # against one uninterrupted process: the same to rounding
    straight = tmp_path / "straight.npz"
    subprocess.run([sys.executable, "-m", "bprop", "train", "--dataset", "digits", "--epochs",
                    "5", "--save", straight], check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": SRC})
    reference = load_checkpoint(straight).net
    for a, b in zip(resumed.net.weights, reference.weights):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-9 * np.abs(b).max())


def test_ranks_with_other_data_are_refused(tmp_path):
    code = """
        import numpy as np, bprop
        from mpi4py import MPI
        rng = np.random.default_rng(MPI.COMM_WORLD.rank)     # each rank its own data
        X, y = rng.random((100, 4)), rng.integers(0, 2, 100)
        try:
            bprop.Network([4, 3, 2], rng=0).fit(X, y, epochs=1, comm=MPI.COMM_WORLD)
            said = "trained"
        except bprop.DataError as e:
            said = str(e)
        everyone = MPI.COMM_WORLD.gather(said)          # one writer: lines cannot interleave
        if MPI.COMM_WORLD.rank == 0:
            print(chr(10).join(everyone))
    """
    done = mpirun(2, [script(tmp_path, code)])
    assert done.returncode == 0, done.stderr
    said = done.stdout.splitlines()
    assert len(said) == 2 and all("rank 1's training data differ from rank 0's" in s
                                  for s in said)


def _start(tmp_path, model, extra_env=None):
    environment = {**os.environ, "PYTHONPATH": SRC, **(extra_env or {})}
    return subprocess.Popen([MPIEXEC, "-n", "2", sys.executable, "-m", "bprop", "train",
                             "--dataset", "digits", "--epochs", "2000", "--save", str(model)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=environment)


def _ranks(launcher):
    """The two rank processes of an mpiexec launch (its grandchildren)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = subprocess.run(["pgrep", "-f", "bprop train --dataset digits --epochs 2000"],
                               capture_output=True, text=True).stdout.split()
        ranks = [int(p) for p in found if int(p) != launcher.pid]
        ranks = [p for p in ranks if "python" in Path(f"/proc/{p}/cmdline").read_text()
                 .split("\0")[0]]
        if len(ranks) == 2:
            return ranks
        time.sleep(0.1)
    raise AssertionError("the ranks did not start")


def _rank_pid(pids, rank):
    """Which of an MPI run's processes is ``rank`` (MPICH tells each in PMI_RANK)."""
    for pid in pids:
        environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        if f"PMI_RANK={rank}".encode() in environment:
            return pid
    raise AssertionError(f"no process of rank {rank} among {pids}")


@pytest.mark.parametrize("sig, status, said", [(signal.SIGINT, 130, "interrupted"),
                                               (signal.SIGTERM, 143, "terminated (SIGTERM)")])
def test_a_signal_to_the_launcher_stops_every_rank_and_keeps_the_checkpoint(
        tmp_path, sig, status, said):
    pytest.importorskip("sklearn", reason="the digits need scikit-learn")
    model = tmp_path / "m.npz"
    run = _start(tmp_path, model)
    _ranks(run)
    deadline = time.monotonic() + 30
    while not model.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    run.send_signal(sig)
    _, err = run.communicate(timeout=30)
    assert run.returncode == status, err
    assert f"bprop: {said}. {model} holds epoch" in err
    assert "MPICH" not in err and "pending" not in err         # no noise from MPI_Finalize
    from bprop.io import load_checkpoint
    assert load_checkpoint(model).epoch >= 1


def test_a_stopped_rank_makes_the_others_stop_in_bounded_time(tmp_path):
    pytest.importorskip("sklearn", reason="the digits need scikit-learn")
    model = tmp_path / "m.npz"
    run = _start(tmp_path, model, {"BPROP_MPI_TIMEOUT": "2"})
    ranks = _ranks(run)
    deadline = time.monotonic() + 30
    while not model.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(_rank_pid(ranks, 1), signal.SIGSTOP)
    t0 = time.monotonic()
    try:
        _, err = run.communicate(timeout=60)
    finally:
        for p in ranks:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
    assert time.monotonic() - t0 < 30
    assert run.returncode != 0
    assert "no answer from the other ranks for 2 s" in err and f"{model} holds epoch" in err


def test_a_stop_one_ranks_callback_asks_for_stops_every_rank(tmp_path):
    code = """
        import numpy as np, bprop
        from mpi4py import MPI
        c = MPI.COMM_WORLD
        X, y = np.random.default_rng(0).random((200, 4)), np.arange(200) % 2
        history = bprop.Network([4, 3, 2], rng=0).fit(
            X, y, epochs=5, comm=c, on_epoch_end=lambda r: c.rank == 0 and r.epoch == 1)
        said = c.gather(f"{c.rank} {len(history.records)} {history.stopped_early}")
        if c.rank == 0:
            print("|".join(said))
    """
    done = mpirun(2, [script(tmp_path, code)], env={"BPROP_MPI_TIMEOUT": "5"}, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0 2 stopped by callback|1 2 stopped by callback"


def test_a_diverged_run_is_reported_by_rank_0_with_where_it_saved(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.random((400, 5))
    y = (X @ np.arange(5) > 5).astype(int)
    np.savez(tmp_path / "d.npz", X_train=X, y_train=y, X_test=X, y_test=y)
    model = tmp_path / "m.npz"
    done = mpirun(2, ["-m", "bprop", "train", "--dataset", tmp_path / "d.npz", "--hidden", "30",
                      "--activation", "relu", "--output-activation", "identity", "--eta", "50",
                      "--epochs", "30", "--save", model, "--quiet"], timeout=60)
    assert done.returncode == 1
    assert "bprop: error: training diverged in epoch" in done.stderr
    assert "Nothing was saved" not in done.stderr and "Rank 0 says what was saved" in \
        done.stderr


def test_ranks_map_one_array_directory_and_train_as_one_process(tmp_path):
    """An array directory of bytes: every rank maps the same file (the page cache holds it
    once) and the run equals one process's to rounding."""
    from bprop import datasets
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (3000, 49), dtype=np.uint8)
    y = (X[:, :5].sum(axis=1) // 260).astype(np.int64)
    datasets.write_arrays(tmp_path / "set", X, y, X[:300], y[:300], image_shape=(7, 7))
    code = f"""
        from mpi4py import MPI
        from bprop import datasets
        data = datasets.load({str(tmp_path / "set")!r})
        maps = open("/proc/self/maps").read()
        said = MPI.COMM_WORLD.gather(f"{{type(data.X_train).__name__}} "
                                     f"{{{str(tmp_path / 'set' / 'X_train.npy')!r} in maps}}")
        if MPI.COMM_WORLD.rank == 0:
            print("|".join(said))
    """
    done = mpirun(2, [script(tmp_path, code)])
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ScaledRows", "True|ScaledRows", "True"]
    models = []
    for n in (2, 1):
        model = tmp_path / f"m{n}.npz"
        args = ["-m", "bprop", "train", "--dataset", tmp_path / "set", "--epochs", "2",
                "--mini-batch-size", "30", "--hidden", "20", "--save", model]
        done = mpirun(n, args)
        assert done.returncode == 0, done.stderr
        models.append(model)
    from bprop.io import load_checkpoint
    (a, b) = (load_checkpoint(m).net for m in models)
    for p, q in zip(a.weights + a.biases, b.weights + b.biases):
        np.testing.assert_allclose(p, q, rtol=0, atol=1e-12 * np.abs(q).max())


SHARED_EVALUATION = """
    import json
    import numpy as np
    import bprop
    from bprop.errors import OutputOverflowError
    from mpi4py import MPI
    comm = MPI.COMM_WORLD

    class Counted(bprop.Network):
        rows = 0
        overflow_on = None

        def predict(self, X):
            Counted.rows += len(X)
            if comm.rank == Counted.overflow_on:
                raise OutputOverflowError("too large")
            return super().predict(X)

    rng = np.random.default_rng(0)
    X, y = rng.random((600, 10)), rng.integers(0, 3, 600)
    Xv, yv, Xt, yt = X[:101], y[:101], X[101:302], y[101:302]
    kept = {}
    for c in (comm, None):
        net = Counted([10, 8, 3], rng=1)
        Counted.rows = 0
        h = net.fit(X, y, epochs=2, batch_size=20, eta=0.5, comm=c, lmbda=0.3,
                    validation=(Xv, yv), test=(Xt, yt), monitor_training_cost=True,
                    monitor_training_accuracy=True)
        kept["mpi" if c else "one"] = ([r.__dict__ for r in h.records], Counted.rows)
    Counted.overflow_on = 1
    try:
        Counted([10, 8, 3], rng=1).fit(X, y, epochs=1, comm=comm, validation=(Xv, yv))
        said = "trained on"
    except FloatingPointError as e:
        said = str(e)
    everyone = comm.gather((kept, said))
    if comm.rank == 0:
        print(json.dumps(everyone))
"""


def test_ranks_share_the_evaluation_and_record_one_process_numbers(tmp_path):
    done = mpirun(2, [script(tmp_path, SHARED_EVALUATION)], env={"BPROP_MPI_TIMEOUT": "20"})
    assert done.returncode == 0, done.stderr
    (kept0, said0), (kept1, said1) = json.loads(done.stdout)
    (mpi0, rows0), (mpi1, rows1) = kept0["mpi"], kept1["mpi"]
    one, rows_one = kept0["one"]
    timeless = [[{k: v for k, v in r.items() if k != "seconds"} for r in m] for m in (mpi0, mpi1)]
    assert timeless[0] == timeless[1]       # every rank records the same numbers
    # each rank predicted about half of each set: (600 + 101 + 201) rows an epoch in all
    assert rows_one == 2 * 902 and rows0 + rows1 == rows_one and abs(rows0 - rows1) <= 6
    for a, b in zip(mpi0, one):
        for key in ("train_accuracy", "val_accuracy", "test_accuracy", "test_correct"):
            assert a[key] == b[key], key
        for key in ("train_cost", "val_cost", "running_cost"):
            assert a[key] == pytest.approx(b[key], rel=1e-12), key
    # outputs overflowing on one rank stop both, alike, instead of one waiting forever
    assert said0 == said1 and said0.startswith("training diverged in epoch 1 of 1: the "
                                               "network's outputs overflow")


def test_ranks_stopped_by_a_signal_leave_without_mpi_finalizes_complaints(tmp_path):
    """A reduction cut short by Ctrl-C is still pending at exit; MPI_Finalize would print
    "MPICH: Builtin communicator ... has pending references" (seen after a real Ctrl-C)."""
    code = """
        import importlib, sys
        from mpi4py import MPI
        cli = importlib.import_module("bprop.cli.main")
        pending = MPI.COMM_WORLD.Ibarrier() if MPI.COMM_WORLD.rank == 0 else None
        cli._main = lambda argv: 130            # as after Ctrl-C in the middle of a step
        sys.exit(cli.main([]))
    """
    done = mpirun(2, [script(tmp_path, code)], timeout=60)
    assert done.returncode == 130
    assert done.stderr == ""


def test_diagnostics_merge_the_ranks_shares_into_whole_batch_statistics(tmp_path):
    code = """
        import json
        import numpy as np
        import bprop
        from bprop.diagnostics import Diagnostics
        from mpi4py import MPI
        comm = MPI.COMM_WORLD
        rng = np.random.default_rng(0)
        X, y = rng.random((600, 10)) * 4 - 2, rng.integers(0, 3, 600)
        said = {}
        for c in (comm, None):
            net = bprop.Network([10, 12, 3], rng=2, activations=["relu", "sigmoid"])
            h = net.fit(X, y, epochs=2, batch_size=20, eta=0.5, comm=c,
                        callbacks=[Diagnostics(every=3)])
            said["mpi" if c else "one"] = [r.diagnostics for r in h.records]
            # 101 examples: the last batch of 1 leaves rank 1 nothing to observe
            h = bprop.Network([10, 12, 3], rng=2).fit(X[:101], y[:101], epochs=1, comm=c,
                                                      batch_size=10, callbacks=[Diagnostics(1)])
            said["small " + ("mpi" if c else "one")] = h.records[0].diagnostics
        everyone = comm.gather(said)
        if comm.rank == 0:
            print(json.dumps(everyone))
    """
    done = mpirun(2, [script(tmp_path, code)])
    assert done.returncode == 0, done.stderr
    (rank0, rank1) = json.loads(done.stdout)
    assert rank0["mpi"] == rank1["mpi"]
    for a, b in zip(rank0["mpi"], rank0["one"]):
        assert a["examples"] == b["examples"] == 10 * 20        # batches 0, 3, ..., 27
        assert a["dead"] == b["dead"]
        for key in ("mean_activation", "saturated", "grad_b", "grad_w", "weight_norm"):
            for p, q in zip(a[key], b[key]):            # (None: not for a ReLU layer)
                assert p == q if q is None else p == pytest.approx(q, rel=1e-9), key
        assert a["output_saturated_wrong"] == pytest.approx(b["output_saturated_wrong"],
                                                             rel=1e-9)
    a, b = rank0["small mpi"], rank0["small one"]
    assert a == rank1["small mpi"] and a["examples"] == b["examples"] == 101
    assert a["batches"] == b["batches"] == 11
    assert a["mean_activation"] == pytest.approx(b["mean_activation"], rel=0.02)


def test_lazy_rows_are_evaluated_a_chunk_at_a_time_and_callbacks_must_match(tmp_path):
    code = """
        import numpy as np
        import bprop
        from bprop import outputs
        from bprop.diagnostics import Diagnostics
        from bprop.rows import ScaledRows
        from mpi4py import MPI
        comm = MPI.COMM_WORLD
        outputs.ROWS_PER_PASS = 50

        class Counted(ScaledRows):
            most = 0

            def __getitem__(self, index):     # (slices: the chunks of an evaluation)
                got = super().__getitem__(index)
                if isinstance(index, slice):
                    Counted.most = max(Counted.most, len(got))
                return got
        raw = np.random.default_rng(0).integers(0, 256, (600, 8), dtype=np.uint8)
        X, y = Counted(raw), (raw[:, 0] > 127).astype(np.int64)
        bprop.Network([8, 6, 2], rng=0).fit(X, y, epochs=1, batch_size=20, comm=comm,
                                            validation=(X, y), monitor_training_cost=True,
                                            monitor_training_accuracy=True)
        most = comm.gather(Counted.most)
        try:                # only rank 0 merges diagnostics: refused at the start, not a hang
            bprop.Network([8, 6, 2], rng=0).fit(
                X, y, epochs=1, comm=comm, callbacks=[Diagnostics()] if comm.rank == 0 else [])
            said = "trained"
        except bprop.errors.BpropError as e:
            said = str(e)
        said = comm.gather(said)
        if comm.rank == 0:
            print(max(most), said[0], sep="|")
    """
    done = mpirun(2, [script(tmp_path, code)], env={"BPROP_MPI_TIMEOUT": "20"})
    assert done.returncode == 0, done.stderr
    most, said = done.stdout.strip().split("|")
    assert int(most) <= 50                  # not each rank's 300 rows at once
    assert said == ("rank 1 has callbacks [] whose observations are merged over the ranks, "
                    "rank 0 ['Diagnostics']; every rank must pass the same callbacks")
