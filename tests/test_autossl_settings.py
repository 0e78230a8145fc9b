"""AutoSSL's settings over HTTP, on the session's server (SQLite or PostgreSQL), where AutoSSL
is not configured (no GATEHOUSE_AUTOSSL_DIRECTORY): the excluded domains (WHM API 1
add/remove/set/get_autossl_user_excluded_domains, UAPI SSL::add/remove/set/
get_autossl_excluded_domains), what the schedule, queue and providers say then, and every
refusal in the caller's envelope with nothing stored (docs/ssl.md#autossl). AutoSSL skipping
an excluded domain against a real CA is in tests/test_autossl.py."""

from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from conftest import Server
from gatehouse.domain import autossl


def _excluded(server: Server, user: str) -> list[str]:
    data = server.ok("get_autossl_user_excluded_domains", params={"username": user})
    return [item["excluded_domain"] for item in data["payload"]]


def _rows(server: Server, user: str) -> int:
    rows = server.sql(
        "SELECT count(*) FROM autossl_excluded_domains e JOIN users u ON u.id = e.user_id"
        " WHERE u.username = :u",
        u=user,
    )
    return int(rows[0][0])


def _subdomain(server: Server, user: str, token: str, label: str, root: str) -> str:
    made = server.uapi(
        user, "SubDomain", "addsubdomain", token=token, domain=label, rootdomain=root
    ).json()
    assert made["status"] == 1, made
    return f"{label}.{root}"


def test_whm_excluded_domains_add_remove_set_get(server: Server) -> None:
    user, password = server.account()
    domain = f"{user}.example.com"
    token = server.cpanel_token(user, password)
    sub = _subdomain(server, user, token, "blog", domain)
    assert _excluded(server, user) == []

    # `domain`, `domain-1` and repetitions; upper case and a trailing dot are normalised.
    response = server.get(
        "add_autossl_user_excluded_domains",
        params=[("username", user), ("domain", sub.upper() + "."), ("domain-1", f"www.{domain}")],
    )
    body = response.json()
    assert body["metadata"]["result"] == 1, body
    assert body["metadata"]["command"] == "add_autossl_user_excluded_domains"
    assert "data" not in body  # cPanel's answer has no data
    assert _excluded(server, user) == sorted([sub, f"www.{domain}"])
    # Adding again is no change; the list stays one row per name.
    server.ok("add_autossl_user_excluded_domains", params={"username": user, "domain": sub})
    assert _rows(server, user) == 2

    server.ok("remove_autossl_user_excluded_domains", params={"username": user, "domain": sub})
    assert _excluded(server, user) == [f"www.{domain}"]
    # Removing a name that is not excluded (or not even the account's) is no change.
    server.ok(
        "remove_autossl_user_excluded_domains", params={"username": user, "domain": "other.test"}
    )
    assert _excluded(server, user) == [f"www.{domain}"]

    server.ok(
        "set_autossl_user_excluded_domains",
        params=[("username", user), ("domain", domain), ("domain", sub)],
    )
    assert _excluded(server, user) == sorted([domain, sub])
    server.ok("set_autossl_user_excluded_domains", params={"username": user})
    assert _excluded(server, user) == []
    audited = server.sql(
        "SELECT count(*) FROM audit_log WHERE action = 'AUTOSSLEXCLUDE' AND subject = :u", u=user
    )
    assert int(audited[0][0]) == 4  # add, remove, set, set; the no-change calls write nothing

    # The account sees the same list through UAPI.
    server.ok("add_autossl_user_excluded_domains", params={"username": user, "domain": domain})
    listed = server.uapi(user, "SSL", "get_autossl_excluded_domains", token=token).json()
    assert listed["status"] == 1 and listed["data"] == [{"excluded_domain": domain}]


