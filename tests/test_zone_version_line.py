"""cPanel's version line (dns/version_line.py): the first line of every zone cPanel writes,
`; cPanel first:V (update_time):T Cpanel::ZoneFile::VERSION:1.3 hostname:H latest:V`. A new
zone starts with one; a save renews its time and `latest`, keeps `first`, and adds none where
there is none (Cpanel/ZoneFile/Versioning.pm, Cpanel/ZoneFile/LineEdit.pm)."""

from __future__ import annotations

import base64
import re
import time
from typing import Any

import pytest

from conftest import Server
from gatehouse import WHM_COMPAT_VERSION
from gatehouse.dns import version_line

OLD = (
    "; cPanel first:94.0.8 (update_time):1707052339 Cpanel::ZoneFile::VERSION:1.3 "
    "hostname:old.example latest:110.0.22"
)  # as in a zone recorded from a real server (go-acme/lego issue 1060), host name changed
LATEST = WHM_COMPAT_VERSION.removeprefix("11.")


def test_the_line_has_cpanels_keys_in_cpanels_order() -> None:
    assert version_line.line(update_time=1796523524, hostname="h.example") == (
        f"; cPanel first:{LATEST} (update_time):1796523524 Cpanel::ZoneFile::VERSION:1.3 "
        f"hostname:h.example latest:{LATEST}"
    )


@pytest.mark.parametrize(
    ("old", "first", "hostname"),
    [
        (OLD, "94.0.8", "old.example"),
        ("; cPanel first:11.23.4 hostname:h", "11.23.4", "h"),
        ("  ;  cPanel first:94.0.8", "94.0.8", None),  # blanks before and inside
        ("; cPanel 11.120.0.5", LATEST, None),  # the template's own `; cPanel %cpversion%`
        ("; cPanel first:x1 (update_time):1", LATEST, None),  # `first` must start with a digit
        ("; cPanel (update_time):1 hostname:h", LATEST, "h"),
    ],
)
def test_a_renewed_line_keeps_first_and_the_host_name(
    old: str, first: str, hostname: str | None
) -> None:
    new = version_line.renewed(old.strip(), 1800000000)
    assert new is not None
    assert new.startswith(f"; cPanel first:{first} (update_time):1800000000 ")
    assert new.endswith(f" latest:{LATEST}")
    if hostname is not None:
        assert f" hostname:{hostname} " in new


@pytest.mark.parametrize(
    "text", ["; Zone file for x", "; a cPanel user's zone", 'www 300 IN TXT "; cPanel x"']
)
def test_other_lines_are_not_version_lines(text: str) -> None:
    assert version_line.renewed(text, 1) is None
    assert version_line.renew(text + "\n", 1) == (text + "\n", None)


@pytest.mark.parametrize(
    ("text", "index"),
    [
        (f"{OLD}\n; Zone file for x\n$TTL 300\n", 0),
        (f"; Zone file for x\n{OLD}\n$TTL 300\n", 1),  # not first: still cPanel's line
        (f"$TTL 300\n  {OLD}\n{OLD}\n", 1),  # the first one only, its blanks kept
    ],
)
def test_renew_rewrites_the_first_version_line_in_place(text: str, index: int) -> None:
    new, found = version_line.renew(text, 1800000000)
    assert found == index
    lines, new_lines = text.split("\n"), new.split("\n")
    assert len(new_lines) == len(lines)
    for i, (before, after) in enumerate(zip(lines, new_lines, strict=True)):
        if i == index:
            assert after.startswith(before[: len(before) - len(before.lstrip())] + "; cPanel ")
            assert "(update_time):1800000000 " in after and "first:94.0.8 " in after
        else:
            assert after == before
    assert version_line.first_of(text) == "94.0.8"


# -- over HTTP ----------------------------------------------------------------------------------


def stored(server: Server, zone: str) -> str:
    return str(server.sql("SELECT text FROM zones WHERE name = :n", n=zone)[0][0])


def restore(server: Server, zone: str, text: str) -> None:
    server.sql("UPDATE zones SET text = :t WHERE name = :n", t=text, n=zone)


def new_zone(server: Server) -> str:
    username, _password = server.account()
    return f"{username}.example.com"


def parse(server: Server, zone: str) -> list[dict[str, Any]]:
    return list(server.ok("parse_dns_zone", params={"zone": zone})["payload"])


def serial(payload: list[dict[str, Any]]) -> str:
    (soa,) = [i for i in payload if i.get("record_type") == "SOA"]
    return base64.b64decode(soa["data_b64"][2]).decode()


def add_txt(server: Server, zone: str) -> None:
    payload = parse(server, zone)
    add = '{"dname":"_acme-challenge","ttl":60,"record_type":"TXT","data":["token"]}'
    server.ok(
        "mass_edit_dns_zone", params=[("zone", zone), ("serial", serial(payload)), ("add", add)]
    )


def test_a_new_zone_starts_with_the_version_line(server: Server) -> None:
    before = int(time.time())
    zone = new_zone(server)
    first = stored(server, zone).split("\n")[0]
    match = re.fullmatch(
        rf"; cPanel first:{re.escape(LATEST)} \(update_time\):(\d+) "
        rf"Cpanel::ZoneFile::VERSION:1\.3 hostname:(\S+) latest:{re.escape(LATEST)}",
        first,
    )
    assert match is not None, first
    assert before - 1 <= int(match.group(1)) <= time.time() + 1
    assert match.group(2) == server.ok("gethostname")["hostname"]


def test_an_edit_renews_the_line_and_moves_no_record(server: Server) -> None:
    zone = new_zone(server)
    text = stored(server, zone)
    restore(server, zone, OLD + text[text.index("\n") :])
    before = parse(server, zone)
    add_txt(server, zone)
    first = stored(server, zone).split("\n")[0]
    assert first.startswith("; cPanel first:94.0.8 (update_time):")
    assert first.endswith(f" hostname:old.example latest:{LATEST}")
    assert int(first.split("(update_time):")[1].split()[0]) > 1707052339
    after = parse(server, zone)
    # Every line keeps its index: what a client holding line indexes and the new serial needs.
    kept = {i["line_index"]: i.get("record_type", i["type"]) for i in before}
    assert {i["line_index"]: i.get("record_type", i["type"]) for i in after[: len(before)]} == kept
    assert base64.b64decode(after[0]["text_b64"]).decode() == first


def test_an_edit_adds_no_line_to_a_zone_without_one(server: Server) -> None:
    zone = new_zone(server)
    text = stored(server, zone)
    restore(server, zone, text[text.index("\n") + 1 :])
    add_txt(server, zone)
    assert stored(server, zone).startswith("; Zone file for ")
    assert "; cPanel" not in stored(server, zone)


def test_resetzone_keeps_the_zones_first_version(server: Server) -> None:
    zone = new_zone(server)
    text = stored(server, zone)
    restore(server, zone, OLD + text[text.index("\n") :])
    add_txt(server, zone)
    server.ok("resetzone", params={"domain": zone})
    after = stored(server, zone)
    assert after.startswith("; cPanel first:94.0.8 (update_time):")
    assert "_acme-challenge" not in after
