"""WHM API 1 `create_subdomain`, `delete_domain` and `updateuserdomains` (cPanel's
Whostmgr/API/1/UserDomains.pm) over real HTTP: cPanel's answers and refusals, the same records
and audit lines as the account's own cPanel `SubDomain` functions make, and refusals that
change nothing."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from audit_helpers import audited_since, last_audit_id
from conftest import Server


class Account:
    def __init__(self, server: Server, owner: str | None = None) -> None:
        self.server = server
        self.user, self.password = server.account(owner=owner)
        self.domain = f"{self.user}.example.com"
        self.ip = str(server.sql("SELECT ip FROM users WHERE username = :u", u=self.user)[0][0])

    def zone_text(self) -> str:
        rows = self.server.sql("SELECT text FROM zones WHERE name = :n", n=self.domain)
        return str(rows[0][0])

    def records_at(self, label: str) -> list[str]:
        """The zone's lines for `label.DOMAIN` and its `www.`, with the domain spelt DOMAIN."""
        names = (f"{label}.{self.domain}.", f"www.{label}.{self.domain}.")
        return sorted(
            line.replace(self.domain, "DOMAIN").replace(self.ip, "IP")
            for line in self.zone_text().splitlines()
            if line.split("\t", 1)[0] in names
        )

    def subdomains(self) -> list[str]:
        rows = self.server.sql(
            "SELECT s.name FROM subdomains s JOIN users u ON u.id = s.user_id"
            " WHERE u.username = :u ORDER BY s.name",
            u=self.user,
        )
        return [str(r[0]) for r in rows]

    def cpanel_add(self, label: str, root: str | None = None) -> None:
        token = self.server.cpanel_token(self.user, self.password)
        response = self.server.uapi(
            self.user, "SubDomain", "addsubdomain", token=token, domain=label,
            rootdomain=root or self.domain,
        )  # fmt: skip
        assert response.json()["status"] == 1, response.text


@pytest.fixture
def account(server: Server) -> Account:
    return Account(server)


def envelope(
    command: str, data: object, *, ok: bool = True, reason: str = "OK"
) -> dict[str, object]:
    meta = {"command": command, "reason": reason, "result": 1 if ok else 0, "version": 1}
    return {"data": data, "metadata": meta}


def create(
    server: Server, domain: str, document_root: str = "public_html/x", **kw: Any
) -> httpx.Response:
    return server.get(
        "create_subdomain", params={"domain": domain, "document_root": document_root}, **kw
    )


# -- create_subdomain ---------------------------------------------------------------------


def test_create_subdomain_answers_the_account_that_holds_the_parent(
    server: Server, account: Account
) -> None:
    response = create(server, f"blog.{account.domain}", "public_html/blog")
    assert response.status_code == 200
    assert response.json() == envelope("create_subdomain", {"username": account.user})
    assert account.subdomains() == [f"blog.{account.domain}"]


def test_create_subdomain_makes_the_records_the_cpanel_face_makes(server: Server) -> None:
    by_whm, by_cpanel = Account(server), Account(server)
    create(server, f"blog.{by_whm.domain}").raise_for_status()
    by_cpanel.cpanel_add("blog")
    assert by_whm.records_at("blog") == by_cpanel.records_at("blog")
    assert by_whm.records_at("blog") == [
        "blog.DOMAIN.\t14400\tIN\tA\tIP",
        "www.blog.DOMAIN.\t14400\tIN\tA\tIP",
    ]


def test_create_subdomain_is_audited_as_the_cpanel_face_audits_it(
    server: Server, account: Account
) -> None:
    since = last_audit_id(server)
    assert server.ok("create_subdomain", params={
        "domain": f"blog.{account.domain}", "document_root": "public_html/blog"})  # fmt: skip
    rows = audited_since(server, since, "ADDSUBDOMAIN")
    assert [(r.actor, r.subject, r.detail) for r in rows] == [
        ("root", account.user, f"blog.{account.domain}")
    ]


