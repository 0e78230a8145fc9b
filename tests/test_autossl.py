"""AutoSSL end to end (docs/ssl.md#autossl): `gatehouse serve` orders certificates from Pebble,
a real ACME test CA, for every hosted domain — main domains and subdomains of two accounts —
validates them by DNS-01 through gatehouse's own zones (Pebble asks the built-in nameserver,
`pebble -dnsserver`), installs them as installssl does (the key encrypted, the files written,
the reload command run), and records what it could not do per domain.

Two AutoSSL nodes share one store of this module's own (SQLite or PostgreSQL): a check asked
for is run by whichever holds the lease, and no certificate is ordered twice. A renewal is
triggered by time: the provider run in this process with a clock moved to within the renewal
window of the certificates' expiry replaces them (and their files, atomically).

Needs `pebble` and `openssl` (scripts/ensure-test-tools); without them the tests skip, or fail
when CI=true."""

from __future__ import annotations

import base64
import dataclasses
import os
import secrets
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest
import sqlalchemy as sa
from cryptography import x509

from acme_harness import Pebble, Unavailable, free_port, pebble_missing, start_pebble
from conftest import BIN, POSTGRES_URL, Server, run_cli, start_server, stop_server
from gatehouse.config import Config
from gatehouse.domain import autossl, leases
from gatehouse.domain.accesshash import KeyRing
from gatehouse.domain.ssl_files import SslPublisher
from gatehouse.passwords import generate_password
from gatehouse.store import migrate
from gatehouse.store.engine import create
from pages_helpers import log_in

WAIT = 180  # seconds for a check of a few domains against Pebble


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI needs the AutoSSL end-to-end test: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def store_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A store of this module's own: AutoSSL checks every account of its store, and the
    session's has every other test's."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('autossl-db') / 'gatehouse.db'}"
        return
    import psycopg
    from sqlalchemy.engine import make_url

    if not POSTGRES_URL:
        pytest.skip("GATEHOUSE_TEST_POSTGRES_URL is not set")
    admin = POSTGRES_URL.replace("postgresql+psycopg", "postgresql")
    name = f"gh_autossl_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class World:
    nodes: list[Server]
    pebble: Pebble
    secret: str  # the cluster's GATEHOUSE_SECRET_KEY
    env: dict[str, str]

    @property
    def node(self) -> Server:
        return self.nodes[0]

    def ssl_dir(self, node: Server) -> Path:
        return node.data_dir / "ssl"

    def reloaded(self, node: Server) -> Path:
        return node.data_dir / "reloaded"

    def config(self, data_dir: Path) -> Config:
        return Config(
            data_dir=data_dir,
            database_url=self.node.db_url,
            secret_key=self.secret,
            autossl_directory=self.pebble.directory_url,
            autossl_ca_bundle=self.pebble.ca_pem,
            autossl_dns_wait=0,
            autossl_retry=3600,
        )


def _autossl_env(pebble: Pebble, secret: str) -> dict[str, str]:
    return {
        "GATEHOUSE_SECRET_KEY": secret,
        "GATEHOUSE_AUTOSSL_DIRECTORY": pebble.directory_url,
        "GATEHOUSE_AUTOSSL_CA_BUNDLE": str(pebble.ca_pem),
        "GATEHOUSE_AUTOSSL_EMAIL": "hostmaster@example.test",
        "GATEHOUSE_AUTOSSL_DNS_WAIT": "0",
        # No scheduled check during the tests: every check here is asked for.
        "GATEHOUSE_AUTOSSL_INTERVAL": "1000000",
    }


