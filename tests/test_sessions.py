"""create_user_session and the browser flow it starts: one-time login URL → cookie →
`/cpsessN/` pages and `/cpsessN/json-api/` calls."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from conftest import Server
from whm_helpers import limited_reseller

CPSESS_RE = re.compile(r"^/cpsess([0-9]{10})$")


class Browserless:
    """Plain requests: no automatic redirects and no cookie jar, so every test says exactly
    which cookie it sends."""

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return httpx.get(url, follow_redirects=False, timeout=30, **kw)


@pytest.fixture
def http() -> Browserless:
    return Browserless()


def _session(server: Server, target: str = "root", **kw: Any) -> dict[str, Any]:
    data = server.ok("create_user_session", params={"user": target, "service": "whostmgrd"}, **kw)
    assert isinstance(data, dict)
    return data


def _login_path(server: Server, data: dict[str, object]) -> str:
    """The one-time URL, moved onto the test server's plain-HTTP port."""
    parts = urlsplit(str(data["url"]))
    return f"{server.url}{parts.path}?{parts.query}"


def _other_cpsess(prefix: str) -> str:
    """A different, well-formed /cpsessNNNNNNNNNN prefix."""
    digits = prefix.removeprefix("/cpsess")
    return f"/cpsess{(int(digits) + 1) % 10**10:010d}"


def _cookie(value: str) -> dict[str, str]:
    return {"Cookie": f"whostmgrsession={value}"}


def _log_in(server: Server, http: Browserless, user: str = "root") -> tuple[str, str]:
    """(cpsess path prefix, cookie value) after following a fresh login URL."""
    data = _session(server, user)
    response = http.get(_login_path(server, data))
    assert response.status_code == 303, response.text
    return str(data["cp_security_token"]), response.cookies["whostmgrsession"]


# -- create_user_session -------------------------------------------------------------------


def test_create_user_session_data(server: Server) -> None:
    before = int(time.time())
    response = server.get("create_user_session", params={"user": "root", "service": "whostmgrd"})
    after = int(time.time())
    payload = response.json()
    assert payload["metadata"] == {
        "command": "create_user_session",
        "reason": "Created session",
        "result": 1,
        "version": 1,
    }
    data = payload["data"]
    assert set(data) == {"cp_security_token", "expires", "service", "session", "url"}
    token = data["cp_security_token"]
    assert CPSESS_RE.match(token)
    assert isinstance(data["expires"], int)
    assert before + 300 <= data["expires"] <= after + 300
    assert data["service"] == "whostmgrd"
    assert re.fullmatch(r"root:[A-Za-z0-9_-]{20,}", data["session"])
    assert data["url"] == (
        f"https://127.0.0.1:{server.https_port}{token}/login/?session={data['session']}"
    )


@pytest.mark.parametrize(
    ("host", "url_host"),
    [
        ("whm.example.com", "whm.example.com"),
        ("whm.example.com:2087", "whm.example.com"),
        ("192.0.2.7:2087", "192.0.2.7"),
        ("[2001:db8::7]:2087", "[2001:db8::7]"),
        ("[::1]", "[::1]"),
        # A Host that is not a host must not be pasted into the URL we hand back.
        ("evil.example/x?y=", "127.0.0.1"),
        ("evil.example@whm.example.com", "127.0.0.1"),
        ("whm.example.com:notaport", "127.0.0.1"),
        ("[::1]junk", "127.0.0.1"),
        ("0.0.0.0", "127.0.0.1"),  # noqa: S104
    ],
)
def test_create_user_session_url_host(
    server: Server, http: Browserless, host: str, url_host: str
) -> None:
    response = http.get(
        f"{server.url}/json-api/create_user_session",
        params={"api.version": "1", "user": "root", "service": "whostmgrd"},
        headers={"Authorization": f"whm root:{server.root_token}", "Host": host},
    )
    data = response.json()["data"]
    assert data["url"] == (
        f"https://{url_host}:{server.https_port}"
        f"{data['cp_security_token']}/login/?session={data['session']}"
    )


# -- locale, preferred_domain, app (Whostmgr/API/1/Session.pm) ----------------------------------


