"""Which names an account may own (issue 18 §7): no public suffix, no reserved or special-use
name, no invalid IDNA, reverse zones only where the server allows them and root asks. The rule
itself (domain/domain_names.py), then every path that creates a name over real HTTP: WHM API 1
createacct, modifyacct and adddns, API 0 adddns, UAPI SubDomain::addsubdomain and
DynamicDNS::create — each refusal in its caller's envelope, storing nothing."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import dns.message
import dns.query
import dns.rcode
import pytest

from conftest import Server, another_node
from gatehouse.domain import domain_names
from gatehouse.domain.domain_names import ReverseZones
from gatehouse.errors import InvalidParameter, PermissionDenied
from gatehouse.passwords import generate_password


def public_suffix(name: str) -> str:
    return (
        f"“{name}” is a public suffix: it cannot be an account's domain. Use a name "
        f"registered under it, such as “example.{name}”."
    )


def reserved(name: str, suffix: str, why: str) -> str:
    return f"“{name}” is a reserved name (“{suffix}”: {why}): it cannot be an account's domain."


def bad_idna(name: str, label: str) -> str:
    return (
        f"“{name}” is not a valid domain name: “{label}” is not a valid internationalized "
        "(IDNA 2008) label."
    )


REVERSE = "7.0.10.in-addr.arpa"

ROOTS = "the DNS root servers' names"
NOT_AN_ACCOUNTS = f"“{REVERSE}” is a reverse DNS zone: it cannot be an account's domain."

# (name as given, the refusal every creating path gives)
REFUSED = [
    ("co.uk", public_suffix("co.uk")),
    ("CO.UK.", public_suffix("co.uk")),
    ("github.io", public_suffix("github.io")),  # the list's private section
    ("foo.ck", public_suffix("foo.ck")),  # a wildcard rule: *.ck
    ("s3.amazonaws.com", public_suffix("s3.amazonaws.com")),
    ("ip6.arpa", "“ip6.arpa” is a reverse DNS zone: it cannot be an account's domain."),
    (REVERSE, NOT_AN_ACCOUNTS),
    ("root-servers.net", reserved("root-servers.net", "root-servers.net", ROOTS)),
    ("a.root-servers.net", reserved("a.root-servers.net", "root-servers.net", ROOTS)),
    ("x.local", reserved("x.local", "local", "multicast DNS, RFC 6762")),
    ("x.localhost", reserved("x.localhost", "localhost", "special-use name, RFC 6761")),
    ("shop.invalid", reserved("shop.invalid", "invalid", "special-use name, RFC 6761")),
    ("hidden.onion", reserved("hidden.onion", "onion", "Tor onion services, RFC 7686")),
    ("x.alt", reserved("x.alt", "alt", "non-DNS namespaces, RFC 9476")),
    ("corp.internal", reserved("corp.internal", "internal", "private use, reserved by ICANN")),
    ("home.arpa", reserved("home.arpa", "home.arpa", "home networks, RFC 8375")),
    ("nas.home.arpa", reserved("nas.home.arpa", "home.arpa", "home networks, RFC 8375")),
    ("ipv4only.arpa", reserved("ipv4only.arpa", "arpa", "infrastructure domain, RFC 3172")),
    ("xn--a.example", bad_idna("xn--a.example", "xn--a")),  # punycode that decodes to U+0080
    ("www.xn--ls8h.la", bad_idna("www.xn--ls8h.la", "xn--ls8h")),  # an emoji: not IDNA 2008
    ("xn--bcher-kva-.example", "“xn--bcher-kva-.example” is not a valid domain name."),
    (
        "💩.la",
        "“💩.la” is not a valid domain name: it is not a valid internationalized domain name "
        "(IDNA 2008).",
    ),
    ("localhost", "“localhost” is not a valid domain name."),  # one label
    ("bad name.example.com", "“bad name.example.com” is not a valid domain name."),
]

# (name as given, name as stored)
ACCEPTED = [
    ("example.com", "example.com"),
    ("Example.COM.", "example.com"),
    ("sub.example.co.uk", "sub.example.co.uk"),
    ("example.github.io", "example.github.io"),
    ("www.ck", "www.ck"),  # the exception rule !www.ck
    ("Bücher.Example.", "xn--bcher-kva.example"),  # Unicode stored as its A-label
    ("bücher。example", "xn--bcher-kva.example"),  # UTS 46 maps the ideographic full stop
    ("faß.de", "xn--fa-hia.de"),  # IDNA 2008, not transitional: ß is kept, not "ss"
    ("XN--BCHER-KVA.example", "xn--bcher-kva.example"),
    ("münchen.de", "xn--mnchen-3ya.de"),
    ("site.test", "site.test"),  # RFC 6761 asks not to treat .test and .example specially
    ("u1.example.com", "u1.example.com"),
    ("ab--c.example", "ab--c.example"),  # not an IDNA label: plain LDH
]


# -- the rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "reason"), REFUSED, ids=[n for n, _ in REFUSED])
def test_refused(name: str, reason: str) -> None:
    with pytest.raises(InvalidParameter) as refused:
        domain_names.new_name(name)
    assert refused.value.reason == reason


@pytest.mark.parametrize(("name", "stored"), ACCEPTED, ids=[n for n, _ in ACCEPTED])
def test_accepted(name: str, stored: str) -> None:
    assert domain_names.new_name(name) == stored


@pytest.mark.parametrize(
    ("reverse", "reason"),
    [
        (ReverseZones.NEVER, NOT_AN_ACCOUNTS),
        (
            ReverseZones.DISABLED,
            f"“{REVERSE}” is a reverse DNS zone: this server does not allow reverse zones "
            "(the GATEHOUSE_ALLOW_REVERSE_ZONES setting is off).",
        ),
        (ReverseZones.ALLOWED, None),
    ],
)
def test_reverse_zone_where_allowed(reverse: ReverseZones, reason: str | None) -> None:
    if reason is None:
        assert domain_names.new_name(f"{REVERSE}.", reverse=reverse) == REVERSE
        assert domain_names.new_name("8.b.d.0.1.0.0.2.ip6.arpa", reverse=reverse)
        return
    with pytest.raises(InvalidParameter) as refused:
        domain_names.new_name(REVERSE, reverse=reverse)
    assert refused.value.reason == reason


def test_a_reverse_zone_only_root_may_add_is_a_permission_refusal() -> None:
    with pytest.raises(PermissionDenied) as refused:
        domain_names.new_name(REVERSE, reverse=ReverseZones.ROOT_ONLY)
    only_root = f"“{REVERSE}” is a reverse DNS zone: only root may add reverse zones."
    assert refused.value.reason == only_root


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("in-addr.arpa", "“in-addr.arpa” is a public suffix: it cannot be an account's domain."),
        ("ip6.arpa", "“ip6.arpa” is a public suffix: it cannot be an account's domain."),
        ("nas.home.arpa", reserved("nas.home.arpa", "home.arpa", "home networks, RFC 8375")),
        ("co.uk", public_suffix("co.uk")),
    ],
)
def test_allowing_reverse_zones_allows_nothing_else(name: str, reason: str) -> None:
    with pytest.raises(InvalidParameter) as refused:
        domain_names.new_name(name, reverse=ReverseZones.ALLOWED)
    assert refused.value.reason == reason


@pytest.mark.parametrize(
    ("setting", "by_root", "expected"),
    [
        (False, True, ReverseZones.DISABLED),
        (False, False, ReverseZones.DISABLED),
        (True, False, ReverseZones.ROOT_ONLY),
        (True, True, ReverseZones.ALLOWED),
    ],
)
def test_adddns_reverse_policy(setting: bool, by_root: bool, expected: ReverseZones) -> None:
    assert ReverseZones.for_adddns(setting=setting, by_root=by_root) is expected


@pytest.mark.parametrize(
    ("raw", "found"),
    [
        ("Bücher.example.", "xn--bcher-kva.example"),
        ("xn--a.example", "xn--a.example"),  # a name older rules let in can still be found
        ("co.uk", "co.uk"),
        ("💩.la", "💩.la"),  # cannot be converted: looked up as given, and not found
    ],
)
def test_lookup_form_only_spells(raw: str, found: str) -> None:
    assert domain_names.lookup_form(raw) == found


def test_the_list_is_the_one_the_package_ships() -> None:
    # Read from the installed package, never fetched: a name added to the list in 2024
    # (ICANN's `.internal` reservation is not on it; a private-section entry is).
    assert domain_names._suffixes().is_public("github.io")
    assert not domain_names._suffixes().is_public("example.com")


# -- over HTTP: every path that creates a name -------------------------------------------------


def uid() -> str:
    return "d" + secrets.token_hex(5)


def count(server: Server, table: str, column: str, value: str) -> int:
    rows = server.sql(f"SELECT COUNT(*) FROM {table} WHERE {column} = :v", v=value)  # noqa: S608
    return int(rows[0][0])


def ask(server: Server, name: str) -> dns.message.Message:
    query = dns.message.make_query(name, "A", flags=0)
    return dns.query.udp(query, "127.0.0.1", port=server.dns_port, timeout=5)


def stored_form(name: str) -> str:
    return domain_names.lookup_form(name)


@pytest.mark.parametrize(("name", "reason"), REFUSED, ids=[n for n, _ in REFUSED])
def test_createacct_refuses(server: Server, name: str, reason: str) -> None:
    user = uid()
    password = server.remember(generate_password())
    params = {"username": user, "domain": name, "password": password}
    assert server.fail("createacct", params=params) == reason
    assert count(server, "users", "username", user) == 0
    assert count(server, "zones", "name", stored_form(name)) == 0


@pytest.mark.parametrize(("name", "reason"), REFUSED, ids=[n for n, _ in REFUSED])
def test_adddns_refuses(server: Server, name: str, reason: str) -> None:
    if name.endswith("in-addr.arpa"):
        # adddns names the setting that would allow it (see the reverse-zone tests below).
        reason = (
            f"“{name}” is a reverse DNS zone: this server does not allow reverse zones "
            "(the GATEHOUSE_ALLOW_REVERSE_ZONES setting is off)."
        )
    elif name == "ip6.arpa":
        reason = reason.replace(
            "it cannot be an account's domain.",
            "this server does not allow reverse zones "
            "(the GATEHOUSE_ALLOW_REVERSE_ZONES setting is off).",
        )
    assert server.fail("adddns", params={"domain": name, "ip": "192.0.2.7"}) == reason
    assert count(server, "zones", "name", stored_form(name)) == 0


def test_createacct_stores_a_unicode_domain_as_its_a_label(server: Server) -> None:
    user = uid()
    password = server.remember(generate_password())
    data = server.ok(
        "createacct",
        params={
            "username": user,
            "domain": f"{user}.Bücher.example",
            "password": password,
        },
    )
    stored = f"{user}.xn--bcher-kva.example"
    assert data["domain"] == stored if isinstance(data, dict) and "domain" in data else True
    assert server.sql("SELECT domain FROM users WHERE username = :u", u=user) == [(stored,)]
    assert count(server, "zones", "name", stored) == 1
    assert ask(server, f"www.{stored}").rcode() == dns.rcode.NOERROR
    # The Unicode spelling finds the zone too.
    dumped = server.ok("dumpzone", params={"domain": f"{user}.bücher.example"})
    assert dumped["zone"][0]["record"]


def test_createacct_accepts_a_name_under_a_public_suffix(server: Server) -> None:
    user = uid()
    password = server.remember(generate_password())
    domain = f"www.{user}.co.uk"
    server.ok("createacct", params={"username": user, "domain": domain, "password": password})
    assert server.sql("SELECT domain FROM users WHERE username = :u", u=user) == [(domain,)]


def test_adddns_stores_a_unicode_zone_as_its_a_label(server: Server) -> None:
    name = uid()
    server.ok("adddns", params={"domain": f"{name}.MÜNCHEN.de", "ip": "192.0.2.7"})
    stored = f"{name}.xn--mnchen-3ya.de"
    assert count(server, "zones", "name", stored) == 1
    assert {rd.to_text() for rrset in ask(server, stored).answer for rd in rrset} == {"192.0.2.7"}
    server.ok("killdns", params={"domain": f"{name}.münchen.de"})
    assert count(server, "zones", "name", stored) == 0


def test_api0_adddns_refuses_in_its_envelope(server: Server) -> None:
    response = server.get("adddns", params={"domain": "co.uk", "ip": "192.0.2.7"}, api_version=None)
    assert response.status_code == 200
    assert response.json() == {"result": [{"status": 0, "statusmsg": public_suffix("co.uk")}]}


def test_modifyacct_refuses_a_public_suffix_and_changes_nothing(server: Server) -> None:
    user, _ = server.account()
    reason = server.fail("modifyacct", params={"user": user, "domain": "github.io"})
    assert reason == public_suffix("github.io")
    assert server.sql("SELECT domain FROM users WHERE username = :u", u=user) == [
        (f"{user}.example.com",)
    ]
    assert count(server, "zones", "name", f"{user}.example.com") == 1


def test_modifyacct_converts_a_unicode_domain(server: Server) -> None:
    user, _ = server.account()
    server.ok("modifyacct", params={"user": user, "domain": f"{user}.bücher.example"})
    stored = f"{user}.xn--bcher-kva.example"
    assert server.sql("SELECT domain FROM users WHERE username = :u", u=user) == [(stored,)]
    assert count(server, "zones", "name", stored) == 1


def test_modifyacct_keeps_a_domain_older_rules_allowed(server: Server) -> None:
    # An account whose domain the rule would refuse today (made before it) is not stuck:
    # giving its own domain again is no change, and its other settings can still change.
    user, _ = server.account()
    legacy = f"{user}.local"
    server.sql("UPDATE users SET domain = :d WHERE username = :u", d=legacy, u=user)
    server.ok("modifyacct", params={"user": user, "domain": legacy, "contactemail": "a@b.example"})
    assert server.sql("SELECT domain, contact_email FROM users WHERE username = :u", u=user) == [
        (legacy, "a@b.example")
    ]


class Account:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.user, password = server.account()
        self.token = server.cpanel_token(self.user, password)
        self.domain = f"{self.user}.example.com"

    def uapi(self, module: str, func: str, **params: Any) -> Any:
        return self.server.uapi(self.user, module, func, token=self.token, **params)


@pytest.fixture
def account(server: Server) -> Account:
    return Account(server)


def uapi_error(raw: bytes, reason: str) -> None:
    assert raw == (
        b'{"data":null,"errors":'
        + json.dumps([reason], ensure_ascii=False).encode()
        + b',"messages":null,"metadata":{},"status":0,"warnings":null}'
    )


def test_addsubdomain_refuses_invalid_punycode(account: Account) -> None:
    name = f"xn--a.{account.domain}"
    response = account.uapi("SubDomain", "addsubdomain", domain="xn--a", rootdomain=account.domain)
    uapi_error(response.content, bad_idna(name, "xn--a"))
    assert count(account.server, "subdomains", "name", name) == 0


def test_addsubdomain_stores_a_unicode_label_as_its_a_label(account: Account) -> None:
    response = account.uapi("SubDomain", "addsubdomain", domain="Bücher", rootdomain=account.domain)
    assert response.json()["status"] == 1, response.text
    stored = f"xn--bcher-kva.{account.domain}"
    assert count(account.server, "subdomains", "name", stored) == 1
    assert ask(account.server, stored).rcode() == dns.rcode.NOERROR


def test_dynamicdns_create_refuses_invalid_punycode(account: Account) -> None:
    name = f"xn--a.{account.domain}"
    response = account.uapi("DynamicDNS", "create", domain=name)
    uapi_error(response.content, bad_idna(name, "xn--a"))
    assert count(account.server, "dynamic_dns", "domain", name) == 0


def test_dynamicdns_create_stores_a_unicode_name_as_its_a_label(account: Account) -> None:
    response = account.uapi("DynamicDNS", "create", domain=f"Bücher.{account.domain}")
    body = response.json()
    assert body["status"] == 1, body
    account.server.remember(body["data"]["id"])
    listed = account.uapi("DynamicDNS", "list").json()["data"]
    assert f"xn--bcher-kva.{account.domain}" in [entry["domain"] for entry in listed]


# -- reverse zones: a server that allows them -------------------------------------------------


@pytest.fixture(scope="module")
def reverse_node(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A second `gatehouse serve` on the same store with GATEHOUSE_ALLOW_REVERSE_ZONES=1."""
    with another_node(
        server, tmp_path_factory, "reverse-node", {"GATEHOUSE_ALLOW_REVERSE_ZONES": "1"}
    ) as node:
        yield node


