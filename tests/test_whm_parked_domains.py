"""WHM API 1 `create_parked_domain_for_user` and `delete_domain` of parked and addon domains
(cPanel's Whostmgr/API/1/UserDomains.pm, Cpanel::ParkAdmin) over real HTTP: the zone adddns
makes, the account's other functions seeing the domain, the access rule for resellers, the
refusals (in cPanel's words, changing nothing) and the audit trail."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from audit_helpers import audited_since, last_audit_id
from conftest import Server

OK = (
    b'{"metadata":{"command":"create_parked_domain_for_user","reason":"OK","result":1,"version":1}}'
)


def new_domain() -> str:
    return f"p{uuid.uuid4().hex[:10]}.example.net"


class Account:
    def __init__(self, server: Server, owner: str | None = None) -> None:
        self.server = server
        self.user, self.password = server.account(owner=owner)
        self.domain = f"{self.user}.example.com"
        self.ip = str(server.sql("SELECT ip FROM users WHERE username = :u", u=self.user)[0][0])

    def parked(self) -> list[tuple[str, str | None]]:
        rows = self.server.sql(
            "SELECT p.name, p.vhost FROM parked_domains p JOIN users u ON u.id = p.user_id"
            " WHERE u.username = :u ORDER BY p.name",
            u=self.user,
        )
        return [(str(r[0]), None if r[1] is None else str(r[1])) for r in rows]


@pytest.fixture
def account(server: Server) -> Account:
    return Account(server)


def park(server: Server, username: str, domain: str, vhost: str, **kw: Any) -> httpx.Response:
    params = {"username": username, "domain": domain, "web_vhost_domain": vhost}
    return server.get("create_parked_domain_for_user", params=params, **kw)


def zone_owner(server: Server, name: str) -> str | None:
    rows = server.sql(
        "SELECT u.username FROM zones z JOIN users u ON u.id = z.user_id WHERE z.name = :n", n=name
    )
    return str(rows[0][0]) if rows else None


def zone_text(server: Server, name: str) -> str:
    return str(server.sql("SELECT text FROM zones WHERE name = :n", n=name)[0][0])


def comparable(text: str, name: str) -> str:
    """A zone's text with its name spelt NAME and its times (serial, version line) as T."""
    return re.sub(r"\d{9,}", "T", text.replace(name, "NAME"))


def test_parking_answers_cpanels_bytes_and_records_the_domain(
    server: Server, account: Account
) -> None:
    domain = new_domain()
    response = park(server, account.user, domain, account.domain)
    assert response.status_code == 200
    assert response.content == OK
    assert account.parked() == [(domain, None)]
    assert zone_owner(server, domain) == account.user


def test_the_parked_domains_zone_is_the_one_adddns_makes(server: Server, account: Account) -> None:
    parked, added = new_domain(), new_domain()
    park(server, account.user, parked, account.domain).raise_for_status()
    server.ok("adddns", params={"domain": added, "ip": account.ip, "trueowner": account.user})
    assert comparable(zone_text(server, parked), parked) == comparable(
        zone_text(server, added), added
    )


def test_parking_is_audited(server: Server, account: Account) -> None:
    domain = new_domain()
    since = last_audit_id(server)
    park(server, account.user, domain, account.domain).raise_for_status()
    rows = audited_since(server, since)
    assert [(r.action, r.actor, r.subject) for r in rows if r.action != "ACCESSDENIED"] == [
        ("ADDDNS", "root", domain),
        ("PARKDOMAIN", "root", account.user),
    ]


def test_getdomainowner_and_get_domain_info_know_a_parked_domain(
    server: Server, account: Account
) -> None:
    domain = new_domain()
    park(server, account.user, domain, account.domain).raise_for_status()
    assert server.ok("getdomainowner", params={"domain": domain}) == {"user": account.user}
    entries = {d["domain"]: d for d in server.ok("get_domain_info")["domains"]}
    assert entries[domain]["domain_type"] == "parked"
    assert entries[domain]["user"] == account.user
    assert entries[domain]["docroot"] == f"/home/{account.user}/public_html"


def test_an_addon_domain_is_parked_on_a_subdomains_vhost(server: Server, account: Account) -> None:
    sub = f"shop.{account.domain}"
    server.ok("create_subdomain", params={"domain": sub, "document_root": "public_html/shop"})
    domain = new_domain()
    assert park(server, account.user, domain, sub).content == OK
    assert account.parked() == [(domain, sub)]
    entries = {d["domain"]: d for d in server.ok("get_domain_info")["domains"]}
    assert entries[domain]["domain_type"] == "addon"
    assert entries[domain]["docroot"] == f"/home/{account.user}/public_html/shop"
    # Parking on the addon domain serves the new one from the same subdomain's vhost.
    second = new_domain()
    assert park(server, account.user, second, domain).content == OK
    assert (second, sub) in account.parked()


