"""UAPI `StatsBar::get_stats` (and API 2 `StatsBar::stat`) as Cpanel/API/StatsBar.pm answers
it, over real HTTP: WHMCS's usage-billing call (through WHM's `uapi_cpanel` in a `batch`, and
through `/json-api/cpanel`), the percentages and locale formatting, the display options."""

from __future__ import annotations

import json
import urllib.parse
import uuid
from typing import Any

import pytest

from conftest import Server
from gatehouse.api.locale_format import format_bytes, numf
from gatehouse.passwords import generate_password

WHMCS_DISPLAY = (
    "addondomains|bandwidthusage|diskusage|emailaccounts|mysqldatabases|mysqldiskusage|"
    "parkeddomains|postgresqldatabases|postgresdiskusage|subdomains"
)
MIB = 1024 * 1024
NBSP = "\u00a0"


class Account:
    def __init__(self, server: Server, **limits: str) -> None:
        self.server = server
        self.user = "s" + uuid.uuid4().hex[:10]
        self.domain = f"{self.user}.example.com"
        params = {"username": self.user, "domain": self.domain, "password": generate_password()}
        server.ok("createacct", params={**params, **limits})
        server.remember(params["password"])
        self.token = server.cpanel_token(self.user, params["password"])

    def stats(self, **params: Any) -> Any:
        response = self.server.uapi(self.user, "StatsBar", "get_stats", token=self.token, **params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == 1, body
        return body["data"]

    def by_id(self, display: str, **params: Any) -> dict[str, dict[str, Any]]:
        return {item["id"]: item for item in self.stats(display=display, **params)}

    def add_subdomain(self, label: str) -> None:
        response = self.server.uapi(
            self.user,
            "SubDomain",
            "addsubdomain",
            token=self.token,
            domain=label,
            rootdomain=self.domain,
        )
        assert response.json()["status"] == 1, response.text


@pytest.fixture(scope="module")
def limited(server: Server) -> Account:
    """4 subdomains, 100 MB of bandwidth, a 50 MB quota; one subdomain made, 25 MB used."""
    account = Account(server, maxsub="4", bwlimit="100", quota="50", maxpop="10")
    account.add_subdomain("blog")
    server.ok("gatehouse_report_bandwidth", params={"user": account.user, "bytes": str(25 * MIB)})
    return account


@pytest.fixture(scope="module")
def unlimited(server: Server) -> Account:
    return Account(server)


def test_whmcs_display_lists_what_gatehouse_counts_in_the_order_asked(limited: Account) -> None:
    data = limited.stats(display=WHMCS_DISPLAY)
    # postgresdiskusage needs PostgreSQL for accounts (cPanel's `$haspostgres`): left out.
    assert [item["id"] for item in data] == [
        "addondomains",
        "bandwidthusage",
        "diskusage",
        "emailaccounts",
        "mysqldatabases",
        "mysqldiskusage",
        "parkeddomains",
        "postgresqldatabases",
        "subdomains",
    ]
    assert all(item["name"] == item["id"] for item in data)


def test_subdomains_item_whole(limited: Account) -> None:
    assert limited.by_id("subdomains")["subdomains"] == {
        "_count": 1,
        "_max": "4",
        "_maxed": 0,
        "count": "1",
        "feature": "subdomains",
        "id": "subdomains",
        "is_maxed": 0,
        "item": "Subdomains",
        "max": "4",
        "maxed_phrase": "You are using your maximum allotment ([numf,_1]) of subdomains.",
        "module": "SubDomain",
        "name": "subdomains",
        "near_limit_phrase": "You are using [numf,_1] of [numf,_2] available "
        "[numerate,_2,subdomain,subdomains].",
        "percent": 25,
        "percent10": 30,
        "percent20": 20,
        "percent5": 25,
        "phrase": "Subdomains",
        "role": "WebServer",
        "zeroisunlimited": 0,
    }


def test_bandwidth_counts_this_months_reported_traffic_in_megabytes(limited: Account) -> None:
    item = limited.by_id("bandwidthusage")["bandwidthusage"]
    assert (item["_count"], item["_max"], item["units"]) == ("25.00", "100.00", "MB")
    assert (item["count"], item["max"]) == (f"25{NBSP}MB", f"100{NBSP}MB")
    assert (item["percent"], item["is_maxed"]) == (25, 0)


def test_disk_usage_is_zero_of_the_quota(limited: Account) -> None:
    item = limited.by_id("diskusage")["diskusage"]
    assert (item["_count"], item["_max"], item["units"], item["normalized"]) == (0, 50, "MB", 1)
    assert (item["count"], item["max"], item["percent"]) == (f"0{NBSP}bytes", f"50{NBSP}MB", 0)


def test_database_disk_space_counts_bytes_against_the_quota(limited: Account) -> None:
    # WHMCS reads mysqldiskusage's _count in bytes: Cpanel::MysqlFE::_diskusage's unit.
    item = limited.by_id("mysqldiskusage")["mysqldiskusage"]
    assert (item["_count"], item["_max"], item["normalized"]) == (0, 50 * MIB, 0)
    assert (item["count"], item["max"]) == ("0", "50")


@pytest.mark.parametrize(
    ("stat", "limit"),
    [
        ("subdomains", "unlimited"),
        ("bandwidthusage", "unlimited"),
        ("diskusage", "unlimited"),
        ("emailaccounts", "unlimited"),
        ("mysqldiskusage", "unlimited"),
        ("parkeddomains", 0),  # MAXPARK 0 is none allowed, not unlimited (zeroisunlimited 0)
        ("autoresponders", "unlimited"),
    ],
)
def test_limits_of_an_unlimited_account(unlimited: Account, stat: str, limit: Any) -> None:
    item = unlimited.by_id(stat)[stat]
    assert item["_max"] == limit
    assert (item["percent"], item["is_maxed"]) == (0, 0)


def test_infinitylang_writes_unlimited_as_infinity(unlimited: Account) -> None:
    item = unlimited.by_id("subdomains", infinitylang="1")["subdomains"]
    assert (item["_max"], item["max"]) == ("unlimited", "∞")
    plain = unlimited.by_id("subdomains")["subdomains"]
    assert plain["max"] == "unlimited"


def test_a_maxed_stat(server: Server) -> None:
    account = Account(server, maxsub="1")
    account.add_subdomain("only")
    item = account.by_id("subdomains")["subdomains"]
    assert (item["percent"], item["is_maxed"], item["_maxed"]) == (100, 1, 1)
    assert account.stats(display="subdomains", warnout="0") == []


def test_warnings_keeps_only_stats_at_the_warning_level(limited: Account) -> None:
    shown = limited.stats(display="subdomains|emailaccounts", warnings="1", warninglevel="20")
    assert [item["id"] for item in shown] == ["subdomains"]  # 25 % and 0 %


def test_needshash_answers_a_hash_by_id(limited: Account) -> None:
    data = limited.stats(display="subdomains|diskusage", needshash="1")
    assert sorted(data) == ["diskusage", "subdomains"]
    assert data["subdomains"]["_count"] == 1


def test_rowcounter_alternates_from_even(limited: Account) -> None:
    data = limited.stats(display="subdomains|diskusage|hostname", rowcounter="stats")
    assert [item["rowtype"] for item in data] == ["even", "odd", "even"]


def test_server_facts(server: Server, limited: Account) -> None:
    hostname = server.ok("gethostname")["hostname"]
    items = limited.by_id("hostname|shorthostname|sharedip|dedicatedip|operatingsystem")
    assert sorted(items) == ["hostname", "operatingsystem", "sharedip", "shorthostname"]
    assert items["hostname"]["value"] == hostname
    assert items["shorthostname"]["value"] == hostname.split(".")[0]
    assert items["sharedip"]["condition"] == 1
    assert (items["hostname"]["count"], items["hostname"]["max"]) == (None, "")
    assert items["operatingsystem"]["value"] == "linux"


def test_hosting_package_and_version(server: Server) -> None:
    account = Account(server)
    items = account.by_id("hostingpackage|cpanelversion")
    assert items["hostingpackage"]["value"] == "default"  # createacct without a plan
    assert items["cpanelversion"]["value"] == "120.0 (build 16)"
    assert items["cpanelversion"]["item"] == "cPanel Version"


@pytest.mark.parametrize("display", ["", "nosuchstat", "|", "ftpaccounts|filesusage"])
def test_unknown_or_absent_stats_give_an_empty_list(limited: Account, display: str) -> None:
    assert limited.stats(display=display) == []


def test_list_metadata_transformed(limited: Account) -> None:
    response = limited.server.uapi(
        limited.user, "StatsBar", "get_stats", token=limited.token, display="subdomains"
    )
    assert response.json()["metadata"] == {"transformed": 1}


def test_whmcs_usage_batch_through_uapi_cpanel(server: Server, limited: Account) -> None:
    """cpanel_GetStatsUAPI: one uapi_cpanel to probe, then a batch of one per account, read
    at data.result[i].data.uapi.data."""
    probe = server.get(
        "uapi_cpanel",
        params={
            "cpanel.module": "StatsBar",
            "cpanel.function": "get_stats",
            "cpanel.user": limited.user,
        },
    ).json()
    assert probe["metadata"]["result"] == 1, probe
    other = Account(server)
    commands = []
    for user in (limited.user, other.user):
        inner = urllib.parse.urlencode(
            {
                "cpanel.module": "StatsBar",
                "cpanel.function": "get_stats",
                "cpanel.user": user,
                "display": WHMCS_DISPLAY,
            }
        )
        commands.append(("command", f"uapi_cpanel?{inner}"))
    body = server.get("batch", params=commands).json()
    assert body["metadata"]["result"] == 1, body
    results = [r["data"]["uapi"]["data"] for r in body["data"]["result"]]
    subdomains = [{i["id"]: i for i in data}["subdomains"]["_count"] for data in results]
    assert subdomains == [1, 0]


def test_whm_cpanel_function_apiversion_3(server: Server, limited: Account) -> None:
    """cpanel_GetStats, WHMCS's fallback: /json-api/cpanel with cpanel_jsonapi_apiversion=3."""
    body = server.get(
        "cpanel",
        api_version=None,
        params={
            "cpanel_jsonapi_user": limited.user,
            "cpanel_jsonapi_apiversion": "3",
            "cpanel_jsonapi_module": "StatsBar",
            "cpanel_jsonapi_func": "get_stats",
            "display": WHMCS_DISPLAY,
        },
    ).json()
    assert not body["result"]["errors"], body
    ids = [item["id"] for item in body["result"]["data"]]
    assert "bandwidthusage" in ids and "subdomains" in ids


def test_api2_stat(limited: Account) -> None:
    response = limited.server.api2(
        limited.user, "StatsBar", "stat", token=limited.token, display="subdomains|diskusage"
    )
    result = response.json()["cpanelresult"]
    assert result["event"]["result"] == 1, result
    assert [item["id"] for item in result["data"]] == ["subdomains", "diskusage"]


def test_accounts_see_only_their_own_stats(server: Server, limited: Account) -> None:
    other = Account(server)
    assert other.by_id("subdomains")["subdomains"]["_count"] == 0
    assert limited.by_id("subdomains")["subdomains"]["_count"] == 1


def test_raw_bytes_are_compact_utf8(limited: Account) -> None:
    raw = limited.server.uapi(
        limited.user, "StatsBar", "get_stats", token=limited.token, display="bandwidthusage"
    ).content
    assert "25\u00a0MB".encode() in raw
    assert json.loads(raw)["status"] == 1


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [
        (0, 6, "0"),
        (5, 6, "5"),
        (1234.5, 2, "1,234.5"),
        (1234567, 6, "1,234,567"),
        (0.125, 2, "0.12"),  # sprintf's rounding of the binary value, as Perl's
        (2.0, 2, "2"),
        (-1500.25, 1, "-1,500.2"),
    ],
)
def test_numf(value: float, places: int, text: str) -> None:
    assert numf(value, places) == text


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, f"0{NBSP}bytes"),
        (1, f"1{NBSP}byte"),
        (1023, f"1,023{NBSP}bytes"),
        (1536, f"1.5{NBSP}KB"),
        (25 * MIB, f"25{NBSP}MB"),
        (1000 * MIB, f"1,000{NBSP}MB"),
        (1024 * MIB, f"1{NBSP}GB"),
        (int(2.346 * 1024**4), f"2.35{NBSP}TB"),
    ],
)
def test_format_bytes(size: int, text: str) -> None:
    assert format_bytes(size) == text


