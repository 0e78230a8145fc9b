"""UAPI `Batch::strict` over real HTTP: several UAPI calls in one request, each run as the
account alone would run it, the first failure stopping the batch — as cPanel's
Cpanel/API/Batch.pm answers (docs/cpanel.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import Server


def command(module: str, func: str, args: dict[str, Any] | None = None) -> str:
    return json.dumps([module, func] if args is None else [module, func, args])


class Account:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.user, self.password = server.account()
        self.token = server.cpanel_token(self.user, self.password)
        self.domain = f"{self.user}.example.com"

    def batch(self, *commands: str, token: str | None = None, **extra: str) -> Any:
        params: list[tuple[str, str]] = [("command", c) for c in commands]
        params.extend(extra.items())
        response = self.server.cpanel_get(
            "/execute/Batch/strict",
            auth=f"cpanel {self.user}:{token or self.token}",
            params=params,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def uapi(self, module: str, func: str, **params: str) -> Any:
        return self.server.uapi(self.user, module, func, token=self.token, **params).json()

    def token_names(self) -> list[str]:
        return sorted(t["name"] for t in self.uapi("Tokens", "list")["data"])


@pytest.fixture(scope="module")
def account(server: Server) -> Account:
    return Account(server)


def test_each_commands_whole_result_in_order(account: Account) -> None:
    body = account.batch(
        command("DomainInfo", "list_domains"),
        command("Variables", "get_user_information", {"name": "home"}),
        command("Quota", "get_local_quota_info"),
    )
    assert (body["status"], body["errors"], body["metadata"]) == (1, None, {"transformed": 1})
    assert body["data"] == [
        account.uapi("DomainInfo", "list_domains"),
        account.uapi("Variables", "get_user_information", name="home"),
        account.uapi("Quota", "get_local_quota_info"),
    ]


def test_the_answers_bytes(server: Server, account: Account) -> None:
    response = server.cpanel_get(
        "/execute/Batch/strict",
        auth=f"cpanel {account.user}:{account.token}",
        params={"command": command("Locale", "get_attributes", {"attributes": "locale"})},
    )
    assert response.content == (
        b'{"data":[{"data":{"locale":"en"},"errors":null,"messages":null,"metadata":{},'
        b'"status":1,"warnings":null}],"errors":null,"messages":null,'
        b'"metadata":{"transformed":1},"status":1,"warnings":null}'
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"name": ["home", "user"]}, ["home", "user"]),  # a list: the argument repeated
        ({"name-0": "home", "name-1": "uid"}, ["home", "uid"]),
    ],
)
def test_command_arguments(account: Account, args: dict[str, Any], expected: list[str]) -> None:
    body = account.batch(command("Variables", "get_user_information", args))
    assert sorted(body["data"][0]["data"]) == expected


def test_commands_numbered(account: Account) -> None:
    server = account.server
    response = server.cpanel_get(
        "/execute/Batch/strict",
        auth=f"cpanel {account.user}:{account.token}",
        params=[
            ("command-1", command("Quota", "get_local_quota_info")),
            ("command-0", command("Locale", "get_attributes", {"attributes": "locale"})),
        ],
    )
    data = response.json()["data"]
    assert [d["data"] for d in data] == [
        {"locale": "en"},
        {"byte_limit": None, "bytes_used": None, "inode_limit": None, "inodes_used": None},
    ]


def test_the_first_failure_stops_the_batch_and_what_ran_stays_done(server: Server) -> None:
    account = Account(server)
    body = account.batch(
        command("Tokens", "create_full_access", {"name": "batch-one"}),
        command("Variables", "get_user_information", {"name": "nope"}),
        command("Tokens", "create_full_access", {"name": "batch-two"}),
    )
    assert body["status"] == 0 and body["metadata"] == {}
    (error,) = body["errors"]
    assert error.startswith(
        "Command #1 failed. It reported the following error: The name parameter has unknown "
        "value(s) “nope”."
    )
    first, failed = body["data"]
    assert first["status"] == 1 and first["data"]["token"]
    assert (failed["status"], failed["data"], failed["errors"][0]) == (
        0,
        None,
        error.removeprefix("Command #1 failed. It reported the following error: "),
    )
    # No transaction spans a batch (cPanel has none): the first command's token exists.
    assert "batch-one" in account.token_names() and "batch-two" not in account.token_names()


NOT_JSON = (
    "The system failed to parse the JSON stream data “nope” for the caller "
    "“Cpanel::API::Batch::strict” because of an error: malformed JSON string, neither tag, "
    'array, object, number, string or atom, at character offset 0 (before "nope")'
)


@pytest.mark.parametrize(
    ("commands", "extra", "error"),
    [
        ([], {}, "Provide at least one “command” argument."),
        ([""], {}, "The “command” arguments cannot be empty."),
        (
            [command("Locale", "get_attributes")],
            {"foo": "1"},
            "The following parameter name is invalid: foo",
        ),
        (
            [command("Locale", "get_attributes")],
            {"foo": "1", "api.columns": "x"},
            "The following parameter names are invalid: foo, api.columns",
        ),
        (["nope"], {}, NOT_JSON),
        (
            ['["Locale","get_attributes"] and more than twenty!'],
            {},
            "The system failed to parse the JSON stream data “[\"Locale\",\"get_attributes\"] "
            "and more than twenty!” for the caller “Cpanel::API::Batch::strict” because of an "
            'error: garbage after JSON object, at character offset 28 (before "and more than '
            'twenty...")',
        ),
        (
            ['["Locale"'],
            {},
            "The system failed to parse the JSON stream data “[\"Locale\"” for the caller "
            "“Cpanel::API::Batch::strict” because of an error: , or ] expected while parsing "
            'array, at character offset 9 (before "(end of string)")',
        ),
        (['{"a":1}'], {}, 'The following “command” is not an array: {"a":1}'),
        (["[]"], {}, "The following “command” lacks a module: []"),
        (['["0","x"]'], {}, 'The following “command” lacks a module: ["0","x"]'),
        (['["Locale"]'], {}, 'The following “command” lacks a function: ["Locale"]'),
        (
            ['["Locale","get_attributes",[1]]'],
            {},
            "The following “command”’s arguments are not given as a hash: "
            '["Locale","get_attributes",[1]]',
        ),
        (
            ['["Locale","get_attributes",{},1]'],
            {},
            'The following “command” has too many array members: ["Locale","get_attributes",{},1]',
        ),
        (
            [command("Nope", "thing")],
            {},
            "The system failed to load the module “Cpanel::API::Nope” because of an error: "
            "Can't locate Cpanel/API/Nope.pm in @INC (you may need to install the "
            "Cpanel::API::Nope module)",
        ),
        (
            [command("Locale", "nope")],
            {},
            "The UAPI module “Locale” does not have a function named “nope”.",
        ),
        ([command("Locale", "_private")], {}, "“_private” is not a valid UAPI function name."),
        ([command("Loc/ale", "x")], {}, "This value may not contain the character “/”."),
        (
            [command("Loc:ale", "x")],
            {},
            "“Loc:ale” is invalid. A package name may only contain multi-byte UTF-8 characters, "
            "spaces, and the following: a-z A-Z 0-9 . _ -",
        ),
        (
            [command("Loc ale", "x")],
            {},
            "“Cpanel::API::Loc ale” is not a valid name for a Perl module.",
        ),
    ],
    ids=[
        "none", "empty", "extra", "extras", "json", "garbage", "unclosed", "hash", "no-module",
        "zero-module", "no-function", "args-list", "four", "unknown-module", "unknown-function",
        "private", "slash", "colon", "space",
    ],
)  # fmt: skip
def test_refused_before_anything_runs(
    account: Account, commands: list[str], extra: dict[str, str], error: str
) -> None:
    body = account.batch(*commands, **extra)
    assert (body["status"], body["data"], body["errors"]) == (0, None, [error])


def test_a_later_unknown_function_stops_every_command(server: Server) -> None:
    account = Account(server)
    body = account.batch(
        command("Tokens", "create_full_access", {"name": "never"}), command("Locale", "nope")
    )
    assert body["status"] == 0 and body["data"] is None
    assert "never" not in account.token_names()


def test_a_scoped_token_is_held_to_its_scope_in_each_command(server: Server) -> None:
    account = Account(server)
    scoped = account.server.cpanel_token(account.user, account.password, name="scoped")
    body = account.uapi(
        "Tokens", "gatehouse_set_scope", name="scoped", scope_zone=account.domain,
        scope_record=f"_acme-challenge.{account.domain}",
    )  # fmt: skip
    assert body["status"] == 1, body
    answer = account.batch(
        command("DomainInfo", "list_domains"),
        command("Tokens", "create_full_access", {"name": "escape"}),
        token=scoped,
    )
    refusal = (
        "This API token is limited to some DNS records: it may read, and change those records, "
        "but not call “Tokens::create_full_access”."
    )
    assert answer["errors"] == [f"Command #1 failed. It reported the following error: {refusal}"]
    assert [d["status"] for d in answer["data"]] == [1, 0]
    assert "escape" not in account.token_names()
    # The refusal is audited as a call alone would be.
    rows = server.sql(
        "SELECT detail FROM audit_log WHERE actor = :u AND action = 'ACCESSDENIED'",
        u=account.user,
    )
    assert [r.detail for r in rows] == [refusal]


@pytest.mark.parametrize("user_key", ["cpanel_jsonapi_user", "user"])
def test_through_whms_cpanel_function(server: Server, account: Account, user_key: str) -> None:
    # WHM's own arguments are not the batch's (cPanel removes them before Batch.pm sees them).
    response = server.get(
        "cpanel",
        params={
            user_key: account.user,
            "cpanel_jsonapi_apiversion": "3",
            "cpanel_jsonapi_module": "Batch",
            "cpanel_jsonapi_func": "strict",
            "command": command("Locale", "get_attributes", {"attributes": "locale"}),
        },
    )
    body = response.json()
    assert (body["module"], body["func"], body["result"]["status"]) == ("Batch", "strict", 1)
    assert body["result"]["data"][0]["data"] == {"locale": "en"}


def test_through_whms_uapi_cpanel(server: Server, account: Account) -> None:
    data = server.ok(
        "uapi_cpanel",
        params={
            "cpanel.user": account.user,
            "cpanel.module": "Batch",
            "cpanel.function": "strict",
            "command": command("Quota", "get_local_quota_info"),
        },
    )
    assert data["uapi"]["status"] == 1
    assert data["uapi"]["data"][0]["data"]["byte_limit"] is None
