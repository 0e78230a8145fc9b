"""get_domain_info, getdomainowner and list_users over real HTTP: shapes, confinement (a
reseller sees its own accounts' domains and is told nothing about the others), root only."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import Server
from ssl_helpers import make_ca, make_leaf
from whm_helpers import new_name


def _entry(server: Server, user: str, owner: str = "root") -> dict[str, Any]:
    ip = server.ok("accountsummary", params={"user": user})["acct"][0]["ip"]
    domain = f"{user}.example.com"
    return {
        "docroot": f"/home/{user}/public_html",
        "domain": domain,
        "domain_type": "main",
        "ipv4": ip,
        # No SSL vhost: the cache's empty SSL ip:port, as Cpanel::IP::Parse reads it.
        "ipv4_ssl": "0.0.0.0",  # noqa: S104 - reported, not bound
        "ipv6": None,
        "ipv6_is_dedicated": 0,
        "modsecurity_enabled": 1,
        "parent_domain": domain,
        "php_version": "",
        "port": "80",
        "port_ssl": None,
        "user": user,
        "user_owner": owner,
    }


def test_get_domain_info_root_sees_every_domain(server: Server) -> None:
    user, _ = server.account()
    reseller, _token = server.reseller()
    owned, _ = server.account(owner=reseller)
    body = server.get("get_domain_info").json()
    assert body["metadata"] == {
        "command": "get_domain_info",
        "reason": "OK",
        "result": 1,
        "version": 1,
    }
    domains = body["data"]["domains"]
    assert [d["domain"] for d in domains] == sorted(d["domain"] for d in domains)
    by_domain = {d["domain"]: d for d in domains}
    assert by_domain[f"{user}.example.com"] == _entry(server, user)
    assert by_domain[f"{owned}.example.com"] == _entry(server, owned, reseller)
    assert by_domain[f"{reseller}.example.com"]["user_owner"] == "root"


def test_get_domain_info_a_reseller_sees_its_accounts_only(server: Server) -> None:
    reseller, token = server.reseller()
    owned, _ = server.account(owner=reseller)
    server.account()  # someone else's
    other, _ = server.reseller()
    server.account(owner=other)
    domains = server.ok("get_domain_info", user=reseller, token=token)["domains"]
    assert domains == [_entry(server, owned, reseller)]


def test_get_domain_info_needs_acct_summary(server: Server) -> None:
    reseller, token = server.reseller(["list-accts"])
    response = server.get("get_domain_info", user=reseller, token=token)
    assert response.status_code == 403
    assert response.json()["metadata"]["reason"] == (
        "Access denied: calling “get_domain_info” requires the “acct-summary” privilege."
    )


def test_getdomainowner(server: Server) -> None:
    reseller, token = server.reseller()
    owned, _ = server.account(owner=reseller)
    body = server.get("getdomainowner", params={"domain": f"{owned}.Example.com."}).json()
    assert body == {
        "data": {"user": owned},
        "metadata": {"command": "getdomainowner", "reason": "OK", "result": 1, "version": 1},
    }
    assert server.ok(
        "getdomainowner", user=reseller, token=token, params={"domain": f"{owned}.example.com"}
    ) == {"user": owned}
    assert server.ok("getdomainowner", params={"domain": f"{reseller}.example.com"}) == {
        "user": reseller
    }


def test_getdomainowner_answers_null_for_a_domain_out_of_reach(server: Server) -> None:
    # Whostmgr/API/1/Accounts.pm: no owner, or one the caller may not reach, is `user` null,
    # and the call succeeds.
    reseller, token = server.reseller()
    stranger, _ = server.account()
    missing = f"{new_name()}.example.com"
    body = server.get("getdomainowner", params={"domain": missing}).json()
    assert body == {
        "data": {"user": None},
        "metadata": {"command": "getdomainowner", "reason": "OK", "result": 1, "version": 1},
    }
    for domain in (missing, f"{stranger}.example.com"):
        assert server.ok(
            "getdomainowner", user=reseller, token=token, params={"domain": domain}
        ) == {"user": None}
    assert server.fail("getdomainowner") == "Missing parameter: domain"


@pytest.mark.parametrize("domain", ["", "ab"])
def test_getdomainowner_of_an_empty_domain_is_no_ones(server: Server, domain: str) -> None:
    # get_required_argument refuses only an absent `domain`; Cpanel::AcctUtils::DomainOwner::
    # Tiny answers its default (undef) for one under 3 characters.
    assert server.ok("getdomainowner", params={"domain": domain}) == {"user": None}


@pytest.mark.parametrize("label", ["www", "mail", "cpanel", "webmail", "autodiscover"])
def test_getdomainowner_of_an_automatic_name(server: Server, label: str) -> None:
    # Cpanel::Domain::Owner strips the labels every vhost answers for.
    user, _ = server.account()
    assert server.ok("getdomainowner", params={"domain": f"{label}.{user}.example.com"}) == {
        "user": user
    }


def test_list_users(server: Server) -> None:
    user, _ = server.account()
    reseller, token = server.reseller()
    body = server.get("list_users").json()
    assert body["metadata"] == {"command": "list_users", "reason": "OK", "result": 1, "version": 1}
    users = body["data"]["users"]
    assert users[0] == "root"
    assert users[1:] == sorted(users[1:])
    assert {user, reseller} <= set(users)
    # Root's only.
    response = server.get("list_users", user=reseller, token=token)
    assert response.status_code == 403
    assert response.json()["metadata"]["result"] == 0


# -- subdomains: domains of their account, as cPanel's WHM functions find them ----------------


def _subdomain(server: Server, user: str, password: str, label: str) -> str:
    token = server.cpanel_token(user, password)
    root = f"{user}.example.com"
    body = server.uapi(
        user, "SubDomain", "addsubdomain", token=token, domain=label, rootdomain=root
    )
    assert body.json()["status"] == 1, body.text
    return f"{label}.{root}"


def _subdomain_of(server: Server, user: str, password: str, label: str, root: str) -> str:
    token = server.cpanel_token(user, password)
    body = server.uapi(
        user, "SubDomain", "addsubdomain", token=token, domain=label, rootdomain=root
    )
    assert body.json()["status"] == 1, body.text
    return f"{label}.{root}"


def test_getdomainowner_finds_a_subdomains_account(server: Server) -> None:
    reseller, token = server.reseller()
    owned, password = server.account(owner=reseller)
    sub = _subdomain(server, owned, password, "blog")
    assert server.ok("getdomainowner", params={"domain": sub.upper() + "."}) == {"user": owned}
    assert server.ok("getdomainowner", user=reseller, token=token, params={"domain": sub}) == {
        "user": owned
    }
    stranger, stranger_password = server.account()
    theirs = _subdomain(server, stranger, stranger_password, "shop")
    assert server.ok("getdomainowner", user=reseller, token=token, params={"domain": theirs}) == {
        "user": None
    }


def test_get_domain_info_lists_subdomains_as_sub(server: Server) -> None:
    reseller, token = server.reseller()
    owned, password = server.account(owner=reseller)
    sub = _subdomain(server, owned, password, "blog")
    # A subdomain of a subdomain: its parent in cPanel's cache is the main domain.
    deep = _subdomain_of(server, owned, password, "shop", sub)
    domains = server.ok("get_domain_info", user=reseller, token=token)["domains"]
    main = _entry(server, owned, reseller)
    assert domains == [
        {
            **main,
            "docroot": f"/home/{owned}/public_html/blog",
            "domain": sub,
            "domain_type": "sub",
            "parent_domain": f"{owned}.example.com",
        },
        {
            **main,
            "docroot": f"/home/{owned}/public_html/shop",
            "domain": deep,
            "domain_type": "sub",
            "parent_domain": f"{owned}.example.com",
        },
        main,
    ]


def test_domainuserdata_of_a_subdomain(server: Server) -> None:
    user, password = server.account()
    sub = _subdomain(server, user, password, "docs")
    data = server.ok("domainuserdata", params={"domain": sub})["userdata"]
    assert (data["servername"], data["user"], data["documentroot"], data["serveralias"]) == (
        sub,
        user,
        f"/home/{user}/public_html/docs",
        f"www.{sub}",
    )
    main = server.ok("domainuserdata", params={"domain": f"{user}.example.com"})["userdata"]
    assert main["documentroot"] == f"/home/{user}/public_html"
    assert main["serveralias"] == f"mail.{user}.example.com www.{user}.example.com"


@pytest.mark.parametrize(("label", "has_userdirprotect"), [(None, False), ("blog", True)])
def test_domainuserdata_userdirprotect_only_on_a_subdomain(
    server: Server, label: str | None, has_userdirprotect: bool
) -> None:
    # cPanel writes a subdomain's `userdirprotect` (Cpanel/Sub.pm) and none for the main domain
    # at account creation (Whostmgr/Accounts/Create/Components/Userdata.pm; lumberg's recording).
    user, password = server.account()
    domain = _subdomain(server, user, password, label) if label else f"{user}.example.com"
    data = server.ok("domainuserdata", params={"domain": domain})["userdata"]
    assert ("userdirprotect" in data) is has_userdirprotect
    assert data.get("userdirprotect", "") == ""


def test_get_domain_info_ssl_address_follows_an_installed_certificate(server: Server) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    ca = make_ca()
    leaf = make_leaf(ca, [domain, f"www.{domain}"])
    server.remember(leaf.key_pem)
    server.ok(
        "installssl",
        params={"domain": domain, "crt": leaf.cert_pem, "key": leaf.key_pem, "cab": ca.cert_pem},
    )
    entry = next(d for d in server.ok("get_domain_info")["domains"] if d["domain"] == domain)
    assert (entry["ipv4_ssl"], entry["port_ssl"]) == (entry["ipv4"], "443")


@pytest.mark.parametrize("function", ["getdomainowner", "domainuserdata"])
def test_a_name_with_a_nul_is_no_ones(server: Server, function: str) -> None:
    # PostgreSQL refuses a NUL in a query's text; no stored domain has one, so the lookup
    # answers "no one" before asking the store (was an internal error on PostgreSQL).
    response = server.get(function, params={"domain": "a\x00b.example.com"})
    assert response.status_code == 200
    assert response.json()["metadata"]["result"] == (1 if function == "getdomainowner" else 0)
    assert not response.json()["metadata"]["reason"].startswith("Internal error")
