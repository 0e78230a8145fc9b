"""A password change or a suspension ends the user's browser sessions, on every node
(issue 18 §6): after root changes a reseller's password, the reseller's open session is
refused on its very next request, and unsuspending does not bring a session back."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from conftest import Server, another_node

COOKIES = {"whostmgrd": "whostmgrsession", "cpaneld": "cpsession"}


class Session:
    """A browser session opened through create_user_session's one-time URL."""

    def __init__(self, server: Server, user: str, service: str = "whostmgrd") -> None:
        data = server.ok("create_user_session", params={"user": user, "service": service})
        url = urlsplit(str(data["url"]))
        base = server.url if service == "whostmgrd" else server.cpanel_url
        login = httpx.get(f"{base}{url.path}?{url.query}", follow_redirects=False, timeout=30)
        assert login.status_code == 303, login.text
        self.base = base
        self.prefix = f"/cpsess{data['cp_security_token'].removeprefix('/cpsess')}"
        self.cookie = {COOKIES[service]: login.cookies[COOKIES[service]]}

    def home(self, base: str | None = None) -> int:
        response = httpx.get(
            f"{base or self.base}{self.prefix}/",
            cookies=self.cookie,
            follow_redirects=False,
            timeout=30,
        )
        return response.status_code


def test_a_password_change_by_root_ends_the_resellers_session(server: Server) -> None:
    name, _password = server.account(reseller=True)
    session = Session(server, name)
    assert session.home() == 200
    server.ok("passwd", params={"user": name, "password": "Another-Passw0rd-42!"})
    assert session.home() != 200


def test_a_password_change_ends_an_accounts_cpanel_session(server: Server) -> None:
    name, _password = server.account()
    session = Session(server, name, "cpaneld")
    assert session.home() == 200
    server.ok("passwd", params={"user": name, "password": "Another-Passw0rd-43!"})
    assert session.home() != 200


def test_another_users_session_survives(server: Server) -> None:
    name, _password = server.account(reseller=True)
    other, _ = server.account(reseller=True)
    survivor = Session(server, other)
    server.ok("passwd", params={"user": name, "password": "Another-Passw0rd-44!"})
    assert survivor.home() == 200


def test_suspension_ends_the_session_and_unsuspension_does_not_revive_it(server: Server) -> None:
    name, _password = server.account()
    session = Session(server, name, "cpaneld")
    server.ok("suspendacct", params={"user": name, "reason": "test"})
    server.ok("unsuspendacct", params={"user": name})
    assert session.home() != 200


def test_suspending_a_reseller_ends_its_accounts_sessions(server: Server) -> None:
    reseller, _password = server.account(reseller=True)
    account, _ = server.account(owner=reseller)
    session = Session(server, account, "cpaneld")
    server.ok("suspendreseller", params={"user": reseller, "reason": "test"})
    server.ok("unsuspendreseller", params={"user": reseller})
    assert session.home() != 200


def test_the_audit_row_counts_the_sessions_ended(server: Server) -> None:
    name, _password = server.account(reseller=True)
    Session(server, name)
    Session(server, name)
    server.ok("passwd", params={"user": name, "password": "Another-Passw0rd-45!"})
    detail = server.sql(
        "SELECT detail FROM audit_log WHERE action = 'PASSWD' AND subject = :n", n=name
    )
    assert [r[0] for r in detail] == ["2 sessions ended"]


@pytest.fixture(scope="module")
def second_node(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with another_node(server, tmp_path_factory, "session-node") as node:
        yield node


def test_another_node_refuses_the_ended_session_at_once(
    server: Server, second_node: Server
) -> None:
    name, _password = server.account(reseller=True)
    session = Session(server, name)
    assert session.home(second_node.url) == 200
    server.ok("passwd", params={"user": name, "password": "Another-Passw0rd-46!"})
    assert session.home(second_node.url) != 200
