"""API tokens: generation, at-rest digests, and the store operations behind the token API."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast, overload

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from gatehouse import ipnets
from gatehouse.domain import token_scope
from gatehouse.domain.token_scope import Scope
from gatehouse.domain.users import OWNER_COLUMNS, User, owner_from_joined
from gatehouse.errors import Conflict, InvalidParameter, NotFound
from gatehouse.numerals import digits
from gatehouse.store.rows import upsert
from gatehouse.store.schema import api_tokens, token_addresses, token_grace, users

WHOSTMGR = "whostmgr"
CPANEL = "cpanel"

TOKEN_LENGTH = 32
TOKEN_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Perl's `m/^[A-Za-z0-9_-]{1,50}$/` (Cpanel/Security/Authn/APITokens/Validate.pm line 135):
# `$` also matches before one final newline, so `name\n` is a valid, distinct name there.
NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,50}\n?\Z")


def generate() -> str:
    """A new token: 32 characters of [0-9A-Z] from the OS's CSPRNG (~165 bits)."""
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))


def digest(token: str) -> str:
    """SHA-512 hex, cPanel's at-rest form: a cPanel token store can be imported as is.

    A fast hash is right here (unlike for passwords): a token carries ~165 random bits, so
    there is nothing to brute-force, and verifying it must cost microseconds.
    """
    return hashlib.sha512(token.encode("utf-8", "surrogatepass")).hexdigest()


def validate_name(name: str) -> None:
    # cPanel's words (Cpanel/Security/Authn/APITokens/Validate.pm `_validate_token_name`), its
    # maketext rendered: `[quant,_2,…]` is "50 characters", `[numerate,_3,…]` prints only the
    # word, and `[join, ,_4]` joins its allowed ranges with spaces. No full stop at the end.
    if not NAME_RE.match(name):
        raise InvalidParameter(
            f"“{name}” is not a valid API token name. An API token name must not be longer "
            "than 50 characters and may only contain the following characters: "
            "a-z A-Z 0-9 _ -"
        )


@overload
def stored_acls(token_acls: Sequence[str]) -> list[str]: ...
@overload
def stored_acls(token_acls: None) -> None: ...
@overload
def stored_acls(token_acls: Sequence[str] | None) -> list[str] | None: ...
def stored_acls(token_acls: Sequence[str] | None) -> list[str] | None:
    """A token's ACL list as cPanel writes it on every create and update: without repeats, in
    plain string order (`sort( uniq( @acls ) )`, Cpanel/Security/Authn/APITokens/Write/
    whostmgr.pm `_normalize_token_data`), and read back in that order by the API. None (full
    access) stays None."""
    return sorted(set(token_acls)) if token_acls is not None else None


@dataclass(frozen=True, slots=True)
class Token:
    id: int
    user_id: int
    service: str
    name: str
    acls: tuple[str, ...] | None
    whitelist_ips: tuple[str, ...] | None
    create_time: int
    expires_at: int | None
    last_used_time: int | None
    last_used_ip: str | None
    description: str | None = None  # where the token is used (docs/governance.md)
    last_used_agent: str | None = None  # the User-Agent of its last noted use
    rate_limit: int | None = None  # requests per minute (domain/token_rate.py); None: none
    scope: Scope | None = None  # the accounts, zones, records it may reach (token_scope.py)
    # The allow-list compiled once per read from the store (cached tokens reuse it).
    allow: ipnets.AllowList | None = field(default=None, compare=False, repr=False)

    def allows(self, peer: str | None) -> bool:
        """No allow-list, or the peer is inside it (unknown peers are refused)."""
        if self.allow is None:
            return ipnets.allows(self.whitelist_ips, peer)
        return self.allow.allows(peer)

    def is_expired(self, now: int) -> bool:
        # cPanel: `expires_at && expires_at < time()` — still valid during its last second.
        return self.expires_at is not None and self.expires_at < now


