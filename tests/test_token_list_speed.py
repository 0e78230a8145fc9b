"""api_token_list's fast path, unit level: the cached `acls` maps equal what the reference
semantics give (effective privileges, then every catalogue privilege as 0/1, narrowed to what a
reseller holds) for owners and token lists of every kind; and no listed entry shares its map
with another entry or with the cache. The full answer, byte for byte, is checked over HTTP in
test_tokens_api.py (test_list_answer_is_byte_for_byte_*)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from gatehouse import acls
from gatehouse.domain import privileges
from gatehouse.whm.functions import tokens as whm_tokens
from gatehouse.whm.functions.meta import privilege_map

NAMES = [a.name for a in acls.CATALOGUE]
OTHERS = ["third-party-thing", "onlyselfandglobalpkgs", ""]


def reference(owner: frozenset[str], token_acls: tuple[str, ...] | None) -> dict[str, int]:
    """The map as api_token_list built it before the fast path (one per token)."""
    acl_map = privilege_map(privileges.effective(owner, token_acls))
    if acls.ALL not in owner:
        acl_map = {k: v for k, v in acl_map.items() if k in owner}
    return acl_map


def _cases() -> list[tuple[frozenset[str], tuple[str, ...] | None]]:
    rng = random.Random(20261124)  # fixed: the same cases on every run
    pool = NAMES + OTHERS
    owners = [frozenset({acls.ALL}), frozenset(), frozenset(NAMES) - {acls.ALL}]
    owners += [frozenset(rng.sample(pool, rng.randint(1, 30))) for _ in range(40)]
    lists: list[tuple[str, ...] | None] = [None, (), (acls.ALL,), (acls.ALL, "list-accts")]
    lists += [tuple(rng.choices(pool, k=rng.randint(1, 20))) for _ in range(40)]
    return [(owner, token_acls) for owner in owners for token_acls in lists]


def test_acl_map_equals_the_reference_for_every_kind_of_owner_and_list() -> None:
    cases = _cases()
    assert len(cases) > 1800
    for owner, token_acls in cases:
        got = whm_tokens._acl_map(owner, token_acls)
        want = reference(owner, token_acls)
        assert got == want, (sorted(owner), token_acls)
        assert all(type(v) is int for v in got.values())
        # The envelope sorts keys; the map is already in that order, so it sorts in one pass.
        assert list(got) == sorted(got)


class _Principal:
    def __init__(self, user: Any) -> None:
        self.user = user


class _User:
    id = 1

    def __init__(self, held: frozenset[str]) -> None:
        self.privileges = held


class _Call:
    conn = None

    def __init__(self, held: frozenset[str]) -> None:
        self.principal = _Principal(_User(held))


ROWS = [
    ("a", None, None, 1_700_000_000, None, None, None),
    ("b", ["list-accts"], ["10.0.0.0/8"], 1_700_000_001, 1_900_000_000, 1_700_000_500, "::1"),
    ("c", None, ["192.0.2.1"], 1_700_000_002, None, None, None),
    ("d", ["list-accts"], None, 1_700_000_003, 1_600_000_000, None, None),
    ("e", [], [], 1_700_000_004, None, None, None),
]


@pytest.mark.parametrize(
    "held", [frozenset({acls.ALL}), frozenset({"manage-api-tokens", "list-accts"})]
)
def test_listed_entries_never_share_their_acls_map(
    held: frozenset[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(whm_tokens.store, "list_summaries", lambda *a: ROWS)
    call: Any = _Call(held)
    first = whm_tokens.api_token_list(call)["tokens"]
    maps = [entry["acls"] for entry in first.values()]
    assert len({id(m) for m in maps}) == len(maps)
    for entry in first.values():  # a caller scribbling on the answer…
        entry["acls"].clear()
        entry["whitelist_ips"] = None
    second = whm_tokens.api_token_list(call)["tokens"]  # …changes nothing for the next one
    for name, stored, ips, create_time, expires_at, last_used, last_used_ip in ROWS:
        assert second[name] == {
            "acls": reference(held, tuple(stored) if stored is not None else None),
            "create_time": create_time,
            "expires_at": expires_at,
            "last_used": last_used,
            "last_used_ip": last_used_ip,
            "name": name,
            "whitelist_ips": list(ips) if ips else None,
        }
    assert ROWS[1][2] == ["10.0.0.0/8"]  # the store's list is copied, not handed out
