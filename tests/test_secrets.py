"""No secret at rest or in a log: after a full flow (tokens made over HTTP and by the CLI,
used, refused, revoked; a user session; Basic auth; certificates' keys installed over the API,
pasted into the WHM page and from files by the CLI), no plaintext secret is in the store's
files or rows, the audit trail or the server log, and a token's stored digest is the SHA-512
hex of the token (cPanel's at-rest format, whm-reference.md §4)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from conftest import Server
from gatehouse.store.engine import create
from ssl_helpers import make_ca, make_leaf


@dataclass
class Flow:
    secrets: list[str]
    tokens: dict[str, str]  # name -> plaintext
    marker: str  # a function name requested with secrets in its query string


def _bad_token() -> str:
    return "Z" * 8 + uuid.uuid4().hex[:24].upper()


@pytest.fixture(scope="module")
def flow(server: Server) -> Flow:
    secrets: list[str] = []
    tokens: dict[str, str] = {}

    # Tokens over HTTP and by the CLI, both used.
    http_name = f"sec-http-{uuid.uuid4().hex[:8]}"
    tokens[http_name] = server.token(http_name)
    cli_name = f"sec-cli-{uuid.uuid4().hex[:8]}"
    out = server.cli("whmapi1", "api_token_create", f"token_name={cli_name}", "--output", "json")
    tokens[cli_name] = server.remember(json.loads(out.stdout)["data"]["token"])
    for token in tokens.values():
        assert server.ok("version", token=token)

    # A token passed as a parameter (api_token_get_details takes the secret in the query).
    assert server.ok("api_token_get_details", params={"token": tokens[http_name]})

    # Refused: an unknown token, a token under the wrong user, Basic auth with a bad password.
    bad = _bad_token()
    secrets.append(bad)
    assert server.get("version", token=bad).status_code == 401
    assert server.get("version", user="nosuchuser", token=tokens[http_name]).status_code == 401
    wrong_password = f"Wrong-{uuid.uuid4().hex}"
    secrets.append(wrong_password)
    basic = base64.b64encode(f"root:{wrong_password}".encode()).decode()
    assert server.get("version", auth=f"Basic {basic}").status_code == 401

    # Revoked, then refused.
    revoked_name = f"sec-rev-{uuid.uuid4().hex[:8]}"
    tokens[revoked_name] = server.token(revoked_name)
    server.ok("api_token_revoke", params={"token_name": revoked_name})
    assert server.get("version", token=tokens[revoked_name]).status_code == 401

    # Basic auth with root's password.
    basic = base64.b64encode(f"root:{server.root_password}".encode()).decode()
    assert server.get("version", auth=f"Basic {basic}").status_code == 200

    # A session: the one-time login secret in a URL, then the cookie secret.
    session = server.ok("create_user_session", params={"user": "root", "service": "whostmgrd"})
    login_secret = session["session"].split(":", 1)[1]
    secrets.append(server.remember(login_secret))
    login = httpx.get(
        f"{server.url}{session['cp_security_token']}/login/",
        params={"session": session["session"]},
        timeout=30,
    )
    assert login.status_code == 303
    cookie = login.cookies["whostmgrsession"]
    secrets.append(server.remember(cookie))
    used = httpx.get(
        f"{server.url}{session['cp_security_token']}/json-api/version",
        params={"api.version": "1"},
        cookies={"whostmgrsession": cookie},
        timeout=30,
    )
    assert used.status_code == 200

    # Secrets in the query string of a request that fails (unknown function).
    marker = f"nosuch_{uuid.uuid4().hex[:12]}"
    server.get(marker, params={"token": tokens[http_name], "password": wrong_password})
    _wait_for_log(server, marker)

    # A certificate's private key, installed over HTTP (stored encrypted; docs/ssl.md): its
    # PEM and a line of its body must appear nowhere.
    user, _ = server.account()
    ca = make_ca()
    leaf = make_leaf(ca, [f"{user}.example.com"])
    key_pem = server.remember(leaf.key_pem)
    server.remember(key_pem.splitlines()[1])
    installed = httpx.post(
        f"{server.url}/json-api/installssl",
        data={
            "api.version": "1",
            "domain": f"{user}.example.com",
            "crt": leaf.cert_pem,
            "key": key_pem,
            "cab": ca.cert_pem,
        },
        headers={"Authorization": f"whm root:{server.root_token}"},
        timeout=30,
    )
    assert installed.json()["metadata"]["result"] == 1

    # Keys pasted into WHM's Install an SSL Certificate page (the root session above), one
    # installed and one refused (a key of another certificate), and one installed from files
    # by `gatehouse ssl install`: the same — nowhere in plaintext.
    prefix = session["cp_security_token"]
    form = httpx.get(
        f"{server.url}{prefix}/ssl/install", cookies={"whostmgrsession": cookie}, timeout=30
    )
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf, form.text
    for domain_user, good in ((server.account()[0], True), (server.account()[0], False)):
        page_leaf = make_leaf(ca, [f"{domain_user}.example.com"])
        pasted = page_leaf.key_pem if good else make_leaf(ca, ["x.example.net"]).key_pem
        server.remember(pasted)
        server.remember(pasted.splitlines()[1])
        posted = httpx.post(
            f"{server.url}{prefix}/ssl/install",
            data={
                "csrf_token": csrf.group(1),
                "domain": f"{domain_user}.example.com",
                "crt": page_leaf.cert_pem,
                "key": pasted,
            },
            cookies={"whostmgrsession": cookie},
            timeout=30,
        )
        assert posted.status_code == (303 if good else 400), posted.text
        assert pasted.splitlines()[1] not in posted.text
    cli_user, _ = server.account()
    cli_leaf = make_leaf(ca, [f"{cli_user}.example.com"])
    server.remember(cli_leaf.key_pem)
    server.remember(cli_leaf.key_pem.splitlines()[1])
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / "c.pem").write_text(cli_leaf.cert_pem)
        (Path(scratch) / "k.pem").write_text(cli_leaf.key_pem)
        server.cli(
            "ssl", "install", f"{cli_user}.example.com",
            "--cert", f"{scratch}/c.pem", "--key", f"{scratch}/k.pem",
        )  # fmt: skip

    secrets.extend(tokens.values())
    secrets.extend(server.issued)
    return Flow(sorted(set(secrets)), tokens, marker)


def _wait_for_log(server: Server, needle: str) -> None:
    deadline = time.monotonic() + 1.0
    while needle not in server.log_path.read_text(errors="replace"):
        assert time.monotonic() < deadline, f"{needle} never reached the server log"
        time.sleep(0.02)


def _leaks(haystack: bytes, secrets: list[str]) -> list[str]:
    return [s for s in secrets if s.encode() in haystack]


def _rows(server: Server, table: str | None = None) -> bytes:
    """Every row of every table (or of one), stringified."""
    engine = create(server.db_url)
    try:
        names = [table] if table else sa.inspect(engine).get_table_names()
        out = []
        with engine.connect() as conn:
            for name in names:
                for row in conn.execute(sa.text(f'SELECT * FROM "{name}"')):  # noqa: S608
                    out.append(f"{name}: {tuple(row)!r}")
        return "\n".join(out).encode()
    finally:
        engine.dispose()


def test_no_secret_in_the_store(server: Server, flow: Flow) -> None:
    if server.backend == "sqlite":
        path = Path(server.db_url.removeprefix("sqlite:///"))
        files = [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]
        assert Path(f"{path}-wal") in files  # WAL mode: recent writes are in here
        haystack = b"".join(p.read_bytes() for p in files)
    else:
        haystack = _rows(server)
    assert haystack
    assert _leaks(haystack, flow.secrets) == []


def test_no_secret_in_any_row(server: Server, flow: Flow) -> None:
    rows = _rows(server)
    assert b"api_tokens" in rows
    assert _leaks(rows, flow.secrets) == []


def test_no_secret_in_the_audit_log(server: Server, flow: Flow) -> None:
    rows = _rows(server, "audit_log")
    for name in flow.tokens:
        assert name.encode() in rows  # the flow was audited, by name
    assert b"AUTHFAILURE" in rows
    assert _leaks(rows, flow.secrets) == []


def test_no_secret_in_the_server_log(server: Server, flow: Flow) -> None:
    log = server.log_path.read_bytes()
    assert flow.marker.encode() in log
    assert _leaks(log, flow.secrets) == []


def test_access_log_never_includes_query_strings(server: Server, flow: Flow) -> None:
    lines = [
        line
        for line in server.log_path.read_text(errors="replace").splitlines()
        if "gatehouse.access" in line
    ]
    assert any(flow.marker in line for line in lines)
    assert any("/login/" in line for line in lines)
    offending = [line for line in lines if "?" in line or "api.version" in line]
    assert offending == []


@pytest.mark.parametrize("which", ["http", "cli"])
def test_stored_digest_is_sha512_hex_of_the_token(server: Server, flow: Flow, which: str) -> None:
    name = next(n for n in flow.tokens if n.startswith(f"sec-{which}-"))
    rows = server.sql("SELECT digest FROM api_tokens WHERE name = :name", name=name)
    assert [r[0] for r in rows] == [hashlib.sha512(flow.tokens[name].encode()).hexdigest()]


def test_revoked_token_row_is_gone(server: Server, flow: Flow) -> None:
    name = next(n for n in flow.tokens if n.startswith("sec-rev-"))
    assert server.sql("SELECT id FROM api_tokens WHERE name = :name", name=name) == []
