"""Parking a domain on one of an account's web vhosts, and unparking it: WHM's
create_parked_domain_for_user (cPanel's Whostmgr/API/1/UserDomains.pm, then Cpanel::ParkAdmin::
park) and delete_domain's parked and addon domains (Cpanel::ParkAdmin::unpark). Which vhost
serves the name, who may ask and which names are refused are decided here, in cPanel's order
and words; the domain and its zone are kept by domain/parked_domains.py.
"""

from __future__ import annotations

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
from gatehouse.errors import Conflict, InvalidParameter, NotFound, PermissionDenied


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
