"""Data-parallel training (``train(..., workers=k)``, :mod:`bprop.training.parallel`): the same
weights as one process to rounding, nothing left behind however training ends, and clear
errors when a worker cannot be had or fails."""

import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bprop import backprop as core
from bprop.training import parallel
from bprop.diagnostics import Diagnostics
from bprop.errors import ConfigError
from bprop.network import Network
from bprop.training.parallel import WorkerError, check_workers, slice_bounds
from bprop.train import TrainConfig, train

SRC = Path(__file__).resolve().parents[1] / "src"

can_fork_workers = (sys.platform.startswith("linux") and platform.machine().lower() in
                    ("x86_64", "amd64") and parallel.available_cpus() >= 2)
needs_two = pytest.mark.skipif(not can_fork_workers,
                               reason="needs Linux on x86-64 with at least 2 CPUs")
#: The scripts below list a process's children from /proc (a kernel option, on by default).
needs_children_file = pytest.mark.skipif(
    not os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children"),
    reason="no /proc/PID/task/TID/children here")


def data(n=300, n_in=16, n_out=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, n_in)), rng.integers(0, n_out, n)


def _state(pid):
    """``(state, parent)`` of process ``pid`` (state "Z": a zombie); None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields[0], int(fields[1])


def _alive(pid):
    state = _state(pid)
    return state is not None and state[0] != "Z"


def children():
    """Live (not zombie) processes whose parent is this one."""
    me, found = os.getpid(), set()
    for entry in filter(str.isdigit, os.listdir("/proc")):
        state = _state(entry)
        if state is not None and state[0] != "Z" and state[1] == me:
            found.add(int(entry))
    return found


def kill_the_helpers(done, n):
    """A ``progress`` callback that SIGKILLs every child process."""
    for pid in children():
        os.kill(pid, signal.SIGKILL)


def _env():
    """The environment for a script that imports bprop from this source tree."""
    return dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (str(SRC), os.environ.get("PYTHONPATH")) if p))


def trained(workers, mbs=10, epochs=1, dtype=np.float64, sizes=(16, 12, 4), n=300, **kw):
    X, y = data(n, sizes[0], sizes[-1])
    net = Network(list(sizes), rng=1, dtype=dtype)
    history = train(net, X, y, TrainConfig(epochs=epochs, mini_batch_size=mbs, eta=1.0, **kw),
                    workers=workers)
    return net, history


def rel_diff(a, b):
    return max(float(np.abs(p - q).max() / np.abs(p).max())
               for p, q in zip((*a.weights, *a.biases), (*b.weights, *b.biases)))


# -- settings ---------------------------------------------------------------------------------
def test_slice_bounds_cover_the_batch_parent_first():
    for m in range(1, 40):
        for k in range(1, 6):
            b = slice_bounds(m, k)
            sizes = np.diff(b)
            assert b[0] == 0 and b[-1] == m and len(sizes) == k
            assert sizes.max() - sizes.min() <= 1 and sizes[0] == sizes.max() >= 1


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True, None])
def test_workers_must_be_a_whole_number_at_least_one(bad):
    with pytest.raises(ConfigError, match="workers must be a whole number"):
        check_workers(bad)


def test_workers_at_most_the_cpus(monkeypatch):
    monkeypatch.setattr(parallel, "available_cpus", lambda: 2)
    if can_fork_workers:
        assert check_workers(2.0) == 2
    with pytest.raises(ConfigError, match="more than the 2 CPUs"):
        check_workers(3)
    assert check_workers(1) == 1        # one process needs nothing


def test_workers_need_linux_on_x86(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    with pytest.raises(ConfigError, match="needs Linux on an x86-64 CPU; this is darwin"):
        check_workers(2)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(platform, "machine", lambda: "aarch64")
    with pytest.raises(ConfigError, match="on aarch64"):
        check_workers(2)
    with pytest.raises(ConfigError, match="workers must be"):      # checked before training
        trained(0)


# -- the maths --------------------------------------------------------------------------------
@needs_two
@pytest.mark.parametrize("mbs", [1, 7, 10, 64, 300])
def test_same_weights_as_one_process(mbs):
    one, h1 = trained(1, mbs, monitor_training_cost=True)
    two, h2 = trained(2, mbs, monitor_training_cost=True)
    assert rel_diff(one, two) < 1e-12
    assert h1.records[0].train_cost == pytest.approx(h2.records[0].train_cost, rel=1e-12)
    # the running cost: every process's share of every mini-batch, added once
    assert h1.records[0].running_cost == pytest.approx(h2.records[0].running_cost, rel=1e-12)
    if mbs == 1:        # the helper's share is empty every step: the very same sums
        assert rel_diff(one, two) == 0


@needs_two
@pytest.mark.parametrize("settings", [
    dict(optimizer="momentum", lmbda=2.0), dict(optimizer="nesterov", l1=1.0),
    dict(optimizer="adam", eta=0.01, clip_norm=0.5), dict(lmbda=1.0, l1=0.5, clip_norm=1.0)])
def test_same_weights_with_every_optimizer(settings):
    settings = dict(settings)
    eta = settings.pop("eta", 1.0)
    nets = []
    for workers in (1, 2):
        X, y = data()
        net = Network([16, 12, 4], rng=1)
        train(net, X, y, TrainConfig(epochs=2, mini_batch_size=32, eta=eta, **settings),
              workers=workers)
        nets.append(net)
    assert rel_diff(*nets) < 1e-11


@needs_two
def test_float32_agrees_to_its_precision():
    one, _ = trained(1, 50, dtype=np.float32)
    two, _ = trained(2, 50, dtype=np.float32)
    assert one.weights[0].dtype == two.weights[0].dtype == np.float32
    assert rel_diff(one, two) < 1e-5


@needs_two
def test_a_last_batch_too_short_to_share():
    """301 rows in batches of 10: the last batch's one row is the parent's, and the helper,
    which had rows every step before, must hand back zeros."""
    one, _ = trained(1, 10, n=301)
    two, _ = trained(2, 10, n=301)
    assert rel_diff(one, two) < 1e-12


@needs_two
def test_three_workers_and_a_last_short_batch():
    if parallel.available_cpus() < 3:
        pytest.skip("needs 3 CPUs")
    one, _ = trained(1, 32, n=301)
    three, _ = trained(3, 32, n=301)
    assert rel_diff(one, three) < 1e-12


@needs_two
def test_diagnostics_see_the_whole_batch_gradient():
    """Observers get the parent's share of the rows and a scale that makes nabla / (scale · m)
    the mean gradient of the whole mini-batch, as with one process."""
    X, y = data()
    grads = []
    for workers in (1, 2):
        net = Network([16, 12, 4], rng=1)
        diag = Diagnostics(every=1)
        h = train(net, X, y, TrainConfig(epochs=1, mini_batch_size=20, eta=1.0),
                  callbacks=[diag], workers=workers)
        d = h.records[0].diagnostics
        grads.append(d["grad_w"] + d["grad_b"])
        assert d["examples"] == (300 if workers == 1 else 150)      # the rows it looked at
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10)


@needs_two
def test_dropout_and_shifts_repeat_with_the_seed():
    X, y = data(n_in=16)
    nets = []
    for _ in range(2):
        net = Network([16, 12, 4], rng=5)
        train(net, X, y, TrainConfig(epochs=2, mini_batch_size=20, dropout=0.3, shift=1,
                                     image_shape=(4, 4)), workers=2)
        nets.append(net)
    assert rel_diff(*nets) == 0
    assert all(np.isfinite(w).all() for w in nets[0].weights)


@needs_two
def test_fit_takes_workers():
    X, y = data()
    net = Network([16, 12, 4], rng=1)
    history = net.fit(X, y, epochs=1, batch_size=50, workers=2)
    assert len(history.records) == 1


# -- nothing left behind ----------------------------------------------------------------------
@needs_two
def test_the_network_keeps_its_own_arrays_and_no_process_is_left():
    X, y = data()
    net = Network([16, 12, 4], rng=1)
    before = [w.copy() for w in net.weights]
    arrays = net.weights + net.biases
    train(net, X, y, TrainConfig(epochs=2, mini_batch_size=30), workers=2)
    assert all(a is b for a, b in zip(net.weights + net.biases, arrays))
    assert not np.array_equal(net.weights[0], before[0])        # trained, in its own arrays
    assert not children()


@needs_two
def test_blas_threads_are_put_back(blas):
    get, _ = blas
    X, y = data()
    seen = []
    train(Network([16, 12, 4], rng=1), X, y, TrainConfig(epochs=1, mini_batch_size=30),
          on_epoch_end=lambda record: seen.append(get()), workers=2)
    assert seen == [1]          # one BLAS thread per process while the workers run
    assert get() == 2


@needs_two
def test_interrupted_training_stops_the_workers():
    X, y = data()
    net = Network([16, 12, 4], rng=1)
    arrays = net.weights + net.biases
    calls = []

    def progress(done, n):
        calls.append(done)
        if len(calls) == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(net, X, y, TrainConfig(epochs=3, mini_batch_size=2), progress=progress,
              workers=2)
    assert all(a is b for a, b in zip(net.weights + net.biases, arrays))
    assert all(np.isfinite(a).all() for a in arrays)
    assert not children()


@needs_two
def test_a_failing_worker_is_reported(monkeypatch):
    parent = os.getpid()
    backprop = core.backprop_batch

    def failing(*args):
        if os.getpid() != parent:
            raise MemoryError("no room for the workspace")
        return backprop(*args)

    monkeypatch.setattr(core, "backprop_batch", failing)
    with pytest.raises(WorkerError, match="worker 1 failed: MemoryError: no room"):
        trained(2, 30)
    assert not children()


@needs_two
def test_a_killed_worker_is_reported():
    X, y = data()
    with pytest.raises(WorkerError, match=r"training worker process \d+ died"):
        train(Network([16, 12, 4], rng=1), X, y, TrainConfig(epochs=2, mini_batch_size=30),
              progress=kill_the_helpers, workers=2)
    assert not children()


@needs_two
@needs_children_file
@pytest.mark.parametrize("when", ["spinning", "asleep"])
def test_workers_exit_when_the_parent_is_killed(when, tmp_path):
    """A helper outlives a SIGKILLed parent only until its next check: spinning within an
    epoch it notices its new parent; asleep between epochs its socket closes."""
    hook = "progress" if when == "spinning" else "on_epoch_end"
    script = tmp_path / "run.py"
    script.write_text(
        "import numpy as np, os, sys, time\n"
        "from bprop.network import Network\n"
        "from bprop.train import TrainConfig, train\n"
        "X = np.random.default_rng(0).random((2000, 16)); y = np.arange(2000) % 4\n"
        "def tell(*args):\n"
        "    if len(args) == 1 or args[0] >= args[1]:\n"
        "        kids = open(f'/proc/{os.getpid()}/task/{os.getpid()}/children').read()\n"
        "        print(kids, flush=True)\n"
        "        if len(args) == 1:\n"
        "            time.sleep(60)\n"
        "train(Network([16, 8, 4], rng=0), X, y, TrainConfig(epochs=10**6, mini_batch_size=50),"
        f" {hook}=tell, workers=2)\n")
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                            env=_env())
    helpers = []
    try:
        helpers = [int(p) for p in proc.stdout.readline().split()]
        assert len(helpers) == 1
        proc.kill()
        proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(helpers[0]):
            time.sleep(0.05)
        assert not _alive(helpers[0])
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in helpers:         # never leave a spinning orphan behind a failed test
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


@needs_two
def test_nothing_to_train_forks_nothing(monkeypatch):
    def no_fork():
        raise AssertionError("forked with no epoch to train")

    monkeypatch.setattr(os, "fork", no_fork)
    X, y = data()
    history = train(Network([16, 12, 4], rng=1), X, y, TrainConfig(epochs=0), workers=2)
    assert history.records == []


# -- found by review: resumes, rebinding, leaks, signals, failures to start ------------------
@needs_two
def test_a_resumed_run_with_dropout_continues_exactly():
    X, y = data()
    settings = dict(mini_batch_size=20, dropout=0.3, shift=1, image_shape=(4, 4))
    whole = Network([16, 12, 4], rng=5)
    train(whole, X, y, TrainConfig(epochs=4, **settings), workers=2)
    halves = Network([16, 12, 4], rng=5)
    history = train(halves, X, y, TrainConfig(epochs=2, **settings), workers=2)
    train(halves, X, y, TrainConfig(epochs=4, **settings), history=history, start_epoch=2,
          workers=2)
    assert rel_diff(whole, halves) == 0


@needs_two
def test_every_step_done_once_however_the_helper_is_delayed(monkeypatch):
    """Many short epochs with a helper that is sometimes slow: each step's share is computed
    exactly once (a missed end of epoch used to make a helper run a step nobody asked for),
    and the run repeats one without delays."""
    calls = parallel.shared_array((1,), np.int64)
    parent = os.getpid()
    backprop = core.backprop_batch

    def counted(*args):
        if os.getpid() != parent:
            calls[0] += 1
            if calls[0] % 3 == 0:
                time.sleep(0.002)
        return backprop(*args)

    X, y = data(n=60)
    config = TrainConfig(epochs=30, mini_batch_size=20, dropout=0.3)
    plain = Network([16, 12, 4], rng=2)
    train(plain, X, y, config, workers=2)
    monkeypatch.setattr(core, "backprop_batch", counted)
    delayed = Network([16, 12, 4], rng=2)
    train(delayed, X, y, config, workers=2)
    assert calls[0] == 30 * 3
    assert rel_diff(plain, delayed) == 0


@needs_two
def test_weights_a_callback_assigns_are_the_ones_trained():
    def clip(net):
        def end(record):
            net.weights = [np.clip(w, -0.5, 0.5) for w in net.weights]
        return end

    X, y = data()
    nets = []
    for workers in (1, 2):
        net = Network([16, 12, 4], rng=1)
        train(net, X, y, TrainConfig(epochs=3, mini_batch_size=30), on_epoch_end=clip(net),
              workers=workers)
        nets.append(net)
    assert rel_diff(*nets) < 1e-12
    assert np.abs(nets[1].weights[0]).max() == 0.5     # the last epoch's clip kept


@needs_two
def test_no_descriptor_left_after_a_killed_worker():
    X, y = data()
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(3):
        with pytest.raises(WorkerError):
            train(Network([16, 12, 4], rng=1), X, y, TrainConfig(epochs=2, mini_batch_size=30),
                  progress=kill_the_helpers, workers=2)
    assert len(os.listdir("/proc/self/fd")) == before


@needs_two
def test_a_failure_to_fork_is_a_worker_error(monkeypatch):
    def no_more_processes():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_more_processes)
    X, y = data()
    net = Network([16, 12, 4], rng=1)
    arrays = net.weights + net.biases
    with pytest.raises(WorkerError, match="could not start a training worker process: "
                                          "Resource temporarily unavailable"):
        train(net, X, y, TrainConfig(epochs=1), workers=2)
    assert all(a is b for a, b in zip(net.weights + net.biases, arrays))


@needs_two
def test_a_worker_failing_at_once_reports_its_own_error(monkeypatch):
    def broken(self, j, sock):
        raise ImportError("a module the helper needs is gone")

    monkeypatch.setattr(parallel.Workers, "_helper", broken)
    with pytest.raises(WorkerError, match="worker 1 failed: ImportError: a module"):
        trained(2, 30)
    assert not children()


@needs_two
@needs_children_file
def test_a_dead_worker_is_reported_with_sigpipe_at_its_default(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(
        "import os, signal, numpy as np\n"
        "from bprop.network import Network\n"
        "from bprop.training.parallel import WorkerError\n"
        "from bprop.train import TrainConfig, train\n"
        "signal.signal(signal.SIGPIPE, signal.SIG_DFL)\n"
        "X = np.random.default_rng(0).random((200, 16)); y = np.arange(200) % 4\n"
        "def end(record):\n"
        "    kids = open(f'/proc/{os.getpid()}/task/{os.getpid()}/children').read().split()\n"
        "    for pid in kids:\n"
        "        os.kill(int(pid), signal.SIGKILL)\n"
        "    for pid in kids:\n"
        "        while open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()[0] != 'Z':\n"
        "            pass\n"
        "try:\n"
        "    train(Network([16, 8, 4], rng=0), X, y, TrainConfig(epochs=3, mini_batch_size=50),"
        " on_epoch_end=end, workers=2)\n"
        "except WorkerError as e:\n"
        "    print('caught', e)\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          env=_env(), timeout=60)
    assert done.returncode == 0, (done.returncode, done.stderr)
    assert "caught training worker process" in done.stdout and "died" in done.stdout


@needs_two
def test_the_end_of_an_epoch_is_acknowledged():
    """end_epoch returns only once every helper has seen it (and gone to sleep): a helper
    that saw the next epoch's step word instead would run a step nobody asked for."""
    X, y = data()
    net = Network([16, 12, 4], rng=1)
    Y = net.targets(y, len(X))
    with parallel.Workers(net, X, Y, 2) as pool:
        for _ in range(50):
            pool.start_epoch(np.arange(len(X)))
            pool.gradients(0, 30, 0.1)
            pool.end_epoch()
            assert pool.done[1] == pool.step
    assert not children()


