"""UAPI `SubDomain::addsubdomain`, API 2 `SubDomain::addsubdomain` / `listsubdomains` /
`delsubdomain`, and `DomainInfo::single_domain_data`, over real HTTP: the bytes answered, the A
record really served by the nameserver, the refusals (and that they change nothing)."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import dns.message
import dns.query
import dns.rcode
import httpx
import pytest

from conftest import Server
from gatehouse.passwords import generate_password


class Account:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.user, self.password = server.account()
        self.token = server.cpanel_token(self.user, self.password)
        self.domain = f"{self.user}.example.com"
        self.ip = str(server.sql("SELECT ip FROM users WHERE username = :u", u=self.user)[0][0])

    def uapi(self, module: str, func: str, **params: Any) -> httpx.Response:
        return self.server.uapi(self.user, module, func, token=self.token, **params)

    def api2(self, module: str, func: str, **params: Any) -> httpx.Response:
        return self.server.api2(self.user, module, func, token=self.token, **params)

    def zone_text(self) -> str:
        rows = self.server.sql("SELECT text FROM zones WHERE name = :n", n=self.domain)
        return str(rows[0][0])


@pytest.fixture
def account(server: Server) -> Account:
    return Account(server)


def ask(server: Server, name: str, rdtype: str = "A") -> dns.message.Message:
    query = dns.message.make_query(name, rdtype, flags=0)
    return dns.query.udp(query, "127.0.0.1", port=server.dns_port, timeout=5)


def addresses(server: Server, name: str, rdtype: str = "A") -> set[str]:
    return {rd.to_text() for rrset in ask(server, name, rdtype).answer for rd in rrset}


def uapi_error(raw: bytes, reason: str) -> None:
    assert raw == (
        b'{"data":null,"errors":'
        + json.dumps([reason], ensure_ascii=False).encode()
        + b',"messages":null,"metadata":{},"status":0,"warnings":null}'
    )


def add(account: Account, label: str) -> None:
    response = account.uapi("SubDomain", "addsubdomain", domain=label, rootdomain=account.domain)
    assert response.json()["status"] == 1, response.text


UAPI_OK = b'{"data":null,"errors":null,"messages":null,"metadata":{},"status":1,"warnings":null}'


def test_addsubdomain_answers_cpanels_bytes_and_the_record_is_served(
    server: Server, account: Account
) -> None:
    name = f"blog.{account.domain}"
    assert addresses(server, name) == set()
    response = account.uapi("SubDomain", "addsubdomain", domain="blog", rootdomain=account.domain)
    assert response.status_code == 200
    assert response.content == UAPI_OK
    assert addresses(server, name) == {account.ip}
    assert f"{name}.\t14400\tIN\tA\t{account.ip}" in account.zone_text()
    # cPanel's Cpanel/Sub.pm adds the `www.` of every subdomain too (`addwww`).
    assert addresses(server, f"www.{name}") == {account.ip}
    assert f"www.{name}.\t14400\tIN\tA\t{account.ip}" in account.zone_text()
    listed = account.uapi("DomainInfo", "list_domains").json()["data"]
    assert listed["sub_domains"] == [name]


def test_api2_add_list_delete(server: Server, account: Account) -> None:
    name = f"shop.{account.domain}"
    added = account.api2("SubDomain", "addsubdomain", domain="Shop", rootdomain=account.domain)
    body = added.json()["cpanelresult"]
    assert body["event"] == {"result": 1}
    # Cpanel::Sub's message; cPanel's whole answer (no hooks: no pre/postevent).
    assert added.content == (
        b'{"cpanelresult":{"apiversion":2,"data":[{"reason":"The subdomain \xe2\x80\x9c'
        + name.encode()
        + b'\xe2\x80\x9d has been added.","result":1}],"event":{"result":1},'
        b'"func":"addsubdomain","module":"SubDomain"}}'
    )
    assert addresses(server, name) == {account.ip}

    listed = account.api2("SubDomain", "listsubdomains").json()["cpanelresult"]["data"]
    assert listed == [
        {
            "basedir": "public_html/shop",
            "dir": f"/home/{account.user}/public_html/shop",
            "domain": name,
            "domainkey": f"shop_{account.domain}",
            "reldir": "home:public_html/shop",
            "rootdomain": account.domain,
            "status": "not redirected",
            "subdomain": "shop",
            "web_subdomain_aliases": ["www"],
        }
    ]
    filtered = account.api2("SubDomain", "listsubdomains", regex="^nomatch")
    assert filtered.json()["cpanelresult"]["data"] == []
    # cPanel matches the regex without regard to case.
    found = account.api2("SubDomain", "listsubdomains", regex="^SHOP\\.")
    assert found.json()["cpanelresult"]["data"] == listed

    # cPanel's own form names it with an underscore for the first dot.
    gone = account.api2("SubDomain", "delsubdomain", domain=f"shop_{account.domain}")
    body = gone.json()["cpanelresult"]
    assert body["data"] == [{"reason": f"The subdomain “{name}” has been removed.", "result": 1}]
    assert addresses(server, name) == set()
    assert ask(server, name).rcode() == dns.rcode.NXDOMAIN
    assert account.api2("SubDomain", "listsubdomains").json()["cpanelresult"]["data"] == []
    assert name not in account.zone_text()


def test_domains_data_and_single_domain_data_show_the_subdomain(account: Account) -> None:
    name = f"docs.{account.domain}"
    add(account, "docs")
    raw = account.uapi("DomainInfo", "single_domain_data", domain=name).content
    home = f"/home/{account.user}"
    logs = f"/usr/local/apache/domlogs/{name}"
    assert raw == (
        b'{"data":{"customlog":[{"format":"combined","target":"' + logs.encode() + b'"},'
        b'{"format":"\\"%{%s}t %I .\\\\n%{%s}t %O .\\"","target":"'
        + logs.encode()
        + b'-bytes_log"}],"documentroot":"'
        + home.encode()
        + b'/public_html/docs",'
        b'"domain":"' + name.encode() + b'","group":"' + account.user.encode() + b'",'
        b'"hascgi":1,"homedir":"' + home.encode() + b'","ip":"' + account.ip.encode() + b'",'
        b'"owner":"root","phpopenbasedirprotect":1,"port":80,"scriptalias":[{"path":"'
        + home.encode()
        + b'/public_html/docs/cgi-bin","url":"/cgi-bin/"}],"serveradmin":"webmaster@'
        + name.encode()
        + b'","serveralias":"www.'
        + name.encode()
        + b'","servername":"'
        + name.encode()
        + b'","status":"not redirected","type":"sub_domain","usecanonicalname":"Off",'
        b'"user":"' + account.user.encode() + b'","userdirprotect":""},"errors":null,'
        b'"messages":null,"metadata":{},"status":1,"warnings":null}'
    )
    main = account.uapi("DomainInfo", "single_domain_data", domain=account.domain).json()
    assert main["data"]["type"] == "main_domain" and main["data"]["domain"] == account.domain
    data = account.uapi("DomainInfo", "domains_data").json()["data"]
    assert [d["domain"] for d in data["sub_domains"]] == [name]
    listed = account.uapi("DomainInfo", "domains_data", format="list").json()["data"]
    assert [d["type"] for d in listed] == ["main_domain", "sub_domain"]


def test_single_domain_data_refusals(server: Server, account: Account) -> None:
    other = Account(server)
    uapi_error(
        account.uapi("DomainInfo", "single_domain_data", domain=other.domain).content,
        f"Unable to locate the domain: {other.domain}",
    )
    uapi_error(
        account.uapi("DomainInfo", "single_domain_data").content,
        "Domain must be passed as a parameter.",
    )


@pytest.mark.parametrize(
    ("label", "reason"),
    [
        # Cpanel/SubDomain.pm's _addsubdomain words, in its order.
        ("bad_label", "You must specify a valid subdomain."),
        ("-x", "You must specify a valid subdomain."),
        ("a..b", "You must specify a valid subdomain."),
        ("www.", "You must specify a valid subdomain."),
        (
            "www",
            "You cannot create the “www” subdomain, because the system adds the “www” "
            "subdomain to all newly-created domains.",
        ),
        ("", "You must specify a subdomain."),
        ("subdomainip", "“subdomainip” is a reserved word and cannot be used as a subdomain."),
        # Labels gatehouse reserves beside www, in cPanel's IsReservedSubdomain words.
        ("mail", "The subdomain “mail” is reserved."),
        ("shop.autodiscover", "The subdomain “shop.autodiscover” is reserved."),
    ],
)
def test_bad_labels_are_refused(account: Account, label: str, reason: str | None) -> None:
    before = account.zone_text()
    response = account.uapi("SubDomain", "addsubdomain", domain=label, rootdomain=account.domain)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == 0
    if reason is not None:
        uapi_error(response.content, reason)
    assert account.zone_text() == before


def test_refusals_change_nothing(server: Server, account: Account) -> None:
    other = Account(server)
    add(account, "a")
    before = account.zone_text()
    uapi_error(
        account.uapi("SubDomain", "addsubdomain", domain="a", rootdomain=account.domain).content,
        f"The domain “a.{account.domain}” already exists in the userdata.",
    )
    uapi_error(
        account.uapi("SubDomain", "addsubdomain", domain="x", rootdomain=other.domain).content,
        f"The domain “{other.domain}” does not belong to “{account.user}”.",
    )
    body = account.api2("SubDomain", "delsubdomain", domain=f"nope.{account.domain}").json()
    reason = f"The domain “nope.{account.domain}” does not belong to “{account.user}”."
    assert body["cpanelresult"]["event"] == {"result": 1}
    assert body["cpanelresult"]["data"] == [{"reason": reason, "result": 0}]
    assert body["cpanelresult"]["error"] == reason
    # Another account cannot delete it, and is told the same as for a name that is no one's.
    body = other.api2("SubDomain", "delsubdomain", domain=f"a.{account.domain}").json()
    assert body["cpanelresult"]["error"] == (
        f"The domain “a.{account.domain}” does not belong to “{other.user}”."
    )
    assert account.zone_text() == before
    assert addresses(server, f"a.{account.domain}") == {account.ip}


def test_subdomain_of_a_subdomain(server: Server, account: Account) -> None:
    add(account, "eu")
    response = account.uapi(
        "SubDomain", "addsubdomain", domain="shop", rootdomain=f"eu.{account.domain}"
    )
    assert response.content == UAPI_OK
    assert addresses(server, f"shop.eu.{account.domain}") == {account.ip}
    body = account.api2("SubDomain", "delsubdomain", domain=f"eu.{account.domain}").json()
    assert body["cpanelresult"]["error"] == (
        f"Delete the subdomains of “eu.{account.domain}” first: shop.eu.{account.domain}."
    )


def test_whm_cpanel_function_reaches_subdomain(server: Server, account: Account) -> None:
    response = server.get(
        "cpanel",
        api_version=None,
        params={
            "cpanel_jsonapi_user": account.user,
            "cpanel_jsonapi_apiversion": "3",
            "cpanel_jsonapi_module": "SubDomain",
            "cpanel_jsonapi_func": "addsubdomain",
            "domain": "viawhm",
            "rootdomain": account.domain,
        },
    )
    assert response.json()["result"]["status"] == 1, response.text
    assert addresses(server, f"viawhm.{account.domain}") == {account.ip}


def test_removing_the_account_removes_its_subdomains(server: Server, account: Account) -> None:
    name = f"gone.{account.domain}"
    add(account, "gone")
    server.ok("removeacct", params={"user": account.user})
    assert server.sql("SELECT name FROM subdomains WHERE name = :n", n=name) == []
    assert addresses(server, name) == set()


def mass_add(account: Account, *records: dict[str, Any]) -> None:
    """Records added through UAPI DNS::mass_edit_zone at the zone's current serial."""
    zone = account.uapi("DNS", "parse_zone", zone=account.domain).json()["data"]
    soa = next(r for r in zone if r.get("record_type") == "SOA")
    serial = base64.b64decode(soa["data_b64"][2]).decode()
    adds = [json.dumps(r) for r in records]
    body = account.uapi(
        "DNS", "mass_edit_zone", zone=account.domain, serial=serial, add=adds
    ).json()
    assert body["status"] == 1, body


