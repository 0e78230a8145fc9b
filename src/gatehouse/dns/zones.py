"""The zones table: the only code that reads or writes it. A zone is kept as the text of its
zone file (`gatehouse.dns.text`), so the text is the source of truth. Every change of a zone's
text goes through `save()`: it sets the next SOA serial in the text, validates the zone and
stores it with a compare-and-swap on the serial, so two writers starting from the same serial
cannot both win. Creating and deleting zones go through `create()` (or `from_template()` then
`add()`) and `delete()` (docs/dns.md). Every write notes the zone's name for `recording()`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

from gatehouse.dns import version_line
from gatehouse.dns.errors import stale
from gatehouse.dns.parsed import PARSED
from gatehouse.dns.serial import join_soa, next_serial, set_serial, soa_entry, with_serial
from gatehouse.dns.template import template
from gatehouse.dns.text import Entry
from gatehouse.dns.text import normalise as normalise  # a zone name as stored (callers use it)
from gatehouse.dns.validate import check_structure, validate
from gatehouse.errors import Conflict
from gatehouse.store.schema import cluster_outbox, cluster_peers, users, zones


@dataclass(frozen=True, slots=True)
class Zone:
    name: str  # no trailing dot
    owner_user_id: int
    text: str
    serial: int
    updated_time: int = 0


PUSHING_ROLES = ("sync", "write-only")  # DNS cluster roles that push (docs/cluster.md)
# What a DNS cluster outbox row asks of a peer: a zone new to it (sent as quickzoneadd, which
# also registers the zone with its nameserver), a changed one (savezone and a reload), a
# removal (docs/cluster.md).
ADD, SAVE, REMOVE = "add", "save", "remove"

# The names of the zones written (created, changed, renamed, deleted) inside `recording()`:
# the zone files that an API call's own sync must write or remove (dns/zonefiles.py).
_RECORDED: ContextVar[set[str] | None] = ContextVar("gatehouse_zones_written", default=None)


@contextmanager
def recording() -> Iterator[set[str]]:
    """Collect the names of the zones this code writes meanwhile (in this thread, or this
    task): whatever the connection, whether or not its transaction commits."""
    names: set[str] = set()
    token = start_recording(names)
    try:
        yield names
    finally:
        stop_recording(token)


def start_recording(names: set[str]) -> Token[set[str] | None]:
    """`recording()` without a generator, for code that runs on every API call (a generator
    context manager costs about a microsecond): pair with `stop_recording`."""
    return _RECORDED.set(names)


def stop_recording(token: Token[set[str] | None]) -> None:
    _RECORDED.reset(token)


def _written(names: Iterable[str]) -> None:
    recorded = _RECORDED.get()
    if recorded is not None:
        recorded.update(names)


def _push(conn: sa.Connection, names: Sequence[str], action: str, now: int | None = None) -> None:
    """Queue the change for every DNS cluster peer that takes pushes, in the transaction of
    the change itself (the outbox: nothing is lost if the process dies before it is sent)."""
    if not names:
        return
    # FOR KEY SHARE (PostgreSQL; nothing on SQLite, one writer at a time): a peer being
    # removed at this moment (`cluster_peers.remove` holds its row FOR UPDATE) is waited for
    # and then skipped, instead of read before its removal commits and its change refused by
    # the outbox's foreign key; and a removal that starts after this waits for the change and
    # then deletes what it queued.
    peers = (
        conn.execute(
            sa.select(cluster_peers.c.id)
            .where(cluster_peers.c.role.in_(PUSHING_ROLES))
            .with_for_update(read=True, key_share=True)
        )
        .scalars()
        .all()
    )
    if not peers:
        return
    when = int(time.time()) if now is None else now
    conn.execute(
        sa.insert(cluster_outbox),
        [
            {
                "peer_id": peer,
                "zone": name,
                "action": action,
                "created_time": when,
                "attempts": 0,
                "next_attempt": when,
                "claimed_until": 0,
            }
            for peer in peers
            for name in names
        ],
    )


def _zone(row: Any) -> Zone:
    return Zone(row.name, int(row.user_id), row.text, int(row.serial), int(row.updated_time))


# Built once (as users.get's): every call on a zone reads it by name first.
_BY_NAME = sa.select(zones).where(zones.c.name == sa.bindparam("name"))


def get(conn: sa.Connection, name: str) -> Zone | None:
    row = conn.execute(_BY_NAME, {"name": normalise(name)}).first()
    return _zone(row) if row else None


def lock(conn: sa.Connection, name: str) -> None:
    """Take the write lock before reading the zone: on SQLite a transaction that read first
    could not upgrade to a writer once another committed (SQLITE_BUSY); on PostgreSQL this
    locks the row. The compare-and-swap in `save()` is the guarantee either way."""
    conn.execute(
        sa.update(zones).where(zones.c.name == normalise(name)).values(serial=zones.c.serial)
    )


_EVERY_NAME = sa.select(zones.c.name).order_by(zones.c.name)
_NAMES_OF_CALLER = _EVERY_NAME.join(users, users.c.id == zones.c.user_id).where(
    sa.or_(users.c.id == sa.bindparam("caller_id"), users.c.owner == sa.bindparam("caller"))
)


def list_visible(conn: sa.Connection, *, all_zones: bool, caller_id: int, caller: str) -> list[str]:
    """The zones a caller sees: every zone, or those of itself and the accounts it owns."""
    if all_zones:
        return [r.name for r in conn.execute(_EVERY_NAME)]
    found = conn.execute(_NAMES_OF_CALLER, {"caller_id": caller_id, "caller": caller})
    return [r.name for r in found]


def names_of_user(conn: sa.Connection, user_id: int) -> list[str]:
    rows = conn.execute(
        sa.select(zones.c.name).where(zones.c.user_id == user_id).order_by(zones.c.name)
    )
    return [r.name for r in rows]


def reassign(conn: sa.Connection, from_user_id: int, to_user_id: int) -> list[str]:
    """Give a user's zones to another (removeacct keepdns=1 gives them to root)."""
    names = names_of_user(conn, from_user_id)
    conn.execute(sa.update(zones).where(zones.c.user_id == from_user_id).values(user_id=to_user_id))
    return names


