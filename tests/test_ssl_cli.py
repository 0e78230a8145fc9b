"""`gatehouse ssl install` and `gatehouse ssl list` (docs/cli.md): a certificate installed
from files (checked, stored, written for the web server, audited) and listed back, in a
table and as JSON; refusals are one line in installssl's words, exit 1, nothing stored. The
server's own store, both backends."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from conftest import Server
from ssl_helpers import DAY, Issued, make_ca, make_leaf

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module")
def ca() -> Issued:
    return make_ca("CLI Test CA")


def _files(tmp_path: Path, leaf: Issued, ca: Issued | None = None) -> list[str]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text(leaf.cert_pem)
    key.write_text(leaf.key_pem)
    args = ["--cert", str(cert), "--key", str(key)]
    if ca is not None:
        (tmp_path / "ca.pem").write_text(ca.cert_pem)
        args += ["--cabundle", str(tmp_path / "ca.pem")]
    return args


def _listed(server: Server, *args: str) -> dict[str, dict[str, object]]:
    out = server.cli("ssl", "list", "--json", *args).stdout
    return {row["domain"]: row for row in map(json.loads, out.splitlines())}


def test_install_from_files_then_list(server: Server, ca: Issued, tmp_path: Path) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    leaf = make_leaf(ca, [domain, f"www.{domain}"])
    server.remember(leaf.key_pem)
    done = server.cli("ssl", "install", domain, *_files(tmp_path, leaf, ca))
    assert done.stdout.strip() == f"installed on {domain} (account {user})"
    info = server.ok("fetchsslinfo", params={"domain": domain})
    assert info["crt"].strip() == leaf.cert_pem.strip()
    assert info["cab"].strip() == ca.cert_pem.strip()
    assert (server.data_dir / "ssl" / f"{domain}.crt").read_text().startswith(leaf.cert_pem)
    assert (server.data_dir / "ssl" / f"{domain}.key").stat().st_mode & 0o777 == 0o600
    audit = server.sql(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'INSTALLSSL' AND detail LIKE :d",
        d=f"{domain}%",
    )
    assert audit[0][0] == 1

    row = _listed(server)[domain]
    assert row["user"] == user and row["issuer"] == "CLI Test CA"
    assert row["names"] == [domain, f"www.{domain}"]
    assert row["days_left"] in (88, 89, 90)
    assert row["not_after"] == int(leaf.cert.not_valid_after_utc.timestamp())
    assert set(_listed(server, "--user", user)) == {domain}
    table = server.cli("ssl", "list").stdout
    assert domain in table and "CLI Test CA" in table
    assert "PRIVATE KEY" not in table


def test_an_expired_certificate_is_listed_as_expired(
    server: Server, ca: Issued, tmp_path: Path
) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    leaf = make_leaf(ca, [domain], not_after=NOW + 5 * DAY)
    server.remember(leaf.key_pem)
    server.cli("ssl", "install", domain, *_files(tmp_path, leaf))
    assert _listed(server, "--user", user)[domain]["days_left"] in (4, 5)
    server.sql(
        "UPDATE ssl_certificates SET not_after = :t WHERE id = "
        "(SELECT certificate_id FROM ssl_vhosts WHERE domain = :d)",
        t=int((NOW - DAY).timestamp()),
        d=domain,
    )
    assert _listed(server, "--user", user)[domain]["days_left"] == -1
    assert "expired" in server.cli("ssl", "list", "--user", user).stdout


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("wrong-key", "Error: The certificate does not match the key."),
        ("other-domain", "Error: The certificate does not cover the domain"),
        ("no-such-domain", "Error: The domain “nosuch-"),
        ("missing-file", "Error: Cannot read the key file"),
        ("garbage", "Error: The certificate is not a valid PEM-encoded X.509 certificate."),
        ("expired", "Error: The certificate expired on"),
    ],
)
def test_a_refusal_is_one_line_exit_1_and_stores_nothing(
    server: Server, ca: Issued, tmp_path: Path, case: str, words: str
) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    target = domain
    leaf = make_leaf(ca, [domain])
    if case == "other-domain":
        leaf = make_leaf(ca, ["elsewhere.example.net"])
    elif case == "expired":
        leaf = make_leaf(ca, [domain], not_before=NOW - 30 * DAY, not_after=NOW - DAY)
    server.remember(leaf.key_pem)
    args = _files(tmp_path, leaf)
    if case == "wrong-key":
        other = make_leaf(ca, [domain])
        server.remember(other.key_pem)
        Path(args[3]).write_text(other.key_pem)
    elif case == "no-such-domain":
        target = f"nosuch-{domain}"
    elif case == "missing-file":
        args[3] = str(tmp_path / "absent.pem")
    elif case == "garbage":
        Path(args[1]).write_text("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")
    result = server.cli("ssl", "install", target, *args, check=False)
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(words), result.stderr
    assert "PRIVATE KEY" not in result.stderr + result.stdout
    stored = server.sql(
        "SELECT COUNT(*) FROM ssl_keys k JOIN users u ON u.id = k.user_id WHERE u.username = :u",
        u=user,
    )
    assert stored[0][0] == 0
    assert domain not in _listed(server)


def test_list_for_an_account_that_does_not_exist(server: Server) -> None:
    result = server.cli("ssl", "list", "--user", "nosuchaccount", check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: No cPanel account is named “nosuchaccount”."