def test_addsubdomain_replaces_every_record_at_its_names(server: Server, account: Account) -> None:
    """Whostmgr/DNS/Domains.pm addsubdomain drops every line at SUB and www.SUB, whatever its
    type, before it adds their A records (what gatehouse refused before)."""
    name = f"old.{account.domain}"
    mass_add(
        account,
        {"dname": "old", "ttl": 300, "record_type": "A", "data": ["192.0.2.50"]},
        {"dname": "old", "ttl": 300, "record_type": "TXT", "data": ["kept?"]},
        {"dname": "www.old", "ttl": 300, "record_type": "CNAME", "data": ["elsewhere.example."]},
        {"dname": "_acme-challenge.old", "ttl": 300, "record_type": "TXT", "data": ["stays"]},
    )
    add(account, "old")
    assert addresses(server, name) == {account.ip}
    assert addresses(server, name, "TXT") == set()
    assert addresses(server, f"www.{name}") == {account.ip}
    assert addresses(server, f"_acme-challenge.{name}", "TXT") == {'"stays"'}


def test_delsubdomain_removes_every_record_at_its_names(server: Server, account: Account) -> None:
    name = f"bye.{account.domain}"
    add(account, "bye")
    mass_add(
        account,
        {"dname": "bye", "ttl": 300, "record_type": "TXT", "data": ["note"]},
        {"dname": "_acme-challenge.bye", "ttl": 300, "record_type": "TXT", "data": ["stays"]},
    )
    body = account.api2("SubDomain", "delsubdomain", domain=name).json()
    assert body["cpanelresult"]["data"][0]["result"] == 1, body
    for owner, rdtype in ((name, "A"), (name, "TXT"), (f"www.{name}", "A")):
        assert addresses(server, owner, rdtype) == set()
    assert addresses(server, f"_acme-challenge.{name}", "TXT") == {'"stays"'}