def _root_session(server: Server, **extra: str) -> dict[str, Any]:
    params = {"user": "root", "service": "whostmgrd", **extra}
    data = server.ok("create_user_session", params=params)
    assert isinstance(data, dict)
    return data


def test_a_locale_is_returned_and_carried_by_the_url(server: Server, http: Browserless) -> None:
    data = _root_session(server, locale="pt_br")
    assert data["locale"] == "pt_br"
    assert data["url"].endswith(f"/login/?session={data['session']}&locale=pt_br")
    assert http.get(_login_path(server, data)).status_code == 303  # the login still works


def test_no_locale_no_locale_key(server: Server) -> None:
    assert "locale" not in _root_session(server)


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        (
            {"locale": "x" * 17},
            f"The “{'x' * 17}” parameter is invalid. The “{'x' * 17}” parameter may not be "
            "longer than 16 characters.",
        ),
        (
            {"preferred_domain": "not a domain"},
            "The “not a domain” parameter is invalid. The “not a domain” parameter must be a "
            "valid domain name or IP address.",
        ),
        (
            {"preferred_domain": "elsewhere.example.org"},
            "The “elsewhere.example.org” parameter is invalid. The “elsewhere.example.org” "
            "parameter must be a domain or IP address on this server.",
        ),
        (
            {"preferred_domain": "192.0.2.250"},
            "The “192.0.2.250” parameter is invalid. The “192.0.2.250” parameter must be a "
            "domain or IP address on this server.",
        ),
        ({"app": "bad app"}, "The requested application, bad app, is invalid."),
        ({"app": "a/../b"}, "The requested application, a/../b, is invalid."),
    ],
)
def test_create_user_session_refuses_bad_extras(
    server: Server, params: dict[str, str], reason: str
) -> None:
    full = {"user": "root", "service": "whostmgrd", **params}
    assert server.fail("create_user_session", params=full) == reason


def test_a_preferred_domain_of_this_server_is_the_urls_host(server: Server) -> None:
    name, _ = server.account()
    domain = f"{name}.example.com"
    for preferred, host in [
        (domain, domain),
        (domain.upper(), domain.upper()),
        ("127.0.0.1", "127.0.0.1"),
    ]:
        data = _root_session(server, preferred_domain=preferred)
        assert data["url"].startswith(f"https://{host}:{server.https_port}/cpsess"), preferred


def test_a_valid_app_changes_nothing_in_the_url(server: Server) -> None:
    data = _root_session(server, app="Email_Accounts")
    assert data["url"].endswith(f"/login/?session={data['session']}")


def test_create_user_session_for_a_reseller(server: Server) -> None:
    name, _ = server.account(reseller=True)
    data = _session(server, name)
    assert data["session"].startswith(f"{name}:")


def test_create_user_session_each_call_is_new(server: Server) -> None:
    first, second = _session(server), _session(server)
    assert first["cp_security_token"] != second["cp_security_token"]
    assert first["session"] != second["session"]


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"service": "whostmgrd"}, "The “user” parameter is required."),
        ({"user": "", "service": "whostmgrd"}, "The “user” parameter is required."),
        ({"user": "root"}, "The “service” parameter is required."),
        ({"user": "root", "service": ""}, "The “service” parameter is required."),
        *[
            (
                {"user": "root", "service": bad},
                "The “service” parameter is invalid. The only supported services for this API call "
                "are “cpaneld”, “webmaild”, and “whostmgrd”.",
            )
            for bad in ("whm", "WHOSTMGRD", "cpanel", "whostmgrd ")
        ],
        (
            {"user": "nosuchuser5", "service": "whostmgrd"},
            "You cannot create a session for the user “nosuchuser5” because they do not exist.",
        ),
        (
            {"user": "root", "service": "cpaneld"},
            "You do not have permission to create sessions for the user “root”.",
        ),
    ],
)
def test_create_user_session_refused(server: Server, params: dict[str, str], reason: str) -> None:
    assert server.fail("create_user_session", params=params) == reason


def test_create_user_session_whostmgrd_needs_a_reseller(server: Server) -> None:
    name, _ = server.account()
    reason = server.fail("create_user_session", params={"user": name, "service": "whostmgrd"})
    assert reason == (
        f"You cannot create a “whostmgrd” session for the user “{name}” because "
        "they are not a reseller."
    )


