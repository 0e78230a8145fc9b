"""The one access rule (gatehouse.domain.access): who may reach which account, for each
purpose, with which reason code, and who is told that an account does not exist."""

from __future__ import annotations

import pytest

from gatehouse.domain import access
from gatehouse.domain.access import Actor, Purpose, Told
from gatehouse.domain.users import User
from gatehouse.errors import NotFound, PermissionDenied


def _user(uid: int, name: str, owner: str = "root", *, root: bool = False) -> User:
    return User(
        id=uid,
        username=name,
        is_root=root,
        domain=None if root else f"{name}.example.com",
        owner=owner,
        contact_email=None,
        suspended=False,
        reseller_acls=None if root else ("list-accts",),
        password_hash=None,
        created_time=0,
    )


ROOT = _user(1, "root", root=True)
RES = _user(2, "res")  # a reseller
MINE = _user(3, "mine", owner="res")
OTHER = _user(4, "other")  # root's

ACTORS = {
    "root": Actor(ROOT, frozenset({"all"})),
    "reseller": Actor(RES, frozenset({"list-accts"})),
    "reseller+all": Actor(RES, frozenset({"all"})),
}
TARGETS = {"root": ROOT, "self": RES, "owned": MINE, "other": OTHER}

# actor, target → the reason code per purpose (None: allowed).
TABLE: dict[tuple[str, str], dict[str, str | None]] = {
    ("root", "root"): {"reach": None, "credentials": None, "manage": None},
    ("root", "other"): {"reach": None, "credentials": None, "manage": None},
    ("reseller", "root"): {"reach": "root_only", "credentials": "root_only", "manage": "root_only"},
    ("reseller", "self"): {"reach": None, "credentials": None, "manage": "own_account"},
    ("reseller", "owned"): {"reach": None, "credentials": None, "manage": None},
    ("reseller", "other"): {
        "reach": "not_owner",
        "credentials": "not_owner",
        "manage": "not_owner",
    },
    # hasroot() reaches everyone, but `all` alone neither hands out credentials nor manages.
    ("reseller+all", "root"): {"reach": None, "credentials": "root_only", "manage": "root_only"},
    ("reseller+all", "other"): {"reach": None, "credentials": "not_owner", "manage": "not_owner"},
    ("reseller+all", "self"): {"reach": None, "credentials": None, "manage": "own_account"},
}


@pytest.mark.parametrize(("actor", "target"), sorted(TABLE))
@pytest.mark.parametrize("purpose", [Purpose.REACH, Purpose.CREDENTIALS, Purpose.MANAGE])
def test_the_rule(actor: str, target: str, purpose: Purpose) -> None:
    decision = access.to_account(ACTORS[actor], TARGETS[target], "x", purpose=purpose)
    assert decision.code == TABLE[(actor, target)][purpose.value]
    assert decision.allowed == (decision.code is None)


def test_own_reaches_only_itself() -> None:
    account = Actor(MINE, frozenset())
    assert access.to_account(account, MINE, "mine", purpose=Purpose.OWN).allowed
    assert access.to_account(account, OTHER, "other", purpose=Purpose.OWN).code == "not_owner"
    # Not even root's own account reaches another's things under OWN.
    assert not access.to_account(ACTORS["root"], OTHER, "x", purpose=Purpose.OWN).allowed


@pytest.mark.parametrize(
    ("actor", "told", "is_told"),
    [
        ("root", Told.SEES_ALL, True),
        ("reseller+all", Told.SEES_ALL, True),
        ("reseller", Told.SEES_ALL, False),
        ("root", Told.NOBODY, False),
    ],
)
def test_who_is_told_that_an_account_does_not_exist(actor: str, told: Told, is_told: bool) -> None:
    decision = access.to_account(ACTORS[actor], None, "ghost", told=told)
    assert decision.code == "no_such_account"
    error = decision.error()
    if is_told:
        assert isinstance(error, NotFound)
        # Whostmgr::Authz::verify_account_access: Cpanel::Exception::UserNotFound.
        assert error.reason == "You do not have a user named “ghost”."
    else:
        assert isinstance(error, PermissionDenied)
        assert error.code == "no_such_account"
        assert error.reason == "You do not have access to an account named “ghost”."


def test_the_wording_is_the_callers() -> None:
    decision = access.to_account(ACTORS["reseller"], OTHER, "other", wording=access.SESSION)
    assert decision.message == "You do not have permission to create sessions for the user “other”."
