"""The receiving side of cPanel's DNS cluster protocol (issue 16): a peer holding a
`clustering`-only token saves, reads, lists and removes whole zones through
/scripts2/*_local, as cPanel's remote dnsadmin module calls them, with plain-text answers."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import parse_qsl, quote

import httpx
import pytest

from conftest import Server, another_node


def zone_text(name: str, serial: int = 2026120401, address: str = "192.0.2.10") -> str:
    return (
        f"$TTL 14400\n"
        f"{name}. 86400 IN SOA ns1.{name}. hostmaster.{name}. {serial} 3600 1800 1209600 86400\n"
        f"{name}. 86400 IN NS ns1.{name}.\n"
        f"{name}. 14400 IN A {address}\n"
        f"ns1.{name}. 14400 IN A {address}\n"
    )


@pytest.fixture(scope="module")
def peer_token(server: Server) -> str:
    """What a cPanel server's cluster configuration holds: a root token with `clustering`."""
    return server.token(acl=["clustering"])


def call(server: Server, token: str, action: str, **fields: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/scripts2/{action}_local",
        data={"dnsuniqid": uuid.uuid4().hex, **fields},
        headers={"Authorization": f"whm root:{token}"},
        timeout=30,
    )


def fresh_zone() -> str:
    return f"peer{secrets.token_hex(4)}.example.net"


def test_savezone_stores_the_zone_with_the_serial_it_carries(
    server: Server, peer_token: str
) -> None:
    name = fresh_zone()
    saved = call(server, peer_token, "savezone", zone=name, zonedata=zone_text(name, 2026120407))
    assert saved.status_code == 200, saved.text
    assert saved.headers["content-type"].startswith("text/plain")
    assert saved.text.startswith(f"Saved zone {name}")
    assert server.sql("SELECT serial FROM zones WHERE name = :n", n=name) == [(2026120407,)]
    got = call(server, peer_token, "getzone", zone=name)
    assert got.text == zone_text(name, 2026120407)


def test_a_broken_zone_is_refused_with_its_line_and_nothing_is_stored(
    server: Server, peer_token: str
) -> None:
    name = fresh_zone()
    broken = zone_text(name).replace("IN A 192.0.2.10\nns1", "IN A 192.0.2.999\nns1")
    refused = call(server, peer_token, "savezone", zone=name, zonedata=broken)
    assert refused.status_code == 400
    assert "would be invalid (line " in refused.text
    assert server.sql("SELECT count(*) FROM zones WHERE name = :n", n=name) == [(0,)]


def test_zoneexists_and_getzonelist(server: Server, peer_token: str) -> None:
    name = fresh_zone()
    assert call(server, peer_token, "zoneexists", zone=name).text == "0"
    added = call(server, peer_token, "quickzoneadd", zone=name, zonedata=zone_text(name))
    # cPanel's sender of a new zone (Cpanel/DnsUtils/Add.pm) looks for this sentence.
    assert added.text == f"Zone {name} has been successfully added\n"
    assert call(server, peer_token, "zoneexists", zone=name).text == "1"
    assert name in call(server, peer_token, "getzonelist").text.splitlines()


@pytest.mark.parametrize("gzip", [False, True])
def test_getzones_and_getallzones_answer_cpdnszone_fields(
    server: Server, peer_token: str, gzip: bool
) -> None:
    names = [fresh_zone(), fresh_zone()]
    for name in names:
        call(server, peer_token, "savezone", zone=name, zonedata=zone_text(name))
    headers = {"Authorization": f"whm root:{peer_token}"}
    headers["Accept-Encoding"] = "gzip" if gzip else "identity"
    some = httpx.post(
        f"{server.url}/scripts2/getzones_local",
        # A name it does not have, or that is no zone name, is left out (as cPanel's).
        data={"zones": ",".join([*names, "absent.example", "bad name"]), "dnsuniqid": "1"},
        headers=headers,
    )
    assert dict(parse_qsl(some.text)) == {f"cpdnszone-{n}": zone_text(n) for n in names}
    every = dict(
        parse_qsl(
            httpx.post(
                f"{server.url}/scripts2/getallzones_local", data={"dnsuniqid": "2"}, headers=headers
            ).text
        )
    )
    assert all(every[f"cpdnszone-{n}"] == zone_text(n) for n in names)


