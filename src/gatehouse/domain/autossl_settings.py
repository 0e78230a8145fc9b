"""AutoSSL's settings kept in the store: the domains each account excludes from AutoSSL, and
whether the provider is disabled (docs/ssl.md#autossl).

**Excluded domains** (cPanel's "excluded domains": WHM API 1 add/remove/set/
get_autossl_user_excluded_domains, UAPI SSL::add/remove/set/get_autossl_excluded_domains) are
rows of `autossl_excluded_domains`, one per account and name. A name is one of the account's
web domains (its main domain or a subdomain) or the `www.` of one: excluding a domain makes
AutoSSL skip it (its outcome says so), excluding only `www.D` leaves `www.D` out of D's
certificate. As cPanel's, adding and setting check that every name is the account's (all or
nothing); removing takes any name (an unknown one is simply not there).

**The provider**: gatehouse has one AutoSSL provider, the ACME CA of GATEHOUSE_AUTOSSL_DIRECTORY.
WHM's `disable_autossl` turns it off for every node on the store (a `tweak_settings` row,
`autossl_disabled`, outside the Tweak Settings list); `set_autossl_provider` with that
provider's name turns it on again.
"""

from __future__ import annotations

import sqlalchemy as sa

from gatehouse.dns import zones
from gatehouse.domain import certificates
from gatehouse.domain.unit import UnitOfWork
from gatehouse.domain.users import User
from gatehouse.errors import InvalidParameter
from gatehouse.store.rows import upsert
from gatehouse.store.schema import autossl_domains, autossl_excluded_domains, tweak_settings

MAX_NAMES = 1000  # in one call, and excluded per account
EXCLUDE = "AUTOSSLEXCLUDE"  # audit: the excluded domains changed
PROVIDER = "AUTOSSLPROVIDER"  # audit: AutoSSL disabled or enabled
DISABLED_KEY = "autossl_disabled"


def excluded_problem(domain: str) -> str:
    """The outcome AutoSSL records for an excluded domain (get_autossl_problems shows it)."""
    return (
        f"“{domain}” is excluded from AutoSSL (the account's excluded domains): AutoSSL does "
        "not secure it."
    )


# -- reading ------------------------------------------------------------------------------------


def excluded(conn: sa.Connection, user_id: int) -> list[str]:
    """The account's excluded names, sorted."""
    return [
        str(r.domain)
        for r in conn.execute(
            sa.select(autossl_excluded_domains.c.domain)
            .where(autossl_excluded_domains.c.user_id == user_id)
            .order_by(autossl_excluded_domains.c.domain)
        )
    ]


def parse_names(values: list[str]) -> list[str]:
    """Names as given (each value may hold several, comma-separated), normalised, in order,
    each once. Refused: an empty list, a name that is not a domain name, too many."""
    names: list[str] = []
    for value in values:
        for raw in value.split(","):
            if not raw.strip():
                continue
            name = zones.normalise(raw)
            if not name:
                raise InvalidParameter(f"“{raw.strip()[:255]}” is not a valid domain name.")
            if name not in names:
                names.append(name)
            if len(names) > MAX_NAMES:
                raise InvalidParameter(f"Give at most {MAX_NAMES} domains at a time.")
    return names


def _check_names(conn: sa.Connection, account: User, names: list[str]) -> None:
    """Every name is one of the account's web domains or the `www.` of one."""
    domains = set(certificates.owned_domains(conn, account))
    allowed = domains | {f"www.{d}" for d in domains}
    for name in names:
        if name not in allowed:
            raise InvalidParameter(
                f"“{name}” is not a domain of the account “{account.username}”: exclude its "
                "main domain, a subdomain, or the “www.” of one."
            )


# -- changing -----------------------------------------------------------------------------------


def forget_stale(conn: sa.Connection, account: User) -> None:
    """Drop the account's exclusions of names it no longer has (a subdomain removed, the main
    domain renamed): AutoSSL's check does this for each account it checks."""
    domains = certificates.owned_domains(conn, account)
    allowed = set(domains) | {f"www.{d}" for d in domains}
    table = autossl_excluded_domains
    conn.execute(
        sa.delete(table).where(table.c.user_id == account.id, table.c.domain.not_in(allowed))
    )


def _write(unit: UnitOfWork, account: User, wanted: list[str], how: str) -> None:
    before = set(excluded(unit.conn, account.id))
    after = set(wanted)
    if len(after) > MAX_NAMES:
        raise InvalidParameter(f"An account excludes at most {MAX_NAMES} domains.")
    gone = before - after
    new = after - before
    table = autossl_excluded_domains
    if gone:
        unit.conn.execute(
            sa.delete(table).where(table.c.user_id == account.id, table.c.domain.in_(gone))
        )
        # Their "excluded" outcome no longer holds; the next check records the real one.
        for name in gone:
            unit.conn.execute(
                sa.delete(autossl_domains).where(
                    autossl_domains.c.user_id == account.id,
                    autossl_domains.c.domain == name,
                    autossl_domains.c.problem == excluded_problem(name),
                )
            )
    # Two calls racing to add the same name: the second's insert is no change, not an error.
    for name in sorted(new):
        unit.conn.execute(
            upsert(unit.conn, table)
            .values(user_id=account.id, domain=name, created_time=unit.now)
            .on_conflict_do_nothing(index_elements=["user_id", "domain"])
        )
    if gone or new:
        detail = f"{how}: +{','.join(sorted(new)) or '-'} -{','.join(sorted(gone)) or '-'}"
        unit.audit(EXCLUDE, account.username, detail[:1000])


def add(unit: UnitOfWork, account: User, names: list[str]) -> None:
    if not names:
        raise InvalidParameter("Give at least one domain.")
    _check_names(unit.conn, account, names)
    _write(unit, account, [*excluded(unit.conn, account.id), *names], "add")


def remove(unit: UnitOfWork, account: User, names: list[str]) -> None:
    if not names:
        raise InvalidParameter("Give at least one domain.")
    drop = set(names)
    _write(unit, account, [n for n in excluded(unit.conn, account.id) if n not in drop], "remove")


def replace(unit: UnitOfWork, account: User, names: list[str]) -> None:
    """The excluded names become exactly `names` (none: AutoSSL for every domain)."""
    _check_names(unit.conn, account, names)
    _write(unit, account, names, "set")


# -- the provider -------------------------------------------------------------------------------


def disabled(conn: sa.Connection) -> bool:
    row = conn.execute(
        sa.select(tweak_settings.c.value).where(tweak_settings.c.key == DISABLED_KEY)
    ).first()
    return row is not None and str(row.value) == "1"


def set_disabled(unit: UnitOfWork, value: bool) -> None:
    if disabled(unit.conn) == value:
        return
    unit.conn.execute(sa.delete(tweak_settings).where(tweak_settings.c.key == DISABLED_KEY))
    if value:
        unit.conn.execute(sa.insert(tweak_settings).values(key=DISABLED_KEY, value="1"))
    unit.audit(PROVIDER, None, "disabled" if value else "enabled")