# -- ResourceUsage::get_usages: the same facts, display-agnostic ---------------------------------


def usages(account: Account) -> Any:
    response = account.server.uapi(account.user, "ResourceUsage", "get_usages", token=account.token)
    body = response.json()
    assert (body["status"], body["metadata"]) == (1, {"transformed": 1}), body
    return body["data"]


def usage_item(
    item_id: str,
    description: str,
    url: str | None,
    usage: Any,
    maximum: Any,
    formatter: str | None = None,
) -> dict[str, Any]:
    return {"id": item_id, "description": description, "url": url, "usage": usage,
            "maximum": maximum, "formatter": formatter, "error": None}  # fmt: skip


def test_resource_usages_of_a_limited_account(limited: Account) -> None:
    # cPanel's order (ResourceUsage.pm _STATS_METADATA); no disk_usage without filesystem
    # quotas, no FTP or PostgreSQL items; sizes in bytes, limits as the cpuser file's text.
    assert usages(limited) == [
        usage_item("cachedmysqldiskusage", "Database Disk Usage", None, 0, 50 * MIB,
                   "format_bytes"),
        usage_item("bandwidth", "Bandwidth", "stats/bandwidth.html", str(25 * MIB),
                   str(100 * MIB), "format_bytes"),
        usage_item("addon_domains", "Addon Domains", "domains/index.html", 0, "0"),
        usage_item("subdomains", "Subdomains", "domains/index.html", 1, "4"),
        usage_item("aliases", "Alias Domains", "domains/index.html", 0, "0"),
        usage_item("email_accounts", "Email Accounts", "email_accounts/index.html", 0, "10"),
        usage_item("mailing_lists", "Mailing Lists", "mail/lists.html", 0, None),
        usage_item("autoresponders", "Autoresponders", "mail/autores.html", 0, None),
        usage_item("forwarders", "Forwarders", "mail/fwds.html", 0, None),
        usage_item("email_filters", "Email Filters", "mail/filters/managefilters.html", 0,
                   None),
        usage_item("mysql_databases", "Databases", "sql/index.html", 0, None),
    ]  # fmt: skip


def test_resource_usages_without_limits_have_no_maximum(unlimited: Account) -> None:
    data = {item["id"]: item for item in usages(unlimited)}
    assert (data["bandwidth"]["usage"], data["bandwidth"]["maximum"]) == ("0", None)
    assert data["cachedmysqldiskusage"]["maximum"] is None
    assert data["subdomains"]["maximum"] is None
