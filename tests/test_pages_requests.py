"""What the pages do with a request before a page reads it: a posted form over the limit
(256 KB, `pages/form.py` MAX_FORM) is refused whole with a 413 page, whether its size is
declared or it comes in chunks — never read whole into memory first (even before a login),
never cut and acted on with the fields before the cut; HEAD is answered as GET; a method a
path does not serve is 405 with every method it does."""

from __future__ import annotations

import html
import re
import socket
import uuid
from collections.abc import Iterator
from urllib.parse import urlencode, urlsplit

import httpx
import pytest

from conftest import Server
from pages_helpers import http_session

MAX_FORM = 256 * 1024
CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')
FRAMINGS = ["content-length", "chunked"]


def _body(fields: list[tuple[str, str]], framing: str) -> bytes | Iterator[bytes]:
    """The form urlencoded with 300 KB of padding in `junk` before the last field: as one
    declared body, or in 64 KB chunks (httpx sends an iterator with no Content-Length)."""
    *first, last = fields
    encoded = urlencode([*first, ("junk", "A" * 300_000), last]).encode()
    if framing == "content-length":
        return encoded
    return iter([encoded[i : i + 65536] for i in range(0, len(encoded), 65536)])


def _post(url: str, body: bytes | Iterator[bytes], cookies: httpx.Cookies) -> httpx.Response:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    with httpx.Client(cookies=cookies, timeout=30) as client:
        return client.post(url, content=body, headers=headers)


def _csrf(base: str, path: str, cookies: httpx.Cookies) -> str:
    page = httpx.get(f"{base}{path}", cookies=cookies, timeout=30)
    found = CSRF.search(page.text)
    assert found, page.text
    return html.unescape(found.group(1))


def _refused(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Form too large</h1>" in response.text
    assert "The form is larger than 256 KB, so it was not read and nothing was changed." in (
        response.text
    )


@pytest.mark.parametrize("framing", FRAMINGS)
def test_a_login_form_over_the_limit_is_413_before_any_login(server: Server, framing: str) -> None:
    cookies = httpx.Cookies({"gatehouse_login": "login-csrf"})
    fields = [("csrf_token", "login-csrf"), ("user", "root"), ("pass", server.root_password)]
    response = _post(f"{server.url}/login/", _body(fields, framing), cookies)
    _refused(response)
    assert "whostmgrsession" not in response.cookies


def test_a_chunked_form_is_refused_once_past_the_limit_without_waiting_for_its_end(
    server: Server,
) -> None:
    """The chunks stop just past the limit and the body is never ended: an answer can only
    come from a reader that counts as it reads (one that reads to the end waits for the body
    timeout and answers 408)."""
    port = urlsplit(server.url).port
    assert port is not None
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(
            b"POST /login/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n\r\n"
        )
        chunk = b"A" * 65536
        for _ in range(MAX_FORM // len(chunk) + 1):
            conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        status_line = conn.recv(4096).split(b"\r\n", 1)[0]
    assert status_line == b"HTTP/1.1 413 Payload Too Large"


@pytest.mark.parametrize("framing", FRAMINGS)
def test_a_token_form_over_the_limit_stores_nothing(server: Server, framing: str) -> None:
    """The allow-list comes after the padding: a form cut at the limit would have saved the
    token without it."""
    prefix, cookies = http_session(server, server.url, "whostmgrd", "root")
    name = f"big-{uuid.uuid4().hex[:8]}"
    fields = [
        ("csrf_token", _csrf(server.url, f"{prefix}/tokens/new", cookies)),
        ("name", name),
        ("everything", "1"),
        ("ips", "192.0.2.1"),
    ]
    _refused(_post(f"{server.url}{prefix}/tokens/new", _body(fields, framing), cookies))
    assert name not in server.ok("api_token_list")["tokens"]


@pytest.mark.parametrize("framing", FRAMINGS)
def test_a_cpanel_token_form_over_the_limit_is_413_on_the_cpanel_pages(
    server: Server, framing: str
) -> None:
    user, _ = server.account()
    prefix, cookies = http_session(server, server.cpanel_url, "cpaneld", user)
    name = f"big-{uuid.uuid4().hex[:8]}"
    fields = [("csrf_token", _csrf(server.cpanel_url, f"{prefix}/tokens/new", cookies))]
    fields.append(("name", name))
    response = _post(f"{server.cpanel_url}{prefix}/tokens/new", _body(fields, framing), cookies)
    _refused(response)
    assert "cPanel" in response.text  # the cPanel pages' own layout
    rows = server.sql("SELECT name FROM api_tokens WHERE name = :name", name=name)
    assert rows == []


# -- redirects: a posted value echoed into a Location header is cut ----------------------------


@pytest.mark.parametrize(
    ("face", "path"),
    [("whm", "tokens/saved"), ("whm", "tokens/tighten"), ("cpanel", "tokens/saved")],
)
def test_a_huge_posted_name_makes_a_followable_redirect(
    server: Server, face: str, path: str
) -> None:
    """A 100 KB `name` (within the form limit) is echoed into the redirect's query cut to 1 KB:
    an answer whose Location a browser or proxy can take."""
    base, service = (server.url, "whostmgrd") if face == "whm" else (server.cpanel_url, "cpaneld")
    user = "root" if face == "whm" else server.account()[0]
    prefix, cookies = http_session(server, base, service, user)
    fields = [("csrf_token", _csrf(base, f"{prefix}/tokens/new", cookies)), ("name", "n" * 100_000)]
    with httpx.Client(cookies=cookies, timeout=30) as client:
        response = client.post(f"{base}{prefix}/{path}", data=dict(fields))
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(f"{prefix}/") and len(location) < 4096
    assert "%E2%80%A6" in location  # the cut is marked


# -- methods: HEAD is answered as GET; a 405 names every method the path serves ---------------

HEAD_PAGES = {  # face: pages served for GET and POST by one function, as GET answers them
    "whm": ["tokens/new", "ssl/install", "accesshash/generate"],
    "cpanel": ["tokens/new"],
}


@pytest.mark.parametrize(
    ("face", "page"), [(face, page) for face, pages in HEAD_PAGES.items() for page in pages]
)
def test_head_on_a_get_and_post_page_is_answered_as_its_get(
    server: Server, face: str, page: str
) -> None:
    if face == "whm":
        base, service, user = server.url, "whostmgrd", "root"
    else:
        base, service = server.cpanel_url, "cpaneld"
        user, _ = server.account()
    prefix, cookies = http_session(server, base, service, user)
    get = httpx.get(f"{base}{prefix}/{page}", cookies=cookies, timeout=30)
    head = httpx.head(f"{base}{prefix}/{page}", cookies=cookies, timeout=30)
    assert get.status_code == 200
    assert head.status_code == 200
    assert head.content == b""


@pytest.mark.parametrize(
    ("path", "allow"),
    [("/login/", {"GET", "HEAD", "POST"}), ("/", {"GET", "HEAD"}), ("/logout", {"POST"})],
)
def test_a_method_a_path_does_not_serve_is_405_naming_every_method_it_does(
    server: Server, path: str, allow: set[str]
) -> None:
    response = httpx.put(f"{server.url}{path}", timeout=30)
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == allow  # in no set order
