"""The cPHulk Brute Force Protection page (root only), in a real browser: the lists, a
refused record shown in the form, the blocks with Unblock and Unlock, the switch, the limits.
On a node that counts the addresses a proxy forwards (hulk_helpers); the browser itself comes
from loopback, which cPHulk never blocks."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import Server
from hulk_helpers import client_as, counted_node
from hulk_helpers import remote_address as fresh_address
from pages_helpers import log_in


@pytest.fixture(scope="module")
def server(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with counted_node(server, tmp_path_factory, "cphulk-pages") as node:
        yield node


def open_page(page: Any, server: Server) -> None:
    log_in(page, server)
    page.get_by_role("navigation", name="WHM menu").get_by_role(
        "link", name="cPHulk Brute Force Protection"
    ).click()


def add(page: Any, list_name: str, record: str, comment: str = "") -> None:
    page.get_by_label("List", exact=True).select_option(list_name)
    page.get_by_label("Address or range").fill(record)
    page.get_by_label("Comment (optional)").fill(comment)
    page.get_by_role("button", name="Add", exact=True).click()


def test_add_and_remove_a_white_list_record(server: Server, page: Any) -> None:
    open_page(page, server)
    base = fresh_address().rsplit(".", 1)[0]
    add(page, "white", f"{base}.0/30", "office <b>VPN</b>")
    assert page.locator("#cphulk-done").inner_text() == "The record was added."
    row = page.locator("#white-list tr", has_text=f"{base}.0-{base}.3")
    assert "office <b>VPN</b>" in row.inner_text()  # escaped, shown as typed
    row.get_by_role("button", name=f"Remove {base}.0-{base}.3 from the white list").click()
    assert page.locator("#cphulk-done").inner_text() == "The record was removed."
    assert page.locator("#white-list tr", has_text=f"{base}.0-{base}.3").count() == 0


def test_an_invalid_record_is_shown_in_the_form_and_nothing_is_stored(
    server: Server, page: Any
) -> None:
    open_page(page, server)
    before = server.sql("SELECT count(*) FROM cphulk_lists")[0][0]
    add(page, "black", "300.1.2.3")
    assert "Invalid IP address or range" in page.locator("#cphulk-error").inner_text()
    assert page.get_by_label("Address or range").input_value() == "300.1.2.3"
    assert server.sql("SELECT count(*) FROM cphulk_lists")[0][0] == before


def test_a_blocked_address_is_listed_and_unblocked(server: Server, page: Any) -> None:
    address = fresh_address()
    with client_as(address) as c:
        for _ in range(5):
            c.get(
                f"{server.url}/json-api/version?api.version=1",
                headers={"Authorization": f"whm root:{secrets.token_hex(16).upper()}"},
            )
    open_page(page, server)
    page.get_by_role("button", name=f"Unblock {address}").click()
    assert page.locator("#cphulk-done").inner_text() == "The address was unblocked."
    with client_as(address) as c:
        ok = c.get(
            f"{server.url}/json-api/version?api.version=1",
            headers={"Authorization": f"whm root:{server.root_token}"},
        )
    assert ok.status_code == 200


def test_a_locked_username_is_unlocked(server: Server, page: Any) -> None:
    name, _password = server.account(reseller=True)
    server.sql(
        "INSERT INTO cphulk_blocks (kind, username, created_time, expires_time, failures) "
        "VALUES ('user', :n, 0, 4000000000, 30)",
        n=name,
    )
    open_page(page, server)
    page.get_by_role("button", name=f"Unlock {name}").click()
    assert page.locator("#cphulk-done").inner_text() == "The username was unlocked."
    assert server.sql("SELECT count(*) FROM cphulk_blocks WHERE username = :n", n=name)[0][0] == 0


def test_the_switch_and_the_limits(server: Server, page: Any) -> None:
    open_page(page, server)
    try:
        page.get_by_role("button", name="Disable").click()
        assert "disabled" in page.locator("#cphulk-status").inner_text()
        page.get_by_role("button", name="Enable").click()
        assert "enabled" in page.locator("#cphulk-status").inner_text()
        page.get_by_label("Failures from one address before it is blocked").fill("7")
        page.get_by_role("button", name="Save limits").click()
        assert page.locator("#cphulk-done").inner_text() == "The limits were saved."
        assert server.ok("load_cphulk_config")["cphulk_config"]["max_failures_byip"] == 7
        page.get_by_label("Failures from one address before it is blocked").fill("many")
        page.get_by_role("button", name="Save limits").click()
        assert "whole number" in page.locator("#cphulk-error").inner_text()
    finally:
        server.sql("DELETE FROM cphulk_settings")


def test_a_reseller_has_no_such_page(server: Server, page: Any) -> None:
    name, password = server.account(reseller=True)
    prefix = log_in(page, server, name, password)
    menu = page.get_by_role("navigation", name="WHM menu")
    assert menu.get_by_role("link", name="cPHulk Brute Force Protection").count() == 0
    assert page.goto(f"{server.url}{prefix}/cphulk").status == 403
