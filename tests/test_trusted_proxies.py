"""The client address behind a reverse proxy (GATEHOUSE_TRUSTED_PROXIES, docs/deployment.md).

A second node on the suite's store trusts 127.0.0.1 (the proxy) and 198.51.100.0/24 (inner
proxies of a chain). What a node saw as the client address is read where it matters: an IP
allow-list's verdict, the token's last-used address, the audit row, the access log. A real
HAProxy (Debian's) stands in front of it in the last tests; they skip without one, or fail
when CI=true (scripts/ensure-test-tools installs it)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import BIN, Server, another_node
from haproxy_helpers import (
    HAPROXY_CFG,
    front_pem,
    need,
    nodes_ca,
    running_haproxy,
    tool,
    with_files,
)

ROOT = Path(__file__).resolve().parent.parent
PROXY = "127.0.0.1"
UNTRUSTED = "127.0.0.2"
CLIENT = "203.0.113.7"
OTHER_CLIENT = "203.0.113.8"
DENIED = b'{"metadata":{"command":"version","reason":"Access denied","result":0,"version":1}}'


@pytest.fixture(scope="module")
def proxied(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A node behind a proxy on 127.0.0.1, itself behind proxies in 198.51.100.0/24."""
    env = {"GATEHOUSE_TRUSTED_PROXIES": f"{PROXY},198.51.100.0/24"}
    with another_node(server, tmp_path_factory, "proxied-node", env) as node:
        yield node


@contextlib.contextmanager
def client_from(address: str, verify: Any = True) -> Iterator[httpx.Client]:
    transport = httpx.HTTPTransport(local_address=address, verify=verify)
    with httpx.Client(transport=transport, timeout=30) as c:
        yield c


def version(
    node: Server,
    secret: str,
    forwarded: list[str | bytes],
    source: str = PROXY,
    url: str = "",
    extra: list[tuple[str, str]] | None = None,
) -> httpx.Response:
    """WHM API 1 `version` with a token, from `source`, with one X-Forwarded-For header per
    item of `forwarded` (and the `extra` headers), to the node or to `url` in front of it."""
    pairs: list[tuple[str, str | bytes]] = [("Authorization", f"whm root:{secret}")]
    pairs += [("X-Forwarded-For", value) for value in forwarded]
    pairs += extra or []
    headers = [
        (name.encode(), value if isinstance(value, bytes) else value.encode("latin-1"))
        for name, value in pairs
    ]
    with client_from(source, node.tls() if url.startswith("https:") else True) as c:
        return c.get(
            f"{url or node.url}/json-api/version", params={"api.version": "1"}, headers=headers
        )


def last_used_ip(node: Server, name: str) -> str | None:
    rows = node.sql("SELECT last_used_ip FROM api_tokens WHERE name = :n", n=name)
    return str(rows[0][0]) if rows[0][0] is not None else None


def refusals_from(node: Server, name: str) -> list[str]:
    """The source addresses of the audited refusals of the token named `name`."""
    rows = node.sql(
        "SELECT source_ip FROM audit_log WHERE token_name = :n AND reason = 'ip_not_allowed'",
        n=name,
    )
    return [str(r[0]) for r in rows]


def seen_as(
    node: Server,
    forwarded: list[str | bytes],
    source: str = PROXY,
    url: str = "",
    extra: list[tuple[str, str]] | None = None,
) -> str | None:
    """The address `node` records for a request from `source` with these headers: the
    last-used address of a fresh token (its first use is always recorded)."""
    name = f"p-{uuid.uuid4().hex[:10]}"
    secret = node.token(name)
    response = version(node, secret, forwarded, source, url, extra)
    assert response.status_code == 200, response.text
    return last_used_ip(node, name)


# -- through a trusted proxy ----------------------------------------------------------------


def test_a_token_allowed_for_the_client_works_through_the_proxy(proxied: Server) -> None:
    secret = proxied.token(whitelist_ip=CLIENT)
    response = version(proxied, secret, [CLIENT])
    assert response.status_code == 200, response.text