@pytest.fixture(scope="module")
def world(
    store_url: str, backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    missing = pebble_missing()
    if missing:
        _unavailable(missing)
    secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    root_password = generate_password()
    first_dir = tmp_path_factory.mktemp("autossl-a")
    run_cli(
        "init",
        "--root-password-stdin",
        data_dir=first_dir,
        db_url=store_url,
        stdin=root_password + "\n",
    )
    # The first node's ports, its nameserver's among them, are known once it has started:
    # Pebble resolves through that nameserver, and the node is started again with AutoSSL
    # pointing at Pebble (on the same ports).
    probe = start_server(
        first_dir, store_url, backend, root_password, env={"GATEHOUSE_SECRET_KEY": secret}
    )
    stop_server(probe)
    try:
        pebble = start_pebble(tmp_path_factory.mktemp("pebble"), f"127.0.0.1:{probe.dns_port}")
    except Unavailable as exc:
        _unavailable(str(exc))
    env = _autossl_env(pebble, secret)
    nodes: list[Server] = []
    try:
        for index, data_dir in enumerate([first_dir, tmp_path_factory.mktemp("autossl-b")]):
            if index:
                run_cli(
                    "init",
                    "--root-password-stdin",
                    "--if-needed",
                    data_dir=data_dir,
                    db_url=store_url,
                    stdin=root_password + "\n",
                )
            node_env = {
                **env,
                "GATEHOUSE_SSL_RELOAD_COMMAND": f"touch {data_dir / 'reloaded'}",
            }
            node = start_server(
                data_dir,
                store_url,
                backend,
                root_password,
                env=node_env,
                log_name=f"autossl-{index}.log",
                ports_of=probe if index == 0 else None,
            )
            node.remember(root_password)
            nodes.append(node)
        nodes[1]._root_token = nodes[0].root_token
        nodes[1].issued = nodes[0].issued
        yield World(nodes, pebble, secret, env)
    finally:
        for node in nodes:
            stop_server(node)
        pebble.stop()


# -- helpers ----------------------------------------------------------------------------------


def _wait(check: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        time.sleep(0.25)


def _installed(node: Server, domain: str) -> dict[str, Any] | None:
    """What is installed on the domain: its certificate, bundle, key and account."""
    for item in node.ok("fetch_vhost_ssl_components")["components"]:
        if item["servername"] == domain:
            [vhost] = [
                v for v in node.ok("fetch_ssl_vhosts")["vhosts"] if v["servername"] == domain
            ]
            return {
                "cab": item["cabundle"],
                "crt": item["certificate"],
                "key": item["key"],
                "user": vhost["user"],
            }
    return None


def _problems(node: Server, user: str) -> list[dict[str, Any]]:
    data = node.ok("get_autossl_problems_for_user", params={"username": user})
    return list(data["problems_by_domain"])


def _leaf(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def _names(cert: x509.Certificate) -> set[str]:
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(san.get_values_for_type(x509.DNSName))


def _challenge_lines(node: Server, zone: str) -> list[dict[str, Any]]:
    records = node.ok("dumpzone", params={"domain": zone})["zone"][0]["record"]
    return [r for r in records if "_acme-challenge" in str(r.get("name", ""))]


def _not_running(node: Server) -> bool:
    rows = node.sql("SELECT expires FROM leases WHERE name = 'autossl'")
    pending = node.sql("SELECT count(*) FROM autossl_requests")
    return (not rows or int(rows[0][0]) <= time.time()) and int(pending[0][0]) == 0


def _subdomain(node: Server, user: str, password: str, label: str, root: str) -> str:
    token = node.cpanel_token(user, password)
    response = node.uapi(
        user, "SubDomain", "addsubdomain", token=token, domain=label, rootdomain=root
    )
    assert response.json()["status"] == 1, response.text
    return f"{label}.{root}"


# -- the tests --------------------------------------------------------------------------------


def test_every_domain_of_two_accounts_gets_a_certificate_once(world: World) -> None:
    node = world.node
    first, first_password = node.account()
    second, _ = node.account()
    first_domain, second_domain = f"{first}.example.com", f"{second}.example.com"
    sub = _subdomain(node, first, first_password, "shop", first_domain)
    domains = [first_domain, sub, second_domain]

    orders_before = world.pebble.log().count("Added order")
    valid_before = world.pebble.log().count("set VALID by completed challenge")
    # Both nodes are asked at once: both wake, one wins the lease and runs the check.
    for each in world.nodes:
        data = each.ok("start_autossl_check_for_all_users")
        assert isinstance(data["pid"], int) and data["pid"] > 0
    _wait(lambda: all(_installed(node, d) for d in domains), "every domain's certificate")
    _wait(lambda: _not_running(node), "the end of the check")

    root = x509.load_pem_x509_certificate(world.pebble.management("/roots/0").encode())
    for domain in domains:
        info = _installed(node, domain)
        assert info is not None
        leaf = _leaf(info["crt"])
        # Each vhost names its www. alias: the zone template's for the main domains, the
        # record addsubdomain writes for a subdomain (as cPanel's vhost's serveralias).
        assert _names(leaf) == {domain, f"www.{domain}"}
        chain = x509.load_pem_x509_certificates(info["cab"].encode())
        issuer = leaf
        for parent in [*chain, root]:
            issuer.verify_directly_issued_by(parent)
            issuer = parent
        assert info["user"] == (second if domain == second_domain else first)
        node.remember(info["key"])
    # Every challenge record is gone again.
    for zone in (first_domain, second_domain):
        assert _challenge_lines(node, zone) == []
    assert _problems(node, first) == [] and _problems(node, second) == []

    # One order per domain: a certificate stored once, installed once, by one node.
    for domain in domains:
        stored = node.sql(
            "SELECT count(*) FROM ssl_certificates c JOIN ssl_vhosts v ON v.certificate_id = c.id"
            " WHERE v.domain = :d",
            d=domain,
        )
        assert int(stored[0][0]) == 1
        installs = node.sql(
            "SELECT count(*) FROM audit_log WHERE action = 'INSTALLSSL' AND detail LIKE :d",
            d=f"{domain} %",
        )
        assert int(installs[0][0]) == 1, domain
    # Pebble saw exactly one order per domain set, each name validated through the zones.
    log = world.pebble.log()
    assert log.count("Added order") - orders_before == len(domains)
    assert log.count("set VALID by completed challenge") - valid_before == 6  # with www

    # The node that ran the check wrote the files and ran its reload command.
    writers = [n for n in world.nodes if (world.ssl_dir(n) / f"{first_domain}.crt").exists()]
    assert len(writers) >= 1
    writer = writers[0]
    for domain in domains:
        key_file = world.ssl_dir(writer) / f"{domain}.key"
        assert key_file.stat().st_mode & 0o777 == 0o600
        assert "PRIVATE KEY" in key_file.read_text()
    _wait(lambda: world.reloaded(writer).exists(), "the reload command", timeout=20)

    # The keys rest encrypted: the ACME account's and the certificates'.
    for table, column in (("autossl_accounts", "key_ciphertext"), ("ssl_keys", "ciphertext")):
        for (blob,) in node.sql(f"SELECT {column} FROM {table}"):  # noqa: S608
            assert b"PRIVATE KEY" not in bytes(blob)
    assert len(node.sql("SELECT id FROM autossl_accounts")) == 1
    for server in world.nodes:
        assert "PRIVATE KEY" not in server.log_path.read_text()
        # Nothing in the data directory holds a key in plaintext but the web server's copies
        # (<ssl dir>/<domain>.key, mode 0600) and the server's own TLS key: not the SQLite
        # store, not a log, not a temporary file.
        for path in server.data_dir.rglob("*"):
            by_design = (path.parent.name == "ssl" and path.suffix == ".key") or (
                path == server.data_dir / "tls" / "key.pem"
            )
            if path.is_file() and not by_design:
                assert b"PRIVATE KEY" not in path.read_bytes(), path


def test_a_domain_autossl_cannot_secure_is_a_problem_on_record(world: World) -> None:
    node = world.node
    user, password = node.account()
    domain = f"{user}.example.com"
    node.ok("killdns", params={"domain": domain})  # its zone is no longer on this server

    node.ok("start_autossl_check_for_one_user", params={"username": user})
    _wait(lambda: bool(_problems(node, user)), "the problem's record")
    [problem] = _problems(node, user)
    assert problem["domain"] == domain
    assert "is not on this server" in problem["problem"]
    assert problem["time"].endswith("Z") and problem["log"].endswith("Z")
    by_domain = node.ok("get_autossl_problems_for_domain", params={"domain": domain})
    assert by_domain["problems_by_domain"] == [problem]
    assert _installed(node, domain) is None

    # The account sees its own through UAPI, and may ask for a check itself.
    token = node.cpanel_token(user, password)
    listed = node.uapi(user, "SSL", "get_autossl_problems", token=token).json()
    assert listed["status"] == 1
    assert listed["data"] == [
        {"domain": domain, "problem": problem["problem"], "time": problem["time"]}
    ]
    started = node.uapi(user, "SSL", "start_autossl_check", token=token).json()
    assert started["status"] == 1 and started["data"] is None, started
    _wait(lambda: _not_running(node), "the account's check")
    progress = node.uapi(user, "SSL", "is_autossl_check_in_progress", token=token).json()
    assert progress["status"] == 1 and progress["data"] == 0
    audited = node.sql(
        "SELECT count(*) FROM audit_log WHERE action = 'AUTOSSLPROBLEM' AND subject = :u", u=user
    )
    assert int(audited[0][0]) >= 1


def test_excluded_domains_are_skipped_and_the_queue_schedule_and_provider(world: World) -> None:
    """An account excludes a subdomain and its main domain's www. (UAPI): the check orders the
    main domain alone (no www in the certificate), skips the subdomain and says so in its
    problems (no failure audited); the pending queue shows what is left to secure before and
    after; the schedule and the provider are reported; disable_autossl stops new checks until
    set_autossl_provider."""
    node = world.node
    user, password = node.account()
    domain = f"{user}.example.com"
    sub = _subdomain(node, user, password, "excluded", domain)
    token = node.cpanel_token(user, password)

    def uapi(func: str, **params: str) -> dict[str, Any]:
        body: dict[str, Any] = node.uapi(user, "SSL", func, token=token, **params).json()
        assert body["status"] == 1, (func, body)
        return body

    def queue() -> list[dict[str, Any]]:
        items = node.ok("get_autossl_pending_queue")["pending_certificates"]
        return [item for item in items if item["user"] == user]

    uapi("add_autossl_excluded_domains", domains=f"{sub},www.{domain}")
    assert uapi("get_autossl_excluded_domains")["data"] == [
        {"excluded_domain": sub},
        {"excluded_domain": f"www.{domain}"},
    ]
    [waiting] = queue()
    assert waiting["domain"] == domain and waiting["virtual_host"] == domain
    assert waiting["order_item_id"] is None and waiting["request_time"] is None
    [own] = uapi("get_autossl_pending_queue")["data"]
    assert own["domain"] == domain and own["vhost_name"] == domain

    schedule = node.ok("get_autossl_check_schedule")
    # Whostmgr/API/1/SSL.pm: {cron: [5 fields], next_time} only; the interval as cron fields.
    assert sorted(schedule) == ["cron", "next_time"]
    assert schedule["next_time"].endswith("Z") and "." not in schedule["next_time"]
    due_at = autossl.parse_iso_time(schedule["next_time"])
    assert schedule["cron"] == autossl.cron_fields(1000000, due_at)
    # Counted from the last completed check of every account (the lease's last_done), if any.
    rows = node.sql("SELECT last_done FROM leases WHERE name = 'autossl'")
    last_done = rows[0][0] if rows else None
    if last_done is None:
        assert abs(due_at - time.time()) < 30  # now: no check has completed
    else:
        assert schedule["next_time"] == autossl.iso_time(int(last_done) + 1000000)
    [provider] = node.ok("get_autossl_providers")["payload"]
    assert provider["module_name"] == "ACME" and provider["enabled"] == 1
    assert provider["x_directory"] == world.pebble.directory_url
    assert provider["specs"]["DCV_METHODS"] == ["dns"]
    assert provider["specs"]["SUPPORTS_WILDCARD"] == 0  # GATEHOUSE_AUTOSSL_WILDCARD not set

    node.ok("start_autossl_check_for_one_user", params={"username": user})
    _wait(lambda: _installed(node, domain) is not None, "the main domain's certificate")
    _wait(lambda: _not_running(node), "the end of the check")
    info = _installed(node, domain)
    assert info is not None
    node.remember(info["key"])
    assert _names(_leaf(info["crt"])) == {domain}  # www. excluded
    assert _installed(node, sub) is None
    # UAPI installed_hosts tells AutoSSL's certificate (cPanel's is_autossl) and its provider.
    [host] = uapi("installed_hosts")["data"]
    assert {k: host["certificate"][k] for k in ("is_autossl", "auto_ssl_provider")} == {
        "is_autossl": 1,
        "auto_ssl_provider": "ACME",
    }
    assert host["certificate"]["auto_ssl_provider_display_name"] == provider["display_name"]
    [problem] = _problems(node, user)
    assert problem["domain"] == sub and "is excluded from AutoSSL" in problem["problem"]
    audited = node.sql(
        "SELECT count(*) FROM audit_log WHERE action = 'AUTOSSLPROBLEM' AND detail LIKE :d",
        d=f"{sub}:%",
    )
    assert int(audited[0][0]) == 0
    assert queue() == []  # the main domain is covered, the subdomain excluded

    # The check's log, from the audit trail: its start, the certificate installed, its end.
    catalog = node.ok("get_autossl_logs_catalog")["payload"]
    [run] = [item for item in catalog if item["username"] == user]
    assert run["provider"] == "ACME" and run["in_progress"] == 0
    assert run["start_time"].endswith("Z") and "." not in run["start_time"]
    entries = node.ok("get_autossl_log", params={"start_time": run["start_time"]})["payload"]
    assert entries[0]["type"] == "out" and user in entries[0]["contents"]
    assert [e["contents"] for e in entries if e["type"] == "success"] == [
        f"{user}: a certificate was installed on “{domain}”."
    ]
    assert not [e for e in entries if e["type"] == "failure"]
    assert entries[-1]["type"] == "out" and "1 excluded" in entries[-1]["contents"]
    assert "1 installed" in entries[-1]["contents"]

    # Included again: its "excluded" outcome goes, and it waits for the next check.
    node.ok("remove_autossl_user_excluded_domains", params={"username": user, "domain": sub})
    assert _problems(node, user) == []
    assert [item["domain"] for item in queue()] == [sub]

    # An excluded subdomain that is deleted: the next check of the account forgets it (and
    # orders the included one).
    gone = _subdomain(node, user, password, "gone", domain)
    uapi("add_autossl_excluded_domains", domains=gone)
    deleted = node.api2(user, "SubDomain", "delsubdomain", token=token, domain=gone).json()
    assert deleted["cpanelresult"]["data"][0]["result"] == 1, deleted
    node.ok("start_autossl_check_for_one_user", params={"username": user})
    _wait(lambda: _installed(node, sub) is not None, "the included subdomain's certificate")
    _wait(lambda: _not_running(node), "the end of the check")
    sub_info = _installed(node, sub)
    assert sub_info is not None
    node.remember(sub_info["key"])
    assert uapi("get_autossl_excluded_domains")["data"] == [{"excluded_domain": f"www.{domain}"}]

    # Disabled: no check can be asked for; the schedule is off; enabled again by the provider.
    node.ok("disable_autossl")
    try:
        assert "AutoSSL disabled" in node.fail(
            "start_autossl_check_for_one_user", params={"username": user}
        )
        # UAPI queues a check whatever the provider (ssl_call START_AUTOSSL_CHECK): no
        # refusal, and none is asked for.
        queued = node.uapi(user, "SSL", "start_autossl_check", token=token).json()
        assert queued["status"] == 1 and queued["errors"] is None
        assert node.get("get_autossl_check_schedule").json().get("data") is None
        assert node.ok("get_autossl_providers")["payload"][0]["enabled"] == 0
        reason = node.fail("set_autossl_provider", params={"provider": "LetsEncrypt"})
        assert "ACME" in reason
        # A check asked for before (a row left waiting) is not run while disabled, and the
        # account is not told one is in progress.
        node.sql(
            "INSERT INTO autossl_requests (user_id, requested_time, requested_by)"
            " SELECT id, 0, 'test' FROM users WHERE username = :u",
            u=user,
        )
        time.sleep(1)
        assert uapi("is_autossl_check_in_progress")["data"] == 0
        left = node.sql("SELECT count(*) FROM autossl_requests WHERE requested_by = 'test'")
        assert int(left[0][0]) == 1
    finally:
        node.ok("set_autossl_provider", params={"provider": "ACME"})
    assert node.ok("get_autossl_providers")["payload"][0]["enabled"] == 1
    # Enabled again, the waiting request is taken (within the 15-second pass).
    _wait(lambda: _not_running(node), "the waiting check", timeout=60)
    asked = node.sql(
        "SELECT count(*) FROM autossl_requests r JOIN users u ON u.id = r.user_id"
        " WHERE u.username = :u",
        u=user,
    )
    assert int(asked[0][0]) == 0


def test_the_manage_autossl_page(world: World, page: Any) -> None:
    """WHM › SSL/TLS › Manage AutoSSL in a real browser: the problems of every account, and
    Run AutoSSL For All Users."""
    node = world.node
    user, _ = node.account()
    domain = f"{user}.example.com"
    node.ok("killdns", params={"domain": domain})
    node.ok("start_autossl_check_for_one_user", params={"username": user})
    _wait(lambda: bool(_problems(node, user)), "the problem's record")
    _wait(lambda: _not_running(node), "the end of the check")

    prefix = log_in(page, node)
    page.get_by_role("link", name="Manage AutoSSL", exact=True).click()
    page.wait_for_url(f"**{prefix}/autossl")
    row = page.locator(f"#problem-{domain.replace('.', '-')}")
    assert user in row.inner_text()
    assert "is not on this server" in row.locator(".problem").inner_text()
    page.get_by_role("button", name="Run AutoSSL For All Users").click()
    page.wait_for_selector("#autossl-done")
    _wait(lambda: _not_running(node), "the check asked for on the page")
    asked = node.sql(
        "SELECT count(*) FROM audit_log WHERE action = 'AUTOSSLCHECK' AND actor = 'root'"
        " AND subject = '*'"
    )
    assert int(asked[0][0]) >= 1


def test_refusals_in_the_callers_envelope(world: World, server: Server) -> None:
    node = world.node
    reason = node.fail("start_autossl_check_for_one_user", params={"username": "nosuchuser1"})
    assert "nosuchuser1" in reason
    assert "username" in node.fail("start_autossl_check_for_one_user")
    assert "domain" in node.fail("get_autossl_problems_for_domain")
    reason = node.fail("get_autossl_problems_for_domain", params={"domain": "nowhere.invalid"})
    assert "nowhere.invalid" in reason
    # The session's server has no ACME directory: AutoSSL is off there, in cPanel's words.
    reason = server.fail("start_autossl_check_for_all_users")
    assert reason == "This system has AutoSSL disabled."
    # A reseller is not root: AutoSSL is root's.
    reseller, token = node.reseller()
    for function, params in (
        ("start_autossl_check_for_all_users", {}),
        ("start_autossl_check_for_one_user", {"username": reseller}),
        ("get_autossl_problems_for_user", {"username": reseller}),
    ):
        refused = node.get(function, user=reseller, token=token, params=params).json()
        assert refused["metadata"]["result"] == 0, (function, refused)
    asked = node.sql("SELECT count(*) FROM autossl_requests WHERE requested_by = :r", r=reseller)
    assert int(asked[0][0]) == 0


def test_a_renewal_is_triggered_by_time_and_replaces_the_files(
    world: World, tmp_path: Path
) -> None:
    node = world.node
    user, _ = node.account()
    domain = f"{user}.example.com"
    node.ok("start_autossl_check_for_one_user", params={"username": user})
    _wait(lambda: _installed(node, domain) is not None, "the first certificate")
    _wait(lambda: _not_running(node), "the end of the check")
    first = _installed(node, domain)
    assert first is not None
    not_after = _leaf(first["crt"]).not_valid_after_utc.timestamp()

    # This process's provider, on the same store, with a clock 10 days before that expiry:
    # inside the 30-day window.
    shift = not_after - 10 * 86400 - time.time()
    clock: Callable[[], float] = lambda: time.time() + shift  # noqa: E731
    config = world.config(tmp_path)
    engine = create(node.db_url)
    migrate.upgrade(engine)
    keyring = KeyRing(tmp_path, world.secret)
    publisher = SslPublisher(engine, keyring, tmp_path / "ssl")
    publisher.sync()  # the files as they are before the renewal
    crt_file = tmp_path / "ssl" / f"{domain}.crt"
    before_inode = crt_file.stat().st_ino
    provider = autossl.AutoSsl(
        engine,
        keyring,
        config,
        clock,
        zones_changed=lambda: None,
        certificates_changed=publisher.publish,
        startup_delay=0,
    )
    try:
        report = provider.tick()
        assert report is not None and domain in report.installed, report
        assert report.all_accounts
    finally:
        publisher.close()
        engine.dispose()
    second = _installed(node, domain)
    assert second is not None and second["crt"] != first["crt"]
    assert _names(_leaf(second["crt"])) == {domain, f"www.{domain}"}
    assert crt_file.read_text().startswith(second["crt"].strip().split("\n")[0])
    assert second["crt"].strip() in crt_file.read_text()
    assert crt_file.stat().st_ino != before_inode  # renamed over the old one: atomic
    node.remember(second["key"])
    # The lease records the completed scheduled check (at the provider's time).
    reader = create(node.db_url)
    try:
        with reader.connect() as conn:
            lease = leases.get(conn, autossl.LEASE)
    finally:
        reader.dispose()
    assert lease is not None and lease.last_done is not None
    assert lease.last_done > time.time() + 86400  # the moved clock's
    # Back to real time, or the nodes would take the schedule for one set back and check.
    node.sql("UPDATE leases SET last_done = :t WHERE name = 'autossl'", t=int(time.time()))


def test_the_lease_is_won_by_one_claimant(world: World) -> None:
    """Eight claimants at the same instant, each on a connection of its own, on the module's
    store (SQLite or PostgreSQL): exactly one wins, for a lease never claimed before (the
    INSERT race) and for an expired one (the UPDATE race)."""
    engine = create(world.node.db_url)
    name = f"test-{uuid.uuid4().hex[:8]}"
    now = int(time.time())
    try:
        holders = [leases.new_holder() for _ in range(8)]

        def race(at: int) -> list[bool]:
            barrier = threading.Barrier(len(holders))

            def one(holder: str) -> bool:
                barrier.wait()
                return leases.claim(engine, name, holder, at, 60)

            with ThreadPoolExecutor(len(holders)) as pool:
                return list(pool.map(one, holders))

        won = race(now)
        assert won.count(True) == 1, won
        again = race(now + 61)  # expired: one of them takes it over
        assert again.count(True) == 1, again
        holders_now = [h for h, w in zip(holders, again, strict=True) if w]
        with engine.connect() as conn:
            current = leases.get(conn, name)
        assert current is not None and current.holder == holders_now[0]
        assert leases.release(engine, name, holders_now[0])
        won = [leases.claim(engine, name, h, now, 60) for h in holders]
        assert won.count(True) == 1
        winner = holders[won.index(True)]
        other = next(h for h in holders if h != winner)
        assert leases.claim(engine, name, winner, now + 1, 60)  # its own: renewed
        assert not leases.renew(engine, name, other, now + 1, 60)
        assert not leases.claim(engine, name, other, now + 59, 60)
        assert leases.claim(engine, name, other, now + 62, 60)  # expired: another's now
        assert not leases.renew(engine, name, winner, now + 63, 60)
        assert leases.release(engine, name, other, done=now + 63)
        assert leases.claim(engine, name, winner, now + 64, 60)
        with engine.connect() as conn:
            lease = leases.get(conn, name)
        assert lease is not None and lease.holder == winner and lease.last_done == now + 63
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM leases WHERE name = :n"), {"n": name})
        engine.dispose()


def test_a_ca_that_requires_external_account_binding(world: World, tmp_path: Path) -> None:
    """A second Pebble that requires EAB: without the settings the domain's problem says what
    to set; with a wrong HMAC key the CA's refusal is the problem; with the right ones the
    account is registered (its key stored encrypted) and the certificate installed."""
    node = world.node
    kid = "gatehouse-test-kid"
    hmac_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    settings: dict[str, object] = {
        "externalAccountBindingRequired": True,
        "externalAccountMACKeys": {kid: hmac_key},
    }
    pebble = start_pebble(tmp_path / "pebble-eab", f"127.0.0.1:{node.dns_port}", settings)
    user, _ = node.account()
    domain = f"{user}.example.com"
    [(user_id,)] = node.sql("SELECT id FROM users WHERE username = :u", u=user)
    engine = create(node.db_url)
    keyring = KeyRing(tmp_path, world.secret)
    lease_name = f"test-eab-{uuid.uuid4().hex[:8]}"
    holder = leases.new_holder()
    assert leases.claim(engine, lease_name, holder, int(time.time()), 600)
    held = leases.Held(engine, lease_name, holder, 600, time.time)

    def check(**eab: str) -> autossl.Report:
        config = dataclasses.replace(
            world.config(tmp_path),
            autossl_directory=pebble.directory_url,
            autossl_ca_bundle=pebble.ca_pem,
            **eab,  # type: ignore[arg-type]
        )
        provider = autossl.AutoSsl(
            engine,
            keyring,
            config,
            time.time,
            zones_changed=lambda: None,
            certificates_changed=lambda: None,
        )
        return provider.run(held, {int(user_id)}, None)

    try:
        report = check()
        assert report.failed == [domain]
        [problem] = _problems(node, user)
        assert "requires External Account Binding" in problem["problem"]
        assert "GATEHOUSE_AUTOSSL_EAB_KID" in problem["problem"]

        wrong = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        report = check(autossl_eab_kid=kid, autossl_eab_hmac_key=wrong)
        assert report.failed == [domain]
        [problem] = _problems(node, user)
        assert problem["problem"].startswith("The certificate authority refused"), problem
        assert wrong not in problem["problem"] and hmac_key not in problem["problem"]

        report = check(autossl_eab_kid=kid, autossl_eab_hmac_key=hmac_key)
        assert report.installed == [domain], report
        assert _problems(node, user) == []
        info = _installed(node, domain)
        assert info is not None
        node.remember(info["key"])
        root = x509.load_pem_x509_certificate(pebble.management("/roots/0").encode())
        chain = x509.load_pem_x509_certificates(info["cab"].encode())
        chain[-1].verify_directly_issued_by(root)
        stored = node.sql(
            "SELECT key_ciphertext FROM autossl_accounts WHERE directory = :d",
            d=pebble.directory_url,
        )
        assert len(stored) == 1 and b"PRIVATE KEY" not in bytes(stored[0][0])
    finally:
        held.release()
        engine.dispose()
        pebble.stop()


def test_an_acme_server_out_of_reach_is_every_domains_problem_at_once(
    world: World, tmp_path: Path
) -> None:
    """A directory nobody answers on, and Pebble's without trusting its CA: each domain of the
    check has the problem in words, and the check does not wait on the network per domain."""
    node = world.node
    accounts = [node.account()[0] for _ in range(2)]
    ids = {int(node.sql("SELECT id FROM users WHERE username = :u", u=u)[0][0]) for u in accounts}
    engine = create(node.db_url)
    lease_name = f"test-reach-{uuid.uuid4().hex[:8]}"
    holder = leases.new_holder()
    assert leases.claim(engine, lease_name, holder, int(time.time()), 600)
    held = leases.Held(engine, lease_name, holder, 600, time.time)
    closed = f"https://127.0.0.1:{free_port()}/dir"
    try:
        for directory, bundle, words in (
            (closed, world.pebble.ca_pem, "The ACME server could not be reached"),
            (world.pebble.directory_url, None, "TLS certificate is not trusted"),
        ):
            config = dataclasses.replace(
                world.config(tmp_path), autossl_directory=directory, autossl_ca_bundle=bundle
            )
            provider = autossl.AutoSsl(
                engine,
                KeyRing(tmp_path, world.secret),
                config,
                time.time,
                zones_changed=lambda: None,
                certificates_changed=lambda: None,
            )
            started = time.monotonic()
            report = provider.run(held, ids, None)
            assert time.monotonic() - started < 20
            assert sorted(report.failed) == sorted(f"{u}.example.com" for u in accounts)
            for user in accounts:
                [problem] = _problems(node, user)
                assert words in problem["problem"], problem
    finally:
        held.release()
        engine.dispose()


def test_wildcards_when_chosen(world: World, tmp_path: Path) -> None:
    """GATEHOUSE_AUTOSSL_WILDCARD=1: a main domain's certificate also names `*.domain` (its
    DNS-01 challenge shares `_acme-challenge.domain` with the domain's own: two TXT values,
    both validated by Pebble, both removed); a certificate without it is replaced; a
    subdomain's is not a wildcard."""
    node = world.node
    user, password = node.account()
    domain = f"{user}.example.com"
    sub = _subdomain(node, user, password, "blog", domain)
    [(user_id,)] = node.sql("SELECT id FROM users WHERE username = :u", u=user)
    engine = create(node.db_url)
    lease_name = f"test-wild-{uuid.uuid4().hex[:8]}"
    holder = leases.new_holder()
    assert leases.claim(engine, lease_name, holder, int(time.time()), 600)
    held = leases.Held(engine, lease_name, holder, 600, time.time)

    def check(wildcard: bool) -> autossl.Report:
        config = dataclasses.replace(world.config(tmp_path), autossl_wildcard=wildcard)
        provider = autossl.AutoSsl(
            engine,
            KeyRing(tmp_path, world.secret),
            config,
            time.time,
            zones_changed=lambda: None,
            certificates_changed=lambda: None,
        )
        return provider.run(held, {int(user_id)}, None)

    try:
        assert sorted(check(False).installed) == sorted([domain, sub])
        plain = _installed(node, domain)
        assert plain is not None and _names(_leaf(plain["crt"])) == {domain, f"www.{domain}"}
        report = check(True)
        assert report.installed == [domain] and report.covered == 1, report
        info = _installed(node, domain)
        assert info is not None
        assert _names(_leaf(info["crt"])) == {domain, f"www.{domain}", f"*.{domain}"}
        blog = _installed(node, sub)
        assert blog is not None and _names(_leaf(blog["crt"])) == {sub, f"www.{sub}"}
        for item in (plain, info, blog):
            node.remember(item["key"])
        assert _challenge_lines(node, domain) == []
        assert check(True).covered == 2  # now left alone
    finally:
        held.release()
        engine.dispose()


def test_gatehouse_ssl_autossl_runs_a_check_now_with_progress(world: World) -> None:
    node = world.node
    user, _ = node.account()
    domain = f"{user}.example.com"
    env = {
        **os.environ,
        **world.env,
        "GATEHOUSE_DATA_DIR": str(node.data_dir),
        "GATEHOUSE_DATABASE_URL": node.db_url,
    }

    def cli(*args: str, environment: dict[str, str] = env) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN), "ssl", "autossl", *args],
            env=environment,
            capture_output=True,
            text=True,
            timeout=WAIT,
            check=False,
        )

    done = cli("--user", user)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert [f"{domain}: ordering", f"{domain}: installed"] == lines[:2], done.stdout
    assert lines[-1] == "1 domain(s): 0 covered, 1 installed, 0 with a problem, 0 waiting"
    info = _installed(node, domain)
    assert info is not None
    node.remember(info["key"])
    assert "PRIVATE KEY" not in done.stdout + done.stderr

    again = cli("--user", user)
    assert again.returncode == 0 and f"{domain}: covered" in again.stdout.splitlines()

    # Another process holds the lease: the command says so and orders nothing.
    engine = create(node.db_url)
    holder = leases.new_holder()
    try:
        _wait(lambda: leases.claim(engine, autossl.LEASE, holder, int(time.time()), 600), "lease")
        busy = cli("--user", user)
        assert busy.returncode == 3 and "Another process" in busy.stderr, busy
        assert busy.stdout == ""
    finally:
        leases.release(engine, autossl.LEASE, holder)
        engine.dispose()

    unknown = cli("--user", "nosuchuser2")
    assert unknown.returncode == 2 and "nosuchuser2" in unknown.stderr
    off = {k: v for k, v in env.items() if k != "GATEHOUSE_AUTOSSL_DIRECTORY"}
    disabled = cli("--user", user, environment=off)
    assert disabled.returncode == 2 and "GATEHOUSE_AUTOSSL_DIRECTORY" in disabled.stderr


