"""cpsrvd's login for programs on both faces (docs/authentication.md, *Logging in from a
program*): `POST /login/?login_only=1` with `user` and `pass` answers JSON — HTTP 200
`{"redirect","security_token","status":1}` with the session cookie and a `Location` header,
or HTTP 401 `{"message":"invalid_login","status":0}` (recorded answers) — and the session
then serves `/cpsessN/json-api/…` (WHM) or `/cpsessN/execute/…` and `/json-api/cpanel`
(cPanel) with its cookie. Over HTTP, against a real `gatehouse serve`."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from audit_helpers import audited_since, last_audit_id
from conftest import Server

TOKEN_RE = re.compile(r"^/cpsess[0-9]{10}$")
INVALID = {"message": "invalid_login", "status": 0}


def _post(url: str, **kw: Any) -> httpx.Response:
    """No redirects followed, no cookie jar: each test says which cookie it sends."""
    return httpx.post(url, follow_redirects=False, timeout=30, **kw)


def _get(url: str, **kw: Any) -> httpx.Response:
    return httpx.get(url, follow_redirects=False, timeout=30, **kw)


def _face(server: Server, face: str) -> tuple[str, str]:
    """The face's base URL and its session cookie's name."""
    return (server.url, "whostmgrsession") if face == "whm" else (server.cpanel_url, "cpsession")


def _user(server: Server, face: str) -> tuple[str, str]:
    """Someone who may log in to the face: a reseller on WHM, an account on cPanel."""
    return server.account(reseller=face == "whm")


@pytest.mark.parametrize("face", ["whm", "cpanel"])
@pytest.mark.parametrize(
    ("path", "in_body"),
    [("/login/?login_only=1", False), ("/login", True), ("/login/", True)],
    ids=["query", "body-no-slash", "body"],
)
def test_a_program_logs_in_and_gets_the_security_token(
    server: Server, face: str, path: str, in_body: bool
) -> None:
    """As cPanel::APIClient (POST /login, login_only in the form) and the scripts that post to
    /login/?login_only=1 do it."""
    base, cookie_name = _face(server, face)
    user, password = _user(server, face)
    form = {"user": user, "pass": password, **({"login_only": "1"} if in_body else {})}
    response = _post(f"{base}{path}", data=form)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"redirect", "security_token", "status"}
    assert body["status"] == 1 and TOKEN_RE.match(body["security_token"])
    assert body["redirect"] == body["security_token"] + "/"
    assert response.headers["location"] == body["redirect"]  # cPanel::APIClient reads it
    assert response.text == (
        f'{{"redirect":"{body["redirect"]}","security_token":"{body["security_token"]}",'
        '"status":1}'
    )
    assert response.cookies[cookie_name]
    header = response.headers["set-cookie"].lower()
    assert "httponly" in header and "samesite=strict" in header


def test_a_whm_login_serves_the_api_under_its_prefix(server: Server) -> None:
    user, password = _user(server, "whm")
    response = _post(f"{server.url}/login/?login_only=1", data={"user": user, "pass": password})
    token, cookie = response.json()["security_token"], response.cookies["whostmgrsession"]
    answer = _get(
        f"{server.url}{token}/json-api/myprivs",
        params={"api.version": "1"},
        headers={"Cookie": f"whostmgrsession={cookie}"},
    )
    assert answer.status_code == 200
    assert answer.json()["metadata"]["result"] == 1


def test_a_cpanel_login_serves_uapi_and_api2_under_its_prefix(server: Server) -> None:
    user, password = _user(server, "cpanel")
    response = _post(
        f"{server.cpanel_url}/login/?login_only=1", data={"user": user, "pass": password}
    )
    token, cookie = response.json()["security_token"], response.cookies["cpsession"]
    jar = {"Cookie": f"cpsession={cookie}"}
    uapi = _get(f"{server.cpanel_url}{token}/execute/DomainInfo/list_domains", headers=jar)
    assert uapi.status_code == 200
    assert uapi.json()["status"] == 1
    assert uapi.json()["data"]["main_domain"] == f"{user}.example.com"
    api2 = _get(
        f"{server.cpanel_url}{token}/json-api/cpanel",
        params={
            "cpanel_jsonapi_apiversion": "2",
            "cpanel_jsonapi_module": "ZoneEdit",
            "cpanel_jsonapi_func": "fetchzones",
        },
        headers=jar,
    )
    assert api2.status_code == 200
    assert f"{user}.example.com" in api2.json()["cpanelresult"]["data"][0]["zones"]


@pytest.mark.parametrize(
    "how",
    ["no-prefix", "other-prefix", "wrong-cookie", "whm-cookie-name"],
)
def test_a_cpanel_session_needs_its_prefix_and_its_cookie(server: Server, how: str) -> None:
    """The prefix, which another site cannot know, is what makes a cookie usable (cPanel's
    security token): a cookie alone, or with another session's prefix, authenticates nothing."""
    user, password = _user(server, "cpanel")
    response = _post(
        f"{server.cpanel_url}/login/?login_only=1", data={"user": user, "pass": password}
    )
    token, cookie = response.json()["security_token"], response.cookies["cpsession"]
    other = f"/cpsess{(int(token.removeprefix('/cpsess')) + 1) % 10**10:010d}"
    prefix, jar = {
        "no-prefix": ("", f"cpsession={cookie}"),
        "other-prefix": (other, f"cpsession={cookie}"),
        "wrong-cookie": (token, "cpsession=wrong"),
        "whm-cookie-name": (token, f"whostmgrsession={cookie}"),
    }[how]
    answer = _get(
        f"{server.cpanel_url}{prefix}/execute/DomainInfo/list_domains", headers={"Cookie": jar}
    )
    assert answer.status_code == 401
    assert answer.json()["errors"] == ["Access denied"]


