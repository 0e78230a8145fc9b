"""The token description on WHM's Manage API Tokens pages (issue 17 part 1), in a real
browser: set when generating, shown in the list, kept, changed and cleared by Edit, and a
refused one shown next to its field with what was typed."""

from __future__ import annotations

import uuid
from typing import Any

from conftest import Server
from pages_helpers import log_in


def _name() -> str:
    return f"desc-{uuid.uuid4().hex[:8]}"


def test_generate_with_a_description_then_edit_and_clear_it(server: Server, page: Any) -> None:
    prefix = log_in(page, server)
    page.goto(f"{server.url}{prefix}/tokens/new")
    name = _name()
    page.get_by_label("Token name").fill(name)
    page.get_by_label("Description (optional)").fill("WHMCS <billing> on host 7")
    page.get_by_role("button", name="Save").click()
    server.remember(page.locator("#token-value").input_value())
    page.get_by_role("button", name="Yes, I saved my token").click()
    row = page.locator(f"tr[data-name='{name}']")
    assert "WHMCS <billing> on host 7" in row.locator(".description").inner_text()  # escaped
    row.get_by_role("link", name="Edit").click()
    assert page.get_by_label("Description (optional)").input_value() == "WHMCS <billing> on host 7"
    page.get_by_label("Description (optional)").fill("moved to host 8")
    page.get_by_role("button", name="Save").click()
    assert server.ok("api_token_list")["tokens"][name]["description"] == "moved to host 8"
    page.locator(f"tr[data-name='{name}']").get_by_role("link", name="Edit").click()
    page.get_by_label("Description (optional)").fill("")
    page.get_by_role("button", name="Save").click()
    assert "description" not in server.ok("api_token_list")["tokens"][name]
    assert page.locator(f"tr[data-name='{name}'] .description").count() == 0


def test_a_refused_description_is_shown_next_to_the_field(server: Server, page: Any) -> None:
    prefix = log_in(page, server)
    page.goto(f"{server.url}{prefix}/tokens/new")
    name = _name()
    page.get_by_label("Token name").fill(name)
    too_long = "x" * 1030
    page.get_by_label("Description (optional)").evaluate(
        "(el, v) => { el.removeAttribute('maxlength'); el.value = v; }", too_long
    )
    page.get_by_role("button", name="Save").click()
    field = page.locator(".field.invalid", has=page.get_by_label("Description (optional)"))
    assert "at most 1024 are allowed" in field.inner_text()
    assert page.get_by_label("Description (optional)").input_value() == too_long
    assert name not in server.ok("api_token_list")["tokens"]
