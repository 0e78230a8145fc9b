"""Rotating a token with an overlap window (issue 17 §3, docs/governance.md): a new secret under
the same token, the previous one working for a grace period, revoke stopping both at once —
over HTTP on both stores, through the WHM and cPanel faces, the CLI, and a second node."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import Server, another_node


def name() -> str:
    return f"rot-{uuid.uuid4().hex[:8]}"


def works(server: Server, secret: str, user: str = "root") -> bool:
    response = server.get("version", token=secret, user=user)
    assert response.status_code in (200, 401), response.text
    return response.status_code == 200


def rotate(server: Server, token_name: str, **params: Any) -> dict[str, Any]:
    data = server.ok("gatehouse_rotate_api_token", params={"token_name": token_name, **params})
    server.remember(data["token"])
    return dict(data)


def listed(server: Server, token_name: str) -> dict[str, Any]:
    return dict(server.ok("api_token_list")["tokens"][token_name])


def test_the_new_secret_works_and_the_previous_one_too_during_the_grace(server: Server) -> None:
    token_name = name()
    old = server.token(token_name, acl=["basic-system-info"], whitelist_ip="127.0.0.1")
    rotated = rotate(server, token_name, grace_period=3600)
    assert rotated["token"] != old
    assert works(server, rotated["token"])
    assert works(server, old)
    assert rotated["name"] == token_name
    assert rotated["acls"] == ["basic-system-info"]
    assert rotated["whitelist_ips"] == ["127.0.0.1"]
    assert 3590 <= rotated["previous_token_expires_at"] - time.time() <= 3600


def test_the_grace_defaults_to_a_day(server: Server) -> None:
    token_name = name()
    server.token(token_name)
    rotated = rotate(server, token_name)
    assert 86390 <= rotated["previous_token_expires_at"] - time.time() <= 86400


def test_the_list_shows_the_previous_secret_until_it_stops(server: Server) -> None:
    token_name, untouched = name(), name()
    server.token(token_name)
    server.token(untouched)
    rotated = rotate(server, token_name, grace_period=600)
    assert (
        listed(server, token_name)["previous_token_expires_at"]
        == (rotated["previous_token_expires_at"])
    )
    assert "previous_token_expires_at" not in listed(server, untouched)


def test_without_a_grace_the_previous_secret_stops_at_once(server: Server) -> None:
    token_name = name()
    old = server.token(token_name)
    assert works(server, old)  # cached by the server
    rotated = rotate(server, token_name, grace_period=0)
    assert rotated["previous_token_expires_at"] is None
    assert not works(server, old)
    assert works(server, rotated["token"])
    assert "previous_token_expires_at" not in listed(server, token_name)


def test_the_previous_secret_stops_when_its_grace_ends(server: Server) -> None:
    token_name = name()
    old = server.token(token_name)
    rotated = rotate(server, token_name, grace_period=1)
    assert works(server, old)
    deadline = time.monotonic() + 10
    while works(server, old):
        assert time.monotonic() < deadline, "the previous secret outlived its grace"
        time.sleep(0.2)
    assert works(server, rotated["token"])
    reasons = server.sql(
        "SELECT reason FROM audit_log WHERE token_name = :n AND action = 'AUTHFAILURE'",
        n=token_name,
    )
    assert [r[0] for r in reasons] == ["token_expired"]


def test_a_revoke_during_the_grace_stops_both_secrets_at_once(server: Server) -> None:
    token_name = name()
    old = server.token(token_name)
    rotated = rotate(server, token_name, grace_period=3600)
    assert works(server, old) and works(server, rotated["token"])
    server.ok("api_token_revoke", params={"token_name": token_name})
    assert not works(server, old)
    assert not works(server, rotated["token"])
    assert server.sql("SELECT COUNT(*) FROM token_grace t LEFT JOIN api_tokens a "
                      "ON a.id = t.token_id WHERE a.id IS NULL")[0][0] == 0  # fmt: skip


def test_rotating_again_ends_the_earlier_previous_secret(server: Server) -> None:
    token_name = name()
    first = server.token(token_name)
    second = rotate(server, token_name, grace_period=3600)["token"]
    third = rotate(server, token_name, grace_period=3600)["token"]
    assert not works(server, first)
    assert works(server, second)
    assert works(server, third)


def test_ending_the_grace_stops_the_previous_secret_now(server: Server) -> None:
    token_name = name()
    old = server.token(token_name)
    rotate(server, token_name, grace_period=3600)
    assert works(server, old)
    assert server.ok("gatehouse_end_api_token_grace", params={"token_name": token_name}) == {
        "ended": 1
    }
    assert not works(server, old)
    assert server.ok("gatehouse_end_api_token_grace", params={"token_name": token_name}) == {
        "ended": 0
    }


def test_the_token_keeps_its_expiry_and_the_grace_never_outlives_it(server: Server) -> None:
    token_name = name()
    expires = int(time.time()) + 120
    server.token(token_name, expires_at=expires)
    rotated = rotate(server, token_name, grace_period=3600)
    assert rotated["expires_at"] == expires
    assert rotated["previous_token_expires_at"] == expires


def test_the_rotation_is_audited_without_a_secret(server: Server) -> None:
    token_name = name()
    server.token(token_name)
    rotated = rotate(server, token_name, grace_period=60)
    rows = server.sql(
        "SELECT detail FROM audit_log WHERE token_name = :n AND action = 'ROTATEAPITOKEN'",
        n=token_name,
    )
    assert len(rows) == 1
    assert rotated["token"] not in rows[0][0]
    assert "60 s" in rows[0][0]


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"token_name": "no-such-token"}, "The system failed to rotate the API token: "
         "The API token “no-such-token” does not exist."),
        ({"grace_period": "-1"}, "“grace_period” must be a whole number"),
        ({"grace_period": "soon"}, "“grace_period” must be a whole number"),
        ({"grace_period": "2592001"}, "“grace_period” must be a whole number"),
    ],
)  # fmt: skip
def test_bad_rotations_are_refused_and_change_nothing(
    server: Server, params: dict[str, str], reason: str
) -> None:
    token_name = name()
    old = server.token(token_name)
    reply = server.fail("gatehouse_rotate_api_token", params={"token_name": token_name, **params})
    assert reply.startswith(reason) or reason in reply, reply
    assert works(server, old)
    assert "previous_token_expires_at" not in listed(server, token_name)


def test_a_missing_token_name_is_refused(server: Server) -> None:
    assert "token_name" in server.fail("gatehouse_rotate_api_token")


def test_an_expired_token_cannot_be_rotated(server: Server) -> None:
    token_name = name()
    server.token(token_name)
    server.sql("UPDATE api_tokens SET expires_at = 1000 WHERE name = :n", n=token_name)
    assert "has expired" in server.fail(
        "gatehouse_rotate_api_token", params={"token_name": token_name}
    )


def test_another_users_token_is_not_reachable(server: Server) -> None:
    """A reseller rotates only its own tokens: root's is, to it, a token that does not exist."""
    reseller, reseller_token = server.reseller()
    token_name = name()
    old = server.token(token_name)
    reply = server.fail(
        "gatehouse_rotate_api_token",
        params={"token_name": token_name},
        user=reseller,
        token=reseller_token,
    )
    assert "does not exist" in reply
    assert works(server, old)