def _from_row(row: Any, *, compile_allow_list: bool = True) -> Token:
    """A token as stored; `compile_allow_list=False` for listings, which never check a peer
    (`Token.allows` still works: it compiles on demand)."""
    return Token(
        id=row.id,
        user_id=row.user_id,
        service=row.service,
        name=row.name,
        acls=tuple(row.acls) if row.acls is not None else None,
        whitelist_ips=tuple(row.whitelist_ips) if row.whitelist_ips is not None else None,
        create_time=int(row.create_time),
        expires_at=int(row.expires_at) if row.expires_at is not None else None,
        last_used_time=int(row.last_used_time) if row.last_used_time is not None else None,
        last_used_ip=row.last_used_ip,
        description=row.description,
        last_used_agent=row.last_used_agent,
        rate_limit=row.rate_limit,
        scope=token_scope.from_stored(row.scope),
        allow=ipnets.compile_list(row.whitelist_ips) if compile_allow_list else None,
    )


def _exists(conn: sa.Connection, user_id: int, service: str, name: str) -> bool:
    query = sa.select(api_tokens.c.id).where(
        api_tokens.c.user_id == user_id,
        api_tokens.c.service == service,
        api_tokens.c.name == name,
    )
    return conn.execute(query).first() is not None


def create(
    conn: sa.Connection,
    *,
    owner: User,
    service: str,
    name: str,
    token_acls: Sequence[str] | None,
    whitelist_ips: Sequence[str] | None,
    expires_at: int | None,
    now: int,
    description: str | None = None,
    rate_limit: int | None = None,
    scope: Scope | None = None,
) -> tuple[Token, str]:
    """Store a new token and return it with its plaintext — the only time that exists."""
    validate_name(name)
    description = clean_description(description)
    if _exists(conn, owner.id, service, name):
        raise Conflict(f"A conflicting API token with the name “{name}” already exists.")
    plaintext = generate()
    try:
        result = conn.execute(
            sa.insert(api_tokens).values(
                user_id=owner.id,
                service=service,
                name=name,
                digest=digest(plaintext),
                acls=stored_acls(token_acls),
                whitelist_ips=list(whitelist_ips) if whitelist_ips else None,
                create_time=now,
                expires_at=expires_at,
                description=description,
                rate_limit=rate_limit,
                scope=scope.as_json() if scope is not None else None,
            )
        )
    except IntegrityError as exc:
        # Another writer (a second server process, the CLI) took the name between the
        # check above and this insert: the unique constraint decides. The caller's
        # transaction is rolled back as the Conflict propagates.
        raise Conflict(f"A conflicting API token with the name “{name}” already exists.") from exc
    token_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
    row = conn.execute(sa.select(api_tokens).where(api_tokens.c.id == token_id)).one()
    return _from_row(row), plaintext


_LIST_QUERY = (
    sa.select(api_tokens)
    .where(
        api_tokens.c.user_id == sa.bindparam("user_id"),
        api_tokens.c.service == sa.bindparam("service"),
    )
    .order_by(api_tokens.c.name)
)


def list_for(conn: sa.Connection, user_id: int, service: str) -> list[Token]:
    """The owner's tokens of one service, by name (allow-lists not compiled: see `_from_row`)."""
    rows = conn.execute(_LIST_QUERY, {"user_id": user_id, "service": service}).all()
    return [_from_row(r, compile_allow_list=False) for r in rows]


_SUMMARY_QUERY = (
    sa.select(
        api_tokens.c.name,
        api_tokens.c.acls,
        api_tokens.c.whitelist_ips,
        api_tokens.c.create_time,
        api_tokens.c.expires_at,
        api_tokens.c.last_used_time,
        api_tokens.c.last_used_ip,
        api_tokens.c.description,
        api_tokens.c.last_used_agent,
        token_grace.c.expires_at,
        api_tokens.c.rate_limit,
        api_tokens.c.scope,
    )
    .outerjoin(token_grace, token_grace.c.token_id == api_tokens.c.id)
    .where(
        api_tokens.c.user_id == sa.bindparam("user_id"),
        api_tokens.c.service == sa.bindparam("service"),
    )
    .order_by(api_tokens.c.name)
)


