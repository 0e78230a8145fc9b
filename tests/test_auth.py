"""Authentication over real HTTP (whm-reference §2, §4; compatibility §Requests 1, 4 and
§Responses 3): every refusal looks the same to the caller, the audit trail says why."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit_helpers import Mark, audited_since, last_audit_id
from conftest import Server, start_server, stop_server
from gatehouse.passwords import generate_password


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def denied_body(function: str) -> bytes:
    return (
        b'{"metadata":{"command":"'
        + function.encode()
        + b'","reason":"Access denied","result":0,"version":1}}'
    )


def audit_since(server: Server, since: Mark) -> list[Any]:
    return [
        (r.action, r.reason, r.actor, r.token_name, r.source_ip, r.detail)
        for r in audited_since(server, since)
    ]


def request(
    server: Server,
    function: str = "version",
    *,
    auth: str | bytes | None,
    base: str | None = None,
    client: httpx.Client | None = None,
    prefix: str = "",
) -> httpx.Response:
    headers = {"Authorization": auth} if auth is not None else {}
    http: Any = client or httpx
    response: httpx.Response = http.get(
        f"{base or server.url}{prefix}/json-api/{function}",
        params={"api.version": "1"},
        headers=headers,
        timeout=30,
    )
    return response


def assert_denied(response: httpx.Response, function: str = "version") -> None:
    assert response.status_code == 401, response.text
    assert response.content == denied_body(function)
    assert response.headers["content-type"].startswith("application/json")
    challenges = response.headers.get_list("www-authenticate")
    assert len(challenges) == 2, challenges
    assert sorted(c.split()[0].lower() for c in challenges) == ["basic", "whm"]


# -- every failure: 401, one envelope, two challenges, a precise audit reason -------------


@dataclass
class Probe:
    auth: str | None  # the Authorization header (None: send none)
    actor: str | None  # the audit row's actor
    token_name: str | None = None


def _token_not_found(s: Server) -> Probe:
    return Probe(f"whm root:{secrets.token_hex(16).upper()}", "root")


def _token_user_mismatch(s: Server) -> Probe:
    other = "u" + uuid.uuid4().hex[:10]
    return Probe(f"whm {other}:{s.root_token}", other)


def _token_expired(s: Server) -> Probe:
    name = f"exp-{uuid.uuid4().hex[:10]}"
    secret = s.token(name, expires_at=int(time.time()) + 3600)
    s.sql("UPDATE api_tokens SET expires_at = :t WHERE name = :n", t=int(time.time()) - 10, n=name)
    return Probe(f"whm root:{secret}", "root", name)


def _ip_not_allowed(s: Server) -> Probe:
    name = f"ip-{uuid.uuid4().hex[:10]}"
    secret = s.token(name, whitelist_ip=["192.0.2.1", "2001:db8::/32"])
    return Probe(f"whm root:{secret}", "root", name)


def token_name_of(s: Server, secret: str) -> str:
    digest = hashlib.sha512(secret.encode()).hexdigest()
    return str(s.sql("SELECT name FROM api_tokens WHERE digest = :d", d=digest)[0][0])


def _user_suspended(s: Server) -> Probe:
    username, secret = s.reseller()
    name = token_name_of(s, secret)
    s.sql("UPDATE users SET suspended = true WHERE username = :u", u=username)
    return Probe(f"whm {username}:{secret}", username, name)


def _login_not_allowed_password(s: Server) -> Probe:
    username, password = s.account()
    return Probe(basic(username, password), username)


def _login_not_allowed_token(s: Server) -> Probe:
    username, secret = s.reseller()
    s.ok("unsetupreseller", params={"user": username})
    return Probe(f"whm {username}:{secret}", username, token_name_of(s, secret))


def _bad_password(s: Server) -> Probe:
    return Probe(basic("root", s.root_password + "x"), "root")


def _unknown_user(s: Server) -> Probe:
    username = "nx" + uuid.uuid4().hex[:10]
    return Probe(basic(username, "whatever-password"), username)


FAILURES: list[tuple[str, Callable[[Server], Probe]]] = [
    ("token_not_found", _token_not_found),
    ("token_user_mismatch", _token_user_mismatch),
    ("token_expired", _token_expired),
    ("ip_not_allowed", _ip_not_allowed),
    ("user_suspended", _user_suspended),
    ("login_not_allowed", _login_not_allowed_password),
    ("login_not_allowed", _login_not_allowed_token),
    ("bad_password", _bad_password),
    ("unknown_user", _unknown_user),
    ("no_credentials", lambda s: Probe(None, None)),
    ("malformed_header", lambda s: Probe("whm", None)),
    ("malformed_header", lambda s: Probe("whmroot:abc", None)),
    ("unsupported_scheme", lambda s: Probe("Bearer abcdef", None)),
    ("unsupported_scheme", lambda s: Probe(f"Token root:{s.root_token}", None)),
    ("no_token", lambda s: Probe("whm root:", "root")),
    ("no_token", lambda s: Probe("WHM root", "root")),
    ("no_username", lambda s: Probe(f"whm :{s.root_token}", None)),
    ("malformed_basic", lambda s: Probe("Basic %%%", None)),
]
FAILURE_IDS = [f"{reason}-{i}" for i, (reason, _) in enumerate(FAILURES)]


@pytest.mark.parametrize(("reason", "make"), FAILURES, ids=FAILURE_IDS)
def test_failure_is_a_uniform_401(
    server: Server, reason: str, make: Callable[[Server], Probe]
) -> None:
    probe = make(server)
    assert_denied(request(server, auth=probe.auth))


@pytest.mark.parametrize(("reason", "make"), FAILURES, ids=FAILURE_IDS)
def test_failure_is_audited_with_its_reason(
    server: Server, reason: str, make: Callable[[Server], Probe]
) -> None:
    probe = make(server)
    since = last_audit_id(server)
    request(server, auth=probe.auth)
    rows = audit_since(server, since)
    assert len(rows) == 1, rows
    action, got_reason, actor, token_name, source_ip, detail = rows[0]
    assert (action, got_reason) == ("AUTHFAILURE", reason)
    assert actor == probe.actor
    assert token_name == probe.token_name
    assert source_ip == "127.0.0.1"
    assert detail == "/json-api/version"


def test_audit_never_holds_the_presented_secret(server: Server) -> None:
    secret = secrets.token_hex(16).upper()
    since = last_audit_id(server)
    request(server, auth=f"whm root:{secret}")
    assert secret not in json.dumps([list(r) for r in audit_since(server, since)])


def test_refusal_comes_before_function_lookup(server: Server) -> None:
    """An unknown function is refused like any other: the caller learns nothing."""
    response = request(server, "no_such_function", auth="whm root:WRONG")
    assert_denied(response, "no_such_function")


# -- what works -------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["whm", "WHM", "Whm", "wHm"])
def test_scheme_is_case_insensitive(server: Server, scheme: str) -> None:
    response = request(server, auth=f"{scheme} root:{server.root_token}")
    assert response.status_code == 200, response.text
    assert response.json()["metadata"]["result"] == 1


def test_cpsess_prefix_with_token(server: Server) -> None:
    response = request(server, auth=f"whm root:{server.root_token}", prefix="/cpsess1234567890")
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"version": "11.120.0.16"}


def test_cpsess_prefix_does_not_bypass_auth(server: Server) -> None:
    assert_denied(request(server, auth=None, prefix="/cpsess1234567890"))


def test_basic_auth_root(server: Server) -> None:
    response = request(server, "myprivs", auth=basic("root", server.root_password))
    assert response.status_code == 200, response.text
    assert response.json()["data"]["privileges"][0]["all"] == 1


def test_basic_auth_reseller(server: Server) -> None:
    username, password = server.account(reseller=True)
    response = request(server, "myprivs", auth=basic(username, password))
    assert response.status_code == 200, response.text
    privs = response.json()["data"]["privileges"][0]
    assert privs["all"] == 0 and privs["basic-whm-functions"] == 1


# -- garbage never breaks the server ------------------------------------------------------

# What an HTTP/1.1 header value may carry: tab, visible ASCII, obs-text.
_VALUE_CHARS = st.characters(
    codec="latin-1",
    exclude_characters="".join(chr(c) for c in [*range(0x00, 0x09), *range(0x0A, 0x20), 0x7F]),
)
_PREFIX = st.sampled_from(
    [
        "",
        "whm ",
        "WHM ",
        "cpanel ",
        "Basic ",
        "basic ",
        "Bearer ",
        "whm root:",
        "Basic cm9vdDp",
        "whm :",
    ]
)


@st.composite
def garbage_headers(draw: st.DrawFn) -> str:
    value = draw(_PREFIX) + draw(st.text(_VALUE_CHARS, max_size=200))
    if draw(st.booleans()):
        value = "Basic " + base64.b64encode(value.encode("latin-1")).decode()
    return value.strip(" \t")


@pytest.fixture(scope="module")
def http_client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


@settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(value=garbage_headers())
def test_garbage_authorization_never_500(
    server: Server, http_client: httpx.Client, value: str
) -> None:
    response = request(server, auth=value.encode("latin-1"), client=http_client)
    assert response.status_code == 401, (value, response.status_code, response.text)
    assert response.content == denied_body("version")


# -- IP allow-lists over real HTTP --------------------------------------------------------


@pytest.fixture(scope="module")
def from_127_0_0_2() -> Iterator[httpx.Client]:
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(transport=transport, timeout=30) as client:
        yield client


def test_allowed_ip_works(server: Server) -> None:
    secret = server.token(whitelist_ip="127.0.0.1")
    assert server.ok("version", token=secret) == {"version": "11.120.0.16"}


def test_other_ip_refused(server: Server, from_127_0_0_2: httpx.Client) -> None:
    secret = server.token(whitelist_ip="127.0.0.1")
    since = last_audit_id(server)
    assert_denied(request(server, auth=f"whm root:{secret}", client=from_127_0_0_2))
    rows = audit_since(server, since)
    assert [(r[1], r[4]) for r in rows] == [("ip_not_allowed", "127.0.0.2")]


def test_cidr_allows_other_address(server: Server, from_127_0_0_2: httpx.Client) -> None:
    secret = server.token(whitelist_ip="127.0.0.0/24")
    response = request(server, auth=f"whm root:{secret}", client=from_127_0_0_2)
    assert response.status_code == 200, response.text


def test_unrestricted_token_works_from_any_address(
    server: Server, from_127_0_0_2: httpx.Client
) -> None:
    secret = server.token()
    response = request(server, auth=f"whm root:{secret}", client=from_127_0_0_2)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("entry", ["::ffff:127.0.0.1", "::ffff:127.0.0.0/120"])
def test_ipv4_mapped_entry_matches_ipv4_peer(server: Server, entry: str) -> None:
    secret = server.token(whitelist_ip=entry)
    response = request(server, auth=f"whm root:{secret}")
    assert response.status_code == 200, response.text


def test_ipv4_mapped_entry_refuses_other_ipv4_peer(
    server: Server, from_127_0_0_2: httpx.Client
) -> None:
    secret = server.token(whitelist_ip="::ffff:127.0.0.1")
    assert_denied(request(server, auth=f"whm root:{secret}", client=from_127_0_0_2))


# A second server on the same store, listening on "::" (dual-stack).


@pytest.fixture(scope="module")
def dual(server: Server) -> Iterator[Server]:
    second = start_server(
        server.data_dir,
        server.db_url,
        server.backend,
        server.root_password,
        bind="::",
        log_name="dual.log",
    )
    second._root_token = server.root_token
    try:
        yield second
    finally:
        stop_server(second)


def v6_base(srv: Server) -> str:
    return f"http://[::1]:{srv.http_port}"


def test_ipv4_mapped_peer_matches_ipv4_entry(server: Server, dual: Server) -> None:
    secret = server.token(whitelist_ip="127.0.0.1")
    response = request(dual, auth=f"whm root:{secret}")  # 127.0.0.1 → ::ffff:127.0.0.1
    assert response.status_code == 200, response.text


def test_ipv4_mapped_peer_is_audited_as_ipv4(server: Server, dual: Server) -> None:
    since = last_audit_id(server)
    request(dual, auth="whm root:NOPE")
    assert [r[4] for r in audit_since(server, since)] == ["127.0.0.1"]


@pytest.mark.parametrize(
    "entry",
    [
        "::1",
        "0000:0000:0000:0000:0000:0000:0000:0001",
        "0:0:0:0:0:0:0:1",
        "::1/128",
        "::/64",
    ],
)
def test_ipv6_peer_matches_ipv6_entry(server: Server, dual: Server, entry: str) -> None:
    secret = server.token(whitelist_ip=entry)
    response = request(dual, auth=f"whm root:{secret}", base=v6_base(dual))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "entry", ["127.0.0.1", "0.0.0.0/0", "2001:db8::1", "::2", "::ffff:127.0.0.1"]
)
def test_ipv6_peer_refused_by_other_entries(server: Server, dual: Server, entry: str) -> None:
    secret = server.token(whitelist_ip=entry)
    since = last_audit_id(server)
    assert_denied(request(dual, auth=f"whm root:{secret}", base=v6_base(dual)))
    rows = audit_since(server, since)
    assert [(r[1], r[4]) for r in rows] == [("ip_not_allowed", "::1")]


def test_revoke_on_one_server_denies_on_the_other(server: Server, dual: Server) -> None:
    name = f"rv-{uuid.uuid4().hex[:10]}"
    secret = server.token(name)
    assert request(dual, auth=f"whm root:{secret}").status_code == 200
    server.ok("api_token_revoke", params={"token_name": name})
    if server.backend == "sqlite":
        # One file, one truth: the other process refuses on its very next request.
        assert_denied(request(dual, auth=f"whm root:{secret}"))
    else:
        # Another node learns through NOTIFY: refused within a bounded window (the issue's
        # target is 10 ms; `make bench` measures it). Poll, bounded in count and time.
        assert_denied(eventually_refused(dual, secret))


def eventually_refused(node: Server, secret: str) -> httpx.Response:
    deadline = time.monotonic() + 2.0
    while True:
        response = request(node, auth=f"whm root:{secret}")
        if response.status_code != 200 or time.monotonic() > deadline:
            return response
        time.sleep(0.005)


# -- a remembered password never outlives a change ------------------------------------------
# Basic auth answers from a verified-password cache and a cached user row; a change to the
# user (password, suspension) made by another process must still be seen at once on SQLite.


def refused_basic(node: Server, username: str, password: str) -> httpx.Response:
    """The next request on SQLite; on PostgreSQL once NOTIFY lands (bounded poll)."""
    deadline = time.monotonic() + (0 if node.backend == "sqlite" else 2.0)
    while True:
        response = request(node, "myprivs", auth=basic(username, password))
        if response.status_code != 200 or time.monotonic() >= deadline:
            return response
        time.sleep(0.005)


def test_password_changed_elsewhere_refuses_the_remembered_one(
    server: Server, dual: Server
) -> None:
    username, password = server.account(reseller=True)
    for _ in range(2):  # the second is answered from the caches
        assert request(dual, "myprivs", auth=basic(username, password)).status_code == 200
    new_password = server.remember(generate_password())
    server.ok("passwd", params={"user": username, "password": new_password})
    assert_denied(refused_basic(dual, username, password), "myprivs")
    assert request(dual, "myprivs", auth=basic(username, new_password)).status_code == 200


def test_password_changed_here_refuses_the_remembered_one_at_once(server: Server) -> None:
    username, password = server.account(reseller=True)
    for _ in range(2):
        assert request(server, "myprivs", auth=basic(username, password)).status_code == 200
    new_password = server.remember(generate_password())
    server.ok("passwd", params={"user": username, "password": new_password})
    assert_denied(request(server, "myprivs", auth=basic(username, password)), "myprivs")


def test_suspension_elsewhere_refuses_a_remembered_password(server: Server, dual: Server) -> None:
    username, password = server.account(reseller=True)
    for _ in range(2):
        assert request(dual, "myprivs", auth=basic(username, password)).status_code == 200
    server.ok("suspendacct", params={"user": username, "reason": "test"})
    assert_denied(refused_basic(dual, username, password), "myprivs")
