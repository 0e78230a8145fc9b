"""The access log: one line per request, in the server's log format, never a query string or
a header; written straight to the log stream by `gatehouse serve`, through `logging` otherwise."""

from __future__ import annotations

import asyncio
import io
import logging
import re
import secrets
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import TextIO, cast
from urllib.parse import quote

import httpx
import pytest

from conftest import Server
from gatehouse.http import access_log, asgi
from gatehouse.http.access_log import AccessLog
from gatehouse.passwords import generate_password

LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO gatehouse\.access "
    r'127\.0\.0\.1 "GET (?P<path>\S+)" (?P<status>\d{3}) \d+\.\dms '
    r"user=(?P<user>\S+) auth=(?P<auth>\S+)$"
)


def direct(handler: logging.StreamHandler[io.StringIO]) -> AccessLog:
    """An access log writing straight to `handler`'s stream, as `gatehouse serve` sets it up."""
    log = AccessLog()
    # A StringIO is a TextIO; the handler's type is only invariant because `stream` is settable.
    log.use_stream(cast("logging.StreamHandler[TextIO]", handler))
    return log


@pytest.fixture
def stream_handler() -> Iterator[logging.StreamHandler[io.StringIO]]:
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(logging.Formatter(access_log.FORMAT))
    yield handler
    logging.getLogger(access_log.NAME).setLevel(logging.NOTSET)


@pytest.mark.parametrize("moment", [1795478236.0, 1795478236.0999, 1795478236.5, 1795478299.999])
def test_a_direct_line_is_what_logging_would_have_written(
    stream_handler: logging.StreamHandler[io.StringIO],
    monkeypatch: pytest.MonkeyPatch,
    moment: float,
) -> None:
    log = direct(stream_handler)
    logging.getLogger(access_log.NAME).setLevel(logging.INFO)
    monkeypatch.setattr(time, "time", lambda: moment)  # the module access_log reads the clock from
    log.write('127.0.0.1 "GET /healthz" 200 0.1ms user=- auth=-')
    record = logging.LogRecord(
        access_log.NAME,
        logging.INFO,
        __file__,
        1,
        "%s",
        ('127.0.0.1 "GET /healthz" 200 0.1ms user=- auth=-',),
        None,
    )
    record.created, record.msecs = moment, int((moment - int(moment)) * 1000) + 0.0
    assert stream_handler.stream.getvalue() == stream_handler.format(record) + "\n"


def test_without_a_stream_lines_go_through_logging(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger=access_log.NAME):
        AccessLog().write('127.0.0.1 "GET /x" 404 0.1ms user=- auth=-')
    assert [r.getMessage() for r in caplog.records] == [
        '127.0.0.1 "GET /x" 404 0.1ms user=- auth=-'
    ]


def test_a_level_above_info_silences_direct_lines(
    stream_handler: logging.StreamHandler[io.StringIO],
) -> None:
    log = direct(stream_handler)
    logging.getLogger(access_log.NAME).setLevel(logging.WARNING)
    log.write("anything")
    assert stream_handler.stream.getvalue() == ""


def _new_lines(server: Server, before: int, path: str) -> list[re.Match[str]]:
    """The access lines for PATH written after the log had `before` lines. A line is written
    once the response has gone, so it may land just after the client has its answer."""
    deadline = time.monotonic() + 5
    while True:
        texts = server.log_path.read_text().splitlines()[before:]
        found = [m for m in map(LINE.match, texts) if m and m["path"] == path]
        if any(m["auth"] != "-" or m["user"] != "-" for m in found) or time.monotonic() > deadline:
            return found
        time.sleep(0.01)


def _log_length(server: Server) -> int:
    return len(server.log_path.read_text().splitlines())


def test_a_token_request_is_logged_with_its_user_and_method(server: Server) -> None:
    marker = secrets.token_hex(4)
    before = _log_length(server)
    server.get("version", params={"marker": marker})
    lines = _new_lines(server, before, "/json-api/version")
    # (The harness's start-up probe, unauthenticated, may log just before.)
    assert ("200", "root", "token") in [(m["status"], m["user"], m["auth"]) for m in lines]
    # The query string never reaches the log.
    assert marker not in server.log_path.read_text()


def test_a_refused_request_is_logged_as_such(server: Server) -> None:
    before = _log_length(server)
    server.get("version", token=secrets.token_hex(16).upper())
    lines = _new_lines(server, before, "/json-api/version")
    assert ("401", "root", "-") in [(m["status"], m["user"], m["auth"]) for m in lines]


