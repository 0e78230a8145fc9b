"""createacct and passwd over real HTTP: good and bad inputs, exact shapes, and that a refused
call leaves nothing behind."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from conftest import Server
from whm_helpers import basic, limited_reseller, new_name, user_row


def _good_params(**overrides: Any) -> dict[str, str]:
    username = new_name()
    params = {
        "username": username,
        "domain": f"{username}.example.com",
        "password": secrets.token_urlsafe(12),
    }
    params.update({k: v for k, v in overrides.items() if v is not None})
    return {k: v for k, v in params.items() if overrides.get(k, "") is not None}


@pytest.fixture(scope="module")
def creator(server: Server) -> tuple[str, str]:
    """A reseller that may create accounts and change passwords; no test changes its ACLs."""
    return limited_reseller(server, ["create-acct", "passwd", "basic-whm-functions"])


# -- createacct: success -------------------------------------------------------------------


def test_createacct_envelope(server: Server) -> None:
    params = _good_params()
    payload = server.get("createacct", params=params).json()
    assert payload["data"] == {"package": "default"}
    meta = payload["metadata"]
    assert {k: meta[k] for k in ("command", "reason", "result", "version")} == {
        "command": "createacct",
        "reason": "Account Creation Ok",
        "result": 1,
        "version": 1,
    }
    assert isinstance(meta["output"]["raw"], str)
    assert f"UserName: {params['username']}" in meta["output"]["raw"]
    assert params["password"] not in repr(payload)
    row = user_row(server, params["username"])
    assert row is not None
    assert (row["owner"], row["domain"], row["reseller_acls"]) == ("root", params["domain"], None)


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param(lambda: {"username": "a" + secrets.token_hex(7) + "b"}, id="16-chars"),
        pytest.param(
            lambda: {"username": "a_b.c9" + secrets.token_hex(3)}, id="dot-underscore-digit"
        ),
        pytest.param(lambda: {"pass": "p" * 12, "password": None}, id="pass-not-password"),
        pytest.param(lambda: {"password": "p" * 8}, id="8-char-password"),
        pytest.param(lambda: {"password": "p" * 1024}, id="1024-char-password"),
        pytest.param(lambda: {"contactemail": "owner@example.org"}, id="contactemail"),
        pytest.param(lambda: {"owner": "root"}, id="owner-root"),
    ],
)
def test_createacct_accepts(server: Server, overrides: Any) -> None:
    params = _good_params(**overrides())
    server.ok("createacct", params=params)
    row = user_row(server, params["username"])
    assert row is not None and row["owner"] == "root"


def test_createacct_normalises_the_domain(server: Server) -> None:
    username = new_name()
    server.ok(
        "createacct",
        params=_good_params(username=username, domain=f"WWW.{username.upper()}.Example.COM."),
    )
    assert user_row(server, username)["domain"] == f"www.{username}.example.com"


# -- createacct: refusals (and nothing written) --------------------------------------------


def _domain_taken(server: Server, domain: str) -> bool:
    return bool(
        server.sql("SELECT id FROM users WHERE domain = :d", d=domain.strip().lower().rstrip("."))
    )


def _refused(
    server: Server, params: dict[str, str], reason: str, *, domain_existed: bool = False, **kw: Any
) -> None:
    """The call fails with `reason` and leaves no users row behind."""
    username = params.get("username", "")
    existed = user_row(server, username) is not None
    assert server.fail("createacct", params=params, **kw) == reason
    if username and not existed:
        assert user_row(server, username) is None
    if params.get("domain") and not domain_existed:
        assert not _domain_taken(server, params["domain"])


def _invalid(name: str) -> str:
    return (
        f"“{name}” is not a valid username. A username may contain only lowercase "
        "letters, digits, periods and underscores, and cannot begin with a digit or a period."
    )


@pytest.mark.parametrize(
    ("username", "reason"),
    [
        ("a" * 17, f"The username “{'a' * 17}” is too long: it may contain at most 16 characters."),
        ("Upper", _invalid("Upper")),
        ("ABC", _invalid("ABC")),
        ("1abc", _invalid("1abc")),
        (".abc", _invalid(".abc")),
        ("-abc", _invalid("-abc")),
        ("ab-c", _invalid("ab-c")),
        ("ab c", _invalid("ab c")),
        ("abç", _invalid("abç")),
        ("root", "The username “root” is reserved."),
        ("nobody", "The username “nobody” is reserved."),
        ("all", "The username “all” is reserved."),
        ("test", "The username “test” is reserved."),
        ("testabc", "The username “testabc” is reserved."),
        ("cpanelx", "The username “cpanelx” is reserved."),
        ("abc.lock", "The username “abc.lock” is reserved."),
        ("mypassword", "The username “mypassword” is reserved."),
        ("", "Missing parameter: username"),
    ],
)
def test_createacct_username_rules(server: Server, username: str, reason: str) -> None:
    params = _good_params()
    params["username"] = username
    _refused(server, params, reason)


@pytest.mark.parametrize(
    "domain",
    [
        "nodot",
        "example.",
        ".example.com",
        "-lead.example.com",
        "trail-.example.com",
        "a..example.com",
        "exa mple.com",
        "under_score.com",
        "example.123",
        "1.2.3.4",
        "x" * 64 + ".com",
        ("a" * 62 + ".") * 4 + "com",
        "exämple.com",
        "example.com/x",
    ],
)
def test_createacct_bad_domain(server: Server, domain: str) -> None:
    params = _good_params(domain=domain)
    _refused(server, params, f"“{domain}” is not a valid domain name.")


def test_createacct_missing_domain(server: Server) -> None:
    params = _good_params()
    del params["domain"]
    _refused(server, params, "Missing parameter: domain")


def test_createacct_duplicate_username(server: Server) -> None:
    existing, _ = server.account()
    params = _good_params(username=existing)
    assert server.fail("createacct", params=params) == (
        f"The username “{existing}” is taken: an account with that name exists."
    )
    assert user_row(server, existing)["domain"] == f"{existing}.example.com"


@pytest.mark.parametrize("spelling", ["{}.example.com", "{}.EXAMPLE.com."])
def test_createacct_duplicate_domain(server: Server, spelling: str) -> None:
    existing, _ = server.account()
    params = _good_params(domain=spelling.format(existing))
    _refused(
        server,
        params,
        f"The domain “{existing}.example.com” already exists on this server.",
        domain_existed=True,
    )


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"password": "short"}, "The password must contain at least 8 characters."),
        ({"password": "1234567"}, "The password must contain at least 8 characters."),
        ({"password": "p" * 1025}, "The password may contain at most 1024 characters."),
        ({"password": ""}, "Missing parameter: password"),
        (
            {"password": "p" * 12, "pass": "q" * 12},
            "Use either the “pass” or the “password” parameter, not both.",
        ),
        ({"contactemail": "not-an-email"}, "“not-an-email” is not a valid email address."),
    ],
)
def test_createacct_bad_password_or_contact(
    server: Server, overrides: dict[str, str], reason: str
) -> None:
    _refused(server, _good_params(**overrides), reason)


def test_createacct_concurrent_same_username_creates_one(server: Server) -> None:
    username = new_name()
    server.root_token  # noqa: B018 - mint the harness token before the threads start

    def attempt(i: int) -> tuple[int, int]:
        params = _good_params(username=username, domain=f"{username}{i}.example.com")
        response = server.get("createacct", params=params)
        return response.status_code, response.json()["metadata"]["result"]

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = sorted(pool.map(attempt, range(6)))
    assert outcomes == [(200, 0)] * 5 + [(200, 1)]
    assert server.sql("SELECT COUNT(*) FROM users WHERE username = :u", u=username)[0][0] == 1


@pytest.mark.parametrize("owner", ["plain", "nosuchowner9"])
def test_createacct_owner_must_be_root_or_a_reseller(server: Server, owner: str) -> None:
    if owner == "plain":
        owner, _ = server.account()
    _refused(
        server, _good_params(owner=owner), f"The owner “{owner}” is neither “root” nor a reseller."
    )


# -- createacct as a reseller --------------------------------------------------------------


@pytest.mark.parametrize("owner_given", [False, True])
def test_createacct_reseller_for_itself(
    server: Server, creator: tuple[str, str], owner_given: bool
) -> None:
    name, token = creator
    params = _good_params(owner=name if owner_given else None)
    server.ok("createacct", user=name, token=token, params=params)
    assert user_row(server, params["username"])["owner"] == name


@pytest.mark.parametrize("owner", ["root", "other-reseller"])
def test_createacct_reseller_for_another_owner(
    server: Server, creator: tuple[str, str], owner: str
) -> None:
    name, token = creator
    if owner == "other-reseller":
        owner, _ = server.account(reseller=True)
    _refused(
        server,
        _good_params(owner=owner),
        "Without root access, you can only create accounts that you yourself own.",
        user=name,
        token=token,
    )


def test_createacct_needs_the_privilege(server: Server) -> None:
    name, token = limited_reseller(server, ["basic-whm-functions"])
    params = _good_params()
    response = server.get("createacct", user=name, token=token, params=params)
    assert response.status_code == 403
    assert response.json()["metadata"]["result"] == 0
    assert user_row(server, params["username"]) is None


# -- passwd --------------------------------------------------------------------------------


def _whm_basic_status(server: Server, user: str, password: str) -> int:
    return httpx.get(
        f"{server.url}/json-api/applist",
        params={"api.version": "1"},
        headers={"Authorization": basic(user, password)},
        timeout=30,
    ).status_code


def test_passwd_new_password_works_and_old_does_not(server: Server) -> None:
    name, old = server.account(reseller=True)
    assert _whm_basic_status(server, name, old) == 200  # also warms the password cache
    new = secrets.token_urlsafe(12)
    payload = server.get("passwd", params={"user": name, "password": new}).json()
    assert payload == {
        "data": {"app": ["system"]},
        "metadata": {"command": "passwd", "reason": "OK", "result": 1, "version": 1},
    }
    assert _whm_basic_status(server, name, new) == 200
    assert _whm_basic_status(server, name, old) == 401


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"password": "p" * 12}, "No user name supplied: “user” is a required argument."),
        (
            {"user": "", "password": "p" * 12},
            "No user name supplied: “user” is a required argument.",
        ),
        ({"user": "someone"}, "No password supplied: “password” is a required argument."),
        (
            {"user": "someone", "password": ""},
            "No password supplied: “password” is a required argument.",
        ),
        (
            {"user": "nosuchuser4", "password": "p" * 12},
            "You do not have access to an account named “nosuchuser4”.",
        ),
    ],
)
def test_passwd_refused(server: Server, params: dict[str, str], reason: str) -> None:
    assert server.fail("passwd", params=params) == reason


def test_passwd_too_short_keeps_the_old_hash(server: Server) -> None:
    name, _ = server.account()
    before = server.sql("SELECT password_hash FROM users WHERE username = :u", u=name)
    assert server.fail("passwd", params={"user": name, "password": "short"}) == (
        "The password must contain at least 8 characters."
    )
    assert server.sql("SELECT password_hash FROM users WHERE username = :u", u=name) == before


@pytest.mark.parametrize("whose", ["own-account", "itself"])
def test_passwd_reseller_on_what_it_owns(
    server: Server, creator: tuple[str, str], whose: str
) -> None:
    name, token = creator
    target = name
    if whose == "own-account":
        target = new_name()
        server.ok("createacct", params=_good_params(username=target, owner=name))
    before = server.sql("SELECT password_hash FROM users WHERE username = :u", u=target)
    server.ok(
        "passwd",
        user=name,
        token=token,
        params={"user": target, "password": secrets.token_urlsafe(12)},
    )
    assert server.sql("SELECT password_hash FROM users WHERE username = :u", u=target) != before


@pytest.mark.parametrize("whose", ["root", "root-owned", "other-reseller", "other-resellers"])
def test_passwd_reseller_refused_on_what_it_does_not_own(
    server: Server, creator: tuple[str, str], whose: str
) -> None:
    name, token = creator
    if whose == "root":
        target = "root"
    elif whose == "root-owned":
        target, _ = server.account()
    elif whose == "other-reseller":
        target, _ = server.account(reseller=True)
    else:
        other, _ = server.account(reseller=True)
        target, _ = server.account(owner=other)
    before = server.sql("SELECT password_hash FROM users WHERE username = :u", u=target)
    reason = server.fail(
        "passwd",
        user=name,
        token=token,
        params={"user": target, "password": secrets.token_urlsafe(12)},
    )
    assert reason == f"You do not have access to an account named “{target}”."
    assert server.sql("SELECT password_hash FROM users WHERE username = :u", u=target) == before
