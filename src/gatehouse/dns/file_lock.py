"""An exclusive lock on a file (flock), for processes that share a directory."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path


class FileLock:
    """An exclusive flock on a file: the processes sharing the directory take turns. With a
    deadline, entering gives False if the lock was not had by then."""

    def __init__(self, path: Path, deadline: float | None = None) -> None:
        self.path = path
        self.deadline = deadline
        self._fd = -1

    def __enter__(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            if self.deadline is None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            else:
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() >= self.deadline:
                            os.close(fd)
                            return False
                        time.sleep(0.01)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    def __exit__(self, *_exc: object) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # closing releases the lock
            self._fd = -1