def test_the_account_lists_a_subdomain_created_in_whm(server: Server, account: Account) -> None:
    server.ok("create_subdomain", params={
        "domain": f"shop.{account.domain}", "document_root": "public_html/shop"})  # fmt: skip
    token = server.cpanel_token(account.user, account.password)
    listed = server.api2(account.user, "SubDomain", "listsubdomains", token=token).json()
    assert [s["domain"] for s in listed["cpanelresult"]["data"]] == [f"shop.{account.domain}"]


def test_create_subdomain_finds_the_nearest_parent_that_is_held(
    server: Server, account: Account
) -> None:
    # Beneath a subdomain: the subdomain is the parent, as cPanel walks up the labels.
    account.cpanel_add("eu")
    assert server.ok("create_subdomain", params={
        "domain": f"shop.eu.{account.domain}", "document_root": "public_html/s"}) == {
        "username": account.user}  # fmt: skip
    assert f"shop.eu.{account.domain}" in account.subdomains()
    # Two labels deep under the main domain: the labels together are the subdomain.
    assert server.ok("create_subdomain", params={
        "domain": f"a.b.{account.domain}", "document_root": "public_html/ab"}) == {
        "username": account.user}  # fmt: skip
    assert f"a.b.{account.domain}" in account.subdomains()


def test_create_subdomain_reads_the_name_in_any_case(server: Server, account: Account) -> None:
    assert server.ok("create_subdomain", params={
        "domain": f"Blog.{account.domain.upper()}.", "document_root": "public_html/b"}) == {
        "username": account.user}  # fmt: skip
    assert account.subdomains() == [f"blog.{account.domain}"]


_MISSING = "Provide the “{}” parameter for the “Whostmgr::API::1::UserDomains::{}” function."
_BAD_CHARACTERS = (
    "Directory paths cannot be empty, contain whitespace, or contain the following "
    'characters: \\, ?, %, *, :, |, ", <, >, ='
)
_ROOT = "public_html/x"

# (domain, document_root, reason): None leaves the parameter out; {d} and {u} are the
# account's domain and user, {od} and {ou} another account's, {n} a domain nobody holds.
CREATE_REFUSALS = [
    (None, _ROOT, _MISSING.format("domain", "create_subdomain")),
    ("", _ROOT, "The value of “domain” may not be empty."),
    ("{d}", _ROOT, "“{u}” already controls “{d}”!"),
    ("{od}", None, "“{ou}” already controls “{od}”!"),
    ("x.{n}", _ROOT, "No user on this system owns a parent domain of “x.{n}”."),
    ("example.org", _ROOT, "No user on this system owns a parent domain of “example.org”."),
    # The document root is read after the name, as cPanel reads it.
    ("n.{d}", None, _MISSING.format("document_root", "create_subdomain")),
    ("n.{d}", "", "The value of “document_root” may not be empty."),
    ("n.{d}", "/public_html/n",
     "The document root must be a relative path. It must not begin with a slash (“/”)."),
    ("n.{d}", "n", "The document root must begin with “public_html/”."),
    ("n.{d}", "public_html/./n", "Relative filesystem nodes are invalid."),
    ("n.{d}", "public_html/../n",
     "“public_html/../n” is not a valid document root. (Directory paths cannot contain “..”.)"),
    ("n.{d}", "public_html//n",
     "“public_html//n” is not a valid document root. (Directory paths cannot contain “//”.)"),
    ("n.{d}", "public_html/${HOME}", "“public_html/${{HOME}}” is not a valid document root. "
     "(Directory paths cannot contain interpolation sequences.)"),
    ("n.{d}", "public_html/a b",
     f"“public_html/a b” is not a valid document root. ({_BAD_CHARACTERS})"),
    # The name is then checked as the account's own addsubdomain checks it.
    ("bad_label.{d}", _ROOT, "You must specify a valid subdomain."),
    ("www.{d}", _ROOT, "You cannot create the “www” subdomain, because the system adds the "
     "“www” subdomain to all newly-created domains."),
    ("mail.{d}", _ROOT, "The subdomain “mail” is reserved."),
]  # fmt: skip


