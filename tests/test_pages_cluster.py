"""The DNS Cluster page (WHM › Clusters), in a real browser: a peer added through the form
(checked first), a refused one shown in the form with the token not echoed, a failing peer's
status, the role, sync and removal, and the link to the Remote Access Key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cluster_helpers import own_node
from conftest import Server, free_port, stop_server
from pages_helpers import log_in


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    node = own_node(tmp_path_factory.mktemp("page-peer"))
    yield node
    stop_server(node)


@pytest.fixture
def cleanup(server: Server) -> Iterator[list[int]]:
    ports: list[int] = []
    yield ports
    for port in ports:
        server.get("gatehouse_remove_cluster_peer", params={"host": "127.0.0.1", "port": port})


def open_page(page: Any, server: Server) -> None:
    log_in(page, server)
    page.get_by_role("navigation", name="WHM menu").get_by_role("link", name="DNS Cluster").click()


def fill(page: Any, port: int, token: str, role: str, *, http: bool) -> None:
    page.get_by_label("Server (host name or address)").fill("127.0.0.1")
    page.get_by_label("WHM port").fill(str(port))
    page.get_by_label("Its API token").fill(token)
    page.get_by_label("Role", exact=True).select_option(role)
    if http:
        page.get_by_role("checkbox", name="Plain HTTP").check()
    page.get_by_role("button", name="Add", exact=True).click()


def test_a_peer_added_through_the_form_is_listed(
    server: Server, peer: Server, page: Any, cleanup: list[int]
) -> None:
    open_page(page, server)
    cleanup.append(peer.http_port)
    fill(page, peer.http_port, peer.token(acl=["clustering"]), "standalone", http=True)
    assert "The peer was added" in page.locator("#cluster-done").inner_text()
    row = page.locator(f"#peer-127-0-0-1-{peer.http_port}")
    assert "plain HTTP" in row.inner_text() and "OK" in row.locator(".status").inner_text()
    assert (
        row.get_by_label(f"Role of 127.0.0.1:{peer.http_port}", exact=True).input_value()
        == "standalone"
    )


def test_a_refused_peer_is_shown_in_the_form_without_its_token(
    server: Server, peer: Server, page: Any, cleanup: list[int]
) -> None:
    open_page(page, server)
    fill(page, peer.http_port, "WRONGTOKENWRONGTOKEN", "write-only", http=True)
    assert (
        "HTTP 401: the peer refused the user and token"
        in page.locator("#cluster-error").inner_text()
    )
    assert page.get_by_label("WHM port").input_value() == str(peer.http_port)
    assert page.get_by_label("Its API token").input_value() == ""
    assert "WRONGTOKENWRONGTOKEN" not in page.content()
    assert page.locator(f"#peer-127-0-0-1-{peer.http_port}").count() == 0


def test_a_failing_peer_shows_its_error_and_can_be_changed_and_removed(
    server: Server, page: Any, cleanup: list[int]
) -> None:
    port = free_port()
    cleanup.append(port)
    server.ok(
        "gatehouse_add_cluster_peer",
        params={"host": "127.0.0.1", "port": port, "token": "T", "check": 0, "role": "standalone"},
    )
    open_page(page, server)
    label = f"127.0.0.1:{port}"
    page.get_by_role("button", name=f"Check {label}").click()
    row = page.locator(f"#peer-127-0-0-1-{port}")
    assert "Unreachable" in page.locator("#cluster-error").inner_text()
    assert "Failing since" in row.locator(".status").inner_text()
    row.get_by_label(f"Role of {label}", exact=True).select_option("write-only")
    row.get_by_role("button", name=f"Change the role of {label}").click()
    assert page.locator("#cluster-done").inner_text() == "The role was changed."
    page.get_by_role("button", name=f"Sync all zones {label}").click()
    assert page.locator("#cluster-done").inner_text() == "Every zone was queued for the peer."
    page.get_by_role("button", name=f"Remove {label}").click()
    assert page.locator("#cluster-done").inner_text() == "The peer was removed."
    assert page.locator(f"#peer-127-0-0-1-{port}").count() == 0
    cleanup.clear()


def test_the_page_links_to_the_remote_access_key(server: Server, page: Any) -> None:
    open_page(page, server)
    page.get_by_role("main").get_by_role("link", name="Remote Access Key").click()
    assert page.url.endswith("/accesshash")


def test_a_reseller_without_clustering_has_no_such_page(server: Server, page: Any) -> None:
    name, password = server.account(reseller=True)
    prefix = log_in(page, server, name, password)
    menu = page.get_by_role("navigation", name="WHM menu")
    assert menu.get_by_role("link", name="DNS Cluster").count() == 0
    assert page.goto(f"{server.url}{prefix}/cluster").status == 403
