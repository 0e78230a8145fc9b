"""Least privilege from real use (issue 17 §2, docs/governance.md): each token's calls recorded
in batches (never a write per request), the smallest ACL that covers them suggested, and one
action to tighten the token to it — over HTTP on both stores, the CLI, and the suggestion's
rules on their own."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from conftest import Server
from gatehouse.domain import token_usage
from gatehouse.domain.token_usage import Use


def name() -> str:
    return f"use-{uuid.uuid4().hex[:8]}"


def report(server: Server, token_name: str) -> dict[str, Any]:
    return dict(server.ok("gatehouse_get_api_token_usage", params={"token_name": token_name}))


def by_function(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["function"]: f for f in data["functions"]}


def test_every_call_is_counted_with_its_result(server: Server) -> None:
    token_name = name()
    secret = server.token(token_name)
    for _ in range(3):
        server.ok("version", token=secret)
    server.ok("listaccts", token=secret)
    server.fail("accountsummary", token=secret, params={"user": "nosuchuser42"})
    used = by_function(report(server, token_name))
    assert used["version"]["calls"] == 3
    assert used["version"]["last_result"] == "ok"
    assert used["listaccts"]["privileges"] == ["list-accts"]
    assert used["accountsummary"]["last_result"] == "failed"
    assert used["version"]["first_used"] <= used["version"]["last_used"] <= time.time()


def test_the_suggestion_is_the_smallest_acl_and_names_what_is_unused(server: Server) -> None:
    token_name = name()
    secret = server.token(token_name)  # full access
    server.ok("version", token=secret)
    server.ok("listaccts", token=secret)
    data = report(server, token_name)
    assert data["full_access"] is True
    assert set(data["suggested_acls"]) == {"list-accts", "basic-system-info"}
    assert "all" in data["unused_acls"]
    assert data["missing_acls"] == []


def test_a_refusal_for_a_missing_privilege_is_recorded_and_named(server: Server) -> None:
    token_name = name()
    secret = server.token(token_name, acl=["basic-system-info"])
    assert server.get("listaccts", token=secret).status_code == 403
    data = report(server, token_name)
    assert by_function(data)["listaccts"]["last_result"] == "missing_privilege"
    assert data["missing_acls"] == ["list-accts"]
    assert "list-accts" in data["suggested_acls"]


def test_tightening_sets_the_acl_to_what_was_used(server: Server) -> None:
    token_name = name()
    secret = server.token(token_name)
    server.ok("version", token=secret)
    server.ok("listaccts", token=secret)
    tightened = server.ok("gatehouse_tighten_api_token", params={"token_name": token_name})
    assert set(tightened["acls"]) == {"list-accts", "basic-system-info"}
    assert tightened["removed_acls"] == ["all"]
    server.ok("version", token=secret)
    server.ok("listaccts", token=secret)
    assert server.get("createacct", token=secret, params={"username": "x"}).status_code == 403
    rows = server.sql(
        "SELECT detail FROM audit_log WHERE token_name = :n AND action = 'UPDATEAPITOKEN'",
        n=token_name,
    )
    assert "tightened to its recorded use" in rows[-1][0]


def test_a_token_never_used_is_not_tightened(server: Server) -> None:
    token_name = name()
    server.token(token_name)
    reason = server.fail("gatehouse_tighten_api_token", params={"token_name": token_name})
    assert "has no recorded use" in reason
    assert report(server, token_name)["full_access"] is True


def test_a_token_that_needed_full_access_is_not_narrowed(server: Server) -> None:
    token_name = name()
    secret = server.token(token_name)
    server.ok("gatehouse_read_audit_log", token=secret, params={"limit": "1"})
    data = report(server, token_name)
    assert data["root_only_functions"] == ["gatehouse_read_audit_log"]
    assert data["suggested_acls"] == ["all"]
    reason = server.fail("gatehouse_tighten_api_token", params={"token_name": token_name})
    assert "need full access" in reason


@pytest.mark.parametrize(
    ("function", "params", "reason"),
    [
        ("gatehouse_get_api_token_usage", {"token_name": "no-such"}, "does not exist"),
        ("gatehouse_tighten_api_token", {"token_name": "no-such"}, "does not exist"),
        ("gatehouse_get_api_token_usage", {}, "token_name"),
    ],
)
def test_bad_requests_are_refused(
    server: Server, function: str, params: dict[str, str], reason: str
) -> None:
    assert reason in server.fail(function, params=params)


def test_the_counts_reach_the_store_in_batches(server: Server) -> None:
    token_name = name()
    secret = server.token(token_name)
    for _ in range(5):
        server.ok("version", token=secret)
    query = ("SELECT u.calls FROM token_usage u JOIN api_tokens t ON t.id = u.token_id "
             "WHERE t.name = :n AND u.function = 'version'")  # fmt: skip
    # Written once a second: the five calls may land in two batches, which add up.
    deadline = time.monotonic() + 20
    while [row[0] for row in server.sql(query, n=token_name)] != [5]:
        assert time.monotonic() < deadline, server.sql(query, n=token_name)
        time.sleep(0.3)


def test_a_cpanel_tokens_calls_are_recorded_too(server: Server) -> None:
    user, password = server.account()
    secret = server.cpanel_token(user, password)
    server.uapi(user, "Tokens", "list", token=secret)
    query = ("SELECT u.function FROM token_usage u JOIN api_tokens t ON t.id = u.token_id "
             "JOIN users s ON s.id = t.user_id WHERE s.username = :u")  # fmt: skip
    deadline = time.monotonic() + 20
    while not server.sql(query, u=user):
        assert time.monotonic() < deadline, "the usage was never written"
        time.sleep(0.3)
    assert [r[0] for r in server.sql(query, u=user)] == ["Tokens::list"]


def test_the_cli_reports_and_tightens(server: Server) -> None:
    token_name = name()
    secret = server.token(token_name)
    server.ok("listaccts", token=secret)
    deadline = time.monotonic() + 20  # the CLI reads the store: wait for the batch
    while "listaccts" not in server.cli("tokens", "usage", token_name, "--json").stdout:
        assert time.monotonic() < deadline
        time.sleep(0.3)
    data = json.loads(server.cli("tokens", "usage", token_name, "--json").stdout)
    assert data["suggested_acls"] == ["list-accts"]
    out = server.cli("tokens", "tighten", token_name).stdout
    assert f"{token_name}: list-accts" in out
    assert "removed: all" in out


# -- the suggestion's rules ---------------------------------------------------------------------


def use(function: str, result: str = "ok") -> Use:
    return Use(function, 1, 1, 2, result)


GUARDS = {
    "version": ("basic-system-info", "clustering"),
    "listaccts": ("list-accts",),
    "generatessl": ("ssl-gencrt", "ssl"),
    "installssl": ("ssl",),
    "gatehouse_read_audit_log": ("all",),
    "applist": (),
}


@pytest.mark.parametrize(
    ("used", "held", "acls"),
    [
        (["version"], {"all"}, ["basic-system-info"]),
        (["version"], {"clustering"}, ["clustering"]),  # the alternative it holds
        (["generatessl", "installssl"], {"all"}, ["ssl"]),  # one alternative covers both
        (["installssl", "generatessl"], {"all"}, ["ssl"]),
        (["applist"], {"all"}, []),
        (["unknown_function"], {"all"}, []),
        (["gatehouse_read_audit_log", "listaccts"], {"all"}, ["all"]),
    ],
)
def test_the_suggestion(used: list[str], held: set[str], acls: list[str]) -> None:
    advice = token_usage.suggest([use(f) for f in used], GUARDS.get, frozenset(held))
    assert list(advice.acls) == acls


def test_the_recorder_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(token_usage, "MAX_PENDING", 3)
    recorder = token_usage.UsageRecorder()
    for i in range(10):
        recorder.note(i, 50, "version", 100, "ok")
    recorder.note(0, 50, "version", 101, "ok")  # a pair already held is still counted
    taken = recorder.take()
    assert len(taken) == 3
    assert taken[(0, 50, "version")].calls == 2


def test_a_revoked_tokens_counts_are_not_a_new_token_s_with_its_id() -> None:
    """SQLite gives the newest token's id again once it is revoked: counts noted for the old
    token and not yet written must not show as (or be written for) the new one's."""
    recorder = token_usage.UsageRecorder()
    recorder.note(7, 1_000, "listaccts", 1_050, "ok")  # the old token, made at 1,000
    assert recorder.pending_for(7, 1_060) == []  # the new token with id 7, made at 1,060
    assert [u.function for u in recorder.pending_for(7, 1_000)] == ["listaccts"]


