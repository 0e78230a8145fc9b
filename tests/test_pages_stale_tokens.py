"""The Stale API Tokens page (root, WHM › Development), in a real browser: the report for a
number of days, a refused number shown next to its field, no page for a reseller."""

from __future__ import annotations

import time
import uuid
from typing import Any

from conftest import Server
from pages_helpers import log_in


def test_the_report_lists_a_token_left_unused(server: Server, page: Any) -> None:
    name = f"stale-{uuid.uuid4().hex[:8]}"
    server.ok("api_token_create", params={"token_name": name, "description": "old <cron>"})
    server.sql(
        "UPDATE api_tokens SET create_time = :c WHERE name = :n",
        c=int(time.time()) - 200 * 86400,
        n=name,
    )
    log_in(page, server)
    menu = page.get_by_role("navigation", name="WHM menu")
    menu.get_by_role("link", name="Stale API Tokens").click()
    page.get_by_label("Unused for at least (days)").fill("180")
    page.get_by_role("button", name="Show").click()
    row = page.locator(f"#stale tr[data-name='{name}']")
    assert row.count() == 1
    text = row.inner_text()
    assert "root" in text and "WHM" in text and "old <cron>" in text and "Never" in text


def test_a_bad_number_of_days_is_shown_next_to_the_field(server: Server, page: Any) -> None:
    prefix = log_in(page, server)
    page.goto(f"{server.url}{prefix}/tokens/stale?days=soon")
    assert "“days” must be a whole number" in page.locator("#days-error").inner_text()


def test_a_reseller_has_no_such_page(server: Server, page: Any) -> None:
    name, password = server.account(reseller=True)
    prefix = log_in(page, server, name, password)
    menu = page.get_by_role("navigation", name="WHM menu")
    assert menu.get_by_role("link", name="Stale API Tokens").count() == 0
    assert page.goto(f"{server.url}{prefix}/tokens/stale").status == 403
