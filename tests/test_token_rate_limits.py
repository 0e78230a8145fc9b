"""Per-token rate limits (issue 17 §7, docs/governance.md): requests per minute counted in the
store, so shared by every process and node; over the limit HTTP 429 with Retry-After in the
caller's own envelope, audited, never counted by cPHulk — over HTTP on both stores, and the
sliding-window arithmetic on its own."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import Server, another_node
from gatehouse.domain import token_rate

VERSION = "/json-api/version?api.version=1"


def name() -> str:
    return f"rl-{uuid.uuid4().hex[:8]}"


def call(node: Server, secret: str) -> httpx.Response:
    return httpx.get(
        f"{node.url}{VERSION}", headers={"Authorization": f"whm root:{secret}"}, timeout=30
    )


def statuses(node: Server, secret: str, count: int) -> list[int]:
    return [call(node, secret).status_code for _ in range(count)]


@pytest.fixture(scope="module")
def node2(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with another_node(server, tmp_path_factory, "rate-node") as node:
        yield node


def test_a_token_over_its_limit_gets_429_with_retry_after(server: Server) -> None:
    secret = server.token(name(), rate_limit=5)
    assert statuses(server, secret, 5) == [200] * 5
    refused = call(server, secret)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 2 * token_rate.WINDOW
    body = refused.json()
    assert body["metadata"]["result"] == 0
    assert body["metadata"]["command"] == "version"
    assert "Too many requests with this API token" in body["metadata"]["reason"]
    assert f"Try again in {refused.headers['retry-after']} seconds" in body["metadata"]["reason"]


def test_refusals_are_audited_and_not_counted(server: Server) -> None:
    token_name = name()
    secret = server.token(token_name, rate_limit=1)
    assert statuses(server, secret, 4) == [200, 429, 429, 429]
    reasons = server.sql(
        "SELECT reason FROM audit_log WHERE token_name = :n AND action = 'AUTHFAILURE'",
        n=token_name,
    )
    assert {r[0] for r in reasons} == {"token_rate_limited"}
    # The three refusals did not count. Summed over both windows: when the four requests
    # straddle a minute, the one counted is in the last minute's.
    counted = server.sql("SELECT this_minute + last_minute FROM token_rate r JOIN api_tokens t "
                         "ON t.id = r.token_id WHERE t.name = :n", n=token_name)  # fmt: skip
    assert counted[0][0] == 1


def test_the_limit_is_shared_by_two_nodes_on_one_store(server: Server, node2: Server) -> None:
    secret = server.token(name(), rate_limit=6)
    seen = [call(server, secret).status_code if i % 2 else call(node2, secret).status_code
            for i in range(6)]  # fmt: skip
    assert seen == [200] * 6
    assert call(server, secret).status_code == 429
    assert call(node2, secret).status_code == 429


def test_a_new_limit_applies_at_once_on_every_node(server: Server, node2: Server) -> None:
    token_name = name()
    secret = server.token(token_name)
    assert statuses(node2, secret, 3) == [200] * 3  # cached by node 2 without a limit
    server.ok("api_token_update", params={"token_name": token_name, "rate_limit": "1"})
    assert statuses(node2, secret, 2) == [200, 429]
    server.ok("api_token_update", params={"token_name": token_name, "rate_limit": "0"})
    assert statuses(node2, secret, 3) == [200] * 3


def test_a_token_without_a_limit_is_never_counted(server: Server) -> None:
    token_name = name()
    secret = server.token(token_name)
    assert statuses(server, secret, 3) == [200] * 3
    rows = server.sql("SELECT COUNT(*) FROM token_rate r JOIN api_tokens t "
                      "ON t.id = r.token_id WHERE t.name = :n", n=token_name)  # fmt: skip
    assert rows[0][0] == 0


def test_the_limit_is_shown_only_when_set(server: Server) -> None:
    limited, free = name(), name()
    made = server.ok("api_token_create", params={"token_name": limited, "rate_limit": "30"})
    server.remember(made["token"])
    assert made["rate_limit"] == 30
    server.token(free)
    tokens = server.ok("api_token_list")["tokens"]
    assert tokens[limited]["rate_limit"] == 30
    assert "rate_limit" not in tokens[free]


@pytest.mark.parametrize("value", ["-1", "many", "1000001", "1.5"])
def test_a_bad_limit_is_refused_and_nothing_is_made(server: Server, value: str) -> None:
    token_name = name()
    reason = server.fail("api_token_create", params={"token_name": token_name, "rate_limit": value})
    assert "rate_limit" in reason
    assert token_name not in server.ok("api_token_list")["tokens"]


def test_a_bad_limit_on_update_changes_nothing(server: Server) -> None:
    token_name = name()
    secret = server.token(token_name, rate_limit=10)
    assert "rate_limit" in server.fail(
        "api_token_update", params={"token_name": token_name, "rate_limit": "x"}
    )
    assert server.ok("api_token_list")["tokens"][token_name]["rate_limit"] == 10
    assert call(server, secret).status_code == 200


# -- the cPanel face: UAPI's and API 2's envelopes ---------------------------------------------


def limited_cpanel_token(server: Server, limit: int) -> tuple[str, str]:
    user, password = server.account()
    secret = server.cpanel_token(user, password)
    token_name = server.uapi(user, "Tokens", "list", token=secret).json()["data"][0]["name"]
    answer = server.uapi(
        user, "Tokens", "gatehouse_set_rate_limit", token=secret, name=token_name,
        rate_limit=str(limit),
    ).json()  # fmt: skip
    assert answer["status"] == 1 and answer["data"]["rate_limit"] == limit, answer
    return user, secret


def test_uapi_answers_429_in_its_own_envelope(server: Server) -> None:
    user, secret = limited_cpanel_token(server, 2)
    for _ in range(2):
        assert server.uapi(user, "Tokens", "list", token=secret).status_code == 200
    refused = server.uapi(user, "Tokens", "list", token=secret)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    body: dict[str, Any] = refused.json()
    assert body["status"] == 0
    assert "Too many requests with this API token" in body["errors"][0]


def test_api2_answers_429_in_its_own_envelope(server: Server) -> None:
    user, secret = limited_cpanel_token(server, 1)
    assert server.api2(user, "ZoneEdit", "fetchzones", token=secret).status_code == 200
    refused = server.api2(user, "ZoneEdit", "fetchzones", token=secret)
    assert refused.status_code == 429
    body = refused.json()
    assert "Too many requests with this API token" in str(body)


# -- the sliding window ------------------------------------------------------------------------


@given(
    limit=st.integers(1, 500),
    this_minute=st.integers(0, 600),
    last_minute=st.integers(0, 600),
    elapsed=st.floats(0, 59.999),
)
def test_retry_after_is_when_one_more_request_fits(
    limit: int, this_minute: int, last_minute: int, elapsed: float
) -> None:
    """After waiting the seconds `_wait` gives, one more request fits the estimate; a second
    less (when there is one to spare) it would not, unless within rounding."""
    if token_rate._estimate(this_minute + 1, last_minute, elapsed) <= limit:
        return  # it would not have been refused
    wait = token_rate._wait(this_minute, last_minute, elapsed, limit)
    assert wait >= 1

    def fits(after: float) -> bool:
        at = elapsed + after
        if at < token_rate.WINDOW:
            return token_rate._estimate(this_minute + 1, last_minute, at) <= limit + 1e-9
        return token_rate._estimate(1, this_minute, at - token_rate.WINDOW) <= limit + 1e-9

    assert fits(wait)
    assert wait <= 2 * token_rate.WINDOW
    if wait > 1:
        assert not fits(wait - 1.0001) or math.isclose(wait, 1)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, None), ("", None), ("0", None), (" 60 ", 60), ("1000000", 1_000_000)],
)
def test_parse_limit(raw: str | None, expected: int | None) -> None:
    assert token_rate.parse_limit(raw) == expected
