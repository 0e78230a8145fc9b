"""Server-wide settings (cPanel's cpanel.config), as key → string value: the Tweak Settings
(KNOWN, what get_tweaksetting/set_tweaksetting reach) and, through stored/store, the others."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from gatehouse.errors import InvalidParameter
from gatehouse.store.schema import tweak_settings


def _boolean(key: str, value: str) -> str:
    if value not in ("0", "1"):
        raise InvalidParameter(f"The value of “{key}” must be 1 or 0, not “{value}”.")
    return value


@dataclass(frozen=True, slots=True)
class Tweak:
    key: str
    default: str
    help: str
    validate: Callable[[str, str], str]


ALLOW_DEPRECATED_ACCESSHASH = "allow_deprecated_accesshash"

KNOWN: dict[str, Tweak] = {
    t.key: t
    for t in (
        Tweak(
            ALLOW_DEPRECATED_ACCESSHASH,
            "0",
            "Allow the use of ~/.accesshash files (Remote Access Keys) for authenticating API "
            "calls. Deprecated: use API tokens.",
            _boolean,
        ),
    )
}


def require_known(key: str) -> Tweak:
    tweak = KNOWN.get(key)
    if tweak is None:
        raise InvalidParameter(f"“{key}” is not a valid Tweak Settings key.")
    return tweak


def stored(conn: sa.Connection, key: str) -> str | None:
    """A server setting as stored (cpanel.config's line), None when it is not set. Also the
    settings that are not Tweak Settings (the password strengths: domain/password_policy.py)."""
    row = conn.execute(sa.select(tweak_settings.c.value).where(tweak_settings.c.key == key)).first()
    return str(row.value) if row else None


def store(conn: sa.Connection, key: str, value: str | None) -> None:
    """Set a server setting, or remove it (None)."""
    conn.execute(sa.delete(tweak_settings).where(tweak_settings.c.key == key))
    if value is not None:
        conn.execute(sa.insert(tweak_settings).values(key=key, value=value))


def get(conn: sa.Connection, key: str) -> str:
    tweak = require_known(key)
    value = stored(conn, key)
    return tweak.default if value is None else value


def set_value(conn: sa.Connection, key: str, value: str) -> str:
    tweak = require_known(key)
    value = tweak.validate(key, value)
    store(conn, key, value)
    return value


def enabled(conn: sa.Connection, key: str) -> bool:
    return get(conn, key) == "1"