def test_uapi_excluded_domains(server: Server) -> None:
    user, password = server.account()
    domain = f"{user}.example.com"
    token = server.cpanel_token(user, password)
    sub = _subdomain(server, user, token, "shop", domain)

    def call(func: str, **params: str) -> dict[str, Any]:
        body: dict[str, Any] = server.uapi(user, "SSL", func, token=token, **params).json()
        return body

    added = call("add_autossl_excluded_domains", domains=f"{sub},www.{domain}")
    assert added["status"] == 1 and added["data"] is None, added
    assert call("get_autossl_excluded_domains")["data"] == [
        {"excluded_domain": sub},
        {"excluded_domain": f"www.{domain}"},
    ]
    assert call("remove_autossl_excluded_domains", domains=sub)["status"] == 1
    assert call("get_autossl_excluded_domains")["data"] == [{"excluded_domain": f"www.{domain}"}]
    assert call("set_autossl_excluded_domains", domains=domain)["status"] == 1
    assert call("get_autossl_excluded_domains")["data"] == [{"excluded_domain": domain}]
    assert call("set_autossl_excluded_domains")["status"] == 1  # none: every domain again
    assert call("get_autossl_excluded_domains")["data"] == []

    # Refusals in UAPI's envelope, nothing stored.
    missing = call("add_autossl_excluded_domains")
    assert missing["status"] == 0 and missing["errors"] == ["Provide the “domains” argument."]
    assert call("remove_autossl_excluded_domains")["errors"] == ["Provide the “domains” argument."]
    other, _ = server.account()
    for bad in (f"{other}.example.com", "nosuch.example.net", "bad name!", "a..b", "x" * 300):
        refused = call("add_autossl_excluded_domains", domains=f"{sub},{bad}")
        assert refused["status"] == 0, (bad, refused)
        assert refused["errors"] and refused["data"] is None, refused
        refused = call("set_autossl_excluded_domains", domains=bad)
        assert refused["status"] == 0, (bad, refused)
    # Another account's domain is refused in the same words as one that does not exist.
    words = call("add_autossl_excluded_domains", domains=f"{other}.example.com")["errors"][0]
    assert words == call("add_autossl_excluded_domains", domains="nosuch.example.net")["errors"][
        0
    ].replace("nosuch.example.net", f"{other}.example.com")
    assert _rows(server, user) == 0

    # Through WHM's `cpanel` function (API 3), as billing systems call UAPI: UAPI's envelope.
    response = server.get(
        "cpanel",
        params={
            "cpanel_jsonapi_user": user,
            "cpanel_jsonapi_apiversion": "3",
            "cpanel_jsonapi_module": "SSL",
            "cpanel_jsonapi_func": "add_autossl_excluded_domains",
            "domains": sub,
        },
    ).json()
    assert response["result"]["status"] == 1, response
    assert response["module"] == "SSL" and response["func"] == "add_autossl_excluded_domains"
    assert call("get_autossl_excluded_domains")["data"] == [{"excluded_domain": sub}]
    assert call("set_autossl_excluded_domains")["status"] == 1
    assert _rows(server, user) == 0

    # The queue of the account's own domains: AutoSSL is off on this server, nothing waits.
    queue = call("get_autossl_pending_queue")
    assert queue["status"] == 1 and queue["data"] == []


def test_whm_refusals_nothing_stored(server: Server) -> None:
    user, _ = server.account()
    other, _ = server.account()
    domain = f"{user}.example.com"

    assert "username" in server.fail("add_autossl_user_excluded_domains", params={"domain": domain})
    assert "domain" in server.fail("add_autossl_user_excluded_domains", params={"username": user})
    assert "domain" in server.fail(
        "remove_autossl_user_excluded_domains", params={"username": user}
    )
    reason = server.fail(
        "add_autossl_user_excluded_domains", params={"username": "nosuchuser9", "domain": domain}
    )
    assert "nosuchuser9" in reason
    assert "nosuchuser9" in server.fail(
        "get_autossl_user_excluded_domains", params={"username": "nosuchuser9"}
    )
    # A domain of another account, one that does not exist, garbage: all or nothing.
    for bad in (f"{other}.example.com", "nowhere.invalid", "not a domain", "-x-.com", "é" * 70):
        reason = server.fail(
            "add_autossl_user_excluded_domains",
            params=[("username", user), ("domain", domain), ("domain", bad)],
        )
        assert reason, bad
        server.fail("set_autossl_user_excluded_domains", params={"username": user, "domain": bad})
    assert _rows(server, user) == 0
    assert _rows(server, other) == 0

    # A reseller is not root: AutoSSL's settings are root's, as the rest of AutoSSL in WHM.
    reseller, token = server.reseller()
    for function, params in (
        ("add_autossl_user_excluded_domains", {"username": reseller, "domain": domain}),
        ("get_autossl_user_excluded_domains", {"username": reseller}),
        ("set_autossl_user_excluded_domains", {"username": reseller}),
        ("get_autossl_pending_queue", {}),
        ("get_autossl_check_schedule", {}),
        ("get_autossl_providers", {}),
        ("set_autossl_provider", {"provider": "ACME"}),
        ("disable_autossl", {}),
    ):
        response = server.get(function, user=reseller, token=token, params=params)
        # A missing privilege: 403 with WHM API 1's envelope, as for every function.
        assert response.status_code == 403, (function, response.text)
        assert response.json()["metadata"]["result"] == 0, function
        assert "“all” privilege" in response.json()["metadata"]["reason"]
    assert _rows(server, reseller) == 0


def test_schedule_queue_and_providers_when_autossl_is_not_configured(server: Server) -> None:
    body = server.get("get_autossl_check_schedule").json()
    assert body["metadata"]["result"] == 1 and body.get("data") is None  # no check scheduled
    assert server.ok("get_autossl_pending_queue") == {"pending_certificates": []}
    assert server.ok("get_autossl_providers") == {"payload": []}
    reason = server.fail("set_autossl_provider", params={"provider": "ACME"})
    assert "GATEHOUSE_AUTOSSL_DIRECTORY" in reason
    assert "provider" in server.fail("set_autossl_provider")
    # The logs: none of a check that never ran; a time that is not one is refused.
    assert isinstance(server.ok("get_autossl_logs_catalog")["payload"], list)
    assert "start_time" in server.fail("get_autossl_log")
    assert "ISO 8601" in server.fail("get_autossl_log", params={"start_time": "yesterday"})
    reason = server.fail("get_autossl_log", params={"start_time": "2001-01-01T00:00:00Z"})
    assert "2001-01-01T00:00:00Z" in reason  # Cpanel::Time::ISO::unix2iso: no fraction


