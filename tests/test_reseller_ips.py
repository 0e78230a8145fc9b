"""getresellerips, setresellerips and setresellermainip (cPanel's Whostmgr::Resellers::Ips):
a reseller's pool of addresses, from which createacct ip=y dedicates one, and its main shared
address, which the other accounts it owns get (createacct, get_shared_ip, the zone's A records,
listips' `dedicated`). On second nodes whose GATEHOUSE_IPS hold three addresses; WHM API 1 and
API 0, success and refusal."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import Server
from lifecycle_helpers import audit_rows
from whm_helpers import api0, compact, limited_reseller, new_name, sibling_node

MAIN = "127.0.0.1"  # the node's main address (it listens there)
SPARE = "192.0.2.91"
OTHER = "192.0.2.92"
EVERY = [MAIN, SPARE, OTHER]


def meta(function: str, reason: str = "OK", result: int = 1) -> dict[str, Any]:
    return {"command": function, "reason": reason, "result": result, "version": 1}


@pytest.fixture(scope="module")
def node(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir: Path = tmp_path_factory.mktemp("reseller-ips-node")
    with sibling_node(server, data_dir, {"GATEHOUSE_IPS": f"{MAIN}, {SPARE}, {OTHER}"}) as started:
        yield started


def reseller(node: Server) -> str:
    name, _ = node.account(reseller=True)
    return name


def zone_a_records(node: Server, domain: str) -> list[str]:
    """The addresses of the zone's A records, but `localhost`'s (127.0.0.1, as cPanel's)."""
    records = node.ok("dumpzone", params={"domain": domain})["zone"][0]["record"]
    return sorted(
        {
            r["address"]
            for r in records
            if r.get("type") == "A" and not r["name"].startswith("localhost.")
        }
    )


# -- getresellerips / setresellerips ----------------------------------------------------------


def test_a_reseller_without_delegation_has_every_address(node: Server) -> None:
    name = reseller(node)
    response = node.get("getresellerips", params={"user": name})
    assert response.content == compact(
        {"data": {"all": 1, "ip": EVERY}, "metadata": meta("getresellerips")}
    )


def test_root_has_every_address(node: Server) -> None:
    assert node.ok("getresellerips", params={"user": "root"}) == {"all": 1, "ip": EVERY}


def test_setresellerips_delegates_and_answers_as_getresellerips(node: Server) -> None:
    name = reseller(node)
    response = node.get("setresellerips", params={"user": name, "ips": f"{OTHER},{SPARE}"})
    assert response.content == compact(
        {"data": {"ip": [OTHER, SPARE]}, "metadata": meta("setresellerips")}
    )
    assert node.ok("getresellerips", params={"user": name}) == {"ip": [OTHER, SPARE]}
    [row] = audit_rows(node, "SETRESELLERIPS", name)
    assert row["detail"] == f"{OTHER}, {SPARE}"


@pytest.mark.parametrize(
    ("ips", "pool"),
    [
        (f"{SPARE},", [SPARE]),  # xmlapi-php's trailing comma
        (f" {SPARE} , {SPARE},{MAIN}", [SPARE, MAIN]),  # blanks and repeats
        ("", []),  # delegate=1 without addresses: an empty pool
        (None, []),
    ],
)
def test_setresellerips_reads_the_list(node: Server, ips: str | None, pool: list[str]) -> None:
    name = reseller(node)
    params = {"user": name} | ({} if ips is None else {"ips": ips})
    assert node.ok("setresellerips", params=params) == {"ip": pool}


def test_delegate_0_gives_every_address_back(node: Server) -> None:
    name = reseller(node)
    node.ok("setresellerips", params={"user": name, "ips": SPARE})
    data = node.ok("setresellerips", params={"user": name, "delegate": "0", "ips": OTHER})
    assert data == {"all": 1, "ip": EVERY}


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({}, "set_reseller_ips requires a user to set the ips for."),
        ({"user": "nosuchuser9"}, "The specified user (nosuchuser9) is not a reseller."),
        ({"user": "@PLAIN@"}, "The specified user (@PLAIN@) is not a reseller."),
        ({"user": "root", "ips": MAIN}, "The specified user (root) is not a reseller."),
        (
            {"user": "@R@", "ips": f"{SPARE},198.51.100.1"},
            "The list of supplied IP addresses contains inappropriate values.",
        ),
        (
            {"user": "@R@", "ips": "not-an-ip"},
            "The list of supplied IP addresses contains inappropriate values.",
        ),
        ({"user": "@R@", "delegate": "yes"}, "The “delegate” parameter must be 1 or 0, not “yes”."),
    ],
)
def test_setresellerips_refused(node: Server, params: dict[str, str], reason: str) -> None:
    name = reseller(node)
    plain, _ = node.account()
    params = {k: v.replace("@R@", name).replace("@PLAIN@", plain) for k, v in params.items()}
    assert node.fail("setresellerips", params=params) == reason.replace("@PLAIN@", plain)
    assert node.ok("getresellerips", params={"user": name}) == {"all": 1, "ip": EVERY}


