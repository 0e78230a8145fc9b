"""An account's mail exchangers: its domain's MX records and its mail routing — the use cases
behind UAPI `Email::list_mxs`, `add_mx`, `change_mx`, `delete_mx`, `set_always_accept` and
their API 2 forms (`listmx`, `addmx`, `changemx`, `delmx`, `setalwaysaccept`).

cPanel's own logic, followed step by step (Whostmgr/DNS/MX.pm `fetchmx`, `savemx`, `delmx`,
`checkmx`, `detect_mx_type_from_mxentries`; Cpanel/Email/MX.pm `mx_compat`):

* A domain's entries are its apex MX records by priority; with none, one entry imputed from the
  domain itself (priority 0), as mail then goes to the domain's own address.
* The routing asked for (`mxcheck`): `auto` by default, or `local`, `secondary`, `remote`;
  the legacy `alwaysaccept` 1 means `local` and 0 `auto`.
* What is decided: the asked routing itself, unless `auto`; then detection from the entries —
  in priority order, each exchanger's address (from the A records of the zones gatehouse
  serves, else an account domain's address); the lowest priority at one of the server's
  addresses: `local`; a higher one: `secondary`; none: `remote`; an exchanger with no address
  found stops detection, and the last decision (else `local`) stands, with cPanel's warning.
  gatehouse asks no outside resolver: an exchanger in a zone it does not serve is taken to be
  another server's (cPanel would look its address up); one in a zone it serves but without an
  A record is unresolved.

gatehouse hosts no mail: the routing is recorded and reported (the table `mail_routing`), the
MX records are real and served by the nameserver.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from gatehouse.config import Config
from gatehouse.dns import changes, zones
from gatehouse.dns.edits import save_edit
from gatehouse.dns.text import absolute, parse_entries
from gatehouse.domain import ips
from gatehouse.domain.unit import UnitOfWork
from gatehouse.domain.users import User
from gatehouse.errors import InvalidParameter, NotFound
from gatehouse.numerals import digits
from gatehouse.store import rows
from gatehouse.store.schema import mail_routing
from gatehouse.store.schema import users as users_table

ROUTINGS = ("local", "secondary", "remote")
MXCHECKS = ("auto", *ROUTINGS)
DEFAULT_TTL = 14400


@dataclass(frozen=True, slots=True)
class Exchanger:
    """One of fetchmx's entries."""

    entrycount: int
    priority: int
    exchanger: str  # no trailing dot
    line_index: int | None  # None: imputed from the domain, not an MX record
    line: str = ""


@dataclass(frozen=True, slots=True)
class Routing:
    """What fetchmx (with detection) and checkmx say of a domain."""

    mxcheck: str
    detected: str
    changed: int = 0
    warnings: tuple[str, ...] = ()

    def flags(self) -> dict[str, int]:
        return {
            "local": int(self.detected == "local"),
            "remote": int(self.detected == "remote"),
            "secondary": int(self.detected == "secondary"),
        }


