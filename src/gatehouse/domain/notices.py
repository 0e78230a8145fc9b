"""Token notices (issue 17 part 4, docs/governance.md#4-notices): a token about to expire,
used from an address it was never used from, or left unused — told by a signed webhook and/or
e-mail, through a durable queue in the store.

Two passes, each safe to run in every process of every node:

* `collect` looks at the tokens (under the lease `notices.collect`, so one process at a time)
  and queues what is due: one row per notice and channel in `notices`, unique per
  (`dedup_key`, channel), so a notice is queued once however many passes see it (the 7-day
  notice of a token's expiry is sent once; a new expiry makes new notices).
* `deliver_due` sends what is due: a row is claimed by one conditional UPDATE (as the DNS
  cluster's outbox is, domain/cluster_push.py), so each is delivered by one process; a failure
  is kept with its error and retried with backoff (30 s doubling, at most 6 hours, 10 tries).

Addresses are recorded with the batched last-use write (domain/tokens.record_address), never
per request. No secret rests in a queued row: the webhook secret (the setting, or the one kept
ENCRYPTED with the key ring in `notice_secrets`) and the SMTP password are read when sending."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import smtplib
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import httpx
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag

from gatehouse.config import Config
from gatehouse.domain import leases
from gatehouse.domain.accesshash import KeyRing
from gatehouse.errors import InvalidParameter
from gatehouse.store.rows import upsert
from gatehouse.store.schema import api_tokens, notice_secrets, notices, token_addresses, users

log = logging.getLogger("gatehouse.notices")

EXPIRING = "token_expiring"
NEW_ADDRESS = "token_new_address"
UNUSED = "token_unused"
TEST = "test"
WEBHOOK, EMAIL = "webhook", "email"
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
STATUSES = (PENDING, DELIVERED, FAILED)

DAY = 24 * 3600
CLAIM_FOR = 120  # seconds a claimed notice is another sender's to leave alone
FIRST_RETRY = 30
MAX_BACKOFF = 6 * 3600
MAX_ATTEMPTS = 10
TIMEOUT = 10.0
BATCH = 50
COLLECT_LEASE = "notices.collect"
COLLECT_EVERY = 300  # seconds between two collecting passes (of all processes)
KEEP_DAYS = 400  # days a delivered or failed notice is kept (listed, and not queued again)
SIGNATURE_HEADER = "Gatehouse-Signature"
TEST_AUDIT = "TESTNOTICE"  # the audit action of a test notice queued
_SERVICE_NAMES = {"whostmgr": "WHM", "cpanel": "cPanel"}


def channels(config: Config) -> tuple[str, ...]:
    """The channels the settings configure."""
    found = []
    if config.notice_webhook_url:
        found.append(WEBHOOK)
    if config.notice_smtp_host:
        found.append(EMAIL)
    return tuple(found)


# -- queueing ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Notice:
    """A notice to queue: what happened, to which token, said once in words."""

    key: str  # the dedup key: the same key is queued once per channel
    event: str
    message: str
    owner: str | None = None
    owner_email: str | None = None
    service: str | None = None
    token_name: str | None = None
    details: tuple[tuple[str, Any], ...] = ()


def queue(conn: sa.Connection, config: Config, now: int, notice: Notice) -> list[int]:
    """Queue `notice` on every configured channel (e-mail only when it has a recipient); the
    ids of the rows made (none for a key already queued)."""
    payload = json.dumps(
        {
            "event": notice.event,
            "time": now,
            "server": config.server_hostname,
            "message": notice.message,
            "token": None
            if notice.token_name is None
            else {"user": notice.owner, "service": notice.service, "name": notice.token_name},
            **dict(notice.details),
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    made = []
    for channel in channels(config):
        recipients = None
        if channel == EMAIL:
            wanted = list(config.notice_email_to)
            if config.notice_email_owners and notice.owner_email:
                wanted.append(notice.owner_email)
            if not wanted:
                continue
            recipients = ",".join(dict.fromkeys(wanted))
        result = conn.execute(
            upsert(conn, notices)
            .values(
                dedup_key=notice.key, channel=channel, event=notice.event, owner=notice.owner,
                token_name=notice.token_name, payload=payload, recipients=recipients,
                created_time=now, status=PENDING, attempts=0, next_attempt=now,
                claimed_until=0, delivered_time=None, last_error=None,
            )
            .on_conflict_do_nothing(index_elements=["dedup_key", "channel"])
            .returning(notices.c.id)
        ).first()  # fmt: skip
        if result is not None:
            made.append(int(result[0]))
    return made


def _when(timestamp: int) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _token_words(row: Any) -> str:
    kind = _SERVICE_NAMES.get(str(row.service), str(row.service))
    return f"The {kind} API token “{row.name}” of {row.username}"


_TOKEN_COLUMNS = (
    api_tokens.c.id,
    api_tokens.c.name,
    api_tokens.c.service,
    api_tokens.c.description,
    api_tokens.c.create_time,
    api_tokens.c.expires_at,
    api_tokens.c.last_used_time,
    api_tokens.c.last_used_ip,
    users.c.username,
    users.c.contact_email,
)


def _token_details(row: Any) -> tuple[tuple[str, Any], ...]:
    return (
        ("description", row.description),
        ("expires_at", None if row.expires_at is None else int(row.expires_at)),
        ("last_used", None if row.last_used_time is None else int(row.last_used_time)),
        ("last_used_ip", row.last_used_ip),
    )


def _notice(row: Any, key: str, event: str, message: str, *extra: tuple[str, Any]) -> Notice:
    return Notice(
        key=key, event=event, message=message, owner=str(row.username),
        owner_email=row.contact_email or None, service=str(row.service),
        token_name=str(row.name), details=(*_token_details(row), *extra),
    )  # fmt: skip


def _expiring(conn: sa.Connection, config: Config, now: int) -> Iterable[Notice]:
    """Each live token within the largest of `days` of its expiry: the notice of the smallest
    threshold it has crossed (a server down for a week does not send the 30-day notice late
    beside the 7-day one)."""
    days = config.notice_expiry_days
    if not days:
        return
    remaining = api_tokens.c.expires_at - now
    whens = [(remaining <= d * DAY, d) for d in sorted(days)[:-1]]
    crossed = sa.case(*whens, else_=max(days)) if whens else sa.literal(max(days))
    query = (
        sa.select(*_TOKEN_COLUMNS)
        .join(users, users.c.id == api_tokens.c.user_id)
        .where(
            api_tokens.c.expires_at > now,
            api_tokens.c.expires_at <= now + max(days) * DAY,
            _not_queued(config, "expiring:", api_tokens.c.id, api_tokens.c.expires_at, crossed),
        )
    )
    for row in conn.execute(query):
        left = int(row.expires_at) - now
        threshold = min(d for d in days if left <= d * DAY)
        in_days = max(1, round(left / DAY))
        yield _notice(
            row, f"expiring:{row.id}:{int(row.expires_at)}:{threshold}", EXPIRING,
            f"{_token_words(row)} expires on {_when(int(row.expires_at))}, in "
            f"{'about ' if left % DAY else ''}{in_days} day{'s' if in_days != 1 else ''}.",
            ("days", threshold),
        )  # fmt: skip


def _new_addresses(conn: sa.Connection, now: int) -> list[tuple[Notice | None, Any]]:
    """Each pending address with its notice — None for one first seen more than a day ago
    (notices turned on later do not tell old news)."""
    query = (
        sa.select(*_TOKEN_COLUMNS, token_addresses.c.ip, token_addresses.c.first_seen)
        .select_from(token_addresses)
        .join(api_tokens, api_tokens.c.id == token_addresses.c.token_id)
        .join(users, users.c.id == api_tokens.c.user_id)
        .where(token_addresses.c.pending.is_(True))
    )
    found: list[tuple[Notice | None, Any]] = []
    for row in conn.execute(query):
        if int(row.first_seen) < now - DAY:
            found.append((None, (row.id, row.ip)))
            continue
        notice = _notice(
            row, f"new_address:{row.id}:{row.ip}", NEW_ADDRESS,
            f"{_token_words(row)} was used from {row.ip}, an address it had never been used "
            f"from, at {_when(int(row.first_seen))}. If that was not you, revoke it.",
            ("address", row.ip), ("first_seen", int(row.first_seen)),
        )  # fmt: skip
        found.append((notice, (row.id, row.ip)))
    return found


def _unused(conn: sa.Connection, config: Config, now: int) -> Iterable[Notice]:
    days = config.notice_unused_days
    if days <= 0:
        return
    since = sa.func.coalesce(api_tokens.c.last_used_time, api_tokens.c.create_time)
    query = (
        sa.select(*_TOKEN_COLUMNS, since.label("since"))
        .join(users, users.c.id == api_tokens.c.user_id)
        .where(
            since < now - days * DAY,
            sa.or_(api_tokens.c.expires_at.is_(None), api_tokens.c.expires_at >= now),
            _not_queued(config, "unused:", api_tokens.c.id, since),
        )
    )
    for row in conn.execute(query):
        last = (
            "it was never used"
            if row.last_used_time is None
            else f"last used on {_when(int(row.last_used_time))} from {row.last_used_ip or '?'}"
        )
        yield _notice(
            row, f"unused:{row.id}:{int(row.since)}", UNUSED,
            f"{_token_words(row)} has not been used for {days} days or more ({last}). "
            "Revoke it if it is no longer needed.",
            ("days", days),
        )  # fmt: skip


def _not_queued(
    config: Config, prefix: str, *parts: sa.ColumnElement[Any]
) -> sa.ColumnElement[bool]:
    """Some configured channel has no notice queued under the dedup key `prefix` + `parts`
    joined with `:` — in SQL, so that a pass reads only the tokens it has something new to
    say about."""
    key: sa.ColumnElement[Any] = sa.literal(prefix, sa.String) + sa.cast(parts[0], sa.String)
    for part in parts[1:]:
        key = key + ":" + sa.cast(part, sa.String)
    return sa.or_(
        *(
            ~sa.exists().where(notices.c.dedup_key == key, notices.c.channel == channel)
            for channel in channels(config)
        )
    )


def collect(conn: sa.Connection, config: Config, now: int) -> int:
    """Queue every notice due at `now`; how many rows were made. A process without a channel
    does nothing (the addresses wait for one that has). Notices delivered or given up more
    than KEEP_DAYS ago are deleted."""
    if not channels(config):
        return 0
    conn.execute(
        sa.delete(notices).where(
            notices.c.status != PENDING, notices.c.created_time < now - KEEP_DAYS * DAY
        )
    )
    fresh = _new_addresses(conn, now)
    for _, (token_id, ip) in fresh:
        conn.execute(
            sa.update(token_addresses)
            .where(token_addresses.c.token_id == token_id, token_addresses.c.ip == ip)
            .values(pending=False)
        )
    candidates: list[Notice] = []
    if config.notice_new_address:
        candidates += [notice for notice, _ in fresh if notice is not None]
    candidates += _expiring(conn, config, now)
    candidates += _unused(conn, config, now)
    # A key queued already (by an earlier pass) is skipped by the insert itself.
    return sum(len(queue(conn, config, now, notice)) for notice in candidates)


def collect_if_due(
    engine: sa.Engine, config: Config, holder: str, now: int, every: int = COLLECT_EVERY
) -> int | None:
    """`collect` if `every` seconds have passed since the last pass (of any process) and this
    process holds the lease; None when it was not this process's turn (or it has no
    channel)."""
    if not channels(config):
        return None
    with engine.connect() as conn:
        lease = leases.get(conn, COLLECT_LEASE)
    if lease is not None and lease.last_done is not None and now - lease.last_done < every:
        return None
    if not leases.claim(engine, COLLECT_LEASE, holder, now, CLAIM_FOR):
        return None
    try:
        with engine.begin() as conn:
            made = collect(conn, config, now)
    finally:
        leases.release(engine, COLLECT_LEASE, holder, done=now)
    return made


def queue_test(conn: sa.Connection, config: Config, now: int, nonce: str) -> list[int]:
    """A test notice on every configured channel (to the operator addresses by e-mail)."""
    return queue(
        conn,
        config,
        now,
        Notice(
            key=f"test:{nonce}",
            event=TEST,
            message=f"A test notice from gatehouse on {config.server_hostname}: notices reach you.",
        ),
    )


# -- the webhook's secret ---------------------------------------------------------------------

WEBHOOK_SECRET = "webhook"
SECRET_LENGTHS = (16, 512)
SECRET_AUDIT = "SETNOTICESECRET"  # the audit action of a secret set


def set_webhook_secret(conn: sa.Connection, keyring: KeyRing, secret: str, now: int) -> None:
    """Keep `secret` (encrypted with the key ring) as the webhook's signing key for every node
    on the store; the last one set wins."""
    low, high = SECRET_LENGTHS
    if not low <= len(secret) <= high or not secret.isascii() or not secret.isprintable():
        raise InvalidParameter(
            f"The webhook secret must be {low} to {high} printable ASCII characters."
        )
    conn.execute(sa.delete(notice_secrets).where(notice_secrets.c.name == WEBHOOK_SECRET))
    conn.execute(
        sa.insert(notice_secrets).values(
            name=WEBHOOK_SECRET,
            ciphertext=keyring.encrypt(secret, f"notice-secret:{WEBHOOK_SECRET}"),
            set_time=now,
        )
    )


def secret_set_time(conn: sa.Connection) -> int | None:
    """When the stored webhook secret was set; None when none is."""
    found = conn.execute(
        sa.select(notice_secrets.c.set_time).where(notice_secrets.c.name == WEBHOOK_SECRET)
    ).scalar()
    return None if found is None else int(found)


def webhook_secret(conn: sa.Connection, keyring: KeyRing, config: Config) -> str | None:
    """The key webhooks are signed with: GATEHOUSE_NOTICE_WEBHOOK_SECRET when set, else the
    one kept in the store; None when there is neither."""
    if config.notice_webhook_secret:
        return config.notice_webhook_secret
    blob = conn.execute(
        sa.select(notice_secrets.c.ciphertext).where(notice_secrets.c.name == WEBHOOK_SECRET)
    ).scalar()
    if blob is None:
        return None
    return keyring.decrypt(bytes(blob), f"notice-secret:{WEBHOOK_SECRET}")


NO_SECRET = (
    "no webhook secret: set one with `gatehouse notices set-secret` (kept encrypted in the "
    "store) or GATEHOUSE_NOTICE_WEBHOOK_SECRET"
)
UNREADABLE_SECRET = (
    "the webhook secret kept in the store does not decrypt with this node's key: every node "
    "needs the same GATEHOUSE_SECRET_KEY (or set GATEHOUSE_NOTICE_WEBHOOK_SECRET)"
)


# -- delivery ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delivered:
    sent: int
    failed: int


def deliver_due(
    engine: sa.Engine, config: Config, keyring: KeyRing, now: int, budget: float = 20.0
) -> Delivered:
    """Send the notices due at `now` for at most `budget` seconds (the rest wait for the next
    pass), each claimed first so that one process sends it."""
    started = time.monotonic()
    sent = failed = 0
    configured = channels(config)
    secret: str | None = None
    problem = NO_SECRET  # why a webhook cannot be signed, when it cannot
    if WEBHOOK in configured:
        with engine.connect() as conn:
            try:
                secret = webhook_secret(conn, keyring, config)
            except InvalidTag:
                problem = UNREADABLE_SECRET
    while configured and time.monotonic() - started < budget:
        with engine.connect() as conn:
            due = (
                conn.execute(
                    sa.select(notices.c.id)
                    .where(
                        notices.c.status == PENDING,
                        notices.c.next_attempt <= now,
                        notices.c.claimed_until < now,
                        notices.c.channel.in_(configured),
                    )
                    .order_by(notices.c.id)
                    .limit(BATCH)
                )
                .scalars()
                .all()
            )
        if not due:
            break
        progress = False
        for notice_id in due:
            if time.monotonic() - started >= budget:
                break
            outcome = _deliver_one(engine, config, int(notice_id), now, secret, problem)
            sent += outcome == DELIVERED
            failed += outcome == FAILED
            progress = progress or outcome == DELIVERED
        if not progress:
            break  # only failures (retried later) or notices another sender took
    return Delivered(sent, failed)


def _deliver_one(
    engine: sa.Engine,
    config: Config,
    notice_id: int,
    now: int,
    secret: str | None,
    problem: str,
) -> str | None:
    """Claim and send one notice; `secret` signs a webhook — without one, the webhook fails
    with `problem`."""
    with engine.begin() as conn:
        claimed = conn.execute(
            sa.update(notices)
            .where(
                notices.c.id == notice_id,
                notices.c.status == PENDING,
                notices.c.claimed_until < now,
            )
            .values(claimed_until=now + CLAIM_FOR)
        ).rowcount
        if not claimed:
            return None  # another sender has it
        row = conn.execute(sa.select(notices).where(notices.c.id == notice_id)).one()
    try:
        if row.channel == WEBHOOK:
            error = problem if secret is None else send_webhook(config, secret, row, now)
        else:
            error = send_email(config, row)
    except Exception as exc:  # any failure of one delivery is that notice's alone
        error = f"{type(exc).__name__}: {exc}"[:500]
    attempts = int(row.attempts) + 1
    with engine.begin() as conn:
        if error is None:
            conn.execute(
                sa.update(notices)
                .where(notices.c.id == notice_id)
                .values(status=DELIVERED, attempts=attempts, delivered_time=now, last_error=None)
            )
            return DELIVERED
        given_up = attempts >= MAX_ATTEMPTS
        conn.execute(
            sa.update(notices)
            .where(notices.c.id == notice_id)
            .values(
                status=FAILED if given_up else PENDING,
                attempts=attempts,
                next_attempt=now + min(FIRST_RETRY * 2 ** (attempts - 1), MAX_BACKOFF),
                claimed_until=0,
                last_error=error,
            )
        )
    log.warning(
        "notice %d (%s by %s) failed%s: %s",
        notice_id, row.event, row.channel, ", given up" if given_up else "", error,
    )  # fmt: skip
    return FAILED


def body_of(row: Any) -> bytes:
    """What is POSTed: the stored payload with the notice's id."""
    payload = json.loads(row.payload)
    payload["id"] = int(row.id)
    return json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `Gatehouse-Signature` header: `t=<Unix time>,v1=<hex HMAC-SHA256 of "t." + body>`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def send_webhook(config: Config, secret: str, row: Any, now: int) -> str | None:
    """POST the notice; None when the receiver took it (2xx), else why not."""
    assert config.notice_webhook_url
    body = body_of(row)
    response = httpx.post(
        config.notice_webhook_url,
        content=body,
        headers={
            "Content-Type": "application/json",
            "User-Agent": "gatehouse-notices",
            "Gatehouse-Event": str(row.event),
            "Gatehouse-Notice-Id": str(row.id),
            SIGNATURE_HEADER: signature(secret, now, body),
        },
        timeout=TIMEOUT,
        follow_redirects=False,
    )
    if 200 <= response.status_code < 300:
        return None
    return f"the receiver answered HTTP {response.status_code}"


