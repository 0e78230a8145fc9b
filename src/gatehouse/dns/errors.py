"""The refusals of a zone change: the zone moved on meanwhile (`Stale`), or would no longer be
a valid zone file (`InvalidZone`, with cPanel's InvalidZoneFile payload)."""

from __future__ import annotations

from gatehouse.errors import GatehouseError


class Stale(GatehouseError):
    """The serial given is not the zone's: someone changed it meanwhile."""


class InvalidZone(GatehouseError):
    """The zone, as it would be after the change, is not a valid zone file."""


def stale(given: object, current: object) -> Stale:
    """A mass edit's serial is not the zone's: Cpanel/ZoneFile/LineEdit.pm's words (which
    compare the serials as strings: `02026120605` is stale for 2026120605) and
    Cpanel::APICommon::Error's payload."""
    return Stale(
        f"The given serial number ({given}) does not match the DNS zone’s serial number "
        f"({current}). Refresh your view of the DNS zone, then resubmit.",
        data={"type": "Stale", "detail": None},
    )


def changed_since_read() -> Stale:
    """A one-record edit's `serialnum` is not the zone's (Whostmgr/DNS.pm's words)."""
    return Stale("Zone file changed since last read.", data={"type": "Stale", "detail": None})


def explain(why: str) -> str:
    """dnspython's terse reasons, reworded where a user needs to know what to do."""
    if why == "string too long":
        return (
            "a character-string (one quoted part of a TXT record) may hold at most 255 "
            "bytes: split a longer value into several strings"
        )
    return why


def invalid(zone: str, line: int, why: str) -> InvalidZone:
    where = f" (line {line})" if line else ""
    # Choice: cPanel's InvalidZoneFile message text is not public; its payload shape is.
    return InvalidZone(
        f"The DNS zone “{zone}” would be invalid{where}: {why}",
        data={"type": "InvalidZoneFile", "detail": {"by_line": [[line, why]]}},
    )
