"""WHM › SSL/TLS in a real headless Chromium: Manage SSL Hosts lists what is installed (the
account, issuer, expiry with the days left, expiring and expired rows marked, the names
covered) and uninstalls; Install an SSL Certificate on a Domain installs what is pasted, and
shows a refusal in the API's words next to its field with nothing stored and the key never
echoed; a reseller sees and changes only its own accounts' domains. What the pages do is what
the API sees at once."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from conftest import Server
from pages_helpers import log_in
from ssl_helpers import DAY, Issued, make_ca, make_leaf

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module")
def ca() -> Issued:
    return make_ca("Pages Test CA")


def _install_api(server: Server, domain: str, leaf: Issued, ca: Issued) -> None:
    server.remember(leaf.key_pem)
    server.ok(
        "installssl",
        params={"domain": domain, "crt": leaf.cert_pem, "key": leaf.key_pem, "cab": ca.cert_pem},
    )


def _installed(server: Server) -> dict[str, Any]:
    return {v["servername"]: v for v in server.ok("fetch_ssl_vhosts")["vhosts"]}


def _row(page: Any, domain: str) -> Any:
    return page.locator(f"tr[data-domain='{domain}']")


def test_the_list_shows_installed_certificates_with_expiry(
    server: Server, page: Any, ca: Issued
) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    _install_api(server, domain, make_leaf(ca, [domain, f"www.{domain}"]), ca)
    soon_user, _ = server.account()
    soon = f"{soon_user}.example.com"
    _install_api(server, soon, make_leaf(ca, [soon], not_after=NOW + 10 * DAY), ca)
    old_user, _ = server.account()
    old = f"{old_user}.example.com"
    _install_api(server, old, make_leaf(ca, [old]), ca)
    # Time passes for this one: the stored expiry is moved into the past.
    server.sql(
        "UPDATE ssl_certificates SET not_after = :t WHERE id = "
        "(SELECT certificate_id FROM ssl_vhosts WHERE domain = :d)",
        t=int((NOW - 2 * DAY).timestamp()),
        d=old,
    )

    prefix = log_in(page, server)
    menu = page.get_by_role("navigation", name="WHM menu")
    menu.get_by_role("link", name="Manage SSL Hosts").click()
    page.wait_for_url(f"**{prefix}/ssl")
    row = _row(page, domain)
    text = row.inner_text()
    assert user in text and "Pages Test CA" in text
    assert f"www.{domain}" in row.locator(".names").inner_text()
    assert "days left" in row.locator(".expiry").inner_text()
    assert row.get_attribute("class") is None  # not highlighted
    soon_row = _row(page, soon)
    assert soon_row.get_attribute("class") == "expiring"
    assert soon_row.locator(".days").inner_text() in ("9 days left", "10 days left")
    old_row = _row(page, old)
    assert old_row.get_attribute("class") == "expired"
    assert old_row.locator(".days").inner_text() == "expired"
    # The links: install, and Manage AutoSSL (root).
    main = page.get_by_role("main")
    assert main.get_by_role("link", name="Manage AutoSSL").is_visible()
    assert main.get_by_role("link", name="Install an SSL Certificate on a Domain").is_visible()
    assert "PRIVATE KEY" not in page.content()


def test_install_by_paste_then_uninstall(server: Server, page: Any, ca: Issued) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    leaf = make_leaf(ca, [domain])
    server.remember(leaf.key_pem)
    prefix = log_in(page, server)
    page.goto(f"{server.url}{prefix}/ssl")
    page.get_by_role("main").get_by_role(
        "link", name="Install an SSL Certificate on a Domain"
    ).click()
    page.wait_for_url(f"**{prefix}/ssl/install")
    page.get_by_label("Domain", exact=True).fill(domain)
    page.get_by_label("Certificate (CRT)").fill(leaf.cert_pem)
    page.get_by_label("Private key (KEY)").fill(leaf.key_pem)
    page.get_by_label("Certificate Authority Bundle (CABUNDLE, optional)").fill(ca.cert_pem)
    page.get_by_role("button", name="Install Certificate").click()
    page.wait_for_url(f"**{prefix}/ssl?**")
    assert page.locator("#ssl-done").inner_text() == f"The certificate was installed on “{domain}”."
    assert _row(page, domain).is_visible()
    installed = _installed(server)[domain]
    assert installed["user"] == user
    info = server.ok("fetchsslinfo", params={"domain": domain})
    assert info["cab"].strip() == ca.cert_pem.strip()

    page.get_by_role("button", name=f"Uninstall the certificate of {domain}").click()
    page.wait_for_url(f"**{prefix}/ssl?**")
    assert (
        page.locator("#ssl-done").inner_text() == f"The certificate of “{domain}” was uninstalled."
    )
    assert _row(page, domain).count() == 0
    assert domain not in _installed(server)


@pytest.mark.parametrize(
    ("case", "field", "words"),
    [
        ("wrong-key", "key", "The certificate does not match the key."),
        ("other-domain", "domain", "does not cover the domain"),
        ("broken-chain", "cab", "The CA bundle does not hold the certificate's issuer"),
        ("garbage", "crt", "The certificate is not a valid PEM-encoded X.509 certificate."),
        ("empty-key", "key", "Paste the certificate's private key."),
    ],
)
def test_a_refused_install_is_shown_by_its_field_and_stores_nothing(
    server: Server, page: Any, ca: Issued, case: str, field: str, words: str
) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    leaf = make_leaf(ca, [domain])
    crt, key, cab = leaf.cert_pem, leaf.key_pem, ca.cert_pem
    if case == "wrong-key":
        key = make_leaf(ca, [domain]).key_pem
    elif case == "other-domain":
        other = make_leaf(ca, ["other.example.net"])
        crt, key = other.cert_pem, other.key_pem
    elif case == "broken-chain":
        cab = make_ca().cert_pem
    elif case == "garbage":
        crt = "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n"
    elif case == "empty-key":
        key = ""
    if key:
        server.remember(key)
    prefix = log_in(page, server)
    page.goto(f"{server.url}{prefix}/ssl/install")
    page.get_by_label("Domain", exact=True).fill(domain)
    page.get_by_label("Certificate (CRT)").fill(crt)
    page.get_by_label("Private key (KEY)").fill(key)
    page.get_by_label("Certificate Authority Bundle (CABUNDLE, optional)").fill(cab)
    page.get_by_role("button", name="Install Certificate").click()
    error = page.locator(f"#{field}-error")
    assert words in error.inner_text()
    assert page.locator(f"#{field}").get_attribute("aria-invalid") == "true"
    # What was entered is kept, but the key is never put back into the page.
    assert page.get_by_label("Domain", exact=True).input_value() == domain
    assert page.get_by_label("Private key (KEY)").input_value() == ""
    if key:
        body = key.strip().splitlines()[1]
        assert body not in page.content()
    assert domain not in _installed(server)
    stored = server.sql(
        "SELECT COUNT(*) FROM ssl_keys k JOIN users u ON u.id = k.user_id WHERE u.username = :u",
        u=user,
    )
    assert stored[0][0] == 0


def test_a_reseller_sees_and_changes_its_own_accounts_only(
    server: Server, page: Any, ca: Issued
) -> None:
    reseller, password = server.account(reseller=True)
    server.ok("setacls", params=[("reseller", reseller), ("acl-ssl", "1"), ("acl-ssl-info", "1")])
    mine, _ = server.account(owner=reseller)
    theirs, _ = server.account()
    mine_domain, their_domain = f"{mine}.example.com", f"{theirs}.example.com"
    theirs_leaf = make_leaf(ca, [their_domain])
    _install_api(server, their_domain, theirs_leaf, ca)

    prefix = log_in(page, server, reseller, password)
    menu = page.get_by_role("navigation", name="WHM menu")
    assert menu.get_by_role("link", name="Manage AutoSSL").count() == 0
    menu.get_by_role("link", name="Install an SSL Certificate on a Domain").click()
    page.wait_for_url(f"**{prefix}/ssl/install")
    leaf = make_leaf(ca, [mine_domain])
    server.remember(leaf.key_pem)
    page.get_by_label("Domain", exact=True).fill(mine_domain)
    page.get_by_label("Certificate (CRT)").fill(leaf.cert_pem)
    page.get_by_label("Private key (KEY)").fill(leaf.key_pem)
    page.get_by_role("button", name="Install Certificate").click()
    page.wait_for_url(f"**{prefix}/ssl?**")
    assert _row(page, mine_domain).is_visible()
    assert _row(page, their_domain).count() == 0

    # Another account's domain: the API's words, as for a domain that does not exist.
    page.goto(f"{server.url}{prefix}/ssl/install")
    other = make_leaf(ca, [their_domain])
    server.remember(other.key_pem)
    page.get_by_label("Domain", exact=True).fill(their_domain)
    page.get_by_label("Certificate (CRT)").fill(other.cert_pem)
    page.get_by_label("Private key (KEY)").fill(other.key_pem)
    page.get_by_role("button", name="Install Certificate").click()
    assert page.locator("#domain-error").inner_text() == (
        f"You do not have access to a domain named “{their_domain}”."
    )
    kept = server.ok("fetchsslinfo", params={"domain": their_domain})["crt"]
    assert kept.strip() == theirs_leaf.cert_pem.strip()


def test_a_reseller_without_ssl_sees_no_install(server: Server, page: Any) -> None:
    reseller, password = server.account(reseller=True)
    server.ok("setacls", params=[("reseller", reseller), ("acl-ssl-info", "1")])
    prefix = log_in(page, server, reseller, password)
    menu = page.get_by_role("navigation", name="WHM menu")
    assert menu.get_by_role("link", name="Manage SSL Hosts").is_visible()
    assert menu.get_by_role("link", name="Install an SSL Certificate on a Domain").count() == 0
    page.goto(f"{server.url}{prefix}/ssl")
    assert page.get_by_role("button", name="Uninstall").count() == 0
    page.goto(f"{server.url}{prefix}/ssl/install")
    assert page.get_by_role("heading", name="Not allowed").is_visible()


def test_a_forged_uninstall_is_refused(server: Server, page: Any, ca: Issued) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    _install_api(server, domain, make_leaf(ca, [domain]), ca)
    prefix = log_in(page, server)
    response = page.request.post(
        f"{server.url}{prefix}/ssl/uninstall", form={"host": domain, "csrf_token": "forged"}
    )
    assert response.status == 403
    assert domain in _installed(server)


def test_a_form_too_large_to_read_is_said_so(server: Server, page: Any) -> None:
    prefix = log_in(page, server)
    page.goto(f"{server.url}{prefix}/ssl/install")
    csrf = page.locator("input[name=csrf_token]").first.input_value()
    response = page.request.post(
        f"{server.url}{prefix}/ssl/install",
        form={"csrf_token": csrf, "domain": "example.com", "crt": "A" * 300_000, "key": "k"},
    )
    assert response.status == 413
    assert "The form is larger than 256 KB, so it was not read" in response.text()
