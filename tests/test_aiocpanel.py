"""aiocpanel (PyPI, pinned; an asyncio client of UAPI's SSL, AutoSSL and Dynamic DNS, written for
home-automation setups), unmodified, against the cPanel face over TLS.

It finds a domain's webcall again through `DynamicDNS::list`'s `id` (`ensure_dynamic_dns`),
builds the webcall URL from it, calls it, reads `SSL::fetch_best_for_domain`'s `crt`, `key` and
`cab`, and maps HTTP 401/403 to its auth error and `status: 0` to its API error. The driver
below runs inside the client's own virtualenv (tests/client_venvs.py) and prints what it saw,
never a secret: ids and PEMs are compared there and reported as digests or booleans.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import httpx
import pytest

from client_venvs import PinnedVenv, run_driver
from conftest import Server
from ssl_helpers import make_ca, make_leaf

AIOCPANEL = PinnedVenv(
    "aiocpanel", {"aiocpanel": "0.1.0", "aiohttp": "3.14.5"}, probe="aiocpanel.client"
)

DRIVER = r"""
import asyncio, hashlib, json, os, ssl, sys
import aiohttp
from aiocpanel import CpanelClient

port, cafile, user, domain, phase = sys.argv[1:]
token = os.environ["AIOCPANEL_TOKEN"]

def digest(text):
    return None if text is None else hashlib.sha256(text.strip().encode()).hexdigest()

async def outcome(coro):
    try:
        return {"ok": await coro}
    except Exception as exc:  # what the client raises is what the test reads
        return {"error": type(exc).__name__, "message": str(exc)}

async def main():
    context = ssl.create_default_context(cafile=cafile)
    seen = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
        client = CpanelClient(session, "127.0.0.1", user, token, port=int(port))
        if phase == "dynamic_dns":
            seen["before"] = (await outcome(client.list_dynamic_dns()))["ok"]
            name = f"home.{domain}"
            made = await client.ensure_dynamic_dns(name, "router")
            again = await outcome(client.ensure_dynamic_dns(name.upper(), "router"))
            seen["made"] = {
                "id_length": len(made.id),
                "url": made.webcall_url.replace(made.id, "ID"),
            }
            seen["again_same_id"] = again.get("ok") is not None and again["ok"].id == made.id
            seen["again"] = {k: v for k, v in again.items() if k != "ok"}
            listed = await client.list_dynamic_dns()
            seen["listed"] = [(r.domain, r.id == made.id) for r in listed]
            seen["webcall"] = await outcome(client.call_webcall(made))
            seen["autossl"] = await outcome(client.start_autossl_check())
            seen["no_certificate"] = await outcome(client.fetch_certificate(domain))
            wrong = CpanelClient(session, "127.0.0.1", user, "X" * 32, port=int(port))
            seen["wrong_token"] = await outcome(wrong.list_dynamic_dns())
        else:
            found = await outcome(client.fetch_certificate(domain))
            if "ok" in found:
                cert = found["ok"]
                found = {"crt": digest(cert.crt), "key": digest(cert.key_pem),
                         "cab": digest(cert.cab), "fullchain": digest(cert.fullchain)}
            seen["certificate"] = found
    print(json.dumps(seen))

asyncio.run(main())
"""


@pytest.fixture(scope="session")
def aiocpanel_python() -> Path:
    return AIOCPANEL.ready()


def drive(python: Path, server: Server, user: str, token: str, phase: str) -> dict[str, Any]:
    cafile = server.data_dir / "tls" / "cert.pem"
    args = [str(server.cpanel_https_port), str(cafile), user, f"{user}.example.com", phase]
    secrets = {"AIOCPANEL_TOKEN": token}
    return dict(run_driver(python, DRIVER, args, secrets, server.issued))


def sha256(text: str) -> str:
    return hashlib.sha256(text.strip().encode()).hexdigest()


def test_aiocpanel_keeps_a_dynamic_dns_domain_and_calls_its_webcall(
    server: Server, aiocpanel_python: Path
) -> None:
    user, password = server.account()
    token = server.cpanel_token(user, password)
    seen = drive(aiocpanel_python, server, user, token, "dynamic_dns")

    assert seen["before"] == []
    assert seen["made"] == {
        "id_length": 32,
        "url": f"https://127.0.0.1:{server.cpanel_https_port}/cpanelwebcall/ID",
    }
    # The second ensure finds the domain through `list` and its id: nothing new is made.
    assert seen["again"] == {} and seen["again_same_id"] is True
    assert seen["listed"] == [[f"home.{user}.example.com", True]]
    assert seen["webcall"] == {"ok": f"home.{user}.example.com A 127.0.0.1 updated"}
    # cPanel never refuses the call, AutoSSL off or not (Cpanel/API/SSL.pm): nothing is queued.
    assert seen["autossl"] == {"ok": None}
    assert seen["no_certificate"]["error"] == "CpanelNoCertificateError"
    assert seen["wrong_token"] == {
        "error": "CpanelAuthError",
        "message": "cPanel returned HTTP 401",
    }


def test_aiocpanel_fetches_the_installed_certificate_key_and_chain(
    server: Server, aiocpanel_python: Path
) -> None:
    user, password = server.account()
    token = server.cpanel_token(user, password)
    domain = f"{user}.example.com"
    ca = make_ca()
    leaf = make_leaf(ca, [domain])
    server.remember(leaf.key_pem)
    installed = httpx.post(
        f"{server.cpanel_url}/execute/SSL/install_ssl",
        data={
            "domain": domain,
            "cert": leaf.cert_pem,
            "key": leaf.key_pem,
            "cabundle": ca.cert_pem,
        },
        headers={"Authorization": f"cpanel {user}:{token}"},
        timeout=60,
    )
    assert installed.json()["status"] == 1, installed.text

    seen = drive(aiocpanel_python, server, user, token, "certificate")
    assert seen["certificate"] == {
        "crt": sha256(leaf.cert_pem),
        "key": sha256(leaf.key_pem),
        "cab": sha256(ca.cert_pem),
        "fullchain": sha256(leaf.cert_pem.strip() + "\n" + ca.cert_pem.strip()),
    }
