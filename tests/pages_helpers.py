"""Helpers for the Playwright tests of the WHM pages."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import httpx

from conftest import Server

CPSESS_URL = re.compile(r"/cpsess(\d{10})/")


def log_in(page: Any, server: Server, user: str = "root", password: str | None = None) -> str:
    """Log in through the login page; returns the /cpsessNNNNNNNNNN prefix."""
    page.goto(f"{server.url}/")
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(password if password is not None else server.root_password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(CPSESS_URL)
    match = CPSESS_URL.search(page.url)
    assert match, page.url
    return f"/cpsess{match.group(1)}"


def api_tokens(server: Server, user: str = "root", token: str | None = None) -> dict[str, Any]:
    data = server.ok("api_token_list", user=user, token=token)
    return dict(data["tokens"])


def http_session(server: Server, base: str, service: str, user: str) -> tuple[str, httpx.Cookies]:
    """Without a browser: (the /cpsessN prefix, the session cookie) after following a fresh
    `create_user_session` URL of `service` (whostmgrd or cpaneld) on `base`."""
    data = server.ok("create_user_session", params={"user": user, "service": service})
    login = urlsplit(str(data["url"]))
    answer = httpx.get(f"{base}{login.path}?{login.query}", timeout=30)
    assert answer.status_code == 303, answer.text
    return f"/cpsess{data['cp_security_token'].removeprefix('/cpsess')}", answer.cookies
