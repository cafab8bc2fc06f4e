"""Tests for bprop.datasets and bprop.mnist_loader.

Every file is generated in tmp_path; downloads come from a loopback HTTP server started
here. The only real data read is Fashion-MNIST from Debian's package, skipped if absent.
"""

import functools
import gzip
import hashlib
import http.server
import os
import pickle
import re
import socket
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest

from bprop import mnist_loader
from bprop.datasets import (
    AVAILABLE,
    Dataset,
    cache_dir,
    describe,
    download_files,
    load,
    read_idx,
    split_validation,
    to_book_format,
    write_idx,
)
from bprop.datasets import fashion, mnist
from bprop.datasets.idx import IMAGES_MAGIC
from bprop.errors import ConfigError, DataError, ShapeError

NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def make_idx_dir(directory, *, n_train=20, n_test=8, shape=(4, 3), gz=True, n_classes=10, seed=0):
    """Write four small MNIST-like IDX files into ``directory``; return the arrays written."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {
        NAMES[0]: rng.integers(0, 256, (n_train, *shape), dtype=np.uint8),
        NAMES[1]: rng.integers(0, n_classes, n_train, dtype=np.uint8),
        NAMES[2]: rng.integers(0, 256, (n_test, *shape), dtype=np.uint8),
        NAMES[3]: rng.integers(0, n_classes, n_test, dtype=np.uint8),
    }
    for name, a in arrays.items():
        write_idx(directory / (name + (".gz" if gz else "")), a)
    return arrays


def make_pkl_gz(path, sizes=(30, 10, 10), seed=0, protocol=2):
    """A tiny mnist.pkl.gz: three (images float32 (N, 784), labels int64 (N,)) pairs, protocol 2
    like the book's file unless told otherwise."""
    rng = np.random.default_rng(seed)
    data = tuple(
        (rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n).astype(np.int64)) for n in sizes
    )
    with gzip.open(path, "wb") as f:
        pickle.dump(data, f, protocol=protocol)
    return data