# -- a subdomain's name, and names beneath another account's zone, cannot be claimed -----------


def test_createacct_cannot_take_a_registered_subdomain(server: Server, account: Account) -> None:
    add(account, "taken")
    name = f"taken.{account.domain}"
    username = "sd" + account.user[-8:]
    params = {"username": username, "domain": name, "password": server.remember("Pw-" + name)}
    assert server.fail("createacct", params=params) == (
        f"The domain “{name}” already exists on this server."
    )
    assert server.sql("SELECT COUNT(*) FROM zones WHERE name = :n", n=name) == [(0,)]
    assert addresses(server, name) == {account.ip}


def test_adddns_cannot_take_a_registered_subdomain_even_for_root(
    server: Server, account: Account
) -> None:
    add(account, "mine")
    name = f"mine.{account.domain}"
    assert server.fail("adddns", params={"domain": name, "ip": "192.0.2.1"}) == (
        f"The domain “{name}” already exists on this server."
    )
    assert addresses(server, name) == {account.ip}


def test_a_reseller_cannot_make_a_zone_beneath_another_accounts_zone(
    server: Server, account: Account
) -> None:
    reseller, token = server.reseller(["create-dns", "list-accts"])
    name = f"hijack.{account.domain}"
    reason = server.fail(
        "adddns", user=reseller, token=token, params={"domain": name, "ip": "192.0.2.66"}
    )
    assert reason == (
        f"The domain “{name}” is a subdomain of “{account.domain}”, which belongs to another user."
    )
    assert server.sql("SELECT COUNT(*) FROM zones WHERE name = :n", n=name) == [(0,)]
    assert ask(server, name).rcode() == dns.rcode.NXDOMAIN


