"""The access log: one line per request (address, method, path, status, time, user, auth
method — never a query string or a header).

Through `logging`, a line costs ~9 µs (a LogRecord, the caller's frame looked up, a
Formatter), as much as the whole token check, and its code footprint slows the request around
it too (docs/performance.md). So once `gatehouse serve` has set up its log stream
(`use_stream`), lines are formatted here, in that stream's format, and written under the
handler's own lock, so they never interleave with other records. Without `use_stream` (the
library used in-process, tests), lines go through `logging` like any other record.

On the serving event loop (`batch_on`, which `gatehouse serve` calls), lines are written once
per pass of the loop rather than once per request:
the first line of a pass schedules a flush (`call_soon`), and the lines of every request
finished in that pass go out in one `write` and one `flush`. Each write is a system call that
lets go of the interpreter's lock, which granian's threads then take: a hand-off per request.
Measured side by side on an idle machine, one write per pass saves ~3 µs of the event loop's
time per request, as much as writing no access line at all (docs/performance.md). Any other
record through the same handler first writes the lines waiting (a filter on the handler), so
the log keeps its order; a line written in any other thread, or with no loop to batch on,
goes out at once.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import threading
import time
from collections import deque
from typing import TextIO

NAME = "gatehouse.access"
# The format `gatehouse serve` logs in; `use_stream` writes access lines in exactly this shape.
FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
_MILLISECONDS = tuple(f"{n:03d}" for n in range(1000))  # formatting one costs ~0.3 µs


class AccessLog:
    def __init__(self) -> None:
        self._logger = logging.getLogger(NAME)
        self._handler: logging.StreamHandler[TextIO] | None = None
        self._second = -1
        self._stamp = ""
        # Lines not yet written. A deque: appended on the loop, drained by whichever thread
        # flushes (a record logged from a worker thread flushes too), each step atomic.
        self._waiting: deque[str] = deque()
        self._due = False  # a flush is scheduled on the event loop
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        atexit.register(self.flush)  # what the loop's last pass left

    def batch_on(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Write the lines written in `loop`'s thread once per pass of `loop` (call it from
        there); None: every line at once again."""
        self.flush()
        self._due = False
        self._loop = loop
        self._loop_thread = None if loop is None else threading.get_ident()

    def use_stream(self, handler: logging.StreamHandler[TextIO] | None) -> None:
        """Write lines straight to this handler's stream (it must format with FORMAT and the
        default time format); None: back to `logging`."""
        self.flush()
        if self._handler is not None:
            self._handler.removeFilter(self._before_record)
        self._handler = handler
        if handler is not None:
            handler.addFilter(self._before_record)

    def _before_record(self, record: logging.LogRecord) -> bool:
        """A filter on the stream's handler: the access lines waiting go out before any other
        record, so the log stays in order."""
        if self._waiting:
            self.flush()
        return True

    def flush(self) -> None:
        """Write the lines waiting, in one write."""
        handler = self._handler
        if handler is None or not self._waiting:
            return
        lock = handler.lock
        assert lock is not None  # made by Handler.__init__
        waiting = self._waiting
        with lock:
            lines = []
            while waiting:
                lines.append(waiting.popleft())
            try:
                handler.stream.write("".join(lines))
                handler.stream.flush()
            except (OSError, ValueError):
                # As `logging` does (Handler.handleError): a log stream that cannot be written
                # (a closed pipe, a full disk) never costs the request; nowhere to say so.
                pass

    def _flush_due(self) -> None:
        self._due = False
        self.flush()

    def write(self, message: str) -> None:
        logger = self._logger
        if not logger.isEnabledFor(logging.INFO):
            return
        if self._handler is None:
            logger.info("%s", message)
            return
        now = time.time()
        second = int(now)
        if second != self._second:
            # logging.Formatter.formatTime's default: local time, then ",msecs".
            self._stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
            self._second = second
        self._waiting.append(
            f"{self._stamp},{_MILLISECONDS[int((now - second) * 1000)]} INFO {NAME} {message}\n"
        )
        if self._due:
            return  # the flush of this pass of the loop will write it
        loop = self._loop
        if loop is None or threading.get_ident() != self._loop_thread:
            self.flush()  # not on the serving loop: at once
            return
        self._due = True
        loop.call_soon(self._flush_due)


ACCESS_LOG = AccessLog()
