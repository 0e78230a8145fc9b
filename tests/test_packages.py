"""listpkgs, getpkginfo, addpkg, editpkg, killpkg over real HTTP, on both backends."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from conftest import Server
from gatehouse.passwords import generate_password
from whm_helpers import limited_reseller

# getpkginfo of a package created by root with no settings (cPanel's defaults).
ROOT_DEFAULT_INFO = {
    "BWLIMIT": None,
    "CGI": 1,
    "CPMOD": "jupiter",
    "DIGESTAUTH": "n",
    "FEATURELIST": "default",
    "FRONTPAGE": 0,
    "HASSHELL": 0,
    "IP": 0,
    "LANG": "en",
    "MAXADDON": "0",
    "MAXFTP": None,
    "MAXLST": None,
    "MAXPARK": "0",
    "MAXPOP": None,
    "MAXSQL": None,
    "MAXSUB": None,
    "MAX_DEFER_FAIL_PERCENTAGE": "unlimited",
    "MAX_EMAILACCT_QUOTA": "unlimited",
    "MAX_EMAIL_PER_HOUR": "unlimited",
    "MAX_TEAM_USERS": "7",
    "QUOTA": None,
    "_PACKAGE_EXTENSIONS": "",
}
# The same package as listpkgs shows it.
ROOT_DEFAULT_LISTED = {
    "BWLIMIT": "unlimited",
    "CGI": "y",
    "CPMOD": "jupiter",
    "DIGESTAUTH": "n",
    "FEATURELIST": "default",
    "HASSHELL": "n",
    "IP": "n",
    "LANG": "en",
    "MAXADDON": "0",
    "MAXFTP": "unlimited",
    "MAXLST": "unlimited",
    "MAXPARK": "0",
    "MAXPOP": "unlimited",
    "MAXSQL": "unlimited",
    "MAXSUB": "unlimited",
    "MAX_DEFER_FAIL_PERCENTAGE": "unlimited",
    "MAX_EMAILACCT_QUOTA": "unlimited",
    "MAX_EMAIL_PER_HOUR": "unlimited",
    "MAX_TEAM_USERS": "7",
    "QUOTA": "unlimited",
    "_PACKAGE_EXTENSIONS": "",
}
PACKAGE_PRIVILEGES = [
    "add-pkg-ip",
    "add-pkg-shell",
    "allow-addoncreate",
    "allow-emaillimits-pkgs",
    "allow-parkedcreate",
    "allow-unlimited-bw-pkgs",
    "allow-unlimited-disk-pkgs",
    "allow-unlimited-pkgs",
]
BASE = ["list-pkgs", "add-pkg", "edit-pkg"]


def pkg() -> str:
    return "p" + uuid.uuid4().hex[:10]


def stored(server: Server, name: str) -> Any:
    """(owner, settings) of a package, or None."""
    rows = server.sql("SELECT owner, settings FROM packages WHERE name = :n", n=name)
    if not rows:
        return None
    owner, settings = rows[0]
    return owner, json.loads(settings) if isinstance(settings, str) else settings


def package_count(server: Server) -> int:
    return int(server.sql("SELECT count(*) FROM packages")[0][0])


def listed(server: Server, want: str | None = None, **kw: Any) -> dict[str, Any]:
    params = {"want": want} if want else {}
    return {p["name"]: p for p in server.ok("listpkgs", params=params, **kw)["pkg"]}


def as_user(name: str, token: str) -> dict[str, str]:
    return {"user": name, "token": token}


def account_on(server: Server, plan: str, owner: str | None = None) -> str:
    """An account on `plan`: with createacct's `plan` when it is supported, else set in the
    store (createacct's plan support is another part of issue 4)."""
    username = "u" + uuid.uuid4().hex[:10]
    params = {"username": username, "domain": f"{username}.example.com", "plan": plan}
    params["password"] = server.remember(generate_password())
    if owner:
        params["owner"] = owner
    server.ok("createacct", params=params)
    if server.sql("SELECT plan FROM users WHERE username = :u", u=username)[0][0] != plan:
        server.sql("UPDATE users SET plan = :p WHERE username = :u", p=plan, u=username)
    return username


def limits_of(server: Server, username: str) -> dict[str, Any]:
    raw = server.sql("SELECT limits FROM users WHERE username = :u", u=username)[0][0]
    value = json.loads(raw) if isinstance(raw, str) else raw
    return value or {}


# -- addpkg / getpkginfo / listpkgs: shapes --------------------------------------------------


def test_addpkg_envelope_and_root_defaults(server: Server) -> None:
    name = pkg()
    payload = server.get("addpkg", params={"name": name}).json()
    assert payload == {
        "data": {"pkg": name},
        "metadata": {"command": "addpkg", "reason": "OK", "result": 1, "version": 1},
    }
    assert server.ok("getpkginfo", params={"pkg": name}) == {"pkg": ROOT_DEFAULT_INFO}
    assert listed(server, "all")[name] == {"name": name, **ROOT_DEFAULT_LISTED}
    assert stored(server, name)[0] == "root"


def test_the_default_package_exists(server: Server) -> None:
    assert server.ok("getpkginfo", params={"pkg": "default"})["pkg"] == ROOT_DEFAULT_INFO


def test_listpkgs_is_sorted(server: Server) -> None:
    names = [server.ok("addpkg", params={"name": n})["pkg"] for n in ("zz" + pkg(), "AA" + pkg())]
    everything = [p["name"] for p in server.ok("listpkgs")["pkg"]]
    assert everything == sorted(everything)
    assert set(names) <= set(everything)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"quota": "500"}, {"QUOTA": "500"}),
        ({"quota": "0"}, {"QUOTA": "unlimited"}),
        ({"quota": "unlimited", "bwlimit": "null"}, {"QUOTA": "unlimited", "BWLIMIT": "unlimited"}),
        ({"bwlimit": "1048576"}, {"BWLIMIT": "1048576"}),
        ({"QUOTA": "250"}, {"QUOTA": "250"}),
        ({"hasshell": "1", "cgi": "0"}, {"HASSHELL": "y", "CGI": "n"}),
        ({"ip": "y", "digestauth": "1"}, {"IP": "y", "DIGESTAUTH": "y"}),
        (
            {"maxpop": "25", "maxsql": "0", "maxftp": "3"},
            {"MAXPOP": "25", "MAXSQL": "0", "MAXFTP": "3"},
        ),
        ({"maxpark": "unlimited", "maxaddon": "4"}, {"MAXPARK": "unlimited", "MAXADDON": "4"}),
        ({"MAX_EMAIL_PER_HOUR": "100"}, {"MAX_EMAIL_PER_HOUR": "100"}),
        ({"max_defer_fail_percentage": "0"}, {"MAX_DEFER_FAIL_PERCENTAGE": "unlimited"}),
        ({"max_defer_fail_percentage": "50"}, {"MAX_DEFER_FAIL_PERCENTAGE": "50"}),
        ({"max_emailacct_quota": "2048"}, {"MAX_EMAILACCT_QUOTA": "2048"}),
        ({"max_team_users": "3"}, {"MAX_TEAM_USERS": "3"}),
        ({"LANG": "de"}, {"LANG": "de"}),
        ({"language": "pt_br"}, {"LANG": "pt_br"}),
        ({"featurelist": "Mail Only", "cpmod": "jupiter"}, {"FEATURELIST": "Mail Only"}),
        ({"frontpage": "1", "_PACKAGE_EXTENSIONS": ""}, {}),
    ],
)
def test_addpkg_accepts(server: Server, params: dict[str, str], expected: dict[str, str]) -> None:
    name = pkg()
    assert server.ok("addpkg", params={"name": name, **params}) == {"pkg": name}
    assert listed(server, "all")[name] == {"name": name, **ROOT_DEFAULT_LISTED, **expected}


