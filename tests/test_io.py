"""Model files: bit-identical round trips, atomic writes, corrupt files rejected."""

import json
import io
import os
import re
import threading
import zipfile

import numpy as np
import pytest

from bprop import ModelFileError, Network, TrainConfig, load, network2, save
from bprop.io import atomic_write, load_checkpoint, save_book_json, save_history


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_round_trip_is_bit_identical(tmp_path, dtype):
    net = Network([5, 4, 3], ["relu", "softmax"], "log-likelihood", init="he", rng=0, dtype=dtype)
    path = tmp_path / "m.npz"
    save(net, path)
    back = load(path)
    assert back.sizes == net.sizes and back.activation_names == net.activation_names
    assert back.cost is net.cost and back.dtype == net.dtype
    for a, b in zip(net.weights + net.biases, back.weights + back.biases):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(1).random((5, 2)).astype(dtype)
    np.testing.assert_array_equal(net.feedforward(x), back.feedforward(x))


def test_checkpoint_keeps_config_history_rng_and_optimizer(tmp_path):
    X = np.random.default_rng(0).random((30, 3))
    y = np.arange(30) % 2
    net = Network([3, 4, 2], rng=5)
    from bprop.optimizers import make_optimizer
    opt = make_optimizer("momentum", 0.5)
    config = TrainConfig(epochs=2, mini_batch_size=4, eta=0.5, optimizer="momentum")
    from bprop.train import train
    history = train(net, X, y, config, optimizer=opt)
    save(net, tmp_path / "c.npz", config=config, history=history, epoch=2, optimizer=opt)
    ck = load_checkpoint(tmp_path / "c.npz")
    assert ck.epoch == 2 and ck.meta["config"]["optimizer"] == "momentum"
    assert len(ck.meta["history"]["records"]) == 2
    assert ck.net.rng.bit_generator.state == net.rng.bit_generator.state
    assert sorted(ck.optimizer_state) == sorted(opt.state())
    for k, v in opt.state().items():
        np.testing.assert_array_equal(ck.optimizer_state[k], v)


def test_interrupted_save_keeps_the_previous_file(tmp_path):
    path = tmp_path / "m.npz"
    net = Network([3, 2], rng=0)
    save(net, path)
    before = path.read_bytes()

    def dies(f):
        f.write(b"partial")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, dies)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.npz"]          # no temporary left behind


def test_truncated_file_rejected(tmp_path):
    path = tmp_path / "m.npz"
    save(Network([30, 20, 10], rng=0), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="not a readable bprop model file"):
        load(path)


def test_garbage_and_missing_files_rejected(tmp_path):
    (tmp_path / "g.npz").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(ModelFileError, match="not a readable bprop model file"):
        load(tmp_path / "g.npz")
    with pytest.raises(ModelFileError, match="model file not found"):
        load(tmp_path / "nope.npz")


def _rewrite(path, **changes):
    with np.load(path, allow_pickle=False) as d:
        arrays = {k: d[k] for k in d.files}
    meta = json.loads(str(arrays["meta"]))
    for k, v in changes.items():
        if k == "meta":
            meta.update(v)
        elif v is None:
            arrays.pop(k)
        else:
            arrays[k] = v
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)


@pytest.mark.parametrize("change,match", [
    ({"w0": np.zeros((2, 2))}, r"w0 has shape \(2, 2\); the header's sizes \[3, 4, 2\] need \(4, 3\)"),
    ({"b1": None}, "array b1 is missing"),
    ({"meta": {"sizes": [3, 0, 2]}}, r"header field 'sizes' must be a list of at least two "
                                     r"positive integers; got \[3, 0, 2\]"),
    ({"meta": {"activations": ["relu", "sigmod"]}}, "unknown activation 'sigmod'"),
    ({"meta": {"version": 99}}, "format version 99 is not supported"),
    ({"meta": {"format": "other"}}, "does not say format"),
    ({"w1": np.full((2, 4), np.nan)}, "non-finite"),
])
def test_inconsistent_files_rejected(tmp_path, change, match):
    path = tmp_path / "m.npz"
    save(Network([3, 4, 2], rng=0), path)
    _rewrite(path, **change)
    with pytest.raises(ModelFileError, match=match):
        load(path)


def _checkpoint(path, optimizer="adam"):
    from bprop.optimizers import make_optimizer
    from bprop.train import train
    rng = np.random.default_rng(0)
    X, y = rng.random((30, 3)), np.arange(30) % 2
    net = Network([3, 4, 2], rng=5)
    config = TrainConfig(epochs=2, mini_batch_size=4, eta=0.5, optimizer=optimizer,
                         early_stopping=True)
    opt = make_optimizer(optimizer, 0.5)
    history = train(net, X, y, config, optimizer=opt, validation=(X[:10], y[:10]))
    save(net, path, config=config, history=history, epoch=2, optimizer=opt)
    return path


