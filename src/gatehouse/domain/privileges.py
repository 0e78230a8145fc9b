"""Effective privileges of a request (whm-reference §3.3)."""

from __future__ import annotations

from collections.abc import Iterable

from gatehouse.acls import ALL


def is_full_access(token_acls: Iterable[str] | None) -> bool:
    """A token with no stored ACL list, or one that contains `all`, has full access."""
    return token_acls is None or ALL in token_acls


def effective(owner: frozenset[str], token_acls: Iterable[str] | None) -> frozenset[str]:
    """What a token may do: its owner's *current* set, narrowed by the token's own list.

    Full-access tokens follow later changes to the owner; a limited token on an owner with
    `all` holds exactly its list; on anyone else, the intersection with what the owner holds.
    """
    if token_acls is None:
        return owner
    wanted = frozenset(token_acls)  # once: `token_acls` may be a one-shot iterator
    if ALL in wanted:
        return owner
    if ALL in owner:
        return wanted
    return wanted & owner
