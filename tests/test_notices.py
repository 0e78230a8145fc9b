"""Token notices (issue 17 part 4, docs/governance.md#4-notices), delivered to real receivers:
an HTTP server on loopback that checks the HMAC signature, and a real SMTP server (aiosmtpd,
STARTTLS and AUTH) — on both stores. Tokens are made and used through the running server; the
notice passes run in this process on the same store, with a clock the tests move."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import hashlib
import hmac
import json
import os
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from conftest import BIN, Server, another_node, free_port
from gatehouse import tls
from gatehouse.config import Config
from gatehouse.core import Gatehouse
from gatehouse.domain import notices
from gatehouse.domain.accesshash import KeyRing
from gatehouse.store.schema import notices as notices_table
from gatehouse.store.schema import token_addresses

DAY = 86400
SECRET = "whsec-" + uuid.uuid4().hex  # the webhook's signing key
SMTP_USER, SMTP_PASSWORD = "mailer", "smtp-" + uuid.uuid4().hex
OPERATOR = "ops@example.net"


# -- the receivers ----------------------------------------------------------------------------


@dataclass
class Hook:
    """A webhook receiver on loopback: answers each POST about a token named in `answers` with
    the next status listed for it, anything else 200 (other tests' notices, on the shared
    store, never take a planned failure), after `delay` seconds; records what it got."""

    port: int
    got: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    answers: dict[str, list[int]] = field(default_factory=dict)
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/gatehouse-notices"

    def bodies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(body) for _, body in self.got]


@pytest.fixture
def hook() -> Iterator[Hook]:
    state = Hook(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(state.delay)
            with state.lock:
                state.got.append((dict(self.headers.items()), body))
                name = str((json.loads(body).get("token") or {}).get("name"))
                planned = state.answers.get(name) or [200]
                status = planned.pop(0)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


def verify(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """What a receiver does (docs/governance.md): recompute the HMAC over "t." + body."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256)
    fresh = abs(time.time() - int(parts["t"])) <= tolerance
    return fresh and hmac.compare_digest(expected.hexdigest(), parts["v1"])


def documented_verify() -> Any:
    """The receiver's check as docs/governance.md shows it, run as written."""
    text = (Path(__file__).parent.parent / "docs" / "governance.md").read_text()
    after = text.split("**Verifying the signature**", 1)[1]
    code = after.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # noqa: S102 — our own documentation's example
    return namespace["verify"]


@dataclass
class Mailbox:
    port: int
    ca_file: Path
    messages: list[Envelope] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    def texts(self) -> list[str]:
        return [bytes(m.content).decode() for m in self.messages]  # type: ignore[arg-type]


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[Mailbox]:
    """A real SMTP server on loopback that requires STARTTLS before AUTH."""
    cert, key = tmp_path / "smtp.pem", tmp_path / "smtp.key"
    tls.ensure_self_signed(cert, key)
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    box = Mailbox(port=free_port(), ca_file=cert)

    class Handler:
        async def handle_DATA(self, server: object, session: Session, envelope: Envelope) -> str:
            box.messages.append(envelope)
            return "250 OK"

    def authenticate(
        server: object, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login == SMTP_USER.encode()
            and data.password == SMTP_PASSWORD.encode()
        )
        if ok:
            box.logins.append(SMTP_USER)
        return AuthResult(success=ok)

    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=box.port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticate,
        auth_require_tls=True,
        auth_required=True,
    )
    controller.start()
    yield box
    controller.stop()


# -- gatehouse in this process, on the server's store ---------------------------------------


@dataclass
class Clock:
    moment: float = field(default_factory=time.time)

    def __call__(self) -> float:
        return self.moment

    def move(self, seconds: float) -> None:
        self.moment += seconds


def local(server: Server, tmp_path: Path, clock: Clock, **settings: Any) -> Gatehouse:
    """A gatehouse in this process on the server's store, with its key ring (as every node on
    a store has) and the notice settings under test."""
    KeyRing(server.data_dir).encrypt("", "made if missing")
    config = Config(
        data_dir=tmp_path / "local",
        database_url=server.db_url,
        secret_key=(server.data_dir / "secret.key").read_text().strip(),
        **settings,
    )
    return Gatehouse(config, clock=clock, migrate_store=False)


def webhook_settings(hook: Hook) -> dict[str, Any]:
    return {"notice_webhook_url": hook.url, "notice_webhook_secret": SECRET}


