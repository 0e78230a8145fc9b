"""The sending side of the DNS cluster (issue 16): a gatehouse node pushes its zone changes
to a peer — here another gatehouse node with a store of its own, which receives them through
cPanel's dnsadmin protocol — from a durable outbox, with retries, in the peer's role."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator

import pytest

from conftest import Server, free_port, run_cli, start_server, stop_server


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A second gatehouse with its own (SQLite) store: the peer."""
    data_dir = tmp_path_factory.mktemp("receiver")
    password = secrets.token_urlsafe(16)
    url = f"sqlite:///{data_dir / 'gatehouse.db'}"
    run_cli("init", "--root-password-stdin", data_dir=data_dir, db_url=url, stdin=password + "\n")
    node = start_server(data_dir, url, "sqlite", password)
    yield node
    stop_server(node)


@pytest.fixture
def peer(server: Server, receiver: Server) -> Iterator[Callable[[str], str]]:
    """Add `receiver` as a peer of `server` in a role; removed after the test."""
    added: list[str] = []

    def add(role: str) -> str:
        token = receiver.token(acl=["clustering"])
        out = server.cli(
            "cluster", "add", "127.0.0.1", "--port", str(receiver.http_port), "--http",
            "--role", role, "--token-stdin", stdin=token + "\n",
        )  # fmt: skip
        added.append(str(receiver.http_port))
        return out.stdout

    yield add
    for port in added:
        server.cli("cluster", "remove", "127.0.0.1", "--port", port)


def eventually(check: Callable[[], bool], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.25)
    return check()


def serial_on(node: Server, name: str) -> int | None:
    rows = node.sql("SELECT serial FROM zones WHERE name = :n", n=name)
    return int(rows[0][0]) if rows else None


def fresh_domain() -> str:
    return f"push{secrets.token_hex(4)}.example.org"


def test_a_write_only_peer_gets_every_change(
    server: Server, receiver: Server, peer: Callable[[str], str]
) -> None:
    peer("write-only")
    name = fresh_domain()
    server.ok("adddns", params={"domain": name, "ip": "192.0.2.20"})
    assert eventually(lambda: serial_on(receiver, name) == serial_on(server, name))
    server.ok(
        "addzonerecord",
        params={"domain": name, "name": "pushed", "type": "TXT", "txtdata": "hello"},
    )
    assert eventually(lambda: serial_on(receiver, name) == serial_on(server, name))
    text = receiver.sql("SELECT text FROM zones WHERE name = :n", n=name)[0][0]
    assert "hello" in text
    server.ok("killdns", params={"domain": name})
    assert eventually(lambda: serial_on(receiver, name) is None)


def test_adding_a_peer_queues_every_zone(
    server: Server, receiver: Server, peer: Callable[[str], str]
) -> None:
    name = fresh_domain()
    server.ok("adddns", params={"domain": name, "ip": "192.0.2.21"})
    out = peer("write-only")
    assert "zone(s) queued for it" in out
    assert eventually(lambda: serial_on(receiver, name) == serial_on(server, name))
    server.ok("killdns", params={"domain": name})


def test_a_sync_peer_keeps_a_higher_serial(
    server: Server, receiver: Server, peer: Callable[[str], str]
) -> None:
    peer("sync")
    name = fresh_domain()
    server.ok("adddns", params={"domain": name, "ip": "192.0.2.22"})
    assert eventually(lambda: serial_on(receiver, name) == serial_on(server, name))
    ours = serial_on(server, name)
    assert ours is not None
    text = receiver.sql("SELECT text FROM zones WHERE name = :n", n=name)[0][0]
    newer = text.replace(str(ours), str(ours + 1000)).replace("192.0.2.22", "192.0.2.99")
    receiver.sql(
        "UPDATE zones SET text = :t, serial = :s WHERE name = :n", t=newer, s=ours + 1000, n=name
    )
    server.ok(
        "addzonerecord", params={"domain": name, "name": "x", "type": "TXT", "txtdata": "lower"}
    )
    assert eventually(
        lambda: server.sql("SELECT count(*) FROM cluster_outbox WHERE zone = :n", n=name)[0][0] == 0
    )
    assert serial_on(receiver, name) == ours + 1000
    server.ok("killdns", params={"domain": name})