@pytest.mark.parametrize(
    ("user", "reason"),
    [
        ("nosuchuser9", "You do not have a user named “nosuchuser9”."),
        ("@PLAIN@", "Specified user is not a reseller."),
        ("", "Missing parameter: user"),
    ],
)
def test_getresellerips_refused(node: Server, user: str, reason: str) -> None:
    plain, _ = node.account()
    assert node.fail("getresellerips", params={"user": user.replace("@PLAIN@", plain)}) == reason


# -- setresellermainip ------------------------------------------------------------------------


def test_setresellermainip_answers_without_data(node: Server) -> None:
    name = reseller(node)
    response = node.get("setresellermainip", params={"user": name, "ip": SPARE})
    assert response.content == compact({"metadata": meta("setresellermainip")})
    [row] = audit_rows(node, "SETRESELLERMAINIP", name)
    assert row["detail"] == SPARE


def test_the_resellers_accounts_get_its_main_address(node: Server) -> None:
    name, token = limited_reseller(node, ["create-acct", "list-accts"])
    node.ok("setresellermainip", params={"user": name, "ip": SPARE})
    assert node.ok("get_shared_ip", params={"user": name}) == {"ip": SPARE}
    assert node.ok("get_shared_ip", user=name, token=token) == {"ip": SPARE}
    # Created by the reseller, and by root for the reseller.
    for caller, token_used, owner in ((name, token, None), ("root", None, name)):
        username = new_name()
        domain = f"{username}.example.com"
        params = {"username": username, "domain": domain, "password": "Reseller-Ips-9xQ!"}
        if owner:
            params["owner"] = owner
        created = node.ok("createacct", user=caller, token=token_used, params=params)
        assert created["ip"] == SPARE
        [entry] = node.ok("listaccts", params={"search": username, "searchtype": "user"})["acct"]
        assert entry["ip"] == SPARE
        assert zone_a_records(node, domain) == [SPARE]


def test_root_and_other_resellers_keep_the_servers_main_address(node: Server) -> None:
    name = reseller(node)
    node.ok("setresellermainip", params={"user": name, "ip": OTHER})
    other = reseller(node)
    assert node.ok("get_shared_ip", params={"user": other}) == {"ip": MAIN}
    assert node.ok("get_shared_ip") == {"ip": MAIN}
    username, _ = node.account(owner=other)
    [entry] = node.ok("listaccts", params={"search": username, "searchtype": "user"})["acct"]
    assert entry["ip"] == MAIN


def test_the_servers_main_address_resets_it(node: Server) -> None:
    name = reseller(node)
    node.ok("setresellermainip", params={"user": name, "ip": SPARE})
    node.ok("setresellermainip", params={"user": name, "ip": MAIN})
    assert node.ok("get_shared_ip", params={"user": name}) == {"ip": MAIN}


def test_a_resellers_main_address_is_shared_not_dedicated(node: Server) -> None:
    name = reseller(node)
    node.ok("setresellermainip", params={"user": name, "ip": OTHER})
    node.account(owner=name)
    entry = {e["ip"]: e for e in node.ok("listips")["ip"]}[OTHER]
    assert (entry["used"], entry["dedicated"]) == (1, 0)


