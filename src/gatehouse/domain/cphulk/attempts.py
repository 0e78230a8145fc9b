"""Counting failed logins and making blocks, atomically across processes and nodes.

A password check (Argon2, ~0.15 s) is admitted first: a pending attempt is written and the
failures and pending attempts in the windows are counted in the same transaction, under a
lock that every node takes (PostgreSQL: an advisory lock per address and per username;
SQLite: the write lock the insert takes). So 64 concurrent wrong passwords get exactly
`max_failures_byip` checks, never 64. Cheap checks (tokens, the access hash) are counted once
they have failed. An attempt refused by a limit or a block is not counted, so waiting out the
window always works."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import sqlalchemy as sa

from gatehouse.domain.cphulk import gates
from gatehouse.domain.cphulk import settings as hulk_settings
from gatehouse.domain.cphulk.gates import Block, Gate, normal
from gatehouse.store.schema import cphulk_blocks, login_attempts


@dataclass(frozen=True, slots=True)
class Attempt:
    """Who tried, from where, how: cPHulk's `service` (whostmgrd, cpaneld) and
    `authservice` (password, token, accesshash, header)."""

    address: str | None
    username: str | None
    service: str
    authservice: str


@dataclass(frozen=True, slots=True)
class Admitted:
    attempt_id: int | None  # None: not tracked (cPHulk off, or a white-listed address)


@dataclass(frozen=True, slots=True)
class Refused:
    reason: str
    new_blocks: tuple[Block, ...] = ()


def admit(conn: sa.Connection, gate: Gate, attempt: Attempt, now: int) -> Admitted | Refused:
    """Before a password check: refused when the address or the username has already used up
    its failures; else a pending attempt that `settle` resolves."""
    address = normal(attempt.address)
    if not gate.enabled or gate.exempt(address):
        return Admitted(None)
    _lock(conn, address, attempt.username)
    attempt_id = _insert(conn, attempt, now, pending=True)
    settings = gate.settings
    over_ip = (
        _address_protected(gate, address)
        and address is not None
        and (
            _count(conn, login_attempts.c.address == address, now - settings.ip_window)
            > settings.max_failures_byip
        )
    )
    over_user = gate.protects_username(attempt.username, address) and (
        _count(conn, login_attempts.c.username == attempt.username, now - settings.user_window)
        > settings.max_failures
    )
    if not (over_ip or over_user):
        return Admitted(attempt_id)
    conn.execute(sa.delete(login_attempts).where(login_attempts.c.id == attempt_id))
    return Refused(gates.LIMIT_REACHED, tuple(_evaluate(conn, gate, attempt, now)))


def settle(
    conn: sa.Connection, gate: Gate, admitted: Admitted, attempt: Attempt, failed: bool, now: int
) -> list[Block]:
    """After the check: a success leaves no trace; a failure counts (and may block)."""
    if admitted.attempt_id is None:
        return []
    row = login_attempts.c.id == admitted.attempt_id
    if not failed:
        conn.execute(sa.delete(login_attempts).where(row))
        return []
    _lock(conn, normal(attempt.address), attempt.username)
    conn.execute(sa.update(login_attempts).where(row).values(pending=False, time=now))
    return _evaluate(conn, gate, attempt, now)


def counts(gate: Gate, address: str | None) -> bool:
    """Whether a failure from `address` is counted at all (cPHulk on, the address not
    white-listed; one of local origin is, toward its username and in the history)."""
    return gate.enabled and not gate.exempt(address)


def record_failure(conn: sa.Connection, gate: Gate, attempt: Attempt, now: int) -> list[Block]:
    """A failed check that was not admitted first (a wrong token, say): count it."""
    if not counts(gate, attempt.address):
        return []
    _lock(conn, normal(attempt.address), attempt.username)
    _insert(conn, attempt, now, pending=False)
    return _evaluate(conn, gate, attempt, now)


def _address_protected(gate: Gate, address: str | None) -> bool:
    """Whether failures from `address` count toward blocking it: never this server's own."""
    return bool(gate.settings.ip_based_protection) and not gate.local_origin(address)


def _evaluate(conn: sa.Connection, gate: Gate, attempt: Attempt, now: int) -> list[Block]:
    """The blocks the failures now counted call for, made unless one is already in force."""
    settings = gate.settings
    address = normal(attempt.address)
    made: list[Block] = []
    if _address_protected(gate, address) and address is not None:
        by_address = login_attempts.c.address == address
        failures = _count(conn, by_address, now - settings.lookback, pending=False)
        if settings.mark_as_brute and failures >= settings.mark_as_brute:
            made += _block(
                conn, gates.EXCESSIVE, address, None, now, hulk_settings.EXCESSIVE_BLOCK, failures
            )
        failures = _count(conn, by_address, now - settings.ip_window, pending=False)
        if settings.max_failures_byip and failures >= settings.max_failures_byip:
            made += _block(conn, gates.IP, address, None, now, settings.ip_window, failures)
    if gate.protects_username(attempt.username, address):
        by_user = login_attempts.c.username == attempt.username
        failures = _count(conn, by_user, now - settings.user_window, pending=False)
        if settings.max_failures and failures >= settings.max_failures:
            made += _block(
                conn, gates.USER, None, attempt.username, now, settings.user_window, failures
            )
    return made


def _block(
    conn: sa.Connection,
    kind: str,
    address: str | None,
    username: str | None,
    now: int,
    duration: int,
    failures: int,
) -> list[Block]:
    """A new block, or nothing when one of this kind is in force for the same subject."""
    same = (cphulk_blocks.c.kind == kind) & (cphulk_blocks.c.expires_time > now)
    same &= (
        cphulk_blocks.c.username == username
        if username is not None
        else cphulk_blocks.c.address == address
    )
    if conn.execute(sa.select(cphulk_blocks.c.id).where(same).limit(1)).first() is not None:
        return []
    values = {
        "kind": kind,
        "address": address,
        "username": username,
        "created_time": now,
        "expires_time": now + duration,
        "failures": failures,
    }
    inserted = conn.execute(sa.insert(cphulk_blocks).values(**values)).inserted_primary_key
    assert inserted is not None
    return [Block(int(inserted[0]), kind, address, username, now, now + duration, failures)]


def _insert(conn: sa.Connection, attempt: Attempt, now: int, *, pending: bool) -> int:
    result = conn.execute(
        sa.insert(login_attempts).values(
            time=now,
            address=normal(attempt.address),
            username=attempt.username[:64] if attempt.username else None,
            service=attempt.service,
            authservice=attempt.authservice,
            pending=pending,
        )
    )
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


def _count(
    conn: sa.Connection, who: sa.ColumnElement[bool], since: int, *, pending: bool = True
) -> int:
    """Failures (and, with `pending`, attempts being checked) of `who` since `since`."""
    stmt = sa.select(sa.func.count()).where(who, login_attempts.c.time >= since)
    if not pending:
        stmt = stmt.where(login_attempts.c.pending.is_(False))
    return int(conn.execute(stmt).scalar_one())


def _lock(conn: sa.Connection, address: str | None, username: str | None) -> None:
    """Serialise counting for this address and username across nodes (PostgreSQL; on SQLite
    the insert that follows takes the store's single write lock)."""
    if conn.dialect.name != "postgresql":
        return
    keys = sorted(
        zlib.crc32(f"{kind}:{value}".encode()) - 2**31
        for kind, value in (("address", address), ("user", username))
        if value
    )
    for lock_key in keys:
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(lock_key)))
