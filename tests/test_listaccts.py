"""listaccts, accountsummary and domainuserdata over real HTTP: cPanel's field names and
types, search, `want`, and reseller confinement."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from conftest import Server
from whm_helpers import limited_reseller, new_name

# Whostmgr/Accounts/List.pm's entry (cPanel 11.120); API 1's listaccts adds `has_backup`.
FIELDS = {
    "backup", "child_nodes", "disklimit", "diskused", "domain", "email",
    "inodeslimit", "inodesused", "ip", "ipv6", "is_locked",
    "legacy_backup", "mailbox_format", "max_defer_fail_percentage", "max_email_per_hour",
    "max_emailacct_quota", "maxaddons", "maxftp", "maxlst", "maxparked", "maxpop", "maxsql",
    "maxsub", "min_defer_fail_to_trigger_protection", "outgoing_mail_hold",
    "outgoing_mail_suspended", "owner", "partition", "plan", "shell", "startdate", "suspended",
    "suspendreason", "suspendtime", "temporary", "theme", "uid", "unix_startdate", "user",
}  # fmt: skip


@pytest.fixture(scope="module")
def world(server: Server) -> dict[str, Any]:
    """Two resellers (listing and summarising) with an account each, and a root-owned account
    (suspended)."""
    a, token_a = limited_reseller(server, ["list-accts", "acct-summary"])
    b, token_b = limited_reseller(server, ["list-accts", "acct-summary"])
    tag = new_name("s")[:7]
    names = {}
    for key, owner in (("a1", a), ("b1", b), ("r1", "root")):
        user = tag + key
        params = {
            "username": user,
            "domain": f"{user}.example.com",
            "password": server.remember(new_name() + "Xx1!"),
            "contactemail": f"{key}@example.org",
            "quota": "300",
        }
        if owner != "root":
            params["owner"] = owner
        server.ok("createacct", params=params)
        names[key] = user
    server.ok("suspendacct", params={"user": names["r1"], "reason": "Overdue"})
    return {"a": a, "token_a": token_a, "b": b, "token_b": token_b, "tag": tag, **names}


def _accts(server: Server, **kw: Any) -> list[dict[str, Any]]:
    return list(server.ok("listaccts", **kw)["acct"])


def test_listaccts_entry_shape(server: Server, world: dict[str, Any]) -> None:
    before = int(time.time())
    [entry] = _accts(server, params={"search": world["a1"], "searchtype": "user",
                                     "searchmethod": "exact"})  # fmt: skip
    assert set(entry) == FIELDS | {"has_backup"}
    assert (entry["user"], entry["domain"], entry["owner"], entry["email"]) == (
        world["a1"],
        f"{world['a1']}.example.com",
        world["a"],
        "a1@example.org",
    )
    assert (entry["suspended"], entry["suspendreason"], entry["suspendtime"]) == (
        0,
        "not suspended",
        0,
    )
    assert (entry["plan"], entry["theme"], entry["ip"], entry["disklimit"]) == (
        "default",
        "jupiter",
        "127.0.0.1",
        "300M",
    )
    assert entry["maxftp"] == "unlimited" and entry["maxaddons"] == "0"
    assert isinstance(entry["unix_startdate"], int) and entry["unix_startdate"] <= before + 1
    assert re.fullmatch(r"\d\d [A-Z][a-z]{2} \d\d \d\d:\d\d", entry["startdate"])


def test_listaccts_shows_suspension(server: Server, world: dict[str, Any]) -> None:
    [entry] = _accts(server, params={"search": world["r1"], "searchtype": "user"})
    assert (entry["suspended"], entry["suspendreason"], entry["is_locked"]) == (1, "Overdue", 0)
    assert entry["suspendtime"] > 0


@pytest.mark.parametrize(
    ("search", "searchtype", "method", "expected"),
    [
        ("@tag@", "user", "regex", ["a1", "b1", "r1"]),
        ("@tag@A1", "user", "regex", ["a1"]),  # case-insensitive
        ("^@tag@(a|b)1$", "user", "regex", ["a1", "b1"]),
        ("@tag@a1", "user", "exact", ["a1"]),
        ("@tag@b1.EXAMPLE.com", "domain", "exact", ["b1"]),
        (r"@tag@r1\.example", "domain", "regex", ["r1"]),
        ("@a@", "owner", "exact", ["a1"]),
        ("default", "package", "exact", ["a1", "b1", "r1"]),
        ("127.0.0.1", "ip", "exact", ["a1", "b1", "r1"]),
        # Nothing found, but not the one-user path: result 1, an empty list.
        ("@tag@zz", "user", "regex", []),
        ("@tag@zz.example.com", "domain", "exact", []),
        ("@tag@a", "domain", "exact", []),
        # domain_and_user (List.pm): the user, or else the domain, matches the regex; the
        # exact method compares with the compiled regex as a string and finds nothing.
        ("@tag@A1", "domain_and_user", "regex", ["a1"]),
        (r"^@tag@b1\.example\.com$", "domain_and_user", "regex", ["b1"]),
        ("@tag@", "domain_and_user", "regex", ["a1", "b1", "r1"]),
        ("@tag@a1", "domain_and_user", "exact", []),
        ("@tag@a1.example.com", "domain_and_user", "exact", []),
    ],
)
def test_listaccts_search(
    server: Server, world: dict[str, Any], search: str, searchtype: str, method: str,
    expected: list[str],
) -> None:  # fmt: skip
    search = search.replace("@tag@", world["tag"]).replace("@a@", world["a"])
    found = _accts(server, params={"search": search, "searchtype": searchtype,
                                   "searchmethod": method})  # fmt: skip
    mine = [e["user"] for e in found if e["user"].startswith(world["tag"])]
    assert mine == [world[k] for k in expected]


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"searchtype": "color", "search": "x"}, "Unknown search type."),
        ({"searchtype": "user", "search": "x", "searchmethod": "fuzzy"},
         "Unknown search method “fuzzy”: use “exact” or “regex”."),
        ({"search": "x"}, "The “searchtype” parameter is required with “search”."),
        ({"searchtype": "user", "search": "a("},
         "“a(” is not a valid regular expression: missing ), unterminated subpattern at "
         "position 1."),
        ({"searchtype": "user", "search": "(a+)+$"},
         "The regular expression “(a+)+$” is too complex: nested or alternated repetition, "
         "back-references and more than 3 repetitions are not accepted."),
        ({"searchtype": "user", "search": "(a|aa)*b"},
         "The regular expression “(a|aa)*b” is too complex: nested or alternated repetition, "
         "back-references and more than 3 repetitions are not accepted."),
        ({"searchtype": "user", "search": r"(a)\1"},
         r"The regular expression “(a)\1” is too complex: nested or alternated repetition, "
         "back-references and more than 3 repetitions are not accepted."),
        ({"searchtype": "user", "search": "a*b*c*d*"},
         "The regular expression “a*b*c*d*” is too complex: nested or alternated repetition, "
         "back-references and more than 3 repetitions are not accepted."),
        ({"searchtype": "user", "search": "x" * 257},
         "The “search” parameter may contain at most 256 characters."),
    ],
)  # fmt: skip
def test_listaccts_refusals(server: Server, params: dict[str, str], reason: str) -> None:
    assert server.fail("listaccts", params=params) == reason


def test_listaccts_want(server: Server, world: dict[str, Any]) -> None:
    found = _accts(server, params={"search": world["b1"], "searchtype": "user",
                                   "want": "user,suspended,nosuchfield"})  # fmt: skip
    assert found == [{"user": world["b1"], "suspended": 0, "nosuchfield": None}]


def test_listaccts_reseller_sees_only_its_accounts(server: Server, world: dict[str, Any]) -> None:
    kw = {"user": world["a"], "token": world["token_a"]}
    assert [e["user"] for e in _accts(server, **kw)] == [world["a1"]]
    for key in ("b1", "r1"):
        # The one-user path refuses an account that is not the caller's ...
        assert server.fail("listaccts", params={"search": world[key], "searchtype": "user",
                                                "searchmethod": "exact"}, **kw) == (
            "No accounts found."
        )  # fmt: skip
        # ... any other search finds nothing in the caller's accounts.
        domain = f"{world[key]}.example.com"
        assert _accts(server, params={"search": domain, "searchtype": "domain",
                                      "searchmethod": "exact"}, **kw) == []  # fmt: skip


@pytest.mark.parametrize(
    "params",
    [
        {"search": "nosuchuser7"},
        {"search": "@tag@"},  # a prefix of three accounts' names
        {"search": "@TAG@A1"},  # getpwnam is case-sensitive
        {"search": ""},
        {},
        {"search": "root"},  # no cPanel account (choice: cPanel lists nothing, result 1)
    ],
    ids=["unknown", "prefix", "other-case", "empty", "no-search", "root"],
)
def test_listaccts_exact_user_search_that_finds_no_user_is_result_0(
    server: Server, world: dict[str, Any], params: dict[str, str]
) -> None:
    """Whostmgr/Accounts/List.pm's one-user path returns nothing at all when getpwnam does
    not know the name, and Whostmgr/API/1/Accounts.pm listaccts answers result 0."""
    query = {k: v.replace("@tag@", world["tag"]).replace("@TAG@", world["tag"].upper())
             for k, v in params.items()}  # fmt: skip
    response = server.get("listaccts", params={**query, "searchtype": "user",
                                               "searchmethod": "exact"})  # fmt: skip
    body = response.json()
    assert body["metadata"]["result"] == 0
    assert body["metadata"]["reason"] == "No accounts found."
    assert "data" not in body  # as cPanel: `return if !$count`


def _user_filter(user: str) -> dict[str, str]:
    return {"api.filter.enable": "1", "api.filter.a.field": "user", "api.filter.a.arg0": user,
            "api.filter.a.type": "eq"}  # fmt: skip


def test_resellers_one_after_the_other_each_see_only_their_own(
    server: Server, world: dict[str, Any]
) -> None:
    """The account reads build a statement once per kind of caller and take the caller's
    values as parameters: two resellers in turn, twice over, never see each other's."""
    callers = [("a", "b"), ("b", "a")] * 2
    for me, other in callers:
        kw = {"user": world[me], "token": world[f"token_{me}"]}
        mine, theirs = world[f"{me}1"], world[f"{other}1"]
        assert [e["user"] for e in _accts(server, **kw)] == [mine]
        assert [e["user"] for e in _accts(server, params=_user_filter(mine), **kw)] == [mine]
        assert _accts(server, params=_user_filter(theirs), **kw) == []
        summary = server.ok("accountsummary", params={"domain": f"{mine}.example.com"}, **kw)
        assert [e["user"] for e in summary["acct"]] == [mine]
        assert server.fail("accountsummary", params={"user": theirs}, **kw) == (
            "Account does not exist."
        )