# (name, acls, whitelist_ips, create_time, expires_at, last_used_time, last_used_ip,
# description, last_used_agent, previous secret's end, rate_limit, scope), as stored: acls and
# whitelist_ips are lists, or None for full access / any address; the previous secret's end is
# None unless the token was rotated and its grace (token_grace) is recorded, ended or not.
TokenSummary = tuple[
    str,
    list[str] | None,
    list[str] | None,
    int,
    int | None,
    int | None,
    str | None,
    str | None,
    str | None,
    int | None,
    int | None,
    dict[str, list[str]] | None,
]


def list_summaries(conn: sa.Connection, user_id: int, service: str) -> Sequence[TokenSummary]:
    """What a token listing shows, in name order, as the store's rows themselves (they unpack
    like `TokenSummary`). No `Token` is built: `api_token_list` needs only these columns."""
    rows = conn.execute(_SUMMARY_QUERY, {"user_id": user_id, "service": service}).all()
    return cast("Sequence[TokenSummary]", rows)


def get_by_name(conn: sa.Connection, user_id: int, service: str, name: str) -> Token | None:
    row = conn.execute(
        sa.select(api_tokens).where(
            api_tokens.c.user_id == user_id,
            api_tokens.c.service == service,
            api_tokens.c.name == name,
        )
    ).first()
    return _from_row(row) if row else None


def get_by_plaintext(conn: sa.Connection, user_id: int, service: str, token: str) -> Token | None:
    row = conn.execute(
        sa.select(api_tokens).where(
            api_tokens.c.digest == digest(token),
            api_tokens.c.user_id == user_id,
            api_tokens.c.service == service,
        )
    ).first()
    return _from_row(row) if row else None


_KEEP: Any = object()


def update(
    conn: sa.Connection,
    *,
    user_id: int,
    service: str,
    name: str,
    new_name: str | None = None,
    token_acls: Any = _KEEP,
    whitelist_ips: Any = _KEEP,
    expires_at: Any = _KEEP,
    description: Any = _KEEP,
    rate_limit: Any = _KEEP,
    scope: Any = _KEEP,
) -> Token:
    """Change what is given and keep the rest. The token string itself never changes."""
    current = get_by_name(conn, user_id, service, name)
    if current is None:
        raise NotFound(f"The API token “{name}” does not exist.")
    values: dict[str, Any] = {}
    if new_name is not None and new_name != name:
        validate_name(new_name)
        if _exists(conn, user_id, service, new_name):
            raise Conflict(f"An API token with the name “{new_name}” already exists.")
        values["name"] = new_name
    if token_acls is not _KEEP:
        values["acls"] = stored_acls(token_acls)
    elif current.acls is not None and list(current.acls) != stored_acls(current.acls):
        # cPanel normalises the whole token on every update: a list stored unsorted (before
        # gatehouse sorted them) is written sorted by the next change of anything.
        values["acls"] = stored_acls(current.acls)
    if whitelist_ips is not _KEEP:
        values["whitelist_ips"] = list(whitelist_ips) if whitelist_ips else None
    if expires_at is not _KEEP:
        values["expires_at"] = expires_at
    if description is not _KEEP:
        values["description"] = clean_description(description)
    if scope is not _KEEP and scope != current.scope:
        values["scope"] = scope.as_json() if scope is not None else None
        values["digest"] = api_tokens.c.digest  # as for rate_limit, below
    if rate_limit is not _KEEP and rate_limit != current.rate_limit:
        values["rate_limit"] = rate_limit
        # Not a column the auth generation's trigger watches (migration 0003): touching the
        # digest makes every process's token cache read the new limit on its next request.
        values["digest"] = api_tokens.c.digest
    if values:
        try:
            conn.execute(
                sa.update(api_tokens).where(api_tokens.c.id == current.id).values(**values)
            )
        except IntegrityError as exc:  # a concurrent writer took `new_name`
            raise Conflict(f"An API token with the name “{new_name}” already exists.") from exc
    row = conn.execute(sa.select(api_tokens).where(api_tokens.c.id == current.id)).one()
    return _from_row(row)


