"""UAPI `LastLogin::get_last_or_current_logged_in_ip` (docs/cpanel.md): the address the
account last logged in from, as cPanel's Cpanel::LastLogin::Tiny::lastlogin answers it — the
last recorded address, or the one before it when the last is the caller's own, else the
caller's own; a string. Logins to the cPanel face (the form, `login_only`, a one-time
`create_user_session` URL) record their address, and so does every call of the function
itself, whatever the credential; nothing else does. Over HTTP, against a real
`gatehouse serve`, each client bound to a loopback address of its own (or forwarded as a
remote one by a trusted proxy)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from conftest import Server
from hulk_helpers import client_as, counted_node, loopback_address, remote_address

FUNCTION = "/execute/LastLogin/get_last_or_current_logged_in_ip"


def _answer(response: httpx.Response) -> Any:
    body = response.json()
    assert response.status_code == 200 and body["status"] == 1, response.text
    return body["data"]


def _by_token(server: Server, client: httpx.Client, user: str, token: str) -> Any:
    response = client.get(
        f"{server.cpanel_url}{FUNCTION}", headers={"Authorization": f"cpanel {user}:{token}"}
    )
    return _answer(response)


def _by_session(server: Server, client: httpx.Client, session: tuple[str, str]) -> Any:
    prefix, cookie = session
    response = client.get(
        f"{server.cpanel_url}{prefix}{FUNCTION}", headers={"Cookie": f"cpsession={cookie}"}
    )
    return _answer(response)


def _form_login(server: Server, client: httpx.Client, user: str, password: str) -> tuple[str, str]:
    """The login form at the face's root, as a browser posts it (its CSRF cookie and field)."""
    form = client.get(f"{server.cpanel_url}/login/")
    csrf = form.cookies["gatehouse_login"]
    response = client.post(
        f"{server.cpanel_url}/login/",
        data={"user": user, "pass": password, "csrf_token": csrf},
        headers={"Cookie": f"gatehouse_login={csrf}"},
    )
    assert response.status_code == 303, response.text
    return response.headers["location"].rstrip("/"), response.cookies["cpsession"]


def _program_login(
    server: Server, client: httpx.Client, user: str, password: str
) -> tuple[str, str]:
    """cpsrvd's login for programs: `POST /login/?login_only=1`."""
    response = client.post(
        f"{server.cpanel_url}/login/?login_only=1", data={"user": user, "pass": password}
    )
    assert response.status_code == 200, response.text
    return response.json()["security_token"], response.cookies["cpsession"]


def _url_login(server: Server, client: httpx.Client, user: str, _password: str) -> tuple[str, str]:
    """A billing system's "log in to cPanel": WHM's create_user_session, the URL followed."""
    data = server.ok("create_user_session", params={"user": user, "service": "cpaneld"})
    parts = urlsplit(data["url"])
    response = client.get(f"{server.cpanel_url}{parts.path}?{parts.query}")
    assert response.status_code == 303, response.text
    return str(data["cp_security_token"]), response.cookies["cpsession"]


LOGINS = {"form": _form_login, "login_only": _program_login, "url": _url_login}


@pytest.fixture
def account(server: Server) -> tuple[str, str, str]:
    """A fresh account: (user, password, cPanel token). The token is made over Basic auth,
    which records nothing."""
    user, password = server.account()
    return user, password, server.cpanel_token(user, password)


@pytest.fixture
def addresses() -> Iterator[dict[str, str]]:
    """Loopback addresses of the test's own, by letter."""
    yield {letter: loopback_address() for letter in "ABC"}


def test_with_nothing_recorded_the_answer_is_the_callers_own_address(
    server: Server, account: tuple[str, str, str]
) -> None:
    """cPanel's `$previous_host || $currenthost`: a string (not a list, not null), in the flat
    result object."""
    user, _password, token = account
    address = loopback_address()
    with client_as(address) as client:
        response = client.get(
            f"{server.cpanel_url}{FUNCTION}",
            headers={"Authorization": f"cpanel {user}:{token}"},
        )
    assert response.status_code == 200
    assert response.text == (
        f'{{"data":"{address}","errors":null,"messages":null,"metadata":{{}},"status":1,'
        '"warnings":null}'
    )