def mail_settings(box: Mailbox) -> dict[str, Any]:
    return {
        "notice_smtp_host": "127.0.0.1",
        "notice_smtp_port": box.port,
        "notice_smtp_security": "starttls",
        "notice_smtp_user": SMTP_USER,
        "notice_smtp_password": SMTP_PASSWORD,
        "notice_smtp_ca_file": box.ca_file,
        "notice_email_to": (OPERATOR,),
    }


def run(gh: Gatehouse) -> notices.Delivered:
    """One pass, as `gatehouse serve` runs it, at the local clock's time."""
    with gh.engine.begin() as conn:
        notices.collect(conn, gh.config, gh.now())
    return notices.deliver_due(gh.engine, gh.config, gh.keyring, gh.now())


def mine(hook: Hook, name: str) -> list[dict[str, Any]]:
    return [b for b in hook.bodies() if (b.get("token") or {}).get("name") == name]


def fresh() -> str:
    return f"ntc-{uuid.uuid4().hex[:10]}"


def rows(gh: Gatehouse, name: str) -> list[Any]:
    with gh.engine.connect() as conn:
        return list(
            conn.execute(sa.select(notices_table).where(notices_table.c.token_name == name))
        )


# -- expiry -----------------------------------------------------------------------------------


def test_expiry_notices_go_at_30_7_and_1_days_each_once(
    server: Server, hook: Hook, tmp_path: Path
) -> None:
    name = fresh()
    expires = int(time.time()) + 40 * DAY
    server.ok("api_token_create", params={"token_name": name, "expires_at": expires})
    clock = Clock()
    gh = local(server, tmp_path, clock, **webhook_settings(hook))
    try:
        run(gh)
        assert mine(hook, name) == []  # 40 days ahead: nothing yet
        sent = []
        for days_left in (29.5, 29, 6.5, 6, 0.5, 0.25):
            clock.moment = expires - days_left * DAY
            run(gh)
            run(gh)  # a second pass at the same time queues nothing more
            sent = mine(hook, name)
        assert [b["days"] for b in sent] == [30, 7, 1]
        assert {b["event"] for b in sent} == {notices.EXPIRING}
        assert sent[0]["token"] == {"name": name, "service": "whostmgr", "user": "root"}
        assert sent[0]["expires_at"] == expires
        assert "expires on" in sent[0]["message"] and "in about 30 days" in sent[0]["message"]
        assert len({b["id"] for b in sent}) == 3
        assert all(r.status == notices.DELIVERED for r in rows(gh, name))
    finally:
        gh.close()


def test_a_token_made_inside_the_window_gets_only_the_nearest_notice(
    server: Server, hook: Hook, tmp_path: Path
) -> None:
    name = fresh()
    server.ok(
        "api_token_create", params={"token_name": name, "expires_at": int(time.time()) + 5 * DAY}
    )
    gh = local(server, tmp_path, Clock(), **webhook_settings(hook))
    try:
        run(gh)
        assert [b["days"] for b in mine(hook, name)] == [7]
    finally:
        gh.close()


def test_the_webhook_is_signed_and_verifiable(server: Server, hook: Hook, tmp_path: Path) -> None:
    name = fresh()
    server.ok("api_token_create", params={"token_name": name, "expires_at": int(time.time()) + DAY})
    gh = local(server, tmp_path, Clock(), **webhook_settings(hook))
    try:
        run(gh)
    finally:
        gh.close()
    headers, body = next((h, b) for h, b in hook.got if json.loads(b)["token"]["name"] == name)
    assert headers["Content-Type"] == "application/json"
    assert headers["Gatehouse-Event"] == notices.EXPIRING
    assert headers["Gatehouse-Notice-Id"] == str(json.loads(body)["id"])
    assert verify(SECRET, headers["Gatehouse-Signature"], body)
    assert documented_verify()(SECRET, headers["Gatehouse-Signature"], body)
    assert not verify("another-secret-0123456789", headers["Gatehouse-Signature"], body)
    assert not verify(SECRET, headers["Gatehouse-Signature"], body.replace(b"root", b"toor"))


# -- retries ----------------------------------------------------------------------------------


