"""Helpers for the Playwright tests of the WHM pages."""

from __future__ import annotations

import re
from typing import Any

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