def test_a_reseller_may_make_a_zone_beneath_its_own(server: Server) -> None:
    reseller, token = server.reseller(["create-dns", "list-accts"])
    name = f"own.{reseller}.example.com"
    server.ok("adddns", user=reseller, token=token, params={"domain": name, "ip": "192.0.2.67"})
    assert addresses(server, name) == {"192.0.2.67"}


def test_root_may_make_a_zone_beneath_an_accounts_zone(server: Server, account: Account) -> None:
    name = f"delegated.{account.domain}"
    server.ok("adddns", params={"domain": name, "ip": "192.0.2.68"})
    assert addresses(server, name) == {"192.0.2.68"}


def test_modifyacct_cannot_move_a_domain_onto_a_subdomain(server: Server, account: Account) -> None:
    add(account, "moved")
    name = f"moved.{account.domain}"
    other, _ = server.account()
    assert server.fail("modifyacct", params={"user": other, "domain": name}) == (
        f"The domain “{name}” already exists on this server."
    )
    assert server.sql("SELECT domain FROM users WHERE username = :u", u=other) == [
        (f"{other}.example.com",)
    ]


def test_subdomains_follow_the_main_domain_when_modifyacct_changes_it(
    server: Server, account: Account
) -> None:
    add(account, "blog")
    new = f"n{account.user}.example.org"
    body = server.get("modifyacct", params={"user": account.user, "domain": new}).json()
    assert body["metadata"]["result"] == 1, body
    assert (
        f"Renamed the subdomain “blog.{account.domain}” to “blog.{new}”."
        in body["metadata"]["output"]["messages"]
    )
    listed = account.api2("SubDomain", "listsubdomains").json()["cpanelresult"]["data"]
    assert [(s["domain"], s["rootdomain"], s["subdomain"]) for s in listed] == [
        (f"blog.{new}", new, "blog")
    ]
    assert addresses(server, f"blog.{new}") == {account.ip}
    # The old name is free again, and the subdomain can be removed under its new name.
    assert server.sql("SELECT COUNT(*) FROM subdomains WHERE name = :n",
                      n=f"blog.{account.domain}") == [(0,)]  # fmt: skip
    gone = account.api2("SubDomain", "delsubdomain", domain=f"blog.{new}").json()
    assert gone["cpanelresult"]["event"]["result"] == 1, gone