def test_a_failed_delivery_is_retried_with_backoff(
    server: Server, hook: Hook, tmp_path: Path
) -> None:
    name = fresh()
    server.ok("api_token_create", params={"token_name": name, "expires_at": int(time.time()) + DAY})
    hook.answers = {name: [500, 503]}
    clock = Clock()
    gh = local(server, tmp_path, clock, **webhook_settings(hook))
    try:
        run(gh)
        [row] = rows(gh, name)
        assert (row.status, row.attempts) == (notices.PENDING, 1)
        assert row.last_error == "the receiver answered HTTP 500"
        assert row.next_attempt == gh.now() + notices.FIRST_RETRY
        clock.move(notices.FIRST_RETRY - 1)
        run(gh)  # not yet due
        assert rows(gh, name)[0].attempts == 1
        clock.move(1)
        run(gh)  # 503: the wait doubles
        [row] = rows(gh, name)
        assert (row.attempts, row.next_attempt) == (2, gh.now() + 2 * notices.FIRST_RETRY)
        clock.move(2 * notices.FIRST_RETRY)
        run(gh)
        [row] = rows(gh, name)
        assert (row.status, row.attempts, row.last_error) == (notices.DELIVERED, 3, None)
        bodies = mine(hook, name)
        assert len(bodies) == 3 and len({b["id"] for b in bodies}) == 1  # the same notice
    finally:
        gh.close()


def test_a_notice_is_given_up_after_the_last_try(
    server: Server, hook: Hook, tmp_path: Path
) -> None:
    name = fresh()
    server.ok("api_token_create", params={"token_name": name, "expires_at": int(time.time()) + DAY})
    hook.answers = {name: [500] * notices.MAX_ATTEMPTS}
    clock = Clock()
    gh = local(server, tmp_path, clock, **webhook_settings(hook))
    try:
        for _ in range(notices.MAX_ATTEMPTS):
            run(gh)
            clock.move(notices.MAX_BACKOFF)
        [row] = rows(gh, name)
        assert (row.status, row.attempts) == (notices.FAILED, notices.MAX_ATTEMPTS)
        run(gh)
        assert len(mine(hook, name)) == notices.MAX_ATTEMPTS
        listed = server.ok("gatehouse_list_notices", params={"status": "failed"})["notices"]
        assert any(n["token_name"] == name and n["attempts"] == 10 for n in listed)
    finally:
        gh.close()


# -- a new address ----------------------------------------------------------------------------


def use_from(server: Server, token: str, address: str) -> None:
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(transport=transport, timeout=30) as client:
        response = client.get(
            f"{server.url}/json-api/version",
            params={"api.version": "1"},
            headers={"Authorization": f"whm root:{token}"},
        )
    assert response.json()["metadata"]["result"] == 1, response.text


def test_a_new_address_is_told_once_and_the_first_one_is_not(
    server: Server, hook: Hook, tmp_path: Path
) -> None:
    name = fresh()
    token = server.remember(server.ok("api_token_create", params={"token_name": name})["token"])
    gh = local(server, tmp_path, Clock(), **webhook_settings(hook))
    try:
        use_from(server, token, "127.0.0.1")  # its first address: no news
        for _ in range(3):  # within the minute: recorded at once, told once
            use_from(server, token, "127.0.0.2")
        use_from(server, token, "127.0.0.1")
        run(gh)
        run(gh)
        sent = mine(hook, name)
        assert [(b["event"], b["address"]) for b in sent] == [(notices.NEW_ADDRESS, "127.0.0.2")], (
            sent
        )
        assert "127.0.0.2, an address it had never been used from" in sent[0]["message"]
        with gh.engine.connect() as conn:
            seen = conn.execute(
                sa.select(token_addresses.c.ip, token_addresses.c.pending)
                .join(
                    notices_table,
                    notices_table.c.dedup_key.like(
                        sa.literal("new_address:")
                        + sa.cast(token_addresses.c.token_id, sa.String)
                        + ":%"
                    ),
                )
                .where(notices_table.c.token_name == name)
            ).all()
        assert {ip for ip, _ in seen} == {"127.0.0.1", "127.0.0.2"}
        assert not any(pending for _, pending in seen)
    finally:
        gh.close()


