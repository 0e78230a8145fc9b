"""A password change or a suspension ends the user's browser sessions, on every node
(issue 18 §6): after root changes a reseller's password, the reseller's open session is
refused on its very next request, and unsuspending does not bring a session back. A
remembered password verification dies with the password too."""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from conftest import Server, another_node

COOKIES = {"whostmgrd": "whostmgrsession", "cpaneld": "cpsession"}


def new_password(server: Server) -> str:
    return server.remember("N3w-" + secrets.token_urlsafe(12))


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Session:
    """A browser session opened through create_user_session's one-time URL."""

    def __init__(self, server: Server, user: str, service: str = "whostmgrd") -> None:
        data = server.ok("create_user_session", params={"user": user, "service": service})
        url = urlsplit(str(data["url"]))
        self.base = server.url if service == "whostmgrd" else server.cpanel_url
        self.login_url = f"{self.base}{url.path}?{url.query}"
        self.prefix = f"/cpsess{data['cp_security_token'].removeprefix('/cpsess')}"
        self.name = COOKIES[service]
        self.cookie: dict[str, str] = {}

    def log_in(self) -> Session:
        login = httpx.get(self.login_url, follow_redirects=False, timeout=30)
        assert login.status_code == 303, login.text
        self.cookie = {self.name: login.cookies[self.name]}
        return self

    def home(self, base: str | None = None) -> int:
        """The status of the session's home page: 200 while it lives, 401 once it ended."""
        response = httpx.get(
            f"{base or self.base}{self.prefix}/",
            cookies=self.cookie,
            follow_redirects=False,
            timeout=30,
        )
        return response.status_code

    def call(self, base: str, function: str, **params: str) -> httpx.Response:
        """A WHM API 1 call made with the session's cookie (as the WHM pages make them)."""
        return httpx.get(
            f"{base}{self.prefix}/json-api/{function}",
            params={"api.version": "1", **params},
            cookies=self.cookie,
            timeout=30,
        )


def opened(server: Server, user: str, service: str = "whostmgrd") -> Session:
    session = Session(server, user, service).log_in()
    assert session.home() == 200
    return session


# -- the ways a password changes ------------------------------------------------------------


def passwd_api1(server: Server, user: str) -> None:
    server.ok("passwd", params={"user": user, "password": new_password(server)})


def passwd_api0(server: Server, user: str) -> None:
    response = server.get(
        "passwd", params={"user": user, "pass": new_password(server)}, api_version=None
    )
    assert response.json()["passwd"][0]["status"] == 1, response.text


def passwd_cli(server: Server, user: str) -> None:
    server.cli("passwd", user, "--password-stdin", stdin=new_password(server) + "\n")


