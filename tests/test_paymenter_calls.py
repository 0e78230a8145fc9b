"""Paymenter's cPanel server extension (extensions/Servers/CPanel/CPanel.php, Paymenter 1.x),
replayed call by call over real HTTP: `Authorization: whm USER:KEY`, parameters in the query
string; `listpkgs` and `listaccts` as WHM API 0, the rest WHM API 1 read through
`metadata.result === 1`. Its usernames are 16 random letters and digits, mixed case (it keeps
them lower-cased), and it sends no password."""

from __future__ import annotations

import secrets
import string
from typing import Any

import httpx
import pytest

from conftest import Server


class Paymenter:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.headers = {"Authorization": f"whm root:{server.root_token}"}

    def request(self, endpoint: str, **data: Any) -> httpx.Response:
        response = httpx.get(
            f"{self.server.url}/json-api{endpoint}", params=data, headers=self.headers, timeout=30
        )
        assert not response.is_error, response.text  # its `$response->failed()`
        return response


@pytest.fixture(scope="module")
def paymenter(server: Server) -> Paymenter:
    return Paymenter(server)


def _username() -> str:
    """Str::random(): 16 of [A-Za-z0-9]; a leading digit replaced by `a`."""
    alphabet = string.ascii_letters + string.digits
    name = "".join(secrets.choice(alphabet) for _ in range(16))
    return "a" + name[1:] if name[0].isdigit() else name


def test_product_config_and_test_config(paymenter: Paymenter) -> None:
    packages = paymenter.request("/listpkgs").json()["package"]
    assert all("name" in p for p in packages)
    assert paymenter.request("/listaccts").is_success


def test_a_service_lifetime(server: Server, paymenter: Paymenter) -> None:
    username = _username()
    domain = f"{username.lower()}.example.com"
    created = paymenter.request(
        "/createacct",
        **{"api.version": 1, "username": username, "contactemail": "c@example.com",
           "domain": domain, "plan": "default"},
    ).json()  # fmt: skip
    assert created["metadata"]["result"] == 1, created
    user = username.lower()  # what it keeps
    assert server.ok("accountsummary", params={"user": user})["acct"][0]["domain"] == domain
    for endpoint in ("/suspendacct", "/unsuspendacct"):
        answer = paymenter.request(endpoint, **{"api.version": 1, "user": user}).json()
        assert answer["metadata"]["result"] == 1, answer
    upgraded = paymenter.request(
        "/modifyacct", **{"api.version": 1, "user": user, "plan": "default"}
    ).json()
    assert upgraded["metadata"]["result"] == 1, upgraded
    removed = paymenter.request("/removeacct", **{"api.version": 1, "user": user}).json()
    assert removed["metadata"]["result"] == 1, removed
