"""version, applist, myprivs, unknown functions and the raw JSON form, over real HTTP."""

from __future__ import annotations

import re

import pytest

from conftest import Server
from gatehouse import acls
from whm_helpers import limited_reseller

VERSION = "11.120.0.16"
UNKNOWN_RE = re.compile(r"Unknown app\s+(?:\(.+\))?\s+requested")


# -- version -------------------------------------------------------------------------------


def test_version_api1_envelope(server: Server) -> None:
    response = server.get("version")
    assert response.status_code == 200
    assert response.json() == {
        "data": {"version": VERSION},
        "metadata": {"command": "version", "reason": "OK", "result": 1, "version": 1},
    }


def test_version_is_a_dotted_string(server: Server) -> None:
    version = server.ok("version")["version"]
    assert isinstance(version, str)
    assert re.fullmatch(r"11\.[0-9]+\.[0-9]+\.[0-9]+", version)


@pytest.mark.parametrize("api_version", [None, "0"])
def test_version_api0_is_flat(server: Server, api_version: str | None) -> None:
    response = server.get("version", api_version=api_version)
    assert response.status_code == 200
    assert response.content == b'{"version":"' + VERSION.encode() + b'"}'


# -- applist -------------------------------------------------------------------------------


def test_applist_root_lists_every_function_sorted(server: Server) -> None:
    apps = server.ok("applist")["app"]
    assert apps == sorted(apps)
    assert len(apps) == len(set(apps))
    for name in (
        "applist",
        "version",
        "myprivs",
        "createacct",
        "passwd",
        "setupreseller",
        "unsetupreseller",
        "setacls",
        "listresellers",
        "saveacllist",
        "listacls",
        "create_user_session",
        "api_token_create",
    ):
        assert name in apps


def test_applist_api0_shape(server: Server) -> None:
    response = server.get("applist", api_version=None)
    assert response.status_code == 200
    payload = response.json()
    assert list(payload) == ["app"]
    # API 1's functions and, where they belong in the order, those of API 0 only.
    assert payload["app"] == sorted([*server.ok("applist")["app"], "loadavg"])
    assert "loadavg" not in server.ok("applist")["app"]


def test_applist_lists_only_what_the_caller_may_call(server: Server) -> None:
    name, token = limited_reseller(server, ["basic-whm-functions", "manage-api-tokens"])
    apps = server.ok("applist", user=name, token=token)["app"]
    assert apps == sorted(apps)
    assert {"applist", "myprivs", "api_token_create", "api_token_list"} <= set(apps)
    for refused in (
        "version",
        "createacct",
        "passwd",
        "setupreseller",
        "setacls",
        "listresellers",
        "create_user_session",
    ):
        assert refused not in apps
    # What applist leaves out is indeed refused.
    for fn in ("version", "createacct"):
        assert server.get(fn, user=name, token=token).status_code == 403


def test_applist_api0_matches_api1_for_a_reseller(server: Server) -> None:
    name, token = limited_reseller(server, ["basic-whm-functions", "basic-system-info"])
    api1 = server.ok("applist", user=name, token=token)["app"]
    api0 = server.get("applist", user=name, token=token, api_version=None).json()
    assert api0 == {"app": sorted([*api1, "loadavg"])}  # loadavg: API 0 only, any WHM user
    assert "version" in api1 and "createacct" not in api1


# -- myprivs -------------------------------------------------------------------------------


def test_myprivs_root_shape(server: Server) -> None:
    data = server.ok("myprivs")
    assert list(data) == ["privileges"]
    assert isinstance(data["privileges"], list) and len(data["privileges"]) == 1
    privs = data["privileges"][0]
    assert set(privs) == {a.name for a in acls.CATALOGUE}
    assert set(privs.values()) == {1}
    assert all(type(v) is int for v in privs.values())


def test_myprivs_reseller_is_exact(server: Server) -> None:
    name, token = limited_reseller(server, ["basic-whm-functions", "list-accts"])
    privs = server.ok("myprivs", user=name, token=token)["privileges"][0]
    assert set(privs) == {a.name for a in acls.CATALOGUE}
    assert {k for k, v in privs.items() if v == 1} == {"basic-whm-functions", "list-accts"}
    assert {v for v in privs.values()} == {0, 1}
    assert privs["all"] == 0


# -- unknown functions and api.version -----------------------------------------------------


@pytest.mark.parametrize(
    ("function", "api_version", "reason"),
    [
        ("nosuchfn", "1", "Unknown app (nosuchfn) requested for this version (1) of the API."),
        ("nosuchfn", "2", "Unknown app (nosuchfn) requested for this version (2) of the API."),
        ("version", "2", "Unknown app (version) requested for this version (2) of the API."),
        ("no-such.fn", "1", "Unknown app (no-such.fn) requested for this version (1) of the API."),
        ("nosuchfn", None, "Unknown app (nosuchfn) requested for this version (0) of the API."),
        # Not in 11.120's API 0 table (Whostmgr/XMLUI/Meta.pm), though xmlapi-php and
        # cPanel::PublicAPI still call them: cPanel's setresellerpackagelimit has no `s`.
        (
            "setresellerpackagelimits",
            None,
            "Unknown app (setresellerpackagelimits) requested for this version (0) of the API.",
        ),
        (
            "getlanglist",
            None,
            "Unknown app (getlanglist) requested for this version (0) of the API.",
        ),
    ],
)
def test_unknown_function(
    server: Server, function: str, api_version: str | None, reason: str
) -> None:
    response = server.get(function, api_version=api_version)
    assert response.status_code == 200
    payload = response.json()
    assert payload["metadata"] == {"command": function, "reason": reason, "result": 0, "version": 1}
    assert UNKNOWN_RE.search(payload["metadata"]["reason"])


# -- compact JSON --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("function", "params"),
    [
        ("version", {}),
        ("applist", {}),
        ("myprivs", {}),
        ("nosuchfn", {}),
        ("setupreseller", {"user": "nobody-here"}),
    ],
)
def test_json_is_compact(server: Server, function: str, params: dict[str, str]) -> None:
    raw = server.get(function, params=params).content
    assert b'"result":' in raw
    assert b": " not in raw and b", " not in raw
    assert b"\n" not in raw