def dead_url():
    """An http URL on a loopback port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def serve(tmp_path):
    """Serve a directory over loopback HTTP; yields a function dir -> base URL."""
    servers = []

    def start(directory):
        handler = functools.partial(_QuietHandler, directory=str(directory))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    """BPROP_DATA pointing at an empty directory."""
    d = tmp_path / "cache"
    monkeypatch.setenv("BPROP_DATA", str(d))
    return d


# ---------------------------------------------------------------------------- IDX


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float32])
def test_idx_round_trip(tmp_path, suffix, dtype):
    a = (np.arange(2 * 3 * 4) - 5).astype(dtype).reshape(2, 3, 4)
    if dtype == np.uint8:
        a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = write_idx(tmp_path / f"x{suffix}", a)
    b = read_idx(path)
    assert b.dtype == a.dtype and b.shape == a.shape
    np.testing.assert_array_equal(a, b)
    assert b.flags.writeable


def test_write_idx_replaces_a_file_whole(tmp_path, monkeypatch):
    """Written through a temporary file: a failure part-way leaves the old file as it was."""
    path = write_idx(tmp_path / "x", np.arange(6, dtype=np.uint8))
    before = path.read_bytes()

    class Full:
        def __init__(self, f):
            self.f = f

        def write(self, data):
            self.f.write(data[:5])
            raise OSError(28, "No space left on device")
    import bprop.atomic
    real = bprop.atomic.atomic_write
    monkeypatch.setattr(bprop.atomic, "atomic_write",
                        lambda p, write: real(p, lambda f: write(Full(f))))
    with pytest.raises(OSError, match="No space left"):
        write_idx(path, np.arange(100, dtype=np.uint8))
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["x"]


def test_idx_gzip_detected_from_content(tmp_path):
    a = np.arange(10, dtype=np.uint8)
    write_idx(tmp_path / "labels.gz", a)
    os.replace(tmp_path / "labels.gz", tmp_path / "labels")
    np.testing.assert_array_equal(read_idx(tmp_path / "labels"), a)


def test_idx_magic_numbers(tmp_path):
    path = write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((2, 4, 4), np.uint8))
    assert path.read_bytes()[:4] == bytes.fromhex("00000803")
    path = write_idx(tmp_path / "l", np.zeros(2, np.uint8))
    assert path.read_bytes()[:4] == bytes.fromhex("00000801")


def test_bad_magic_raises(tmp_path):
    path = write_idx(tmp_path / "train-images-idx3-ubyte", np.ones((2, 4, 4), np.uint8))
    path.write_bytes(b"\0\0\0\0" + path.read_bytes()[4:])
    with pytest.raises(DataError, match=r"not an IDX file: magic 0x00000000 in train-images-idx3-ubyte \(expected 0x00000803\)"):
        read_idx(path, magic=IMAGES_MAGIC)
    with pytest.raises(DataError, match=r"not an IDX file: magic 0x00000000"):
        read_idx(path)
    # a valid IDX file of another type is named as such, not 'not an IDX file'
    path = write_idx(tmp_path / "train-images-idx3-ubyte", np.ones((2, 4, 4), np.int16))
    with pytest.raises(DataError, match=r"^train-images-idx3-ubyte is an IDX file of 3-dimensional "
                                        r"int16 values \(magic 0x00000B03\); bprop reads "
                                        r"3-dimensional uint8 values \(magic 0x00000803\)$"):
        read_idx(path, magic=IMAGES_MAGIC)
    assert read_idx(path).dtype == np.int16


def test_labels_file_in_place_of_images_raises(tmp_path):
    make_idx_dir(tmp_path)
    os.replace(tmp_path / "train-labels-idx1-ubyte.gz", tmp_path / "train-images-idx3-ubyte.gz")
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(20, np.uint8))
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.gz is an IDX file of 1-dimensional uint8 values "
                                        r"\(magic 0x00000801\); bprop reads 3-dimensional"):
        load(tmp_path)


def test_truncated_file_raises(tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    header = bytes.fromhex("00000801") + (10000).to_bytes(4, "big")
    path.write_bytes(gzip.compress(header + bytes(9000)))
    with pytest.raises(DataError, match=r"truncated IDX file t10k-labels-idx1-ubyte.gz: header promises 10000 items, found 9000"):
        read_idx(path)


def test_truncated_images_count_whole_items(tmp_path):
    path = write_idx(tmp_path / "imgs", np.zeros((5, 4, 4), np.uint8))
    path.write_bytes(path.read_bytes()[:-20])  # 3 whole images and part of a fourth
    with pytest.raises(DataError, match=r"truncated IDX file imgs: header promises 5 items, found 3"):
        read_idx(path)


def test_empty_items_and_huge_dimensions_are_named(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(bytes.fromhex("00000803") + (3).to_bytes(4, "big") + (0).to_bytes(4, "big")
                     + (28).to_bytes(4, "big"))
    with pytest.raises(DataError, match=r"IDX file x holds items of shape \(0, 28\), which is empty"):
        read_idx(path)
    path.write_bytes(bytes.fromhex("00000803") + (1).to_bytes(4, "big") + (2**32 - 1).to_bytes(4, "big") * 2)
    with pytest.raises(DataError, match=r"truncated IDX file x: header promises 1 items, found 0"):
        read_idx(path)


def test_truncated_header_raises(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(bytes.fromhex("00000803") + b"\0\0\0\5")
    with pytest.raises(DataError, match=r"truncated IDX file x: a 3-dimensional header needs 16 bytes, found 8"):
        read_idx(path)


def test_trailing_bytes_raise(tmp_path):
    path = write_idx(tmp_path / "x", np.zeros(4, np.uint8))
    path.write_bytes(path.read_bytes() + b"\1")
    with pytest.raises(DataError, match=r"longer than its header promises"):
        read_idx(path)


def test_corrupt_gzip_raises(tmp_path):
    path = write_idx(tmp_path / "x.gz", np.zeros(1000, np.uint8))
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(DataError, match=r"corrupt gzip file x.gz"):
        read_idx(path)


def test_count_mismatch_raises(tmp_path):
    make_idx_dir(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(19, np.uint8))
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.gz has 20 images but train-labels-idx1-ubyte.gz has 19 labels"):
        load(tmp_path)


def test_label_out_of_range_raises(tmp_path):
    make_idx_dir(tmp_path)
    labels = np.zeros(8, np.uint8)
    labels[3] = 12
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labels)
    with pytest.raises(DataError, match=r"labels in t10k-labels-idx1-ubyte.gz must be integers in \[0, 10\); got min=0, max=12"):
        load("mnist", data_dir=tmp_path, download=False)


def test_image_shapes_must_agree(tmp_path):
    make_idx_dir(tmp_path)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((8, 5, 5), np.uint8))
    with pytest.raises(DataError, match=r"has images of shape \(4, 3\) but t10k-images-idx3-ubyte.gz has \(5, 5\)"):
        load(tmp_path)


@pytest.mark.parametrize("gz", [True, False])
def test_load_idx_directory(tmp_path, gz):
    arrays = make_idx_dir(tmp_path, gz=gz, n_classes=7)
    ds = load(tmp_path)
    assert isinstance(ds, Dataset)
    assert ds.X_train.shape == (20, 12) and ds.X_test.shape == (8, 12)
    assert ds.X_train.dtype == np.float64 and ds.y_train.dtype == np.int64
    assert ds.image_shape == (4, 3) and ds.n_features == 12
    assert ds.X_val is None and ds.y_val is None
    np.testing.assert_array_equal(ds.X_train, arrays[NAMES[0]].reshape(20, 12) / 255)
    np.testing.assert_array_equal(ds.y_test, arrays[NAMES[3]])
    assert ds.n_classes == max(arrays[NAMES[1]].max(), arrays[NAMES[3]].max()) + 1
    assert 0 <= ds.X_train.min() and ds.X_train.max() <= 1


def test_load_float32(tmp_path):
    make_idx_dir(tmp_path)
    ds = load(tmp_path, dtype=np.float32)
    assert ds.X_train.dtype == ds.X_test.dtype == np.float32
    with pytest.raises(ConfigError, match=r"dtype must be float64 or float32; got int32"):
        load(tmp_path, dtype=np.int32)


def test_idx_directory_missing_file(tmp_path):
    make_idx_dir(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match=r"no test labels IDX file in .*t10k-labels-idx1-ubyte\[\.gz\]"):
        load(tmp_path)


def test_unknown_name_and_missing_path():
    with pytest.raises(ConfigError, match=r"unknown dataset 'mnsit'; choose from digits, fashion, mnist"):
        load("mnsit")
    with pytest.raises(DataError, match=r"no such file or directory: .*nowhere.npz"):
        load("nowhere.npz")


# ---------------------------------------------------------------------------- pkl.gz


def test_plain_pickle_and_directory_paths(tmp_path):
    gz = tmp_path / "mnist.pkl.gz"
    data = make_pkl_gz(gz)
    plain = tmp_path / "mnist.pkl"
    plain.write_bytes(gzip.decompress(gz.read_bytes()))
    for (X, y), (X0, y0) in zip(mnist.read_pkl_gz(plain), data):
        np.testing.assert_array_equal(X, X0)
        np.testing.assert_array_equal(y, y0)
    with pytest.raises(DataError, match="is a directory; give the path of the book's mnist.pkl.gz"):
        mnist_loader.load_data(tmp_path)


def test_data_dir_is_refused_where_it_is_not_used(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("0.1,0\n0.2,1\n0.3,0\n0.4,1\n0.5,0\n")
    with pytest.raises(ConfigError, match=r"a data directory \(data_dir, --data-dir\) is only "
                                          r"for mnist and fashion; .*d.csv does not use one"):
        load(path, data_dir=tmp_path)


def test_pkl_gz_round_trip(tmp_path):
    path = tmp_path / "mnist.pkl.gz"
    data = make_pkl_gz(path)
    got = mnist.read_pkl_gz(path)
    for (X, y), (X0, y0) in zip(got, data):
        np.testing.assert_array_equal(X, X0)
        np.testing.assert_array_equal(y, y0)
        assert X.dtype == np.float32 and y.dtype == np.int64
    # a file re-saved with today's pickle.HIGHEST_PROTOCOL (5: arrays rebuilt from bytes)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        data = make_pkl_gz(path, protocol=protocol, seed=protocol)
        for (X, y), (X0, y0) in zip(mnist.read_pkl_gz(path), data):
            np.testing.assert_array_equal(X, X0)
            np.testing.assert_array_equal(y, y0)
    ds = load(path)
    assert ds.X_train.shape == (30, 784) and ds.X_val.shape == (10, 784) and ds.X_test.shape == (10, 784)
    assert ds.X_train.dtype == np.float64 and ds.image_shape == (28, 28) and ds.n_classes == 10
    assert load(path, validation=10).X_val.shape == (10, 784)
    with pytest.raises(ConfigError, match=r"brings its own validation set of 10 examples"):
        load(path, validation=5)


class _Evil:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (os.mkdir, (self.target,))


def test_malicious_pickle_rejected(tmp_path):
    path = tmp_path / "mnist.pkl.gz"
    target = tmp_path / "pwned"
    with gzip.open(path, "wb") as f:
        pickle.dump((_Evil(str(target)), None, None), f, protocol=2)
    with pytest.raises(DataError, match=r"refusing to unpickle (posix|nt|os)\.mkdir"):
        mnist.read_pkl_gz(path)
    with pytest.raises(DataError, match=r"refusing to unpickle"):
        mnist_loader.load_data(path)
    assert not target.exists()


def test_pickle_of_wrong_structure_rejected(tmp_path):
    path = tmp_path / "mnist.pkl.gz"
    with gzip.open(path, "wb") as f:
        pickle.dump((np.zeros((3, 4)), np.zeros(3, np.int64)), f, protocol=2)
    with pytest.raises(DataError, match=r"must hold 3 \(images, labels\) pairs"):
        mnist.read_pkl_gz(path)
    path.write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match=r"corrupt mnist.pkl.gz"):
        mnist.read_pkl_gz(path)


def test_mnist_loader_wrapper_book_shapes(tmp_path):
    path = tmp_path / "mnist.pkl.gz"
    data = make_pkl_gz(path)
    training_data, validation_data, test_data = mnist_loader.load_data_wrapper(path)
    assert isinstance(training_data, list) and isinstance(test_data, list)
    assert (len(training_data), len(validation_data), len(test_data)) == (30, 10, 10)
    x, y = training_data[0]
    assert x.shape == (784, 1) and y.shape == (10, 1) and y.dtype == np.float64
    np.testing.assert_array_equal(x[:, 0], data[0][0][0])
    np.testing.assert_array_equal(y, mnist_loader.vectorized_result(int(data[0][1][0])))
    x, label = test_data[3]
    assert x.shape == (784, 1) and type(label) is int and label == data[2][1][3]
    assert isinstance(validation_data[0][1], int)


def test_mnist_loader_missing_file(empty_cache, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError, match=r"mnist.pkl.gz not found \(nor ../data/mnist.pkl.gz, "
                                        r"where the book's loader looks\).*"
                                        r"mnielsen/neural-networks-and-deep-learning"):
        mnist_loader.load_data()
    assert str(empty_cache) in _message(mnist_loader.load_data)


def test_mnist_loader_reads_the_books_data_folder(empty_cache, tmp_path, monkeypatch):
    """A script run from the book's src/ folder finds ../data/mnist.pkl.gz, as the book's
    loader does; a file in the cache comes first."""
    (tmp_path / "data").mkdir()
    (tmp_path / "src").mkdir()
    monkeypatch.chdir(tmp_path / "src")
    book = make_pkl_gz(tmp_path / "data" / "mnist.pkl.gz", seed=1)
    np.testing.assert_array_equal(mnist_loader.load_data()[0][0], book[0][0])
    empty_cache.mkdir()
    cached = make_pkl_gz(empty_cache / "mnist.pkl.gz", seed=2)
    np.testing.assert_array_equal(mnist_loader.load_data()[0][0], cached[0][0])


def test_vectorized_result():
    e = mnist_loader.vectorized_result(3)
    assert e.shape == (10, 1) and e[3, 0] == 1 and e.sum() == 1


def _message(fn, *args, **kwargs):
    with pytest.raises(DataError) as info:
        fn(*args, **kwargs)
    return str(info.value)


# ---------------------------------------------------------------------------- downloads


def test_cache_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("BPROP_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "data"
    monkeypatch.setenv("BPROP_DATA", "")
    assert cache_dir() == tmp_path / "xdg" / "bprop"
    monkeypatch.delenv("BPROP_DATA")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_dir() == tmp_path / "home" / ".cache" / "bprop"


def test_download_falls_back_to_next_mirror(tmp_path, serve):
    served = tmp_path / "served"
    served.mkdir()
    payload = os.urandom(5000)
    (served / "a.bin").write_bytes(payload)
    base = serve(served)
    dest = tmp_path / "dest"
    mirrors = [dead_url(), base + "missing/", base]  # refused, then 404, then the file
    paths = download_files(["a.bin"], mirrors, dest, {"a.bin": hashlib.sha256(payload).hexdigest()}, timeout=5)
    assert paths == [dest / "a.bin"]
    assert (dest / "a.bin").read_bytes() == payload
    assert sorted(os.listdir(dest)) == ["a.bin"]  # no temporary file left


def test_download_sha_mismatch_leaves_nothing(tmp_path, serve):
    served = tmp_path / "served"
    served.mkdir()
    (served / "a.bin").write_bytes(b"tampered")
    dest = tmp_path / "new" / "dest"
    with pytest.raises(DataError, match=r"(?s)could not download a.bin.*404.*SHA-256 mismatch: expected 0{64}"):
        download_files(["a.bin"], [serve(served) + "nope/", serve(served)], dest, {"a.bin": "0" * 64}, timeout=5)
    assert not (tmp_path / "new").exists()      # the folders it made for the download are gone
    dest.mkdir(parents=True)
    with pytest.raises(DataError, match=r"SHA-256 mismatch"):
        download_files(["a.bin"], [serve(served)], dest, {"a.bin": "0" * 64}, timeout=5)
    assert os.listdir(dest) == []               # one that was there stays, empty


def test_download_needs_a_hash(tmp_path):
    with pytest.raises(ConfigError, match=r"no SHA-256 given for a.bin"):
        download_files(["a.bin"], ["http://127.0.0.1:9/"], tmp_path, {}, timeout=1)


def test_load_mnist_downloads_once_into_cache(tmp_path, serve, empty_cache, monkeypatch):
    served = tmp_path / "served"
    arrays = make_idx_dir(served)
    sums = {name + ".gz": hashlib.sha256((served / (name + ".gz")).read_bytes()).hexdigest() for name in NAMES}
    monkeypatch.setattr(mnist, "SHA256", sums)
    monkeypatch.setattr(mnist, "MIRRORS", [dead_url(), serve(served)])
    ds = load("mnist", validation=5)
    assert sorted(os.listdir(empty_cache / "mnist")) == sorted(sums)
    # The book's rule for MNIST: the validation set is the last examples of the training set.
    np.testing.assert_array_equal(ds.X_val, arrays[NAMES[0]][-5:].reshape(5, -1) / 255)
    assert ds.X_train.shape == (15, 12) and ds.name == "mnist"
    # Cached now: no server needed.
    monkeypatch.setattr(mnist, "MIRRORS", [dead_url()])
    assert load("mnist").X_train.shape == (20, 12)
    # A damaged cached file: where it is, and what to do
    labels = empty_cache / "mnist" / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(gzip.decompress(labels.read_bytes())[:-2]))
    with pytest.raises(DataError, match=r"^truncated IDX file t10k-labels-idx1-ubyte.gz: .* \(in "
                                        + re.escape(str(empty_cache / "mnist"))
                                        + r"; delete it to download it again\)$"):
        load("mnist")


def test_offline_with_nothing_cached(empty_cache, monkeypatch):
    msg = _message(load, "mnist", download=False)
    assert str(empty_cache / "mnist") in msg
    for name in mnist.FILES:
        assert name in msg
    assert "'digits'" in msg and "'fashion'" in msg and "dataset-fashion-mnist" in msg
    monkeypatch.setattr(mnist, "MIRRORS", [dead_url()])
    msg = _message(load, "mnist")
    assert "could not download train-images-idx3-ubyte.gz" in msg and str(empty_cache / "mnist") in msg
    assert not [p for p in empty_cache.rglob("*") if p.is_file()]  # not even a partial file


def test_fashion_found_in_debian_dir_before_cache(tmp_path, empty_cache, monkeypatch):
    debian = tmp_path / "usr-share"
    make_idx_dir(debian, seed=1)
    monkeypatch.setattr(fashion, "DEBIAN_DIRS", [debian])
    monkeypatch.setattr(fashion, "MIRRORS", [dead_url()])
    ds = load("fashion-mnist")
    assert ds.name == "fashion" and ds.X_train.shape == (20, 12)
    monkeypatch.setattr(fashion, "DEBIAN_DIRS", [tmp_path / "absent"])
    msg = _message(load, "fashion", download=False)
    assert str(empty_cache / "fashion-mnist") in msg and "apt-get install dataset-fashion-mnist" in msg


@pytest.mark.skipif(not all((fashion.DEBIAN_DIRS[0] / (n + ".gz")).is_file() for n in NAMES),
                    reason="Debian package dataset-fashion-mnist not installed")
def test_fashion_mnist_real_data(monkeypatch, empty_cache):
    ds = load("fashion", dtype=np.float32, download=False)
    assert ds.X_train.shape == (60000, 784) and ds.X_test.shape == (10000, 784)
    assert ds.X_train.dtype == np.float32 and ds.image_shape == (28, 28)
    for y in (ds.y_train, ds.y_test):
        assert y.dtype == np.int64 and y.min() == 0 and y.max() == 9
    assert np.bincount(ds.y_train).tolist() == [6000] * 10
    assert 0 <= ds.X_train.min() and ds.X_train.max() == 1


# ---------------------------------------------------------------------------- splits


def test_validation_split_deterministic_and_sized(tmp_path):
    make_idx_dir(tmp_path, n_train=50)
    a = load(tmp_path, validation=10, seed=3)
    b = load(tmp_path, validation=10, seed=3)
    c = load(tmp_path, validation=10, seed=4)
    assert a.X_val.shape == (10, 12) and a.X_train.shape == (40, 12)
    np.testing.assert_array_equal(a.X_val, b.X_val)
    assert not np.array_equal(a.X_val, c.X_val)
    full = load(tmp_path)
    merged = np.concatenate([a.X_train, a.X_val])
    assert sorted(map(bytes, merged)) == sorted(map(bytes, full.X_train))
    assert load(tmp_path, validation=0.2).X_val.shape == (10, 12)
    # train_size: the first rows of the training split, as the book's training_data[:1000]
    first = load(tmp_path, validation=10, seed=3, train_size=7)
    np.testing.assert_array_equal(first.X_train, a.X_train[:7])
    np.testing.assert_array_equal(first.y_train, a.y_train[:7])
    np.testing.assert_array_equal(first.X_val, a.X_val)
    with pytest.raises(ConfigError, match=r"train_size=41 is more than the 40 training examples"):
        load(tmp_path, validation=10, train_size=41)
    with pytest.raises(ConfigError, match=r"train_size must be an integer >= 1; got 0"):
        load(tmp_path, train_size=0)
    # the bytes are split before they become floats: the same rows and values as splitting
    # the floats, in either dtype
    for dtype in (np.float64, np.float32):
        whole, part = load(tmp_path, dtype=dtype), load(tmp_path, validation=10, seed=3, dtype=dtype)
        for got, want in zip((part.X_train, part.y_train, part.X_val, part.y_val),
                             split_validation(whole.X_train, whole.y_train, 10, seed=3)):
            np.testing.assert_array_equal(got, want)
            assert got.dtype == want.dtype


def test_validation_split_tail_and_errors():
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    X_tr, y_tr, X_val, y_val = split_validation(X, y, 3, tail=True)
    np.testing.assert_array_equal(y_val, [7, 8, 9])
    np.testing.assert_array_equal(y_tr, np.arange(7))
    for bad, msg in [(10, r"holds out 10 of .* 10 training examples"), (-1, r"must be >= 0"),
                     (1.5, r"fraction must be in \[0, 1\)"), (True, r"count \(int\) or a fraction")]:
        with pytest.raises(ConfigError, match=msg):
            split_validation(X, y, bad)


# ---------------------------------------------------------------------------- npz and csv


def test_npz_keras_layout(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "mine.npz"
    np.savez(path, x_train=rng.integers(0, 256, (12, 5, 5), dtype=np.uint8), y_train=np.arange(12) % 4,
             x_test=rng.integers(0, 256, (6, 5, 5), dtype=np.uint8), y_test=np.arange(6) % 4)
    ds = load(path, validation=2)
    assert ds.X_train.shape == (10, 25) and ds.X_val.shape == (2, 25) and ds.X_test.shape == (6, 25)
    assert ds.image_shape == (5, 5) and ds.n_classes == 4 and ds.name == "mine.npz"
    assert 0 <= ds.X_train.min() and ds.X_train.max() <= 1


def test_npz_X_y_split(tmp_path):
    path = tmp_path / "xy.npz"
    np.savez(path, X=np.linspace(0, 1, 50 * 3).reshape(50, 3), y=np.arange(50) % 3)
    ds = load(path)
    assert ds.X_train.shape == (40, 3) and ds.X_test.shape == (10, 3) and ds.image_shape is None
    np.testing.assert_array_equal(load(path).X_test, ds.X_test)  # fixed test set


def test_npz_errors(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, a=np.zeros(3))
    with pytest.raises(DataError, match=r"bad.npz must hold arrays x_train, y_train, x_test, y_test .* or X, y; found a"):
        load(path)
    X = np.full((10, 3), 0.5)
    X[7, 1] = np.nan            # the row as stored, not its row in the training split
    np.savez(path, X=X, y=np.zeros(10, np.int64))
    with pytest.raises(DataError, match=r"features in bad.npz\['X'\] contain 1 NaN value \(first in row 7\)"):
        load(path)
    X[7, 1], X[8, :] = 0.5, np.inf
    np.savetxt(tmp_path / "bad.csv", np.c_[X, np.arange(10) % 2], delimiter=",")
    with pytest.raises(DataError, match=r"features in bad.csv contain 3 infinite values \(first on line 9\)"):
        load(tmp_path / "bad.csv")
    np.savez(path, X=np.full((10, 3), 300.0), y=np.zeros(10, np.int64))
    with pytest.raises(DataError, match=r"must lie in \[0, 1\] or be pixel bytes 0..255; got min=300, max=300"):
        load(path)
    np.savez(path, X=np.zeros((10, 3)), y=np.zeros(9, np.int64))
    with pytest.raises(DataError, match=r"has 10 rows in 'X' but 9 labels in 'y'"):
        load(path)
    path.write_bytes(b"garbage")
    with pytest.raises(DataError, match=r"cannot read bad.npz"):
        load(path)


@pytest.mark.parametrize("header", ["a,b,c,d,label", "0,1,2,3,4", None])
def test_csv(tmp_path, header):
    """A header of names, or of the numbers 0, 1, 2, ... that pandas writes for an unnamed
    array, is not a data row."""
    rng = np.random.default_rng(1)
    X = rng.integers(0, 256, (20, 4))
    y = np.arange(20) % 3
    lines = ([header] if header else []) + [",".join(map(str, [*row, label])) for row, label in zip(X, y)]
    path = tmp_path / "data.csv"
    path.write_text("\n".join(lines) + "\n")
    ds = load(path, dtype=np.float32)
    assert ds.X_train.shape == (16, 4) and ds.X_test.shape == (4, 4) and ds.n_classes == 3
    assert ds.X_train.dtype == np.float32
    got = np.concatenate([ds.X_train, ds.X_test]) * 255
    assert sorted(map(tuple, np.rint(got).astype(int))) == sorted(map(tuple, X))


def test_csv_from_pandas_with_its_row_index_and_a_first_row_of_0_1(tmp_path):
    """pandas' default to_csv: a header ',0,1,...' and the row index as a first column,
    which is not a feature. A short first row 0,1 is data, not pandas' column names."""
    rng = np.random.default_rng(1)
    X, y = rng.integers(0, 256, (20, 4)), np.arange(20) % 3
    path = tmp_path / "pd.csv"
    path.write_text(",0,1,2,3,4\n" + "".join(f"{i}," + ",".join(map(str, [*row, label])) + "\n"
                                              for i, (row, label) in enumerate(zip(X, y))))
    ds = load(path)
    got = np.rint(np.concatenate([ds.X_train, ds.X_test]) * 255).astype(int)
    assert ds.X_train.shape[1] == 4 and sorted(map(tuple, got)) == sorted(map(tuple, X))
    path = tmp_path / "two.csv"
    path.write_text("0,1\n" + "".join(f"0.{k},{k % 2}\n" for k in range(1, 10)))
    ds = load(path)
    assert len(ds.X_train) + len(ds.X_test) == 10
    # a shuffled frame's index, and a narrow frame (review)
    order = rng.permutation(20) + 100
    path = tmp_path / "shuffled.csv"
    path.write_text(",0,1,2,3,4\n" + "".join(f"{i}," + ",".join(map(str, [*X[i - 100], y[i - 100]]))
                                              + "\n" for i in order))
    assert load(path).X_train.shape[1] == 4
    path = tmp_path / "narrow.csv"
    path.write_text(",0,1\n" + "".join(f"{i},0.{i},{i % 2}\n" for i in range(10)))
    ds = load(path)
    assert ds.X_train.shape[1] == 1 and len(ds.X_train) + len(ds.X_test) == 10


