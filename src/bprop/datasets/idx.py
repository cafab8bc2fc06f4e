"""Reading and writing IDX files, the format MNIST and Fashion-MNIST are distributed in.

An IDX file is a 4-byte magic number, one big-endian uint32 per dimension, then the
items in C order, big-endian:

    magic = 0x00 0x00 <type code> <ndim>        e.g. 0x00000803: unsigned bytes, 3-D
    dims  = d_0, d_1, ..., d_{ndim-1}           d_0 is the number of items

MNIST images are ``(N, 28, 28)`` unsigned bytes (magic 0x00000803) and labels ``(N,)``
unsigned bytes (magic 0x00000801). Files may be gzip-compressed; that is detected from
the content, not the name.

Every check names the file and says what was expected and what was found, so a corrupt
or truncated download fails here and not as a shape error deep in training. This module
does not scale, split or download anything.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from ..errors import DataError
from ..reading import check_declared_size, check_regular_file

IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions: (N, rows, cols)
LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension: (N,)

# IDX type code -> big-endian NumPy dtype.
_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {(dt.kind, dt.itemsize): code for code, dt in _DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: Path) -> bytes:
    """The file's content, gunzipped if it is a gzip stream: the header, then no more than
    one byte beyond what the header declares (a small gzip file can expand to gigabytes;
    a header that declares more than the machine's memory is refused before reading on)."""
    check_regular_file(path, "an IDX file", DataError)
    try:
        with open(path, "rb") as raw:
            gzipped = raw.read(2) == _GZIP_MAGIC
            raw.seek(0)
            f = gzip.GzipFile(fileobj=raw) if gzipped else raw
            head = f.read(4)
            ndim = head[3] if len(head) == 4 and head[:2] == b"\x00\x00" else 0
            head += f.read(4 * ndim)
            if head[2:3] and head[2] in _DTYPES and ndim and len(head) == 4 + 4 * ndim:
                dims = [int.from_bytes(head[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
                size = _DTYPES[head[2]].itemsize * math.prod(dims)
                if gzipped:     # (a plain file is as long as it is: read_idx says if short)
                    check_declared_size(size, f"IDX file {path.name} ({dims[0]:,} items of "
                                              f"shape {tuple(dims[1:])})", DataError)
                return head + (f.read(size + 1) if gzipped else f.read())
            return head             # not an IDX header: read_idx says what is wrong
    except FileNotFoundError:
        raise DataError(f"no such file: {path}") from None
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise DataError(f"corrupt gzip file {path.name}: {e}") from None
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror or e}") from None


def read_idx(path: str | os.PathLike, *, magic: int | None = None) -> np.ndarray:
    """Array stored in the IDX file at ``path`` (gzip-compressed or not).

    Returns an array of shape ``(d_0, ..., d_{ndim-1})`` in native byte order; MNIST
    images come back as ``(N, 28, 28)`` uint8 and labels as ``(N,)`` uint8.
    ``magic``: if given, the file's magic number must equal it (``IMAGES_MAGIC``,
    ``LABELS_MAGIC``). Raises ``DataError`` for a bad magic number, an unknown type
    code, or a length that differs from what the header promises.
    """
    path = Path(path)
    data = _read_bytes(path)
    name = path.name
    if len(data) < 4:
        raise DataError(f"not an IDX file: {name} has {len(data)} bytes, fewer than a 4-byte magic number")
    found = int.from_bytes(data[:4], "big")
    code, ndim = data[2], data[3]
    if magic is not None and found != magic:
        if data[:2] == b"\x00\x00" and code in _DTYPES and ndim > 0:    # IDX, another kind
            want = _describe_magic(magic)
            raise DataError(f"{name} is an IDX file of {_describe_magic(found)} (magic "
                            f"0x{found:08X}); bprop reads {want} (magic 0x{magic:08X})")
        raise DataError(f"not an IDX file: magic 0x{found:08X} in {name} (expected 0x{magic:08X})")
    if data[:2] != b"\x00\x00" or code not in _DTYPES or ndim == 0:
        raise DataError(
            f"not an IDX file: magic 0x{found:08X} in {name} "
            "(expected 0x0000TTNN: type code TT in 08, 09, 0B, 0C, 0D, 0E and NN >= 1 dimensions)"
        )
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise DataError(
            f"truncated IDX file {name}: a {ndim}-dimensional header needs {header_len} bytes, found {len(data)}"
        )
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if 0 in dims[1:]:
        raise DataError(f"IDX file {name} holds items of shape {dims[1:]}, which is empty")
    dtype = _DTYPES[code]
    item_bytes = dtype.itemsize * math.prod(dims[1:])     # Python ints: no overflow
    payload = len(data) - header_len
    expected = dims[0] * item_bytes
    if payload < expected:
        items = payload // item_bytes if item_bytes else 0
        raise DataError(f"truncated IDX file {name}: header promises {dims[0]} items, found {items}")
    if payload > expected:
        raise DataError(
            f"IDX file {name} is longer than its header promises: {dims[0]} items of shape "
            f"{dims[1:]} take {expected} bytes, found {payload} bytes after the header"
        )
    a = np.frombuffer(data, dtype=dtype, offset=header_len).reshape(dims)
    return a.astype(dtype.newbyteorder("="))  # a writable copy in native byte order


def _describe_magic(magic):
    """'3-dimensional int16 values' for an IDX magic number."""
    code, ndim = (magic >> 8) & 0xFF, magic & 0xFF
    return f"{ndim}-dimensional {_DTYPES[code].name.lstrip('>')} values"


def write_idx(path: str | os.PathLike, a: np.ndarray) -> Path:
    """Write array ``a`` (at least 1-D) to ``path`` as an IDX file; gzip it if the name ends in ``.gz``.

    uint8 arrays get type code 0x08, so an ``(N, rows, cols)`` uint8 array is written
    with the MNIST images magic 0x00000803 and an ``(N,)`` one with the labels magic
    0x00000801. Returns the path. The gzip header carries no timestamp, so equal arrays
    give equal bytes. The file is written atomically (a temporary file renamed into place).
    """
    path = Path(path)
    a = np.asarray(a)
    key = (a.dtype.kind, a.dtype.itemsize)
    if key not in _CODES:
        raise DataError(
            f"IDX cannot store dtype {a.dtype}; use uint8, int8, int16, int32, float32 or float64"
        )
    if a.ndim == 0 or a.ndim > 255:
        raise DataError(f"IDX stores arrays with 1 to 255 dimensions; got shape {a.shape}")
    code = _CODES[key]
    header = bytes([0, 0, code, a.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in a.shape)
    data = header + np.ascontiguousarray(a, dtype=_DTYPES[code]).tobytes()
    if path.name.endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    from ..atomic import atomic_write      # a file is replaced whole or not at all

    atomic_write(path, lambda f: f.write(data))
    return path


def read_images(path: str | os.PathLike) -> np.ndarray:
    """MNIST-style images ``(N, rows, cols)`` uint8 from the IDX file at ``path`` (magic 0x00000803)."""
    return read_idx(path, magic=IMAGES_MAGIC)


def read_labels(path: str | os.PathLike, n_classes: int | None = None) -> np.ndarray:
    """MNIST-style labels ``(N,)`` int64 from the IDX file at ``path`` (magic 0x00000801).

    With ``n_classes``, every label must lie in ``[0, n_classes)``.
    """
    y = read_idx(path, magic=LABELS_MAGIC).astype(np.int64)
    if n_classes is not None and y.size and y.max() >= n_classes:
        raise DataError(
            f"labels in {Path(path).name} must be integers in [0, {n_classes}); "
            f"got min={y.min()}, max={y.max()}"
        )
    return y


def read_pair(images_path: str | os.PathLike, labels_path: str | os.PathLike,
              n_classes: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, rows, cols)`` uint8 and labels ``(N,)`` int64 from two IDX files; counts must agree."""
    images = read_images(images_path)
    labels = read_labels(labels_path, n_classes)
    if len(images) != len(labels):
        raise DataError(
            f"{Path(images_path).name} has {len(images)} images but "
            f"{Path(labels_path).name} has {len(labels)} labels"
        )
    if len(images) == 0:
        raise DataError(f"{Path(images_path).name} holds no images")
    return images, labels