def test_a_cpanel_session_ends_with_suspension(server: Server) -> None:
    user, password = _user(server, "cpanel")
    response = _post(
        f"{server.cpanel_url}/login/?login_only=1", data={"user": user, "pass": password}
    )
    token, cookie = response.json()["security_token"], response.cookies["cpsession"]
    url = f"{server.cpanel_url}{token}/execute/DomainInfo/list_domains"
    assert _get(url, headers={"Cookie": f"cpsession={cookie}"}).status_code == 200
    server.ok("suspendacct", params={"user": user})
    assert _get(url, headers={"Cookie": f"cpsession={cookie}"}).status_code == 401


@pytest.mark.parametrize("face", ["whm", "cpanel"])
@pytest.mark.parametrize(
    "form",
    [
        {"user": "{user}", "pass": "not-the-password"},
        {"user": "{user}", "pass": ""},
        {"user": "", "pass": "{password}"},
        {"user": "nosuchuser", "pass": "{password}"},
        {},
    ],
    ids=["wrong-password", "no-password", "no-user", "unknown-user", "nothing"],
)
def test_a_failed_login_is_invalid_login(server: Server, face: str, form: dict[str, str]) -> None:
    base, cookie_name = _face(server, face)
    user, password = _user(server, face)
    data = {k: v.format(user=user, password=password) for k, v in form.items()}
    response = _post(f"{base}/login/?login_only=1", data=data)
    assert response.status_code == 401
    assert response.text == '{"message":"invalid_login","status":0}'
    assert cookie_name not in response.cookies


@pytest.mark.parametrize("face", ["whm", "cpanel"])
def test_a_failed_login_is_audited(server: Server, face: str) -> None:
    base, _ = _face(server, face)
    user, _ = _user(server, face)
    mark = last_audit_id(server)
    _post(f"{base}/login/?login_only=1", data={"user": user, "pass": "not-the-password"})
    rows = audited_since(server, mark, "AUTHFAILURE")
    assert [(r.actor, r.detail) for r in rows] == [(user, "/login")]


@pytest.mark.parametrize(("face", "who"), [("whm", "account"), ("cpanel", "root")])
def test_each_face_takes_only_its_own_users(server: Server, face: str, who: str) -> None:
    """A plain account has no WHM; root has no cPanel account."""
    base, _ = _face(server, face)
    user, password = server.account() if who == "account" else ("root", server.root_password)
    response = _post(f"{base}/login/?login_only=1", data={"user": user, "pass": password})
    assert response.status_code == 401
    assert response.json() == INVALID


@pytest.mark.parametrize("face", ["whm", "cpanel"])
def test_a_browser_on_another_site_cannot_log_in(server: Server, face: str) -> None:
    """No CSRF token to send, so a cross-site POST is told apart by its Origin (browsers send
    one; programs do not): nothing is opened, no cookie set."""
    base, cookie_name = _face(server, face)
    user, password = _user(server, face)
    for origin, status in (("https://evil.example", 403), (base, 200)):
        response = _post(
            f"{base}/login/?login_only=1",
            data={"user": user, "pass": password},
            headers={"Origin": origin},
        )
        assert response.status_code == status
        assert (cookie_name in response.cookies) == (status == 200)


@pytest.mark.parametrize("face", ["whm", "cpanel"])
def test_a_form_login_needs_its_csrf_token(server: Server, face: str) -> None:
    """Without `login_only` a login is the login page's form, which carries a CSRF token bound
    to a cookie: a post without it opens nothing."""
    base, cookie_name = _face(server, face)
    user, password = _user(server, face)
    response = _post(f"{base}/login/", data={"user": user, "pass": password})
    assert response.status_code == 403
    assert cookie_name not in response.cookies


@pytest.mark.parametrize("face", ["whm", "cpanel"])
def test_a_form_login_redirects_to_the_session(server: Server, face: str) -> None:
    base, cookie_name = _face(server, face)
    user, password = _user(server, face)
    with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as client:
        form = client.get("/login/")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert form.status_code == 200 and token
        response = client.post(
            "/login/", data={"user": user, "pass": password, "csrf_token": token.group(1)}
        )
        assert response.status_code == 303
        assert TOKEN_RE.match(response.headers["location"].rstrip("/"))
        assert response.cookies[cookie_name]
        home = client.get(response.headers["location"])
        assert home.status_code == 200


def test_the_cpanel_faces_root_is_its_login_form(server: Server) -> None:
    for path in ("/", "/login/", "/login"):
        response = _get(f"{server.cpanel_url}{path}")
        assert response.status_code == 200, path
        assert "Log in to cPanel" in response.text


def test_get_login_without_the_slash_still_redirects_to_the_form(server: Server) -> None:
    response = _get(f"{server.url}/login?locale=en")
    assert response.status_code == 307
    assert response.headers["location"] == "/login/?locale=en"
