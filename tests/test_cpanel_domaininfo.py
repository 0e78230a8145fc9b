"""UAPI `DomainInfo` (list_domains, domains_data) and the cPanel face's envelopes for unknown
modules and functions, over real HTTP, with the raw bytes checked where shell clients grep
them (compatibility.md §Responses 4–6, DNS section; docs/cpanel.md)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from conftest import Server


class Account:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.user, self.password = server.account()
        self.token = server.cpanel_token(self.user, self.password)
        self.domain = f"{self.user}.example.com"

    def uapi(self, module: str, func: str, **params: Any) -> httpx.Response:
        return self.server.uapi(self.user, module, func, token=self.token, **params)

    def api2(self, module: str, func: str, **params: Any) -> httpx.Response:
        return self.server.api2(self.user, module, func, token=self.token, **params)


@pytest.fixture(scope="module")
def account(server: Server) -> Account:
    return Account(server)


def compact(raw: bytes) -> None:
    """cPanel's canonical JSON: no space after `:` or `,` anywhere (our values hold none)."""
    assert b": " not in raw and b", " not in raw, raw[:300]
    assert (
        raw
        == json.dumps(
            json.loads(raw), separators=(",", ":"), sort_keys=True, ensure_ascii=False
        ).encode()
    )


# -- list_domains ----------------------------------------------------------------------------------


def test_list_domains_bytes(account: Account) -> None:
    response = account.uapi("DomainInfo", "list_domains")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    raw = response.content
    assert raw == (
        b'{"data":{"addon_domains":[],"main_domain":"' + account.domain.encode() + b'",'
        b'"parked_domains":[],"sub_domains":[]},"errors":null,"messages":null,"metadata":{},'
        b'"status":1,"warnings":null}'
    )
    assert f'"main_domain":"{account.domain}"'.encode() in raw and b'"status":1' in raw
    compact(raw)


def test_list_domains_follows_a_domain_change(server: Server) -> None:
    acct = Account(server)
    new_domain = f"{acct.user}.example.org"
    modified = server.get("modifyacct", params={"user": acct.user, "DNS": new_domain}).json()
    if modified["metadata"]["result"] != 1:
        pytest.fail(f"modifyacct refused the domain change: {modified}")
    data = acct.uapi("DomainInfo", "list_domains").json()["data"]
    assert data["main_domain"] == new_domain


def test_list_domains_is_per_account(server: Server, account: Account) -> None:
    other = Account(server)
    assert other.uapi("DomainInfo", "list_domains").json()["data"]["main_domain"] == (other.domain)
    assert account.uapi("DomainInfo", "list_domains").json()["data"]["main_domain"] == (
        account.domain
    )


def test_extra_arguments_are_ignored(account: Account) -> None:
    """cPanel's functions ignore arguments they do not take (clients add cache busters)."""
    response = account.uapi("DomainInfo", "list_domains", cache_fix="12345", **{"api.version": "3"})
    assert response.json()["status"] == 1


# -- domains_data ----------------------------------------------------------------------------------


def _main(server: Server, account: Account) -> dict[str, Any]:
    """cPanel's domains_data item: the domain's userdata (WHM's domainuserdata, the same data)
    with its `domain`, `type` and redirect `status` (Cpanel/API/DomainInfo.pm)."""
    userdata = server.ok("domainuserdata", params={"domain": account.domain})["userdata"]
    assert userdata["ip"] == "127.0.0.1" and userdata["user"] == account.user
    assert userdata["documentroot"] == f"/home/{account.user}/public_html"
    return {**userdata, "domain": account.domain, "status": "not redirected", "type": "main_domain"}


# cPanel (Cpanel/API/DomainInfo.pm) answers the list for `list` and the hash for anything else.
@pytest.mark.parametrize("fmt", [None, "hash", "", "xml", "LIST"])
def test_domains_data_hash(server: Server, account: Account, fmt: str | None) -> None:
    params = {} if fmt is None else {"format": fmt}
    response = account.uapi("DomainInfo", "domains_data", **params)
    result = response.json()
    assert result["status"] == 1
    assert result["metadata"] == {}
    assert result["data"] == {
        "addon_domains": [],
        "main_domain": _main(server, account),
        "parked_domains": [],
        "sub_domains": [],
    }
    compact(response.content)


def test_domains_data_list(server: Server, account: Account) -> None:
    response = account.uapi("DomainInfo", "domains_data", format="list")
    result = response.json()
    assert result["data"] == [_main(server, account)]
    assert result["metadata"] == {"transformed": 1}


