"""The cPanel face's token detail page (issue 17 §8) in a real browser: an account's token,
its settings (scope, rate limit) and what it has called; an unknown or another account's
token is not shown. Also UAPI `Tokens::gatehouse_get_usage` itself."""

from __future__ import annotations

from typing import Any

from conftest import Server
from test_cpanel_pages import log_in


def test_the_page_shows_the_tokens_calls(server: Server, page: Any) -> None:
    user, password = server.account()
    token = server.cpanel_token(user, password, name="deploy")
    for _ in range(2):
        assert server.uapi(user, "DomainInfo", "list_domains", token=token).json()["status"] == 1
    server.uapi(user, "Tokens", "gatehouse_set_rate_limit", token=token, name="deploy",
                rate_limit="600")  # fmt: skip
    prefix = log_in(page, server, user)
    page.goto(f"{server.cpanel_url}{prefix}/tokens")
    page.locator("tr[data-name='deploy']").get_by_role("link", name="Details").click()
    assert page.locator("h1").inner_text() == "API Token “deploy”"
    row = page.locator("#uses tr[data-function='DomainInfo::list_domains']")
    assert row.locator("td").first.inner_text() == "2"
    assert row.locator(".result").inner_text() == "ok"
    assert "600 requests per minute" in page.locator("#settings").inner_text()
    assert "127.0.0.1" in page.locator("#last-used").inner_text()


def test_another_accounts_token_is_not_shown(server: Server, page: Any) -> None:
    user, _ = server.account()
    other, other_password = server.account()
    server.cpanel_token(other, other_password, name="theirs")
    prefix = log_in(page, server, user)
    response = page.goto(f"{server.cpanel_url}{prefix}/tokens/detail?name=theirs")
    assert response.status == 404


def test_uapi_reports_the_usage(server: Server) -> None:
    user, password = server.account()
    token = server.cpanel_token(user, password, name="ci")
    server.uapi(user, "Tokens", "list", token=token)
    body: dict[str, Any] = server.uapi(
        user, "Tokens", "gatehouse_get_usage", token=token, name="ci"
    ).json()
    assert body["status"] == 1, body
    functions = {f["function"]: f for f in body["data"]["functions"]}
    assert functions["Tokens::list"]["calls"] == 1
    missing = server.uapi(user, "Tokens", "gatehouse_get_usage", token=token, name="nope").json()
    assert missing["status"] == 0
    assert missing["errors"] == ["The API token “nope” does not exist."]