# -- cPanel's reading of the arguments (Cpanel/SubDomain.pm) ----------------------------------


def test_api2_refusal_is_reported_as_data_with_the_error(account: Account) -> None:
    # cPanel's api2_addsubdomain returns {result 0, reason} and sets CPERROR: the call ran.
    response = account.api2("SubDomain", "addsubdomain", domain="www", rootdomain=account.domain)
    reason = json.dumps(
        "You cannot create the “www” subdomain, because the system adds the “www” subdomain "
        "to all newly-created domains.",
        ensure_ascii=False,
    ).encode()
    assert response.content == (
        b'{"cpanelresult":{"apiversion":2,"data":[{"reason":'
        + reason
        + b',"result":0}],"error":'
        + reason
        + b',"event":{"result":1},"func":"addsubdomain","module":"SubDomain"}}'
    )


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({}, "You must specify a main domain."),
        ({"domain": "x"}, "You must specify a main domain."),
        ({"rootdomain": "ROOT"}, "You must specify a subdomain."),
    ],
)
def test_missing_arguments_in_cpanels_order(
    account: Account, params: dict[str, str], reason: str
) -> None:
    given = {k: (account.domain if v == "ROOT" else v) for k, v in params.items()}
    uapi_error(account.uapi("SubDomain", "addsubdomain", **given).content, reason)


@pytest.mark.parametrize(
    ("label", "extra", "made"),
    [
        ("  WWW.Blog.  ", {}, "blog"),  # trimmed, lower-cased, www. and the trailing dot dropped
        ("news.MAIN", {}, "news"),  # the main domain dropped from its end
        ("a.b.c", {"disallowdot": "1"}, "abc"),
    ],
)
def test_the_label_is_read_as_cpanel_reads_it(
    server: Server, account: Account, label: str, extra: dict[str, str], made: str
) -> None:
    given = label.replace("MAIN", account.domain)
    response = account.uapi(
        "SubDomain", "addsubdomain", domain=given, rootdomain=account.domain, **extra
    )
    assert response.content == UAPI_OK
    name = f"{made}.{account.domain}"
    assert account.uapi("DomainInfo", "list_domains").json()["data"]["sub_domains"] == [name]
    assert addresses(server, name) == {account.ip}


