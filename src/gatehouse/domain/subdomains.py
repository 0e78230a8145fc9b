"""Subdomains: a registered domain of an account (`sub.example.com` on the account's
`example.com`) with its DNS records — the use cases behind UAPI/API 2 `SubDomain`.

As cPanel does (Whostmgr/DNS/Domains.pm `addsubdomain`, called by Cpanel/Sub.pm with
`addwww` and `readd`), adding one replaces whatever records the zone of its root domain holds
at the subdomain's name and at its `www.` with an A record to the account's IP at each, and
deleting one (`delsubdomain`: `addwww` without `readd`) takes every record at both names out
again — a wildcard subdomain (`*.example.com`, label `*`) has its own name's records only,
no `www.` (Whostmgr/DNS/Domains.pm takes `addwww` off for one); both go through the one edit
path (`gatehouse.dns.edits.save_edit`: lock, validation, serial, audit) in the same transaction
as the row, so nothing is half-written. Removing the account removes its rows (the foreign key
cascades) and its zones with their records (unless removeacct keeps the DNS, as cPanel keeps
it). gatehouse has no web server: cPanel's document root (`dir`) and canonical-name (`canoff`)
settings are accepted and not stored (docs/cpanel.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from gatehouse.dns import changes, zones
from gatehouse.dns.edits import save_edit
from gatehouse.dns.text import records_at
from gatehouse.domain import domain_names, parked_domains
from gatehouse.domain import users as domain_users
from gatehouse.domain.unit import UnitOfWork
from gatehouse.domain.users import User
from gatehouse.errors import Conflict, InvalidParameter, NotFound
from gatehouse.numerals import digits
from gatehouse.store.schema import subdomains

SUBDOMAIN_CREATE = "ADDSUBDOMAIN"
SUBDOMAIN_DELETE = "DELSUBDOMAIN"

# The TTL of the A record cPanel's zone template gives an account's names.
RECORD_TTL = 14400
WILDCARD_PREFIX = "_wildcard_"
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
# Names cPanel keeps for its own services (Cpanel::Validate::SubDomain's reserved list, the
# ones that apply to gatehouse's zone template: it has `www`, `mail` and `ftp` records).
RESERVED = ("www", "mail", "ftp", "cpanel", "whm", "webmail", "webdisk", "cpcalendars",
            "cpcontacts", "autodiscover", "autoconfig")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Subdomain:
    name: str  # the full domain, lower case, no trailing dot
    root_domain: str
    user_id: int
    created_time: int

    @property
    def label(self) -> str:
        """The part before the root domain (cPanel's `subdomain`)."""
        return self.name[: -len(self.root_domain) - 1]

    @property
    def is_wildcard(self) -> bool:
        """`*.ROOT` (or `*.LABEL.ROOT`): cPanel's wildcard subdomain (Cpanel/Sub.pm's
        `iswildcard`), answering every name under its parent that has no records of its own."""
        return is_wildcard(self.name)

    def key_parts(self, main_domain: str | None) -> tuple[str, str]:
        """The two halves of cPanel's key for it (Cpanel::DomainLookup::listsubdomains'
        `LABEL_BASE`): its `_` goes before the domain that is not itself a subdomain — the
        main domain, also for a subdomain of a subdomain (`shop.eu_example.com`) —, else
        before its root domain."""
        base = main_domain if main_domain else self.root_domain
        if not self.name.endswith(f".{base}"):
            base = self.root_domain
        return self.name[: -len(base) - 1], base

    @property
    def basedir(self) -> str:
        """Its document root relative to the home directory: cPanel's default,
        public_html/LABEL (gatehouse keeps no `dir`: it has no web server), a wildcard's
        `*` spelt `_wildcard_` (Cpanel::WildcardDomain::encode_wildcard_domain)."""
        return f"public_html/{encode_wildcard(self.label)}"


def is_wildcard(name: str) -> bool:
    return name == "*" or name.startswith("*.")


def encode_wildcard(name: str) -> str:
    """Cpanel::WildcardDomain::encode_wildcard_domain: a leading `*` as `_wildcard_`, as cPanel
    names a wildcard's files (its document root, its logs)."""
    return f"{WILDCARD_PREFIX}{name[1:]}" if is_wildcard(name) else name


def _subdomain(row: sa.Row[tuple[object, ...]]) -> Subdomain:
    m = row._mapping
    return Subdomain(
        str(m["name"]), str(m["root_domain"]), int(str(m["user_id"])), int(str(m["created_time"]))
    )


_EVERY = sa.select(subdomains)


def every(conn: sa.Connection) -> list[Subdomain]:
    return [_subdomain(r) for r in conn.execute(_EVERY)]


# Built once: SQLAlchemy builds and keys a new select in ~60–80 µs, three times what running
# this one costs; the account's subdomains are read by most cPanel calls (docs/performance.md).
_OF_USER = (
    sa.select(subdomains)
    .where(subdomains.c.user_id == sa.bindparam("user_id"))
    .order_by(subdomains.c.name)
)


def of_user(conn: sa.Connection, user_id: int) -> list[Subdomain]:
    return [_subdomain(r) for r in conn.execute(_OF_USER, {"user_id": user_id})]


_BY_NAME = sa.select(subdomains).where(subdomains.c.name == sa.bindparam("name"))


def get(conn: sa.Connection, name: str) -> Subdomain | None:
    found = conn.execute(_BY_NAME, {"name": zones.normalise(name)}).first()
    return _subdomain(found) if found else None


# cPanel's refusals (Cpanel/SubDomain.pm's _addsubdomain and _delsubdomain, the admin module
# Cpanel/Admin/Modules/Cpanel/subdomain.pm and the validators of Cpanel::Validate::DomainCreation
# ::Sub), in the order cPanel checks. cPanel prefixes the ones its admin layer raises with an
# error id, "(XID abc123) "; gatehouse has no such id and answers the sentence alone.
NO_ROOT_DOMAIN = "You must specify a main domain."
NO_SUBDOMAIN = "You must specify a subdomain."
INVALID_SUBDOMAIN = "You must specify a valid subdomain."
OVER_LIMIT = "You have exceeded the maximum allowed subdomains."
MASTER_ENTRY = "The system cannot change the master entry www."


def _www_refusal(label: str) -> InvalidParameter:
    return InvalidParameter(
        f"You cannot create the “{label}” subdomain, because the system adds the “{label}” "
        "subdomain to all newly-created domains."
    )


def _not_theirs(domain: str, account: User) -> NotFound:
    # The admin module's _validate_domain_ownership: another account's domain and one that
    # does not exist get the same words.
    return NotFound(f"The domain “{domain}” does not belong to “{account.username}”.")


def check_label(raw: str, main_domain: str | None, *, disallow_dot: bool = False) -> str:
    """The subdomain part as cPanel's _addsubdomain reads it: lower case, trimmed, a leading
    `www.` and a trailing dot dropped (every dot with `disallowdot`), then the account's main
    domain dropped from its end (`blog.example.com` on example.com is `blog`)."""
    label = raw.lower().strip()
    label = label.removeprefix("www.")
    label = label.replace(".", "") if disallow_dot else label.removesuffix(".")
    # A wildcard (Cpanel::Validate::SubDomain::is_valid): `*` alone, or `*.` before labels.
    wildcard = is_wildcard(label)
    rest = label[2:] if wildcard else label
    rest = domain_names.lookup_form(rest) if rest else rest  # Unicode as A-labels
    label = "*" if wildcard and not rest else f"*.{rest}" if wildcard else rest
    if (rest or not wildcard) and not all(_LABEL.match(p) for p in rest.split(".")):
        raise InvalidParameter(INVALID_SUBDOMAIN)
    if label == "www" or label.startswith("www."):
        raise _www_refusal(label)
    if main_domain and label.endswith(f".{main_domain}"):
        label = label[: -len(main_domain) - 1]
    label = label.lstrip(".")
    if label == "subdomainip":
        raise InvalidParameter(
            "“subdomainip” is a reserved word and cannot be used as a subdomain."
        )
    return label


def _owned_root(conn: sa.Connection, account: User, raw_root: str) -> str:
    # The account's domains with a zone a subdomain's records can go in: its main domain, its
    # subdomains (whose records are in their own root's zone) and its parked and addon domains
    # (cPanel lets a subdomain be made on any of them).
    root = domain_names.lookup_form(raw_root)
    owned = {d for d in (account.domain,) if d} | {s.name for s in of_user(conn, account.id)}
    owned |= {p.name for p in parked_domains.of_user(conn, account.id)}
    if root not in owned:
        raise _not_theirs(raw_root.lower(), account)
    return root


def _check_limit(conn: sa.Connection, account: User) -> None:
    """MAXSUB, as the admin module counts it: a number (0: none) or unlimited."""
    limit = (account.limits or {}).get("MAXSUB", "")
    if digits(limit) and int(limit) <= len(of_user(conn, account.id)):
        raise Conflict(OVER_LIMIT)


def move_root(
    conn: sa.Connection, user_id: int, old_domain: str, new_domain: str
) -> list[tuple[str, str]]:
    """The account's main domain changed (modifyacct): its subdomains under the old one follow
    it, as their records did when the zone was renamed. The renamed (old, new) names."""
    suffix = f".{old_domain}"
    moved = []
    for sub in of_user(conn, user_id):
        if not sub.name.endswith(suffix):
            continue
        name = sub.name[: -len(suffix)] + f".{new_domain}"
        root = (
            new_domain
            if sub.root_domain == old_domain
            else (
                sub.root_domain[: -len(suffix)] + f".{new_domain}"
                if sub.root_domain.endswith(suffix)
                else sub.root_domain
            )
        )
        if get(conn, name) is not None or zones.get(conn, name) is not None:
            raise Conflict(
                f"The subdomain “{sub.name}” cannot follow the domain: “{name}” already exists."
            )
        conn.execute(
            sa.update(subdomains)
            .where(subdomains.c.user_id == user_id, subdomains.c.name == sub.name)
            .values(name=name, root_domain=root)
        )
        parked_domains.move_vhost(conn, user_id, sub.name, name)  # its addon domains follow
        moved.append((sub.name, name))
    return moved


def _taken(conn: sa.Connection, name: str) -> bool:
    if get(conn, name) is not None or zones.get(conn, name) is not None:
        return True
    if parked_domains.get(conn, name) is not None:
        return True
    return domain_users.domain_taken(conn, name)


def _zone_of(conn: sa.Connection, account: User, name: str) -> zones.Zone | None:
    """The account's zone holding `name`'s records (the longest zone name it ends with),
    read under the write lock; None when the account has none (killdns removed it)."""
    candidate = name
    while "." in candidate:
        candidate = candidate.split(".", 1)[1]
        zones.lock(conn, candidate)
        zone = zones.get(conn, candidate)
        if zone is not None:
            return zone if zone.owner_user_id == account.id else None
    return None


def _names(name: str) -> tuple[str, ...]:
    """The names a subdomain's records are at: its own and its `www.` (Cpanel/Sub.pm); a
    wildcard's own only (Whostmgr/DNS/Domains.pm's addsubdomain adds no `www.` to one)."""
    return (name,) if is_wildcard(name) else (name, f"www.{name}")


def _lines_at(zone: zones.Zone, names: tuple[str, ...]) -> list[int]:
    """The zone's records, of every type, at these names (Whostmgr/DNS/Domains.pm's
    `addsubdomain` drops every line whose owner is one of them)."""
    return [e.line_index for e in records_at(zone.name, zone.text, {f"{n}." for n in names})]


def add(
    unit: UnitOfWork,
    account: User,
    raw_label: str | None,
    raw_root: str | None,
    *,
    disallow_dot: bool = False,
) -> Subdomain:
    """Register `label.root` for `account` and add its A record to the account's IP.
    `account` as stored now (its limits and IP are read from it)."""
    conn = unit.conn
    if not raw_root:
        raise InvalidParameter(NO_ROOT_DOMAIN)
    if not raw_label:
        raise InvalidParameter(NO_SUBDOMAIN)
    label = check_label(raw_label, account.domain, disallow_dot=disallow_dot)
    root = _owned_root(conn, account, raw_root)
    _check_limit(conn, account)
    if label.split(".")[-1] in RESERVED:
        # Cpanel::Validate::Component::Domain::IsReservedSubdomain's words; gatehouse reserves
        # the names its zone template and cPanel's service subdomains use (docs/cpanel.md).
        raise InvalidParameter(f"The subdomain “{label}” is reserved.")
    name = f"{label}.{root}"
    if len(name) > 253:
        raise InvalidParameter(f"The domain “{name}” is longer than 253 characters.")
    # A wildcard's name is checked as the name it stands under (Cpanel::Validate::Domain::
    # validwildcarddomain reads its `*` as an ordinary label).
    domain_names.check_ownable(name[2:] if is_wildcard(name) else name)
    zone = _zone_of(conn, account, name)  # the write lock first: two adds queue here
    if zones.get(conn, name) is not None:
        raise domain_names.dns_entry_exists(name)
    if _taken(conn, name):
        raise domain_names.in_userdata(name)
    if zone is None:
        raise NotFound(f"The account “{account.username}” has no DNS zone for “{root}”.")
    if not account.ip:
        raise InvalidParameter(f"The account “{account.username}” has no IP address.")
    # cPanel's records replace what the zone held at both names, whatever its type.
    records = [changes.Change(f"{n}.", RECORD_TTL, "A", (account.ip,)) for n in _names(name)]
    text = changes.apply_edits(zone, records, [], _lines_at(zone, _names(name)))
    try:  # a concurrent call took the name (the call is rolled back)
        conn.execute(
            sa.insert(subdomains).values(
                user_id=account.id, name=name, root_domain=root, created_time=unit.now
            )
        )
    except sa.exc.IntegrityError:
        raise domain_names.in_userdata(name) from None
    save_edit(unit, zone, text, f"subdomain {name} added")
    unit.audit(SUBDOMAIN_CREATE, account.username, name)
    return Subdomain(name, root, account.id, unit.now)


def full_name(raw: str, *, disallow_dot: bool = False) -> str:
    """The subdomain cPanel's API 2 delsubdomain means by `domain`: `blog.example.com`, cPanel's
    own forms' `blog_example.com`, or `X,blog.example.com` (Cpanel/SubDomain.pm's
    _delsubdomain); `disallowdot` drops the dots of the part before the root domain."""
    label, root = raw, ""
    if "," in label:
        label = label.split(",")[1] if len(label.split(",")) > 1 else ""
        first = label.split(".")[0]
        root = label.removeprefix(f"{first}.") if first else label
        label = first
    if "_" in label:
        parts = label.split("_")
        label, root = parts[0], parts[1] if len(parts) > 1 else ""
    if disallow_dot:
        label = label.replace(".", "")
    return f"{label}.{root}".removesuffix(".")


def remove(unit: UnitOfWork, account: User, raw_name: str) -> Subdomain:
    """Unregister one of `account`'s subdomains and take its records (and its `www.`'s) out of
    its zone; a subdomain that has subdomains of its own is refused (they would be
    orphaned)."""
    conn = unit.conn
    if raw_name.lower().startswith("www."):
        raise InvalidParameter(MASTER_ENTRY)
    name = zones.normalise(raw_name)
    found = get(conn, name) if name else None
    if found is None or found.user_id != account.id:
        if name and name == account.domain:
            # Cpanel::Sub::_delete_local_subdomain's words for a domain of the account's that
            # is not a subdomain.
            raise NotFound(f"subdomain '{name}' does not exist for user '{account.username}'")
        raise _not_theirs(raw_name, account)
    children = [s.name for s in of_user(conn, account.id) if s.root_domain == name]
    if children:
        raise Conflict(f"Delete the subdomains of “{name}” first: {', '.join(children)}.")
    # Choice: cPanel leaves an addon domain pointing at a vhost that is gone; gatehouse keeps
    # the subdomain until its addon domains are deleted.
    addons = parked_domains.on_vhost(conn, account.id, name)
    if addons:
        raise Conflict(f"Delete the addon domains of “{name}” first: {', '.join(addons)}.")
    zone = _zone_of(conn, account, name)
    conn.execute(sa.delete(subdomains).where(subdomains.c.name == name))
    if zone is not None:
        lines = _lines_at(zone, _names(name))
        if lines:
            text = changes.apply_edits(zone, [], [], lines)
            save_edit(unit, zone, text, f"subdomain {name} removed")
    unit.audit(SUBDOMAIN_DELETE, account.username, name)
    return found
