"""Every refusal of the one access rule (gatehouse.domain.access) reaches the audit trail with
its reason code, whichever face refused: WHM API 1 and the cPanel face (UAPI, API 2)."""

from __future__ import annotations

import secrets
from typing import Any

from conftest import Server
from gatehouse.passwords import generate_password


def _denials_since(server: Server, since: int) -> list[Any]:
    return server.sql(
        "SELECT action, reason, actor, detail FROM audit_log "
        "WHERE id > :s AND action = 'ACCESSDENIED' ORDER BY id",
        s=since,
    )


def _last_id(server: Server) -> int:
    return int(server.sql("SELECT COALESCE(MAX(id), 0) FROM audit_log")[0][0])


def test_whm_reseller_refused_an_account_it_does_not_own_is_audited(server: Server) -> None:
    reseller, token = server.reseller(["passwd", "suspend-acct"])
    target, _ = server.account()  # root's
    since = _last_id(server)
    reason = server.fail(
        "passwd",
        user=reseller,
        token=token,
        params={"user": target, "password": generate_password()},
    )
    assert reason == f"You do not have access to an account named “{target}”."
    rows = _denials_since(server, since)
    assert [(r.action, r.reason, r.actor) for r in rows] == [
        ("ACCESSDENIED", "not_owner", reseller)
    ]
    assert target in rows[0].detail


def test_whm_reseller_refused_an_account_that_does_not_exist_is_audited(server: Server) -> None:
    """The reseller is told nothing; the audit trail says the account does not exist."""
    reseller, token = server.reseller(["passwd", "suspend-acct"])
    missing = "nosuch" + secrets.token_hex(4)
    since = _last_id(server)
    reason = server.fail("suspendacct", user=reseller, token=token, params={"user": missing})
    assert reason == f"You do not have access to an account named “{missing}”."
    rows = _denials_since(server, since)
    assert [(r.reason, r.actor) for r in rows] == [("no_such_account", reseller)]


def test_whm_reseller_refused_root_is_audited_as_root_only(server: Server) -> None:
    reseller, token = server.reseller(["passwd", "suspend-acct"])
    since = _last_id(server)
    server.fail(
        "passwd",
        user=reseller,
        token=token,
        params={"user": "root", "password": generate_password()},
    )
    assert [r.reason for r in _denials_since(server, since)] == ["root_only"]


def test_uapi_account_refused_a_zone_it_does_not_own_is_audited(server: Server) -> None:
    mine, password = server.account()
    theirs, _ = server.account()
    token = server.cpanel_token(mine, password)
    since = _last_id(server)
    response = server.uapi(mine, "DNS", "parse_zone", token=token, zone=f"{theirs}.example.com")
    result = response.json()  # /execute/: the flat result object
    assert response.status_code == 200 and result["status"] == 0
    assert result["errors"] == [f"You do not control a DNS zone named “{theirs}.example.com”."]
    rows = _denials_since(server, since)
    assert [(r.action, r.reason, r.actor) for r in rows] == [("ACCESSDENIED", "not_owner", mine)]
    assert f"{theirs}.example.com" in rows[0].detail


def test_api2_account_refused_a_zone_that_does_not_exist_is_audited(server: Server) -> None:
    mine, password = server.account()
    token = server.cpanel_token(mine, password)
    zone = f"nosuch{secrets.token_hex(4)}.example.com"
    since = _last_id(server)
    response = server.api2(mine, "ZoneEdit", "fetchzone_records", token=token, domain=zone)
    assert response.status_code == 200
    assert response.json()["cpanelresult"]["error"] == (
        f"You do not possess permission to read the zone for “{zone}”."
    )
    assert [(r.reason, r.actor) for r in _denials_since(server, since)] == [("no_such_zone", mine)]


def _whm_cpanel(server: Server, caller: str, token: str, **query: str) -> Any:
    return server.get(
        "cpanel",
        user=caller,
        token=token,
        params={"cpanel_jsonapi_apiversion": "3", **query},
    ).json()


def test_whm_cpanel_function_refused_an_account_it_does_not_own_is_audited(
    server: Server,
) -> None:
    reseller, token = server.reseller(["cpanel-api"])
    target, _ = server.account()  # root's
    since = _last_id(server)
    body = _whm_cpanel(
        server,
        reseller,
        token,
        cpanel_jsonapi_user=target,
        cpanel_jsonapi_module="DomainInfo",
        cpanel_jsonapi_func="list_domains",
    )
    # Whostmgr/XMLUI/cPanel.pm's own refusal (docs/cpanel.md), not UAPI's envelope
    assert body["error"] == f"Access Denied to {target}" and body["type"] == "text"
    assert [(r.reason, r.actor) for r in _denials_since(server, since)] == [("not_owner", reseller)]


def test_whm_cpanel_function_inner_refusal_is_audited(server: Server) -> None:
    """A refusal of the cPanel function itself (a zone of another account), run through WHM's
    `cpanel` function, reaches the audit trail too."""
    mine, _ = server.account()
    theirs, _ = server.account()
    since = _last_id(server)
    body = _whm_cpanel(
        server,
        "root",
        server.root_token,
        cpanel_jsonapi_user=mine,
        cpanel_jsonapi_module="DNS",
        cpanel_jsonapi_func="parse_zone",
        zone=f"{theirs}.example.com",
    )
    assert body["result"]["errors"] == [
        f"You do not control a DNS zone named “{theirs}.example.com”."
    ]
    assert [r.reason for r in _denials_since(server, since)] == ["not_owner"]
