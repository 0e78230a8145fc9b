"""UAPI `Email` MX functions (list_mxs, add_mx, change_mx, delete_mx, set_always_accept) and
their API 2 forms, over real HTTP: the shapes cPanel answers (list_mxs as recorded from a real
cPanel 110), the zone really changed (read back from the built-in nameserver's store through
WHM's listmxs), cPanel's matching rules (Whostmgr/DNS/MX.pm) and routing detection, WHMCS's
API 2 calls, and the refusals."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import Server


class Account:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.user, self.token = server.account_with_token()
        self.domain = f"{self.user}.example.com"

    def uapi(self, func: str, **params: Any) -> Any:
        response = self.server.uapi(self.user, "Email", func, token=self.token, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def ok(self, func: str, **params: Any) -> Any:
        body = self.uapi(func, **params)
        assert body["status"] == 1, body
        return body["data"]

    def error(self, func: str, **params: Any) -> str:
        body = self.uapi(func, **params)
        assert body["status"] == 0, body
        return str(body["errors"][0])

    def api2(self, func: str, **params: Any) -> Any:
        response = self.server.api2(self.user, "Email", func, token=self.token, **params)
        return response.json()["cpanelresult"]

    def mx_records(self) -> list[tuple[str, str]]:
        """(preference, exchange) of the zone's MX records, through WHM's listmxs."""
        data = self.server.ok("listmxs", params={"domain": self.domain}) or {"record": []}
        return [(str(r["preference"]), str(r["exchange"]).rstrip(".")) for r in data["record"]]

    def entries(self) -> list[tuple[str, str]]:
        listed = self.ok("list_mxs", domain=self.domain)[0]
        return [(e["priority"], e["mx"]) for e in listed["entries"]]


@pytest.fixture
def account(server: Server) -> Account:
    return Account(server)


def test_list_mxs_of_a_new_account_is_crecorded_shape(account: Account) -> None:
    """A new account's zone has cPanel's template MX (0, the domain itself), which points at
    the server: auto detects local."""
    data = account.ok("list_mxs")
    assert data == [
        {
            "alwaysaccept": 0,
            "detected": "local",
            "domain": account.domain,
            "entries": [
                {
                    "domain": account.domain,
                    "entrycount": 1,
                    "mx": account.domain,
                    "priority": "0",
                    "row": "odd",
                }
            ],
            "local": 1,
            "mx": account.domain,
            "mxcheck": "auto",
            "remote": 0,
            "secondary": 0,
            "status": 1,
            "statusmsg": "Fetched MX List",
        }
    ]


def test_add_mx_adds_a_record_and_reports_checkmx(account: Account) -> None:
    data = account.ok("add_mx", domain=account.domain, exchanger="mx2.example.net", priority="10")
    assert data["status"] == 1
    assert data["results"].startswith(f"Added entry: {account.domain}.\t14400\tIN\tMX\t10 mx2")
    assert data["statusmsg"] == data["results"]
    assert data["checkmx"] == {
        "changed": 1,
        "detected": "local",  # the lowest priority (0, the domain) is here
        "isprimary": 1,
        "issecondary": 0,
        "local": 1,
        "mxcheck": "auto",
        "remote": 0,
        "secondary": 0,
        "warnings": [],
    }
    assert ("10", "mx2.example.net") in account.mx_records()
    assert account.entries() == [("0", account.domain), ("10", "mx2.example.net")]


def test_add_mx_twice_reuses_the_entry(account: Account) -> None:
    account.ok("add_mx", domain=account.domain, exchanger="mx2.example.net", priority="10")
    again = account.ok("add_mx", domain=account.domain, exchanger="mx2.example.net", priority="10")
    assert "No dns changes are required" in again["results"]
    assert account.mx_records().count(("10", "mx2.example.net")) == 1


def test_an_exchanger_elsewhere_makes_the_domain_remote(account: Account) -> None:
    account.ok("add_mx", domain=account.domain, exchanger="mx.elsewhere.example", priority="5")
    deleted = account.ok("delete_mx", domain=account.domain, exchanger=account.domain, priority=0)
    assert deleted["results"] == f"Removed entry: {account.domain}. IN MX 0 {account.domain}\n"
    assert deleted["checkmx"]["detected"] == "remote"
    assert (deleted["checkmx"]["changed"], deleted["checkmx"]["warnings"]) == (1, [])
    assert account.ok("list_mxs")[0]["detected"] == "remote"


def test_an_exchanger_without_an_address_in_a_served_zone_is_unresolved(
    account: Account,
) -> None:
    changed = account.ok("change_mx", domain=account.domain, exchanger=f"out.{account.domain}",
                         oldexchanger=account.domain, oldpriority="0", priority="0")  # fmt: skip
    checkmx = changed["checkmx"]
    # Never decided before: cPanel's default, local, with its warning.
    assert (checkmx["detected"], checkmx["changed"]) == ("local", 0)
    assert checkmx["warnings"] == [
        f"Failed to detect “{account.domain}”’s MX type; defaulting to “local”."
    ]
    account.ok("set_always_accept", domain=account.domain, mxcheck="remote")
    account.ok("set_always_accept", domain=account.domain, mxcheck="auto")
    again = account.ok("add_mx", domain=account.domain, exchanger="b.example.net", priority="9")
    assert again["checkmx"]["detected"] == "remote"  # the last decision stands
    assert again["checkmx"]["warnings"] == [
        "Auto Detect of MX configuration not possible due to non-resolving MX entries.  "
        "Defaulting to last known setting: remote.",
        f"The following entries could not be resolved: out.{account.domain}",
    ]


def test_list_mxs_shows_what_checkmx_decided_when_nothing_can_be_detected(
    account: Account,
) -> None:
    account.ok("change_mx", domain=account.domain, exchanger=f"out.{account.domain}",
               oldexchanger=account.domain, oldpriority="0", priority="0")  # fmt: skip
    # checkmx fell back on local and kept it: fetchmx's last known setting.
    assert account.ok("list_mxs")[0]["detected"] == "local"
    # No setting kept at all (an account from before routings were stored): fetchmx's
    # `detected` is `auto` (Whostmgr::DNS::MX::_fetchmx_backend), not checkmx's `local`.
    account.server.sql(
        "DELETE FROM mail_routing WHERE user_id = (SELECT id FROM users WHERE username = :u)",
        u=account.user,
    )
    listed = account.ok("list_mxs")[0]
    assert (listed["mxcheck"], listed["detected"]) == ("auto", "auto")


def test_detection_secondary_and_remote_from_zone_addresses(account: Account) -> None:
    # mail.<domain> has an A record in the template, at the server's address.
    account.ok("add_mx", domain=account.domain, exchanger=f"mail.{account.domain}", priority="20")
    zone_add = account.server.ok(
        "addzonerecord",
        params={
            "zone": account.domain,
            "name": "remote",
            "type": "A",
            "address": "198.51.100.7",
        },
    )
    assert zone_add is None or isinstance(zone_add, dict)
    changed = account.ok("change_mx", domain=account.domain, exchanger=f"remote.{account.domain}",
                         oldexchanger=account.domain, priority="0")  # fmt: skip
    assert changed["checkmx"]["detected"] == "secondary"
    assert (changed["checkmx"]["issecondary"], changed["checkmx"]["changed"]) == (1, 1)
    account.ok("delete_mx", domain=account.domain, exchanger=f"mail.{account.domain}", priority=20)
    assert account.ok("list_mxs")[0]["detected"] == "remote"


@pytest.mark.parametrize(
    ("asked", "mxcheck", "detected", "alwaysaccept"),
    [
        ("remote", "remote", "remote", 0),
        ("secondary", "secondary", "secondary", 0),
        ("local", "local", "local", 1),
        ("1", "local", "local", 1),  # Cpanel::Email::MX::mx_compat
        ("0", "auto", "local", 0),
        ("auto", "auto", "local", 0),
    ],
)
def test_set_always_accept(
    account: Account, asked: str, mxcheck: str, detected: str, alwaysaccept: int
) -> None:
    data = account.ok("set_always_accept", domain=account.domain, mxcheck=asked)
    assert (data["mxcheck"], data["detected"]) == (mxcheck, detected)
    assert data["statusmsg"] == f"Set Always Accept Status to: {detected}"
    listed = account.ok("list_mxs")[0]
    assert (listed["mxcheck"], listed["detected"], listed["alwaysaccept"]) == (
        mxcheck,
        detected,
        alwaysaccept,
    )


def test_add_mx_with_alwaysaccept_sets_the_routing(account: Account) -> None:
    data = account.ok("add_mx", domain=account.domain, exchanger="mx.example.net", priority="1",
                      alwaysaccept="remote")  # fmt: skip
    assert (data["checkmx"]["mxcheck"], data["checkmx"]["detected"]) == ("remote", "remote")
    assert data["checkmx"]["remote"] == 1


def test_change_mx_matching_rules(account: Account) -> None:
    account.ok("add_mx", domain=account.domain, exchanger="a.example.net", priority="10")
    account.ok("add_mx", domain=account.domain, exchanger="b.example.net", priority="20")
    # old exchanger + old priority
    one = account.ok("change_mx", domain=account.domain, exchanger="c.example.net",
                     priority="15", oldexchanger="a.example.net", oldpriority="10")  # fmt: skip
    assert one["results"].startswith(
        "Replacing existing entry on line matched old entry and old priority: "
    )
    # cPanel's legacy match: nothing with the old exchanger, so the entry with the new priority
    two = account.ok("change_mx", domain=account.domain, exchanger="d.example.net",
                     priority="20", oldexchanger="gone.example.net")  # fmt: skip
    assert "matched old priority" in two["results"]
    assert account.entries() == [
        ("0", account.domain),
        ("15", "c.example.net"),
        ("20", "d.example.net"),
    ]


def test_whmcs_api2_calls(account: Account) -> None:
    """cpanel_AddMxRecords / GetMxRecords / DeleteMxRecords."""
    added = account.api2("addmx", domain=account.domain, exchange="aspmx.l.google.com",
                         preference="1", oldexchange="", oldpreference="",
                         alwaysaccept="0")  # fmt: skip
    assert added["event"]["result"] == 1, added
    assert not added.get("error")
    assert added["data"][0]["status"] == 1
    listed = account.api2("listmx", domain=account.domain)
    assert listed["event"]["result"] == 1, listed
    entries = listed["data"][0]["entries"]
    assert [(e["mx"], e["priority"]) for e in entries] == [
        (account.domain, "0"),
        ("aspmx.l.google.com", "1"),
    ]
    assert listed["data"][0]["detected"] in ("local", "remote", "secondary", "auto")
    for entry in entries:
        gone = account.api2("delmx", domain=account.domain, exchange=entry["mx"],
                            preference=entry["priority"])  # fmt: skip
        assert gone["event"]["result"] == 1, gone
    assert account.mx_records() == []
    # With no MX record left, the domain itself stands in (fetchmx's imputed entry).
    assert account.entries() == [("0", account.domain)]


@pytest.mark.parametrize(
    ("func", "params", "reason"),
    [
        ("add_mx", {"exchanger": "x.example.net", "priority": "5"},
         "Provide the “domain” argument."),
        ("add_mx", {"domain": "{d}", "priority": "5"}, "Provide the “exchanger” argument."),
        ("add_mx", {"domain": "{d}", "exchanger": "x.example.net"},
         "Provide the “priority” argument."),
        ("add_mx", {"domain": "{d}", "exchanger": "x.example.net", "priority": "high"},
         "The “priority” must be a whole number from 0 to 65535."),
        ("add_mx", {"domain": "{d}", "exchanger": "x.example.net", "priority": "70000"},
         "The “priority” must be a whole number from 0 to 65535."),
        ("add_mx", {"domain": "other.example.org", "exchanger": "x.example.net", "priority": "5"},
         "You do not control the “other.example.org” domain."),
        ("add_mx", {"domain": "{d}", "exchanger": "bad name!", "priority": "5"}, None),
        ("delete_mx", {"domain": "{d}", "exchanger": "x.example.net", "priority": "5"},
         "No MX entries with priority 5 were found in the zone."),
        ("change_mx", {"domain": "{d}", "exchanger": "x.example.net", "priority": "5"},
         "Provide the “oldexchanger” argument."),
        ("set_always_accept", {"domain": "{d}", "mxcheck": "sometimes"},
         "The mail exchanger type must be auto, local, secondary or remote, not “sometimes”."),
        ("list_mxs", {"domain": "other.example.org"},
         "You do not control the “other.example.org” domain."),
    ],
)  # fmt: skip
def test_refusals_change_nothing(
    account: Account, func: str, params: dict[str, str], reason: str | None
) -> None:
    before = account.mx_records()
    filled = {k: v.replace("{d}", account.domain) for k, v in params.items()}
    refused = account.error(func, **filled)
    if reason is not None:
        assert refused == reason
    assert account.mx_records() == before


def test_another_accounts_domain_is_refused(server: Server, account: Account) -> None:
    other = Account(server)
    refused = account.error("add_mx", domain=other.domain, exchanger="x.example", priority="1")
    assert refused == f"You do not control the “{other.domain}” domain."
    assert other.mx_records() == [("0", other.domain)]


def test_routing_goes_with_the_account(server: Server) -> None:
    account = Account(server)
    account.ok("set_always_accept", domain=account.domain, mxcheck="remote")
    server.ok("removeacct", params={"user": account.user})
    rows = server.sql(
        "SELECT COUNT(*) AS n FROM mail_routing WHERE user_id NOT IN (SELECT id FROM users)"
    )
    assert rows[0].n == 0
