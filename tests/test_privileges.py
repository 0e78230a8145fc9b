"""Effective privileges (whm-reference §3.2, §3.3): a token's privileges are its owner's
*current* set narrowed by the token's own list; functions check them on every call."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import pytest

from conftest import Server
from gatehouse.domain.privileges import effective, is_full_access

BWF = "basic-whm-functions"  # myprivs, applist
BSI = "basic-system-info"  # version (or clustering)
MAT = "manage-api-tokens"  # api_token_*

A, B, C = "list-accts", "create-acct", "passwd"


# -- unit ---------------------------------------------------------------------------------

EFFECTIVE = [
    # owner, token acls, expected
    ({"all"}, None, {"all"}),
    ({"all"}, ["all"], {"all"}),
    ({"all"}, ["all", A], {"all"}),
    ({"all"}, [A], {A}),
    ({"all"}, [A, B], {A, B}),
    ({"all"}, [A, A], {A}),
    ({"all"}, [], set()),
    ({"all", A}, [B], {B}),
    ({A, B}, None, {A, B}),
    ({A, B}, ["all"], {A, B}),
    ({A, B}, [C, "all"], {A, B}),
    ({A, B}, [B, C], {B}),
    ({A, B}, [A, B], {A, B}),
    ({A, B}, [C], set()),
    ({A, B}, [], set()),
    (set(), None, set()),
    (set(), ["all"], set()),
    (set(), [A], set()),
]


@pytest.mark.parametrize(("owner", "token_acls", "expected"), EFFECTIVE)
def test_effective(owner: set[str], token_acls: list[str] | None, expected: set[str]) -> None:
    assert effective(frozenset(owner), token_acls) == frozenset(expected)


@pytest.mark.parametrize(("owner", "token_acls", "expected"), EFFECTIVE)
def test_effective_accepts_any_iterable(
    owner: set[str], token_acls: list[str] | None, expected: set[str]
) -> None:
    """The signature takes an Iterable: a one-shot iterator must give the same answer."""
    acls_iter: Iterable[str] | None = iter(token_acls) if token_acls is not None else None
    assert effective(frozenset(owner), acls_iter) == frozenset(expected)


@pytest.mark.parametrize(
    ("token_acls", "full"),
    [
        (None, True),
        (["all"], True),
        ([A, "all"], True),
        ((), False),
        ([A], False),
        ([A, B], False),
    ],
)
def test_is_full_access(token_acls: list[str] | None, full: bool) -> None:
    assert is_full_access(token_acls) is full


# -- over HTTP ----------------------------------------------------------------------------


def held(server: Server, user: str, token: str) -> set[str]:
    privs = server.ok("myprivs", user=user, token=token)["privileges"][0]
    return {name for name, value in privs.items() if value == 1}


def setacls(server: Server, reseller: str, privileges: list[str]) -> None:
    server.ok("setacls", params=[("reseller", reseller)] + [(f"acl-{p}", "1") for p in privileges])


def test_full_token_loses_what_reseller_loses(server: Server) -> None:
    name, token = server.reseller([BWF, MAT, BSI])
    assert server.get("version", user=name, token=token).status_code == 200
    setacls(server, name, [BWF, MAT])
    assert server.get("version", user=name, token=token).status_code == 403


def test_full_token_gains_what_reseller_gains(server: Server) -> None:
    name, token = server.reseller([BWF, MAT])
    assert held(server, name, token) == {BWF, MAT}
    setacls(server, name, [BWF, MAT, BSI, A])
    assert held(server, name, token) == {BWF, MAT, BSI, A}


def test_reseller_limited_token_is_its_list(server: Server) -> None:
    name, full = server.reseller([BWF, MAT, BSI, A, B])
    limited = server.token(user=name, via=full, acl=[BWF, A])
    assert held(server, name, limited) == {BWF, A}


def test_reseller_limited_token_loses_what_reseller_loses(server: Server) -> None:
    name, full = server.reseller([BWF, MAT, BSI, A])
    limited = server.token(user=name, via=full, acl=[BWF, BSI, A])
    assert server.get("version", user=name, token=limited).status_code == 200
    setacls(server, name, [BWF, MAT, A])
    assert server.get("version", user=name, token=limited).status_code == 403
    assert held(server, name, limited) == {BWF, A}


def test_reseller_limited_token_regains_within_its_list(server: Server) -> None:
    name, full = server.reseller([BWF, MAT, BSI])
    limited = server.token(user=name, via=full, acl=[BWF, BSI])
    setacls(server, name, [BWF, MAT])
    assert held(server, name, limited) == {BWF}
    setacls(server, name, [BWF, MAT, BSI, A])
    assert held(server, name, limited) == {BWF, BSI}  # not A: never in the token's list


def test_root_limited_token_holds_exactly_its_list(server: Server) -> None:
    token = server.token(acl=[BWF, A])
    assert held(server, "root", token) == {BWF, A}


def test_root_full_token_holds_all(server: Server) -> None:
    token = server.token()
    assert "all" in held(server, "root", token)


def test_root_limited_token_cannot_call_root_only(server: Server) -> None:
    token = server.token(acl=[BWF, MAT, A, B])
    assert server.get("listresellers", token=token).status_code == 403


def test_missing_privilege_is_a_403_envelope(server: Server) -> None:
    token = server.token(acl=[BWF])
    response = server.get("version", token=token)
    assert response.status_code == 403
    body = response.json()
    assert body["metadata"]["result"] == 0
    assert body["metadata"]["command"] == "version"
    reason = body["metadata"]["reason"]
    assert "basic-system-info" in reason and "clustering" in reason


def test_missing_privilege_reason_names_the_privilege(server: Server) -> None:
    token = server.token(acl=[BWF])
    response = server.get("api_token_list", token=token)
    assert response.status_code == 403
    assert MAT in response.json()["metadata"]["reason"]


def test_missing_privilege_is_audited(server: Server) -> None:
    token_name = f"lim-{uuid.uuid4().hex[:10]}"
    token = server.token(token_name, acl=[BWF])
    since = server.sql("SELECT COALESCE(MAX(id), 0) FROM audit_log")[0][0]
    server.get("version", token=token)
    rows = server.sql(
        "SELECT action, reason, actor, token_name, source_ip, detail "
        "FROM audit_log WHERE id > :s ORDER BY id",
        s=since,
    )
    assert len(rows) == 1, rows
    action, reason, actor, name, source_ip, detail = rows[0]
    assert (action, reason, actor, name) == (
        "ACCESSDENIED",
        "missing_privilege",
        "root",
        token_name,
    )
    assert source_ip == "127.0.0.1"
    assert "version" in detail and BSI in detail


@pytest.fixture(scope="module")
def default_reseller(server: Server) -> tuple[str, str]:
    return server.reseller()


@pytest.mark.parametrize(
    ("function", "params"),
    [
        ("setupreseller", {"user": "root"}),
        ("unsetupreseller", {"user": "root"}),
        ("listresellers", {}),
        ("setacls", {"reseller": "root", "acl-all": "1"}),
        ("saveacllist", {"acllist": "x"}),
        ("listacls", {}),
    ],
)
def test_root_only_refused_to_reseller(
    server: Server, default_reseller: tuple[str, str], function: str, params: dict[str, str]
) -> None:
    name, token = default_reseller
    response = server.get(function, user=name, token=token, params=params)
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["metadata"]["result"] == 0
    assert "“all”" in body["metadata"]["reason"]


def test_reseller_setacls_cannot_raise_itself(
    server: Server, default_reseller: tuple[str, str]
) -> None:
    name, token = default_reseller
    server.get("setacls", user=name, token=token, params={"reseller": name, "acl-all": "1"})
    assert "all" not in held(server, name, token)


def test_reseller_holds_defaults_not_all(server: Server, default_reseller: tuple[str, str]) -> None:
    name, token = default_reseller
    privs = held(server, name, token)
    assert "all" not in privs
    assert {BWF, BSI, MAT} <= privs


def test_myprivs_through_limited_token_is_filtered(server: Server) -> None:
    name, full = server.reseller([BWF, MAT, BSI, A, B, C])
    limited = server.token(user=name, via=full, acl=[BWF, C])
    privs = server.ok("myprivs", user=name, token=limited)["privileges"][0]
    assert privs[BWF] == privs[C] == 1
    assert privs[A] == privs[B] == privs[BSI] == privs[MAT] == privs["all"] == 0
