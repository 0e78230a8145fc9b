"""listaccts of every account, without options, is spliced from each account's encoded entry
kept from one call to the next (whm/account_listing.py, issue 19 §3): its answer must be the
very bytes of the general way (build every entry, encode the whole answer) — for root, for a
reseller (its own accounts only), for a scoped token — and must follow every change to an
account. The general way is asked for with a list option that is not enabled
(`api.chunk.size` without `api.chunk.enable`): the options path, nothing applied."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from conftest import Server
from gatehouse.api import envelope
from gatehouse.domain.account_listing import Listed
from gatehouse.passwords import generate_password
from gatehouse.whm import account_listing
from inprocess import Local, open_local
from whm_helpers import limited_reseller

GENERAL = {"api.chunk.size": "20"}


def both(server: Server, **kw: Any) -> tuple[bytes, bytes]:
    """(the fast answer, the general answer) of listaccts, as sent."""
    fast = server.get("listaccts", **kw)
    general = server.get("listaccts", params=GENERAL, **kw)
    assert fast.status_code == general.status_code == 200
    assert fast.headers["content-type"] == general.headers["content-type"]
    return fast.content, general.content


def same(server: Server, **kw: Any) -> list[dict[str, Any]]:
    fast, general = both(server, **kw)
    assert fast == general
    body = json.loads(fast)
    assert body["metadata"] == {"command": "listaccts", "reason": "OK", "result": 1, "version": 1}
    return list(body["data"]["acct"])


def create(server: Server, user: str, **extra: str) -> str:
    params = {
        "username": user,
        "domain": f"{user}.example.com",
        "password": server.remember(f"Pw-{generate_password()}"),
        **extra,
    }
    server.ok("createacct", params=params)
    return user


@pytest.fixture(scope="module")
def mix(server: Server) -> dict[str, Any]:
    """Root's accounts and a reseller's, with and without a package of their own, suspended
    (with a reason in other scripts than ASCII, locked), with a contact address and an
    address of their own."""
    reseller, reseller_token = limited_reseller(server, ["list-accts"])
    tag = uuid.uuid4().hex[:6]
    package = f"fast{tag}"
    server.ok(
        "addpkg",
        params={"name": package, "quota": "512", "maxftp": "3", "hasshell": "1", "maxpop": "7"},
    )
    names = {
        "plain": create(server, f"fp{tag}a"),
        "packaged": create(server, f"fp{tag}b", plan=package, contactemail="b@example.org"),
        "sold": create(server, f"fp{tag}c", owner=reseller),
        "sold_packaged": create(server, f"fp{tag}d", owner=reseller, plan=package),
        "suspended": create(server, f"fp{tag}e"),
        "locked": create(server, f"fp{tag}f", owner=reseller),
    }
    server.ok("suspendacct", params={"user": names["suspended"], "reason": "Impayé — 請求書 ☂"})
    server.ok("suspendacct", params={"user": names["locked"], "reason": "Abuse", "disallowun": "1"})
    server.sql("UPDATE users SET ip = '192.0.2.77' WHERE username = :u", u=names["plain"])
    return {"reseller": reseller, "reseller_token": reseller_token, "package": package, **names}


def test_root_listing_is_the_general_listing_byte_for_byte(
    server: Server, mix: dict[str, Any]
) -> None:
    for _ in range(2):  # the first call may build entries, the second reuses them
        listed = same(server)
    by_user = {a["user"]: a for a in listed}
    assert {mix[k] for k in ("plain", "packaged", "sold", "suspended", "locked")} <= set(by_user)
    assert [a["user"] for a in listed] == sorted(by_user)
    assert by_user[mix["suspended"]]["suspendreason"] == "Impayé — 請求書 ☂"
    assert by_user[mix["locked"]]["is_locked"] == 1
    assert by_user[mix["packaged"]]["maxftp"] == "3"
    assert by_user[mix["packaged"]]["disklimit"] == "512M"
    assert by_user[mix["plain"]]["ip"] == "192.0.2.77"


def test_a_reseller_sees_only_its_own_accounts_as_before(
    server: Server, mix: dict[str, Any]
) -> None:
    same(server)  # root's listing first: the reseller's must not come from it
    for _ in range(2):
        listed = same(server, user=mix["reseller"], token=mix["reseller_token"])
    assert {a["user"] for a in listed} == {mix["sold"], mix["sold_packaged"], mix["locked"]}
    assert {a["owner"] for a in listed} == {mix["reseller"]}
    same(server)


def test_a_scoped_token_lists_only_its_accounts(server: Server, mix: dict[str, Any]) -> None:
    token = server.token(f"fs-{uuid.uuid4().hex[:8]}", scope_account=[mix["plain"], mix["sold"]])
    listed = same(server, token=token)
    assert [a["user"] for a in listed] == sorted([mix["plain"], mix["sold"]])


def test_every_change_to_an_account_shows(server: Server, mix: dict[str, Any]) -> None:
    same(server)
    user = mix["sold"]
    steps: list[tuple[str, dict[str, str]]] = [
        ("suspendacct", {"user": user, "reason": "Overdue"}),
        ("unsuspendacct", {"user": user}),
        ("modifyacct", {"user": user, "contactemail": "new@example.org", "MAXFTP": "9"}),
        ("changepackage", {"user": user, "pkg": mix["package"]}),
        ("modifyacct", {"user": user, "OWNER": "root"}),
    ]
    for function, params in steps:
        before = {a["user"]: a for a in same(server)}[user]
        server.ok(function, params=params)
        after = {a["user"]: a for a in same(server)}[user]
        assert after != before, function
    late = create(server, f"fq{uuid.uuid4().hex[:6]}")
    assert late in {a["user"] for a in same(server)}
    server.ok("removeacct", params={"user": late})
    assert late not in {a["user"] for a in same(server)}


def test_a_change_made_in_the_store_alone_shows(server: Server, mix: dict[str, Any]) -> None:
    """The cache follows the rows, not the functions that change them."""
    same(server)
    user = mix["packaged"]
    server.sql(
        "UPDATE users SET limits = :l WHERE username = :u",
        l=json.dumps({"QUOTA": "64", "MAXFTP": "1", "CPMOD": "paper_lantern"}),
        u=user,
    )
    entry = {a["user"]: a for a in same(server)}[user]
    assert (entry["disklimit"], entry["maxftp"], entry["theme"]) == ("64M", "1", "paper_lantern")
    server.sql("UPDATE users SET limits = NULL, plan = NULL WHERE username = :u", u=user)
    entry = {a["user"]: a for a in same(server)}[user]
    assert (entry["plan"], entry["theme"]) == ("undefined", "*unknown*")


def test_options_search_and_want_still_take_the_general_way(
    server: Server, mix: dict[str, Any]
) -> None:
    searched = server.ok(
        "listaccts", params={"search": mix["plain"], "searchtype": "user", "searchmethod": "exact"}
    )["acct"]
    assert [a["user"] for a in searched] == [mix["plain"]]
    wanted = server.ok("listaccts", params={"want": "user,plan"})["acct"]
    assert all(set(a) == {"user", "plan"} for a in wanted)
    chunk = server.get("listaccts", params={"api.chunk.enable": "1", "api.chunk.size": "1"}).json()
    assert len(chunk["data"]["acct"]) == 1 and chunk["metadata"]["chunk"]["size"] == 1
    assert server.fail("listaccts", params={"searchmethod": "fuzzy"}) == (
        "Unknown search method “fuzzy”: use “exact” or “regex”."
    )


# -- in process: the pages and the CLI read the same answer as a dict --------------------


@pytest.fixture
def local(tmp_path: Path) -> Iterator[Local]:
    account_listing.clear()
    opened = open_local(tmp_path)
    yield opened
    opened.close()
    account_listing.clear()


def test_in_process_the_answer_is_the_same_bytes_and_the_same_dict(local: Local) -> None:
    for n in range(3):
        name = f"ip{n}{uuid.uuid4().hex[:6]}"
        local.ok("createacct", [("username", name), ("domain", f"{name}.example.com"),
                                ("password", f"Pw-{generate_password()}")])  # fmt: skip
    with local.gatehouse.engine.begin() as conn:  # no address of their own: the server's
        conn.execute(sa.text("UPDATE users SET ip = NULL"))
    fast = local.whm("listaccts")
    general = local.whm("listaccts", GENERAL.items())
    assert fast.body == general.body
    assert fast.payload == general.payload
    assert len(fast.payload["data"]["acct"]) == 3
    # The same store, another server address: every entry is built again.
    local.gatehouse.config = dataclasses.replace(local.gatehouse.config, ips="192.0.2.200")
    moved = local.whm("listaccts")
    assert moved.body == local.whm("listaccts", GENERAL.items()).body
    assert {a["ip"] for a in moved.payload["data"]["acct"]} == {"192.0.2.200"}


def test_api0_listaccts_is_unchanged(local: Local) -> None:
    name = f"ia{uuid.uuid4().hex[:6]}"
    local.ok("createacct", [("username", name), ("domain", f"{name}.example.com"),
                            ("password", f"Pw-{generate_password()}")])  # fmt: skip
    body = local.whm("listaccts", [("api.version", "0")]).payload
    assert body["status"] == 1 and [a["user"] for a in body["acct"]] == [name]


# -- the envelope: an encoded value is spliced as it is -----------------------------------

values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(values)
def test_an_encoded_value_answers_as_the_value(value: Any) -> None:
    try:
        raw = envelope.encode(value)
    except UnicodeEncodeError:
        return  # never spliced: the general way escapes the whole answer
    spliced = envelope.whm1("listaccts", ok=True, reason="OK", data=envelope.Encoded(raw))
    assert spliced == envelope.whm1("listaccts", ok=True, reason="OK", data=value)
    as_dict = envelope.whm1_dict("listaccts", ok=True, reason="OK", data=envelope.Encoded(raw))
    assert as_dict == envelope.whm1_dict("listaccts", ok=True, reason="OK", data=value)


def test_an_entry_utf8_cannot_carry_takes_the_general_way() -> None:
    account_listing.clear()
    fields = {name: None for name in Listed._fields}
    row = tuple({**fields, "id": 1, "username": "broken", "domain": "\ud800"}.values())

    def build(row: Any, server_ip: str) -> dict[str, Any]:
        return {"user": row.username, "domain": row.domain}

    assert account_listing.encoded([row], True, "192.0.2.1", build) is None
    fine = tuple({**fields, "id": 2, "username": "fine", "domain": "é.example"}.values())
    assert account_listing.encoded([fine], True, "192.0.2.1", build) == (
        '{"acct":[{"domain":"é.example","user":"fine"}]}'.encode()
    )
    assert account_listing.encoded([], True, "192.0.2.1", build) == b'{"acct":[]}'
    account_listing.clear()
