"""WHM API 1's `uapi_cpanel` over real HTTP on the WHM face: root, or a reseller with
`cpanel-api`, calls a UAPI function as an account it may reach (`cpanel.user`,
`cpanel.module`, `cpanel.function`) and gets WHM API 1's envelope with the function's flat
result in `data.uapi` — `metadata.result` 1 even when the function refused, as cPanel's
Whostmgr/API/1/Cpanel.pm sets it (docs/api.md)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conftest import Server

NO_ACCESS = "You do not have access to an account named “{}”."


def uapi_cpanel(
    server: Server,
    user: str,
    module: str,
    func: str,
    *,
    caller: str = "root",
    token: str | None = None,
    **params: Any,
) -> httpx.Response:
    query = {"cpanel.user": user, "cpanel.module": module, "cpanel.function": func, **params}
    return server.get("uapi_cpanel", user=caller, token=token, params=query)


@pytest.fixture(scope="module")
def account(server: Server) -> tuple[str, str]:
    return server.account()


def test_the_uapi_result_is_in_data_uapi(server: Server, account: tuple[str, str]) -> None:
    user, _ = account
    response = uapi_cpanel(server, user, "DomainInfo", "list_domains")
    assert response.status_code == 200
    assert response.content == (
        b'{"data":{"uapi":{"data":{"addon_domains":[],"main_domain":"'
        + f"{user}.example.com".encode()
        + b'","parked_domains":[],"sub_domains":[]},"errors":null,"messages":null,'
        b'"metadata":{},"status":1,"warnings":null}},"metadata":{"command":"uapi_cpanel",'
        b'"reason":"OK","result":1,"version":1}}'
    )


def test_a_function_that_refuses_is_status_0_inside_a_successful_call(
    server: Server, account: tuple[str, str]
) -> None:
    user, _ = account
    body = uapi_cpanel(server, user, "DNS", "parse_zone").json()
    assert body["metadata"] == {
        "command": "uapi_cpanel",
        "reason": "OK",
        "result": 1,
        "version": 1,
    }
    assert body["data"]["uapi"] == {
        "data": None,
        "errors": ["Provide the “zone” argument."],
        "messages": None,
        "metadata": {},
        "status": 0,
        "warnings": None,
    }
    unknown = uapi_cpanel(server, user, "DomainInfo", "nope").json()["data"]["uapi"]
    assert unknown["status"] == 0 and unknown["errors"] == [
        "The system could not find the function “nope” in the module “DomainInfo”."
    ]


def test_a_change_is_made_and_a_failed_one_writes_nothing(
    server: Server, account: tuple[str, str]
) -> None:
    user, _ = account
    made = uapi_cpanel(server, user, "Tokens", "create_full_access", name="via-uapi-cpanel")
    token = server.remember(made.json()["data"]["uapi"]["data"]["token"])
    assert server.uapi(user, "Tokens", "list", token=token).status_code == 200
    before = server.sql("SELECT count(*) FROM api_tokens")[0][0]
    failed = uapi_cpanel(
        server, user, "Tokens", "create_full_access", name="never", expires_at="1"
    ).json()
    assert failed["metadata"]["result"] == 1
    assert failed["data"]["uapi"]["errors"] == ["The “1” value must be a future date."]
    assert server.sql("SELECT count(*) FROM api_tokens")[0][0] == before


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"cpanel.module": "DomainInfo", "cpanel.function": "list_domains"}, "cpanel.user"),
        ({"cpanel.user": "x", "cpanel.function": "list_domains"}, "cpanel.module"),
        ({"cpanel.user": "x", "cpanel.module": "DomainInfo"}, "cpanel.function"),
    ],
)
def test_each_argument_is_required(server: Server, params: dict[str, str], reason: str) -> None:
    body = server.get("uapi_cpanel", params=params).json()
    assert body["metadata"]["result"] == 0
    assert body["metadata"]["reason"] == f"Missing parameter: {reason}"


def test_root_and_unknown_users_are_refused(server: Server) -> None:
    body = uapi_cpanel(server, "root", "DomainInfo", "list_domains").json()
    assert body["metadata"]["result"] == 0
    assert body["metadata"]["reason"] == "The user “root” does not have a cPanel account."
    body = uapi_cpanel(server, "nosuchuser9", "DomainInfo", "list_domains").json()
    assert body["metadata"]["result"] == 0 and "data" not in body


def test_a_reseller_reaches_its_own_accounts_only(server: Server, account: tuple[str, str]) -> None:
    name, token = server.reseller(["cpanel-api", "list-accts"])
    owned, _ = server.account(owner=name)
    mine = uapi_cpanel(server, owned, "DomainInfo", "list_domains", caller=name, token=token)
    assert mine.json()["data"]["uapi"]["data"]["main_domain"] == f"{owned}.example.com"
    other, _ = account
    refused = uapi_cpanel(server, other, "DomainInfo", "list_domains", caller=name, token=token)
    assert refused.status_code == 200  # WHM API 1's refusal of an account (result 0)
    body = refused.json()
    assert body["metadata"]["result"] == 0
    assert body["metadata"]["reason"] == NO_ACCESS.format(other)
    audited = server.sql(
        "SELECT reason FROM audit_log WHERE action = 'ACCESSDENIED' AND actor = :a", a=name
    )
    assert audited, "the refusal is audited"
    without = server.reseller(["list-accts"])
    denied = uapi_cpanel(
        server, owned, "DomainInfo", "list_domains", caller=without[0], token=without[1]
    )
    assert denied.status_code == 403
    assert denied.json()["metadata"]["reason"] == (
        "Access denied: calling “uapi_cpanel” requires the “cpanel-api” privilege."
    )
