"""One writer per run folder: an OS lock on ``<workdir>/.lock``, released when its holder dies.

The lock is ``fcntl.flock`` on the file, so the kernel releases it when the process exits in
any way (SIGKILL included): a lock file left by a killed run is stale by construction and does
not block a resume. The file's text (pid, host, start time) only names the holder in the
message a second writer gets.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path

from qtnet.training.run_folder import RunFolderError

LOCK_FILE = ".lock"


class RunFolderLock:
    """An exclusive lock on a run folder; use as a context manager around all writes to it."""

    def __init__(self, workdir: str | Path):
        self.path = Path(workdir) / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise :class:`RunFolderError` naming the run that holds it."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise RunFolderError(f"cannot write to the run folder {self.path.parent}: "
                                 f"{err.strerror or err} (cannot create {self.path}); "
                                 f"use a writable --workdir") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe(os.pread(fd, 4096, 0))
            os.close(fd)
            raise RunFolderError(f"the run folder {self.path.parent} is in use by another "
                                 f"run ({holder}); wait for it to finish, stop it, or use "
                                 f"another --workdir") from None
        text = json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                           "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
        os.ftruncate(fd, 0)
        os.pwrite(fd, text.encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunFolderLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def remove_if_unused(workdir: str | Path) -> None:
    """Delete ``workdir`` if it holds nothing but a released lock (a run that was refused
    before it wrote anything, in a folder it created)."""
    workdir = Path(workdir)
    try:
        if [p.name for p in workdir.iterdir()] == [LOCK_FILE] and \
                (workdir / LOCK_FILE).stat().st_size == 0:
            (workdir / LOCK_FILE).unlink()
            workdir.rmdir()
    except OSError:
        pass                                   # not ours to clean after all


def _describe(raw: bytes) -> str:
    """``pid P on host H, started T`` from a lock file's text (which may be mid-write)."""
    try:
        info = json.loads(raw.decode())
        return f"pid {info['pid']} on host {info['host']}, started {info['started']}"
    except (ValueError, KeyError, TypeError):
        return "holder not yet recorded: it has just started"
