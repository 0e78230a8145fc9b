"""Token scopes (issue 17 §6, docs/governance.md): a token limited to accounts, zones and
record names, checked in the one access rule and the one record-edit path, with reason-coded
refusals — over HTTP on both stores, WHM and cPanel faces. The DNS-01 round trip of a
record-scoped token with a real ACME client is in tests/test_acme_certbot.py."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from conftest import Server


def serial_of(server: Server, zone: str) -> str:
    rows = server.sql("SELECT serial FROM zones WHERE name = :n", n=zone)
    return str(rows[0][0])


def zone_text(server: Server, zone: str) -> str:
    return str(server.sql("SELECT text FROM zones WHERE name = :n", n=zone)[0][0])


def txt(name: str, value: str = "token-value") -> dict[str, Any]:
    return {"dname": name, "ttl": 60, "record_type": "TXT", "data": [value]}


def a_record(name: str) -> dict[str, Any]:
    return {"dname": name, "ttl": 60, "record_type": "A", "data": ["192.0.2.9"]}


def mass_edit(server: Server, token: str, zone: str, *adds: dict[str, Any]) -> dict[str, Any]:
    params = [("zone", zone), ("serial", serial_of(server, zone))]
    params += [("add", json.dumps(add)) for add in adds]
    return dict(server.get("mass_edit_dns_zone", token=token, params=params).json())


def out_of_scope_rows(server: Server, token_name: str) -> int:
    rows = server.sql(
        "SELECT COUNT(*) FROM audit_log WHERE token_name = :n AND reason = 'out_of_scope'",
        n=token_name,
    )
    return int(rows[0][0])


def scoped(server: Server, **scope: Any) -> tuple[str, str]:
    token_name = f"sc-{uuid.uuid4().hex[:8]}"
    return token_name, server.token(token_name, **scope)


def test_an_account_scoped_token_reaches_only_its_accounts(server: Server) -> None:
    mine, _ = server.account()
    other, _ = server.account()
    token_name, token = scoped(server, scope_account=[mine])
    assert server.ok("accountsummary", token=token, params={"user": mine})
    # accountsummary's own words, as for an account the caller does not own
    reason = server.fail("accountsummary", token=token, params={"user": other})
    assert reason == "Account does not exist."
    listed = server.ok("listaccts", token=token)["acct"]
    assert [a["user"] for a in listed] == [mine]
    assert server.ok("dumpzone", token=token, params={"domain": f"{mine}.example.com"})
    assert server.fail("dumpzone", token=token, params={"domain": f"{other}.example.com"}) == (
        f"You do not have access to the DNS zone “{other}.example.com”."
    )
    assert out_of_scope_rows(server, token_name) == 1


def test_a_zone_scoped_token_reaches_only_its_zones(server: Server) -> None:
    mine, _ = server.account()
    other, _ = server.account()
    zone = f"{mine}.example.com"
    _name, token = scoped(server, scope_zone=[zone])
    assert server.ok("dumpzone", token=token, params={"domain": zone})
    assert "You do not have access" in server.fail(
        "dumpzone", token=token, params={"domain": f"{other}.example.com"}
    )
    # The zone's account is not in the scope: account functions are refused.
    assert server.fail("accountsummary", token=token, params={"user": mine}) == (
        "Account does not exist."
    )
    assert [z["domain"] for z in server.ok("listzones", token=token)["zone"]] == [zone]
    assert mass_edit(server, token, zone, a_record("www2"))["metadata"]["result"] == 1


def test_a_record_scoped_token_changes_only_its_records(server: Server) -> None:
    user, _ = server.account()
    zone = f"{user}.example.com"
    challenge = f"_acme-challenge.{zone}"
    token_name, token = scoped(
        server, scope_zone=[zone], scope_record=[challenge], scope_record_type=["TXT"]
    )
    added = mass_edit(server, token, zone, txt(f"{challenge}."))
    assert added["metadata"]["result"] == 1, added
    before = zone_text(server, zone)
    for refused in (a_record("www3"), txt(f"other.{zone}."), a_record(f"{challenge}.")):
        answer = mass_edit(server, token, zone, refused)
        assert answer["metadata"]["result"] == 0
        assert "This API token may not change the" in answer["metadata"]["reason"]
    assert zone_text(server, zone) == before  # nothing half-written
    assert out_of_scope_rows(server, token_name) == 3


def test_a_record_scoped_token_cannot_remove_or_edit_other_records(server: Server) -> None:
    user, _ = server.account()
    zone = f"{user}.example.com"
    _name, token = scoped(server, scope_zone=[zone], scope_record=[f"_acme-challenge.{zone}"])
    records = server.ok("dumpzone", params={"domain": zone})["zone"][0]["record"]
    line = next(r["Line"] for r in records if r.get("type") == "A")
    reason = server.fail("removezonerecord", token=token, params={"zone": zone, "line": line})
    assert "This API token may not change the A record" in reason


@pytest.mark.parametrize(
    ("function", "params"),
    [("editzonerecord", {"raw": "; mine now"}), ("removezonerecord", {})],
)
def test_a_record_scoped_token_changes_no_comment_line(
    server: Server, function: str, params: dict[str, str]
) -> None:
    # WHM editzonerecord and removezonerecord reach comments and the `$TTL` line too.
    user, _ = server.account()
    zone = f"{user}.example.com"
    _name, token = scoped(server, scope_zone=[zone], scope_record=[f"_acme-challenge.{zone}"])
    records = server.ok("dumpzone", params={"domain": zone})["zone"][0]["record"]
    line = next(r["Line"] for r in records if r.get("raw", "").startswith("; Zone file"))
    before = zone_text(server, zone)
    reason = server.fail(function, token=token, params={"zone": zone, "line": line, **params})
    assert reason.startswith("This API token may not change the zone’s comments")
    assert zone_text(server, zone) == before


@pytest.mark.parametrize(
    ("function", "params"),
    [
        ("killdns", {"domain": "{zone}"}),
        ("api_token_create", {"token_name": "minted"}),
        ("createacct", {"username": "newacct1", "domain": "newacct1.example.com"}),
    ],
)
def test_a_record_scoped_token_runs_no_other_writing_function(
    server: Server, function: str, params: dict[str, str]
) -> None:
    user, _ = server.account()
    zone = f"{user}.example.com"
    token_name, token = scoped(server, scope_zone=[zone], scope_record=[f"_acme-challenge.{zone}"])
    answer = server.get(
        function, token=token, params={k: v.format(zone=zone) for k, v in params.items()}
    )
    assert answer.status_code == 403, answer.text
    assert "is limited to some DNS records" in answer.json()["metadata"]["reason"]
    assert server.ok("dumpzone", params={"domain": zone})  # the zone is still there
    assert out_of_scope_rows(server, token_name) == 1


def test_a_scoped_token_gives_its_scope_to_the_tokens_it_makes(server: Server) -> None:
    mine, _ = server.account()
    other, _ = server.account()
    _name, token = scoped(server, scope_account=[mine])
    made = server.ok("api_token_create", token=token, params={"token_name": f"c-{mine}"})
    child = server.remember(made["token"])
    assert made["scope"] == {"accounts": [mine]}
    assert server.fail("accountsummary", token=child, params={"user": other})
    reason = server.fail(
        "api_token_create",
        token=token,
        params={"token_name": f"w-{mine}", "scope_account": other},
    )
    assert "You do not have access to an account named" in reason
    reason = server.fail(
        "api_token_update", token=token, params={"token_name": f"c-{mine}", "clear_scope": "1"}
    )
    assert "cannot remove a scope" in reason


def test_the_scope_is_listed_only_when_set_and_changes_at_once(server: Server) -> None:
    mine, _ = server.account()
    other, _ = server.account()
    token_name, token = scoped(server)
    assert "scope" not in server.ok("api_token_list")["tokens"][token_name]
    assert server.ok("accountsummary", token=token, params={"user": other})  # cached, unscoped
    server.ok("api_token_update", params={"token_name": token_name, "scope_account": mine})
    assert server.ok("api_token_list")["tokens"][token_name]["scope"] == {"accounts": [mine]}
    assert server.fail("accountsummary", token=token, params={"user": other})
    server.ok("api_token_update", params={"token_name": token_name, "clear_scope": "1"})
    assert server.ok("accountsummary", token=token, params={"user": other})


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"scope_zone": "no-such-zone.example"},
         "The DNS zone “no-such-zone.example” does not exist."),
        ({"scope_account": "nosuchuser9"}, "You do not have a user named “nosuchuser9”."),
        ({"scope_account": "bad name!"}, "is not a valid account name"),
        ({"scope_zone": "{zone}", "scope_record": "_acme-challenge.elsewhere.example"},
         "is in none of the scope's zones"),
        ({"scope_zone": "{zone}", "scope_record": "_acme-challenge.{zone}",
          "scope_record_type": "TXT!"}, "is not a DNS record type"),
        ({"scope_zone": "{zone}", "scope_record_type": "TXT"}, "needs “scope_record”"),
    ],
)  # fmt: skip
def test_a_bad_scope_is_refused_and_no_token_is_made(
    server: Server, params: dict[str, str], reason: str
) -> None:
    user, _ = server.account()
    zone = f"{user}.example.com"
    token_name = f"bad-{uuid.uuid4().hex[:8]}"
    query = {"token_name": token_name, **{k: v.format(zone=zone) for k, v in params.items()}}
    answer = server.fail("api_token_create", params=query)
    assert reason in answer, answer
    assert token_name not in server.ok("api_token_list")["tokens"]


# -- the cPanel face ---------------------------------------------------------------------------


def test_a_cpanel_token_scoped_to_its_challenge_record(server: Server) -> None:
    user, password = server.account()
    zone = f"{user}.example.com"
    token = server.cpanel_token(user, password)
    token_name = server.uapi(user, "Tokens", "list", token=token).json()["data"][0]["name"]
    set_scope = server.uapi(
        user, "Tokens", "gatehouse_set_scope", token=token, name=token_name,
        scope_zone=zone, scope_record=f"_acme-challenge.{zone}", scope_record_type="TXT",
    ).json()  # fmt: skip
    assert set_scope["status"] == 1, set_scope
    assert set_scope["data"]["scope"]["records"] == [f"_acme-challenge.{zone}"]
    ok = server.api2(
        user, "ZoneEdit", "add_zone_record", token=token,
        domain=zone, name="_acme-challenge", type="TXT", txtdata="abc", ttl="60",
    ).json()  # fmt: skip
    assert ok["cpanelresult"]["data"][0]["result"]["status"] == 1, ok
    refused = server.api2(
        user, "ZoneEdit", "add_zone_record", token=token,
        domain=zone, name="www9", type="A", address="192.0.2.7", ttl="60",
    ).json()  # fmt: skip
    assert "This API token may not change the A record" in json.dumps(refused)
    # Its own scope it cannot widen or remove.
    widen = server.uapi(
        user, "Tokens", "gatehouse_set_scope", token=token, name=token_name, scope_zone=zone,
        scope_record=f"www.{zone}",
    ).json()  # fmt: skip
    assert widen["status"] == 0
    clear = server.uapi(
        user, "Tokens", "gatehouse_set_scope", token=token, name=token_name, clear="1"
    ).json()
    assert clear["status"] == 0
    assert "is limited to some DNS records" in clear["errors"][0]


def test_a_cpanel_token_cannot_be_scoped_to_another_accounts_zone(server: Server) -> None:
    user, password = server.account()
    other, _ = server.account()
    token = server.cpanel_token(user, password)
    token_name = server.uapi(user, "Tokens", "list", token=token).json()["data"][0]["name"]
    answer = server.uapi(
        user, "Tokens", "gatehouse_set_scope", token=token, name=token_name,
        scope_zone=f"{other}.example.com",
    ).json()  # fmt: skip
    assert answer["status"] == 0
    assert answer["errors"] == [f"You do not control a DNS zone named “{other}.example.com”."]