def test_csv_errors(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("0.1,0.2,1.5\n0.3,0.4,1\n")
    with pytest.raises(DataError, match=r"labels in the last column of d.csv must be integers; got 1.5 on line 1"):
        load(path)
    path.write_text("0.1,0.2,1\n0.3,oops,1\n")
    with pytest.raises(DataError, match=r"cannot parse d.csv as comma-separated numbers: could "
                                        r"not convert string 'oops' to float64 on line 2, column 2"):
        load(path)
    # a value missing in the first row: an error there, not a 'header' dropped in silence
    path.write_text("0.1,,1\n0.3,0.4,1\n0.5,0.6,0\n")
    with pytest.raises(DataError, match=r"cannot parse d.csv .* on line 1, column 2"):
        load(path)
    path.write_text("0.1,0.2,-1\n0.3,0.4,1\n")
    with pytest.raises(DataError, match=r"must be integers >= 0; got min=-1, max=1"):
        load(path)


@pytest.mark.parametrize("name", ["label", "Label", '"label"', " labels"])
def test_csv_header_names_the_label_column(tmp_path, name):
    """Kaggle's MNIST CSVs: label,pixel0,pixel1,... (the label first)."""
    rng = np.random.default_rng(2)
    X = rng.integers(0, 256, (30, 3))
    y = np.arange(30) % 3
    lines = [f"{name},pixel0,pixel1,pixel2"] + [",".join(map(str, [label, *row]))
                                               for row, label in zip(X, y)]
    path = tmp_path / "kaggle.csv"
    path.write_text("\n".join(lines) + "\n")
    ds = load(path)
    assert ds.n_classes == 3 and ds.X_train.shape[1] == 3
    rows = np.rint(np.concatenate([ds.X_train, ds.X_test]) * 255).astype(int)
    labels = np.concatenate([ds.y_train, ds.y_test])
    assert sorted(zip(map(tuple, rows), labels)) == sorted(zip(map(tuple, X), y))
    path.write_text("label,b,Label\n1,0,0\n")
    with pytest.raises(DataError, match="the header of kaggle.csv names more than one label "
                                        "column: label, label"):
        load(path)


def test_csv_columns_named_y_or_class_are_features(tmp_path):
    """Only 'label' moves the label: x,y,class keeps the label last, as documented."""
    path = tmp_path / "xy.csv"
    rows = [(x, y, (x + y) % 2) for x in range(6) for y in range(5)]
    path.write_text("x,y,class\n" + "".join(f"{x},{y},{c}\n" for x, y, c in rows))
    with pytest.warns(UserWarning, match=r"integers 0..5, read as pixel bytes"):
        ds = load(path)
    assert ds.n_classes == 2 and ds.X_train.shape[1] == 2


def test_labels_must_have_two_classes_and_a_sparse_set_is_warned_of(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("".join(f"0.{k},0\n" for k in range(10)))     # every label 0
    with pytest.raises(DataError, match="every training label in one.csv is 0; a classifier "
                                        "needs at least 2 classes"):
        load(path)
    # the label read from a pixel column: values up to 250, few of them present
    rng = np.random.default_rng(0)
    path = tmp_path / "pixels.csv"
    path.write_text("".join(f"0.5,{v}\n" for v in rng.integers(0, 251, 40)))
    with pytest.warns(UserWarning, match=r"pixels.csv: the labels run from 0 to \d+, but only "
                                         r"\d+ of those \d+ values occur .* another column"):
        load(path)
    path = tmp_path / "fine.csv"                                   # 3 of 4 values: no warning
    path.write_text("".join(f"0.5,{v}\n" for v in [0, 1, 3] * 5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load(path).n_classes == 4


# -- array directories: one scale --------------------------------------------------------------


def save_splits(directory, **splits):
    """An array directory of the given ``X_…`` arrays, each with labels 0, 1, 0, 1, ..."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, X in splits.items():
        np.save(directory / f"{name}.npy", X)
        np.save(directory / f"y{name[1:]}.npy", np.arange(len(X)) % 2)
    return directory


def digits_like(n, seed=0):
    """Whole numbers 0..16 as floats, like scikit-learn's raw digits."""
    return np.random.default_rng(seed).integers(0, 17, (n, 6)).astype(np.float64)


@pytest.mark.parametrize("splits, first, second", [
    # the review's case: 0..16 read as bytes beside the same data divided by 16
    (lambda: {"X_train": digits_like(40), "X_test": digits_like(10, 1) / 16},
     r"X_train.npy holds pixel bytes \(float64 whole numbers 0..16\)",
     r"X_test.npy holds floats in \[0, 1\] \(float64, min=0, max=1\)"),
    (lambda: {"X_train": np.full((40, 6), 200, np.uint8), "X_test": np.full((10, 6), 0.5)},
     r"X_train.npy holds pixel bytes \(uint8\)", r"X_test.npy holds floats in \[0, 1\]"),
    (lambda: {"X_train": np.full((40, 6), 0.5, np.float32),
               "X_test": np.full((10, 6), 9, np.uint8)},
     r"X_train.npy holds floats in \[0, 1\] \(float32, min=0.5, max=0.5\)",
     r"X_test.npy holds pixel bytes \(uint8\)"),
    (lambda: {"X_train": np.full((40, 6), 0.25), "X_test": np.full((10, 6), 255.0)},
     r"X_train.npy holds floats in \[0, 1\]",
     r"X_test.npy holds pixel bytes \(float64 whole numbers 255..255\)"),
    (lambda: {"X_train": np.full((40, 6), 7, np.uint8), "X_val": np.full((5, 6), 0.1),
               "X_test": np.full((10, 6), 7, np.uint8)},
     r"X_train.npy holds pixel bytes \(uint8\)", r"X_val.npy holds floats in \[0, 1\]"),
], ids=["0..16 and [0, 1]", "uint8 and [0, 1]", "[0, 1] and uint8", "[0, 1] and 0..255",
        "a validation split"])
def test_array_directory_splits_on_different_scales_are_refused(tmp_path, splits, first, second):
    """Each split used to be scaled by its own type: training rows divided by 255 beside
    test rows left as they were, a silently wrong test accuracy."""
    directory = save_splits(tmp_path / "set", **splits())
    with pytest.raises(DataError) as e:
        load(directory)
    said = str(e.value)
    assert "\n" not in said
    assert said.startswith(f"the splits in {directory} are on different scales: "), said
    assert re.search(first, said) and re.search(second, said), said
    assert said.endswith("save every split the same way: as pixel bytes 0..255 (uint8) or "
                         "as floats in [0, 1]"), said


def test_the_command_line_refuses_an_array_directory_on_two_scales(tmp_path, capsys):
    from bprop import cli
    directory = save_splits(tmp_path / "a", X_train=digits_like(40), X_test=digits_like(10) / 16)
    status = cli.main(["train", "--dataset", str(directory), "--epochs", "1"])
    err = capsys.readouterr().err
    assert status == 2 and "different scales" in err and "test_acc" not in err, err
    assert len(err.strip().splitlines()) == 1, err


def test_array_directory_splits_that_agree_are_read_as_before(tmp_path):
    rng = np.random.default_rng(3)
    raw = rng.integers(0, 256, (40, 6), dtype=np.uint8)
    data = load(save_splits(tmp_path / "bytes", X_train=raw, X_test=raw[:10]), validation=5)
    assert type(data.X_train).__name__ == "ScaledRows"       # still mapped, converted lazily
    np.testing.assert_array_equal(data.X_train[:], raw[:35] / 255)
    np.testing.assert_array_equal(data.X_test, raw[:10] / 255)
    np.testing.assert_array_equal(data.X_val, raw[35:] / 255)
    # whole-number floats 0..255 are pixel bytes too, beside uint8 ones
    data = load(save_splits(tmp_path / "mixed", X_train=raw.astype(np.float32),
                            X_val=raw[:5], X_test=raw[:10].astype(np.float64)))
    for X, want in ((data.X_train, raw), (data.X_val, raw[:5]), (data.X_test, raw[:10])):
        np.testing.assert_array_equal(X, want / 255)
    floats = rng.random((40, 6))
    data = load(save_splits(tmp_path / "floats", X_train=floats, X_test=floats[:10] ** 2))
    np.testing.assert_array_equal(data.X_train, floats)
    np.testing.assert_array_equal(data.X_test, floats[:10] ** 2)
    # 0..16 in every split: read as bytes alike, with the warning that they may not be
    with pytest.warns(UserWarning, match=r"integers 0..16, read as pixel bytes"):
        data = load(save_splits(tmp_path / "digits", X_train=digits_like(40),
                                X_test=digits_like(10, 1)))
    assert data.X_train.max() == data.X_test.max() == 16 / 255


def test_a_split_of_zeros_and_ones_reads_the_same_either_way(tmp_path):
    """0s and 1s are fractions and bytes alike: such a split follows the others (as a .npz's
    splits, decided together, do), rather than being called a scale of its own."""
    raw = np.random.default_rng(4).integers(0, 256, (40, 6)).astype(np.float64)
    for test in (np.zeros((10, 6)), np.eye(10, 6)):
        data = load(save_splits(tmp_path / f"bytes{int(test.sum())}", X_train=raw,
                                X_test=test))
        np.testing.assert_array_equal(data.X_train, raw / 255)
        np.testing.assert_array_equal(data.X_test, test / 255)
    binary = np.eye(40, 6)                              # every split 0s and 1s: fractions
    data = load(save_splits(tmp_path / "binary", X_train=binary, X_test=binary[:10]))
    np.testing.assert_array_equal(data.X_train, binary)


def test_a_npz_with_splits_on_different_scales_says_which(tmp_path):
    """The same data as a .npz is refused too, naming the splits that disagree."""
    path = tmp_path / "two.npz"
    np.savez(path, x_train=digits_like(40), y_train=np.arange(40) % 2,
             x_test=digits_like(10, 1) / 16, y_test=np.arange(10) % 2)
    with pytest.raises(DataError, match=r"the splits in two.npz are on different scales: the "
                                        r"training set holds pixel bytes \(whole numbers 0..16\) "
                                        r"but the test set holds numbers in \[0, 1\] "
                                        r"\(min=0, max=1\); save every split the same way"):
        load(path)


# ---------------------------------------------------------------------------- digits, book format, API


def test_digits():
    pytest.importorskip("sklearn")
    ds = load("digits", validation=100, seed=1)
    assert ds.X_train.shape == (1337, 64) and ds.X_val.shape == (100, 64) and ds.X_test.shape == (360, 64)
    assert ds.image_shape == (8, 8) and ds.n_classes == 10
    assert ds.X_train.min() == 0 and ds.X_train.max() == 1
    assert set(np.unique(ds.y_test)) == set(range(10))
    np.testing.assert_array_equal(load("digits").X_test, ds.X_test)


def test_digits_without_sklearn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # makes `import sklearn` fail
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(DataError, match=r"needs scikit-learn: pip install bprop\[digits\]"):
        load("digits")


def test_to_book_format():
    X = np.arange(12.0).reshape(4, 3)
    y = np.array([0, 2, 1, 2])
    training = to_book_format(X, y, 3, one_hot=True)
    assert len(training) == 4
    x, t = training[1]
    assert x.shape == (3, 1) and t.shape == (3, 1)
    np.testing.assert_array_equal(x[:, 0], X[1])
    np.testing.assert_array_equal(t[:, 0], [0, 0, 1])
    test = to_book_format(X, y, 3)
    assert [label for _, label in test] == [0, 2, 1, 2] and type(test[0][1]) is int
    with pytest.raises(DataError, match=r"labels must be integers in \[0, 2\); got min=0, max=2"):
        to_book_format(X, y, 2)


def test_dataset_book_data(tmp_path):
    make_idx_dir(tmp_path)
    training_data, validation_data, test_data = load(tmp_path, validation=4).book_data()
    assert len(training_data) == 16 and len(validation_data) == 4 and len(test_data) == 8
    assert training_data[0][0].shape == (12, 1) and training_data[0][1].shape == (10, 1)


def test_available_and_describe():
    assert set(AVAILABLE) == {"mnist", "fashion", "digits"}
    assert AVAILABLE["mnist"].licence == "CC BY-SA 3.0" and AVAILABLE["fashion"].licence == "MIT"
    text = describe()
    assert "fashion / fashion-mnist" in text and "mnist" in text and "digits" in text
    assert max(map(len, text.splitlines())) <= 88 and "CC BY-SA 3.0" in " ".join(text.split())


def test_import_is_light():
    code = "import sys, bprop.datasets, bprop.mnist_loader; print('sklearn' in sys.modules)"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


# -- arguments refused at the boundary (fuzzing review) ----------------------------------------
def test_npz_without_features_is_named(tmp_path):
    path = tmp_path / "empty.npz"
    np.savez(path, X=np.zeros((20, 0)), y=np.arange(20) % 2)
    with pytest.raises(DataError, match=r"X in empty.npz\['X'\] has no features: shape \(20, 0\)"):
        load(path)
    np.savez(path, x_train=np.zeros((4, 3, 0)), y_train=np.zeros(4, int),
             x_test=np.zeros((2, 3, 0)), y_test=np.zeros(2, int))
    with pytest.raises(DataError, match=r"has no features: shape \(4, 3, 0\)"):
        load(path)


@pytest.mark.parametrize("name", [["digits"], None, 3])
def test_load_refuses_a_name_that_is_not_text(name):
    with pytest.raises(ConfigError, match="load\\(\\) takes a dataset name or a path; got "):
        load(name)


@pytest.mark.parametrize("seed", [-1, "a", 1.5])
def test_load_refuses_a_bad_seed(tmp_path, seed):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.linspace(0, 1, 50 * 3).reshape(50, 3), y=np.arange(50) % 3)
    with pytest.raises(ConfigError, match=r"seed must be an integer >= 0, a numpy Generator, "
                                          r"or None; got "):
        load(path, validation=0.2, seed=seed)
    with pytest.raises(ConfigError, match=r"seed must be an integer >= 0, a numpy Generator"):
        split_validation(np.zeros((5, 2)), np.arange(5), 2, seed=seed)
    # what np.random.default_rng takes is a seed (a Generator worked before the check)
    assert len(load(path, validation=0.2, seed=np.random.default_rng(0)).X_val) == 8
    # None draws a fresh split, as documented
    assert len(load(path, validation=0.2, seed=None).X_val) == 8


def test_load_refuses_a_data_dir_that_is_not_a_path():
    with pytest.raises(ConfigError, match="data_dir must be a path to a directory; got 3"):
        load("mnist", data_dir=3, download=False)


def test_split_validation_checks_lengths_and_takes_lists():
    X, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    with pytest.raises(ShapeError, match=r"X has shape \(5, 2\) and y has shape \(3,\)"):
        split_validation(X, y[:3], 3)
    X_tr, y_tr, X_val, y_val = split_validation(X.tolist(), y.tolist(), 2)
    assert X_tr.shape == (3, 2) and X_val.shape == (2, 2) and y_val.shape == (2,)
    np.testing.assert_array_equal(np.sort(np.concatenate([y_tr, y_val])), y)


@pytest.mark.parametrize("n", [10.5, "10", 0, True, 10**12])
def test_to_book_format_refuses_a_bad_number_of_classes(n):
    X, y = np.zeros((4, 3)), np.array([0, 2, 1, 2])
    with pytest.raises(ConfigError, match=r"n_classes must be an integer in \[1, 1000000\]; got "):
        to_book_format(X, y, n, one_hot=True)


@pytest.mark.parametrize("n", [2.5, "10", 0, 10**12])
def test_vectorized_result_refuses_a_bad_n(n):
    with pytest.raises(ConfigError, match=r"n must be an integer in \[1, 1000000\]; got "):
        mnist_loader.vectorized_result(0, n=n)
    assert mnist_loader.vectorized_result(1, n=np.int64(3))[:, 0].tolist() == [0, 1, 0]


def test_a_failed_download_lists_each_mirror_on_one_line(tmp_path):
    """The command line prints an error on one line: the failures are joined by '; '."""
    from bprop.datasets.download import download_files
    with pytest.raises(DataError) as e:
        download_files(["x.bin"], ["http://127.0.0.1:9/a", "http://127.0.0.1:9/b"], tmp_path,
                       {"x.bin": "0" * 64}, timeout=2)
    text = str(e.value)
    assert "\n" not in text and text.startswith("could not download x.bin from any of 2 "
                                                "mirrors: ") and "refused" in text