def test_unsetupreseller_forgets_the_addresses(node: Server) -> None:
    name = reseller(node)
    node.ok("setresellermainip", params={"user": name, "ip": SPARE})
    node.ok("setresellerips", params={"user": name, "ips": SPARE})
    node.ok("unsetupreseller", params={"user": name})
    node.ok("setupreseller", params={"user": name})
    assert node.ok("getresellerips", params={"user": name}) == {"all": 1, "ip": EVERY}
    assert node.ok("get_shared_ip", params={"user": name}) == {"ip": MAIN}


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"ip": SPARE}, "Account does not exist."),
        ({"user": "nosuchuser9", "ip": SPARE}, "Account does not exist."),
        ({"user": "root", "ip": SPARE}, "Account does not exist."),
        ({"user": "@PLAIN@", "ip": SPARE}, "Not a reseller."),
        ({"user": "@R@"}, "Supplied IP address is invalid."),
        ({"user": "@R@", "ip": "198.51.100.1"}, "Supplied IP address is invalid."),
        ({"user": "@R@", "ip": "nonsense"}, "Supplied IP address is invalid."),
    ],
)
def test_setresellermainip_refused(node: Server, params: dict[str, str], reason: str) -> None:
    name = reseller(node)
    plain, _ = node.account()
    params = {k: v.replace("@R@", name).replace("@PLAIN@", plain) for k, v in params.items()}
    assert node.fail("setresellermainip", params=params) == reason
    assert node.ok("get_shared_ip", params={"user": name}) == {"ip": MAIN}


@pytest.mark.parametrize(
    ("function", "params"),
    [
        ("getresellerips", {"user": "@R@"}),
        ("setresellerips", {"user": "@R@", "ips": SPARE}),
        ("setresellermainip", {"user": "@R@", "ip": SPARE}),
    ],
)
def test_root_only(node: Server, function: str, params: dict[str, str]) -> None:
    """A reseller may not call them, not even about itself."""
    name, token = node.reseller()
    params = {k: v.replace("@R@", name) for k, v in params.items()}
    response = node.get(function, user=name, token=token, params=params)
    assert response.status_code == 403
    assert "Access denied" in response.json()["metadata"]["reason"]
    assert node.ok("getresellerips", params={"user": name}) == {"all": 1, "ip": EVERY}
    assert node.ok("get_shared_ip", params={"user": name}) == {"ip": MAIN}


# -- WHM API 0 --------------------------------------------------------------------------------


def test_api0_getresellerips(node: Server) -> None:
    name = reseller(node)
    assert api0(node, "getresellerips", {"user": name}).content == compact(
        {"all": 1, "ip": EVERY, "result": [{"status": 1, "statusmsg": "OK"}]}
    )
    node.ok("setresellerips", params={"user": name, "ips": SPARE})
    assert api0(node, "getresellerips", {"user": name}).content == compact(
        {"ip": [SPARE], "result": [{"status": 1, "statusmsg": "OK"}]}
    )


@pytest.mark.parametrize("user", ["nosuchuser9", "@PLAIN@"])
def test_api0_getresellerips_refused(node: Server, user: str) -> None:
    plain, _ = node.account()
    response = api0(node, "getresellerips", {"user": user.replace("@PLAIN@", plain)})
    assert response.content == compact(
        {"result": [{"status": 0, "statusmsg": "Specified user is not a reseller."}]}
    )


def test_api0_setresellerips(node: Server) -> None:
    name = reseller(node)
    response = api0(node, "setresellerips", {"user": name, "ips": OTHER})
    assert response.content == compact(
        {
            "result": [
                {
                    "status": 1,
                    "statusmsg": "Successfully configured IP addresses delegation to reseller.",
                }
            ]
        }
    )
    refused = api0(node, "setresellerips", {"user": name, "ips": "198.51.100.1"})
    assert refused.content == compact(
        {
            "result": [
                {
                    "status": 0,
                    "statusmsg": "The list of supplied IP addresses contains inappropriate values.",
                }
            ]
        }
    )
    assert node.ok("getresellerips", params={"user": name}) == {"ip": [OTHER]}


def test_api0_setresellermainip(node: Server) -> None:
    name = reseller(node)
    response = api0(node, "setresellermainip", {"user": name, "ip": OTHER})
    message = "Successfully set main IP address of the reseller."
    assert response.content == compact({"result": [{"status": 1, "statusmsg": message}]})
    assert node.ok("get_shared_ip", params={"user": name}) == {"ip": OTHER}


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"user": "nosuchuser9", "ip": SPARE}, "Specified user is not a reseller."),
        ({"user": "@PLAIN@", "ip": SPARE}, "Specified user is not a reseller."),
        ({"user": "@R@", "ip": "198.51.100.1"}, "Supplied IP address is invalid."),
    ],
)
def test_api0_setresellermainip_refused(node: Server, params: dict[str, str], reason: str) -> None:
    name = reseller(node)
    plain, _ = node.account()
    params = {k: v.replace("@R@", name).replace("@PLAIN@", plain) for k, v in params.items()}
    assert api0(node, "setresellermainip", params).content == compact(
        {"result": [{"status": 0, "statusmsg": reason}]}
    )


