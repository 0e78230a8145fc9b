"""An account that does not exist, as the functions that check an account first answer it.

cPanel's Whostmgr::Authz::verify_account_access tells hasroot() — root, or a reseller holding
`all` — `You do not have a user named “X”.` (Cpanel::Exception::UserNotFound); any other
reseller gets the refusal it gets for an account that is not its own, so it learns nothing.
changepackage checks in Whostmgr::Accounts::Upgrade::upacct's words instead.
"""

from __future__ import annotations

import secrets

import pytest

from conftest import Server

MISSING = "You do not have a user named “{}”."
REFUSED = "You do not have access to an account named “{}”."

# function, its parameters (`@` is the account asked for), the privilege a reseller needs.
FUNCTIONS = [
    ("suspendacct", {"user": "@"}, "suspend-acct"),
    ("unsuspendacct", {"user": "@"}, "suspend-acct"),
    ("removeacct", {"user": "@"}, "kill-acct"),
    ("modifyacct", {"user": "@", "maxftp": "1"}, "edit-account"),
    ("limitbw", {"user": "@", "bwlimit": "1"}, "limit-bandwidth"),
    ("editquota", {"user": "@", "quota": "1"}, "quota"),
    ("passwd", {"user": "@", "password": "p" * 16}, "passwd"),
    ("acctcounts", {"user": "@"}, "acct-summary"),
    ("setresellernameservers", {"user": "@"}, "ns-config"),
    (
        "uapi_cpanel",
        {"cpanel.user": "@", "cpanel.module": "DomainInfo", "cpanel.function": "list_domains"},
        "cpanel-api",
    ),
]


def _params(params: dict[str, str], name: str) -> dict[str, str]:
    return {k: name if v == "@" else v for k, v in params.items()}


@pytest.mark.parametrize(
    ("caller", "wording"),
    [("root", MISSING), ("reseller+all", MISSING), ("reseller", REFUSED)],
)
@pytest.mark.parametrize(("function", "params", "privilege"), FUNCTIONS, ids=lambda v: str(v))
def test_an_unknown_account_is_named_to_hasroot_only(
    server: Server,
    caller: str,
    wording: str,
    function: str,
    params: dict[str, str],
    privilege: str,
) -> None:
    missing = "nosuch" + secrets.token_hex(4)
    who: dict[str, str] = {}
    if caller != "root":
        name, token = server.reseller(["all"] if caller == "reseller+all" else [privilege])
        who = {"user": name, "token": token}
    reason = server.fail(function, params=_params(params, missing), **who)
    assert reason == wording.format(missing)


@pytest.mark.parametrize(
    ("caller", "wording"),
    [
        ("root", "Sorry, the user {} does not exist"),
        ("reseller+all", "Sorry, the user {} does not exist"),
        ("reseller", REFUSED),
    ],
)
def test_changepackage_names_an_unknown_account_in_upacct_words(
    server: Server, caller: str, wording: str
) -> None:
    missing = "nosuch" + secrets.token_hex(4)
    who: dict[str, str] = {}
    if caller != "root":
        name, token = server.reseller(["all"] if caller == "reseller+all" else ["upgrade-account"])
        who = {"user": name, "token": token}
    reason = server.fail("changepackage", params={"user": missing, "pkg": "default"}, **who)
    assert reason == wording.format(missing)


def test_a_reseller_with_all_is_still_refused_an_account_it_does_not_own(server: Server) -> None:
    """Telling hasroot() that an account is missing changes the wording only: who may manage
    what is the access rule's (a reseller manages the accounts it owns, `all` or not)."""
    name, token = server.reseller(["all"])
    theirs, _ = server.account()
    reason = server.fail("suspendacct", params={"user": theirs}, user=name, token=token)
    assert reason == REFUSED.format(theirs)
