"""Nothing a client sends may produce a 5xx or an unlogged failure (issue 18 §1): the inputs
that did — a deeply nested JSON record, a lone surrogate echoed in a refusal, a DNS query with
100 questions — now get a refusal in the caller's own envelope and leave no traceback."""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import dns.flags
import dns.message
import dns.rcode
import pytest

from conftest import Server

NESTED = "[" * 1000
LONE_SURROGATE = json.dumps(
    {"dname": "x\ud800", "ttl": 300, "record_type": "A", "data": ["192.0.2.1"]}
)


@pytest.fixture
def log_tail(server: Server) -> Iterator[Any]:
    """What the server logs during the test."""
    start = server.log_path.stat().st_size

    def read() -> str:
        with open(server.log_path, "rb") as log:
            log.seek(start)
            return log.read().decode("utf-8", "replace")

    yield read


def _serial(server: Server, zone: str) -> str:
    rows = server.ok("parse_dns_zone", params={"zone": zone})["payload"]
    soa = next(r for r in rows if r.get("record_type") == "SOA")
    return base64.b64decode(soa["data_b64"][2]).decode()


@pytest.mark.parametrize(
    ("value", "words"),
    [(NESTED, "nests more than 8 levels"), (LONE_SURROGATE, "unpaired UTF-16 surrogate")],
    ids=["nested", "lone-surrogate"],
)
def test_whm_mass_edit_refuses_in_its_envelope(
    server: Server, log_tail: Any, value: str, words: str
) -> None:
    user, _ = server.account()
    zone = f"{user}.example.com"
    before = server.sql("SELECT text FROM zones WHERE name = :n", n=zone)
    response = server.get(
        "mass_edit_dns_zone",
        params=[("zone", zone), ("serial", _serial(server, zone)), ("add", value)],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["metadata"]["result"] == 0 and words in body["metadata"]["reason"]
    assert server.sql("SELECT text FROM zones WHERE name = :n", n=zone) == before
    assert "Traceback" not in log_tail()


@pytest.mark.parametrize(
    ("value", "words"),
    [(NESTED, "nests more than 8 levels"), (LONE_SURROGATE, "unpaired UTF-16 surrogate")],
    ids=["nested", "lone-surrogate"],
)
def test_uapi_mass_edit_refuses_in_its_envelope(
    server: Server, log_tail: Any, value: str, words: str
) -> None:
    user, password = server.account()
    token = server.cpanel_token(user, password)
    zone = f"{user}.example.com"
    response = server.uapi(
        user, "DNS", "mass_edit_zone", token=token, zone=zone,
        serial=_serial(server, zone), add=value,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == 0 and words in body["errors"][0]
    assert "Traceback" not in log_tail()


def test_a_refusal_echoing_a_lone_surrogate_is_valid_json(server: Server) -> None:
    """Where a lone surrogate does reach a reason, the answer escapes it (\\ud800) instead
    of failing to encode after the handler ran."""
    from gatehouse.api import envelope

    body = envelope.whm1("x", ok=False, reason="bad “x\ud800”")
    assert json.loads(body)["metadata"]["reason"] == "bad “x\ud800”"
    assert b"\\ud800" in body
    assert json.loads(envelope.dumps({"a": ["\udfff"]})) == {"a": ["\udfff"]}


def test_a_dns_query_with_100_questions_is_formerr_without_a_traceback(
    server: Server, log_tail: Any
) -> None:
    query = dns.message.make_query("example.com.", "A")
    for n in range(99):
        query.question.append(dns.message.make_query(f"q{n}.example.com.", "A").question[0])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        sock.sendto(query.to_wire(), ("127.0.0.1", server.dns_port))
        reply = dns.message.from_wire(sock.recv(65535))
    assert reply.id == query.id and reply.flags & dns.flags.QR
    assert reply.rcode() == dns.rcode.FORMERR and not reply.question
    assert "Traceback" not in log_tail()


# -- the last resort: whatever a route raises is logged and answered in the face's envelope --


def _run_failing_route(last_resort: Any, path: str) -> tuple[list[dict[str, Any]], list[str]]:
    import asyncio
    import logging

    from gatehouse.http import asgi

    async def route(scope: Any, receive: Any, send: Any, state: Any) -> None:
        raise RuntimeError("a bug")

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(dict(message))

    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage() + (" +trace" if record.exc_info else ""))

    handler = Keep()
    logging.getLogger("gatehouse.http").addHandler(handler)
    try:
        scope = {"type": "http", "method": "GET", "path": path, "client": ("127.0.0.1", 1)}
        # A thread of its own: a Playwright fixture in this worker may hold a running loop here.
        worker = threading.Thread(
            target=asyncio.run,
            args=(asgi.serve_logged(route, scope, receive, send, "", last_resort),),
        )
        worker.start()
        worker.join(timeout=30)
    finally:
        logging.getLogger("gatehouse.http").removeHandler(handler)
    return sent, records


def test_whm_face_answers_a_route_failure_in_api1s_envelope_and_logs_it() -> None:
    from gatehouse.whm.app import _last_resort

    sent, records = _run_failing_route(_last_resort, "/json-api/listaccts")
    assert sent[0]["status"] == 500
    assert json.loads(sent[1]["body"]) == {
        "metadata": {
            "command": "listaccts",
            "reason": "Internal error: the request failed; see the server log.",
            "result": 0,
            "version": 1,
        }
    }
    assert records == ["GET /json-api/listaccts failed +trace"]


def test_cpanel_face_answers_a_route_failure_in_uapis_flat_result_and_logs_it() -> None:
    from gatehouse.cpanel.app import _last_resort

    sent, records = _run_failing_route(_last_resort, "/execute/DNS/parse_zone")
    assert sent[0]["status"] == 500
    body = json.loads(sent[1]["body"])
    assert body["status"] == 0 and body["errors"] == [
        "Internal error: the request failed; see the server log."
    ]
    assert records == ["GET /execute/DNS/parse_zone failed +trace"]
