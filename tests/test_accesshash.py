"""The legacy Remote Access Key (whm-reference §2.4, §5.4; issue 3), over real HTTP and the real
CLI: the `allow_deprecated_accesshash` tweak setting (off by default), the key's format and
signature, `accesshash generate=0|1`, authentication with `WHM USER:KEY` in its one-line and
whitespace-broken forms, `gatehouse accesshash convert-to-token`, and the key at rest
(encrypted; never readable in the store).

The server is shared by the whole session and other files expect the setting at its default,
so every test that turns it on does so through the `accesshash_on` fixture, which always turns
it off again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from audit_helpers import Mark, audited_since, last_audit_id
from conftest import Server
from gatehouse.auth import header
from gatehouse.auth.header import TokenCredential
from gatehouse.domain import accesshash
from gatehouse.domain.accesshash import KeyRing

SETTING = "allow_deprecated_accesshash"
FLAT_RE = re.compile(r"\A[0-9a-f]{960}\Z")
LINE_RE = re.compile(r"\A[0-9a-f]{32}\Z")
SIGNATURE_RE = re.compile(r"\A[0-9a-f]{2}(?::[0-9a-f]{2}){15}\Z")
DISABLED_REASON = (
    "Remote Access Key (access hash) authentication is disabled on this server. Use an API "
    "token (api_token_create), or have root enable the “allow_deprecated_accesshash” tweak "
    "setting."
)


# -- helpers ------------------------------------------------------------------------------


def set_setting(server: Server, value: str) -> None:
    server.ok("set_tweaksetting", params={"key": SETTING, "value": value})


def get_setting(server: Server) -> str:
    data = server.ok("get_tweaksetting", params={"key": SETTING})
    assert data["tweaksetting"]["key"] == SETTING
    return str(data["tweaksetting"]["value"])


@pytest.fixture
def accesshash_on(server: Server) -> Iterator[None]:
    """The deprecated setting on for one test; ALWAYS back to the default afterwards."""
    set_setting(server, "1")
    try:
        yield
    finally:
        set_setting(server, "0")
        assert get_setting(server) == "0"


def key_of(
    server: Server,
    user: str = "root",
    *,
    generate: bool = False,
    as_user: str = "root",
    via: str | None = None,
) -> dict[str, Any]:
    params = {"user": user, "generate": "1" if generate else "0"}
    return dict(server.ok("accesshash", params=params, user=as_user, token=via))


def call(server: Server, auth: str, function: str = "version") -> httpx.Response:
    return server.get(function, auth=auth)


def lines(flat: str) -> list[str]:
    return [flat[i : i + 32] for i in range(0, len(flat), 32)]


def audit_since(server: Server, since: Mark, action: str | None = None) -> list[Any]:
    return audited_since(server, since, action)


def assert_401(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["metadata"]["result"] == 0


def failures_since(server: Server, since: Mark) -> list[tuple[str, str]]:
    return [(r.reason, r.actor) for r in audit_since(server, since, "AUTHFAILURE")]


# -- unit level: the key's shape and the header parser ----------------------------------


def test_generate_gives_cpanels_file_format() -> None:
    key = accesshash.generate()
    file_lines = key.split("\n")
    assert file_lines[-1] == ""  # every line, the last one too, ends in \n
    assert len(file_lines[:-1]) == 30
    assert all(LINE_RE.match(line) for line in file_lines[:-1])
    assert len(key) == 30 * 33
    flat = accesshash.flatten(key)
    assert FLAT_RE.match(flat)
    assert accesshash.looks_like_key(key) and accesshash.looks_like_key(flat)
    assert accesshash.generate() != key  # from `secrets`, never repeated


def test_signature_is_the_first_32_hex_as_colon_pairs() -> None:
    key = accesshash.generate()
    sig = accesshash.signature(key)
    assert SIGNATURE_RE.match(sig)
    assert sig.replace(":", "") == key[:32]
    # Upper case and non-hex characters (line breaks) do not change it.
    assert accesshash.signature(key.upper().replace("\n", "\r\n")) == sig
    assert accesshash.signature("cb523f" + "0" * 954) == "cb:52:3f:" + ":".join(["00"] * 13)


def test_digest_is_sha512_of_the_newline_free_form() -> None:
    key = accesshash.generate()
    flat = accesshash.flatten(key)
    assert accesshash.digest(key) == hashlib.sha512(flat.encode()).hexdigest()
    assert accesshash.digest(flat) == accesshash.digest(key.replace("\n", "\r\n"))


@pytest.mark.parametrize(
    ("sent", "looked_for"),
    [
        ("flat", True),  # what clients send: the key without its line breaks
        ("as-filed", True),  # with them (the header parse removes them first anyway)
        ("upper", False),  # stored keys are lower case: an upper-case copy never matches
        ("short", False),
        ("token", False),  # a 32-character API token (revoked, unknown): no store read
    ],
)
def test_only_what_could_be_a_stored_key_is_looked_for(sent: str, looked_for: bool) -> None:
    key = accesshash.generate()
    value = {
        "flat": accesshash.flatten(key),
        "as-filed": key,
        "upper": accesshash.flatten(key).upper(),
        "short": accesshash.flatten(key)[:-2],
        "token": "A1B2C3D4E5F6G7H8J9K0L1M2N3P4Q5R6",
    }[sent]
    assert accesshash.could_be_stored(value) is looked_for


@pytest.mark.parametrize("separator", ["\n", "\r\n", " ", "\t", ""])
def test_header_parser_strips_line_breaks_and_whitespace(separator: str) -> None:
    key = accesshash.generate()
    flat = accesshash.flatten(key)
    value = separator.join(lines(flat)) + separator
    for scheme in ("WHM", "whm"):
        credential = header.parse(f"{scheme} root:{value}")
        assert isinstance(credential, TokenCredential)
        assert credential.scheme == "whm"
        assert credential.username == "root"
        assert credential.secret == flat


# -- the tweak setting ---------------------------------------------------------------------


def test_setting_is_off_by_default(server: Server) -> None:
    assert get_setting(server) == "0"
    # The CLI sees the same store.
    out = server.cli("whmapi1", "get_tweaksetting", f"key={SETTING}", "--output", "json")
    assert json.loads(out.stdout)["data"]["tweaksetting"] == {"key": SETTING, "value": "0"}


def test_set_tweaksetting_over_http(server: Server) -> None:
    since = last_audit_id(server)
    try:
        set_setting(server, "1")
        assert get_setting(server) == "1"
        set_setting(server, "0")
        assert get_setting(server) == "0"
    finally:
        set_setting(server, "0")
    rows = audit_since(server, since, "TWEAKSETTING")
    assert [r.detail for r in rows] == [f"{SETTING}=1", f"{SETTING}=0", f"{SETTING}=0"]
    assert all(r.actor == "root" for r in rows)


def test_set_tweaksetting_from_the_cli(server: Server) -> None:
    try:
        out = server.cli(
            "whmapi1", "set_tweaksetting", f"key={SETTING}", "value=1", "--output", "json"
        )
        assert json.loads(out.stdout)["metadata"]["result"] == 1
        assert get_setting(server) == "1"  # the running server sees it at once
    finally:
        server.cli("whmapi1", "set_tweaksetting", f"key={SETTING}", "value=0")
    assert get_setting(server) == "0"


def test_set_tweaksetting_is_root_only(server: Server) -> None:
    name, token = server.reseller()
    response = server.get(
        "set_tweaksetting", user=name, token=token, params={"key": SETTING, "value": "1"}
    )
    assert response.status_code == 403, response.text
    assert response.json()["metadata"]["result"] == 0
    assert get_setting(server) == "0"
    # Reading is root-only too (the setting is server-wide configuration).
    response = server.get("get_tweaksetting", user=name, token=token, params={"key": SETTING})
    assert response.status_code == 403


@pytest.mark.parametrize("value", ["2", "yes", "", "-1", "1 "])
def test_set_tweaksetting_refuses_a_bad_value(server: Server, value: str) -> None:
    reason = server.fail("set_tweaksetting", params={"key": SETTING, "value": value})
    assert SETTING in reason and "1 or 0" in reason
    assert get_setting(server) == "0"


def test_unknown_tweak_keys_are_refused(server: Server) -> None:
    reason = server.fail("set_tweaksetting", params={"key": "no_such_tweak", "value": "1"})
    assert reason == "“no_such_tweak” is not a valid Tweak Settings key."
    reason = server.fail("get_tweaksetting", params={"key": "no_such_tweak"})
    assert reason == "“no_such_tweak” is not a valid Tweak Settings key."
    reason = server.fail("set_tweaksetting", params={"value": "1"})
    assert "key" in reason
    out = server.cli("whmapi1", "set_tweaksetting", "key=no_such_tweak", "value=1", check=False)
    assert out.returncode == 1
    assert "no_such_tweak" in out.stdout


# -- while the setting is off ----------------------------------------------------------------


def test_accesshash_function_fails_while_off(server: Server) -> None:
    assert server.fail("accesshash", params={"user": "root", "generate": "0"}) == DISABLED_REASON
    assert server.fail("accesshash", params={"generate": "1"}) == DISABLED_REASON
    out = server.cli("whmapi1", "accesshash", "user=root", check=False)
    assert out.returncode == 1
    assert "allow_deprecated_accesshash" in out.stdout


def test_a_valid_key_is_refused_while_off(server: Server, accesshash_on: None) -> None:
    flat = key_of(server, generate=True)["accesshash"]
    assert call(server, f"whm root:{flat}").status_code == 200
    set_setting(server, "0")
    since = last_audit_id(server)
    for auth in (f"whm root:{flat}", f"WHM root:{' '.join(lines(flat))}"):
        assert_401(call(server, auth))
    assert failures_since(server, since) == [("accesshash_disabled", "root")] * 2
    # And it works again the moment the setting is back on: nothing was lost.
    set_setting(server, "1")
    assert call(server, f"whm root:{flat}").status_code == 200


def test_an_unknown_key_is_refused(server: Server, accesshash_on: None) -> None:
    since = last_audit_id(server)
    bogus = accesshash.flatten(accesshash.generate())
    assert_401(call(server, f"whm root:{bogus}"))
    assert failures_since(server, since) == [("accesshash_not_found", "root")]


# -- the key over HTTP ----------------------------------------------------------------------


def test_accesshash_returns_a_flat_key_and_its_signature(
    server: Server, accesshash_on: None
) -> None:
    data = key_of(server, generate=True)
    assert set(data) == {"accesshash", "signature"}
    assert FLAT_RE.match(data["accesshash"])
    assert data["signature"] == accesshash.signature(data["accesshash"])
    assert SIGNATURE_RE.match(data["signature"])
    assert data["signature"].replace(":", "") == data["accesshash"][:32]


def test_generate_0_shows_the_same_key(server: Server, accesshash_on: None) -> None:
    first = key_of(server, generate=True)
    assert key_of(server) == first
    assert key_of(server) == first
    # `user` defaults to the caller.
    assert server.ok("accesshash", params={"generate": "0"}) == first


def test_generate_1_replaces_the_key_at_once(server: Server, accesshash_on: None) -> None:
    old = key_of(server, generate=True)["accesshash"]
    assert call(server, f"whm root:{old}").status_code == 200
    since = last_audit_id(server)
    new = key_of(server, generate=True)["accesshash"]
    assert new != old and FLAT_RE.match(new)
    assert_401(call(server, f"whm root:{old}"))  # the very next request
    assert call(server, f"whm root:{new}").status_code == 200
    assert key_of(server)["accesshash"] == new
    rows = audit_since(server, since, "GENERATEACCESSHASH")
    assert [(r.actor, r.subject) for r in rows] == [("root", "root")]
    assert failures_since(server, since) == [("accesshash_not_found", "root")]


@pytest.mark.parametrize("scheme", ["WHM", "whm", "Whm"])
@pytest.mark.parametrize("form", ["flat", "spaces", "tabs", "mixed"])
def test_the_key_authenticates_in_every_form(
    server: Server, accesshash_on: None, scheme: str, form: str
) -> None:
    flat = key_of(server)["accesshash"]
    value = {
        "flat": flat,
        "spaces": " ".join(lines(flat)),
        "tabs": "\t".join(lines(flat)),
        "mixed": " \t".join(lines(flat)),
    }[form]
    response = call(server, f"{scheme} root:{value}", "myprivs")
    assert response.status_code == 200, response.text
    assert response.json()["metadata"]["result"] == 1


def test_raw_newlines_cannot_cross_http(server: Server) -> None:
    # HTTP header values cannot hold a raw line break: the client refuses to send one, which
    # is why cPanel's own client strips [\r\n]. (The parser-level stripping is unit-tested.)
    flat = accesshash.flatten(accesshash.generate())
    with pytest.raises((httpx.LocalProtocolError, ValueError)):
        call(server, "whm root:" + "\n".join(lines(flat)))


def test_the_key_belongs_to_its_user(server: Server, accesshash_on: None) -> None:
    reseller, _token = server.reseller()
    flat = key_of(server)["accesshash"]
    since = last_audit_id(server)
    assert_401(call(server, f"whm {reseller}:{flat}"))
    assert_401(call(server, f"whm nosuchuser{uuid.uuid4().hex[:6]}:{flat}"))
    reasons = [r for r, _ in failures_since(server, since)]
    assert reasons == ["accesshash_user_mismatch", "accesshash_user_mismatch"]


def test_a_reseller_has_its_own_key(server: Server, accesshash_on: None) -> None:
    reseller, token = server.reseller()
    root_key = key_of(server)["accesshash"]
    mine = key_of(server, reseller, as_user=reseller, via=token)
    assert FLAT_RE.match(mine["accesshash"]) and mine["accesshash"] != root_key
    # Root sees (and may regenerate) the reseller's key; `user` defaults to the caller.
    assert key_of(server, reseller) == mine
    assert server.ok("accesshash", user=reseller, token=token) == mine
    # The key authenticates as the reseller, with the reseller's privileges only.
    auth = f"WHM {reseller}:{mine['accesshash']}"
    assert call(server, auth).status_code == 200
    assert call(server, auth, "listresellers").status_code == 403
    assert_401(call(server, f"whm root:{mine['accesshash']}"))
    # The reseller may not read (nor regenerate) root's key.
    for generate in (False, True):
        reason = server.fail(
            "accesshash",
            user=reseller,
            token=token,
            params={"user": "root", "generate": "1" if generate else "0"},
        )
        assert "root" in reason
    assert key_of(server)["accesshash"] == root_key


def test_a_plain_account_has_no_key(server: Server, accesshash_on: None) -> None:
    account, _password = server.account()
    reason = server.fail("accesshash", params={"user": account, "generate": "1"})
    assert reason == f"Only root and resellers have a Remote Access Key; “{account}” is neither."
    assert not server.sql(
        "SELECT a.user_id FROM access_hashes a JOIN users u ON u.id = a.user_id "
        "WHERE u.username = :u",
        u=account,
    )
    reason = server.fail("accesshash", params={"user": "nosuchuser", "generate": "0"})
    assert "nosuchuser" in reason


# -- convert-to-token -----------------------------------------------------------------------


def tokens_named(server: Server, user: str, prefix: str = "accesshash-") -> list[Any]:
    return server.sql(
        "SELECT t.name, t.digest, t.acls, t.whitelist_ips, t.expires_at, t.service "
        "FROM api_tokens t JOIN users u ON u.id = t.user_id "
        "WHERE u.username = :u AND t.name LIKE :p ORDER BY t.id",
        u=user,
        p=prefix + "%",
    )


def test_convert_to_token_keeps_the_string_working(server: Server) -> None:
    since = last_audit_id(server)
    set_setting(server, "1")
    try:
        flat = key_of(server, generate=True)["accesshash"]
        before = {r.name for r in tokens_named(server, "root")}
        started = int(time.time())
        out = server.cli("accesshash", "convert-to-token")
        made = [r for r in tokens_named(server, "root") if r.name not in before]
        assert len(made) == 1
        token = made[0]
        assert re.fullmatch(r"accesshash-\d+(-[0-9a-f]{8})?", token.name)
        assert started <= int(token.name.split("-")[1]) <= int(time.time())
        assert out.stdout == f"root: created API token “{token.name}” from the access key.\n"
        assert token.digest == hashlib.sha512(flat.encode()).hexdigest()
        assert token.acls is None and token.whitelist_ips is None and token.expires_at is None
        assert token.service == "whostmgr"
        # Full access, listed like any other token.
        listed = server.ok("api_token_list")["tokens"][token.name]
        assert set(listed["acls"].values()) == {1}
    finally:
        set_setting(server, "0")
    # With access keys off, the same string still authenticates — as a token.
    response = call(server, f"whm root:{flat}", "listresellers")
    assert response.status_code == 200, response.text
    assert call(server, f"WHM root:{' '.join(lines(flat))}").status_code == 200
    # Converting again is reported and creates nothing.
    out = server.cli("accesshash", "convert-to-token", "root")
    assert out.stdout == f"root: already converted (token “{token.name}”).\n"
    assert len(tokens_named(server, "root")) == len(before) + 1
    rows = audit_since(server, since, "CONVERTACCESSHASH")
    assert [(r.actor, r.subject, r.token_name) for r in rows] == [("cli", "root", token.name)]
    # cPanel's script does not revoke the key: it is still there (and still root's).
    assert (
        server.sql(
            "SELECT a.digest FROM access_hashes a JOIN users u ON u.id = a.user_id "
            "WHERE u.username = 'root'"
        )[0][0]
        == token.digest
    )


def test_convert_all_resellers(server: Server) -> None:
    with_key = [server.reseller()[0] for _ in range(2)]
    without_key, _ = server.reseller()
    set_setting(server, "1")
    try:
        keys = {r: key_of(server, r, generate=True)["accesshash"] for r in with_key}
    finally:
        set_setting(server, "0")
    out = server.cli("accesshash", "convert-to-token", "--all-resellers")
    stdout = out.stdout.splitlines()
    for reseller in with_key:
        [made] = tokens_named(server, reseller)
        assert made.digest == hashlib.sha512(keys[reseller].encode()).hexdigest()
        assert f"{reseller}: created API token “{made.name}” from the access key." in stdout
        # Setting off: the key string works as the reseller's token.
        assert call(server, f"whm {reseller}:{keys[reseller]}").status_code == 200
    assert f"{without_key}: no access key; nothing to convert." in stdout
    assert tokens_named(server, without_key) == []
    again = server.cli("accesshash", "convert-to-token", "--all-resellers").stdout.splitlines()
    for reseller in with_key:
        assert any(line.startswith(f"{reseller}: already converted") for line in again)
        assert len(tokens_named(server, reseller)) == 1


def test_convert_named_users_without_a_key(server: Server) -> None:
    reseller, _ = server.reseller()
    since = last_audit_id(server)
    out = server.cli("accesshash", "convert-to-token", reseller)
    assert out.stdout == f"{reseller}: no access key; nothing to convert.\n"
    assert tokens_named(server, reseller) == []
    assert audit_since(server, since, "CONVERTACCESSHASH") == []
    missing = f"nosuch{uuid.uuid4().hex[:6]}"
    out = server.cli("accesshash", "convert-to-token", missing, check=False)
    assert out.returncode != 0
    assert missing in out.stderr


def test_convert_checks_every_name_before_changing_anything(server: Server) -> None:
    reseller, _ = server.reseller()
    set_setting(server, "1")
    try:
        key_of(server, reseller, generate=True)
    finally:
        set_setting(server, "0")
    since = last_audit_id(server)
    missing = f"nosuch{uuid.uuid4().hex[:6]}"
    out = server.cli("accesshash", "convert-to-token", reseller, missing, check=False)
    assert out.returncode == 1
    assert f"“{missing}” does not exist" in out.stderr
    # Nothing was converted, and nothing claims it was.
    assert "created" not in out.stdout
    assert tokens_named(server, reseller) == []
    assert audit_since(server, since, "CONVERTACCESSHASH") == []


# -- at rest ----------------------------------------------------------------------------------


def test_the_key_ring_file_is_made_once_and_privately(tmp_path: Path) -> None:
    import threading

    rings = [KeyRing(tmp_path) for _ in range(16)]
    blobs: list[bytes] = [b""] * len(rings)
    barrier = threading.Barrier(len(rings))

    def work(i: int) -> None:
        barrier.wait()
        blobs[i] = rings[i].encrypt(f"secret {i}", "ctx")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(rings))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Every instance ended up with the one key on disk: each decrypts every other's blob.
    fresh = KeyRing(tmp_path)
    assert [fresh.decrypt(b, "ctx") for b in blobs] == [f"secret {i}" for i in range(16)]
    assert [p.name for p in tmp_path.iterdir()] == ["secret.key"]  # no temporary files left
    assert stat.S_IMODE(os.stat(tmp_path / "secret.key").st_mode) == 0o600


def _store_bytes(server: Server) -> bytes:
    if server.backend == "sqlite":
        path = Path(str(make_url(server.db_url).database))
        blobs = [path.read_bytes()]
        for suffix in ("-wal", "-journal"):
            extra = Path(f"{path}{suffix}")
            if extra.exists():
                blobs.append(extra.read_bytes())
        return b"".join(blobs)
    rows = server.sql("SELECT user_id, digest, ciphertext, created_time FROM access_hashes")
    dump = []
    for row in rows:
        blob = bytes(row.ciphertext)
        dump.append(f"{row.user_id}|{row.digest}|{blob.hex()}|{row.created_time}".encode())
        dump.append(blob)
    return b"\n".join(dump)


def test_the_stored_key_is_not_readable(server: Server, accesshash_on: None) -> None:
    reseller, token = server.reseller()
    keys = [
        key_of(server, generate=True)["accesshash"],
        key_of(server, reseller, as_user=reseller, via=token, generate=True)["accesshash"],
    ]
    stored = _store_bytes(server)
    assert stored
    for flat in keys:
        assert flat.encode() not in stored
        assert flat.upper().encode() not in stored
        for line in lines(flat):
            assert line.encode() not in stored, "a line of the key is readable in the store"
    # What is stored is an AES-GCM ciphertext bound to its row, and the digest of the key.
    rows = server.sql(
        "SELECT u.username, a.digest, a.ciphertext, a.user_id "
        "FROM access_hashes a JOIN users u ON u.id = a.user_id "
        "WHERE u.username IN ('root', :r) ORDER BY u.username = 'root' DESC",
        r=reseller,
    )
    assert [r.username for r in rows] == ["root", reseller]
    ring = KeyRing(server.data_dir)
    for row, flat in zip(rows, keys, strict=True):
        assert row.digest == hashlib.sha512(flat.encode()).hexdigest()
        blob = bytes(row.ciphertext)
        assert len(blob) >= 12 + 960 + 16
        assert accesshash.flatten(ring.decrypt(blob, f"accesshash:{row.user_id}")) == flat
    other = rows[1].user_id
    with pytest.raises(Exception):  # noqa: B017 — InvalidTag: a blob is bound to its row
        ring.decrypt(bytes(rows[0].ciphertext), f"accesshash:{other}")


def test_the_secret_key_file_is_private(server: Server, accesshash_on: None) -> None:
    key_of(server)
    path = server.data_dir / "secret.key"
    assert path.is_file()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert oct(stat.S_IMODE(os.stat(path).st_mode)) == "0o600"


# -- get_remote_access_hash: another server's key, asked for there ---------------------------
# Whostmgr/API/1/Resellers.pm get_remote_access_hash and Whostmgr/AccessHash.pm: log into the
# remote WHM (HTTPS, its certificate not verified) with the user's password, call `accesshash`
# there, hand its key back; nothing is kept. The "remote" here is this same server, reached
# on its TLS port (`port`, gatehouse's addition: cPanel always uses 2087).


def remote(server: Server, **params: str) -> httpx.Response:
    return server.get("get_remote_access_hash", params=params)


def remote_params(server: Server, user: str, password: str, **more: str) -> dict[str, str]:
    return {
        "host": "127.0.0.1",
        "port": str(server.https_port),
        "username": user,
        "password": password,
        **more,
    }


def test_get_remote_access_hash_gives_the_remote_users_key(
    server: Server, accesshash_on: None
) -> None:
    user, password = server.account(reseller=True)
    own = key_of(server, user)  # the key the remote holds for that user
    body = remote(server, **remote_params(server, user, password)).json()
    assert body["metadata"]["result"] == 1 and body["metadata"]["reason"] == "OK"
    assert body["data"] == {"accesshash": own["accesshash"]}


def test_get_remote_access_hash_generate_1_makes_the_remote_make_a_new_key(
    server: Server, accesshash_on: None
) -> None:
    user, password = server.account(reseller=True)
    old = key_of(server, user)["accesshash"]
    data = server.ok(
        "get_remote_access_hash", params=remote_params(server, user, password, generate="1")
    )
    assert FLAT_RE.match(data["accesshash"]) and data["accesshash"] != old
    assert key_of(server, user)["accesshash"] == data["accesshash"]


def test_get_remote_access_hash_stores_nothing(server: Server, accesshash_on: None) -> None:
    user, password = server.account(reseller=True)
    key = key_of(server, user)["accesshash"]
    before = server.sql("SELECT COUNT(*) FROM access_hashes")[0][0]
    mark = last_audit_id(server)
    response = remote(server, **remote_params(server, user, password))
    assert response.json()["data"]["accesshash"] == key
    assert server.sql("SELECT COUNT(*) FROM access_hashes")[0][0] == before
    for row in audited_since(server, mark):
        assert password not in repr(tuple(row)) and key not in repr(tuple(row))


NO_DATA = object()


@pytest.mark.parametrize(
    ("drop", "blank", "reason", "data"),
    [
        # Resellers.pm lines 480-494: each must exist, username first; no data.
        ("username", None, 'get_remote_access_hash requires that "username" is defined.', NO_DATA),
        ("password", None, 'get_remote_access_hash requires that "password" is defined.', NO_DATA),
        ("host", None, 'get_remote_access_hash requires that "host" is defined.', NO_DATA),
        # AccessHash.pm lines 72-80: and be true in Perl's sense; `accesshash` null.
        (
            None, "username",
            "Whostmgr::AccessHash::get_remote_access_hash requires that a user is defined",
            None,
        ),
        (
            None, "password",
            "Whostmgr::AccessHash::get_remote_access_hash requires that a password is defined",
            None,
        ),
        (
            None, "host",
            "Whostmgr::AccessHash::get_remote_access_hash requires that a host is defined",
            None,
        ),
    ],
)  # fmt: skip
def test_get_remote_access_hash_refusals(
    server: Server, drop: str | None, blank: str | None, reason: str, data: object
) -> None:
    params = remote_params(server, "someone", "secret")
    if drop is not None:
        del params[drop]
    if blank is not None:
        params[blank] = "0"  # false in Perl, as "" is
    body = remote(server, **params).json()
    assert body["metadata"]["result"] == 0 and body["metadata"]["reason"] == reason
    if data is NO_DATA:
        assert "data" not in body
    else:
        assert body["data"] == {"accesshash": None}


def test_get_remote_access_hash_passes_on_the_remotes_refusal(server: Server) -> None:
    # The setting is off on the "remote": its accesshash refuses, and that reason comes back.
    user, password = server.account(reseller=True)
    body = remote(server, **remote_params(server, user, password)).json()
    assert body["metadata"]["result"] == 0
    assert body["metadata"]["reason"] == f"The remote api returned an error: {DISABLED_REASON}"
    assert body["data"] == {"accesshash": None}


def test_get_remote_access_hash_with_a_wrong_password(server: Server, accesshash_on: None) -> None:
    user, _ = server.account(reseller=True)
    body = remote(server, **remote_params(server, user, "not-the-password")).json()
    assert body["metadata"]["result"] == 0
    assert body["metadata"]["reason"].startswith("The remote api returned an error: ")
    assert body["data"] == {"accesshash": None}


def test_get_remote_access_hash_unreachable(server: Server) -> None:
    params = remote_params(server, "someone", "secret", port="1")
    body = remote(server, **params).json()
    assert body["metadata"]["result"] == 0
    assert body["metadata"]["reason"].startswith(
        "There was a communication error with the remote server: "
    )


def test_get_remote_access_hash_is_root_only(server: Server) -> None:
    name, token = server.reseller()
    response = server.get(
        "get_remote_access_hash",
        user=name,
        token=token,
        params=remote_params(server, "someone", "secret"),
    )
    assert response.json()["metadata"]["result"] == 0