def _record(**changes):
    return {"records": [{"epoch": 0, "eta": 0.5, "seconds": 0.1, **changes}]}


@pytest.mark.parametrize("change,match", [
    ({"meta": {"epoch": "two"}}, "header field 'epoch' must be an integer >= 0; got 'two'"),
    ({"meta": {"epoch": True}}, "header field 'epoch' must be an integer"),
    ({"meta": {"config": [1]}}, "header field 'config' must be an object; got list"),
    ({"meta": {"optimizer": "sgd"}}, "header field 'optimizer' must be an object; got str"),
    ({"meta": {"history": [1, 2]}}, "header field 'history' must be an object"),
    ({"meta": {"config": {"epochs": 3, "foo": 1}}}, "header config: unknown setting 'foo'"),
    ({"meta": {"config": {"epochs": "x"}}}, "header config: epochs must be an integer"),
    ({"meta": {"history": {"records": [{"epoch": 0}]}}}, "header history: history record 0 "
                                                          "has no 'eta'"),
    ({"meta": {"history": _record(train_cost="x")}}, "record 0: 'train_cost' must be a number; "
                                                     "got 'x'"),
    ({"meta": {"history": _record(epoch=-1)}}, "'epoch' must be an integer >= 0"),
    ({"meta": {"history": _record(colour=1)}}, "record 0 has unknown field 'colour'"),
    ({"meta": {"history": {"records": 5}}}, "history 'records' must be a list"),
    ({"best_1": None}, "the saved best weights lack array best_1"),
])
def test_edited_checkpoint_headers_rejected(tmp_path, change, match):
    path = _checkpoint(tmp_path / "c.npz")
    load_checkpoint(path)                                    # fine before the edit
    _rewrite(path, **change)
    with pytest.raises(ModelFileError, match=f"^{re.escape(str(path))}: .*{re.escape(match)}"):
        load_checkpoint(path)


@pytest.mark.parametrize("edit,match", [
    (lambda a: a.update(opt_m1=a["opt_m1"].T), r"'m1' has shape \(4, 2\); the network needs "
                                               r"\(2, 4\)"),
    (lambda a: a.pop("opt_v1"), "state has no 'v1'"),
    (lambda a: a.update(opt_v1=np.full_like(a["opt_v1"], np.nan)), "'v1' holds values that are "
                                                                   "not finite numbers"),
    (lambda a: a.update(opt_t=np.array([1, 2])), r"'t' has shape \(2,\)"),
    (lambda a: a.update(opt_x=np.zeros(2)), "unexpected 'x'"),
    (lambda a: a.update(opt_t=np.array(-3)), "step count t is -3; it must be a whole number"),
    (lambda a: a.update(opt_t=np.array(2.5)), "step count t is 2.5"),
    (lambda a: a.update(opt_v0=-a["opt_v0"] - 1.0), "'v0' holds negative values"),
])
def test_edited_optimizer_state_is_refused_at_load(tmp_path, edit, match):
    from bprop.optimizers import make_optimizer
    path = _checkpoint(tmp_path / "c.npz")
    with np.load(path, allow_pickle=False) as d:
        arrays = {k: d[k] for k in d.files}
    opt = make_optimizer("adam", 0.5)
    ck = load_checkpoint(path)
    opt.check_state(ck.optimizer_state, (*ck.net.weights, *ck.net.biases))  # fine as saved
    edit(arrays)
    np.savez(path, **arrays)
    with pytest.raises(ModelFileError, match=f"^{re.escape(str(path))}: .*{match}"):
        load_checkpoint(path)


def test_saved_optimizer_state_passes_its_check(tmp_path):
    from bprop.optimizers import make_optimizer
    for name in ("momentum", "adam", "sgd"):
        ck = load_checkpoint(_checkpoint(tmp_path / f"{name}.npz", name))
        make_optimizer(name, 0.5).check_state(ck.optimizer_state,
                                              (*ck.net.weights, *ck.net.biases))


def test_corrupt_zip_fields_are_model_file_errors(tmp_path):
    path = tmp_path / "m.npz"
    save(Network([3, 4, 2], rng=0), path)
    raw = bytearray(path.read_bytes())
    central = raw.index(b"PK\x01\x02")
    raw[central + 6] = 0xAD                     # "version needed to extract": 17.3
    path.write_bytes(bytes(raw))
    with pytest.raises(ModelFileError, match="not a readable bprop model file .*"
                                             "NotImplementedError"):
        load(path)


