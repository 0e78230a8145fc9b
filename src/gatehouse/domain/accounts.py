"""The account use cases: create an account (createacct) and modify one (modifyacct).

Face- and wire-neutral: each takes the unit of work it runs in (`domain.unit.UnitOfWork`), the
actor (`access.Actor`) and a plain request; it checks, runs the operator's hooks, writes and
audits, and answers what it did. Parsing parameters and shaping an envelope are the faces'.
Wording follows cPanel 11.120 (Whostmgr/API/1/Accounts.pm); "Choice:" marks gatehouse's own.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from gatehouse import acls
from gatehouse.dns import zones
from gatehouse.domain import (
    access,
    audit,
    domain_names,
    password_policy,
    reseller_admin,
    reseller_ips,
    reseller_limits,
    reseller_packages,
    subdomains,
    users,
)
from gatehouse.domain import packages as packages_domain
from gatehouse.domain.lifecycle import package_visible, require_managed
from gatehouse.domain.unit import UnitOfWork
from gatehouse.domain.users import User
from gatehouse.errors import (
    Conflict,
    InvalidParameter,
    NotFound,
    PermissionDenied,
    missing_parameter,
)
from gatehouse.passwords import check_password, generate_password, hash_password
from gatehouse.store.schema import users as users_table

if TYPE_CHECKING:  # domain.ips imports this module (through domain_lookup): a cycle
    from gatehouse.domain.ips import ServerAddress

_EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}\Z")


def check_email(contact: str) -> None:
    if not _EMAIL_RE.match(contact):
        raise InvalidParameter(f"“{contact}” is not a valid email address.")


def check_free(
    conn: sa.Connection, *, username: str | None = None, domain: str | None = None,
    except_id: int | None = None
) -> None:  # fmt: skip
    """The one conflict check: the username and the main domain (with its DNS zone) must not
    be anyone else's."""
    if username is not None and users.get(conn, username) is not None:
        raise Conflict(f"The username “{username}” is taken: an account with that name exists.")
    if domain is not None:
        if users.domain_taken(conn, domain, except_id=except_id):
            raise Conflict(f"The domain “{domain}” already exists on this server.")
        # DNS (issue 5): the account's zone goes with its domain; no zone of that name may exist.
        if zones.get(conn, domain) is not None:
            raise Conflict(f"A DNS zone for “{domain}” already exists on this server.")


def enclosing_zone(conn: sa.Connection, domain: str) -> zones.Zone | None:
    """The nearest existing zone strictly above `domain` (`example.com` for
    `shop.example.com`), which the nameserver would answer for it."""
    candidate = domain
    while "." in candidate:
        candidate = candidate.split(".", 1)[1]
        zone = zones.get(conn, candidate)
        if zone is not None:
            return zone
    return None


def check_domain_claim(
    conn: sa.Connection, actor: access.Actor, domain: str, owner_id: int
) -> None:
    """A new domain (createacct, modifyacct, adddns) may not be another name's: not a
    registered subdomain (its records live in its parent's zone, which a zone of its own would
    shadow), and — unless root asks — not beneath a zone another account owns, which would
    take that account's names over on the nameserver. cPanel refuses both for its users
    ("… is a subdomain of … owned by another user")."""
    if subdomains.get(conn, domain) is not None:
        raise Conflict(f"The domain “{domain}” already exists on this server.")
    parent = enclosing_zone(conn, domain)
    if parent is not None and parent.owner_user_id != owner_id and not actor.user.is_root:
        raise PermissionDenied(
            f"The domain “{domain}” is a subdomain of “{parent.name}”, which belongs to "
            "another user.",
            code=access.NOT_OWNER,
        )


def usable_package(
    conn: sa.Connection, actor: access.Actor, package: packages_domain.Package
) -> bool:
    """Whether `actor` may put accounts on `package`: one it sees (lifecycle.package_visible),
    or one root allowed it with setresellerpackagelimit (cPanel adds those to a reseller's
    "creatable" list whoever owns them). Its package limits may still refuse the account
    (reseller_limits)."""
    return package_visible(actor, package) or (
        actor.user.is_reseller and reseller_packages.granted(conn, actor.user, package)
    )