def test_the_same_token_is_refused_for_another_forwarded_client(proxied: Server) -> None:
    name = f"p-{uuid.uuid4().hex[:10]}"
    secret = proxied.token(name, whitelist_ip=CLIENT)
    response = version(proxied, secret, [OTHER_CLIENT])
    assert (response.status_code, response.content) == (401, DENIED)
    assert refusals_from(proxied, name) == [OTHER_CLIENT]


def test_the_proxy_itself_is_not_the_client(proxied: Server) -> None:
    """A token allowed for the proxy's address does not let every client through it."""
    secret = proxied.token(whitelist_ip=PROXY)
    assert version(proxied, secret, [CLIENT]).status_code == 401


def test_the_last_used_address_is_the_forwarded_client(proxied: Server) -> None:
    assert seen_as(proxied, [CLIENT]) == CLIENT


def test_the_audit_row_names_the_forwarded_client(proxied: Server) -> None:
    name = f"p-{uuid.uuid4().hex[:10]}"
    with client_from(PROXY) as c:
        response = c.get(
            f"{proxied.url}/json-api/api_token_create",
            params={"api.version": "1", "token_name": name},
            headers={"Authorization": f"whm root:{proxied.root_token}", "X-Forwarded-For": CLIENT},
        )
    assert response.json()["metadata"]["result"] == 1, response.text
    proxied.remember(response.json()["data"]["token"])
    rows = proxied.sql(
        "SELECT source_ip FROM audit_log WHERE action = 'CREATEAPITOKEN' AND token_name = :n",
        n=name,
    )
    assert [r[0] for r in rows] == [CLIENT]


def test_the_access_log_names_the_forwarded_client(proxied: Server) -> None:
    client = "203.0.113.99"
    with client_from(PROXY) as c:
        c.get(f"{proxied.url}/healthz", headers={"X-Forwarded-For": client})
    deadline = time.monotonic() + 5
    while f'{client} "GET /healthz" 200' not in proxied.log_path.read_text():
        assert time.monotonic() < deadline, "no access-log line names the forwarded client"
        time.sleep(0.05)


# What the node behind 127.0.0.1 (and 198.51.100.0/24) takes as the client, header by header:
# from the right, past trusted proxies, to the first other address; a malformed entry on the
# way means the direct peer (the proxy), never the garbage.
FORWARDED: list[tuple[str, list[str | bytes], str]] = [
    ("no header", [], PROXY),
    ("one client", [CLIENT], CLIENT),
    ("the client's own entry on the left is ignored", [f"192.0.2.1, {CLIENT}"], CLIENT),
    ("a chain of two proxies", [f"{CLIENT}, 198.51.100.20"], CLIENT),
    ("a chain of three proxies", [f"192.0.2.1, {CLIENT}, 198.51.100.20, 198.51.100.21"], CLIENT),
    ("repeated headers, in order", ["192.0.2.1", CLIENT], CLIENT),
    ("repeated headers, chained", [CLIENT, "198.51.100.20"], CLIENT),
    (
        "every entry a trusted proxy: the leftmost",
        ["198.51.100.20, 198.51.100.21"],
        "198.51.100.20",
    ),
    ("spaces and tabs around entries", [f"{CLIENT} ,\t198.51.100.20"], CLIENT),
    ("IPv6", ["2001:db8::7"], "2001:db8::7"),
    ("IPv6 in its long form", ["2001:0db8:0000:0000:0000:0000:0000:0007"], "2001:db8::7"),
    ("IPv4-mapped IPv6", [f"::ffff:{CLIENT}"], CLIENT),
    ("garbage beyond the client is never reached", [f"not an address, {CLIENT}"], CLIENT),
    ("a long header", [", ".join(["192.0.2.1"] * 300 + [CLIENT])], CLIENT),
    ("an empty header", [""], PROXY),
    ("unknown", ["unknown"], PROXY),
    ("an obfuscated identifier (RFC 7239)", ["_hidden"], PROXY),
    ("a port", [f"{CLIENT}:4711"], PROXY),
    ("brackets", ["[2001:db8::7]"], PROXY),
    ("a zone index", ["fe80::1%eth0"], PROXY),
    ("a host name", ["client.example.com"], PROXY),
    ("an octet out of range", ["203.0.113.256"], PROXY),
    ("a leading zero", ["203.0.113.07"], PROXY),
    ("a CIDR block", ["203.0.113.0/24"], PROXY),
    ("an empty entry between proxies", [f"{CLIENT},,198.51.100.20"], PROXY),
    ("garbage after the client", [f"{CLIENT}, garbage"], PROXY),
    ("garbage between proxies", [f"{CLIENT}, garbage, 198.51.100.20"], PROXY),
    ("bytes that are not text", [b"\xff\xfe\x80"], PROXY),
]


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [(f, e) for _, f, e in FORWARDED],
    ids=[case for case, _, _ in FORWARDED],
)
def test_the_client_behind_trusted_proxies(
    proxied: Server, forwarded: list[str | bytes], expected: str
) -> None:
    assert seen_as(proxied, forwarded) == expected