@pytest.mark.parametrize("login", sorted(LOGINS))
def test_a_login_is_the_last_address_for_a_caller_elsewhere(
    server: Server, account: tuple[str, str, str], addresses: dict[str, str], login: str
) -> None:
    """Logged in from A; asked from B, with the session or with a token: A. The session's call
    records B, and B asking again is answered the address before its own: still A."""
    user, password, token = account
    with client_as(addresses["A"]) as a:
        session = LOGINS[login](server, a, user, password)
    with client_as(addresses["B"]) as b:
        assert _by_session(server, b, session) == addresses["A"]
        assert _by_token(server, b, user, token) == addresses["A"]


def test_the_home_page_shows_the_last_login_as_jupiters_does(
    server: Server, account: tuple[str, str, str], addresses: dict[str, str]
) -> None:
    """Jupiter's home page calls the function ("Last Login IP Address"), recording the
    browser's address as it shows the one before."""
    user, password, token = account
    with client_as(addresses["A"]) as a:
        prefix, cookie = _form_login(server, a, user, password)
    with client_as(addresses["B"]) as b:  # the same session, the browser elsewhere now
        home = b.get(f"{server.cpanel_url}{prefix}/", headers={"Cookie": f"cpsession={cookie}"})
    assert home.status_code == 200
    shown = f'<p id="last-login">Last login IP address: <strong>{addresses["A"]}</strong></p>'
    assert shown in home.text
    with client_as(addresses["C"]) as c:
        assert _by_token(server, c, user, token) == addresses["B"]


# Each case: the events in order — `login X` (the login form from X) or `call X` (the function,
# with a token, from X) — and what each call answers.
SEQUENCES = [
    pytest.param(["login A", "call A"], ["A"], id="only-the-callers-own"),
    pytest.param(["login A", "login B", "call B"], ["A"], id="own-last-so-the-one-before"),
    pytest.param(["login A", "login B", "call C"], ["B"], id="another-caller-gets-the-last"),
    pytest.param(["login A", "login A", "call A"], ["A"], id="a-repeat-adds-nothing"),
    pytest.param(["login A", "login B", "login A", "call A"], ["B"], id="back-to-A"),
    pytest.param(["call A", "call B", "call B"], ["A", "A", "A"], id="calls-record-too"),
    pytest.param(["login A", "call B", "call A"], ["A", "B"], id="a-call-is-the-last-login"),
    pytest.param(["login A", "login B", "login C", "call A"], ["C"], id="older-ones-drop"),
]


@pytest.mark.parametrize(("events", "answers"), SEQUENCES)
def test_last_or_current(
    server: Server,
    account: tuple[str, str, str],
    addresses: dict[str, str],
    events: list[str],
    answers: list[str],
) -> None:
    user, password, token = account
    got = []
    for event in events:
        kind, letter = event.split()
        with client_as(addresses[letter]) as client:
            if kind == "login":
                _form_login(server, client, user, password)
            else:
                got.append(_by_token(server, client, user, token))
    assert got == [addresses[letter] for letter in answers]


@pytest.mark.parametrize("login", ["form", "login_only"])
def test_a_failed_login_records_nothing(
    server: Server, account: tuple[str, str, str], addresses: dict[str, str], login: str
) -> None:
    user, password, token = account
    with client_as(addresses["A"]) as a:
        _program_login(server, a, user, password)
    with client_as(addresses["B"]) as b:
        if login == "form":
            form = b.get(f"{server.cpanel_url}/login/")
            csrf = form.cookies["gatehouse_login"]
            refused = b.post(
                f"{server.cpanel_url}/login/",
                data={"user": user, "pass": "not-the-password", "csrf_token": csrf},
                headers={"Cookie": f"gatehouse_login={csrf}"},
            )
        else:
            refused = b.post(
                f"{server.cpanel_url}/login/?login_only=1",
                data={"user": user, "pass": "not-the-password"},
            )
        assert refused.status_code == 401
    with client_as(addresses["A"]) as a:
        assert _by_token(server, a, user, token) == addresses["A"]  # B would be the last


