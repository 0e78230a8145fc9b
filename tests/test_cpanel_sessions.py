"""create_user_session with service=cpaneld (single sign-on into cPanel, as billing systems'
"Log in to cPanel" buttons do it) and the cPanel pages' session: the one-time URL on the
cPanel port → the `cpsession` cookie → `/cpsessN/` pages on 2082/2083. Over HTTP, against a
real `gatehouse serve`."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from conftest import Server

CPSESS_RE = re.compile(r"^/cpsess([0-9]{10})$")


def _get(url: str, **kw: Any) -> httpx.Response:
    """No redirects followed, no cookie jar: each test says which cookie it sends."""
    return httpx.get(url, follow_redirects=False, timeout=30, **kw)


def _cpanel_session(server: Server, target: str, **kw: Any) -> dict[str, Any]:
    data = server.ok("create_user_session", params={"user": target, "service": "cpaneld"}, **kw)
    assert isinstance(data, dict)
    return data


def _login_url(server: Server, data: dict[str, Any]) -> str:
    """The one-time URL, moved onto the test server's plain-HTTP cPanel port."""
    parts = urlsplit(str(data["url"]))
    return f"{server.cpanel_url}{parts.path}?{parts.query}"


def _log_in(server: Server, target: str) -> tuple[str, str]:
    """(cpsess prefix, cpsession cookie) after following a fresh cpaneld URL."""
    data = _cpanel_session(server, target)
    response = _get(_login_url(server, data))
    assert response.status_code == 303, response.text
    return str(data["cp_security_token"]), response.cookies["cpsession"]


# -- create_user_session, service=cpaneld -------------------------------------------------------


def test_cpaneld_session_for_an_account(server: Server) -> None:
    name, _ = server.account()
    before = int(time.time())
    response = server.get("create_user_session", params={"user": name, "service": "cpaneld"})
    after = int(time.time())
    payload = response.json()
    assert response.status_code == 200
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
    assert before + 300 <= data["expires"] <= after + 300
    assert data["service"] == "cpaneld"
    assert re.fullmatch(rf"{name}:[A-Za-z0-9_-]{{20,}}", data["session"])
    # cpsrvd's form: the host the caller used, on the cPanel TLS port.
    assert data["url"] == (
        f"https://127.0.0.1:{server.cpanel_https_port}{token}/login/?session={data['session']}"
    )


def test_cpaneld_url_uses_the_callers_host(server: Server) -> None:
    name, _ = server.account()
    response = _get(
        f"{server.url}/json-api/create_user_session",
        params={"api.version": "1", "user": name, "service": "cpaneld"},
        headers={"Authorization": f"whm root:{server.root_token}", "Host": "whm.example.com:2087"},
    )
    data = response.json()["data"]
    assert data["url"] == (
        f"https://whm.example.com:{server.cpanel_https_port}"
        f"{data['cp_security_token']}/login/?session={data['session']}"
    )


def test_cpaneld_session_by_a_reseller_for_its_own_account(server: Server) -> None:
    reseller, token = server.reseller()
    account, _ = server.account(owner=reseller)
    data = _cpanel_session(server, account, user=reseller, token=token)
    assert data["session"].startswith(f"{account}:")
    # …and for itself: a reseller made by createacct has a cPanel account too.
    assert _cpanel_session(server, reseller, user=reseller, token=token)["service"] == "cpaneld"


def test_cpaneld_session_refused_for_another_resellers_account(server: Server) -> None:
    reseller, token = server.reseller()
    other, _ = server.account(reseller=True)
    account, _ = server.account(owner=other)
    for target in (account, other, "root"):
        reason = server.fail(
            "create_user_session",
            user=reseller,
            token=token,
            params={"user": target, "service": "cpaneld"},
        )
        assert reason == f"You do not have permission to create sessions for the user “{target}”."


def test_cpaneld_session_refused_for_root(server: Server) -> None:
    reason = server.fail("create_user_session", params={"user": "root", "service": "cpaneld"})
    assert reason == "You do not have permission to create sessions for the user “root”."


def test_cpaneld_session_refused_without_a_cpanel_account(server: Server) -> None:
    name, _ = server.account(reseller=True)
    server.sql("UPDATE users SET domain = NULL WHERE username = :u", u=name)  # a WHM-only user
    reason = server.fail("create_user_session", params={"user": name, "service": "cpaneld"})
    assert reason == f"The user “{name}” does not have a cPanel account."
    assert server.sql(
        "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = :u",
        u=name,
    ) == [(0,)]


def test_cpaneld_session_refused_for_a_suspended_account(server: Server) -> None:
    name, _ = server.account()
    server.ok("suspendacct", params={"user": name})
    reason = server.fail("create_user_session", params={"user": name, "service": "cpaneld"})
    assert reason == (
        f"You cannot create a session for the user “{name}” because they are currently suspended."
    )


def test_webmaild_is_refused(server: Server) -> None:
    name, _ = server.account()
    reason = server.fail("create_user_session", params={"user": name, "service": "webmaild"})
    assert reason == (
        "This server does not serve “webmaild” sessions: it has no Webmail. Use “cpaneld” for "
        "a session in the account's cPanel interface."
    )


# -- redeeming the URL --------------------------------------------------------------------------