@pytest.mark.parametrize(("domain", "document_root", "reason"), CREATE_REFUSALS)
def test_create_subdomain_refusals_change_nothing(
    server: Server, account: Account, domain: str | None, document_root: str | None, reason: str
) -> None:
    other = Account(server)
    names = {"d": account.domain, "u": account.user, "od": other.domain, "ou": other.user,
             "n": f"{uuid.uuid4().hex[:8]}.example.net"}  # fmt: skip
    params = {}
    if domain is not None:
        params["domain"] = domain.format(**names)
    if document_root is not None:
        params["document_root"] = document_root
    before = account.zone_text(), other.zone_text()
    response = server.get("create_subdomain", params=params)
    assert response.status_code == 200
    assert response.json()["metadata"] == {
        "command": "create_subdomain", "reason": reason.format(**names), "result": 0, "version": 1
    }  # fmt: skip
    assert (account.zone_text(), other.zone_text()) == before
    assert account.subdomains() == other.subdomains() == []


def test_create_subdomain_refuses_a_name_that_exists_as_a_subdomain(
    server: Server, account: Account
) -> None:
    account.cpanel_add("blog")
    assert create(server, f"blog.{account.domain}").json()["metadata"]["reason"] == (
        f"“{account.user}” already controls “blog.{account.domain}”!"
    )


@pytest.mark.parametrize("function", ["create_subdomain", "delete_domain", "updateuserdomains"])
def test_a_reseller_without_all_is_refused_and_the_refusal_is_audited(
    server: Server, function: str
) -> None:
    # Choice: cPanel's ACL for these is in its compiled dispatch table; they check no
    # ownership themselves, so gatehouse keeps them to hasroot().
    reseller, token = server.reseller()
    owned = Account(server, owner=reseller)
    since = last_audit_id(server)
    response = server.get(
        function, user=reseller, token=token,
        params={"domain": f"blog.{owned.domain}", "document_root": "public_html/b"},
    )  # fmt: skip
    assert response.status_code == 403
    assert response.json()["metadata"]["reason"] == (
        f"Access denied: calling “{function}” requires the “all” privilege."
    )
    assert [r.reason for r in audited_since(server, since, "ACCESSDENIED")] == ["missing_privilege"]
    assert owned.subdomains() == []


def test_a_reseller_holding_all_may_create_on_any_account(server: Server, account: Account) -> None:
    reseller, token = server.reseller(["all"])
    response = create(server, f"blog.{account.domain}", user=reseller, token=token)
    assert response.json() == envelope("create_subdomain", {"username": account.user})


def test_a_scoped_token_reaches_only_its_accounts(server: Server, account: Account) -> None:
    other = Account(server)
    token = server.token(scope_account=[other.user])
    since = last_audit_id(server)
    response = create(server, f"blog.{account.domain}", token=token)
    assert response.json()["metadata"]["result"] == 0
    assert response.json()["metadata"]["reason"] == (
        f"You do not have access to an account named “{account.user}”."
    )
    assert [r.reason for r in audited_since(server, since, "ACCESSDENIED")] == ["out_of_scope"]
    assert account.subdomains() == []
    assert create(server, f"blog.{other.domain}", token=token).json()["metadata"]["result"] == 1


# -- delete_domain ------------------------------------------------------------------------


def test_delete_domain_removes_a_subdomain_as_delsubdomain_does(
    server: Server, account: Account
) -> None:
    zone_before = account.records_at("blog")
    account.cpanel_add("blog")
    since = last_audit_id(server)
    response = server.get("delete_domain", params={"domain": f"blog.{account.domain}"})
    assert response.json() == envelope("delete_domain", {"type": "sub", "username": account.user})
    assert account.subdomains() == []
    assert account.records_at("blog") == zone_before == []
    rows = audited_since(server, since, "DELSUBDOMAIN")
    assert [(r.actor, r.subject, r.detail) for r in rows] == [
        ("root", account.user, f"blog.{account.domain}")
    ]