def test_new_addresses_wait_for_a_configured_channel(
    server: Server, hook: Hook, tmp_path: Path
) -> None:
    """A process without a channel leaves the addresses to a process that has one."""
    name = fresh()
    token = server.remember(server.ok("api_token_create", params={"token_name": name})["token"])
    use_from(server, token, "127.0.0.1")
    use_from(server, token, "127.0.0.3")
    bare = local(server, tmp_path / "bare", Clock())
    try:
        assert notices.collect_if_due(bare.engine, bare.config, "bare", bare.now()) is None
        with bare.engine.begin() as conn:
            assert notices.collect(conn, bare.config, bare.now()) == 0
    finally:
        bare.close()
    gh = local(server, tmp_path, Clock(), **webhook_settings(hook))
    try:
        run(gh)
        assert [b["address"] for b in mine(hook, name)] == ["127.0.0.3"]
    finally:
        gh.close()


# -- disuse -----------------------------------------------------------------------------------


def test_an_unused_token_is_told_once_per_spell_of_disuse(
    server: Server, hook: Hook, tmp_path: Path
) -> None:
    name = fresh()
    server.ok("api_token_create", params={"token_name": name})
    clock = Clock()
    gh = local(server, tmp_path, clock, notice_unused_days=30, **webhook_settings(hook))
    try:
        run(gh)
        assert mine(hook, name) == []
        clock.move(31 * DAY)
        run(gh)
        clock.move(DAY)
        run(gh)
        sent = mine(hook, name)
        assert [(b["event"], b["days"]) for b in sent] == [(notices.UNUSED, 30)]
        assert "has not been used for 30 days or more (it was never used)" in sent[0]["message"]
    finally:
        gh.close()


# -- e-mail -----------------------------------------------------------------------------------


def test_notices_are_mailed_over_starttls_with_auth(
    server: Server, mailbox: Mailbox, tmp_path: Path
) -> None:
    name = fresh()
    server.ok(
        "api_token_create",
        params={
            "token_name": name,
            "expires_at": int(time.time()) + 3 * DAY,
            "description": "billing on web1",
        },
    )
    gh = local(server, tmp_path, Clock(), **mail_settings(mailbox))
    try:
        delivered = run(gh)
        assert delivered.failed == 0
        [row] = rows(gh, name)
        assert (row.status, row.channel, row.recipients) == ("delivered", "email", OPERATOR)
    finally:
        gh.close()
    [message] = [m for m in mailbox.messages if name in bytes(m.content).decode()]  # type: ignore[arg-type]
    assert message.rcpt_tos == [OPERATOR]
    parsed = email.message_from_bytes(bytes(message.content), policy=email.policy.default)  # type: ignore[arg-type]
    assert parsed["Subject"] == f"[gatehouse] API token “{name}” of root expires soon"
    text = parsed.get_body().get_content()  # type: ignore[union-attr]
    assert f"The WHM API token “{name}” of root expires on" in text
    assert "Description: billing on web1" in text
    assert mailbox.logins == [SMTP_USER] * len(mailbox.logins) and mailbox.logins


def test_an_owner_with_a_contact_address_is_mailed_too(
    server: Server, mailbox: Mailbox, tmp_path: Path
) -> None:
    user, password = server.account()
    contact = f"{user}@owner.example.org"
    server.ok("modifyacct", params={"user": user, "contactemail": contact})
    name = fresh()
    made = server.uapi(
        user,
        "Tokens",
        "create_full_access",
        auth=_basic(user, password),
        name=name,
        expires_at=str(int(time.time()) + DAY),
    ).json()
    assert made["status"] == 1, made
    server.remember(made["data"]["token"])
    gh = local(server, tmp_path, Clock(), **mail_settings(mailbox))
    try:
        run(gh)
    finally:
        gh.close()
    [message] = [m for m in mailbox.messages if name in bytes(m.content).decode()]  # type: ignore[arg-type]
    assert sorted(message.rcpt_tos) == sorted([OPERATOR, contact])


