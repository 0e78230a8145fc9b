"""A real external nameserver serving gatehouse's zone files: PowerDNS (Debian's pdns-server
with pdns-backend-bind) reads `named.conf.zones` and the `<zone>.db` files, on a high port on
127.0.0.1, and gatehouse tells it about changes with `pdns_control` (bind-reload-now per zone,
rediscover when zones come or go). Its answers must be the stored zones, as written.

Needs `pdns_server` (scripts/ensure-test-tools installs it): skipped without it, except in CI
(CI=true), where a missing tool is a failure."""

from __future__ import annotations

import json
import os
import secrets
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone
import pytest

from conftest import Server, free_dns_port, stop_server
from test_zonefiles import fresh_store, start_node, stored

DEADLINE = 20.0  # seconds for PowerDNS to show a change


def _tool(name: str) -> str | None:
    # Debian puts pdns_server in /usr/sbin, which a non-root PATH may lack.
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")


def _bind_backend() -> bool:
    return any(Path("/usr/lib").glob("*/pdns/libbindbackend.so"))


def _missing() -> str | None:
    if _tool("pdns_server") is None or _tool("pdns_control") is None:
        return "pdns_server is not installed (Debian pdns-server; scripts/ensure-test-tools)"
    if not _bind_backend():
        return "PowerDNS's bind backend is not installed (Debian pdns-backend-bind)"
    return None