@pytest.mark.parametrize(
    "name",
    ["Gold plan.v2-{u}", "Paket_ü_{u}", "{u}.x"],
)
def test_addpkg_package_names(server: Server, name: str) -> None:
    name = name.format(u=uuid.uuid4().hex[:8])
    assert server.ok("addpkg", params={"name": name}) == {"pkg": name}
    assert server.ok("getpkginfo", params={"pkg": name})["pkg"]["QUOTA"] is None


def test_addpkg_takes_pkgname_too(server: Server) -> None:
    name = pkg()
    assert server.ok("addpkg", params={"pkgname": name}) == {"pkg": name}


INVALID_CHARS = (
    "is invalid. A package name may only contain multi-byte UTF-8 characters, spaces, and "
    "the following: a-z, A-Z, 0-9, ., _, -"
)


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({}, "No package supplied: “pkgname” or “name” is a required argument."),
        ({"name": "   "}, "No package supplied: “pkgname” or “name” is a required argument."),
        ({"name": "a/b"}, f"“a/b” {INVALID_CHARS}"),
        ({"name": "a;b"}, f"“a;b” {INVALID_CHARS}"),
        ({"name": ".."}, f"“..” {INVALID_CHARS}"),
        ({"name": "extensions"}, "“extensions” is a reserved package name."),
        ({"name": "undefined"}, "“undefined” is a reserved package name."),
        (
            {"name": "x" * 65},
            f"The package name “{'x' * 65}” is too long: it may contain at most 64 characters.",
        ),
        ({"name": "NEW", "quota": "abc"}, "Invalid numeric value “abc” for the “quota” setting."),
        ({"name": "NEW", "quota": "-1"}, "Invalid numeric value “-1” for the “quota” setting."),
        ({"name": "NEW", "maxpop": "1000000"}, "Invalid value “1000000” for the “maxpop” setting."),
        (
            {"name": "NEW", "max_defer_fail_percentage": "101"},
            "Invalid value “101” for the “max_defer_fail_percentage” setting.",
        ),
        (
            {"name": "NEW", "max_team_users": "8"},
            "Invalid value “8” for the “max_team_users” setting.",
        ),
        (
            {"name": "NEW", "max_team_users": "unlimited"},
            "Invalid numeric value “unlimited” for the “max_team_users” setting.",
        ),
        ({"name": "NEW", "hasshell": "maybe"}, "Invalid value “maybe” for the “hasshell” setting."),
        ({"name": "NEW", "cpmod": "../x"}, "Invalid value “../x” for the “cpmod” setting."),
        (
            {"name": "NEW", "language": "english!"},
            "Invalid value “english!” for the “language” setting.",
        ),
        (
            {"name": "NEW", "_PACKAGE_EXTENSIONS": "ext1"},
            "This server does not support package extensions.",
        ),
    ],
)
def test_addpkg_refuses(server: Server, params: dict[str, str], reason: str) -> None:
    if params.get("name") == "NEW":
        params = {**params, "name": pkg()}
    before = package_count(server)
    assert server.fail("addpkg", params=params) == reason
    assert package_count(server) == before