def _subject(row: Any) -> str:
    name = f" “{row.token_name}” of {row.owner}" if row.token_name else ""
    return {
        EXPIRING: f"[gatehouse] API token{name} expires soon",
        NEW_ADDRESS: f"[gatehouse] API token{name} used from a new address",
        UNUSED: f"[gatehouse] API token{name} unused",
        TEST: "[gatehouse] test notice",
    }.get(str(row.event), f"[gatehouse] {row.event}")


def message_of(config: Config, row: Any) -> EmailMessage:
    payload = json.loads(row.payload)
    message = EmailMessage()
    sender = config.notice_email_from or f"gatehouse@{config.server_hostname}"
    message["From"] = sender
    message["To"] = ", ".join(str(row.recipients).split(","))
    message["Subject"] = _subject(row)
    message["Date"] = formatdate(int(row.created_time), usegmt=True)
    message["Message-ID"] = make_msgid(f"notice-{row.id}", sender.rpartition("@")[2] or None)
    message["X-Gatehouse-Event"] = str(row.event)
    lines = [payload["message"], ""]
    token = payload.get("token")
    if token:
        lines.append(f"Token: {token['name']} ({token['service']}) of {token['user']}")
        if payload.get("description"):
            lines.append(f"Description: {payload['description']}")
    lines += ["", f"— gatehouse on {payload['server']} (notice {row.id})"]
    message.set_content("\n".join(lines))
    return message


