"""The speed benchmark's harness (benchmarks/bench.py and its bench*.py modules) measures
what it says it measures.

Timings are never asserted here (they belong to `make bench`); these tests check that the
implementations it times compute the same training step, and that its ratio checks and
report do what the README says, on small random data.
"""

import importlib.util
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench.py"
sys.path.insert(0, str(BENCH.parent))      # bench.py's own modules, as it finds them
from benchconfigs import CONFIGS  # noqa: E402
from benchreport import Row, describe_want, ratios_and_checks  # noqa: E402
from benchrunners import (BookCodeRunner, BpropRunner, FitDefaultRunner,  # noqa: E402
                          PerExampleRunner, TorchFunctionalRunner, TorchRunner, agreement,
                          count_feedforward_passes, make_net)


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_under_test", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def small_data(n, n_in=12, n_out=10, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, n_in))
    y = rng.integers(0, n_out, n)
    Y = np.zeros((n, n_out))
    Y[np.arange(n), y] = 1.0
    return dict(X=X, y=y, Y=Y, X_test=X[:20], y_test=y[:20], source="test")


def small_run(bench, tmp_path, configs, *flags, n_train=600, rounds=2, memory=False,
              onerow=False):
    """bench.main's exit status for ``configs`` on a little random data (no torch; memory
    and one-row measurements only when asked), with ``flags`` added."""
    argv = ["--configs", configs, "--n-train", str(n_train), "--rounds", str(rounds),
            "--no-torch", "--eval-repeats", "1", "--data-dir", str(tmp_path / "absent"),
            *flags]
    argv += [] if memory else ["--no-memory"]
    argv += [] if onerow else ["--no-onerow"]
    return bench.main(argv)


def small_config(**kw):
    book = next(c for c in CONFIGS if c.name == "book-mb10")
    return replace(book, sizes=(12, 7, 10), **kw)


@pytest.mark.parametrize("mbs", [1, 10, 7])
def test_references_and_bprop_take_the_same_steps(mbs):
    """per-example, book-code and bprop's training path, from the same weights and in the
    same order, end one epoch with the same weights (to rounding)."""
    cfg = small_config(mini_batch_size=mbs)
    data = small_data(60)
    per_example = PerExampleRunner(cfg, data, 3, 60)
    book_code = BookCodeRunner(cfg, data, 3, 60)
    per_example.run(1)
    book_code.run(1)
    # bprop's path, replaying the references' data order: they draw it from default_rng(4)
    net = make_net(cfg, 3)
    order = np.random.default_rng(4).permutation(60)
    for k in range(0, 60, mbs):
        idx = order[k:k + mbs]
        net.update_mini_batch([(data["X"][i].reshape(-1, 1), data["Y"][i].reshape(-1, 1))
                               for i in idx], cfg.eta)
    for a, b, c in zip(per_example.net.weights, book_code.net.weights, net.weights):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(c, a, rtol=1e-10, atol=1e-12)
    moved = [not np.allclose(w, w0) for w, w0 in zip(per_example.net.weights,
                                                     make_net(cfg, 3).weights)]
    assert all(moved)


@pytest.mark.parametrize("config", ["book-mb10", "deep-relu-mb128-f64"])
def test_both_torch_loops_take_bprops_steps(config):
    """The nn/optim loop and the hand-written one train the same network as bprop: after an
    epoch from the same weights in the same order, weights and biases agree to rounding."""
    torch = pytest.importorskip("torch")
    cfg = next(c for c in CONFIGS if c.name == config)
    cfg = replace(cfg, sizes=(12, 7, 10) if config == "book-mb10" else (12, 9, 8, 10),
                  mini_batch_size=7)
    data = small_data(60)
    for runner in (TorchRunner, TorchFunctionalRunner):
        assert agreement(cfg, data, 3, torch, runner, n=60) < 1e-12
    # and the check can fail: a different eta is seen
    bp = BpropRunner(cfg, data, 3)
    other = TorchFunctionalRunner(replace(cfg, eta=cfg.eta * 1.01), data, bp, torch)
    bp.run(1)
    other.run(1)
    assert max(float(np.max(np.abs(a - b))) for a, b in
               zip((*bp.net.weights, *bp.net.biases), other.parameters())) > 1e-6


def test_book_code_runs_only_where_the_books_code_applies():
    applies = {c.name: BookCodeRunner.applies(c) for c in CONFIGS}
    assert applies["book-mb10"] and applies["book-mb100"] and applies["wide-mb100-f64"]
    assert not applies["book-mb10-f32"] and not applies["deep-relu-mb128-f64"]