def test_a_revoked_tokens_counts_are_not_written_for_a_token_given_its_id(
    server: Server,
) -> None:
    old = name()
    server.token(old)
    old_id, created = server.sql("SELECT id, create_time FROM api_tokens WHERE name = :n", n=old)[0]
    recorder = token_usage.UsageRecorder()
    recorder.note(int(old_id), int(created), "listaccts", int(time.time()), "ok")
    server.ok("api_token_revoke", params={"token_name": old})
    time.sleep(1.1)  # the new token's creation time differs from the old one's
    new = name()
    server.token(new)
    new_id = server.sql("SELECT id FROM api_tokens WHERE name = :n", n=new)[0][0]
    if server.backend == "sqlite":
        assert new_id == old_id  # the case this test is about (PostgreSQL never reuses one)
    from gatehouse.store.engine import create

    engine = create(server.db_url)
    try:
        assert recorder.flush(engine) == 0
    finally:
        engine.dispose()
    assert by_function(report(server, new)) == {}


def test_counts_being_written_are_shown_once(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write takes the counts out of memory before its commit puts them in the store: a
    report read meanwhile must wait for the commit, neither missing them nor counting them
    twice."""
    import threading

    from gatehouse.store.engine import create

    token_name = name()
    server.token(token_name)
    token_id, created = server.sql(
        "SELECT id, create_time FROM api_tokens WHERE name = :n", n=token_name
    )[0]
    recorder = token_usage.UsageRecorder()
    recorder.note(int(token_id), int(created), "listaccts", int(time.time()), "missing_privilege")
    writing = threading.Event()
    real_write = token_usage._write

    def slow_write(engine: Any, taken: Any) -> int:
        writing.set()
        time.sleep(0.3)
        return real_write(engine, taken)

    monkeypatch.setattr(token_usage, "_write", slow_write)
    engine = create(server.db_url)
    try:
        flush = threading.Thread(target=recorder.flush, args=(engine,))
        flush.start()
        assert writing.wait(5)
        shown = recorder.recorded(engine, int(token_id), int(created))
        flush.join()
        again = recorder.recorded(engine, int(token_id), int(created))
    finally:
        engine.dispose()
    assert [(u.function, u.calls, u.last_result) for u in shown] == [
        ("listaccts", 1, "missing_privilege")
    ]
    assert again == shown


def test_a_token_revoked_while_its_counts_are_written_does_not_fail_the_write(
    server: Server,
) -> None:
    """Another process revokes a token between the write's look at which tokens are there
    and its insert (seen in CI under load, on PostgreSQL): the write is made again without
    it, and the other token's counts are kept."""
    from gatehouse.store.engine import create

    ids = {}
    for token_name in (gone := name(), kept := name()):
        server.token(token_name)
        ids[token_name] = server.sql(
            "SELECT id, create_time FROM api_tokens WHERE name = :n", n=token_name
        )[0]
    recorder = token_usage.UsageRecorder()
    for token_id, created in ids.values():
        recorder.note(int(token_id), int(created), "listaccts", int(time.time()), "ok")
    engine = create(server.db_url)
    revoked: list[Any] = []

    def revoke_first(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO TOKEN_USAGE") and not revoked:
            revoked.append(server.ok("api_token_revoke", params={"token_name": gone}))

    sa.event.listen(engine, "before_cursor_execute", revoke_first)
    try:
        assert recorder.flush(engine) == 1
    finally:
        engine.dispose()
    assert revoked
    assert by_function(report(server, kept))["listaccts"]["calls"] == 1
