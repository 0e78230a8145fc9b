"""One limit of one account: its monthly bandwidth (WHM `limitbw`, the account's BWLIMIT) or
its disk quota (`editquota`, QUOTA), in MB.

They are the account's own settings (users.limits), the values createacct and modifyacct
keep and listaccts, accountsummary and resellerstats show, so all of them stay in step.
Who may set them is the rule of modifyacct: root any account, a reseller the accounts it owns
(access MANAGE); a reseller within its own resource limits (setresellerlimits) and, for an
unlimited value, holding the package privilege an unlimited package needs
(allow-unlimited-bw-pkgs / allow-unlimited-disk-pkgs).
"""

from __future__ import annotations

from dataclasses import dataclass

from gatehouse.domain import access, lifecycle, reseller_limits, users
from gatehouse.domain import packages as packages_domain
from gatehouse.domain.unit import UnitOfWork
from gatehouse.domain.users import User
from gatehouse.errors import InvalidParameter

BANDWIDTH = "BWLIMIT"
QUOTA = "QUOTA"
_PARAM = {BANDWIDTH: "bwlimit", QUOTA: "quota"}
_AUDIT = {BANDWIDTH: "LIMITBW", QUOTA: "EDITQUOTA"}


@dataclass(frozen=True, slots=True)
class Limited:
    account: User  # as it is now
    value: str  # MB as a string, or packages.UNLIMITED

    @property
    def unlimited(self) -> bool:
        return self.value == packages_domain.UNLIMITED

    @property
    def megabytes(self) -> int:
        """cPanel's number: the MB, 0 for unlimited."""
        return 0 if self.unlimited else int(self.value)


def set_limit(
    unit: UnitOfWork, actor: access.Actor, username: str, key: str, raw: str | None
) -> Limited:
    """Set the account's `key` (BANDWIDTH or QUOTA) to `raw` MB (`0` or `unlimited`: none;
    absent: unlimited, as cPanel's limitbw defaults)."""
    conn = unit.conn
    account = lifecycle.require_managed(conn, actor, username)
    if not account.has_cpanel_account:
        raise InvalidParameter(f"The user “{username}” has no cPanel account.")
    param = _PARAM[key]
    current = packages_domain.with_defaults(account.limits)
    wanted = raw if raw is not None and raw.strip() != "" else packages_domain.UNLIMITED
    # build_settings normalises the value and checks the unlimited privilege, as modifyacct.
    new_limits = packages_domain.build_settings({param: wanted}, actor.privileges, base=current)
    if new_limits != current:
        if not actor.sees_all:
            reseller_limits.check_can_change(conn, actor.user, account.username, new_limits)
        users.set_account_columns(conn, account.id, limits=new_limits)
    unit.audit(_AUDIT[key], account.username, f"{key}={new_limits[key]}")
    now = users.get(conn, account.username)
    assert now is not None
    return Limited(now, new_limits[key])