@dataclass(frozen=True, slots=True)
class MailDomain:
    domain: str
    routing: Routing
    entries: list[Exchanger]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a change did: cPanel's `results` lines, and checkmx's answer."""

    results: str
    routing: Routing


# -- the account's mail domains --------------------------------------------------------------


def mail_domains(account: User) -> list[str]:
    """The domains mail is routed for: the main domain (gatehouse has no addon or parked
    domains; subdomains have no routing of their own in cPanel either)."""
    return [account.domain] if account.domain else []


def check_domain(account: User, raw: str) -> str:
    domain = zones.normalise(raw)
    if domain not in mail_domains(account):
        # Cpanel::Args::CpanelUser::Domains' words.
        raise InvalidParameter(f"You do not control the “{domain}” domain.")
    return domain


def _zone(conn: sa.Connection, domain: str, *, lock: bool) -> zones.Zone:
    if lock:
        zones.lock(conn, domain)
    zone = zones.get(conn, domain)
    if zone is None:
        raise NotFound(f"The DNS zone for “{domain}” does not exist.")
    return zone


# -- fetchmx ---------------------------------------------------------------------------------


def _mx_records(zone: zones.Zone, domain: str) -> list[tuple[int, str, int, str]]:
    found = []
    for e in parse_entries(zone.name, zone.text):
        if e.kind != "record" or e.record_type != "MX" or len(e.data) < 2:
            continue
        if absolute(zone.name, e.dname) != f"{domain}.":
            continue
        if not digits(e.data[0]):
            continue
        exchange = absolute(zone.name, e.data[1]).rstrip(".")
        found.append((int(e.data[0]), exchange, e.line_index, e.raw))
    return found


def exchangers(zone: zones.Zone, domain: str) -> list[Exchanger]:
    records = sorted(_mx_records(zone, domain), key=lambda r: r[0])  # stable, as Perl's sort
    if not records:
        return [Exchanger(1, 0, domain, None)]
    return [
        Exchanger(n, priority, exchange, index, raw)
        for n, (priority, exchange, index, raw) in enumerate(records, start=1)
    ]


def _stored(conn: sa.Connection, account: User) -> tuple[str, str | None]:
    row = conn.execute(
        sa.select(mail_routing.c.mxcheck, mail_routing.c.routing).where(
            mail_routing.c.user_id == account.id
        )
    ).first()
    return (str(row.mxcheck), row.routing) if row is not None else ("auto", None)


def stored_mxcheck(conn: sa.Connection, account: User) -> str | None:
    """The routing the account asked for (its cpuser file's MXCHECK-<domain>), or None when it
    never set one."""
    row = conn.execute(
        sa.select(mail_routing.c.mxcheck).where(mail_routing.c.user_id == account.id)
    ).first()
    return None if row is None else str(row.mxcheck)


def _store(conn: sa.Connection, account: User, *, mxcheck: str, routing: str | None) -> None:
    rows.put(conn, mail_routing, {"user_id": account.id}, {"mxcheck": mxcheck, "routing": routing})


ELSEWHERE = "elsewhere"  # an exchanger in no zone gatehouse serves
_MAX_ALIASES = 8


def _serving_zone(conn: sa.Connection, zone: zones.Zone, name: str) -> zones.Zone | None:
    """The zone gatehouse serves that holds `name` (the domain's own, else the closest
    enclosing one), or None."""
    if name == zone.name or name.endswith(f".{zone.name}"):
        return zone
    labels = name.split(".")
    for i in range(len(labels) - 1):
        found = zones.get(conn, ".".join(labels[i:]))
        if found is not None:
            return found
    return None


def _address(
    conn: sa.Connection, zone: zones.Zone, name: str, server_ip: str, depth: int = 0
) -> str | None:
    """An exchanger's address, as checkmx resolves it: an A record of it (or of the name its
    CNAME points to) in the zone gatehouse serves that holds it, else the address of the
    account whose domain it is (cPanel's getdomainip); ELSEWHERE for a name in no zone
    gatehouse serves (its mail goes to another server: gatehouse asks no outside resolver);
    None when it cannot be resolved."""
    serving = _serving_zone(conn, zone, name)
    if serving is not None:
        alias = None
        for e in parse_entries(serving.name, serving.text):
            if e.kind != "record" or not e.data or absolute(serving.name, e.dname) != f"{name}.":
                continue
            if e.record_type == "A":
                return e.data[0]
            if e.record_type == "CNAME":
                alias = absolute(serving.name, e.data[0]).rstrip(".")
        if alias is not None and depth < _MAX_ALIASES:
            return _address(conn, serving, alias, server_ip, depth + 1)
    owner = conn.execute(
        sa.select(users_table.c.ip).where(sa.func.lower(users_table.c.domain) == name)
    ).first()
    if owner is not None:
        return str(owner.ip or server_ip)
    return None if serving is not None else ELSEWHERE


def _mail_ips(conn: sa.Connection, config_ips: str | None, server_ip: str) -> set[str]:
    addresses = {a.ip for a in ips.server_addresses(config_ips, server_ip)}
    addresses.update(
        str(ip) for (ip,) in conn.execute(sa.select(users_table.c.ip).distinct()) if ip
    )
    return addresses


def detect(
    conn: sa.Connection, zone: zones.Zone, entries: list[Exchanger], mail_ips: set[str],
    server_ip: str,
) -> tuple[str | None, list[str]]:  # fmt: skip
    """detect_mx_type_from_mxentries: (local | secondary | remote, or None, the unresolved)."""
    lowest: int | None = None
    primary = secondary = False
    for entry in sorted(entries, key=lambda e: e.priority):
        lowest = entry.priority if lowest is None else lowest
        address = _address(conn, zone, entry.exchanger, server_ip)
        if address is None:
            return None, [entry.exchanger]
        here = address in mail_ips
        if here and entry.priority == lowest:
            primary = True
        elif here and entry.priority > lowest:
            secondary = True
    return ("local" if primary else "secondary" if secondary else "remote"), []


@dataclass(frozen=True, slots=True)
class Servers:
    """The server's addresses, for detection."""

    config_ips: str | None
    main_ip: str


def _decide(
    conn: sa.Connection, zone: zones.Zone, domain: str, entries: list[Exchanger],
    mxcheck: str, last: str | None, servers: Servers,
) -> tuple[str, str, list[str]]:  # fmt: skip
    """(decided, how: asked | detected | last | default, warnings): checkmx's chain."""
    if mxcheck in ROUTINGS:
        return mxcheck, "asked", []
    mail_ips = _mail_ips(conn, servers.config_ips, servers.main_ip)
    detected, unresolved = detect(conn, zone, entries, mail_ips, servers.main_ip)
    if detected is not None:
        return detected, "detected", []
    if last is None:
        return (
            "local",
            "default",
            [f"Failed to detect “{domain}”’s MX type; defaulting to “local”."],
        )
    return (
        last,
        "last",
        [
            "Auto Detect of MX configuration not possible due to non-resolving MX entries.  "
            f"Defaulting to last known setting: {last}.",
            "The following entries could not be resolved: " + ",".join(unresolved),
        ],
    )


def fetch(conn: sa.Connection, account: User, domain: str, servers: Servers) -> MailDomain:
    """fetchmx with detection: what list_mxs shows (nothing is written)."""
    zone = _zone(conn, domain, lock=False)
    entries = exchangers(zone, domain)
    mxcheck, last = _stored(conn, account)
    decided, how, _warnings = _decide(conn, zone, domain, entries, mxcheck, last, servers)
    # Where checkmx would fall back on `local`, fetchmx shows that nothing was decided.
    return MailDomain(domain, Routing(mxcheck, decided if how != "default" else "auto"), entries)


def mx_compat(raw: str | None) -> str | None:
    """Cpanel::Email::MX::mx_compat: the legacy 0/1 of `alwaysaccept`; None: not given."""
    if raw is None or raw == "":
        return None
    value = {"0": "auto", "1": "local", "backup": "secondary"}.get(raw.strip(), raw.strip())
    if value not in MXCHECKS:
        raise InvalidParameter(
            f"The mail exchanger type must be auto, local, secondary or remote, not “{raw}”."
        )
    return value


def _checkmx(
    unit: UnitOfWork, account: User, zone: zones.Zone, domain: str, asked: str | None,
    servers: Servers,
) -> Routing:  # fmt: skip
    """checkmx after a change: store what was asked and what is decided, and say so."""
    configured, last = _stored(unit.conn, account)
    mxcheck = asked if asked is not None else configured
    entries = exchangers(zone, domain)
    decided, how, warnings = _decide(unit.conn, zone, domain, entries, mxcheck, last, servers)
    # checkmx writes the routing whenever it decided one (not when it fell back on the last).
    routing = decided if how != "last" else last
    if mxcheck != configured or routing != last:
        _store(unit.conn, account, mxcheck=mxcheck, routing=routing)
    return Routing(mxcheck, decided, int(how in ("asked", "detected")), tuple(warnings))


# -- changes ---------------------------------------------------------------------------------


def _priority(raw: str | None, name: str = "priority") -> int:
    value = (raw or "").strip()
    if not digits(value) or int(value) > 65535:
        raise InvalidParameter(f"The “{name}” must be a whole number from 0 to 65535.")
    return int(value)


def _exchanger_name(raw: str | None) -> str:
    name = (raw or "").strip().rstrip(".").lower()
    if not name:
        raise InvalidParameter("Provide the “exchanger” argument.")
    return name


def _record(domain: str, priority: int, exchanger: str) -> changes.Change:
    return changes.Change(f"{domain}.", DEFAULT_TTL, "MX", (str(priority), f"{exchanger}."))


def _save(unit: UnitOfWork, zone: zones.Zone, text: str, what: str) -> zones.Zone:
    save_edit(unit, zone, text, what)
    saved = zones.get(unit.conn, zone.name)
    assert saved is not None  # it was just written under the lock
    return saved


def add(
    unit: UnitOfWork, account: User, raw_domain: str, raw_exchanger: str | None,
    raw_priority: str | None, alwaysaccept: str | None, servers: Servers,
) -> Outcome:  # fmt: skip
    """savemx as an addition (keepsamepriority): the same exchanger at the same priority is
    reused; otherwise a new MX record goes at the end of the zone."""
    domain = check_domain(account, raw_domain)
    exchanger = _exchanger_name(raw_exchanger)
    priority = _priority(raw_priority)
    asked = mx_compat(alwaysaccept)
    zone = _zone(unit.conn, domain, lock=True)
    existing = [e for e in exchangers(zone, domain) if e.line_index is not None]
    same = next((e for e in existing if (e.exchanger, e.priority) == (exchanger, priority)), None)
    if same is not None:
        results = (
            "Reusing existing entry on line matched new entry and new priority: "
            f"{same.line_index + 1 if same.line_index is not None else 0}:\n"
            "No dns changes are required"
        )
    else:
        record = _record(domain, priority, exchanger)
        text = changes.apply_edits(zone, [record], [], [])
        zone = _save(unit, zone, text, f"MX {priority} {exchanger} added")
        results = f"Added entry: {changes.render(record)}\n"
    return Outcome(results, _checkmx(unit, account, zone, domain, asked, servers))


def change(
    unit: UnitOfWork, account: User, raw_domain: str, raw_exchanger: str | None,
    raw_priority: str | None, raw_old: str | None, raw_old_priority: str | None,
    alwaysaccept: str | None, servers: Servers,
) -> Outcome:  # fmt: skip
    """savemx as a change: reuse an identical entry; else replace the old exchanger at the old
    priority (or, without one, at the new priority); else the entry with the new priority
    (cPanel's legacy match); else add."""
    domain = check_domain(account, raw_domain)
    exchanger = _exchanger_name(raw_exchanger)
    priority = _priority(raw_priority)
    old = (raw_old or "").strip().rstrip(".").lower()
    if not old:
        raise InvalidParameter("Provide the “oldexchanger” argument.")
    old_priority = (
        _priority(raw_old_priority, "oldpriority") if (raw_old_priority or "").strip() else None
    )
    asked = mx_compat(alwaysaccept)
    zone = _zone(unit.conn, domain, lock=True)
    existing = [e for e in exchangers(zone, domain) if e.line_index is not None]

    def first(match: tuple[str | None, int]) -> Exchanger | None:
        name, wanted = match
        return next(
            (e for e in existing if e.priority == wanted and (name is None or e.exchanger == name)),
            None,
        )

    if first((exchanger, priority)) is not None:
        reused = first((exchanger, priority))
        assert reused is not None and reused.line_index is not None
        results = (
            "Reusing existing entry on line matched new entry and new priority: "
            f"{reused.line_index + 1}:\nNo dns changes are required"
        )
        return Outcome(results, _checkmx(unit, account, zone, domain, asked, servers))
    if old_priority is not None:
        target, why = first((old, old_priority)), "old entry and old priority"
    else:
        target, why = first((old, priority)), "old entry and existing priority"
    if target is None:
        target, why = first((None, priority)), "old priority"
    record = _record(domain, priority, exchanger)
    if target is not None and target.line_index is not None:
        edit = changes.Change(record.dname, record.ttl, "MX", record.data, target.line_index)
        text = changes.apply_edits(zone, [], [edit], [])
        results = f"Replacing existing entry on line matched {why}: {target.line_index + 1}:\n"
    else:
        text = changes.apply_edits(zone, [record], [], [])
        results = f"Added entry: {changes.render(record)}\n"
    zone = _save(unit, zone, text, f"MX {priority} {exchanger} set")
    return Outcome(results, _checkmx(unit, account, zone, domain, asked, servers))


def delete(
    unit: UnitOfWork, account: User, raw_domain: str, raw_exchanger: str | None,
    raw_priority: str | None, servers: Servers,
) -> Outcome:  # fmt: skip
    """delmx: the first MX record with the priority (and the exchanger, when given)."""
    domain = check_domain(account, raw_domain)
    priority = _priority(raw_priority)
    wanted = (raw_exchanger or "").strip().rstrip(".").lower() or None
    zone = _zone(unit.conn, domain, lock=True)
    target = next(
        (
            e
            for e in exchangers(zone, domain)
            if e.line_index is not None
            and e.priority == priority
            and (wanted is None or e.exchanger == wanted)
        ),
        None,
    )
    if target is None or target.line_index is None:
        raise InvalidParameter(f"No MX entries with priority {priority} were found in the zone.")
    text = changes.apply_edits(zone, [], [], [target.line_index])
    zone = _save(unit, zone, text, f"MX {priority} {target.exchanger} removed")
    results = f"Removed entry: {domain}. IN MX {priority} {target.exchanger}\n"
    return Outcome(results, _checkmx(unit, account, zone, domain, None, servers))


def set_always_accept(
    unit: UnitOfWork, account: User, raw_domain: str, raw: str | None, servers: Servers
) -> Outcome:
    """set_always_accept: record the routing asked for (default `auto`) and decide it."""
    domain = check_domain(account, raw_domain)
    asked = mx_compat(raw) or "auto"
    zone = _zone(unit.conn, domain, lock=True)
    routing = _checkmx(unit, account, zone, domain, asked, servers)
    return Outcome(f"Set Always Accept Status to: {routing.detected}", routing)


def servers(config: Config) -> Servers:
    return Servers(config.ips, ips.main_ip(config))
