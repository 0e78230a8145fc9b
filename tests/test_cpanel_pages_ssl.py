"""The cPanel face's SSL/TLS page in a real headless Chromium: install by pasting (and again
without the key: the stored one is used), the installed and stored certificates and keys with
no key material until the owner asks, Show with key, Uninstall; refusals next to their field
in the API's words with nothing stored; another account's certificate is not shown; and
AutoSSL — off on a server without it, and on a node with it: Run AutoSSL, then the problem its
check found (an ACME directory nobody answers on). What the page does is what UAPI sees."""

from __future__ import annotations

import base64
import re
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives import serialization

from conftest import Server, another_node, free_port
from ssl_helpers import Issued, make_ca, make_leaf

CPSESS_URL = re.compile(r"/cpsess(\d{10})/")


@pytest.fixture(scope="module")
def ca() -> Issued:
    return make_ca("cPanel Page CA")


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def log_in(page: Any, server: Server, user: str) -> str:
    """In through a fresh cpaneld login URL, then to SSL/TLS by the menu; the /cpsessN prefix."""
    data = server.ok("create_user_session", params={"user": user, "service": "cpaneld"})
    parts = urlsplit(data["url"])
    page.goto(f"{server.cpanel_url}{parts.path}?{parts.query}")
    page.wait_for_url(CPSESS_URL)
    match = CPSESS_URL.search(page.url)
    assert match, page.url
    page.get_by_role("navigation", name="cPanel menu").get_by_role("link", name="SSL/TLS").click()
    page.wait_for_url(f"**/cpsess{match.group(1)}/ssl")
    return f"/cpsess{match.group(1)}"


def _uapi(server: Server, user: str, password: str, func: str, **params: str) -> Any:
    body = server.uapi(user, "SSL", func, auth=_basic(user, password), **params).json()
    assert body["status"] == 1, body
    return body["data"]


def _paste(page: Any, crt: str, key: str, cab: str = "") -> None:
    page.get_by_label("Certificate (CRT)").fill(crt)
    page.get_by_label("Private key (KEY)").fill(key)
    page.get_by_label("Certificate Authority Bundle (CABUNDLE, optional)").fill(cab)
    page.get_by_role("button", name="Install Certificate").click()


def test_install_show_with_key_and_uninstall(server: Server, page: Any, ca: Issued) -> None:
    user, password = server.account()
    domain = f"{user}.example.com"
    leaf = make_leaf(ca, [domain, f"www.{domain}"])
    server.remember(leaf.key_pem)
    prefix = log_in(page, server, user)
    assert page.locator("#hosts-none").is_visible()
    assert page.locator("#ssl-error").count() == 0
    assert page.locator("#autossl-off").is_visible()  # this server has no AutoSSL
    assert page.get_by_role("button", name="Run AutoSSL").count() == 0
    assert page.get_by_label("Domain", exact=True).input_value() == domain

    _paste(page, leaf.cert_pem, leaf.key_pem, ca.cert_pem)
    page.wait_for_url(f"**{prefix}/ssl?**")
    assert page.locator("#ssl-done").inner_text() == f"The certificate was installed on “{domain}”."
    row = page.locator(f"#ssl-hosts tr[data-domain='{domain}']")
    assert "cPanel Page CA" in row.inner_text() and f"www.{domain}" in row.inner_text()
    assert "days left" in row.locator(".expiry").inner_text()
    hosts = _uapi(server, user, password, "installed_hosts")
    assert [h["servername"] for h in hosts] == [domain]
    [cert] = _uapi(server, user, password, "list_certs")
    stored = page.locator(f"#ssl-certs tr[data-id='{cert['id']}']")
    assert stored.locator("td").nth(3).inner_text() == "yes"
    assert page.locator("#ssl-keys tbody tr").count() == 1
    secret_line = leaf.key_pem.strip().splitlines()[1]
    assert secret_line not in page.content()  # no key material until asked

    stored.get_by_role("button", name=re.compile("^Show the certificate")).click()
    shown = page.locator("#show-key").input_value()
    key = serialization.load_pem_private_key(shown.encode(), None)
    assert key.public_key() == leaf.key.public_key()
    assert page.locator("#show-crt").input_value().strip() == leaf.cert_pem.strip()
    assert page.locator("#show-cab").input_value().strip() == ca.cert_pem.strip()
    assert "/ssl/show" in page.url and cert["id"] not in page.url

    # A stored key by itself (SSL::show_key), asked for from the keys' table.
    page.goto(f"{server.cpanel_url}{prefix}/ssl")
    [stored_key] = _uapi(server, user, password, "list_keys")
    page.locator(f"#ssl-keys tr[data-id='{stored_key['id']}']").get_by_role(
        "button", name=re.compile("^Show the key")
    ).click()
    alone = serialization.load_pem_private_key(
        page.locator("#show-key").input_value().encode(), None
    )
    assert alone.public_key() == leaf.key.public_key()
    assert "/ssl/key" in page.url

    page.goto(f"{server.cpanel_url}{prefix}/ssl")
    page.get_by_role("button", name=f"Uninstall the certificate of {domain}").click()
    page.wait_for_url(f"**{prefix}/ssl?**")
    assert (
        page.locator("#ssl-done").inner_text() == f"The certificate of “{domain}” was uninstalled."
    )
    assert page.locator("#hosts-none").is_visible()
    assert _uapi(server, user, password, "installed_hosts") == []
    # Stored still, and installing again without the key uses the stored one.
    _paste(page, leaf.cert_pem, "")
    page.wait_for_url(f"**{prefix}/ssl?**")
    assert [h["servername"] for h in _uapi(server, user, password, "installed_hosts")] == [domain]


