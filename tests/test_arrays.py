"""Array directories (.npy files, memory-mapped), the cache of decoded IDX sets, and the
shifted-images writer: large sets train without being converted whole."""

import json
import mmap
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import bprop
from bprop import datasets
from bprop.datasets import arrays, sources
from bprop.errors import DataError
from bprop.rows import ScaledRows

SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("BPROP_DATA", str(root))
    monkeypatch.setattr(arrays, "CACHE_MIN_BYTES", 0)     # the test's files are small
    return root


@pytest.fixture
def idx_dir(tmp_path):
    """A small MNIST-like IDX directory: 300 training and 60 test 6x6 images."""
    rng = np.random.default_rng(1)
    d = tmp_path / "idx"
    d.mkdir()
    for split, n in (("train", 300), ("t10k", 60)):
        datasets.write_idx(d / f"{split}-images-idx3-ubyte.gz",
                           rng.integers(0, 256, (n, 6, 6), dtype=np.uint8))
        datasets.write_idx(d / f"{split}-labels-idx1-ubyte.gz",
                           rng.integers(0, 4, n).astype(np.uint8))
    return d


def mapped(a):
    """Whether array ``a`` is (a view of) a memory-mapped file."""
    while a is not None:
        if isinstance(a, (np.memmap, mmap.mmap)):
            return True
        a = getattr(a, "base", None)
    return False


def write_bytes_set(directory, n=500, width=12, **kw):
    rng = np.random.default_rng(2)
    X = rng.integers(0, 256, (n, width), dtype=np.uint8)
    y = (X[:, 0] > 127).astype(np.int64) + 2 * (X[:, 1] > 127)
    Xt = rng.integers(0, 256, (50, width), dtype=np.uint8)
    datasets.write_arrays(directory, X, y, Xt, rng.integers(0, 4, 50), **kw)
    return X, y


def test_an_array_directory_is_mapped_and_trains_as_its_converted_rows(tmp_path):
    X, y = write_bytes_set(tmp_path / "set", class_names=list("abcd"))
    lazy = datasets.load(tmp_path / "set", validation=100)
    eager = datasets.load(tmp_path / "set", validation=100, lazy=False)
    assert isinstance(lazy.X_train, ScaledRows) and isinstance(eager.X_train, np.ndarray)
    assert mapped(lazy.X_train.raw)                         # not read into memory
    assert lazy.class_names == ("a", "b", "c", "d") and lazy.n_classes == 4
    # the validation set is the last 100 rows, as for MNIST: a view, no copy of the rest
    np.testing.assert_array_equal(lazy.y_val, y[400:])
    np.testing.assert_array_equal(lazy.X_train[:], eager.X_train)
    np.testing.assert_array_equal(eager.X_val, X[400:] / 255)
    nets = []
    for data in (lazy, eager):
        net = bprop.Network([12, 8, 4], rng=0)
        net.fit(data.X_train, data.y_train, epochs=2, batch_size=10, eta=1.0,
                validation=(data.X_val, data.y_val))
        nets.append(net)
    for p, q in zip(nets[0].weights, nets[1].weights):
        np.testing.assert_array_equal(p, q)
    assert datasets.data_fingerprint(lazy) == datasets.data_fingerprint(eager)
    from bprop.diagnostics import layer_stats
    assert layer_stats(nets[0], lazy.X_train, lazy.y_train) == \
        layer_stats(nets[0], eager.X_train, eager.y_train)
    book = lazy.book_data()[0]                          # the book's lists, made in memory
    np.testing.assert_array_equal(book[7][0], eager.X_train[7][:, None])
    small = datasets.load(tmp_path / "set", train_size=50)
    assert isinstance(small.X_train, ScaledRows) and len(small.X_train) == 50