def test_delete_domain_unparks(server: Server, account: Account) -> None:
    domain = new_domain()
    park(server, account.user, domain, account.domain).raise_for_status()
    since = last_audit_id(server)
    response = server.get("delete_domain", params={"domain": domain})
    assert response.json() == {
        "data": {"type": "parked", "username": account.user},
        "metadata": {"command": "delete_domain", "reason": "OK", "result": 1, "version": 1},
    }
    assert account.parked() == []
    assert zone_owner(server, domain) is None
    assert [(r.action, r.subject) for r in audited_since(server, since)] == [
        ("KILLDNS", domain),
        ("UNPARKDOMAIN", account.user),
    ]


def test_delete_domain_of_an_addon_domain_then_its_subdomain(
    server: Server, account: Account
) -> None:
    sub = f"shop.{account.domain}"
    server.ok("create_subdomain", params={"domain": sub, "document_root": "public_html/shop"})
    domain = new_domain()
    park(server, account.user, domain, sub).raise_for_status()
    # Choice: the subdomain stays while an addon domain is served by its vhost.
    assert server.fail("delete_domain", params={"domain": sub}) == (
        f"delete “{sub}”: Delete the addon domains of “{sub}” first: {domain}."
    )
    assert server.ok("delete_domain", params={"domain": domain}) == {
        "type": "addon",
        "username": account.user,
    }
    assert server.ok("delete_domain", params={"domain": sub}) == {
        "type": "sub",
        "username": account.user,
    }


def test_a_subdomain_of_a_parked_domain_has_its_records_in_that_zone_and_keeps_it(
    server: Server, account: Account
) -> None:
    domain = new_domain()
    park(server, account.user, domain, account.domain).raise_for_status()
    assert server.ok("create_subdomain", params={
        "domain": f"blog.{domain}", "document_root": "public_html/blog"}) == {
        "username": account.user}  # fmt: skip
    assert f"blog.{domain}.\t14400\tIN\tA\t{account.ip}" in zone_text(server, domain)
    assert server.fail("delete_domain", params={"domain": domain}) == (
        f"Before the system can remove the “{domain}” parked domain, you must remove the "
        f"“blog.{domain}” subdomain."
    )
    assert account.parked() == [(domain, None)]


def test_a_reseller_parks_on_its_own_accounts_only(server: Server) -> None:
    reseller, token = server.reseller(["park-dns"])
    owned = Account(server, owner=reseller)
    stranger = Account(server)
    domain = new_domain()
    assert park(server, owned.user, domain, owned.domain, user=reseller, token=token).content == OK
    since = last_audit_id(server)
    refused = park(server, stranger.user, new_domain(), stranger.domain, user=reseller, token=token)
    assert refused.json()["metadata"]["reason"] == (
        f"The user “{reseller}” does not have access to the account “{stranger.user}”."
    )
    assert [r.reason for r in audited_since(server, since, "ACCESSDENIED")] == ["not_owner"]
    assert stranger.parked() == []
    # An account that does not exist is refused in the same words to a reseller.
    missing = park(server, "nosuchuser", new_domain(), "x.example.com", user=reseller, token=token)
    assert missing.json()["metadata"]["reason"] == (
        f"The user “{reseller}” does not have access to the account “nosuchuser”."
    )


def test_a_reseller_needs_park_dns(server: Server) -> None:
    reseller, token = server.reseller(["list-accts"])
    owned = Account(server, owner=reseller)
    response = park(server, owned.user, new_domain(), owned.domain, user=reseller, token=token)
    assert response.status_code == 403
    assert response.json()["metadata"]["reason"] == (
        "Access denied: calling “create_parked_domain_for_user” requires the “park-dns” privilege."
    )


def test_a_reseller_may_not_park_beneath_the_servers_hostname(server: Server) -> None:
    reseller, token = server.reseller(["park-dns"])
    owned = Account(server, owner=reseller)
    hostname = server.ok("gethostname")["hostname"]
    response = park(server, owned.user, f"x.{hostname}", owned.domain, user=reseller, token=token)
    assert response.json()["metadata"]["reason"] == (
        "Resellers do not have the necessary permissions to create subdomains of the server’s "
        "main domain."
    )


_MISSING = (
    "Provide the “{}” parameter for the "
    "“Whostmgr::API::1::UserDomains::create_parked_domain_for_user” function."
)
_RFC = "“{}” is not a valid domain name per RFC 1035 (http://tools.ietf.org/html/rfc1035) ({})."
_ELEMENT = "domain name element {} does not conform to requirements"
_NO_TLD = "domain name must have a valid TLD label"