def test_create_user_session_for_a_suspended_user(server: Server) -> None:
    name, _ = server.account(reseller=True)
    server.sql("UPDATE users SET suspended = :t WHERE username = :u", t=True, u=name)
    reason = server.fail("create_user_session", params={"user": name, "service": "whostmgrd"})
    assert reason == (
        f"You cannot create a session for the user “{name}” because they are currently suspended."
    )


@pytest.fixture(scope="module")
def session_reseller(server: Server) -> tuple[str, str]:
    """A reseller with the Initial Privileges (create-user-session among them)."""
    return server.reseller()


@pytest.mark.parametrize("whose", ["root", "root-owned-reseller", "other-resellers-account"])
def test_create_user_session_reseller_for_an_account_it_does_not_own(
    server: Server, session_reseller: tuple[str, str], whose: str
) -> None:
    name, token = session_reseller
    if whose == "root":
        target = "root"
    elif whose == "root-owned-reseller":
        target, _ = server.account(reseller=True)
    else:
        other, _ = server.account(reseller=True)
        target, _ = server.account(owner=other)
    reason = server.fail(
        "create_user_session",
        user=name,
        token=token,
        params={"user": target, "service": "whostmgrd"},
    )
    assert reason == f"You do not have permission to create sessions for the user “{target}”."


def test_create_user_session_reseller_for_itself(
    server: Server, session_reseller: tuple[str, str]
) -> None:
    name, token = session_reseller
    data = _session(server, name, user=name, token=token)
    assert data["session"].startswith(f"{name}:")


def test_create_user_session_needs_the_privilege(server: Server) -> None:
    name, token = limited_reseller(server, ["basic-whm-functions"])
    response = server.get(
        "create_user_session", user=name, token=token, params={"user": name, "service": "whostmgrd"}
    )
    assert response.status_code == 403
    assert response.json()["metadata"]["result"] == 0


# -- the browser flow ----------------------------------------------------------------------


def test_login_url_sets_the_cookie_and_redirects(server: Server, http: Browserless) -> None:
    data = _session(server)
    response = http.get(_login_path(server, data))
    assert response.status_code == 303
    assert response.headers["location"] == f"{data['cp_security_token']}/"
    cookie = response.headers["set-cookie"]
    assert re.match(r"whostmgrsession=[A-Za-z0-9_-]{20,};", cookie)
    attributes = {a.strip().lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/"} <= attributes
    assert str(data["session"]).split(":", 1)[1] not in cookie  # a fresh secret, not the URL's


def test_session_cookie_calls_json_api(server: Server, http: Browserless) -> None:
    prefix, cookie = _log_in(server, http)
    response = http.get(
        f"{server.url}{prefix}/json-api/myprivs",
        params={"api.version": "1"},
        headers=_cookie(cookie),
    )
    assert response.status_code == 200
    payload = response.json()
    assert payload["metadata"]["result"] == 1
    assert payload["data"]["privileges"][0]["all"] == 1


def test_session_of_a_reseller_has_its_privileges(server: Server, http: Browserless) -> None:
    name, _ = server.account(reseller=True)
    server.ok("setacls", params={"reseller": name, "acl-basic-whm-functions": "1"})
    prefix, cookie = _log_in(server, http, name)
    response = http.get(
        f"{server.url}{prefix}/json-api/myprivs",
        params={"api.version": "1"},
        headers=_cookie(cookie),
    )
    privs = response.json()["data"]["privileges"][0]
    assert {k for k, v in privs.items() if v} == {"basic-whm-functions"}


def test_session_cookie_with_another_cpsess_is_refused(server: Server, http: Browserless) -> None:
    prefix, cookie = _log_in(server, http)
    response = http.get(
        f"{server.url}{_other_cpsess(prefix)}/json-api/myprivs",
        params={"api.version": "1"},
        headers=_cookie(cookie),
    )
    assert response.status_code == 401
    assert response.json()["metadata"]["result"] == 0


@pytest.mark.parametrize("cookie", [None, "", "not-the-secret"])
def test_session_without_a_valid_cookie_is_refused(
    server: Server, http: Browserless, cookie: str | None
) -> None:
    prefix, _ = _log_in(server, http)
    headers = _cookie(cookie) if cookie is not None else {}
    response = http.get(
        f"{server.url}{prefix}/json-api/myprivs", params={"api.version": "1"}, headers=headers
    )
    assert response.status_code == 401


def test_session_cookie_without_cpsess_is_refused(server: Server, http: Browserless) -> None:
    _, cookie = _log_in(server, http)
    response = http.get(
        f"{server.url}/json-api/myprivs", params={"api.version": "1"}, headers=_cookie(cookie)
    )
    assert response.status_code == 401


def test_login_url_works_once(server: Server, http: Browserless) -> None:
    data = _session(server)
    assert http.get(_login_path(server, data)).status_code == 303
    again = http.get(_login_path(server, data))
    assert again.status_code == 401
    assert "set-cookie" not in again.headers


def test_login_url_raced_gives_one_cookie(server: Server, http: Browserless) -> None:
    data = _session(server)
    url = _login_path(server, data)
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(lambda _: http.get(url).status_code, range(8)))
    assert statuses == [303] + [401] * 7


