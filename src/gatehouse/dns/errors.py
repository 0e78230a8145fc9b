"""The refusals of a zone change: the zone moved on meanwhile (`Stale`), or would no longer be
a valid zone file (`InvalidZone`, with cPanel's InvalidZoneFile payload)."""

from __future__ import annotations

from gatehouse.errors import GatehouseError


class Stale(GatehouseError):
    """The serial given is not the zone's: someone changed it meanwhile."""


class InvalidZone(GatehouseError):
    """The zone, as it would be after the change, is not a valid zone file."""


def stale(name: str, serial: int) -> Stale:
    # Choice: cPanel's Cpanel::Exception::Stale text is not public; the payload shape
    # ({"type":"Stale","detail":null}, Cpanel::APICommon::Error) is.
    return Stale(
        f"The DNS zone “{name}” has changed since serial {serial} (the serial is stale): "
        "read the zone again and retry.",
        data={"type": "Stale", "detail": None},
    )


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
