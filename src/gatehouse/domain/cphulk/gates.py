"""What the authenticator keeps in memory to refuse at once, without a store read: the
settings, both lists and the blocks in force. Read again whenever the auth generation moves
(any change to the settings, lists or blocks bumps it, migration 0010)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import sqlalchemy as sa

from gatehouse.domain.cphulk import lists, ranges, settings
from gatehouse.domain.users import ROOT
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


LOOPBACK = tuple(ranges.parse(text) for text in ranges.LOOPBACK_TEXTS)


@dataclass(frozen=True)
class Gate:
    """`local`: the addresses of this server itself — loopback, and the server's own
    (GATEHOUSE_IPS) as the authenticator adds them. As cPanel's cPHulk
    (Cpanel::Hulkd::Processor, `ip_is_loopback` from Cpanel::IP::LocalCheck), a request of
    local origin is never looked up in the lists, never counted toward an address's block nor
    refused by one; its failures are still recorded, and count toward its username's lock
    when username-based protection, or its local-origin switch, is on."""

    settings: settings.Settings
    white: tuple[ranges.Range, ...] = ()
    black: tuple[ranges.Range, ...] = ()
    address_blocks: dict[str, Block] = field(default_factory=dict)
    user_locks: dict[str, Block] = field(default_factory=dict)
    local: tuple[ranges.Range, ...] = LOOPBACK

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

    @cached_property
    def _local(self) -> ranges.RangeSet:
        return ranges.RangeSet.of(self.local)

    def local_origin(self, address: str | None) -> bool:
        """Whether a request from `address` comes from this server itself (no address at
        all counts as local, as in cPanel: there is nothing to count or block)."""
        found = ranges.address_key(address)
        return found is None or self._local.contains(found)

    def whitelisted(self, address: str | None) -> bool:
        """On the white list (or trusted by configuration), as WHM reports it."""
        found = ranges.address_key(address)
        return found is not None and self._white.contains(found)

    def exempt(self, address: str | None) -> bool:
        """Never counted, nor refused by a lock: white-listed, and not of local origin (which
        cPanel does not look up in the lists)."""
        found = ranges.address_key(address)
        return found is not None and self._white.contains(found) and not self._local.contains(found)

    def protects_username(self, username: str | None, address: str | None) -> bool:
        """Whether a login as `username` from `address` is counted toward, and refused by,
        that username's lock: username-based protection, or its local-origin switch for a
        request of local origin; root only when its own switch is on."""
        hulk = self.settings
        if username is None or not self.enabled:
            return False
        on = bool(hulk.username_based_protection) or (
            bool(hulk.username_based_protection_local_origin) and self.local_origin(address)
        )
        return on and (username != ROOT or bool(hulk.username_based_protection_for_root))

    def address_refusal(self, address: str | None, now: int) -> str | None:
        """Why every credential from `address` is refused now, or None."""
        if not self.enabled or address is None:
            return None
        if not self.black and not self.address_blocks:
            return None  # the common case, on the token path: no address parsing at all
        found = ranges.address_key(address)
        if found is None or self._local.contains(found) or self._white.contains(found):
            return None
        if self._black.contains(found):
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
        return self.protects_username(username, address) and not self.exempt(address)


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
