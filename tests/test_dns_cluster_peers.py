"""Managing DNS cluster peers (issue 16): the gatehouse extensions of WHM API 1, what adding
a peer checks and how it says what is wrong, roles, sync, status — and reverse trust
(`/cgi/trustclustermaster.cgi`) as a cPanel server asks for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from cluster_helpers import fresh_domain, own_node
from conftest import Server, free_port, stop_server


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    node = own_node(tmp_path_factory.mktemp("peer"))
    yield node
    stop_server(node)


@pytest.fixture
def added(server: Server) -> Iterator[list[tuple[str, int]]]:
    """Peers a test adds to `server`, removed after it."""
    peers: list[tuple[str, int]] = []
    yield peers
    for host, port in peers:
        server.get("gatehouse_remove_cluster_peer", params={"host": host, "port": port})


def add(server: Server, added: list[tuple[str, int]], **params: Any) -> httpx.Response:
    params = {"host": "127.0.0.1", **params}
    response = server.get("gatehouse_add_cluster_peer", params=params)
    if response.json()["metadata"]["result"] == 1:
        peer = response.json()["data"]["peer"]
        added.append((peer["host"], peer["port"]))
    return response


def over_http(node: Server, token: str, **params: Any) -> dict[str, Any]:
    return {"port": node.http_port, "http": 1, "token": token, **params}


def peers(server: Server) -> dict[int, dict[str, Any]]:
    listed = server.ok("gatehouse_list_cluster_peers")["peers"]
    return {int(p["port"]): p for p in listed}


def reason(response: httpx.Response) -> str:
    body = response.json()
    assert response.status_code == 200 and body["metadata"]["result"] == 0, response.text
    return str(body["metadata"]["reason"])


# -- adding: the check ------------------------------------------------------------------------


def test_adding_a_reachable_peer_with_a_clustering_token_stores_it(
    server: Server, peer: Server, added: list[tuple[str, int]]
) -> None:
    token = peer.token(acl=["clustering"])
    response = add(server, added, **over_http(peer, token, role="standalone"))
    data = response.json()["data"]
    assert response.json()["metadata"]["result"] == 1, response.text
    assert data["queued"] == 0
    listed = peers(server)[peer.http_port]
    assert listed | {"created": 0} == {
        "host": "127.0.0.1", "port": peer.http_port, "scheme": "http", "verify_tls": 1,
        "user": "root", "role": "standalone", "origin": "added", "created": 0, "pending": 0,
        "oldest_pending": None, "last_delivery": None, "last_delivery_time": None,
        "last_error": None, "last_error_time": None, "healthy": 1,
    }  # fmt: skip
    assert token not in response.text


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        ("nothing listens", "Unreachable"),
        ("a wrong token", "HTTP 401"),
        ("a token without clustering", "lacks the “clustering” privilege"),
        (
            "a self-signed certificate, verified",
            "TLS: the peer's certificate could not be verified",
        ),
        ("plain HTTP to the TLS port", "is the port or the scheme (HTTPS or plain HTTP) wrong?"),
    ],
)
def test_a_peer_that_cannot_be_used_is_refused_with_the_reason_and_not_stored(
    server: Server, peer: Server, added: list[tuple[str, int]], how: str, expected: str
) -> None:
    params: dict[str, Any] = {
        "nothing listens": over_http(peer, "NOBODYLISTENS", port=free_port()),
        "a wrong token": over_http(peer, "WRONGTOKEN" * 3),
        "a token without clustering": over_http(peer, peer.token(acl=["list-accts"])),
        "a self-signed certificate, verified": {
            "port": peer.https_port, "token": peer.token(acl=["clustering"])
        },
        "plain HTTP to the TLS port": {
            "port": peer.https_port, "http": 1, "token": peer.token(acl=["clustering"])
        },
    }[how]  # fmt: skip
    before = len(peers(server))
    refused = reason(add(server, added, **params))
    assert refused.startswith(f"The peer 127.0.0.1:{params['port']} cannot be used: ")
    assert expected in refused, refused
    assert str(params["token"]) not in refused
    assert len(peers(server)) == before


def test_a_self_signed_peer_is_added_when_verification_is_off(
    server: Server, peer: Server, added: list[tuple[str, int]]
) -> None:
    token = peer.token(acl=["clustering"])
    response = add(
        server, added, port=peer.https_port, token=token, verify_tls=0, role="standalone"
    )
    assert response.json()["metadata"]["result"] == 1, response.text
    assert peers(server)[peer.https_port]["verify_tls"] == 0


def test_check_0_stores_an_unreachable_peer(server: Server, added: list[tuple[str, int]]) -> None:
    port = free_port()
    response = add(server, added, port=port, token="T", check=0, role="standalone")
    assert response.json()["metadata"]["result"] == 1, response.text
    checked = server.ok("gatehouse_check_cluster_peer", params={"host": "127.0.0.1", "port": port})
    assert checked["ok"] == 0 and checked["problem"].startswith("Unreachable")
    listed = peers(server)[port]
    assert listed["healthy"] == 0 and listed["last_error"] == checked["problem"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"host": "a b", "token": "T", "check": 0}, "is not a host name or address"),
        ({"host": "x.example", "port": "99999", "token": "T"}, "is not a port"),
        ({"host": "x.example", "port": "eighty", "token": "T"}, "is not a port"),
        ({"host": "x.example", "token": "T", "role": "master"}, "The role must be one of"),
        ({"host": "x.example"}, "token"),
        ({"token": "T"}, "host"),
        # What cannot go into the peer's Authorization header (it was a 500 when checked,
        # and stored with check=0, for the sender to fail on):
        ({"host": "x.example", "token": "AB\u00dc"}, "The API token must be printable ASCII"),
        ({"host": "x.example", "token": "A\x01B", "check": 0},
         "The API token must be printable ASCII"),
        ({"host": "x.example", "token": "T", "user": "r\u00fcot"},
         "The peer's user name must be printable ASCII"),
        ({"host": "x.example", "token": "T", "user": "a:b", "check": 0},
         "The peer's user name must be printable ASCII"),
    ],
)  # fmt: skip
def test_bad_parameters_are_refused(
    server: Server, added: list[tuple[str, int]], params: dict[str, Any], expected: str
) -> None:
    before = len(peers(server))
    response = server.get("gatehouse_add_cluster_peer", params=params)
    assert response.status_code == 200, response.text
    assert expected in reason(response)
    assert len(peers(server)) == before


def test_the_same_peer_twice_is_a_conflict(server: Server, added: list[tuple[str, int]]) -> None:
    port = free_port()
    add(server, added, port=port, token="T", check=0, role="standalone")
    again = add(server, added, port=port, token="T", check=0, role="standalone")
    assert "is a peer already" in reason(again)


def test_managing_peers_needs_clustering(server: Server) -> None:
    token = server.token(acl=["list-accts"])
    response = server.get("gatehouse_list_cluster_peers", token=token)
    assert response.status_code == 403, response.text
    clustering = server.token(acl=["clustering"])
    assert "peers" in server.ok("gatehouse_list_cluster_peers", token=clustering)


# -- roles, sync, removal ---------------------------------------------------------------------


def queued_for(server: Server, port: int) -> int:
    return int(peers(server)[port]["pending"])


def test_a_standalone_peer_made_write_only_gets_every_zone_queued_and_back_loses_it(
    server: Server, added: list[tuple[str, int]]
) -> None:
    server.ok("adddns", params={"domain": fresh_domain(), "ip": "192.0.2.40"})
    port = free_port()
    add(server, added, port=port, token="T", check=0, role="standalone")
    which = {"host": "127.0.0.1", "port": port}
    made = server.ok("gatehouse_set_cluster_peer_role", params={**which, "role": "write-only"})
    zones = server.sql("SELECT count(*) FROM zones")[0][0]
    assert made["queued"] == zones and made["peer"]["role"] == "write-only"
    assert queued_for(server, port) >= zones
    back = server.ok("gatehouse_set_cluster_peer_role", params={**which, "role": "standalone"})
    assert back["queued"] == 0 and queued_for(server, port) == 0


def test_sync_queues_every_zone_for_a_pushing_peer_only(
    server: Server, added: list[tuple[str, int]]
) -> None:
    port = free_port()
    add(server, added, port=port, token="T", check=0, role="standalone")
    which = {"host": "127.0.0.1", "port": port}
    refused = reason(server.get("gatehouse_sync_cluster_peer", params=which))
    assert "is standalone" in refused
    server.ok("gatehouse_set_cluster_peer_role", params={**which, "role": "sync"})
    before = queued_for(server, port)
    synced = server.ok("gatehouse_sync_cluster_peer", params=which)
    assert synced["queued"] == server.sql("SELECT count(*) FROM zones")[0][0]
    assert queued_for(server, port) >= before + synced["queued"] - 5  # the sender may be at it


def test_removing_an_unknown_peer_is_refused(server: Server) -> None:
    response = server.get(
        "gatehouse_remove_cluster_peer", params={"host": "nowhere.example", "port": 1}
    )
    assert "No single DNS cluster peer is nowhere.example:1" in reason(response)


def test_every_change_is_audited(server: Server, added: list[tuple[str, int]]) -> None:
    port = free_port()
    add(server, added, port=port, token="SECRETPEERTOKEN", check=0, role="standalone")
    which = {"host": "127.0.0.1", "port": port}
    server.ok("gatehouse_set_cluster_peer_role", params={**which, "role": "write-only"})
    server.ok("gatehouse_remove_cluster_peer", params=which)
    added.clear()
    rows = server.sql(
        "SELECT action, detail FROM audit_log WHERE subject = :s ORDER BY id",
        s=f"127.0.0.1:{port}",
    )
    assert [r[0] for r in rows] == ["CLUSTERADDPEER", "CLUSTERPEERROLE", "CLUSTERREMOVEPEER"]
    assert "SECRETPEERTOKEN" not in str(rows)


# -- the command line -------------------------------------------------------------------------


def test_cluster_status_shows_a_failing_peer_and_exits_1(
    server: Server, added: list[tuple[str, int]]
) -> None:
    port = free_port()
    add(server, added, port=port, token="T", check=0, role="standalone")
    result = server.cli("cluster", "status", "--check", check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"127.0.0.1:{port}" in result.stdout and "FAILING: Unreachable" in result.stdout


def test_cluster_add_refuses_a_bad_token_with_the_reason(server: Server, peer: Server) -> None:
    result = server.cli(
        "cluster", "add", "127.0.0.1", "--port", str(peer.http_port), "--http",
        "--token-stdin", stdin="WRONG\n", check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "HTTP 401: the peer refused the user and token" in result.stderr


def test_cluster_role_and_sync_commands(server: Server, added: list[tuple[str, int]]) -> None:
    port = free_port()
    add(server, added, port=port, token="T", check=0, role="standalone")
    role = server.cli("cluster", "role", "127.0.0.1", "write-only", "--port", str(port))
    assert "is write-only" in role.stdout
    sync = server.cli("cluster", "sync", "127.0.0.1", "--port", str(port))
    assert "zone(s) queued for 127.0.0.1" in sync.stdout


# -- reverse trust ----------------------------------------------------------------------------


def trust(
    node: Server, token: str, form: dict[str, str], *, auth: str | None = None
) -> httpx.Response:
    """POST /cgi/trustclustermaster.cgi as cPanel's PublicAPI does (form fields + recurse=0)."""
    return httpx.post(
        f"{node.url}/cgi/trustclustermaster.cgi",
        data={**form, "recurse": "0"},
        headers={"Authorization": auth or f"whm root:{token}"},
        timeout=30,
    )


