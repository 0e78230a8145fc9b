"""The minimum password strengths and where they apply, over real HTTP (and the command line):
WHM API 1 `get_password_strength`, `getminimumpasswordstrengths`, `setminimumpasswordstrengths`
(Whostmgr/API/1/Accounts.pm, Security.pm, Whostmgr/Security.pm), UAPI
`PasswdStrength::get_required_strength`, and the refusal of a weak password by createacct and
passwd (API 1 and API 0, root's own password too) and `gatehouse passwd`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from conftest import Server
from whm_helpers import new_name

APPS = ["cpaddons", "createacct", "ftp", "list", "mysql", "passwd", "postgres", "sshkey", "virtual"]
SETTINGS = ["default", *APPS]
STRONG = "Xk9#mQ2!vL7p"  # rates 100
WEAK = "zyxwvutsrq"  # long enough (10); rates 27 on the formula, 1 with cracklib
MEDIUM = "qmzrkwlp"  # 53, cracklib or not


def too_weak(required: int) -> str:
    return (
        "Sorry, the password you selected cannot be used because it is too weak and would be "
        f"too easy to guess. Please select a password with strength rating of {required} or "
        "higher."
    )


@pytest.fixture(autouse=True)
def cpanel_defaults(server: Server) -> Iterator[None]:
    """Each test starts and leaves the shared server on cPanel's defaults (65, no app's own)."""
    reset = {"default": "65", **{app: "" for app in APPS}}
    server.ok("setminimumpasswordstrengths", params=reset)
    yield
    server.ok("setminimumpasswordstrengths", params=reset)


def strengths(server: Server, **params: str) -> dict[str, int]:
    return dict(server.ok("getminimumpasswordstrengths", params=params))


def required(server: Server, app: str | None) -> Any:
    user, token = server.account_with_token()
    params = {} if app is None else {"app": app}
    body = server.uapi(user, "PasswdStrength", "get_required_strength", token=token, **params)
    assert body.status_code == 200
    return body.json()


# -- get_password_strength -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "strength"),
    [("", 0), ("abc", 1), (MEDIUM, 53), (STRONG, 100), ("héllo wörld", 100)],
)
def test_get_password_strength(server: Server, password: str, strength: int) -> None:
    assert server.ok("get_password_strength", params={"password": password}) == {
        "strength": strength
    }


def test_get_password_strength_without_password(server: Server) -> None:
    body = server.get("get_password_strength").json()
    assert body["metadata"]["result"] == 0
    assert body["metadata"]["reason"] == "password parameter was not passed"


def test_get_password_strength_is_for_any_whm_user(server: Server) -> None:
    user, token = server.reseller(privileges=[])
    data = server.ok("get_password_strength", token=token, user=user, params={"password": STRONG})
    assert data == {"strength": 100}


# -- getminimumpasswordstrengths ------------------------------------------------------------


def test_new_server_requires_65_everywhere(server: Server) -> None:
    assert strengths(server) == dict.fromkeys(SETTINGS, 65)


@pytest.mark.parametrize("name", ["default", "virtual", "ftp"])
def test_get_one_setting(server: Server, name: str) -> None:
    assert strengths(server, name=name) == {name: 65}


@pytest.mark.parametrize("name", ["pop", "webdisk", "minpwstrength", "Default"])
def test_get_unknown_setting(server: Server, name: str) -> None:
    assert server.fail("getminimumpasswordstrengths", params={"name": name}) == (
        f"“{name}” is not a valid password strength setting."
    )


def test_minimum_strengths_are_roots(server: Server) -> None:
    user, token = server.reseller()
    for function in ("getminimumpasswordstrengths", "setminimumpasswordstrengths"):
        response = server.get(function, token=token, user=user, params={"default": "10"})
        assert response.status_code == 403
        assert response.json()["metadata"]["reason"] == (
            f"Access denied: calling “{function}” requires the “all” privilege."
        )
    assert strengths(server)["default"] == 65


# -- setminimumpasswordstrengths -------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [("67", 65), ("68", 70), ("2", 0), ("3", 5), ("0", 0), ("100", 100), ("007", 5)],
)
def test_default_is_rounded_to_a_multiple_of_5(server: Server, given: str, stored: int) -> None:
    server.ok("setminimumpasswordstrengths", params={"default": given})
    assert strengths(server, name="default") == {"default": stored}


def test_an_application_keeps_its_exact_value(server: Server) -> None:
    server.ok("setminimumpasswordstrengths", params={"passwd": "67", "default": "40"})
    assert strengths(server) == {**dict.fromkeys(SETTINGS, 40), "passwd": 67}


def test_an_empty_value_returns_the_application_to_the_default(server: Server) -> None:
    server.ok("setminimumpasswordstrengths", params={"mysql": "90"})
    server.ok("setminimumpasswordstrengths", params={"mysql": "", "default": "50"})
    assert strengths(server, name="mysql") == {"mysql": 50}


def test_answer_is_metadata_only(server: Server) -> None:
    body = server.get("setminimumpasswordstrengths", params={"list": "10"}).json()
    assert body == {
        "metadata": {
            "command": "setminimumpasswordstrengths",
            "reason": "OK",
            "result": 1,
            "version": 1,
        }
    }


@pytest.mark.parametrize("value", ["abc", "-1", "101", "00", "5.0", " 5", "\u0663", "50\n"])
def test_invalid_value_is_refused_and_nothing_is_stored(server: Server, value: str) -> None:
    params = {"default": "30", "passwd": value}
    assert server.fail("setminimumpasswordstrengths", params=params) == (
        f"Invalid value for “passwd”: {value}"
    )
    assert strengths(server) == dict.fromkeys(SETTINGS, 65)


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({}, "No new values were given."),
        ({"default": ""}, "The value for “default” may not be empty or undefined."),
    ],
    ids=["nothing", "empty-default"],
)
def test_set_refusals(server: Server, params: dict[str, str], reason: str) -> None:
    assert server.fail("setminimumpasswordstrengths", params=params) == reason


def test_other_arguments_are_ignored(server: Server) -> None:
    server.ok("setminimumpasswordstrengths", params={"pop": "10", "sshkey": "20"})
    assert strengths(server) == {**dict.fromkeys(SETTINGS, 65), "sshkey": 20}


def test_set_reaches_variables(server: Server) -> None:
    server.ok("setminimumpasswordstrengths", params={"default": "80", "mysql": "33"})
    user, token = server.account_with_token()
    body = server.uapi(user, "Variables", "get_server_information", token=token).json()
    assert body["data"]["minimum_password_strength"] == "80"
    assert body["data"]["minimum_password_strength_mysql"] == "33"


# -- UAPI PasswdStrength::get_required_strength -----------------------------------------------


@pytest.mark.parametrize(
    ("app", "strength"),
    [
        ("passwd", 44),  # its own
        ("createacct", 70),  # the default
        ("virtual", 22),
        ("pop", 22),  # pop, ftp and webdisk read virtual's ...
        ("webdisk", 22),
        ("ftp", 22),  # ... ftp even with its own setting
        ("htaccess", 70),  # any other name: the default
        ("", 0),
        (None, 0),
    ],
)
def test_required_strength(server: Server, app: str | None, strength: int) -> None:
    server.ok(
        "setminimumpasswordstrengths",
        params={"default": "70", "passwd": "44", "virtual": "22", "ftp": "99"},
    )
    body = required(server, app)
    assert (body["status"], body["data"], body["errors"]) == (1, {"strength": strength}, None)


# -- where new passwords must be strong enough ------------------------------------------------


def _new_account(password: str) -> dict[str, str]:
    name = new_name()
    return {"username": name, "domain": f"{name}.example.com", "password": password}


def test_createacct_refuses_a_weak_password(server: Server) -> None:
    params = _new_account(WEAK)
    assert server.fail("createacct", params=params) == too_weak(65)
    assert server.sql("SELECT id FROM users WHERE username = :u", u=params["username"]) == []


def test_createacct_follows_its_own_minimum(server: Server) -> None:
    server.ok("setminimumpasswordstrengths", params={"createacct": "50", "default": "100"})
    server.ok("createacct", params=_new_account(MEDIUM))
    server.ok("setminimumpasswordstrengths", params={"createacct": "100"})
    assert server.fail("createacct", params=_new_account("Xk9#mQ2!")) == too_weak(100)


def test_createacct_without_password_generates_a_strong_one(server: Server) -> None:
    server.ok("setminimumpasswordstrengths", params={"createacct": "100"})
    params = _new_account("")
    server.ok("createacct", params=params)


def test_api0_createacct_refuses_a_weak_password(server: Server) -> None:
    response = server.get("createacct", params=_new_account(WEAK), api_version=None)
    [item] = response.json()["result"]
    assert (item["status"], item["statusmsg"]) == (0, too_weak(65))


@pytest.fixture
def account(server: Server) -> tuple[str, str]:
    return server.account()


def _hash(server: Server, user: str) -> Any:
    return server.sql("SELECT password_hash FROM users WHERE username = :u", u=user)


def test_passwd_refuses_a_weak_password(server: Server, account: tuple[str, str]) -> None:
    user, _ = account
    before = _hash(server, user)
    server.ok("setminimumpasswordstrengths", params={"passwd": "90"})
    assert server.fail("passwd", params={"user": user, "password": WEAK}) == too_weak(90)
    assert _hash(server, user) == before


def test_passwd_takes_a_strong_enough_password(server: Server, account: tuple[str, str]) -> None:
    user, _ = account
    server.ok("setminimumpasswordstrengths", params={"passwd": "53", "default": "100"})
    server.ok("passwd", params={"user": user, "password": MEDIUM})


def test_api0_passwd_refuses_a_weak_password(server: Server, account: tuple[str, str]) -> None:
    user, _ = account
    params = {"user": user, "pass": WEAK}
    [item] = server.get("passwd", params=params, api_version=None).json()["passwd"]
    assert (item["status"], item["statusmsg"]) == (0, too_weak(65))


def test_roots_own_password_too(server: Server) -> None:
    before = _hash(server, "root")
    assert server.fail("passwd", params={"user": "root", "password": WEAK}) == too_weak(65)
    assert _hash(server, "root") == before


def test_cli_passwd_refuses_a_weak_password(server: Server, account: tuple[str, str]) -> None:
    user, _ = account
    before = _hash(server, user)
    result = server.cli("passwd", user, "--password-stdin", stdin=WEAK + "\n", check=False)
    assert result.returncode != 0
    assert too_weak(65) in result.stderr
    assert "Traceback" not in result.stderr
    assert _hash(server, user) == before