@pytest.mark.parametrize("encoded", ["%0A", "%0D%0A", "%1B[31m"])
def test_control_characters_in_a_path_cannot_forge_a_line(server: Server, encoded: str) -> None:
    forged = f"FORGED-{secrets.token_hex(4)}"
    fake = f'{encoded}2026-01-01 00:00:00,000 INFO gatehouse.access 10.0.0.1 "GET /x" 200 {forged}'
    before = _log_length(server)
    httpx.get(f"{server.url}/json-api/version{fake.replace(' ', '%20')}", timeout=10)
    deadline = time.monotonic() + 5
    while forged not in server.log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.01)
    lines = server.log_path.read_text().splitlines()[before:]
    mine = [line for line in lines if forged in line]
    assert len(mine) == 1, lines
    assert mine[0].split(" INFO gatehouse.access ")[0] != "2026-01-01 00:00:00,000"
    assert "\\n" in mine[0] or "\\r" in mine[0] or "\\x1b" in mine[0]


def test_a_stream_that_cannot_be_written_costs_nothing(
    stream_handler: logging.StreamHandler[io.StringIO],
) -> None:
    log = direct(stream_handler)
    logging.getLogger(access_log.NAME).setLevel(logging.INFO)
    stream_handler.stream.close()  # writing now raises ValueError…
    log.write("lost")  # …which must not reach the request
    # Nothing is left half-done: the handler's lock was released (another thread writes to a
    # stream that works again at once) and that next line is whole, alone in its stream.
    working = io.StringIO()
    stream_handler.stream = working
    writer = threading.Thread(  # a daemon: a lock left held must fail the test, not hang it
        target=log.write, args=('127.0.0.1 "GET /healthz" 200 0.1ms user=- auth=-',), daemon=True
    )
    writer.start()
    writer.join(timeout=5)
    assert not writer.is_alive(), "the failed write kept the handler's lock"
    assert LINE.match(working.getvalue().rstrip("\n")), working.getvalue()
    assert working.getvalue().count("\n") == 1 and "lost" not in working.getvalue()


def _on_a_loop_of_its_own(log: AccessLog, body: Callable[[], Awaitable[None]]) -> None:
    """Run `body` on a new event loop that `log` batches on, in a thread of its own (the test's
    thread may have a loop running already: Playwright's, from an earlier test)."""
    failures: list[BaseException] = []

    async def batched() -> None:
        log.batch_on(asyncio.get_running_loop())
        try:
            await body()
            await asyncio.sleep(0)  # the pass's scheduled flush runs
        finally:
            log.batch_on(None)

    def run() -> None:
        try:
            asyncio.run(batched())
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive()
    if failures:
        raise failures[0]


def test_lines_of_one_pass_of_the_loop_go_out_together_after_it(
    stream_handler: logging.StreamHandler[io.StringIO],
) -> None:
    log = direct(stream_handler)
    logging.getLogger(access_log.NAME).setLevel(logging.INFO)
    seen: list[str] = []

    async def one_pass() -> None:
        for n in range(3):
            log.write(f'127.0.0.1 "GET /{n}" 200 0.1ms user=- auth=-')
        seen.append(stream_handler.stream.getvalue())
        await asyncio.sleep(0)  # the pass ends: its scheduled flush runs
        seen.append(stream_handler.stream.getvalue())

    _on_a_loop_of_its_own(log, one_pass)
    assert seen[0] == ""
    paths = [m["path"] for m in map(LINE.match, seen[1].splitlines()) if m]
    assert paths == ["/0", "/1", "/2"]


def test_another_record_writes_the_waiting_lines_first(
    stream_handler: logging.StreamHandler[io.StringIO],
) -> None:
    log = direct(stream_handler)
    logging.getLogger(access_log.NAME).setLevel(logging.INFO)
    other = logging.getLogger("gatehouse.test-order")
    other.addHandler(stream_handler)
    other.propagate = False

    async def one_pass() -> None:
        log.write('127.0.0.1 "GET /first" 200 0.1ms user=- auth=-')
        other.warning("second")

    try:
        _on_a_loop_of_its_own(log, one_pass)
    finally:
        other.removeHandler(stream_handler)
    lines = stream_handler.stream.getvalue().splitlines()
    assert len(lines) == 2 and "/first" in lines[0] and lines[1].endswith("second"), lines


def test_a_line_written_in_another_thread_goes_out_at_once(
    stream_handler: logging.StreamHandler[io.StringIO],
) -> None:
    log = direct(stream_handler)
    logging.getLogger(access_log.NAME).setLevel(logging.INFO)
    seen: list[str] = []

    async def write_from_a_thread() -> None:
        await asyncio.to_thread(log.write, '127.0.0.1 "GET /now" 200 0.1ms user=- auth=-')
        seen.append(stream_handler.stream.getvalue())

    _on_a_loop_of_its_own(log, write_from_a_thread)
    assert "/now" in seen[0]


def test_without_a_loop_to_batch_on_a_line_goes_out_at_once(
    stream_handler: logging.StreamHandler[io.StringIO],
) -> None:
    log = direct(stream_handler)
    logging.getLogger(access_log.NAME).setLevel(logging.INFO)
    log.write('127.0.0.1 "GET /now" 200 0.1ms user=- auth=-')
    assert "/now" in stream_handler.stream.getvalue()


