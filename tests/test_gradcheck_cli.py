"""``bprop gradcheck`` and the functions behind it: the BLAS threads the check runs under
(training's rule), and an estimate that counts what a large network costs whatever the sample.
"""

import importlib
import re
import time

import numpy as np
import pytest

from bprop import cli
from bprop.errors import ConfigError
from bprop.network import Network
from bprop.training import processes

checker = importlib.import_module("bprop.gradcheck")    # bprop.gradcheck is the function


def run(argv, capsys):
    """``(status, stdout, stderr)`` of ``cli.main(argv)``."""
    status = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def data(net, m=3, seed=1):
    rng = np.random.default_rng(seed)
    return rng.random((net.sizes[0], m)), rng.integers(0, net.sizes[-1], m)


def threads_seen(monkeypatch, get):
    """The BLAS threads in force at each forward pass of the estimate and of the check."""
    seen = []
    cost = checker.summed_cost

    def counted(*args):
        seen.append(get())
        return cost(*args)
    monkeypatch.setattr(checker, "summed_cost", counted)
    return seen


def load(monkeypatch, average, cpus=4):
    monkeypatch.setattr(processes, "available_cpus", lambda: cpus)
    monkeypatch.setattr(processes.os, "getloadavg", lambda: (average, average, average))


def slow_backprop(seconds):
    """Network.backprop_batch, ``seconds`` slower: a large network's backprop."""
    exact = Network.backprop_batch

    def slow(self, x, y):
        time.sleep(seconds)
        return exact(self, x, y)
    return slow


# -- threads ---------------------------------------------------------------------------------
def test_gradcheck_runs_small_layers_on_one_blas_thread_as_training_does(monkeypatch, capsys,
                                                                          blas):
    get, _ = blas
    seen = threads_seen(monkeypatch, get)
    status, out, err = run(["gradcheck", "--sizes", 4, 5, 3], capsys)
    assert status == 0 and "  ok" in out, err
    assert len(seen) > 86 and set(seen) == {1}      # the estimate's passes and the check's
    assert get() == 2                               # put back


def test_gradcheck_gives_large_layers_the_cpus_and_one_thread_on_a_busy_machine(monkeypatch,
                                                                                capsys, blas):
    get, _ = blas
    seen = threads_seen(monkeypatch, get)
    argv = ["gradcheck", "--sizes", 400, 300, 2, "--sample", 10]      # 120,000 weights
    load(monkeypatch, 0.1)
    status, _, err = run(argv, capsys)
    assert status == 0 and err == "" and set(seen) == {2}   # all the CPUs the user allows
    seen.clear()
    load(monkeypatch, 5.0)
    status, _, err = run(argv, capsys)
    assert status == 0 and set(seen) == {1} and get() == 2
    assert err == ("bprop: warning: 1 BLAS thread, not 2: the machine is busy (load average "
                   "5.0 on 4 CPUs)\n")                                         # said once


def test_gradcheck_holds_the_threads_it_is_given(monkeypatch, blas):
    get, set_ = blas
    set_(1)
    load(monkeypatch, 0.1)
    seen = threads_seen(monkeypatch, get)
    net = Network([4, 5, 3], rng=0)
    x, labels = data(net)
    checker.gradcheck_seconds(net, x, labels, threads=2)
    assert checker.gradcheck(net, x, labels, threads=2).ok()
    assert len(seen) > 86 and set(seen) == {2} and get() == 1
    load(monkeypatch, 5.0)
    with pytest.warns(UserWarning, match=r"^2 BLAS threads on a busy machine .* consider "
                                         r"--threads 1$"):
        checker.gradcheck(net, x, labels, threads=2)


@pytest.mark.parametrize("threads", [0, 1.5, True])
def test_gradcheck_refuses_a_thread_count_that_is_not_a_positive_integer(threads):
    net = Network([4, 5, 3], rng=0)
    x, labels = data(net)
    for check in (checker.gradcheck, checker.gradcheck_seconds):
        with pytest.raises(ConfigError, match=rf"^threads must be an integer >= 1; got "
                                              rf"{threads!r}$"):
            check(net, x, labels, threads=threads)


