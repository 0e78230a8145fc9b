"""setupreseller, unsetupreseller, setacls, listresellers, saveacllist, listacls."""

from __future__ import annotations

import uuid

import pytest

from conftest import Server
from gatehouse import acls
from whm_helpers import new_name, user_row

INITIAL_PRIVILEGES = [
    "acct-summary",
    "basic-system-info",
    "basic-whm-functions",
    "connected-applications",
    "cors-proxy-get",
    "cpanel-api",
    "cpanel-integration",
    "create-user-session",
    "digest-auth",
    "generate-email-config",
    "list-pkgs",
    "manage-api-tokens",
    "manage-dns-records",
    "manage-oidc",
    "manage-styles",
    "mysql-info",
    "ns-config",
    "public-contact",
    "ssl-info",
    "track-email",
]


def _list_name() -> str:
    return f"list_{uuid.uuid4().hex[:10]}"


# -- setupreseller -------------------------------------------------------------------------


def test_setupreseller_answers_without_data(server: Server) -> None:
    name, _ = server.account()
    payload = server.get("setupreseller", params={"user": name}).json()
    assert payload == {
        "metadata": {"command": "setupreseller", "reason": "OK", "result": 1, "version": 1}
    }


def test_setupreseller_grants_the_initial_privileges(server: Server) -> None:
    name, token = server.reseller()
    privs = server.ok("myprivs", user=name, token=token)["privileges"][0]
    assert sorted(k for k, v in privs.items() if v == 1) == INITIAL_PRIVILEGES
    assert len(INITIAL_PRIVILEGES) == 20
    assert sorted(user_row(server, name)["reseller_acls"]) == INITIAL_PRIVILEGES


@pytest.mark.parametrize(("makeowner", "owns_itself"), [("1", True), ("0", False), (None, False)])
def test_setupreseller_makeowner(server: Server, makeowner: str | None, owns_itself: bool) -> None:
    name, _ = server.account()
    params = {"user": name} | ({"makeowner": makeowner} if makeowner is not None else {})
    server.ok("setupreseller", params=params)
    assert user_row(server, name)["owner"] == (name if owns_itself else "root")


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        # Whostmgr::Resellers::Setup::_setupreseller's words.
        (
            {"user": "nosuchuser1"},
            "_setupreseller called for a user that does not exist. (nosuchuser1)",
        ),
        ({"user": "root"}, "_setupreseller called for a user that does not exist. (root)"),
        ({}, "Missing parameter: user"),
        ({"user": ""}, "Missing parameter: user"),
    ],
)
def test_setupreseller_refused(server: Server, params: dict[str, str], reason: str) -> None:
    assert server.fail("setupreseller", params=params) == reason


def test_setupreseller_refuses_a_reseller(server: Server) -> None:
    name, _ = server.account(reseller=True)
    server.ok("setacls", params={"reseller": name, "acl-list-accts": "1"})
    assert server.fail("setupreseller", params={"user": name}) == (
        "_setupreseller tried to make a reseller out of a reseller when a normal user was "
        f"expected. ({name})"
    )
    assert user_row(server, name)["reseller_acls"] == ["list-accts"]  # untouched


def test_setupreseller_bad_makeowner_changes_nothing(server: Server) -> None:
    name, _ = server.account()
    reason = server.fail("setupreseller", params={"user": name, "makeowner": "abc"})
    assert reason == "The “makeowner” parameter must be 1 or 0, not “abc”."
    row = user_row(server, name)
    assert row["reseller_acls"] is None and row["owner"] == "root"
    assert name not in server.ok("listresellers")["reseller"]


# -- unsetupreseller -----------------------------------------------------------------------


def test_unsetupreseller_removes_the_status(server: Server) -> None:
    name, _ = server.account(reseller=True)
    payload = server.get("unsetupreseller", params={"user": name}).json()
    assert payload == {
        "metadata": {"command": "unsetupreseller", "reason": "OK", "result": 1, "version": 1}
    }
    assert user_row(server, name)["reseller_acls"] is None
    assert name not in server.ok("listresellers")["reseller"]


def test_unsetupreseller_passes_accounts_to_the_resellers_owner(server: Server) -> None:
    parent, _ = server.account(reseller=True)
    child, _ = server.account(owner=parent)
    server.ok("setupreseller", params={"user": child})
    grandchild, _ = server.account(owner=child)
    server.ok("unsetupreseller", params={"user": child})
    assert user_row(server, grandchild)["owner"] == parent
    assert user_row(server, child)["owner"] == parent