def package_for(conn: sa.Connection, actor: access.Actor, name: str) -> packages_domain.Package:
    """The package `name`, if `actor` may put accounts on it (FOR SHARE: killpkg waits)."""
    package = packages_domain.lock_for_use(conn, name)
    if package is None:
        if actor.sees_all:
            raise NotFound(f"The package “{name}” does not exist.")
        raise PermissionDenied(
            f"You do not have access to a package named “{name}”.", code="package_not_visible"
        )
    if not usable_package(conn, actor, package):
        raise PermissionDenied(
            f"You do not have access to a package named “{name}”.", code="package_not_visible"
        )
    return package


def _manager(conn: sa.Connection, owner: str) -> User:
    owner_user = users.get(conn, owner)
    if owner_user is None or not (owner_user.is_root or owner_user.is_reseller):
        raise InvalidParameter(f"The owner “{owner}” is neither “root” nor a reseller.")
    return owner_user


# -- create ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewAccount:
    """What createacct was asked, as given (None: not given)."""

    username: str | None
    domain: str | None
    password: str | None
    password_alias: str | None  # createacct's `pass`
    contact_email: str | None
    owner: str | None
    plan: str | None
    # The package settings given, by parameter name (quota, bwlimit, maxftp, …, ip, cpmod).
    overrides: dict[str, str | None]
    make_reseller: bool = False
    save_package: bool = False
    package_name: str | None = None  # savepkg's `pkgname`


@dataclass(frozen=True, slots=True)
class Server:
    """What the server says about every new account: its addresses (the main one first), its
    nameservers and its host name (in the zone's version line)."""

    addresses: list[ServerAddress]
    nameservers: list[str]
    hostname: str


@dataclass(frozen=True, slots=True)
class Created:
    account: User
    plan: str
    settings: dict[str, str]
    ip: str  # the account's address: its owner's shared address (setresellermainip)
    # The password gatehouse made up when the caller gave none (shown once, as cPanel's
    # account transcript shows it); None when the caller chose it.
    generated_password: str | None = None


def _password(conn: sa.Connection, request: NewAccount) -> tuple[str, bool]:
    """The new account's password, and whether gatehouse generated it."""
    if request.password and request.password_alias:
        raise InvalidParameter("Use either the “pass” or the “password” parameter, not both.")
    password = request.password or request.password_alias
    if not password:
        # As cPanel: without a password the account gets a strong random one, which the
        # answer's transcript shows once (docs/api.md); it rates 100 (generate_password).
        return generate_password(), True
    check_password(password)
    password_policy.require_strength(conn, password_policy.CREATEACCT, password)
    return password, False


def _address(conn: sa.Connection, owner: User, settings: dict[str, str], server: Server) -> str:
    """The new account's address. IP=y (createacct's `ip` or its package's): the first address
    its owner may dedicate (reseller_ips.available: cPanel's get_available_ips, as account
    restores use it), refused when there is none. Else its owner's shared address: a
    reseller's main address (setresellermainip), as Whostmgr::Ips::
    get_shared_ip_address_for_creator gives the owner's accounts (Whostmgr/Transfers/Systems/
    ZoneFile.pm asks it for the account's owner), else the server's main address."""
    if settings.get("IP") != "y":
        return reseller_ips.main_ip_of(conn, owner, server.addresses)
    free = reseller_ips.available(conn, owner, server.addresses)
    if not free:
        raise Conflict(reseller_ips.NO_FREE_IP)
    return free[0]