# -- the cPanel face --------------------------------------------------------------------------


def test_a_cpanel_token_rotates_through_uapi(server: Server) -> None:
    user, password = server.account()
    old = server.cpanel_token(user, password)
    token_name = server.uapi(user, "Tokens", "list", token=old).json()["data"][0]["name"]
    answer = server.uapi(
        user, "Tokens", "gatehouse_rotate", token=old, name=token_name, grace_period="600"
    ).json()
    assert answer["status"] == 1, answer
    new = server.remember(answer["data"]["token"])
    assert answer["data"]["name"] == token_name
    for secret in (old, new):
        assert server.uapi(user, "Tokens", "list", token=secret).json()["status"] == 1
    shown = server.uapi(user, "Tokens", "list", token=new).json()["data"]
    assert shown[0]["previous_token_expires_at"] == answer["data"]["previous_token_expires_at"]
    ended = server.uapi(user, "Tokens", "gatehouse_end_grace", token=new, name=token_name)
    assert ended.json()["data"] == {"ended": 1}
    assert server.uapi(user, "Tokens", "list", token=old).status_code == 401


def test_a_bad_uapi_grace_is_refused_in_uapis_envelope(server: Server) -> None:
    user, password = server.account()
    secret = server.cpanel_token(user, password)
    token_name = server.uapi(user, "Tokens", "list", token=secret).json()["data"][0]["name"]
    answer = server.uapi(
        user, "Tokens", "gatehouse_rotate", token=secret, name=token_name, grace_period="x"
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == 0
    assert "grace_period" in body["errors"][0]
    assert server.uapi(user, "Tokens", "list", token=secret).json()["status"] == 1


# -- the command line -------------------------------------------------------------------------


def test_the_cli_rotates_a_root_token(server: Server) -> None:
    token_name = name()
    old = server.token(token_name)
    result = server.cli("tokens", "rotate", token_name, "--grace", "120")
    new = server.remember(result.stdout.strip())
    assert works(server, new)
    assert works(server, old)
    assert "The previous secret works until" in result.stderr


# -- two nodes ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def node2(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with another_node(server, tmp_path_factory, "rotation-node") as node:
        yield node


def test_a_rotation_on_one_node_is_seen_by_the_other_on_the_next_request(
    server: Server, node2: Server
) -> None:
    token_name = name()
    old = server.token(token_name)
    assert works(node2, old)  # node 2 caches it
    rotated = rotate(server, token_name, grace_period=0)
    assert not works(node2, old)
    assert works(node2, rotated["token"])
