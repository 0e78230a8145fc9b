"""Nothing a client sends may produce a 5xx or an unlogged failure (issue 18 §1): the inputs
that did — a deeply nested JSON record, a lone surrogate echoed in a refusal, a DNS query with
100 questions — now get a refusal in the caller's own envelope and leave no traceback."""

from __future__ import annotations

import base64
import json
import logging
import socket
import threading
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import dns.flags
import dns.message
import dns.rcode
import httpx
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


async def _raising_route(scope: Any, receive: Any, send: Any, state: Any) -> None:
    raise RuntimeError("a bug")


def _run_failing_route(
    last_resort: Any, path: str, route: Any = _raising_route
) -> tuple[list[dict[str, Any]], list[str]]:
    import asyncio

    from gatehouse.http import asgi

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


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        # cPanel's remote dnsadmin reads text; its own refusals are `Error: …` lines.
        ("/scripts2/getzone_local", b"text/plain; charset=utf-8",
         b"Error: Internal error: the request failed; see the server log.\n"),
        ("/cpsess0123456789/scripts2/savezone_local", b"text/plain; charset=utf-8",
         b"Error: Internal error: the request failed; see the server log.\n"),
        # The trust CGI answers cPanel's page (it was WHM API 1's JSON).
        ("/cgi/trustclustermaster.cgi", b"text/html; charset=utf-8",
         b'<div class="errormsg" id="trustRelationshipFailed">Internal error: the request '
         b"failed; see the server log.</div>"),
    ],
    ids=["dnsadmin", "dnsadmin-cpsess", "trust"],
)  # fmt: skip
def test_whm_face_answers_a_cluster_route_failure_in_the_protocols_own_envelope(
    path: str, content_type: bytes, body: bytes
) -> None:
    from gatehouse.whm.app import _last_resort

    sent, records = _run_failing_route(_last_resort, path)
    assert sent[0]["status"] == 500
    assert (b"content-type", content_type) in sent[0]["headers"]
    assert body in sent[1]["body"]
    assert records == [f"GET {path} failed +trace"]


def test_cpanel_face_answers_a_route_failure_in_uapis_flat_result_and_logs_it() -> None:
    from gatehouse.cpanel.app import _last_resort

    sent, records = _run_failing_route(_last_resort, "/execute/DNS/parse_zone")
    assert sent[0]["status"] == 500
    body = json.loads(sent[1]["body"])
    assert body["status"] == 0 and body["errors"] == [
        "Internal error: the request failed; see the server log."
    ]
    assert records == ["GET /execute/DNS/parse_zone failed +trace"]


# -- a record too large for the wire (65,535 bytes of data): refused in each face's envelope --
# (the zone-check's cases and edges: tests/test_zone_text.py)

HUGE_TXT = ["a" * 255] * 300  # 76,800 bytes on the wire