@pytest.fixture
def trusting(peer: Server) -> Iterator[Server]:
    """`peer`, as the node asked to trust back; the peers it keeps removed afterwards."""
    yield peer
    for listed in peer.ok("gatehouse_list_cluster_peers")["peers"]:
        peer.ok(
            "gatehouse_remove_cluster_peer", params={"host": listed["host"], "port": listed["port"]}
        )


def test_reverse_trust_keeps_the_master_as_a_standalone_peer(
    server: Server, trusting: Server
) -> None:
    # The master (server) made a clustering token of its own and offers it.
    master_token = server.token(acl=["clustering"])
    answer = trust(
        trusting,
        trusting.token(acl=["clustering"]),
        {
            "user": "root", "clustermaster": "127.0.0.1", "pass": master_token,
            "version": "11.130.0.5", "port": str(server.https_port),
        },
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert "has been established" in answer.text
    kept = {p["port"]: p for p in trusting.ok("gatehouse_list_cluster_peers")["peers"]}
    master = kept[server.https_port]
    assert (master["role"], master["origin"], master["verify_tls"]) == ("standalone", "trust", 0)
    assert master_token not in answer.text
    # What was kept works: the master is reachable with it.
    checked = trusting.ok(
        "gatehouse_check_cluster_peer", params={"host": "127.0.0.1", "port": server.https_port}
    )
    assert checked["ok"] == 1, checked


def test_reverse_trust_again_replaces_the_token_and_keeps_one_peer(
    server: Server, trusting: Server
) -> None:
    form = {"user": "root", "clustermaster": "127.0.0.1", "port": str(server.https_port)}
    token = trusting.token(acl=["clustering"])
    for _ in range(2):
        answer = trust(trusting, token, {**form, "pass": server.token(acl=["clustering"])})
        assert "has been established" in answer.text
    listed = trusting.ok("gatehouse_list_cluster_peers")["peers"]
    assert [p["port"] for p in listed] == [server.https_port]


def test_reverse_trust_accepts_an_access_key_with_its_wrapper_and_line_breaks(
    server: Server, trusting: Server
) -> None:
    key = server.token(acl=["clustering"])
    begin, end = "-----BEGIN WHM ACCESS KEY-----", "-----END WHM ACCESS KEY-----"
    wrapped = f"{begin}\r\n{key[:16]}\r\n{key[16:]}\r\n{end}"
    form = {"user": "root", "clustermaster": "127.0.0.1", "pass": wrapped}
    answer = trust(
        trusting, trusting.token(acl=["clustering"]), {**form, "port": str(server.https_port)}
    )
    assert "has been established" in answer.text, answer.text


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({"user": "root", "clustermaster": "no-such-host.invalid", "pass": "X"},
         "Dns Lookup Failed for no-such-host.invalid"),
        ({"user": "", "clustermaster": "127.0.0.1", "pass": "X"}, "Invalid user given"),
        ({"user": "root", "clustermaster": "127.0.0.1", "pass": " \r\n"},
         "Invalid access hash given"),
        ({"user": "root", "clustermaster": "127.0.0.1", "pass": "X", "port": "0"},
         "Invalid port given"),
        ({"user": "root", "clustermaster": "127.0.0.1", "pass": "X", "port": "\u00b2"},
         "Invalid port given"),
        # Nothing that cannot go into the master's Authorization header (it was a 500).
        ({"user": "r\u00fcot", "clustermaster": "127.0.0.1", "pass": "X"}, "Invalid user given"),
        ({"user": "ro\x01ot", "clustermaster": "127.0.0.1", "pass": "X"}, "Invalid user given"),
        ({"user": "root", "clustermaster": "127.0.0.1", "pass": "AB\u00dc"},
         "Invalid access hash given"),
        ({"user": "root", "clustermaster": "127.0.0.1", "pass": "A\u200bB"},
         "Invalid access hash given"),
    ],
)  # fmt: skip
def test_bad_reverse_trust_requests_are_refused_in_cpanels_words(
    trusting: Server, form: dict[str, str], expected: str
) -> None:
    answer = trust(trusting, trusting.token(acl=["clustering"]), form)
    assert answer.status_code == 400
    assert expected in answer.text and "has been established" not in answer.text
    assert trusting.ok("gatehouse_list_cluster_peers")["peers"] == []


