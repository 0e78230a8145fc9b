"""cPHulk's white list (never blocked, never counted) and black list (always refused)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from gatehouse.domain.cphulk import ranges
from gatehouse.errors import GatehouseError, InvalidParameter
from gatehouse.store.schema import cphulk_blocks, cphulk_lists, login_attempts

WHITE = "white"
BLACK = "black"
NAMES = (WHITE, BLACK)
MAX_COMMENT = 255


@dataclass(frozen=True, slots=True)
class Entry:
    range: ranges.Range
    comment: str | None


@dataclass
class Added:
    added: list[str]  # as cPanel shows them (FIRST-LAST for a range)
    original: list[str]  # as given
    failed: dict[str, str]
    blocks_removed: int = 0


def list_name(text: str | None) -> str:
    if text not in NAMES:
        raise InvalidParameter("The “list_name” parameter must be “white” or “black”.")
    return text


def read(conn: sa.Connection, name: str | None = None) -> dict[str, list[Entry]]:
    stmt = sa.select(cphulk_lists).order_by(cphulk_lists.c.first, cphulk_lists.c.last)
    if name is not None:
        stmt = stmt.where(cphulk_lists.c.list_name == name)
    found: dict[str, list[Entry]] = {WHITE: [], BLACK: []}
    for row in conn.execute(stmt):
        entry = ranges.Range(row.first, row.last, row.given)
        found[row.list_name].append(Entry(entry, row.comment))
    return found


def add(conn: sa.Connection, name: str, records: list[tuple[str, str | None]], now: int) -> Added:
    """Add each (address or range, comment); one bad entry fails alone (as cPanel reports it
    in `ips_failed`). Adding to the white list lifts the blocks of the addresses it covers."""
    result = Added([], [], {})
    for text, comment in records:
        if comment is not None and len(comment) > MAX_COMMENT:
            result.failed[text] = f"The comment exceeds {MAX_COMMENT} characters."
            continue
        try:
            entry = ranges.parse(text)
        except GatehouseError as exc:
            result.failed[text] = exc.reason
            continue
        same = (
            (cphulk_lists.c.list_name == name)
            & (cphulk_lists.c.first == entry.first)
            & (cphulk_lists.c.last == entry.last)
        )
        if conn.execute(sa.update(cphulk_lists).where(same).values(comment=comment)).rowcount:
            pass  # already listed: cPanel updates the comment
        else:
            conn.execute(
                sa.insert(cphulk_lists).values(
                    list_name=name,
                    first=entry.first,
                    last=entry.last,
                    given=entry.shown,
                    comment=comment,
                    created_time=now,
                )
            )
        result.added.append(entry.shown)
        result.original.append(text.strip())
        if name == WHITE:
            result.blocks_removed += _lift_blocks(conn, entry)
    return result


def remove(conn: sa.Connection, name: str, texts: list[str]) -> tuple[list[str], dict[str, str]]:
    """Remove each listed address or range; those not listed (or not valid) are failures."""
    removed: list[str] = []
    failed: dict[str, str] = {}
    for text in texts:
        try:
            entry = ranges.parse(text)
        except GatehouseError as exc:
            failed[text] = exc.reason
            continue
        gone = conn.execute(
            sa.delete(cphulk_lists).where(
                (cphulk_lists.c.list_name == name)
                & (cphulk_lists.c.first == entry.first)
                & (cphulk_lists.c.last == entry.last)
            )
        ).rowcount
        if gone:
            removed.append(text.strip())
        else:
            failed[text] = f"“{text.strip()}” is not on the {name} list."
    return removed, failed


def _lift_blocks(conn: sa.Connection, entry: ranges.Range) -> int:
    """Delete the blocks and counted failures of the addresses inside `entry`."""
    lifted = 0
    for table in (cphulk_blocks, login_attempts):
        addresses = conn.execute(
            sa.select(table.c.address).where(table.c.address.is_not(None)).distinct()
        ).scalars()
        inside = [a for a in addresses if entry.contains(ranges.address_key(a) or "")]
        if inside:
            count = conn.execute(sa.delete(table).where(table.c.address.in_(inside))).rowcount
            if table is cphulk_blocks:
                lifted += count
    return lifted