def _post(url: str, authorization: str, params: Any) -> Any:
    """A call with its parameters POSTed as a form (too long for a URL); its JSON body."""
    response = httpx.post(
        url,
        content=urlencode(params).encode(),
        headers={
            "Authorization": authorization,
            "Content-Type": "application/x-www-form-urlencoded",
        },
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.json()


def _post_whm(server: Server, function: str, params: list[tuple[str, str]]) -> Any:
    url = f"{server.url}/json-api/{function}?api.version=1"
    metadata = _post(url, f"whm root:{server.root_token}", params)["metadata"]
    assert metadata["result"] == 0, metadata
    return metadata["reason"]


def _post_cpanel(server: Server, path: str, user: str, token: str, params: dict[str, str]) -> Any:
    return _post(f"{server.cpanel_url}{path}", f"cpanel {user}:{token}", params)


def _whm_mass_edit(server: Server, user: str, password: str, zone: str) -> str:
    record = {"dname": "big", "ttl": 300, "record_type": "TXT", "data": HUGE_TXT}
    params = [("zone", zone), ("serial", _serial(server, zone)), ("add", json.dumps(record))]
    return str(_post_whm(server, "mass_edit_dns_zone", params))


def _api2_add_zone_record(server: Server, user: str, password: str, zone: str) -> str:
    """API 2 splits a long `txtdata` into strings of 255 bytes itself."""
    params = {
        "cpanel_jsonapi_apiversion": "2",
        "cpanel_jsonapi_module": "ZoneEdit",
        "cpanel_jsonapi_func": "add_zone_record",
        "domain": zone,
        "name": "big",
        "type": "TXT",
        "txtdata": "a" * 100_000,
    }
    token = server.cpanel_token(user, password)
    body = _post_cpanel(server, "/json-api/cpanel", user, token, params)
    result = body["cpanelresult"]["data"][0]["result"]
    assert result["status"] == 0, result
    return str(result["statusmsg"])


def _uapi_mass_edit(server: Server, user: str, password: str, zone: str) -> str:
    record = {"dname": "big", "ttl": 300, "record_type": "TXT", "data": HUGE_TXT}
    params = {"zone": zone, "serial": _serial(server, zone), "add": json.dumps(record)}
    token = server.cpanel_token(user, password)
    body = _post_cpanel(server, "/execute/DNS/mass_edit_zone", user, token, params)
    assert body["status"] == 0, body
    return str(body["errors"][0])


FACES = {
    "whm-mass_edit_dns_zone": _whm_mass_edit,
    "api2-add_zone_record": _api2_add_zone_record,
    "uapi-mass_edit_zone": _uapi_mass_edit,
}


@pytest.mark.parametrize("face", FACES)
def test_a_record_over_65535_bytes_on_the_wire_is_refused_and_nothing_stored(
    server: Server, log_tail: Any, face: str
) -> None:
    user, password = server.account()
    zone = f"{user}.example.com"
    before = server.sql("SELECT text, serial FROM zones WHERE name = :n", n=zone)
    reason = FACES[face](server, user, password, zone)
    if face == "api2-add_zone_record":
        # A one-record function: Whostmgr::DNS's words, before the zone is checked.
        assert reason == "Records may not exceed 65535 bytes"
    else:
        assert reason.startswith(f"The DNS zone “{zone}” would be invalid (line "), reason
        assert "bytes on the wire, and a record holds at most 65,535" in reason
    assert server.sql("SELECT text, serial FROM zones WHERE name = :n", n=zone) == before
    assert "Traceback" not in log_tail()


def test_a_stored_record_too_large_to_send_is_servfail_with_one_line_logged(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    """A zone stored before the check (or written by hand) may hold one: the nameserver says
    SERVFAIL and logs why on one line, no traceback."""
    import sqlalchemy as sa

    from gatehouse.dns.nameserver.cache import ResponseCache
    from gatehouse.dns.nameserver.respond import Responder
    from gatehouse.dns.nameserver.zonesource import ZoneSource

    user, _ = server.account()
    zone = f"{user}.example.com"
    ((text, serial),) = server.sql("SELECT text, serial FROM zones WHERE name = :n", n=zone)
    big = "big\t300\tIN\tTXT\t" + " ".join(f'"{s}"' for s in HUGE_TXT)
    server.sql(
        "UPDATE zones SET text = :t, serial = :s WHERE name = :n",
        t=f"{text.rstrip()}\n{big}\n",
        s=serial + 1,
        n=zone,
    )
    query = dns.message.make_query(f"big.{zone}.", "TXT")
    responder = Responder(ZoneSource(sa.create_engine(server.db_url)), ResponseCache(max_entries=0))
    try:
        with caplog.at_level(logging.INFO, logger="gatehouse.dns.nameserver"):
            reply = responder.respond(query.to_wire(), tcp=True)
    finally:
        responder.close()
    assert reply is not None
    assert dns.message.from_wire(reply).rcode() == dns.rcode.SERVFAIL
    assert [(r.getMessage(), bool(r.exc_info)) for r in caplog.records] == [
        (
            f"DNS query failed, answered SERVFAIL: big.{zone}. TXT: "
            "a record's data is over 65,535 bytes",
            False,
        )
    ]


# -- static files: a name that is not one of them is 404, whatever it holds -----------------


STATIC_NAMES = ["app.css%00.js", "..%2fapp.css", ".app.css", "app.css.py", "nosuch.js", "%ff.css"]


@pytest.mark.parametrize("prefix", ["", "/cpsess0123456789"], ids=["bare", "cpsess"])
@pytest.mark.parametrize("face", ["whm", "cpanel"])
@pytest.mark.parametrize("name", STATIC_NAMES)
def test_a_static_name_that_is_not_a_static_file_is_404(
    server: Server, log_tail: Any, face: str, prefix: str, name: str
) -> None:
    base = server.url if face == "whm" else server.cpanel_url
    response = httpx.get(f"{base}{prefix}/static/{name}", timeout=30)
    assert response.status_code == 404, response.text
    assert "Traceback" not in log_tail()


def test_a_static_file_is_served(server: Server) -> None:
    response = httpx.get(f"{server.url}/static/app.css", timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/css; charset=utf-8"


def test_a_page_that_fails_is_an_html_500_logged_once() -> None:
    """Starlette answers a page's failure itself before the face's last resort sees it: in
    HTML here (it was its plain-text "Internal Server Error"), logged by the face."""
    from starlette.requests import Request
    from starlette.responses import Response

    from gatehouse.web.site_app import Declared, Routes, SiteApp
    from gatehouse.whm.app import _last_resort

    async def failing(_site: None, _request: Request) -> Response:
        raise RuntimeError("a bug")

    class OnePage(Routes[None]):
        def declared(self) -> list[Declared[None]]:
            return [Declared("/login/", failing, ("GET",))]

    app = SiteApp(None, OnePage("unused"), {})

    async def route(scope: Any, receive: Any, send: Any, state: Any) -> None:
        await app(scope, receive, send)

    sent, records = _run_failing_route(_last_resort, "/login/", route)
    assert sent[0]["status"] == 500
    assert (b"content-type", b"text/html; charset=utf-8") in sent[0]["headers"]
    assert b"<h1>Internal error</h1>" in sent[1]["body"]
    assert records == ["GET /login/ failed +trace"]


# -- a token expiring after 9999 (refused now; an older row may hold one): the pages show it --


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, ""),
        (0, ""),
        (1_700_000_000, "2023-11-14 22:13 UTC"),
        (253402300799, "9999-12-31 23:59 UTC"),
        (253402300800, "Unix time 253402300800"),
        (999999999999, "Unix time 999999999999"),
        (67767976233521999, "Unix time 67767976233521999"),  # cPanel's own largest
        (-(10**15), f"Unix time {-(10**15)}"),
    ],
)
def test_a_stored_time_is_shown_without_raising(value: int | None, shown: str) -> None:
    from gatehouse.web.pages.render import when

    assert when(value) == shown