# -- dedicated addresses: createacct ip=y -----------------------------------------------------

D1, D2 = "198.51.100.11", "198.51.100.12"  # this section's node only: no other test uses them
NO_FREE_IP = "There are no IP addresses on this system that are available to assign to the account."


@pytest.fixture(scope="module")
def pool_node(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir: Path = tmp_path_factory.mktemp("reseller-pool-node")
    with sibling_node(server, data_dir, {"GATEHOUSE_IPS": f"{MAIN}, {D1}, {D2}"}) as started:
        yield started


@contextlib.contextmanager
def removed_afterwards(node: Server) -> Iterator[list[str]]:
    """Accounts to remove at the end, so the next test finds the addresses free again."""
    made: list[str] = []
    try:
        yield made
    finally:
        for username in made:
            node.ok("removeacct", params={"username": username})


def dedicated(
    node: Server, made: list[str], *, user: str = "root", token: str | None = None, **extra: str
) -> Any:
    """createacct with ip=y; the response."""
    username = new_name()
    params = {
        "username": username,
        "domain": f"{username}.example.com",
        "password": "Reseller-Ips-9xQ!",
        "ip": "y",
        **extra,
    }
    response = node.get("createacct", user=user, token=token, params=params)
    if response.json()["metadata"]["result"] == 1:
        made.append(username)
    return response


def test_ip_y_dedicates_the_first_free_address(pool_node: Server) -> None:
    with removed_afterwards(pool_node) as made:
        first = dedicated(pool_node, made).json()["data"]["ip"]
        assert first == D1
        username = made[0]
        assert zone_a_records(pool_node, f"{username}.example.com") == [D1]
        entry = {e["ip"]: e for e in pool_node.ok("listips")["ip"]}[D1]
        assert (entry["used"], entry["dedicated"]) == (1, 1)
        assert dedicated(pool_node, made).json()["data"]["ip"] == D2
        refused = dedicated(pool_node, made).json()["metadata"]
        assert (refused["result"], refused["reason"]) == (0, NO_FREE_IP)
        assert len(made) == 2  # the refused account was not created


def test_a_package_with_a_dedicated_ip_dedicates_one(pool_node: Server) -> None:
    pkg = pool_node.ok("addpkg", params={"name": new_name("p"), "ip": "y"})["pkg"]
    with removed_afterwards(pool_node) as made:
        response = dedicated(pool_node, made, plan=pkg, ip="")
        assert response.json()["data"]["ip"] == D1


def test_ip_y_takes_from_the_resellers_pool(pool_node: Server) -> None:
    name, token = limited_reseller(pool_node, ["create-acct", "add-pkg-ip"])
    pool_node.ok("setresellerips", params={"user": name, "ips": D2})
    with removed_afterwards(pool_node) as made:
        assert dedicated(pool_node, made, user=name, token=token).json()["data"]["ip"] == D2
        # Root creating one for the reseller draws on the reseller's pool too.
        refused = dedicated(pool_node, made, owner=name).json()["metadata"]["reason"]
        assert refused == NO_FREE_IP
    pool_node.ok("setresellerips", params={"user": name, "ips": ""})
    with removed_afterwards(pool_node) as made:
        refused = dedicated(pool_node, made, user=name, token=token).json()["metadata"]
        assert (refused["result"], refused["reason"]) == (0, NO_FREE_IP)


def test_a_resellers_main_address_is_never_dedicated(pool_node: Server) -> None:
    name = reseller(pool_node)
    pool_node.ok("setresellermainip", params={"user": name, "ip": D1})
    try:
        with removed_afterwards(pool_node) as made:
            assert dedicated(pool_node, made).json()["data"]["ip"] == D2
    finally:
        pool_node.ok("removeacct", params={"username": name})


def test_ip_y_without_an_address_to_spare(server: Server) -> None:
    """The harness's server has one address, its main one: nothing to dedicate."""
    with removed_afterwards(server) as made:
        refused = dedicated(server, made).json()["metadata"]
        assert (refused["result"], refused["reason"]) == (0, NO_FREE_IP)
        assert made == []
