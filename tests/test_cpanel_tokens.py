"""UAPI `Tokens` over real HTTP on the cPanel face (whm-reference §1.8; docs/cpanel.md):
create_full_access, list, rename, revoke — shapes (down to the bytes), cPanel's semantics
(revoke of an unknown name returns 0, rename to the same name fails), bad inputs that write
nothing, storage as a digest only, and the audit trail.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
import uuid
from typing import Any

import httpx
import pytest

from conftest import Server

TOKEN_RE = re.compile(r"\A[0-9A-Z]{32}\Z")
# The same validator as WHM's (Cpanel/Security/Authn/APITokens/Validate.pm), its text rendered.
NAME_ERROR = (
    "“{}” is not a valid API token name. An API token name must not be longer than 50 "
    "characters and may only contain the following characters: a-z A-Z 0-9 _ -"
)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Holder:
    """An account and a token of its own to call Tokens with."""

    def __init__(self, server: Server, account: tuple[str, str] | None = None) -> None:
        self.server = server
        self.user, self.password = account or server.account()
        self.token = server.cpanel_token(self.user, self.password, name="admin")

    def call(self, func: str, **params: Any) -> httpx.Response:
        return self.server.uapi(self.user, "Tokens", func, token=self.token, **params)

    def result(self, func: str, **params: Any) -> dict[str, Any]:
        response = self.call(func, **params)
        assert response.status_code == 200, response.text
        body = response.json()
        # /execute/ answers with UAPI's flat result object (cPanel's "UAPI - Return Data").
        assert set(body) == {"data", "errors", "messages", "metadata", "status", "warnings"}
        return dict(body)

    def ok(self, func: str, **params: Any) -> Any:
        result = self.result(func, **params)
        assert result["status"] == 1, result
        assert result["errors"] is None
        return result["data"]

    def error(self, func: str, **params: Any) -> str:
        result = self.result(func, **params)
        assert result["status"] == 0, result
        assert result["data"] is None
        assert len(result["errors"]) == 1
        return str(result["errors"][0])

    def create(self, name: str, **params: Any) -> str:
        data = self.ok("create_full_access", name=name, **params)
        return self.server.remember(data["token"])

    def rows(self) -> list[Any]:
        return self.server.sql(
            "SELECT t.name, t.service, t.digest, t.acls, t.whitelist_ips, t.expires_at "
            "FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE u.username = :u "
            "ORDER BY t.name",
            u=self.user,
        )

    def names(self) -> list[str]:
        return [t["name"] for t in self.ok("list")]


@pytest.fixture
def holder(server: Server) -> Holder:
    return Holder(server)


def audit_rows(server: Server, subject: str) -> list[Any]:
    return server.sql(
        "SELECT action, actor, subject, token_name, detail FROM audit_log "
        "WHERE subject = :s AND action LIKE '%APITOKEN' ORDER BY id",
        s=subject,
    )


# -- create_full_access ----------------------------------------------------------------------------


def test_create_returns_the_token_once_and_stores_only_its_digest(
    server: Server, holder: Holder
) -> None:
    before = int(time.time())
    response = holder.call("create_full_access", name="deploy")
    raw = response.content
    assert b'"status":1' in raw and b": " not in raw and b", " not in raw
    data = response.json()["data"]
    assert set(data) == {"create_time", "token"}
    token = server.remember(data["token"])
    assert TOKEN_RE.match(token)
    assert before <= data["create_time"] <= int(time.time())
    assert response.json()["metadata"] == {}

    row = next(r for r in holder.rows() if r.name == "deploy")
    assert row.service == "cpanel"
    assert row.digest == hashlib.sha512(token.encode()).hexdigest()
    assert row.acls is None and row.whitelist_ips is None and row.expires_at is None
    # It works at once, as its owner.
    used = server.uapi(holder.user, "DomainInfo", "list_domains", token=token)
    assert used.json()["data"]["main_domain"] == f"{holder.user}.example.com"


def test_create_with_expires_at_00_makes_a_token_that_never_works(
    server: Server, holder: Holder
) -> None:
    # As WHM's (tests/test_tokens_api.py): "00" passes Validate.pm and is expired at once.
    secret = holder.create("zeros", expires_at="00")
    listed = {t["name"]: t for t in holder.ok("list")}
    assert listed["zeros"]["expires_at"] == 0
    assert server.uapi(holder.user, "Tokens", "list", token=secret).status_code == 401


def test_create_with_expiry(server: Server, holder: Holder) -> None:
    expires = int(time.time()) + 3600
    holder.create("expiring", expires_at=str(expires))
    listed = {t["name"]: t for t in holder.ok("list")}
    assert listed["expiring"]["expires_at"] == expires
    assert listed["admin"]["expires_at"] is None


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({}, "Provide the “name” argument."),
        ({"name": ""}, "The “name” argument cannot be empty."),
        ({"name": "has space"}, NAME_ERROR.format("has space")),
        ({"name": "dot.ted"}, NAME_ERROR.format("dot.ted")),
        ({"name": "x" * 51}, NAME_ERROR.format("x" * 51)),
        ({"name": "ünï"}, NAME_ERROR.format("ünï")),
        ({"name": "admin"}, "A conflicting API token with the name “admin” already exists."),
        ({"name": "ok", "expires_at": "1"}, "The “1” value must be a future date."),
        ({"name": "ok", "expires_at": "soon"}, "“soon” is not a valid UNIX epoch timestamp."),
        ({"name": "ok", "expires_at": "-5"}, "“-5” is not a valid UNIX epoch timestamp."),
        # Validate.pm's validators go by part name: expires_at before name.
        (
            {"name": "bad name", "expires_at": "abc"},
            "“abc” is not a valid UNIX epoch timestamp.",
        ),
        ({"name": "bad name", "readonly": "1"}, NAME_ERROR.format("bad name")),
        (
            {"name": "ok", "expires_at": "999999999999"},
            "The “expires_at” value must be at most 253402300799 (9999-12-31 23:59:59 UTC), "
            "not “999999999999”.",
        ),
        ({"name": "ok", "readonly": "1"}, "This server does not support read-only API tokens."),
        ({"name": "ok", "readonly": "yes"}, "The “readonly” argument must be 1 or 0, not “yes”."),
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(
    server: Server, holder: Holder, params: dict[str, str], reason: str
) -> None:
    rows_before = holder.rows()
    audit_before = audit_rows(server, holder.user)
    assert holder.error("create_full_access", **params) == reason
    assert holder.rows() == rows_before
    assert audit_rows(server, holder.user) == audit_before


def test_create_accepts_the_longest_name_and_readonly_0(holder: Holder) -> None:
    longest = "A-z_0" * 10
    holder.create(longest, readonly="0")
    assert longest in holder.names()


def test_names_are_per_account_and_per_service(server: Server, holder: Holder) -> None:
    """Another account may reuse a name; so may the same user's WHM tokens (a reseller)."""
    other = Holder(server)
    holder.create("shared")
    other.create("shared")
    assert "shared" in holder.names() and "shared" in other.names()
    reseller, password = server.account(reseller=True)
    bootstrap = server._password_token(reseller, password)  # a WHM token made with Basic auth
    whm_token = server.token("same", user=reseller, via=bootstrap)
    cp = Holder(server, (reseller, password))
    cp.create("same")
    # The WHM list shows WHM tokens only; the UAPI list cPanel tokens only.
    whm_names = set(server.ok("api_token_list", user=reseller, token=whm_token)["tokens"])
    assert "same" in whm_names and "admin" not in whm_names
    assert set(cp.names()) == {"admin", "same"}
    services = {(r.name, r.service) for r in cp.rows()}
    assert {("same", "cpanel"), ("same", "whostmgr"), ("admin", "cpanel")} <= services