def test_addpkg_refuses_a_duplicate(server: Server) -> None:
    name = pkg()
    server.ok("addpkg", params={"name": name, "quota": "5"})
    assert server.fail("addpkg", params={"name": name, "quota": "9"}) == (
        f"The package “{name}” already exists. If you wish to make changes, please edit the "
        "package."
    )
    assert stored(server, name)[1]["QUOTA"] == "5"


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({}, "Missing parameter: pkg"),
        ({"pkg": "nosuchpkg"}, "The package “nosuchpkg” does not exist."),
    ],
)
def test_getpkginfo_refuses(server: Server, params: dict[str, str], reason: str) -> None:
    assert server.fail("getpkginfo", params=params) == reason


def test_listpkgs_refuses_an_unknown_want(server: Server) -> None:
    assert server.fail("listpkgs", params={"want": "mine"}) == (
        "Invalid value “mine” for “want”: use “all”, “creatable”, “editable” or “viewable”."
    )


# -- editpkg -------------------------------------------------------------------------------


def test_editpkg_changes_only_what_is_given(server: Server) -> None:
    name = pkg()
    server.ok("addpkg", params={"name": name, "hasshell": "1", "maxpop": "10"})
    assert server.ok("editpkg", params={"name": name, "quota": "100"}) == {"pkg": name}
    info = server.ok("getpkginfo", params={"pkg": name})["pkg"]
    assert (info["QUOTA"], info["HASSHELL"], info["MAXPOP"]) == ("100", 1, "10")