def test_reverse_trust_with_a_token_the_master_refuses_stores_nothing(
    server: Server, trusting: Server
) -> None:
    form = {"user": "root", "clustermaster": "127.0.0.1", "pass": "NOTTHEMASTERS" * 2}
    answer = trust(
        trusting, trusting.token(acl=["clustering"]), {**form, "port": str(server.https_port)}
    )
    assert answer.status_code == 400
    assert "The remote server did not accept the access hash." in answer.text
    assert trusting.ok("gatehouse_list_cluster_peers")["peers"] == []


def test_reverse_trust_refuses_the_node_itself(trusting: Server) -> None:
    form = {
        "user": "root", "clustermaster": "127.0.0.1", "pass": "X",
        "port": str(trusting.https_port),
    }  # fmt: skip
    answer = trust(trusting, trusting.token(acl=["clustering"]), form)
    assert answer.status_code == 400
    assert "would create a cyclic trust relationship: 127.0.0.1." in answer.text


def test_reverse_trust_needs_clustering(trusting: Server) -> None:
    answer = trust(trusting, trusting.token(acl=["list-accts"]), {"user": "root"})
    assert answer.status_code == 403
    wrong = trust(trusting, "", {"user": "root"}, auth="whm root:WRONGWRONGWRONG")
    assert wrong.status_code == 401