def test_a_directory_of_the_four_files_alone_is_a_data_set(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "hm").mkdir()
    for name, a in (("X_train", rng.integers(0, 256, (30, 4), dtype=np.uint8)),
                    ("y_train", np.arange(30) % 2),
                    ("X_test", rng.integers(0, 256, (5, 4), dtype=np.uint8)),
                    ("y_test", np.arange(5) % 2)):
        np.save(tmp_path / "hm" / f"{name}.npy", a)
    data = datasets.load(tmp_path / "hm", validation=10)
    assert len(data.X_train) == 20 and data.image_shape is None and data.class_names is None
    np.testing.assert_array_equal(data.X_test, np.load(tmp_path / "hm" / "X_test.npy") / 255)
    assert isinstance(data.X_train, ScaledRows)     # the bytes stay on disk


def test_writers_refuse_what_load_would(tmp_path):
    with pytest.raises(DataError, match="X_train holds int64; an array directory's rows"):
        datasets.write_arrays(tmp_path / "i", np.ones((3, 2), np.int64), [0, 1, 0],
                              np.ones((1, 2)), [0])
    with pytest.raises(DataError, match="cannot hold exactly"):
        datasets.write_rows(tmp_path / "w.npy", 2, 3, [[[300, -1, 256], [0, 1, 2]]])
    with pytest.raises(DataError, match="cannot hold exactly"):
        datasets.write_rows(tmp_path / "w.npy", 1, 2, [[[0.5, 1.0]]])
    datasets.write_rows(tmp_path / "w.npy", 1, 3, [[[0, 255.0, 7]]])     # whole bytes: fine
    assert np.load(tmp_path / "w.npy").tolist() == [[0, 255, 7]]