# -- list ------------------------------------------------------------------------------------------


def test_list_shape(server: Server, holder: Holder) -> None:
    holder.create("b-second")
    holder.create("a-first")
    response = holder.call("list")
    assert b'"transformed":1' in response.content
    result = response.json()
    assert result["metadata"] == {"transformed": 1}
    assert [t["name"] for t in result["data"]] == ["a-first", "admin", "b-second"]
    for item in result["data"]:
        assert set(item) == {"create_time", "expires_at", "features", "has_full_access", "name"}
        assert item["features"] == [] and item["has_full_access"] == 1
    assert "token" not in response.text and holder.token not in response.text


def test_list_of_an_account_holds_only_its_own(server: Server, holder: Holder) -> None:
    other = Holder(server)
    other.create("not-yours")
    assert "not-yours" not in holder.names()


# -- rename ----------------------------------------------------------------------------------------


def test_rename(server: Server, holder: Holder) -> None:
    secret = holder.create("old-name")
    response = holder.call("rename", name="old-name", new_name="new-name")
    assert response.json() == {
        "data": None,
        "errors": None,
        "messages": None,
        "metadata": {},
        "status": 1,
        "warnings": None,
    }
    names = holder.names()
    assert "new-name" in names and "old-name" not in names
    # Same secret, new name.
    assert server.uapi(holder.user, "Tokens", "list", token=secret).status_code == 200
    row = audit_rows(server, holder.user)[-1]
    assert (row.action, row.actor, row.token_name) == ("UPDATEAPITOKEN", holder.user, "new-name")
    assert "renamed from old-name" in row.detail


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        (
            {"name": "admin", "new_name": "admin"},
            "“new_name” must be a different value from “name”.",
        ),
        ({"name": "nosuch", "new_name": "other"}, "The API token “nosuch” does not exist."),
        # Cpanel/API/Tokens.pm `_update` looks the token up before validating the new name.
        ({"name": "nosuch", "new_name": "bad name"}, "The API token “nosuch” does not exist."),
        (
            {"name": "admin", "new_name": "taken"},
            "An API token with the name “taken” already exists.",
        ),
        ({"name": "admin", "new_name": "bad name"}, NAME_ERROR.format("bad name")),
        ({"name": "admin"}, "Provide the “new_name” argument."),
        ({"new_name": "x"}, "Provide the “name” argument."),
        ({"name": "", "new_name": "x"}, "The “name” argument cannot be empty."),
        ({"name": "admin", "new_name": ""}, "The “new_name” argument cannot be empty."),
    ],
)
def test_rename_refuses_bad_input_and_writes_nothing(
    server: Server, holder: Holder, params: dict[str, str], reason: str
) -> None:
    holder.create("taken")
    rows_before = holder.rows()
    assert holder.error("rename", **params) == reason
    assert holder.rows() == rows_before


