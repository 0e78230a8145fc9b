"""UAPI `Variables::get_user_information`, `Quota::get_quota_info` / `get_local_quota_info` and
`Locale::get_attributes` over real HTTP: what clients read first ("who am I", disk use, the
locale), as cPanel's Cpanel/API/Variables.pm, Quota.pm and Locale.pm answer (docs/cpanel.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import Server


class Account:
    def __init__(self, server: Server, **create: str) -> None:
        self.server = server
        self.user, password = server.account()
        if create:
            server.ok("modifyacct", params={"user": self.user, **create})
        self.token = server.cpanel_token(self.user, password)
        self.domain = f"{self.user}.example.com"

    def uapi(self, module: str, func: str, **params: Any) -> Any:
        response = self.server.uapi(self.user, module, func, token=self.token, **params)
        assert response.status_code == 200
        return response.json()


@pytest.fixture(scope="module")
def account(server: Server) -> Account:
    return Account(server)


@pytest.fixture(scope="module")
def limited(server: Server) -> Account:
    """An account with a 1024 MB disk quota and a 2000 MB bandwidth limit."""
    return Account(server, quota="1024", bwlimit="2000")


# -- Variables::get_user_information --------------------------------------------------------------


def test_user_information_is_the_accounts(server: Server, account: Account) -> None:
    body = account.uapi("Variables", "get_user_information")
    assert body["status"] == 1 and body["errors"] is None
    data = body["data"]
    uid = int(server.sql("SELECT id FROM users WHERE username = :u", u=account.user)[0][0]) + 1000
    created = int(
        server.sql("SELECT created_time FROM users WHERE username = :u", u=account.user)[0][0]
    )
    assert {k: data[k] for k in ("user", "domain", "domains", "home", "uid", "gid")} == {
        "user": account.user,
        "domain": account.domain,
        "domains": [account.domain],
        "home": f"/home/{account.user}",
        "uid": uid,
        "gid": uid,
    }
    # Text from the cpuser file, as cPanel's values are; an unlimited bandwidth is the number 0.
    assert data["created"] == str(created)
    assert data["maximum_subdomains"] == "unlimited"
    assert data["bandwidth_limit"] == 0
    assert data["disk_block_limit"] == "0"
    assert data["cpanel_root_directory"] == "/usr/local/cpanel"
    assert data["owner"] == "root" and data["theme"] == "jupiter" and data["locale"] == "en"
    # USER_INFO_BLACKLIST: never the password entry's secret or name, nor DNS.
    assert not {"pass", "name", "dns"} & set(data)


def test_user_information_limits_in_cpanels_units(limited: Account) -> None:
    data = limited.uapi("Variables", "get_user_information")["data"]
    assert data["bandwidth_limit"] == str(2000 * 1024 * 1024)  # the cpuser file keeps bytes
    assert data["disk_block_limit"] == str(1024 * 1024)  # 1 KiB blocks


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        ([("name", "home")], ["home"]),
        ([("name-0", "home"), ("name-1", "domains")], ["home", "domains"]),
    ],
)
def test_user_information_by_name(
    account: Account, names: list[tuple[str, str]], expected: list[str]
) -> None:
    body = account.uapi("Variables", "get_user_information", **dict(names))
    assert sorted(body["data"]) == sorted(expected)


def test_user_information_unknown_name_is_refused(account: Account) -> None:
    body = account.uapi("Variables", "get_user_information", **{"name-0": "home", "name-1": "x"})
    assert body["status"] == 0 and body["data"] is None
    (error,) = body["errors"]
    assert error.startswith(
        "The name parameter has unknown value(s) “x”. You must enter one of the following "
        "values: “backup_enabled”, “bandwidth_limit”, "
    )
    assert error.endswith(", “uid”, or “user”")


# -- Quota ----------------------------------------------------------------------------------------


def test_quota_unlimited(account: Account) -> None:
    assert account.uapi("Quota", "get_quota_info")["data"] == {
        "inode_limit": "0",
        "inodes_remain": "0",
        "inodes_used": "0",
        "megabyte_limit": "0.00",
        "megabytes_remain": "0.00",
        "megabytes_used": "0.00",
        "under_inode_limit": 1,
        "under_megabyte_limit": 1,
        "under_quota_overall": 1,
    }


def test_quota_limited_bytes(server: Server, limited: Account) -> None:
    raw = server.uapi(limited.user, "Quota", "get_quota_info", token=limited.token).content
    assert raw == (
        b'{"data":{"inode_limit":"0","inodes_remain":"0","inodes_used":"0",'
        b'"megabyte_limit":1024,"megabytes_remain":1024,"megabytes_used":"0.00",'
        b'"under_inode_limit":1,"under_megabyte_limit":1,"under_quota_overall":1},'
        b'"errors":null,"messages":null,"metadata":{},"status":1,"warnings":null}'
    )


def test_local_quota_info_is_undefined_without_filesystem_quotas(account: Account) -> None:
    assert account.uapi("Quota", "get_local_quota_info")["data"] == {
        "byte_limit": None,
        "bytes_used": None,
        "inode_limit": None,
        "inodes_used": None,
    }


# -- Locale::get_attributes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attributes", "data", "warnings"),
    [
        (None, {"direction": "ltr", "encoding": "utf-8", "locale": "en"}, None),
        ("", {"direction": "ltr", "encoding": "utf-8", "locale": "en"}, None),
        ("name", {"name": "English"}, None),
        ("locale,nope,", {"locale": "en"}, ["Unknown attribute: nope"]),
        ("api.version", {"direction": "ltr", "encoding": "utf-8", "locale": "en"}, None),
    ],
)
def test_locale_attributes(
    account: Account, attributes: str | None, data: dict[str, str], warnings: list[str] | None
) -> None:
    params = {} if attributes is None else {"attributes": attributes}
    body = account.uapi("Locale", "get_attributes", **params)
    assert (body["status"], body["data"], body["warnings"]) == (1, data, warnings)


def test_locale_of_a_right_to_left_language(server: Server) -> None:
    other = Account(server, language="ar")
    body = other.uapi("Locale", "get_attributes", attributes="locale,direction,name")
    assert json.dumps(body["data"], sort_keys=True) == (
        '{"direction": "rtl", "locale": "ar", "name": "ar"}'
    )


# -- Variables::get_server_information / get_session_information ------------------------------

SERVER_KNOWN = {
    "cpanel_root_directory": "/usr/local/cpanel",
    "default_theme": "jupiter",
    "ftp_server": "disabled",
    "minimum_password_strength": "65",
    "ssl_default_key_type": "rsa-2048",
}


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        ({}, SERVER_KNOWN),
        ({"name": "default_theme"}, {"default_theme": "jupiter"}),
        # A name of cPanel's table gatehouse holds no value for: cPanel's answer for a
        # setting its cpanel.config lacks.
        ({"name-0": "php_memory_limit", "name-1": "ftp_server"},
         {"php_memory_limit": None, "ftp_server": "disabled"}),
    ],
    ids=["all", "one", "unheld"],
)  # fmt: skip
def test_server_information(
    account: Account, names: dict[str, str], expected: dict[str, Any]
) -> None:
    body = account.uapi("Variables", "get_server_information", **names)
    assert (body["status"], body["data"], body["warnings"]) == (1, expected, None)


def test_server_information_unknown_name(account: Account) -> None:
    body = account.uapi("Variables", "get_server_information", name="nope")
    (error,) = body["errors"]
    assert error.startswith(
        "The name parameter has unknown value(s) “nope”. You must enter one of the following "
        "values: “allow_park_subdomain_on_hostname”, “allow_remote_domains”, "
    )
    assert error.endswith(", “use_mail_for_mailman_url”, or “version”")


@pytest.mark.parametrize(
    ("params", "status", "data", "errors"),
    [
        ({}, 1, {"host": "127.0.0.1"}, None),
        ({"name": "host"}, 1, {"host": "127.0.0.1"}, None),
        (
            {"name": "user"},
            0,
            None,
            ["The name parameter has unknown value(s) “user”. You must enter one of the "
             "following values: “host”"],
        ),
    ],
    ids=["all", "host", "unknown"],
)  # fmt: skip
def test_session_information(
    account: Account,
    params: dict[str, str],
    status: int,
    data: dict[str, str] | None,
    errors: list[str] | None,
) -> None:
    # The Host the client sent (127.0.0.1:PORT) without its port.
    body = account.uapi("Variables", "get_session_information", **params)
    assert (body["status"], body["data"], body["errors"], body["warnings"]) == (
        status,
        data,
        errors,
        None,
    )


def test_session_information_from_the_command_line(server: Server, account: Account) -> None:
    out = server.cli(
        "uapi", "--user", account.user, "Variables", "get_session_information", "--output", "json"
    )
    result = json.loads(out.stdout)["result"]
    assert (result["data"], result["warnings"]) == (
        {"host": None},
        ["This API is only valid when called via a web interface."],
    )
