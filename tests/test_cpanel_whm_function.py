"""WHM API 1's `cpanel` function over real HTTP on the WHM face: root, or a reseller with
`cpanel-api`, calls UAPI (`cpanel_jsonapi_apiversion=3`) or cPanel API 2 as an account it may
reach, and gets that API's own envelope, not WHM API 1's (compatibility.md §Responses 5–6;
docs/cpanel.md)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from conftest import Server


def whm_cpanel(
    server: Server,
    user: str,
    module: str,
    func: str,
    *,
    version: str | None = "3",
    caller: str = "root",
    token: str | None = None,
    api_version: str | None = None,
    **params: Any,
) -> httpx.Response:
    query: dict[str, Any] = {
        "cpanel_jsonapi_user": user,
        "cpanel_jsonapi_module": module,
        "cpanel_jsonapi_func": func,
        **params,
    }
    if version is not None:
        query["cpanel_jsonapi_apiversion"] = version
    return server.get("cpanel", user=caller, token=token, api_version=api_version, params=query)


@pytest.fixture(scope="module")
def account(server: Server) -> tuple[str, str]:
    return server.account()


def token_names(server: Server, username: str) -> list[str]:
    rows = server.sql(
        "SELECT t.name FROM api_tokens t JOIN users u ON u.id = t.user_id "
        "WHERE u.username = :u AND t.service = 'cpanel' ORDER BY t.name",
        u=username,
    )
    return [r.name for r in rows]


# -- root ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("api_version", [None, "1"])
def test_uapi_through_whm_is_the_uapi_object(
    server: Server, account: tuple[str, str], api_version: str | None
) -> None:
    user, _ = account
    response = whm_cpanel(server, user, "DomainInfo", "list_domains", api_version=api_version)
    assert response.status_code == 200
    assert response.content == (
        b'{"apiversion":3,"func":"list_domains","module":"DomainInfo","result":{"data":'
        b'{"addon_domains":[],"main_domain":"' + f"{user}.example.com".encode() + b'",'
        b'"parked_domains":[],"sub_domains":[]},"errors":null,"messages":null,"metadata":{},'
        b'"status":1,"warnings":null}}'
    )


def test_api2_through_whm_is_a_cpanelresult(server: Server, account: tuple[str, str]) -> None:
    user, _ = account
    response = whm_cpanel(server, user, "ZoneEdit", "fetchzones", version="2")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"cpanelresult"}
    result = body["cpanelresult"]
    assert (result["apiversion"], result["module"], result["func"]) == (2, "ZoneEdit", "fetchzones")
    assert result["event"] == {"result": 1}
    assert isinstance(result["data"], list)
    assert b'"event":{"result":1}' in response.content


def test_api2_is_the_default(server: Server, account: tuple[str, str]) -> None:
    user, _ = account
    body = whm_cpanel(server, user, "ZoneEdit", "fetchzones", version=None).json()
    assert body["cpanelresult"]["event"]["result"] == 1


def test_unknown_functions_in_each_shape(server: Server, account: tuple[str, str]) -> None:
    user, _ = account
    uapi = whm_cpanel(server, user, "DomainInfo", "nope").json()
    assert uapi["result"]["status"] == 0
    assert uapi["result"]["errors"] == [
        "The system could not find the function “nope” in the module “DomainInfo”."
    ]
    api2 = whm_cpanel(server, user, "ZoneEdit", "nope", version="2").json()["cpanelresult"]
    assert api2["event"]["result"] == 0 and api2["data"] == []
    assert "ZoneEdit::nope" in api2["error"]


def test_tokens_made_through_whm_work_on_the_cpanel_face(
    server: Server, account: tuple[str, str]
) -> None:
    user, _ = account
    body = whm_cpanel(server, user, "Tokens", "create_full_access", name="from-root").json()
    assert body["result"]["status"] == 1
    token = server.remember(body["result"]["data"]["token"])
    listed = server.uapi(user, "Tokens", "list", token=token).json()[
        "data"
    ]  # /execute/: the flat result object
    assert "from-root" in [t["name"] for t in listed]
    row = server.sql(
        "SELECT actor, subject, detail FROM audit_log WHERE action = 'CREATEAPITOKEN' "
        "AND token_name = 'from-root' AND subject = :u",
        u=user,
    )[0]
    assert (row.actor, row.subject) == ("root", user)
    assert row.detail == "cpanel token; via WHM user root"


def test_a_failed_function_writes_nothing(server: Server, account: tuple[str, str]) -> None:
    user, _ = account
    before = token_names(server, user)
    body = whm_cpanel(
        server, user, "Tokens", "create_full_access", name="never", expires_at="1"
    ).json()
    assert body["result"]["status"] == 0
    assert body["result"]["errors"] == ["The “1” value must be a future date."]
    assert token_names(server, user) == before


def test_post_body(server: Server, account: tuple[str, str]) -> None:
    user, _ = account
    response = httpx.post(
        f"{server.url}/json-api/cpanel",
        content=(
            f"cpanel_jsonapi_user={user}&cpanel_jsonapi_apiversion=3"
            "&cpanel_jsonapi_module=DomainInfo&cpanel_jsonapi_func=list_domains"
        ).encode(),
        headers={"Authorization": f"whm root:{server.root_token}"},
        timeout=30,
    )
    assert response.json()["result"]["data"]["main_domain"] == f"{user}.example.com"


def exec_error(reason: str, version: str | None) -> dict[str, Any]:
    """Whostmgr/XMLUI/cPanel.pm `_format_error`: wrapped in `cpanelresult` for version 2 only."""
    error = {"data": {"reason": reason, "result": "0"}, "error": reason, "type": "text"}
    return {"cpanelresult": error} if version == "2" else error


ROOT = "The user “root” is not associated with a cPanel account and cannot call cPanel API 2"


@pytest.mark.parametrize("version", ["2", "3", None])
@pytest.mark.parametrize(
    ("user", "reason"),
    [
        ("nosuchuser1", "User parameter is invalid or was not supplied"),
        ("root", ROOT),
        ("", "User parameter is invalid or was not supplied"),
    ],
)
def test_root_bad_users(server: Server, user: str, reason: str, version: str | None) -> None:
    response = whm_cpanel(server, user, "DomainInfo", "list_domains", version=version)
    assert response.status_code == 200
    assert response.json() == exec_error(reason, version)


@pytest.mark.parametrize("version", ["1", "4", "x"])
def test_unsupported_api_versions(server: Server, account: tuple[str, str], version: str) -> None:
    user, _ = account
    body = whm_cpanel(server, user, "DomainInfo", "list_domains", version=version).json()
    assert body["cpanelresult"]["error"] == (
        f"“{version}” is not a supported “cpanel_jsonapi_apiversion”: use 2 or 3."
    )


def test_missing_module_or_function(server: Server, account: tuple[str, str]) -> None:
    user, _ = account
    no_module = whm_cpanel(server, user, "", "list_domains").json()
    assert no_module["result"]["errors"] == ["Provide the “cpanel_jsonapi_module” argument."]
    no_func = whm_cpanel(server, user, "DomainInfo", "", version="2").json()
    assert no_func["cpanelresult"]["error"] == "Provide the “cpanel_jsonapi_func” argument."


def test_suspended_account_is_reachable_through_whm(server: Server) -> None:
    """Suspension stops the account's own credentials, not its administrator."""
    user, password = server.account()
    token = server.cpanel_token(user, password, name="frozen")
    server.ok("suspendacct", params={"user": user})
    assert server.uapi(user, "Tokens", "list", token=token).status_code == 401
    body = whm_cpanel(server, user, "Tokens", "revoke", name="frozen").json()
    assert body["result"]["data"] == 1
    assert token_names(server, user) == []
    server.ok("unsuspendacct", params={"user": user})
    assert server.uapi(user, "Tokens", "list", token=token).status_code == 401