def test_network2_json_with_a_byte_order_mark(tmp_path):
    net = network2.Network([3, 2])
    path = tmp_path / "net.json"
    net.save(str(path))
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())       # as a Windows editor saves it
    got = load(path)
    np.testing.assert_array_equal(got.weights[0], net.weights[0])


def test_a_pipe_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "m.npz"
    os.mkfifo(fifo)
    outcome = []

    def attempt():
        try:
            load(fifo)
        except ModelFileError as e:
            outcome.append(str(e))
    reader = threading.Thread(target=attempt, daemon=True)   # a blocked open() must not
    reader.start()                                           # hang the test run
    reader.join(5)
    assert not reader.is_alive(), "load() blocked on a pipe"
    assert outcome and "is not a regular file" in outcome[0]


@pytest.mark.parametrize("given, name", [(None, "NoneType"), (io.BytesIO(b"PK"), "BytesIO"),
                                         (3, "int")])
def test_load_names_what_it_needs_when_given_no_path(given, name):
    with pytest.raises(ModelFileError, match=rf"^a model file is read from its path \(a str or "
                                             rf"os.PathLike\); got {name}$"):
        load(given)


def test_loading_a_model_leaves_numpys_global_generator_alone(tmp_path):
    """bprop's .npz models come back trained the array way, with a generator of their own:
    not in book mode, which would draw initial weights from np.random (and shuffle lists)."""
    path = tmp_path / "m.npz"
    save(Network([4, 3, 2], rng=0), path)
    np.random.seed(1)
    expected = np.random.rand()
    np.random.seed(1)
    net = load(path)
    assert np.random.rand() == expected
    assert not net.book_mode
    np.random.seed(2)
    expected = np.random.rand()
    np.random.seed(2)
    net.SGD([(np.ones((4, 1)), np.eye(2)[:, [0]])] * 4, 1, 2, 1.0)     # shuffles from net.rng
    assert np.random.rand() == expected


def test_pickled_object_arrays_are_not_loaded(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, meta=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ModelFileError):
        load(path)


def test_book_json_round_trip_and_network2_load(tmp_path):
    net = network2.Network([4, 3, 2], rng=0)
    path = tmp_path / "net.json"
    net.save(path)
    data = json.loads(path.read_text())
    assert set(data) == {"sizes", "weights", "biases", "cost"} and data["cost"] == "CrossEntropyCost"
    back = network2.load(path)
    assert isinstance(back, network2.Network) and back.cost.__name__ == "CrossEntropyCost"
    for a, b in zip(net.weights + net.biases, back.weights + back.biases):
        np.testing.assert_array_equal(a, b)
    # bprop.load sniffs the JSON too
    np.testing.assert_array_equal(load(path).weights[0], net.weights[0])
    save_book_json(Network([2, 2], rng=0), tmp_path / "q.json")
    assert json.loads((tmp_path / "q.json").read_text())["cost"] == "QuadraticCost"


