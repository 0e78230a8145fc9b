"""`gatehouse import-cpanel PATH` (issue 3; whm-reference §2.4 and §4), against the session
server's store through the real CLI, checked over real HTTP.

The fixture trees are built from the documented formats: `root/.accesshash` and
`home/<user>/.accesshash` (30 lines of 32 hex), `var/cpanel/resellers` (`user:acl,acl` lines)
and `var/cpanel/authn/api_tokens_v2/whostmgr/<user>.json` (SHA-512 hex of each token → name,
create_time, expires_at, acls — absent for full access — and whitelist_ips). Because cPanel
stores SHA-512 digests, imported tokens must keep working with their original strings.

The server is shared by the whole session: every user and token name here is unique, and the
access-hash setting is always turned off again.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import string
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conftest import Server
from gatehouse.domain import accesshash

SETTING = "allow_deprecated_accesshash"
FULL = None  # a full-access token: no "acls" key in the file


def new_user(prefix: str = "r") -> str:
    return prefix + uuid.uuid4().hex[:8]


def token_string() -> str:
    """A cPanel-shaped token: 32 upper-case letters and digits."""
    alphabet = string.ascii_uppercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(32))


def sha512(text: str) -> str:
    return hashlib.sha512(text.encode()).hexdigest()


@dataclass
class CpToken:
    user: str
    name: str
    secret: str = field(default_factory=token_string)
    acls: list[str] | None = FULL
    whitelist_ips: list[str] | None = None
    create_time: int = 1483625276
    expires_at: int | str | None = None

    def entry(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "create_time": self.create_time,
            "expires_at": self.expires_at,
        }
        if self.acls is not None:
            out["acls"] = self.acls
        if self.whitelist_ips is not None:
            out["whitelist_ips"] = self.whitelist_ips
        return out


@dataclass
class Tree:
    path: Path
    keys: dict[str, str] = field(default_factory=dict)  # user → key file contents
    resellers: dict[str, list[str]] = field(default_factory=dict)
    tokens: list[CpToken] = field(default_factory=list)
    bad_files: list[Path] = field(default_factory=list)

    def write(self) -> Path:
        for user, key in self.keys.items():
            home = self.path / ("root" if user == "root" else f"home/{user}")
            home.mkdir(parents=True, exist_ok=True)
            (home / ".accesshash").write_text(key)
            (home / ".accesshash").chmod(0o600)
        if self.resellers:
            target = self.path / "var/cpanel/resellers"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("".join(f"{u}:{','.join(a)}\n" for u, a in self.resellers.items()))
        store = self.path / "var/cpanel/authn/api_tokens_v2/whostmgr"
        store.mkdir(parents=True, exist_ok=True)
        by_user: dict[str, dict[str, Any]] = {}
        for token in self.tokens:
            by_user.setdefault(token.user, {})[sha512(token.secret)] = token.entry()
        for user, entries in by_user.items():
            (store / f"{user}.json").write_text(json.dumps({"tokens": entries}))
        return self.path

    def malformed(self, user: str) -> Path:
        store = self.path / "var/cpanel/authn/api_tokens_v2/whostmgr"
        store.mkdir(parents=True, exist_ok=True)
        bad = store / f"{user}.json"
        bad.write_text('{"tokens":{"' + "a" * 128 + '":{"name":"half-written",')
        self.bad_files.append(bad)
        return bad


def auth(user: str, secret: str) -> str:
    return f"whm {user}:{secret}"


def counts(server: Server, sql: str, **params: Any) -> int:
    return int(server.sql(sql, **params)[0][0])


def audit_count(server: Server, action: str) -> int:
    return counts(server, "SELECT COUNT(*) FROM audit_log WHERE action = :a", a=action)


def max_audit(server: Server) -> int:
    return counts(server, "SELECT COALESCE(MAX(id), 0) FROM audit_log")


def snapshot(server: Server, names: tuple[str, str, str]) -> dict[str, list[Any]]:
    """Everything the import touches for these three users, as comparable tuples."""
    bind = dict(zip("abc", names, strict=True))
    users = server.sql(
        "SELECT u.id, u.username, u.owner, u.reseller_acls, u.suspended, u.password_hash "
        "FROM users u WHERE u.username IN (:a, :b, :c) ORDER BY u.id",
        **bind,
    )
    tokens = server.sql(
        "SELECT t.id, t.name, t.digest, t.acls, t.whitelist_ips, t.create_time, t.expires_at "
        "FROM api_tokens t JOIN users u ON u.id = t.user_id "
        "WHERE u.username IN (:a, :b, :c) ORDER BY t.id",
        **bind,
    )
    keys = server.sql(
        "SELECT a.user_id, a.digest, a.created_time, a.ciphertext FROM access_hashes a "
        "JOIN users u ON u.id = a.user_id WHERE u.username IN (:a, :b, :c) ORDER BY a.user_id",
        **bind,
    )
    return {
        "users": [tuple(r) for r in users],
        "tokens": [tuple(r) for r in tokens],
        "keys": [(r[0], r[1], r[2], bytes(r[3])) for r in keys],
    }


def reseller_acls(server: Server, user: str) -> list[str] | None:
    rows = server.sql("SELECT reseller_acls FROM users WHERE username = :u", u=user)
    assert rows, f"{user} was not created"
    stored = rows[0][0]
    value = json.loads(stored) if isinstance(stored, str) else stored
    return None if value is None else [str(a) for a in value]


def listed(server: Server, user: str, via: str) -> dict[str, Any]:
    return dict(server.ok("api_token_list", user=user, token=via)["tokens"])


@pytest.fixture
def accesshash_on(server: Server) -> Iterator[None]:
    server.ok("set_tweaksetting", params={"key": SETTING, "value": "1"})
    try:
        yield
    finally:
        server.ok("set_tweaksetting", params={"key": SETTING, "value": "0"})


# -- the full import ------------------------------------------------------------------------


@dataclass
class Imported:
    tree: Tree
    new_reseller: str  # created by the import
    old_reseller: str  # existed before (made over HTTP)
    root_full: CpToken
    root_limited: CpToken
    root_elsewhere: CpToken  # only 192.0.2.8/29 may use it
    new_full: CpToken
    new_limited: CpToken
    old_full: CpToken
    bad_file: Path
    first: Any  # the CompletedProcess of the first run
    audit_before: int


@pytest.fixture
def imported(server: Server, tmp_path: Path) -> Imported:
    new_reseller = new_user()
    old_reseller, _password = server.account(reseller=True)
    tag = uuid.uuid4().hex[:8]
    expires = int(time.time()) + 86400 * 30
    root_full = CpToken("root", f"cp-full-{tag}")
    root_limited = CpToken(
        "root",
        f"cp-limited-{tag}",
        acls=["list-accts", "create-dns"],
        whitelist_ips=["192.0.2.8/29", "127.0.0.1"],
        create_time=1500000000,
        expires_at=expires,
    )
    root_elsewhere = CpToken("root", f"cp-elsewhere-{tag}", whitelist_ips=["192.0.2.8/29"])
    new_full = CpToken(new_reseller, "automation")
    new_limited = CpToken(
        new_reseller, "dns-only", acls=["list-accts"], whitelist_ips=["127.0.0.0/8"]
    )
    old_full = CpToken(old_reseller, f"legacy-{tag}")
    tree = Tree(
        tmp_path / "cpanel",
        keys={
            "root": accesshash.generate(),
            new_reseller: accesshash.generate(),
            old_reseller: accesshash.generate(),
        },
        resellers={
            new_reseller: [
                "list-accts",
                "create-acct",
                "manage-api-tokens",
                "acme-thirdparty",
                "basic-whm-functions",
            ],
            old_reseller: ["list-accts", "manage-api-tokens"],
        },
        tokens=[root_full, root_limited, root_elsewhere, new_full, new_limited, old_full],
    )
    tree.write()
    bad = tree.malformed(new_user("bad"))
    before = max_audit(server)
    first = server.cli("import-cpanel", str(tree.path), check=False)
    return Imported(
        tree,
        new_reseller,
        old_reseller,
        root_full,
        root_limited,
        root_elsewhere,
        new_full,
        new_limited,
        old_full,
        bad,
        first,
        before,
    )


def test_import_reports_the_bad_file_and_imports_the_rest(
    server: Server, imported: Imported
) -> None:
    out = imported.first
    assert out.returncode == 1, out.stdout + out.stderr
    assert f"skipped {imported.bad_file}: not JSON" in out.stderr
    # Third-party reseller privileges are noted, not imported.
    assert "acme-thirdparty" in out.stderr and imported.new_reseller in out.stderr
    summary = out.stdout.strip().splitlines()[-1]
    assert "1 skipped" in summary
    assert "tokens imported: 6" in summary
    assert "access keys imported: 3" in summary
    assert "resellers set: 2" in summary
    # Nothing of the bad file's user exists.
    bad_user = imported.bad_file.stem
    assert server.sql("SELECT id FROM users WHERE username = :u", u=bad_user) == []


def test_imported_tokens_work_with_their_original_strings(
    server: Server, imported: Imported
) -> None:
    root_full, root_limited = imported.root_full, imported.root_limited
    assert server.ok("listresellers", token=root_full.secret) is not None
    # Limited: list-accts and create-dns only.
    assert server.get("listaccts", token=root_limited.secret).status_code == 200
    denied = server.get("listresellers", token=root_limited.secret)
    assert denied.status_code == 403, denied.text
    # The IP list came across: 127.0.0.1 may use root_limited, but not root_elsewhere.
    since = max_audit(server)
    assert server.get("version", token=imported.root_elsewhere.secret).status_code == 401
    rows = server.sql(
        "SELECT reason, token_name FROM audit_log WHERE id > :s AND action = 'AUTHFAILURE'", s=since
    )
    assert [tuple(r) for r in rows] == [("ip_not_allowed", imported.root_elsewhere.name)]
    # The strings are the user's own: another user name is refused.
    assert (
        server.get("version", user=imported.new_reseller, token=root_full.secret).status_code == 401
    )


def test_imported_acls_ips_and_times_are_preserved(server: Server, imported: Imported) -> None:
    tokens = listed(server, "root", imported.root_full.secret)
    full = tokens[imported.root_full.name]
    assert set(full["acls"].values()) == {1}
    assert full["whitelist_ips"] is None and full["expires_at"] is None
    assert full["create_time"] == imported.root_full.create_time
    limited = tokens[imported.root_limited.name]
    assert {k for k, v in limited["acls"].items() if v} == {"list-accts", "create-dns"}
    assert limited["whitelist_ips"] == ["127.0.0.1", "192.0.2.8/29"]
    assert limited["create_time"] == 1500000000
    assert limited["expires_at"] == imported.root_limited.expires_at
    assert tokens[imported.root_elsewhere.name]["whitelist_ips"] == ["192.0.2.8/29"]
    # Stored as cPanel stored them: the SHA-512 digest of the string.
    rows = server.sql(
        "SELECT name, digest FROM api_tokens WHERE name IN (:a, :b, :c)",
        a=imported.root_full.name,
        b=imported.root_limited.name,
        c=imported.root_elsewhere.name,
    )
    by_name = {r.name: r.digest for r in rows}
    for token in (imported.root_full, imported.root_limited, imported.root_elsewhere):
        assert by_name[token.name] == sha512(token.secret)


def test_imported_resellers_get_their_privileges(server: Server, imported: Imported) -> None:
    new, old = imported.new_reseller, imported.old_reseller
    assert sorted(reseller_acls(server, new) or []) == sorted(
        ["list-accts", "create-acct", "manage-api-tokens", "basic-whm-functions"]
    )
    assert sorted(reseller_acls(server, old) or []) == ["list-accts", "manage-api-tokens"]
    # The new reseller's tokens authenticate as it, within its privileges.
    via = imported.new_full.secret
    tokens = listed(server, new, via)
    assert set(tokens) == {"automation", "dns-only"}
    assert {k for k, v in tokens["automation"]["acls"].items() if v} == {
        "list-accts",
        "create-acct",
        "manage-api-tokens",
        "basic-whm-functions",
    }
    assert {k for k, v in tokens["dns-only"]["acls"].items() if v} == {"list-accts"}
    assert tokens["dns-only"]["whitelist_ips"] == ["127.0.0.0/8"]
    assert server.get("listaccts", user=new, token=imported.new_limited.secret).status_code == 200
    assert (
        server.get("api_token_list", user=new, token=imported.new_limited.secret).status_code == 403
    )
    assert server.get("listresellers", user=new, token=via).status_code == 403
    # The existing reseller keeps its account and gains the imported token.
    assert imported.old_full.name in listed(server, old, imported.old_full.secret)
    # A reseller created by the import has no password: it cannot log in with one.
    assert server.sql("SELECT password_hash FROM users WHERE username = :u", u=new)[0][0] is None


def test_imported_keys(server: Server, imported: Imported) -> None:
    tree = imported.tree
    for user, key in tree.keys.items():
        rows = server.sql(
            "SELECT a.digest FROM access_hashes a JOIN users u "
            "ON u.id = a.user_id WHERE u.username = :u",
            u=user,
        )
        assert [r.digest for r in rows] == [sha512(accesshash.flatten(key))]
    # While the setting is off (the default), an imported key does not authenticate.
    flat_root = accesshash.flatten(tree.keys["root"])
    assert server.get("version", auth=f"WHM root:{flat_root}").status_code == 401
    server.ok("set_tweaksetting", params={"key": SETTING, "value": "1"})
    try:
        for user, key in tree.keys.items():
            flat = accesshash.flatten(key)
            # listaccts: every user in the tree holds list-accts.
            response = server.get("listaccts", auth=f"WHM {user}:{flat}")
            assert response.status_code == 200, (user, response.text)
            spaced = " ".join(key.split())
            assert server.get("listaccts", auth=f"whm {user}:{spaced}").status_code == 200
        # The server can show the imported key (it was encrypted with the server's key ring).
        shown = server.ok("accesshash", params={"user": imported.new_reseller, "generate": "0"})
        assert shown["accesshash"] == accesshash.flatten(tree.keys[imported.new_reseller])
        assert shown["signature"] == accesshash.signature(tree.keys[imported.new_reseller])
    finally:
        server.ok("set_tweaksetting", params={"key": SETTING, "value": "0"})


def test_import_is_audited(server: Server, imported: Imported) -> None:
    rows = server.sql(
        "SELECT action, actor, subject, token_name FROM audit_log WHERE id > :s "
        "AND action IN ('CREATEAPITOKEN', 'IMPORTCPANEL') ORDER BY id",
        s=imported.audit_before,
    )
    created = {(r.subject, r.token_name) for r in rows if r.action == "CREATEAPITOKEN"}
    assert created == {(t.user, t.name) for t in imported.tree.tokens}
    assert all(r.actor == "import-cpanel" for r in rows)
    assert [r.action for r in rows].count("IMPORTCPANEL") == 1


def test_a_second_import_changes_nothing(server: Server, imported: Imported) -> None:
    names = ("root", imported.new_reseller, imported.old_reseller)
    before = snapshot(server, names)
    created_before = audit_count(server, "CREATEAPITOKEN")
    imports_before = audit_count(server, "IMPORTCPANEL")
    again = server.cli("import-cpanel", str(imported.tree.path), check=False)
    assert again.returncode == 1  # the bad file is still there, and still reported
    assert f"skipped {imported.bad_file}" in again.stderr
    summary = again.stdout.strip().splitlines()[-1]
    assert "imported" not in summary and "created" not in summary and "set:" not in summary
    assert "tokens unchanged: 6" in summary
    assert "access keys unchanged: 3" in summary
    assert "resellers unchanged: 2" in summary
    assert snapshot(server, names) == before
    assert audit_count(server, "CREATEAPITOKEN") == created_before
    assert audit_count(server, "IMPORTCPANEL") == imports_before
    # Still working.
    assert server.get("version", token=imported.root_full.secret).status_code == 200


# -- dry run and other trees -----------------------------------------------------------------


def test_dry_run_changes_nothing(server: Server, tmp_path: Path) -> None:
    reseller = new_user()
    plain = new_user("u")  # tokens but no reseller line: an account is made for it
    tokens = [
        CpToken(reseller, "one"),
        CpToken(reseller, "two", acls=["list-accts"]),
        CpToken(plain, "three"),
    ]
    tree = Tree(
        tmp_path / "cp",
        keys={reseller: accesshash.generate()},
        resellers={reseller: ["list-accts"]},
        tokens=tokens,
    )
    tree.write()
    audit_before = max_audit(server)
    token_count = counts(server, "SELECT COUNT(*) FROM api_tokens")
    out = server.cli("import-cpanel", "--dry-run", str(tree.path))
    assert out.returncode == 0, out.stderr
    summary = out.stdout.strip().splitlines()[-1]
    assert summary.startswith("would change")
    assert "tokens imported: 3" in summary and "accounts created: 2" in summary
    assert "access keys imported: 1" in summary
    for user in (reseller, plain):
        assert server.sql("SELECT id FROM users WHERE username = :u", u=user) == []
    for token in tokens:
        assert server.get("version", user=token.user, token=token.secret).status_code == 401
        assert (
            server.sql("SELECT id FROM api_tokens WHERE digest = :d", d=sha512(token.secret)) == []
        )
    assert counts(server, "SELECT COUNT(*) FROM api_tokens") == token_count
    assert (
        server.sql(
            "SELECT action FROM audit_log WHERE id > :s AND action <> 'AUTHFAILURE'", s=audit_before
        )
        == []
    )
    # The real run then does what the dry run said.
    real = server.cli("import-cpanel", str(tree.path))
    assert real.stdout.strip().splitlines()[-1] == "done" + summary.removeprefix("would change")
    assert server.get("listaccts", user=reseller, token=tokens[0].secret).status_code == 200


# cPanel stores `expires_at` as given: "0" is none (Perl false), "00" is true and in the past,
# so cPanel refuses that token (APITokens.pm line 142) — and so must the import.
@pytest.mark.parametrize(
    ("expires_at", "works"), [("0", True), (0, True), ("", True), ("00", False), ("000", False)]
)
def test_an_imported_expiry_is_read_as_cpanel_reads_it(
    server: Server, tmp_path: Path, expires_at: int | str, works: bool
) -> None:
    user = new_user()
    token = CpToken(user, "zeros\n", expires_at=expires_at)
    Tree(tmp_path / "cp", resellers={user: ["all"]}, tokens=[token]).write()
    out = server.cli("import-cpanel", str(tmp_path / "cp"))
    assert out.returncode == 0, out.stderr
    [(name, stored)] = server.sql(
        "SELECT name, expires_at FROM api_tokens WHERE digest = :d", d=sha512(token.secret)
    )
    assert name == "zeros\n" and stored == (None if works else 0)
    status = server.get("version", user=user, token=token.secret).status_code
    assert status == (200 if works else 401)


def test_an_empty_tree_imports_nothing(server: Server, tmp_path: Path) -> None:
    out = server.cli("import-cpanel", str(tmp_path))
    assert out.stdout.strip().endswith("nothing to import")
    missing = server.cli("import-cpanel", str(tmp_path / "nope"), check=False)
    assert missing.returncode != 0


@pytest.mark.parametrize("what", ["bad-key", "bad-digest", "bad-acl", "bad-ip", "bad-resellers"])
def test_other_bad_files_are_skipped_whole(server: Server, tmp_path: Path, what: str) -> None:
    user = new_user()
    good = CpToken("root", f"good-{uuid.uuid4().hex[:8]}")
    tree = Tree(tmp_path / "cp", tokens=[good])
    tree.write()
    store = tree.path / "var/cpanel/authn/api_tokens_v2/whostmgr"
    victim = CpToken(user, "victim")
    entry = {sha512(victim.secret): victim.entry()}
    if what == "bad-key":
        bad = tree.path / f"home/{user}/.accesshash"
        bad.parent.mkdir(parents=True)
        bad.write_text("0123456789abcdef\n" * 30)
    elif what == "bad-digest":
        bad = store / f"{user}.json"
        bad.write_text(json.dumps({"tokens": {"XYZ": victim.entry(), **entry}}))
    elif what == "bad-acl":
        victim.acls = ["list-accts", "no-such-privilege"]
        bad = store / f"{user}.json"
        bad.write_text(json.dumps({"tokens": {sha512(victim.secret): victim.entry()}}))
    elif what == "bad-ip":
        victim.whitelist_ips = ["999.1.2.3"]
        bad = store / f"{user}.json"
        bad.write_text(json.dumps({"tokens": {sha512(victim.secret): victim.entry()}}))
    else:
        bad = tree.path / "var/cpanel/resellers"
        bad.parent.mkdir(parents=True, exist_ok=True)
        bad.write_text(f"{user}:list-accts\nthis line has no colon\n")
    out = server.cli("import-cpanel", str(tree.path), check=False)
    assert out.returncode == 1, out.stdout
    assert f"skipped {bad}:" in out.stderr
    assert server.sql("SELECT id FROM users WHERE username = :u", u=user) == []
    assert server.get("version", token=good.secret).status_code == 200


def test_keys_only_for_resellers_and_never_shared(server: Server, tmp_path: Path) -> None:
    # Files are read in name order, so the first holder is the one whose name sorts first.
    first, second, plain = new_user("ra"), new_user("rz"), new_user("u")
    shared = accesshash.generate()
    tree = Tree(
        tmp_path / "cp",
        keys={first: shared, second: shared, plain: accesshash.generate()},
        resellers={first: ["list-accts"], second: ["list-accts"]},
    )
    tree.write()
    for _ in range(2):  # and the second run is as quiet
        out = server.cli("import-cpanel", str(tree.path))
        assert f"note: {second}: the same access key as {first}'s; not imported" in out.stderr
        assert f"note: {plain}: not root or a reseller; access key not imported" in out.stderr
        assert "access keys skipped: 2" in out.stdout
    rows = server.sql(
        "SELECT u.username, a.digest FROM access_hashes a JOIN users u "
        "ON u.id = a.user_id WHERE u.username IN (:a, :b, :c)",
        a=first,
        b=second,
        c=plain,
    )
    assert [tuple(r) for r in rows] == [(first, sha512(accesshash.flatten(shared)))]
    # No account is made just to hold a key.
    assert server.sql("SELECT id FROM users WHERE username = :u", u=plain) == []
    assert reseller_acls(server, second) == ["list-accts"]


def test_a_token_digest_held_by_another_user_is_not_moved(server: Server, tmp_path: Path) -> None:
    owner, thief = new_user("ra"), new_user("rz")  # files are read in name order
    token = CpToken(owner, "mine")
    copy = CpToken(thief, "copied", secret=token.secret)
    tree = Tree(
        tmp_path / "cp",
        resellers={owner: ["list-accts"], thief: ["list-accts"]},
        tokens=[token, copy],
    )
    tree.write()
    out = server.cli("import-cpanel", str(tree.path))
    assert "tokens imported: 1" in out.stdout and "tokens skipped: 1" in out.stdout
    assert f"note: {thief}: token 'copied' has the digest of another user's token" in out.stderr
    assert server.get("listaccts", user=owner, token=token.secret).status_code == 200
    assert server.get("listaccts", user=thief, token=token.secret).status_code == 401