def create_account(
    unit: UnitOfWork, actor: access.Actor, request: NewAccount, server: Server
) -> Created:
    """Create a cPanel account, its DNS zone and (savepkg=1) its package; make it a reseller
    when asked (root only: the face refuses root-only arguments first)."""
    conn = unit.conn
    caller = actor.user
    if not request.username:
        raise missing_parameter("username")
    username = users.normalise_username(request.username)
    users.validate_new_username(username)
    if not request.domain:
        raise missing_parameter("domain")
    domain = domain_names.new_name(request.domain)
    password, generated = _password(conn, request)
    contact = request.contact_email or None
    if contact is not None:
        check_email(contact)
    owner = request.owner or caller.username
    if not caller.is_root and owner != caller.username:
        raise PermissionDenied(
            "Without root access, you can only create accounts that you yourself own.",
            code=access.NOT_OWNER,
        )
    owner_user = _manager(conn, owner)
    package = package_for(conn, actor, request.plan or packages_domain.DEFAULT_PACKAGE)
    # The package's settings, overridden by the parameters given. The package privileges
    # apply to the overrides as they do to addpkg: a reseller cannot hand out unlimited
    # values, a shell or a dedicated IP it could not put in a package.
    settings = packages_domain.build_settings(
        request.overrides, actor.privileges, base=package.settings
    )
    plan = package.name
    if request.save_package:
        if not acls.holds(actor.privileges, "add-pkg"):
            raise PermissionDenied(
                "Access denied: saving a package (savepkg=1) requires the “add-pkg” privilege."
            )
        raw_name = (request.package_name or "").strip()
        if not raw_name:
            raise InvalidParameter("Missing parameter: pkgname (savepkg=1 needs a name).")
        plan = packages_domain.name_for(caller.username, raw_name, is_root=caller.is_root)
    check_free(conn, username=username, domain=domain)
    check_domain_claim(conn, actor, domain, owner_user.id)
    # The owner's limits apply (setresellerlimits), whoever creates the account: root creating
    # an account for a reseller fills that reseller's allowance too.
    # The package limits (setresellerpackagelimit) apply to the package the account goes on;
    # a package savepkg makes is the caller's own, new one.
    reseller_limits.check_can_create(
        conn, owner_user, settings, None if request.save_package else package
    )
    ip = _address(conn, owner_user, settings, server)
    event = {
        "user": username,
        "domain": domain,
        "owner": owner,
        "plan": plan,
        "contactemail": contact,
        "ip": ip,
        "reseller": int(request.make_reseller),
        "limits": dict(settings),
        # Decision (docs/api.md): the plaintext password goes to the hooks, on standard input
        # only (never argv, environment or logs): creating the real system user needs it.
        "password": password,
    }
    unit.run_hooks("createacct", event)
    # Argon2 (~0.1 s of CPU) and the zone's text (made from the default template and read by
    # dnspython) before the first write: on SQLite a transaction holds the store's one write
    # lock from its first write to its commit, and every other writer waits meanwhile.
    password_hash = hash_password(password)
    # DNS (issue 5): the account's zone, with its reseller's nameservers when it has set some
    # (setresellernameservers), else the server's.
    zone = zones.from_template(
        domain,
        ip=ip,
        nameservers=reseller_admin.nameservers_of(conn, owner_user) or server.nameservers,
        now=unit.now,
        hostname=server.hostname,
        contact=contact,
    )
    if request.save_package:
        saved = packages_domain.create(conn, plan, caller.username, dict(settings), unit.now)
        if not actor.sees_all:
            reseller_packages.allow_new_package(
                conn, caller, saved, reseller_limits.get(conn, caller)
            )
        unit.audit(audit.PACKAGE_CREATE, plan, f"saved by createacct for {username}")
    if settings.get("IP") == "y":
        reseller_ips.claim(conn, ip, owner_user, server.addresses)
    account = users.create_account(
        conn,
        username=username,
        domain=domain,
        password_hash=password_hash,
        contact_email=contact,
        owner=owner,
        now=unit.now,
        plan=plan,
        limits=dict(settings),
        ip=ip,
    )
    unit.audit(audit.ACCOUNT_CREATE, account.username, f"domain {domain}, plan {plan}")
    zones.add(conn, zone, user_id=account.id, now=unit.now)
    unit.audit(audit.ZONE_CREATE, domain, f"zone of {username} (createacct)")
    if request.make_reseller:
        users.set_reseller_acls(conn, account.id, acls.DEFAULT_RESELLER_ACLS)
        unit.audit(audit.RESELLER_SETUP, account.username, "createacct reseller=1")
    return Created(
        account=account,
        plan=plan,
        settings=dict(settings),
        ip=ip,
        generated_password=password if generated else None,
    )


