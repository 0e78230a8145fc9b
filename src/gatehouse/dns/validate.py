"""Whether a zone text is a valid zone: whole, by dnspython (`validate`), or its zone-wide
rules on parsed entries (`check_structure`), which is all an edit of a valid zone can break
beyond the new records themselves (each read by dnspython, `changes._check_rdata`), and
whether each record's data fits on the wire (`check_structure` too, so both paths have it)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import dns.exception
import dns.zone
import dns.zonefile

from gatehouse.dns.errors import explain, invalid
from gatehouse.dns.parsed import parse
from gatehouse.dns.text import Entry, absolute, normalise


def check_structure(
    name: str, entries: Sequence[Entry], *, owners: frozenset[str] | None = None
) -> None:
    """The zone-wide rules on parsed entries: one SOA, at the apex; an NS at the apex; no
    CNAME beside other data. (What dnspython's whole-zone read checks beyond each record.)
    With `owners` (absolute names): the entries come from an edit of a valid zone that
    changed only the records of those names, and the SOA could not be touched, so only the
    rules at those names are checked."""
    zone = normalise(name)
    apex = f"{zone}."
    if owners is None:
        soa = [e for e in entries if e.kind == "record" and e.record_type == "SOA"]
        if len(soa) != 1 or absolute(zone, soa[0].dname) != apex:
            line = soa[1].line_index + 1 if len(soa) > 1 else 0
            raise invalid(zone, line, "the zone needs exactly one SOA record, at its apex")
    else:
        if not owners:
            return
        # Cheap pre-filter: a record can only be at a touched owner if its name, as written,
        # is that owner absolute, relative to the apex, or `@`.
        spellings = {o for o in owners} | {
            o[: -len(apex) - 1] for o in owners if o.endswith(f".{apex}")
        }
        if apex in owners:
            spellings |= {"@", ""}
        entries = [e for e in entries if e.kind == "record" and e.dname.lower() in spellings]
    if (owners is None or apex in owners) and not any(
        e.kind == "record" and e.record_type == "NS" and absolute(zone, e.dname) == apex
        for e in entries
    ):
        raise invalid(zone, 0, "the zone needs at least one NS record at its apex")
    types: dict[str, set[str]] = {}
    for e in entries:
        if e.kind != "record":
            continue
        owner = absolute(zone, e.dname)
        held = types.setdefault(owner, set())
        held.add(e.record_type)
        if "CNAME" in held and len(held) > 1 and held - {"CNAME", "RRSIG", "NSEC", "NSEC3"}:
            others = ", ".join(sorted(held - {"CNAME", "RRSIG", "NSEC", "NSEC3"}))
            raise invalid(
                zone,
                e.line_index + 1,
                f"a CNAME record cannot share the name “{owner}” with other records ({others})",
            )
        _check_size(zone, e)


# A record's data travels behind a 16-bit length (RDLENGTH, RFC 1035 §3.2.1): dnspython reads
# and stores a larger one (4,000 strings of 255 bytes in one TXT record), but no nameserver can
# send it (ours answered SERVFAIL) and BIND, Knot and NSD refuse the zone file that holds it.
MAX_RDATA = 65535
# Not one datum is more than 4 bytes on the wire per character (UTF-8), plus 256 (a length
# byte, or a relative name's origin); and a record's text of L characters has at most
# (L + 1) / 2 data. So up to this many characters a record cannot be over MAX_RDATA: most
# records cost one len() here, and only the rare long one is measured.
_SURELY_SMALL = 495


def _check_size(zone: str, entry: Entry) -> None:
    if len(entry.raw) <= _SURELY_SMALL:
        return
    if sum(4 * len(datum) + 256 for datum in entry.data) <= MAX_RDATA:
        return
    size = _wire_size(zone, entry)
    if size > MAX_RDATA:
        raise invalid(
            zone,
            entry.line_index + 1,
            f"the {entry.record_type} record’s data would be {size:,} bytes on the wire, and "
            f"a record holds at most {MAX_RDATA:,}: split it into several records",
        )


def _wire_size(zone: str, entry: Entry) -> int:
    """The record's data as dnspython sends it, in bytes; 0 if it does not read alone (then
    the whole-zone read or the record's own check says why)."""
    # An entry without an owner continues the one before: any owner measures the same.
    owner = "@" if entry.raw[:1] in (" ", "\t") else ""
    text = f"$TTL 0\n{owner}{entry.raw}\n"
    try:
        read = dns.zone.from_text(text, origin=f"{zone}.", relativize=False, check_origin=False)
    except (dns.exception.DNSException, ValueError):
        return 0
    return max(
        (
            len(rdata.to_wire())
            for _name, rdataset in read.iterate_rdatasets()
            for rdata in rdataset
        ),
        default=0,
    )


def validate(name: str, text: str) -> None:
    """The whole zone must load with dnspython (SOA and NS at the apex, every record valid, no
    CNAME beside other data, no character-string over 255 bytes). Refusals carry cPanel's
    InvalidZoneFile payload with `by_line` ([line (1-based), why])."""
    zone = normalise(name)
    try:
        dns.zone.from_text(text, origin=f"{zone}.", relativize=False, check_origin=True)
    except dns.zonefile.CNAMEAndOtherData:
        check_structure(zone, parse(zone, text))  # says where and why
        raise invalid(zone, 0, "a CNAME record cannot share its name with other records") from None
    except dns.exception.DNSException as exc:
        message = str(exc)
        match = re.match(r"^<string>:(\d+): (.*)$", message, re.S)
        line = int(match.group(1)) if match else 0
        why = explain(match.group(2) if match else (message or type(exc).__name__))
        raise invalid(zone, line, why) from None
    check_structure(zone, parse(zone, text))  # e.g. a second SOA, which dnspython merges