def _basic(user: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_a_wrong_smtp_password_fails_and_is_retried(
    server: Server, mailbox: Mailbox, tmp_path: Path
) -> None:
    name = fresh()
    server.ok("api_token_create", params={"token_name": name, "expires_at": int(time.time()) + DAY})
    wrong = {**mail_settings(mailbox), "notice_smtp_password": "not-the-password"}
    gh = local(server, tmp_path, Clock(), **wrong)
    try:
        assert run(gh).failed >= 1
        [row] = rows(gh, name)
        assert (row.status, row.attempts) == (notices.PENDING, 1) and row.last_error
        assert mailbox.messages == [] and mailbox.logins == []
        assert "not-the-password" not in row.last_error
    finally:
        gh.close()


# -- exactly once, several processes ---------------------------------------------------------


def test_two_processes_deliver_each_notice_exactly_once(
    server: Server, hook: Hook, tmp_path: Path
) -> None:
    hook.delay = 0.02  # slow enough for the two to overlap
    gh = local(server, tmp_path, Clock(), **webhook_settings(hook))
    try:
        with gh.engine.begin() as conn:
            ids = [
                i
                for n in range(30)
                for i in notices.queue_test(conn, gh.config, gh.now(), f"{uuid.uuid4().hex}{n}")
            ]
    finally:
        gh.close()
    env = {
        **os.environ,
        "GATEHOUSE_DATA_DIR": str(tmp_path / "cli"),
        "GATEHOUSE_DATABASE_URL": server.db_url,
        "GATEHOUSE_NOTICE_WEBHOOK_URL": hook.url,
        "GATEHOUSE_NOTICE_WEBHOOK_SECRET": SECRET,
    }
    both = [
        subprocess.Popen(
            [str(BIN), "notices", "run-now"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in both]
    assert all(p.returncode == 0 for p in both), outputs
    received = [b["id"] for b in hook.bodies() if b["id"] in ids]
    assert sorted(received) == sorted(ids)  # every one, none twice
    sent = [int(out.split("\n")[-2].split()[0]) for out, _ in outputs]
    assert sum(sent) >= len(ids)
    for out, err in outputs:
        assert SECRET not in out + err


# -- management -------------------------------------------------------------------------------


def test_the_queue_is_listed_and_bad_input_refused(server: Server) -> None:
    data = server.ok("gatehouse_list_notices", params={"limit": "5"})
    assert data["channels"] == [] and len(data["notices"]) <= 5
    for params, words in (
        ({"status": "sent"}, "“status” must be pending, delivered, failed or all"),
        ({"limit": "0"}, "“limit” must be a whole number from 1 to 1000"),
        ({"limit": "x"}, "“limit” must be a whole number from 1 to 1000"),
    ):
        response = server.get("gatehouse_list_notices", params=params)
        assert response.status_code == 200
        assert response.json()["metadata"]["result"] == 0
        assert words in response.json()["metadata"]["reason"]


def test_a_test_notice_needs_a_channel(server: Server) -> None:
    response = server.get("gatehouse_send_test_notice")
    assert response.status_code == 200
    meta = response.json()["metadata"]
    assert meta["result"] == 0 and "No notice channel is configured" in meta["reason"]


def test_the_cli_sends_a_test_notice_to_both_channels(
    server: Server, hook: Hook, mailbox: Mailbox, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "GATEHOUSE_DATA_DIR": str(tmp_path / "cli"),
        "GATEHOUSE_DATABASE_URL": server.db_url,
        "GATEHOUSE_NOTICE_WEBHOOK_URL": hook.url,
        "GATEHOUSE_NOTICE_WEBHOOK_SECRET": SECRET,
        "GATEHOUSE_NOTICE_SMTP_HOST": "127.0.0.1",
        "GATEHOUSE_NOTICE_SMTP_PORT": str(mailbox.port),
        "GATEHOUSE_NOTICE_SMTP_USER": SMTP_USER,
        "GATEHOUSE_NOTICE_SMTP_PASSWORD": SMTP_PASSWORD,
        "GATEHOUSE_NOTICE_SMTP_CA_FILE": str(mailbox.ca_file),
        "GATEHOUSE_NOTICE_EMAIL_TO": OPERATOR,
    }
    result = _cli(env, "notices", "send-test")
    assert result.returncode == 0, result.stderr
    assert "by webhook: delivered" in result.stdout and "by email: delivered" in result.stdout
    assert any(b["event"] == notices.TEST for b in hook.bodies())
    assert any("[gatehouse] test notice" in t for t in mailbox.texts())
    listed = _cli(env, "notices", "list", "--json")
    assert listed.returncode == 0
    assert any(
        n["event"] == "test" and n["status"] == "delivered" for n in json.loads(listed.stdout)
    )
    for out in (result, listed):
        assert SECRET not in out.stdout + out.stderr
        assert SMTP_PASSWORD not in out.stdout + out.stderr


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


# -- settings and secrets ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"GATEHOUSE_NOTICE_WEBHOOK_URL": "ftp://example.net/"},
            "GATEHOUSE_NOTICE_WEBHOOK_URL must be an http:// or https:// URL, not 'ftp://",
        ),
        (
            {"GATEHOUSE_NOTICE_WEBHOOK_SECRET": "too-short"},
            "GATEHOUSE_NOTICE_WEBHOOK_SECRET must be at least 16 characters",
        ),
        (
            {"GATEHOUSE_NOTICE_SMTP_SECURITY": "tls"},
            "GATEHOUSE_NOTICE_SMTP_SECURITY must be starttls, ssl or none, not 'tls'",
        ),
        ({"GATEHOUSE_NOTICE_SMTP_PORT": "smtp"}, "GATEHOUSE_NOTICE_SMTP_PORT: “smtp” is not"),
        (
            {"GATEHOUSE_NOTICE_EXPIRY_DAYS": "30,seven"},
            "GATEHOUSE_NOTICE_EXPIRY_DAYS must be whole numbers of days from 1 to 3650",
        ),
        ({"GATEHOUSE_NOTICE_EMAIL_TO": "ops"}, "GATEHOUSE_NOTICE_EMAIL_TO: 'ops' is not an e-mail"),
        (
            {
                "GATEHOUSE_NOTICE_SMTP_SECURITY": "none",
                "GATEHOUSE_NOTICE_SMTP_USER": "u",
                "GATEHOUSE_NOTICE_SMTP_PASSWORD": "p-secret-value",
            },
            "GATEHOUSE_NOTICE_SMTP_PASSWORD is sent only over TLS",
        ),
    ],
)
def test_a_bad_notice_setting_is_one_line_naming_it(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    result = _cli({**os.environ, "GATEHOUSE_DATA_DIR": str(tmp_path), **env}, "notices", "list")
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "p-secret-value" not in result.stderr


def test_no_secret_rests_in_the_store_or_the_config_repr(
    server: Server, hook: Hook, mailbox: Mailbox, tmp_path: Path
) -> None:
    name = fresh()
    token = server.remember(
        server.ok(
            "api_token_create",
            params={"token_name": name, "expires_at": int(time.time()) + DAY},
        )["token"]
    )
    settings = {**webhook_settings(hook), **mail_settings(mailbox)}
    gh = local(server, tmp_path, Clock(), **settings)
    try:
        run(gh)
        assert SECRET not in repr(gh.config) and SMTP_PASSWORD not in repr(gh.config)
        with gh.engine.connect() as conn:
            stored = [tuple(r) for r in conn.execute(sa.select(notices_table))]
    finally:
        gh.close()
    text = repr(stored)
    assert name in text
    for secret in (SECRET, SMTP_PASSWORD, token):
        assert secret not in text
    body = next(b for h, b in hook.got if name.encode() in b)
    assert token.encode() not in body and SECRET.encode() not in body


def test_settings_replace_keeps_secrets_out_of_repr() -> None:
    config = dataclasses.replace(
        Config(), notice_webhook_secret="s" * 20, notice_smtp_password="p" * 20
    )
    assert "s" * 20 not in repr(config) and "p" * 20 not in repr(config)


def test_a_serving_node_delivers_by_itself_and_logs_no_secret(
    server: Server, hook: Hook, mailbox: Mailbox, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """`gatehouse serve` with notices configured: a test notice asked for over the API is
    delivered by the server's own loop; a failing e-mail (a wrong password) is logged with
    its error, and neither the webhook secret nor the SMTP password reaches the log."""
    wrong_password = "smtp-wrong-" + uuid.uuid4().hex
    env = {
        "GATEHOUSE_NOTICE_WEBHOOK_URL": hook.url,
        "GATEHOUSE_NOTICE_WEBHOOK_SECRET": SECRET,
        "GATEHOUSE_NOTICE_SMTP_HOST": "127.0.0.1",
        "GATEHOUSE_NOTICE_SMTP_PORT": str(mailbox.port),
        "GATEHOUSE_NOTICE_SMTP_USER": SMTP_USER,
        "GATEHOUSE_NOTICE_SMTP_PASSWORD": wrong_password,
        "GATEHOUSE_NOTICE_SMTP_CA_FILE": str(mailbox.ca_file),
        "GATEHOUSE_NOTICE_EMAIL_TO": OPERATOR,
    }
    with another_node(server, tmp_path_factory, "notices", env=env) as node:
        ids = node.ok("gatehouse_send_test_notice")["ids"]
        assert len(ids) == 2
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            listed = {n["id"]: n for n in node.ok("gatehouse_list_notices")["notices"]}
            if all(listed[i]["attempts"] >= 1 for i in ids):
                break
            time.sleep(0.5)
        by_channel = {listed[i]["channel"]: listed[i] for i in ids}
        assert by_channel["webhook"]["status"] == "delivered"
        assert by_channel["email"]["status"] == "pending" and by_channel["email"]["last_error"]
        webhook_id = by_channel["webhook"]["id"]
        assert [b["event"] for b in hook.bodies() if b["id"] == webhook_id] == ["test"]
        log = node.log_path.read_text()
    assert f"notice {by_channel['email']['id']} (test by email) failed" in log
    for secret in (SECRET, wrong_password, SMTP_PASSWORD):
        assert secret not in log


@pytest.mark.parametrize("security", ["ssl", "none"])
def test_mail_over_implicit_tls_or_to_a_local_relay(
    server: Server, tmp_path: Path, security: str
) -> None:
    """`ssl`: TLS from the first byte (port 465's way), with AUTH; `none`: a relay on this
    machine, no TLS and no AUTH."""
    import ssl

    cert, key = tmp_path / "smtp.pem", tmp_path / "smtp.key"
    tls.ensure_self_signed(cert, key)
    got: list[Envelope] = []
    logins: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: object, session: Session, envelope: Envelope) -> str:
            got.append(envelope)
            return "250 OK"

    def accept(*args: Any) -> AuthResult:
        logins.append(args[4])
        return AuthResult(success=True)

    port = free_port()
    options: dict[str, Any] = {}
    if security == "ssl":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        options = {
            "ssl_context": context,
            "authenticator": accept,
            # aiosmtpd counts only STARTTLS as TLS; this connection is TLS from the start.
            "auth_require_tls": False,
        }
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, **options)
    controller.start()
    name = fresh()
    server.ok("api_token_create", params={"token_name": name, "expires_at": int(time.time()) + DAY})
    settings: dict[str, Any] = {
        "notice_smtp_host": "127.0.0.1",
        "notice_smtp_port": port,
        "notice_smtp_security": security,
        "notice_email_to": (OPERATOR,),
        "notice_email_from": "gatehouse@notices.example.net",
    }
    if security == "ssl":
        settings |= {
            "notice_smtp_ca_file": cert,
            "notice_smtp_user": SMTP_USER,
            "notice_smtp_password": SMTP_PASSWORD,
        }
    gh = local(server, tmp_path, Clock(), **settings)
    try:
        run(gh)
        assert rows(gh, name)[0].status == notices.DELIVERED
    finally:
        gh.close()
        controller.stop()
    [message] = [m for m in got if name in bytes(m.content).decode()]  # type: ignore[arg-type]
    assert message.mail_from == "gatehouse@notices.example.net"
    assert message.rcpt_tos == [OPERATOR]
    # Other tests' tokens on the session's store may be due a notice too: one login per
    # message sent over `ssl`, none to the relay.
    if security == "ssl":
        assert 1 <= len(logins) <= len(got)
    else:
        assert logins == []