# (username, domain, web_vhost_domain, reason): None leaves the parameter out; {u} and {d}
# are the account's name and domain, {ou} and {od} another account's, {n} a new domain.
PARK_REFUSALS = [
    (None, "{n}", "{d}", _MISSING.format("username")),
    ("{u}", None, "{d}", _MISSING.format("domain")),
    ("{u}", "{n}", None, _MISSING.format("web_vhost_domain")),
    ("", "{n}", "{d}", "The value of “username” may not be empty."),
    ("{u}", "", "{d}", "The value of “domain” may not be empty."),
    ("{u}", "{n}", "", "The value of “web_vhost_domain” may not be empty."),
    ("{u}", "bad_name.example.net", "{d}",
     _RFC.format("bad_name.example.net", _ELEMENT.format("bad_name"))),
    ("{u}", "example", "{d}", _RFC.format("example", _NO_TLD)),
    ("{u}", "192.0.2.1", "{d}",
     _RFC.format("192.0.2.1", "argument is an IP address, not a domain name")),
    ("{u}", "{n}", "nope_.example", _RFC.format("nope_.example", _ELEMENT.format("nope_"))),
    ("nosuchuser", "{n}", "{d}", "No vhosts config data for user “nosuchuser”"),
    # A domain of another account is no vhost of this one.
    ("{u}", "{n}", "{od}", "“{od}” does not refer to any of “{u}”’s web virtual hosts."),
    ("{u}", "{n}", "{n}", "“{n}” does not refer to any of “{u}”’s web virtual hosts."),
    ("{u}", "www.{n}", "{d}", "The domain 'www.{n}' may not contain the 'www.' label."),
    ("{u}", "{d}", "{d}", "You cannot park a domain on top of itself!"),
    ("{u}", "{od}", "{d}", "A DNS entry for the domain “{od}” already exists."),
    ("{u}", "com", "{d}", _RFC.format("com", _NO_TLD)),
    # gatehouse's own rule for a name an account may own (domain/domain_names.py).
    ("{u}", "co.uk", "{d}", "“co.uk” is a public suffix: it cannot be an account's domain. "
     "Use a name registered under it, such as “example.co.uk”."),
]  # fmt: skip


@pytest.mark.parametrize(("username", "domain", "vhost", "reason"), PARK_REFUSALS)
def test_park_refusals_change_nothing(
    server: Server,
    account: Account,
    username: str | None,
    domain: str | None,
    vhost: str | None,
    reason: str,
) -> None:
    other = Account(server)
    names = {"u": account.user, "d": account.domain, "ou": other.user, "od": other.domain,
             "n": new_domain()}  # fmt: skip
    params = {
        key: value.format(**names)
        for key, value in (("username", username), ("domain", domain), ("web_vhost_domain", vhost))
        if value is not None
    }
    zones_before = server.sql("SELECT COUNT(*) FROM zones")[0][0]
    response = server.get("create_parked_domain_for_user", params=params)
    assert response.status_code == 200
    assert response.json()["metadata"] == {
        "command": "create_parked_domain_for_user",
        "reason": reason.format(**names),
        "result": 0,
        "version": 1,
    }
    assert account.parked() == other.parked() == []
    assert server.sql("SELECT COUNT(*) FROM zones")[0][0] == zones_before


def test_a_parked_domain_is_taken_for_every_other_name(server: Server, account: Account) -> None:
    domain = new_domain()
    park(server, account.user, domain, account.domain).raise_for_status()
    other = Account(server)
    assert park(server, other.user, domain, other.domain).json()["metadata"]["reason"] == (
        f"A DNS entry for the domain “{domain}” already exists."
    )
    assert server.fail("create_subdomain", params={
        "domain": domain, "document_root": "public_html/x"}) == (
        f"“{account.user}” already controls “{domain}”!")  # fmt: skip


def test_removing_the_account_removes_its_parked_domains(server: Server, account: Account) -> None:
    domain = new_domain()
    park(server, account.user, domain, account.domain).raise_for_status()
    server.ok("removeacct", params={"username": account.user})
    assert server.sql("SELECT COUNT(*) FROM parked_domains WHERE name = :n", n=domain)[0][0] == 0
    assert zone_owner(server, domain) is None