def test_editpkg_applies_to_the_accounts_on_the_package(server: Server) -> None:
    name = pkg()
    server.ok("addpkg", params={"name": name, "quota": "1000", "maxpop": "5"})
    user = account_on(server, name)
    server.ok("editpkg", params={"name": name, "quota": "2000", "bwlimit": "300"})
    limits = limits_of(server, user)
    assert (limits["QUOTA"], limits["BWLIMIT"], limits["MAXPOP"]) == ("2000", "300", "5")
    rows = server.sql(
        "SELECT actor, subject, source_ip, detail FROM audit_log WHERE action = 'EDITPKG' "
        "AND subject = :n",
        n=name,
    )
    assert len(rows) == 1
    actor, subject, source_ip, detail = rows[0]
    assert (actor, subject, source_ip) == ("root", name, "127.0.0.1")
    assert "QUOTA=1000→2000" in detail and "accounts: 1" in detail


def test_editpkg_creates_a_missing_package(server: Server) -> None:
    name = pkg()
    assert server.ok("editpkg", params={"name": name, "quota": "7"}) == {"pkg": name}
    assert stored(server, name)[1]["QUOTA"] == "7"


def test_editpkg_refusal_changes_nothing(server: Server) -> None:
    name = pkg()
    server.ok("addpkg", params={"name": name, "quota": "10"})
    reason = server.fail("editpkg", params={"name": name, "quota": "20", "maxsql": "lots"})
    assert reason == "Invalid numeric value “lots” for the “maxsql” setting."
    assert stored(server, name)[1]["QUOTA"] == "10"


def test_editpkg_refuses_a_missing_name(server: Server) -> None:
    assert server.fail("editpkg", params={"quota": "1"}) == (
        "No package supplied: “pkgname” or “name” is a required argument."
    )


# -- killpkg -------------------------------------------------------------------------------


def test_killpkg_removes_an_unused_package(server: Server) -> None:
    name = pkg()
    server.ok("addpkg", params={"name": name})
    payload = server.get("killpkg", params={"pkgname": name}).json()
    assert payload == {
        "metadata": {"command": "killpkg", "reason": "OK", "result": 1, "version": 1}
    }
    assert stored(server, name) is None
    assert server.fail("getpkginfo", params={"pkg": name}) == (
        f"The package “{name}” does not exist."
    )
    rows = server.sql("SELECT action, actor FROM audit_log WHERE subject = :n ORDER BY id", n=name)
    assert [tuple(r) for r in rows] == [("ADDPKG", "root"), ("KILLPKG", "root")]


def test_killpkg_is_refused_while_an_account_uses_the_package(server: Server) -> None:
    name = pkg()
    server.ok("addpkg", params={"name": name})
    user = account_on(server, name)
    assert server.fail("killpkg", params={"pkgname": name}) == (
        f"You must move all accounts using the package “{name}” to another package before "
        "removing it."
    )
    assert stored(server, name) is not None
    server.sql("UPDATE users SET plan = 'default' WHERE username = :u", u=user)
    server.ok("killpkg", params={"pkgname": name})


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({}, "You must specify a package."),
        ({"pkgname": "nosuchpkg"}, "The package “nosuchpkg” does not exist."),
        (
            {"pkgname": "default"},
            "The “default” package cannot be removed: accounts created without a package use it.",
        ),
    ],
)
def test_killpkg_refuses(server: Server, params: dict[str, str], reason: str) -> None:
    before = package_count(server)
    assert server.fail("killpkg", params=params) == reason
    assert package_count(server) == before


