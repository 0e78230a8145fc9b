"""`make screenshots`: PNGs of the main WHM pages and of the cPanel pages, taken in headless
Chromium against a real `gatehouse serve` on a scratch SQLite store, written to the directory
given (docs/screenshots).

Uses the test harness (tests/conftest.py) to start the server, and Debian's chromium only.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from urllib.parse import urlsplit  # noqa: E402

from playwright.sync_api import sync_playwright  # noqa: E402

from conftest import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    run_cli,
    start_server,
    stop_server,
)
from pages_helpers import log_in  # noqa: E402
from ssl_helpers import DAY, make_ca, make_leaf  # noqa: E402


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch)
        db_url = f"sqlite:///{data_dir / 'gatehouse.db'}"
        password = secrets.token_urlsafe(16)
        run_cli("init", "--root-password-stdin", data_dir=data_dir, db_url=db_url, stdin=password)
        server = start_server(data_dir, db_url, "sqlite", password)
        try:
            _sample_tokens(server)
            _shoot(server, out)
            _shoot_cpanel(server, out)
            _shoot_ssl(server, out)
        finally:
            stop_server(server)


def _sample_tokens(server: Any) -> None:
    now = int(time.time())
    used = server.token("billing-sync")
    server.get("myprivs", token=used)
    server.token(
        "ci-deploy",
        acl=["list-accts", "create-acct", "suspend-acct"],
        whitelist_ip=["203.0.113.10", "203.0.113.11", "198.51.100.0/24", "2001:db8::/32"]
        + [f"192.0.2.{i}" for i in range(1, 4)],
    )
    server.token("backup-script", acl=["list-accts"], expires_at=now + 3 * 86400)
    server.token("old-monitoring", acl=["basic-system-info"], expires_at=now + 86400)
    server.sql("UPDATE api_tokens SET expires_at = :t WHERE name = 'old-monitoring'", t=now - 86400)


def _shoot(server: Any, out: Path) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{server.url}/")
        page.screenshot(path=out / "login.png")
        prefix = log_in(page, server)
        base = f"{server.url}{prefix}"
        page.screenshot(path=out / "home.png")
        page.goto(f"{base}/tokens")
        page.screenshot(path=out / "tokens.png", full_page=True)
        page.goto(f"{base}/tokens/new")
        page.get_by_label("Token name").fill("reporting")
        page.get_by_label("Allowed IP addresses (optional)").fill("203.0.113.7\nnot-an-address")
        page.locator("#everything").uncheck()
        page.locator("#acl-list-accts").check()
        page.locator("#acl-manage-api-tokens").check()
        expiry = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=90)
        page.get_by_label("Expires (optional)").fill(expiry.isoformat())
        page.get_by_role("button", name="Save").click()
        page.screenshot(path=out / "generate-errors.png", full_page=True)
        page.get_by_label("Allowed IP addresses (optional)").fill("203.0.113.7")
        page.get_by_role("button", name="Save").click()
        page.screenshot(path=out / "token-created.png")
        page.get_by_role("button", name="Yes, I saved my token").click()
        page.goto(f"{base}/tokens/edit?name=ci-deploy")
        page.screenshot(path=out / "edit.png", full_page=True)
        page.goto(f"{base}/tokens/revoke?name=backup-script&name=old-monitoring")
        page.screenshot(path=out / "revoke.png")
        server.cli("whmapi1", "set_tweaksetting", "key=allow_deprecated_accesshash", "value=1")
        page.goto(f"{base}/accesshash")
        page.screenshot(path=out / "accesshash.png", full_page=True)
        phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
        phone.context.add_cookies(page.context.cookies())
        phone.goto(f"{base}/tokens")
        phone.screenshot(path=out / "tokens-phone.png", full_page=True)
        browser.close()
    for png in sorted(out.glob("*.png")):
        print(png)


CPANEL_USER = "shopkeep"
CPANEL_ZONE = "shop.example.com"


def _sample_account(server: Any) -> None:
    """A cPanel account with a few records and tokens, made over the APIs."""
    password = server.remember(secrets.token_urlsafe(16))
    params = {"username": CPANEL_USER, "domain": CPANEL_ZONE, "password": password}
    server.ok("createacct", params=params)
    basic = "Basic " + base64.b64encode(f"{CPANEL_USER}:{password}".encode()).decode()
    for name in ("billing-panel", "dns-updater"):
        server.cpanel_token(CPANEL_USER, password, name=name)
    parsed = server.uapi(CPANEL_USER, "DNS", "parse_zone", auth=basic, zone=CPANEL_ZONE).json()
    soa = next(i for i in parsed["data"] if i.get("record_type") == "SOA")
    serial = base64.b64decode(soa["data_b64"][2]).decode()
    adds = [
        {"dname": "shop", "ttl": 600, "record_type": "A", "data": ["203.0.113.20"]},
        {"dname": "@", "ttl": 3600, "record_type": "TXT", "data": ["v=spf1 mx -all"]},
        {"dname": "@", "ttl": 3600, "record_type": "MX", "data": ["10", "mail.shop.example.com."]},
    ]
    server.uapi(
        CPANEL_USER,
        "DNS",
        "mass_edit_zone",
        auth=basic,
        zone=CPANEL_ZONE,
        serial=serial,
        add=[json.dumps(a) for a in adds],
    )


def _shoot_cpanel(server: Any, out: Path) -> None:
    """The cPanel pages, entered as a billing system sends an account holder in: a
    create_user_session URL of service cpaneld."""
    _sample_account(server)
    data = server.ok("create_user_session", params={"user": CPANEL_USER, "service": "cpaneld"})
    login = urlsplit(data["url"])
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{server.cpanel_url}{login.path}?{login.query}")
        page.wait_for_url("**/cpsess*/")
        base = page.url.rstrip("/")
        page.screenshot(path=out / "cpanel-home.png")
        page.goto(f"{base}/tokens")
        page.screenshot(path=out / "cpanel-tokens.png", full_page=True)
        page.goto(f"{base}/tokens/new")
        page.get_by_label("Token name").fill("backup-job")
        page.get_by_role("button", name="Create").click()
        page.screenshot(path=out / "cpanel-token-created.png")
        page.get_by_role("button", name="Yes, I saved my token").click()
        page.goto(f"{base}/zones")
        page.screenshot(path=out / "cpanel-zone-editor.png", full_page=True)
        page.locator("tr", has=page.get_by_role("rowheader", name="shop", exact=True)).get_by_role(
            "link", name="Edit"
        ).click()
        page.screenshot(path=out / "cpanel-record-edit.png")
        browser.close()


def _sample_certificates(server: Any) -> None:
    """Certificates from a made-up CA on three accounts' domains: one current, one expiring in
    12 days, one expired (its stored expiry moved into the past)."""
    ca = make_ca("Example Issuing CA")
    now = dt.datetime.now(dt.UTC)
    sites = [
        (CPANEL_ZONE, [CPANEL_ZONE, f"www.{CPANEL_ZONE}"], now + 80 * DAY),
        ("bakery.example.org", ["bakery.example.org", "www.bakery.example.org"], now + 12 * DAY),
        ("old-blog.example.net", ["old-blog.example.net"], now + 40 * DAY),
    ]
    for domain, names, until in sites:
        if domain != CPANEL_ZONE:
            user = domain.split(".")[0].replace("-", "")[:8]
            server.ok("createacct", params={"username": user, "domain": domain,
                                            "password": secrets.token_urlsafe(16)})  # fmt: skip
        leaf = make_leaf(ca, names, not_after=until)
        params = {"domain": domain, "crt": leaf.cert_pem, "key": leaf.key_pem, "cab": ca.cert_pem}
        server.ok("installssl", params=params)
    server.sql(
        "UPDATE ssl_certificates SET not_after = :t WHERE id = "
        "(SELECT certificate_id FROM ssl_vhosts WHERE domain = 'old-blog.example.net')",
        t=int((now - 3 * DAY).timestamp()),
    )


def _shoot_ssl(server: Any, out: Path) -> None:
    """WHM › SSL/TLS (Manage SSL Hosts; Install, refused) and the account's cPanel SSL/TLS."""
    _sample_certificates(server)
    wrong_key = make_leaf(make_ca(), [CPANEL_ZONE]).key_pem
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        prefix = log_in(page, server)
        page.goto(f"{server.url}{prefix}/ssl")
        page.screenshot(path=out / "ssl-hosts.png", full_page=True)
        page.goto(f"{server.url}{prefix}/ssl/install")
        page.get_by_label("Domain", exact=True).fill(CPANEL_ZONE)
        page.get_by_label("Certificate (CRT)").fill(
            server.ok("fetchsslinfo", params={"domain": CPANEL_ZONE})["crt"]
        )
        page.get_by_label("Private key (KEY)").fill(wrong_key)
        page.get_by_role("button", name="Install Certificate").click()
        page.screenshot(path=out / "ssl-install-errors.png", full_page=True)
        data = server.ok("create_user_session", params={"user": CPANEL_USER, "service": "cpaneld"})
        login = urlsplit(data["url"])
        page.goto(f"{server.cpanel_url}{login.path}?{login.query}")
        page.wait_for_url("**/cpsess*/")
        page.goto(f"{page.url.rstrip('/')}/ssl")
        page.screenshot(path=out / "cpanel-ssl.png", full_page=True)
        browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"))
