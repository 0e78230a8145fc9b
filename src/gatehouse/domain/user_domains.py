"""WHM's view of an account's domains (cPanel's Whostmgr/API/1/UserDomains.pm): a subdomain
created by its full name, whichever account holds its parent; a domain parked on one of an
account's web vhosts; and a domain deleted by name, whatever kind it is — over the same use
cases as the cPanel face's `SubDomain` functions (domain/subdomains.py) and the parked domains
(domain/parked_domains.py), so the records, the checks and the audit trail are the same.

cPanel's WHM functions find the account themselves (Cpanel::AcctUtils::DomainOwner::Tiny::
getdomainowner: the account holding the name as any of its domains, domain_lookup.
holder_of_any), then call what the account's own cPanel calls (Cpanel::Sub's addsubdomain and
delsubdomain, Cpanel::ParkAdmin's park and unpark). The caller must still be allowed the
account (domain/access.py, REACH), which a token's scope may narrow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from gatehouse.dns import zones
from gatehouse.domain import (
    access,
    accounts,
    domain_lookup,
    domain_names,
    parked_domains,
    reseller_admin,
    subdomains,
    users,
)
from gatehouse.domain.parked_domains import Parked, ZoneFacts
from gatehouse.domain.unit import UnitOfWork
from gatehouse.domain.users import User
from gatehouse.errors import Conflict, GatehouseError, InvalidParameter, NotFound, PermissionDenied

# Cpanel::Linux::Constants::PATH_MAX, the longest document root cPanel takes.
PATH_MAX = 4096
_BAD_CHARACTERS = re.compile(r'[\\?%*:|"<>=]|\s')
_INTERPOLATION = re.compile(r"\$\.*\{.*\}", re.DOTALL)
# cPanel's default for "Restrict document roots to public_html" (cpanel.config's
# publichtmlsubsonly, 1 in Cpanel/Config/CpConfGuard/Default.pm); gatehouse has no such setting.
PUBLIC_HTML = "public_html/"


def _not_a_document_root(path: str, why: str) -> InvalidParameter:
    return InvalidParameter(f"“{path}” is not a valid document root. ({why})")


def check_document_root(path: str) -> None:
    """Cpanel::Validate::DocumentRoot::validate_subdomain_document_root_or_die: a path relative
    to the home directory, under public_html/, refused (not coerced) when it holds what the
    subdomain functions would strip. gatehouse has no web server and keeps no document root
    (docs/cpanel.md); the check is cPanel's so a client learns the same thing."""
    why = None
    if not path or _BAD_CHARACTERS.search(path):
        why = (
            "Directory paths cannot be empty, contain whitespace, or contain the following "
            'characters: \\, ?, %, *, :, |, ", <, >, ='
        )
    elif _INTERPOLATION.search(path):
        why = "Directory paths cannot contain interpolation sequences."
    elif len(path) > PATH_MAX:
        why = "Directory path length exceeds PATH_MAX."
    else:
        # cPanel checks both, in this order, and the last found wins.
        for bad in ("..", "//"):
            if bad in path:
                why = f"Directory paths cannot contain “{bad}”."
    if why is not None:
        raise _not_a_document_root(path, why)
    if path.startswith("/"):
        raise InvalidParameter(
            "The document root must be a relative path. It must not begin with a slash (“/”)."
        )
    if "." in path.split("/"):
        # Cpanel::Validate::FilesystemPath::die_if_any_relative_nodes (`..` is refused above).
        raise InvalidParameter("Relative filesystem nodes are invalid.")
    if not path.startswith(PUBLIC_HTML):
        raise InvalidParameter(f"The document root must begin with “{PUBLIC_HTML}”.")


@dataclass(frozen=True, slots=True)
class NewSubdomain:
    """Where create_subdomain puts a name: the account holding its nearest parent, the labels
    before that parent, and the parent."""

    account: User
    leaf: str
    parent: str


