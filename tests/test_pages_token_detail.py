"""The token detail page (issue 17 §8, WHM › Manage API Tokens › Details), in a real browser:
its settings, what it has called with the last results, the suggested ACL and the Tighten
button, the refusals root sees; an unknown token; the Tighten form's CSRF check."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from conftest import Server
from pages_helpers import log_in


def test_the_page_shows_the_calls_and_tightens_the_token(server: Server, page: Any) -> None:
    name = f"detail-{uuid.uuid4().hex[:8]}"
    secret = server.token(name, description="billing <module>")
    server.ok("version", token=secret)
    server.ok("listaccts", token=secret)
    log_in(page, server)
    page.get_by_role("navigation", name="WHM menu").get_by_role(
        "link", name="Manage API Tokens"
    ).click()
    page.locator(f"tr[data-name='{name}']").get_by_role("link", name="Details").click()
    assert page.locator("h1").inner_text() == f"API Token “{name}”"
    assert "billing <module>" in page.locator("#settings").inner_text()
    assert page.locator("#held").inner_text() == "Full access"
    uses = page.locator("#uses tbody tr")
    assert sorted(uses.evaluate_all("rows => rows.map(r => r.dataset.function)")) == [
        "listaccts",
        "version",
    ]
    assert page.locator("#suggested").inner_text() in (
        "list-accts, basic-system-info",
        "basic-system-info, list-accts",
    )
    assert "all" in page.locator("#unused").inner_text()
    page.get_by_role("button", name="Tighten to the suggested ACL").click()
    assert page.locator("#tightened").is_visible()
    assert "Full access" not in page.locator("#held").inner_text()
    assert server.get("createacct", token=secret, params={"username": "x"}).status_code == 403


def test_a_refused_call_is_shown_with_what_it_lacked(server: Server, page: Any) -> None:
    name = f"detail-{uuid.uuid4().hex[:8]}"
    secret = server.token(name, acl=["basic-system-info"], whitelist_ip="127.0.0.1")
    assert server.get("listaccts", token=secret).status_code == 403
    prefix = log_in(page, server)
    page.goto(f"{server.url}{prefix}/tokens/detail?name={name}")
    row = page.locator("#uses tr[data-function='listaccts']")
    assert row.locator(".result").inner_text() == "missing_privilege"
    assert page.locator("#missing").inner_text() == "list-accts"


def test_root_sees_the_tokens_refusals(server: Server, page: Any) -> None:
    name = f"detail-{uuid.uuid4().hex[:8]}"
    secret = server.token(name, whitelist_ip="192.0.2.1")
    assert server.get("version", token=secret).status_code == 401  # not from 192.0.2.1
    prefix = log_in(page, server)
    page.goto(f"{server.url}{prefix}/tokens/detail?name={name}")
    assert "ip_not_allowed" in page.locator("#refusals").inner_text()


def test_an_unknown_token_is_a_404(server: Server, page: Any) -> None:
    prefix = log_in(page, server)
    assert page.goto(f"{server.url}{prefix}/tokens/detail?name=no-such-token").status == 404


def test_tightening_without_the_csrf_token_is_refused(server: Server, page: Any) -> None:
    name = f"detail-{uuid.uuid4().hex[:8]}"
    secret = server.token(name)
    server.ok("version", token=secret)
    prefix = log_in(page, server)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    answer = httpx.post(
        f"{server.url}{prefix}/tokens/tighten", data={"name": name}, cookies=cookies, timeout=30
    )
    assert answer.status_code == 403
    assert (
        "acls" not in server.ok("api_token_list")["tokens"][name]
        or server.ok("api_token_list")["tokens"][name]["acls"].get("all") == 1
    )