def test_lines_still_waiting_are_written_by_flush(
    stream_handler: logging.StreamHandler[io.StringIO],
) -> None:
    """What `gatehouse serve` does when it ends (and at exit), should lines still wait."""
    log = direct(stream_handler)
    logging.getLogger(access_log.NAME).setLevel(logging.INFO)
    seen: list[str] = []

    async def flush_within_the_pass() -> None:
        log.write('127.0.0.1 "GET /last" 200 0.1ms user=- auth=-')
        seen.append(stream_handler.stream.getvalue())
        log.flush()
        seen.append(stream_handler.stream.getvalue())

    _on_a_loop_of_its_own(log, flush_within_the_pass)
    assert seen[0] == "" and "/last" in seen[1]
    assert stream_handler.stream.getvalue().count("/last") == 1  # the scheduled flush adds none


# -- fields a client chooses cannot forge others (issue 18 §8) ----------------------------------

FIELDS = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO gatehouse\.access "
    r'(?P<address>\S+) "(?P<method>[A-Z]+) (?P<path>(?:[^"\\]|\\.)*)" (?P<status>\d{3}) '
    r"(?P<ms>\d+\.\d)ms user=(?P<user>\S+) auth=(?P<auth>\S+)(?P<rest>.*)$"
)


def unescape(field: str) -> str:
    """A field as the client sent it: the log's backslash escapes undone."""
    return field.encode("latin-1", "backslashreplace").decode("unicode_escape")


def _fields_of(server: Server, before: int, marker: str) -> list[re.Match[str]]:
    deadline = time.monotonic() + 5
    while True:
        lines = [
            line for line in server.log_path.read_text().splitlines()[before:] if marker in line
        ]
        if lines or time.monotonic() > deadline:
            matches = [FIELDS.match(line) for line in lines]
            assert all(matches), lines
            return [m for m in matches if m]
        time.sleep(0.01)


def _base(server: Server, face: str) -> tuple[str, str, str]:
    """The face's URL, an API path prefix on it, and the suffix its lines end with."""
    if face == "whm":
        return server.url, "/json-api/", ""
    return server.cpanel_url, "/execute/Marker/", " face=cpanel"


FORGERIES = {
    "quote": '{m}" 200 0.1ms user=root auth=token face="',
    "backslash then quote": '{m}\\" 200 0.1ms user=root auth=token',
    "quote and newline": '{m}"\n2026-01-01 00:00:00,000 INFO gatehouse.access 10.0.0.1 "GET /x',
}


@pytest.mark.parametrize("face", ["whm", "cpanel"])
@pytest.mark.parametrize("forged", FORGERIES.values(), ids=FORGERIES.keys())
def test_a_quote_in_the_path_cannot_forge_fields(server: Server, face: str, forged: str) -> None:
    url, prefix, suffix = _base(server, face)
    marker = f"M{secrets.token_hex(4)}"
    path = prefix + forged.format(m=marker)
    before = _log_length(server)
    httpx.get(url + quote(path, safe="/"), timeout=10)
    [line] = _fields_of(server, before, marker)
    assert unescape(line["path"]) == path
    assert (line["user"], line["auth"], line["rest"]) == ("-", "-", suffix)


@pytest.mark.parametrize("face", ["whm", "cpanel"])
def test_a_claimed_user_name_cannot_forge_fields(server: Server, face: str) -> None:
    """A refused login logs the name it claimed: spaces, quotes and backslashes escaped."""
    url, prefix, suffix = _base(server, face)
    marker = f"M{secrets.token_hex(4)}"
    claimed = f'{marker} auth=token "x\\'
    before = _log_length(server)
    password = server.remember(generate_password())
    httpx.get(f"{url}{prefix}version", auth=(claimed, password), timeout=10)
    [line] = _fields_of(server, before, marker)
    assert line["status"] == "401"
    assert unescape(line["user"]) == claimed
    assert (line["auth"], line["rest"]) == ("-", suffix)


@pytest.mark.parametrize("length", [asgi.MEMO_LENGTH + 1, 60_000])
def test_a_long_path_is_escaped_but_not_remembered(length: int) -> None:
    """Short paths and names are escaped once and remembered; a long one (the client's
    choice) is escaped each time, so thousands of them cannot be held in memory."""
    before = asgi._quote_short.cache_info().currsize
    text = "/x\n" + "a" * (length - 3)
    assert asgi._quoted_field(text) == "/x\\n" + "a" * (length - 3)
    assert asgi._quote_short.cache_info().currsize == before


def test_a_short_path_is_remembered() -> None:
    text = f"/json-api/{uuid.uuid4().hex}"
    asgi._quoted_field(text)
    hits = asgi._quote_short.cache_info().hits
    assert asgi._quoted_field(text) == text
    assert asgi._quote_short.cache_info().hits == hits + 1
