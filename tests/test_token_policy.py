"""Token policies (issue 17 part 5): a maximum lifetime for new tokens, the stale-token
report, and the expiry of tokens left unused — over real HTTP and the CLI, on both stores."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from conftest import Server, another_node

DAY = 86400


def fresh() -> str:
    return f"pol-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def capped(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A node of the same store with a 30-day maximum lifetime for new tokens."""
    with another_node(
        server, tmp_path_factory, "capped", env={"GATEHOUSE_TOKEN_MAX_LIFETIME_DAYS": "30"}
    ) as node:
        yield node


def near(value: int | None, expected: float) -> bool:
    return value is not None and abs(value - expected) < 120


# -- maximum lifetime -------------------------------------------------------------------------


def test_a_token_without_an_expiry_gets_the_maximum_lifetime(capped: Server) -> None:
    made = capped.ok("api_token_create", params={"token_name": fresh()})
    assert near(made["expires_at"], time.time() + 30 * DAY)


def test_an_earlier_expiry_is_kept_and_a_later_one_is_capped(capped: Server) -> None:
    soon = int(time.time()) + 10 * DAY
    kept = capped.ok("api_token_create", params={"token_name": fresh(), "expires_at": soon})
    assert kept["expires_at"] == soon
    late = int(time.time()) + 100 * DAY
    cut = capped.ok("api_token_create", params={"token_name": fresh(), "expires_at": late})
    assert near(cut["expires_at"], time.time() + 30 * DAY)


def test_an_edit_cannot_lift_the_limit(capped: Server) -> None:
    name = fresh()
    made = capped.ok("api_token_create", params={"token_name": name})
    edited = capped.ok("api_token_update", params={"token_name": name, "expires_at": "0"})
    assert edited["expires_at"] == made["expires_at"]


def test_a_cpanel_token_gets_the_maximum_lifetime(capped: Server, server: Server) -> None:
    user, password = server.account()
    basic = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    response = httpx.get(
        f"{capped.cpanel_url}/execute/Tokens/create_full_access",
        params={"name": "capped"},
        headers={"Authorization": basic},
        timeout=30,
    )
    assert response.json()["status"] == 1, response.text
    listed = server.uapi(user, "Tokens", "list", auth=basic).json()["data"]
    assert near(
        next(t for t in listed if t["name"] == "capped")["expires_at"], time.time() + 30 * DAY
    )


def test_without_the_policy_a_token_never_expires(server: Server) -> None:
    assert server.ok("api_token_create", params={"token_name": fresh()})["expires_at"] is None


# -- the stale-token report -------------------------------------------------------------------


def backdate(server: Server, name: str, *, used_days_ago: int | None, made_days_ago: int) -> None:
    now = int(time.time())
    server.sql(
        "UPDATE api_tokens SET create_time = :c, last_used_time = :u WHERE name = :n",
        c=now - made_days_ago * DAY,
        u=None if used_days_ago is None else now - used_days_ago * DAY,
        n=name,
    )


def stale_names(server: Server, days: int) -> list[str]:
    report = server.ok("gatehouse_list_stale_api_tokens", params={"days": days})
    assert report["days"] == days
    return [t["name"] for t in report["tokens"]]


def test_the_report_lists_unused_and_never_used_tokens_longest_first(server: Server) -> None:
    old, never, recent, young = fresh(), fresh(), fresh(), fresh()
    for name in (old, never, recent, young):
        server.ok("api_token_create", params={"token_name": name, "description": f"for {name}"})
    backdate(server, old, used_days_ago=200, made_days_ago=400)
    backdate(server, never, used_days_ago=None, made_days_ago=120)
    backdate(server, recent, used_days_ago=3, made_days_ago=400)
    backdate(server, young, used_days_ago=None, made_days_ago=10)
    names = stale_names(server, 90)
    assert old in names and never in names and recent not in names and young not in names
    assert names.index(old) < names.index(never)
    entry = next(
        t for t in server.ok("gatehouse_list_stale_api_tokens")["tokens"] if t["name"] == never
    )
    assert entry["user"] == "root" and entry["service"] == "whostmgr"
    assert entry["description"] == f"for {never}" and entry["last_used"] is None


def test_an_expired_token_is_not_stale(server: Server) -> None:
    name = fresh()
    server.ok("api_token_create", params={"token_name": name})
    backdate(server, name, used_days_ago=None, made_days_ago=400)
    server.sql("UPDATE api_tokens SET expires_at = :e WHERE name = :n", e=1000, n=name)
    assert name not in stale_names(server, 90)


