"""Issue 18 §5: the data directory is the server's alone. Whatever the umask, `gatehouse init`
and `gatehouse serve` make it 0700 (0711 while the zone or SSL directory lies inside it, so a
nameserver can pass through to its files) and every file they keep there 0600 — the SQLite
store and its -wal and -shm, the TLS pair, root's password, the secret key — while zone files
keep their documented 0644. An older install's wider modes are tightened at start-up, and
each change is logged. Real processes, a real SQLite store in a temporary directory."""

from __future__ import annotations

import base64
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import run_cli, start_server, stop_server
from gatehouse.passwords import generate_password


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The common umask, which left the store 0644: the children this test starts inherit it."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'gatehouse.db'}"


def init(data_dir: Path, *args: str) -> str:
    """`gatehouse init` (root's password generated, so it is written to root-password)."""
    result = run_cli("init", *args, data_dir=data_dir, db_url=sqlite_url(data_dir))
    return result.stdout + result.stderr


def test_init_makes_the_data_dir_and_store_private(tmp_path: Path, umask_022: None) -> None:
    data_dir = tmp_path / "var"
    init(data_dir)
    # The zone directory lies inside by default: others may pass through, not list.
    assert mode(data_dir) == 0o711
    assert mode(data_dir / "gatehouse.db") == 0o600
    assert mode(data_dir / "root-password") == 0o600


def test_the_data_dir_is_0700_when_nothing_inside_is_published(
    tmp_path: Path, umask_022: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATEHOUSE_ZONE_DIR", str(tmp_path / "zones"))
    monkeypatch.setenv("GATEHOUSE_SSL_DIR", str(tmp_path / "ssl"))
    data_dir = tmp_path / "var"
    init(data_dir)
    assert mode(data_dir) == 0o700
    assert mode(data_dir / "gatehouse.db") == 0o600


def test_a_served_store_keeps_every_file_private(tmp_path: Path, umask_022: None) -> None:
    data_dir = tmp_path / "var"
    init(data_dir)
    password = (data_dir / "root-password").read_text().strip()
    server = start_server(data_dir, sqlite_url(data_dir), "sqlite", password)
    try:
        # A write, so that the WAL holds frames while the server runs.
        assert server.ok("createacct", params=account_params())
        wal, shm = Path(f"{data_dir}/gatehouse.db-wal"), Path(f"{data_dir}/gatehouse.db-shm")
        assert wal.exists() and shm.exists()
        # The HTTPS port answers, so the self-signed pair has been made.
        httpx.get(f"{server.https_url}/json-api/version", verify=server.tls(), timeout=10)
        found = {p.relative_to(data_dir).as_posix(): mode(p) for p in private_paths(data_dir)}
    finally:
        stop_server(server)
    # Each serving process notes the service certificate it serves in tls/served/<pid>
    # (program/service_tls.py): private too, whatever the pid.
    notes = {k: v for k, v in found.items() if k.startswith("tls/served/")}
    assert notes and set(notes.values()) == {0o600}
    assert found.pop("tls/served", None) in (0o700, None)
    found = {k: v for k, v in found.items() if k not in notes}
    assert found == {
        ".": 0o711,
        "gatehouse.db": 0o600,
        "gatehouse.db-wal": 0o600,
        "gatehouse.db-shm": 0o600,
        "root-password": 0o600,
        "tls": 0o700,
        "tls/cert.pem": 0o600,
        "tls/key.pem": 0o600,
    }


def test_zone_files_stay_readable_by_a_nameserver(tmp_path: Path) -> None:
    """Even under the strictest umask: the nameserver runs as its own user."""
    old = os.umask(0o077)
    try:
        data_dir = tmp_path / "var"
        init(data_dir)
        domain = f"z{secrets.token_hex(5)}.example.com"
        run_cli(
            "whmapi1",
            "adddns",
            f"domain={domain}",
            "ip=192.0.2.1",
            data_dir=data_dir,
            db_url=sqlite_url(data_dir),
        )
    finally:
        os.umask(old)
    zones = data_dir / "zones"
    assert mode(zones) == 0o755
    assert mode(zones / f"{domain}.db") == 0o644
    assert mode(data_dir) == 0o711
    assert mode(data_dir / "gatehouse.db") == 0o600


def test_an_older_install_is_tightened_at_init_and_says_so(tmp_path: Path, umask_022: None) -> None:
    data_dir = tmp_path / "var"
    init(data_dir)
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)) + b"\n"
    (data_dir / "secret.key").write_bytes(key)
    (data_dir / "tls").mkdir()
    for name in ("tls/cert.pem", "tls/key.pem", "gatehouse.db-wal", "gatehouse.db-shm"):
        (data_dir / name).touch()
    # What an older version left behind under umask 022.
    for path in private_paths(data_dir):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    output = init(data_dir, "--if-needed")
    # (SQLite removes the -wal and -shm when its last connection closes.)
    assert {p.relative_to(data_dir).as_posix(): mode(p) for p in private_paths(data_dir)} == {
        ".": 0o711,
        "gatehouse.db": 0o600,
        "root-password": 0o600,
        "secret.key": 0o600,
        "tls": 0o700,
        "tls/cert.pem": 0o600,
        "tls/key.pem": 0o600,
    }
    for name, before, after in (
        ("", "0755", "0711"),
        ("/gatehouse.db", "0644", "0600"),
        ("/gatehouse.db-wal", "0644", "0600"),
        ("/gatehouse.db-shm", "0644", "0600"),
        ("/root-password", "0644", "0600"),
        ("/secret.key", "0644", "0600"),
        ("/tls", "0755", "0700"),
        ("/tls/key.pem", "0644", "0600"),
    ):
        assert f"{data_dir}{name}: mode {before} → {after}" in output, output


