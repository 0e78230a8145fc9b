"""The access log: one line per request (address, method, path, status, time, user, auth
method — never a query string or a header).

Through `logging`, a line costs ~9 µs (a LogRecord, the caller's frame looked up, a
Formatter), as much as the whole token check, and its code footprint slows the request around
it too (docs/performance.md). So once `gatehouse serve` has set up its log stream
(`use_stream`), lines are formatted here, in that stream's format, and written under the
handler's own lock, so they never interleave with other records. Without `use_stream` (the
library used in-process, tests), lines go through `logging` like any other record.
"""

from __future__ import annotations

import logging
import time
from typing import TextIO

NAME = "gatehouse.access"
# The format `gatehouse serve` logs in; `use_stream` writes access lines in exactly this shape.
FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class AccessLog:
    def __init__(self) -> None:
        self._logger = logging.getLogger(NAME)
        self._handler: logging.StreamHandler[TextIO] | None = None
        self._second = -1
        self._stamp = ""

    def use_stream(self, handler: logging.StreamHandler[TextIO] | None) -> None:
        """Write lines straight to this handler's stream (it must format with FORMAT and the
        default time format); None: back to `logging`."""
        self._handler = handler

    def write(self, message: str) -> None:
        logger = self._logger
        if not logger.isEnabledFor(logging.INFO):
            return
        handler = self._handler
        if handler is None:
            logger.info("%s", message)
            return
        now = time.time()
        second = int(now)
        if second != self._second:
            # logging.Formatter.formatTime's default: local time, then ",msecs".
            self._stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
            self._second = second
        line = f"{self._stamp},{int((now - second) * 1000):03d} INFO {NAME} {message}\n"
        lock = handler.lock
        assert lock is not None  # made by Handler.__init__
        try:
            with lock:
                handler.stream.write(line)
                handler.stream.flush()
        except (OSError, ValueError):
            # As `logging` does (Handler.handleError): a log stream that cannot be written
            # (a closed pipe, a full disk) never costs the request; there is nowhere to say so.
            pass


ACCESS_LOG = AccessLog()
