"""Bandwidth: what each account's domains used per month (bytes), and the reports behind WHM's
`showbw`.

gatehouse serves no web sites, so it measures nothing itself: usage is reported to it — by the
gatehouse extension `gatehouse_report_bandwidth` (WHM API 1), or by `gatehouse bandwidth
import`, which totals a web server's access logs (domain/access_logs.py) and reports them the
same way. A report adds bytes to a domain's month (or, `replace`, sets its total). The usage
of a removed account goes with it (cPanel keeps it, flagged `deleted`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from gatehouse.domain import accounts, subdomains, users
from gatehouse.domain.unit import UnitOfWork
from gatehouse.domain.users import User
from gatehouse.errors import Conflict, InvalidParameter, NotFound
from gatehouse.numerals import digits
from gatehouse.store.schema import bandwidth_usage

AUDIT_REPORT = "REPORTBANDWIDTH"
# A report is one month of one domain: more than an exabyte is a mistake, not traffic.
MAX_BYTES = 2**60
FIRST_YEAR = 1970
LAST_YEAR = 9999


@dataclass(frozen=True, slots=True)
class Month:
    year: int
    month: int  # 1-12

    @classmethod
    def of(cls, now: int) -> Month:
        when = time.gmtime(now)
        return cls(when.tm_year, when.tm_mon)

    @classmethod
    def parse(cls, raw_month: str | None, raw_year: str | None, now: int) -> Month:
        """`month` and `year` parameters (each defaulting to the current one, in UTC)."""
        current = cls.of(now)
        month = _integer("month", raw_month, current.month, 1, 12)
        year = _integer("year", raw_year, current.year, FIRST_YEAR, LAST_YEAR)
        return cls(year, month)


def _integer(name: str, raw: str | None, default: int, low: int, high: int) -> int:
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip()
    if not digits(value) or not low <= int(value) <= high:
        raise InvalidParameter(
            f"The “{name}” parameter must be a whole number from {low} to {high}."
        )
    return int(value)


def parse_bytes(raw: str | None) -> int:
    value = (raw or "").strip()
    if not value:
        raise InvalidParameter("Missing parameter: bytes")
    if not digits(value) or int(value) > MAX_BYTES:
        raise InvalidParameter(
            f"The “bytes” parameter must be a whole number of bytes from 0 to {MAX_BYTES}."
        )
    return int(value)


# -- who a domain's traffic belongs to ------------------------------------------------------


def account_of_domain(conn: sa.Connection, raw: str) -> tuple[User, str]:
    """The account whose main domain or subdomain `raw` is (a `www.` prefix counts as the
    domain, as web servers log it), and the domain as recorded."""
    domain = raw.strip().lower().rstrip(".")
    candidates = [domain]
    if domain.startswith("www."):
        candidates.append(domain[4:])
    for name in candidates:
        if not name:
            continue
        account = accounts.by_domain(conn, name)
        if account is not None:
            return account, name
        sub = subdomains.get(conn, name)
        if sub is not None:
            owner = users.get_by_id(conn, sub.user_id)
            if owner is not None:
                return owner, name
    raise NotFound(f"No account on this server has the domain “{raw.strip()}”.")


# -- reporting ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recorded:
    account: User
    domain: str
    month: Month
    total: int  # the domain's bytes for the month, after the report


def record(
    unit: UnitOfWork,
    account: User,
    domain: str,
    month: Month,
    nbytes: int,
    *,
    replace: bool = False,
) -> Recorded:
    """Add `nbytes` to the domain's month (`replace`: make it the month's total)."""
    conn = unit.conn
    where = (
        bandwidth_usage.c.user_id == account.id,
        bandwidth_usage.c.domain == domain,
        bandwidth_usage.c.year == month.year,
        bandwidth_usage.c.month == month.month,
    )
    new_value = nbytes if replace else bandwidth_usage.c.bytes + nbytes
    updated = conn.execute(sa.update(bandwidth_usage).where(*where).values(bytes=new_value))
    if updated.rowcount == 0:
        try:
            conn.execute(
                sa.insert(bandwidth_usage).values(
                    user_id=account.id,
                    domain=domain,
                    year=month.year,
                    month=month.month,
                    bytes=nbytes,
                )
            )
        except sa.exc.IntegrityError as exc:  # a concurrent report made the row first
            raise Conflict(
                "Another bandwidth report for this domain and month was being written: "
                "send this one again."
            ) from exc
    total = conn.execute(sa.select(bandwidth_usage.c.bytes).where(*where)).scalar_one()
    verb = "set to" if replace else f"+{nbytes} ->"
    unit.audit(
        AUDIT_REPORT,
        account.username,
        f"{domain} {month.year}-{month.month:02d} {verb} {total} bytes",
    )
    return Recorded(account, domain, month, int(total))


# -- reading --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DomainUsage:
    domain: str
    bytes: int


@dataclass(frozen=True, slots=True)
class AccountUsage:
    account: User
    domains: list[DomainUsage]  # the main domain first, then the others with usage

    @property
    def total(self) -> int:
        return sum(d.bytes for d in self.domains)


def usage(conn: sa.Connection, account_list: Iterable[User], month: Month) -> list[AccountUsage]:
    """Each account's usage in `month`, in the order given."""
    listed = list(account_list)
    ids = [a.id for a in listed]
    by_user: dict[int, dict[str, int]] = {i: {} for i in ids}
    if ids:
        rows = conn.execute(
            sa.select(bandwidth_usage.c.user_id, bandwidth_usage.c.domain, bandwidth_usage.c.bytes)
            .where(
                bandwidth_usage.c.user_id.in_(ids),
                bandwidth_usage.c.year == month.year,
                bandwidth_usage.c.month == month.month,
            )
            .order_by(bandwidth_usage.c.domain)
        )
        for row in rows:
            by_user[int(row.user_id)][str(row.domain)] = int(row.bytes)
    result = []
    for account in listed:
        used = by_user[account.id]
        domains = []
        if account.domain:
            domains.append(DomainUsage(account.domain, used.pop(account.domain, 0)))
        domains.extend(DomainUsage(d, n) for d, n in sorted(used.items()))
        result.append(AccountUsage(account, domains))
    return result


def month_total(conn: sa.Connection, account: User, month: Month) -> int:
    total = conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(bandwidth_usage.c.bytes), 0)).where(
            bandwidth_usage.c.user_id == account.id,
            bandwidth_usage.c.year == month.year,
            bandwidth_usage.c.month == month.month,
        )
    ).scalar_one()
    return int(total)
