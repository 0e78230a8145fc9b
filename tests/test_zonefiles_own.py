"""The sync an API call runs after its change (docs/zonefiles.md): it writes the files of the
zones the call wrote — read from the store by name, never every zone's version — keeps the
include equal to the store's set of zones (another process's additions included), does
nothing after a call that wrote no zone, and calls arriving while a sync runs share the next
one. In process, on SQLite: what a call reads and how often it syncs cannot be seen from
outside a server."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gatehouse.config import Config
from gatehouse.core import Gatehouse
from gatehouse.dns import file_writing, zonefiles, zones
from inprocess import Local, open_local


@pytest.fixture
def local(tmp_path: Path) -> Iterator[Local]:
    opened = open_local(tmp_path)
    opened.gatehouse.zone_publisher.sync(full=True)  # the baseline a server starts from
    yield opened
    opened.close()


@pytest.fixture
def versions_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times every zone's version was read (an ordinary sync's cost)."""
    calls: list[int] = []
    every = zones.versions

    def counted(conn: Any) -> dict[str, tuple[int, int, int]]:
        calls.append(1)
        return every(conn)

    monkeypatch.setattr(zones, "versions", counted)
    return calls


def _account(local: Local) -> tuple[str, str]:
    user = f"o{uuid.uuid4().hex[:7]}"
    domain = f"{user}.example.com"
    local.ok("createacct", {"username": user, "domain": domain, "password": "Own-sync-9f2c"})
    return user, domain


def _stored(local: Local, name: str) -> bytes:
    with local.gatehouse.engine.connect() as conn:
        zone = zones.get(conn, name)
    assert zone is not None
    return zone.text.encode()


def _root_id(local: Local) -> int:
    return local.principal().user.id


def _included(local: Local) -> set[str]:
    text = local.gatehouse.zone_publisher.include_path.read_text()
    return set(zonefiles._INCLUDE_LINE.findall(text))


def test_createacct_and_removeacct_write_their_own_files(
    local: Local, versions_read: list[int]
) -> None:
    publisher = local.gatehouse.zone_publisher
    kept_user, kept = _account(local)
    user, domain = _account(local)
    assert publisher.path_of(domain).read_bytes() == _stored(local, domain)
    assert _included(local) == {kept, domain}
    local.ok("removeacct", {"username": user})
    assert not publisher.path_of(domain).exists()
    assert _included(local) == {kept}
    # keepdns=1: the zone stays (root's now), and so do its file and its include line.
    local.ok("removeacct", {"username": kept_user, "keepdns": "1"})
    assert publisher.path_of(kept).read_bytes() == _stored(local, kept)
    assert _included(local) == {kept}
    assert versions_read == []


def test_an_edit_rewrites_the_file_and_leaves_the_include(
    local: Local, versions_read: list[int]
) -> None:
    publisher = local.gatehouse.zone_publisher
    _user, domain = _account(local)
    include = publisher.include_path.stat()
    local.ok(
        "addzonerecord",
        {"domain": domain, "name": "own", "type": "TXT", "txtdata": "written by the call"},
    )
    assert b"written by the call" in publisher.path_of(domain).read_bytes()
    assert publisher.path_of(domain).read_bytes() == _stored(local, domain)
    assert publisher.include_path.stat().st_ino == include.st_ino  # not rewritten
    assert versions_read == []