@pytest.mark.parametrize(
    "header", ["Forwarded", "X-Real-IP", "True-Client-IP", "X-Client-IP", "CF-Connecting-IP"]
)
def test_no_other_header_names_the_client(proxied: Server, header: str) -> None:
    value = f"for={CLIENT}" if header == "Forwarded" else CLIENT
    assert seen_as(proxied, [], extra=[(header, value)]) == PROXY


# -- a forged header from anyone else changes nothing ---------------------------------------


def test_a_forged_header_from_an_untrusted_address_is_ignored(proxied: Server) -> None:
    assert seen_as(proxied, [CLIENT], source=UNTRUSTED) == UNTRUSTED


def test_a_forged_header_from_an_untrusted_address_opens_no_allow_list(proxied: Server) -> None:
    name = f"p-{uuid.uuid4().hex[:10]}"
    secret = proxied.token(name, whitelist_ip=CLIENT)
    response = version(proxied, secret, [CLIENT], source=UNTRUSTED)
    assert (response.status_code, response.content) == (401, DENIED)
    assert refusals_from(proxied, name) == [UNTRUSTED]


def test_a_node_that_trusts_no_proxy_ignores_the_header(server: Server) -> None:
    """The default (GATEHOUSE_TRUSTED_PROXIES empty): even from 127.0.0.1 nothing is read."""
    assert seen_as(server, [CLIENT]) == PROXY


def test_a_node_that_trusts_no_proxy_opens_no_allow_list(server: Server) -> None:
    name = f"p-{uuid.uuid4().hex[:10]}"
    secret = server.token(name, whitelist_ip=CLIENT)
    response = version(server, secret, [CLIENT])
    assert (response.status_code, response.content) == (401, DENIED)
    assert refusals_from(server, name) == [PROXY]


