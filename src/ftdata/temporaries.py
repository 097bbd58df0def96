"""Temporary files that a killed run must not leave behind for good.

A run keeps its spools and its findings on disk in folders of $TMPDIR, and writes each output to a
part file beside it (`ftdata.outputs`). Each holds an advisory lock (flock) for as long as its
process lives: the kernel drops it when the process dies, however it dies (SIGKILL included). So a
temporary without a live lock is a leftover of a killed run, which the next run removes and names.
Windows has no flock: there the lock is msvcrt's on the file's first byte, which the system also
drops with the process, and a file is made in place (Windows neither removes nor renames an open file).
"""

import errno
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
import weakref
from pathlib import Path

from .errors import InputError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt

log = logging.getLogger("ftdata")
# Whether an open file can be renamed or removed (POSIX), so that a file keeps its lock until it is in place
MOVE_WHILE_OPEN = fcntl is not None
_PREFIX = "ftdata-run-"
_LOCK = ".lock"
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NO_LINKS = (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK)


def lock(fd: int) -> None:
    """Lock the file of `fd` (opened at its start) for this process, without waiting: BlockingIOError
    when another process holds it."""
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    try:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError as e:
        raise BlockingIOError(e.errno, "locked by another process") from None


def _unlock(fd: int) -> None:
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
    else:
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


def create_locked(path: Path, mode: int = 0o666) -> int:
    """A new file at `path` (FileExistsError when there is one), already locked when it appears: made
    under a name of its own and linked into place, so that no other run ever sees it unlocked."""
    if not MOVE_WHILE_OPEN:  # the name of its own could not be removed while the file is open
        return _create_in_place(path, mode)
    fd, own = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        lock(fd)
        os.fchmod(fd, mode & ~_umask())
        os.link(own, path)
    except (FileExistsError, OSError) as e:
        os.close(fd)
        if isinstance(e, FileExistsError) or e.errno not in _NO_LINKS:
            raise
        fd = _create_in_place(path, mode)  # a file system without hard links (FAT, SMB)
    finally:
        os.unlink(own)
    return fd


def _create_in_place(path: Path, mode: int) -> int:
    """A new file at `path`, locked a moment after it appears."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC | getattr(os, "O_BINARY", 0), mode)
    lock(fd)
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
    except BlockingIOError:
        return True
    else:
        _unlock(fd)
        return False
    finally:
        os.close(fd)


def cannot_write(folder: str | Path, error: OSError) -> InputError:
    """The one-line error for a temporary file in `folder` that cannot be written (most often: a full disk)."""
    return InputError(f"{folder}: cannot write a temporary file: {error.strerror} (set TMPDIR to a folder with room)")


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
    os.close(fd)  # first: Windows removes no open file
    shutil.rmtree(name, ignore_errors=True)


def remove_stale() -> None:
    """Remove the temporary folders of runs that were killed (their lock is free), naming each."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*"):
        lock_file = folder / _LOCK
        if lock_file.is_file() and not held(lock_file):
            shutil.rmtree(folder, ignore_errors=True)
            log.warning("ftdata: removed %s, left by an interrupted run", folder)


def end_with_parent(parent: int) -> None:
    """End this worker process (SIGTERM, which a worker answers quietly) as soon as `parent`, the run that
    started it, is gone: a SIGKILLed run's workers would go on checking shards nobody collects, then print
    BrokenPipe tracebacks at its results. Linux: the kernel signals at once (PR_SET_PDEATHSIG); elsewhere a
    thread looks twice a second."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError, TypeError):  # not Linux (no prctl in the C library) or no C library
        pass
    if os.getppid() != parent:  # gone before the signal was asked for
        os.kill(os.getpid(), signal.SIGTERM)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="ftdata-parent-watch", daemon=True).start()