def test_reverse_trust_is_audited(server: Server, trusting: Server) -> None:
    form = {
        "user": "root", "clustermaster": "127.0.0.1", "pass": server.token(acl=["clustering"]),
        "port": str(server.https_port),
    }  # fmt: skip
    assert "has been established" in trust(trusting, trusting.token(acl=["clustering"]), form).text
    rows = trusting.sql(
        "SELECT actor, detail FROM audit_log WHERE action = 'CLUSTERTRUST' ORDER BY id DESC"
    )
    assert rows[0][0] == "root" and "user root" in rows[0][1]


# -- rotating a peer's token ------------------------------------------------------------------


def test_a_rotated_token_is_checked_then_stored_and_the_old_one_is_gone(
    server: Server, peer: Server, added: list[tuple[str, int]]
) -> None:
    old = peer.token(acl=["clustering"])
    add(server, added, **over_http(peer, old, role="standalone"))
    which = {"host": "127.0.0.1", "port": peer.http_port}
    wrong = server.get(
        "gatehouse_set_cluster_peer_token", params={**which, "token": "NOTATOKEN" * 3}
    )
    assert "HTTP 401" in reason(wrong)
    new = peer.token(acl=["clustering"])
    server.ok("gatehouse_set_cluster_peer_token", params={**which, "token": new})
    checked = server.ok("gatehouse_check_cluster_peer", params=which)
    assert checked["ok"] == 1
    rows = server.sql(
        "SELECT action, detail FROM audit_log WHERE action = 'CLUSTERPEERTOKEN' AND subject = :s",
        s=f"127.0.0.1:{peer.http_port}",
    )
    assert rows and new not in str(rows) and old not in str(rows)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"token": "NEW\u00dc"}, "The API token must be printable ASCII"),
        ({"token": "NEW\u00dc", "check": 0}, "The API token must be printable ASCII"),
        ({"token": "NEW", "user": "\u0430dmin"}, "The peer's user name must be printable ASCII"),
    ],
)
def test_a_token_that_cannot_be_sent_is_refused_and_the_old_one_kept(
    server: Server, added: list[tuple[str, int]], params: dict[str, Any], expected: str
) -> None:
    port = free_port()
    add(server, added, port=port, token="OLD", check=0, role="standalone")
    which = {"host": "127.0.0.1", "port": port}
    stored = "SELECT username, token_ciphertext FROM cluster_peers WHERE port = :p"
    before = server.sql(stored, p=port)
    response = server.get("gatehouse_set_cluster_peer_token", params={**which, **params})
    assert response.status_code == 200, response.text
    assert expected in reason(response)
    assert server.sql(stored, p=port) == before


def test_cluster_token_command_refuses_a_bad_token(
    server: Server, peer: Server, added: list[tuple[str, int]]
) -> None:
    add(server, added, **over_http(peer, peer.token(acl=["clustering"]), role="standalone"))
    result = server.cli(
        "cluster", "token", "127.0.0.1", "--port", str(peer.http_port), "--token-stdin",
        stdin="BAD\n", check=False,
    )  # fmt: skip
    assert result.returncode == 1 and "HTTP 401" in result.stderr
    good = server.cli(
        "cluster", "token", "127.0.0.1", "--port", str(peer.http_port), "--token-stdin",
        stdin=peer.token(acl=["clustering"]) + "\n",
    )  # fmt: skip
    assert "has its new token" in good.stdout
