"""The service certificate (docs/ssl.md#the-service-certificate): WHM
install_service_ssl_certificate and fetch_service_ssl_components. A certificate installed
over HTTP is presented by the WHM and cPanel TLS ports from the very next handshake — checked
with a real TLS client (the ssl module), the server never restarted (same process) — and by a
second node on the same store within its poll; the key is stored encrypted; refusals change
nothing. A store of its own (the shared server's TLS is left alone). Both stores."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import socket
import ssl
import stat
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from conftest import POSTGRES_URL, Database, Server, run_cli, start_server, stop_server
from gatehouse.passwords import generate_password
from ssl_helpers import DAY, Issued, make_ca, make_leaf


@pytest.fixture(scope="module")
def fresh_url(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if database.backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('svc') / 'svc.db'}"
        return
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"gh_svc_{uuid.uuid4().hex[:12]}"
    admin = POSTGRES_URL.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def node(
    database: Database, fresh_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("svcnode")
    password = generate_password()
    run_cli("init", "--root-password-stdin", data_dir=data_dir, db_url=fresh_url,
            stdin=password + "\n")  # fmt: skip
    # The same secret key on every node of the store (encrypted keys decrypt everywhere).
    env = {"GATEHOUSE_SECRET_KEY": SECRET_KEY}
    started = start_server(data_dir, fresh_url, database.backend, password, env=env)
    started.remember(password)
    yield started
    stop_server(started)


SECRET_KEY = base64.urlsafe_b64encode(b"service-certificate-test-key-32b").decode()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module")
def ca() -> Issued:
    return make_ca()


def _presented(port: int) -> x509.Certificate:
    """One new TLS handshake: the certificate the port presents."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