# -- modify ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountChanges:
    """What modifyacct was asked, as given (None: not given)."""

    username: str
    new_username: str | None = None
    domain: str | None = None
    contact_email: str | None = None
    owner: str | None = None
    # The account's own settings given, by parameter name (as createacct's overrides).
    settings: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Modified:
    account: User  # as it is now
    changes: dict[str, Any]
    messages: list[str]


def modify_account(unit: UnitOfWork, actor: access.Actor, request: AccountChanges) -> Modified:
    """Rename an account, change its domain (and its zone's name), contact address, owner
    (hasroot() only) or its own settings."""
    conn = unit.conn
    username = request.username
    target = require_managed(conn, actor, username)
    if target.is_root:
        raise InvalidParameter("The “root” user cannot be modified.")
    changes: dict[str, Any] = {}
    messages: list[str] = []

    new_username = request.new_username
    if new_username is not None and new_username.strip() and new_username.strip() != username:
        new_username = new_username.strip()
        users.validate_new_username(new_username)
        check_free(conn, username=new_username)
        changes["newuser"] = new_username
        messages.append(f"Changing username from “{username}” to “{new_username}”.")

    raw_domain = request.domain
    if raw_domain is not None and raw_domain.strip():
        # The account's own domain given again is no change (even one older rules allowed).
        domain = domain_names.lookup_form(raw_domain)
        if domain != target.domain:
            domain = domain_names.new_name(raw_domain)
            check_free(conn, domain=domain, except_id=target.id)
            check_domain_claim(conn, actor, domain, target.id)
            changes["domain"] = domain
            messages.append(f"Changing domain from “{target.domain}” to “{domain}”.")

    contact = request.contact_email
    if contact is not None:
        contact = contact.strip()
        if contact:
            check_email(contact)
        if (contact or None) != target.contact_email:
            changes["contactemail"] = contact or None
            messages.append(f"Changing contact email to “{contact}”.")

    owner = request.owner
    if owner is not None and owner.strip() and owner.strip() != target.owner:
        owner = owner.strip()
        if not actor.sees_all:
            raise PermissionDenied(
                "You cannot use the “owner” argument because you do not have root access.",
                code=access.ROOT_ONLY,
            )
        _manager(conn, owner)
        changes["owner"] = owner
        messages.append(f"Changing owner from “{target.owner}” to “{owner}”.")

    current = packages_domain.with_defaults(target.limits) if target.limits else None
    base = current or packages_domain.default_settings()
    if any(v is not None for v in request.settings.values()):
        new_limits = packages_domain.build_settings(request.settings, actor.privileges, base=base)
        changed = {k: v for k, v in new_limits.items() if base.get(k) != v}
        if changed:
            if not actor.sees_all:
                reseller_limits.check_can_change(conn, actor.user, username, new_limits)
            changes["limits"] = new_limits
            messages.extend(
                f"Changing {key} from “{base.get(key, 'unset')}” to “{value}”."
                for key, value in sorted(changed.items())
            )

    if changes:
        _apply(unit, target, changes, messages)
    final = users.get(conn, changes.get("newuser", username))
    assert final is not None
    return Modified(account=final, changes=changes, messages=messages)