@pytest.mark.parametrize(
    ("case", "field", "words"),
    [
        ("wrong-key", "key", "Certificate and key do not match."),
        ("other-domain", "domain", "does not cover the domain"),
        ("no-key-stored", "key", "No key in your account matches the given certificate."),
        ("empty", "crt", "Paste the certificate."),
    ],
)
def test_a_refused_install_is_shown_by_its_field(
    server: Server, page: Any, ca: Issued, case: str, field: str, words: str
) -> None:
    user, password = server.account()
    domain = f"{user}.example.com"
    leaf = make_leaf(ca, [domain])
    crt, key = leaf.cert_pem, leaf.key_pem
    if case == "wrong-key":
        key = make_leaf(ca, [domain]).key_pem
    elif case == "other-domain":
        other = make_leaf(ca, ["elsewhere.example.net"])
        crt, key = other.cert_pem, other.key_pem
    elif case == "no-key-stored":
        key = ""
    elif case == "empty":
        crt = ""
    if key:
        server.remember(key)
    log_in(page, server, user)
    _paste(page, crt, key)
    assert words in page.locator(f"#{field}-error").inner_text()
    assert page.get_by_label("Private key (KEY)").input_value() == ""
    if key:
        assert key.strip().splitlines()[1] not in page.content()
    assert _uapi(server, user, password, "installed_hosts") == []
    assert _uapi(server, user, password, "list_keys") == []


def test_another_accounts_certificate_is_not_shown(server: Server, page: Any, ca: Issued) -> None:
    owner, owner_password = server.account()
    domain = f"{owner}.example.com"
    leaf = make_leaf(ca, [domain])
    server.remember(leaf.key_pem)
    _uapi(
        server,
        owner,
        owner_password,
        "install_ssl",
        domain=domain,
        cert=leaf.cert_pem,
        key=leaf.key_pem,
    )
    [cert] = _uapi(server, owner, owner_password, "list_certs")
    other, _ = server.account()
    prefix = log_in(page, server, other)
    csrf = page.locator("form[action$='/ssl/install'] input[name=csrf_token]").input_value()
    response = page.request.post(
        f"{server.cpanel_url}{prefix}/ssl/show", form={"id": cert["id"], "csrf_token": csrf}
    )
    assert response.status == 404
    assert leaf.key_pem.strip().splitlines()[1] not in response.text()
    [key] = _uapi(server, owner, owner_password, "list_keys")
    response = page.request.post(
        f"{server.cpanel_url}{prefix}/ssl/key", form={"id": key["id"], "csrf_token": csrf}
    )
    assert response.status == 404
    assert leaf.key_pem.strip().splitlines()[1] not in response.text()
    forged = page.request.post(
        f"{server.cpanel_url}{prefix}/ssl/uninstall", form={"domain": domain, "csrf_token": "x"}
    )
    assert forged.status == 403


