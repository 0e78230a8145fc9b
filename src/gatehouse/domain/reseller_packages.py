"""Which packages a reseller may put accounts on, and how many accounts per package (WHM
setresellerpackagelimit), as cPanel 11.120 keeps them in package-limits.yaml
(Whostmgr::Limits::PackageLimits: `allowed.create` and `allowed.number` per package and
reseller) and applies them when it lists the "creatable" packages
(Whostmgr::Packages::Fetch::fetch_package_list), which createacct and changepackage consult:

* `allowed` 1 makes a package usable by the reseller even when it could not otherwise see it
  (another owner's package, root's without `viewglobalpackages`).
* With the reseller's `enable_package_limits` (setresellerlimits; cPanel's
  preassigned_packages), only its allowed packages are usable — its own ones too.
* With its `enable_package_limit_numbers` (number_of_packages), a package is usable only while
  the reseller has fewer accounts on it than its `number`; a package without a number counts as
  0, so none (cPanel compares the count with the unset number, which Perl reads as 0).
* A reseller's new package is allowed for it at once unless its package limits are on
  (Whostmgr::Resellers::Pkg::add_pkg_permission), so turning them on later keeps its own.

Rows are keyed by the reseller's and the package's ids: a renamed reseller or package keeps its
limits (cPanel's change_reseller), a removed package's go (cleanup_package).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from gatehouse.domain.packages import Package
from gatehouse.domain.users import User
from gatehouse.store import rows
from gatehouse.store.schema import packages, reseller_package_limits, users

# Whostmgr::Resellers::set_reseller_package_limit's words.
SET = "Successfully set reseller package limit."
NO_SUCH_PACKAGE = "Selected package does not exist.  Limits can not be set."  # two spaces


def refusal(package: str) -> str:
    """cPanel's words when a package is not in the caller's "creatable" list
    (Whostmgr::Accounts::Upgrade, recorded by lumberg)."""
    return f"Sorry you may not create any more accounts with the package {package}."


@dataclass(frozen=True, slots=True)
class PackageLimit:
    package: str
    allowed: bool | None  # None: not set
    number: int | None  # None: not set


def _key(reseller: User, package: Package) -> Any:
    return sa.and_(
        reseller_package_limits.c.user_id == reseller.id,
        reseller_package_limits.c.package_id == package.id,
    )


def get(conn: sa.Connection, reseller: User, package: Package) -> PackageLimit | None:
    row = conn.execute(
        sa.select(reseller_package_limits.c.allowed, reseller_package_limits.c.number).where(
            _key(reseller, package)
        )
    ).first()
    if row is None:
        return None
    number = None if row.number is None else int(row.number)
    return PackageLimit(package.name, row.allowed, number)


def of(conn: sa.Connection, reseller: User) -> list[PackageLimit]:
    """The reseller's package limits, by package name."""
    rows = conn.execute(
        sa.select(
            packages.c.name, reseller_package_limits.c.allowed, reseller_package_limits.c.number
        )
        .join(packages, packages.c.id == reseller_package_limits.c.package_id)
        .where(reseller_package_limits.c.user_id == reseller.id)
    )
    found = [
        PackageLimit(r.name, r.allowed, None if r.number is None else int(r.number)) for r in rows
    ]
    return sorted(found, key=lambda p: p.package)


def set_limit(
    conn: sa.Connection,
    reseller: User,
    package: Package,
    *,
    allowed: bool | None,
    number: int | None,
) -> None:
    """Set what is given (None: keep the stored value), as create_for_reseller and
    number_for_reseller set one key each."""
    values = {k: v for k, v in (("allowed", allowed), ("number", number)) if v is not None}
    if values:
        key = {"user_id": reseller.id, "package_id": package.id}
        rows.put(conn, reseller_package_limits, key, values)


def clear(conn: sa.Connection, reseller: User) -> None:
    """no_limit=1: remove every package limit of the reseller (cPanel's delete_reseller on
    each package)."""
    conn.execute(
        sa.delete(reseller_package_limits).where(reseller_package_limits.c.user_id == reseller.id)
    )


def allow_new_package(
    conn: sa.Connection, reseller: User, package: Package, limits: Mapping[str, Any]
) -> None:
    """A reseller created `package`: allow it, unless its package limits are on
    (add_pkg_permission)."""
    if reseller.is_root or not reseller.is_reseller or limits["packages"]["enabled"]:
        return
    set_limit(conn, reseller, package, allowed=True, number=None)


def granted(conn: sa.Connection, reseller: User, package: Package) -> bool:
    """Whether `allowed` is set to 1 for the reseller on this package."""
    found = get(conn, reseller, package)
    return found is not None and bool(found.allowed)


def accounts_on(conn: sa.Connection, reseller: User, package: Package, exclude: str | None) -> int:
    """How many accounts the reseller owns on the package (itself and `exclude` not counted)."""
    query = (
        sa.select(sa.func.count())
        .select_from(users)
        .where(
            users.c.owner == reseller.username,
            users.c.id != reseller.id,
            users.c.plan == package.name,
        )
    )
    if exclude is not None:
        query = query.where(users.c.username != exclude)
    return int(conn.execute(query).scalar_one())


def check(
    conn: sa.Connection,
    reseller: User,
    limits: Mapping[str, Any],
    package: Package,
    exclude: str | None,
) -> str | None:
    """Why the reseller (with these setresellerlimits switches) may not put one more account
    on `package` (`exclude`: the account being moved, not counted); None when it may."""
    switches = limits["packages"]
    if not switches["enabled"] and not switches["numbers"]:
        return None
    limit = get(conn, reseller, package)
    if switches["enabled"] and not (limit is not None and limit.allowed):
        return refusal(package.name)
    if switches["numbers"]:
        cap = (limit.number if limit is not None else None) or 0
        if accounts_on(conn, reseller, package, exclude) >= cap:
            return refusal(package.name)
    return None