def split_new_subdomain(unit: UnitOfWork, name: str) -> NewSubdomain:
    """Whostmgr/API/1/UserDomains.pm's create_subdomain: a name someone holds already is
    refused; else its parents are tried from the nearest (never a bare top-level domain) until
    one has an account holding it."""
    found = domain_lookup.holder_of_any(unit.conn, name)
    if found is not None:
        # A plain Perl `die` there; gatehouse answers its words without Perl's " at FILE line N."
        raise Conflict(f"“{found.account.username}” already controls “{name}”!")
    pieces = name.split(".")
    leaf: list[str] = []
    while len(pieces) > 2:
        leaf.append(pieces.pop(0))
        parent = ".".join(pieces)
        found = domain_lookup.holder_of_any(unit.conn, parent)
        if found is not None:
            return NewSubdomain(found.account, ".".join(leaf), parent)
    raise NotFound(f"No user on this system owns a parent domain of “{name}”.")


def _reach(actor: access.Actor, account: User) -> None:
    # The WHM functions need `all` (whm/functions/user_domains.py), so only a token's scope
    # can refuse here; the one rule decides, with its reason code.
    access.to_account(actor, account, account.username).enforce()


def create_subdomain(
    unit: UnitOfWork, actor: access.Actor, target: NewSubdomain
) -> subdomains.Subdomain:
    """Add the subdomain `target` to its account, as the account's own SubDomain::addsubdomain
    does (its A records, its checks, its ADDSUBDOMAIN audit line)."""
    _reach(actor, target.account)
    return subdomains.add(unit, target.account, target.leaf, target.parent)


@dataclass(frozen=True, slots=True)
class Deleted:
    """delete_domain's answer: the account that held the name and what kind of domain it was
    (both None when no account held it)."""

    username: str | None
    kind: str | None


def delete_domain(unit: UnitOfWork, actor: access.Actor, name: str) -> Deleted:
    """Whostmgr/API/1/UserDomains.pm's delete_domain: a name no account holds is no error
    (nothing to delete); an account's main domain is refused; a subdomain is removed as the
    account's own API 2 delsubdomain removes it (Cpanel::Sub::delsubdomain)."""
    found = domain_lookup.holder_of_any(unit.conn, name)
    if found is None:
        return Deleted(None, None)
    account = found.account
    _reach(actor, account)
    if found.parked is not None:
        unpark(unit, account, found.parked)
        return Deleted(account.username, found.kind)
    if found.sub is None:
        raise Conflict(f"“{name}” is “{account.username}”’s main domain!")
    try:
        subdomains.remove(unit, account, name)
    except GatehouseError as exc:
        # UserDomains.pm's _delsubdomain: "delete “D”: " before Cpanel::Sub's reason.
        raise type(exc)(f"delete “{name}”: {exc.reason}", data=exc.data) from None
    return Deleted(account.username, found.kind)


def _and_quoted(names: list[str]) -> str:
    """Locale::Maketext's [list_and_quoted]: “a”, “a” and “b”, “a”, “b”, and “c”."""
    quoted = [f"“{n}”" for n in names]
    if len(quoted) < 3:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + f", and {quoted[-1]}"


def unpark(unit: UnitOfWork, account: User, parked: Parked) -> None:
    """Cpanel::ParkAdmin::_local_unpark: refused while subdomains have their records in the
    domain's zone (they would be lost with it); else the domain and its zone go."""
    zones.lock(unit.conn, parked.name)
    under = [
        s.name for s in subdomains.of_user(unit.conn, account.id) if s.root_domain == parked.name
    ]
    if under:
        kind = "subdomain" if len(under) == 1 else "subdomains"
        raise Conflict(
            f"Before the system can remove the “{parked.name}” parked domain, you must remove "
            f"the {_and_quoted(under)} {kind}."
        )
    parked_domains.unpark(unit, account, parked)


@dataclass(frozen=True, slots=True)
class Server:
    """What parking needs of the server: its main address (for an account without one of its
    own), its nameservers and its host name."""

    ip: str
    nameservers: list[str]
    hostname: str