def delete(conn: sa.Connection, name: str, *, push: bool = True) -> bool:
    """Delete a zone (queued for the DNS cluster peers unless `push` is off: a removal a
    peer sent is not sent back)."""
    result = conn.execute(sa.delete(zones).where(zones.c.name == normalise(name)))
    if result.rowcount:
        _written([normalise(name)])
        if push:
            _push(conn, [normalise(name)], REMOVE)
    return bool(result.rowcount)


def deleted_with_user(conn: sa.Connection, user_id: int) -> list[str]:
    """The zones a user still owns, which go with it when its row is deleted (ON DELETE
    CASCADE): noted as written, like every other removal, and queued as removals for the DNS
    cluster's pushing peers (cPanel's removeacct runs killdns, which the cluster carries)."""
    names = names_of_user(conn, user_id)
    _written(names)
    _push(conn, names, REMOVE)
    return names


@dataclass(frozen=True, slots=True)
class NewZone:
    """A zone validated and not stored yet: made from the default template (`add`) or as a
    DNS cluster peer sent it (`store_given`)."""

    name: str
    text: str
    serial: int


def from_template(
    name: str,
    *,
    ip: str,
    nameservers: Sequence[str],
    now: int,
    hostname: str,
    contact: str | None = None,
    ipv6: str | None = None,
) -> NewZone:
    """A new zone's text from the default template, validated. Made before a transaction's
    first write (createacct), it keeps the dnspython read out of the time the transaction holds
    SQLite's one write lock."""
    name = normalise(name)
    serial = next_serial(0, now)
    text = template(
        name,
        ip=ip,
        nameservers=nameservers,
        serial=serial,
        hostname=hostname,
        update_time=now,
        contact=contact,
        ipv6=ipv6,
    )
    validate(name, text)
    return NewZone(name, text, serial)


def add(conn: sa.Connection, new: NewZone, *, user_id: int, now: int) -> Zone:
    """Store a zone made by `from_template`; Conflict if one of that name exists."""
    if get(conn, new.name) is not None:
        raise Conflict(f"The DNS zone “{new.name}” already exists.")
    return _insert(conn, new, user_id, now)


def create(
    conn: sa.Connection,
    name: str,
    *,
    user_id: int,
    ip: str,
    nameservers: Sequence[str],
    now: int,
    hostname: str,
    contact: str | None = None,
    ipv6: str | None = None,
) -> Zone:
    """A new zone from the default template; Conflict if it exists."""
    name = normalise(name)
    if get(conn, name) is not None:
        raise Conflict(f"The DNS zone “{name}” already exists.")
    new = from_template(
        name,
        ip=ip,
        nameservers=nameservers,
        now=now,
        hostname=hostname,
        contact=contact,
        ipv6=ipv6,
    )
    return _insert(conn, new, user_id, now)