def test_racing_adds_of_one_name_store_it_once(server: Server) -> None:
    """Calls adding the same name at once: each answers in its envelope (never a 5xx), and
    the name is stored once."""
    user, _ = server.account()
    domain = f"{user}.example.com"

    def add(_: int) -> tuple[int, int]:
        response = server.get(
            "add_autossl_user_excluded_domains", params={"username": user, "domain": domain}
        )
        return response.status_code, int(response.json()["metadata"]["result"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(add, range(8)))
    assert all(status == 200 for status, _ in answers), answers
    assert any(result == 1 for _, result in answers), answers
    assert _excluded(server, user) == [domain]
    assert _rows(server, user) == 1


DISABLED = "This system has AutoSSL disabled."


@pytest.mark.parametrize(
    ("function", "params", "reason"),
    [
        # Whostmgr/API/1/SSL.pm: no provider is AutoSSL disabled (_check_autossl_enabled).
        ("start_autossl_check_for_all_users", {}, DISABLED),
        ("start_autossl_check_for_one_user", {"username": "<user>"}, DISABLED),
        # The user must exist first (Cpanel::Validate::Username::user_exists_or_die).
        (
            "start_autossl_check_for_one_user",
            {"username": "nosuchuser1"},
            "This system does not contain a user named “nosuchuser1”.",
        ),
        (
            "get_autossl_problems_for_user",
            {"username": "nosuchuser1"},
            "This system does not contain a user named “nosuchuser1”.",
        ),
        (
            "get_autossl_problems_for_domain",
            {"domain": "nosuch.example.org"},
            "This system does not have a domain named “nosuch.example.org”.",
        ),
    ],
)
def test_whm_autossl_refusals_in_cpanels_words(
    server: Server, function: str, params: dict[str, str], reason: str
) -> None:
    user, _ = server.account()
    given = {k: v.replace("<user>", user) for k, v in params.items()}
    assert server.fail(function, params=given) == reason


def test_problems_for_a_domain_of_an_account_without_problems(server: Server) -> None:
    # A web vhost's name (`www.D` too) finds its owner; no check ran, so no problem.
    user, _ = server.account()
    for name in (f"{user}.example.com", f"www.{user}.example.com"):
        data = server.ok("get_autossl_problems_for_domain", params={"domain": name})
        assert data == {"problems_by_domain": []}


def test_uapi_start_autossl_check_succeeds_when_autossl_is_off(server: Server) -> None:
    # ssl_call START_AUTOSSL_CHECK queues the check whatever the provider: no refusal, and
    # nothing is in progress afterwards (gatehouse asks for no check that cannot run).
    user, password = server.account()
    token = server.cpanel_token(user, password)
    body = server.uapi(user, "SSL", "start_autossl_check", token=token).json()
    assert (body["status"], body["data"], body["errors"]) == (1, None, None)
    progress = server.uapi(user, "SSL", "is_autossl_check_in_progress", token=token).json()
    assert progress["data"] == 0


# -- get_autossl_check_schedule's cron fields: the server's local time ---------------------------

INDIA = dt.timezone(dt.timedelta(hours=5, minutes=30))
NEXT = int(dt.datetime(2026, 12, 6, 22, 45, tzinfo=dt.UTC).timestamp())  # 04:15 on the 7th there


@pytest.mark.parametrize(
    ("interval", "tz", "fields"),
    [
        (86400, dt.UTC, ["45", "22", "*", "*", "*"]),
        (86400, INDIA, ["15", "4", "*", "*", "*"]),
        (3 * 3600, INDIA, ["15", "1,4,7,10,13,16,19,22", "*", "*", "*"]),
        (900, INDIA, ["0,15,30,45", "*", "*", "*", "*"]),
        (1000000, INDIA, ["15", "4", "7", "12", "*"]),
    ],
    ids=["daily-utc", "daily-local", "3-hourly-local", "quarter-hourly", "other-local"],
)
def test_cron_fields_are_in_the_servers_local_time(
    interval: int, tz: dt.tzinfo, fields: list[str]
) -> None:
    # cPanel's /etc/cron.d/cpanel_autossl entry is read by cron in the server's local time
    # (Whostmgr/API/1/SSL.pm: Schedule::Cron::Events' nextEvent, then timelocal).
    assert autossl.cron_fields(interval, NEXT, tz) == fields


def test_cron_fields_default_to_the_process_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        assert autossl.cron_fields(86400, NEXT) == ["15", "4", "*", "*", "*"]
    finally:
        monkeypatch.undo()
        time.tzset()