def test_run_autossl_and_its_problem(
    server: Server, page: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    closed = f"https://127.0.0.1:{free_port()}/dir"
    env = {"GATEHOUSE_AUTOSSL_DIRECTORY": closed, "GATEHOUSE_AUTOSSL_DNS_WAIT": "0"}
    with another_node(server, tmp_path_factory, "autossl-cpanel", env) as node:
        user, _ = node.account()
        domain = f"{user}.example.com"
        prefix = log_in(page, node, user)
        assert page.locator("#autossl-no-problems").is_visible()
        page.get_by_role("button", name="Run AutoSSL").click()
        page.wait_for_url(f"**{prefix}/ssl?done=autossl")
        assert "An AutoSSL check of your domains was asked for" in (
            page.locator("#ssl-done").inner_text()
        )
        deadline = time.monotonic() + 60
        problem = page.locator(f"#autossl-problems tr[data-domain='{domain}'] .problem")
        while problem.count() == 0:
            assert time.monotonic() < deadline, "no AutoSSL problem was recorded"
            time.sleep(0.5)
            page.goto(f"{node.cpanel_url}{prefix}/ssl")
        assert "The ACME server could not be reached" in problem.inner_text()


def test_delete_from_storage_refuses_what_is_installed(
    server: Server, page: Any, ca: Issued
) -> None:
    user, password = server.account()
    domain = f"{user}.example.com"
    leaf = make_leaf(ca, [domain])
    server.remember(leaf.key_pem)
    _uapi(server, user, password, "install_ssl", domain=domain, cert=leaf.cert_pem,
          key=leaf.key_pem)  # fmt: skip
    [cert] = _uapi(server, user, password, "list_certs")
    [key] = _uapi(server, user, password, "list_keys")
    prefix = log_in(page, server, user)
    cert_row = page.locator(f"#ssl-certs tr[data-id='{cert['id']}']")
    assert cert_row.get_by_role("button", name=re.compile("^Delete")).count() == 0  # installed
    key_row = page.locator(f"#ssl-keys tr[data-id='{key['id']}']")
    key_row.get_by_role("button", name=re.compile("^Delete the key")).click()
    assert f"installed on “{domain}”" in page.locator("#ssl-error").inner_text()
    assert len(_uapi(server, user, password, "list_keys")) == 1

    page.goto(f"{server.cpanel_url}{prefix}/ssl")
    page.get_by_role("button", name=f"Uninstall the certificate of {domain}").click()
    page.wait_for_url(f"**{prefix}/ssl?**")
    cert_row.get_by_role("button", name=re.compile("^Delete the certificate")).click()
    page.wait_for_url(f"**{prefix}/ssl?done=cert-deleted")
    assert page.locator("#certs-none").is_visible()
    key_row.get_by_role("button", name=re.compile("^Delete the key")).click()
    page.wait_for_url(f"**{prefix}/ssl?done=key-deleted")
    assert page.locator("#keys-none").is_visible()
    assert _uapi(server, user, password, "list_certs") == []
    assert _uapi(server, user, password, "list_keys") == []


def test_a_form_too_large_to_read_is_said_so(server: Server, page: Any) -> None:
    user, _ = server.account()
    prefix = log_in(page, server, user)
    csrf = page.locator("form[action$='/ssl/install'] input[name=csrf_token]").input_value()
    response = page.request.post(
        f"{server.cpanel_url}{prefix}/ssl/install",
        form={"csrf_token": csrf, "domain": f"{user}.example.com", "crt": "A" * 300_000},
    )
    assert response.status == 413
    assert "The form is larger than 256 KB, so it was not read" in response.text()