def test_other_calls_record_nothing(
    server: Server, account: tuple[str, str, str], addresses: dict[str, str]
) -> None:
    """A token, a password (Basic auth) or a session calling anything but LastLogin is no
    login: cPanel writes ~/.lastlogin only in Tiny::lastlogin."""
    user, password, token = account
    with client_as(addresses["A"]) as a:
        prefix, cookie = _program_login(server, a, user, password)
    with client_as(addresses["B"]) as b:
        listed = f"{server.cpanel_url}/execute/DomainInfo/list_domains"
        assert b.get(listed, headers={"Authorization": f"cpanel {user}:{token}"}).json()["status"]
        assert b.get(listed, auth=(user, password)).json()["status"] == 1
        in_session = b.get(
            f"{server.cpanel_url}{prefix}/execute/DomainInfo/list_domains",
            headers={"Cookie": f"cpsession={cookie}"},
        )
        assert in_session.json()["status"] == 1
    with client_as(addresses["A"]) as a:
        assert _by_token(server, a, user, token) == addresses["A"]


def test_a_whm_login_is_not_a_cpanel_login(server: Server, addresses: dict[str, str]) -> None:
    """A reseller's WHM login is not its cPanel account's: WHM's pages do not call LastLogin."""
    user, password = server.account(reseller=True)
    token = server.cpanel_token(user, password)
    with client_as(addresses["B"]) as b:
        response = b.post(
            f"{server.url}/login/?login_only=1", data={"user": user, "pass": password}
        )
        assert response.status_code == 200, response.text
    with client_as(addresses["A"]) as a:
        assert _by_token(server, a, user, token) == addresses["A"]


def test_whms_cpanel_function_records_its_callers_address(
    server: Server, account: tuple[str, str, str], addresses: dict[str, str]
) -> None:
    """Through WHM's `cpanel` function cPanel runs the function as the account with the WHM
    request's REMOTE_ADDR (Whostmgr/XMLUI/cPanel.pm), so that caller's address is recorded."""
    user, _password, token = account
    with client_as(addresses["B"]) as b:
        via_whm = server.get(
            "cpanel",
            params={
                "cpanel_jsonapi_user": user,
                "cpanel_jsonapi_apiversion": "3",
                "cpanel_jsonapi_module": "LastLogin",
                "cpanel_jsonapi_func": "get_last_or_current_logged_in_ip",
            },
            client=b,
        )
    assert via_whm.json()["result"]["data"] == addresses["B"]
    with client_as(addresses["A"]) as a:
        assert _by_token(server, a, user, token) == addresses["B"]


# -- the client's address behind a trusted proxy ------------------------------------------------