def test_serve_tightens_an_older_install_and_logs_it(tmp_path: Path, umask_022: None) -> None:
    data_dir = tmp_path / "var"
    init(data_dir)
    password = (data_dir / "root-password").read_text().strip()
    os.chmod(data_dir, 0o755)
    os.chmod(data_dir / "gatehouse.db", 0o644)
    server = start_server(data_dir, sqlite_url(data_dir), "sqlite", password)
    try:
        assert mode(data_dir) == 0o711
        assert mode(data_dir / "gatehouse.db") == 0o600
        assert mode(Path(f"{data_dir}/gatehouse.db-wal")) == 0o600
    finally:
        stop_server(server)
    log = server.log_path.read_text()
    assert f"{data_dir}: mode 0755 → 0711" in log
    assert f"{data_dir}/gatehouse.db: mode 0644 → 0600" in log


def test_modes_narrower_than_ours_and_linked_files_are_left_alone(
    tmp_path: Path, umask_022: None
) -> None:
    data_dir = tmp_path / "var"
    init(data_dir)
    (data_dir / "tls").mkdir(mode=0o700)
    elsewhere = tmp_path / "operator-cert.pem"
    elsewhere.write_bytes(b"not ours\n")
    os.chmod(elsewhere, 0o644)
    (data_dir / "tls" / "cert.pem").symlink_to(elsewhere)
    os.chmod(data_dir, 0o700)  # the operator's choice (the nameserver runs as this user)
    output = init(data_dir, "--if-needed")
    assert mode(elsewhere) == 0o644
    assert mode(data_dir) == 0o700
    assert "→" not in output


def account_params() -> dict[str, str]:
    name = "u" + secrets.token_hex(5)
    return {
        "username": name,
        "domain": f"{name}.example.com",
        "password": generate_password(),
    }


def private_paths(data_dir: Path) -> list[Path]:
    """The data directory and what gatehouse keeps in it (not the published zones, nor the
    test harness's log)."""
    kept = [data_dir]
    for path in sorted(data_dir.rglob("*")):
        relative = path.relative_to(data_dir).as_posix()
        if relative.split("/")[0] in ("zones", "ssl", "hooks") or relative.endswith(".log"):
            continue
        kept.append(path)
    return kept
