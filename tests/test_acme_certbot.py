"""A real ACME client end to end: certbot with the certbot-dns-cpanel plugin (PyPI, pinned, in
their own venv) gets a certificate for `example.test` and `*.example.test` from Pebble, an
ACME test CA, with real DNS-01 validation: the plugin adds the `_acme-challenge` TXT records
through gatehouse's cPanel face (API 2 `ZoneEdit`) with an account's cPanel API token, and
Pebble looks them up through gatehouse's built-in nameserver (`pebble -dnsserver`). Then the
challenge records are gone and the rest of the zone is as it was; a second run renews.

A control run shows that Pebble's verdict depends on that nameserver: with the nameserver out
of its reach, the same order fails (and the plugin still cleans up).

Needs `pebble` and `openssl` (scripts/ensure-test-tools) and PyPI once, for the venv in
`.cache/certbot-venv`; without them the tests skip, or fail when CI=true. docs/certbot.md.
"""

from __future__ import annotations

import base64
import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
)

from acme_harness import (
    Certbot,
    Pebble,
    Unavailable,
    certbot_venv,
    closed_udp_port,
    pebble_missing,
    redact,
    running_pebble,
    write_credentials,
)
from conftest import Server
from gatehouse.passwords import generate_password
from zone_helpers import unstamped

DOMAIN = "example.test"
NAMES = [DOMAIN, f"*.{DOMAIN}"]
CHALLENGE = f"_acme-challenge.{DOMAIN}"


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI needs the certbot end-to-end test: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def certbot_exe() -> Path:
    missing = pebble_missing()
    if missing:
        _unavailable(missing)
    try:
        return certbot_venv()
    except Unavailable as exc:
        _unavailable(str(exc))


