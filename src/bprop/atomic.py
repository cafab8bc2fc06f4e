"""Writing a file whole or not at all.

:func:`atomic_write` writes to a temporary file in the target's directory, flushes it to
disk and renames it over the target only when complete: an interrupted write (Ctrl-C, a
full disk, a killed process) leaves the previous file as it was. Model files, history
files, plots, reports and IDX files are all written this way.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile


def atomic_write(path, write):
    """Call ``write(fileobj)`` on a temporary file beside ``path``, then rename it into place.

    A symbolic link is written through (its target is replaced, the link stays). The file
    keeps the permissions of the one it replaces; a new file gets 0666 less the umask, as
    ``open`` would give it. Anything that exists and is not a regular file (a directory,
    ``/dev/null``, a pipe) is refused rather than replaced.
    """
    shown = os.fspath(path)
    path = os.path.realpath(shown)
    directory = os.path.dirname(path)
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, "is a directory, not a file name", shown)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        raise FileExistsError(errno.EEXIST, "exists and is not a regular file", shown)
    if mode is None:
        umask = os.umask(0)
        os.umask(umask)
        permissions = 0o666 & ~umask
    else:
        permissions = stat.S_IMODE(mode)
    try:
        # a short name (".tmp-k2x9f1ab.npz"): the file's own name may already be near the
        # file system's limit of 255 bytes
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.splitext(path)[1][:16],
                                   dir=directory)
    except OSError as e:            # name the directory, not the temporary file's name
        raise type(e)(e.errno, f"cannot create a file in {directory}: {e.strerror}",
                      shown) from None
    try:
        os.fchmod(fd, permissions)  # not mkstemp's 0600, which would hide models from others
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
