"""The files an installed certificate becomes (docs/ssl.md): per domain the certificate with
its chain and the key (mode 0600), nginx and Apache includes naming them, written after the
call, the reload command run in the background — and a failing reload never failing the call.
Two more `gatehouse serve` nodes on the session's store, each with its own SSL directory and
reload command."""

from __future__ import annotations

import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from conftest import Server, start_server, stop_server
from ssl_helpers import Issued, make_ca, make_leaf


@dataclass
class Node:
    server: Server
    ssl_dir: Path
    mark: Path  # what the reload command touches


def _node(server: Server, base: Path, reload_command: str) -> Node:
    ssl_dir = base / "ssl"
    node = start_server(
        server.data_dir,  # the same key ring: a cluster shares GATEHOUSE_SECRET_KEY
        server.db_url,
        server.backend,
        server.root_password,
        log_name=f"ssl-{base.name}.log",
        env={"GATEHOUSE_SSL_DIR": str(ssl_dir), "GATEHOUSE_SSL_RELOAD_COMMAND": reload_command},
    )
    node._root_token = server.root_token
    node.issued = server.issued
    return Node(node, ssl_dir, base / "reloaded")


@pytest.fixture(scope="module")
def reloading(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    base = tmp_path_factory.mktemp("sslnode")
    node = _node(server, base, f"touch {base / 'reloaded'}")
    yield node
    stop_server(node.server)


@pytest.fixture(scope="module")
def failing(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    base = tmp_path_factory.mktemp("sslfail")
    node = _node(server, base, "false")
    yield node
    stop_server(node.server)


@pytest.fixture(scope="module")
def ca() -> Issued:
    return make_ca()


def _install(node: Node, domain: str, leaf: Issued, cab: str) -> None:
    node.server.remember(leaf.key_pem)
    params = {"domain": domain, "crt": leaf.cert_pem, "key": leaf.key_pem, "cab": cab}
    node.server.ok("installssl", params=params)


def _wait_for(check: object, what: str) -> None:
    deadline = time.monotonic() + 10
    while not (check() if callable(check) else check):
        assert time.monotonic() < deadline, f"{what} never happened"
        time.sleep(0.05)


def test_certificate_and_key_files(server: Server, reloading: Node, ca: Issued) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    leaf = make_leaf(ca, [domain])
    _install(reloading, domain, leaf, ca.cert_pem)
    crt, key = reloading.ssl_dir / f"{domain}.crt", reloading.ssl_dir / f"{domain}.key"
    # Written before the call returned.
    assert crt.read_text() == leaf.cert_pem + ca.cert_pem
    loaded = serialization.load_pem_private_key(key.read_bytes(), None)
    assert loaded.public_key() == leaf.key.public_key()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(crt.stat().st_mode) == 0o644


def test_the_includes_list_the_files(server: Server, reloading: Node, ca: Issued) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    _install(reloading, domain, make_leaf(ca, [domain]), ca.cert_pem)
    crt, key = reloading.ssl_dir / f"{domain}.crt", reloading.ssl_dir / f"{domain}.key"
    nginx = (reloading.ssl_dir / "nginx.conf").read_text()
    assert f'    {domain} "{crt}";' in nginx and f'    {domain} "{key}";' in nginx
    apache = (reloading.ssl_dir / "apache.conf").read_text()
    assert f"    ServerName {domain}\n" in apache
    assert f'SSLCertificateFile "{crt}"' in apache and f'SSLCertificateKeyFile "{key}"' in apache


def test_the_reload_command_runs(server: Server, reloading: Node, ca: Issued) -> None:
    reloading.mark.unlink(missing_ok=True)
    user, _ = server.account()
    domain = f"{user}.example.com"
    _install(reloading, domain, make_leaf(ca, [domain]), ca.cert_pem)
    _wait_for(reloading.mark.exists, "the reload")


def test_uninstalling_removes_the_files(server: Server, reloading: Node, ca: Issued) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    _install(reloading, domain, make_leaf(ca, [domain]), ca.cert_pem)
    reloading.server.ok("delete_ssl_vhost", params={"host": domain})
    assert not (reloading.ssl_dir / f"{domain}.crt").exists()
    assert not (reloading.ssl_dir / f"{domain}.key").exists()
    assert domain not in (reloading.ssl_dir / "nginx.conf").read_text()
    assert domain not in (reloading.ssl_dir / "apache.conf").read_text()


def test_a_failing_reload_never_fails_the_call(server: Server, failing: Node, ca: Issued) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    _install(failing, domain, make_leaf(ca, [domain]), ca.cert_pem)  # insists on result 1
    assert (failing.ssl_dir / f"{domain}.key").exists()

    def logged() -> bool:
        return "exited with status 1" in failing.server.log_path.read_text(errors="replace")

    _wait_for(logged, "the failure's log line")