def revoke(conn: sa.Connection, user_id: int, service: str, names: Sequence[str]) -> list[str]:
    """Delete the named tokens; returns the names that existed. Unknown names are ignored."""
    revoked = []
    for name in dict.fromkeys(names):
        result = conn.execute(
            sa.delete(api_tokens).where(
                api_tokens.c.user_id == user_id,
                api_tokens.c.service == service,
                api_tokens.c.name == name,
            )
        )
        if result.rowcount:
            revoked.append(name)
    return revoked


_AUTH_QUERY = sa.union_all(
    # The token whose current secret this is (grace_ends NULL), and the token whose previous
    # secret it is during its rotation's grace: one statement, one round trip to the store —
    # what every cache miss pays, and the first thing each node does after a revoke.
    sa.select(api_tokens, *OWNER_COLUMNS, sa.null().cast(sa.BigInteger).label("grace_ends"))
    .join(users, users.c.id == api_tokens.c.user_id)
    .where(api_tokens.c.digest == sa.bindparam("digest")),
    sa.select(api_tokens, *OWNER_COLUMNS, token_grace.c.expires_at.label("grace_ends"))
    .join(token_grace, token_grace.c.token_id == api_tokens.c.id)
    .join(users, users.c.id == api_tokens.c.user_id)
    .where(token_grace.c.digest == sa.bindparam("digest")),
)


def lookup_for_auth(conn: sa.Connection, token_digest: str) -> tuple[Token, User] | None:
    """The token with this digest and its owner, in one indexed lookup; None if absent.
    A digest that is no token's current one may be a rotated token's previous secret
    (domain/token_rotation.py): that token is returned expiring when its grace ends."""
    rows = conn.execute(_AUTH_QUERY, {"digest": token_digest}).all()
    if not rows:
        return None
    # A current secret wins over a previous one (never both, short of a digest collision).
    row = min(rows, key=lambda r: r.grace_ends is not None)
    token = _from_row(row)
    if row.grace_ends is not None:
        ends = int(row.grace_ends)
        expires = ends if token.expires_at is None else min(ends, token.expires_at)
        token = replace(token, expires_at=expires)
    return token, owner_from_joined(row)


def record_use(
    conn: sa.Connection, token_id: int, now: int, ip: str | None, agent: str | None = None
) -> None:
    conn.execute(
        sa.update(api_tokens)
        .where(api_tokens.c.id == token_id)
        .values(last_used_time=now, last_used_ip=ip, last_used_agent=agent)
    )
    record_address(conn, token_id, now, ip)


MAX_ADDRESSES = 100  # addresses kept per token; beyond them a new one is not recorded


def record_address(conn: sa.Connection, token_id: int, now: int, ip: str | None) -> None:
    """Note that the token was used from `ip` (domain/notices.py tells of a new one): written
    only when the address is new to it, with the batched last-use write, never per request.
    Pending (for the notice pass) unless it is the token's first address."""
    if ip is None:
        return
    mine = token_addresses.c.token_id == token_id
    if conn.execute(
        sa.select(token_addresses.c.ip).where(mine, token_addresses.c.ip == ip)
    ).first():
        return
    known = conn.execute(sa.select(sa.func.count()).where(mine)).scalar_one()
    if known >= MAX_ADDRESSES:
        return
    # INSERT … SELECT from the token's row: a token revoked meanwhile gets nothing.
    conn.execute(
        upsert(conn, token_addresses)
        .from_select(
            ["token_id", "ip", "first_seen", "pending"],
            sa.select(
                api_tokens.c.id, sa.literal(ip), sa.literal(now), sa.literal(known > 0)
            ).where(api_tokens.c.id == token_id),
        )
        .on_conflict_do_nothing(index_elements=["token_id", "ip"])
    )


MAX_DESCRIPTION = 1024
MAX_AGENT = 255


