"""`gatehouse cphulk`: the lists, blocks and settings from the command line, seen by the
running server at once (a node that counts the addresses a proxy forwards: hulk_helpers)."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator

import pytest

from conftest import Server
from hulk_helpers import client_as, counted_node
from hulk_helpers import remote_address as fresh_address


@pytest.fixture(scope="module")
def server(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with counted_node(server, tmp_path_factory, "cphulk-cli") as node:
        yield node


def call_from(server: Server, address: str, auth: str) -> int:
    with client_as(address) as client:
        response = client.get(
            f"{server.url}/json-api/version",
            params={"api.version": "1"},
            headers={"Authorization": auth},
        )
        return response.status_code


def test_black_listing_from_the_cli_reaches_the_running_server(server: Server) -> None:
    address = fresh_address()
    out = server.cli("cphulk", "add", "black", address, "--comment", "seen scanning")
    assert f"added {address} to the black list" in out.stdout
    try:
        assert call_from(server, address, f"whm root:{server.root_token}") == 401
        listed = server.cli("cphulk", "list", "black").stdout
        assert address in listed and "seen scanning" in listed
    finally:
        server.cli("cphulk", "remove", "black", address)
    assert call_from(server, address, f"whm root:{server.root_token}") == 200


def test_a_bad_address_is_refused_with_a_clear_message(server: Server) -> None:
    result = server.cli("cphulk", "add", "white", "300.1.2.3", check=False)
    assert result.returncode == 1
    assert "Invalid IP address or range" in result.stderr


def test_a_bad_list_name_is_a_usage_error(server: Server) -> None:
    result = server.cli("cphulk", "add", "grey", "192.0.2.1", check=False)
    assert result.returncode == 2


def test_removing_what_is_not_listed_fails(server: Server) -> None:
    result = server.cli("cphulk", "remove", "white", "192.0.2.77", check=False)
    assert result.returncode == 1
    assert "not removed: 192.0.2.77" in result.stderr


def test_blocks_are_shown_and_flushed(server: Server) -> None:
    address = fresh_address()
    for _ in range(5):
        call_from(server, address, f"whm root:{secrets.token_hex(16).upper()}")
    assert address in server.cli("cphulk", "blocks").stdout
    assert "removed 6 record(s)" in server.cli("cphulk", "flush", address).stdout
    assert call_from(server, address, f"whm root:{server.root_token}") == 200


def test_unlock_user_lifts_a_password_lock(server: Server) -> None:
    name, password = server.account(reseller=True)
    server.sql(
        "INSERT INTO cphulk_blocks (kind, username, created_time, expires_time, failures) "
        "VALUES ('user', :n, 0, 4000000000, 30)",
        n=name,
    )
    header = "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()
    addresses = (fresh_address(), "127.0.0.1")  # a lock holds for local origin too
    assert [call_from(server, address, header) for address in addresses] == [401, 401]
    assert f"lifted 1 lock(s) of {name}" in server.cli("cphulk", "unlock-user", name).stdout
    assert [call_from(server, address, header) for address in addresses] == [200, 200]


def test_status_and_config(server: Server) -> None:
    assert "cPHulk is enabled." in server.cli("cphulk", "status").stdout
    assert "max_failures_byip" in server.cli("cphulk", "config").stdout
    try:
        assert (
            "max_failures = 40"
            in server.cli("cphulk", "config", "set", "max_failures", "40").stdout
        )
        bad = server.cli("cphulk", "config", "set", "max_failures", "lots", check=False)
        assert bad.returncode == 1 and "whole number" in bad.stderr
    finally:
        server.sql("DELETE FROM cphulk_settings")
