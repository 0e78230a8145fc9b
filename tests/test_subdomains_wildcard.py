"""Wildcard subdomains, as cPanel makes them (Cpanel/Sub.pm's `iswildcard`,
Cpanel::Validate::SubDomain, Whostmgr/DNS/Domains.pm's addsubdomain): `*` (or `*.LABEL`) as the
label, a `*` A record in the zone and no `www.`; listed by API 2 listsubdomains and DomainInfo;
deleted by API 2 delsubdomain; answered by the nameserver for the names under it (RFC 4592).
Over real HTTP and DNS on both stores."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import dns.rcode
import dns.rdatatype
import pytest

from conftest import Server
from gatehouse.cpanel.registry import UAPI
from inprocess import open_local
from test_subdomains import UAPI_OK, Account, addresses, ask, uapi_error


@pytest.fixture
def account(server: Server) -> Account:
    return Account(server)


def add_wildcard(account: Account, label: str = "*") -> None:
    response = account.uapi("SubDomain", "addsubdomain", domain=label, rootdomain=account.domain)
    assert response.content == UAPI_OK, response.text


@pytest.mark.parametrize(
    ("label", "made"),
    [("*", "*"), ("*.Blog", "*.blog"), ("*.MAIN", "*"), ("www.*", "*"), ("*.", "*")],
    ids=["star", "star under a label", "the main domain dropped", "www. dropped", "dot dropped"],
)
def test_a_wildcard_label_makes_a_wildcard_subdomain(
    account: Account, label: str, made: str
) -> None:
    add_wildcard(account, label.replace("MAIN", account.domain))
    name = f"{made}.{account.domain}"
    assert account.uapi("DomainInfo", "list_domains").json()["data"]["sub_domains"] == [name]


def test_its_record_is_a_star_a_record_without_www(account: Account) -> None:
    add_wildcard(account)
    text = account.zone_text()
    assert f"*.{account.domain}.\t14400\tIN\tA\t{account.ip}" in text
    assert "www.*" not in text


def test_the_nameserver_answers_names_under_it(server: Server, account: Account) -> None:
    under = f"anything.{account.domain}"
    assert ask(server, under).rcode() == dns.rcode.NXDOMAIN
    add_wildcard(account)
    assert addresses(server, under) == {account.ip}
    assert addresses(server, f"deeper.still.{account.domain}") == {account.ip}
    # A name with records of its own is not the wildcard's (RFC 4592): `www` is a CNAME.
    answer = ask(server, f"www.{account.domain}").answer
    assert answer[0].rdtype == dns.rdatatype.CNAME


def test_api2_add_list_delete(server: Server, account: Account) -> None:
    name = f"*.{account.domain}"
    added = account.api2("SubDomain", "addsubdomain", domain="*", rootdomain=account.domain)
    assert added.json()["cpanelresult"]["data"] == [
        {"reason": f"The subdomain “{name}” has been added.", "result": 1}
    ]
    listed = account.api2("SubDomain", "listsubdomains").json()["cpanelresult"]["data"]
    # Cpanel::WildcardDomain::encode_wildcard_domain names its document root; its vhost has
    # no `www.` alias (Cpanel::Config::userdata::add_sub_domain_data).
    assert listed == [
        {
            "basedir": "public_html/_wildcard_",
            "dir": f"/home/{account.user}/public_html/_wildcard_",
            "domain": name,
            "domainkey": f"*_{account.domain}",
            "reldir": "home:public_html/_wildcard_",
            "rootdomain": account.domain,
            "status": "not redirected",
            "subdomain": "*",
            "web_subdomain_aliases": [],
        }
    ]
    gone = account.api2("SubDomain", "delsubdomain", domain=f"*_{account.domain}")
    assert gone.json()["cpanelresult"]["data"] == [
        {"reason": f"The subdomain “{name}” has been removed.", "result": 1}
    ]
    assert f"*.{account.domain}." not in account.zone_text()
    assert ask(server, f"anything.{account.domain}").rcode() == dns.rcode.NXDOMAIN
    assert account.api2("SubDomain", "listsubdomains").json()["cpanelresult"]["data"] == []


def test_deleting_it_leaves_the_www_of_the_parent(account: Account) -> None:
    """Whostmgr/DNS/Domains.pm takes `addwww` off for a wildcard: the delete removes the `*`
    records only, not the zone's `www.` records."""
    add_wildcard(account)
    account.api2("SubDomain", "delsubdomain", domain=f"*.{account.domain}")
    assert f"www\t14400\tIN\tCNAME\t{account.domain}." in account.zone_text()