FAR = 999999999999
PAGES = {  # face: the pages that show a token's expiry
    "whm": ["tokens", "tokens/detail?name={name}", "tokens/edit?name={name}"],
    "cpanel": ["tokens", "tokens/detail?name={name}"],
}


@pytest.mark.parametrize("face", PAGES)
def test_the_token_pages_show_a_stored_expiry_after_9999(server: Server, face: str) -> None:
    from pages_helpers import http_session

    name = f"far-{uuid.uuid4().hex[:8]}"
    if face == "whm":
        server.token(name)
        base, service, user = server.url, "whostmgrd", "root"
    else:
        user, password = server.account()
        server.cpanel_token(user, password, name)
        base, service = server.cpanel_url, "cpaneld"
    server.sql("UPDATE api_tokens SET expires_at = :e WHERE name = :n", e=FAR, n=name)
    prefix, cookies = http_session(server, base, service, user)
    for page in PAGES[face]:
        response = httpx.get(f"{base}{prefix}/{page.format(name=name)}", cookies=cookies)
        assert response.status_code == 200, (page, response.text[:300])
        if page.startswith("tokens/edit"):
            # The form shows the last date there is; unchanged, it is not sent on Save.
            assert 'value="9999-12-31"' in response.text
        else:
            assert f"Unix time {FAR}" in response.text, page


# -- digits that are not ASCII: str.isdigit() takes "²" and "①" (int() then raised: a 500)
# and "١٢٠" (int() read it as 120, so it was taken); cPanel's Perl matches ASCII 0-9 only --

UNICODE_DIGITS = ["\u00b2", "\u2460", "\u0661\u0662\u0660"]


@pytest.fixture(scope="module")
def digits_account(server: Server) -> tuple[str, str]:
    """An account and a cPanel token of it, shared by the table below (refusals change
    nothing)."""
    user, password = server.account()
    return user, server.cpanel_token(user, password)


