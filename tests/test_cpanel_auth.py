"""Who may use the cPanel face, and where a cPanel token may go (whm-reference §2.2, §2.5;
compatibility.md §Requests 1–4, §Responses 3–6; docs/cpanel.md).

Over real HTTP against the session's server, on both cPanel ports: `cpanel USER:TOKEN` on
every allowed path (with and without a `/cpsessNNNNNNNNNN/` prefix), 403 with cPanel's text on
every other path of both faces, Basic auth with the account's password, WHM credentials
refused, suspension and removal, expiry, revocation seen by the very next request, and the
shape of every refusal (HTTP status, envelope, audit row).
"""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

import httpx
import pytest

from conftest import Server
from gatehouse.passwords import generate_password


def _unknown_token() -> str:
    """A well-formed token no store holds. Random, not "Q" * 32: every remembered secret is
    looked for in the whole store afterwards (test_secrets.py), and other tests store long
    runs of one letter in TXT records."""
    return uuid.uuid4().hex.upper()


FORBIDDEN_TEXT = "Token authentication allows access to UAPI or API 2 calls only."


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def denials(server: Server, username: str) -> list[tuple[str, str | None]]:
    """(reason, detail) of the AUTHFAILURE rows about `username`, oldest first."""
    rows = server.sql(
        "SELECT reason, detail FROM audit_log WHERE action = 'AUTHFAILURE' AND actor = :u "
        "ORDER BY id",
        u=username,
    )
    return [(r.reason, r.detail) for r in rows]


@pytest.fixture(scope="module")
def holder(server: Server) -> dict[str, str]:
    """An account with a password and a cPanel token (made over HTTP with the password)."""
    username, password = server.account()
    token = server.cpanel_token(username, password)
    return {"user": username, "password": password, "token": token}


def uapi_result(response: httpx.Response) -> dict[str, Any]:
    """UAPI's result object: the whole body on /execute/, `result` on /json-api/cpanel."""
    body: dict[str, Any] = response.json()
    if response.request.url.path.endswith("/json-api/cpanel"):
        assert body["apiversion"] == 3, body
        return dict(body["result"])
    assert set(body) == {"data", "errors", "messages", "metadata", "status", "warnings"}, body
    return body


def list_domains_ok(response: httpx.Response, username: str) -> None:
    assert response.status_code == 200, response.text
    result = uapi_result(response)
    assert result["status"] == 1, result
    assert result["data"]["main_domain"] == f"{username}.example.com"


# -- allowed paths ---------------------------------------------------------------------------------


@pytest.mark.parametrize("https", [False, True], ids=["2082-plain", "2083-tls"])
@pytest.mark.parametrize("prefix", ["", "/cpsess0123456789"], ids=["bare", "cpsess"])
def test_token_on_every_allowed_path(
    server: Server, holder: dict[str, str], https: bool, prefix: str
) -> None:
    user, auth = holder["user"], f"cpanel {holder['user']}:{holder['token']}"
    uapi = server.cpanel_get(f"{prefix}/execute/DomainInfo/list_domains", auth=auth, https=https)
    list_domains_ok(uapi, user)
    via_json_api = server.cpanel_get(
        f"{prefix}/json-api/cpanel",
        auth=auth,
        https=https,
        params={
            "cpanel_jsonapi_apiversion": "3",
            "cpanel_jsonapi_module": "DomainInfo",
            "cpanel_jsonapi_func": "list_domains",
        },
    )
    list_domains_ok(via_json_api, user)
    # API 2 on /json-api/cpanel: the token is accepted (the answer is API 2's own).
    api2 = server.cpanel_get(
        f"{prefix}/json-api/cpanel",
        auth=auth,
        https=https,
        params={"cpanel_jsonapi_module": "NoSuchModule", "cpanel_jsonapi_func": "nothing"},
    )
    assert api2.status_code == 200
    assert api2.json()["cpanelresult"]["event"]["result"] == 0


@pytest.mark.parametrize("scheme", ["cpanel", "CPANEL", "cPanel"])
def test_scheme_word_is_case_insensitive(
    server: Server, holder: dict[str, str], scheme: str
) -> None:
    auth = f"{scheme} {holder['user']}:{holder['token']}"
    list_domains_ok(
        server.uapi(holder["user"], "DomainInfo", "list_domains", auth=auth), holder["user"]
    )