def test_url_sets_the_cpanel_cookie_and_redirects(server: Server) -> None:
    name, _ = server.account()
    data = _cpanel_session(server, name)
    response = _get(_login_url(server, data))
    assert response.status_code == 303
    assert response.headers["location"] == f"{data['cp_security_token']}/"
    cookie = response.headers["set-cookie"]
    assert re.match(r"cpsession=[A-Za-z0-9_-]{20,};", cookie)
    attributes = {a.strip().lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/"} <= attributes
    assert "secure" not in attributes  # plain HTTP
    assert str(data["session"]).split(":", 1)[1] not in cookie
    home = _get(
        f"{server.cpanel_url}{data['cp_security_token']}/",
        headers={"Cookie": cookie.split(";")[0]},
    )
    assert home.status_code == 200
    assert f"Signed in to cPanel as <strong>{name}</strong>" in home.text
    assert home.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in home.headers["content-security-policy"]


def test_url_over_tls_sets_a_secure_cookie(server: Server) -> None:
    name, _ = server.account()
    data = _cpanel_session(server, name)
    path = urlsplit(str(data["url"]))
    response = httpx.get(
        f"{server.cpanel_https_url}{path.path}?{path.query}",
        follow_redirects=False,
        timeout=30,
        verify=server.tls(),
    )
    assert response.status_code == 303
    assert "secure" in {a.strip().lower() for a in response.headers["set-cookie"].split(";")}


def test_url_works_once(server: Server) -> None:
    name, _ = server.account()
    data = _cpanel_session(server, name)
    assert _get(_login_url(server, data)).status_code == 303
    again = _get(_login_url(server, data))
    assert again.status_code == 401
    assert "set-cookie" not in again.headers
    assert "This login link is invalid or has expired." in again.text


def test_expired_url_is_refused(server: Server) -> None:
    name, _ = server.account()
    data = _cpanel_session(server, name)
    digits = str(data["cp_security_token"]).removeprefix("/cpsess")
    server.sql(
        "UPDATE sessions SET created_time = created_time - 301 WHERE security_token = :t", t=digits
    )
    response = _get(_login_url(server, data))
    assert response.status_code == 401
    assert "set-cookie" not in response.headers


def test_a_cpaneld_url_is_no_key_to_whm_nor_a_whostmgrd_url_to_cpanel(server: Server) -> None:
    reseller, _ = server.account(reseller=True)
    cp = _cpanel_session(server, reseller)
    path = urlsplit(str(cp["url"]))
    assert _get(f"{server.url}{path.path}?{path.query}").status_code == 401
    whm = server.ok("create_user_session", params={"user": reseller, "service": "whostmgrd"})
    path = urlsplit(str(whm["url"]))
    assert _get(f"{server.cpanel_url}{path.path}?{path.query}").status_code == 401
    # Both URLs are still unspent: each works on its own face.
    assert _get(_login_url(server, cp)).status_code == 303
    assert _get(f"{server.url}{path.path}?{path.query}").status_code == 303


def test_cpanel_cookie_is_not_a_whm_session(server: Server) -> None:
    reseller, _ = server.account(reseller=True)
    prefix, cookie = _log_in(server, reseller)
    for name in ("cpsession", "whostmgrsession"):
        response = _get(
            f"{server.url}{prefix}/json-api/myprivs",
            params={"api.version": "1"},
            headers={"Cookie": f"{name}={cookie}"},
        )
        assert response.status_code == 401
        assert (
            _get(f"{server.url}{prefix}/", headers={"Cookie": f"{name}={cookie}"}).status_code
            == 401
        )


def test_pages_need_the_session(server: Server) -> None:
    name, _ = server.account()
    prefix, cookie = _log_in(server, name)
    for headers in ({}, {"Cookie": "cpsession=wrong"}, {"Cookie": f"whostmgrsession={cookie}"}):
        response = _get(f"{server.cpanel_url}{prefix}/tokens", headers=headers)
        assert response.status_code == 401
        assert "Not signed in" in response.text
    other = f"/cpsess{(int(prefix.removeprefix('/cpsess')) + 1) % 10**10:010d}"
    response = _get(f"{server.cpanel_url}{other}/", headers={"Cookie": f"cpsession={cookie}"})
    assert response.status_code == 401


def test_suspension_ends_the_pages(server: Server) -> None:
    name, _ = server.account()
    prefix, cookie = _log_in(server, name)
    headers = {"Cookie": f"cpsession={cookie}"}
    assert _get(f"{server.cpanel_url}{prefix}/", headers=headers).status_code == 200
    server.ok("suspendacct", params={"user": name})
    assert _get(f"{server.cpanel_url}{prefix}/", headers=headers).status_code == 401


def test_a_cpanel_token_on_a_page_path_is_still_403(server: Server) -> None:
    name, password = server.account()
    token = server.cpanel_token(name, password)
    prefix, _ = _log_in(server, name)
    response = _get(
        f"{server.cpanel_url}{prefix}/tokens", headers={"Authorization": f"cpanel {name}:{token}"}
    )
    assert response.status_code == 403
    assert response.json()["cpanelresult"]["error"] == (
        "Token authentication allows access to UAPI or API 2 calls only."
    )


def test_posts_without_the_csrf_token_change_nothing(server: Server) -> None:
    name, password = server.account()
    token_name = "keepme"
    server.cpanel_token(name, password, name=token_name)
    prefix, cookie = _log_in(server, name)
    headers = {"Cookie": f"cpsession={cookie}"}
    for form in ({"name": token_name}, {"name": token_name, "csrf_token": "forged"}):
        response = httpx.post(
            f"{server.cpanel_url}{prefix}/tokens/revoke",
            data=form,
            headers=headers,
            follow_redirects=False,
            timeout=30,
        )
        assert response.status_code == 403
        assert "Form refused" in response.text
    listed = server.uapi(name, "Tokens", "list", auth=_basic(name, password)).json()
    assert [t["name"] for t in listed["data"]] == [token_name]


def _basic(user: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