# -- privileges ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("function", "privilege", "held"),
    [
        ("listpkgs", "list-pkgs", ["add-pkg", "edit-pkg"]),
        ("getpkginfo", "list-pkgs", ["add-pkg", "edit-pkg"]),
        ("addpkg", "add-pkg", ["list-pkgs", "edit-pkg"]),
        ("killpkg", "add-pkg", ["list-pkgs", "edit-pkg"]),
        ("editpkg", "edit-pkg", ["list-pkgs", "add-pkg"]),
    ],
)
def test_functions_need_their_privilege(
    server: Server, function: str, privilege: str, held: list[str]
) -> None:
    reseller, token = limited_reseller(server, held)
    target = pkg()
    server.ok("addpkg", params={"name": target})
    before = package_count(server)
    params = {"name": f"{reseller}_x", "pkg": target, "pkgname": target, "quota": "1"}
    response = server.get(function, user=reseller, token=token, params=params)
    assert response.status_code == 403
    assert response.json()["metadata"]["reason"] == (
        f"Access denied: calling “{function}” requires the “{privilege}” privilege."
    )
    assert package_count(server) == before
    assert stored(server, target) == ("root", stored(server, target)[1])


def test_a_limited_root_token_is_refused(server: Server) -> None:
    token = server.token(acl=["list-pkgs"])
    response = server.get("addpkg", token=token, params={"name": pkg()})
    assert response.status_code == 403


# -- resellers -----------------------------------------------------------------------------


def test_reseller_packages_are_prefixed_and_owned(server: Server) -> None:
    reseller, token = limited_reseller(server, BASE)
    me = as_user(reseller, token)
    suffix = pkg()
    assert server.ok("addpkg", params={"name": suffix, "quota": "10"}, **me) == {
        "pkg": f"{reseller}_{suffix}"
    }
    # A name that already carries the prefix is not prefixed twice.
    again = f"{reseller}_{pkg()}"
    assert server.ok("addpkg", params={"name": again, "quota": "10"}, **me) == {"pkg": again}
    assert stored(server, again)[0] == reseller
    assert {f"{reseller}_{suffix}", again} <= set(listed(server, "editable", **me))
    # editpkg resolves the name the same way.
    server.ok("editpkg", params={"name": suffix, "quota": "20"}, **me)
    assert stored(server, f"{reseller}_{suffix}")[1]["QUOTA"] == "20"
    # killpkg takes the full name.
    assert server.fail("killpkg", params={"pkgname": suffix}, **me) == (
        f"You do not have access to a package named “{suffix}”."
    )
    server.ok("killpkg", params={"pkgname": again}, **me)
    assert stored(server, again) is None


def test_reseller_defaults_are_limited(server: Server) -> None:
    reseller, token = limited_reseller(server, BASE)
    name = server.ok("addpkg", params={"name": pkg()}, **as_user(reseller, token))["pkg"]
    settings = stored(server, name)[1]
    assert settings == {
        **{k: v for k, v in ROOT_DEFAULT_LISTED.items() if k != "_PACKAGE_EXTENSIONS"},
        "QUOTA": "10240",
        "BWLIMIT": "1048576",
        "MAX_EMAILACCT_QUOTA": "1024",
        "MAXFTP": "0",
        "MAXPOP": "0",
        "MAXLST": "0",
        "MAXSQL": "0",
        "MAXSUB": "0",
    }


@pytest.mark.parametrize(
    ("params", "privilege", "spelled"),
    [
        ({"quota": "unlimited"}, "allow-unlimited-disk-pkgs", "“unlimited”"),
        ({"quota": "0"}, "allow-unlimited-disk-pkgs", "“0” (unlimited)"),
        ({"bwlimit": "unlimited"}, "allow-unlimited-bw-pkgs", "“unlimited”"),
        ({"maxpop": "unlimited"}, "allow-unlimited-pkgs", "“unlimited”"),
        ({"max_emailacct_quota": "0"}, "allow-unlimited-pkgs", "“0” (unlimited)"),
    ],
)
def test_reseller_unlimited_values_need_privileges(
    server: Server, params: dict[str, str], privilege: str, spelled: str
) -> None:
    reseller, token = limited_reseller(server, BASE)
    before = package_count(server)
    (param,) = params
    assert server.fail("addpkg", params={"name": pkg(), **params}, **as_user(reseller, token)) == (
        f"Setting “{param}” to {spelled} requires the “{privilege}” privilege."
    )
    assert package_count(server) == before


