"""The friendly names cPanel gives stored SSL items (gatehouse.domain.ssl_names) and the AutoSSL
schedule as cron fields (gatehouse.domain.autossl.cron_fields): pure functions, no server."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from gatehouse.domain import autossl, ssl_names, ssl_pem


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


def _key(private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> ssl_pem.Key:
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return ssl_pem.parse_key(pem)


AT = int(dt.datetime(2026, 12, 6, 18, 5, 59, tzinfo=dt.UTC).timestamp())
MORNING = int(dt.datetime(2026, 1, 2, 0, 41, tzinfo=dt.UTC).timestamp())


@pytest.mark.parametrize(
    ("kind", "now", "name"),
    [
        ("rsa", AT, "4,096-bit RSA, created 12/6/26, 6:05 PM UTC"),
        ("ec", AT, "ECDSA “prime256v1”, created 12/6/26, 6:05 PM UTC"),
        ("ec", MORNING, "ECDSA “prime256v1”, created 1/2/26, 12:41 AM UTC"),
    ],
)
def test_default_key_name(kind: str, now: int, name: str) -> None:
    private = (
        rsa.generate_private_key(public_exponent=65537, key_size=4096)
        if kind == "rsa"
        else ec.generate_private_key(ec.SECP256R1())
    )
    assert ssl_names.default_key(_key(private), now) == name


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