def test_the_webhook_secret_kept_in_the_store_signs_for_every_node(
    server: Server, hook: Hook, tmp_path: Path
) -> None:
    """Without GATEHOUSE_NOTICE_WEBHOOK_SECRET a webhook waits for a secret (retried, with the
    reason); `gatehouse notices set-secret` keeps one encrypted in the store, and a node
    without the setting signs with it; the setting, where given, takes precedence."""
    name = fresh()
    server.ok("api_token_create", params={"token_name": name, "expires_at": int(time.time()) + DAY})
    clock = Clock()
    gh = local(server, tmp_path, clock, notice_webhook_url=hook.url)
    stored = "stored-" + uuid.uuid4().hex
    try:
        with gh.engine.connect() as conn:
            already = notices.secret_set_time(conn) is not None
        if not already:  # the store's first: nothing is sent unsigned
            run(gh)
            [row] = rows(gh, name)
            assert (row.status, row.last_error) == (notices.PENDING, notices.NO_SECRET)
            assert mine(hook, name) == []
        result = server.cli("notices", "set-secret", stdin=stored + "\n")
        assert "The webhook secret is set" in result.stdout and stored not in result.stdout
        clock.move(notices.FIRST_RETRY)
        run(gh)
        [row] = rows(gh, name)
        assert row.status == notices.DELIVERED
        with gh.engine.connect() as conn:
            assert stored not in repr(local_dump(conn))
    finally:
        gh.close()
    headers, body = next((h, b) for h, b in hook.got if json.loads(b)["token"]["name"] == name)
    assert verify(stored, headers["Gatehouse-Signature"], body)
    # A node with another key ring cannot read it, and says why.
    import base64
    import secrets as secrets_mod

    alien = Gatehouse(
        Config(
            data_dir=tmp_path / "alien",
            database_url=server.db_url,
            secret_key=base64.urlsafe_b64encode(secrets_mod.token_bytes(32)).decode(),
            notice_webhook_url=hook.url,
        ),
        migrate_store=False,
    )
    try:
        with alien.engine.begin() as conn:
            [test_id] = notices.queue_test(conn, alien.config, alien.now(), uuid.uuid4().hex)
        notices.deliver_due(alien.engine, alien.config, alien.keyring, alien.now())
        with alien.engine.connect() as conn:
            row = conn.execute(sa.select(notices_table).where(notices_table.c.id == test_id)).one()
        assert (row.status, row.last_error) == (notices.PENDING, notices.UNREADABLE_SECRET)
    finally:
        alien.close()
    generated = server.cli("notices", "set-secret", "--generate")
    secret = generated.stdout.strip()
    assert len(secret) == 64 and "The webhook secret is set" in generated.stderr
    refused = server.cli("notices", "set-secret", stdin="short\n", check=False)
    assert refused.returncode == 1
    assert "must be 16 to 512 printable ASCII characters" in refused.stderr


