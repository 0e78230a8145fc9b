"""Zone files on disk (docs/zonefiles.md), on every backend, through a real server: each change
is in `<zone dir>/<zone>.db` byte for byte when the call returns, the include follows the set
of zones, the operator's reload and reconfig commands run with the right arguments (and their
failures never fail a call), a full sync repairs the directory, and a second node sharing the
store converges.

The module has a store and a server of its own: the server runs with a recording reload
command, and one test puts rows with unsafe names straight into the store."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shlex
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import BIN, POSTGRES_URL, Server, run_cli, start_server, stop_server

FAKE_SECRET = "NOT-A-REAL-SECRET-4711"
COMMAND_TIMEOUT = 2
# The recording command: one line per run, its arguments separated by tabs, after a first
# field saying whether gatehouse's own settings (the store URL) reached its environment.
# Zones named fail-* make it fail; slow-* make it hang (with a child) past the timeout.
RECORDER = r"""#!/bin/sh
line="env:${GATEHOUSE_DATABASE_URL:+leaked}"
for a in "$@"; do line="$line	$a"; done
printf '%s\n' "$line" >> "$(dirname "$0")/calls.txt"
case "$2" in
  fail-*) echo "boom: the nameserver said no" >&2; exit 3 ;;
  slow-*) sleep 60 & echo $! > "$(dirname "$0")/slow.pid"; wait ;;
esac
exit 0
"""


# -- a store and a server of this module's own ---------------------------------------------


@contextlib.contextmanager
def fresh_store(backend: str, directory: Path) -> Iterator[str]:
    """An empty store for `backend`: a SQLite file in `directory`, or a PostgreSQL database
    made for the caller and dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'gatehouse.db'}"
        return
    import psycopg
    from sqlalchemy.engine import make_url

    if not POSTGRES_URL:
        pytest.skip("GATEHOUSE_TEST_POSTGRES_URL is not set")
    admin = POSTGRES_URL.replace("postgresql+psycopg", "postgresql")
    name = f"gh_zf_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_node(
    data_dir: Path, db_url: str, backend: str, root_password: str, env: dict[str, str] | None
) -> Server:
    """A `gatehouse serve` with a data directory of its own on `db_url` (made if needed)."""
    run_cli(
        "init",
        "--root-password-stdin",
        "--if-needed",
        data_dir=data_dir,
        db_url=db_url,
        stdin=root_password + "\n",
    )
    node = start_server(data_dir, db_url, backend, root_password, env=env)
    node.remember(root_password)
    return node


@dataclass
class Node:
    server: Server
    tools: Path  # the recorder, its calls.txt and slow.pid
    env: dict[str, str]  # the server's zone settings

    def restart(self) -> None:
        old = self.server
        stop_server(old)
        self.server = start_server(
            old.data_dir, old.db_url, old.backend, old.root_password, env=self.env
        )
        # The same store: the harness's root token (made once, by name) is still valid.
        self.server._root_token = old._root_token
        self.server.issued = old.issued

    @property
    def zone_dir(self) -> Path:
        return self.server.data_dir / "zones"

    def file(self, zone: str) -> Path:
        return self.zone_dir / f"{zone}.db"

    @property
    def include(self) -> Path:
        return self.zone_dir / "named.conf.zones"

    def calls(self) -> list[list[str]]:
        path = self.tools / "calls.txt"
        if not path.exists():
            return []
        return [line.split("\t") for line in path.read_text().splitlines()]

    def log(self) -> str:
        return self.server.log_path.read_text(errors="replace")