def test_unsetupreseller_self_owned_reseller_hands_over_to_root(server: Server) -> None:
    name, _ = server.account()
    server.ok("setupreseller", params={"user": name, "makeowner": "1"})
    owned, _ = server.account(owner=name)
    server.ok("unsetupreseller", params={"user": name})
    assert user_row(server, owned)["owner"] == "root"
    assert user_row(server, name)["owner"] == "root"


def test_unsetupreseller_on_a_normal_account_is_ok(server: Server) -> None:
    name, _ = server.account()
    assert server.ok("unsetupreseller", params={"user": name}) is None
    assert user_row(server, name)["reseller_acls"] is None


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"user": "nosuchuser2"}, "The user “nosuchuser2” does not exist."),
        ({"user": "root"}, "The “root” user already holds every privilege."),
        ({}, "Missing parameter: user"),
    ],
)
def test_unsetupreseller_refused(server: Server, params: dict[str, str], reason: str) -> None:
    assert server.fail("unsetupreseller", params=params) == reason


# -- setacls -------------------------------------------------------------------------------


@pytest.fixture
def fresh_reseller(server: Server) -> str:
    name, _ = server.account(reseller=True)
    return name


@pytest.mark.parametrize(
    ("acl_params", "granted"),
    [
        ([("acl-list-accts", "1")], ["list-accts"]),
        ([("acl-create-acct", "1"), ("acl-list-accts", "1")], ["list-accts", "create-acct"]),
        ([("acl-list-accts", "0"), ("acl-create-acct", "1")], ["create-acct"]),
        ([("acl-list-accts", "0")], []),
        ([("acl-list-accts", "")], []),
        ([("acl-onlyselfandglobalpkgs", "1")], ["viewglobalpackages"]),
        ([("acl-all", "1")], ["all"]),
        ([], []),
    ],
)
def test_setacls_replaces(
    server: Server, fresh_reseller: str, acl_params: list[tuple[str, str]], granted: list[str]
) -> None:
    payload = server.get("setacls", params=[("reseller", fresh_reseller), *acl_params]).json()
    assert payload == {
        "data": {"acl": granted},
        "metadata": {"command": "setacls", "reason": "OK", "result": 1, "version": 1},
    }
    assert user_row(server, fresh_reseller)["reseller_acls"] == granted


def test_setacls_user_parameter_names_the_reseller(server: Server, fresh_reseller: str) -> None:
    data = server.ok("setacls", params={"user": fresh_reseller, "acl-kill-acct": "1"})
    assert data == {"acl": ["kill-acct"]}
    assert user_row(server, fresh_reseller)["reseller_acls"] == ["kill-acct"]


@pytest.mark.parametrize(
    ("acl_params", "reason"),
    [
        ([("acl-bogus", "1")], "Invalid ACL(s) specified: bogus"),
        (
            [("acl-list-accts", "1"), ("acl-zzz", "1"), ("acl-aaa", "0")],
            "Invalid ACL(s) specified: aaa, zzz",
        ),
        # The token functions' list form would silently wipe the set: refused instead.
        (
            [("acl-0", "list-accts")],
            "“acl-0=list-accts” is not understood here: name each privilege as “acl-NAME=1” "
            "(for example “acl-list-accts=1”).",
        ),
    ],
)
def test_setacls_unknown_acl_changes_nothing(
    server: Server, fresh_reseller: str, acl_params: list[tuple[str, str]], reason: str
) -> None:
    before = user_row(server, fresh_reseller)["reseller_acls"]
    assert server.fail("setacls", params=[("reseller", fresh_reseller), *acl_params]) == reason
    assert user_row(server, fresh_reseller)["reseller_acls"] == before


def test_setacls_from_a_saved_list(server: Server, fresh_reseller: str) -> None:
    name = _list_name()
    server.ok(
        "saveacllist",
        params={"acllist": name, "acl-kill-acct": "1", "acl-list-accts": "1", "acl-passwd": "0"},
    )
    data = server.ok("setacls", params={"reseller": fresh_reseller, "acllist": name})
    assert data == {"acl": ["list-accts", "kill-acct"]}
    assert user_row(server, fresh_reseller)["reseller_acls"] == ["list-accts", "kill-acct"]


def test_setacls_unknown_saved_list(server: Server, fresh_reseller: str) -> None:
    reason = server.fail("setacls", params={"reseller": fresh_reseller, "acllist": "nolist_x"})
    assert reason == "The ACL list “nolist_x” does not exist."
    assert sorted(user_row(server, fresh_reseller)["reseller_acls"]) == INITIAL_PRIVILEGES