def test_ratio_checks_pass_and_fail_on_the_targets():
    def result(name, seconds):
        rows = [Row(name, impl, seconds=list(s)) for impl, s in seconds.items()]
        return dict(config=dict(name=name), rows=rows)

    times = {"bprop": [1.0, 1.2, 1.1], "torch": [2.5, 2.0, 2.4],
             "per-example": [14.0, 14.5, 13.0]}
    results = [result("book-mb100-w2", times), result("book-mb100", times)]
    checks = {(c["config"], c["impl"]): c
              for c in ratios_and_checks(results, torch_present=True)}
    torch, per_example = checks["book-mb100-w2", "torch"], checks["book-mb100-w2", "per-example"]
    assert torch["ok"] and torch["ratio"] == pytest.approx(2.4 / 1.1)
    assert per_example["ok"] is False and per_example["kind"] == "target"     # 14 / 1.1 < 15
    # the same targets for one process are reported, not failed
    one = checks["book-mb100", "per-example"]
    assert one["ok"] is False and one["kind"] == "one process"
    rows = {r.impl: r for r in results[0]["rows"]}
    assert rows["torch"].ratio_min == pytest.approx(2.0 / 1.0)


def test_fit_default_times_epochs_of_fit_as_a_user_calls_it():
    cfg = small_config()
    data = small_data(200)
    runner = FitDefaultRunner(cfg, data, 3)
    before = [w.copy() for w in runner.net.weights]
    seconds, measured = runner.run(2)
    assert len(seconds) == 2 and all(t > 0 for t in seconds) and measured == 200
    # three epochs trained (the first untimed), by fit's defaults
    fresh = make_net(cfg, 3)
    history = fresh.fit(data["X"], data["y"], epochs=3, batch_size=cfg.mini_batch_size,
                        eta=cfg.eta)
    for a, b in zip(runner.net.weights, fresh.weights):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(before[0], fresh.weights[0])
    assert history.records[-1].running_cost is not None
    assert all(type(t) is float for t in seconds)       # the JSON report takes them


def test_fit_default_row_and_its_check_reach_the_report_and_json(bench, tmp_path, capsys):
    out = tmp_path / "bench.json"
    code = small_run(bench, tmp_path, "book-mb10", "--impls", "fit-default", "--json", str(out),
                     n_train=300)
    assert code == 0
    report = capsys.readouterr().out
    assert "| book-mb10 | fit-default | 1 |" in report
    assert "check book-mb10 vs fit-default: ratio" in report
    checks = json.loads(out.read_text())["checks"]
    fit = [c for c in checks if c["impl"] == "fit-default"]
    assert len(fit) == 1 and isinstance(fit[0]["ok"], bool) and fit[0]["ratio"] > 0
    assert {c.name for c in CONFIGS if FitDefaultRunner.applies(c)} == \
        {"book-mb10", "wide-mb100-f64"}


def test_predict_is_counted_as_one_batched_pass():
    net = make_net(small_config(), 1)
    assert count_feedforward_passes(net, small_data(50)["X"]) == 1


def test_fit_default_is_held_below_its_ceiling():
    def checks(fit_seconds):
        rows = [Row("book-mb10", "bprop", seconds=[1.0, 1.0, 1.0]),
                Row("book-mb10", "fit-default", seconds=fit_seconds)]
        return {c["impl"]: c for c in ratios_and_checks(
            [dict(config=dict(name="book-mb10"), rows=rows)], torch_present=False)}
    ok = checks([1.05, 1.08, 1.02])["fit-default"]
    assert ok["ok"] and ok["kind"] == "target" and ok["ratio"] == pytest.approx(1.05)
    assert describe_want(ok) == "<= 1.10x the training pass"
    slow = checks([1.2, 1.1, 1.3])["fit-default"]
    assert slow["ok"] is False and slow["kind"] == "target"


def test_one_row_predictions_are_measured_against_the_same_network(bench):
    onerow = bench.onerow
    result = onerow.measure(blocks=1)
    assert list(result["rows"]) == [1, 10, 100]
    for times in result["rows"].values():
        assert {"bprop", "numpy"} <= set(times) and all(t > 0 for t in times.values())
    assert result["ok"] == (result["rows"][1]["bprop"] <= onerow.TARGET_US)
    if result["onnxruntime"]:
        assert result["max_abs_diff"] < 1e-5          # float32: the same network
        assert all("onnxruntime" in t for t in result["rows"].values())
    lines = []
    onerow.report(result, lines.append)
    assert any(line.startswith("| 1 | ") for line in lines)
    assert lines[-1].startswith("check one-row predict_proba:")


def test_a_slow_one_row_prediction_fails_the_check(bench, tmp_path, capsys, monkeypatch):
    def slow(blocks):
        return dict(sizes=[784, 100, 10], dtype="float32", onnxruntime=False,
                    max_abs_diff=None, target_us=25.0, ok=False,
                    rows={n: {"bprop": 30.0 * n, "numpy": 9.0 * n} for n in (1, 10, 100)})
    monkeypatch.setattr(bench.onerow, "measure", slow)
    code = small_run(bench, tmp_path, "book-mb100", "--impls", "bprop", "--check", n_train=300,
                     onerow=True)
    out, err = capsys.readouterr()
    assert "check one-row predict_proba: 30.0 µs, want <= 25 µs: FAIL" in out
    assert code == 1 and "--check: 1 target(s) not met" in err


