"""suspendacct, unsuspendacct, listsuspended, removeacct, changepackage, setresellerlimits and
getresellerlimits over real HTTP: shapes, wording, confinement, limits."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conftest import Server
from lifecycle_helpers import account_state, audit_rows, make_package, rows_of, user_id
from whm_helpers import basic, limited_reseller, new_name, user_row

SUSPENDER = ["suspend-acct", "kill-acct", "upgrade-account", "create-acct"]


def _meta(body: dict[str, Any]) -> dict[str, Any]:
    return {k: body["metadata"][k] for k in ("command", "reason", "result", "version")}


def _suspended(server: Server, token: str | None = None, user: str = "root") -> dict[str, Any]:
    rows = server.ok("listsuspended", token=token, user=user)["account"]
    return {row["user"]: row for row in rows}


def _status(server: Server, function: str, **kw: Any) -> int:
    return server.get(function, **kw).status_code


@pytest.fixture(scope="module")
def reseller_a(server: Server) -> tuple[str, str]:
    return limited_reseller(server, [*SUSPENDER, "basic-whm-functions"])


@pytest.fixture(scope="module")
def reseller_b(server: Server) -> tuple[str, str]:
    return limited_reseller(server, [*SUSPENDER, "basic-whm-functions"])


# -- suspendacct / unsuspendacct ----------------------------------------------------------


def test_suspend_envelope_and_listsuspended(server: Server) -> None:
    username, _ = server.account()
    body = server.get("suspendacct", params={"user": username, "reason": "Overdue invoice"}).json()
    assert _meta(body) == {"command": "suspendacct", "reason": "OK", "result": 1, "version": 1}
    assert "data" not in body
    assert f"{username}'s account has been suspended" in body["metadata"]["output"]["raw"]
    row = _suspended(server)[username]
    assert set(row) == {"user", "owner", "reason", "time", "unixtime", "is_locked"}
    assert (row["owner"], row["reason"], row["is_locked"]) == ("root", "Overdue invoice", 0)
    assert isinstance(row["unixtime"], int) and row["unixtime"] > 0
    assert isinstance(row["time"], str) and str(row["unixtime"]) not in row["time"]
    state = account_state(server, username)
    assert state is not None
    assert (state["suspended"], state["suspended_by"], state["suspend_locked"]) == (
        True,
        "root",
        False,
    )
    [entry] = audit_rows(server, "SUSPENDACCT", username)
    assert (entry["actor"], entry["token_name"]) == ("root", "harness-root")


def test_reason_defaults_to_unknown_and_is_cleaned(server: Server) -> None:
    plain, _ = server.account()
    server.ok("suspendacct", params={"user": plain})
    dirty, _ = server.account()
    server.ok("suspendacct", params={"user": dirty, "reason": "a=b\nc\0d"})
    rows = _suspended(server)
    assert rows[plain]["reason"] == "Unknown"
    assert rows[dirty]["reason"] == "abcd"


def test_suspending_twice_succeeds_and_changes_nothing(server: Server) -> None:
    username, _ = server.account()
    server.ok("suspendacct", params={"user": username, "reason": "first"})
    body = server.get("suspendacct", params={"user": username, "reason": "second"}).json()
    assert body["metadata"]["result"] == 1
    assert body["metadata"]["output"]["raw"] == f"User '{username}' is already suspended.\n"
    assert _suspended(server)[username]["reason"] == "first"
    assert len(audit_rows(server, "SUSPENDACCT", username)) == 1


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({}, "Missing parameter: user"),
        ({"user": ""}, "Missing parameter: user"),
        ({"user": "nosuchuser1"}, "You do not have a user named “nosuchuser1”."),
        ({"user": "root"}, "Failed to suspend account. Root user may not be suspended."),
        (
            {"user": "@ACCOUNT@", "disallowun": "2"},
            "The “disallowun” parameter must be 1 or 0, not “2”.",
        ),
        (
            {"user": "@ACCOUNT@", "reason": "x" * 1025},
            "The “reason” parameter may contain at most 1024 characters.",
        ),
    ],
    ids=["no-user", "empty-user", "unknown", "root", "bad-disallowun", "long-reason"],
)
def test_suspendacct_refusals(server: Server, params: dict[str, str], reason: str) -> None:
    username, _ = server.account()
    params = {k: v.replace("@ACCOUNT@", username) for k, v in params.items()}
    assert server.fail("suspendacct", params=params) == reason
    state = account_state(server, username)
    assert state is not None and not state["suspended"]


def test_root_cannot_be_unsuspended_or_suspend_itself(server: Server) -> None:
    assert server.fail("unsuspendacct", params={"user": "root"}) == (
        "Failed to unsuspend account. “root” is not suspended."
    )
    assert server.fail("unsuspendacct", params={}) == "Missing parameter: user"


def test_unsuspend_restores_and_is_idempotent(server: Server) -> None:
    username, _ = server.account()
    server.ok("suspendacct", params={"user": username, "reason": "Overdue"})
    body = server.get("unsuspendacct", params={"user": username}).json()
    assert _meta(body) == {"command": "unsuspendacct", "reason": "OK", "result": 1, "version": 1}
    assert f"{username}'s account is now active" in body["metadata"]["output"]["raw"]
    assert username not in _suspended(server)
    state = account_state(server, username)
    assert state is not None
    assert (state["suspended"], state["suspend_reason"], state["suspended_by"]) == (
        False,
        None,
        None,
    )
    again = server.get("unsuspendacct", params={"user": username}).json()
    assert again["metadata"]["result"] == 1
    assert again["metadata"]["output"]["raw"] == f"User '{username}' is not suspended.\n"
    assert len(audit_rows(server, "UNSUSPENDACCT", username)) == 1


def test_a_suspended_reseller_is_locked_out_until_unsuspended(server: Server) -> None:
    username, password = server.account(reseller=True)
    token = server.token(user=username, via=server._password_token(username, password))
    assert _status(server, "myprivs", user=username, token=token) == 200
    server.ok("suspendacct", params={"user": username, "reason": "Abuse"})
    assert _status(server, "myprivs", user=username, token=token) == 401
    assert _status(server, "myprivs", auth=basic(username, password)) == 401
    assert _status(server, "myprivs", auth=f"WHM {username}:{token}") == 401
    server.ok("unsuspendacct", params={"user": username})
    assert _status(server, "myprivs", user=username, token=token) == 200
    assert _status(server, "myprivs", auth=basic(username, password)) == 200


def test_a_suspended_reseller_cannot_create_tokens_with_its_password(server: Server) -> None:
    username, password = server.account(reseller=True)
    server.ok("suspendacct", params={"user": username})
    response = httpx.get(
        f"{server.url}/json-api/api_token_create",
        params={"api.version": "1", "token_name": "late"},
        headers={"Authorization": basic(username, password)},
        timeout=30,
    )
    assert response.status_code == 401
    assert rows_of(server, "api_tokens", user_id(server, username)) == 0


def test_disallowun_locks_out_the_owner(server: Server, reseller_a: tuple[str, str]) -> None:
    name, token = reseller_a
    username, _ = server.account(owner=name)
    server.ok("suspendacct", params={"user": username, "reason": "Fraud", "disallowun": "1"})
    row = _suspended(server, token, name)[username]
    assert (row["owner"], row["is_locked"]) == (name, 1)
    assert server.fail("unsuspendacct", user=name, token=token, params={"user": username}) == (
        f"Failed to unsuspend account. Only root can unsuspend “{username}”: the account was "
        "suspended with disallowun=1."
    )
    state = account_state(server, username)
    assert state is not None and state["suspended"] and state["suspend_locked"]
    server.ok("unsuspendacct", params={"user": username})


def test_only_root_may_lock_a_suspension(server: Server, reseller_a: tuple[str, str]) -> None:
    name, token = reseller_a
    username, _ = server.account(owner=name)
    reason = server.fail(
        "suspendacct", user=name, token=token, params={"user": username, "disallowun": "1"}
    )
    assert reason == (
        "Failed to suspend account. Can not prevent resellers from unsuspending this account "
        "without the 'all' ACL."
    )
    server.ok("suspendacct", user=name, token=token, params={"user": username})
    row = _suspended(server, token, name)[username]
    assert row["is_locked"] == 0
    server.ok("unsuspendacct", user=name, token=token, params={"user": username})


def test_a_reseller_cannot_suspend_itself(server: Server, reseller_a: tuple[str, str]) -> None:
    name, token = reseller_a
    assert server.fail("suspendacct", user=name, token=token, params={"user": name}) == (
        "Failed to suspend account. You cannot suspend yourself."
    )


# -- confinement ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("function", "params"),
    [
        ("suspendacct", {"user": "@T@"}),
        ("unsuspendacct", {"user": "@T@"}),
        ("removeacct", {"username": "@T@"}),
        ("changepackage", {"user": "@T@", "pkg": "default"}),
    ],
)
def test_a_reseller_cannot_touch_another_resellers_account(
    server: Server,
    reseller_a: tuple[str, str],
    reseller_b: tuple[str, str],
    function: str,
    params: dict[str, str],
) -> None:
    name_a, token_a = reseller_a
    name_b, _ = reseller_b
    theirs, _ = server.account(owner=name_b)
    if function == "unsuspendacct":
        server.ok("suspendacct", params={"user": theirs})
    for target in (theirs, name_b, "root", new_name()):
        query = {k: v.replace("@T@", target) for k, v in params.items()}
        assert server.fail(function, user=name_a, token=token_a, params=query) == (
            f"You do not have access to an account named “{target}”."
        ), target
    state = account_state(server, theirs)
    assert state is not None
    assert (state["suspended"], state["plan"]) == (function == "unsuspendacct", "default")


def test_listsuspended_shows_a_reseller_only_its_accounts(
    server: Server, reseller_a: tuple[str, str], reseller_b: tuple[str, str]
) -> None:
    name_a, token_a = reseller_a
    name_b, _ = reseller_b
    mine, _ = server.account(owner=name_a)
    theirs, _ = server.account(owner=name_b)
    server.ok("suspendacct", params={"user": mine})
    server.ok("suspendacct", params={"user": theirs})
    seen = _suspended(server, token_a, name_a)
    assert mine in seen and theirs not in seen
    assert all(row["owner"] == name_a for row in seen.values())
    everyone = _suspended(server)
    assert {mine, theirs} <= set(everyone)


def _locked(server: Server, token: str | None = None, user: str = "root") -> list[str]:
    return list(server.ok("listlockedaccounts", user=user, token=token)["account"])


def test_listlockedaccounts_names_the_accounts_only_root_may_unsuspend(server: Server) -> None:
    locked, unlocked, active = server.account()[0], server.account()[0], server.account()[0]
    server.ok("suspendacct", params={"user": locked, "disallowun": "1"})
    server.ok("suspendacct", params={"user": unlocked})
    body = server.get("listlockedaccounts").json()
    assert body["metadata"] == {
        "command": "listlockedaccounts",
        "reason": "OK",
        "result": 1,
        "version": 1,
    }
    names = body["data"]["account"]
    assert locked in names and unlocked not in names and active not in names
    assert names == sorted(names)
    server.ok("unsuspendacct", params={"user": locked})
    assert locked not in _locked(server)


def test_listlockedaccounts_shows_a_reseller_only_its_accounts(
    server: Server, reseller_a: tuple[str, str], reseller_b: tuple[str, str]
) -> None:
    name_a, token_a = reseller_a
    name_b, _ = reseller_b
    mine, _ = server.account(owner=name_a)
    theirs, _ = server.account(owner=name_b)
    for account in (mine, theirs):
        server.ok("suspendacct", params={"user": account, "disallowun": "1"})
    seen = _locked(server, token_a, name_a)
    assert mine in seen and theirs not in seen
    assert {mine, theirs} <= set(_locked(server))


def test_the_functions_need_their_privileges(server: Server) -> None:
    name, token = limited_reseller(server, ["basic-whm-functions"])
    for function, privilege in (
        ("suspendacct", "suspend-acct"),
        ("unsuspendacct", "suspend-acct"),
        ("listsuspended", "suspend-acct"),
        ("listlockedaccounts", "suspend-acct"),
        ("removeacct", "kill-acct"),
        ("changepackage", "upgrade-account"),
        ("setresellerlimits", "all"),
        ("getresellerlimits", "all"),
    ):
        response = server.get(function, user=name, token=token, params={"user": name})
        assert response.status_code == 403, function
        assert response.json()["metadata"]["reason"] == (
            f"Access denied: calling “{function}” requires the “{privilege}” privilege."
        )


# -- removeacct ----------------------------------------------------------------------------


def test_removeacct_revokes_tokens_and_sessions(server: Server) -> None:
    username, password = server.account(reseller=True)
    token = server.token(user=username, via=server._password_token(username, password))
    server.ok(
        "create_user_session",
        user=username,
        token=token,
        params={"user": username, "service": "whostmgrd"},
    )
    uid = user_id(server, username)
    assert rows_of(server, "api_tokens", uid) >= 2 and rows_of(server, "sessions", uid) >= 1
    body = server.get("removeacct", params={"username": username}).json()
    assert _meta(body) == {
        "command": "removeacct",
        "reason": f"{username} account removed",
        "result": 1,
        "version": 1,
    }
    assert "data" not in body
    assert f"{username} account removed" in body["metadata"]["output"]["raw"]
    assert _status(server, "myprivs", user=username, token=token) == 401
    assert _status(server, "myprivs", auth=basic(username, password)) == 401
    assert user_row(server, username) is None
    for table in ("api_tokens", "sessions", "access_hashes"):
        assert rows_of(server, table, uid) == 0, table
    [entry] = audit_rows(server, "REMOVEACCT", username)
    # The account's zone (made by createacct) goes with it (issue 5).
    assert entry["detail"] == f"keepdns=0; DNS zones removed: {username}.example.com"


def test_removeacct_takes_the_deprecated_user_parameter_and_keepdns(server: Server) -> None:
    username, _ = server.account()
    body = server.get("removeacct", params={"user": username, "keepdns": "1"}).json()
    assert body["metadata"]["result"] == 1
    assert "Keeping DNS Entries" in body["metadata"]["output"]["raw"]
    assert user_row(server, username) is None
    # keepdns=1: the account's zone stays, now root's (issue 5).
    assert audit_rows(server, "REMOVEACCT", username)[0]["detail"] == (
        f"keepdns=1; DNS zones kept (now root’s): {username}.example.com"
    )
    server.ok("killdns", params={"domain": f"{username}.example.com"})


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({}, "No user name supplied: “user” is a required argument."),
        ({"username": ""}, "No user name supplied: “user” is a required argument."),
        ({"username": "nosuchuser1"}, "You do not have a user named “nosuchuser1”."),
        ({"username": "root"}, "You cannot remove yourself!"),
    ],
    ids=["none", "empty", "unknown", "self"],
)
def test_removeacct_refusals(server: Server, params: dict[str, str], reason: str) -> None:
    assert server.fail("removeacct", params=params) == reason
    assert user_row(server, "root") is not None


def test_removing_a_reseller_passes_its_accounts_to_its_owner(server: Server) -> None:
    parent, _ = server.account(reseller=True)
    child, _ = server.account(owner=parent)
    server.ok("setupreseller", params={"user": child})
    grandchild, _ = server.account(owner=child)
    server.ok("removeacct", params={"username": child})
    row = user_row(server, grandchild)
    assert row is not None and row["owner"] == parent
    detail = audit_rows(server, "REMOVEACCT", child)[0]["detail"]
    assert detail == (
        f"keepdns=0, 1 account(s) passed to {parent}: {grandchild}; "
        f"DNS zones removed: {child}.example.com"
    )


def test_removing_a_self_owned_reseller_passes_its_accounts_to_root(server: Server) -> None:
    reseller, _ = server.account()
    server.ok("setupreseller", params={"user": reseller, "makeowner": "1"})
    owned, _ = server.account(owner=reseller)
    server.ok("removeacct", params={"username": reseller})
    row = user_row(server, owned)
    assert row is not None and row["owner"] == "root"


def test_a_reseller_removes_its_own_accounts(server: Server, reseller_a: tuple[str, str]) -> None:
    name, token = reseller_a
    username, _ = server.account(owner=name)
    server.ok("removeacct", user=name, token=token, params={"username": username})
    assert user_row(server, username) is None
    assert server.fail("removeacct", user=name, token=token, params={"username": name}) == (
        "You cannot remove yourself!"
    )


# -- changepackage -------------------------------------------------------------------------


def test_changepackage_applies_the_package(server: Server) -> None:
    username, _ = server.account()
    pkg = make_package(server, QUOTA="100", BWLIMIT="1000", MAXPOP="5")
    body = server.get("changepackage", params={"user": username, "pkg": pkg}).json()
    assert _meta(body) == {
        "command": "changepackage",
        "reason": "OK",  # set_ok; the Upgrade/Downgrade message is API 0's
        "result": 1,
        "version": 1,
    }
    assert "data" not in body
    assert f"to {pkg}" in body["metadata"]["output"]["raw"]
    state = account_state(server, username)
    assert state is not None and state["plan"] == pkg
    assert (state["limits"]["QUOTA"], state["limits"]["BWLIMIT"], state["limits"]["MAXPOP"]) == (
        "100",
        "1000",
        "5",
    )
    [entry] = audit_rows(server, "CHANGEPACKAGE", username)
    assert entry["detail"].endswith(f"→ {pkg}")


def test_changepackage_works_on_a_suspended_account(server: Server) -> None:
    username, _ = server.account()
    server.ok("suspendacct", params={"user": username})
    pkg = make_package(server, QUOTA="50")
    server.ok("changepackage", params={"user": username, "pkg": pkg})
    state = account_state(server, username)
    assert state is not None and state["plan"] == pkg and state["suspended"]


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"pkg": "default"}, "Missing parameter: user"),
        ({"user": "@ACCOUNT@"}, "Missing parameter: pkg"),
        ({"user": "@ACCOUNT@", "pkg": "nosuchpkg"}, "Specified package does not exist."),
        ({"user": "nosuchuser1", "pkg": "default"}, "Sorry, the user nosuchuser1 does not exist"),
        ({"user": "root", "pkg": "default"}, "The “root” user has no package."),
    ],
    ids=["no-user", "no-pkg", "unknown-pkg", "unknown-user", "root"],
)
def test_changepackage_refusals(server: Server, params: dict[str, str], reason: str) -> None:
    username, _ = server.account()
    params = {k: v.replace("@ACCOUNT@", username) for k, v in params.items()}
    assert server.fail("changepackage", params=params) == reason
    state = account_state(server, username)
    assert state is not None and state["plan"] != "nosuchpkg"


def test_package_visibility_for_resellers(server: Server) -> None:
    name, token = limited_reseller(server, ["upgrade-account", "create-acct"])
    username, _ = server.account(owner=name)
    roots = make_package(server, QUOTA="10")
    own = make_package(server, owner=name, QUOTA="20")
    others = make_package(server, owner="someoneelse", QUOTA="30")
    for pkg in (roots, others):
        assert server.fail(
            "changepackage", user=name, token=token, params={"user": username, "pkg": pkg}
        ) == (f"Sorry you may not create any more accounts with the package {pkg}.")
    server.ok("changepackage", user=name, token=token, params={"user": username, "pkg": own})
    server.ok("changepackage", user=name, token=token, params={"user": username, "pkg": "default"})
    server.ok(
        "setacls",
        params=[("reseller", name), ("acl-upgrade-account", "1"), ("acl-viewglobalpackages", "1")],
    )
    server.ok("changepackage", user=name, token=token, params={"user": username, "pkg": roots})
    state = account_state(server, username)
    assert state is not None and state["plan"] == roots


def test_reseller_limits_are_enforced_on_changepackage(server: Server) -> None:
    name, token = limited_reseller(server, ["upgrade-account"])
    small = make_package(server, owner=name, QUOTA="100", BWLIMIT="100")
    mid = make_package(server, owner=name, QUOTA="150", BWLIMIT="100")
    big = make_package(server, owner=name, QUOTA="200", BWLIMIT="100")
    first, _ = server.account(owner=name)
    second, _ = server.account(owner=name)
    for account in (first, second):  # root is not limited
        server.ok("changepackage", params={"user": account, "pkg": small})
    server.ok(
        "setresellerlimits",
        params={"user": name, "enable_resource_limits": "1", "diskspace_limit": "250"},
    )
    reason = server.fail(
        "changepackage", user=name, token=token, params={"user": first, "pkg": big}
    )
    assert reason == (
        f"The reseller “{name}” cannot allocate that much disk space: 250 MB in all, "
        "100 MB already allocated, 200 MB requested."
    )
    state = account_state(server, first)
    assert state is not None and state["plan"] == small
    server.ok("changepackage", user=name, token=token, params={"user": first, "pkg": mid})
    assert server.fail(
        "changepackage", user=name, token=token, params={"user": first, "pkg": "default"}
    ).startswith(f"The reseller “{name}” cannot allocate that much disk space")
    server.ok("setresellerlimits", params={"user": name, "enable_overselling_diskspace": "1"})
    server.ok("changepackage", user=name, token=token, params={"user": first, "pkg": big})


# -- setresellerlimits / getresellerlimits -------------------------------------------------

DEFAULT_LIMITS = {
    "account_limit": None,
    "bandwidth_limit": None,
    "diskspace_limit": None,
    "enable_account_limit": 0,
    "enable_overselling": 0,
    "enable_overselling_bandwidth": 0,
    "enable_overselling_diskspace": 0,
    "enable_package_limit_numbers": 0,
    "enable_package_limits": 0,
    "enable_resource_limits": 0,
}


def test_reseller_limits_round_trip(server: Server) -> None:
    name, _ = server.account(reseller=True)
    owned, _ = server.account(owner=name)
    data = server.ok("getresellerlimits", params={"user": name})
    assert data == {
        "user": name,
        "limits": DEFAULT_LIMITS,
        "usage": {"account_count": 1, "diskspace_allocated": None, "bandwidth_allocated": None},
        "packages": [],
    }
    body = server.get(
        "setresellerlimits",
        params={
            "user": name,
            "enable_account_limit": "1",
            "account_limit": "5",
            "diskspace_limit": "1024",
        },
    ).json()
    assert _meta(body) == {
        "command": "setresellerlimits",
        "reason": "OK",
        "result": 1,
        "version": 1,
    }
    assert "data" not in body
    server.ok("setresellerlimits", params={"user": name, "enable_overselling": "1"})
    limits = server.ok("getresellerlimits", params={"user": name})["limits"]
    assert limits == {
        **DEFAULT_LIMITS,
        "enable_account_limit": 1,
        "account_limit": 5,
        "diskspace_limit": 1024,
        "enable_overselling": 1,
        "enable_overselling_bandwidth": 1,
        "enable_overselling_diskspace": 1,
    }
    server.ok(
        "setresellerlimits",
        params={"user": name, "enable_overselling_bandwidth": "0", "account_limit": ""},
    )
    limits = server.ok("getresellerlimits", params={"user": name})["limits"]
    assert (limits["enable_overselling_bandwidth"], limits["enable_overselling_diskspace"]) == (
        0,
        1,
    )
    assert (limits["account_limit"], limits["enable_account_limit"]) == (None, 1)
    pkg = make_package(server, QUOTA="300", BWLIMIT="400")
    server.ok("changepackage", params={"user": owned, "pkg": pkg})
    usage = server.ok("getresellerlimits", params={"user": name})["usage"]
    assert usage == {"account_count": 1, "diskspace_allocated": 300, "bandwidth_allocated": 400}
    assert len(audit_rows(server, "SETRESELLERLIMITS", name)) == 3


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({}, "Missing parameter: user"),
        ({"user": "root"}, "Specified user is not a reseller."),
        ({"user": "nosuchuser1"}, "Specified user is not a reseller."),
        ({"user": "@PLAIN@"}, "Specified user is not a reseller."),
        (
            {"user": "@R@", "account_limit": "-1"},
            "The “account_limit” parameter must be a nonnegative integer, not “-1”.",
        ),
        (
            {"user": "@R@", "diskspace_limit": "10GB"},
            "The “diskspace_limit” parameter must be a nonnegative integer, not “10GB”.",
        ),
        (
            {"user": "@R@", "enable_resource_limits": "yes"},
            "The “enable_resource_limits” parameter must be 1 or 0, not “yes”.",
        ),
    ],
    ids=["no-user", "root", "unknown", "not-reseller", "negative", "units", "bad-flag"],
)
def test_setresellerlimits_refusals(server: Server, params: dict[str, str], reason: str) -> None:
    reseller, _ = server.account(reseller=True)
    plain, _ = server.account()
    params = {k: v.replace("@R@", reseller).replace("@PLAIN@", plain) for k, v in params.items()}
    assert server.fail("setresellerlimits", params=params) == reason
    if reason == "Specified user is not a reseller.":
        assert server.fail("getresellerlimits", params=params) == reason
    state = account_state(server, reseller)
    assert state is not None and state["reseller_limits"] is None


@pytest.mark.parametrize("how", ["removeacct", "unsetupreseller"])
def test_a_departing_resellers_packages_pass_to_its_heir(server: Server, how: str) -> None:
    name, token = server.reseller(["add-pkg", "list-pkgs", "manage-api-tokens"])
    created = server.ok("addpkg", user=name, token=token, params={"name": "gold"})["pkg"]
    assert server.sql("SELECT owner FROM packages WHERE name = :n", n=created)[0][0] == name
    if how == "removeacct":
        server.ok("removeacct", params={"user": name})
    else:
        server.ok("unsetupreseller", params={"user": name})
    assert server.sql("SELECT owner FROM packages WHERE name = :n", n=created)[0][0] == "root"
