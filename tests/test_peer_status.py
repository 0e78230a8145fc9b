"""What a cPanel DNS cluster master asks of a peer for its cluster status (cPanel's
Cpanel/DNSLib/PeerStatus.pm), sent byte for byte as that module builds it, with a token that
holds `clustering` only — the one privilege cPanel asks a cluster token to hold — and read as
that module reads it (docs/cluster.md)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from conftest import Server, free_dns_port
from inprocess import Local, open_local


def peer_status_batch(server: Server, token: str) -> httpx.Response:
    """PeerStatus::_build_bulk_whmreq: the commands sorted by name, each `NAME?ARGS` (sorted)
    URI-encoded, POSTed through cPanel::PublicAPI's whm_api as a form."""
    commands = {
        "version": "api.version=1",
        "installed_versions": "api.version=1",
        "servicestatus": "api.version=1&service=named",
    }
    body = "&".join(
        ["api.version=1"]
        + [f"command={quote(f'{name}?{commands[name]}', safe='')}" for name in sorted(commands)]
    )
    return httpx.post(
        f"{server.url}/json-api/batch",
        content=body,
        headers={
            "Authorization": f"whm root:{token}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        timeout=30,
    )


@pytest.fixture(scope="module")
def cluster_token(server: Server) -> str:
    return server.token(acl=["clustering"])


def by_command(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["metadata"]["command"]: r for r in body["data"]["result"]}


def test_the_masters_batch_succeeds_with_a_clustering_token(
    server: Server, cluster_token: str
) -> None:
    body = peer_status_batch(server, cluster_token).json()
    assert body["metadata"]["result"] == 1
    # PeerStatus: has_good_privs is a reason that does not say "required privileges".
    assert not re.search("required privileges", body["metadata"]["reason"], re.I)
    assert sorted(by_command(body)) == ["installed_versions", "servicestatus", "version"]


def test_the_nameserver_is_reported_enabled_watched_and_running(
    server: Server, cluster_token: str
) -> None:
    service = by_command(peer_status_batch(server, cluster_token).json())["servicestatus"]
    assert service["data"]["service"] == [
        {
            "display_name": "DNS Server",
            "enabled": 1,
            "installed": 1,
            "monitored": 1,
            "name": "named",
            "running": 1,
        }
    ]


def test_installed_versions_claim_no_bind_and_no_powerdns(
    server: Server, cluster_token: str
) -> None:
    # The master takes a truthy `powerdns` for a DNSSEC-capable PowerDNS: gatehouse's
    # nameserver is its own, so both are 0 (not installed) and the master sees no DNSSEC.
    versions = by_command(peer_status_batch(server, cluster_token).json())["installed_versions"]
    data = versions["data"]
    assert (data["bind"], data["powerdns"]) == (0, 0)
    assert data["cpanel_and_whm"] == server.ok("version")["version"]
    assert data["linux_kernel"] and data["gatehouse"]


def test_reverse_trust_is_a_peer_at_host_or_althost(server: Server, cluster_token: str) -> None:
    def has_trust(**params: str) -> int:
        return int(
            server.ok("cluster_member_has_trust_with", token=cluster_token, params=params)[
                "has_trust"
            ]
        )

    host = "192.0.2.201"
    assert has_trust(host=host) == 0
    server.ok("gatehouse_add_cluster_peer", params={"host": host, "token": "X" * 32, "check": 0})
    try:
        assert has_trust(host=host) == 1
        assert has_trust(host="10.0.0.9", althost=host) == 1
        assert has_trust(host="10.0.0.9", althost="10.0.0.10") == 0
    finally:
        server.ok("gatehouse_remove_cluster_peer", params={"host": host})


def test_reverse_trust_without_a_host_is_refused_in_cpanels_words(server: Server) -> None:
    assert server.fail("cluster_member_has_trust_with") == "Missing argument: host"


@pytest.mark.parametrize(
    ("function", "params", "reason"),
    [
        ("servicestatus", {"service": "httpd"}, "Specified service does not exist."),
        ("servicestatus", {"service": ""}, "Specified service does not exist."),
    ],
)
def test_refusals(server: Server, function: str, params: dict[str, str], reason: str) -> None:
    assert server.fail(function, params=params) == reason


def test_servicestatus_lists_named_without_a_service(server: Server) -> None:
    assert [s["name"] for s in server.ok("servicestatus")["service"]] == ["named"]


@pytest.mark.parametrize(
    ("function", "reason"),
    [
        (
            "servicestatus",
            "Access denied: calling “servicestatus” requires the “status” or “clustering” "
            "privileges.",
        ),
        (
            "installed_versions",
            "Access denied: calling “installed_versions” requires the “basic-system-info” or "
            "“clustering” privileges.",
        ),
        (
            "cluster_member_has_trust_with",
            "Access denied: calling “cluster_member_has_trust_with” requires the “clustering” "
            "privilege.",
        ),
    ],
)
def test_privileges(server: Server, function: str, reason: str) -> None:
    token = server.token(acl=["list-accts"])
    response = server.get(function, token=token, params={"host": "192.0.2.1"})
    assert response.status_code == 403
    assert response.json()["metadata"]["reason"] == reason


@pytest.fixture
def local(tmp_path: Path) -> Iterator[Local]:
    opened = open_local(tmp_path)
    yield opened
    opened.close()


def test_without_a_nameserver_named_is_reported_disabled(local: Local) -> None:
    assert local.gatehouse.config.dns_port == 0
    assert local.ok("servicestatus", {"service": "named"})["service"][0] == {
        "display_name": "DNS Server",
        "enabled": 0,
        "installed": 1,
        "monitored": 0,
        "name": "named",
    }


def test_a_nameserver_that_does_not_answer_is_reported_not_running(local: Local) -> None:
    gatehouse = local.gatehouse
    gatehouse.config = dataclasses.replace(gatehouse.config, dns_port=free_dns_port())
    (named,) = local.ok("servicestatus")["service"]
    assert (named["enabled"], named["running"]) == (1, 0)