@pytest.mark.parametrize(
    ("function", "api_version", "whole", "has_backup"),
    [
        ("listaccts", "1", False, True),  # Whostmgr/API/1/Accounts.pm adds has_backup
        ("listaccts", "1", True, True),  # the whole listing (spliced from cached entries)
        ("listaccts", None, False, False),  # API 0: Whostmgr/XMLUI/Accounts.pm
        ("listaccts", None, True, False),
        ("accountsummary", "1", False, False),
        ("accountsummary", None, False, False),
    ],
)
def test_has_backup_only_in_api1_listaccts(
    server: Server,
    world: dict[str, Any],
    function: str,
    api_version: str | None,
    whole: bool,
    has_backup: bool,
) -> None:
    user = world["a1"]
    if function == "accountsummary":
        params = {"user": user}
    else:
        params = {} if whole else {"search": user, "searchtype": "user"}
    response = server.get(function, params=params, api_version=api_version)
    assert response.status_code == 200, response.text
    body = response.json()
    entries = (body["data"] if api_version else body)["acct"]
    [entry] = [e for e in entries if e["user"] == user]
    assert set(entry) == FIELDS | ({"has_backup"} if has_backup else set())
    assert entry.get("has_backup", 0) == 0


def test_listaccts_needs_the_privilege(server: Server) -> None:
    name, token = limited_reseller(server, ["acct-summary"])
    assert server.get("listaccts", user=name, token=token).status_code == 403


