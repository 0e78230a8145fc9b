"""The minimum password strengths (cpanel.config's minpwstrength and minpwstrength_APP) and the
rule that every new password meets them (docs/security.md#password-strength).

Sources: Cpanel/PasswdStrength/Check.pm (get_required_strength, valid_strength),
Cpanel/PasswdStrength/Constants.pm (the applications), Whostmgr/Security.pm (reading and
setting them, its errors), Cpanel/Config/CpConfGuard/Default.pm (65) and Validate.pm (the
default rounded to a multiple of 5), Cpanel/ChangePasswd.pm (the refusal's words).
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from gatehouse.domain import settings
from gatehouse.errors import InvalidParameter
from gatehouse.password_strength import MAX_STRENGTH, password_strength

DEFAULT_KEY = "minpwstrength"
DEFAULT_STRENGTH = 65  # Cpanel/Config/CpConfGuard/Default.pm

# Cpanel::PasswdStrength::Constants %APPNAMES.
APPLICATIONS: dict[str, str] = {
    "cpaddons": "Site Software Installs",
    "createacct": "Account Creation (New System/cPanel Accounts)",
    "ftp": "FTP Accounts",
    "list": "Mailing Lists",
    "mysql": "MySQL Users",
    "passwd": "System/cPanel Accounts",
    "postgres": "PostgreSQL Users",
    "sshkey": "SSH Keys",
    "virtual": "Email, FTP, and WebDisk/WebDAV Accounts",
}
# Check.pm: these three share virtual's strength (their own settings are no longer read).
SHARED = {"pop": "virtual", "ftp": "virtual", "webdisk": "virtual"}

# The setting names of WHM's get/setminimumpasswordstrengths → cpanel.config keys
# (Whostmgr/Security.pm _get_pass_str_keys): `default` first, then the applications.
SETTING_KEYS: dict[str, str] = {
    "default": DEFAULT_KEY,
    **{app: f"{DEFAULT_KEY}_{app}" for app in sorted(APPLICATIONS)},
}

# The applications gatehouse sets passwords for.
CREATEACCT = "createacct"
PASSWD = "passwd"


def _default(conn: sa.Connection) -> int:
    value = settings.stored(conn, DEFAULT_KEY)
    return DEFAULT_STRENGTH if value is None else int(value)


def required_strength(conn: sa.Connection, app: str | None) -> int:
    """Check.pm get_required_strength: the application's own minimum, else the default; 0
    for no application."""
    if not app:
        return 0
    app = SHARED.get(app, app)
    own = settings.stored(conn, f"{DEFAULT_KEY}_{app}")
    return int(own) if own is not None else _default(conn)


def minimum_strengths(conn: sa.Connection, name: str | None = None) -> dict[str, int]:
    """Whostmgr::Security::get_min_pw_strengths: every setting (or `name`'s), an unset one
    showing the default."""
    if name and name not in SETTING_KEYS:
        raise InvalidParameter(f"“{name}” is not a valid password strength setting.")
    default = _default(conn)
    result: dict[str, int] = {}
    for key in [name] if name else SETTING_KEYS:
        value = settings.stored(conn, SETTING_KEYS[key])
        result[key] = default if value is None else int(value)
    return result


def valid_strength(value: str) -> int | None:
    """Check.pm valid_strength: ASCII digits only, 0 or 1 to 100 (so "00" is refused, as
    `!"00"` is false in Perl and 0 is not above 0); None when invalid."""
    if not value.isascii() or not value.isdigit():
        return None
    if value == "0":
        return 0
    number = int(value)
    return number if 0 < number <= MAX_STRENGTH else None


def round_default(value: int) -> int:
    """CpConfGuard/Validate.pm _patch_minpwstrength: the default to the nearest multiple of 5
    (cPanel applies it the next time cpanel.config is validated; gatehouse as it stores)."""
    return 5 * int(0.5 + value / 5)


def set_minimum_strengths(conn: sa.Connection, given: Mapping[str, str]) -> dict[str, str | None]:
    """Whostmgr::Security::set_min_pw_strengths: each setting given is set, an empty one
    removed (an application then follows the default, which may not be removed); nothing
    is written when one is refused. Returns what was written (None: removed)."""
    if not given:
        raise InvalidParameter("No new values were given.")
    changes: dict[str, str | None] = {}
    for name, key in SETTING_KEYS.items():
        if name not in given:
            continue
        raw = given[name]
        if raw == "":
            changes[key] = None
            continue
        value = valid_strength(raw)
        if value is None:
            raise InvalidParameter(f"Invalid value for “{name}”: {raw}")
        changes[key] = str(round_default(value) if key == DEFAULT_KEY else value)
    if DEFAULT_KEY in changes and changes[DEFAULT_KEY] is None:
        raise InvalidParameter("The value for “default” may not be empty or undefined.")
    for key, stored in changes.items():
        settings.store(conn, key, stored)
    return changes


def too_weak(required: int) -> str:
    """Cpanel::ChangePasswd's refusal (passwd; createacct words it the same)."""
    return (
        "Sorry, the password you selected cannot be used because it is too weak and would be "
        f"too easy to guess. Please select a password with strength rating of {required} or "
        "higher."
    )


def require_strength(conn: sa.Connection, app: str, password: str) -> None:
    """Refuse a new password weaker than the application's minimum (Check.pm
    check_password_strength: required > strength is too weak)."""
    required = required_strength(conn, app)
    if required > password_strength(password):
        raise InvalidParameter(too_weak(required))
