"""cPHulk's settings, by cPanel's names (WHM API 1 `load_cphulk_config`), kept in the store
(`cphulk_settings`) so that every node applies the same limits.

gatehouse acts on the limits and switches below. cPanel's firewall, command, notification
and country keys are reported (off, empty) so that clients reading the whole configuration
find them, and a request to turn one on is refused: gatehouse has no firewall to drive."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

import sqlalchemy as sa

from gatehouse.errors import InvalidParameter
from gatehouse.numerals import digits
from gatehouse.store.schema import cphulk_settings

# Keys cPanel has that gatehouse does not act on, and the only value each may take here.
UNSUPPORTED: dict[str, int | str] = {
    "block_brute_force_with_firewall": 0,
    "block_excessive_brute_force_with_firewall": 0,
    "can_temp_ban_firewall": 0,
    "command_to_run_on_brute_force": "",
    "command_to_run_on_excessive_brute_force": "",
    "country_blacklist": "",
    "country_whitelist": "",
    "notify_on_brute": 0,
    "notify_on_root_login": 0,
    "notify_on_root_login_for_known_netblock": 0,
}
SWITCHES = frozenset(
    {
        "is_enabled",
        "ip_based_protection",
        "username_based_protection",
        "username_based_protection_for_root",
        "username_based_protection_local_origin",
    }
)
# Seconds forms that cPanel reports beside the minutes (and accepts in set_cphulk_config_key).
SECONDS = {
    "brute_force_period_sec": "brute_force_period_mins",
    "ip_brute_force_period_sec": "ip_brute_force_period_mins",
    "lookback_time": "lookback_period_min",
}
EXCESSIVE_BLOCK = 24 * 3600  # cPanel: "blocked for a one day period"


@dataclass(frozen=True, slots=True)
class Settings:
    """cPanel's defaults (WHM API 1 `save_cphulk_config`), except that username-based
    protection is on: it is what locks a user's password logins under a spread attack."""

    is_enabled: int = 1
    ip_based_protection: int = 1
    username_based_protection: int = 1
    username_based_protection_for_root: int = 0
    username_based_protection_local_origin: int = 1
    brute_force_period_mins: int = 5
    ip_brute_force_period_mins: int = 15
    lookback_period_min: int = 360
    max_failures: int = 30
    max_failures_byip: int = 5
    mark_as_brute: int = 30

    @property
    def user_window(self) -> int:
        return self.brute_force_period_mins * 60

    @property
    def ip_window(self) -> int:
        return self.ip_brute_force_period_mins * 60

    @property
    def lookback(self) -> int:
        return self.lookback_period_min * 60

    @property
    def longest_window(self) -> int:
        return max(self.user_window, self.ip_window, self.lookback)

    def as_cpanel(self) -> dict[str, int | str]:
        """`cphulk_config` as load_cphulk_config answers it."""
        answer: dict[str, int | str] = {f.name: getattr(self, f.name) for f in fields(self)}
        for seconds, minutes in SECONDS.items():
            answer[seconds] = getattr(self, minutes) * 60
        answer.update(UNSUPPORTED)
        return dict(sorted(answer.items()))


KNOWN = frozenset(f.name for f in fields(Settings))
DEFAULTS = Settings()


def load(conn: sa.Connection) -> Settings:
    stored = {row.key: row.value for row in conn.execute(sa.select(cphulk_settings))}
    values = {k: int(v) for k, v in stored.items() if k in KNOWN and digits(v.lstrip("-"))}
    return replace(DEFAULTS, **values)


def parse(changes: Mapping[str, str]) -> dict[str, int]:
    """The changes requested by cPanel's names, checked, as settings (seconds forms turned
    into minutes); InvalidParameter naming the first bad one."""
    parsed: dict[str, int] = {}
    for name, text in changes.items():
        value = text.strip()
        if name in UNSUPPORTED:
            if value != str(UNSUPPORTED[name]) and not (value == "0" and UNSUPPORTED[name] == ""):
                raise InvalidParameter(
                    f"gatehouse does not support the cPHulk setting “{name}”: it drives no "
                    "firewall, runs no commands and sends no notifications."
                )
            continue
        target = SECONDS.get(name, name)
        if target not in KNOWN:
            raise InvalidParameter(f"“{name}” is not a cPHulk setting.")
        if not digits(value):
            raise InvalidParameter(f"The cPHulk setting “{name}” must be a whole number.")
        number = int(value)
        if name in SECONDS:
            number = max(1, -(-number // 60))  # whole minutes, rounded up
        if target in SWITCHES and number not in (0, 1):
            raise InvalidParameter(f"The cPHulk setting “{name}” must be 0 or 1.")
        if target.endswith(("_mins", "_min")) and not 1 <= number <= 525_600:
            raise InvalidParameter(
                f"The cPHulk setting “{name}” must be between 1 minute and one year."
            )
        if number > 1_000_000:
            raise InvalidParameter(f"The cPHulk setting “{name}” is too large.")
        parsed[target] = number
    return parsed


def save(conn: sa.Connection, changes: Mapping[str, int]) -> Settings:
    for name, value in changes.items():
        updated = conn.execute(
            sa.update(cphulk_settings).where(cphulk_settings.c.key == name).values(value=str(value))
        ).rowcount
        if not updated:
            conn.execute(sa.insert(cphulk_settings).values(key=name, value=str(value)))
    return load(conn)
