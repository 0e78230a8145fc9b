"""UAPI `Email::list_pops` and API 2 `Email::listpops` / `listpopssingle` over real HTTP: the
main account, as lumberg's recording of a real cPanel lists it (`"login":"Main Account"`,
`"email"` the username), and nothing else (gatehouse hosts no mailboxes); `skip_main`,
`regex`, and the call through WHM's `cpanel` that pycpanel and cpanel-rest-api show first in
their READMEs."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import Server


@pytest.fixture(scope="module")
def account(server: Server) -> tuple[str, str]:
    return server.account_with_token()


def main_row(user: str) -> dict[str, Any]:
    return {"email": user, "login": "Main Account", "suspended_incoming": 0, "suspended_login": 0}


@pytest.mark.parametrize(
    ("params", "listed"),
    [
        ({}, True),
        ({"skip_main": "0"}, True),
        ({"skip_main": ""}, True),
        ({"skip_main": "1"}, False),
        ({"regex": "^u"}, True),
        ({"regex": "@"}, False),
    ],
)
def test_list_pops_lists_the_main_account(
    server: Server, account: tuple[str, str], params: dict[str, str], listed: bool
) -> None:
    user, token = account
    body = server.uapi(user, "Email", "list_pops", token=token, **params).json()
    assert body["status"] == 1, body
    assert body["data"] == ([main_row(user)] if listed else [])
    assert body["metadata"] == {"transformed": 1}


def test_list_pops_refuses_a_regex_that_does_not_compile(
    server: Server, account: tuple[str, str]
) -> None:
    user, token = account
    body = server.uapi(user, "Email", "list_pops", token=token, regex="(").json()
    assert body["status"] == 0
    assert body["errors"][0].startswith("The “regex” parameter is not a valid regular expression")


@pytest.mark.parametrize(("func", "listed"), [("listpops", True), ("listpopssingle", False)])
def test_api2_listpops_wraps_list_pops(
    server: Server, account: tuple[str, str], func: str, listed: bool
) -> None:
    user, token = account
    result = server.api2(user, "Email", func, token=token).json()["cpanelresult"]
    assert result["event"] == {"result": 1}
    assert result["data"] == ([main_row(user)] if listed else [])


def test_listpops_through_whm_cpanel_as_pycpanel_calls_it(
    server: Server, account: tuple[str, str]
) -> None:
    user, _ = account
    response = server.get(
        "cpanel",
        api_version=None,
        params={
            "cpanel_jsonapi_user": user,
            "cpanel_jsonapi_module": "Email",
            "cpanel_jsonapi_func": "listpops",
            "cpanel_jsonapi_apiversion": "2",
        },
    )
    assert response.json()["cpanelresult"]["data"] == [main_row(user)]