def test_a_zone_of_that_name_is_a_dns_entry_that_exists(server: Server, account: Account) -> None:
    server.ok("adddns", params={"domain": f"zone.{account.domain}", "ip": "192.0.2.1"})
    uapi_error(
        account.uapi("SubDomain", "addsubdomain", domain="zone", rootdomain=account.domain).content,
        f"A DNS entry for the domain “zone.{account.domain}” already exists.",
    )


def test_maxsub_is_enforced(server: Server) -> None:
    user = "m" + uuid.uuid4().hex[:10]
    domain = f"{user}.example.com"
    password = generate_password()
    server.ok(
        "createacct",
        params={"username": user, "domain": domain, "password": password, "maxsub": "1"},
    )
    server.remember(password)
    token = server.cpanel_token(user, password)
    first = server.uapi(
        user, "SubDomain", "addsubdomain", token=token, domain="a", rootdomain=domain
    )
    assert first.content == UAPI_OK
    uapi_error(
        server.uapi(
            user, "SubDomain", "addsubdomain", token=token, domain="b", rootdomain=domain
        ).content,
        "You have exceeded the maximum allowed subdomains.",
    )


@pytest.mark.parametrize(
    "form",
    ["blog_ROOT", "blog.ROOT", "anything,blog.ROOT", "b.l.o.g_ROOT"],
)
def test_delsubdomain_reads_cpanels_forms(account: Account, form: str) -> None:
    add(account, "blog")
    extra = {"disallowdot": "1"} if form.startswith("b.l") else {}
    given = form.replace("ROOT", account.domain)
    body = account.api2("SubDomain", "delsubdomain", domain=given, **extra).json()["cpanelresult"]
    name = f"blog.{account.domain}"
    assert body["data"] == [{"reason": f"The subdomain “{name}” has been removed.", "result": 1}]
    assert "error" not in body


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ("", "You must specify a subdomain."),
        ("www.blog.ROOT", "The system cannot change the master entry www."),
        ("ROOT", "subdomain 'ROOT' does not exist for user 'USER'"),
    ],
)
def test_delsubdomain_refusals(account: Account, form: str, reason: str) -> None:
    add(account, "blog")
    given = form.replace("ROOT", account.domain)
    body = account.api2("SubDomain", "delsubdomain", domain=given).json()["cpanelresult"]
    expected = reason.replace("ROOT", account.domain).replace("USER", account.user)
    assert (body["data"], body["error"], body["event"]) == (
        [{"reason": expected, "result": 0}],
        expected,
        {"result": 1},
    )
    assert account.uapi("DomainInfo", "list_domains").json()["data"]["sub_domains"] == [
        f"blog.{account.domain}"
    ]


def test_listsubdomains_keys_and_order_are_cpanels(account: Account) -> None:
    # cPanel's key puts its `_` before the main domain, also for a subdomain of a subdomain,
    # and the list is sorted by that key ("b-c_…" sorts before "b_…").
    for label, root in (("b", ""), ("b-c", ""), ("eu", ""), ("shop", "eu.")):
        response = account.uapi(
            "SubDomain", "addsubdomain", domain=label, rootdomain=f"{root}{account.domain}"
        )
        assert response.content == UAPI_OK
    listed = account.api2("SubDomain", "listsubdomains").json()["cpanelresult"]["data"]
    assert [(i["domainkey"], i["subdomain"], i["rootdomain"]) for i in listed] == [
        (f"b-c_{account.domain}", "b-c", account.domain),
        (f"b_{account.domain}", "b", account.domain),
        (f"eu_{account.domain}", "eu", account.domain),
        (f"shop.eu_{account.domain}", "shop.eu", account.domain),
    ]


def test_listsubdomains_bad_regex(account: Account) -> None:
    body = account.api2("SubDomain", "listsubdomains", regex="(").json()["cpanelresult"]
    assert body["data"] == []
    assert body["event"] == {"result": 1}
    assert body["error"].startswith(
        "The “regex” parameter must be a valid Perl regular expression. The system returned "
        "the following error: “"
    )
