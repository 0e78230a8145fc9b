"""UAPI `DynamicDNS` (list, create, recreate, set_description, delete) and the webcall
`/cpanelwebcall/<id>` over real HTTP: the id found by its digest and shown again by `list` (kept
encrypted, never in plaintext), the webcall from 127.0.0.1 setting the A record the nameserver
serves, the plain-text refusals (unknown id, too soon) that change nothing, and cPanel's
answers and refusals for ids."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import dns.message
import dns.query
import httpx
import pytest
import sqlalchemy as sa

from conftest import Server
from gatehouse.cpanel import webcall as webcall_module
from inprocess import open_local


class Account:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.user, self.password = server.account()
        self.token = server.cpanel_token(self.user, self.password)
        self.domain = f"{self.user}.example.com"

    def uapi(self, func: str, **params: Any) -> httpx.Response:
        return self.server.uapi(self.user, "DynamicDNS", func, token=self.token, **params)

    def zone_text(self) -> str:
        rows = self.server.sql("SELECT text FROM zones WHERE name = :n", n=self.domain)
        return str(rows[0][0])


@pytest.fixture
def account(server: Server) -> Account:
    return Account(server)


def addresses(server: Server, name: str) -> set[str]:
    query = dns.message.make_query(name, "A", flags=0)
    response = dns.query.udp(query, "127.0.0.1", port=server.dns_port, timeout=5)
    return {rd.to_text() for rrset in response.answer for rd in rrset}


def create(account: Account, label: str, description: str = "Home router") -> dict[str, Any]:
    response = account.uapi("create", domain=f"{label}.{account.domain}", description=description)
    body = response.json()
    assert body["status"] == 1, body
    account.server.remember(body["data"]["id"])
    return dict(body["data"])


def webcall(server: Server, webcall_id: str, method: str = "GET") -> httpx.Response:
    return httpx.request(method, f"{server.cpanel_url}/cpanelwebcall/{webcall_id}", timeout=30)


def uapi_error(raw: bytes, reason: str) -> None:
    assert raw == (
        b'{"data":null,"errors":'
        + json.dumps([reason], ensure_ascii=False).encode()
        + b',"messages":null,"metadata":{},"status":0,"warnings":null}'
    )


def test_create_answers_the_id_and_keeps_no_plaintext_of_it(
    server: Server, account: Account
) -> None:
    before = int(time.time())
    response = account.uapi("create", domain=f"home.{account.domain}", description="Home")
    assert response.status_code == 200
    body = response.json()
    data = body["data"]
    server.remember(data["id"])
    assert sorted(data) == ["created_time", "id", "webcall_url"]
    assert len(data["id"]) == 32 and data["id"].isalpha() and data["id"].islower()
    assert data["created_time"] >= before
    assert data["webcall_url"] == (
        f"https://127.0.0.1:{server.cpanel_https_port}/cpanelwebcall/{data['id']}"
    )
    assert body["status"] == 1 and body["errors"] is None
    stored = server.sql(
        "SELECT id_digest FROM dynamic_dns WHERE domain = :d", d=f"home.{account.domain}"
    )
    assert stored[0][0] == hashlib.sha256(data["id"].encode()).hexdigest()
    row = str(server.sql("SELECT * FROM dynamic_dns"))
    assert data["id"] not in row and data["id"].encode().hex() not in row


def test_list_shows_each_id_and_the_names_addresses_as_cpanel_does(
    server: Server, account: Account
) -> None:
    data = create(account, "home", description="Home")
    raw = account.uapi("list").content
    assert raw == (
        b'{"data":[{"created_time":' + str(data["created_time"]).encode() + b","
        b'"description":"Home","domain":"home.' + account.domain.encode() + b'",'
        b'"id":"' + data["id"].encode() + b'","ipv4":[],"ipv6":[],'
        b'"last_run_times":[],"last_update_time":0}],"errors":null,"messages":null,'
        b'"metadata":{"transformed":1},"status":1,"warnings":null}'
    )
    assert webcall(server, data["id"]).status_code == 200
    listed = account.uapi("list").json()["data"][0]
    assert listed["ipv4"] == ["127.0.0.1"] and listed["ipv6"] == []
    assert listed["last_run_times"] == [listed["last_update_time"]]


def test_an_id_made_before_ids_were_kept_lists_as_null_until_recreated(
    server: Server, account: Account
) -> None:
    data = create(account, "old")
    server.sql(
        "UPDATE dynamic_dns SET id_ciphertext = NULL WHERE domain = :d", d=f"old.{account.domain}"
    )
    assert account.uapi("list").json()["data"][0]["id"] is None
    fresh = account.uapi("recreate", domain=f"old.{account.domain}").json()["data"]["id"]
    server.remember(fresh)
    assert account.uapi("list").json()["data"][0]["id"] == fresh
    assert webcall(server, data["id"]).status_code == 404
    assert webcall(server, fresh).status_code == 200


def test_recreate_gives_a_new_id_and_the_old_one_stops(server: Server, account: Account) -> None:
    data = create(account, "again")
    response = account.uapi("recreate", id=data["id"])
    fresh = response.json()["data"]
    server.remember(fresh["id"])
    assert sorted(fresh) == ["id", "webcall_url"] and fresh["id"] != data["id"]
    assert fresh["webcall_url"].endswith(f"/cpanelwebcall/{fresh['id']}")
    assert account.uapi("list").json()["data"][0]["id"] == fresh["id"]
    assert webcall(server, data["id"]).status_code == 404
    assert webcall(server, fresh["id"]).status_code == 200
    actions = server.sql(
        "SELECT action FROM audit_log WHERE detail = :d", d=f"again.{account.domain}"
    )
    assert ("RECREATEDYNAMICDNS",) in [tuple(a) for a in actions]


def test_set_description_changes_only_the_description(server: Server, account: Account) -> None:
    data = create(account, "desc", description="Before")
    ok = b'{"data":null,"errors":null,"messages":null,"metadata":{},"status":1,"warnings":null}'
    assert account.uapi("set_description", id=data["id"], description="After").content == ok
    [listed] = account.uapi("list").json()["data"]
    assert listed["description"] == "After" and listed["id"] == data["id"]
    uapi_error(
        account.uapi("set_description", id=data["id"]).content,
        "Provide the “description” argument.",
    )


@pytest.mark.parametrize("function", ["recreate", "set_description", "delete"])
@pytest.mark.parametrize("given", ["short", "A" * 32, "a" * 31 + "1"])
def test_an_id_of_the_wrong_shape_is_invalid(account: Account, function: str, given: str) -> None:
    response = account.uapi(function, id=given, description="x")
    uapi_error(response.content, f"Invalid “id”: {given}")


@pytest.mark.parametrize("function", ["recreate", "set_description"])
def test_an_unknown_or_another_accounts_id_is_nonexistent(
    server: Server, account: Account, function: str
) -> None:
    other = Account(server)
    theirs = create(other, "theirs", description="Theirs")
    for given in ("a" * 32, theirs["id"]):
        response = account.uapi(function, id=given, description="Mine")
        uapi_error(response.content, f"Nonexistent “id”: {given}")
    [listed] = other.uapi("list").json()["data"]
    assert listed["id"] == theirs["id"] and listed["description"] == "Theirs"


def test_webcall_sets_the_a_record_from_the_callers_address(
    server: Server, account: Account
) -> None:
    name = f"router.{account.domain}"
    data = create(account, "router")
    assert addresses(server, name) == set()
    serial_before = server.sql("SELECT serial FROM zones WHERE name = :n", n=account.domain)[0][0]

    response = webcall(server, data["id"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.content == f"{name} A 127.0.0.1 updated\n".encode()
    assert addresses(server, name) == {"127.0.0.1"}
    assert f"{name}.\t300\tIN\tA\t127.0.0.1" in account.zone_text()
    serial_after = server.sql("SELECT serial FROM zones WHERE name = :n", n=account.domain)[0][0]
    assert serial_after > serial_before
    audit = server.sql("SELECT action FROM audit_log WHERE subject = :s ORDER BY id", s=name)
    assert ("DYNAMICDNSUPDATE",) in [tuple(r) for r in audit]

    # At once again: refused (rate limit), nothing written.
    text = account.zone_text()
    again = webcall(server, data["id"])
    assert again.status_code == 429
    assert int(again.headers["retry-after"]) > 0
    assert again.text.startswith("Too many updates: wait ")
    assert account.zone_text() == text

    # Once the interval has passed (the clock moved back in the store): unchanged, no new serial.
    server.sql("UPDATE dynamic_dns SET last_run_time = 0 WHERE domain = :d", d=name)
    same = webcall(server, data["id"], "POST")
    assert same.status_code == 200
    assert same.content == f"{name} A 127.0.0.1 unchanged\n".encode()
    assert account.zone_text() == text

    listed = account.uapi("list").json()["data"][0]
    assert listed["last_update_time"] > 0 and len(listed["last_run_times"]) == 1

    # The id never reaches the server's log.
    assert data["id"] not in server.log_path.read_text(errors="replace")


def test_webcall_replaces_an_existing_a_record(server: Server, account: Account) -> None:
    name = f"nas.{account.domain}"
    data = create(account, "nas")
    server.ok(
        "addzonerecord",
        params={"zone": account.domain, "name": "nas", "type": "A", "address": "192.0.2.7"},
    )
    assert addresses(server, name) == {"192.0.2.7"}
    assert webcall(server, data["id"]).status_code == 200
    assert addresses(server, name) == {"127.0.0.1"}
    assert "192.0.2.7" not in account.zone_text()


@pytest.mark.parametrize("webcall_id", ["a" * 32, "short", "A" * 32, "x" * 200])
def test_unknown_id_is_a_plain_404(server: Server, webcall_id: str) -> None:
    response = webcall(server, webcall_id)
    assert response.status_code == 404
    assert response.content == b"No Dynamic DNS domain has this ID.\n"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_webcall_method_not_allowed(server: Server, account: Account) -> None:
    data = create(account, "meth")
    response = webcall(server, data["id"], "DELETE")
    assert response.status_code == 405
    assert account.uapi("list").json()["data"][0]["last_run_times"] == []


def test_create_refusals_write_nothing(server: Server, account: Account) -> None:
    other = Account(server)
    create(account, "dup")
    uapi_error(
        account.uapi("create", domain=f"dup.{account.domain}").content,
        f"The Dynamic DNS domain “dup.{account.domain}” already exists.",
    )
    uapi_error(
        account.uapi("create", domain=f"x.{other.domain}").content,
        f"“x.{other.domain}” is not under a domain of the account “{account.user}” that has a "
        "DNS zone.",
    )
    uapi_error(
        account.uapi("create", domain=account.domain).content,
        f"“{account.domain}” is a domain of its own; a Dynamic DNS domain must be a new name "
        "under one of your domains.",
    )
    uapi_error(
        account.uapi("create", domain="bad name.example.com").content,
        "“bad name.example.com” is not a valid domain name.",
    )
    uapi_error(account.uapi("create").content, "Provide the “domain” argument.")
    assert [d["domain"] for d in account.uapi("list").json()["data"]] == [f"dup.{account.domain}"]


def deleted(count: int) -> bytes:
    return (
        b'{"data":{"deleted":' + str(count).encode() + b'},"errors":null,"messages":null,'
        b'"metadata":{},"status":1,"warnings":null}'
    )


def test_delete_by_id_or_domain(server: Server, account: Account) -> None:
    other = Account(server)
    first = create(account, "one")
    create(account, "two")
    # Another account's id or domain is none of its own: cPanel's `deleted: 0`.
    assert other.uapi("delete", id=first["id"]).content == deleted(0)
    assert other.uapi("delete", domain=f"two.{account.domain}").content == deleted(0)
    assert len(account.uapi("list").json()["data"]) == 2
    uapi_error(account.uapi("delete").content, "Provide the “id” argument.")

    assert account.uapi("delete", id=first["id"]).content == deleted(1)
    assert account.uapi("delete", id=first["id"]).content == deleted(0)
    assert account.uapi("delete", domain=f"two.{account.domain}").content == deleted(1)
    assert account.uapi("list").json()["data"] == []
    assert webcall(server, first["id"]).status_code == 404


def test_delete_removes_the_names_addresses_as_cpanel_does(
    server: Server, account: Account
) -> None:
    name = f"gone.{account.domain}"
    data = create(account, "gone")
    assert webcall(server, data["id"]).status_code == 200
    assert addresses(server, name) == {"127.0.0.1"}
    kept = f"kept.{account.domain}"
    added = server.api2(
        account.user,
        "ZoneEdit",
        "add_zone_record",
        token=account.token,
        domain=account.domain,
        name="kept",
        type="A",
        address="192.0.2.9",
    )
    assert added.json()["cpanelresult"]["data"][0]["result"]["status"] == 1
    assert account.uapi("delete", id=data["id"]).content == deleted(1)
    assert addresses(server, name) == set()
    assert addresses(server, kept) == {"192.0.2.9"}
    assert f"gone.{account.domain}." not in account.zone_text()


def test_removing_the_account_removes_its_dynamic_dns(server: Server, account: Account) -> None:
    data = create(account, "bye")
    server.ok("removeacct", params={"user": account.user})
    assert (
        server.sql("SELECT domain FROM dynamic_dns WHERE domain = :d", d=f"bye.{account.domain}")
        == []
    )
    assert webcall(server, data["id"]).status_code == 404


# -- in process: the address families a loopback test server cannot show -------------------------


def test_webcall_from_ipv6_sets_aaaa_and_mapped_ipv4_sets_a(tmp_path: Path) -> None:
    local = open_local(tmp_path)
    try:
        local.ok(
            "createacct",
            {"username": "ddns6", "domain": "ddns6.example", "password": "Ddns-Six-Test-4kQ!x"},
        )
        outcome = local.cpanel(
            "uapi", "DynamicDNS", "create", "ddns6", {"domain": "h.ddns6.example"}
        )
        webcall_id = outcome.payload["result"]["data"]["id"]
        status, text, _ = webcall_module._run(local.gatehouse, webcall_id, "2001:db8::7")
        assert (status, text) == (200, "h.ddns6.example AAAA 2001:db8::7 updated")
        with local.gatehouse.engine.begin() as conn:
            conn.execute(sa.text("UPDATE dynamic_dns SET last_run_time = 0"))
        status, text, _ = webcall_module._run(local.gatehouse, webcall_id, "::ffff:192.0.2.9")
        assert (status, text) == (200, "h.ddns6.example A 192.0.2.9 updated")
        with local.gatehouse.engine.connect() as conn:
            zone = conn.execute(sa.text("SELECT text FROM zones WHERE name = 'ddns6.example'"))
            text = zone.scalar_one()
        assert "h.ddns6.example.\t300\tIN\tAAAA\t2001:db8::7" in text
        assert "h.ddns6.example.\t300\tIN\tA\t192.0.2.9" in text
    finally:
        local.close()


def test_a_suspended_accounts_webcall_is_refused(server: Server, account: Account) -> None:
    data = create(account, "off")
    text = account.zone_text()
    server.ok("suspendacct", params={"user": account.user, "reason": "test"})
    response = webcall(server, data["id"])
    assert response.status_code == 404
    assert response.content == b"No Dynamic DNS domain has this ID.\n"
    assert account.zone_text() == text
