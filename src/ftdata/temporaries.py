"""Temporary files that a killed run must not leave behind for good.

A run keeps its spools and its findings on disk in folders of $TMPDIR, and writes each output to a
part file beside it (`ftdata.outputs`). Each holds an advisory lock (flock) for as long as its
process lives: the kernel drops it when the process dies, however it dies (SIGKILL included). So a
temporary without a live lock is a leftover of a killed run, which the next run removes and names.
"""

import errno
import fcntl
import logging
import os
import shutil
import tempfile
import weakref
from pathlib import Path

from .errors import InputError

log = logging.getLogger("ftdata")
_PREFIX = "ftdata-run-"
_LOCK = ".lock"
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NO_LINKS = (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK)


def lock(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def create_locked(path: Path, mode: int = 0o666) -> int:
    """A new file at `path` (FileExistsError when there is one), already locked when it appears: made
    under a name of its own and linked into place, so that no other run ever sees it unlocked."""
    fd, own = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        lock(fd)
        os.fchmod(fd, mode & ~_umask())
        os.link(own, path)
    except (FileExistsError, OSError) as e:
        os.close(fd)
        if isinstance(e, FileExistsError) or e.errno not in _NO_LINKS:
            raise
        # a file system without hard links (FAT, SMB): made in place, locked a moment after
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC, mode)
        lock(fd)
    finally:
        os.unlink(own)
    return fd


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def held(path: Path) -> bool:
    """Whether a live process holds the lock of `path` (False when there is no such file)."""
    try:
        fd = os.open(path, os.O_RDONLY | _CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        lock(fd)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


class TempFolder:
    """A locked folder of $TMPDIR, removed with this object (or by the next run, after a SIGKILL)."""

    def __init__(self) -> None:
        try:
            self.name = tempfile.mkdtemp(prefix=_PREFIX)
            fd = create_locked(Path(self.name) / _LOCK, 0o600)
        except OSError as e:
            raise InputError(f"{tempfile.gettempdir()}: cannot make a temporary folder: {e.strerror} "
                             "(set TMPDIR to a folder with room)") from None
        self._remove = weakref.finalize(self, _remove, self.name, fd)

    def cleanup(self) -> None:
        self._remove()

    def __enter__(self) -> str:
        return self.name

    def __exit__(self, *exc) -> None:
        self.cleanup()


def _remove(name: str, fd: int) -> None:
    shutil.rmtree(name, ignore_errors=True)
    os.close(fd)


def remove_stale() -> None:
    """Remove the temporary folders of runs that were killed (their lock is free), naming each."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*"):
        lock_file = folder / _LOCK
        if lock_file.is_file() and not held(lock_file):
            shutil.rmtree(folder, ignore_errors=True)
            log.warning("ftdata: removed %s, left by an interrupted run", folder)