def test_quick_run_on_random_data_writes_the_report(bench, tmp_path, capsys):
    out = tmp_path / "bench.json"
    code = small_run(bench, tmp_path, "book-mb100", "--per-example-subset", "200",
                     "--json", str(out))
    assert code == 0
    report = capsys.readouterr().out
    assert "random data of Fashion-MNIST's shape" in report
    for impl in ("bprop", "per-example", "book-code", "matmul-floor"):
        assert f"| book-mb100 | {impl}" in report
    assert out.exists() and '"ratio_min"' in out.read_text()
    result = json.loads(out.read_text())["results"][0]
    assert all(n == 1 for n in result["threads_in_force"]["blas"])     # book-mb100: 1 thread


def test_two_process_config_runs_bprop_with_workers(bench, tmp_path, capsys):
    from bprop.training.parallel import available_cpus
    if not (sys.platform.startswith("linux") and available_cpus() >= 2):
        pytest.skip("needs Linux with at least 2 CPUs")
    code = small_run(bench, tmp_path, "book-mb100-w2", "--per-example-subset", "200",
                     "--impls", "per-example")
    assert code == 0
    report = capsys.readouterr().out
    assert "| book-mb100-w2 | bprop | 2 proc x 1 |" in report
    assert "| book-mb100-w2 | per-example * | 2 |" in report


def test_threads_flag_leaves_the_two_process_configs_alone(bench, tmp_path, capsys):
    """--threads 1 would pit bprop's two processes against one-thread references."""
    from bprop.training.parallel import available_cpus
    if not (sys.platform.startswith("linux") and available_cpus() >= 2):
        pytest.skip("needs Linux with at least 2 CPUs")
    out = tmp_path / "bench.json"
    code = small_run(bench, tmp_path, "book-mb100-w2,book-mb100", "--threads", "2",
                     "--per-example-subset", "100", "--impls", "", "--json", str(out))
    assert code == 0
    capsys.readouterr()
    threads = {r["config"]["name"]: r["config"]["threads"]
               for r in json.loads(out.read_text())["results"]}
    assert threads == {"book-mb100": 2, "book-mb100-w2": 2}
    code = small_run(bench, tmp_path, "book-mb100-w2", "--threads", "1", "--impls", "",
                     "--json", str(out))
    assert code == 0
    assert json.loads(out.read_text())["results"][0]["config"]["threads"] == 2


def test_a_failed_memory_run_is_reported_and_fails_the_check(bench, tmp_path, capsys,
                                                              monkeypatch):
    def failing(cmd, **kw):
        return subprocess.CompletedProcess(cmd, 1, stdout="", stderr="Traceback\nMemoryError: boom")
    monkeypatch.setattr(subprocess, "run", failing)
    code = small_run(bench, tmp_path, "book-mb10", "--impls", "bprop", "--check", n_train=300,
                     memory=True)
    out, err = capsys.readouterr()
    assert "| book-mb10 | error: MemoryError: boom |" in out
    assert code == 1 and "--check: 1 target(s) not met" in err


@pytest.mark.parametrize("epochs_per_round, rounds_kept", [(1, 5), (3, 2)])
def test_budget_never_cuts_below_five_epochs_in_two_rounds(bench, tmp_path, capsys,
                                                           epochs_per_round, rounds_kept):
    out = tmp_path / "bench.json"
    small_run(bench, tmp_path, "book-mb100", "--epochs-per-round", str(epochs_per_round),
              "--budget", "0", "--impls", "bprop", "--json", str(out), n_train=300, rounds=7)
    capsys.readouterr()
    result = json.loads(out.read_text())["results"][0]
    assert result["rounds"] == rounds_kept
    assert len(result["rows"][0]["seconds"]) == rounds_kept * epochs_per_round


def test_compare_times_two_checkouts_side_by_side(tmp_path):
    """compare.py on this checkout twice: every configuration asked for gets a row, each
    checkout ran in its own processes, and the ratios are near 1."""
    compare = BENCH.with_name("compare.py")
    src = str(BENCH.parents[1] / "src")
    done = subprocess.run([sys.executable, str(compare), src, src, "--configs", "book-mb100",
                           "--rounds", "2", "--epochs", "1", "--n-train", "300",
                           "--data-dir", str(tmp_path / "absent")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (row,) = [line for line in done.stdout.splitlines() if line.startswith("| book-mb100 |")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert 0.2 < float(cells[3]) < 5 and "random data" in done.stdout
    assert done.stderr.count("book-mb100 round") == 2


def test_book_speed_compares_a_book_program_with_the_books_operations(tmp_path):
    """benchmarks/book_speed.py on random data: the seeded book program prints the same lines
    as the book's operations, and every row of the table is there."""
    done = subprocess.run([sys.executable, str(BENCH.with_name("book_speed.py")), "--n", "200",
                           "--test", "40", "--rounds", "2", "--data-dir", str(tmp_path / "x")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "printed lines identical: yes ('Epoch 0: " in done.stdout
    for row in ("| SGD epoch (s) |", "| backprop per call (µs) |", "| feedforward per call"):
        assert row in done.stdout