def test_parameters_from_body_whatever_the_content_type(
    server: Server, holder: dict[str, str]
) -> None:
    """compatibility.md §Requests 2: a form body read even as application/octet-stream."""
    response = httpx.post(
        f"{server.cpanel_url}/json-api/cpanel",
        content=b"cpanel_jsonapi_apiversion=3&cpanel_jsonapi_module=DomainInfo"
        b"&cpanel_jsonapi_func=list_domains",
        headers={
            "Authorization": f"cpanel {holder['user']}:{holder['token']}",
            "Content-Type": "application/octet-stream",
        },
        timeout=30,
    )
    list_domains_ok(response, holder["user"])


# -- forbidden paths -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/frontend/jupiter/index.html",
        "/json-api/listaccts",
        "/json-api/cpanelx",
        "/execute/DomainInfo",
        "/execute/DomainInfo/list_domains/extra",
        "/cpsess0123456789/frontend/jupiter/",
        "/3rdparty/phpMyAdmin/",
    ],
)
def test_valid_token_elsewhere_on_the_cpanel_face_is_forbidden(
    server: Server, holder: dict[str, str], path: str
) -> None:
    before = denials(server, holder["user"])
    response = server.cpanel_get(path, auth=f"cpanel {holder['user']}:{holder['token']}")
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["cpanelresult"]["error"] == FORBIDDEN_TEXT
    assert body["cpanelresult"]["data"] == {"reason": FORBIDDEN_TEXT, "result": "0"}
    after = denials(server, holder["user"])
    # The audit trail names the path without its session prefix.
    assert after[len(before) :] == [
        ("token_path_forbidden", path.removeprefix("/cpsess0123456789"))
    ]


@pytest.mark.parametrize(
    "function", ["version", "listaccts", "api_token_list", "cpanel", "applist"]
)
def test_valid_token_on_whm_is_forbidden(
    server: Server, holder: dict[str, str], function: str
) -> None:
    response = server.get(function, auth=f"cpanel {holder['user']}:{holder['token']}")
    assert response.status_code == 403, response.text
    assert response.json()["metadata"] == {
        "command": function,
        "reason": FORBIDDEN_TEXT,
        "result": 0,
        "version": 1,
    }


def test_reseller_cpanel_token_is_not_a_whm_credential(server: Server) -> None:
    """A reseller has a cPanel account too: its cPanel token works on the cPanel face and is
    refused by WHM, though the reseller itself may use WHM."""
    username, password = server.account(reseller=True)
    token = server.cpanel_token(username, password)
    list_domains_ok(server.uapi(username, "DomainInfo", "list_domains", token=token), username)
    refused = server.get("version", auth=f"cpanel {username}:{token}")
    assert refused.status_code == 403
    assert server.get("version", auth=basic(username, password)).status_code == 200


def test_invalid_token_elsewhere_is_a_bad_credential(
    server: Server, holder: dict[str, str]
) -> None:
    bad = server.remember(_unknown_token())
    cp = server.cpanel_get("/frontend/jupiter/", auth=f"cpanel {holder['user']}:{bad}")
    assert cp.status_code == 401
    whm = server.get("version", auth=f"cpanel {holder['user']}:{bad}")
    assert whm.status_code == 401
    assert whm.json()["metadata"]["reason"] == "Access denied"


def test_other_paths_without_a_token(server: Server, holder: dict[str, str]) -> None:
    for auth in (None, basic(holder["user"], holder["password"])):
        response = server.cpanel_get("/frontend/jupiter/", auth=auth)
        assert response.status_code == 404
        assert response.json()["cpanelresult"]["data"]["result"] == "0"


def test_healthz_needs_no_credentials(server: Server) -> None:
    for https in (False, True):
        response = server.cpanel_get("/healthz", https=https)
        assert response.status_code == 200
        assert response.content == b'{"status":1}'


# -- Basic auth ------------------------------------------------------------------------------------