def synczones(server: Server, token: str, zones: list[tuple[str, str]]) -> httpx.Response:
    """A synczones batch as cPanel's module posts it: pre-encoded `cpdnszone-NAME=TEXT` fields."""
    body = "&".join(
        f"cpdnszone-{quote(name, safe='')}={quote(text, safe='')}" for name, text in zones
    )
    return httpx.post(
        f"{server.url}/scripts2/synczones_local",
        content=f"{body}&dnsuniqid=sync-{uuid.uuid4().hex}",
        headers={
            "Authorization": f"whm root:{token}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        timeout=30,
    )


def stored(server: Server, name: str) -> bool:
    return server.sql("SELECT count(*) FROM zones WHERE name = :n", n=name) == [(1,)]


def test_synczones_saves_every_zone_sent(server: Server, peer_token: str) -> None:
    names = [fresh_zone(), fresh_zone()]
    response = synczones(server, peer_token, [(n, zone_text(n)) for n in names])
    assert response.status_code == 200, response.text
    assert response.text == "".join(f"Saved zone {n} on {hostname(server)}\n" for n in names)
    for name in names:
        assert call(server, peer_token, "zoneexists", zone=name).text == "1"


def _broken(name: str) -> str:
    return zone_text(name).replace("IN A 192.0.2.10\nns1", "IN A 192.0.2.999\nns1")


@pytest.mark.parametrize(
    ("bad_name", "bad_text", "why"),
    [
        ("bad zone.example", None, "is not a valid zone name"),
        ("a..b.example", None, "is not a valid zone name"),
        ("line\nbreak.example", None, "is not a valid zone name"),
        ("{fresh}", "{broken}", "would be invalid (line 5)"),
        ("{fresh}", "", "would be invalid"),
    ],
)
def test_synczones_stores_the_good_zones_and_skips_a_bad_one_saying_why(
    server: Server, peer_token: str, bad_name: str, bad_text: str | None, why: str
) -> None:
    """cPanel's synczones skips a bad zone (`next`) and answers success: one broken zone of a
    batch of up to 512 must not keep the others from the peer."""
    good = [fresh_zone(), fresh_zone()]
    bad = fresh_zone() if bad_name == "{fresh}" else bad_name
    text = _broken(bad) if bad_text == "{broken}" else zone_text(bad) if bad_text is None else ""
    response = synczones(
        server,
        peer_token,
        [(good[0], zone_text(good[0])), (bad, text), (good[1], zone_text(good[1]))],
    )
    assert response.status_code == 200, response.text
    saved, skipped, saved_too = response.text.splitlines()
    assert saved == f"Saved zone {good[0]} on {hostname(server)}"
    assert skipped.startswith(f"Skipped zone {bad.replace(chr(10), '?')} on {hostname(server)}: ")
    assert why in skipped
    assert saved_too == f"Saved zone {good[1]} on {hostname(server)}"
    assert all(stored(server, name) for name in good)
    assert server.sql("SELECT count(*) FROM zones WHERE name = :n", n=bad) == [(0,)]
    audited = server.sql(
        "SELECT count(*) FROM audit_log WHERE subject = :n AND action = 'CLUSTERSAVEZONE'", n=bad
    )
    assert audited == [(0,)]


def test_synczones_of_only_bad_zones_stores_nothing_and_says_so(
    server: Server, peer_token: str
) -> None:
    bad = fresh_zone()
    response = synczones(server, peer_token, [(bad, _broken(bad))])
    assert response.status_code == 200
    assert response.text.startswith(f"Skipped zone {bad} on ")
    assert not stored(server, bad)


GONE = "{0} => deleted from {host}. \n"  # cPanel's words, its space before the line break


@pytest.mark.parametrize(
    ("action", "held", "asked", "expected"),
    [
        ("removezone", ["A"], "{A}", GONE.format("{A}", host="{host}")),
        ("removezone", [], "{A}", "Unable to remove zone: “{A}” on {host}.\n"),
        ("removezones", ["A", "B"], "{A},{B}",
         GONE.format("{A}", host="{host}") + GONE.format("{B}", host="{host}")),
        ("removezones", ["A"], " {A} , {B} ",
         GONE.format("{A}", host="{host}") + "Unable to remove zone: “{B}” on {host}.\n"),
        ("removezones", [], "{B},{A}", "Unable to remove zones: “{A},{B}” on {host}.\n"),
        ("removezones", ["A"], "{A},bad name",
         GONE.format("{A}", host="{host}") + "Unable to remove zone: “bad name” on {host}.\n"),
    ],
)  # fmt: skip
def test_removal_says_deleted_only_for_a_zone_it_removed(
    server: Server, peer_token: str, action: str, held: list[str], asked: str, expected: str
) -> None:
    """cPanel's removezones (Cpanel/NameServer/Local/cPanel.pm) prints `ZONE => deleted from
    SHORTHOST. ` after an actual removal, and names the rest, sorted, in one `Unable to
    remove` line. A and B are fresh zones, A sorting first."""
    a, b = sorted([fresh_zone(), fresh_zone()])
    names = {"A": a, "B": b}
    for symbol in held:
        call(server, peer_token, "savezone", zone=names[symbol], zonedata=zone_text(names[symbol]))
    field = "zone" if action == "removezone" else "zones"
    removed = call(server, peer_token, action, **{field: asked.format(**names)})
    assert removed.status_code == 200, removed.text
    short = hostname(server).split(".")[0]
    assert removed.text == expected.replace("{host}", short).format(**names)
    assert all(call(server, peer_token, "zoneexists", zone=n).text == "0" for n in names.values())


def test_a_removal_seen_again_with_its_dnsuniqid_removes_nothing_and_says_so(
    server: Server, peer_token: str
) -> None:
    name = fresh_zone()
    call(server, peer_token, "savezone", zone=name, zonedata=zone_text(name))
    short = hostname(server).split(".")[0]
    request_id = f"ring-{uuid.uuid4().hex}"
    answers = [
        call(server, peer_token, "removezone", zone=name, dnsuniqid=request_id).text
        for _ in range(2)
    ]
    assert answers == [
        f"{name} => deleted from {short}. \n",
        f"Unable to remove zone: “{name}” on {short}.\n",
    ]


def test_a_change_seen_again_with_its_dnsuniqid_is_not_applied_twice(
    server: Server, peer_token: str
) -> None:
    name = fresh_zone()
    request_id = f"ring-{uuid.uuid4().hex}"
    headers = {"Authorization": f"whm root:{peer_token}"}
    for address in ("192.0.2.10", "192.0.2.99"):
        httpx.post(
            f"{server.url}/scripts2/savezone_local",
            data={
                "zone": name,
                "zonedata": zone_text(name, address=address),
                "dnsuniqid": request_id,
            },
            headers=headers,
        )
    assert "192.0.2.10" in call(server, peer_token, "getzone", zone=name).text


def test_a_received_zone_belongs_to_the_account_with_that_domain(
    server: Server, peer_token: str
) -> None:
    user, _password = server.account()
    domain = f"{user}.example.com"
    call(server, peer_token, "savezone", zone=domain, zonedata=zone_text(domain))
    owner = server.sql(
        "SELECT users.username FROM zones JOIN users ON users.id = zones.user_id "
        "WHERE zones.name = :n",
        n=domain,
    )
    assert owner == [(user,)]
    orphan = fresh_zone()
    call(server, peer_token, "savezone", zone=orphan, zonedata=zone_text(orphan))
    assert server.sql(
        "SELECT users.username FROM zones JOIN users ON users.id = zones.user_id "
        "WHERE zones.name = :n",
        n=orphan,
    ) == [("root",)]


def test_the_audit_trail_names_the_peer(server: Server, peer_token: str) -> None:
    name = fresh_zone()
    call(server, peer_token, "savezone", zone=name, zonedata=zone_text(name))
    rows = server.sql("SELECT action, actor, source_ip FROM audit_log WHERE subject = :n", n=name)
    assert [tuple(r) for r in rows] == [("CLUSTERSAVEZONE", "root", "127.0.0.1")]


def test_getips_answers_one_address_a_line(server: Server, peer_token: str) -> None:
    assert call(server, peer_token, "getips").text.strip().splitlines()


def test_getpath_answers_a_line_per_peer_pushed_to(server: Server, peer_token: str) -> None:
    """cPanel's getpath: `OWN-HOSTNAME PEER-HOST` for each write-only or sync peer, which a
    master's cluster trace (Whostmgr/DNS/Trace.pm) splits into master and slave."""
    before = call(server, peer_token, "getpath").text
    added = [
        ("ns-a.example", "write-only"),
        ("ns-b.example", "sync"),
        ("ns-c.example", "standalone"),
    ]
    for host, role in added:
        server.cli(
            "cluster", "add", host, "--role", role, "--no-check", "--token-stdin", stdin="T\n"
        )
    try:
        answer = call(server, peer_token, "getpath").text
    finally:
        for host, _role in added:
            server.cli("cluster", "remove", host)
    own = hostname(server)
    assert answer == before + f"{own} ns-a.example\n{own} ns-b.example\n"


@pytest.mark.parametrize(
    "action", ["reloadbind", "reloadzones", "reconfigbind", "addzoneconf", "cleandns"]
)
def test_reload_actions_are_accepted(server: Server, peer_token: str, action: str) -> None:
    assert call(server, peer_token, action, zone="x.example").status_code == 200


def test_a_token_without_clustering_is_refused(server: Server) -> None:
    token = server.token(acl=["list-accts"])
    refused = call(server, token, "getzonelist")
    assert refused.status_code == 403
    assert "clustering" in refused.text


def test_a_wrong_token_is_refused(server: Server) -> None:
    refused = call(server, secrets.token_hex(16).upper(), "getzonelist")
    assert refused.status_code == 401
    assert refused.text == "Access denied\n"


@pytest.mark.parametrize("path", ["/scripts2/nosuch_local", "/scripts2/getzonelist"])
def test_an_unknown_action_is_404(server: Server, peer_token: str, path: str) -> None:
    response = httpx.post(
        f"{server.url}{path}", headers={"Authorization": f"whm root:{peer_token}"}
    )
    assert response.status_code == 404


@pytest.mark.parametrize("zone", ["", "bad zone", "a..b", "x" * 300])
def test_a_bad_zone_name_is_refused(server: Server, peer_token: str, zone: str) -> None:
    refused = call(server, peer_token, "savezone", zone=zone, zonedata="x")
    assert refused.status_code == 400
    assert "not a valid zone name" in refused.text


@pytest.mark.parametrize(
    ("path", "answer"),
    [
        # cPanel::PublicAPI's showhostname(): a cPanel master's reverse trust setup refuses a
        # host name holding \r, \n or \0, so no line break after it.
        ("/scripts2/gethostname", lambda server: hostname(server)),
        ("/scripts2/showversion", lambda server: server.ok("version")["version"]),
    ],
)
@pytest.mark.parametrize("acl", ["clustering", "basic-system-info"])
def test_the_legacy_host_name_and_version_answer_plain_text(
    server: Server, path: str, answer: Callable[[Server], str], acl: str
) -> None:
    token = server.token(acl=[acl])
    response = httpx.get(f"{server.url}{path}", headers={"Authorization": f"whm root:{token}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == answer(server)


@pytest.mark.parametrize("path", ["/scripts2/gethostname", "/scripts2/showversion"])
def test_the_legacy_host_name_and_version_need_a_privilege(server: Server, path: str) -> None:
    token = server.token(acl=["list-accts"])
    refused = httpx.get(f"{server.url}{path}", headers={"Authorization": f"whm root:{token}"})
    assert refused.status_code == 403
    assert "“basic-system-info” or “clustering”" in refused.text
    wrong = httpx.get(f"{server.url}{path}", headers={"Authorization": "whm root:WRONG"})
    assert wrong.status_code == 401


def hostname(server: Server) -> str:
    return str(server.ok("gethostname")["hostname"])


# -- size: a peer's batch against GATEHOUSE_MAX_CLUSTER_BODY, not GATEHOUSE_MAX_BODY --------


@pytest.fixture(scope="module")
def small_bodies(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A node whose API bodies are limited to 16 KiB and peers' bodies to 64 KiB."""
    env = {"GATEHOUSE_MAX_BODY": str(16 * 1024), "GATEHOUSE_MAX_CLUSTER_BODY": str(64 * 1024)}
    with another_node(server, tmp_path_factory, "small-bodies", env) as node:
        yield node


def padded_zone(name: str) -> str:
    """About 2.2 KiB of text, 3 KiB once encoded as cPanel's module sends it."""
    txt = " ".join(f'"{"v" * 60}"' for _ in range(30))
    return zone_text(name) + f"{name}. 14400 IN TXT {txt}\n"


def test_a_peers_batch_is_held_to_the_cluster_limit_not_the_api_limit(
    small_bodies: Server, peer_token: str
) -> None:
    names = [fresh_zone() for _ in range(8)]  # ~24 KiB: over the API's 16, under the 64
    response = synczones(small_bodies, peer_token, [(n, padded_zone(n)) for n in names])
    assert response.status_code == 200, response.text
    assert [call(small_bodies, peer_token, "zoneexists", zone=n).text for n in names] == ["1"] * 8
    api = httpx.post(
        f"{small_bodies.url}/json-api/version?api.version=1",
        content=b"x=" + b"a" * 20 * 1024,
        headers={"Authorization": f"whm root:{small_bodies.root_token}"},
        timeout=30,
    )
    assert api.status_code == 413


def test_a_batch_over_the_cluster_limit_is_refused_whole(
    small_bodies: Server, peer_token: str
) -> None:
    names = [fresh_zone() for _ in range(40)]  # ~104 KiB
    response = synczones(small_bodies, peer_token, [(n, padded_zone(n)) for n in names])
    assert response.status_code == 413
    assert response.text == f"The request body exceeds the limit of {64 * 1024} bytes.\n"
    assert [call(small_bodies, peer_token, "zoneexists", zone=n).text for n in names] == ["0"] * 40


@pytest.mark.parametrize("authorization", ["whm root:WRONGTOKEN", None])
@pytest.mark.parametrize("size", [12 * 1024, 40 * 1024])  # under and over the API's 16 KiB
def test_anyone_else_is_refused_whatever_the_size_of_the_body(
    small_bodies: Server, authorization: str | None, size: int
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    with httpx.Client(timeout=30) as client:
        refused = client.post(
            f"{small_bodies.url}/scripts2/synczones_local", content=b"a" * size, headers=headers
        )
        assert (refused.status_code, refused.text) == (401, "Access denied\n")
        if size < 16 * 1024:
            # The body was read and dropped: the connection carries the next request.
            assert client.get(f"{small_bodies.url}/healthz").status_code == 200


def test_a_token_without_clustering_gets_no_cluster_sized_body(
    small_bodies: Server,
) -> None:
    token = small_bodies.token(acl=["list-accts"])
    refused = httpx.post(
        f"{small_bodies.url}/scripts2/synczones_local",
        content=b"a" * 40 * 1024,
        headers={"Authorization": f"whm root:{token}"},
        timeout=30,
    )
    assert refused.status_code == 403
