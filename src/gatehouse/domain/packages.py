"""Hosting plans (cPanel "packages"): names, settings and their validation.

Settings are kept as cPanel keeps them in /var/cpanel/packages/NAME: upper-case keys, string
values, `unlimited` for no limit. addpkg/editpkg take the lower-case parameter names below.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from gatehouse.errors import Conflict, InvalidParameter, NotFound
from gatehouse.store.schema import packages, users

DEFAULT_PACKAGE = "default"
UNLIMITED = "unlimited"
MAX_LIMIT = 999_999_999


@dataclass(frozen=True, slots=True)
class Field:
    param: str  # addpkg/editpkg/createacct parameter
    key: str  # stored key, as in cPanel's package files and listpkgs output
    kind: str  # limit (whole number or "unlimited") | flag (y/n) | text
    default: str
    help: str


FIELDS: tuple[Field, ...] = (
    Field("quota", "QUOTA", "limit", UNLIMITED, "Disk quota in MB (0 or unlimited: none)."),
    Field("bwlimit", "BWLIMIT", "limit", UNLIMITED, "Monthly bandwidth in MB."),
    Field("maxftp", "MAXFTP", "limit", UNLIMITED, "FTP accounts."),
    Field("maxpop", "MAXPOP", "limit", UNLIMITED, "Email accounts."),
    Field("maxlst", "MAXLST", "limit", UNLIMITED, "Mailing lists."),
    Field("maxsql", "MAXSQL", "limit", UNLIMITED, "Databases of each type."),
    Field("maxsub", "MAXSUB", "limit", UNLIMITED, "Subdomains."),
    Field("maxpark", "MAXPARK", "limit", "0", "Parked domains (aliases)."),
    Field("maxaddon", "MAXADDON", "limit", "0", "Addon domains."),
    Field("max_emailacct_quota", "MAX_EMAILACCT_QUOTA", "limit", UNLIMITED,
          "Largest quota of one email account, in MB."),
    Field("max_email_per_hour", "MAX_EMAIL_PER_HOUR", "limit", UNLIMITED,
          "Outgoing messages per hour."),
    Field("max_defer_fail_percentage", "MAX_DEFER_FAIL_PERCENTAGE", "limit", UNLIMITED,
          "Deferred or failed messages per hour, in percent, before mail is held."),
    Field("hasshell", "HASSHELL", "flag", "n", "Shell access."),
    Field("cgi", "CGI", "flag", "y", "CGI access."),
    Field("digestauth", "DIGESTAUTH", "flag", "n", "Digest authentication for Web Disk."),
    Field("ip", "IP", "flag", "n", "A dedicated IP address."),
    Field("featurelist", "FEATURELIST", "text", "default", "The feature list."),
    Field("cpmod", "CPMOD", "text", "jupiter", "The cPanel theme."),
    Field("language", "LANG", "text", "en", "The locale."),
)
BY_PARAM: dict[str, Field] = {f.param: f for f in FIELDS}
_NAME_RE = re.compile(r"^[A-Za-z0-9_. -]{1,64}\Z")


def default_settings() -> dict[str, str]:
    return {f.key: f.default for f in FIELDS}


def validate_name(name: str) -> None:
    if not _NAME_RE.match(name) or name.strip() != name or name in (".", ".."):
        raise InvalidParameter(
            f"“{name}” is not a valid package name: use 1–64 letters, digits, spaces, periods, "
            "underscores and hyphens."
        )


def _normalise(field: Field, raw: str) -> str:
    value = raw.strip()
    if field.kind == "limit":
        if value.lower() in ("", UNLIMITED, "null"):
            return UNLIMITED
        if not (value.isascii() and value.isdigit()) or int(value) > MAX_LIMIT:
            raise InvalidParameter(
                f"The “{field.param}” parameter must be a whole number or “unlimited”, "
                f"not “{raw}”."
            )
        # cPanel: 0 means unlimited for quota and bandwidth, and "none" for counts.
        if field.param in ("quota", "bwlimit") and int(value) == 0:
            return UNLIMITED
        return str(int(value))
    if field.kind == "flag":
        lowered = value.lower()
        if lowered in ("1", "y", "yes", "on"):
            return "y"
        if lowered in ("0", "n", "no", "off", ""):
            return "n"
        raise InvalidParameter(f"The “{field.param}” parameter must be 1 or 0, not “{raw}”.")
    if len(value) > 128 or any(c in value for c in "\r\n\0/"):
        raise InvalidParameter(f"The “{field.param}” parameter is not valid: “{raw}”.")
    return value


def parse_settings(
    params: Mapping[str, str | None], base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Settings from request parameters, on top of `base` (default: cPanel's defaults)."""
    settings = dict(base) if base is not None else default_settings()
    for field in FIELDS:
        raw = params.get(field.param)
        if raw is not None:
            settings[field.key] = _normalise(field, raw)
    return settings


def is_unlimited(value: str | None) -> bool:
    return value is None or value == UNLIMITED


@dataclass(frozen=True, slots=True)
class Package:
    id: int
    name: str
    owner: str
    settings: dict[str, str]
    created_time: int


def _from_row(row: Any) -> Package:
    return Package(row.id, row.name, row.owner, dict(row.settings), int(row.created_time))


def get(conn: sa.Connection, name: str) -> Package | None:
    row = conn.execute(sa.select(packages).where(packages.c.name == name)).first()
    return _from_row(row) if row else None


def require(conn: sa.Connection, name: str) -> Package:
    package = get(conn, name)
    if package is None:
        raise NotFound(f"The package “{name}” does not exist.")
    return package


def list_all(conn: sa.Connection, owner: str | None = None) -> list[Package]:
    query = sa.select(packages).order_by(packages.c.name)
    if owner is not None:
        query = query.where(packages.c.owner == owner)
    return [_from_row(r) for r in conn.execute(query)]


def create(conn: sa.Connection, name: str, owner: str, settings: dict[str, str],
           now: int) -> Package:
    validate_name(name)
    if get(conn, name) is not None:
        raise Conflict(f"The package “{name}” already exists.")
    conn.execute(sa.insert(packages).values(name=name, owner=owner, settings=settings,
                                            created_time=now))
    return require(conn, name)


def update(conn: sa.Connection, name: str, settings: dict[str, str]) -> Package:
    require(conn, name)
    conn.execute(sa.update(packages).where(packages.c.name == name).values(settings=settings))
    return require(conn, name)


def accounts_using(conn: sa.Connection, name: str) -> int:
    query = sa.select(sa.func.count()).select_from(users).where(users.c.plan == name)
    return int(conn.execute(query).scalar_one())


def delete(conn: sa.Connection, name: str) -> None:
    require(conn, name)
    in_use = accounts_using(conn, name)
    if in_use:
        raise Conflict(
            f"The package “{name}” is in use by {in_use} account(s): change their package first."
        )
    conn.execute(sa.delete(packages).where(packages.c.name == name))