# id: (face, function, the other parameters, the parameter given the digits, the refusal)
DIGIT_CALLS: dict[str, tuple[str, str, dict[str, str], str, str]] = {
    "whm-add_cluster_peer-port": (
        "whm", "gatehouse_add_cluster_peer", {"host": "127.0.0.1", "token": "T", "check": "0"},
        "port", "is not a port",
    ),
    "whm-remove_cluster_peer-port": (
        "whm", "gatehouse_remove_cluster_peer", {"host": "127.0.0.1"}, "port", "is not a port",
    ),
    "whm-addzonerecord-ttl": (
        "whm", "addzonerecord", {"zone": "{zone}", "name": "d", "type": "A",
                                 "address": "192.0.2.1"},
        "ttl", "Invalid DNS record: Bad TTL provided.",
    ),
    "whm-set_cphulk_config_key-value": (
        "whm", "set_cphulk_config_key", {"key": "max_failures"}, "value",
        "must be a whole number",
    ),
    "whm-save_cphulk_config-max_failures": (
        "whm", "save_cphulk_config", {}, "max_failures", "must be a whole number",
    ),
    "whm-generatessl-keysize": (
        "whm", "generatessl", {"domains": "{zone}", "xemail": "a@example.com",
                               "countryName": "US", "stateOrProvinceName": "x",
                               "localityName": "x", "organizationName": "x"},
        "keysize", "is not supported",
    ),
    "whm-mass_edit_dns_zone-remove": (
        "whm", "mass_edit_dns_zone", {"zone": "{zone}", "serial": "{serial}"}, "remove",
        "must be a nonnegative integer",
    ),
    "uapi-Email::add_mx-priority": (
        "uapi", "Email::add_mx", {"domain": "{zone}", "exchanger": "mx.example.com"},
        "priority", "must be a whole number from 0 to 65535",
    ),
    "uapi-SSL::generate_key-keysize": (
        "uapi", "SSL::generate_key", {}, "keysize", "is not supported",
    ),
    "api2-ZoneEdit::add_zone_record-ttl": (
        "api2", "ZoneEdit::add_zone_record", {"domain": "{zone}", "name": "d", "type": "A",
                                              "address": "192.0.2.1"},
        "ttl", "Invalid DNS record: Bad TTL provided.",
    ),
    "api2-Email::addmx-preference": (
        "api2", "Email::addmx", {"domain": "{zone}", "exchanger": "mx.example.com"},
        "preference", "must be a whole number from 0 to 65535",
    ),
}  # fmt: skip


def _refusal(response: httpx.Response, face: str) -> str:
    assert response.status_code == 200, response.text
    body = response.json()
    if face == "whm":
        assert body["metadata"]["result"] == 0, body
        return str(body["metadata"]["reason"])
    if face == "uapi":
        assert body["status"] == 0, body
        return str(body["errors"][0])
    result = body["cpanelresult"]
    if "error" in result:
        return str(result["error"])
    (row,) = result["data"]
    assert row["result"]["status"] == 0, body
    return str(row["result"]["statusmsg"])


@pytest.mark.parametrize("digits", UNICODE_DIGITS, ids=["superscript", "circled", "arabic"])
@pytest.mark.parametrize("call", DIGIT_CALLS)
def test_a_number_in_digits_that_are_not_ascii_is_refused_in_the_envelope(
    server: Server, log_tail: Any, digits_account: tuple[str, str], call: str, digits: str
) -> None:
    face, function, others, name, words = DIGIT_CALLS[call]
    user, token = digits_account
    zone = f"{user}.example.com"
    serial = _serial(server, zone) if "serial" in others else ""
    params = {k: v.format(zone=zone, serial=serial) for k, v in others.items()} | {name: digits}
    before = server.sql("SELECT text FROM zones WHERE name = :n", n=zone)
    if face == "whm":
        response = server.get(function, params=params)
    else:
        module, func = function.split("::")
        response = getattr(server, face)(user, module, func, token=token, **params)
    assert words in _refusal(response, face)
    assert server.sql("SELECT text FROM zones WHERE name = :n", n=zone) == before
    assert "Traceback" not in log_tail()


@pytest.mark.parametrize("digits", UNICODE_DIGITS, ids=["superscript", "circled", "arabic"])
def test_the_zone_editor_page_passes_digits_that_are_not_ascii_on_for_the_api_to_refuse(
    digits: str,
) -> None:
    """The cPanel Zone Editor's form (web/cpanel/zone_form.py) made an int of "²" (a 500
    page) and of "١٢٠" (120); it passes the text on, and mass_edit_zone refuses it above."""
    from gatehouse.web.cpanel.zone_form import item, posted

    form = posted(
        [("name", "d"), ("ttl", digits), ("type", "A"), ("value", "192.0.2.1"), ("line", digits)]
    )
    made = json.loads(item(form, edit=True))
    assert made["ttl"] == digits and made["line_index"] == -1
