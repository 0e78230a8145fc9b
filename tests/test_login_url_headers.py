"""The one-time login URL of `create_user_session` (`/cpsessN/login/?session=…`) answers
with the pages' security headers — the redirect that sets the session cookie, and its
refusals — and HSTS over HTTPS only."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest

from conftest import Server

HEADERS = (
    "content-security-policy",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
)


def login_url(server: Server, base: str) -> str:
    data = server.ok("create_user_session", params={"user": "root", "service": "whostmgrd"})
    url = urlsplit(str(data["url"]))
    return f"{base}{url.path}?{url.query}"


@pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])
def test_the_redirect_carries_the_security_headers(server: Server, tls: bool) -> None:
    base = server.https_url if tls else server.url
    response = httpx.get(
        login_url(server, base), follow_redirects=False, timeout=30, verify=server.tls()
    )
    assert response.status_code == 303
    for name in HEADERS:
        assert name in response.headers, name
    assert response.headers["x-frame-options"] == "DENY"
    assert ("strict-transport-security" in response.headers) is tls


def test_a_used_link_is_refused_with_the_security_headers(server: Server) -> None:
    url = login_url(server, server.url)
    assert httpx.get(url, follow_redirects=False, timeout=30).status_code == 303
    again = httpx.get(url, follow_redirects=False, timeout=30)
    assert again.status_code == 401
    for name in HEADERS:
        assert name in again.headers, name