def local_dump(conn: sa.Connection) -> list[Any]:
    from gatehouse.store.schema import metadata

    return [tuple(r) for table in metadata.sorted_tables for r in conn.execute(sa.select(table))]


def test_a_cpanel_token_from_a_new_address_is_told_too(
    server: Server, hook: Hook, tmp_path: Path
) -> None:
    user, password = server.account()
    name = fresh()
    made = server.uapi(
        user, "Tokens", "create_full_access", auth=_basic(user, password), name=name
    ).json()
    token = server.remember(made["data"]["token"])
    for address in ("127.0.0.1", "127.0.0.4"):
        transport = httpx.HTTPTransport(local_address=address)
        with httpx.Client(transport=transport, timeout=30) as client:
            response = client.get(
                f"{server.cpanel_url}/execute/DomainInfo/list_domains",
                headers={"Authorization": f"cpanel {user}:{token}"},
            )
        assert response.json()["status"] == 1, response.text
    gh = local(server, tmp_path, Clock(), **webhook_settings(hook))
    try:
        run(gh)
    finally:
        gh.close()
    [sent] = mine(hook, name)
    assert sent["token"] == {"name": name, "service": "cpanel", "user": user}
    assert (sent["event"], sent["address"]) == (notices.NEW_ADDRESS, "127.0.0.4")
    assert sent["message"].startswith(f"The cPanel API token “{name}” of {user} was used from")


