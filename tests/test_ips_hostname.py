"""listips, setsiteip, gethostname and get_nameserver_config, in WHM API 1 and (where cPanel's
billing clients call them so) WHM API 0: the server's addresses and host name come from
GATEHOUSE_IPS / GATEHOUSE_HOSTNAME (a second node on the same store sets them), an account
moves only to one of them and its zone's address records follow. Success and refusal, pinned
to bytes."""

from __future__ import annotations

import os
import re
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import Server
from gatehouse.passwords import generate_password
from whm_helpers import api0, compact, sibling_node

MAIN = "127.0.0.1"  # the address accounts get on the harness's server (it binds 127.0.0.1)
SPARE = "192.0.2.77"
OTHER = "192.0.2.78"


@pytest.fixture(scope="module")
def node(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A second `gatehouse serve` on the same store, with the server settings set."""
    data_dir: Path = tmp_path_factory.mktemp("ips-node")
    env = {
        "GATEHOUSE_IPS": f"{MAIN}/8, {SPARE},{OTHER}/24",
        "GATEHOUSE_HOSTNAME": "Host.Example.TEST.",
    }
    with sibling_node(server, data_dir, env) as started:
        yield started


def addresses(node: Server) -> dict[str, dict[str, Any]]:
    return {entry["ip"]: entry for entry in node.ok("listips")["ip"]}


def zone_addresses(server: Server, domain: str) -> list[str]:
    records = server.ok("dumpzone", params={"domain": domain})["zone"][0]["record"]
    return sorted(r["address"] for r in records if r.get("type") == "A")


# -- gethostname ------------------------------------------------------------------------------


def test_gethostname_is_the_setting(node: Server) -> None:
    response = node.get("gethostname")
    assert response.content == compact(
        {
            "data": {"hostname": "host.example.test"},
            "metadata": {"command": "gethostname", "reason": "OK", "result": 1, "version": 1},
        }
    )
    assert api0(node, "gethostname").content == b'{"hostname":"host.example.test"}'


def test_gethostname_defaults_to_the_machines_name(server: Server) -> None:
    expected = (socket.getfqdn() or socket.gethostname()).lower().rstrip(".")
    assert server.ok("gethostname") == {"hostname": expected}


def test_gethostname_privileges(server: Server) -> None:
    reseller, token = server.reseller(privileges=["list-accts"])
    response = server.get("gethostname", user=reseller, token=token)
    assert response.status_code == 403
    reason = (
        "Access denied: calling “gethostname” requires the “basic-system-info” or "
        "“clustering” privileges."
    )
    assert response.json()["metadata"]["reason"] == reason
    refused = api0(server, "gethostname", user=reseller, token=token)
    assert refused.status_code == 403
    assert refused.content == compact({"hostname": None, "status": 0, "statusmsg": reason})
    allowed, token2 = server.reseller(privileges=["basic-system-info"])
    assert server.ok("gethostname", user=allowed, token=token2)["hostname"]


def test_systemloadavg_answers_the_machines_load_as_two_decimal_strings(server: Server) -> None:
    before = os.getloadavg()
    data = server.ok("systemloadavg")
    after = os.getloadavg()
    assert sorted(data) == ["fifteen", "five", "one"]
    for key, low, high in zip(("one", "five", "fifteen"), before, after, strict=True):
        assert re.fullmatch(r"\d+\.\d\d", data[key]), data
        assert min(low, high) - 0.01 <= float(data[key]) <= max(low, high) + 0.01


def test_systemloadavg_and_get_maximum_users_answer_any_whm_user(server: Server) -> None:
    reseller, token = server.reseller(privileges=["list-accts"])
    assert server.ok("systemloadavg", user=reseller, token=token)["one"]
    assert server.ok("get_maximum_users", user=reseller, token=token) == {"maximum_users": 0}


def test_whmcs_remote_metadata_batch(server: Server) -> None:
    # WHMCS's GetRemoteMetaData, as it sends it (each command's api.version URL-encoded).
    commands = ["version%3Fapi.version%3D1", "systemloadavg%3Fapi.version%3D1",
                "get_maximum_users%3Fapi.version%3D1"]  # fmt: skip
    body = "api.version=1&" + "&".join(f"command={c}" for c in commands)
    response = httpx.post(
        f"{server.url}/json-api/batch",
        content=body,
        headers={"Authorization": f"WHM root:{server.root_token}"},
        timeout=30,
    )
    answer = response.json()
    assert answer["metadata"]["result"] == 1
    by_command = {r["metadata"]["command"]: r["data"] for r in answer["data"]["result"]}
    assert by_command["get_maximum_users"] == {"maximum_users": 0}
    assert sorted(by_command["systemloadavg"]) == ["fifteen", "five", "one"]
    assert by_command["version"]["version"]


# -- get_shared_ip ----------------------------------------------------------------------------


def test_get_shared_ip_is_the_main_address(node: Server) -> None:
    response = node.get("get_shared_ip")
    assert response.content == compact(
        {
            "data": {"ip": MAIN},
            "metadata": {"command": "get_shared_ip", "reason": "OK", "result": 1, "version": 1},
        }
    )


def test_get_shared_ip_for_another_creator(node: Server) -> None:
    reseller, token = node.reseller(privileges=["list-accts"])
    assert node.ok("get_shared_ip", params={"user": reseller}) == {"ip": MAIN}
    # A reseller is answered for itself, whatever user it names.
    assert node.ok("get_shared_ip", token=token, user=reseller, params={"user": "x"}) == {
        "ip": MAIN
    }


def test_get_shared_ip_of_nobody_is_refused(node: Server) -> None:
    reason = node.fail("get_shared_ip", params={"user": "nosuchuser9"})
    assert reason == "You do not have a user named “nosuchuser9”."


# -- listips ----------------------------------------------------------------------------------


def test_listips_lists_the_configured_addresses(node: Server) -> None:
    server_addresses = node.ok("listips")["ip"]
    assert [a["ip"] for a in server_addresses] == [MAIN, SPARE, OTHER]
    main, spare, other = server_addresses
    # The harness's accounts are on the main address.
    assert main == {
        "active": 1,
        "dedicated": 0,
        "if": "",
        "ip": MAIN,
        "mainaddr": 1,
        "netmask": "255.0.0.0",
        "network": "127.0.0.0",
        "public_ip": MAIN,
        "removable": 0,
        "used": 1,
    }
    assert spare["netmask"] == "255.255.255.255" and spare["network"] == SPARE
    assert other["netmask"] == "255.255.255.0" and other["network"] == "192.0.2.0"
    assert other["mainaddr"] == 0 and other["public_ip"] == OTHER


def test_listips_api0_is_the_recorded_shape(node: Server) -> None:
    response = api0(node, "listips")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"result"}
    assert body["result"][0] == {
        "active": 1,
        "dedicated": 0,
        "if": "",
        "ip": MAIN,
        "mainaddr": 1,
        "netmask": "255.0.0.0",
        "network": "127.0.0.0",
        "removable": 0,
        "used": 1,
    }


def test_listips_default_is_the_accounts_address(server: Server) -> None:
    [only] = server.ok("listips")["ip"]
    assert only["ip"] == MAIN and only["mainaddr"] == 1
    assert only["netmask"] == "255.255.255.255"


def test_listips_is_root_only(server: Server) -> None:
    reseller, token = server.reseller(privileges=["list-accts", "basic-system-info"])
    assert server.get("listips", user=reseller, token=token).status_code == 403
    refused = api0(server, "listips", user=reseller, token=token)
    assert refused.status_code == 403
    assert refused.content == compact(
        {
            "result": None,
            "status": 0,
            "statusmsg": "Access denied: calling “listips” requires the “all” privilege.",
        }
    )


# -- setsiteip --------------------------------------------------------------------------------


def test_setsiteip_moves_the_account_and_its_records(server: Server, node: Server) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    before = zone_addresses(server, domain)
    assert before and set(before) == {MAIN}
    response = node.get("setsiteip", params={"user": user, "ip": SPARE})
    assert response.status_code == 200
    body = response.json()
    assert body["metadata"]["result"] == 1 and body["metadata"]["reason"] == "OK"
    assert f"{user}: {MAIN} -> {SPARE}" in body["metadata"]["output"]["raw"]
    assert "data" not in body
    assert server.ok("accountsummary", params={"user": user})["acct"][0]["ip"] == SPARE
    assert zone_addresses(server, domain) == [SPARE] * len(before)
    spare = addresses(node)[SPARE]
    assert (spare["used"], spare["dedicated"], spare["removable"]) == (1, 1, 0)
    # API 0, by domain, back to the main address.
    back = api0(node, "setsiteip", {"domain": domain, "ip": MAIN})
    assert back.status_code == 200
    assert back.content == b'{"result":[{"status":1,"statusmsg":"OK"}]}'
    assert server.ok("accountsummary", params={"user": user})["acct"][0]["ip"] == MAIN
    assert set(zone_addresses(server, domain)) == {MAIN}


def test_setsiteip_finds_the_account_by_a_parked_domain(server: Server, node: Server) -> None:
    # getdomainowner's lookup: any of the account's domains, its parked domains too; the
    # parked domain's zone is the account's, so its records move with the others.
    user, _ = server.account()
    parked = f"p{uuid.uuid4().hex[:8]}.example.net"
    server.ok("create_parked_domain_for_user", params={
        "username": user, "domain": parked, "web_vhost_domain": f"{user}.example.com"})  # fmt: skip
    assert node.ok("setsiteip", params={"domain": parked, "ip": SPARE}) is None
    assert server.ok("accountsummary", params={"user": user})["acct"][0]["ip"] == SPARE
    assert set(zone_addresses(server, parked)) == {SPARE}


@pytest.mark.parametrize(
    "domain_of",
    [
        "other",  # another account's main domain
        "nowhere",  # no account's
    ],
)
def test_setsiteip_user_and_a_domain_it_does_not_own(
    server: Server, node: Server, domain_of: str
) -> None:
    # Whostmgr/API/1/Accounts.pm setsiteip: the domain's owner must be `user`.
    user, _ = server.account()
    other, _ = server.account()
    domain = f"{other}.example.com" if domain_of == "other" else "nowhere.example.invalid"
    params = {"user": user, "domain": domain, "ip": SPARE}
    assert node.fail("setsiteip", params=params) == "User does not own the domain provided."
    refused = api0(node, "setsiteip", params)
    assert refused.content == compact(
        {"result": [{"status": 0, "statusmsg": "User does not own the domain provided."}]}
    )
    for name in (user, other):
        assert server.ok("accountsummary", params={"user": name})["acct"][0]["ip"] == MAIN


def test_setsiteip_user_and_its_own_domain(server: Server, node: Server) -> None:
    user, _ = server.account()
    node.ok("setsiteip", params={"user": user, "domain": f"{user}.example.com", "ip": SPARE})
    assert server.ok("accountsummary", params={"user": user})["acct"][0]["ip"] == SPARE
    node.ok("setsiteip", params={"user": user, "domain": f"{user}.EXAMPLE.com.", "ip": MAIN})
    assert server.ok("accountsummary", params={"user": user})["acct"][0]["ip"] == MAIN


def test_setsiteip_refusals(server: Server, node: Server) -> None:
    user, _ = server.account()
    # API 0's recorded refusal when no account is named.
    neither = api0(node, "setsiteip", {"ip": SPARE})
    assert neither.content == b'{"result":[{"status":0,"statusmsg":"Cannot determine username"}]}'
    assert node.fail("setsiteip", params={"ip": SPARE, "domain": "nowhere.example.invalid"}) == (
        "Cannot determine username"
    )
    assert node.fail("setsiteip", params={"user": user, "ip": "203.0.113.9"}) == (
        "The IP address “203.0.113.9” is not one of this server's addresses (see listips)."
    )
    assert node.fail("setsiteip", params={"user": user, "ip": "not-an-ip"}) == (
        "“not-an-ip” is not a valid IP address."
    )
    assert node.fail("setsiteip", params={"user": "nosuchuser1", "ip": SPARE}) == (
        "You do not have a user named “nosuchuser1”."
    )
    missing = api0(node, "setsiteip", {"user": user})
    assert missing.content == b'{"result":[{"status":0,"statusmsg":"Missing parameter: ip"}]}'
    reseller, token = server.reseller(privileges=["list-accts"])
    refused = api0(node, "setsiteip", {"user": user, "ip": SPARE}, user=reseller, token=token)
    assert refused.status_code == 403
    [item] = refused.json()["result"]
    assert item == {
        "status": 0,
        "statusmsg": "Access denied: calling “setsiteip” requires the “all” privilege.",
    }
    # Nothing moved.
    assert server.ok("accountsummary", params={"user": user})["acct"][0]["ip"] == MAIN


# -- get_nameserver_config --------------------------------------------------------------------


def test_get_nameserver_config(server: Server) -> None:
    host = (socket.getfqdn() or socket.gethostname()).lower().rstrip(".")
    response = server.get("get_nameserver_config")
    assert response.content == compact(
        {
            "data": {"nameservers": [f"ns1.{host}", f"ns2.{host}"]},
            "metadata": {
                "command": "get_nameserver_config",
                "reason": "OK",
                "result": 1,
                "version": 1,
            },
        }
    )
    reseller, token = server.reseller(privileges=["list-accts"])
    # A reseller without its own nameservers gets the server's; with them, its own.
    assert server.ok("get_nameserver_config", user=reseller, token=token) == {
        "nameservers": [f"ns1.{host}", f"ns2.{host}"]
    }
    server.ok(
        "setresellernameservers",
        params={"user": reseller, "nameservers": "ns1.reseller.example,ns2.reseller.example"},
    )
    assert server.ok("get_nameserver_config", user=reseller, token=token) == {
        "nameservers": ["ns1.reseller.example", "ns2.reseller.example"]
    }


@pytest.fixture(scope="module")
def spare_first(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A node whose GATEHOUSE_IPS names another address than the one it listens on first."""
    data_dir: Path = tmp_path_factory.mktemp("ips-spare-first")
    with sibling_node(server, data_dir, {"GATEHOUSE_IPS": f"{SPARE}, {MAIN}"}) as started:
        yield started


def test_createacct_gives_the_first_configured_address(spare_first: Server) -> None:
    user = "ipf" + uuid.uuid4().hex[:8]
    domain = f"{user}.example.com"
    password = spare_first.remember(generate_password())
    data = spare_first.ok(
        "createacct", params={"username": user, "domain": domain, "password": password}
    )
    assert data["ip"] == SPARE
    assert spare_first.ok("accountsummary", params={"user": user})["acct"][0]["ip"] == SPARE
    records = spare_first.ok("dumpzone", params={"domain": domain})["zone"][0]["record"]
    served = {
        r["address"]
        for r in records
        if r.get("type") == "A" and r["name"] != f"localhost.{domain}."
    }
    assert served == {SPARE}
    main = [e for e in spare_first.ok("listips")["ip"] if e["mainaddr"]]
    assert [e["ip"] for e in main] == [SPARE]
