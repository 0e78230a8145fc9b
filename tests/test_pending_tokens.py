"""The new token shown once after Save, kept in the store: over real HTTP on two nodes sharing
one store (and one key ring), the token made on node 1 is shown by node 2, once; a second view
on either node shows nothing; another session never sees it; it expires, and expired rows are
purged; log out drops it; and it is never in the store or a log in plaintext. On the WHM pages
(2086) and the cPanel pages (2082) alike."""

from __future__ import annotations

import html
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import pytest

from conftest import Server, another_node
from gatehouse.domain import pending_tokens
from gatehouse.domain.accesshash import KeyRing

FACES = ("whm", "cpanel")
COOKIES = {"whm": "whostmgrsession", "cpanel": "cpsession"}
SERVICES = {"whm": "whostmgrd", "cpanel": "cpaneld"}
TOKEN_VALUE = re.compile(r'id="token-value"[^>]*\bvalue="([^"]*)"')
CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


@pytest.fixture(scope="module")
def node2(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A second node on the same store with a data directory of its own; like every node of
    a cluster it is given the cluster's key (GATEHOUSE_SECRET_KEY), here node 1's."""
    path = server.data_dir / "secret.key"
    if not path.exists():
        KeyRing(server.data_dir).encrypt("", "")  # makes node 1's key file, atomically
    key = path.read_text().strip()
    with another_node(
        server, tmp_path_factory, "pending-node", env={"GATEHOUSE_SECRET_KEY": key}
    ) as node:
        yield node


@dataclass
class Session:
    """A signed-in browser session of `face`, usable on any node."""

    face: str
    user: str
    prefix: str
    cookie: dict[str, str]

    def base(self, node: Server) -> str:
        return node.url if self.face == "whm" else node.cpanel_url

    def get(self, node: Server, path: str) -> httpx.Response:
        return httpx.get(
            f"{self.base(node)}{self.prefix}/{path}",
            cookies=self.cookie,
            follow_redirects=False,
            timeout=30,
        )

    def post(self, node: Server, path: str, form: dict[str, str]) -> httpx.Response:
        page = self.get(node, "tokens/new")
        assert page.status_code == 200, page.text
        match = CSRF.search(page.text)
        assert match, page.text
        return httpx.post(
            f"{self.base(node)}{self.prefix}/{path}",
            data={**form, "csrf_token": html.unescape(match.group(1))},
            cookies=self.cookie,
            follow_redirects=False,
            timeout=30,
        )

    def generate(self, node: Server) -> str:
        """Save a new token on `node`; returns its name (the secret waits for its view)."""
        name = f"once-{uuid.uuid4().hex[:8]}"
        form = {"name": name, "everything": "1"} if self.face == "whm" else {"name": name}
        saved = self.post(node, "tokens/new", form)
        assert saved.status_code == 303, saved.text
        assert saved.headers["location"].endswith(f"{self.prefix}/tokens/created")
        return name

    def view(self, node: Server) -> str | None:
        """The token the "created" page shows on `node`, or None when it redirects to the
        list (nothing waiting)."""
        response = self.get(node, "tokens/created")
        if response.status_code == 303:
            assert response.headers["location"].endswith(f"{self.prefix}/tokens")
            return None
        assert response.status_code == 200, response.text
        match = TOKEN_VALUE.search(response.text)
        assert match, response.text
        return html.unescape(match.group(1))

    def session_id(self, server: Server) -> int:
        rows = server.sql(
            "SELECT id FROM sessions WHERE security_token = :t",
            t=self.prefix.removeprefix("/cpsess"),
        )
        assert len(rows) == 1
        return int(rows[0][0])


def open_session(server: Server, face: str, user: str | None = None) -> Session:
    if user is None:
        user = "root" if face == "whm" else server.account()[0]
    data = server.ok("create_user_session", params={"user": user, "service": SERVICES[face]})
    url = urlsplit(str(data["url"]))
    base = server.url if face == "whm" else server.cpanel_url
    login = httpx.get(f"{base}{url.path}?{url.query}", follow_redirects=False, timeout=30)
    assert login.status_code == 303, login.text
    prefix = f"/cpsess{data['cp_security_token'].removeprefix('/cpsess')}"
    return Session(face, user, prefix, {COOKIES[face]: login.cookies[COOKIES[face]]})


def works(server: Server, session: Session, token: str) -> bool:
    if session.face == "whm":
        return server.get("version", token=token).status_code == 200
    body = server.uapi(session.user, "Tokens", "list", token=token).json()
    return bool(body["status"] == 1)


def waiting(server: Server, session: Session) -> list[bytes]:
    rows = server.sql(
        "SELECT ciphertext FROM pending_tokens WHERE session_id = :s", s=session.session_id(server)
    )
    return [bytes(r[0]) for r in rows]


@pytest.mark.parametrize("face", FACES)
def test_made_on_one_node_shown_once_by_the_other(server: Server, node2: Server, face: str) -> None:
    session = open_session(server, face)
    session.generate(server)
    [stored] = waiting(server, session)
    token = session.view(node2)
    assert token is not None and len(token) == 32
    server.remember(token)
    assert works(server, session, token)
    # The store held only ciphertext, and the view deleted it: nothing on either node now.
    assert token.encode() not in stored and token.encode().hex().encode() not in stored
    assert waiting(server, session) == []
    assert session.view(node2) is None
    assert session.view(server) is None
    for node in (server, node2):
        assert token not in node.log_path.read_text()


@pytest.mark.parametrize("face", FACES)
def test_two_nodes_asked_at_once_show_it_once(server: Server, node2: Server, face: str) -> None:
    session = open_session(server, face)

    def view(node: Server, barrier: threading.Barrier, shown: list[str | None]) -> None:
        barrier.wait()
        shown.append(session.view(node))

    for _ in range(5):
        session.generate(server)
        barrier = threading.Barrier(4)
        shown: list[str | None] = []
        threads = [
            threading.Thread(target=view, args=(n, barrier, shown)) for n in (server, node2) * 2
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        tokens = [t for t in shown if t is not None]
        assert len(shown) == 4 and len(tokens) == 1, shown
        server.remember(tokens[0])


@pytest.mark.parametrize("face", FACES)
def test_another_session_cannot_see_it(server: Server, node2: Server, face: str) -> None:
    mine = open_session(server, face)
    other = open_session(server, face, mine.user)  # the same user, another session
    mine.generate(server)
    assert other.view(node2) is None
    assert other.view(server) is None
    # Another session's cookie with this session's prefix is no session at all.
    stolen = Session(face, mine.user, mine.prefix, other.cookie)
    assert stolen.get(node2, "tokens/created").status_code == 401
    token = mine.view(node2)  # still there for its own session
    assert token is not None
    server.remember(token)


@pytest.mark.parametrize("face", FACES)
def test_a_row_moved_to_another_session_does_not_decrypt(
    server: Server, node2: Server, face: str
) -> None:
    mine = open_session(server, face)
    other = open_session(server, face, mine.user)
    mine.generate(server)
    server.sql(
        "UPDATE pending_tokens SET session_id = :o WHERE session_id = :m",
        o=other.session_id(server),
        m=mine.session_id(server),
    )
    assert other.view(node2) is None  # bound to the session it was made for: no 500, no token
    assert waiting(server, other) == []
    assert mine.view(node2) is None


@pytest.mark.parametrize("face", FACES)
def test_it_expires_and_expired_rows_are_purged(server: Server, node2: Server, face: str) -> None:
    late, idle, fresh = (open_session(server, face) for _ in range(3))

    def time_passes(session: Session) -> None:
        # The deadline moved behind the servers' clocks: the row was made with expires =
        # now + TTL, so this is what TTL seconds of waiting leaves.
        server.sql(
            "UPDATE pending_tokens SET expires = expires - :ttl - 1 WHERE session_id = :s",
            ttl=pending_tokens.TTL,
            s=session.session_id(server),
        )

    late.generate(server)
    time_passes(late)
    assert late.view(node2) is None
    assert waiting(server, late) == []
    # A session that never comes back for its token: the next Save or view anywhere purges it.
    idle.generate(server)
    time_passes(idle)
    assert len(waiting(server, idle)) == 1
    fresh.generate(node2)
    assert waiting(server, idle) == []
    token = fresh.view(server)
    assert token is not None
    server.remember(token)


def test_the_time_to_live_is_a_few_minutes() -> None:
    assert 60 <= pending_tokens.TTL <= 10 * 60


@pytest.mark.parametrize("face", FACES)
def test_log_out_drops_it(server: Server, node2: Server, face: str) -> None:
    session = open_session(server, face)
    session.generate(server)
    assert len(waiting(server, session)) == 1
    sid = session.session_id(server)
    out = session.post(node2, "logout", {})
    assert out.status_code in (200, 303), out.text
    rows = server.sql("SELECT count(*) FROM pending_tokens WHERE session_id = :s", s=sid)
    assert [tuple(r) for r in rows] == [(0,)]


@pytest.mark.parametrize("face", FACES)
def test_a_new_save_replaces_the_one_not_yet_shown(
    server: Server, node2: Server, face: str
) -> None:
    session = open_session(server, face)
    session.generate(server)
    second = session.generate(node2)
    assert len(waiting(server, session)) == 1
    token = session.view(server)
    assert token is not None
    server.remember(token)
    listed = server.sql("SELECT name FROM api_tokens WHERE name = :n", n=second)
    assert len(listed) == 1
    assert session.view(node2) is None