@pytest.mark.parametrize("params", [{}, {"reseller": ""}, {"acl-list-accts": "1"}])
def test_setacls_without_reseller(server: Server, params: dict[str, str]) -> None:
    assert server.fail("setacls", params=params) == "No reseller specified."


def test_setacls_on_a_normal_account(server: Server) -> None:
    name, _ = server.account()
    reason = server.fail("setacls", params={"reseller": name, "acl-list-accts": "1"})
    assert reason == f"“{name}” is not a reseller."
    assert user_row(server, name)["reseller_acls"] is None


@pytest.mark.parametrize(
    ("reseller", "reason"),
    [
        ("nosuchuser3", "The user “nosuchuser3” does not exist."),
        ("root", "The “root” user already holds every privilege."),
    ],
)
def test_setacls_refused_user(server: Server, reseller: str, reason: str) -> None:
    assert server.fail("setacls", params={"reseller": reseller, "acl-list-accts": "1"}) == reason


# -- listresellers -------------------------------------------------------------------------


def test_listresellers(server: Server) -> None:
    reseller, _ = server.account(reseller=True)
    plain, _ = server.account()
    payload = server.get("listresellers").json()
    assert payload["metadata"] == {
        "command": "listresellers",
        "reason": "OK",
        "result": 1,
        "version": 1,
    }
    names = payload["data"]["reseller"]
    assert list(payload["data"]) == ["reseller"]
    assert reseller in names
    assert plain not in names and "root" not in names
    assert names == sorted(names)
    assert all(isinstance(n, str) for n in names)


# -- saveacllist / listacls ----------------------------------------------------------------


def test_saveacllist_answers_without_data(server: Server) -> None:
    payload = server.get(
        "saveacllist", params={"acllist": _list_name(), "acl-list-accts": "1"}
    ).json()
    assert payload == {
        "metadata": {"command": "saveacllist", "reason": "OK", "result": 1, "version": 1}
    }


def test_listacls_shape(server: Server) -> None:
    name = _list_name()
    server.ok(
        "saveacllist",
        params={
            "acllist": name,
            "acl-list-accts": "1",
            "acl-create-acct": "1",
            "acl-kill-acct": "0",
        },
    )
    data = server.ok("listacls")
    assert list(data) == ["acl"]
    entries = {entry["name"]: entry for entry in data["acl"]}
    entry = entries[name]
    assert set(entry) == {"name", "privileges"}
    assert set(entry["privileges"]) == {a.name for a in acls.CATALOGUE}
    assert {k for k, v in entry["privileges"].items() if v == 1} == {"list-accts", "create-acct"}
    assert set(entry["privileges"].values()) == {0, 1}


def test_saveacllist_again_replaces_the_list(server: Server) -> None:
    name = _list_name()
    server.ok("saveacllist", params={"acllist": name, "acl-list-accts": "1"})
    server.ok("saveacllist", params={"acllist": name, "acl-kill-acct": "1"})
    entries = [e for e in server.ok("listacls")["acl"] if e["name"] == name]
    assert len(entries) == 1
    assert {k for k, v in entries[0]["privileges"].items() if v == 1} == {"kill-acct"}


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({}, "Missing parameter: acllist"),
        ({"acllist": "bad name"}, "“bad name” is not a valid ACL list name."),
        ({"acllist": "x" * 65}, f"“{'x' * 65}” is not a valid ACL list name."),
        ({"acllist": "listé"}, "“listé” is not a valid ACL list name."),
        ({"acllist": "list²"}, "“list²” is not a valid ACL list name."),
        ({"acllist": "list/x"}, "“list/x” is not a valid ACL list name."),
        ({"acllist": "okname_unknownacl", "acl-bogus": "1"}, "Invalid ACL(s) specified: bogus"),
    ],
)
def test_saveacllist_refused(server: Server, params: dict[str, str], reason: str) -> None:
    assert server.fail("saveacllist", params=params) == reason
    if "acllist" in params:
        assert params["acllist"] not in {e["name"] for e in server.ok("listacls")["acl"]}


@pytest.fixture(scope="module")
def default_reseller(server: Server) -> tuple[str, str]:
    """A reseller with the Initial Privileges and a token; no test changes it."""
    return server.reseller()


@pytest.mark.parametrize(
    "function",
    ["setupreseller", "unsetupreseller", "setacls", "listresellers", "saveacllist", "listacls"],
)
def test_reseller_functions_are_root_only(
    server: Server, default_reseller: tuple[str, str], function: str
) -> None:
    name, token = default_reseller
    response = server.get(
        function, user=name, token=token, params={"user": new_name(), "acllist": _list_name()}
    )
    assert response.status_code == 403
    assert response.json()["metadata"]["result"] == 0
