"""Bandwidth and disk limits: the gatehouse extension gatehouse_report_bandwidth feeds
showbw (WHM API 1 and API 0), limitbw and editquota set an account's BWLIMIT and QUOTA, which
showbw, accountsummary and resellerstats then show. Success and refusal, pinned to bytes."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from conftest import Server

MB = 1024 * 1024


def api0(server: Server, function: str, params: Any = None, **kw: Any) -> httpx.Response:
    return server.get(function, params=params, api_version=None, **kw)


def report(server: Server, **params: Any) -> Any:
    return server.ok("gatehouse_report_bandwidth", params=params)


def denied(server: Server, function: str, **kw: Any) -> str:
    """A call refused for a missing privilege: HTTP 403 and the reason."""
    response = server.get(function, **kw)
    assert response.status_code == 403, response.text
    return str(response.json()["metadata"]["reason"])


def this_month() -> tuple[int, int]:
    when = time.gmtime()
    return when.tm_year, when.tm_mon


def test_reported_bytes_show_in_showbw(server: Server) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    year, month = this_month()
    assert report(server, domain=domain, bytes=1000) == {
        "bytes": 1000,
        "domain": domain,
        "month": month,
        "user": user,
        "year": year,
    }
    # Reports add up; `www.` is the domain, as web servers log it.
    assert report(server, domain=f"www.{domain}", bytes=234)["bytes"] == 1234
    # Another month is kept apart.
    report(server, user=user, bytes=5, month=1, year=2001)

    response = server.get("showbw", params={"searchtype": "user", "search": f"^{user}$"})
    assert response.status_code == 200
    entry = {
        "bwlimited": 0,
        "bwusage": [{"deleted": 0, "domain": domain, "usage": 1234}],
        "deleted": 0,
        "limit": 0,  # unlimited (a choice: cPanel may say "unlimited")
        "maindomain": domain,
        "owner": "root",
        "reseller": 0,
        "totalbytes": 1234,
        "user": user,
    }
    expected = {
        "data": {
            "acct": [entry],
            "month": month,
            "reseller": "root",
            "totalused": 1234,
            "year": year,
        },
        "metadata": {"command": "showbw", "reason": "OK", "result": 1, "version": 1},
    }
    assert response.content == json.dumps(expected, separators=(",", ":"), sort_keys=True).encode()

    old = server.ok(
        "showbw", params={"searchtype": "user", "search": f"^{user}$", "month": 1, "year": 2001}
    )
    assert old["acct"][0]["totalbytes"] == 5 and old["month"] == 1 and old["year"] == 2001


def test_replace_sets_the_months_total(server: Server) -> None:
    user, _ = server.account()
    report(server, user=user, bytes=700)
    assert report(server, user=user, bytes=300, replace=1)["bytes"] == 300
    data = server.ok("showbw", params={"searchtype": "user", "search": f"^{user}$"})
    assert data["acct"][0]["totalbytes"] == 300


def test_showbw_api0_is_the_recorded_shape(server: Server) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    report(server, domain=domain, bytes=4096)
    server.ok("limitbw", params={"user": user, "bwlimit": 1000})
    year, month = this_month()
    response = api0(server, "showbw", {"searchtype": "user", "search": f"^{user}$"})
    assert response.status_code == 200
    expected = {
        "bandwidth": [
            {
                "acct": [
                    {
                        "bwlimited": 0,
                        "bwusage": [{"deleted": 0, "domain": domain, "usage": 4096}],
                        "deleted": 0,
                        "limit": str(1000 * MB),
                        "maindomain": domain,
                        "owner": "root",
                        "reseller": 0,
                        "totalbytes": 4096,
                        "user": user,
                    }
                ],
                "month": str(month),
                "reseller": "root",
                "totalused": 4096,
                "year": str(year),
            }
        ]
    }
    assert response.content == json.dumps(expected, separators=(",", ":"), sort_keys=True).encode()


def test_showbw_reseller_is_the_string_1_or_the_number_0(server: Server) -> None:
    # Whostmgr/Bandwidth.pm _showbw: `$RESref->{$user} ? '1' : 0`, as lumberg recorded.
    plain, _ = server.account()
    reseller, _ = server.account(reseller=True)
    search = {"searchtype": "user", "search": f"^({plain}|{reseller})$"}
    for answer in (
        server.ok("showbw", params=search)["acct"],
        api0(server, "showbw", search).json()["bandwidth"][0]["acct"],
    ):
        assert {a["user"]: a["reseller"] for a in answer} == {plain: 0, reseller: "1"}


@pytest.mark.parametrize(
    ("used_mb", "limit_mb", "this_month", "bwlimited"),
    [
        (3, 2, True, 1),  # over its limit now
        (2, 2, True, 1),  # at it: held, as limitbw's bwlimitenable
        (1, 2, True, 0),
        (3, 0, True, 0),  # unlimited
        (3, 2, False, 1),  # another month: used more than the limit
        (2, 2, False, 0),  # ... not merely all of it (`totalbytes > limit`)
        (3, 0, False, 0),
    ],
)
def test_showbw_bwlimited(
    server: Server, used_mb: int, limit_mb: int, this_month: bool, bwlimited: int
) -> None:
    user, _ = server.account()
    when = {} if this_month else {"month": 1, "year": 2001}
    report(server, user=user, bytes=used_mb * MB, **when)
    server.ok("limitbw", params={"user": user, "bwlimit": limit_mb})
    search = {"searchtype": "user", "search": f"^{user}$", **when}
    (entry,) = server.ok("showbw", params=search)["acct"]
    assert (entry["bwlimited"], entry["limit"]) == (
        bwlimited,
        str(limit_mb * MB) if limit_mb else 0,
    )
    (entry0,) = api0(server, "showbw", search).json()["bandwidth"][0]["acct"]
    assert entry0 == entry


def test_showbw_refusals(server: Server) -> None:
    assert server.fail("showbw", params={"month": "13"}) == (
        "The “month” parameter must be a whole number from 1 to 12."
    )
    assert server.fail("showbw", params={"search": "x"}) == (
        "The “searchtype” parameter is required with “search”."
    )
    assert server.fail("showbw", params={"searchtype": "color", "search": "x"}) == (
        "Unknown search type."
    )
    raw = api0(server, "showbw", {"year": "20x1"})
    assert raw.status_code == 200
    assert (
        raw.content
        == (
            '{"bandwidth":null,"status":0,'
            '"statusmsg":"The “year” parameter must be a whole number from 1970 to 9999."}'
        ).encode()
    )


def test_a_reseller_sees_its_own_accounts_only(server: Server) -> None:
    reseller, token = server.reseller(privileges=["show-bandwidth", "create-acct"])
    mine, _ = server.account(owner=reseller)
    theirs, _ = server.account()
    data = server.ok("showbw", user=reseller, token=token)
    users = [a["user"] for a in data["acct"]]
    assert mine in users and theirs not in users
    assert data["reseller"] == reseller
    # showres: root asks for one reseller's accounts.
    shown = server.ok("showbw", params={"showres": reseller})
    assert [a["user"] for a in shown["acct"]] == [mine] and shown["reseller"] == reseller


def test_showbw_without_the_privilege(server: Server) -> None:
    reseller, token = server.reseller(privileges=["list-accts"])
    assert denied(server, "showbw", user=reseller, token=token) == (
        "Access denied: calling “showbw” requires the “show-bandwidth” privilege."
    )
    raw = api0(server, "showbw", user=reseller, token=token)
    assert raw.status_code == 403
    body = raw.json()
    assert body["status"] == 0 and body["bandwidth"] is None
    assert "show-bandwidth" in body["statusmsg"]


def test_report_refusals(server: Server) -> None:
    assert server.fail(
        "gatehouse_report_bandwidth", params={"domain": "nowhere.example.invalid", "bytes": 1}
    ) == ("No account on this server has the domain “nowhere.example.invalid”.")
    user, _ = server.account()
    assert server.fail("gatehouse_report_bandwidth", params={"user": user, "bytes": "-1"}) == (
        f"The “bytes” parameter must be a whole number of bytes from 0 to {2**60}."
    )
    assert server.fail("gatehouse_report_bandwidth", params={"user": user}) == (
        "Missing parameter: bytes"
    )
    other, _ = server.account()
    assert server.fail(
        "gatehouse_report_bandwidth",
        params={"user": other, "domain": f"{user}.example.com", "bytes": 1},
    ) == (f"The domain “{user}.example.com” belongs to the account “{user}”, not “{other}”.")
    # Root's alone.
    reseller, token = server.reseller(privileges=["show-bandwidth"])
    assert "all" in denied(
        server,
        "gatehouse_report_bandwidth",
        params={"user": user, "bytes": 1},
        user=reseller,
        token=token,
    )
    data = server.ok("showbw", params={"searchtype": "user", "search": f"^{user}$"})
    assert data["acct"][0]["totalbytes"] == 0


# -- limitbw / editquota ----------------------------------------------------------------------


def test_limitbw_sets_the_accounts_limit(server: Server) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    report(server, user=user, bytes=3 * MB)
    response = server.get("limitbw", params={"user": user, "bwlimit": 500})
    expected = {
        "data": {
            "bwlimits": [
                {
                    "bwlimit": 500 * MB,  # bytes, as Whostmgr::Bandwidth::setbwlimit
                    "bwlimitenable": 0,  # 3 MB used: not over the limit
                    "domains": [domain],
                    # Cpanel::Math::_toHumanSize: the locale's format_bytes (U+00A0).
                    "human_bwlimit": "500\u00a0MB",
                    "human_bwused": "3\u00a0MB",
                    "unlimited": 0,
                }
            ]
        },
        "metadata": {
            "command": "limitbw",
            "reason": f"Bandwidth Limit for {user} has been set to 500 megabytes",
            "result": 1,
            "version": 1,
        },
    }
    assert response.content == (
        json.dumps(expected, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()
    )
    shown = server.ok("showbw", params={"searchtype": "user", "search": f"^{user}$"})
    assert shown["acct"][0]["limit"] == str(500 * MB)
    larger = server.ok("limitbw", params={"user": user, "bwlimit": 1536})["bwlimits"][0]
    assert larger["human_bwlimit"] == "1.5\u00a0GB"
    # Without bwlimit (or with 0): unlimited, cPanel's default.
    data = server.ok("limitbw", params={"user": user})
    assert data["bwlimits"][0]["unlimited"] == 1
    assert data["bwlimits"][0]["human_bwlimit"] == "unlimited"
    assert data["bwlimits"][0]["bwlimit"] == 0
    shown = server.ok("showbw", params={"searchtype": "user", "search": f"^{user}$"})
    assert shown["acct"][0]["limit"] == 0


def test_bwlimitenable_says_the_account_is_over_its_limit(server: Server) -> None:
    user, _ = server.account()
    report(server, user=user, bytes=3 * MB)
    data = server.ok("limitbw", params={"user": user, "bwlimit": 2})
    assert (data["bwlimits"][0]["bwlimit"], data["bwlimits"][0]["bwlimitenable"]) == (2 * MB, 1)


def test_editquota_sets_the_quota_accountsummary_shows(server: Server) -> None:
    user, _ = server.account()
    response = server.get("editquota", params={"user": user, "quota": 750})
    assert response.content == (
        b'{"metadata":{"command":"editquota","reason":"Set quota for user.","result":1,'
        b'"version":1}}'
    )
    acct = server.ok("accountsummary", params={"user": user})["acct"][0]
    assert acct["disklimit"] == "750M"
    server.ok("editquota", params={"user": user, "quota": "unlimited"})
    assert server.ok("accountsummary", params={"user": user})["acct"][0]["disklimit"] == (
        "unlimited"
    )


def test_limit_refusals(server: Server) -> None:
    user, _ = server.account()
    assert server.fail("editquota", params={"user": user, "quota": "lots"}) == (
        "Invalid numeric value “lots” for the “quota” setting."
    )
    assert server.fail("editquota", params={"user": user}) == "Missing parameter: quota"
    assert server.fail("limitbw", params={"user": "nosuchuser1", "bwlimit": 1}) == (
        "You do not have a user named “nosuchuser1”."
    )
    assert server.fail("limitbw", params={"user": "root", "bwlimit": 1}) == (
        "The user “root” has no cPanel account."
    )
    # A reseller: the accounts it owns, not others; the privilege is needed.
    reseller, token = server.reseller(privileges=["limit-bandwidth", "create-acct"])
    theirs = server.fail("limitbw", params={"user": user, "bwlimit": 1}, user=reseller, token=token)
    assert theirs == f"You do not have access to an account named “{user}”."
    mine, _ = server.account(owner=reseller)
    data = server.ok("limitbw", params={"user": mine, "bwlimit": 10}, user=reseller, token=token)
    assert data["bwlimits"][0]["bwlimit"] == 10 * MB
    # Unlimited needs the package privilege for unlimited bandwidth.
    refused = server.fail(
        "limitbw", params={"user": mine, "bwlimit": 0}, user=reseller, token=token
    )
    assert "allow-unlimited-bw-pkgs" in refused
    assert "quota" in denied(
        server, "editquota", params={"user": mine, "quota": 5}, user=reseller, token=token
    )
    # Nothing was written by the refusals.
    assert server.ok("accountsummary", params={"user": user})["acct"][0]["disklimit"] == (
        "unlimited"
    )


# -- gatehouse bandwidth import ---------------------------------------------------------------


def test_bandwidth_import_totals_access_logs(server: Server, tmp_path: Any) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    vhost_log = tmp_path / "access.log"
    vhost_log.write_text(
        f'{domain}:443 192.0.2.1 - - [10/Oct/2001:13:55:36 -0700] "GET / HTTP/1.1" 200 2326 '
        '"-" "curl/8"\n'
        f'www.{domain}:80 192.0.2.1 - - [31/Oct/2001:23:30:00 -0200] "GET /a HTTP/1.1" 200 100\n'
        f'{domain}:80 192.0.2.1 - - [11/Oct/2001:00:00:00 +0000] "HEAD / HTTP/1.1" 304 -\n'
        'nobody.example.invalid:80 192.0.2.1 - - [11/Oct/2001:00:00:00 +0000] "GET /" 200 9\n'
        "not a log line\n"
    )
    out = server.cli("bandwidth", "import", str(vhost_log))
    # 31 Oct 23:30 at -02:00 is 1 Nov in UTC.
    assert f"{domain} 2001-10: +2326 bytes (account {user}, month total 2326)" in out.stdout
    assert f"{domain} 2001-11: +100 bytes (account {user}, month total 100)" in out.stdout
    assert "skipped nobody.example.invalid 2001-10 (9 bytes)" in out.stderr
    assert "1 line(s) in no known format" in out.stderr
    # A Common Log Format log of one site, from standard input.
    common = '192.0.2.1 - - [12/Oct/2001:10:00:00 +0000] "GET / HTTP/1.0" 200 74\n'
    server.cli("bandwidth", "import", "--domain", domain, "-", stdin=common)
    shown = server.ok(
        "showbw",
        params={"searchtype": "user", "search": f"^{user}$", "month": 10, "year": 2001},
    )
    assert shown["acct"][0]["bwusage"] == [{"deleted": 0, "domain": domain, "usage": 2400}]


def test_resellerstats_counts_the_reported_bandwidth_of_this_month(server: Server) -> None:
    reseller, _ = server.reseller()
    first, _ = server.account(owner=reseller)
    second, _ = server.account(owner=reseller)
    outsider, _ = server.account()
    report(server, user=first, bytes=3 * MB)
    report(server, domain=f"{first}.example.com", bytes=MB // 2)
    report(server, user=second, bytes=MB // 4)
    report(server, user=first, bytes=100 * MB, month=1, year=2001)  # another month
    report(server, user=outsider, bytes=7 * MB)  # not the reseller's
    data = server.ok("resellerstats", params={"user": reseller})["reseller"]
    used = {a["user"]: a["bandwidthused"] for a in data["acct"]}
    assert used == {first: "3.50", second: "0.25"}
    assert data["totalbwused"] == 3.75

    [item] = [
        a
        for a in api0(server, "resellerstats", {"reseller": reseller}).json()["result"]["accts"]
        if a["user"] == first
    ]
    assert item["bandwidthused"] == "3.50"