def _install(node: Server, leaf: Issued, cab: str = "", **extra: str) -> dict[str, Any]:
    node.remember(leaf.key_pem)
    response = httpx.post(
        f"{node.url}/json-api/install_service_ssl_certificate",
        data={
            "api.version": "1",
            "service": "cpanel",
            "crt": leaf.cert_pem,
            "key": leaf.key_pem,
            "cabundle": cab,
            **extra,
        },
        headers={"Authorization": f"whm root:{node.root_token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_installed_certificate_is_served_on_the_next_handshake(node: Server, ca: Issued) -> None:
    pid = node.process.pid if node.process else None
    before = _presented(node.https_port)
    leaf = make_leaf(ca, ["host.example.com"])
    body = _install(node, leaf, ca.cert_pem)
    assert body["metadata"]["result"] == 1, body
    assert body["data"]["service"] == "cpanel"
    assert body["data"]["certificate_info"]["domains"] == ["host.example.com"]
    wanted = x509.load_pem_x509_certificate(leaf.cert_pem.encode())
    # The very next handshake, on both TLS ports: no wait, no restart.
    assert _presented(node.https_port) == wanted != before
    assert _presented(node.cpanel_https_port) == wanted
    assert node.process is not None and node.process.poll() is None and node.process.pid == pid
    # A client that trusts the CA verifies the chain through the HTTPS port.
    context = ssl.create_default_context(cadata=ca.cert_pem)
    context.check_hostname = False
    response = httpx.get(
        f"{node.https_url}/json-api/version?api.version=1",
        headers={"Authorization": f"whm root:{node.root_token}"},
        verify=context,
        timeout=10,
    )
    assert response.status_code == 200 and response.json()["metadata"]["result"] == 1


def test_replacing_again_while_clients_connect(node: Server, ca: Issued) -> None:
    """Handshakes running all along: none is refused (the listening socket is never closed),
    and every one begun after the call returns gets the newest certificate. A handshake the
    replaced worker was in the middle of at the instant of the swap may be cut (granian's
    graceful stop finishes requests, not handshakes): at most one per client and swap."""
    failures: list[str] = []
    done = [0]
    stop = threading.Event()

    def connect() -> None:
        while not stop.is_set():
            try:
                _presented(node.https_port)
                done[0] += 1
            except OSError as exc:
                failures.append(repr(exc))

    workers = [threading.Thread(target=connect) for _ in range(2)]
    for worker in workers:
        worker.start()
    try:
        for round_ in range(3):
            leaf = make_leaf(ca, [f"r{round_}.example.com"])
            assert _install(node, leaf)["metadata"]["result"] == 1
            wanted = x509.load_pem_x509_certificate(leaf.cert_pem.encode())
            assert _presented(node.https_port) == wanted
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    assert done[0] > 10
    assert not [f for f in failures if "Refused" in f], failures
    assert len(failures) <= 2 * 3, failures


def test_fetch_service_ssl_components(node: Server, ca: Issued) -> None:
    leaf = make_leaf(ca, ["fetch.example.com"])
    assert _install(node, leaf, ca.cert_pem)["metadata"]["result"] == 1
    data = node.ok("fetch_service_ssl_components")
    [service] = data["services"]
    assert service["service"] == "cpanel"
    assert service["certificate"] == leaf.cert_pem
    assert "BEGIN CERTIFICATE" in service["cabundle"]
    assert service["certificate_info"]["domains"] == ["fetch.example.com"]
    assert service["certificate_info"]["is_self_signed"] == 0
    assert "PRIVATE KEY" not in str(data)
    rows = node.sql("SELECT key_ciphertext FROM service_certificates")
    assert len(rows) == 1 and b"PRIVATE KEY" not in bytes(rows[0][0])


def test_the_store_is_the_truth_for_another_node(
    node: Server, ca: Issued, tmp_path_factory: pytest.TempPathFactory
) -> None:
    first = make_leaf(ca, ["first.example.com"])
    assert _install(node, first)["metadata"]["result"] == 1
    env = {"GATEHOUSE_SECRET_KEY": SECRET_KEY}
    other = start_server(
        tmp_path_factory.mktemp("svcnode2"), node.db_url, node.backend, node.root_password,
        env=env,
    )  # fmt: skip
    other._root_token = node.root_token
    try:
        installed = node.ok("fetch_service_ssl_components")["services"][0]["certificate"]
        # Started after the install: it serves the store's certificate from the start.
        assert _presented(other.https_port) == x509.load_pem_x509_certificate(installed.encode())
        leaf = make_leaf(ca, ["moved.example.com"])
        assert _install(node, leaf)["metadata"]["result"] == 1
        wanted = x509.load_pem_x509_certificate(leaf.cert_pem.encode())
        deadline = time.monotonic() + 5
        cut = 0  # docs/ssl.md "Limits": a handshake in flight at the swap can be cut, once
        while True:
            try:
                if _presented(other.https_port) == wanted:
                    break
            except ssl.SSLEOFError:
                cut += 1
                assert cut <= 1, "more than one handshake was cut by one certificate swap"
            assert time.monotonic() < deadline, "the other node never served the new certificate"
            time.sleep(0.1)
    finally:
        stop_server(other)


@pytest.mark.parametrize(
    "case",
    ["other-key", "expired", "not-yet-valid", "broken-chain", "garbage", "no-key", "service",
     "dovecot", "p-521", "rsa-1024", "huge"],
)  # fmt: skip
def test_refusals_change_nothing(node: Server, ca: Issued, case: str) -> None:
    before = node.sql("SELECT fingerprint FROM service_certificates")
    served = _presented(node.https_port)
    leaf = make_leaf(ca, ["bad.example.com"])
    other = make_leaf(ca, ["bad.example.com"])
    node.remember(other.key_pem)
    params: dict[str, str] = {}
    cab = ""
    if case == "other-key":
        params["key"] = other.key_pem
    elif case == "expired":
        leaf = make_leaf(
            ca, ["bad.example.com"], not_before=_now() - 10 * DAY, not_after=_now() - DAY
        )
    elif case == "not-yet-valid":
        leaf = make_leaf(ca, ["bad.example.com"], not_before=_now() + 5 * DAY)
    elif case == "broken-chain":
        cab = make_ca().cert_pem
    elif case == "garbage":
        params["crt"] = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"
    elif case == "no-key":
        params["key"] = ""
    elif case == "service":
        params["service"] = "nosuch"
    elif case == "dovecot":
        params["service"] = "dovecot"
    elif case == "p-521":
        leaf = make_leaf(ca, ["bad.example.com"], key=ec.generate_private_key(ec.SECP521R1()))
    elif case == "rsa-1024":
        key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
        leaf = make_leaf(ca, ["bad.example.com"], key=key)
    elif case == "huge":
        params["crt"] = "A" * (10 * 1024 * 1024)
    response = httpx.post(
        f"{node.url}/json-api/install_service_ssl_certificate",
        data={
            "api.version": "1",
            "service": "cpanel",
            "crt": leaf.cert_pem,
            "key": leaf.key_pem,
            "cabundle": cab,
            **params,
        },
        headers={"Authorization": f"whm root:{node.root_token}"},
        timeout=60,
    )
    assert response.status_code in (200, 413), response.text
    body = response.json()
    assert body["metadata"]["result"] == 0, body
    reason = body["metadata"]["reason"]
    assert reason and "PRIVATE KEY" not in reason
    assert node.sql("SELECT fingerprint FROM service_certificates") == before
    assert _presented(node.https_port) == served


def test_only_root(node: Server) -> None:
    """A reseller holding `ssl` and `ssl-info` is refused: the service certificate is root's."""
    user, token = node.reseller(["ssl", "ssl-info", "manage-api-tokens"])
    for function in ("install_service_ssl_certificate", "fetch_service_ssl_components"):
        body = node.get(function, user=user, token=token, params={"service": "cpanel"}).json()
        assert body["metadata"]["result"] == 0, body


def test_every_worker_serves_it_on_the_next_handshake(
    node: Server, ca: Issued, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """`gatehouse serve --workers 2`: the call returns once both worker processes present the
    new certificate, so every handshake after it — whichever worker the kernel hands it to —
    meets the new one."""
    env = {"GATEHOUSE_SECRET_KEY": SECRET_KEY, "GATEHOUSE_WORKERS": "2"}
    workers = start_server(
        tmp_path_factory.mktemp("svcworkers"),
        node.db_url,
        node.backend,
        node.root_password,
        env=env,
    )
    workers._root_token = node.root_token
    try:
        for round_ in range(3):
            leaf = make_leaf(ca, [f"w{round_}.example.com"])
            assert _install(workers, leaf)["metadata"]["result"] == 1
            wanted = x509.load_pem_x509_certificate(leaf.cert_pem.encode())
            for port in (workers.https_port, workers.cpanel_https_port):
                presented = [_presented(port) for _ in range(12)]
                assert all(p == wanted for p in presented), (round_, port)
    finally:
        stop_server(workers)


def test_no_service_key_in_the_store_or_the_log(node: Server, ca: Issued) -> None:
    """The service certificate's key, and a line of its body, are in no row of any table
    (SQLite: not in the store's files either) and not in the server's log."""
    leaf = make_leaf(ca, ["secret.example.com"], kind="rsa")
    assert _install(node, leaf)["metadata"]["result"] == 1
    secrets_seen = [leaf.key_pem, leaf.key_pem.splitlines()[1]]
    tables = [r[0] for r in node.sql(_TABLES[node.backend])]
    rows = "".join(repr(node.sql(f'SELECT * FROM "{t}"')) for t in tables)  # noqa: S608
    assert "service_certificates" in tables and rows
    haystack = rows.encode() + node.log_path.read_bytes()
    if node.backend == "sqlite":
        path = node.db_url.removeprefix("sqlite:///")
        for suffix in ("", "-wal"):
            with contextlib.suppress(OSError), open(path + suffix, "rb") as store:
                haystack += store.read()
    for secret in secrets_seen:
        assert secret.encode() not in haystack


_TABLES = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table'",
    "postgresql": "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
}


def test_installed_from_the_command_line_is_served_within_a_second(
    node: Server, ca: Issued, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`gatehouse whmapi1` has no listeners: the serving process finds the change in the
    store at its next poll."""
    monkeypatch.setenv("GATEHOUSE_SECRET_KEY", SECRET_KEY)
    leaf = make_leaf(ca, ["cli.example.com"])
    node.remember(leaf.key_pem)
    out = node.cli(
        "whmapi1",
        "install_service_ssl_certificate",
        "service=cpanel",
        f"crt={leaf.cert_pem}",
        f"key={leaf.key_pem}",
        "--output",
        "json",
    )
    assert '"result":1' in out.stdout.replace(" ", ""), out.stdout
    assert leaf.key_pem not in out.stdout + out.stderr
    wanted = x509.load_pem_x509_certificate(leaf.cert_pem.encode())
    deadline = time.monotonic() + 5
    while _presented(node.https_port) != wanted:
        assert time.monotonic() < deadline, "the server never served the certificate"
        time.sleep(0.1)


def test_a_node_that_cannot_decrypt_the_key_keeps_its_own(
    node: Server, ca: Issued, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A node started with another GATEHOUSE_SECRET_KEY than the store's cannot decrypt the
    installed key: it starts anyway, serves its own pair, and says so in its log once."""
    assert _install(node, make_leaf(ca, ["keyed.example.com"]))["metadata"]["result"] == 1
    other_key = base64.urlsafe_b64encode(b"another-secret-key-of-32-bytes!!").decode()
    stranger = start_server(
        tmp_path_factory.mktemp("svcstranger"),
        node.db_url,
        node.backend,
        node.root_password,
        env={"GATEHOUSE_SECRET_KEY": other_key},
    )
    try:
        own = x509.load_pem_x509_certificate((stranger.data_dir / "tls" / "cert.pem").read_bytes())
        assert _presented(stranger.https_port) == own
        time.sleep(2.5)  # two polls
        assert _presented(stranger.https_port) == own
        log = stranger.log_path.read_text()
        assert log.count("service certificate") == 1, log
    finally:
        stop_server(stranger)


def test_each_certificate_has_files_of_its_own(node: Server, ca: Issued) -> None:
    """A pair once written never changes to another certificate: a process still writing
    the previous one (a sibling worker's or another node's late poll) can never hand a
    listener one certificate's key with another's certificate — granian's worker panics on
    such a pair (seen in CI) instead of refusing it."""
    pairs = []
    for name in ("pair-a.example.com", "pair-b.example.com"):
        leaf = make_leaf(ca, [name])
        assert _install(node, leaf)["metadata"]["result"] == 1
        fingerprint = leaf.cert.fingerprint(hashes.SHA256()).hex()
        cert = node.data_dir / "tls" / f"service-cpanel-{fingerprint[:32]}.crt"
        key = cert.with_suffix(".key")
        pairs.append((leaf, cert, key, cert.read_bytes(), key.read_bytes()))
    for leaf, cert, key, cert_bytes, key_bytes in pairs:
        assert cert.read_bytes() == cert_bytes and key.read_bytes() == key_bytes
        assert x509.load_pem_x509_certificate(cert_bytes) == leaf.cert
        loaded = serialization.load_pem_private_key(key_bytes, None)
        assert loaded.public_key() == leaf.key.public_key()
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
