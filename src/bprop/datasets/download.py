"""The cache directory and the one place bprop downloads anything.

``cache_dir()`` is ``$BPROP_DATA``, else ``$XDG_CACHE_HOME/bprop``, else
``~/.cache/bprop``. ``download_files`` fetches named files from a list of mirrors into a
directory: each file is streamed into a temporary file in that directory while its
SHA-256 is computed, and renamed into place with ``os.replace`` only when it is whole and
the hash matches, so an interrupted, failed or tampered download never leaves a file that
a later run would load. A failing mirror (refused, 404, timeout, wrong hash) passes the
file to the next one.

Only the standard library's ``urllib``. Nothing here runs at import time, and nothing
else in bprop opens a URL.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..errors import ConfigError, DataError

_CHUNK = 1 << 16


def cache_dir() -> Path:
    """Directory for downloaded data: $BPROP_DATA, else $XDG_CACHE_HOME/bprop, else ~/.cache/bprop.

    Empty variables count as unset. The directory is not created here.
    """
    if os.environ.get("BPROP_DATA"):
        return Path(os.environ["BPROP_DATA"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "bprop"
    return Path.home() / ".cache" / "bprop"


def _fetch(url: str, dest: Path, sha256: str, timeout: float) -> None:
    """Download ``url`` to ``dest`` if its SHA-256 is ``sha256``; otherwise raise and leave ``dest`` alone."""
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                h.update(chunk)
                out.write(chunk)
        got = h.hexdigest()
        if got != sha256.lower():
            raise DataError(f"SHA-256 mismatch: expected {sha256.lower()}, got {got}")
        os.replace(tmp, dest)
    finally:
        # After a successful os.replace the temporary name is gone; otherwise remove it.
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


def download_files(names: Iterable[str], mirrors: Iterable[str], dest_dir: str | os.PathLike,
                   sha256: Mapping[str, str], *, timeout: float = 60.0) -> list[Path]:
    """Download each of ``names`` into ``dest_dir``, trying ``mirrors`` in order; return the paths.

    A file's URL is ``mirror.rstrip("/") + "/" + name``. Every name needs its expected
    hex SHA-256 in ``sha256``. Files already in ``dest_dir`` are downloaded again (the
    caller decides what is missing). Raises ``DataError`` listing each mirror's failure
    if some file could not be fetched from any mirror; the files fetched before it stay.
    """
    names, mirrors = list(names), list(mirrors)
    missing = [name for name in names if name not in sha256]
    if missing:
        raise ConfigError(f"no SHA-256 given for {', '.join(missing)}; refusing to download unverified files")
    if not mirrors:
        raise ConfigError("no mirrors given to download from")
    dest_dir = Path(dest_dir)
    created = [d for d in (dest_dir, *dest_dir.parents) if not d.exists()]
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DataError(f"cannot create the download directory {dest_dir}: {e.strerror or e}") from None
    try:
        return _download_into(dest_dir, names, mirrors, sha256, timeout)
    except BaseException:
        for d in created:               # deepest first; a folder with anything in it stays
            try:
                d.rmdir()
            except OSError:
                break
        raise


def _download_into(dest_dir, names, mirrors, sha256, timeout):
    paths = []
    for name in names:
        dest = dest_dir / name
        failures = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + name
            try:
                _fetch(url, dest, sha256[name], timeout)
                break
            except urllib.error.HTTPError as e:
                e.close()
                failures.append(f"{url}: HTTP {e.code} {e.reason}")
            except urllib.error.URLError as e:
                failures.append(f"{url}: {e.reason}")
            except (OSError, http.client.HTTPException, ValueError) as e:
                # OSError covers timeouts and a full disk; ValueError a malformed URL and
                # our own DataError for a hash mismatch.
                failures.append(f"{url}: {e}")
        else:
            reasons = {failure.split(": ", 1)[1] for failure in failures}
            if len(reasons) == 1 and len(failures) > 1:     # no network: say it once
                raise DataError(f"could not download {name} from any of {len(failures)} "
                                f"mirrors: {reasons.pop()}")
            raise DataError(f"could not download {name}: " + "; ".join(failures))
        paths.append(dest)
    return paths