def _apply(unit: UnitOfWork, target: User, changes: dict[str, Any], messages: list[str]) -> None:
    conn = unit.conn
    unit.run_hooks(
        "modifyacct",
        {
            "user": target.username,
            "domain": target.domain,
            "owner": target.owner,
            "plan": target.plan,
            "changes": changes,
        },
    )
    columns: dict[str, Any] = {}
    if "domain" in changes:
        columns["domain"] = changes["domain"]
    if "contactemail" in changes:
        columns["contact_email"] = changes["contactemail"]
    if "owner" in changes:
        columns["owner"] = changes["owner"]
    if "limits" in changes:
        columns["limits"] = changes["limits"]
    try:
        users.set_account_columns(conn, target.id, **columns)
    except sa.exc.IntegrityError as exc:  # a concurrent call took the domain
        raise Conflict(
            f"The domain “{changes.get('domain')}” already exists on this server."
        ) from exc
    if "domain" in changes:
        _move_zone(unit, target, changes["domain"], messages)
        if target.domain:
            for old, new in subdomains.move_root(conn, target.id, target.domain, changes["domain"]):
                messages.append(f"Renamed the subdomain “{old}” to “{new}”.")
    if "newuser" in changes:
        users.rename(conn, target, changes["newuser"])
    detail = "; ".join(f"{k}={'…' if k == 'limits' else v}" for k, v in changes.items())
    unit.audit(audit.ACCOUNT_MODIFY, target.username, detail)


def _move_zone(unit: UnitOfWork, target: User, domain: str, messages: list[str]) -> None:
    """cPanel renames the account's zone with its main domain (the account already holds the
    write lock here: its row was just updated)."""
    zone = zones.get(unit.conn, target.domain) if target.domain else None
    if zone is None or zone.owner_user_id != target.id:
        messages.append(f"The account has no DNS zone “{target.domain}”: no zone was renamed.")
        return
    moved = zones.rename(unit.conn, zone, domain, unit.now)
    messages.append(f"Renamed the DNS zone “{zone.name}” to “{moved.name}”.")
    unit.audit(audit.ZONE_EDIT, moved.name, f"renamed from {zone.name} (modifyacct)")


# -- reading: what listaccts, accountsummary, domainuserdata and acctcounts show ------------


def _every_user() -> Any:
    return sa.select(users_table).order_by(users_table.c.username)


def _user_count() -> Any:
    return sa.select(sa.func.count()).select_from(users_table)


def visible(conn: sa.Connection, actor: access.Actor) -> list[User]:
    """The cPanel accounts `actor` may list (access.visible_owner), by username."""
    query, values = visible_select(_every_user, actor)
    return [users.from_row(r) for r in conn.execute(query, values)]


# What a listing of accounts shows (listaccts): no password hash, no reseller lists.
_LISTED = [
    users_table.c[name]
    for name in (
        "id", "username", "domain", "owner", "contact_email", "suspended", "created_time",
        "plan", "limits", "ip", "suspend_reason", "suspend_time", "suspend_locked",
    )
]  # fmt: skip


def _narrowed(query: Any, owned: bool, scoped: bool) -> Any:
    """`query` (over the users table) narrowed to the accounts an actor may list — never
    root; with `owned`, a reseller's own accounts (parameter `owner`); with `scoped`, a scoped
    token's accounts (parameter `scope`) — the one place that says so, for every listing of
    accounts. Its values are bind parameters, so a statement of each shape is built once."""
    query = query.where(users_table.c.is_root.is_(False))
    if owned:
        query = query.where(users_table.c.owner == sa.bindparam("owner"))
    if scoped:
        query = query.where(users_table.c.username.in_(sa.bindparam("scope", expanding=True)))
    return query


def _visibility(actor: access.Actor) -> tuple[bool, bool, dict[str, Any]]:
    """`_narrowed`'s shape for `actor`, and the values of its parameters."""
    values: dict[str, Any] = {}
    owner = access.visible_owner(actor)
    if owner is not None:
        values["owner"] = owner
    if actor.scope is not None:
        values["scope"] = sorted(actor.scope.accounts)
    return owner is not None, actor.scope is not None, values