@pytest.mark.parametrize(("thresholds", "told"), [((7,), [7]), ((3,), []), ((14, 6), [6])])
def test_the_expiry_thresholds_are_a_setting(
    server: Server, hook: Hook, tmp_path: Path, thresholds: tuple[int, ...], told: list[int]
) -> None:
    name = fresh()
    server.ok(
        "api_token_create",
        params={"token_name": name, "expires_at": int(time.time()) + 5 * DAY + 3600},
    )
    gh = local(server, tmp_path, Clock(), notice_expiry_days=thresholds, **webhook_settings(hook))
    try:
        run(gh)
        run(gh)
    finally:
        gh.close()
    assert [b["days"] for b in mine(hook, name)] == told


def test_a_channel_added_later_gets_the_notices_still_due(
    server: Server, hook: Hook, mailbox: Mailbox, tmp_path: Path
) -> None:
    name = fresh()
    server.ok("api_token_create", params={"token_name": name, "expires_at": int(time.time()) + DAY})
    webhook_only = local(server, tmp_path / "one", Clock(), **webhook_settings(hook))
    try:
        run(webhook_only)
    finally:
        webhook_only.close()
    both = local(
        server, tmp_path / "two", Clock(), **webhook_settings(hook), **mail_settings(mailbox)
    )
    try:
        run(both)
        assert sorted(r.channel for r in rows(both, name)) == ["email", "webhook"]
    finally:
        both.close()
    assert len(mine(hook, name)) == 1
    assert len([t for t in mailbox.texts() if name in t]) == 1
