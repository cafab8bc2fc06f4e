"""Reading files that may be hostile: only regular files, and never more than they declare.

A FIFO given where a file is expected would block a read forever and a device such as
/dev/zero never end one (:func:`check_regular_file`). A compressed file can expand to far
more than it occupies: readers check the sizes a header declares against this machine's
memory before expanding anything (:func:`check_declared_size`), then read no more than the
header declared (:class:`BoundedReader`).
"""

from __future__ import annotations

import math
import os
import stat


def check_regular_file(path, what, error):
    """Refuse, with ``error`` (an exception class) naming ``what`` is wanted, a path that is
    not a regular file: a FIFO would block the read forever, a device such as /dev/zero
    never end it. A missing path is left to the caller's open (FileNotFoundError)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if stat.S_ISREG(mode):
        return
    kind = ("a directory" if stat.S_ISDIR(mode) else "a named pipe (FIFO)" if stat.S_ISFIFO(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else
            "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
    raise error(f"{os.fspath(path)} is {kind}; give {what}")


def physical_memory():
    """This machine's memory in bytes, or None where it cannot be told."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):      # not a POSIX system
        return None
    return memory if memory > 0 else None


def check_declared_size(nbytes, what, error):
    """Refuse (``error``) a file whose header declares more data than this machine has
    memory, before a byte of it is expanded: ``what`` says what declared it."""
    memory = physical_memory()
    if memory is not None and nbytes > memory:
        raise error(f"{what} declares {_size(nbytes)} of data, more than this machine's "
                    f"{_size(memory)} of memory; the file is damaged or not meant for bprop")


def _size(nbytes):
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if nbytes >= scale:
            return f"{nbytes / scale:,.1f} {unit}"
    return f"{nbytes:,} bytes"


class BoundedReader:
    """A binary file object that gives at most ``limit`` bytes, then raises ``error`` with
    ``message``: for a stream (gzip) whose expanded size nothing declares in advance."""

    def __init__(self, f, limit, error, message):
        self.f, self.left, self.error, self.message = f, limit, error, message

    def _take(self, data):
        self.left -= len(data)
        if self.left < 0:
            raise self.error(self.message)
        return data

    def read(self, n=-1):
        n = self.left + 1 if n is None or n < 0 else min(n, self.left + 1)
        return self._take(self.f.read(n))

    def readline(self, n=-1):
        n = self.left + 1 if n is None or n < 0 else min(n, self.left + 1)
        return self._take(self.f.readline(n))

    def readinto(self, buffer):
        view = memoryview(buffer)[:self.left + 1]
        got = self.f.readinto(view)
        self._take(view[:got])
        return got

    def peek(self, n=1):
        return self.f.peek(n)[:self.left + 1] if hasattr(self.f, "peek") else b""


def check_npz_sizes(path, names, error, label=None):
    """Refuse (``error``) an ``.npz`` whose members ``names`` declare, in the zip's
    directory or in their ``.npy`` headers, more data than this machine's memory, or a
    header whose array is larger than the member holds; read without expanding any data
    (NumPy would allocate the array a header declares before reading it)."""
    import zipfile

    import numpy as np

    label = label or os.path.basename(os.fspath(path))
    total = 0
    with zipfile.ZipFile(path) as z:
        members = set(z.namelist())
        for name in names:
            info = z.getinfo(f"{name}.npy" if f"{name}.npy" in members else name)
            total += info.file_size
            if not info.filename.endswith(".npy"):
                continue        # NumPy hands its bytes over as they are
            with z.open(info) as f:
                major, minor = np.lib.format.read_magic(f)
                read_header = (np.lib.format.read_array_header_1_0 if major == 1 else
                               np.lib.format.read_array_header_2_0)
                shape, _, dtype = read_header(f)
                declared = math.prod(shape) * dtype.itemsize
                if declared > info.file_size:
                    raise error(f"{label}: member {name!r} declares an array of shape "
                                f"{shape} ({_size(declared)}) but holds {_size(info.file_size)}")
    check_declared_size(total, label, error)