# Built once per shape: SQLAlchemy builds and keys a new select in ~60–80 µs, more than
# running one of these costs (docs/performance.md).
@functools.cache
def _narrowed_once(build: Callable[[], Any], owned: bool, scoped: bool) -> Any:
    return _narrowed(build(), owned, scoped)


def visible_select(build: Callable[[], Any], actor: access.Actor) -> tuple[Any, dict[str, Any]]:
    """The statement `build()` makes (over the users table), narrowed to the accounts `actor`
    may list (`_narrowed`) and built once per shape — `build` is a module's function, not a
    new lambda each call —, and its parameters' values."""
    owned, scoped, values = _visibility(actor)
    return _narrowed_once(build, owned, scoped), values


@functools.cache
def _one_query(owned: bool, scoped: bool, column: str) -> Any:
    query = _narrowed(sa.select(users_table), owned, scoped)
    return query.where(users_table.c[column] == sa.bindparam("wanted"))


@functools.cache
def _rows_query(owned: bool, scoped: bool, exactly: tuple[str, ...]) -> Any:
    query = _narrowed(sa.select(*_LISTED), owned, scoped)
    for column in exactly:
        query = query.where(users_table.c[column] == sa.bindparam(f"exactly_{column}"))
    return query.order_by(users_table.c.username)


def visible_rows(
    conn: sa.Connection, actor: access.Actor, *, exactly: dict[str, str] | None = None
) -> list[Any]:
    """`visible`'s accounts as rows of the columns a listing shows (`_LISTED`), by username:
    for 10,000 accounts, no User objects and one JSON column decoded instead of three.
    `exactly`: column values the rows must have (`username`, `domain`), asked of the store."""
    owned, scoped, values = _visibility(actor)
    wanted = exactly or {}
    values.update({f"exactly_{column}": value for column, value in wanted.items()})
    return list(conn.execute(_rows_query(owned, scoped, tuple(sorted(wanted))), values))


def visible_count(conn: sa.Connection, actor: access.Actor) -> int:
    """How many accounts `visible` lists, counted by the store."""
    query, values = visible_select(_user_count, actor)
    return int(conn.execute(query, values).scalar_one())


def visible_one(
    conn: sa.Connection, actor: access.Actor, *, username: str | None = None,
    domain: str | None = None
) -> User | None:  # fmt: skip
    """The account of that username (or main domain), if `actor` may list it."""
    owned, scoped, values = _visibility(actor)
    column = "username" if username is not None else "domain"
    values["wanted"] = username if username is not None else domain
    row = conn.execute(_one_query(owned, scoped, column), values).first()
    return users.from_row(row) if row is not None else None


# Built once (as users.get's): the account lookups of the domain functions.
_BY_DOMAIN = sa.select(users_table).where(users_table.c.domain == sa.bindparam("domain"))
_IP_BY_NAME = sa.select(users_table.c.ip).where(users_table.c.username == sa.bindparam("username"))


def by_domain(conn: sa.Connection, domain: str) -> User | None:
    """The account whose main domain is `domain`."""
    row = conn.execute(_BY_DOMAIN, {"domain": domain}).first()
    return users.from_row(row) if row is not None else None


def owned_counts(conn: sa.Connection, owner: User) -> tuple[int, int]:
    """(all, suspended) of the accounts `owner` owns, itself excepted."""
    rows = conn.execute(
        sa.select(users_table.c.suspended).where(
            users_table.c.owner == owner.username, users_table.c.id != owner.id
        )
    ).all()
    return len(rows), sum(1 for r in rows if r.suspended)


def ip_of(conn: sa.Connection, username: str) -> str | None:
    """The address recorded for the account `username` (None: none, or no such account)."""
    row = conn.execute(_IP_BY_NAME, {"username": username}).first()
    return row.ip if row is not None else None