# -- the estimate ----------------------------------------------------------------------------
def test_the_estimate_counts_the_backprop_calls_whatever_the_sample(monkeypatch):
    monkeypatch.setattr(Network, "backprop_batch", slow_backprop(0.05))
    net = Network([4, 5, 3], rng=0)
    x, labels = data(net)
    estimate = checker.gradcheck_seconds(net, x, labels, checker.parameters_checked(net, 1))
    t0 = time.perf_counter()
    result = checker.gradcheck(net, x, labels, sample=1, rng=0)
    took = time.perf_counter() - t0
    assert result.checked == 4
    assert estimate >= checker.BACKPROP_CALLS * 0.05 and estimate > 0.5 * took


def test_gradcheck_refuses_a_network_too_slow_for_max_time_however_small_the_sample(
        monkeypatch, capsys):
    monkeypatch.setattr(Network, "backprop_batch", slow_backprop(0.1))
    status, out, err = run(["gradcheck", "--sizes", 4, 5, 3, "--sample", 1, "--max-time", 0.3],
                           capsys)
    assert status == 2 and out == ""
    # a smaller sample would not help: only a longer --max-time is offered
    assert err.startswith("bprop: error: checking 4 of the 43 parameters of [4, 5, 3] takes "
                          "about ") and "; give --max-time " in err and "--sample" not in err


def test_gradcheck_says_how_many_parameters_a_sample_checks(monkeypatch, capsys):
    asked = []

    def estimate(net, x, y, params=None, threads=None):
        asked.append(params)
        return 10.0
    monkeypatch.setattr("bprop.cli.gradcheck.gradcheck_seconds", estimate)
    status, out, err = run(["gradcheck", "--sizes", 4, 5, 3, "--sample", 1], capsys)
    assert status == 0 and "(4 checked)" in out and asked == [4]     # one from each array
    assert err == "bprop: checking 4 parameters: about 10 s\n"
    net = Network([30, 20, 10], rng=0)
    x, labels = data(net)
    for sample in (1, 5, 50, 829, 830, 10**6, None):
        assert checker.parameters_checked(net, sample) == \
               checker.gradcheck(net, x, labels, sample=sample, rng=0).checked


# -- the flags (cli/parser.py) ---------------------------------------------------------------
def test_gradcheck_takes_threads_as_train_does(monkeypatch, capsys, blas):
    get, set_ = blas
    set_(1)
    load(monkeypatch, 0.1)
    seen = threads_seen(monkeypatch, get)
    status, out, err = run(["gradcheck", "--sizes", 4, 5, 3, "--threads", 2], capsys)
    assert status == 0 and "  ok" in out and err == ""
    assert len(seen) > 86 and set(seen) == {2} and get() == 1
    for bad, got in (("0", "0"), ("two", "'two'")):
        status, _, err = run(["gradcheck", "--threads", bad], capsys)
        assert status == 2 and f"argument --threads: expected an integer >= 1; got {got}" in err


def test_gradcheck_help_says_what_is_estimated(capsys):
    status, out, _ = run(["gradcheck", "--help"], capsys)
    text = " ".join(out.split())
    assert status == 0
    assert ("the check is estimated: two forward passes per parameter checked, plus what the "
            "network's size costs however few are checked (checking its parameters, five "
            "backprop calls)") in text
    assert "--threads N BLAS threads (default: 1 for layers under 100,000 weights" in text


def test_a_check_refused_under_a_tiny_max_time_is_offered_one_that_works(capsys):
    """'give --max-time 0' (refused as not positive) was offered for a check of 4 ms."""
    status, _, err = run(["gradcheck", "--sizes", 4, 5, 3, "--max-time", 0.0001], capsys)
    assert status == 2
    offered = re.search(r"takes about (\S+ s) .*give --max-time (\S+) to wait for it", err)
    assert offered and offered.group(1) != "0 s" and float(offered.group(2)) >= 1, err
    status, out, _ = run(["gradcheck", "--sizes", 4, 5, 3, "--max-time", offered.group(2)],
                         capsys)
    assert status == 0 and "  ok" in out