def test_rename_cannot_reach_another_accounts_token(server: Server, holder: Holder) -> None:
    other = Holder(server)
    other.create("theirs")
    assert holder.error("rename", name="theirs", new_name="mine") == (
        "The API token “theirs” does not exist."
    )
    assert "theirs" in other.names()


# -- revoke ----------------------------------------------------------------------------------------


def test_revoke(server: Server, holder: Holder) -> None:
    secret = holder.create("doomed")
    response = holder.call("revoke", name="doomed")
    assert b'"data":1' in response.content and b'"status":1' in response.content
    assert "doomed" not in holder.names()
    assert server.uapi(holder.user, "Tokens", "list", token=secret).status_code == 401
    row = audit_rows(server, holder.user)[-1]
    assert (row.action, row.actor, row.subject, row.token_name) == (
        "REVOKEAPITOKEN",
        holder.user,
        holder.user,
        "doomed",
    )
    assert row.detail == "cpanel token; via token admin"


def test_revoke_of_an_unknown_name_returns_0_and_writes_nothing(
    server: Server, holder: Holder
) -> None:
    # Write.pm revoke_token returns 0 when no token has the name; Cpanel/API/Tokens.pm
    # `_return_admin` puts that in `data` (its POD: "0: No token with the given name existed").
    rows_before = holder.rows()
    audit_before = audit_rows(server, holder.user)
    assert holder.ok("revoke", name="never-was") == 0
    assert holder.rows() == rows_before
    assert audit_rows(server, holder.user) == audit_before


def test_revoke_cannot_reach_another_accounts_token(server: Server, holder: Holder) -> None:
    other = Holder(server)
    secret = other.create("theirs")
    assert holder.ok("revoke", name="theirs") == 0
    assert "theirs" in other.names()
    assert server.uapi(other.user, "Tokens", "list", token=secret).status_code == 200


@pytest.mark.parametrize(
    ("params", "reason"),
    [({}, "Provide the “name” argument."), ({"name": ""}, "The “name” argument cannot be empty.")],
)
def test_revoke_refuses_bad_input(holder: Holder, params: dict[str, str], reason: str) -> None:
    rows_before = holder.rows()
    assert holder.error("revoke", **params) == reason
    assert holder.rows() == rows_before