@dataclass
class PowerDNS:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    def query(self, name: str, rdtype: str) -> dns.message.Message:
        request = dns.message.make_query(name, rdtype)
        return dns.query.udp(request, "127.0.0.1", port=self.port, timeout=2)

    def rrset(self, name: str, rdtype: str) -> dns.rrset.RRset | None:
        """The answer's RRset of that name and type, if PowerDNS answers for the zone."""
        response = self.query(name, rdtype)
        if response.rcode() != dns.rcode.NOERROR:
            return None
        owner = dns.name.from_text(name)
        for rrset in response.answer:
            if rrset.name == owner and rrset.rdtype == dns.rdatatype.from_text(rdtype):
                return rrset
        return None

    def wait(self, what: str, check: object) -> None:
        deadline = time.monotonic() + DEADLINE
        while True:
            if callable(check) and check():
                return
            if self.process.poll() is not None:
                raise AssertionError(f"pdns_server exited:\n{self.log_path.read_text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"PowerDNS did not show {what} within {DEADLINE:g} s")
            time.sleep(0.1)


@dataclass
class Setup:
    server: Server
    pdns: PowerDNS


@pytest.fixture(scope="module")
def setup(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    missing = _missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs the PowerDNS test: {missing}")
        pytest.skip(missing)
    pdns_server, pdns_control = _tool("pdns_server"), _tool("pdns_control")
    assert pdns_server and pdns_control
    base = tmp_path_factory.mktemp("powerdns")
    config_dir, socket_dir = base / "pdns-config", base / "pdns-socket"
    config_dir.mkdir()
    socket_dir.mkdir()
    (config_dir / "pdns.conf").write_text("")  # every setting is on the command line
    control = (
        f"{shlex.quote(pdns_control)} --config-dir={shlex.quote(str(config_dir))} "
        f"--socket-dir={shlex.quote(str(socket_dir))}"
    )
    # The commands docs/zonefiles.md gives for PowerDNS. Each also purges PowerDNS's packet
    # cache, which would otherwise answer from before the change for up to cache-ttl (20 s)
    # or, for a zone it did not know, negquery-cache-ttl (60 s). PowerDNS 4.7 has no
    # `bind-rediscover`: `rediscover` rereads the bind-config file.
    reload, reconfig = base / "pdns-reload", base / "pdns-reconfig"
    reload.write_text(f'#!/bin/sh\nset -e\n{control} bind-reload-now "$1"\n{control} purge "$1$"\n')
    reconfig.write_text(f"#!/bin/sh\nset -e\n{control} rediscover\n{control} purge\n")
    reload.chmod(0o755)
    reconfig.chmod(0o755)
    env = {
        "GATEHOUSE_ZONE_RELOAD_COMMAND": f"{shlex.quote(str(reload))} {{zone}}",
        "GATEHOUSE_ZONE_RECONFIG_COMMAND": shlex.quote(str(reconfig)),
    }
    with fresh_store(backend, base) as db_url:
        # gatehouse first: its start-up sync writes the include PowerDNS is pointed at.
        server = start_node(base / "data", db_url, backend, secrets.token_urlsafe(16), env)
        try:
            port = free_dns_port()
            log_path = base / "pdns.log"
            with open(log_path, "ab") as log:
                process = subprocess.Popen(
                    [
                        pdns_server,
                        f"--config-dir={config_dir}",
                        "--launch=bind",
                        f"--bind-config={server.data_dir / 'zones' / 'named.conf.zones'}",
                        "--local-address=127.0.0.1",
                        f"--local-port={port}",
                        f"--socket-dir={socket_dir}",
                        "--daemon=no",
                        "--guardian=no",
                        "--disable-syslog=yes",
                        "--write-pid=no",
                        "--security-poll-suffix=",  # no DNS traffic beyond 127.0.0.1
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            pdns = PowerDNS(process, port, log_path)
            try:
                # Up once it answers at all (REFUSED: no zone yet).
                pdns.wait("an answer", lambda: _answers(pdns))
                yield Setup(server, pdns)
            finally:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        finally:
            stop_server(server)


def _answers(pdns: PowerDNS) -> bool:
    try:
        pdns.query("probe.invalid", "SOA")
    except (dns.exception.Timeout, OSError):
        return False
    return True


def _zone_of(server: Server, name: str) -> dns.zone.Zone:
    text = stored(server, name)
    assert text is not None
    return dns.zone.from_text(text.decode(), origin=f"{name}.", relativize=False)


def _serves(pdns: PowerDNS, zone: dns.zone.Zone) -> bool:
    """Every RRset of the stored zone is PowerDNS's answer, TTLs included."""
    for owner, node in zone.nodes.items():
        for rdataset in node.rdatasets:
            rdtype = dns.rdatatype.to_text(rdataset.rdtype)
            got = pdns.rrset(owner.to_text(), rdtype)
            if got is None or set(got) != set(rdataset) or got.ttl != rdataset.ttl:
                return False
    return True


def _serial(pdns: PowerDNS, name: str) -> int | None:
    soa = pdns.rrset(f"{name}.", "SOA")
    return None if soa is None else int(soa[0].serial)


def test_powerdns_serves_a_new_accounts_zone_as_stored(setup: Setup) -> None:
    user, _password = setup.server.account()
    name = f"{user}.example.com"
    setup.pdns.wait("the new zone", lambda: _serial(setup.pdns, name) is not None)
    zone = _zone_of(setup.server, name)
    kinds = {
        dns.rdatatype.to_text(r.rdtype) for node in zone.nodes.values() for r in node.rdatasets
    }
    assert {"SOA", "NS", "A", "MX", "CNAME"} <= kinds
    assert _serves(setup.pdns, zone)
    www = setup.pdns.rrset(f"www.{name}.", "CNAME")
    assert www is not None and www[0].target.to_text() == f"{name}."
    response = setup.pdns.query(f"{name}.", "SOA")
    assert response.flags & dns.flags.AA


def test_powerdns_follows_edits(setup: Setup) -> None:
    user, _password = setup.server.account()
    name = f"{user}.example.com"
    setup.pdns.wait("the zone", lambda: _serial(setup.pdns, name) is not None)
    value = secrets.token_urlsafe(24)
    serial = str(_serial(setup.pdns, name))
    add = {"dname": "_acme-challenge", "ttl": 120, "record_type": "TXT", "data": [value]}
    new_serial = setup.server.ok(
        "mass_edit_dns_zone", params=[("zone", name), ("serial", serial), ("add", json.dumps(add))]
    )["new_serial"]
    txt_name = f"_acme-challenge.{name}."

    def txt() -> list[str]:
        rrset = setup.pdns.rrset(txt_name, "TXT")
        return [] if rrset is None else [b"".join(r.strings).decode() for r in rrset]

    setup.pdns.wait("the TXT record", lambda: txt() == [value])
    assert _serial(setup.pdns, name) == int(new_serial)
    assert _serves(setup.pdns, _zone_of(setup.server, name))
    payload = setup.server.ok("parse_dns_zone", params={"zone": name})["payload"]
    line = next(
        i["line_index"]
        for i in payload
        if i["type"] == "record" and i["record_type"] == "TXT" and i["ttl"] == 120
    )
    setup.server.ok(
        "mass_edit_dns_zone",
        params=[("zone", name), ("serial", new_serial), ("remove", str(line))],
    )
    setup.pdns.wait("the TXT record gone", lambda: txt() == [])
    assert setup.pdns.query(txt_name, "TXT").rcode() == dns.rcode.NXDOMAIN
    assert _serves(setup.pdns, _zone_of(setup.server, name))


def test_powerdns_picks_up_added_and_removed_zones(setup: Setup) -> None:
    user, _password = setup.server.account()
    extra = f"extra-{user}.example.org"
    setup.server.ok("adddns", params={"domain": extra, "ip": "192.0.2.44", "trueowner": user})
    setup.pdns.wait("the added zone", lambda: _serial(setup.pdns, extra) is not None)
    assert _serves(setup.pdns, _zone_of(setup.server, extra))
    apex = setup.pdns.rrset(f"{extra}.", "A")
    assert apex is not None and [r.address for r in apex] == ["192.0.2.44"]
    setup.server.ok("killdns", params={"domain": extra})
    setup.pdns.wait(
        "the zone removed",
        lambda: setup.pdns.query(f"{extra}.", "SOA").rcode() == dns.rcode.REFUSED,
    )
