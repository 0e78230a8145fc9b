"""cPHulk (issue 18 §3): failures counted per address and per username in the store, blocks,
the white and black lists, WHM API 1's cPHulk functions. The tests run against a node behind a
trusted proxy on 127.0.0.1 and come through it as remote addresses of their own; requests of
local origin (loopback, the server's own addresses), which cPHulk never counts toward an
address's block nor looks up in its lists, reach it from loopback (hulk_helpers)."""

from __future__ import annotations

import base64
import concurrent.futures
import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from conftest import Server
from hulk_helpers import client_as, counted_node, loopback_address
from hulk_helpers import remote_address as fresh_address

OWN_ADDRESS = "198.51.100.77"  # one of the node's own addresses (GATEHOUSE_IPS)


@pytest.fixture(scope="module")
def server(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """This module's node: behind a trusted proxy, with an address of its own beside the
    loopback one it listens on."""
    env = {"GATEHOUSE_IPS": f"127.0.0.1,{OWN_ADDRESS}"}
    with counted_node(server, tmp_path_factory, "cphulk", env) as node:
        yield node


def whm(server: Server, address: str, auth: str, function: str = "version") -> httpx.Response:
    with client_as(address) as c:
        return c.get(
            f"{server.url}/json-api/{function}",
            params={"api.version": "1"},
            headers={"Authorization": auth},
        )


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def wrong_token(user: str = "root") -> str:
    return f"whm {user}:{secrets.token_hex(16).upper()}"


def audit_reasons(server: Server, address: str) -> list[str]:
    rows = server.sql(
        "SELECT reason, repeats FROM audit_log WHERE source_ip = :a ORDER BY id", a=address
    )
    return [r[0] for r in rows for _ in range(r[1])]


@pytest.fixture
def settings(server: Server) -> Iterator[Any]:
    """Change cPHulk settings for one test; the defaults come back after it."""

    def change(**values: int) -> None:
        for key, value in values.items():
            server.ok("set_cphulk_config_key", params={"key": key, "value": str(value)})

    yield change
    server.sql("DELETE FROM cphulk_settings")


# -- addresses ---------------------------------------------------------------------------


def test_an_address_is_blocked_after_max_failures_byip_wrong_tokens(server: Server) -> None:
    address = fresh_address()
    for _ in range(5):
        assert whm(server, address, wrong_token()).status_code == 401
    # Now even root's own token is refused from there, exactly as a wrong one is.
    blocked = whm(server, address, f"whm root:{server.root_token}")
    wrong = whm(server, fresh_address(), wrong_token())
    assert blocked.status_code == 401
    assert blocked.content == wrong.content
    assert blocked.headers.get_list("www-authenticate") == wrong.headers.get_list(
        "www-authenticate"
    )


def test_a_blocked_address_does_not_stop_the_same_token_elsewhere(server: Server) -> None:
    attacker = fresh_address()
    for _ in range(6):
        whm(server, attacker, wrong_token())
    assert whm(server, fresh_address(), f"whm root:{server.root_token}").status_code == 200


def test_fewer_failures_than_the_limit_block_nothing(server: Server) -> None:
    address = fresh_address()
    for _ in range(4):
        whm(server, address, wrong_token())
    assert whm(server, address, f"whm root:{server.root_token}").status_code == 200


def test_a_block_is_audited_once_and_its_refusals_once_per_process(server: Server) -> None:
    address = fresh_address()
    for _ in range(5):
        whm(server, address, wrong_token())
    for _ in range(10):
        whm(server, address, wrong_token())
    assert audit_reasons(server, address) == ["token_not_found"] * 5 + [
        "brute_force_ip",
        "ip_blocked",
    ]


def test_refusals_of_a_valid_credential_are_not_counted(server: Server) -> None:
    address = fresh_address()
    name, password = server.account()
    for _ in range(8):  # a suspended-user style refusal: cPanel token on WHM is 403, not counted
        token = server.cpanel_token(name, password)
        response = whm(server, address, f"cpanel {name}:{token}")
        assert response.status_code == 403
    assert whm(server, address, f"whm root:{server.root_token}").status_code == 200


def test_wrong_cpanel_tokens_count_on_the_cpanel_face(server: Server) -> None:
    address = fresh_address()
    name, _password = server.account()
    with client_as(address) as c:
        for _ in range(5):
            c.get(
                f"{server.cpanel_url}/execute/DNS/parse_zone",
                headers={"Authorization": f"cpanel {name}:{secrets.token_hex(16).upper()}"},
            )
    assert whm(server, address, f"whm root:{server.root_token}").status_code == 401
    rows = server.sql(
        "SELECT service, authservice FROM login_attempts WHERE address = :a", a=address
    )
    assert set(rows) == {("cpaneld", "token")}


# -- passwords ---------------------------------------------------------------------------


def test_concurrent_wrong_passwords_get_exactly_the_limit_of_checks(server: Server) -> None:
    address = fresh_address()
    name, _password = server.account(reseller=True)
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        statuses = list(
            pool.map(lambda _i: whm(server, address, basic(name, "wrong")).status_code, range(32))
        )
    assert statuses == [401] * 32
    reasons = audit_reasons(server, address)
    assert reasons.count("bad_password") == 5
    assert reasons.count("brute_force_limit") + reasons.count("ip_blocked") >= 1
    assert len([r for r in reasons if r in ("bad_password",)]) == 5


def test_a_username_is_locked_for_passwords_but_its_token_works(
    server: Server, settings: Any
) -> None:
    settings(max_failures=3)
    name, password = server.account(reseller=True)
    token = server.token(user=name, via=server._password_token(name, password))
    for _ in range(3):  # a storm spread over addresses: no address reaches its own limit
        assert whm(server, fresh_address(), basic(name, "wrong")).status_code == 401
    # The right password is refused from anywhere not trusted...
    assert whm(server, fresh_address(), basic(name, password)).status_code == 401
    # ...but the billing system's token keeps working.
    assert whm(server, fresh_address(), f"whm {name}:{token}").status_code == 200
    brutes = server.ok("get_cphulk_user_brutes")["user_brutes"]
    assert name in [b["user"] for b in brutes]


def test_root_is_not_locked_by_username_unless_configured(server: Server, settings: Any) -> None:
    settings(max_failures=2)
    for _ in range(3):
        whm(server, fresh_address(), basic("root", "wrong"))
    assert whm(server, fresh_address(), basic("root", server.root_password)).status_code == 200


def test_the_login_page_is_contained_too(server: Server) -> None:
    address = fresh_address()
    name, password = server.account(reseller=True)

    def log_in(c: httpx.Client, secret: str) -> httpx.Response:
        form = c.get(f"{server.url}/login/")
        csrf = form.cookies["gatehouse_login"]
        return c.post(
            f"{server.url}/login/",
            data={"user": name, "pass": secret, "csrf_token": csrf},
        )

    with client_as(address) as c:
        first = log_in(c, "wrong")
        for _ in range(4):
            log_in(c, "wrong")
        refused = log_in(c, password)
    assert first.status_code == 401
    assert refused.status_code == 401
    assert "The login is invalid" in refused.text


def test_concurrent_wrong_logins_on_the_login_page_get_exactly_the_limit_of_checks(
    server: Server,
) -> None:
    address = fresh_address()
    name, _password = server.account(reseller=True)
    with client_as(address) as c:
        csrf = c.get(f"{server.url}/login/").cookies["gatehouse_login"]

    def log_in(_i: int) -> int:
        with client_as(address) as c:
            c.cookies.set("gatehouse_login", csrf)
            return c.post(
                f"{server.url}/login/", data={"user": name, "pass": "wrong", "csrf_token": csrf}
            ).status_code

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(log_in, range(24)))
    assert set(statuses) <= {401, 503}
    assert audit_reasons(server, address).count("bad_password") == 5