def test_bad_book_json_rejected(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text('{"sizes": [2, 2], "weights": [[[1, 2]]], "biases": [[[0], [0]]], '
                 '"cost": "QuadraticCost"}')
    with pytest.raises(ModelFileError, match=r"weights\[0\] has shape \(1, 2\); expected \(2, 2\)"):
        load(p)
    p.write_text('{"sizes": [2, 2], "weights": [], "biases": [], "cost": "HingeCost"}')
    with pytest.raises(ModelFileError, match="unknown cost 'HingeCost'"):
        load(p)
    p.write_text('{"sizes": [2, 2]')
    with pytest.raises(ModelFileError, match="not valid JSON"):
        load(p)


def test_history_files(tmp_path):
    X = np.random.default_rng(0).random((20, 3))
    net = Network([3, 2], rng=0)
    h = net.fit(X, np.arange(20) % 2, epochs=2, batch_size=5, eta=1.0)
    j, c = save_history(h, tmp_path / "m.npz")
    assert j.endswith("m.history.json") and c.endswith("m.history.csv")
    rows = open(c).read().splitlines()
    assert rows[0].startswith("epoch,eta,seconds,train_cost") and len(rows) == 3
    assert json.load(open(j))["records"][1]["epoch"] == 1


def test_npz_is_a_plain_zip_of_npy(tmp_path):
    path = tmp_path / "m.npz"
    save(Network([2, 2], rng=0), path)
    assert sorted(zipfile.ZipFile(path).namelist()) == ["b0.npy", "meta.npy", "w0.npy"]


def test_written_files_are_readable_by_others(tmp_path):
    save(Network([2, 2], rng=0), tmp_path / "m.npz")
    assert (tmp_path / "m.npz").stat().st_mode & 0o777 == 0o644


def test_book_json_refuses_what_it_cannot_hold(tmp_path):
    with pytest.raises(ModelFileError, match="holds sigmoid networks only; this one has relu, "
                                             "sigmoid: use bprop.save"):
        network2.Network([4, 3, 2], activations=["relu", "sigmoid"]).save(tmp_path / "r.json")
    assert not (tmp_path / "r.json").exists()


def test_load_errors_are_model_file_errors(tmp_path):
    with pytest.raises(ModelFileError, match="model file not found"):
        network2.load(tmp_path / "missing.json")
    p = tmp_path / "c.json"
    p.write_text('{"sizes": [2, 2], "weights": [], "biases": [], "cost": ["x"]}')
    with pytest.raises(ModelFileError, match=r"unknown cost \['x'\]"):
        load(p)
    for content in (b"\x7fELF\x02\x01", b"\tnot json"):
        p.write_bytes(content)
        with pytest.raises(ModelFileError, match=r"not a readable bprop model file \(neither "
                                                 r"\.npz nor JSON"):
            load(p)


def test_write_errors_name_the_users_path_not_the_temporary_file(tmp_path):
    net = Network([3, 2], rng=0)
    with pytest.raises(FileNotFoundError) as missing:
        save(net, tmp_path / "no" / "m.npz")
    assert missing.value.filename == str(tmp_path / "no" / "m.npz")
    assert ".tmp-" not in str(missing.value)
    with pytest.raises(IsADirectoryError) as directory:
        save(net, tmp_path)
    assert directory.value.filename == str(tmp_path) and ".tmp-" not in str(directory.value)
    assert os.listdir(tmp_path) == []                   # nothing left behind


def test_empty_model_file_is_called_empty(tmp_path):
    (tmp_path / "e.npz").write_bytes(b"")
    with pytest.raises(ModelFileError, match="e.npz is empty or blank"):
        load(tmp_path / "e.npz")


def test_network2_json_is_read_without_leaking_the_file(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "n.json"
    network2.Network([3, 2]).save(str(path))
    code = ("import gc; from bprop import network2; network2.load(%r); gc.collect(); "
            "print('ok')" % str(path))
    res = subprocess.run([sys.executable, "-X", "dev", "-W", "error::ResourceWarning", "-c",
                          code], capture_output=True, text=True, check=False)
    assert res.stdout.strip() == "ok", res.stderr
    assert "ResourceWarning" not in res.stderr and "unclosed" not in res.stderr


def test_json_that_is_not_a_network2_model(tmp_path):
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(ModelFileError, match="expected a network2 JSON object"):
        load(tmp_path / "list.json")
    ragged = {"sizes": [2, 2], "weights": [[[1.0, 2.0], [3.0]]], "biases": [[[0.0], [0.0]]],
              "cost": "QuadraticCost"}
    (tmp_path / "ragged.json").write_text(json.dumps(ragged))
    with pytest.raises(ModelFileError, match=r"weights\[0\] is not a rectangular array"):
        load(tmp_path / "ragged.json")


# -- atomic_write: what the replaced file was ---------------------------------------------------
def _write(text):
    return lambda f: f.write(text.encode())


def test_atomic_write_writes_through_a_symbolic_link(tmp_path):
    (tmp_path / "store").mkdir()
    target = tmp_path / "store" / "real.npz"
    target.write_text("old")
    link = tmp_path / "link.npz"
    link.symlink_to(target)
    atomic_write(link, _write("new"))
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new"
    assert sorted(p.name for p in (tmp_path / "store").iterdir()) == ["real.npz"]


def test_atomic_write_keeps_the_permissions_of_the_file_it_replaces(tmp_path):
    path = tmp_path / "private.npz"
    path.write_text("old")
    path.chmod(0o600)
    atomic_write(path, _write("new"))
    assert path.read_text() == "new" and (path.stat().st_mode & 0o777) == 0o600


@pytest.mark.parametrize("umask,mode", [(0o077, 0o600), (0o022, 0o644)])
def test_atomic_write_gives_a_new_file_the_umask_permissions(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        atomic_write(tmp_path / "new.npz", _write("x"))
    finally:
        os.umask(old)
    assert ((tmp_path / "new.npz").stat().st_mode & 0o777) == mode


def test_atomic_write_refuses_to_replace_what_is_not_a_regular_file(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(FileExistsError, match="not a regular file"):
        atomic_write(fifo, _write("x"))
    assert fifo.exists() and not fifo.is_file()             # still the pipe
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]  # no temporary file left


def test_save_needs_a_network(tmp_path):
    from bprop import ConfigError
    net = Network([3, 2], rng=0)
    lookalike = type("Lookalike", (), dict(vars(net)))()      # every field, not a Network
    for thing, name in ((lookalike, "Lookalike"), ("net", "str")):
        with pytest.raises(ConfigError, match=f"save needs a Network; got {name}"):
            save(thing, tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()
