"""The one write path for record edits of either face (WHM API 1's DNS functions, UAPI `DNS`,
API 2 `ZoneEdit`): store the zone's edited text and audit it."""

from __future__ import annotations

from gatehouse.dns import zones
from gatehouse.dns.changes import MassEdit, apply_edits
from gatehouse.dns.errors import stale
from gatehouse.dns.validate import validate
from gatehouse.domain import audit, token_scope
from gatehouse.domain.unit import UnitOfWork


def save_edit(unit: UnitOfWork, zone: zones.Zone, text: str, what: str) -> int:
    """Store a zone's edited text (`zones.save`: next serial, validation, compare-and-swap) and
    audit it. `zone` must have been read under the write lock. Returns the new serial. A
    token limited to some record names (its scope) may change those records only."""
    _check_scope(unit, zone, text)
    new_serial = zones.save(unit.conn, zone, text, unit.now)
    unit.audit(
        audit.ZONE_EDIT,
        zone.name,
        f"serial {zone.serial} -> {new_serial}: {what} ({unit.function})",
    )
    return new_serial


def _check_scope(unit: UnitOfWork, zone: zones.Zone, text: str) -> None:
    principal = getattr(unit, "principal", None)  # a Call has one; the server's own work not
    token = getattr(principal, "token", None)
    token_scope.check_edit(token.scope if token is not None else None, zone, text)


def save_serial_only(unit: UnitOfWork, zone: zones.Zone, would_be: str, what: str) -> int:
    """cPanel's answer to an edit of a line where no record starts (Whostmgr::DNS::
    edit_zone_record given a whole record there): the record is checked as if it were added
    (`would_be`: the zone with it) but not written, and the zone is saved as it is — its
    serial moved on. Returns the new serial."""
    _check_scope(unit, zone, would_be)
    validate(zone.name, would_be)
    return save_edit(unit, zone, zone.text, what)


def apply_mass_edit(unit: UnitOfWork, zone: zones.Zone, serial: str, edit: MassEdit) -> int:
    """Apply a parsed mass edit (all or nothing) to `zone`, read under the write lock, if it
    still has `serial`; the one path for WHM's mass_edit_dns_zone and UAPI's
    DNS::mass_edit_zone. Returns the new serial."""
    # Compared as strings, as cPanel does (see dns/errors.stale).
    if str(zone.serial) != serial:
        raise stale(serial, zone.serial)
    text = apply_edits(zone, edit.adds, edit.edits, edit.removes)
    what = f"{len(edit.adds)} added, {len(edit.edits)} edited, {len(edit.removes)} removed"
    return save_edit(unit, zone, text, what)