def test_account_password_works_with_basic(server: Server, holder: dict[str, str]) -> None:
    auth = basic(holder["user"], holder["password"])
    for _ in range(2):  # Argon2, then the verified-password cache
        list_domains_ok(
            server.uapi(holder["user"], "DomainInfo", "list_domains", auth=auth), holder["user"]
        )


def test_wrong_password_is_refused(server: Server, holder: dict[str, str]) -> None:
    wrong = server.remember(f"Wrong-{uuid.uuid4().hex}")
    response = server.uapi(
        holder["user"], "DomainInfo", "list_domains", auth=basic(holder["user"], wrong)
    )
    assert response.status_code == 401
    assert denials(server, holder["user"])[-1][0] == "bad_password"


def test_root_is_not_a_cpanel_user(server: Server) -> None:
    response = server.uapi(
        "root", "DomainInfo", "list_domains", auth=basic("root", server.root_password)
    )
    assert response.status_code == 401
    assert denials(server, "root")[-1] == ("login_not_allowed", "/execute/DomainInfo/list_domains")


def test_whm_credentials_are_refused_on_the_cpanel_face(server: Server) -> None:
    reseller, whm_token = server.reseller()
    for user, token in (("root", server.root_token), (reseller, whm_token)):
        for scheme in ("whm", "cpanel"):
            response = server.uapi(
                user, "DomainInfo", "list_domains", auth=f"{scheme} {user}:{token}"
            )
            assert response.status_code == 401, (user, scheme, response.text)
    reasons = [r for r, _ in denials(server, reseller)]
    assert reasons[-2:] == ["whm_credential_on_cpanel", "token_wrong_service"]


def test_token_under_another_users_name(server: Server, holder: dict[str, str]) -> None:
    other, _password = server.account()
    response = server.uapi(other, "DomainInfo", "list_domains", token=holder["token"])
    assert response.status_code == 401
    assert denials(server, other)[-1][0] == "token_user_mismatch"


@pytest.mark.parametrize(
    "header",
    [
        "",
        "cpanel",
        "cpanel :",
        "cpanel user",
        "cpanel user:",
        "Bearer abc",
        "Basic ***",
        "x" * 20000,
    ],
)
def test_malformed_headers_are_refused(server: Server, header: str) -> None:
    response = server.cpanel_get("/execute/DomainInfo/list_domains", auth=header)
    assert response.status_code == 401


# -- the refusal's shape ---------------------------------------------------------------------------


def test_401_shapes(server: Server, holder: dict[str, str]) -> None:
    bad = f"cpanel {holder['user']}:{server.remember(_unknown_token())}"
    uapi = server.cpanel_get("/execute/DomainInfo/list_domains", auth=bad)
    assert uapi.status_code == 401
    assert uapi.headers["www-authenticate"].startswith("Basic")
    assert uapi.content == (
        b'{"data":null,"errors":["Access denied"],"messages":null,"metadata":{},"status":0,'
        b'"warnings":null}'
    )
    api2 = server.cpanel_get(
        "/json-api/cpanel",
        auth=bad,
        params={"cpanel_jsonapi_module": "ZoneEdit", "cpanel_jsonapi_func": "fetchzones"},
    )
    assert api2.status_code == 401
    assert api2.content == (
        b'{"cpanelresult":{"apiversion":"2","data":{"reason":"Access denied","result":"0"},'
        b'"error":"Access denied","type":"text"}}'
    )
    uapi_via_json_api = server.cpanel_get(
        "/json-api/cpanel",
        auth=None,
        params={
            "cpanel_jsonapi_apiversion": "3",
            "cpanel_jsonapi_module": "Tokens",
            "cpanel_jsonapi_func": "list",
        },
    )
    assert uapi_via_json_api.status_code == 401
    assert uapi_via_json_api.json()["result"]["errors"] == ["Access denied"]
    assert uapi_via_json_api.json()["module"] == "Tokens"


def test_no_credentials(server: Server) -> None:
    response = server.cpanel_get("/execute/Tokens/list")
    assert response.status_code == 401
    rows = server.sql(
        "SELECT reason FROM audit_log WHERE action = 'AUTHFAILURE' AND detail = :d "
        "ORDER BY id DESC LIMIT 1",
        d="/execute/Tokens/list",
    )
    assert rows and rows[0].reason == "no_credentials"