def test_the_accounts_cpanel_lists_its_parked_and_addon_domains(
    server: Server, account: Account
) -> None:
    parked, addon = new_domain(), new_domain()
    sub = f"shop.{account.domain}"
    server.ok("create_subdomain", params={"domain": sub, "document_root": "public_html/shop"})
    park(server, account.user, parked, account.domain).raise_for_status()
    park(server, account.user, addon, sub).raise_for_status()
    token = server.cpanel_token(account.user, account.password)
    home = f"/home/{account.user}"

    def api2(module: str, func: str, **params: Any) -> Any:
        body = server.api2(account.user, module, func, token=token, **params).json()
        return body["cpanelresult"]["data"]

    assert api2("Park", "listparkeddomains") == [
        {
            "basedir": "public_html",
            "dir": f"{home}/public_html",
            "domain": parked,
            "reldir": "home:public_html",
            "status": "not redirected",
            "web_subdomain_aliases": ["www", "mail"],
        }
    ]
    addon_item = {
        "basedir": "public_html/shop",
        "dir": f"{home}/public_html/shop",
        "domain": addon,
        "domainkey": f"shop_{account.domain}",
        "fullsubdomain": sub,
        "reldir": "home:public_html/shop",
        "rootdomain": account.domain,
        "status": "not redirected",
        "subdomain": "shop",
        "web_subdomain_aliases": ["www", "mail"],
    }
    assert api2("Park", "listaddondomains") == [addon_item]
    assert api2("AddonDomain", "listaddondomains") == [addon_item]
    assert api2("Park", "listparkeddomains", regex="NOMATCH") == []
    listed = server.uapi(account.user, "DomainInfo", "list_domains", token=token).json()["data"]
    # cPanel's _is_real_sub: the subdomain serving an addon domain is listed as the addon only.
    assert listed == {
        "addon_domains": [addon],
        "main_domain": account.domain,
        "parked_domains": [parked],
        "sub_domains": [],
    }
    single = server.uapi(
        account.user, "DomainInfo", "single_domain_data", token=token, domain=addon
    ).json()["data"]
    assert (single["domain"], single["type"], single["servername"]) == (addon, "addon_domain", sub)


def test_statsbar_and_resource_usage_count_them(server: Server, account: Account) -> None:
    sub = f"shop.{account.domain}"
    server.ok("create_subdomain", params={"domain": sub, "document_root": "public_html/shop"})
    for vhost in (account.domain, account.domain, sub):
        park(server, account.user, new_domain(), vhost).raise_for_status()
    token = server.cpanel_token(account.user, account.password)
    stats = server.uapi(
        account.user, "StatsBar", "get_stats", token=token, display="parkeddomains|addondomains"
    ).json()["data"]
    assert {s["id"]: s["count"] for s in stats} == {"parkeddomains": "2", "addondomains": "1"}
    usages = server.uapi(account.user, "ResourceUsage", "get_usages", token=token).json()["data"]
    assert {u["id"]: u["usage"] for u in usages if u["id"] in ("aliases", "addon_domains")} == {
        "aliases": 2,
        "addon_domains": 1,
    }


def test_domainlookup_and_variables_know_them(server: Server, account: Account) -> None:
    sub = f"shop.{account.domain}"
    server.ok("create_subdomain", params={"domain": sub, "document_root": "public_html/shop"})
    parked, addon = new_domain(), new_domain()
    park(server, account.user, parked, account.domain).raise_for_status()
    park(server, account.user, addon, sub).raise_for_status()
    token = server.cpanel_token(account.user, account.password)
    home = f"/home/{account.user}"

    def api2(func: str, **params: Any) -> Any:
        body = server.api2(account.user, "DomainLookup", func, token=token, **params).json()
        return body["cpanelresult"]["data"]

    # Cpanel/DomainLookup.pm: the base domains are the main domain and the parked ones.
    assert api2("getbasedomains") == [
        {"domain": d} for d in sorted([account.domain, parked, addon])
    ]
    assert api2("countbasedomains") == [{"count": 3}]
    roots = {r["domain"]: r["docroot"] for r in api2("getdocroots")}
    assert (roots[parked], roots[addon]) == (f"{home}/public_html", f"{home}/public_html/shop")
    assert api2("getdocroot", domain=addon) == [
        {"docroot": f"{home}/public_html/shop", "reldocroot": "public_html/shop"}
    ]
    info = server.uapi(account.user, "Variables", "get_user_information", token=token).json()
    assert info["data"]["domains"] == [account.domain, *sorted([parked, addon])]


def test_domains_follow_when_modifyacct_changes_the_main_domain(
    server: Server, account: Account
) -> None:
    sub = f"shop.{account.domain}"
    server.ok("create_subdomain", params={"domain": sub, "document_root": "public_html/shop"})
    parked, addon = new_domain(), new_domain()
    park(server, account.user, parked, account.domain).raise_for_status()
    park(server, account.user, addon, sub).raise_for_status()
    new = f"n{account.user}.example.org"
    server.ok("modifyacct", params={"user": account.user, "domain": new})
    # The parked domain stays on the main domain's vhost; the addon domain follows its
    # subdomain to its new name.
    assert account.parked() == sorted([(parked, None), (addon, f"shop.{new}")])
    assert server.ok("delete_domain", params={"domain": addon})["type"] == "addon"
    assert server.ok("delete_domain", params={"domain": f"shop.{new}"})["type"] == "sub"