def test_the_scheduled_check_runs_in_serve_and_honours_a_failures_backoff(
    world: World, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A third node whose schedule is due every 3 s: without being asked, it secures a new
    account's domain, and records the completed check with the lease; a domain that failed a
    moment ago is left alone until its backoff ends (an hour)."""
    node = world.node
    good, _ = node.account()
    good_domain = f"{good}.example.com"
    bad, _ = node.account()
    bad_domain = f"{bad}.example.com"
    node.ok("killdns", params={"domain": bad_domain})
    node.ok("start_autossl_check_for_one_user", params={"username": bad})
    _wait(lambda: bool(_problems(node, bad)), "the failure's record")
    _wait(lambda: _not_running(node), "the end of the check")
    failures_sql = "SELECT failures, next_attempt FROM autossl_domains WHERE domain = :d"
    [(failures, next_attempt)] = node.sql(failures_sql, d=bad_domain)
    assert int(failures) == 1 and int(next_attempt) > time.time() + 3000
    assert _installed(node, good_domain) is None  # nobody asked

    data_dir = tmp_path_factory.mktemp("autossl-scheduled")
    run_cli(
        "init",
        "--root-password-stdin",
        "--if-needed",
        data_dir=data_dir,
        db_url=node.db_url,
        stdin=node.root_password + "\n",
    )
    started = time.time()
    scheduled = start_server(
        data_dir,
        node.db_url,
        node.backend,
        node.root_password,
        env={**world.env, "GATEHOUSE_AUTOSSL_INTERVAL": "3"},
        log_name="autossl-scheduled.log",
    )
    try:
        _wait(lambda: _installed(node, good_domain) is not None, "the scheduled check")
        info = _installed(node, good_domain)
        assert info is not None
        node.remember(info["key"])

        def completed() -> bool:
            rows = node.sql("SELECT last_done FROM leases WHERE name = 'autossl'")
            return bool(rows) and rows[0][0] is not None and int(rows[0][0]) >= started

        _wait(completed, "a completed scheduled check")
        assert node.sql(failures_sql, d=bad_domain) == [(failures, next_attempt)]
        assert "waiting" in scheduled.log_path.read_text()
    finally:
        stop_server(scheduled)
    # No request was needed: the scheduled node found the work itself.
    assert node.sql("SELECT count(*) FROM autossl_requests")[0][0] == 0


def test_a_node_stops_promptly(world: World) -> None:
    """Last: SIGTERM ends an AutoSSL node at once (its provider's wait is woken), not after
    its next poll; its lease is not left held."""
    node = world.nodes[-1]
    assert node.process is not None
    started = time.monotonic()
    node.process.terminate()
    assert node.process.wait(timeout=20) == 0
    assert time.monotonic() - started < 8
    assert _not_running(world.node)