@needs_two
def test_helpers_ignore_stop_signals_meant_for_the_parent():
    """A terminal's Ctrl-C (or a SIGTERM/SIGHUP to the group) reaches every process of the
    group; the helper leaves stopping to the parent (not signalled here: training goes on)."""
    sent = []

    def progress(done, n):
        if not sent:
            for pid in children():
                for signum in parallel.STOPS:
                    os.kill(pid, signum)
            sent.append(True)

    X, y = data()
    history = train(Network([16, 12, 4], rng=1), X, y,
                    TrainConfig(epochs=3, mini_batch_size=30), progress=progress, workers=2)
    assert sent and len(history.records) == 3


@needs_two
def test_ctrl_c_during_the_clean_up_waits_for_it(monkeypatch):
    """A Ctrl-C that arrives while the helpers are being stopped is held until the clean-up
    is done, even with another thread running (which a signal mask would not cover)."""
    import threading
    stop = threading.Event()
    idle = threading.Thread(target=stop.wait)
    idle.start()
    reap = parallel.reap

    def interrupted_reap(pid, deadline):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        reap(pid, deadline)

    monkeypatch.setattr(parallel, "reap", interrupted_reap)
    X, y = data()
    net = Network([16, 12, 4], rng=1)
    arrays = net.weights + net.biases
    try:
        with pytest.raises(KeyboardInterrupt):
            train(net, X, y, TrainConfig(epochs=1, mini_batch_size=30), workers=2)
    finally:
        stop.set()
        idle.join()
    assert all(a is b for a, b in zip(net.weights + net.biases, arrays))
    assert not children()
