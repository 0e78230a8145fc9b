"""Token scopes: the resources a token may reach, beyond the functions its ACL names
(docs/governance.md, scopes; issue 17 §6).

A scope narrows what the token's owner could reach — never widens it — to:

* `accounts`: account names (WHM tokens): the token reaches these accounts and their zones;
* `zones`: zone names: the token reaches these zones (and no account-level function);
* `records`: record names within those zones (absolute, e.g. `_acme-challenge.example.com`),
  optionally with `record_types` (e.g. `TXT`): the token may then change only records with
  those names (and types). It may still read its zones, and run no other function that writes.

The account and zone checks live in the one access rule (domain/access.py: reason code
`out_of_scope`); the record check in the one record-edit path (dns/edits.py), which compares
the zone's records before and after the edit, so every way of editing — mass edits, single
record functions, either face — is held to it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from gatehouse.dns import parsed
from gatehouse.dns import text as dns_text
from gatehouse.dns import zones as dns_zones
from gatehouse.errors import InvalidParameter, PermissionDenied

OUT_OF_SCOPE = "out_of_scope"  # the reason code of every refusal by a scope
MAX_ITEMS = 100
_TYPE = re.compile(r"^[A-Z][A-Z0-9-]{0,15}$")
_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9_*]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_-]+$")
_ACCOUNT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$", re.IGNORECASE)

# Functions that change records through the record-edit path, which checks a record scope
# itself; any other function that writes is refused to a record-scoped token.
RECORD_EDITS = frozenset(
    {
        "mass_edit_dns_zone",
        "addzonerecord",
        "editzonerecord",
        "removezonerecord",
        "DNS::mass_edit_zone",
        "ZoneEdit::add_zone_record",
        "ZoneEdit::edit_zone_record",
        "ZoneEdit::remove_zone_record",
    }
)


def function_refusal(function: str) -> str:
    return (
        f"This API token is limited to some DNS records: it may read, and change those "
        f"records, but not call “{function}”."
    )


@dataclass(frozen=True, slots=True)
class Scope:
    accounts: frozenset[str] = frozenset()
    zones: frozenset[str] = frozenset()
    records: frozenset[str] = frozenset()
    record_types: frozenset[str] = frozenset()

    def reaches_account(self, username: str) -> bool:
        return username in self.accounts

    def reaches_zone(self, zone: str, holder: str | None) -> bool:
        return zone in self.zones or (holder is not None and holder in self.accounts)

    def covers_record(self, name: str, record_type: str) -> bool:
        if not self.records:
            return True
        if name not in self.records:
            return False
        return not self.record_types or record_type in self.record_types

    def allows_function(self, name: str, readonly: bool) -> bool:
        """A record-scoped token runs read-only functions and the record edits only."""
        return not self.records or readonly or name in RECORD_EDITS

    def as_json(self) -> dict[str, list[str]]:
        out = {
            "accounts": sorted(self.accounts),
            "zones": sorted(self.zones),
            "records": sorted(self.records),
            "record_types": sorted(self.record_types),
        }
        return {k: v for k, v in out.items() if v}


def from_stored(value: Any) -> Scope | None:
    if not value:
        return None
    return Scope(
        frozenset(value.get("accounts") or ()),
        frozenset(value.get("zones") or ()),
        frozenset(value.get("records") or ()),
        frozenset(value.get("record_types") or ()),
    )


def _name(raw: str, what: str) -> str:
    name = dns_text.normalise(raw)
    try:
        name = name.encode("idna").decode("ascii") if not name.isascii() else name
    except UnicodeError:
        name = ""
    if not _NAME.match(name):
        raise InvalidParameter(f"“{raw}” is not a valid {what}.")
    return name


def build(
    conn: sa.Connection,
    *,
    accounts: Sequence[str],
    zones: Sequence[str],
    records: Sequence[str],
    record_types: Sequence[str],
    may_reach_account: Any,
    may_reach_zone: Any,
) -> Scope | None:
    """A scope from the caller's lists (None when all are empty), each entry checked: the
    accounts and zones exist and the token's owner reaches them (`may_reach_*`, the access
    rule), every record name lies in one of the zones, the types are record types."""
    for values, what in ((accounts, "accounts"), (zones, "zones"), (records, "records")):
        if len(values) > MAX_ITEMS:
            raise InvalidParameter(f"A scope holds at most {MAX_ITEMS} {what}.")
    clean_accounts = set()
    for raw in accounts:
        if not _ACCOUNT.match(raw.strip()):
            raise InvalidParameter(f"“{raw}” is not a valid account name.")
        clean_accounts.add(may_reach_account(conn, raw.strip()))
    clean_zones = {may_reach_zone(conn, _name(raw, "zone name")) for raw in zones}
    clean_records = {_name(raw, "record name") for raw in records}
    for record in clean_records:
        if not any(record == z or record.endswith("." + z) for z in clean_zones):
            raise InvalidParameter(
                f"The record name “{record}” is in none of the scope's zones: "
                "give its zone with “scope_zone”."
            )
    types = {t.strip().upper() for t in record_types if t.strip()}
    for record_type in types:
        if not _TYPE.match(record_type):
            raise InvalidParameter(f"“{record_type}” is not a DNS record type.")
    if types and not clean_records:
        raise InvalidParameter("“scope_record_type” needs “scope_record” (the record names).")
    if not (clean_accounts or clean_zones or clean_records):
        return None
    return Scope(
        frozenset(clean_accounts), frozenset(clean_zones), frozenset(clean_records),
        frozenset(types),
    )  # fmt: skip


def check_given(caller: Scope | None, given: Scope | None) -> None:
    """What a scoped caller may give a token: no removal of a scope, and, from a token limited
    to some records, only records among its own (the accounts and zones it names went
    through the access rule as the caller already). PermissionDenied, `out_of_scope`."""
    if caller is None:
        return
    if given is None:
        raise PermissionDenied("A token with a scope cannot remove a scope.", code=OUT_OF_SCOPE)
    if caller.records and not given.records <= caller.records:
        raise PermissionDenied(
            "A token limited to some records can give only those records.", code=OUT_OF_SCOPE
        )


def _records(zone: str, zone_text: str) -> Counter[tuple[str, str, str]]:
    """The zone's records but its SOA (whose serial every save moves), by absolute name,
    type and data."""
    found: Counter[tuple[str, str, str]] = Counter()
    for entry in parsed.parse(zone, zone_text):
        if entry.kind != "record" or entry.record_type.upper() == "SOA":
            continue
        name = dns_text.absolute(zone, entry.dname).rstrip(".")
        found[(name, entry.record_type.upper(), " ".join(entry.data))] += 1
    return found


def changed_records(zone: str, before: str, after: str) -> Iterable[tuple[str, str]]:
    """(name, type) of every record the edit adds, removes or changes."""
    old, new = _records(zone, before), _records(zone, after)
    for name, record_type, _data in (old - new) + (new - old):
        yield name, record_type


def _other_lines(zone: str, zone_text: str) -> list[str]:
    """The zone's comments and control lines (`$TTL`, ...), in order."""
    return [e.raw for e in parsed.parse(zone, zone_text) if e.kind != "record"]


def check_edit(scope: Scope | None, zone: dns_zones.Zone, new_text: str) -> None:
    """Refuse an edit that touches a record outside a record scope, or a comment or control
    line (WHM editzonerecord and removezonerecord reach those), with PermissionDenied, reason
    `out_of_scope`; a token without one passes."""
    if scope is None or not scope.records:
        return
    if _other_lines(zone.name, zone.text) != _other_lines(zone.name, new_text):
        raise PermissionDenied(
            "This API token may not change the zone’s comments or control lines: its scope "
            "allows only the records " + ", ".join(sorted(scope.records)) + ".",
            code=OUT_OF_SCOPE,
        )
    for name, record_type in changed_records(zone.name, zone.text, new_text):
        if not scope.covers_record(name, record_type):
            raise PermissionDenied(
                f"This API token may not change the {record_type} record “{name}”: its "
                "scope allows only "
                + ", ".join(sorted(scope.records))
                + (f" ({', '.join(sorted(scope.record_types))})" if scope.record_types else "")
                + ".",
                code=OUT_OF_SCOPE,
            )