@pytest.mark.parametrize(
    ("params", "privilege"),
    [
        ({"hasshell": "1"}, "add-pkg-shell"),
        ({"ip": "y"}, "add-pkg-ip"),
        ({"maxpark": "2"}, "allow-parkedcreate"),
        ({"maxaddon": "1"}, "allow-addoncreate"),
        ({"max_email_per_hour": "100"}, "allow-emaillimits-pkgs"),
        ({"max_defer_fail_percentage": "20"}, "allow-emaillimits-pkgs"),
    ],
)
def test_reseller_package_features_need_privileges(
    server: Server, params: dict[str, str], privilege: str
) -> None:
    reseller, token = limited_reseller(server, BASE)
    before = package_count(server)
    ((param, value),) = params.items()
    assert server.fail("addpkg", params={"name": pkg(), **params}, **as_user(reseller, token)) == (
        f"Setting “{param}” to “{value}” requires the “{privilege}” privilege."
    )
    assert package_count(server) == before


def test_reseller_with_package_privileges_may_set_them(server: Server) -> None:
    reseller, token = limited_reseller(server, BASE + PACKAGE_PRIVILEGES)
    params = {
        "name": pkg(),
        "quota": "unlimited",
        "bwlimit": "0",
        "maxpop": "unlimited",
        "hasshell": "1",
        "ip": "y",
        "maxpark": "2",
        "maxaddon": "unlimited",
        "max_email_per_hour": "100",
    }
    name = server.ok("addpkg", params=params, **as_user(reseller, token))["pkg"]
    settings = stored(server, name)[1]
    assert {k: settings[k] for k in ("QUOTA", "BWLIMIT", "MAXPOP", "HASSHELL", "IP")} == {
        "QUOTA": "unlimited",
        "BWLIMIT": "unlimited",
        "MAXPOP": "unlimited",
        "HASSHELL": "y",
        "IP": "y",
    }
    assert (settings["MAXPARK"], settings["MAXADDON"], settings["MAX_EMAIL_PER_HOUR"]) == (
        "2",
        "unlimited",
        "100",
    )


def test_reseller_may_keep_an_unlimited_value_it_can_no_longer_set(server: Server) -> None:
    reseller, token = limited_reseller(server, [*BASE, "allow-unlimited-disk-pkgs"])
    me = as_user(reseller, token)
    name = server.ok("addpkg", params={"name": pkg(), "quota": "unlimited"}, **me)["pkg"]
    server.ok("setacls", params=[("reseller", reseller)] + [(f"acl-{p}", "1") for p in BASE])
    server.ok("editpkg", params={"name": name, "quota": "unlimited", "maxftp": "3"}, **me)
    assert server.fail("editpkg", params={"name": name, "bwlimit": "unlimited"}, **me) == (
        "Setting “bwlimit” to “unlimited” requires the “allow-unlimited-bw-pkgs” privilege."
    )
    assert stored(server, name)[1]["QUOTA"] == "unlimited"
    assert stored(server, name)[1]["BWLIMIT"] == "1048576"


def test_a_reseller_cannot_reach_another_resellers_packages(server: Server) -> None:
    alice, alice_token = limited_reseller(server, [*BASE, "viewglobalpackages"])
    bob, bob_token = limited_reseller(server, [*BASE, "viewglobalpackages"])
    theirs = server.ok(
        "addpkg", params={"name": pkg(), "quota": "5"}, **as_user(alice, alice_token)
    )["pkg"]
    bob_as = as_user(bob, bob_token)
    for want in (None, "all", "viewable", "creatable", "editable"):
        assert theirs not in listed(server, want, **bob_as)
    unreachable = f"You do not have access to a package named “{theirs}”."
    assert server.fail("getpkginfo", params={"pkg": theirs}, **bob_as) == unreachable
    assert server.fail("killpkg", params={"pkgname": theirs}, **bob_as) == unreachable
    # editpkg works on bob's own name space: "alice_x" is bob's "bob_alice_x".
    edited = server.ok("editpkg", params={"name": theirs, "quota": "9"}, **bob_as)["pkg"]
    assert edited == f"{bob}_{theirs}"
    assert stored(server, theirs) == (alice, stored(server, theirs)[1])
    assert stored(server, theirs)[1]["QUOTA"] == "5"
    # An unknown package answers the same as another's.
    assert server.fail("getpkginfo", params={"pkg": f"{alice}_nosuch"}, **bob_as) == (
        f"You do not have access to a package named “{alice}_nosuch”."
    )
    # Root sees both.
    assert {theirs, edited} <= set(listed(server, "all"))


