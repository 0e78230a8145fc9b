"""Installing an account's SPF records: the use case behind UAPI `EmailAuth::install_spf_records`
(what WHMCS's SetSPFRecord calls), following cPanel's Cpanel/DnsUtils/MailRecords.pm
(`install_spf_records_for_user`) and Cpanel/DnsUtils/Install/Processor.pm step by step:

* every domain must be one of the account's (its main domain or a subdomain), else nothing
  is done: `You do not control the “x” domain.`;
* each record is checked with Mail::SPF's syntax (gatehouse.dns.spf); a bad one is reported for
  its domain (`{"domain","status":0,"msg":"[FAIL:<Mail::SPF's words>]"}`) and the others go on;
* at the domain's name, the first TXT record starting `v=spf` is replaced by the new value
  (`REPLACE:TXT@<name>:<value>`, nothing when it is already that value), any further one
  removed (`REMOVEDUPE:TXT@<name>`), or, with none, the record added (`ADD:TXT@<name>:<value>`);
  `<name>` as cPanel collapses it: relative in the zone, the zone's own name with its dot;
* one change per zone, through the one edit path (lock, whole-zone check, serial, audit);
  a domain whose zone gatehouse does not hold: `[FAIL:missing zone]`; an unchanged one
  `[no changes needed]`.

The answer is cPanel's list of `{"domain","status","msg"}`, the refused first, then by domain.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa

from gatehouse.dns import changes, spf, zones
from gatehouse.dns.edits import save_edit
from gatehouse.dns.text import absolute, parse_entries
from gatehouse.domain import subdomains
from gatehouse.domain.unit import UnitOfWork
from gatehouse.domain.users import User
from gatehouse.errors import InvalidParameter

MATCH = "v=spf"
FAILURE = "FAIL:"
NO_CHANGES = "no changes needed"
MISSING_ZONE = "missing zone"
DEFAULT_TTL = 14400
_TXT_CHUNK = 255


@dataclass(frozen=True, slots=True)
class DomainStatus:
    domain: str
    status: int
    msg: str

    def as_dict(self) -> dict[str, object]:
        return {"domain": self.domain, "msg": self.msg, "status": self.status}


def list_and_quoted(names: list[str]) -> str:
    """cPanel's `[list_and_quoted,_1]`: “a”, “a” and “b”, “a”, “b”, and “c”."""
    quoted = [f"“{n}”" for n in names]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + f", and {quoted[-1]}"


def domain_records(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """The domains (lower case, no trailing dot) and their records, the last given winning."""
    return {d.strip().lower().rstrip("."): r for d, r in pairs}


def check_domains(conn: sa.Connection, account: User, names: list[str]) -> None:
    """Cpanel::Args::CpanelUser::Domains: every domain the account's own."""
    own = {account.domain or ""} | {s.name for s in subdomains.of_user(conn, account.id)}
    invalid = [n for n in names if n not in own]
    if invalid:
        noun = "domain" if len(invalid) == 1 else "domains"
        raise InvalidParameter(f"You do not control the {list_and_quoted(invalid)} {noun}.")


def _zone_holding(conn: sa.Connection, account: User, name: str) -> zones.Zone | None:
    labels = name.split(".")
    for i in range(len(labels) - 1):
        zone = zones.get(conn, ".".join(labels[i:]))
        if zone is not None:
            return zone if zone.owner_user_id == account.id else None
    return None


def _short(zone: str, name: str) -> str:
    """Cpanel::ZoneFile::_collapse_name of `name.`."""
    trailer = f".{zone}."
    full = f"{name}."
    return full[: -len(trailer)] if full.endswith(trailer) else full


def _strings(value: str) -> tuple[str, ...]:
    return tuple(value[i : i + _TXT_CHUNK] for i in range(0, len(value), _TXT_CHUNK)) or ("",)


def _install_in_zone(
    unit: UnitOfWork, zone: zones.Zone, records: dict[str, str]
) -> dict[str, list[str]]:
    """The zone's changes for its domains, applied at once; each domain's result lines."""
    results: dict[str, list[str]] = defaultdict(list)
    edits: list[changes.Change] = []
    removes: list[int] = []
    adds: list[changes.Change] = []
    for name, value in sorted(records.items()):
        short = _short(zone.name, name)
        done = False
        for e in parse_entries(zone.name, zone.text):
            if e.kind != "record" or e.record_type != "TXT":
                continue
            if absolute(zone.name, e.dname) != f"{name}.":
                continue
            current = "".join(e.data)
            if not current.startswith(MATCH):
                continue
            if done:
                removes.append(e.line_index)
                results[name].append(f"REMOVEDUPE:TXT@{short}")
                continue
            done = True
            if current != value:
                edit = changes.Change(f"{name}.", e.ttl, "TXT", _strings(value), e.line_index)
                edits.append(edit)
                results[name].append(f"REPLACE:TXT@{short}:{value}")
        if not done:
            adds.append(changes.Change(f"{name}.", DEFAULT_TTL, "TXT", _strings(value)))
            results[name].append(f"ADD:TXT@{short}:{value}")
    if edits or removes or adds:
        text = changes.apply_edits(zone, adds, edits, removes)
        save_edit(unit, zone, text, f"SPF records of {', '.join(sorted(records))} installed")
    return results


def install(unit: UnitOfWork, account: User, records: dict[str, str]) -> list[DomainStatus]:
    """install_spf_records_for_user: `records` maps each domain to its SPF record."""
    names = sorted(records)
    check_domains(unit.conn, account, names)
    refused: list[DomainStatus] = []
    valid: dict[str, str] = {}
    for name in names:
        try:
            spf.check(records[name])
        except spf.SPFSyntaxError as exc:
            refused.append(DomainStatus(name, 0, f"[{FAILURE}{exc.reason}]"))
            continue
        valid[name] = records[name]
    by_zone: dict[str, dict[str, str]] = defaultdict(dict)
    statuses: list[DomainStatus] = []
    for name, value in valid.items():
        zone = _zone_holding(unit.conn, account, name)
        if zone is None:
            statuses.append(DomainStatus(name, 0, f"[{FAILURE}{MISSING_ZONE}]"))
        else:
            by_zone[zone.name][name] = value
    for zone_name, zone_records in sorted(by_zone.items()):
        zones.lock(unit.conn, zone_name)
        zone = zones.get(unit.conn, zone_name)
        assert zone is not None  # found above, in this transaction
        results = _install_in_zone(unit, zone, zone_records)
        for name in zone_records:
            lines = results.get(name) or [NO_CHANGES]
            statuses.append(DomainStatus(name, 1, f"[{', '.join(lines)}]"))
    return refused + sorted(statuses, key=lambda s: s.domain)