@pytest.mark.parametrize("tamper", ["other-cpsess", "bad-secret", "no-session", "no-secret"])
def test_login_url_tampered_is_refused(server: Server, http: Browserless, tamper: str) -> None:
    data = _session(server)
    prefix = str(data["cp_security_token"])
    session = str(data["session"])
    if tamper == "other-cpsess":
        prefix = _other_cpsess(prefix)
    query = {
        "bad-secret": f"session={session}x",
        "no-session": "",
        "no-secret": "session=root:",
    }.get(tamper, f"session={session}")
    response = http.get(f"{server.url}{prefix}/login/?{query}")
    assert response.status_code == 401
    assert "set-cookie" not in response.headers
    # The genuine URL still works afterwards: a bad attempt does not burn it.
    assert http.get(_login_path(server, data)).status_code == 303


def test_home_page_shows_the_user(server: Server, http: Browserless) -> None:
    name, _ = server.account(reseller=True)
    prefix, cookie = _log_in(server, http, name)
    response = http.get(f"{server.url}{prefix}/", headers=_cookie(cookie))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert f"Signed in to WHM as {name}." in response.text


def test_home_page_without_cookie_is_refused(server: Server, http: Browserless) -> None:
    prefix, _ = _log_in(server, http)
    assert http.get(f"{server.url}{prefix}/").status_code == 401


def test_session_ends_when_reseller_status_is_removed(server: Server, http: Browserless) -> None:
    name, _ = server.account(reseller=True)
    prefix, cookie = _log_in(server, http, name)
    server.ok("unsetupreseller", params={"user": name})
    response = http.get(
        f"{server.url}{prefix}/json-api/applist",
        params={"api.version": "1"},
        headers=_cookie(cookie),
    )
    assert response.status_code == 401


# -- cpsess prefix with token auth (compatibility.md, Requests rule 4) ---------------------


def test_cpsess_prefix_with_token_auth(server: Server, http: Browserless) -> None:
    prefix = _session(server)["cp_security_token"]
    response = http.get(
        f"{server.url}{prefix}/json-api/version",
        params={"api.version": "1"},
        headers={"Authorization": f"whm root:{server.root_token}"},
    )
    assert response.status_code == 200
    assert response.json() == {
        "data": {"version": "11.120.0.16"},
        "metadata": {"command": "version", "reason": "OK", "result": 1, "version": 1},
    }


def test_cpsess_prefix_with_token_auth_and_parameters(server: Server, http: Browserless) -> None:
    prefix = _session(server)["cp_security_token"]
    response = http.get(
        f"{server.url}{prefix}/json-api/create_user_session",
        params={"api.version": "1", "user": "root", "service": "whostmgrd"},
        headers={"Authorization": f"whm root:{server.root_token}"},
    )
    assert response.json()["metadata"]["reason"] == "Created session"


def test_cpsess_prefix_with_a_bad_token_is_refused(server: Server, http: Browserless) -> None:
    prefix = _session(server)["cp_security_token"]
    response = http.get(
        f"{server.url}{prefix}/json-api/version",
        params={"api.version": "1"},
        headers={"Authorization": "whm root:" + "A" * 32},
    )
    assert response.status_code == 401