def test_single_domain_data_states_cpanels_wildcard_userdata(account: Account) -> None:
    add_wildcard(account)
    name = f"*.{account.domain}"
    data = account.uapi("DomainInfo", "single_domain_data", domain=name).json()["data"]
    home = f"/home/{account.user}"
    log = f"/usr/local/apache/domlogs/_wildcard_.{account.domain}"
    assert {k: data[k] for k in ("documentroot", "serveralias", "serveradmin", "servername")} == {
        "documentroot": f"{home}/public_html/_wildcard_",
        "serveralias": "",
        "serveradmin": f"webmaster@{account.domain}",
        "servername": name,
    }
    assert [c["target"] for c in data["customlog"]] == [log, f"{log}-bytes_log"]
    assert data["type"] == "sub_domain"


@pytest.mark.parametrize(
    ("domain", "owned"),
    [("*.MAIN", True), ("anything.MAIN", False)],
    ids=["the wildcard itself", "a name under it"],
)
def test_getdomainowner_knows_the_wildcard_not_the_names_under_it(
    server: Server, account: Account, domain: str, owned: bool
) -> None:
    """Cpanel::AcctUtils::DomainOwner::Tiny looks the name up as it is in userdomains."""
    add_wildcard(account)
    given = domain.replace("MAIN", account.domain)
    expected = account.user if owned else None
    assert server.ok("getdomainowner", params={"domain": given}) == {"user": expected}


@pytest.mark.parametrize("label", ["**", "a*", "*a", "*.*", "a.*", "*.-x"])
def test_a_star_elsewhere_is_no_valid_subdomain(account: Account, label: str) -> None:
    before = account.zone_text()
    response = account.uapi("SubDomain", "addsubdomain", domain=label, rootdomain=account.domain)
    uapi_error(response.content, "You must specify a valid subdomain.")
    assert account.zone_text() == before


def test_a_second_wildcard_is_a_domain_that_exists(account: Account) -> None:
    add_wildcard(account)
    response = account.uapi("SubDomain", "addsubdomain", domain="*", rootdomain=account.domain)
    uapi_error(response.content, f"The domain “*.{account.domain}” already exists in the userdata.")


def test_whm_domainuserdata_states_the_same(server: Server, account: Account) -> None:
    add_wildcard(account)
    name = f"*.{account.domain}"
    whm = server.ok("domainuserdata", params={"domain": name})["userdata"]
    uapi = account.uapi("DomainInfo", "single_domain_data", domain=name).json()["data"]
    assert {k: whm[k] for k in ("documentroot", "serveralias", "serveradmin", "servername")} == {
        k: uapi[k] for k in ("documentroot", "serveralias", "serveradmin", "servername")
    }


@pytest.mark.parametrize("wildcards", [False, True], ids=["no wildcards", "wildcards"])
def test_autossl_queues_a_wildcard_only_with_a_wildcard_provider(
    tmp_path: Path, wildcards: bool
) -> None:
    """Cpanel/SSL/Auto/Run.pm validates an account's own wildcards only with a provider that
    SUPPORTS_WILDCARD (gatehouse: GATEHOUSE_AUTOSSL_WILDCARD); in-process, AutoSSL configured
    with a directory nobody serves (only the queue is read)."""
    local = open_local(tmp_path)
    try:
        gatehouse = local.gatehouse
        gatehouse.config = dataclasses.replace(
            gatehouse.config,
            autossl_directory="https://127.0.0.1:9/directory",
            autossl_wildcard=wildcards,
        )
        domain = "wild.example.com"
        account = {"username": "wild", "domain": domain, "password": "Wildcard-Test-7x!Q"}
        local.ok("createacct", account)
        local.ok("set_autossl_provider", {"provider": "ACME"})
        added = local.cpanel(
            UAPI, "SubDomain", "addsubdomain", "wild", {"domain": "*", "rootdomain": domain}
        )
        assert added.ok, added.payload
        queued = local.ok("get_autossl_pending_queue")["pending_certificates"]
        expected = {domain, f"*.{domain}"} if wildcards else {domain}
        assert {item["domain"] for item in queued} == expected
    finally:
        local.close()
