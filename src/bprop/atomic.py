"""Writing a file whole or not at all, and one writer at a time.

:func:`atomic_write` writes to a temporary file in the target's directory, flushes it to
disk and renames it over the target only when complete: an interrupted write (Ctrl-C, a
full disk, a killed process) leaves the previous file as it was. Model files, history
files, plots, reports and IDX files are all written this way. The temporary file's name
holds the target's name, the writing process's id and a tag of its host, so that the next
write of the same target removes what a killed writer of this host left behind (a file on
storage shared by several machines may be another machine's, being written).

:class:`FileLock` is an advisory lock on a file for as long as a run writes it (a training
run's checkpoint), so that a second run cannot write the same file and lose the first's.
"""

from __future__ import annotations

import errno
import glob
import os
import socket
import stat
import sys
import tempfile
import time
import zlib

from .errors import FileInUseError

try:
    import fcntl
except ImportError:         # Windows: no advisory locks, FileLock holds nothing
    fcntl = None


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
    remove_leftovers(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=_temporary_prefix(path, os.getpid()),
                                   suffix=os.path.splitext(path)[1][:16], dir=directory)
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


#: This machine, as the temporary files' names carry it: 8 hex digits of its name's CRC-32.
HOST_TAG = f"{zlib.crc32(socket.gethostname().encode()):08x}"


def _temporary_prefix(path, pid):
    """``.tmp-<pid>.<host tag>-<name>-``: the name cut short, as the file's own name may
    already be near the file system's limit of 255 bytes."""
    name = os.path.basename(path).encode()[:120].decode(errors="ignore")
    return f".tmp-{pid}.{HOST_TAG}-{name}-"


def remove_leftovers(path):
    """Remove the temporary files that an earlier write of ``path`` on this machine left
    when its process was killed. Kept: those of a process that still runs (it may be
    writing), and those of other machines (their process ids mean nothing here); a name
    without a host tag, from before bprop wrote one, counts as this machine's."""
    stem = _temporary_prefix(path, 0).removeprefix(f".tmp-0.{HOST_TAG}-")
    directory = os.path.dirname(path)
    for leftover in glob.glob(os.path.join(glob.escape(directory), f".tmp-*-{glob.escape(stem)}*")):
        writer, _, rest = os.path.basename(leftover).removeprefix(".tmp-").partition("-")
        pid, _, host = writer.partition(".")
        if pid.isdigit() and host in ("", HOST_TAG) and rest.startswith(stem) and \
                not _running(int(pid)):
            try:
                os.unlink(leftover)
            except OSError:
                pass


def _running(pid):
    if pid == os.getpid():
        return False        # this process is not writing it now: a write of ours failed
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True         # another user's process: leave its file alone
    return True


class FileLock:
    """Hold an advisory lock on ``path`` (in ``.<name>.lock`` beside it) while a run writes it.

    ``with FileLock("run.npz", "--save"):`` raises :class:`bprop.errors.FileInUseError`
    naming the other run (its process id, when it started, its command line) when another
    process holds it; released when the block ends or the process dies (``flock``, on Linux
    and macOS; on systems without it the lock holds nothing). The lock file is removed on
    release.
    """

    def __init__(self, path, what=None):
        self.path = os.path.realpath(os.fspath(path))
        self.shown, self.what = os.fspath(path), what
        directory, name = os.path.split(self.path)
        self.lock_path = os.path.join(directory, f".{name}.lock")
        self._fd = None

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()

    def acquire(self):
        if fcntl is None or self._fd is not None:
            return
        while True:
            try:
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError:
                return      # a directory we cannot write: the save itself will say so
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                holder = os.read(fd, 4096).decode(errors="replace").strip()
                os.close(fd)
                if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    return  # a file system without locks (some network mounts)
                who = f" ({holder})" if holder else ""
                flag = f"{self.what} " if self.what else ""
                raise FileInUseError(f"{flag}{self.shown} is being written by another run"
                                     f"{who}; wait for it to end, or give another file") \
                    from None
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.lock_path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)    # the holder removed it as we opened it: lock the new one
        os.ftruncate(fd, 0)
        program = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "python"
        program = "bprop" if program == "__main__.py" else program    # python -m bprop
        command = " ".join([program, *sys.argv[1:]])[:300]
        os.write(fd, f"process {os.getpid()}, since {time.strftime('%H:%M:%S')}: "
                     f"{command}".encode())
        self._fd = fd

    def release(self):
        if self._fd is None:
            return
        try:
            os.unlink(self.lock_path)
        except OSError:
            pass
        os.close(self._fd)
        self._fd = None