def test_domains_data_of_a_resellers_account_names_its_owner(server: Server) -> None:
    reseller, _password = server.account(reseller=True)
    username, account_password = server.account(owner=reseller)
    token = server.cpanel_token(username, account_password)
    data = server.uapi(username, "DomainInfo", "domains_data", token=token).json()["data"]
    assert data["main_domain"]["owner"] == reseller
    assert data["main_domain"]["user"] == username


def test_main_domain_builtin_subdomain_aliases(account: Account) -> None:
    # The automatic labels of the main domain's vhost (serveralias `mail.D www.D`), in
    # Cpanel::WebVhosts::Aliases' order.
    response = account.uapi("DomainInfo", "main_domain_builtin_subdomain_aliases")
    assert response.content == (
        b'{"data":["www","mail"],"errors":null,"messages":null,'
        b'"metadata":{"transformed":1},"status":1,"warnings":null}'
    )


def test_single_domain_data_of_an_empty_domain(account: Account) -> None:
    # Only a missing `domain` is "must be passed"; an empty one is looked for, and not found.
    result = account.uapi("DomainInfo", "single_domain_data", domain="").json()
    assert (result["status"], result["errors"]) == (0, ["Unable to locate the domain: "])


# -- unknown modules and functions, in each API's own shape ----------------------------------------


def test_unknown_uapi_function(account: Account) -> None:
    # (single_domain_data, which this test used to call, now exists: tests/test_subdomains.py)
    response = account.uapi("DomainInfo", "no_such_function", domain=account.domain)
    assert response.status_code == 200
    assert response.content == (
        b'{"data":null,'
        b'"errors":["The system could not find the function \xe2\x80\x9cno_such_function'
        b'\xe2\x80\x9d in the module \xe2\x80\x9cDomainInfo\xe2\x80\x9d."],"messages":null,'
        b'"metadata":{},"status":0,"warnings":null}'
    )


def test_unknown_uapi_module(account: Account) -> None:
    result = account.uapi("NoSuchModule", "list").json()
    assert result["status"] == 0
    assert result["errors"][0].startswith("Failed to load module “NoSuchModule”: ")


def test_module_names_are_case_sensitive(account: Account) -> None:
    result = account.uapi("domaininfo", "list_domains").json()
    assert result["status"] == 0 and "Failed to load module" in result["errors"][0]


def test_uapi_module_through_api2_is_unknown(account: Account) -> None:
    """DomainInfo is a UAPI module: API 2 has no such function, and says so in its shape."""
    response = account.api2("DomainInfo", "list_domains")
    assert response.status_code == 200
    body = response.json()
    reason = (
        "Execution of DomainInfo::list_domains could not be completed because the function "
        "could not be resolved"
    )
    assert body == {
        "cpanelresult": {
            "apiversion": 2,
            "data": [],
            "error": reason,
            "event": {"reason": reason, "result": 0},
            "func": "list_domains",
            "module": "DomainInfo",
        }
    }
    compact(response.content)


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"cpanel_jsonapi_func": "x"}, "Provide the “cpanel_jsonapi_module” argument."),
        ({"cpanel_jsonapi_module": "ZoneEdit"}, "Provide the “cpanel_jsonapi_func” argument."),
        (
            {
                "cpanel_jsonapi_apiversion": "1",
                "cpanel_jsonapi_module": "A",
                "cpanel_jsonapi_func": "b",
            },
            "“1” is not a supported “cpanel_jsonapi_apiversion”: use 2 or 3.",
        ),
    ],
)
def test_json_api_cpanel_needs_module_function_and_version(
    server: Server, account: Account, params: dict[str, str], reason: str
) -> None:
    response = server.cpanel_get(
        "/json-api/cpanel", auth=f"cpanel {account.user}:{account.token}", params=params
    )
    assert response.status_code == 200
    body = response.json()["cpanelresult"]
    assert body["error"] == reason and body["event"] == {"reason": reason, "result": 0}


def test_missing_function_through_json_api_uapi(server: Server, account: Account) -> None:
    response = server.cpanel_get(
        "/json-api/cpanel",
        auth=f"cpanel {account.user}:{account.token}",
        params={"cpanel_jsonapi_apiversion": "3", "cpanel_jsonapi_module": "DomainInfo"},
    )
    result = response.json()["result"]
    assert result["status"] == 0
    assert result["errors"] == ["Provide the “cpanel_jsonapi_func” argument."]


def test_too_many_parameters_is_400(account: Account) -> None:
    many = {f"p{i}": "1" for i in range(2100)}
    response = account.uapi("DomainInfo", "list_domains", **many)
    assert response.status_code == 400
    assert "too many parameters" in response.json()["errors"][0]