# -- the lists ---------------------------------------------------------------------------


def test_a_white_listed_address_is_never_blocked(server: Server) -> None:
    address = fresh_address()
    server.ok("create_cphulk_record", params={"list_name": "white", "ip": address})
    try:
        for _ in range(8):
            whm(server, address, wrong_token())
        assert whm(server, address, f"whm root:{server.root_token}").status_code == 200
    finally:
        server.ok("delete_cphulk_record", params={"list_name": "white", "ip": address})


def test_white_listing_lifts_a_block(server: Server) -> None:
    address = fresh_address()
    for _ in range(5):
        whm(server, address, wrong_token())
    data = server.ok("create_cphulk_record", params={"list_name": "white", "ip": address})
    try:
        assert data["ip_blocks_removed"] == 1
        assert whm(server, address, f"whm root:{server.root_token}").status_code == 200
    finally:
        server.ok("delete_cphulk_record", params={"list_name": "white", "ip": address})


def test_a_black_listed_range_is_always_refused(server: Server) -> None:
    address = fresh_address()
    block = address.rsplit(".", 1)[0] + ".0/24"
    server.ok("create_cphulk_record", params={"list_name": "black", "ip": block})
    try:
        refused = whm(server, address, f"whm root:{server.root_token}")
        assert refused.status_code == 401
        assert refused.json()["metadata"]["reason"] == "Access denied"
    finally:
        server.ok("delete_cphulk_record", params={"list_name": "black", "ip": block})
    assert whm(server, address, f"whm root:{server.root_token}").status_code == 200


