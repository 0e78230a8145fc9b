"""May this caller reach that account or zone? The one rule, for every face and function.

An `Actor` is a user with its effective privileges (its token may narrow them). Two notions of
"root" meet here, and the rule names which one each purpose uses:

* `actor.is_root` — the root user itself;
* `actor.sees_all` — cPanel's hasroot(): root, or a reseller whose effective privileges hold
  `all` (Whostmgr::ACLS::hasroot; `can_see_all_accts`).

A target is an account (`User`), or a DNS zone, reached through the account that holds it.
`None` is a target that does not exist. The answer is a `Decision`: allowed, or denied with a
reason code (`NOT_OWNER`, `ROOT_ONLY`, `OWN_ACCOUNT`, `NO_SUCH_ACCOUNT`, `NO_SUCH_ZONE`;
`NO_CPANEL_ACCOUNT` for a cPanel session for root; `OUT_OF_SCOPE` for a target outside the
token's scope, domain/token_scope.py) that reaches the audit trail, and the
cPanel-worded message for the caller.

Purposes (where the functions differ today, the purpose says how; the tests pin each):

* `REACH` — read or act on an account as its administrator (cPanel's verify_account_access):
  `sees_all` reaches every account; anyone else itself and the accounts it owns. acctcounts,
  domainuserdata, adddns's `trueowner`, WHM's `cpanel` function, the WHM zone functions.
* `CREDENTIALS` — set or hand out an account's credentials (passwd, accesshash,
  create_user_session): the root user reaches everyone; anyone else — `all` or not — itself
  and the accounts it owns, never root.
* `MANAGE` — suspend, unsuspend, remove, re-package or modify an account: the root user
  reaches everyone; a reseller — `all` or not — the accounts it owns, never itself (it would
  lock itself out of WHM, or remove itself) and never root.
* `OWN` — an account acting on its own things (the cPanel face's zone functions): itself only.

Whether the caller is told that a target does not exist (`Told`) also differs: a caller not
told gets the same refusal as for a target that is not its own, so a reseller learns nothing
about other resellers' accounts (verify_account_access). `Told.SEES_ALL`: hasroot() is told,
as verify_account_access tells it (every function that checks an account with it first:
the life cycle, modifyacct, limitbw, editquota, passwd, acctcounts, uapi_cpanel, adddns),
and `cpanel`, the zone functions and domainuserdata; `Told.NOBODY` (accesshash, the cPanel face).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

import sqlalchemy as sa

from gatehouse import acls
from gatehouse.dns import zones
from gatehouse.domain import token_scope, users
from gatehouse.domain.token_scope import Scope
from gatehouse.domain.users import User
from gatehouse.errors import GatehouseError, NotFound, PermissionDenied

# Reason codes (the audit trail's `reason` for an ACCESSDENIED row).
NOT_OWNER = "not_owner"
ROOT_ONLY = "root_only"
OWN_ACCOUNT = "own_account"
NO_SUCH_ACCOUNT = "no_such_account"
NO_SUCH_ZONE = "no_such_zone"
NO_CPANEL_ACCOUNT = "no_cpanel_account"
OUT_OF_SCOPE = token_scope.OUT_OF_SCOPE  # the token's scope does not name the target


class Purpose(Enum):
    REACH = "reach"
    CREDENTIALS = "credentials"
    MANAGE = "manage"
    OWN = "own"


class Told(Enum):
    """Who is told that a target does not exist."""

    SEES_ALL = "sees_all"
    NOBODY = "nobody"


@dataclass(frozen=True, slots=True)
class Actor:
    user: User
    privileges: frozenset[str]
    # The token's scope (domain/token_scope.py): it narrows what the rule allows, never more.
    scope: Scope | None = None

    @property
    def is_root(self) -> bool:
        return self.user.is_root

    @property
    def sees_all(self) -> bool:
        """cPanel's hasroot(). Root counts whatever its token holds, as ownership does
        elsewhere in gatehouse (cPanel would filter root's token too)."""
        return self.user.is_root or acls.ALL in self.privileges

    def tells_missing(self, told: Told) -> bool:
        return told is Told.SEES_ALL and self.sees_all


class Authenticated(Protocol):
    """What an actor is made of: an authenticated principal (gatehouse.auth's Principal)."""

    @property
    def user(self) -> User: ...

    @property
    def privileges(self) -> frozenset[str]: ...


def actor_of(principal: Authenticated) -> Actor:
    token = getattr(principal, "token", None)
    return Actor(principal.user, principal.privileges, token.scope if token else None)


@dataclass(frozen=True, slots=True)
class Wording:
    """cPanel's words for one kind of target: `{name}` is the name the caller gave."""

    denied: str
    missing: str


# Whostmgr::Authz::verify_account_access: hasroot() is told Cpanel::Exception::UserNotFound's
# words; anyone else gets the refusal, whether the account exists or is not theirs.
ACCOUNT = Wording(
    "You do not have access to an account named “{name}”.",
    "You do not have a user named “{name}”.",
)
# Choice: cPanel's verify_domain_access wording is not public.
DOMAIN = Wording(
    "You do not have access to a domain named “{name}”.", "The domain “{name}” does not exist."
)
# Whostmgr::Authz::verify_domain_existence_and_access (WHM's parse_dns_zone and
# mass_edit_dns_zone): DomainDoesNotExist to root, the refusal to anyone else.
AUTHZ_DOMAIN = Wording(
    "You do not have access to a domain named “{name}”.",
    "This system does not have a domain named “{name}”.",
)
# Choice: one wording for "not yours" and "does not exist" when the caller is not told.
WHM_ZONE = Wording(
    "You do not have access to the DNS zone “{name}”.", "The DNS zone “{name}” does not exist."
)
# Cpanel::API::DNS::_zone_is_valid_or_set_result_error (UAPI DNS); the cPanel face never
# tells an account that a zone does not exist.
UAPI_ZONE = Wording("You do not control a DNS zone named “{name}”.", "")
# zone.pm _throw_no_domain_access_if_user_mismatch (API 2 ZoneEdit).
API2_ZONE = Wording("You do not possess permission to read the zone for “{name}”.", "")
SESSION = Wording(
    "You do not have permission to create sessions for the user “{name}”.",
    "You cannot create a session for the user “{name}” because they do not exist.",
)


@dataclass(frozen=True, slots=True)
class Decision:
    """The rule's answer. `code` is None when allowed."""

    code: str | None
    name: str
    wording: Wording
    told_missing: bool = False

    @property
    def allowed(self) -> bool:
        return self.code is None

    @property
    def message(self) -> str:
        """What the caller is told: that the target does not exist (when it may know), else
        the refusal."""
        text = self.wording.missing if self.told_missing else self.wording.denied
        return text.format(name=self.name)

    def error(self) -> GatehouseError:
        if self.told_missing:
            return NotFound(self.message)
        return PermissionDenied(self.message, code=self.code or NOT_OWNER)

    def enforce(self) -> None:
        if not self.allowed:
            raise self.error()


def _denial(actor: Actor, target: User, purpose: Purpose) -> str | None:
    """The reason code refusing `actor` the existing account `target`, or None."""
    me = actor.user
    mine = target.id == me.id or target.owner == me.username
    if purpose is Purpose.OWN:
        return None if target.id == me.id else NOT_OWNER
    if purpose is Purpose.REACH and actor.sees_all:
        return None
    if target.is_root and not actor.is_root:
        return ROOT_ONLY
    if actor.is_root:
        return None
    if purpose is Purpose.MANAGE and target.id == me.id:
        return OWN_ACCOUNT
    return None if mine else NOT_OWNER


def to_account(
    actor: Actor,
    target: User | None,
    name: str,
    *,
    purpose: Purpose = Purpose.REACH,
    told: Told = Told.SEES_ALL,
    wording: Wording = ACCOUNT,
) -> Decision:
    """May `actor` reach the account `target` (None: no account of that `name`)?"""
    if target is None:
        return Decision(NO_SUCH_ACCOUNT, name, wording, actor.tells_missing(told))
    code = _denial(actor, target, purpose)
    # A scoped token reaches only the accounts it names (its own account it is, as the cPanel
    # face's tokens are), told as "not yours" whatever the caller could see.
    scope = actor.scope
    if (
        code is None
        and scope is not None
        and target.id != actor.user.id
        and not scope.reaches_account(target.username)
    ):
        code = OUT_OF_SCOPE
    return Decision(code, name, wording)


def to_zone(
    actor: Actor,
    zone_account: User | None,
    name: str,
    *,
    exists: bool,
    purpose: Purpose = Purpose.REACH,
    told: Told = Told.SEES_ALL,
    wording: Wording = WHM_ZONE,
) -> Decision:
    """May `actor` reach the zone `name`, held by `zone_account`? A zone is reached through
    its account, under the same rule."""
    if not exists or zone_account is None:
        return Decision(NO_SUCH_ZONE, name, wording, actor.tells_missing(told))
    code = _denial(actor, zone_account, purpose)
    if code is None and actor.scope is not None:
        scope = actor.scope
        if (scope.zones or scope.accounts) and not scope.reaches_zone(name, zone_account.username):
            code = OUT_OF_SCOPE
    return Decision(code, name, wording)


def require_account(
    conn: sa.Connection,
    actor: Actor,
    username: str,
    *,
    purpose: Purpose = Purpose.REACH,
    told: Told = Told.SEES_ALL,
    wording: Wording = ACCOUNT,
) -> User:
    """The account `username`, if `actor` may reach it; else NotFound or PermissionDenied."""
    target = users.get(conn, username)
    to_account(actor, target, username, purpose=purpose, told=told, wording=wording).enforce()
    assert target is not None
    return target


def require_zone(
    conn: sa.Connection,
    actor: Actor,
    name: str,
    *,
    purpose: Purpose = Purpose.REACH,
    told: Told = Told.SEES_ALL,
    wording: Wording = WHM_ZONE,
    lock: bool = False,
) -> zones.Zone:
    """The zone `name` (already normalised), if `actor` may reach it. `lock` takes the zone's
    write lock first (it must be the call's first statement: see zones.lock)."""
    if lock:
        zones.lock(conn, name)
    zone = zones.get(conn, name)
    holder = None if zone is None else _zone_account(conn, actor, zone)
    decision = to_zone(
        actor, holder, name, exists=zone is not None, purpose=purpose, told=told, wording=wording
    )
    decision.enforce()
    assert zone is not None
    return zone


def _zone_account(conn: sa.Connection, actor: Actor, zone: zones.Zone) -> User | None:
    if zone.owner_user_id == actor.user.id:
        return actor.user  # the common case, without a second read
    return users.get_by_id(conn, zone.owner_user_id)


def own_zone(
    conn: sa.Connection, actor: Actor, raw_name: str, wording: Wording, *, lock: bool = False
) -> zones.Zone:
    """The cPanel face: the zone `raw_name` if it is the account's own, else the same refusal
    for a zone of another account, one that does not exist and a name that is no zone name."""
    name = zones.normalise(raw_name)
    if not name:
        raise Decision(NO_SUCH_ZONE, raw_name.strip(), wording).error()
    return require_zone(
        conn, actor, name, purpose=Purpose.OWN, told=Told.NOBODY, wording=wording, lock=lock
    )


def visible_owner(actor: Actor) -> str | None:
    """Whose accounts a list shows `actor`: everyone's (None) for hasroot(), else its own."""
    return None if actor.sees_all else actor.user.username


def zone_in_scope(conn: sa.Connection, scope: Scope, name: str) -> bool:
    """Whether a scope reaches the zone `name` (named, or held by an account it names)."""
    if name in scope.zones:
        return True
    if not scope.accounts:
        return False
    zone = zones.get(conn, name)
    holder = None if zone is None else users.get_by_id(conn, zone.owner_user_id)
    return holder is not None and scope.reaches_account(holder.username)
