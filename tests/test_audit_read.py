"""Reading the audit trail (issue 17 part 8): `gatehouse_read_audit_log` with its filters and
refusals over real HTTP on both stores, the root-only Audit Trail page in Chromium with its
CSV and JSON export, and the CLI's filters."""

from __future__ import annotations

import csv
import io
import json
import uuid
from typing import Any

import httpx
import pytest

from conftest import Server
from pages_helpers import log_in


def made_token(server: Server) -> str:
    name = f"aud-{uuid.uuid4().hex[:10]}"
    server.ok("api_token_create", params={"token_name": name})
    return name


def read(server: Server, **params: Any) -> list[dict[str, Any]]:
    return list(server.ok("gatehouse_read_audit_log", params=params)["entries"])


def test_filters_by_token_and_action(server: Server) -> None:
    name = made_token(server)
    server.ok("api_token_revoke", params={"token_name": name})
    rows = read(server, token_name=name)
    assert [r["action"] for r in rows] == ["CREATEAPITOKEN", "REVOKEAPITOKEN"]
    assert [r["action"] for r in read(server, token_name=name, action="revokeapitoken")] == [
        "REVOKEAPITOKEN"
    ]
    assert rows[0]["actor"] == "root" and rows[0]["reason"] == "ok"


def test_filters_refusals_by_reason_and_address(server: Server) -> None:
    wrong = f"whm nobody{uuid.uuid4().hex[:6]}:" + "X" * 32
    httpx.get(
        f"{server.url}/json-api/version?api.version=1", headers={"Authorization": wrong}, timeout=30
    )
    user = wrong.split()[1].split(":")[0]
    rows = read(server, action="AUTHFAILURE", ip="127.0.0.1", user=user)
    assert rows and all(r["source_ip"] == "127.0.0.1" for r in rows)
    assert {r["reason"] for r in rows} <= {"token_not_found", "user_not_found", "no_such_user"}


def test_time_filters_and_limit(server: Server) -> None:
    for _ in range(3):
        made_token(server)
    assert len(read(server, action="CREATEAPITOKEN", limit=2)) == 2
    assert read(server, since="2001-01-01", until="2001-12-31") == []
    latest = read(server, action="CREATEAPITOKEN", limit=1)[0]
    assert read(server, since=str(latest["time"]), limit=10000)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"limit": "0"}, "“limit” must be a whole number from 1 to 10000"),
        ({"limit": "many"}, "“limit” must be a whole number"),
        ({"since": "yesterday"}, "“since” must be a Unix time or an ISO date"),
        ({"ip": "300.1.1.1"}, "is not an IP address"),
        ({"since": "2026-12-04", "until": "2026-12-01"}, "“until” is before “since”"),
    ],
)
def test_bad_filters_are_refused(server: Server, params: dict[str, str], expected: str) -> None:
    assert expected in server.fail("gatehouse_read_audit_log", params=params)


def test_the_audit_trail_is_roots_alone(server: Server) -> None:
    token = server.token(acl=["list-accts"])
    assert server.get("gatehouse_read_audit_log", token=token).status_code == 403


def test_the_cli_filters(server: Server) -> None:
    name = made_token(server)
    out = server.cli("audit", "--token", name, "--action", "CREATEAPITOKEN", "--json").stdout
    lines = [json.loads(line) for line in out.splitlines()]
    assert [e["token_name"] for e in lines] == [name]


# -- the page ---------------------------------------------------------------------------------


def test_the_page_filters_and_exports(server: Server, page: Any) -> None:
    name = made_token(server)
    prefix = log_in(page, server)
    page.get_by_role("navigation", name="WHM menu").get_by_role("link", name="Audit Trail").click()
    page.get_by_label("Token").fill(name)
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("#audit tbody tr")
    assert rows.count() == 1 and "CREATEAPITOKEN" in rows.first.inner_text()
    csv_href = page.locator("#export-csv").get_attribute("href")
    json_href = page.locator("#export-json").get_attribute("href")
    assert csv_href is not None and json_href is not None
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    exported = httpx.get(f"{server.url}{csv_href}", cookies=cookies, timeout=30)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(exported.text)))
    assert table[0][:3] == ["id", "time", "action"] and len(table) == 2
    assert table[1][2] == "CREATEAPITOKEN" and name in table[1]
    as_json = httpx.get(f"{server.url}{json_href}", cookies=cookies, timeout=30).json()
    assert [e["token_name"] for e in as_json] == [name]
    assert prefix


def test_a_bad_filter_is_shown_on_the_page(server: Server, page: Any) -> None:
    log_in(page, server)
    page.get_by_role("navigation", name="WHM menu").get_by_role("link", name="Audit Trail").click()
    page.get_by_label("Since (UTC)").fill("last week")
    page.get_by_role("button", name="Filter").click()
    assert "“since” must be a Unix time" in page.locator("#audit-error").inner_text()


def test_a_reseller_has_no_audit_page(server: Server, page: Any) -> None:
    name, password = server.account(reseller=True)
    prefix = log_in(page, server, name, password)
    menu = page.get_by_role("navigation", name="WHM menu")
    assert menu.get_by_role("link", name="Audit Trail").count() == 0
    assert page.goto(f"{server.url}{prefix}/audit").status == 403
    assert page.goto(f"{server.url}{prefix}/audit/export?format=csv").status == 403