def _insert(conn: sa.Connection, new: NewZone, user_id: int, now: int) -> Zone:
    conn.execute(
        sa.insert(zones).values(
            name=new.name, user_id=user_id, text=new.text, serial=new.serial, updated_time=now
        )
    )
    _written([new.name])
    _push(conn, [new.name], ADD, now)
    return Zone(new.name, user_id, new.text, new.serial, now)


def _moved_on(conn: sa.Connection, zone: Zone) -> Exception:
    """Another writer changed the zone since it was read (the compare-and-swap failed)."""
    current = conn.execute(sa.select(zones.c.serial).where(zones.c.name == zone.name)).scalar()
    return stale(zone.serial, current)


def rename(conn: sa.Connection, zone: Zone, new_name: str, now: int) -> Zone:
    """Move a zone to a new name (modifyacct's domain change): every absolute name at or
    under the old apex moves under the new one, relative names stay, the serial is bumped,
    the result validated, and the compare-and-swap applies as in `save()`."""
    new_name = normalise(new_name)
    if get(conn, new_name) is not None:
        raise Conflict(f"The DNS zone “{new_name}” already exists.")
    pattern = re.compile(
        r"(?<![A-Za-z0-9_-])" + re.escape(zone.name) + r"\.(?![A-Za-z0-9_-])", re.IGNORECASE
    )
    new_serial = next_serial(zone.serial, now)
    text = set_serial(new_name, pattern.sub(f"{new_name}.", zone.text), new_serial)
    text, _ = version_line.renew(text, now)
    validate(new_name, text)
    result = conn.execute(
        sa.update(zones)
        .where(zones.c.name == zone.name, zones.c.serial == zone.serial)
        .values(name=new_name, text=text, serial=new_serial, updated_time=now)
    )
    if result.rowcount != 1:
        raise _moved_on(conn, zone)
    _written([zone.name, new_name])
    _push(conn, [zone.name], REMOVE, now)
    _push(conn, [new_name], ADD, now)
    return Zone(new_name, zone.owner_user_id, text, new_serial, now)


def reset(
    conn: sa.Connection,
    zone: Zone,
    *,
    ip: str,
    nameservers: Sequence[str],
    now: int,
    hostname: str,
    contact: str | None = None,
    ipv6: str | None = None,
) -> int:
    """Rewrite a zone from the template (resetzone, and adddns over an existing zone); returns
    the new serial. The new text's version line keeps the zone's `first` (the save renews
    it)."""
    text = template(
        zone.name,
        ip=ip,
        nameservers=nameservers,
        serial=zone.serial,
        hostname=hostname,
        update_time=now,
        contact=contact,
        first=version_line.first_of(zone.text),
        ipv6=ipv6,
    )
    return save(conn, zone, text, now)


def save(conn: sa.Connection, zone: Zone, new_text: str, now: int) -> int:
    """THE way a zone's text changes: set the next serial in the SOA, validate the whole zone,
    and store it if the zone still has `zone.serial` (else Stale). Returns the new serial."""
    new_serial = next_serial(zone.serial, now)
    made = PARSED.get(zone.name, new_text)
    if made is not None and made[1] is not None:
        # Made by apply_edits from the stored zone, every new line already checked: the
        # zone-wide rules are checked on its entries, at the owners the edit touched (a
        # whole-text dnspython read of a large zone costs ~65 µs a record).
        entries = with_serial(zone.name, list(made[0]), new_serial)
        new_text = join_soa(new_text, entries)
        new_text, entries = _renew_version(new_text, entries, now)
        check_structure(zone.name, entries, owners=made[1])
        PARSED.put(zone.name, new_text, entries, frozenset())
    else:
        new_text, _ = version_line.renew(set_serial(zone.name, new_text, new_serial), now)
        validate(zone.name, new_text)
    result = conn.execute(
        sa.update(zones)
        .where(zones.c.name == zone.name, zones.c.serial == zone.serial)
        .values(text=new_text, serial=new_serial, updated_time=now)
    )
    if result.rowcount != 1:
        raise _moved_on(conn, zone)
    _written([zone.name])
    _push(conn, [zone.name], SAVE, now)
    return new_serial


def _renew_version(text: str, entries: list[Entry], now: int) -> tuple[str, list[Entry]]:
    """The saved text's version line renewed (dns/version_line.py), in its parsed entries
    too (they are kept for the next read of the zone)."""
    text, index = version_line.renew(text, now)
    if index is None:
        return text, entries
    for i, entry in enumerate(entries):
        if entry.kind == "comment" and entry.line_index == index:
            entries[i] = Entry("comment", index, 1, text.split("\n", index + 1)[index])
            break
    return text, entries


