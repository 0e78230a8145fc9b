"""setresellerpackagelimit (cPanel's Whostmgr::Resellers::set_reseller_package_limit) and what
its limits do where cPanel's "creatable" package list does (Whostmgr::Packages::Fetch):
createacct, changepackage and listpkgs. WHM API 1 and API 0, success and refusal."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import Server
from lifecycle_helpers import account_state, audit_rows, make_package, rows_of, user_id
from whm_helpers import compact, limited_reseller, new_name

PASSWORD = "Package-Limits-9xQ!"
PRIVILEGES = ["create-acct", "upgrade-account", "list-pkgs", "add-pkg"]


def refusal(package: str) -> str:
    return f"Sorry you may not create any more accounts with the package {package}."


def limit(server: Server, reseller: str, **params: str) -> None:
    server.ok("setresellerpackagelimit", params={"user": reseller, **params})


def switches(server: Server, reseller: str, **params: str) -> None:
    server.ok("setresellerlimits", params={"user": reseller, **params})


def create(
    server: Server, reseller: str, token: str, plan: str, username: str | None = None
) -> Any:
    """createacct by the reseller on `plan`; the response."""
    username = username or new_name()
    params = {
        "username": username,
        "domain": f"{username}.example.com",
        "password": PASSWORD,
        "plan": plan,
    }
    return server.get("createacct", user=reseller, token=token, params=params)


def reason_of(response: Any) -> str:
    body = response.json()
    assert body["metadata"]["result"] == 0, body
    return str(body["metadata"]["reason"])


def creatable(server: Server, reseller: str, token: str) -> list[str]:
    return [p["name"] for p in server.ok("listpkgs", user=reseller, token=token)["pkg"]]


def package_limits(server: Server, reseller: str) -> list[dict[str, Any]]:
    return list(server.ok("getresellerlimits", params={"user": reseller})["packages"])


# -- setresellerpackagelimit ------------------------------------------------------------------


def test_setresellerpackagelimit_answers_without_data(server: Server) -> None:
    reseller, _ = server.account(reseller=True)
    pkg = make_package(server)
    response = server.get(
        "setresellerpackagelimit",
        params={"user": reseller, "package": pkg, "allowed": "1", "number": "3"},
    )
    assert response.content == compact(
        {
            "metadata": {
                "command": "setresellerpackagelimit",
                "reason": "OK",
                "result": 1,
                "version": 1,
            }
        }
    )
    assert package_limits(server, reseller) == [{"allowed": 1, "number": 3, "package": pkg}]
    [row] = audit_rows(server, "SETRESELLERPACKAGELIMIT", reseller)
    assert row["detail"] == f"{pkg}: allowed=1, number=3"


def test_only_the_values_given_change(server: Server) -> None:
    reseller, _ = server.account(reseller=True)
    pkg = make_package(server)
    limit(server, reseller, package=pkg, number="2")
    assert package_limits(server, reseller) == [{"allowed": None, "number": 2, "package": pkg}]
    limit(server, reseller, package=pkg, allowed="0")
    assert package_limits(server, reseller) == [{"allowed": 0, "number": 2, "package": pkg}]
    limit(server, reseller, package=pkg)  # neither: nothing changes
    assert package_limits(server, reseller) == [{"allowed": 0, "number": 2, "package": pkg}]


def test_no_limit_removes_every_package_limit(server: Server) -> None:
    reseller, _ = server.account(reseller=True)
    first, second = make_package(server), make_package(server)
    limit(server, reseller, package=first, allowed="1")
    limit(server, reseller, package=second, number="1")
    other, _ = server.account(reseller=True)
    limit(server, other, package=first, allowed="1")
    limit(server, reseller, no_limit="1", package="ignored-with-no_limit")
    assert package_limits(server, reseller) == []
    assert package_limits(server, other) == [{"allowed": 1, "number": None, "package": first}]


def test_a_removed_package_takes_its_limits(server: Server) -> None:
    reseller, _ = server.account(reseller=True)
    pkg = make_package(server)
    limit(server, reseller, package=pkg, allowed="1")
    server.ok("killpkg", params={"pkgname": pkg})
    assert package_limits(server, reseller) == []


def test_removing_the_reseller_takes_its_package_limits_and_addresses(server: Server) -> None:
    reseller, _ = server.account(reseller=True)
    limit(server, reseller, package=make_package(server), allowed="1")
    server.ok("setresellerips", params={"user": reseller, "ips": ""})
    uid = user_id(server, reseller)
    tables = ("reseller_package_limits", "reseller_ips")
    assert [rows_of(server, t, uid) for t in tables] == [1, 1]
    server.ok("removeacct", params={"username": reseller})
    assert [rows_of(server, t, uid) for t in tables] == [0, 0]


def test_unsetupreseller_forgets_its_limits_but_not_its_nameservers(server: Server) -> None:
    """cPanel's _unsetupreseller deletes the reseller's limits; its nameservers file stays."""
    reseller, _ = server.account(reseller=True)
    limit(server, reseller, package=make_package(server), allowed="1")
    switches(server, reseller, enable_account_limit="1", account_limit="3")
    server.ok("setresellernameservers", params={"user": reseller, "nameservers": "ns1.example.net"})
    uid = user_id(server, reseller)
    server.ok("unsetupreseller", params={"user": reseller})
    assert rows_of(server, "reseller_package_limits", uid) == 0
    stored = server.sql("SELECT reseller_limits FROM users WHERE id = :i", i=uid)[0][0]
    assert "account" not in str(stored) and "ns1.example.net" in str(stored)
    server.ok("setupreseller", params={"user": reseller})
    limits = server.ok("getresellerlimits", params={"user": reseller})
    assert limits["limits"]["enable_account_limit"] == 0 and limits["packages"] == []


NO_PACKAGE = "Selected package does not exist.  Limits can not be set."
NOT_A_RESELLER = "Specified user is not a reseller."


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"user": "@R@", "allowed": "1"}, NO_PACKAGE),
        ({"user": "@R@", "package": "nosuchpkg", "allowed": "1"}, NO_PACKAGE),
        (
            {"user": "@R@", "package": "@P@", "allowed": "x"},
            "The “allowed” parameter must be 1 or 0, not “x”.",
        ),
        (
            {"user": "@R@", "package": "@P@", "number": "-1"},
            "The “number” parameter must be a nonnegative integer, not “-1”.",
        ),
        (
            {"user": "@R@", "package": "@P@", "number": "many"},
            "The “number” parameter must be a nonnegative integer, not “many”.",
        ),
        ({"user": "@PLAIN@", "package": "@P@", "allowed": "1"}, NOT_A_RESELLER),
        ({"user": "nosuchuser9", "package": "@P@"}, NOT_A_RESELLER),
        ({"user": "root", "package": "@P@"}, NOT_A_RESELLER),
        ({"package": "@P@", "allowed": "1"}, "Missing parameter: user"),
    ],
)
def test_setresellerpackagelimit_refused(
    server: Server, params: dict[str, str], reason: str
) -> None:
    reseller, _ = server.account(reseller=True)
    plain, _ = server.account()
    swap = {"@R@": reseller, "@PLAIN@": plain, "@P@": make_package(server)}
    params = {k: swap.get(v, v) for k, v in params.items()}
    assert server.fail("setresellerpackagelimit", params=params) == reason
    assert package_limits(server, reseller) == []


def test_root_only(server: Server) -> None:
    reseller, token = server.reseller()
    pkg = make_package(server)
    response = server.get(
        "setresellerpackagelimit",
        user=reseller,
        token=token,
        params={"user": reseller, "package": pkg, "allowed": "1"},
    )
    assert response.status_code == 403
    assert "Access denied" in response.json()["metadata"]["reason"]
    assert package_limits(server, reseller) == []


# -- what `allowed` does ----------------------------------------------------------------------


def test_allowed_opens_a_package_the_reseller_could_not_see(server: Server) -> None:
    reseller, token = limited_reseller(server, PRIVILEGES)
    roots = make_package(server)  # root's: invisible without viewglobalpackages
    response = create(server, reseller, token, roots)
    assert reason_of(response) == f"You do not have access to a package named “{roots}”."
    assert roots not in creatable(server, reseller, token)
    limit(server, reseller, package=roots, allowed="1")
    assert create(server, reseller, token, roots).json()["metadata"]["result"] == 1
    assert roots in creatable(server, reseller, token)
    account, _ = server.account(owner=reseller)
    server.ok("changepackage", user=reseller, token=token, params={"user": account, "pkg": roots})
    assert account_state(server, account)["plan"] == roots  # type: ignore[index]


def test_package_limits_leave_only_the_allowed_packages(server: Server) -> None:
    reseller, token = limited_reseller(server, PRIVILEGES)
    own = make_package(server, owner=reseller)  # written to the store: never allowed
    allowed = make_package(server)
    limit(server, reseller, package=allowed, allowed="1")
    account, _ = server.account(owner=reseller)
    switches(server, reseller, enable_package_limits="1")
    assert reason_of(create(server, reseller, token, own)) == refusal(own)
    assert reason_of(create(server, reseller, token, "default")) == refusal("default")
    assert creatable(server, reseller, token) == [allowed]
    assert create(server, reseller, token, allowed).json()["metadata"]["result"] == 1
    response = server.get(
        "changepackage", user=reseller, token=token, params={"user": account, "pkg": own}
    )
    assert reason_of(response) == refusal(own)
    switches(server, reseller, enable_package_limits="0")
    assert create(server, reseller, token, own).json()["metadata"]["result"] == 1


def test_allowed_0_closes_a_package_under_package_limits(server: Server) -> None:
    reseller, token = limited_reseller(server, PRIVILEGES)
    pkg = make_package(server, owner=reseller)
    limit(server, reseller, package=pkg, allowed="1")
    limit(server, reseller, package=pkg, allowed="0")
    switches(server, reseller, enable_package_limits="1")
    assert reason_of(create(server, reseller, token, pkg)) == refusal(pkg)


def test_a_resellers_new_package_is_allowed_for_it(server: Server) -> None:
    reseller, token = limited_reseller(server, PRIVILEGES)
    name = new_name("p")
    pkg = server.ok("addpkg", user=reseller, token=token, params={"name": name})["pkg"]
    assert package_limits(server, reseller) == [{"allowed": 1, "number": None, "package": pkg}]
    switches(server, reseller, enable_package_limits="1")
    assert create(server, reseller, token, pkg).json()["metadata"]["result"] == 1
    # Created while the limits are on: not allowed (cPanel's add_pkg_permission).
    later = server.ok("addpkg", user=reseller, token=token, params={"name": new_name("p")})["pkg"]
    assert reason_of(create(server, reseller, token, later)) == refusal(later)


def test_roots_packages_get_no_limits_from_root(server: Server) -> None:
    before = server.sql("SELECT COUNT(*) FROM reseller_package_limits")[0][0]
    server.ok("addpkg", params={"name": new_name("p")})
    assert server.sql("SELECT COUNT(*) FROM reseller_package_limits")[0][0] == before


# -- what `number` does -----------------------------------------------------------------------


def test_numbers_cap_the_accounts_per_package(server: Server) -> None:
    reseller, token = limited_reseller(server, PRIVILEGES)
    pkg = make_package(server, owner=reseller)
    other = make_package(server, owner=reseller)
    limit(server, reseller, package=pkg, number="1")
    limit(server, reseller, package=other, number="5")
    switches(server, reseller, enable_package_limit_numbers="1")
    assert create(server, reseller, token, pkg).json()["metadata"]["result"] == 1
    assert reason_of(create(server, reseller, token, pkg)) == refusal(pkg)
    assert creatable(server, reseller, token) == [other]
    account = new_name()
    assert create(server, reseller, token, other, account).json()["data"]["package"] == other
    response = server.get(
        "changepackage", user=reseller, token=token, params={"user": account, "pkg": pkg}
    )
    assert reason_of(response) == refusal(pkg)
    assert account_state(server, account)["plan"] == other  # type: ignore[index]


def test_an_account_moving_within_its_package_count_is_not_counted_twice(server: Server) -> None:
    reseller, token = limited_reseller(server, PRIVILEGES)
    pkg = make_package(server, owner=reseller)
    limit(server, reseller, package=pkg, number="1")
    switches(server, reseller, enable_package_limit_numbers="1")
    username = new_name()
    assert create(server, reseller, token, pkg, username).json()["metadata"]["result"] == 1
    server.ok("changepackage", user=reseller, token=token, params={"user": username, "pkg": pkg})


def test_a_package_limit_refusal_reaches_the_audit_trail(server: Server) -> None:
    reseller, token = limited_reseller(server, PRIVILEGES)
    pkg = make_package(server, owner=reseller)
    switches(server, reseller, enable_package_limits="1")
    since = server.sql("SELECT COALESCE(MAX(id), 0) FROM audit_log")[0][0]
    assert reason_of(create(server, reseller, token, pkg)) == refusal(pkg)
    rows = server.sql(
        "SELECT reason, actor, detail FROM audit_log WHERE id > :s AND action = 'ACCESSDENIED'",
        s=since,
    )
    assert [(r.reason, r.actor, r.detail) for r in rows] == [
        ("reseller_package_limit", reseller, refusal(pkg))
    ]


def test_a_package_without_a_number_allows_none(server: Server) -> None:
    reseller, token = limited_reseller(server, PRIVILEGES)
    pkg = make_package(server, owner=reseller)
    switches(server, reseller, enable_package_limit_numbers="1")
    assert reason_of(create(server, reseller, token, pkg)) == refusal(pkg)
    limit(server, reseller, package=pkg, number="0")
    assert reason_of(create(server, reseller, token, pkg)) == refusal(pkg)


def test_numbers_do_nothing_while_switched_off(server: Server) -> None:
    reseller, token = limited_reseller(server, PRIVILEGES)
    pkg = make_package(server, owner=reseller)
    limit(server, reseller, package=pkg, number="0")
    assert create(server, reseller, token, pkg).json()["metadata"]["result"] == 1


def test_root_creating_for_the_reseller_meets_its_package_limits(server: Server) -> None:
    reseller, _ = server.account(reseller=True)
    pkg = make_package(server)
    switches(server, reseller, enable_package_limits="1")
    username = new_name()
    params = {
        "username": username,
        "domain": f"{username}.example.com",
        "password": PASSWORD,
        "plan": pkg,
        "owner": reseller,
    }
    assert server.fail("createacct", params=params) == refusal(pkg)
    assert account_state(server, username) is None
    limit(server, reseller, package=pkg, allowed="1")
    server.ok("createacct", params=params)


def test_root_changing_a_package_is_not_limited(server: Server) -> None:
    reseller, _ = server.account(reseller=True)
    account, _ = server.account(owner=reseller)
    pkg = make_package(server)
    switches(server, reseller, enable_package_limits="1", enable_package_limit_numbers="1")
    server.ok("changepackage", params={"user": account, "pkg": pkg})


# -- WHM API 0 --------------------------------------------------------------------------------


def test_api0_setresellerpackagelimit(server: Server) -> None:
    reseller, _ = server.account(reseller=True)
    pkg = make_package(server)
    params = {"user": reseller, "package": pkg, "allowed": "1"}
    response = server.get("setresellerpackagelimit", params=params, api_version=None)
    assert response.content == compact(
        {"result": [{"status": 1, "statusmsg": "Successfully set reseller package limit."}]}
    )
    params["package"] = "nosuchpkg"
    refused = server.get("setresellerpackagelimit", params=params, api_version=None)
    assert refused.content == compact({"result": [{"status": 0, "statusmsg": NO_PACKAGE}]})
    assert package_limits(server, reseller) == [{"allowed": 1, "number": None, "package": pkg}]