@pytest.mark.parametrize("days", ["0", "-1", "ninety", "40000"])
def test_a_bad_number_of_days_is_refused(server: Server, days: str) -> None:
    reason = server.fail("gatehouse_list_stale_api_tokens", params={"days": days})
    assert "days" in reason


def test_the_report_is_roots_alone(server: Server) -> None:
    response = server.get(
        "gatehouse_list_stale_api_tokens", token=server.token(acl=["manage-api-tokens"])
    )
    assert response.status_code == 403


def test_the_cli_prints_the_report(server: Server) -> None:
    name = fresh()
    server.ok("api_token_create", params={"token_name": name})
    backdate(server, name, used_days_ago=None, made_days_ago=100)
    out = server.cli("tokens", "stale", "--days", "90").stdout
    assert name in out and "never" in out


# -- expiring unused tokens -------------------------------------------------------------------


def test_expire_unused_expires_old_tokens_only_and_audits_each(server: Server) -> None:
    old, used = fresh(), fresh()
    old_secret = server.ok("api_token_create", params={"token_name": old})["token"]
    used_secret = server.ok("api_token_create", params={"token_name": used})["token"]
    backdate(server, old, used_days_ago=None, made_days_ago=200)
    backdate(server, used, used_days_ago=1, made_days_ago=200)
    out = server.cli("tokens", "expire-unused", "--days", "180").stdout
    assert f"expired root's whostmgr token {old}" in out and used not in out
    assert server.get("version", token=old_secret).status_code == 401
    assert server.get("version", token=used_secret).status_code == 200
    rows = server.sql(
        "SELECT actor, detail FROM audit_log WHERE action = 'AUTOEXPIREAPITOKEN' "
        "AND token_name = :n",
        n=old,
    )
    assert rows == [("gatehouse", "whostmgr token unused for 180 days (never used)")]
    assert old in server.ok("api_token_list")["tokens"]  # expired, not deleted


def test_expire_unused_needs_a_number_of_days(server: Server) -> None:
    result = server.cli("tokens", "expire-unused", check=False)
    assert result.returncode == 1
    assert "Give --days, or set GATEHOUSE_TOKEN_EXPIRE_UNUSED_DAYS." in result.stderr


# -- revoking at once ---------------------------------------------------------------------------


def test_revoking_all_of_a_users_tokens(server: Server) -> None:
    user, password = server.account(reseller=True)
    basic = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    made = server.get("api_token_create", auth=basic, params={"token_name": "mine"}).json()
    whm_secret = made["data"]["token"]
    cpanel_secret = server.cpanel_token(user, password)
    assert server.get("version", user=user, token=whm_secret).status_code == 200
    data = server.ok("gatehouse_revoke_user_api_tokens", params={"user": user})
    assert sorted((t["service"], t["user"]) for t in data["revoked"]) == [
        ("cpanel", user),
        ("whostmgr", user),
    ]
    assert server.get("version", user=user, token=whm_secret).status_code == 401
    gone = server.uapi(user, "Tokens", "list", token=cpanel_secret)
    assert gone.status_code == 401
    rows = server.sql(
        "SELECT count(*) FROM audit_log WHERE action = 'REVOKEAPITOKEN' AND subject = :u", u=user
    )
    assert rows == [(2,)]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"user": "nosuchuser"}, "does not exist"),
        ({"user": "root", "service": "ftp"}, "must be all, whm or cpanel"),
    ],
)
def test_revoking_a_users_tokens_refuses_bad_input(
    server: Server, params: dict[str, str], expected: str
) -> None:
    assert expected in server.fail("gatehouse_revoke_user_api_tokens", params=params)


def test_revoking_every_token_last_used_from_an_address(server: Server) -> None:
    one, two, other = fresh(), fresh(), fresh()
    secrets_ = {
        n: server.ok("api_token_create", params={"token_name": n})["token"]
        for n in (one, two, other)
    }
    for name, address in ((one, "198.51.100.77"), (two, "198.51.100.77"), (other, "198.51.100.78")):
        server.sql("UPDATE api_tokens SET last_used_ip = :a WHERE name = :n", a=address, n=name)
    data = server.ok("gatehouse_revoke_api_tokens_used_from", params={"ip": "198.51.100.77"})
    assert sorted(t["name"] for t in data["revoked"]) == sorted([one, two])
    assert server.get("version", token=secrets_[one]).status_code == 401
    assert server.get("version", token=secrets_[other]).status_code == 200
    assert "is not an IP address" in server.fail(
        "gatehouse_revoke_api_tokens_used_from", params={"ip": "198.51.100.300"}
    )