def reverse_name() -> str:
    return f"{secrets.randbelow(256)}.{secrets.randbelow(256)}.10.in-addr.arpa"


def test_where_allowed_root_adds_a_reverse_zone(reverse_node: Server) -> None:
    name = reverse_name()
    reverse_node.ok("adddns", params={"domain": f"{name}.", "ip": "192.0.2.10"})
    assert count(reverse_node, "zones", "name", name) == 1
    reverse_node.ok("killdns", params={"domain": name})


def test_where_allowed_a_reseller_still_may_not(reverse_node: Server) -> None:
    reseller, token = reverse_node.reseller(["create-dns", "list-accts"])
    name = reverse_name()
    reason = reverse_node.fail(
        "adddns", user=reseller, token=token, params={"domain": name, "ip": "192.0.2.10"}
    )
    assert reason == f"“{name}” is a reverse DNS zone: only root may add reverse zones."
    assert count(reverse_node, "zones", "name", name) == 0


def test_where_allowed_no_account_domain_is_a_reverse_zone(reverse_node: Server) -> None:
    name = reverse_name()
    user = uid()
    password = reverse_node.remember(generate_password())
    params = {"username": user, "domain": name, "password": password}
    assert reverse_node.fail("createacct", params=params) == (
        f"“{name}” is a reverse DNS zone: it cannot be an account's domain."
    )
    assert count(reverse_node, "users", "username", user) == 0


def test_where_allowed_the_whole_reverse_tree_is_still_refused(reverse_node: Server) -> None:
    assert reverse_node.fail("adddns", params={"domain": "in-addr.arpa", "ip": "192.0.2.10"}) == (
        "“in-addr.arpa” is a public suffix: it cannot be an account's domain."
    )