@pytest.fixture(scope="module")
def node(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    base = tmp_path_factory.mktemp("zonefiles")
    tools = base / "tools"
    tools.mkdir()
    recorder = tools / "record"
    recorder.write_text(RECORDER)
    recorder.chmod(0o755)
    env = {
        # `$HOME` and the quoted words show there is no shell: they arrive as written.
        "GATEHOUSE_ZONE_RELOAD_COMMAND": f"{shlex.quote(str(recorder))} reload {{zone}} "
        f"--file={{file}} 'two words' '$HOME' --key={FAKE_SECRET}",
        "GATEHOUSE_ZONE_RECONFIG_COMMAND": f"{shlex.quote(str(recorder))} reconfig",
        "GATEHOUSE_ZONE_COMMAND_TIMEOUT": str(COMMAND_TIMEOUT),
    }
    with fresh_store(backend, base) as db_url:
        srv = start_node(base / "data", db_url, backend, secrets.token_urlsafe(16), env)
        node = Node(srv, tools, env)
        try:
            yield node
        finally:
            stop_server(node.server)


def stored(server: Server, zone: str) -> bytes | None:
    rows = server.sql("SELECT text FROM zones WHERE name = :n", n=zone)
    return str(rows[0][0]).encode() if rows else None


def new_zone(node: Node) -> tuple[str, str]:
    user, _password = node.server.account()
    return user, f"{user}.example.com"


def wait_for(what: str, check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


def include_line(node: Node, zone: str) -> str:
    return f'zone "{zone}" {{ type master; file "{node.file(zone)}"; }};'


def serial_in(text: bytes) -> str:
    match = re.search(rb"\tSOA\t\S+ \S+ (\d+) ", text)
    assert match, text
    return match.group(1).decode()


def add_txt(server: Server, zone: str, name: str, value: str) -> None:
    server.ok(
        "addzonerecord",
        params={"domain": zone, "name": name, "type": "TXT", "txtdata": value, "ttl": "60"},
    )


ZONES_CLI = (
    "from gatehouse.cli import main\n"
    "from gatehouse.cli.zones import zones_group\n"
    "main.add_command(zones_group)\n"
    "main()\n"
)


def zones_write(
    server: Server, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`gatehouse zones write`, through the real `main` (registered here if cli.py has not
    registered the group yet), with the server's data directory and store."""
    env = {
        **os.environ,
        "GATEHOUSE_DATA_DIR": str(server.data_dir),
        "GATEHOUSE_DATABASE_URL": server.db_url,
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-c", ZONES_CLI, "zones", "write", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


# -- the files ------------------------------------------------------------------------------


def test_createacct_writes_the_zone_file_exactly_as_stored(node: Node) -> None:
    _user, zone = new_zone(node)
    # No waiting: the file is written before the call returns.
    text = stored(node.server, zone)
    assert text is not None and node.file(zone).read_bytes() == text
    assert node.file(zone).stat().st_mode & 0o777 == 0o644
    assert include_line(node, zone) in node.include.read_text().splitlines()
    assert not [p for p in node.zone_dir.iterdir() if p.name.startswith(".gatehouse-tmp-")]
    dump = node.server.ok("dumpzone", params={"domain": zone})["zone"][0]["record"]
    soa = next(r for r in dump if r.get("type") == "SOA")
    assert serial_in(text) == soa["serial"]


def test_an_edit_rewrites_the_file_and_runs_the_reload_command(node: Node) -> None:
    _user, zone = new_zone(node)
    before = node.file(zone).read_bytes()
    reloads_before = [c for c in node.calls() if c[1:3] == ["reload", zone]]
    assert reloads_before == []  # a new zone is loaded by the reconfig command, not reloaded
    add_txt(node.server, zone, "edited", "yes")
    after = node.file(zone).read_bytes()
    assert after == stored(node.server, zone)
    assert after != before and b'edited\t60\tIN\tTXT\t"yes"' in after
    assert int(serial_in(after)) > int(serial_in(before))
    path = str(node.file(zone))
    expected = [
        "env:",  # the store's URL (and every GATEHOUSE_* setting) stays out of it
        "reload",
        zone,
        f"--file={path}",
        "two words",
        "$HOME",
        f"--key={FAKE_SECRET}",
    ]
    wait_for("the reload command", lambda: expected in node.calls())
    # One reload per change: a second edit, a second run.
    add_txt(node.server, zone, "edited2", "yes")
    wait_for("the second reload", lambda: node.calls().count(expected) == 2)


def test_adddns_and_killdns_follow_the_include_and_run_reconfig(node: Node) -> None:
    user, _zone = new_zone(node)
    extra = f"extra-{user}.example.org"
    reconfigs = node.calls().count(["env:", "reconfig"])
    node.server.ok("adddns", params={"domain": extra, "ip": "192.0.2.7", "trueowner": user})
    assert node.file(extra).read_bytes() == stored(node.server, extra)
    assert include_line(node, extra) in node.include.read_text().splitlines()
    wait_for("reconfig", lambda: node.calls().count(["env:", "reconfig"]) > reconfigs)
    assert not [c for c in node.calls() if c[1:3] == ["reload", extra]]
    # Root's adddns over the zone rewrites it: the file follows, the zone is reloaded.
    node.server.ok("adddns", params={"domain": extra, "ip": "192.0.2.70", "trueowner": user})
    assert b"192.0.2.70" in node.file(extra).read_bytes()
    assert node.file(extra).read_bytes() == stored(node.server, extra)
    wait_for("the reload", lambda: any(c[1:3] == ["reload", extra] for c in node.calls()))
    reconfigs = node.calls().count(["env:", "reconfig"])
    node.server.ok("killdns", params={"domain": extra})
    assert not node.file(extra).exists()
    assert f'"{extra}"' not in node.include.read_text()
    wait_for("reconfig", lambda: node.calls().count(["env:", "reconfig"]) > reconfigs)
    # The include is sorted and lists exactly the zones of the store.
    names = re.findall(r'^zone "([^"]+)"', node.include.read_text(), re.M)
    assert names == sorted(names)
    assert names == sorted(r[0] for r in node.server.sql("SELECT name FROM zones"))


def test_removeacct_removes_the_files_unless_keepdns(node: Node) -> None:
    user1, zone1 = new_zone(node)
    user2, zone2 = new_zone(node)
    more = f"more-{zone1}"
    node.server.ok("adddns", params={"domain": more, "ip": "192.0.2.8", "trueowner": user1})
    assert node.file(more).exists()
    node.server.ok("removeacct", params={"username": user1})
    assert not node.file(zone1).exists() and not node.file(more).exists()
    include = node.include.read_text()
    assert f'"{zone1}"' not in include and f'"{more}"' not in include
    node.server.ok("removeacct", params={"username": user2, "keepdns": "1"})
    assert node.file(zone2).read_bytes() == stored(node.server, zone2)
    assert include_line(node, zone2) in node.include.read_text().splitlines()
    node.server.ok("killdns", params={"domain": zone2})
    assert not node.file(zone2).exists()


def test_a_failing_reload_command_is_logged_and_the_call_succeeds(node: Node) -> None:
    user, _zone = new_zone(node)
    zone = f"fail-{user}.example.net"
    node.server.ok("adddns", params={"domain": zone, "ip": "192.0.2.9", "trueowner": user})
    try:
        add_txt(node.server, zone, "after", "failure")  # succeeds although the reload fails
        assert node.file(zone).read_bytes() == stored(node.server, zone)
        message = f"zone reload command (record) for {zone} exited with status 3: boom"
        wait_for("the failure in the log", lambda: message in node.log())
        assert "the nameserver said no" in node.log()
        assert FAKE_SECRET not in node.log()
    finally:
        node.server.ok("killdns", params={"domain": zone})


def test_a_hanging_reload_command_is_killed_and_later_commands_still_run(node: Node) -> None:
    user, other = new_zone(node)
    zone = f"slow-{user}.example.net"
    node.server.ok("adddns", params={"domain": zone, "ip": "192.0.2.10", "trueowner": user})
    try:
        started = time.monotonic()
        add_txt(node.server, zone, "x", "y")
        # The command runs beside the calls, not inside them.
        assert time.monotonic() - started < COMMAND_TIMEOUT
        add_txt(node.server, other, "later", "z")  # queued behind the hanging one
        message = f"zone reload command (record) for {zone} did not finish within {COMMAND_TIMEOUT}"
        wait_for("the timeout", lambda: message in node.log(), timeout=COMMAND_TIMEOUT + 15)
        pid = int((node.tools / "slow.pid").read_text())
        assert not _running(pid), "the command's own child must be killed with it"
        wait_for("the later reload", lambda: any(c[1:3] == ["reload", other] for c in node.calls()))
    finally:
        node.server.ok("killdns", params={"domain": zone})


def _running(pid: int) -> bool:
    """Alive and not a zombie (a container's init may not reap orphans)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_concurrent_edits_end_with_the_file_equal_to_the_store(node: Node) -> None:
    _user, zone = new_zone(node)
    errors: list[str] = []

    def worker(n: int) -> None:
        try:
            add_txt(node.server, zone, f"c{n}", f"v{n}")
        except AssertionError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    text = node.file(zone).read_bytes()
    assert text == stored(node.server, zone)
    assert all(f'c{n}\t60\tIN\tTXT\t"v{n}"'.encode() in text for n in range(8))


# -- full syncs: the CLI and a restart -------------------------------------------------------


def test_zones_write_restores_files_changed_by_hand(node: Node) -> None:
    _user, edited = new_zone(node)
    _user, deleted = new_zone(node)
    node.file(edited).write_text("; vandalised\n")
    node.file(deleted).unlink()
    stray = node.zone_dir / "stray.example.com.db"  # a zone file of a zone that is gone
    stray.write_text("; old\n")
    keep = node.zone_dir / "operator-notes.txt"  # not named like a zone file: not ours
    keep.write_text("mine\n")
    done = zones_write(node.server)
    assert done.returncode == 0, done.stderr
    assert f"wrote {node.file(edited)}" in done.stdout
    assert f"wrote {node.file(deleted)}" in done.stdout
    assert f"removed {stray}" in done.stdout
    assert node.file(edited).read_bytes() == stored(node.server, edited)
    assert node.file(deleted).read_bytes() == stored(node.server, deleted)
    assert not stray.exists() and keep.read_text() == "mine\n"
    again = zones_write(node.server)
    count = len(node.server.sql("SELECT name FROM zones"))
    assert again.returncode == 0, again.stderr
    assert f"{count} zone(s) in {node.zone_dir}: 0 written, 0 removed" in again.stdout


def test_zones_write_reload_announces_every_zone(node: Node) -> None:
    _user, zone = new_zone(node)
    recorder = shlex.quote(str(node.tools / "record"))
    # Commands of its own, to tell its runs from the server's.
    env = {
        "GATEHOUSE_ZONE_RELOAD_COMMAND": f"{recorder} cli-reload {{zone}}",
        "GATEHOUSE_ZONE_RECONFIG_COMMAND": f"{recorder} cli-reconfig",
    }
    done = zones_write(node.server, "--reload", env=env)
    assert done.returncode == 0, done.stderr
    calls = node.calls()
    assert calls.count(["env:", "cli-reconfig"]) == 1
    reloaded = [c[2] for c in calls if c[1] == "cli-reload"]
    names = [r[0] for r in node.server.sql("SELECT name FROM zones")]
    assert zone in reloaded and sorted(reloaded) == sorted(names)


def test_a_restart_reconciles_the_directory(node: Node) -> None:
    _user, zone = new_zone(node)
    _user, gone = new_zone(node)
    stop_server(node.server)
    node.file(zone).write_text("; edited while the server was down\n")
    node.server.sql("DELETE FROM zones WHERE name = :n", n=gone)
    node.restart()
    # Before the server answers its first request.
    assert node.file(zone).read_bytes() == stored(node.server, zone)
    assert not node.file(gone).exists()
    assert f'"{gone}"' not in node.include.read_text()


def test_unsafe_zone_names_never_leave_the_directory(node: Node) -> None:
    # The API refuses them outright...
    for domain in ("../escape.example.com", "a..b.example.com", "-dash.example.com", "x/y.com"):
        reason = node.server.fail("adddns", params={"domain": domain, "ip": "192.0.2.1"})
        assert "is not a valid domain name" in reason, reason
    # ...and a row put in the store by other means is skipped by the writer.
    root_id = node.server.sql("SELECT id FROM users WHERE username = 'root'")[0][0]
    bad = ["../escape", ".hidden.example", "sub/dir.example", "-opt.example", "UPPER.example"]
    for name in bad:
        node.server.sql(
            "INSERT INTO zones (name, user_id, text, serial, updated_time) "
            "VALUES (:n, :u, '; x\n', 1, 0)",
            n=name,
            u=root_id,
        )
    try:
        done = zones_write(node.server)
        assert done.returncode == 1
        for name in bad:
            assert f"skipped the zone {name!r}: not a safe file name" in done.stderr
        assert not (node.server.data_dir / "escape.db").exists()
        assert not (node.zone_dir / ".hidden.example.db").exists()
        assert not (node.zone_dir / "sub").exists()
        include = node.include.read_text()
        assert not any(f'"{name}"' in include for name in bad)
        # The server's own syncs skip them too, and say so once.
        node.server.ok(
            "adddns", params={"domain": f"ok-{uuid.uuid4().hex[:8]}.com", "ip": "1.2.3.4"}
        )
        wait_for("the warning", lambda: "'../escape': not a safe file name" in node.log())
    finally:
        for name in bad:
            node.server.sql("DELETE FROM zones WHERE name = :n", n=name)


# -- several nodes sharing one store --------------------------------------------------------


def test_a_second_node_on_the_same_store_converges(
    node: Node, tmp_path_factory: pytest.TempPathFactory
) -> None:
    other = start_node(
        tmp_path_factory.mktemp("second-node"),
        node.server.db_url,
        node.server.backend,
        node.server.root_password,
        None,
    )
    try:
        user, zone = new_zone(node)
        theirs = other.data_dir / "zones" / f"{zone}.db"

        def same() -> bool:
            return theirs.exists() and theirs.read_bytes() == stored(node.server, zone)

        wait_for("the other node's file", same)
        add_txt(node.server, zone, "from-a", "1")
        wait_for("the other node's edit", same)
        node.server.ok("removeacct", params={"username": user})
        wait_for("the other node's removal", lambda: not theirs.exists())
        assert f'"{zone}"' not in (other.data_dir / "zones" / "named.conf.zones").read_text()
    finally:
        stop_server(other)


def test_the_server_announces_changes_a_cli_command_made(node: Node) -> None:
    """A one-shot command writes the files itself, but runs with an environment of its own
    (here: no reload or reconfig command); the server's background sync announces them."""
    user, zone = new_zone(node)
    extra = f"cli-{user}.example.org"
    reconfigs = node.calls().count(["env:", "reconfig"])
    node.server.cli("whmapi1", "adddns", f"domain={extra}", "ip=192.0.2.11", f"trueowner={user}")
    assert node.file(extra).read_bytes() == stored(node.server, extra)
    assert include_line(node, extra) in node.include.read_text().splitlines()
    wait_for("the server's reconfig", lambda: node.calls().count(["env:", "reconfig"]) > reconfigs)
    node.server.cli(
        "whmapi1", "addzonerecord", f"domain={zone}", "name=cli", "type=TXT", "txtdata=x"
    )
    assert node.file(zone).read_bytes() == stored(node.server, zone)
    wait_for("the server's reload", lambda: any(c[1:3] == ["reload", zone] for c in node.calls()))


def test_gatehouse_zones_is_a_command() -> None:
    result = subprocess.run(
        [str(BIN), "zones", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0 and "write" in result.stdout
