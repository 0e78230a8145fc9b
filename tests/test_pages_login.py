"""The login page, the WHM shell, logout, idle expiry, rate limiting and CSRF, in a real
headless Chromium against the real server."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from conftest import Server
from pages_helpers import CPSESS_URL, api_tokens, log_in


def test_log_in_shell_menu_filter_and_log_out(server: Server, page: Any) -> None:
    response = page.goto(f"{server.url}/")
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert page.locator("script:not([src])").count() == 0
    prefix = log_in(page, server)
    assert page.get_by_text("Signed in to WHM as root.").is_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "whostmgrsession")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and not cookie["secure"]

    # The left menu, grouped as WHM groups it, filtered as you type.
    menu = page.get_by_role("navigation", name="WHM menu")
    assert menu.get_by_role("heading", name="Development").is_visible()
    assert menu.get_by_role("heading", name="Clusters").is_visible()
    page.get_by_label("Search the menu").fill("api")
    assert menu.get_by_role("link", name="Manage API Tokens").is_visible()
    assert not menu.get_by_role("link", name="Remote Access Key").is_visible()
    assert not menu.get_by_role("heading", name="Clusters").is_visible()
    page.get_by_label("Search the menu").fill("remote")
    assert menu.get_by_role("link", name="Remote Access Key").is_visible()
    assert not menu.get_by_role("link", name="Manage API Tokens").is_visible()
    page.get_by_label("Search the menu").fill("")
    menu.get_by_role("link", name="Manage API Tokens").click()
    page.wait_for_url(f"**{prefix}/tokens")

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{server.url}/login/?out=1")
    assert page.get_by_text("You have logged out.").is_visible()
    assert not any(c["name"] == "whostmgrsession" for c in page.context.cookies())
    gone = page.goto(f"{server.url}{prefix}/tokens")
    assert gone.status == 401
    assert page.get_by_role("heading", name="Not signed in").is_visible()


def test_login_errors_are_shown_next_to_the_field(server: Server, page: Any) -> None:
    page.goto(f"{server.url}/")
    page.get_by_label("Username").fill("root")
    page.get_by_role("button", name="Log in").click()
    assert page.locator("#pass-error").inner_text() == "Enter your password."
    assert page.get_by_label("Username").input_value() == "root"

    name, _ = server.account(reseller=True)
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    assert "The login is invalid" in page.locator("#pass-error").inner_text()
    assert page.get_by_label("Username").input_value() == name
    assert page.get_by_label("Password").input_value() == ""
    rows = server.sql(
        "SELECT reason, source_ip FROM audit_log WHERE action = 'AUTHFAILURE' "
        "AND detail = '/login' AND actor = :name",
        name=name,
    )
    assert [tuple(r) for r in rows] == [("bad_password", "127.0.0.1")]


def test_a_reseller_logs_in_and_an_account_cannot(server: Server, page: Any) -> None:
    name, password = server.account(reseller=True)
    log_in(page, server, name, password)
    assert page.get_by_text(f"Signed in to WHM as {name}.").is_visible()
    page.context.clear_cookies()
    user, password = server.account()
    page.goto(f"{server.url}/")
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    assert "The login is invalid" in page.locator("#pass-error").inner_text()
    assert not CPSESS_URL.search(page.url)


def test_an_idle_session_expires(server: Server, page: Any) -> None:
    prefix = log_in(page, server)
    assert page.goto(f"{server.url}{prefix}/tokens").status == 200
    server.sql(
        "UPDATE sessions SET last_active = last_active - 901 WHERE security_token = :t",
        t=prefix.removeprefix("/cpsess"),
    )
    expired = page.goto(f"{server.url}{prefix}/tokens")
    assert expired.status == 401
    assert page.get_by_text("Your session has expired").is_visible()
    page.get_by_role("link", name="Log in").click()
    assert page.get_by_label("Username").is_visible()


def test_forms_without_the_csrf_token_are_refused(server: Server, page: Any) -> None:
    prefix = log_in(page, server)
    url = f"{server.url}{prefix}/tokens/new"
    form = {"name": "csrf-probe", "everything": "1", "ips": "", "expires": ""}
    for extra in ({}, {"csrf_token": "not-the-token"}):
        response = page.request.post(url, form={**form, **extra})
        assert response.status == 403
        assert "Form refused" in response.text()
        assert "content-security-policy" in response.headers
    assert "csrf-probe" not in api_tokens(server)
    # Revoke and logout too; the session survives a refused logout.
    victim = server.token("csrf-victim")
    refused = page.request.post(f"{server.url}{prefix}/tokens/revoke", form={"name": "csrf-victim"})
    assert refused.status == 403
    assert server.get("myprivs", token=victim).status_code == 200
    assert page.request.post(f"{server.url}{prefix}/logout").status == 403
    assert page.goto(f"{server.url}{prefix}/").status == 200
    # The login form has its own (cookie-bound) token.
    login = httpx.post(
        f"{server.url}/login/", data={"user": "root", "pass": server.root_password}, timeout=30
    )
    assert login.status_code == 403
    assert "set-cookie" not in login.headers or "whostmgrsession" not in login.headers["set-cookie"]


def test_every_page_sends_a_csp_and_has_no_inline_script(server: Server, page: Any) -> None:
    prefix = log_in(page, server)
    name = f"csp-{uuid.uuid4().hex[:8]}"
    server.token(name)
    for path in (
        "/",
        "/tokens",
        "/tokens/new",
        f"/tokens/edit?name={name}",
        f"/tokens/revoke?name={name}",
        "/accesshash",
        "/accesshash/generate",
    ):
        response = page.goto(f"{server.url}{prefix}{path}")
        assert response.status == 200, path
        headers = response.headers
        assert headers["content-security-policy"].startswith("default-src 'none'"), path
        assert headers["cache-control"] == "no-store", path
        assert headers["x-frame-options"] == "DENY"
        assert page.locator("script:not([src]), [style]").count() == 0, path
        assert page.evaluate("() => document.querySelectorAll('[onclick]').length") == 0
        # Every form that changes something carries the session's CSRF token.
        for form in page.locator("form[method=post]").all():
            assert form.locator("input[name=csrf_token]").get_attribute("value"), path
        # Every input has a label.
        for field in page.locator("input:not([type=hidden]), textarea").all():
            field_id = field.get_attribute("id")
            labelled = field.get_attribute("aria-label") or (
                field_id and page.locator(f"label[for='{field_id}']").count()
            )
            assert labelled, (path, field_id)
