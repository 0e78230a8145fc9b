"""The friendly names cPanel gives stored SSL items (gatehouse.domain.ssl_names) and the AutoSSL
schedule as cron fields (gatehouse.domain.autossl.cron_fields): pure functions, no server."""

from __future__ import annotations

import datetime as dt

import pytest

from gatehouse.domain import autossl, ssl_names, ssl_requests


@pytest.mark.parametrize(
    ("items", "joined"),
    [
        (["a"], "a"),
        (["a", "b"], "a and b"),
        (["a", "b", "c"], "a, b, and c"),
        (["a", "b", "c", "d"], "a, b, c, and d"),
    ],
)
def test_list_and_is_english_cldr(items: list[str], joined: str) -> None:
    assert ssl_names.list_and(items) == joined


@pytest.mark.parametrize(
    ("cn", "names", "domains"),
    [
        ("a.test", ("a.test", "b.test"), ["a.test", "b.test"]),
        ("b.test", ("a.test", "b.test"), ["a.test", "b.test"]),  # the alternative names' order
        ("c.test", ("a.test",), ["c.test", "a.test"]),  # a CN not among them comes first
        ("", ("a.test",), ["a.test"]),
    ],
)
def test_domains_as_cpanel_parses_them(cn: str, names: tuple[str, ...], domains: list[str]) -> None:
    assert ssl_names.domains(cn, names) == domains


AT = int(dt.datetime(2026, 12, 6, 18, 5, 59, tzinfo=dt.UTC).timestamp())
MORNING = int(dt.datetime(2026, 1, 2, 0, 41, tzinfo=dt.UTC).timestamp())


@pytest.mark.parametrize(
    ("kind", "now", "name"),
    [
        ("rsa-4096", AT, "4,096-bit RSA, created 12/6/26, 6:05 PM UTC"),
        ("ecdsa-prime256v1", AT, "ECDSA “prime256v1”, created 12/6/26, 6:05 PM UTC"),
        ("ecdsa-prime256v1", MORNING, "ECDSA “prime256v1”, created 1/2/26, 12:41 AM UTC"),
    ],
)
def test_default_key_name(kind: str, now: int, name: str) -> None:
    assert ssl_names.default_key(ssl_requests.new_key(kind), now) == name


@pytest.mark.parametrize(
    ("interval", "cron"),
    [
        (86400, ["5", "18", "*", "*", "*"]),
        (3 * 3600, ["5", "0,3,6,9,12,15,18,21", "*", "*", "*"]),
        (5 * 3600, ["5", "18", "6", "12", "*"]),  # no whole number per day: the next run
        (15 * 60, ["5,20,35,50", "*", "*", "*", "*"]),
        (1000000, ["5", "18", "6", "12", "*"]),
    ],
)
def test_schedule_as_cron_fields(interval: int, cron: list[str]) -> None:
    assert autossl.cron_fields(interval, AT) == cron
