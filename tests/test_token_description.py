"""Where a token is used (issue 17 part 1): a description set at create and edit, and the last
user agent beside the last use — on WHM and cPanel tokens, over real HTTP on both stores. An
answer gains the new fields only when they have something to say."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from conftest import Server

DESCRIPTION = "WHMCS on billing.example.net — module “cPanel”\nsecond line"


def name() -> str:
    return f"d-{uuid.uuid4().hex[:10]}"


def listed(server: Server, token_name: str) -> dict[str, Any]:
    return dict(server.ok("api_token_list")["tokens"][token_name])


def test_a_description_set_at_create_is_returned_and_listed(server: Server) -> None:
    token_name = name()
    made = server.ok(
        "api_token_create", params={"token_name": token_name, "description": DESCRIPTION}
    )
    assert made["description"] == DESCRIPTION
    assert listed(server, token_name)["description"] == DESCRIPTION
    details = server.ok("api_token_get_details", params={"token": made["token"]})
    assert details["description"] == DESCRIPTION


def test_without_a_description_the_answers_keep_cpanels_shape(server: Server) -> None:
    token_name = name()
    made = server.ok("api_token_create", params={"token_name": token_name})
    assert set(made) == {"create_time", "expires_at", "name", "whitelist_ips", "token"}
    assert "description" not in listed(server, token_name)
    assert "last_used_agent" not in listed(server, token_name)


def test_update_sets_and_clears_the_description(server: Server) -> None:
    token_name = name()
    server.ok("api_token_create", params={"token_name": token_name})
    updated = server.ok(
        "api_token_update", params={"token_name": token_name, "description": "  cron on web1 "}
    )
    assert updated["description"] == "cron on web1"
    cleared = server.ok("api_token_update", params={"token_name": token_name, "description": ""})
    assert "description" not in cleared
    assert "description" not in listed(server, token_name)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("x" * 1025, "at most 1024 are allowed"),
        ("bell\x07", "may not contain control characters"),
        ("del\x7f", "may not contain control characters"),
    ],
)
def test_a_bad_description_is_refused_and_nothing_is_made(
    server: Server, value: str, expected: str
) -> None:
    token_name = name()
    reason = server.fail(
        "api_token_create", params={"token_name": token_name, "description": value}
    )
    assert reason.startswith("The system failed to create the API token: ")
    assert expected in reason
    assert token_name not in server.ok("api_token_list")["tokens"]


def test_the_last_user_agent_is_kept_with_the_last_use(server: Server) -> None:
    token_name = name()
    secret = server.ok("api_token_create", params={"token_name": token_name})["token"]
    response = httpx.get(
        f"{server.url}/json-api/version?api.version=1",
        headers={
            b"Authorization": f"whm root:{secret}".encode(),
            b"User-Agent": b"WHMCS/8.9 \xe9bot",
        },
        timeout=30,
    )
    assert response.status_code == 200
    token = listed(server, token_name)
    assert token["last_used_agent"] == "WHMCS/8.9 ?bot"
    assert token["last_used_ip"] == "127.0.0.1"


def test_a_cpanel_token_has_a_description_and_its_last_use(server: Server) -> None:
    user, password = server.account()
    import base64

    basic = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    made = server.uapi(
        user, "Tokens", "create_full_access", auth=basic, name="acme", description="certbot"
    ).json()
    assert made["status"] == 1, made
    secret = made["data"]["token"]
    before = server.uapi(user, "Tokens", "list", token=secret).json()["data"]
    mine = next(t for t in before if t["name"] == "acme")
    assert mine["description"] == "certbot" and "last_used" not in mine  # cPanel's shape kept
    details = server.uapi(user, "Tokens", "gatehouse_get_details", token=secret, name="acme")
    found = details.json()["data"]
    assert found["last_used_ip"] == "127.0.0.1" and found["last_used"] is not None
    assert found["last_used_agent"].startswith("python-httpx/")
    set_ = server.uapi(
        user, "Tokens", "gatehouse_set_description", token=secret, name="acme", description=""
    ).json()
    assert set_["status"] == 1 and "description" not in set_["data"]
    unknown = server.uapi(
        user, "Tokens", "gatehouse_set_description", token=secret, name="nope", description="x"
    ).json()
    assert unknown["status"] == 0 and "does not exist" in unknown["errors"][0]
