"""o2switch-cli (PyPI, pinned; a command line for the DNS records and subdomains of a cPanel
account), unmodified, against the cPanel face over TLS.

It finds the zone with `DomainInfo::list_domains`, reads it with `DNS::parse_zone`, changes A
records with `DNS::mass_edit_zone` (the serial it read, `add`/`edit`/`remove`), and makes and
deletes subdomains with UAPI `SubDomain::addsubdomain`, API 2 `listsubdomains` and
`delsubdomain`. What it did is read back from gatehouse's own nameserver. The token reaches it
through the environment, as its documentation says, never argv; its answers are checked for
the secret before they are shown.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import dns.message
import dns.query
import dns.rcode
import pytest

from client_venvs import PinnedVenv, redact
from conftest import Server

O2SWITCH = PinnedVenv(
    "o2switch-cli", {"o2switch-cli": "0.1.4", "httpx": "0.29.0"}, probe="o2switch_cli.cli.main"
)
RUN_TIMEOUT = 120  # seconds for one command


@pytest.fixture(scope="session")
def o2switch_python() -> Path:
    return O2SWITCH.ready()


class Cli:
    def __init__(self, server: Server, python: Path, home: Path) -> None:
        self.server = server
        self.user, password = server.account()
        self.token = server.cpanel_token(self.user, password)
        self.domain = f"{self.user}.example.com"
        self.script = python.parent / "o2switch-cli"
        self.env = {
            **os.environ,
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local"),
            "NO_PROXY": "*",
            "no_proxy": "*",
            "SSL_CERT_FILE": str(server.data_dir / "tls" / "cert.pem"),
            "COLUMNS": "200",
            "O2SWITCH_CLI_CPANEL_HOST": "127.0.0.1",
            "O2SWITCH_CLI_PORT": str(server.cpanel_https_port),
            "O2SWITCH_CLI_CPANEL_USER": self.user,
            "O2SWITCH_CLI_CPANEL_TOKEN": self.token,
            "O2SWITCH_CLI_VERIFY_DNS_AFTER_MUTATION": "false",
        }

    def _exec(self, args: tuple[str, ...]) -> tuple[int, str]:
        done = subprocess.run(
            [str(self.script), "--json", "--yes", "--no-verify", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
        status, out, err = done.returncode, done.stdout, done.stderr
        assert self.token not in out + err, "the client printed its token"
        shown = redact(f"{out[-2000:]}\n{err[-2000:]}", [self.token, *self.server.issued])
        assert status in (0, 7), shown
        return status, out

    def run(self, *args: str) -> Any:
        """A reading command: exit 0, its JSON."""
        status, out = self._exec(args)
        assert status == 0, out[-2000:]
        return json.loads(out)

    def change(self, *args: str) -> dict[str, Any]:
        """A mutation, applied. Its own check against public DNS is off, so the client reports
        a new record as accepted but not yet seen (exit 7, its documented code for that) and
        skips the check otherwise (exit 0)."""
        status, out = self._exec(args)
        result = dict(json.loads(out))
        assert result["applied"] is True, result
        expected = 7 if result["verification"] == "accepted_pending_visibility" else 0
        assert result["verification"] in ("accepted_pending_visibility", "skipped"), result
        assert status == expected, result
        return result

    def addresses(self, name: str) -> tuple[int, set[str]]:
        query = dns.message.make_query(name, "A", flags=0)
        answer = dns.query.udp(query, "127.0.0.1", port=self.server.dns_port, timeout=5)
        return answer.rcode(), {rd.to_text() for rrset in answer.answer for rd in rrset}


@pytest.fixture
def cli(server: Server, o2switch_python: Path, tmp_path: Path) -> Cli:
    return Cli(server, o2switch_python, tmp_path)


def test_o2switch_cli_sees_the_accounts_domain(cli: Cli) -> None:
    cli.run("config", "test")
    listed = cli.run("domains", "list")
    assert cli.domain in json.dumps(listed)


def test_o2switch_cli_points_a_name_moves_it_and_deletes_it(cli: Cli) -> None:
    name = f"home.{cli.domain}"
    assert cli.change("dns", "upsert", "--host", name, "--ip", "192.0.2.7")["action"] == "created"
    assert cli.addresses(name) == (dns.rcode.NOERROR, {"192.0.2.7"})
    same = cli.run("dns", "upsert", "--host", name, "--ip", "192.0.2.7")  # already so
    assert same["applied"] is False, same
    assert cli.change("dns", "upsert", "--host", name, "--ip", "192.0.2.8")["action"] == "updated"
    assert cli.addresses(name) == (dns.rcode.NOERROR, {"192.0.2.8"})
    found = cli.run("dns", "search", "home")
    assert name in json.dumps(found) and "192.0.2.8" in json.dumps(found)
    assert cli.change("dns", "delete", "--host", name)["action"] == "deleted"
    assert cli.addresses(name)[1] == set()


def test_o2switch_cli_makes_and_deletes_a_subdomain(cli: Cli) -> None:
    name = f"shop.{cli.domain}"
    cli.change("subdomains", "create", "--root", cli.domain, "--label", "shop")
    rcode, found = cli.addresses(name)
    assert rcode == dns.rcode.NOERROR and len(found) == 1
    listed = json.dumps(cli.run("subdomains", "search", "shop"))
    assert name in listed and f"/home/{cli.user}/public_html/shop" in listed
    cli.change("subdomains", "delete", "--fqdn", name)
    assert cli.addresses(name)[1] == set()