# -- the setting ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["10.0.0.1/8", "proxy.example.com", "127.0.0.1;10.0.0.0/8"])
def test_a_wrong_setting_stops_the_server_with_its_name(server: Server, value: str) -> None:
    result = subprocess.run(
        [str(BIN), "serve"],
        env={
            **os.environ,
            "GATEHOUSE_DATA_DIR": str(server.data_dir),
            "GATEHOUSE_DATABASE_URL": server.db_url,
            "GATEHOUSE_TRUSTED_PROXIES": value,
            "GATEHOUSE_HTTP_PORT": "0",
            "GATEHOUSE_HTTPS_PORT": "0",
            "GATEHOUSE_CPANEL_HTTP_PORT": "0",
            "GATEHOUSE_CPANEL_HTTPS_PORT": "0",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "GATEHOUSE_TRUSTED_PROXIES" in result.stderr


# -- a real HAProxy in front (deploy/haproxy.cfg) -------------------------------------------

UNIT = ROOT / "deploy" / "gatehouse.service"


@pytest.fixture(scope="module")
def haproxy(proxied: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[int, str]]:
    """deploy/haproxy.cfg run by a real HAProxy with both its servers on the proxied node; the
    URL of each of its fronts (2087, 2083) by the port it stands for."""
    servers = {"node1": proxied, "node2": proxied}
    with running_haproxy(tmp_path_factory.mktemp("haproxy"), servers, proxied) as urls:
        yield urls


def test_through_haproxy_the_node_sees_the_client(proxied: Server, haproxy: dict[int, str]) -> None:
    assert seen_as(proxied, [], source="127.0.0.5", url=haproxy[2087]) == "127.0.0.5"


def test_through_haproxy_the_node_knows_the_request_came_over_https(
    proxied: Server, haproxy: dict[int, str]
) -> None:
    """HAProxy speaks TLS to the node: the pages' answers carry HSTS."""
    with client_from("127.0.0.5", proxied.tls()) as c:
        response = c.get(f"{haproxy[2087]}/login/")
    assert "strict-transport-security" in response.headers, response.headers


def test_through_haproxy_a_token_allowed_for_the_client_works(
    proxied: Server, haproxy: dict[int, str]
) -> None:
    secret = proxied.token(whitelist_ip="127.0.0.5")
    response = version(proxied, secret, [], source="127.0.0.5", url=haproxy[2087])
    assert response.status_code == 200, response.text


def test_through_haproxy_a_forged_header_opens_no_allow_list(
    proxied: Server, haproxy: dict[int, str]
) -> None:
    name = f"p-{uuid.uuid4().hex[:10]}"
    secret = proxied.token(name, whitelist_ip="127.0.0.5")
    response = version(proxied, secret, ["127.0.0.5"], source="127.0.0.6", url=haproxy[2087])
    assert (response.status_code, response.content) == (401, DENIED)
    assert refusals_from(proxied, name) == ["127.0.0.6"]


def test_through_haproxy_the_cpanel_port_sees_the_client(
    proxied: Server, haproxy: dict[int, str]
) -> None:
    username, password = proxied.account()
    token = proxied.cpanel_token(username, password)
    with client_from("127.0.0.5", proxied.tls()) as c:
        response = c.get(
            f"{haproxy[2083]}/execute/DomainInfo/list_domains",
            headers={"Authorization": f"cpanel {username}:{token}"},
        )
    assert response.json()["status"] == 1, response.text
    rows = proxied.sql(
        "SELECT t.last_used_ip FROM api_tokens t JOIN users u ON u.id = t.user_id "
        "WHERE u.username = :u",
        u=username,
    )
    assert [r[0] for r in rows] == ["127.0.0.5"]


def test_the_example_haproxy_configuration_is_valid(tmp_path: Path, proxied: Server) -> None:
    binary = need("haproxy", "haproxy")
    pem = front_pem(proxied, tmp_path / "gh.pem")
    ca = nodes_ca([proxied], tmp_path / "nodes.pem")
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(with_files(HAPROXY_CFG.read_text(), pem, ca))
    result = subprocess.run(
        [binary, "-c", "-f", str(cfg)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[WARNING]" not in result.stdout + result.stderr


# -- the systemd unit (deploy/gatehouse.service) --------------------------------------------


def test_the_systemd_unit_parses(tmp_path: Path) -> None:
    """`systemd-analyze verify` with the program where this checkout has it (it checks that
    ExecStart= is executable), and not one complaint about the unit's own lines."""
    analyze = tool("systemd-analyze")
    if analyze is None:
        pytest.skip("`systemd-analyze` is not installed (Debian: apt-get install systemd)")
    unit = tmp_path / "gatehouse.service"
    unit.write_text(UNIT.read_text().replace("/opt/gatehouse/.venv/bin/gatehouse", str(BIN)))
    result = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    complaints = [line for line in result.stderr.splitlines() if str(unit) in line]
    assert result.returncode == 0 and complaints == [], result.stderr


@pytest.mark.parametrize(
    "line",
    [
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/gatehouse",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "ProtectHome=yes",
        "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
        "ExecStart=/opt/gatehouse/.venv/bin/gatehouse serve",
    ],
)
def test_the_systemd_unit_runs_serve_in_a_sandbox(line: str) -> None:
    assert line in UNIT.read_text().splitlines()