def test_delete_domain_of_a_name_no_account_holds_succeeds_with_nulls(server: Server) -> None:
    domain = f"{uuid.uuid4().hex[:8]}.example.net"
    response = server.get("delete_domain", params={"domain": domain})
    assert response.json() == envelope("delete_domain", {"type": None, "username": None})


def test_delete_domain_refuses_the_main_domain(server: Server, account: Account) -> None:
    before = account.zone_text()
    assert server.fail("delete_domain", params={"domain": account.domain}) == (
        f"“{account.domain}” is “{account.user}”’s main domain!"
    )
    assert account.zone_text() == before


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({}, _MISSING.format("domain", "delete_domain")),
        ({"domain": ""}, "The value of “domain” may not be empty."),
    ],
)  # fmt: skip
def test_delete_domain_needs_a_domain(server: Server, params: dict[str, str], reason: str) -> None:
    assert server.fail("delete_domain", params=params) == reason


def test_delete_domain_passes_on_delsubdomains_refusal(server: Server, account: Account) -> None:
    account.cpanel_add("eu")
    account.cpanel_add("shop", f"eu.{account.domain}")
    eu = f"eu.{account.domain}"
    assert server.fail("delete_domain", params={"domain": eu}) == (
        f"delete “{eu}”: Delete the subdomains of “{eu}” first: shop.{eu}."
    )
    assert account.subdomains() == [eu, f"shop.{eu}"]


def test_delete_domain_a_scoped_token_reaches_only_its_accounts(
    server: Server, account: Account
) -> None:
    account.cpanel_add("blog")
    token = server.token(scope_account=[Account(server).user])
    assert server.fail(
        "delete_domain", token=token, params={"domain": f"blog.{account.domain}"}
    ) == (f"You do not have access to an account named “{account.user}”.")
    assert account.subdomains() == [f"blog.{account.domain}"]


# -- updateuserdomains --------------------------------------------------------------------


def test_updateuserdomains_answers_ok_without_data(server: Server) -> None:
    response = server.get("updateuserdomains")
    assert response.content == (
        b'{"metadata":{"command":"updateuserdomains","reason":"OK","result":1,"version":1}}'
    )


HOSTILE = ["a\x00b.example.com", "é" * 300, "." * 10, "*", "-.example.com", "a" * 70 + ".example"]


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize(
    ("function", "params"),
    [
        ("create_subdomain", {"domain": "{v}", "document_root": "public_html/x"}),
        ("create_subdomain", {"domain": "x.{d}", "document_root": "public_html/{v}"}),
        ("delete_domain", {"domain": "{v}"}),
        ("create_parked_domain_for_user", {"username": "{u}", "domain": "{v}",
                                           "web_vhost_domain": "{d}"}),
        ("create_parked_domain_for_user", {"username": "{v}", "domain": "x.example.net",
                                           "web_vhost_domain": "{v}"}),
        ("create_parked_domain_for_user", {"username": "{v}", "domain": "x.example.net",
                                           "web_vhost_domain": "{d}"}),
    ],
)  # fmt: skip
def test_hostile_values_get_an_answer_in_the_envelope(
    server: Server, account: Account, function: str, params: dict[str, str], value: str
) -> None:
    query = {
        k: v.replace("{v}", value).replace("{d}", account.domain).replace("{u}", account.user)
        for k, v in params.items()
    }
    response = server.get(function, params=query)
    assert response.status_code == 200, response.text
    # A refusal in cPanel's words, or (a name no one holds) delete_domain's nulls; never the
    # internal error.
    assert not response.json()["metadata"]["reason"].startswith("Internal error"), response.text