def test_accountsummary(server: Server, world: dict[str, Any]) -> None:
    by_user = server.ok("accountsummary", params={"user": world["a1"]})
    by_domain = server.ok("accountsummary", params={"domain": f"{world['a1']}.EXAMPLE.com"})
    assert by_user == by_domain and [e["user"] for e in by_user["acct"]] == [world["a1"]]
    assert set(by_user["acct"][0]) == FIELDS
    kw = {"user": world["a"], "token": world["token_a"]}
    assert server.ok("accountsummary", params={"user": world["a1"]}, **kw) == by_user
    for target in (world["b1"], world["r1"], "nosuchuser7"):
        assert server.fail("accountsummary", params={"user": target}, **kw) == (
            "Account does not exist."
        )
    assert server.fail("accountsummary") == (
        "You must specify a user or domain to get a summary of."
    )


def test_domainuserdata(server: Server, world: dict[str, Any]) -> None:
    domain = f"{world['a1']}.example.com"
    body = server.get("domainuserdata", params={"domain": domain}).json()
    assert body["metadata"]["reason"] == "OK"  # set_metadata_ok (API 0 says "Obtained userdata.")
    data = body["data"]["userdata"]
    assert (data["servername"], data["user"], data["owner"], data["ip"]) == (
        domain,
        world["a1"],
        world["a"],
        "127.0.0.1",
    )
    assert data["documentroot"] == f"/home/{world['a1']}/public_html"
    kw = {"user": world["a"], "token": world["token_a"]}
    assert server.ok("domainuserdata", params={"domain": domain}, **kw) == body["data"]
    other = f"{world['b1']}.example.com"
    assert server.fail("domainuserdata", params={"domain": other}, **kw) == (
        f"You do not have access to a domain named “{other}”."
    )
    assert server.fail("domainuserdata", params={"domain": "nosuch.example.com"}) == (
        "The domain “nosuch.example.com” does not exist."
    )
    assert server.fail("domainuserdata") == "Missing parameter: domain"


def test_uid_is_a_number_unique_per_account_and_the_same_in_accountsummary(
    server: Server, world: dict[str, Any]
) -> None:
    """cPanel reports `uid` as a number (Whostmgr/Accounts/List.pm), in both functions."""
    entries = [e for e in _accts(server) if e["user"].startswith(world["tag"])]
    uids = [e["uid"] for e in entries]
    assert len(entries) == 3
    assert all(type(uid) is int and uid >= 1000 for uid in uids)
    assert len(set(uids)) == len(uids)
    for entry in entries:
        [summary] = server.ok("accountsummary", params={"user": entry["user"]})["acct"]
        assert summary["uid"] == entry["uid"]
