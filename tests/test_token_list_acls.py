"""api_token_list's `acls` maps (a fast path: one cached template per owner and token list),
checked against an answer worked out here from the rule itself, not from the code's own
helpers: a token's effective set is its owner's set narrowed by the token's list (a missing
list, or one holding `all`, is the owner's whole set; on an owner with `all`, exactly the
list); every catalogue privilege is listed 0/1, only those the owner holds unless it holds
`all`. The full answer, byte for byte, is checked over HTTP in test_tokens_api.py
(test_list_answer_is_byte_for_byte_*); here, many more owner and list shapes, and the cache."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from gatehouse import acls
from gatehouse.whm.functions import tokens as whm_tokens
from inprocess import Local, open_local

NAMES = [a.name for a in acls.CATALOGUE]
OTHERS = ["third-party-thing", "onlyselfandglobalpkgs", ""]


def expected(owner: frozenset[str], token_acls: tuple[str, ...] | None) -> dict[str, int]:
    if token_acls is None or "all" in token_acls:
        effective = set(owner)
    elif "all" in owner:
        effective = set(token_acls)
    else:
        effective = set(token_acls) & owner
    shown = sorted(NAMES) if "all" in owner else sorted(n for n in NAMES if n in owner)
    return {name: 1 if "all" in effective or name in effective else 0 for name in shown}


def _cases() -> list[tuple[frozenset[str], tuple[str, ...] | None]]:
    rng = random.Random(20261124)  # fixed: the same cases on every run
    pool = NAMES + OTHERS
    owners = [frozenset({acls.ALL}), frozenset(), frozenset(NAMES) - {acls.ALL}]
    owners += [frozenset(rng.sample(pool, rng.randint(1, 30))) for _ in range(40)]
    lists: list[tuple[str, ...] | None] = [None, (), (acls.ALL,), (acls.ALL, "list-accts")]
    lists += [tuple(rng.choices(pool, k=rng.randint(1, 20))) for _ in range(40)]
    return [(owner, token_acls) for owner in owners for token_acls in lists]


def test_acl_map_equals_the_rule_for_every_kind_of_owner_and_list() -> None:
    cases = _cases()
    assert len(cases) > 1800
    for owner, token_acls in cases:
        got = whm_tokens._acl_map(owner, token_acls)
        assert got == expected(owner, token_acls), (sorted(owner), token_acls)
        assert all(type(v) is int for v in got.values())
        # The envelope sorts keys; the map is already in that order, so it sorts in one pass.
        assert list(got) == sorted(got)


@pytest.fixture
def local(tmp_path: Path) -> Iterator[Local]:
    opened = open_local(tmp_path)
    yield opened
    opened.close()


def test_listed_entries_never_share_their_acls_map(local: Local) -> None:
    lists: list[list[str]] = [[], ["list-accts"], ["list-accts"], ["list-accts", "edit-dns"]]
    for i, acl_list in enumerate(lists):
        params = [("token_name", f"t{i}"), *((f"acl-{n}", a) for n, a in enumerate(acl_list))]
        local.ok("api_token_create", params)
    first = local.ok("api_token_list")["tokens"]
    maps = [entry["acls"] for entry in first.values()]
    assert len({id(m) for m in maps}) == len(maps)
    for entry in first.values():  # a caller in this process scribbling on the answer…
        entry["acls"].clear()
    second = local.ok("api_token_list")["tokens"]  # …changes nothing for the next one
    root = frozenset({acls.ALL})
    for i, acl_list in enumerate(lists):
        assert second[f"t{i}"]["acls"] == expected(root, tuple(acl_list) if acl_list else None)
