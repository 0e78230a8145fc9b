"""What the authenticator keeps in memory to refuse at once, without a store read: the
settings, both lists and the blocks in force. Read again whenever the auth generation moves
(any change to the settings, lists or blocks bumps it, migration 0010)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import sqlalchemy as sa

from gatehouse.domain.cphulk import lists, ranges, settings
from gatehouse.store.schema import cphulk_blocks

IP = "ip"  # max_failures_byip reached: blocked for ip_brute_force_period_mins
EXCESSIVE = "excessive"  # mark_as_brute reached: blocked for a day
USER = "user"  # max_failures reached: the username's password logins locked

AUDIT_ACTION = "CPHULKBLOCK"  # the audit trail's action for a block made

# Denial reasons (the audit trail's reason codes)
BLACKLISTED = "ip_blacklisted"
BLOCKED = "ip_blocked"
USER_LOCKED = "user_locked"
LIMIT_REACHED = "brute_force_limit"


@dataclass(frozen=True, slots=True)
class Block:
    id: int
    kind: str
    address: str | None
    username: str | None
    created_time: int
    expires_time: int
    failures: int


@lru_cache(maxsize=4096)  # as ranges.address_key: asked on every request
def normal(address: str | None) -> str | None:
    """An address as blocks and attempts store it (an IPv4-mapped IPv6 address as IPv4)."""
    if not address:
        return None
    parsed = ranges.client_address(address)
    return str(parsed) if parsed is not None else address[:45]


@dataclass(frozen=True)
class Gate:
    settings: settings.Settings
    white: tuple[ranges.Range, ...] = ()
    black: tuple[ranges.Range, ...] = ()
    address_blocks: dict[str, Block] = field(default_factory=dict)
    user_locks: dict[str, Block] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return bool(self.settings.is_enabled)

    @cached_property
    def refuses_no_address(self) -> bool:
        """Off, or nothing listed or blocked by address: no address is refused, and the token
        path (which no user lock concerns) asks nothing more."""
        return not self.enabled or (not self.black and not self.address_blocks)

    @cached_property
    def _white(self) -> ranges.RangeSet:
        return ranges.RangeSet.of(self.white)

    @cached_property
    def _black(self) -> ranges.RangeSet:
        return ranges.RangeSet.of(self.black)

    def whitelisted(self, address: str | None) -> bool:
        found = ranges.address_key(address)
        return found is not None and self._white.contains(found)

    def address_refusal(self, address: str | None, now: int) -> str | None:
        """Why every credential from `address` is refused now, or None."""
        if not self.enabled or address is None:
            return None
        if not self.black and not self.address_blocks:
            return None  # the common case, on the token path: no address parsing at all
        if self.whitelisted(address):
            return None
        found = ranges.address_key(address)  # remembered: whitelisted has just made it
        if found is not None and self._black.contains(found):
            return BLACKLISTED
        if not self.address_blocks:
            return None
        block = self.address_blocks.get(normal(address) or "")
        if block is not None and block.expires_time > now:
            return BLOCKED
        return None

    def block_for(self, address: str | None) -> Block | None:
        return self.address_blocks.get(normal(address) or "")

    def user_locked(self, username: str | None, address: str | None, now: int) -> bool:
        """Whether `username`'s password logins are locked for a request from `address`."""
        if not self.enabled or username is None:
            return False
        lock = self.user_locks.get(username)
        if lock is None or lock.expires_time <= now:
            return False
        return not self.whitelisted(address)


def read(conn: sa.Connection, now: int) -> Gate:
    listed = lists.read(conn)
    address_blocks: dict[str, Block] = {}
    user_locks: dict[str, Block] = {}
    rows = conn.execute(
        sa.select(cphulk_blocks)
        .where(cphulk_blocks.c.expires_time > now)
        .order_by(cphulk_blocks.c.expires_time)
    )
    for row in rows:
        block = Block(**row._mapping)
        if block.kind == USER and block.username is not None:
            user_locks[block.username] = block  # the latest expiry wins (ordered)
        elif block.address is not None:
            address_blocks[block.address] = block
    return Gate(
        settings.load(conn),
        tuple(e.range for e in listed[lists.WHITE]),
        tuple(e.range for e in listed[lists.BLACK]),
        address_blocks,
        user_locks,
    )