def as_given(name: str, text: str) -> NewZone:
    """A zone as a DNS cluster peer sent it (docs/cluster.md), validated whole, with the serial
    its SOA carries (a `sync` peer compares serials, so it must not move); InvalidZone (with
    the line) when the text does not load. Nothing is read or written: a batch checks every
    zone before its transaction (`store_given`)."""
    name = normalise(name)
    validate(name, text)
    entry = soa_entry(name, text)
    serial = int(entry.tokens[2].value) if entry is not None and len(entry.tokens) > 2 else 0
    return NewZone(name, text, serial)


def store_given(conn: sa.Connection, given: NewZone, *, user_id: int, now: int) -> Zone:
    """Store a zone made by `as_given`, replacing any zone of that name (cPanel's savezone
    replaces; the last writer wins), created owned by `user_id` when new."""
    name, text, serial = given.name, given.text, given.serial
    existing = get(conn, name)
    _written([name])
    if existing is None:
        conn.execute(
            sa.insert(zones).values(
                name=name, user_id=user_id, text=text, serial=serial, updated_time=now
            )
        )
        return Zone(name, user_id, text, serial, now)
    conn.execute(
        sa.update(zones)
        .where(zones.c.name == name)
        .values(text=text, serial=serial, updated_time=now)
    )
    return Zone(name, existing.owner_user_id, text, serial, now)


# -- the nameserver's reads -------------------------------------------------------------------
# The nameserver reads zones on its own DB-API connection, without SQLAlchemy's pool and
# execution layer (gatehouse.dns.nameserver.zonesource): these statements are compiled to
# that driver's SQL once, with positional parameters.

_VERSION_COLUMNS = (zones.c.name, zones.c.id, zones.c.serial, zones.c.updated_time)


def _dialect(sqlite: bool) -> sa.Dialect:
    if sqlite:
        return SQLiteDialect_pysqlite()
    # paramstyle "format": psycopg's positional %s. (SQLAlchemy's dialect is untyped.)
    return PGDialect_psycopg(paramstyle="format")  # type: ignore[no-untyped-call]


def find_versions_sql(*, sqlite: bool, count: int) -> str:
    """SQL giving (name, id, serial, updated_time) of each zone among some names: on SQLite,
    `count` names as as many parameters; on PostgreSQL, one parameter, the list."""
    where: sa.ColumnElement[bool]
    if sqlite:
        where = zones.c.name.in_([sa.bindparam(f"name{i}") for i in range(count)])
    else:
        where = zones.c.name == sa.func.any(sa.bindparam("names"))
    return str(sa.select(*_VERSION_COLUMNS).where(where).compile(dialect=_dialect(sqlite)))


def load_sql(*, sqlite: bool) -> str:
    """SQL giving (id, serial, updated_time, text) of the zone named by its one parameter."""
    query = sa.select(zones.c.id, zones.c.serial, zones.c.updated_time, zones.c.text).where(
        zones.c.name == sa.bindparam("name")
    )
    return str(query.compile(dialect=_dialect(sqlite)))


# -- the zone files' reads (gatehouse.dns.zonefiles) ------------------------------------------


def fingerprint(conn: sa.Connection) -> tuple[object, ...]:
    """One row that changes whenever a zone is added, removed or changed: every change
    raises the serial (a sum) and sets updated_time; an added zone raises the count or, with
    a removal, the largest id. Two changes that cancel out in all four at once are possible
    in theory only, and FULL_SCAN_EVERY bounds how long one could go unseen."""
    return tuple(
        conn.execute(
            sa.select(
                sa.func.count(),
                sa.func.max(zones.c.id),
                sa.func.sum(zones.c.serial),
                sa.func.sum(zones.c.updated_time),
            )
        ).one()
    )


def versions(conn: sa.Connection) -> dict[str, tuple[int, int, int]]:
    """(id, serial, updated_time) of every zone, by name."""
    query = sa.select(zones.c.name, zones.c.id, zones.c.serial, zones.c.updated_time)
    return {
        str(name): (int(id_), int(serial), int(updated))
        for name, id_, serial, updated in conn.execute(query)
    }


def texts(
    conn: sa.Connection, names: Sequence[str] | None = None
) -> list[tuple[str, tuple[int, int, int], str]]:
    """(name, (id, serial, updated_time), text) of the zones `names` (those that exist), or of
    every zone."""
    query = sa.select(zones.c.name, zones.c.id, zones.c.serial, zones.c.updated_time, zones.c.text)
    if names is not None:
        query = query.where(zones.c.name.in_(names))
    return [
        (str(r.name), (int(r.id), int(r.serial), int(r.updated_time)), str(r.text))
        for r in conn.execute(query)
    ]
