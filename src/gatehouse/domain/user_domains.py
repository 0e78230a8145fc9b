"""WHM's view of an account's domains (cPanel's Whostmgr/API/1/UserDomains.pm): a subdomain
created by its full name, whichever account holds its parent, and a domain deleted by name,
whatever kind it is — over the same use cases as the cPanel face's `SubDomain` functions
(domain/subdomains.py) and parking (domain/parking.py, which also parks domains for
create_parked_domain_for_user), so the records, the checks and the audit trail are the same.

cPanel's WHM functions find the account themselves (Cpanel::AcctUtils::DomainOwner::Tiny::
getdomainowner: the account holding the name as any of its domains, domain_lookup.
holder_of_any), then call what the account's own cPanel calls (Cpanel::Sub's addsubdomain and
delsubdomain, Cpanel::ParkAdmin's park and unpark). The caller must still be allowed the
account (domain/access.py, REACH), which a token's scope may narrow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gatehouse.domain import access, domain_lookup, parking, subdomains
from gatehouse.domain.unit import UnitOfWork
from gatehouse.domain.users import User
from gatehouse.errors import Conflict, GatehouseError, InvalidParameter, NotFound

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
        parking.unpark(unit, account, found.parked)
        return Deleted(account.username, found.kind)
    if found.sub is None:
        raise Conflict(f"“{name}” is “{account.username}”’s main domain!")
    try:
        subdomains.remove(unit, account, name)
    except GatehouseError as exc:
        # UserDomains.pm's _delsubdomain: "delete “D”: " before Cpanel::Sub's reason.
        raise type(exc)(f"delete “{name}”: {exc.reason}", data=exc.data) from None
    return Deleted(account.username, found.kind)