def test_cpanel_jsonapi_user_must_be_the_caller(server: Server, holder: dict[str, str]) -> None:
    other, _ = server.account()
    response = server.cpanel_get(
        "/json-api/cpanel",
        auth=f"cpanel {holder['user']}:{holder['token']}",
        params={
            "cpanel_jsonapi_user": other,
            "cpanel_jsonapi_apiversion": "3",
            "cpanel_jsonapi_module": "DomainInfo",
            "cpanel_jsonapi_func": "list_domains",
        },
    )
    body = response.json()
    assert body["result"]["status"] == 0
    assert "cpanel_jsonapi_user" in body["result"]["errors"][0]
    assert body["result"]["data"] is None
    same = server.cpanel_get(
        "/json-api/cpanel",
        auth=f"cpanel {holder['user']}:{holder['token']}",
        params={
            "cpanel_jsonapi_user": holder["user"],
            "cpanel_jsonapi_apiversion": "3",
            "cpanel_jsonapi_module": "DomainInfo",
            "cpanel_jsonapi_func": "list_domains",
        },
    )
    list_domains_ok(same, holder["user"])


# -- limits ----------------------------------------------------------------------------------------


def test_query_too_long(server: Server, holder: dict[str, str]) -> None:
    response = server.uapi(
        holder["user"], "DomainInfo", "list_domains", token=holder["token"], pad="x" * 62_000
    )
    assert response.status_code == 414
    body = response.json()
    assert body["status"] == 0
    assert "query string exceeds" in body["errors"][0]


def test_body_too_large(server: Server, holder: dict[str, str]) -> None:
    response = httpx.post(
        f"{server.cpanel_url}/json-api/cpanel",
        content=b"pad=" + b"x" * (4 * 1024 * 1024 + 10),
        headers={"Authorization": f"cpanel {holder['user']}:{holder['token']}"},
        timeout=60,
    )
    assert response.status_code == 413
    assert "request body exceeds" in response.json()["cpanelresult"]["error"]


def test_long_query_below_the_limit_works(server: Server, holder: dict[str, str]) -> None:
    """compatibility.md §Requests 6: over 8 KB in a GET."""
    response = server.uapi(
        holder["user"], "DomainInfo", "list_domains", token=holder["token"], pad="x" * 20_000
    )
    list_domains_ok(response, holder["user"])


# -- suspension, removal, expiry, revocation -------------------------------------------------------


def test_suspended_account_is_refused_until_unsuspended(server: Server) -> None:
    username, password = server.account()
    token = server.cpanel_token(username, password)
    password_auth = basic(username, password)
    list_domains_ok(server.uapi(username, "DomainInfo", "list_domains", token=token), username)
    list_domains_ok(
        server.uapi(username, "DomainInfo", "list_domains", auth=password_auth), username
    )

    server.ok("suspendacct", params={"user": username, "reason": "testing"})
    assert server.uapi(username, "DomainInfo", "list_domains", token=token).status_code == 401
    assert (
        server.uapi(username, "DomainInfo", "list_domains", auth=password_auth).status_code == 401
    )
    assert [r for r, _ in denials(server, username)][-2:] == ["user_suspended", "user_suspended"]

    server.ok("unsuspendacct", params={"user": username})
    list_domains_ok(server.uapi(username, "DomainInfo", "list_domains", token=token), username)
    list_domains_ok(
        server.uapi(username, "DomainInfo", "list_domains", auth=password_auth), username
    )


def test_removeacct_revokes_the_accounts_tokens(server: Server) -> None:
    username, password = server.account()
    tokens = [server.cpanel_token(username, password) for _ in range(2)]
    for token in tokens:
        list_domains_ok(server.uapi(username, "DomainInfo", "list_domains", token=token), username)
    user_id = server.sql("SELECT id FROM users WHERE username = :u", u=username)[0].id
    assert len(server.sql("SELECT id FROM api_tokens WHERE user_id = :i", i=user_id)) == 2

    server.ok("removeacct", params={"username": username})
    assert server.sql("SELECT id FROM api_tokens WHERE user_id = :i", i=user_id) == []
    for token in tokens:
        assert server.uapi(username, "DomainInfo", "list_domains", token=token).status_code == 401
    # A new account taking the name does not inherit them.
    server.ok(
        "createacct",
        params={"username": username, "domain": f"{username}.example.net", "password": password},
    )
    for token in tokens:
        assert server.uapi(username, "DomainInfo", "list_domains", token=token).status_code == 401