@pytest.fixture(scope="module")
def proxied(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A node on the suite's store that trusts a proxy on 127.0.0.1."""
    with counted_node(server, tmp_path_factory, "lastlogin-proxied") as node:
        yield node


def test_behind_a_trusted_proxy_the_forwarded_address_is_recorded(
    proxied: Server, account: tuple[str, str, str]
) -> None:
    user, password, token = account
    first, second = remote_address(), remote_address()
    with client_as(first) as client:
        _program_login(proxied, client, user, password)
    with client_as(second) as client:
        assert _by_token(proxied, client, user, token) == first
    with client_as(first) as client:
        assert _by_token(proxied, client, user, token) == second


def test_an_untrusted_peers_forwarded_header_is_ignored(
    server: Server, account: tuple[str, str, str], addresses: dict[str, str]
) -> None:
    """The suite's server trusts no proxy: X-Forwarded-For is the client's own word."""
    user, password, token = account
    with client_as(addresses["A"]) as a:
        a.headers["X-Forwarded-For"] = remote_address()
        _program_login(server, a, user, password)
    with client_as(addresses["B"]) as b:
        assert _by_token(server, b, user, token) == addresses["A"]


@pytest.mark.parametrize(
    ("events", "answers"),
    [
        pytest.param(["call V6"], ["V6"], id="nothing-recorded-its-own"),
        pytest.param(["call R", "call V6"], ["R", "R"], id="the-last-ipv4-one"),
        pytest.param(["login R", "login V6", "call R"], ["R"], id="an-ipv6-login-adds-nothing"),
    ],
)
def test_ipv6_addresses_are_answered_but_not_recorded(
    proxied: Server, account: tuple[str, str, str], events: list[str], answers: list[str]
) -> None:
    """Tiny.pm writes only what Cpanel::Validate::IP::v4 accepts."""
    user, password, token = account
    named = {"R": remote_address(), "V6": f"2001:db8::{loopback_address().split('.')[-1]}"}
    got = []
    for event in events:
        kind, name = event.split()
        with client_as(named[name]) as client:
            if kind == "login":
                _program_login(proxied, client, user, password)
            else:
                got.append(_by_token(proxied, client, user, token))
    assert got == [named[name] for name in answers]


# -- the command line, the store, bad paths ---------------------------------------------------


def _cli_answer(server: Server, user: str) -> Any:
    out = server.cli(
        "uapi", "--user", user, "LastLogin", "get_last_or_current_logged_in_ip", "--output", "json"
    )
    return json.loads(out.stdout)["result"]["data"]


def test_the_command_line_reads_without_recording(
    server: Server, account: tuple[str, str, str], addresses: dict[str, str]
) -> None:
    """cPanel's `uapi` has no REMOTE_ADDR: the last address, else `""`; nothing written."""
    user, password, token = account
    assert _cli_answer(server, user) == ""
    with client_as(addresses["A"]) as a:
        _program_login(server, a, user, password)
    with client_as(addresses["B"]) as b:
        _program_login(server, b, user, password)
    assert _cli_answer(server, user) == addresses["B"]
    assert _cli_answer(server, user) == addresses["B"]
    with client_as(addresses["C"]) as c:
        assert _by_token(server, c, user, token) == addresses["B"]


def test_the_store_keeps_two_addresses_and_no_secret(
    server: Server, account: tuple[str, str, str]
) -> None:
    user, password, token = account
    seen = [loopback_address() for _ in range(6)]
    for address in seen:
        with client_as(address) as client:
            _program_login(server, client, user, password)
    rows = server.sql(
        "SELECT l.* FROM last_logins l JOIN users u ON u.id = l.user_id WHERE u.username = :u",
        u=user,
    )
    assert len(rows) == 1
    _user_id, latest, previous = rows[0]
    assert (latest, previous) == (seen[-1], seen[-2])
    assert password not in repr(rows) and token not in repr(rows)


def test_removing_the_account_removes_its_record(server: Server) -> None:
    user, password = server.account()
    with client_as(loopback_address()) as client:
        _program_login(server, client, user, password)
    [(user_id,)] = server.sql("SELECT id FROM users WHERE username = :u", u=user)
    recorded = "SELECT count(*) FROM last_logins WHERE user_id = :i"
    assert server.sql(recorded, i=user_id) == [(1,)]
    server.ok("removeacct", params={"user": user})
    assert server.sql(recorded, i=user_id) == [(0,)]


def test_the_record_follows_a_renamed_account(server: Server) -> None:
    """cPanel's file is in the account's home, which a rename keeps."""
    user, password = server.account()
    address = loopback_address()
    with client_as(address) as client:
        _program_login(server, client, user, password)
    renamed = "r" + user[1:]
    server.ok("modifyacct", params={"user": user, "newuser": renamed})
    assert _cli_answer(server, renamed) == address


def test_arguments_are_ignored(server: Server, account: tuple[str, str, str]) -> None:
    user, _password, token = account
    address = loopback_address()
    with client_as(address) as client:
        response = client.get(
            f"{server.cpanel_url}{FUNCTION}",
            params={"user": "root", "ip": "192.0.2.1"},
            headers={"Authorization": f"cpanel {user}:{token}"},
        )
    assert _answer(response) == address


@pytest.mark.parametrize(
    ("api", "module", "func", "error"),
    [
        ("3", "LastLogin", "lastlogin",
         "The system could not find the function “lastlogin” in the module “LastLogin”."),
        ("3", "lastlogin", "get_last_or_current_logged_in_ip",
         "Failed to load module “lastlogin”: The system failed to load the module "
         "“Cpanel::API::lastlogin” because it does not exist."),
        ("2", "LastLogin", "getloginip",
         "Execution of LastLogin::getloginip could not be completed because the function could "
         "not be resolved"),
        ("2", "LastLogin", "get_last_or_current_logged_in_ip",
         "Execution of LastLogin::get_last_or_current_logged_in_ip could not be completed "
         "because the function could not be resolved"),
    ],
    ids=["unknown-function", "module-name-is-case-sensitive", "no-api2", "no-api2-of-the-uapi"],
)  # fmt: skip
def test_names_cpanel_does_not_have(
    server: Server, account: tuple[str, str, str], api: str, module: str, func: str, error: str
) -> None:
    """cPanel has no API 2 LastLogin (Cpanel/LastLogin.pm defines no api2 function)."""
    user, _password, token = account
    response = server.cpanel_get(
        "/json-api/cpanel",
        auth=f"cpanel {user}:{token}",
        params={
            "cpanel_jsonapi_apiversion": api,
            "cpanel_jsonapi_module": module,
            "cpanel_jsonapi_func": func,
        },
    )
    assert response.status_code == 200
    body = response.json()
    if api == "3":
        assert body["result"]["status"] == 0 and body["result"]["errors"] == [error]
    else:
        assert body["cpanelresult"]["error"] == error


@pytest.mark.parametrize("how", ["no-credential", "wrong-token", "revoked-token", "other-user"])
def test_a_refused_caller_records_nothing(
    server: Server, account: tuple[str, str, str], addresses: dict[str, str], how: str
) -> None:
    user, password, token = account
    other, other_password = server.account()
    other_token = server.cpanel_token(other, other_password)
    headers: dict[str, str] = {}
    path = FUNCTION
    if how == "wrong-token":
        headers["Authorization"] = f"cpanel {user}:{'X' * 32}"
    elif how == "revoked-token":
        name = f"doomed-{addresses['B'].replace('.', '-')}"
        doomed = server.cpanel_token(user, password, name=name)
        assert server.uapi(user, "Tokens", "revoke", token=token, name=name).json()["status"]
        headers["Authorization"] = f"cpanel {user}:{doomed}"
    elif how == "other-user":
        # The other account's token naming this one: the cPanel face refuses it.
        headers["Authorization"] = f"cpanel {other}:{other_token}"
        path = (
            "/json-api/cpanel?cpanel_jsonapi_apiversion=3&cpanel_jsonapi_module=LastLogin"
            f"&cpanel_jsonapi_func=get_last_or_current_logged_in_ip&cpanel_jsonapi_user={user}"
        )
    with client_as(addresses["B"]) as b:
        response = b.get(f"{server.cpanel_url}{path}", headers=headers)
    assert response.status_code in (200, 401, 403)
    assert addresses["B"] not in response.text
    with client_as(addresses["A"]) as a:
        assert _by_token(server, a, user, token) == addresses["A"]
