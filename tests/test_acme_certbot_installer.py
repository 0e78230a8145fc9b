"""certbot as installer too, end to end through the cPanel face (docs/certbot.md): `certbot run
-a cpanel -i cpanel` — certbot-dns-cpanel adds the DNS-01 records with API 2 `ZoneEdit`, Pebble
validates them through gatehouse's nameserver, and the plugin's installer sends the
certificate, its key and Pebble's chain to API 2 `SSL::installssl` (GET /json-api/cpanel, as the
plugin does). The account's UAPI `SSL::installed_hosts` then returns that very certificate,
its key is stored encrypted, and `certbot renew` installs the renewed one the same way.

Needs `pebble` and the certbot venv (tests/acme_harness.py); skipped without them, failed
when CI=true."""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from acme_harness import (
    Certbot,
    Unavailable,
    certbot_venv,
    pebble_missing,
    running_pebble,
    write_credentials,
)
from conftest import Server
from test_acme_certbot import make_account


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI needs the certbot end-to-end test: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
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
    with tempfile.TemporaryDirectory(prefix="gh-acmei-") as name:
        yield Path(name)


def installed_hosts(server: Server, username: str, token: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{server.cpanel_url}/execute/SSL/installed_hosts",
        headers={"Authorization": f"cpanel {username}:{token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == 1, body
    return list(body["data"])


def fingerprint(pem_path: Path) -> str:
    leaf = x509.load_pem_x509_certificate(pem_path.read_bytes())
    return hashlib.sha256(leaf.public_bytes(Encoding.DER)).hexdigest()


def test_certbot_installs_through_the_cpanel_face(
    server: Server, certbot_exe: Path, workdir: Path
) -> None:
    domain = f"i{uuid.uuid4().hex[:10]}.example.com"
    username, token = make_account(server, domain)
    assert installed_hosts(server, username, token) == []
    credentials = write_credentials(
        workdir / "cpanel.ini", url=server.cpanel_url, username=username, token=token
    )
    with running_pebble(workdir / "pebble", f"127.0.0.1:{server.dns_port}") as pebble:
        certbot = Certbot(certbot_exe, workdir / "certbot", pebble.ca_pem, list(server.issued))
        # `run` (certbot's default command): obtain with `-a`, install with `-i`.
        run = certbot.run(
            "run",
            "-a",
            "cpanel",
            "-i",
            "cpanel",
            "--cpanel-credentials",
            str(credentials),
            "--cpanel-propagation-seconds",
            "0",
            "-d",
            domain,
            "--server",
            pebble.directory_url,
            "--agree-tos",
            "--no-eff-email",
            "-m",
            "admin@example.test",
        )
        assert run.ok, run.explain()
        live = certbot.live(domain)
        server.remember((live / "privkey.pem").read_text())

        [host] = installed_hosts(server, username, token)
        assert host["servername"] == domain and host["domains"] == [domain]
        certificate = host["certificate"]
        assert certificate["domains"] == [domain]
        assert certificate["id"].endswith(fingerprint(live / "cert.pem"))
        assert certificate["is_self_signed"] == 0
        issuer = x509.load_pem_x509_certificate((live / "chain.pem").read_bytes())
        assert certificate["issuer.commonName"] == issuer.subject.rfc4514_string().split("=")[-1]
        # The key is stored encrypted; the chain came with it (fetch_best_for_domain's cab).
        keys = server.sql(
            "SELECT k.ciphertext FROM ssl_keys k JOIN users u ON u.id = k.user_id "
            "WHERE u.username = :u",
            u=username,
        )
        assert len(keys) == 1 and b"PRIVATE KEY" not in bytes(keys[0][0])
        best = httpx.get(
            f"{server.cpanel_url}/execute/SSL/fetch_best_for_domain",
            params={"domain": domain},
            headers={"Authorization": f"cpanel {username}:{token}"},
            timeout=30,
        ).json()["data"]
        assert best["crt"].strip() == (live / "cert.pem").read_text().strip()
        assert best["cab"] and "BEGIN CERTIFICATE" in best["cab"]

        # A renewed certificate is installed the same way with `certbot install`. (`certbot
        # renew` alone does not: certbot calls an installer at renewal only through its
        # RenewDeployer interface, which certbot-dns-cpanel 0.4 does not register.)
        before = certificate["id"]
        renew = certbot.run("renew", "--force-renewal", "--no-random-sleep-on-renew")
        assert renew.ok, renew.explain()
        server.remember((live / "privkey.pem").read_text())
        assert installed_hosts(server, username, token)[0]["certificate"]["id"] == before
        install = certbot.run(
            "install",
            "--cert-name",
            domain,
            "-i",
            "cpanel",
            "--cpanel-credentials",
            str(credentials),
        )
        assert install.ok, install.explain()
        [host] = installed_hosts(server, username, token)
        assert host["certificate"]["id"] != before
        assert host["certificate"]["id"].endswith(fingerprint(live / "cert.pem"))