def test_expired_token_is_refused(server: Server) -> None:
    username, password = server.account()
    admin = server.cpanel_token(username, password)  # then no Argon2 delay before the expiry
    expires = int(time.time()) + 3
    response = server.uapi(
        username,
        "Tokens",
        "create_full_access",
        token=admin,
        name="short-lived",
        expires_at=str(expires),
    )
    token = server.remember(response.json()["data"]["token"])
    list_domains_ok(server.uapi(username, "DomainInfo", "list_domains", token=token), username)
    while time.time() <= expires + 1:
        time.sleep(0.25)
    assert server.uapi(username, "DomainInfo", "list_domains", token=token).status_code == 401
    assert denials(server, username)[-1][0] == "token_expired"


def test_revoked_token_is_refused_on_the_very_next_request(server: Server) -> None:
    username, password = server.account()
    keeper = server.cpanel_token(username, password, name="keeper")
    doomed = server.cpanel_token(username, password, name="doomed")
    with httpx.Client(timeout=30) as client:  # one connection, warm cache

        def status(token: str) -> int:
            return client.get(
                f"{server.cpanel_url}/execute/DomainInfo/list_domains",
                headers={"Authorization": f"cpanel {username}:{token}"},
            ).status_code

        for _ in range(3):
            assert status(doomed) == 200
        revoked = client.get(
            f"{server.cpanel_url}/execute/Tokens/revoke",
            params={"name": "doomed"},
            headers={"Authorization": f"cpanel {username}:{keeper}"},
        )
        assert revoked.json()["data"] == 1
        assert status(doomed) == 401
        assert status(keeper) == 200


def test_token_revoked_through_whm_is_refused_at_once(server: Server) -> None:
    username, password = server.account()
    token = server.cpanel_token(username, password, name="via-whm")
    for _ in range(3):
        assert server.uapi(username, "DomainInfo", "list_domains", token=token).status_code == 200
    response = server.get(
        "cpanel",
        api_version=None,
        params={
            "cpanel_jsonapi_user": username,
            "cpanel_jsonapi_apiversion": "3",
            "cpanel_jsonapi_module": "Tokens",
            "cpanel_jsonapi_func": "revoke",
            "name": "via-whm",
        },
    )
    assert response.json()["result"]["data"] == 1
    assert server.uapi(username, "DomainInfo", "list_domains", token=token).status_code == 401


def test_token_renamed_keeps_working_and_password_change_does_not_matter(server: Server) -> None:
    username, password = server.account()
    token = server.cpanel_token(username, password, name="before")
    server.uapi(username, "Tokens", "rename", token=token, name="before", new_name="after")
    list_domains_ok(server.uapi(username, "DomainInfo", "list_domains", token=token), username)
    new_password = server.remember(f"N3w-{generate_password()}")
    server.cli("passwd", username, "--password-stdin", stdin=new_password + "\n")
    list_domains_ok(server.uapi(username, "DomainInfo", "list_domains", token=token), username)
    assert (
        server.uapi(
            username, "DomainInfo", "list_domains", auth=basic(username, password)
        ).status_code
        == 401
    )
    list_domains_ok(
        server.uapi(username, "DomainInfo", "list_domains", auth=basic(username, new_password)),
        username,
    )


def _last_use(server: Server, username: str) -> Any:
    return server.sql(
        "SELECT t.last_used_time, t.last_used_ip FROM api_tokens t "
        "JOIN users u ON u.id = t.user_id "
        "WHERE u.username = :u",
        u=username,
    )[0]


def test_use_is_recorded(server: Server) -> None:
    username, password = server.account()
    token = server.cpanel_token(username, password)
    assert _last_use(server, username).last_used_time is None
    server.uapi(username, "DomainInfo", "list_domains", token=token)
    used = _last_use(server, username)
    assert used.last_used_time is not None and used.last_used_ip == "127.0.0.1"
