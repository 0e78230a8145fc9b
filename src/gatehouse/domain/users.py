"""Root, resellers and cPanel accounts: one model (`User`) of one `users` row, everywhere.
Who may reach whom is domain/access.py's rule."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa

from gatehouse import acls
from gatehouse.domain import domain_names
from gatehouse.errors import Conflict, InvalidParameter, NotFound
from gatehouse.store.schema import sessions, users

ROOT = "root"


# The first UID a cPanel server hands out to an account (UID_MIN in /etc/login.defs).
# gatehouse creates no system users: an account's uid, as WHM's listaccts and UAPI's
# Variables report it, is UID_BASE + its row id, stable and unique among the accounts.
UID_BASE = 1000


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    is_root: bool
    domain: str | None
    owner: str
    contact_email: str | None
    suspended: bool
    reseller_acls: tuple[str, ...] | None
    password_hash: str | None
    created_time: int
    # The account's life-cycle columns (migration 0004); root and name-only users have none.
    plan: str | None = None
    limits: dict[str, str] | None = field(default=None, hash=False)
    ip: str | None = None
    suspend_reason: str | None = None
    suspend_time: int | None = None
    suspend_locked: bool = False  # disallowun: only root may lift the suspension
    suspended_by: str | None = None

    @property
    def is_reseller(self) -> bool:
        return self.reseller_acls is not None

    @property
    def may_use_whm(self) -> bool:
        """WHM (and WHM tokens) belong to root and resellers that are not suspended."""
        return (self.is_root or self.is_reseller) and not self.suspended

    @property
    def has_cpanel_account(self) -> bool:
        """A cPanel account: made by createacct, so it has a main domain. Root has none, nor
        has a user known only by name (an imported reseller or token owner)."""
        return not self.is_root and self.domain is not None

    @property
    def may_use_cpanel(self) -> bool:
        """The cPanel face (UAPI, API 2, cPanel tokens) belongs to accounts not suspended."""
        return self.has_cpanel_account and not self.suspended

    @property
    def privileges(self) -> frozenset[str]:
        """What this user holds in WHM: root always `all`, a reseller its stored set."""
        if self.is_root:
            return frozenset({acls.ALL})
        if self.reseller_acls is None:
            return frozenset()
        return frozenset(self.reseller_acls)


def from_row(row: Any) -> User:
    stored = row.reseller_acls
    return User(
        id=row.id,
        username=row.username,
        is_root=bool(row.is_root),
        domain=row.domain,
        owner=row.owner,
        contact_email=row.contact_email,
        suspended=bool(row.suspended),
        reseller_acls=tuple(stored) if stored is not None else None,
        password_hash=row.password_hash,
        created_time=int(row.created_time),
        plan=row.plan,
        limits=dict(row.limits) if row.limits else None,
        ip=row.ip,
        suspend_reason=row.suspend_reason,
        suspend_time=int(row.suspend_time) if row.suspend_time is not None else None,
        suspend_locked=bool(row.suspend_locked),
        suspended_by=row.suspended_by,
    )


# Columns of `users` under an `owner_` prefix, for queries that fetch a token or a session
# together with its owner in one round trip.
OWNER_COLUMNS = [c.label(f"owner_{c.name}") for c in users.c]


def owner_from_joined(row: Any) -> User:
    mapping = row._mapping
    return from_row(SimpleNamespace(**{c.name: mapping[f"owner_{c.name}"] for c in users.c}))


# Built once: SQLAlchemy builds and keys a new select in ~60–80 µs, three times what running
# one of these costs, and nearly every call reads a user (docs/performance.md).
_BY_NAME = sa.select(users).where(users.c.username == sa.bindparam("username"))
_BY_ID = sa.select(users).where(users.c.id == sa.bindparam("user_id"))


def get(conn: sa.Connection, username: str) -> User | None:
    if "\x00" in username:
        # No user's name has a NUL, and PostgreSQL refuses one in a query's text: the caller
        # is told there is no such user, not an internal error.
        return None
    row = conn.execute(_BY_NAME, {"username": username}).first()
    return from_row(row) if row else None


def get_by_id(conn: sa.Connection, user_id: int) -> User | None:
    row = conn.execute(_BY_ID, {"user_id": user_id}).first()
    return from_row(row) if row else None


def require(conn: sa.Connection, username: str) -> User:
    user = get(conn, username)
    if user is None:
        raise NotFound(f"The user “{username}” does not exist.")
    return user


def create_root(conn: sa.Connection, password_hash: str, now: int) -> User:
    conn.execute(
        sa.insert(users).values(
            username=ROOT,
            password_hash=password_hash,
            is_root=True,
            owner=ROOT,
            suspended=False,
            created_time=now,
        )
    )
    return require(conn, ROOT)


# cPanel's rules for NEW account names (Cpanel/Validate/Username.pm, is_strictly_valid): lower
# case letters and digits, not a digit first. Periods, hyphens and underscores are allowed only
# to accounts transferred in (and underscores where database prefixing is off, which is not
# cPanel's default); the reserved names are Cpanel/Validate/Username/Core.pm's.
USERNAME_MAX = 16
_USERNAME_RE = re.compile(r"^(?![0-9])[a-z0-9]{1,16}\Z")
_RESERVED = frozenset(
    [
        "abrt",
        "all",
        "clamav",
        "cpanel-ccs",
        "cpeasyapache",
        "cpses",
        "cptkt",
        "cphulkd",
        "cpwebcalls",
        "dbus",
        "dirs",
        "dnsadmin",
        "dovecot",
        "eximstats",
        "files",
        "ftpxferlog",
        "haldaemon",
        "information_schema",
        "mailman",
        "modsec",
        "munin",
        "mydns",
        "nobody",
        "performance_schema",
        "postgres",
        "postmaster",
        "proftpd",
        "root",
        "roundcube",
        "shadow",
        "spamassassin",
        "ssl",
        "sys",
        "system",
        "tcpdump",
        "tmp",
        "tomcat",
        "toor",
        "virtfs",
        "virtual",
        "webmaster",
        "whmxfer",
        "_lock",
    ]
)
_RESERVED_PREFIXES = (
    "test",
    "passwd.",
    "cpmydns",
    "cpanel",
    "mydns",
    "pg_toast",
    "pg_temp",
    "cpses",
    "cptkt",
    "cpbackup",
)
_RESERVED_SUFFIXES = (".lock", ".cache", ".yaml", ".json", ".db", "assword")


_ASCII_UPPER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def normalise_username(raw: str) -> str:
    """Cpanel::Validate::Username::normalize: blanks trimmed, ASCII capitals lowered
    (`tr/A-Z/a-z/`). createacct takes `Bob` as `bob`: billing systems send mixed-case names
    and keep them lower-cased (Paymenter's Str::random() usernames)."""
    return raw.strip().translate(_ASCII_UPPER)


def validate_new_username(username: str) -> None:
    if not username:
        raise InvalidParameter("Missing parameter: username")
    if len(username) > USERNAME_MAX:
        raise InvalidParameter(
            f"The username “{username}” is too long: it may contain at most "
            f"{USERNAME_MAX} characters."
        )
    if not _USERNAME_RE.match(username):
        raise InvalidParameter(
            f"“{username}” is not a valid username. A username may contain only lowercase "
            "letters and digits, and cannot begin with a digit."
        )
    if (
        username in _RESERVED
        or username.startswith(_RESERVED_PREFIXES)
        or username.endswith(_RESERVED_SUFFIXES)
    ):
        raise InvalidParameter(f"The username “{username}” is reserved.")


def normalise_domain(domain: str) -> str:
    """A lower-case host name with at least two labels and no trailing dot, Unicode as
    A-labels: the spelling only (a new name is checked by domain_names.new_name)."""
    return domain_names.host_name(domain)


def create_account(
    conn: sa.Connection,
    *,
    username: str,
    domain: str,
    password_hash: str,
    contact_email: str | None,
    owner: str,
    now: int,
    plan: str | None = None,
    limits: dict[str, str] | None = None,
    ip: str | None = None,
) -> User:
    """Insert the account row. The caller has checked that the name and the domain are free
    (domain/accounts.py check_free); a concurrent insert is still refused here."""
    try:
        conn.execute(
            sa.insert(users).values(
                username=username,
                password_hash=password_hash,
                is_root=False,
                domain=domain,
                owner=owner,
                contact_email=contact_email,
                suspended=False,
                created_time=now,
                plan=plan,
                limits=limits,
                ip=ip,
            )
        )
    except sa.exc.IntegrityError as exc:
        # A concurrent createacct won the race between the caller's checks and this insert.
        # The caller's transaction is rolled back as the Conflict propagates.
        raise Conflict(
            f"The username “{username}” or the domain “{domain}” was taken while the account "
            "was being created."
        ) from exc
    return require(conn, username)


def set_password_hash(
    conn: sa.Connection, user_id: int, password_hash: str, *, keep_session: int | None = None
) -> int:
    """Set the password and end the user's sessions (a stolen password, or a session opened
    with it, must not outlive the change); the session that made the change may be kept.
    Remembered verifications die with the old hash (they are bound to it). How many sessions
    ended."""
    conn.execute(sa.update(users).where(users.c.id == user_id).values(password_hash=password_hash))
    return end_sessions(conn, user_id, keep=keep_session)


def end_sessions(conn: sa.Connection, user_id: int, *, keep: int | None = None) -> int:
    """End every browser session of the user (but `keep`): on a password change or a
    suspension. Sessions are read from the store on every request, so every node sees it at
    once."""
    stmt = sa.delete(sessions).where(sessions.c.user_id == user_id)
    if keep is not None:
        stmt = stmt.where(sessions.c.id != keep)
    return int(conn.execute(stmt).rowcount or 0)


def set_reseller_acls(conn: sa.Connection, user_id: int, privileges: Iterable[str] | None) -> None:
    value = acls.ordered(privileges) if privileges is not None else None
    conn.execute(sa.update(users).where(users.c.id == user_id).values(reseller_acls=value))


def set_owner(conn: sa.Connection, user_id: int, owner: str) -> None:
    conn.execute(sa.update(users).where(users.c.id == user_id).values(owner=owner))


def transfer_owned(conn: sa.Connection, from_owner: str, to_owner: str) -> None:
    conn.execute(
        sa.update(users)
        .where(users.c.owner == from_owner, users.c.username != from_owner)
        .values(owner=to_owner)
    )


def list_resellers(conn: sa.Connection) -> list[str]:
    rows = conn.execute(
        sa.select(users.c.username)
        .where(users.c.reseller_acls.is_not(None), users.c.is_root.is_(False))
        .order_by(users.c.username)
    )
    return [r.username for r in rows]


# -- the account life cycle (createacct, modifyacct) -----------------------------------------


def server_ip(bind: str) -> str:
    """The address recorded as an account's IP (listaccts `ip`, createacct `data.ip`).

    gatehouse allocates no addresses: every account, `ip=y` or not, gets the server's main
    address — the address it listens on, or, when it listens on every address, the one the
    machine would use to reach the Internet (found with an unconnected UDP socket: nothing is
    sent), else 127.0.0.1."""
    import ipaddress
    import socket

    try:
        address = ipaddress.ip_address(bind)
    except ValueError:
        address = None
    if address is not None and not address.is_unspecified:
        return str(address)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: no packet leaves for connect()
            return str(probe.getsockname()[0])
    except OSError:
        return "127.0.0.1"


_ID_BY_DOMAIN = sa.select(users.c.id).where(users.c.domain == sa.bindparam("domain"))
_OTHER_ID_BY_DOMAIN = _ID_BY_DOMAIN.where(users.c.id != sa.bindparam("except_id"))


def domain_taken(conn: sa.Connection, domain: str, *, except_id: int | None = None) -> bool:
    """Whether an account (other than `except_id`) has `domain` as its main domain."""
    if except_id is None:
        return conn.execute(_ID_BY_DOMAIN, {"domain": domain}).first() is not None
    found = conn.execute(_OTHER_ID_BY_DOMAIN, {"domain": domain, "except_id": except_id})
    return found.first() is not None


def set_account_columns(conn: sa.Connection, user_id: int, **values: Any) -> None:
    """Write account columns (plan, limits, ip, domain, contact_email, owner)."""
    allowed = {"plan", "limits", "ip", "domain", "contact_email", "owner"}
    unknown = set(values) - allowed
    if unknown:
        raise ValueError(f"not account columns: {sorted(unknown)}")
    if values:
        conn.execute(sa.update(users).where(users.c.id == user_id).values(**values))


def rename(conn: sa.Connection, user: User, new_username: str) -> None:
    """Rename an account. API tokens, sessions and the Remote Access Key reference users.id,
    so they keep working under the new name. Accounts and packages the user owns (a
    reseller, or an account that owns itself) follow it."""
    from gatehouse.store.schema import packages

    old = user.username
    try:
        conn.execute(sa.update(users).where(users.c.id == user.id).values(username=new_username))
    except sa.exc.IntegrityError as exc:  # a concurrent createacct/modifyacct took the name
        raise Conflict(
            f"The username “{new_username}” is taken: an account with that name exists."
        ) from exc
    conn.execute(sa.update(users).where(users.c.owner == old).values(owner=new_username))
    conn.execute(sa.update(packages).where(packages.c.owner == old).values(owner=new_username))
