"""The sending side of the DNS cluster (issue 16): a gatehouse node pushes its zone changes
to a peer — here another gatehouse node with a store of its own, which receives them through
cPanel's dnsadmin protocol — from a durable outbox, with retries, in the peer's role."""

from __future__ import annotations

import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from conftest import Server, free_port, run_cli, start_server, stop_server
from gatehouse.passwords import generate_password


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A second gatehouse with its own (SQLite) store: the peer."""
    data_dir = tmp_path_factory.mktemp("receiver")
    password = generate_password()
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
    # Root's adddns over the zone rewrites it from the template: pushed as any change.
    server.ok("adddns", params={"domain": name, "ip": "192.0.2.25"})
    assert eventually(lambda: serial_on(receiver, name) == serial_on(server, name))
    text = receiver.sql("SELECT text FROM zones WHERE name = :n", n=name)[0][0]
    assert "hello" not in text and "192.0.2.25" in text
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


# -- what a cPanel peer is sent ---------------------------------------------------------------


class CpanelPeer:
    """A stand-in for a cPanel DNSONLY server's /scripts2/*_local: keeps the zones it is sent
    (so that `getzone` answers as cPanel's does, empty for a zone it lacks) and records every
    request as (action, zone)."""

    def __init__(self) -> None:
        self.zones: dict[str, str] = {}
        self.requests: list[tuple[str, str]] = []
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                action = self.path.removeprefix("/scripts2/").removesuffix("_local")
                zone = form.get("zone", "")
                peer.requests.append((action, zone))
                answer = ""
                if action in ("savezone", "quickzoneadd"):
                    peer.zones[zone] = form["zonedata"]
                elif action == "removezone":
                    peer.zones.pop(zone, None)
                elif action == "getzone":
                    answer = peer.zones.get(zone, "")
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(answer.encode())

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.http.server_address[1])
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def sent_for(self, zone: str) -> list[str]:
        return [action for action, name in self.requests if name == zone]

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def cpanel_peer(server: Server) -> Iterator[Callable[[str], CpanelPeer]]:
    made: list[CpanelPeer] = []

    def add(role: str) -> CpanelPeer:
        fake = CpanelPeer()
        made.append(fake)
        server.cli(
            "cluster", "add", "127.0.0.1", "--port", str(fake.port), "--http", "--role", role,
            "--no-check", "--token-stdin", stdin="CPANELPEERTOKEN\n",
        )  # fmt: skip
        return fake

    yield add
    for fake in made:
        server.cli("cluster", "remove", "127.0.0.1", "--port", str(fake.port))
        fake.close()


def delivered(server: Server, name: str) -> Callable[[], bool]:
    return lambda: (
        server.sql("SELECT count(*) FROM cluster_outbox WHERE zone = :n", n=name) == [(0,)]
    )


@pytest.mark.parametrize(
    ("role", "created", "changed", "removed"),
    [
        # A new zone: quickzoneadd registers it with the peer's nameserver (savezone only
        # writes the file); the reload covers a peer that had it already.
        (
            "write-only",
            ["quickzoneadd", "reloadzones"],
            ["savezone", "reloadzones"],
            ["removezone"],
        ),
        # A sync peer is asked first, and its answer says whether the zone is new to it.
        (
            "sync",
            ["getzone", "quickzoneadd"],
            ["getzone", "savezone", "reloadzones"],
            ["removezone"],
        ),
    ],
)
def test_a_cpanel_peer_is_sent_an_add_for_a_new_zone_and_a_reload_after_a_save(
    server: Server,
    cpanel_peer: Callable[[str], CpanelPeer],
    role: str,
    created: list[str],
    changed: list[str],
    removed: list[str],
) -> None:
    fake = cpanel_peer(role)
    name = fresh_domain()
    server.ok("adddns", params={"domain": name, "ip": "192.0.2.30"})
    assert eventually(delivered(server, name))
    assert fake.sent_for(name) == created
    assert fake.zones[name] == server.sql("SELECT text FROM zones WHERE name = :n", n=name)[0][0]

    fake.requests.clear()
    server.ok("addzonerecord", params={"domain": name, "name": "x", "type": "TXT", "txtdata": "v"})
    assert eventually(delivered(server, name))
    assert fake.sent_for(name) == changed
    assert '"v"' in fake.zones[name]

    fake.requests.clear()
    server.ok("killdns", params={"domain": name})
    assert eventually(delivered(server, name))
    assert fake.sent_for(name) == removed
    assert name not in fake.zones


def test_a_peer_being_synced_gets_adds_followed_by_reloads(
    server: Server, cpanel_peer: Callable[[str], CpanelPeer]
) -> None:
    name = fresh_domain()
    server.ok("adddns", params={"domain": name, "ip": "192.0.2.31"})
    fake = cpanel_peer("write-only")
    assert eventually(delivered(server, name))
    assert fake.sent_for(name) == ["quickzoneadd", "reloadzones"]
    server.ok("killdns", params={"domain": name})