def test_create_read_delete_records_in_cpanels_shapes(server: Server) -> None:
    base = fresh_address().rsplit(".", 1)[0]
    created = server.ok(
        "create_cphulk_record",
        params=[
            ("list_name", "white"),
            ("ip-1", f"{base}.1"),
            ("ip-2", f"{base}.8/30"),
            ("ip-3", f"{base}.20-{base}.21"),
            ("ip-4", "not-an-address"),
            ("comment", "management"),
        ],
    )
    assert created["ips_added"] == [f"{base}.1", f"{base}.8-{base}.11", f"{base}.20-{base}.21"]
    assert created["ips_failed"] == {
        "not-an-address": "Invalid IP address or range: “not-an-address”"
    }
    assert created["list_name"] == "white"
    assert created["comment"] == "management"
    assert created["requester_ip"] == "127.0.0.1"
    assert created["requester_ip_is_whitelisted"] == 0  # loopback: local, on no list
    assert created["iptable_bans_removed"] == 0
    listed = server.ok("read_cphulk_records", params={"list_name": "white"})["ips_in_list"]
    assert listed[f"{base}.8-{base}.11"] == "management"
    deleted = server.ok(
        "delete_cphulk_record",
        params=[("list_name", "white"), ("ip-1", f"{base}.1"), ("ip-2", f"{base}.8/30"),
                ("ip-3", f"{base}.20-{base}.21"), ("ip-4", f"{base}.99")],
    )  # fmt: skip
    assert deleted["ips_removed"] == [f"{base}.1", f"{base}.8/30", f"{base}.20-{base}.21"]
    assert list(deleted["ips_failed"]) == [f"{base}.99"]


def test_batch_create_takes_a_comment_per_record(server: Server) -> None:
    base = fresh_address().rsplit(".", 1)[0]
    records = f'[{{"ip":"{base}.1","comment":"a"}},{{"ip":"{base}.0/31","comment":"b"}}]'
    data = server.ok(
        "batch_create_cphulk_records", params={"list_name": "black", "records": records}
    )
    assert data["ips_added"] == [f"{base}.1", f"{base}.0-{base}.1"]
    assert data["original_ips_added"] == [f"{base}.1", f"{base}.0/31"]
    listed = server.ok("read_cphulk_records", params={"list_name": "black"})["ips_in_list"]
    assert listed[f"{base}.1"] == "a"
    server.ok(
        "delete_cphulk_record",
        params=[("list_name", "black"), ("ip-1", f"{base}.1"), ("ip-2", f"{base}.0/31")],
    )