def clean_description(value: str | None) -> str | None:
    """A description as stored: trimmed, empty = none; refused when too long or holding
    control characters other than line breaks and tabs."""
    if value is None:
        return None
    value = value.replace("\r\n", "\n").strip()
    if not value:
        return None
    if len(value) > MAX_DESCRIPTION:
        raise InvalidParameter(
            f"The description is {len(value)} characters long; at most {MAX_DESCRIPTION} are "
            "allowed."
        )
    if any((ord(c) < 32 and c not in "\n\t") or ord(c) == 127 for c in value):
        raise InvalidParameter("The description may not contain control characters.")
    return value


def agent_text(raw: bytes | None) -> str | None:
    """A User-Agent header as kept: printable ASCII only (anything else is `?`), 255 at most."""
    if not raw:
        return None
    text = "".join(chr(b) if 32 <= b < 127 else "?" for b in raw[:MAX_AGENT]).strip()
    return text or None


def find_by_digest(conn: sa.Connection, token_digest: str) -> Token | None:
    row = conn.execute(sa.select(api_tokens).where(api_tokens.c.digest == token_digest)).first()
    return _from_row(row) if row else None


def insert_digest(
    conn: sa.Connection,
    *,
    owner: User,
    service: str,
    name: str,
    token_digest: str,
    token_acls: Sequence[str] | None,
    whitelist_ips: Sequence[str] | None,
    expires_at: int | None,
    create_time: int,
) -> None:
    """Store a token known only by its digest (an import, or a converted access hash)."""
    validate_name(name)
    conn.execute(
        sa.insert(api_tokens).values(
            user_id=owner.id,
            service=service,
            name=name,
            digest=token_digest,
            acls=stored_acls(token_acls),
            whitelist_ips=list(whitelist_ips) if whitelist_ips else None,
            create_time=create_time,
            expires_at=expires_at,
        )
    )


# The last second of 9999-12-31 UTC. cPanel takes any epoch up to 67767976233521999
# (Cpanel::Validate::Time::epoch_or_die); gatehouse stops where a date can still be shown: the
# pages, the CLI and the notices write an expiry as a date, and neither Python's datetime nor
# ISO 8601's four-digit year goes past 9999.
MAX_EXPIRY = 253402300799


# cPanel's largest epoch (Cpanel::Validate::Time::epoch_or_die: "the largest value that will
# not cause EOVERFLOW on most systems"); past it a value is not a timestamp at all.
MAX_EPOCH = 67767976233521999


def parse_expiry(raw: str | None, now: int) -> int | None:
    """An `expires_at` value (WHM API 1 and UAPI alike): none for "" or "0", 0 (expired) for
    "00" and other zeros, else a future Unix time, at most MAX_EXPIRY.

    Checked in cPanel's order (Cpanel/Security/Authn/APITokens/Validate.pm
    `_validate_expires_at`): first a timestamp at all — ASCII digits only, at most MAX_EPOCH,
    in Cpanel::Validate::Time's words — then not in the past (`$time < time()`: the current
    second is still allowed); gatehouse's own upper bound comes last."""
    if raw is None or raw in ("", "0"):
        return None
    # ASCII digits only (Perl's tr<0-9>): str.isdigit() also accepts "²" and "١٢٣". Leading
    # zeros do not count toward the length, which keeps int() off huge strings.
    if not digits(raw) or len(raw.lstrip("0")) > len(str(MAX_EPOCH)):
        raise InvalidParameter(f"“{raw}” is not a valid UNIX epoch timestamp.")
    value = int(raw)
    if value > MAX_EPOCH:
        raise InvalidParameter(f"“{raw}” is not a valid UNIX epoch timestamp.")
    if value == 0:
        # "00", "000", ...: cPanel skips the future check (`$time != 0`), stores the value as
        # given (Write/whostmgr.pm line 100 turns only `eq 0`, "0", into none), and then
        # `$expires_at && $expires_at < time()` (APITokens.pm line 142) is true for "00": the
        # token exists, is listed, and never authenticates. Stored as 0: expired.
        return 0
    if value < now:
        raise InvalidParameter(f"The “{raw}” value must be a future date.")
    if value > MAX_EXPIRY:
        raise InvalidParameter(
            f"The “expires_at” value must be at most {MAX_EXPIRY} (9999-12-31 23:59:59 UTC), "
            f"not “{raw}”."
        )
    return value