def account_on_the_peer(
    server: Server, receiver: Server, peer: Callable[[str], str]
) -> tuple[str, str]:
    """A new account behind a write-only peer, once its zone has reached the peer: (user,
    zone)."""
    peer("write-only")
    username, _password = server.account()
    name = f"{username}.example.com"
    assert eventually(lambda: serial_on(receiver, name) == serial_on(server, name))
    return username, name


def test_an_accounts_zone_reaches_the_peer_and_leaves_it_with_the_account(
    server: Server, receiver: Server, peer: Callable[[str], str]
) -> None:
    username, name = account_on_the_peer(server, receiver, peer)
    server.ok("removeacct", params={"user": username})
    assert serial_on(server, name) is None
    assert eventually(lambda: serial_on(receiver, name) is None)


def test_removing_an_account_with_keepdns_keeps_its_zone_on_the_peer(
    server: Server, receiver: Server, peer: Callable[[str], str]
) -> None:
    username, name = account_on_the_peer(server, receiver, peer)
    server.ok("removeacct", params={"user": username, "keepdns": "1"})
    assert serial_on(server, name) is not None
    assert server.sql("SELECT count(*) FROM cluster_outbox WHERE zone = :n", n=name) == [(0,)]
    assert serial_on(receiver, name) is not None
    server.ok("killdns", params={"domain": name})


def test_a_standalone_peer_gets_nothing(server: Server, peer: Callable[[str], str]) -> None:
    peer("standalone")
    name = fresh_domain()
    server.ok("adddns", params={"domain": name, "ip": "192.0.2.23"})
    assert server.sql("SELECT count(*) FROM cluster_outbox WHERE zone = :n", n=name) == [(0,)]
    server.ok("killdns", params={"domain": name})


def test_an_unreachable_peer_keeps_its_changes_and_their_error(server: Server) -> None:
    port = free_port()  # nothing listens there
    server.cli(
        "cluster", "add", "127.0.0.1", "--port", str(port), "--http", "--token-stdin", "--no-check",
        stdin="SOMETOKEN\n",
    )  # fmt: skip
    try:
        name = fresh_domain()
        server.ok("adddns", params={"domain": name, "ip": "192.0.2.24"})

        def failed() -> bool:
            rows = server.sql(
                "SELECT attempts, last_error FROM cluster_outbox WHERE zone = :n", n=name
            )
            return bool(rows) and rows[0][0] >= 1 and "Unreachable" in str(rows[0][1])

        assert eventually(failed)
        listed = server.cli("cluster", "list").stdout
        assert f"127.0.0.1:{port} write-only" in listed and "last-error=" in listed
        server.ok("killdns", params={"domain": name})
    finally:
        server.cli("cluster", "remove", "127.0.0.1", "--port", str(port))
    assert server.sql("SELECT count(*) FROM cluster_outbox WHERE zone = :n", n=name) == [(0,)]


def test_the_peer_token_is_encrypted_at_rest(server: Server) -> None:
    secret = secrets.token_hex(16).upper()
    port = free_port()
    server.cli(
        "cluster", "add", "127.0.0.1", "--port", str(port), "--role", "standalone", "--no-check",
        "--token-stdin", stdin=secret + "\n",
    )  # fmt: skip
    try:
        stored = server.sql("SELECT token_ciphertext FROM cluster_peers WHERE port = :p", p=port)[
            0
        ][0]
        assert secret.encode() not in bytes(stored)
    finally:
        server.cli("cluster", "remove", "127.0.0.1", "--port", str(port))


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--role", "primary"], 2, "primary"),
        (["--port", "70000"], 1, "is not a port"),
    ],
)
def test_bad_peers_are_refused(server: Server, args: list[str], code: int, message: str) -> None:
    result = server.cli(
        "cluster", "add", "peer.example", *args, "--token-stdin", stdin="T\n", check=False
    )
    assert result.returncode == code
    assert message in result.stdout + result.stderr