# -- resellers -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reseller(server: Server) -> tuple[str, str, str]:
    """A reseller with cpanel-api (list-accts, manage-api-tokens), its token, and an account
    it owns."""
    name, token = server.reseller(["cpanel-api", "list-accts", "manage-api-tokens"])
    owned, _ = server.account(owner=name)
    return name, token, owned


def test_reseller_reaches_its_own_accounts(server: Server, reseller: tuple[str, str, str]) -> None:
    name, token, owned = reseller
    for target in (owned, name):  # the reseller's own cPanel account counts
        body = whm_cpanel(server, target, "DomainInfo", "list_domains", caller=name, token=token)
        assert body.json()["result"]["data"]["main_domain"] == f"{target}.example.com"


def test_reseller_cannot_reach_other_accounts(
    server: Server, reseller: tuple[str, str, str], account: tuple[str, str]
) -> None:
    name, token, _ = reseller
    other, _ = account
    for target, shown in [
        (other, other),
        ("nosuchuser2", "nosuchuser2"),  # a reseller is not told that it does not exist
        ("x<y>&'\"", "x&lt;y&gt;&amp;&#39;&quot;"),  # safe_html_encode_str
    ]:
        for version in ("2", "3"):
            response = whm_cpanel(
                server, target, "Tokens", "list", caller=name, token=token, version=version
            )
            assert response.json() == exec_error(f"Access Denied to {shown}", version)


