"""`make screenshots`: PNGs of the main WHM pages, taken in headless Chromium against a real
`gatehouse serve` on a scratch SQLite store, written to the directory given (docs/screenshots).

Uses the test harness (tests/conftest.py) to start the server, and Debian's chromium only.
"""

from __future__ import annotations

import datetime as dt
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from playwright.sync_api import sync_playwright  # noqa: E402

from conftest import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    run_cli,
    start_server,
    stop_server,
)
from pages_helpers import log_in  # noqa: E402


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


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"))
