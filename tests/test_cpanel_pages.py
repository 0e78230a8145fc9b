"""The cPanel pages in a real headless Chromium: in through a `create_user_session` URL
(service cpaneld), Manage API Tokens (create and see once, rename, revoke) and the Zone Editor
(add, edit, delete, a stale serial refused) — and what the pages do is what the API sees at
once."""

from __future__ import annotations

import base64
import json
import re
import uuid
from typing import Any
from urllib.parse import urlsplit

from conftest import Server

CPSESS_URL = re.compile(r"/cpsess(\d{10})/")


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def log_in(page: Any, server: Server, user: str) -> str:
    """Follow a fresh cpaneld login URL (on the plain-HTTP cPanel port); the /cpsessN prefix."""
    data = server.ok("create_user_session", params={"user": user, "service": "cpaneld"})
    parts = urlsplit(data["url"])
    page.goto(f"{server.cpanel_url}{parts.path}?{parts.query}")
    page.wait_for_url(CPSESS_URL)
    match = CPSESS_URL.search(page.url)
    assert match, page.url
    return f"/cpsess{match.group(1)}"


def test_the_login_form_at_the_faces_root(server: Server, page: Any) -> None:
    """cPanel's :2083 opens on its login form: the account's password, errors next to the
    field, then the account's home page."""
    name, password = server.account()
    response = page.goto(f"{server.cpanel_url}/")
    assert response.status == 200
    assert page.get_by_role("heading", name="Log in to cPanel").is_visible()
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    assert "The login is invalid" in page.locator("#pass-error").inner_text()
    assert page.get_by_label("Username").input_value() == name
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(CPSESS_URL)
    assert page.get_by_text(f"Signed in to cPanel as {name}").is_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "cpsession")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"


def _records(server: Server, user: str, password: str, zone: str) -> list[tuple[str, str, str]]:
    """(name, type, data) of the zone's records, as UAPI's DNS::parse_zone reads them."""
    body = server.uapi(user, "DNS", "parse_zone", auth=_basic(user, password), zone=zone).json()
    assert body["status"] == 1, body
    out = []
    for item in body["data"]:
        if item["type"] == "record":
            name = base64.b64decode(item["dname_b64"]).decode()
            data = " ".join(base64.b64decode(d).decode() for d in item["data_b64"])
            out.append((name, item["record_type"], data))
    return out


def test_login_url_lands_on_the_home_page(server: Server, page: Any) -> None:
    name, _ = server.account()
    prefix = log_in(page, server, name)
    assert page.url == f"{server.cpanel_url}{prefix}/"
    assert page.get_by_role("heading", name="Home").is_visible()
    assert page.get_by_text(f"Signed in to cPanel as {name}").is_visible()
    menu = page.get_by_role("navigation", name="cPanel menu")
    assert menu.get_by_role("link", name="Zone Editor").is_visible()
    assert menu.get_by_role("link", name="Manage API Tokens").is_visible()
    page.get_by_role("button", name="Log out").click()
    assert page.get_by_text("You have logged out of cPanel.").is_visible()
    page.goto(f"{server.cpanel_url}{prefix}/")
    assert page.get_by_role("heading", name="Not signed in").is_visible()


def test_tokens_create_see_once_rename_revoke(server: Server, page: Any) -> None:
    user, password = server.account()
    prefix = log_in(page, server, user)
    page.get_by_role("navigation", name="cPanel menu").get_by_role(
        "link", name="Manage API Tokens"
    ).click()
    assert page.get_by_text("No API tokens yet").is_visible()
    page.get_by_role("link", name="Create").click()
    name = f"pw-{uuid.uuid4().hex[:8]}"
    page.get_by_label("Token name").fill(name)
    page.get_by_role("button", name="Create").click()

    page.wait_for_url(f"**{prefix}/tokens/created")
    token = server.remember(page.locator("#token-value").input_value())
    assert len(token) == 32
    assert token not in page.url
    assert page.get_by_text("It will never be shown again").is_visible()
    page.get_by_role("button", name="Yes, I saved my token").click()
    page.wait_for_url(f"**{prefix}/tokens?**")
    assert page.get_by_text(f"The API token “{name}” was created.").is_visible()
    page.goto(f"{server.cpanel_url}{prefix}/tokens/created")  # shown once only
    assert token not in page.content()
    assert token not in server.log_path.read_text()
    # The token works over the cPanel API at once.
    listed = server.uapi(user, "DomainInfo", "list_domains", token=token)
    assert listed.status_code == 200 and listed.json()["status"] == 1

    # A refused name comes back next to the field, in the API's words.
    page.locator(f"tr[data-name='{name}']").get_by_role("link", name="Rename").click()
    page.get_by_label("New name").fill("no spaces allowed")
    page.get_by_role("button", name="Rename").click()
    assert page.locator("#name-error").is_visible()
    renamed = f"{name}-r"
    page.get_by_label("New name").fill(renamed)
    page.get_by_role("button", name="Rename").click()
    page.wait_for_url(f"**{prefix}/tokens?**")
    assert page.get_by_text(f"The API token was renamed to “{renamed}”.").is_visible()
    names = [t["name"] for t in server.uapi(user, "Tokens", "list", token=token).json()["data"]]
    assert names == [renamed]

    page.locator(f"tr[data-name='{renamed}']").get_by_role("link", name="Revoke").click()
    page.get_by_role("button", name="Revoke").click()
    page.wait_for_url(f"**{prefix}/tokens?**")
    assert page.get_by_text(f"The API token “{renamed}” was revoked.").is_visible()
    assert server.uapi(user, "DomainInfo", "list_domains", token=token).status_code == 401
    assert server.uapi(user, "Tokens", "list", auth=_basic(user, password)).json()["data"] == []


