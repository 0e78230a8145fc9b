"""SPF records: Mail::SPF's syntax as cPanel checks it (gatehouse.dns.spf, a table of its
refusals), and UAPI `EmailAuth::install_spf_records` over real HTTP — added, replaced, left
alone, duplicates removed, refused per domain — with the zone read back after each call."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import Server
from gatehouse.dns import spf


@pytest.mark.parametrize(
    "record",
    [
        "v=spf1 -all",
        "v=spf1",
        "V=SPF1 +a mx ~all",
        "v=spf1 a:mail.example.com/24 mx/26//64 ?ptr -all",
        "v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.7 ip6:2001:db8::/32 ip6:::1 -all",
        "v=spf1 include:_spf.google.com include:%{d}.example.net ~all",
        "v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all",
        "v=spf1 redirect=_spf.example.com",
        "v=spf1 -all exp=explain.%{d}",
        "v=spf1 x-custom=anything -all",
        "v=spf1  a   -all",
    ],
)
def test_valid_records(record: str) -> None:
    spf.check(record)


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ("", "Not a 'v=spf1' record: ''"),
        ("v=spf2 -all", "Not a 'v=spf1' record: 'v=spf2 -all'"),
        ("spf1 -all", "Not a 'v=spf1' record: 'spf1 -all'"),
        ("v=spf1 foo", "Unknown mechanism type 'foo' in 'v=spf1' record"),
        ("v=spf1 include", "Missing required domain-spec in 'include'"),
        ("v=spf1 include:", "Missing required domain-spec in 'include:'"),
        ("v=spf1 exists:x", "Missing required domain-spec in 'exists:x'"),
        ("v=spf1 ip4:192.0.2.0/33", "Invalid IPv4 prefix length encountered in 'ip4:192.0.2.0/33'"),
        ("v=spf1 ip4:192.0.2.0/08", "Invalid IPv4 prefix length encountered in 'ip4:192.0.2.0/08'"),
        ("v=spf1 ip4:example.com", "Missing required IPv4 address in 'ip4:example.com'"),
        ("v=spf1 ip4:192.0.2.300", "Junk encountered in mechanism 'ip4:192.0.2.300'"),
        ("v=spf1 ip6:192.0.2.1", "Missing required IPv6 address in 'ip6:192.0.2.1'"),
        ("v=spf1 ip6:2001:db8::/129",
         "Invalid IPv6 prefix length encountered in 'ip6:2001:db8::/129'"),
        ("v=spf1 a//", "Missing required IPv6 prefix length in 'a//'"),
        ("v=spf1 all:x", "Junk encountered in mechanism 'all:x'"),
        ("v=spf1 redirect=", "Missing required domain-spec in 'redirect='"),
        ("v=spf1 redirect=a.example redirect=b.example",
         "Duplicate global modifier 'redirect' encountered"),
        ("v=spf1 x=%{", "Invalid macro string encountered in 'x=%{'"),
        ("v=spf1 =x", "Junk encountered in record 'v=spf1 =x'"),
        ("v=spf1 -all \"quoted\"", "Junk encountered in record 'v=spf1 -all \"quoted\"'"),
    ],
)  # fmt: skip
def test_refused_records(record: str, reason: str) -> None:
    with pytest.raises(spf.SPFSyntaxError) as refused:
        spf.check(record)
    assert refused.value.reason == reason


class Account:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.user, self.token = server.account_with_token()
        self.domain = f"{self.user}.example.com"

    def install(self, params: Any) -> Any:
        response = self.server.cpanel_get(
            "/execute/EmailAuth/install_spf_records",
            auth=f"cpanel {self.user}:{self.token}",
            params=params,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def spf_lines(self, name: str | None = None) -> list[str]:
        """The TXT data at `name` (default: the domain) that starts v=spf, from dumpzone."""
        owner = f"{name or self.domain}."
        data = self.server.ok("dumpzone", params={"domain": self.domain})
        return [
            r["txtdata"]
            for r in data["zone"][0]["record"]
            if r.get("type") == "TXT" and r["name"] == owner and r["txtdata"].startswith("v=spf")
        ]


@pytest.fixture
def account(server: Server) -> Account:
    return Account(server)


def test_install_adds_then_replaces_then_leaves_alone(account: Account) -> None:
    first = account.install({"domain": account.domain, "record": "v=spf1 mx -all"})
    assert first["status"] == 1, first
    assert first["data"] == [
        {
            "domain": account.domain,
            "msg": f"[ADD:TXT@{account.domain}.:v=spf1 mx -all]",
            "status": 1,
        }
    ]
    assert account.spf_lines() == ["v=spf1 mx -all"]
    second = account.install({"domain": account.domain, "record": "v=spf1 a mx ~all"})
    assert second["data"][0]["msg"] == f"[REPLACE:TXT@{account.domain}.:v=spf1 a mx ~all]"
    assert account.spf_lines() == ["v=spf1 a mx ~all"]
    third = account.install({"domain": account.domain, "record": "v=spf1 a mx ~all"})
    assert third["data"] == [{"domain": account.domain, "msg": "[no changes needed]", "status": 1}]


def test_duplicates_are_removed(account: Account) -> None:
    for value in ("v=spf1 a -all", "v=spf1 mx -all"):
        account.server.ok(
            "addzonerecord",
            params={"zone": account.domain, "name": f"{account.domain}.", "type": "TXT",
                    "txtdata": value},
        )  # fmt: skip
    assert len(account.spf_lines()) == 2
    done = account.install({"domain": account.domain, "record": "v=spf1 include:x.example -all"})
    assert done["data"][0]["msg"] == (
        f"[REPLACE:TXT@{account.domain}.:v=spf1 include:x.example -all, "
        f"REMOVEDUPE:TXT@{account.domain}.]"
    )
    assert account.spf_lines() == ["v=spf1 include:x.example -all"]


def test_other_txt_records_are_kept(account: Account) -> None:
    account.server.ok(
        "addzonerecord",
        params={"zone": account.domain, "name": f"{account.domain}.", "type": "TXT",
                "txtdata": "google-site-verification=abc"},
    )  # fmt: skip
    account.install({"domain": account.domain, "record": "v=spf1 -all"})
    data = account.server.ok("dumpzone", params={"domain": account.domain})
    texts = [r["txtdata"] for r in data["zone"][0]["record"] if r.get("type") == "TXT"]
    assert sorted(texts) == ["google-site-verification=abc", "v=spf1 -all"]


def test_a_bad_record_is_refused_for_its_domain_only(server: Server, account: Account) -> None:
    sub = f"blog.{account.domain}"
    made = server.uapi(account.user, "SubDomain", "addsubdomain", token=account.token,
                       domain="blog", rootdomain=account.domain)  # fmt: skip
    assert made.json()["status"] == 1, made.text
    body = account.install(
        [("domain-1", account.domain), ("record-1", "v=spf1 foo"),
         ("domain-2", sub), ("record-2", "v=spf1 a -all")]
    )  # fmt: skip
    assert body["status"] == 1, body
    assert body["data"] == [
        {
            "domain": account.domain,
            "msg": "[FAIL:Unknown mechanism type 'foo' in 'v=spf1' record]",
            "status": 0,
        },
        {"domain": sub, "msg": "[ADD:TXT@blog:v=spf1 a -all]", "status": 1},
    ]
    assert account.spf_lines() == []
    assert account.spf_lines(sub) == ["v=spf1 a -all"]


def test_a_long_record_is_split_into_strings(account: Account) -> None:
    value = "v=spf1 " + " ".join(f"ip4:192.0.2.{i}" for i in range(1, 40)) + " -all"
    assert len(value) > 255
    account.install({"domain": account.domain, "record": value})
    assert account.spf_lines() == [value]


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({}, "Provide at least one “domain” argument."),
        ({"domain": "{d}"}, "Provide at least one “record” argument."),
        ({"domain": "", "record": "v=spf1 -all"}, "The “domain” arguments cannot be empty."),
        ({"domain": "{d}", "record": ""}, "The “record” arguments cannot be empty."),
        ([("domain-1", "{d}"), ("domain-2", "{d}"), ("record-1", "v=spf1 -all")],
         "Provide the same number of “domain” and “record” arguments."),
        ({"domain": "nope.example.org", "record": "v=spf1 -all"},
         "You do not control the “nope.example.org” domain."),
    ],
)  # fmt: skip
def test_argument_refusals_change_nothing(account: Account, params: Any, reason: str) -> None:
    pairs = params.items() if isinstance(params, dict) else params
    filled = [(k, v.replace("{d}", account.domain)) for k, v in pairs]
    body = account.install(filled)
    assert (body["status"], body["errors"]) == (0, [reason])
    assert account.spf_lines() == []


def test_another_accounts_domain_is_refused(server: Server, account: Account) -> None:
    other = Account(server)
    body = account.install({"domain": other.domain, "record": "v=spf1 -all"})
    assert body["errors"] == [f"You do not control the “{other.domain}” domain."]
    assert other.spf_lines() == []


def test_whmcs_set_spf_record(server: Server, account: Account) -> None:
    """cpanel_SetSPFRecord: /json-api/cpanel with cpanel_jsonapi_apiversion=3; it reads
    result.status and result.messages."""
    body = server.get(
        "cpanel",
        api_version=None,
        params={
            "cpanel_jsonapi_user": account.user,
            "cpanel_jsonapi_apiversion": "3",
            "cpanel_jsonapi_module": "EmailAuth",
            "cpanel_jsonapi_func": "install_spf_records",
            "domain": account.domain,
            "record": "v=spf1 +a +mx ~all",
        },
    ).json()
    assert body["result"]["status"] == 1, body
    assert account.spf_lines() == ["v=spf1 +a +mx ~all"]


# -- WHM API 1 install_spf_records -------------------------------------------------------------


def test_whm_install_spf_records_across_accounts(server: Server) -> None:
    one, two = Account(server), Account(server)
    data = server.ok(
        "install_spf_records",
        params=[("domain-1", one.domain), ("record-1", "v=spf1 mx -all"),
                ("domain-2", two.domain), ("record-2", "v=spf1 bogus")],
    )  # fmt: skip
    by_domain = {item["domain"]: item for item in data["payload"]}
    assert by_domain == {
        one.domain: {
            "domain": one.domain,
            "msg": f"[ADD:TXT@{one.domain}.:v=spf1 mx -all]",
            "status": 1,
        },
        two.domain: {
            "domain": two.domain,
            "msg": "[FAIL:Unknown mechanism type 'bogus' in 'v=spf1' record]",
            "status": 0,
        },
    }
    assert one.spf_lines() == ["v=spf1 mx -all"]
    assert two.spf_lines() == []


def test_whm_install_spf_records_refuses_what_the_caller_does_not_control(
    server: Server,
) -> None:
    reseller, token = server.reseller(["manage-dns-records"])
    owned, _ = server.account(owner=reseller)
    other = Account(server)
    refused = server.get(
        "install_spf_records",
        user=reseller,
        token=token,
        params=[("domain", f"{owned}.example.com"), ("record", "v=spf1 -all"),
                ("domain", other.domain), ("record", "v=spf1 -all")],
    ).json()  # fmt: skip
    assert refused["metadata"]["result"] == 0
    assert refused["metadata"]["reason"] == (
        f"The account “{reseller}” does not control the “{other.domain}” domain."
    )
    assert other.spf_lines() == []
    allowed = server.get(
        "install_spf_records",
        user=reseller,
        token=token,
        params={"domain": f"{owned}.example.com", "record": "v=spf1 a -all"},
    ).json()
    assert allowed["metadata"]["result"] == 1, allowed
    assert allowed["data"]["payload"][0]["status"] == 1