@pytest.mark.parametrize(
    ("function", "params", "reason"),
    [
        ("create_cphulk_record", {"list_name": "grey", "ip": "192.0.2.1"}, "“white” or “black”"),
        ("create_cphulk_record", {"list_name": "white"}, "Missing parameter: ip"),
        ("create_cphulk_record", {"list_name": "white", "ip": "300.1.1.1"}, "Invalid IP"),
        ("create_cphulk_record", {"list_name": "white", "ip": "192.0.2.9-192.0.2.1"}, "Invalid IP"),
        ("batch_create_cphulk_records", {"list_name": "white", "records": "{"}, "JSON array"),
        ("batch_create_cphulk_records", {"list_name": "white", "records": "[1]"}, "“ip”"),
        ("set_cphulk_config_key", {"key": "max_failures", "value": "x"}, "whole number"),
        ("set_cphulk_config_key", {"key": "nope", "value": "1"}, "not a cPHulk setting"),
        ("set_cphulk_config_key", {"key": "is_enabled", "value": "2"}, "0 or 1"),
        ("set_cphulk_config_key", {"key": "notify_on_brute", "value": "1"}, "does not support"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    server: Server, function: str, params: dict[str, str], reason: str
) -> None:
    before = server.sql("SELECT count(*) FROM cphulk_lists")[0][0]
    assert reason in server.fail(function, params=params)
    assert server.sql("SELECT count(*) FROM cphulk_lists")[0][0] == before
    assert server.sql("SELECT count(*) FROM cphulk_settings")[0][0] == 0


def test_a_reseller_may_not_use_cphulk(server: Server) -> None:
    name, token = server.reseller()
    response = server.get(
        "read_cphulk_records", user=name, token=token, params={"list_name": "white"}
    )
    assert response.json()["metadata"]["result"] == 0


# -- history and settings ----------------------------------------------------------------


def test_brutes_and_failed_logins_are_listed_and_flushed_per_address(server: Server) -> None:
    address = fresh_address()
    for _ in range(5):
        whm(server, address, wrong_token())
    brutes = server.ok("get_cphulk_brutes")["brutes"]
    mine = [b for b in brutes if b["ip"] == address]
    assert len(mine) == 1 and 14 <= mine[0]["timeleft"] <= 15
    assert mine[0]["logintime"][10] == " "  # YYYY-MM-DD HH:MM:SS
    failed = [
        f for f in server.ok("get_cphulk_failed_logins")["failed_logins"] if f["ip"] == address
    ]
    assert len(failed) == 5 and failed[0]["authservice"] == "token" and failed[0]["user"] == "root"
    flushed = server.ok("flush_cphulk_login_history_for_ips", params={"ip": address})
    assert flushed == {"iptable_bans_removed": 0, "records_removed": 6}
    assert whm(server, address, f"whm root:{server.root_token}").status_code == 200


def test_disabled_cphulk_counts_nothing_and_refuses_list_changes(
    server: Server, settings: Any
) -> None:
    server.ok("disable_cphulk")
    assert server.ok("cphulk_status") == {"is_enabled": 0, "service": "cPHulk"}
    address = fresh_address()
    for _ in range(6):
        whm(server, address, wrong_token())
    assert whm(server, address, f"whm root:{server.root_token}").status_code == 200
    reason = server.fail("create_cphulk_record", params={"list_name": "white", "ip": address})
    assert reason == "cPHulk is disabled on the server."
    server.ok(
        "create_cphulk_record",
        params={"list_name": "white", "ip": address, "skip_enabled_check": "1"},
    )
    server.ok(
        "delete_cphulk_record",
        params={"list_name": "white", "ip": address, "skip_enabled_check": "1"},
    )
    server.ok("enable_cphulk")
    assert server.ok("cphulk_status")["is_enabled"] == 1


def test_load_and_save_config_use_cpanels_keys(server: Server, settings: Any) -> None:
    config = server.ok("load_cphulk_config")["cphulk_config"]
    assert config["max_failures_byip"] == 5
    assert config["ip_brute_force_period_mins"] == 15
    assert config["ip_brute_force_period_sec"] == 900
    assert config["block_brute_force_with_firewall"] == 0
    saved = server.ok(
        "save_cphulk_config", params={"max_failures_byip": "7", "lookback_period_min": "60"}
    )
    assert saved["cphulk_config"]["max_failures_byip"] == 7
    assert server.ok("load_cphulk_config")["cphulk_config"]["lookback_time"] == 3600


def test_a_lower_limit_takes_effect_at_once(server: Server, settings: Any) -> None:
    settings(max_failures_byip=2)
    address = fresh_address()
    for _ in range(2):
        whm(server, address, wrong_token())
    assert whm(server, address, f"whm root:{server.root_token}").status_code == 401


# -- several processes -------------------------------------------------------------------


@pytest.fixture(scope="module")
def second_node(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with counted_node(server, tmp_path_factory, "cphulk-second") as node:
        yield node


def test_two_processes_share_the_count_and_the_block(server: Server, second_node: Server) -> None:
    address = fresh_address()
    for node in (server, second_node, server, second_node, server):
        assert whm(node, address, wrong_token()).status_code == 401
    for node in (server, second_node):
        # PostgreSQL: the other node hears of the block by NOTIFY; allow it a moment.
        for _ in range(50):
            if whm(node, address, f"whm root:{server.root_token}").status_code == 401:
                break
        assert whm(node, address, f"whm root:{server.root_token}").status_code == 401


def test_concurrent_passwords_on_two_processes_get_the_limit_between_them(
    server: Server, second_node: Server
) -> None:
    address = fresh_address()
    name, _password = server.account(reseller=True)
    nodes = [server, second_node] * 12
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        list(pool.map(lambda node: whm(node, address, basic(name, "wrong")), nodes))
    assert audit_reasons(server, address).count("bad_password") == 5


# -- local origin (Cpanel::Hulkd::Processor: `ip_is_loopback`) ------------------------------


@pytest.mark.parametrize("kind", ["loopback", "own address"])
def test_a_storm_of_local_origin_is_recorded_but_never_blocks_its_address(
    server: Server, kind: str
) -> None:
    """More failures than even `mark_as_brute` (30): the address keeps its valid token."""
    address = loopback_address() if kind == "loopback" else OWN_ADDRESS
    server.ok("flush_cphulk_login_history_for_ips", params={"ip": address})
    for _ in range(31):
        assert whm(server, address, wrong_token()).status_code == 401
    assert whm(server, address, f"whm root:{server.root_token}").status_code == 200
    failed = server.ok("get_cphulk_failed_logins")["failed_logins"]
    assert len([f for f in failed if f["ip"] == address]) == 31
    assert address not in [b["ip"] for b in server.ok("get_cphulk_brutes")["brutes"]]
    excessive = server.ok("get_cphulk_excessive_brutes")["excessive_brutes"]
    assert address not in [b["ip"] for b in excessive]
    assert "brute_force_ip" not in audit_reasons(server, address)


def test_the_lists_do_not_apply_to_local_origin(server: Server) -> None:
    """cPanel does not look a local address up in the lists: a black-listed loopback range
    refuses nothing from it."""
    address = loopback_address()
    block = address.rsplit(".", 1)[0] + ".0/24"
    server.ok("create_cphulk_record", params={"list_name": "black", "ip": block})
    try:
        assert whm(server, address, f"whm root:{server.root_token}").status_code == 200
    finally:
        server.ok("delete_cphulk_record", params={"list_name": "black", "ip": block})


@pytest.mark.parametrize(("local_origin", "locked"), [(1, True), (0, False)])
def test_with_username_protection_off_the_local_origin_switch_decides_a_lock(
    server: Server, settings: Any, local_origin: int, locked: bool
) -> None:
    """Username-based protection off: failures from this server lock the username's password
    logins from this server, and only from it, when the local-origin switch is on (cPanel's
    defaults: off and on)."""
    settings(
        username_based_protection=0,
        username_based_protection_local_origin=local_origin,
        max_failures=3,
    )
    name, password = server.account(reseller=True)
    local = loopback_address()
    for _ in range(4):
        assert whm(server, local, basic(name, "wrong")).status_code == 401
    assert whm(server, local, basic(name, password)).status_code == (401 if locked else 200)
    assert whm(server, fresh_address(), basic(name, password)).status_code == 200
    brutes = server.ok("get_cphulk_user_brutes")["user_brutes"]
    assert (name in [b["user"] for b in brutes]) is locked


def test_an_address_trusted_by_configuration_is_never_counted(
    server: Server, tmp_path_factory: pytest.TempPathFactory
) -> None:
    trusted = fresh_address()
    env = {"GATEHOUSE_CPHULK_TRUSTED": f"{trusted}/32"}
    with counted_node(server, tmp_path_factory, "cphulk-trusting", env) as node:
        for _ in range(6):
            assert whm(node, trusted, wrong_token()).status_code == 401
        assert whm(node, trusted, f"whm root:{server.root_token}").status_code == 200
    counted = server.sql("SELECT count(*) FROM login_attempts WHERE address = :a", a=trusted)
    assert counted[0][0] == 0