def _wording(actor: access.Actor) -> access.Wording:
    # Whostmgr/API/1/UserDomains.pm's refusal of an account the caller neither is nor owns,
    # and Cpanel::Config::WebVhosts->load's words for a user it has no vhosts of.
    return access.Wording(
        f"The user “{actor.user.username}” does not have access to the account “{{name}}”.",
        "No vhosts config data for user “{name}”",
    )


def web_vhost(conn: sa.Connection, account: User, name: str) -> str | None:
    """Cpanel::Config::WebVhosts::get_vhost_name_for_domain: the web vhost (named by its
    domain) that serves `name` among the account's domains — the main domain's for the main
    domain and its parked domains, a subdomain's for itself and its addon domains; None when
    `name` is none of the account's."""
    if name == account.domain:
        return name
    sub = subdomains.get(conn, name)
    if sub is not None and sub.user_id == account.id:
        return sub.name
    parked = parked_domains.get(conn, name)
    if parked is not None and parked.user_id == account.id:
        return parked.vhost or account.domain
    return None


def park(
    unit: UnitOfWork,
    actor: access.Actor,
    username: str,
    raw_domain: str,
    raw_vhost: str,
    server: Server,
) -> Parked:
    """Whostmgr/API/1/UserDomains.pm's create_parked_domain_for_user, then Cpanel::ParkAdmin::
    park: `raw_domain` becomes the account's, served by the vhost that serves `raw_vhost` —
    a parked domain on the main domain's, an addon domain on a subdomain's."""
    conn = unit.conn
    domain_names.check_rfc(raw_domain)
    domain_names.check_rfc(raw_vhost)
    # cPanel reads the account's vhosts before it checks the caller may reach the account,
    # which would tell a reseller about another's domains; the one rule comes first here.
    account = access.require_account(conn, actor, username, wording=_wording(actor))
    vhost = web_vhost(conn, account, zones.normalise(raw_vhost))
    if vhost is None:
        raise NotFound(f"“{raw_vhost}” does not refer to any of “{username}”’s web virtual hosts.")
    name = _park_name(raw_domain)
    if not actor.sees_all and _within(name, server.hostname):
        # cpanel.config's allowresellershostnamedomainsubdomains, off by default
        # (Cpanel/Config/CpConfGuard/Default.pm); gatehouse has no such setting.
        raise PermissionDenied(
            "Resellers do not have the necessary permissions to create subdomains of the "
            "server’s main domain.",
            code=access.ROOT_ONLY,
        )
    zones.lock(conn, name)
    _check_parkable(conn, actor, account, name, server.hostname)
    owner = users.get(conn, account.owner) if account.owner else None
    facts = ZoneFacts(
        ip=account.ip or server.ip,
        nameservers=(reseller_admin.nameservers_of(conn, owner) if owner else None)
        or server.nameservers,
        hostname=server.hostname,
    )
    return parked_domains.park(
        unit, account, name, None if vhost == account.domain else vhost, facts
    )


def _within(name: str, parent: str) -> bool:
    return name.endswith(f".{parent}")


def _park_name(raw: str) -> str:
    """Cpanel::ParkAdmin::_local_park's reading of the new domain: no `*`, normalised, and
    never a `www.` name."""
    name = zones.normalise(raw.replace("*", ""))
    if name.startswith("www."):
        raise InvalidParameter(f"The domain '{name}' may not contain the 'www.' label.")
    return name


def _check_parkable(
    conn: sa.Connection, actor: access.Actor, account: User, name: str, hostname: str
) -> None:
    """Cpanel::Validate::DomainCreation::Parked (and ::Addon), WHM's context, in its order:
    not the main domain itself, a name an account may own, no zone and no account's domain of
    that name, not beneath another account's zone (but for root), not the host name."""
    if name == account.domain:
        raise Conflict("You cannot park a domain on top of itself!")
    domain_names.new_name(name)
    if zones.get(conn, name) is not None:
        raise domain_names.dns_entry_exists(name)
    if domain_lookup.holder_of_any(conn, name) is not None:
        raise domain_names.in_userdata(name)
    accounts.check_domain_claim(conn, actor, name, account.id)
    if name == hostname:
        raise InvalidParameter(
            "You may not create a domain with a name that is the server’s hostname."
        )