def test_a_token_may_revoke_itself(server: Server, holder: Holder) -> None:
    assert holder.ok("revoke", name="admin") == 1
    assert holder.call("list").status_code == 401


# -- the audit trail and other ways in -------------------------------------------------------------


def test_create_is_audited_without_the_secret(server: Server, holder: Holder) -> None:
    secret = holder.create("audited")
    rows = audit_rows(server, holder.user)
    row = next(r for r in rows if r.token_name == "audited")
    assert (row.action, row.actor, row.subject) == ("CREATEAPITOKEN", holder.user, holder.user)
    assert row.detail == "cpanel token; via token admin"
    everything = server.sql("SELECT * FROM audit_log WHERE subject = :s", s=holder.user)
    assert secret not in repr(everything)


def test_tokens_with_the_password_and_over_tls(server: Server) -> None:
    username, password = server.account()
    created = httpx.get(
        f"{server.cpanel_https_url}/execute/Tokens/create_full_access",
        params={"name": "over-tls"},
        headers={"Authorization": basic(username, password)},
        verify=server.tls(),
        timeout=30,
    ).json()
    token = server.remember(created["data"]["token"])
    listed = httpx.get(
        f"{server.cpanel_https_url}/execute/Tokens/list",
        headers={"Authorization": f"cpanel {username}:{token}"},
        verify=server.tls(),
        timeout=30,
    ).json()
    assert [t["name"] for t in listed["data"]] == ["over-tls"]
    row = audit_rows(server, username)[-1]
    assert row.detail == "cpanel token; via password"


def test_tokens_through_the_json_api_path(server: Server, holder: Holder) -> None:
    """The same functions through /json-api/cpanel with cpanel_jsonapi_apiversion=3, POSTed."""
    response = httpx.post(
        f"{server.cpanel_url}/json-api/cpanel",
        data={
            "cpanel_jsonapi_apiversion": "3",
            "cpanel_jsonapi_module": "Tokens",
            "cpanel_jsonapi_func": "create_full_access",
            "name": "posted",
        },
        headers={"Authorization": f"cpanel {holder.user}:{holder.token}"},
        timeout=30,
    )
    body = response.json()
    assert body["func"] == "create_full_access" and body["result"]["status"] == 1
    server.remember(body["result"]["data"]["token"])
    assert "posted" in holder.names()


def test_unknown_tokens_function(holder: Holder) -> None:
    assert holder.error("create_limited", name="x") == (
        "The system could not find the function “create_limited” in the module “Tokens”."
    )


def test_many_tokens_get_distinct_secrets(server: Server, holder: Holder) -> None:
    names = [f"c{uuid.uuid4().hex[:8]}" for _ in range(8)]
    secrets = {holder.create(n) for n in names}
    assert len(secrets) == len(names)
    assert set(names) <= set(holder.names())


def test_no_secret_in_the_server_log_or_the_store(server: Server, holder: Holder) -> None:
    """The cPanel face's own flow — tokens made with a password and with a token, used, refused,
    renamed, revoked — leaves no secret in the server's log or in any row it wrote."""
    made = holder.create("log-check")
    assert server.uapi(holder.user, "DomainInfo", "list_domains", token=made).status_code == 200
    bad = server.remember("L" * 8 + uuid.uuid4().hex[:24].upper())
    assert server.uapi(holder.user, "Tokens", "list", token=bad).status_code == 401
    wrong = server.remember(f"Wrong-{uuid.uuid4().hex}")
    assert (
        server.uapi(holder.user, "Tokens", "list", auth=basic(holder.user, wrong)).status_code
        == 401
    )
    holder.ok("rename", name="log-check", new_name="log-checked")
    holder.ok("revoke", name="log-checked")
    assert server.uapi(holder.user, "Tokens", "list", token=made).status_code == 401
    # A secret sent where it does not belong (a query argument) is not echoed or logged either.
    holder.ok("list", note=made)
    secrets = [made, bad, wrong, holder.token, holder.password]
    log = server.log_path.read_text(errors="replace")
    stored = repr(
        [
            server.sql("SELECT * FROM api_tokens"),
            server.sql("SELECT * FROM audit_log"),
            server.sql("SELECT * FROM users"),
        ]
    )
    for secret in secrets:
        assert secret not in log
        assert secret not in stored