def test_a_call_that_writes_no_zone_syncs_nothing(
    local: Local, versions_read: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    monkeypatch.setattr(local.gatehouse.zone_publisher, "_sync", lambda *a, **k: synced.append(1))
    local.ok("api_token_create", {"token_name": f"t{uuid.uuid4().hex[:8]}"})
    assert synced == [] and versions_read == []


def test_another_process_s_zones_stay_in_the_include(local: Local, tmp_path: Path) -> None:
    """A zone added and written by another process sharing the directory (a CLI command, a
    second worker) is in the include it wrote; this process's next addition keeps it."""
    config = local.gatehouse.config
    other = Gatehouse(Config(data_dir=config.data_dir, zone_dir=config.zone_dir))
    try:
        other.zone_publisher.adopt()
        theirs = f"theirs-{uuid.uuid4().hex[:6]}.example.org"
        with other.engine.begin() as conn, zones.recording() as written:
            zones.create(
                conn,
                theirs,
                user_id=_root_id(local),
                ip="192.0.2.1",
                nameservers=["ns1.x"],
                now=1,
                hostname="h.x",
            )
        other.zone_publisher.sync_after_change(written)
        assert theirs in _included(local)
        _user, domain = _account(local)
        assert {theirs, domain} <= _included(local)
        assert local.gatehouse.zone_publisher.path_of(theirs).exists()
    finally:
        other.close()


def test_calls_arriving_during_a_sync_share_the_next_one(
    local: Local, monkeypatch: pytest.MonkeyPatch
) -> None:
    publisher = local.gatehouse.zone_publisher
    names = []
    for i in range(3):
        name = f"shared-{i}-{uuid.uuid4().hex[:6]}.example.net"
        with local.gatehouse.engine.begin() as conn:
            zones.create(
                conn,
                name,
                user_id=_root_id(local),
                ip="192.0.2.1",
                nameservers=["ns1.x"],
                now=1,
                hostname="h.x",
            )
        names.append(name)
    runs: list[set[str]] = []
    targeted = publisher._targeted

    def counted(known: dict[str, zonefiles.Version], asked: set[str]) -> zonefiles.SyncReport:
        runs.append(set(asked))
        return targeted(known, asked)

    monkeypatch.setattr(publisher, "_targeted", counted)
    asked_before = publisher._asked
    threads = [
        threading.Thread(target=publisher.sync_after_change, args=([name],)) for name in names
    ]
    with publisher._lock:  # a sync running meanwhile
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while publisher._asked < asked_before + len(names) and time.monotonic() < deadline:
            time.sleep(0.01)
    for thread in threads:
        thread.join(10)
    assert runs == [set(names)]
    for name in names:
        assert publisher.path_of(name).read_bytes() == _stored(local, name)
    assert set(names) <= _included(local)


@pytest.fixture
def slow_reconcile(local: Local, monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Thread]:
    """A full reconcile running in the background, one zone per batch and 50 ms per zone
    (about a second for the zones below): what start-up does with 100,000 zones in a minute."""
    publisher = local.gatehouse.zone_publisher
    for i in range(20):
        with local.gatehouse.engine.begin() as conn:
            zones.create(
                conn, f"bulk-{i:02d}-{uuid.uuid4().hex[:6]}.example.net",
                user_id=_root_id(local), ip="192.0.2.1", nameservers=["ns1.x"], now=1,
                hostname="h.x",
            )  # fmt: skip
    monkeypatch.setattr(zonefiles, "_BATCH", 1)
    publish = publisher._publish

    def slow(name: str, text: str, report: zonefiles.SyncReport) -> bool:
        time.sleep(0.05)
        return publish(name, text, report)

    monkeypatch.setattr(publisher, "_publish", slow)
    reconcile = threading.Thread(target=publisher.sync, kwargs={"full": True})
    reconcile.start()
    deadline = time.monotonic() + 5
    while not publisher._lock.locked():
        assert time.monotonic() < deadline
        time.sleep(0.001)
    yield reconcile
    reconcile.join(30)
    assert not reconcile.is_alive()


def test_a_call_during_a_full_reconcile_is_served_between_its_batches(
    local: Local, slow_reconcile: threading.Thread
) -> None:
    """Its files are written before it returns, well within the wait a call allows, and the
    reconcile's end keeps them — it used to wait the whole second and leave its files to the
    next background sync."""
    publisher = local.gatehouse.zone_publisher
    started = time.monotonic()
    _user, domain = _account(local)
    took = time.monotonic() - started
    assert slow_reconcile.is_alive()  # served while the reconcile still runs
    assert took < zonefiles.AFTER_CALL_WAIT
    assert publisher.path_of(domain).read_bytes() == _stored(local, domain)
    assert domain in _included(local)
    slow_reconcile.join(30)
    assert publisher.path_of(domain).read_bytes() == _stored(local, domain)
    assert domain in _included(local)


def test_a_removal_during_a_full_reconcile_stays_removed(
    local: Local, slow_reconcile: threading.Thread
) -> None:
    publisher = local.gatehouse.zone_publisher
    with local.gatehouse.engine.connect() as conn:
        first = min(n for n in zones.versions(conn) if n.startswith("bulk-"))
    deadline = time.monotonic() + 10
    while not publisher.path_of(first).exists():  # the reconcile has reached it
        assert time.monotonic() < deadline
        time.sleep(0.01)
    with local.gatehouse.engine.begin() as conn, zones.recording() as written:
        assert zones.delete(conn, first)
    publisher.sync_after_change(written)
    assert slow_reconcile.is_alive()
    assert not publisher.path_of(first).exists()
    assert first not in _included(local)
    slow_reconcile.join(30)
    assert not publisher.path_of(first).exists()
    assert first not in _included(local)


def test_the_include_this_process_wrote_is_not_read_back_to_be_compared(
    local: Local, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A zone added changes the set of zones: the include this process last wrote (unchanged
    on disk since) differs for certain, so it is rewritten without reading 10 MB back."""
    publisher = local.gatehouse.zone_publisher
    _account(local)  # this process has written the include
    read: list[Path] = []
    original = file_writing.read_file

    def counted(path: Path) -> bytes | None:
        read.append(path)
        return original(path)

    monkeypatch.setattr(zonefiles, "read_file", counted)
    _user, domain = _account(local)
    assert domain in _included(local)
    assert publisher.include_path not in read
