"""Plain HTTP(S) downloads and safe archive extraction for sources that are not on the Hub.

Standard library only (urllib honours the usual proxy variables). Every failure to reach or read
the remote becomes a ``NetworkError`` with one line that names the URL.
"""

from __future__ import annotations

import http.client
import shutil
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from bash_ai.errors import DataError, NetworkError
from trainer.data.sources import ProgressFn

TIMEOUT_S = 60.0
_CHUNK = 1 << 16


def download(url: str, dest: Path, progress: ProgressFn | None = None, what: str = "downloading") -> int:
    """Stream ``url`` into ``dest``; returns the byte count. Short reads count as failures."""
    from bash_ai import __version__

    request = urllib.request.Request(url, headers={"User-Agent": f"bash-ai/{__version__}"})
    dest.parent.mkdir(parents=True, exist_ok=True)
    done = 0
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response, open(dest, "wb") as out:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            while block := response.read(_CHUNK):
                out.write(block)
                done += len(block)
                if progress is not None:
                    progress(what, done, total)
            if total is not None and done != total:
                raise NetworkError(f"download of {url} was cut short ({done} of {total} bytes)")
    except urllib.error.HTTPError as err:
        raise NetworkError(f"could not download {url}: HTTP {err.code} {err.reason}") from None
    except urllib.error.URLError as err:
        raise NetworkError(f"could not reach {url}: {err.reason}") from None
    except http.client.IncompleteRead as err:
        raise NetworkError(f"download of {url} was cut short after {done + len(err.partial)} bytes") from None
    except (TimeoutError, ConnectionError, http.client.HTTPException) as err:
        raise NetworkError(f"could not download {url}: {err}") from None
    return done


def extract_zip(
    archive: Path,
    dest: Path,
    select: Callable[[PurePosixPath], PurePosixPath | None],
    progress: ProgressFn | None = None,
) -> int:
    """Extract the members ``select`` maps to a relative output path (None skips); returns the count.

    ``select`` sees each member's path with the archive's top folder removed (GitHub archives wrap
    everything in ``<repo>-<ref>/``). Absolute paths and ``..`` components are rejected, so a
    hostile archive cannot write outside ``dest``.
    """
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as err:
        raise DataError(f"{archive.name} is not a valid zip archive: {err}") from None
    written = 0
    with zf:
        members = [m for m in zf.infolist() if not m.is_dir()]
        for i, member in enumerate(members):
            parts = PurePosixPath(member.filename).parts
            if len(parts) < 2:
                continue
            target = select(PurePosixPath(*parts[1:]))
            if target is None:
                continue
            if target.is_absolute() or any(p in ("..", "") for p in target.parts):
                raise DataError(f"{archive.name}: refusing unsafe member path {member.filename!r}")
            out = dest / target
            out.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(member) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst, _CHUNK)
            written += 1
            if progress is not None and i % 200 == 0:
                progress("extracting", i + 1, len(members))
    return written


def copy_file(src: Path, dest: Path, progress: ProgressFn | None = None, what: str = "copying") -> int:
    """Copy one (possibly large) file with progress; returns the byte count."""
    if not src.is_file():
        raise DataError(f"{src} is not a file")
    total = src.stat().st_size
    dest.parent.mkdir(parents=True, exist_ok=True)
    done = 0
    with open(src, "rb") as fin, open(dest, "wb") as fout:
        while block := fin.read(1 << 20):
            fout.write(block)
            done += len(block)
            if progress is not None:
                progress(what, done, total)
    return done