def test_rows_that_are_not_bytes_are_read_and_scaled_as_other_files_are(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.random((40, 5))
    datasets.write_arrays(tmp_path / "f", X, np.arange(40) % 2, X[:10], np.arange(10) % 2)
    data = datasets.load(tmp_path / "f")
    assert isinstance(data.X_train, np.ndarray)
    np.testing.assert_array_equal(data.X_train, X)
    datasets.write_arrays(tmp_path / "g", X * 7, np.arange(40) % 2, X[:10], np.arange(10) % 2)
    with pytest.raises(DataError, match="must lie in"):
        datasets.load(tmp_path / "g")


@pytest.mark.parametrize("damage, said", [
    (lambda d: (d / arrays.META).write_text('{"image_shape": "ab"}'), "image_shape must be"),
    (lambda d: (d / arrays.META).write_text('{"image_shape": [3, 3]}'), "product is the rows' 12"),
    (lambda d: (d / arrays.META).write_text('{"class_names": "abc"}'), "class_names must be"),
    (lambda d: (d / arrays.META).write_text('{"class_names": ["a"]}'), "at least 4 strings"),
    (lambda d: (d / arrays.META).write_text('[1, 2]'), "is not a JSON object"),
    (lambda d: (d / arrays.META).write_text('{"image'), "cannot read"),
    (lambda d: np.save(d / "y_train.npy", np.zeros(7, np.int64)), "they must be as many"),
    (lambda d: (d / "X_test.npy").write_bytes(b"\x93NUMPY garbage"), "cannot read"),
    (lambda d: np.save(d / "X_test.npy", np.zeros((50, 3), np.uint8)),
     "different numbers of features"),
    (lambda d: np.save(d / "X_train.npy", np.zeros((500, 12), np.int16)), "holds int16"),
    (lambda d: (d / "y_test.npy").unlink(), "no such file"),
])
def test_a_damaged_array_directory_is_refused_in_one_line(tmp_path, damage, said):
    write_bytes_set(tmp_path / "set")
    damage(tmp_path / "set")
    with pytest.raises(DataError, match=said) as e:
        datasets.load(tmp_path / "set")
    assert "\n" not in str(e.value)


def test_write_rows_streams_blocks_and_leaves_nothing_when_stopped(tmp_path):
    path = tmp_path / "X.npy"
    blocks = (np.full((m, 3), i, np.uint8) for i, m in enumerate((4, 4, 2)))
    datasets.write_rows(path, 10, 3, blocks)
    np.testing.assert_array_equal(np.load(path)[:, 0], [0] * 4 + [1] * 4 + [2] * 2)

    def stopped():
        yield np.zeros((4, 3), np.uint8)
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        datasets.write_rows(tmp_path / "Y.npy", 10, 3, stopped())
    with pytest.raises(DataError, match="3 rows were given for a file of 10"):
        datasets.write_rows(tmp_path / "Y.npy", 10, 3, [np.zeros((3, 3))])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["X.npy"]


def test_decoded_idx_files_are_cached_and_mapped_by_later_loads(idx_dir, cache, monkeypatch):
    first = datasets.load(idx_dir)
    (where,) = (cache / "arrays").iterdir()
    assert sorted(p.name for p in where.iterdir()) == sorted(
        ["X_train.npy", "y_train.npy", "X_test.npy", "y_test.npy", arrays.META])
    from bprop.datasets import files

    def no_decoding(*a, **k):
        raise AssertionError("decoded again")
    monkeypatch.setattr(sources, "read_idx_dir", no_decoding)
    again = datasets.load(idx_dir, lazy=True)
    assert mapped(again.X_train.raw) and again.image_shape == (6, 6)
    np.testing.assert_array_equal(again.X_train[:], first.X_train)
    np.testing.assert_array_equal(again.X_test, first.X_test)
    np.testing.assert_array_equal(again.y_train, first.y_train)
    # a source file that changes makes the cache stale: decoded afresh, and re-cached
    monkeypatch.setattr(sources, "read_idx_dir", files.read_idx_dir)
    images = datasets.read_idx(idx_dir / "train-images-idx3-ubyte.gz")
    images[0] = 7
    datasets.write_idx(idx_dir / "train-images-idx3-ubyte.gz", images)
    changed = datasets.load(idx_dir)
    assert np.all(changed.X_train[0] == np.float64(7) / 255)
    monkeypatch.setattr(sources, "read_idx_dir", no_decoding)
    assert np.all(datasets.load(idx_dir).X_train[0] == np.float64(7) / 255)


def test_a_damaged_or_unwritable_cache_only_costs_time(idx_dir, cache):
    reference = datasets.load(idx_dir)
    (where,) = (cache / "arrays").iterdir()
    (where / "X_train.npy").write_bytes(b"not numpy")
    np.testing.assert_array_equal(datasets.load(idx_dir).X_train, reference.X_train)
    assert np.load(where / "X_train.npy").shape == (300, 36)        # written again
    if os.geteuid() != 0:           # root writes anywhere
        for p in (cache / "arrays", where):
            p.chmod(0o500)
        (where / arrays.META).chmod(0o200)
        np.testing.assert_array_equal(datasets.load(idx_dir).X_train, reference.X_train)


def test_shifted_images_are_source_images_moved_by_at_most_the_shift(idx_dir, cache, tmp_path):
    write_bytes_set(tmp_path / "big", width=36, X_val=np.zeros((5, 36), np.uint8),
                    y_val=np.zeros(5, np.int64))             # a previous set, replaced whole
    out = datasets.write_shifted(idx_dir, tmp_path / "big", 250, shift=1, seed=3)
    assert not (out / "X_val.npy").exists()
    source = datasets.load(idx_dir, lazy=False)
    raw = np.load(out / "X_train.npy", mmap_mode="r")
    data = datasets.load(out)
    assert raw.shape == (250, 36) and isinstance(data.X_train, ScaledRows)
    assert data.image_shape == (6, 6) and len(data.X_test) == 60
    np.testing.assert_array_equal(data.X_test, source.X_test)
    images = np.round(source.X_train * 255).astype(np.uint8).reshape(-1, 6, 6)
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    moved = 0
    for row, label in zip(raw[:60], data.y_train[:60]):
        shifts = {(dy, dx) for dy in range(3) for dx in range(3)
                  for i in np.flatnonzero(source.y_train == label)
                  if np.array_equal(padded[i, dy:dy + 6, dx:dx + 6].reshape(-1), row)}
        assert shifts, "a row that is no shift of a source image of its label"
        moved += (1, 1) not in shifts
    assert moved > 30                   # most are moved (8 of 9 shifts)
    again = datasets.write_shifted(idx_dir, tmp_path / "again", 250, shift=1, seed=3)
    np.testing.assert_array_equal(np.load(again / "X_train.npy"), raw)    # seeded: repeats
    with pytest.raises(bprop.errors.ConfigError, match="write_shifted needs"):
        datasets.write_shifted("digits", tmp_path / "d", 10)


def test_the_command_line_trains_and_resumes_on_an_array_directory(tmp_path):
    write_bytes_set(tmp_path / "set", image_shape=(3, 4))
    env = {**os.environ, "PYTHONPATH": SRC}
    model = tmp_path / "m.npz"
    for args in (["--dataset", tmp_path / "set", "--epochs", 2, "--validation", 50,
                  "--save", model], ["--resume", model, "--epochs", 3]):
        done = subprocess.run([sys.executable, "-m", "bprop", "train", *map(str, args)],
                              capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "450 training, 50 validation, 50 test examples" in done.stderr
    from bprop.io import load_checkpoint
    ck = load_checkpoint(model)
    assert ck.epoch == 3 and ck.meta["dataset"]["validation"] == 50
    assert "warning" not in done.stderr                     # the same data: no fingerprint note
    info = json.loads((tmp_path / "m.history.json").read_text())
    assert len(info["records"]) == 3


def test_a_csv_is_parsed_once_and_its_bytes_cached_as_bytes(tmp_path, cache, monkeypatch):
    rng = np.random.default_rng(4)
    rows = np.column_stack([rng.integers(0, 256, (400, 9)), rng.integers(0, 3, 400)])
    path = tmp_path / "d.csv"
    np.savetxt(path, rows, fmt="%d", delimiter=",", header="a,b,c,d,e,f,g,h,i,label",
               comments="")
    first = datasets.load(path, validation=40, seed=2)

    def no_parsing(*a, **k):
        raise AssertionError("parsed again")
    monkeypatch.setattr(sources, "read_csv", no_parsing)
    again = datasets.load(path, validation=40, seed=2)
    for a, b in zip((first.X_train, first.y_train, first.X_val, first.X_test),
                    (again.X_train, again.y_train, again.X_val, again.X_test)):
        np.testing.assert_array_equal(a, b)
    (where,) = (cache / "arrays").iterdir()
    assert np.load(where / "X_train.npy").dtype == np.uint8          # 1 byte a value, not 8
    # the cached copy goes when its source does, the next time anything is cached
    monkeypatch.setattr(sources, "read_csv", bprop.datasets.files.read_csv)
    path.unlink()
    other = tmp_path / "e.csv"
    np.savetxt(other, rows[:, [0, 9]] / [255, 1], fmt="%g", delimiter=",")
    datasets.load(other)
    (kept,) = (cache / "arrays").iterdir()
    assert kept != where and np.load(kept / "X_train.npy").dtype == np.float64


def test_small_sources_are_not_cached(idx_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("BPROP_DATA", str(tmp_path / "cache"))
    datasets.load(idx_dir)                      # 11 kB of IDX: decoding is instant anyway
    assert not (tmp_path / "cache" / "arrays").exists()


def test_a_source_changed_while_it_is_read_leaves_a_stale_copy(idx_dir, cache, monkeypatch):
    """The cache records the files as they were before reading: a file rewritten during the
    read is read again next time, not served from a copy of its old content."""
    from bprop.datasets import files
    images_path = idx_dir / "train-images-idx3-ubyte.gz"

    def read_then_change(directory, *a, **k):
        got = files.read_idx_dir(directory, *a, **k)
        images = datasets.read_idx(images_path)
        images[0] = 9
        datasets.write_idx(images_path, images)
        return got
    monkeypatch.setattr(sources, "read_idx_dir", read_then_change)
    first = datasets.load(idx_dir)
    assert not np.all(first.X_train[0] == np.float64(9) / 255)      # read before the change
    monkeypatch.setattr(sources, "read_idx_dir", files.read_idx_dir)
    assert np.all(datasets.load(idx_dir).X_train[0] == np.float64(9) / 255)