def send_email(config: Config, row: Any) -> str | None:
    """Mail the notice through the configured SMTP server; None when it was accepted."""
    assert config.notice_smtp_host
    context = ssl.create_default_context(
        cafile=str(config.notice_smtp_ca_file) if config.notice_smtp_ca_file else None
    )
    host, port = config.notice_smtp_host, config.smtp_port
    smtp: smtplib.SMTP
    if config.notice_smtp_security == "ssl":
        smtp = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=TIMEOUT)
    with smtp:
        if config.notice_smtp_security == "starttls":
            smtp.starttls(context=context)
        if config.notice_smtp_user and config.notice_smtp_password:
            smtp.login(config.notice_smtp_user, config.notice_smtp_password)
        refused = smtp.send_message(message_of(config, row))
    if refused:
        return "refused by the SMTP server for " + ", ".join(sorted(refused))
    return None


# -- reading ----------------------------------------------------------------------------------


def listed(conn: sa.Connection, status: str | None, limit: int) -> list[dict[str, Any]]:
    """The queue, newest first: `status` one of STATUSES, or None for all."""
    query = sa.select(notices).order_by(notices.c.id.desc()).limit(limit)
    if status is not None:
        query = query.where(notices.c.status == status)
    return [
        {
            "id": int(r.id),
            "event": r.event,
            "channel": r.channel,
            "user": r.owner,
            "token_name": r.token_name,
            "recipients": None if r.recipients is None else str(r.recipients).split(","),
            "created": int(r.created_time),
            "status": r.status,
            "attempts": int(r.attempts),
            "next_attempt": int(r.next_attempt) if r.status == PENDING else None,
            "delivered": None if r.delivered_time is None else int(r.delivered_time),
            "last_error": r.last_error,
            "message": json.loads(r.payload)["message"],
        }
        for r in conn.execute(query)
    ]