@pytest.fixture
def workdir() -> Iterator[Path]:
    """Short paths (certbot and Pebble write many files), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="gh-acme-") as name:
        yield Path(name)


# -- the account, its token and its zone, through the real APIs -------------------------------


def make_account(server: Server, domain: str) -> tuple[str, str]:
    """A cPanel account owning `domain` (WHM API 1 createacct, as root) and a full-access
    cPanel API token of its own, minted over the cPanel face (UAPI Tokens::create_full_access
    with the account's password), as a user would. Returns (username, token)."""
    username = "a" + uuid.uuid4().hex[:10]
    password = server.remember(f"Pw-{generate_password()}")
    server.ok("createacct", params={"username": username, "domain": domain, "password": password})
    basic = base64.b64encode(f"{username}:{password}".encode()).decode()
    response = httpx.get(
        f"{server.cpanel_url}/execute/Tokens/create_full_access",
        params={"name": f"certbot-{uuid.uuid4().hex[:8]}"},
        headers={"Authorization": f"Basic {basic}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    result = response.json()  # /execute/: UAPI's flat result object
    assert result["status"] == 1, result
    return username, server.remember(result["data"]["token"])


def zone_records(server: Server, zone: str) -> list[dict[str, Any]]:
    data = server.ok("dumpzone", params={"domain": zone})
    return list(data["zone"][0]["record"])


def without_serial(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The zone as a user sees it, the SOA serial and the version line's time aside (every
    change moves them)."""
    out = []
    for record in records:
        if record.get("type") == "SOA":
            record = {**record, "serial": "<serial>"}
        elif record.get("type") == ":RAW":
            record = {**record, "raw": unstamped(record["raw"])}
        out.append(record)
    return out


def serial(records: list[dict[str, Any]]) -> int:
    return next(int(r["serial"]) for r in records if r.get("type") == "SOA")


def challenge_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if "_acme-challenge" in str(r.get("name", ""))]


def ask(server: Server, name: str, rdtype: str) -> dns.message.Message:
    """One UDP query to gatehouse's built-in nameserver, as Pebble makes them."""
    query = dns.message.make_query(name, rdtype)
    return dns.query.udp(query, "127.0.0.1", port=server.dns_port, timeout=5)


# -- certificates -----------------------------------------------------------------------------


def load_chain(path: Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(path.read_bytes())


def dns_names(cert: x509.Certificate) -> set[str]:
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(san.get_values_for_type(x509.DNSName))


def check_certificate(
    live: Path, pebble: Pebble, names: list[str] | None = None
) -> x509.Certificate:
    """The lineage's certificate names both names, chains to Pebble's root (from its management
    interface) and matches the private key next to it. Returns the leaf."""
    leaf, *chain = load_chain(live / "fullchain.pem")
    assert load_chain(live / "cert.pem") == [leaf]
    assert dns_names(leaf) == set(names or NAMES)
    assert chain, "fullchain.pem holds no intermediate"
    root = x509.load_pem_x509_certificate(pebble.management("/roots/0").encode())
    issuer = leaf
    for parent in [*chain, root]:
        issuer.verify_directly_issued_by(parent)
        issuer = parent
    key = load_pem_private_key((live / "privkey.pem").read_bytes(), password=None)
    spki = (Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    assert key.public_key().public_bytes(*spki) == leaf.public_key().public_bytes(*spki)
    return leaf


def validations(pebble: Pebble) -> int:
    """How many authorizations Pebble has found valid by a completed challenge (its log)."""
    return pebble.log().count("set VALID by completed challenge")


def authorizations(pebble: Pebble) -> int:
    """How many authorizations Pebble has made (its log: "There are now N authorizations")."""
    counts = re.findall(r"There are now (\d+) authorizations in the db", pebble.log())
    return int(counts[-1]) if counts else 0


def pebble_log(pebble: Pebble, server: Server) -> str:
    return redact(pebble.log(), server.issued)


# -- the tests --------------------------------------------------------------------------------


def test_certbot_obtains_and_renews_a_wildcard_certificate_over_dns01(
    server: Server, certbot_exe: Path, workdir: Path
) -> None:
    username, token = make_account(server, DOMAIN)
    before = zone_records(server, DOMAIN)
    assert not challenge_records(before)
    answer = ask(server, DOMAIN, "SOA")
    assert answer.rcode() == dns.rcode.NOERROR and answer.flags & dns.flags.AA, answer

    credentials = write_credentials(
        workdir / "cpanel.ini", url=server.cpanel_url, username=username, token=token
    )
    with running_pebble(workdir / "pebble", f"127.0.0.1:{server.dns_port}") as pebble:
        certbot = Certbot(certbot_exe, workdir / "certbot", pebble.ca_pem, list(server.issued))
        first = certbot.certonly(pebble.directory_url, NAMES, credentials)
        assert first.ok, first.explain()
        # One authorization per name, each validated by Pebble (no reuse: PEBBLE_AUTHZREUSE=0).
        assert validations(pebble) == authorizations(pebble) == 2, pebble_log(pebble, server)
        live = certbot.live(DOMAIN)
        leaf = check_certificate(live, pebble)

        after = zone_records(server, DOMAIN)
        assert not challenge_records(after), challenge_records(after)
        assert without_serial(after) == without_serial(before)
        # Two TXT records added and two removed, each a change of the zone through API 2.
        assert serial(after) >= serial(before) + 4
        gone = ask(server, CHALLENGE, "TXT")
        assert gone.rcode() == dns.rcode.NXDOMAIN and not gone.answer, gone

        renewal = (certbot.config_dir / "renewal" / f"{DOMAIN}.conf").read_text()
        holds_token = token in renewal  # the conf names the credentials file, not the secret
        assert not holds_token, "the renewal conf holds the token"
        for line in (
            "authenticator = cpanel",
            f"cpanel_credentials = {credentials}",
            "cpanel_propagation_seconds = 0",
        ):
            assert line in renewal.splitlines(), renewal

        # The renewal, from the saved conf. Pebble reuses a valid authorization 1 time in 100
        # even with PEBBLE_AUTHZREUSE=0 (it tests `rand.Intn(100) > percent`): every renewal
        # must succeed, and one of at most three must have been validated entirely afresh.
        previous = leaf
        for _attempt in range(3):
            validated = validations(pebble)
            renew = certbot.run("renew", "--force-renewal", "--no-random-sleep-on-renew")
            assert renew.ok, renew.explain()
            renewed = check_certificate(live, pebble)
            assert renewed.serial_number != previous.serial_number
            assert renewed.not_valid_before_utc >= previous.not_valid_before_utc
            previous = renewed
            # Every authorization Pebble made was validated (through the nameserver).
            assert validations(pebble) == authorizations(pebble), pebble_log(pebble, server)
            final = zone_records(server, DOMAIN)
            assert not challenge_records(final), challenge_records(final)
            assert without_serial(final) == without_serial(before)
            assert serial(final) >= serial(after) + 2 * (validations(pebble) - validated)
            after = final
            assert ask(server, CHALLENGE, "TXT").rcode() == dns.rcode.NXDOMAIN
            if validations(pebble) - validated == len(NAMES):
                break
        else:
            raise AssertionError("Pebble reused an authorization in three renewals running")


def test_certbot_fails_when_pebble_cannot_reach_the_nameserver(
    server: Server, certbot_exe: Path, workdir: Path
) -> None:
    """The control: the same run, with Pebble asking a port where nothing answers, fails with
    Pebble unable to read the TXT records; the records the plugin added are removed anyway."""
    domain = f"c{uuid.uuid4().hex[:10]}.example.com"
    username, token = make_account(server, domain)
    before = zone_records(server, domain)
    credentials = write_credentials(
        workdir / "cpanel.ini", url=server.cpanel_url, username=username, token=token
    )
    with running_pebble(workdir / "pebble", f"127.0.0.1:{closed_udp_port()}") as pebble:
        certbot = Certbot(certbot_exe, workdir / "certbot", pebble.ca_pem, list(server.issued))
        run = certbot.certonly(pebble.directory_url, [domain, f"*.{domain}"], credentials)
        assert not run.ok, run.explain()
        assert run.mentions("Error retrieving TXT records for DNS challenge"), run.explain()
        assert validations(pebble) == 0, pebble_log(pebble, server)
        assert "set INVALID by completed challenge" in pebble.log(), pebble_log(pebble, server)
        assert not certbot.live(domain).exists()
    after = zone_records(server, domain)
    assert without_serial(after) == without_serial(before)
    assert serial(after) >= serial(before) + 4  # the plugin added both records, then removed them


def test_a_token_scoped_to_the_challenge_record_gets_a_certificate_and_nothing_else(
    server: Server, certbot_exe: Path, workdir: Path
) -> None:
    """The DNS-01 token of issue 17 §6: limited (Tokens::gatehouse_set_scope) to its zone and,
    there, to the `_acme-challenge` TXT records — enough for certbot's whole round trip, and
    refused anything else: another record of its zone, another account's zone."""
    domain = f"s{uuid.uuid4().hex[:10]}.example.com"
    other_domain = f"o{uuid.uuid4().hex[:10]}.example.com"
    username, token = make_account(server, domain)
    make_account(server, other_domain)
    token_name = server.uapi(username, "Tokens", "list", token=token).json()["data"][0]["name"]
    scoped = server.uapi(
        username, "Tokens", "gatehouse_set_scope", token=token, name=token_name,
        scope_zone=domain, scope_record=f"_acme-challenge.{domain}", scope_record_type="TXT",
    ).json()  # fmt: skip
    assert scoped["status"] == 1, scoped
    before = zone_records(server, domain)
    credentials = write_credentials(
        workdir / "cpanel.ini", url=server.cpanel_url, username=username, token=token
    )
    with running_pebble(workdir / "pebble", f"127.0.0.1:{server.dns_port}") as pebble:
        certbot = Certbot(certbot_exe, workdir / "certbot", pebble.ca_pem, list(server.issued))
        run = certbot.certonly(pebble.directory_url, [domain, f"*.{domain}"], credentials)
        assert run.ok, run.explain()
        check_certificate(certbot.live(domain), pebble, [domain, f"*.{domain}"])
    assert without_serial(zone_records(server, domain)) == without_serial(before)
    elsewhere = server.api2(
        username, "ZoneEdit", "add_zone_record", token=token,
        domain=domain, name="shop", type="A", address="192.0.2.44", ttl="60",
    )  # fmt: skip
    assert "This API token may not change the A record" in elsewhere.text, elsewhere.text
    other_zone = server.api2(
        username, "ZoneEdit", "add_zone_record", token=token,
        domain=other_domain, name="_acme-challenge", type="TXT", txtdata="x", ttl="60",
    )  # fmt: skip
    assert "You do not possess permission to read the zone" in other_zone.text, other_zone.text
    assert without_serial(zone_records(server, domain)) == without_serial(before)
