"""AutoSSL: certificates from an ACME CA for every hosted domain, validated by DNS-01 through
gatehouse's own zones, installed as installssl installs them, renewed before they expire
(docs/ssl.md#autossl).

One check goes over the accounts (not suspended) and each of their web domains — the main
domain and the subdomains, as `certificates.owned_domains` lists them. A domain needs a
certificate when none is installed, or the installed one is self-signed, does not cover it,
is not valid yet, or expires within GATEHOUSE_AUTOSSL_RENEW_DAYS. For such a domain one order
is placed for its set of names: the domain, and `www.` of it when its zone has a record
there. The `_acme-challenge` TXT records go into the account's zone (a zone edit like any
other: audited, written to the zone files, pushed to cluster peers), the challenges are
answered once they are committed (and GATEHOUSE_AUTOSSL_DNS_WAIT seconds later), and the
records are taken out again whatever happens. The certificate is installed through
`certificates.install_from_text` — the one installer, with the same checks; its key is stored
encrypted there — and the SSL files are rewritten.

Every outcome is recorded per domain (`autossl_domains`): a problem in words, or none. A
failed domain waits before the scheduled check tries it again (GATEHOUSE_AUTOSSL_RETRY
seconds, doubled after each failure in a row, at most a day); a check someone asked for
(start_autossl_check…) tries at once.

Only the process holding the `autossl` lease (domain/leases.py) runs a check, so several
nodes on one store never order the same certificate twice. Checks asked for are rows of
`autossl_requests`, taken by whoever next holds the lease; the scheduled check runs every
GATEHOUSE_AUTOSSL_INTERVAL seconds counted from the last completed one (kept with the lease),
so a restart does not set off a storm of orders.

The ACME account's key is made here (EC P-256) and stored ENCRYPTED with the key ring, bound to
its directory URL; it never reaches a log or an error. The ACME protocol is the `acme`
package's (certbot's), with josepy: no JOSE is written here.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlsplit

import requests
import sqlalchemy as sa
from acme import challenges, crypto_util, messages
from acme import client as acme_client
from acme import errors as acme_errors
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from josepy.jwa import ES256
from josepy.jwk import JWK, JWKEC

from gatehouse.config import Config
from gatehouse.dns import changes, zones
from gatehouse.dns.edits import save_edit
from gatehouse.dns.text import absolute, parse_entries
from gatehouse.domain import (
    autossl_settings,
    certificates,
    leases,
    ssl_pem,
    ssl_requests,
    subdomains,
)
from gatehouse.domain.accesshash import KeyRing
from gatehouse.domain.unit import ServerUnit, UnitOfWork
from gatehouse.domain.users import User, from_row
from gatehouse.errors import GatehouseError, InvalidParameter
from gatehouse.store.schema import audit_log, autossl_accounts, autossl_domains, autossl_requests
from gatehouse.store.schema import users as users_table

log = logging.getLogger("gatehouse.autossl")

LEASE = "autossl"
LEASE_TTL = 300  # seconds; renewed between domains while a check runs
ORDER_TIMEOUT = 120  # seconds for the CA to validate and issue one order
MAX_BACKOFF = 86400  # a failing domain is tried at least once a day
CHALLENGE_TTL = 60
REQUEST = "AUTOSSLCHECK"  # audit: a check asked for
PROBLEM = "AUTOSSLPROBLEM"  # audit: a domain AutoSSL could not secure
RUN = "AUTOSSLRUN"  # audit: a check began (its log's start)
DONE = "AUTOSSLDONE"  # audit: a check ended, with what it did
INSTALL = "INSTALLSSL"  # audited by the installer: with no actor, AutoSSL's
PROVIDER_NAME = "ACME"  # the module name of gatehouse's one AutoSSL provider
NOT_CONFIGURED = (
    "AutoSSL is not enabled on this server: its ACME directory (GATEHOUSE_AUTOSSL_DIRECTORY) "
    "is not set."
)
# cPanel's words when AutoSSL is disabled (WHM disable_autossl).
DISABLED = "This system has AutoSSL disabled."


def enabled(conn: sa.Connection, config: Config) -> bool:
    """Whether a check can run: configured, and not disabled (disable_autossl)."""
    return configured(config) and not autossl_settings.disabled(conn)


def configured(config: Config) -> bool:
    return bool(config.autossl_directory)


def display_name(config: Config) -> str:
    """The provider's display name (WHM get_autossl_providers' `display_name`, UAPI
    installed_hosts' `auto_ssl_provider_display_name`): `ACME (<the directory's host>)`."""
    directory = str(config.autossl_directory)
    return f"ACME ({urlsplit(directory).hostname or directory})"


def installed_by_autossl(conn: sa.Connection, items: Iterable[certificates.Installed]) -> set[str]:
    """The fingerprints of those of the installed certificates that AutoSSL installed (its
    `INSTALLSSL` audit lines: no actor, `domain <fingerprint prefix>`) — gatehouse's
    counterpart of cPanel's is_autossl, which asks the installed providers whether they
    issued the certificate (Cpanel::SSL::Auto::Providers
    get_provider_object_for_certificate_object). Known as long as the audit trail keeps the
    line (GATEHOUSE_AUDIT_RETENTION_DAYS)."""
    items = list(items)
    if not items:
        return set()
    prefixes = {i.certificate.fingerprint[:16]: i.certificate.fingerprint for i in items}
    rows = conn.execute(
        sa.select(audit_log.c.detail).where(
            audit_log.c.action == INSTALL,
            audit_log.c.actor.is_(None),
            audit_log.c.subject.in_(sorted({i.username for i in items})),
        )
    )
    found: set[str] = set()
    for (detail,) in rows:
        prefix = str(detail or "").rsplit(" ", 1)[-1]
        if prefix in prefixes:
            found.add(prefixes[prefix])
    return found


def _key_context(directory: str) -> str:
    return f"autossl-account:{directory}"


# -- what the functions do: ask for a check, read the problems ------------------------------------


def request_check(
    unit: UnitOfWork, config: Config, account: User | None, requested_by: str
) -> None:
    """Ask for a check of one account (or of every account: None), run by whichever process
    next holds the AutoSSL lease. Refused when AutoSSL is not configured or disabled: cPanel's
    _check_autossl_enabled says the same for both (no provider is AutoSSL disabled)."""
    if not enabled(unit.conn, config):
        raise InvalidParameter(DISABLED)
    unit.conn.execute(
        sa.insert(autossl_requests).values(
            user_id=None if account is None else account.id,
            requested_time=unit.now,
            requested_by=requested_by[:64],
        )
    )
    unit.audit(REQUEST, "*" if account is None else account.username, None)


def in_progress(conn: sa.Connection, user_id: int, now: int) -> bool:
    """Whether a check of the account is asked for and not done yet (and AutoSSL is not
    disabled: then it waits), or a check is running."""
    if not autossl_settings.disabled(conn):
        waiting = conn.execute(
            sa.select(autossl_requests.c.id)
            .where(
                sa.or_(autossl_requests.c.user_id.is_(None), autossl_requests.c.user_id == user_id)
            )
            .limit(1)
        ).first()
        if waiting is not None:
            return True
    lease = leases.get(conn, LEASE)
    return lease is not None and lease.expires > now


@dataclass(frozen=True, slots=True)
class Problem:
    domain: str
    username: str
    problem: str
    time: int  # when the problem was found
    run_time: int  # when the check that found it began


def problems(
    conn: sa.Connection, *, user_id: int | None = None, domain: str | None = None
) -> list[Problem]:
    """The domains whose last check left a problem (of one account, or one domain)."""
    query = (
        sa.select(
            autossl_domains.c.domain,
            autossl_domains.c.problem,
            autossl_domains.c.checked_time,
            autossl_domains.c.run_time,
            users_table.c.username,
        )
        .join(users_table, users_table.c.id == autossl_domains.c.user_id)
        .where(autossl_domains.c.problem.is_not(None))
        .order_by(autossl_domains.c.domain)
    )
    if user_id is not None:
        query = query.where(autossl_domains.c.user_id == user_id)
    if domain is not None:
        query = query.where(autossl_domains.c.domain == domain)
    return [
        Problem(
            str(r.domain), str(r.username), str(r.problem), int(r.checked_time), int(r.run_time)
        )
        for r in conn.execute(query)
    ]


def iso_time(seconds: int) -> str:
    """The form of AutoSSL's times in cPanel (Cpanel::Time::ISO::unix2iso, the problems
    table's strftime): `2017-08-12T21:02:56Z` — the reference's samples show `.000Z`, cPanel's
    code writes none."""
    moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- when the next check runs, what is waiting ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Schedule:
    interval: int  # seconds between scheduled checks (GATEHOUSE_AUTOSSL_INTERVAL)
    last_done: int | None  # when the last scheduled (every account's) check completed
    next_time: int  # when the next scheduled check is due
    running: bool  # a check is running now (the lease is held)


def schedule(conn: sa.Connection, config: Config, now: int) -> Schedule | None:
    """When the scheduled check of every account next runs: the interval after the last
    completed one (kept with the lease), or now when none completed yet (or its time lies in
    the future: the clock was set back). None when AutoSSL is off (not configured, or
    disabled): no check is scheduled."""
    if not configured(config) or autossl_settings.disabled(conn):
        return None
    lease = leases.get(conn, LEASE)
    last = lease.last_done if lease is not None else None
    interval = int(config.autossl_interval)
    next_time = now if last is None or last > now else max(now, last + interval)
    return Schedule(interval, last, next_time, lease is not None and lease.expires > now)


def cron_fields(interval: int, next_time: int, tz: datetime.tzinfo | None = None) -> list[str]:
    """The schedule as the five fields of a cron entry (WHM get_autossl_check_schedule's
    `cron`, cPanel's /etc/cron.d/cpanel_autossl line split on blanks), in the server's local
    time as cron reads its entries (`tz`: another zone, for tests): a daily interval runs at
    the next check's minute and hour (`M H * * *`), one that divides a day into whole hours
    at that minute every so many hours (`M h1,h2,… * * *`, as cPanel's 3-hourly entry), one
    that divides an hour into whole minutes every so many minutes; any other interval as the
    next check's own time (`M H D Mon *`), true for that run. (`next_time` itself is answered
    in UTC, as cPanel's Cpanel::Time::ISO::unix2iso of the entry's next run.)"""
    t = datetime.datetime.fromtimestamp(next_time, tz=datetime.UTC).astimezone(tz)
    minute, hour = str(t.minute), str(t.hour)
    if interval == 86400:
        return [minute, hour, "*", "*", "*"]
    if interval % 3600 == 0 and 0 < interval < 86400 and 86400 % interval == 0:
        step = interval // 3600
        hours = ",".join(str(h) for h in range(t.hour % step, 24, step))
        return [minute, hours, "*", "*", "*"]
    if interval % 60 == 0 and 0 < interval < 3600 and 3600 % interval == 0:
        step = interval // 60
        minutes = ",".join(str(m) for m in range(t.minute % step, 60, step))
        return [minutes, "*", "*", "*", "*"]
    return [minute, hour, str(t.day), str(t.month), "*"]


@dataclass(frozen=True, slots=True)
class Pending:
    """A domain AutoSSL has yet to secure: no certificate, or one it would replace."""

    domain: str
    username: str
    requested_time: int | None  # the oldest check asked for that covers it, still waiting
    last_time: int | None  # when AutoSSL last looked at it
    next_attempt: int | None  # after a failure: when the scheduled check tries it again
    problem: str | None  # the last attempt's problem, if any


def pending(
    conn: sa.Connection, config: Config, now: int, *, user_id: int | None = None
) -> list[Pending]:
    """The domains AutoSSL would order a certificate for at its next check (of one account, or
    of all): the accounts' domains that are not excluded and have no certificate AutoSSL
    would leave alone. Empty when AutoSSL is not configured."""
    if not configured(config):
        return []
    asked_all: int | None = None
    asked_by_user: dict[int, int] = {}
    for r in conn.execute(sa.select(autossl_requests.c.user_id, autossl_requests.c.requested_time)):
        when = int(r.requested_time)
        if r.user_id is None:
            asked_all = when if asked_all is None else min(asked_all, when)
        else:
            uid = int(r.user_id)
            asked_by_user[uid] = min(asked_by_user.get(uid, when), when)
    query = sa.select(users_table).where(
        users_table.c.domain.is_not(None), users_table.c.is_root.is_(False)
    )
    if user_id is not None:
        query = query.where(users_table.c.id == user_id)
    states = {
        str(r.domain): r
        for r in conn.execute(
            sa.select(autossl_domains)
            if user_id is None
            else sa.select(autossl_domains).where(autossl_domains.c.user_id == user_id)
        )
    }
    items: list[Pending] = []
    for account in (from_row(r) for r in conn.execute(query.order_by(users_table.c.username))):
        if account.suspended:
            continue
        excluded = set(autossl_settings.excluded(conn, account.id))
        times = [t for t in (asked_all, asked_by_user.get(account.id)) if t is not None]
        for domain in _securable(config, certificates.owned_domains(conn, account)):
            if domain in excluded:
                continue
            installed = certificates.installed_on(conn, domain)
            if installed is not None and good(config, account, installed.certificate, domain, now):
                continue
            state = states.get(domain)
            problem = None if state is None or state.problem is None else str(state.problem)
            items.append(
                Pending(
                    domain=domain,
                    username=account.username,
                    requested_time=min(times) if times else None,
                    last_time=None if state is None else int(state.checked_time),
                    next_attempt=None
                    if state is None or problem is None
                    else int(state.next_attempt),
                    problem=problem,
                )
            )
    return items


# -- the log of each check (from the audit trail) -----------------------------------------------


@dataclass(frozen=True, slots=True)
class LogRun:
    start_time: int
    username: str  # the one account checked, or `*`
    in_progress: bool


def _run_rows(conn: sa.Connection, limit: int) -> list[Any]:
    return list(
        conn.execute(
            sa.select(audit_log.c.id, audit_log.c.time, audit_log.c.subject)
            .where(audit_log.c.action == RUN, audit_log.c.actor.is_(None))
            .order_by(audit_log.c.id.desc())
            .limit(limit)
        )
    )


def log_catalog(conn: sa.Connection, now: int, limit: int = 500) -> list[LogRun]:
    """The checks whose log the audit trail still holds (it is pruned with the audit log),
    newest first. The newest is in progress while it has no end and the lease is held."""
    rows = _run_rows(conn, limit)
    lease = leases.get(conn, LEASE)
    running = False
    if rows and lease is not None and lease.expires > now:
        ended = conn.execute(
            sa.select(audit_log.c.id)
            .where(
                audit_log.c.action == DONE,
                audit_log.c.actor.is_(None),
                audit_log.c.id > rows[0].id,
            )
            .limit(1)
        ).first()
        running = ended is None
    return [
        LogRun(int(row.time), str(row.subject or "*"), index == 0 and running)
        for index, row in enumerate(rows)
    ]


@dataclass(frozen=True, slots=True)
class LogEntry:
    time: int
    kind: str  # out | success | failure (cPanel's types)
    indent: int
    contents: str


def parse_iso_time(raw: str) -> int:
    """`2026-12-04T05:03:11Z` (cPanel's form) or with `.000Z` (its reference's) → seconds."""
    text = raw.strip()
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidParameter(
            f"“{text[:64]}” is not a time in ISO 8601 form (e.g. 2026-12-04T05:03:11Z)."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return int(moment.timestamp())


def read_log(conn: sa.Connection, start_time: int) -> list[LogEntry]:
    """The log of the check that began at `start_time`: its start, each certificate installed,
    each problem found, its end — AutoSSL's audit lines (no actor) from its start to the next
    check's. Refused when no check began then (or its lines were pruned)."""
    start = conn.execute(
        sa.select(audit_log.c.id)
        .where(
            audit_log.c.action == RUN,
            audit_log.c.actor.is_(None),
            audit_log.c.time == start_time,
        )
        .order_by(audit_log.c.id.desc())
        .limit(1)
    ).first()
    if start is None:
        raise InvalidParameter(
            f"No AutoSSL log begins at “{iso_time(start_time)}”: "
            "get_autossl_logs_catalog lists the logs there are."
        )
    following = conn.execute(
        sa.select(sa.func.min(audit_log.c.id)).where(
            audit_log.c.action == RUN, audit_log.c.actor.is_(None), audit_log.c.id > start.id
        )
    ).scalar()
    query = (
        sa.select(audit_log)
        .where(
            audit_log.c.actor.is_(None),
            audit_log.c.action.in_([RUN, DONE, PROBLEM, INSTALL]),
            audit_log.c.id >= start.id,
        )
        .order_by(audit_log.c.id)
    )
    if following is not None:
        query = query.where(audit_log.c.id < int(following))
    entries: list[LogEntry] = []
    for row in conn.execute(query):
        detail = str(row.detail or "")
        if row.action == INSTALL:
            domain = detail.split(" ", 1)[0]
            text = f"{row.subject}: a certificate was installed on “{domain}”."
            entries.append(LogEntry(int(row.time), "success", 1, text))
        elif row.action == PROBLEM:
            entries.append(LogEntry(int(row.time), "failure", 1, f"{row.subject}: {detail}"))
        else:
            entries.append(LogEntry(int(row.time), "out", 0, detail))
    return entries


# -- the check ------------------------------------------------------------------------------------


class _Failed(Exception):
    """A domain AutoSSL could not secure, and why (words for get_autossl_problems)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


@dataclass
class Report:
    """What one check did."""

    domains: int = 0  # looked at
    covered: int = 0  # already had a valid certificate
    excluded: int = 0  # excluded by the account (skipped)
    installed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    waiting: int = 0  # in backoff after a failure
    all_accounts: bool = False


def _acme_problem(exc: BaseException) -> str:
    """Words for what the CA or the network said (never a key, never a token)."""
    if isinstance(exc, acme_errors.ValidationError):
        details = []
        for authzr in exc.failed_authzrs:
            for chall in authzr.body.challenges:
                if chall.error is not None:
                    details.append(
                        f"{authzr.body.identifier.value}: {chall.error.detail or chall.error.typ}"
                    )
        return "The certificate authority could not validate the domain (DNS-01): " + (
            "; ".join(details) or "no detail given"
        )
    if isinstance(exc, acme_errors.IssuanceError):
        return f"The certificate authority did not issue the certificate: {exc.error.detail}"
    if isinstance(exc, acme_errors.TimeoutError):
        return f"The certificate authority did not finish the order within {ORDER_TIMEOUT} seconds."
    if isinstance(exc, messages.Error):
        return f"The certificate authority refused: {exc.detail or exc.typ}"
    if isinstance(exc, requests.exceptions.SSLError):
        return (
            "The ACME directory's TLS certificate is not trusted (GATEHOUSE_AUTOSSL_CA_BUNDLE "
            "names the CA to trust)."
        )
    if isinstance(exc, requests.exceptions.RequestException):
        return f"The ACME server could not be reached ({type(exc).__name__})."
    if isinstance(exc, acme_errors.Error):
        return f"The ACME exchange failed: {type(exc).__name__}."
    return f"AutoSSL failed: {type(exc).__name__}."


class AutoSsl:
    """The AutoSSL provider of one process (`gatehouse serve` runs `tick` in a thread)."""

    def __init__(
        self,
        engine: sa.Engine,
        keyring: KeyRing,
        config: Config,
        clock: Callable[[], float],
        *,
        zones_changed: Callable[[], None],
        certificates_changed: Callable[[], None],
        startup_delay: float = 60.0,
        progress: Callable[[str, str], None] | None = None,
    ) -> None:
        self.engine = engine
        self.keyring = keyring
        self.config = config
        self.clock = clock
        self.zones_changed = zones_changed
        self.certificates_changed = certificates_changed
        self.holder = leases.new_holder()
        self.stopping = threading.Event()
        self.progress = progress  # (domain, what happened): `gatehouse ssl autossl` prints it
        # The scheduled check never runs before this (no storm at start-up).
        self._scheduled_after = int(clock() + min(startup_delay, float(config.autossl_interval)))
        self._client: tuple[acme_client.ClientV2, JWK] | None = None
        # Set when the directory could not be reached during a check: the check's other
        # domains get the same problem at once instead of each waiting on the network.
        self._unreachable: str | None = None

    def now(self) -> int:
        return int(self.clock())

    # -- what is due --------------------------------------------------------------------------

    def _due(self, now: int) -> tuple[list[tuple[int, int | None]], bool]:
        with self.engine.connect() as conn:
            asked = [
                (int(r.id), None if r.user_id is None else int(r.user_id))
                for r in conn.execute(
                    sa.select(autossl_requests.c.id, autossl_requests.c.user_id).order_by(
                        autossl_requests.c.id
                    )
                )
            ]
            lease = leases.get(conn, LEASE)
        last = lease.last_done if lease is not None else None
        # Due once the interval has passed since the last completed check — or if that check
        # seems to lie in the future (the clock was set back), rather than waiting for it.
        scheduled = now >= self._scheduled_after and (
            last is None or not 0 <= now - last < self.config.autossl_interval
        )
        return asked, scheduled

    def tick(self) -> Report | None:
        """Run a check if one is due (asked for, or scheduled) and this process wins the
        lease; None when nothing ran."""
        if not configured(self.config) or self.stopping.is_set():
            return None
        with self.engine.connect() as conn:
            if autossl_settings.disabled(conn):
                return None  # disable_autossl: requests wait until it is enabled again
        now = self.now()
        asked, scheduled = self._due(now)
        if not asked and not scheduled:
            return None
        if not leases.claim(self.engine, LEASE, self.holder, now, LEASE_TTL):
            return None  # another process or node is checking
        held = leases.Held(self.engine, LEASE, self.holder, LEASE_TTL, self.clock)
        completed = False
        try:
            asked, scheduled = self._due(now)  # again, now that the lease is ours
            everyone = scheduled or any(user is None for _, user in asked)
            wanted = None if everyone else {user for _, user in asked if user is not None}
            forced: set[int] | None = {user for _, user in asked if user is not None}
            if any(user is None for _, user in asked):
                forced = None  # every account asked for: retry every domain
            elif not forced:
                forced = set()
            report = self.run(held, wanted, forced)
            report.all_accounts = everyone
            if self.stopping.is_set():
                return report  # cut short: the requests stay for the next holder
            with self.engine.begin() as conn:
                ids = [request_id for request_id, _ in asked]
                if ids:
                    conn.execute(sa.delete(autossl_requests).where(autossl_requests.c.id.in_(ids)))
            completed = True
            return report
        except leases.LeaseLost:
            log.warning("AutoSSL: the lease was lost during a check; another process goes on")
            return None
        finally:
            held.release(done=now if completed and (scheduled or everyone) else None)

    def run_now(self, wanted: set[int] | None) -> Report | None:
        """A check now, in this process, of the accounts in `wanted` (None: every account),
        every domain tried even in its backoff (`gatehouse ssl autossl`); None when another
        process holds the lease."""
        now = self.now()
        if not leases.claim(self.engine, LEASE, self.holder, now, LEASE_TTL):
            return None
        held = leases.Held(self.engine, LEASE, self.holder, LEASE_TTL, self.clock)
        completed = False
        try:
            report = self.run(held, wanted, None)
            report.all_accounts = wanted is None
            completed = not self.stopping.is_set()
            return report
        finally:
            held.release(done=now if completed and wanted is None else None)

    def run(self, held: leases.Held, wanted: set[int] | None, forced: set[int] | None) -> Report:
        """One check of the accounts in `wanted` (None: every account). Domains of `forced`
        accounts (None: every account) are tried even while a failure's backoff lasts."""
        run_time = self.now()
        report = Report()
        self._unreachable = None
        with self.engine.connect() as conn:
            query = sa.select(users_table).where(
                users_table.c.domain.is_not(None), users_table.c.is_root.is_(False)
            )
            accounts = [from_row(r) for r in conn.execute(query.order_by(users_table.c.id))]
        chosen = [a for a in accounts if wanted is None or a.id in wanted]
        self._log_start(run_time, None if wanted is None else [a.username for a in chosen])
        try:
            self._run_accounts(held, chosen, forced, run_time, report)
        finally:
            self._log_end(report)
        return report

    def _log_start(self, run_time: int, usernames: list[str] | None) -> None:
        """The run's first log line (get_autossl_logs_catalog lists runs by it)."""
        who = "*" if usernames is None else (usernames[0] if len(usernames) == 1 else "*")
        accounts = "every account" if usernames is None else ", ".join(usernames) or "no account"
        detail = f"AutoSSL check of {accounts} (provider {PROVIDER_NAME}: "
        detail += f"{self.config.autossl_directory})"
        with self.engine.begin() as conn:
            ServerUnit(conn, run_time, "autossl").audit(RUN, who, detail[:1000])

    def _log_end(self, report: Report) -> None:
        detail = (
            f"{report.domains} domain(s): {report.covered} covered, {len(report.installed)} "
            f"installed, {len(report.failed)} failed, {report.waiting} waiting, "
            f"{report.excluded} excluded"
            + (" (stopped before the end)" if self.stopping.is_set() else "")
        )
        with self.engine.begin() as conn:
            ServerUnit(conn, self.now(), "autossl").audit(DONE, None, detail)

    def _run_accounts(
        self,
        held: leases.Held,
        accounts: list[User],
        forced: set[int] | None,
        run_time: int,
        report: Report,
    ) -> None:
        for account in accounts:
            if account.suspended:
                continue
            with self.engine.connect() as conn:
                domains = _securable(self.config, certificates.owned_domains(conn, account))
                excluded = set(autossl_settings.excluded(conn, account.id))
            for domain in domains:
                if self.stopping.is_set():
                    return
                held.keep()
                report.domains += 1
                if domain in excluded:
                    self._skip_excluded(account, domain, run_time, report)
                    continue
                force = forced is None or account.id in forced
                self._check_domain(account, domain, run_time, force, report)
            with self.engine.begin() as conn:
                # A domain the account no longer has (a subdomain removed) has no outcome.
                conn.execute(
                    sa.delete(autossl_domains).where(
                        autossl_domains.c.user_id == account.id,
                        autossl_domains.c.domain.not_in(domains),
                    )
                )
                # Nor an exclusion (as cPanel drops a removed domain's): the names are those of
                # its domains now, read in this transaction.
                autossl_settings.forget_stale(conn, account)
        log.info(
            "AutoSSL: %d domain(s) checked, %d covered, %d installed, %d failed, %d waiting, "
            "%d excluded",
            report.domains,
            report.covered,
            len(report.installed),
            len(report.failed),
            report.waiting,
            report.excluded,
        )

    def _skip_excluded(self, account: User, domain: str, run_time: int, report: Report) -> None:
        """An excluded domain is not ordered for; its outcome says why (no audit line each
        check, no failure counted, no backoff)."""
        report.excluded += 1
        problem = autossl_settings.excluded_problem(domain)
        now = self.now()
        with self.engine.begin() as conn:
            values = {
                "user_id": account.id,
                "checked_time": now,
                "run_time": run_time,
                "problem": problem,
                "failures": 0,
                "next_attempt": now,
            }
            updated = conn.execute(
                sa.update(autossl_domains)
                .where(autossl_domains.c.domain == domain)
                .values(**values)
            ).rowcount
            if not updated:
                conn.execute(sa.insert(autossl_domains).values(domain=domain, **values))
        self._tell(domain, "excluded")

    def _check_domain(
        self, account: User, domain: str, run_time: int, force: bool, report: Report
    ) -> None:
        now = self.now()
        with self.engine.connect() as conn:
            installed = certificates.installed_on(conn, domain)
            state = conn.execute(
                sa.select(autossl_domains).where(autossl_domains.c.domain == domain)
            ).first()
        if installed is not None and self._good(account, installed.certificate, domain, now):
            report.covered += 1
            if state is None or state.problem is not None:
                self._record(account, domain, now, run_time, None)
            self._tell(domain, "covered")
            return
        if not force and state is not None and state.problem and state.next_attempt > now:
            report.waiting += 1
            self._tell(domain, f"waiting until {iso_time(int(state.next_attempt))}")
            return
        self._tell(domain, "ordering")
        try:
            self._secure(account, domain)
        except _Failed as failed:
            report.failed.append(domain)
            self._record(account, domain, self.now(), run_time, failed.problem)
            self._tell(domain, f"problem: {failed.problem}")
            return
        report.installed.append(domain)
        self._record(account, domain, self.now(), run_time, None)
        self._tell(domain, "installed")

    def _tell(self, domain: str, what: str) -> None:
        if self.progress is not None:
            self.progress(domain, what)

    def _good(
        self, account: User, cert: certificates.StoredCertificate, domain: str, now: int
    ) -> bool:
        return good(self.config, account, cert, domain, now)

    def _record(
        self, account: User, domain: str, now: int, run_time: int, problem: str | None
    ) -> None:
        with self.engine.begin() as conn:
            before = conn.execute(
                sa.select(autossl_domains.c.failures).where(autossl_domains.c.domain == domain)
            ).first()
            failures = 0
            next_attempt = now
            if problem is not None:
                failures = (int(before.failures) if before is not None else 0) + 1
                wait = min(self.config.autossl_retry * 2 ** min(failures - 1, 20), MAX_BACKOFF)
                next_attempt = now + int(wait)
                ServerUnit(conn, now, "autossl").audit(
                    PROBLEM, account.username, f"{domain}: {problem}"[:1000]
                )
            values = {
                "user_id": account.id,
                "checked_time": now,
                "run_time": run_time,
                "problem": problem,
                "failures": failures,
                "next_attempt": next_attempt,
            }
            updated = conn.execute(
                sa.update(autossl_domains)
                .where(autossl_domains.c.domain == domain)
                .values(**values)
            ).rowcount
            if not updated:
                conn.execute(sa.insert(autossl_domains).values(domain=domain, **values))

    # -- one order ----------------------------------------------------------------------------

    def _names(self, account: User, domain: str) -> list[str]:
        with self.engine.connect() as conn:
            zone = _zone_for(conn, domain, account.id)
            if zone is None:
                raise _Failed(
                    f"The DNS zone for “{domain}” is not on this server (or not the account's): "
                    "AutoSSL validates domains through gatehouse's own zones."
                )
            www = f"www.{domain}."
            has_www = any(
                e.kind == "record" and absolute(zone.name, e.dname) == www
                for e in parse_entries(zone.name, zone.text)
            )
            www_excluded = f"www.{domain}" in autossl_settings.excluded(conn, account.id)
        names = [domain, f"www.{domain}"] if has_www and not www_excluded else [domain]
        if self.config.autossl_wildcard and domain == account.domain:
            names.append(f"*.{domain}")  # its challenge shares `_acme-challenge.<domain>`
        return names

    def _secure(self, account: User, domain: str) -> None:
        names = self._names(account, domain)
        if self._unreachable is not None:
            raise _Failed(self._unreachable)  # this check asks an unreachable CA no more
        try:
            try:
                client, account_key = self._acme()
            except (requests.exceptions.RequestException, acme_errors.ClientError) as exc:
                self._unreachable = _acme_problem(exc)
                raise
            self._order(client, account_key, account, domain, names)
        except _Failed:
            raise
        except messages.Error as exc:
            if exc.code == "accountDoesNotExist":
                self._forget_account()
            raise _Failed(_acme_problem(exc)) from None
        except (acme_errors.Error, requests.exceptions.RequestException) as exc:
            raise _Failed(_acme_problem(exc)) from None
        except GatehouseError as exc:
            raise _Failed(exc.reason) from None
        except Exception as exc:
            # Anything else is recorded as the domain's problem too (and logged by type, with
            # its traceback): one domain's surprise must not stop the check, nor leave the
            # request to be retried every few seconds.
            log.error("AutoSSL: securing %s failed: %s", domain, type(exc).__name__, exc_info=True)
            raise _Failed(_acme_problem(exc)) from None

    def _order(
        self,
        client: acme_client.ClientV2,
        account_key: JWK,
        account: User,
        domain: str,
        names: list[str],
    ) -> None:
        key = ssl_requests.new_key(ssl_requests.DEFAULT_KEY_TYPE)
        csr_pem = crypto_util.make_csr(key.pem.encode(), names)
        order = client.new_order(csr_pem)
        records: list[tuple[str, str]] = []
        answers: list[tuple[messages.ChallengeBody, challenges.ChallengeResponse]] = []
        for authzr in order.authorizations:
            if authzr.body.status == messages.STATUS_VALID:
                continue
            name = authzr.body.identifier.value
            dns01 = next(
                (c for c in authzr.body.challenges if isinstance(c.chall, challenges.DNS01)), None
            )
            if dns01 is None:
                raise _Failed(f"The certificate authority offers no DNS-01 challenge for “{name}”.")
            response, validation = dns01.response_and_validation(account_key)
            chall = cast(challenges.DNS01, dns01.chall)
            records.append((chall.validation_domain_name(name), str(validation)))
            answers.append((dns01, response))
        self._challenge_records(account, records, add=True)
        try:
            if self.config.autossl_dns_wait > 0:
                time.sleep(self.config.autossl_dns_wait)
            for challb, response in answers:
                client.answer_challenge(challb, response)
            deadline = datetime.datetime.now() + datetime.timedelta(seconds=ORDER_TIMEOUT)
            done = client.poll_and_finalize(order, deadline)
        finally:
            try:
                self._challenge_records(account, records, add=False)
            except Exception:
                log.exception("AutoSSL: removing the challenge records of %s failed", domain)
        self._install(account, domain, key, done.fullchain_pem)

    def _challenge_records(
        self, account: User, records: Iterable[tuple[str, str]], *, add: bool
    ) -> None:
        """Add (or take out) the `_acme-challenge` TXT records, one zone edit per zone, in one
        transaction; then the zone files and the cluster peers are brought up to date."""
        by_zone: dict[str, list[tuple[str, str]]] = {}
        with self.engine.begin() as conn:
            unit = ServerUnit(conn, self.now(), "autossl")
            for name, value in records:
                zone = _zone_for(conn, name, account.id)
                if zone is None:
                    raise _Failed(f"The DNS zone for “{name}” is not on this server.")
                by_zone.setdefault(zone.name, []).append((name, value))
            for zone_name, wanted in by_zone.items():
                zones.lock(conn, zone_name)
                zone = zones.get(conn, zone_name)
                if zone is None:
                    continue
                if add:
                    adds = [
                        changes.Change(f"{name}.", CHALLENGE_TTL, "TXT", (value,))
                        for name, value in wanted
                    ]
                    text = changes.apply_edits(zone, adds, [], [])
                    save_edit(unit, zone, text, "AutoSSL DNS-01 challenge added")
                    continue
                owners = {(f"{name}.", value) for name, value in wanted}
                removes = [
                    e.line_index
                    for e in parse_entries(zone.name, zone.text)
                    if e.kind == "record"
                    and e.record_type == "TXT"
                    and any(
                        absolute(zone.name, e.dname) == owner and value in e.raw
                        for owner, value in owners
                    )
                ]
                if removes:
                    text = changes.apply_edits(zone, [], [], removes)
                    save_edit(unit, zone, text, "AutoSSL DNS-01 challenge removed")
        self.zones_changed()

    def _install(self, account: User, domain: str, key: ssl_pem.Key, fullchain: str) -> None:
        chain = x509.load_pem_x509_certificates(fullchain.encode())
        if not chain:
            raise _Failed("The certificate authority returned no certificate.")
        pem = [c.public_bytes(serialization.Encoding.PEM).decode() for c in chain]
        with self.engine.begin() as conn:
            owner = certificates.domain_owner(conn, domain)
            if owner is None or owner.id != account.id:
                raise _Failed(f"“{domain}” is no longer a domain of “{account.username}”.")
            certificates.install_from_text(
                ServerUnit(conn, self.now(), "autossl"),
                self.keyring,
                owner,
                domain,
                pem[0],
                key.pem,
                "".join(pem[1:]) or None,
            )
        log.info("AutoSSL: installed a certificate on %s (%s)", domain, account.username)
        self.certificates_changed()

    # -- the ACME account ---------------------------------------------------------------------

    def _forget_account(self) -> None:
        self._client = None
        with self.engine.begin() as conn:
            conn.execute(
                sa.delete(autossl_accounts).where(
                    autossl_accounts.c.directory == self.config.autossl_directory
                )
            )

    def _acme(self) -> tuple[acme_client.ClientV2, JWK]:
        """The ACME client with this server's account at the directory: made (and registered)
        on first use, its key stored encrypted."""
        if self._client is not None:
            return self._client
        directory_url = str(self.config.autossl_directory)
        verify: Any = str(self.config.autossl_ca_bundle) if self.config.autossl_ca_bundle else True
        net = acme_client.ClientNetwork(
            None, alg=ES256, verify_ssl=verify, user_agent="gatehouse-autossl", timeout=30
        )
        directory = acme_client.ClientV2.get_directory(directory_url, net)
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(autossl_accounts).where(autossl_accounts.c.directory == directory_url)
            ).first()
        if row is not None and row.account_uri:
            pem = self.keyring.decrypt(row.key_ciphertext, _key_context(directory_url))
            private = serialization.load_pem_private_key(pem.encode(), password=None)
            account_key: JWK = JWKEC(key=private)
            net.key = account_key
            net.account = messages.RegistrationResource(
                uri=row.account_uri, body=messages.Registration()
            )
            client = acme_client.ClientV2(directory, net)
        else:
            client, account_key = self._register(directory, net, directory_url)
        self._client = (client, account_key)
        return self._client

    def _register(
        self, directory: messages.Directory, net: acme_client.ClientNetwork, directory_url: str
    ) -> tuple[acme_client.ClientV2, JWK]:
        private = ec.generate_private_key(ec.SECP256R1())
        account_key: JWK = JWKEC(key=private)
        net.key = account_key
        client = acme_client.ClientV2(directory, net)
        eab = None
        kid, hmac_key = self.config.autossl_eab_kid, self.config.autossl_eab_hmac_key
        if kid and hmac_key:
            eab = messages.ExternalAccountBinding.from_data(
                account_key.public_key(), kid, hmac_key, directory
            )
        elif client.external_account_required():
            raise _Failed(
                "The certificate authority requires External Account Binding: set "
                "GATEHOUSE_AUTOSSL_EAB_KID and GATEHOUSE_AUTOSSL_EAB_HMAC_KEY."
            )
        registration = messages.NewRegistration.from_data(
            email=self.config.autossl_email or None,
            terms_of_service_agreed=True,
            external_account_binding=eab,
        )
        regr = client.new_account(registration)
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        with self.engine.begin() as conn:
            conn.execute(
                sa.delete(autossl_accounts).where(autossl_accounts.c.directory == directory_url)
            )
            conn.execute(
                sa.insert(autossl_accounts).values(
                    directory=directory_url,
                    key_ciphertext=self.keyring.encrypt(pem, _key_context(directory_url)),
                    account_uri=regr.uri,
                    created_time=self.now(),
                )
            )
        log.info("AutoSSL: registered an ACME account at %s", directory_url)
        return client, account_key


def good(
    config: Config, account: User, cert: certificates.StoredCertificate, domain: str, now: int
) -> bool:
    """A certificate AutoSSL leaves alone: CA-issued, covering the domain (and `*.domain`
    for a main domain when wildcards are chosen), valid now and for longer than the
    renewal window."""
    if not ssl_pem.covers(cert.names, domain) or cert.not_before > now:
        return False
    wildcard = f"*.{domain}"
    if config.autossl_wildcard and domain == account.domain and wildcard not in cert.names:
        return False
    if cert.not_after - now <= config.autossl_renew_days * 86400:
        return False
    return not ssl_pem.parse_certificate(cert.pem).self_signed


def _securable(config: Config, domains: list[str]) -> list[str]:
    """The domains a check secures: a wildcard subdomain (`*.D`) only when the provider
    orders wildcards (GATEHOUSE_AUTOSSL_WILDCARD), as cPanel's Cpanel/SSL/Auto/Run.pm
    validates an account's own wildcards only with a provider that SUPPORTS_WILDCARD."""
    if config.autossl_wildcard:
        return domains
    return [d for d in domains if not subdomains.is_wildcard(d)]


def _zone_for(conn: sa.Connection, name: str, user_id: int) -> zones.Zone | None:
    """The zone holding `name`'s records (the longest zone name it ends with), if it is the
    account's."""
    candidate = name.rstrip(".").lower()
    while candidate:
        zone = zones.get(conn, candidate)
        if zone is not None:
            return zone if zone.owner_user_id == user_id else None
        if "." not in candidate:
            return None
        candidate = candidate.split(".", 1)[1]
    return None
