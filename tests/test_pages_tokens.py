"""Manage API Tokens in a real headless Chromium: generate, see once, edit, revoke — and the
tokens made this way work (or stop working) over plain HTTP at once."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any

from conftest import Server
from pages_helpers import api_tokens, log_in


def _name(prefix: str = "pw") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _in_days(days: int) -> str:
    return (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=days)).isoformat()


def _open_generate(page: Any, server: Server, prefix: str) -> None:
    page.goto(f"{server.url}{prefix}/tokens")
    page.get_by_role("link", name="Generate Token").click()
    page.wait_for_url(f"**{prefix}/tokens/new")


def test_generate_with_ips_acls_and_expiry_then_see_once(server: Server, page: Any) -> None:
    prefix = log_in(page, server)
    _open_generate(page, server, prefix)
    name = _name()
    page.get_by_label("Token name").fill(name)
    page.get_by_label("Allowed IP addresses (optional)").fill("127.0.0.1\n10.0.0.0/8\n2001:db8::1")
    everything = page.locator("#everything")
    assert everything.is_checked()
    assert page.locator("#acl-list-accts").is_checked()
    everything.uncheck()  # the Everything box clears every privilege
    assert not page.locator("#acl-list-accts").is_checked()
    # Privileges that let a token step around token limits carry a warning.
    warned = page.locator("li", has=page.locator("#acl-manage-api-tokens"))
    assert "can get around the limits" in warned.inner_text()
    page.locator("#acl-list-accts").check()
    page.locator("#acl-basic-whm-functions").check()
    page.get_by_label("Expires (optional)").fill(_in_days(30))
    page.get_by_role("button", name="Save").click()

    page.wait_for_url(f"**{prefix}/tokens/created")
    token = page.locator("#token-value").input_value()
    assert len(token) == 32
    assert token not in page.url
    assert page.get_by_text("It will never be shown again").is_visible()
    assert page.get_by_role("button", name="Copy").is_visible()
    assert page.get_by_role("navigation", name="WHM menu").count() == 0  # no way out but…
    stored = page.evaluate("() => localStorage.length + sessionStorage.length")
    assert stored == 0
    page.get_by_role("button", name="Yes, I saved my token").click()
    page.wait_for_url(f"**{prefix}/tokens?**")
    assert page.get_by_text(f"The API token “{name}” was created.").is_visible()
    page.go_back()  # …and neither the back button nor a reload shows it again
    assert token not in page.content()
    page.goto(f"{server.url}{prefix}/tokens/created")
    assert token not in page.content()
    assert page.url.endswith(f"{prefix}/tokens")
    assert token not in server.log_path.read_text()

    row = page.locator(f"tr[data-name='{name}']")
    assert "2 privileges" in row.inner_text()
    assert "10.0.0.0/8" in row.inner_text()
    server.remember(token)
    # The token works over HTTP with exactly the privileges chosen.
    assert server.get("listaccts", token=token).status_code == 200
    assert server.get("createacct", token=token).status_code == 403
    listed = api_tokens(server)[name]
    assert {"127.0.0.1", "10.0.0.0/8"} < set(listed["whitelist_ips"])  # cPanel's normal form
    assert len(listed["whitelist_ips"]) == 3
    expiry = dt.datetime.fromtimestamp(listed["expires_at"], dt.UTC)
    assert expiry.date().isoformat() == _in_days(30)
    assert expiry.time() == dt.time(23, 59, 59)


def test_generate_everything(server: Server, page: Any) -> None:
    prefix = log_in(page, server)
    _open_generate(page, server, prefix)
    name = _name()
    page.get_by_label("Token name").fill(name)
    page.get_by_role("button", name="Save").click()
    token = server.remember(page.locator("#token-value").input_value())
    page.get_by_role("button", name="Yes, I saved my token").click()
    row = page.locator(f"tr[data-name='{name}']")
    assert "Everything" in row.inner_text()
    assert "Never" in row.inner_text()
    privs = server.ok("myprivs", token=token)["privileges"][0]
    assert privs["all"] == 1
    assert server.get("createacct", token=token, params={"username": ""}).status_code == 200


def test_validation_errors_are_next_to_the_field_and_keep_the_values(
    server: Server, page: Any
) -> None:
    prefix = log_in(page, server)
    _open_generate(page, server, prefix)
    page.get_by_label("Token name").fill("not a name!")
    ips = "192.0.2.1\nnot-an-ip\n300.1.1.1"
    page.get_by_label("Allowed IP addresses (optional)").fill(ips)
    page.locator("#everything").uncheck()
    page.locator("#acl-list-accts").check()
    page.get_by_role("button", name="Save").click()
    # The API's own wording, next to the field; nothing entered is lost.
    assert "is not a valid API token name" in page.locator("#name-error").inner_text()
    assert page.get_by_label("Token name").input_value() == "not a name!"
    assert page.get_by_label("Allowed IP addresses (optional)").input_value() == ips
    assert page.locator("#acl-list-accts").is_checked()
    assert not page.locator("#acl-create-acct").is_checked()

    name = _name()
    page.get_by_label("Token name").fill(name)
    page.get_by_role("button", name="Save").click()
    error = page.locator("#ips-error").inner_text()
    assert "not-an-ip" in error and "300.1.1.1" in error and "192.0.2.1" not in error
    assert page.get_by_label("Token name").input_value() == name

    page.get_by_label("Allowed IP addresses (optional)").fill("192.0.2.1")
    page.get_by_label("Expires (optional)").fill("2001-02-03")
    page.get_by_role("button", name="Save").click()
    assert page.locator("#expires-error").inner_text() == (
        "The “2001-02-03” value must be a future date."
    )

    page.get_by_label("Expires (optional)").fill("")
    page.locator("#acl-list-accts").uncheck()
    page.get_by_role("button", name="Save").click()
    assert "Choose at least one privilege" in page.locator("#acl-error").inner_text()

    existing = _name("dup")
    server.token(existing)
    page.get_by_label("Token name").fill(existing)
    page.locator("#acl-list-accts").check()
    page.get_by_role("button", name="Save").click()
    assert "already exists" in page.locator("#name-error").inner_text()
    assert name not in api_tokens(server)


def test_edit_a_token(server: Server, page: Any) -> None:
    name = _name("edit")
    token = server.token(name, expires_at=int(time.time()) + 86400 * 3)
    prefix = log_in(page, server)
    page.goto(f"{server.url}{prefix}/tokens")
    page.locator(f"tr[data-name='{name}']").get_by_role("link", name="Edit").click()
    assert page.get_by_text("The token itself cannot be viewed again").is_visible()
    assert page.get_by_label("Token name").input_value() == name
    assert page.locator("#everything").is_checked()
    renamed = _name("renamed")
    page.get_by_label("Token name").fill(renamed)
    page.get_by_label("Allowed IP addresses (optional)").fill("127.0.0.1")
    page.locator("#everything").uncheck()
    page.locator("#acl-list-accts").check()
    page.get_by_label("Expires (optional)").fill("")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_text(f"The API token “{renamed}” was saved.").is_visible()

    listed = api_tokens(server)
    assert name not in listed
    assert listed[renamed]["whitelist_ips"] == ["127.0.0.1"]
    assert listed[renamed]["expires_at"] is None
    # At once on the API: the same secret now holds list-accts only.
    assert server.get("listaccts", token=token).status_code == 200
    assert server.get("createacct", token=token).status_code == 403

    # Back to Everything, and an allow-list that excludes this client: refused at once.
    page.locator(f"tr[data-name='{renamed}']").get_by_role("link", name="Edit").click()
    assert not page.locator("#everything").is_checked()
    assert page.locator("#acl-list-accts").is_checked()
    page.locator("#everything").check()
    page.get_by_label("Allowed IP addresses (optional)").fill("192.0.2.0/24")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_text("was saved").is_visible()
    assert server.get("listaccts", token=token).status_code == 401


def test_revoke_one_and_several(server: Server, page: Any) -> None:
    names = [_name("rv") for _ in range(3)]
    secrets = [server.token(n) for n in names]
    prefix = log_in(page, server)
    page.goto(f"{server.url}{prefix}/tokens")
    page.locator(f"tr[data-name='{names[0]}']").get_by_role("link", name="Revoke").click()
    assert page.get_by_role("heading", name="Revoke this API token?").is_visible()
    assert server.get("myprivs", token=secrets[0]).status_code == 200  # not yet
    page.get_by_role("button", name="Revoke").click()
    assert page.get_by_text("The API token was revoked.").is_visible()
    assert server.get("myprivs", token=secrets[0]).status_code == 401

    page.get_by_label(f"Select {names[1]}").check()
    page.get_by_label(f"Select {names[2]}").check()
    page.get_by_role("button", name="Revoke Selected").click()
    assert page.get_by_role("heading", name="Revoke 2 API tokens?").is_visible()
    page.get_by_role("button", name="Revoke").click()
    assert page.get_by_text("2 API tokens were revoked.").is_visible()
    for secret in secrets:
        assert server.get("myprivs", token=secret).status_code == 401
    listed = api_tokens(server)
    assert not set(names) & set(listed)


def test_the_list_marks_expiry_and_shortens_long_allow_lists(server: Server, page: Any) -> None:
    soon, old, wide = _name("soon"), _name("old"), _name("wide")
    now = int(time.time())
    server.token(soon, expires_at=now + 2 * 86400)
    server.token(old, expires_at=now + 86400)
    server.sql("UPDATE api_tokens SET expires_at = :t WHERE name = :n", t=now - 60, n=old)
    server.token(wide, whitelist_ip=[f"192.0.2.{i}" for i in range(1, 8)])
    prefix = log_in(page, server)
    page.goto(f"{server.url}{prefix}/tokens")
    assert "Expires soon" in page.locator(f"tr[data-name='{soon}']").inner_text()
    assert "Expired" in page.locator(f"tr[data-name='{old}']").inner_text()
    wide_row = page.locator(f"tr[data-name='{wide}']").inner_text()
    assert "192.0.2.5" in wide_row and "192.0.2.6" not in wide_row and "+2 more" in wide_row
    # The live filter, and the sortable columns.
    page.get_by_label("Filter by name").fill(soon)
    assert page.locator(f"tr[data-name='{soon}']").is_visible()
    assert not page.locator(f"tr[data-name='{old}']").is_visible()
    page.goto(f"{server.url}{prefix}/tokens?sort=expires")
    order = page.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.name)")
    assert order.index(old) < order.index(soon)


def test_a_reseller_sees_an_empty_list_and_only_its_own_privileges(
    server: Server, page: Any
) -> None:
    name, password = server.account(reseller=True)
    log_in(page, server, name, password)
    page.goto(page.url + "tokens")
    assert page.get_by_role("heading", name="No API tokens yet").is_visible()
    page.get_by_role("link", name="Generate Token").click()
    assert page.locator("#acl-list-pkgs").count() == 1  # a default reseller privilege
    assert page.locator("#acl-create-acct").count() == 0  # not held, so not grantable
    assert page.locator("legend", has_text="Super Privileges").count() == 0
    page.get_by_label("Token name").fill("mine")
    page.get_by_role("button", name="Save").click()
    token = server.remember(page.locator("#token-value").input_value())
    page.get_by_role("button", name="Yes, I saved my token").click()
    assert "Everything" in page.locator("tr[data-name='mine']").inner_text()
    privs = server.ok("myprivs", user=name, token=token)["privileges"][0]
    assert privs["list-pkgs"] == 1 and privs["create-acct"] == 0