def test_editpkg_without_add_pkg_does_not_create(server: Server) -> None:
    reseller, token = limited_reseller(server, ["list-pkgs", "edit-pkg"])
    before = package_count(server)
    missing = f"{reseller}_{pkg()}"
    assert server.fail(
        "editpkg", params={"name": missing, "quota": "1"}, **as_user(reseller, token)
    ) == (f"You do not have access to a package named “{missing}”.")
    assert package_count(server) == before


def test_root_packages_need_viewglobalpackages(server: Server) -> None:
    root_pkg = server.ok("addpkg", params={"name": pkg(), "quota": "3"})["pkg"]
    blind, blind_token = limited_reseller(server, BASE)
    blind_as = as_user(blind, blind_token)
    assert root_pkg not in listed(server, "all", **blind_as)
    # Every reseller may put accounts on `default`, so it sees it (but cannot change it).
    assert "default" in listed(server, **blind_as)
    assert "default" not in listed(server, "editable", **blind_as)
    assert server.fail("killpkg", params={"pkgname": "default"}, **blind_as) == (
        "You do not have access to a package named “default”."
    )
    assert server.fail("getpkginfo", params={"pkg": root_pkg}, **blind_as) == (
        f"You do not have access to a package named “{root_pkg}”."
    )
    viewer, viewer_token = limited_reseller(server, [*BASE, "viewglobalpackages"])
    viewer_as = as_user(viewer, viewer_token)
    for want in (None, "all", "viewable", "creatable"):
        assert root_pkg in listed(server, want, **viewer_as)
    assert root_pkg not in listed(server, "editable", **viewer_as)
    assert server.ok("getpkginfo", params={"pkg": root_pkg}, **viewer_as)["pkg"]["QUOTA"] == "3"
    assert server.fail("killpkg", params={"pkgname": root_pkg}, **viewer_as) == (
        f"You do not have access to a package named “{root_pkg}”."
    )
    assert stored(server, root_pkg)[1]["QUOTA"] == "3"


def test_creatable_honours_the_resellers_account_limit(server: Server) -> None:
    reseller, token = limited_reseller(server, BASE)
    me = as_user(reseller, token)
    name = server.ok("addpkg", params={"name": pkg()}, **me)["pkg"]
    limits = json.dumps({"account": {"enabled": True, "limit": 0}})
    if server.backend == "postgresql":
        statement = "UPDATE users SET reseller_limits = CAST(:v AS JSON) WHERE username = :u"
    else:
        statement = "UPDATE users SET reseller_limits = :v WHERE username = :u"
    server.sql(statement, v=limits, u=reseller)
    assert name not in listed(server, "creatable", **me)
    assert name in listed(server, "viewable", **me)


def test_reseller_editpkg_changes_only_its_own_accounts(server: Server) -> None:
    reseller, token = limited_reseller(server, BASE)
    name = server.ok("addpkg", params={"name": pkg(), "quota": "10"}, **as_user(reseller, token))[
        "pkg"
    ]
    mine = account_on(server, name, owner=reseller)
    roots = account_on(server, name)
    before_root = limits_of(server, roots)
    server.ok("editpkg", params={"name": name, "quota": "50"}, **as_user(reseller, token))
    assert limits_of(server, mine)["QUOTA"] == "50"
    assert limits_of(server, roots) == before_root


def test_reseller_changes_are_audited_with_the_token(server: Server) -> None:
    reseller, token = limited_reseller(server, BASE)
    name = server.ok("addpkg", params={"name": pkg()}, **as_user(reseller, token))["pkg"]
    rows = server.sql(
        "SELECT actor, source_ip, token_name FROM audit_log WHERE action = 'ADDPKG' "
        "AND subject = :n",
        n=name,
    )
    assert len(rows) == 1
    actor, source_ip, token_name = rows[0]
    assert (actor, source_ip) == (reseller, "127.0.0.1")
    assert token_name