@pytest.mark.parametrize("version", ["2", "3", None])
def test_reseller_naming_root_gets_roots_own_sentence(
    server: Server, reseller: tuple[str, str, str], version: str | None
) -> None:
    # Whostmgr/XMLUI/cPanel.pm cpanel_exec: uid 0 is refused (lines 48-51) before the caller's
    # right to the account is checked (line 56).
    name, token, _ = reseller
    response = whm_cpanel(
        server, "root", "Tokens", "list", caller=name, token=token, version=version
    )
    assert response.status_code == 200
    assert response.json() == exec_error(ROOT, version)


def test_reseller_without_the_privilege(server: Server) -> None:
    name, token = server.reseller(["list-accts"])
    owned, _ = server.account(owner=name)
    response = whm_cpanel(
        server, owned, "DomainInfo", "list_domains", version="2", caller=name, token=token
    )
    assert response.status_code == 403
    reason = "Access denied: calling “cpanel” requires the “cpanel-api” privilege."
    assert response.json() == {
        "cpanelresult": {
            "apiversion": "2",
            "data": {"reason": reason, "result": "0"},
            "error": reason,
            "type": "text",
        }
    }
    uapi = whm_cpanel(server, owned, "DomainInfo", "list_domains", caller=name, token=token)
    assert uapi.status_code == 403
    assert uapi.json()["result"]["errors"] == [reason]


def test_reseller_token_acl_limits_it_too(server: Server, reseller: tuple[str, str, str]) -> None:
    name, full_token, owned = reseller
    limited = server.token(user=name, via=full_token, acl=["list-accts"])
    response = whm_cpanel(server, owned, "DomainInfo", "list_domains", caller=name, token=limited)
    assert response.status_code == 403


def test_reseller_with_all_reaches_every_account(server: Server, account: tuple[str, str]) -> None:
    name, token = server.reseller(["all"])
    other, _ = account
    body = whm_cpanel(server, other, "DomainInfo", "list_domains", caller=name, token=token).json()
    assert body["result"]["data"]["main_domain"] == f"{other}.example.com"


# -- the command line ------------------------------------------------------------------------------


def test_whmapi1_cpanel_prints_the_cpanel_envelope(
    server: Server, account: tuple[str, str]
) -> None:
    user, _ = account
    out = server.cli(
        "whmapi1",
        "cpanel",
        f"cpanel_jsonapi_user={user}",
        "cpanel_jsonapi_apiversion=3",
        "cpanel_jsonapi_module=DomainInfo",
        "cpanel_jsonapi_func=list_domains",
        "--output",
        "json",
    )
    http = whm_cpanel(server, user, "DomainInfo", "list_domains")
    assert out.stdout.encode() == http.content + b"\n"
    failed = server.cli(
        "whmapi1",
        "cpanel",
        "cpanel_jsonapi_user=nosuchuser3",
        "cpanel_jsonapi_module=ZoneEdit",
        "cpanel_jsonapi_func=fetchzones",
        "--output",
        "json",
        check=False,
    )
    assert failed.returncode == 1
    no_user = "User parameter is invalid or was not supplied"
    assert json.loads(failed.stdout) == exec_error(no_user, None)  # no version: not wrapped


def test_applist_and_catalogue_know_cpanel(server: Server) -> None:
    names = [app["name"] if isinstance(app, dict) else app for app in server.ok("applist")["app"]]
    assert "cpanel" in names