def test_zone_editor_add_edit_delete(server: Server, page: Any) -> None:
    user, password = server.account()
    zone = f"{user}.example.com"
    prefix = log_in(page, server, user)
    page.get_by_role("navigation", name="cPanel menu").get_by_role(
        "link", name="Zone Editor"
    ).click()
    assert page.locator("#zone-name").inner_text() == zone

    page.get_by_label("Name", exact=True).fill("shop")
    page.get_by_label("TTL").fill("600")
    page.get_by_label("Type").select_option("A")
    page.get_by_label("Record", exact=True).fill("192.0.2.44")
    page.get_by_role("button", name="Add Record").click()
    page.wait_for_url(f"**{prefix}/zones?**")
    assert page.get_by_text("The record was added.").is_visible()
    assert ("shop", "A", "192.0.2.44") in _records(server, user, password, zone)

    row = page.locator("tr", has=page.get_by_role("rowheader", name="shop", exact=True))
    row.get_by_role("link", name="Edit").click()
    assert page.get_by_label("Record", exact=True).input_value() == "192.0.2.44"
    page.get_by_label("Record", exact=True).fill("192.0.2.45")
    page.get_by_role("button", name="Save Record").click()
    page.wait_for_url(f"**{prefix}/zones?**")
    assert page.get_by_text("The record was saved.").is_visible()
    records = _records(server, user, password, zone)
    assert ("shop", "A", "192.0.2.45") in records
    assert ("shop", "A", "192.0.2.44") not in records

    # A refusal is the API's, shown on the page; nothing changes.
    page.get_by_label("Name", exact=True).fill("bad")
    page.get_by_label("Type").select_option("A")
    page.get_by_label("Record", exact=True).fill("not-an-address")
    page.get_by_role("button", name="Add Record").click()
    assert page.locator("#zone-error").is_visible()
    assert not any(r[0] == "bad" for r in _records(server, user, password, zone))

    page.goto(f"{server.cpanel_url}{prefix}/zones")
    row = page.locator("tr", has=page.get_by_role("rowheader", name="shop", exact=True))
    row.get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Delete").click()
    page.wait_for_url(f"**{prefix}/zones?**")
    assert page.get_by_text("The record was deleted.").is_visible()
    assert not any(r[0] == "shop" for r in _records(server, user, password, zone))


def test_zone_editor_refuses_a_stale_serial(server: Server, page: Any) -> None:
    user, password = server.account()
    zone = f"{user}.example.com"
    prefix = log_in(page, server, user)
    page.goto(f"{server.cpanel_url}{prefix}/zones")
    # Someone changes the zone after the page was read (another tab, an API client).
    serial = page.locator("input[name=serial]").first.input_value()
    item = {"dname": "api", "ttl": 300, "record_type": "A", "data": ["192.0.2.9"]}
    changed = server.uapi(
        user,
        "DNS",
        "mass_edit_zone",
        auth=_basic(user, password),
        zone=zone,
        serial=serial,
        add=json.dumps(item),
    ).json()
    assert changed["status"] == 1, changed
    page.get_by_label("Name", exact=True).fill("late")
    page.get_by_label("Record", exact=True).fill("192.0.2.10")
    page.get_by_role("button", name="Add Record").click()
    error = page.locator("#zone-error")
    assert "Refresh your view of the DNS zone" in error.inner_text()
    assert "Nothing was changed" in error.inner_text()
    records = _records(server, user, password, zone)
    assert ("api", "A", "192.0.2.9") in records
    assert not any(r[0] == "late" for r in records)


def test_a_forged_form_is_refused(server: Server, page: Any) -> None:
    user, password = server.account()
    zone = f"{user}.example.com"
    prefix = log_in(page, server, user)
    page.goto(f"{server.cpanel_url}{prefix}/zones")
    page.evaluate(
        "() => document.querySelectorAll('input[name=csrf_token]')"
        ".forEach(i => { i.value = 'forged' })"
    )
    page.get_by_label("Name", exact=True).fill("forged")
    page.get_by_label("Record", exact=True).fill("192.0.2.11")
    page.get_by_role("button", name="Add Record").click()
    assert page.get_by_role("heading", name="Form refused").is_visible()
    assert not any(r[0] == "forged" for r in _records(server, user, password, zone))
