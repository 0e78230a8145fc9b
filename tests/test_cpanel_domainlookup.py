"""cPanel API 2 `DomainLookup` (getdocroot, getdocroots, getbasedomains, countbasedomains,
getmaindomain) over real HTTP, as Cpanel/DomainLookup.pm answers them; WHMCS's GetDocRoot
call through WHM's `cpanel` function."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import Server


class Account:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.user, self.token = server.account_with_token()
        self.domain = f"{self.user}.example.com"

    def api2(self, func: str, **params: Any) -> list[dict[str, Any]]:
        response = self.server.api2(self.user, "DomainLookup", func, token=self.token, **params)
        result = response.json()["cpanelresult"]
        assert result["event"]["result"] == 1, result
        return list(result["data"])


@pytest.fixture(scope="module")
def account(server: Server) -> Account:
    acct = Account(server)
    made = server.uapi(acct.user, "SubDomain", "addsubdomain", token=acct.token,
                       domain="shop", rootdomain=acct.domain)  # fmt: skip
    assert made.json()["status"] == 1, made.text
    return acct


@pytest.mark.parametrize(
    ("domain", "docroot", "relative"),
    [
        ("{d}", "/home/{u}/public_html", "public_html"),
        ("shop.{d}", "/home/{u}/public_html/shop", "public_html/shop"),
        ("SHOP.{d}", "/home/{u}/public_html/shop", "public_html/shop"),
        # cPanel: "This will ALWAYS return something": the account's public_html.
        ("not-mine.example.org", "/home/{u}/public_html", "public_html"),
        ("", "/home/{u}/public_html", "public_html"),
    ],
)
def test_getdocroot(account: Account, domain: str, docroot: str, relative: str) -> None:
    def fill(text: str) -> str:
        return text.replace("{d}", account.domain).replace("{u}", account.user)

    assert account.api2("getdocroot", domain=fill(domain)) == [
        {"docroot": fill(docroot), "reldocroot": fill(relative)}
    ]


def test_getdocroots_sorted_by_domain(account: Account) -> None:
    expected = [
        {"docroot": f"/home/{account.user}/public_html", "domain": account.domain},
        {"docroot": f"/home/{account.user}/public_html/shop", "domain": f"shop.{account.domain}"},
    ]
    assert account.api2("getdocroots") == sorted(expected, key=lambda e: e["domain"])


def test_base_and_main_domain(account: Account) -> None:
    assert account.api2("getbasedomains") == [{"domain": account.domain}]
    assert account.api2("countbasedomains") == [{"count": 1}]
    assert account.api2("getmaindomain") == [{"main_domain": account.domain}]


def test_whmcs_get_doc_root(server: Server, account: Account) -> None:
    body = server.get(
        "cpanel",
        api_version=None,
        params={
            "cpanel_jsonapi_user": account.user,
            "cpanel_jsonapi_apiversion": "2",
            "cpanel_jsonapi_module": "DomainLookup",
            "cpanel_jsonapi_func": "getdocroot",
            "domain": f"shop.{account.domain}",
        },
    ).json()
    assert not body["cpanelresult"].get("error"), body
    assert body["cpanelresult"]["data"][0]["docroot"] == f"/home/{account.user}/public_html/shop"
    assert body["cpanelresult"]["data"][0]["reldocroot"] == "public_html/shop"