CHANGES: dict[str, Callable[[Server, str], None]] = {
    "WHM API 1 passwd": passwd_api1,
    "WHM API 0 passwd": passwd_api0,
    "gatehouse passwd": passwd_cli,
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_a_password_change_by_root_ends_the_resellers_session(
    server: Server, change: Callable[[Server, str], None]
) -> None:
    name, _password = server.account(reseller=True)
    session = opened(server, name)
    change(server, name)
    assert session.home() == 401


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_a_password_change_ends_an_accounts_cpanel_session(
    server: Server, change: Callable[[Server, str], None]
) -> None:
    name, _password = server.account()
    session = opened(server, name, "cpaneld")
    change(server, name)
    assert session.home() == 401


def test_a_password_change_voids_a_login_url_not_yet_followed(server: Server) -> None:
    name, _password = server.account(reseller=True)
    pending = Session(server, name)
    passwd_api1(server, name)
    assert httpx.get(pending.login_url, follow_redirects=False, timeout=30).status_code == 401


def test_another_users_session_survives(server: Server) -> None:
    name, _password = server.account(reseller=True)
    other, _ = server.account(reseller=True)
    survivor = opened(server, other)
    passwd_api1(server, name)
    assert survivor.home() == 200


def test_a_new_session_after_the_change_works(server: Server) -> None:
    name, _password = server.account(reseller=True)
    opened(server, name)
    passwd_api1(server, name)
    assert opened(server, name).home() == 200


def test_changing_ones_own_password_keeps_this_session_and_ends_the_others(
    server: Server,
) -> None:
    name, _password = server.account(reseller=True)
    server.ok("setacls", params=[("reseller", name), ("acl-passwd", "1")])
    mine, elsewhere = opened(server, name), opened(server, name)
    changed = mine.call(server.url, "passwd", user=name, password=new_password(server))
    assert changed.json()["metadata"]["result"] == 1, changed.text
    assert (mine.home(), elsewhere.home()) == (200, 401)
    detail = server.sql(
        "SELECT detail FROM audit_log WHERE action = 'PASSWD' AND subject = :n", n=name
    )
    assert [r[0] for r in detail] == ["1 sessions ended"]


def test_the_audit_row_counts_the_sessions_ended(server: Server) -> None:
    name, _password = server.account(reseller=True)
    opened(server, name)
    opened(server, name)
    passwd_api1(server, name)
    detail = server.sql(
        "SELECT detail FROM audit_log WHERE action = 'PASSWD' AND subject = :n", n=name
    )
    assert [r[0] for r in detail] == ["2 sessions ended"]


# -- suspension -----------------------------------------------------------------------------


def test_suspension_ends_the_session_and_unsuspension_does_not_revive_it(server: Server) -> None:
    name, _password = server.account()
    session = opened(server, name, "cpaneld")
    server.ok("suspendacct", params={"user": name, "reason": "test"})
    assert session.home() == 401
    server.ok("unsuspendacct", params={"user": name})
    assert session.home() == 401


def test_suspending_a_reseller_ends_its_own_and_its_accounts_sessions(server: Server) -> None:
    reseller, _password = server.account(reseller=True)
    account, _ = server.account(owner=reseller)
    own, theirs = opened(server, reseller), opened(server, account, "cpaneld")
    server.ok("suspendreseller", params={"user": reseller, "reason": "test"})
    server.ok("unsuspendreseller", params={"user": reseller})
    assert (own.home(), theirs.home()) == (401, 401)


def test_suspending_the_reseller_only_leaves_its_accounts_sessions(server: Server) -> None:
    reseller, _password = server.account(reseller=True)
    account, _ = server.account(owner=reseller)
    own, theirs = opened(server, reseller), opened(server, account, "cpaneld")
    server.ok("suspendreseller", params={"user": reseller, "reason": "t", "reseller-only": "1"})
    assert (own.home(), theirs.home()) == (401, 200)


def test_suspendreseller_audit_rows_count_the_sessions_ended(server: Server) -> None:
    reseller, _password = server.account(reseller=True)
    account, _ = server.account(owner=reseller)
    opened(server, reseller)
    opened(server, reseller)
    opened(server, account, "cpaneld")
    server.ok("suspendreseller", params={"user": reseller, "reason": "test"})
    rows = server.sql(
        "SELECT subject, detail FROM audit_log WHERE action = 'SUSPENDACCT' "
        "AND subject IN (:r, :a) ORDER BY id",
        r=reseller,
        a=account,
    )
    assert [tuple(r) for r in rows] == [
        (reseller, f"suspendreseller {reseller}, 2 sessions ended"),
        (account, f"suspendreseller {reseller}, 1 sessions ended"),
    ]


# -- every node -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def second_node(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with another_node(server, tmp_path_factory, "session-node") as node:
        yield node


def suspend(server: Server, user: str) -> None:
    server.ok("suspendacct", params={"user": user, "reason": "test"})


ENDINGS: dict[str, Callable[[Server, str], None]] = {"passwd": passwd_api1, "suspend": suspend}


@pytest.mark.parametrize("ending", ENDINGS.values(), ids=ENDINGS.keys())
def test_another_node_refuses_the_ended_session_at_once(
    server: Server, second_node: Server, ending: Callable[[Server, str], None]
) -> None:
    name, _password = server.account(reseller=True)
    session = opened(server, name)
    assert session.home(second_node.url) == 200
    ending(server, name)
    # Sessions are read from the store on every request: no NOTIFY to wait for, even on PG.
    assert session.home(second_node.url) == 401


def cpanel_basic_status(node: Server, user: str, password: str) -> int:
    auth = basic(user, password)
    return node.uapi(user, "DomainInfo", "list_domains", auth=auth).status_code


def refused_after(node: Server, user: str, password: str) -> int:
    """The cPanel face's answer to the old password: on SQLite at the very next request, on
    PostgreSQL once NOTIFY lands (a bounded poll)."""
    deadline = time.monotonic() + (0 if node.backend == "sqlite" else 2.0)
    while True:
        status = cpanel_basic_status(node, user, password)
        if status != 200 or time.monotonic() >= deadline:
            return status
        time.sleep(0.005)


@pytest.mark.parametrize("ending", ENDINGS.values(), ids=ENDINGS.keys())
def test_another_node_forgets_a_remembered_password(
    server: Server, second_node: Server, ending: Callable[[Server, str], None]
) -> None:
    name, password = server.account()
    for _ in range(2):  # the second answer comes from the verified-password cache
        assert cpanel_basic_status(second_node, name, password) == 200
    ending(server, name)
    assert refused_after(second_node, name, password) == 401
