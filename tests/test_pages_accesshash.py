"""The Remote Access Key page: hidden (with the reason) unless the deprecated key is allowed;
view and regenerate when it is."""

from __future__ import annotations

from typing import Any

from conftest import Server
from pages_helpers import log_in


def _allow(server: Server, value: str) -> None:
    server.cli("whmapi1", "set_tweaksetting", "key=allow_deprecated_accesshash", f"value={value}")


def test_remote_access_key_view_and_regenerate(server: Server, page: Any) -> None:
    log_in(page, server)
    page.get_by_role("navigation", name="WHM menu").get_by_role(
        "link", name="Remote Access Key"
    ).click()
    hidden = page.locator("#accesshash-hidden")
    assert "allow_deprecated_accesshash" in hidden.inner_text()
    assert hidden.get_by_role("link", name="API tokens").is_visible()
    assert page.locator("#accesshash-key").count() == 0
    _allow(server, "1")
    try:
        page.reload()
        key_box = page.get_by_label("Your current key")
        key = key_box.input_value()
        assert len(key) == 960
        assert key_box.get_attribute("readonly") is not None
        signature = page.locator("#accesshash-signature").inner_text()
        assert signature.replace(":", "") == key[:32]
        assert page.get_by_text("Deprecated.").is_visible()
        assert page.get_by_role("link", name="Manage API Tokens").count() >= 1
        server.remember(key)
        assert server.get("myprivs", token=key).status_code == 200

        page.get_by_role("link", name="Generate New Key").click()
        assert page.get_by_text("The current key stops working at once").is_visible()
        page.get_by_role("button", name="Generate New Key").click()
        assert page.get_by_text("A new key was generated").is_visible()
        new_key = server.remember(page.get_by_label("Your current key").input_value())
        assert new_key != key and len(new_key) == 960
        assert server.get("myprivs", token=key).status_code == 401
        assert server.get("myprivs", token=new_key).status_code == 200
        page.reload()  # a reload shows the same key and generates nothing
        assert page.get_by_label("Your current key").input_value() == new_key
    finally:
        _allow(server, "0")
