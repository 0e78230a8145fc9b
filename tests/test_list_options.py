"""WHM API 1's list options (api.filter.*, api.sort.*, api.chunk.*, api.columns.*) on the list
functions, with metadata.filter / metadata.chunk / metadata.sort (gatehouse/api/listing.py)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from conftest import Server
from gatehouse.passwords import generate_password


@pytest.fixture(scope="module")
def mine(server: Server) -> tuple[str, list[str]]:
    """A reseller and five accounts it owns, named in order."""
    reseller, _token = server.reseller()
    tag = uuid.uuid4().hex[:5]
    names = [f"l{tag}{n}" for n in range(5)]
    for name in names:
        server.ok(
            "createacct",
            params={
                "username": name,
                "domain": f"{name}.example.com",
                "password": server.remember(f"Pw-{generate_password()}"),
                "owner": reseller,
            },
        )
    return reseller, names


def listed(server: Server, params: dict[str, str], **kw: Any) -> dict[str, Any]:
    body = server.get("listaccts", params=params, **kw).json()
    assert body["metadata"]["result"] == 1, body
    return dict(body)


def test_filter_owner_eq(server: Server, mine: tuple[str, list[str]]) -> None:
    reseller, names = mine
    body = listed(
        server,
        {
            "api.filter.enable": "1",
            "api.filter.a.field": "owner",
            "api.filter.a.arg0": reseller,
            "api.filter.a.type": "eq",
        },
    )
    assert sorted(a["user"] for a in body["data"]["acct"]) == names
    assert body["metadata"]["filter"]["filtered"] >= len(names)


@pytest.mark.parametrize("field", ["user", "domain"])
def test_an_exact_filter_on_one_account_counts_every_account_it_started_from(
    server: Server, mine: tuple[str, list[str]], field: str
) -> None:
    """listaccts picks the one row before building entries (issue 19 §3); the answer is the
    same as filtering them all: `filtered` is the number of accounts the caller sees."""
    _reseller, names = mine
    value = names[2] if field == "user" else f"{names[2]}.example.com"
    body = listed(
        server,
        {"api.filter.enable": "1", "api.filter.a.field": field, "api.filter.a.arg0": value,
         "api.filter.a.type": "eq"},
    )  # fmt: skip
    assert [a["user"] for a in body["data"]["acct"]] == [names[2]]
    everyone = len(listed(server, {})["data"]["acct"])
    assert body["metadata"]["filter"]["filtered"] == everyone


def test_two_filters_are_anded(server: Server, mine: tuple[str, list[str]]) -> None:
    reseller, names = mine
    body = listed(
        server,
        {
            "api.filter.enable": "1",
            "api.filter.a.field": "owner",
            "api.filter.a.arg0": reseller,
            "api.filter.a.type": "eq",
            "api.filter.b.field": "user",
            "api.filter.b.arg0": names[2],
            "api.filter.b.type": "contains",
        },
    )
    assert [a["user"] for a in body["data"]["acct"]] == [names[2]]


def test_sort_reverse_chunk_and_columns(server: Server, mine: tuple[str, list[str]]) -> None:
    reseller, names = mine
    raw = server.get(
        "listaccts",
        params={
            "api.filter.enable": "1",
            "api.filter.a.field": "owner",
            "api.filter.a.arg0": reseller,
            "api.filter.a.type": "eq",
            "api.sort.enable": "1",
            "api.sort.a.field": "user",
            "api.sort.a.reverse": "1",
            "api.chunk.enable": "1",
            "api.chunk.size": "2",
            "api.chunk.start": "3",
            "api.columns.enable": "1",
            "api.columns.a": "user",
            "api.columns.b": "owner",
        },
    )
    body = raw.json()
    assert body["data"]["acct"] == [
        {"owner": reseller, "user": names[2]},
        {"owner": reseller, "user": names[1]},
    ]
    assert body["metadata"]["chunk"] == {
        "chunks": 3,
        "current": 2,
        "records": 5,
        "size": 2,
        "start": 3,
    }
    assert b'"chunk":{"chunks":3,"current":2,"records":5,"size":2,"start":3}' in raw.content


def test_chunk_of_one(server: Server, mine: tuple[str, list[str]]) -> None:
    body = listed(server, {"api.chunk.enable": "1", "api.chunk.size": "1"})
    assert len(body["data"]["acct"]) == 1
    assert body["metadata"]["chunk"]["current"] == 1 and body["metadata"]["chunk"]["size"] == 1


def test_lexicographic_sort_on_listpkgs(server: Server) -> None:
    for name in ("pkgb", "pkga"):
        server.get("addpkg", params={"name": name + uuid.uuid4().hex[:4]})
    body = server.get(
        "listpkgs", params={"api.sort.enable": "1", "api.sort.a.field": "name"}
    ).json()
    names = [p["name"] for p in body["data"]["pkg"]]
    assert names == sorted(names) and len(names) >= 3


def test_options_without_enable_change_nothing(server: Server, mine: tuple[str, list[str]]) -> None:
    plain = server.get("listaccts").json()
    ignored = server.get("listaccts", params={"api.chunk.size": "1"}).json()
    assert plain["data"] == ignored["data"] and "chunk" not in ignored["metadata"]


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"api.chunk.enable": "1", "api.chunk.size": "0"}, "api.chunk.size"),
        ({"api.chunk.enable": "1", "api.chunk.start": "x"}, "api.chunk.start"),
        ({"api.filter.enable": "1", "api.filter.a.field": "user", "api.filter.a.type": "like"},
         "filter type"),
        ({"api.filter.enable": "1", "api.filter.a.field": "maxpop", "api.filter.a.type": "lt",
          "api.filter.a.arg0": "many"}, "number"),
        ({"api.sort.enable": "1", "api.sort.a.field": "user", "api.sort.a.method": "random"},
         "sort method"),
        ({"api.sort.enable": "yes"}, "1 or 0"),
    ],
)  # fmt: skip
def test_bad_options_are_refused(server: Server, params: dict[str, str], words: str) -> None:
    response = server.get("listaccts", params=params)
    assert response.status_code == 200
    body = response.json()
    assert body["metadata"]["result"] == 0 and words in body["metadata"]["reason"]


def test_bad_options_on_a_changing_function_change_nothing(server: Server) -> None:
    username = "b" + uuid.uuid4().hex[:9]
    response = server.get(
        "createacct",
        params={
            "username": username,
            "domain": f"{username}.example.com",
            "password": server.remember(f"Pw-{generate_password()}"),
            "api.chunk.enable": "1",
            "api.chunk.size": "-1",
        },
    )
    assert response.json()["metadata"]["result"] == 0
    assert server.get("accountsummary", params={"user": username}).json()["metadata"]["result"] == 0


def test_metadata_sort_says_which_sorts_were_applied(
    server: Server, mine: tuple[str, list[str]]
) -> None:
    reseller, _names = mine
    body = listed(
        server,
        {
            "api.filter.enable": "1",
            "api.filter.a.field": "owner",
            "api.filter.a.arg0": reseller,
            "api.filter.a.type": "eq",
            "api.sort.enable": "1",
            "api.sort.b.field": "user",
            "api.sort.b.reverse": "1",
            "api.sort.a.field": "unix_startdate",
            "api.sort.a.method": "numeric",
        },
    )
    assert body["metadata"]["sort"] == [
        {"field": "unix_startdate", "method": "numeric", "reverse": 0},
        {"field": "user", "method": "lexicographic", "reverse": 1},
    ]
    assert "sort" not in listed(server, {"api.sort.a.field": "user"})["metadata"]
