"""createacct and passwd over real HTTP: good and bad inputs, exact shapes, and that a refused
call leaves nothing behind."""

from __future__ import annotations

import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from conftest import Server
from gatehouse.passwords import generate_password, verify_password
from whm_helpers import basic, limited_reseller, new_name, user_row

# Rates 100 on cPanel's meter (its first 8 characters 73): above the default minimum, 65.
STRONG = "Xk9#mQ2!vL7p"


def _good_params(**overrides: Any) -> dict[str, str]:
    username = new_name()
    params = {
        "username": username,
        "domain": f"{username}.example.com",
        "password": generate_password(),
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
    zone = server.ok("dumpzone", params={"domain": params["domain"]})["zone"][0]["record"]
    zone_ns = [r["nsdname"].rstrip(".") for r in zone if r.get("type") == "NS"]
    assert len(zone_ns) == 2
    # The zone's nameservers, then empty fields (the server has no GATEHOUSE_NAMESERVERS).
    keys = [f"nameserver{n}" for n in ("", "2", "3", "4")]
    ns = dict(zip(keys, [*zone_ns, "", ""], strict=True))
    ns_ips = {f"nameservera{n}": None for n in ("", "2", "3", "4")}
    ns_entries = {f"nameserverentry{n}": None for n in ("", "2", "3", "4")}
    # No address is allocated: every account gets the server's own (here its bind address).
    assert payload["data"] == {
        "ip": "127.0.0.1",
        "package": "default",
        **ns,
        **ns_ips,
        **ns_entries,
    }
    meta = payload["metadata"]
    assert {k: meta[k] for k in ("command", "reason", "result", "version")} == {
        "command": "createacct",
        "reason": "Account Creation Ok",
        "result": 1,
        "version": 1,
    }
    assert isinstance(meta["output"]["raw"], str)
    assert f"UserName: {params['username']}" in meta["output"]["raw"]
    assert f"NameServer1: {zone_ns[0]}" in meta["output"]["raw"]
    assert params["password"] not in repr(payload)
    row = user_row(server, params["username"])
    assert row is not None
    assert (row["owner"], row["domain"], row["reseller_acls"]) == ("root", params["domain"], None)


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param(lambda: {"username": "a" + secrets.token_hex(7) + "b"}, id="16-chars"),
        pytest.param(lambda: {"username": "ab9c" + secrets.token_hex(3)}, id="digits-inside"),
        pytest.param(lambda: {"pass": STRONG, "password": None}, id="pass-not-password"),
        # The shortest and the longest: strong enough for the minimum strength (65) too.
        pytest.param(lambda: {"password": STRONG[:8]}, id="8-char-password"),
        pytest.param(lambda: {"password": (STRONG * 86)[:1024]}, id="1024-char-password"),
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
        "letters and digits, and cannot begin with a digit."
    )


@pytest.mark.parametrize(
    ("username", "reason"),
    [
        ("a" * 17, f"The username “{'a' * 17}” is too long: it may contain at most 16 characters."),
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
        # Periods and underscores only for accounts transferred in (is_strictly_valid).
        ("ab.c", _invalid("ab.c")),
        ("ab_c", _invalid("ab_c")),
        ("abc.lock", _invalid("abc.lock")),
        ("mypassword", "The username “mypassword” is reserved."),
        ("", "Missing parameter: username"),
    ],
)
def test_createacct_username_rules(server: Server, username: str, reason: str) -> None:
    params = _good_params()
    params["username"] = username
    _refused(server, params, reason)


def test_createacct_lowers_a_mixed_case_username(server: Server) -> None:
    """Cpanel::Validate::Username::normalize: `tr/A-Z/a-z/` and trimmed blanks."""
    params = _good_params()
    given = " " + params["username"].capitalize().replace("a", "A") + " "
    params["username"] = given
    created = server.get("createacct", params=params).json()
    assert created["metadata"]["result"] == 1, created
    assert user_row(server, given.strip().lower()) is not None


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
        "exa_mple.com",  # an IDN is taken (stored as its A-label: test_domain_names.py)
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


def _transcript_password(server: Server, raw: str) -> str:
    """The `| PassWord: …` line of an account transcript (remembered as a secret)."""
    [password] = re.findall(r"^\| PassWord: (\S+)$", raw, flags=re.M)
    return server.remember(password)


@pytest.mark.parametrize("given", [None, ""], ids=["absent", "empty"])
def test_createacct_without_a_password_generates_one_and_shows_it_once(
    server: Server, given: str | None
) -> None:
    params = _good_params(password=None)
    if given is not None:
        params["password"] = given
    payload = server.get("createacct", params=params).json()
    assert payload["metadata"]["result"] == 1, payload
    password = _transcript_password(server, payload["metadata"]["output"]["raw"])
    assert len(password) >= 20
    [[stored]] = server.sql(
        "SELECT password_hash FROM users WHERE username = :u", u=params["username"]
    )
    assert verify_password(stored, password)
    assert password not in stored


def test_createacct_generates_a_different_password_each_time(server: Server) -> None:
    seen = set()
    for _ in range(2):
        params = _good_params()
        del params["password"]
        raw = server.get("createacct", params=params).json()["metadata"]["output"]["raw"]
        seen.add(_transcript_password(server, raw))
    assert len(seen) == 2


def test_createacct_never_echoes_a_password_the_caller_chose(server: Server) -> None:
    params = _good_params()
    server.remember(params["password"])
    raw = server.get("createacct", params=params).json()["metadata"]["output"]["raw"]
    assert "PassWord" not in raw and params["password"] not in raw


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
    new = generate_password()
    payload = server.get("passwd", params={"user": name, "password": new}).json()
    # Cpanel::ChangePasswd's message is the reason (Whostmgr/API/1/Sys.pm passwd).
    assert payload == {
        "data": {"app": ["system"]},
        "metadata": {
            "command": "passwd",
            "output": {
                "raw": f"Changing password for {name}\nPassword for {name} has been changed\n"
            },
            "reason": f"Password changed for user “{name}”.",
            "result": 1,
            "version": 1,
        },
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
            "You do not have a user named “nosuchuser4”.",
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
        params={"user": target, "password": generate_password()},
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
        params={"user": target, "password": generate_password()},
    )
    assert reason == f"You do not have access to an account named “{target}”."
    assert server.sql("SELECT password_hash FROM users WHERE username = :u", u=target) == before


# -- createacct: plan, overrides, savepkg, reseller, limits, hooks ------------------------


def _state(server: Server, username: str) -> dict[str, Any]:
    import json

    rows = server.sql(
        "SELECT plan, limits, ip, reseller_acls FROM users WHERE username = :u", u=username
    )
    row = dict(rows[0]._mapping)
    for key in ("limits", "reseller_acls"):
        if isinstance(row[key], str):
            row[key] = json.loads(row[key])
    return row


def test_createacct_plan_overrides_and_ip(server: Server) -> None:
    from lifecycle_helpers import make_package

    pkg = make_package(server, QUOTA="500", BWLIMIT="5000", MAXFTP="3")
    # ip=y would dedicate an address: the harness's server has none to spare (test_reseller_ips).
    params = _good_params(plan=pkg, maxftp="7", ip="n", cpmod="jupiter", language="de")
    payload = server.get("createacct", params=params).json()
    assert payload["metadata"]["result"] == 1, payload
    assert payload["data"]["package"] == pkg
    state = _state(server, params["username"])
    assert state["plan"] == pkg and state["ip"] == "127.0.0.1"
    limits = state["limits"]
    assert (limits["QUOTA"], limits["BWLIMIT"], limits["MAXFTP"]) == ("500", "5000", "7")
    assert (limits["IP"], limits["LANG"]) == ("n", "de")
    assert "| Package: " + pkg in payload["metadata"]["output"]["raw"]


def test_createacct_savepkg(server: Server) -> None:
    name = new_name("p")
    params = _good_params(savepkg="1", pkgname=name, quota="123")
    assert server.ok("createacct", params=params)["package"] == name
    assert server.ok("getpkginfo", params={"pkg": name})["pkg"]["QUOTA"] in (123, "123")
    assert _state(server, params["username"])["plan"] == name


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"plan": "nosuchpkg"}, "The package “nosuchpkg” does not exist."),
        ({"maxftp": "lots"}, "Invalid numeric value “lots” for the “maxftp” setting."),
        ({"savepkg": "1"}, "Missing parameter: pkgname (savepkg=1 needs a name)."),
        ({"reseller": "yes"}, "The “reseller” parameter must be 1 or 0, not “yes”."),
        ({"ip": "maybe"}, "Invalid value “maybe” for the “ip” setting."),
    ],
)
def test_createacct_bad_plan_or_settings(
    server: Server, overrides: dict[str, str], reason: str
) -> None:
    _refused(server, _good_params(**overrides), reason)


def test_createacct_reseller_flag(server: Server) -> None:
    params = _good_params(reseller="1")
    server.ok("createacct", params=params)
    assert "list-pkgs" in _state(server, params["username"])["reseller_acls"]
    assert params["username"] in server.ok("listresellers")["reseller"]


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        (
            {"reseller": "1"},
            "You cannot use the “reseller” argument because you do not have root access.",
        ),
        ({"plan": "nosuchpkg"}, "You do not have access to a package named “nosuchpkg”."),
        (
            {"hasshell": "1"},
            "Setting “hasshell” to “1” requires the “add-pkg-shell” privilege.",
        ),
        ({"ip": "y"}, "Setting “ip” to “y” requires the “add-pkg-ip” privilege."),
    ],
)
def test_createacct_reseller_refusals(
    server: Server, creator: tuple[str, str], overrides: dict[str, str], reason: str
) -> None:
    name, token = creator
    _refused(server, _good_params(**overrides), reason, user=name, token=token)


def test_createacct_reseller_cannot_use_roots_package(
    server: Server, creator: tuple[str, str]
) -> None:
    from lifecycle_helpers import make_package

    name, token = creator
    pkg = make_package(server, QUOTA="100")
    _refused(
        server,
        _good_params(plan=pkg),
        f"You do not have access to a package named “{pkg}”.",
        user=name,
        token=token,
    )


def _set_limits(server: Server, reseller: str, limits: dict[str, Any]) -> None:
    import json

    statement = (
        "UPDATE users SET reseller_limits = CAST(:l AS JSON) WHERE username = :u"
        if server.backend == "postgresql"
        else "UPDATE users SET reseller_limits = :l WHERE username = :u"
    )
    server.sql(
        statement,
        l=json.dumps(limits),
        u=reseller,
    )


def test_createacct_enforces_the_owners_account_limit(server: Server) -> None:
    name, token = limited_reseller(server, ["create-acct", "list-accts"])
    _set_limits(server, name, {"account": {"enabled": True, "limit": 1}})
    server.ok("createacct", user=name, token=token, params=_good_params(quota="10"))
    reason = f"The reseller “{name}” has reached its limit of 1 account(s)."
    _refused(server, _good_params(quota="10"), reason, user=name, token=token)
    # Root creating an account for the reseller fills the same allowance.
    _refused(server, _good_params(owner=name), reason)


def test_createacct_enforces_the_owners_disk_limit(server: Server) -> None:
    name, token = limited_reseller(server, ["create-acct"])
    _set_limits(server, name, {"resources": {"enabled": True, "disk": 100, "bw": None}})
    server.ok("createacct", user=name, token=token, params=_good_params(quota="60"))
    _refused(
        server,
        _good_params(quota="60"),
        f"The reseller “{name}” cannot allocate that much disk space: 100 MB in all, "
        "60 MB already allocated, 60 MB requested.",
        user=name,
        token=token,
    )


# -- createacct hooks -----------------------------------------------------------------------


def _hook(server: Server, phase: str, name: str, body: str) -> Any:
    from pathlib import Path

    folder = Path(server.data_dir) / "hooks" / "createacct" / phase
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def test_createacct_hooks_get_the_event(server: Server, tmp_path: Any) -> None:
    import json

    out = tmp_path / "events"
    paths = [
        _hook(server, phase, f"10-{new_name()}", f'cat >> "{out}"; echo >> "{out}"\n')
        for phase in ("before", "after")
    ]
    try:
        params = _good_params(contactemail="c@example.org")
        server.ok("createacct", params=params)
    finally:
        for path in paths:
            path.unlink()
    events = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    assert [e["phase"] for e in events] == ["before", "after"]
    event = events[0]
    assert (event["event"], event["user"], event["domain"], event["owner"]) == (
        "createacct",
        params["username"],
        params["domain"],
        "root",
    )
    assert (event["plan"], event["contactemail"], event["ip"]) == (
        "default",
        "c@example.org",
        "127.0.0.1",
    )
    # Provisioning needs the plaintext password (docs/api.md); never the stored hash.
    assert event["password"] == params["password"]
    assert "argon2" not in json.dumps(event)


def test_createacct_failing_before_hook_writes_nothing(server: Server) -> None:
    params = _good_params(savepkg="1", pkgname=new_name("p"))
    name = f"10-{new_name()}"
    path = _hook(
        server,
        "before",
        name,
        f'grep -q "{params["username"]}" && {{ echo "no capacity on node" >&2; exit 3; }}\n'
        "exit 0\n",
    )
    try:
        _refused(
            server,
            params,
            f"The “createacct” hook “{name}” refused the change: no capacity on node",
        )
    finally:
        path.unlink()
    assert not server.sql("SELECT id FROM packages WHERE name = :n", n=params["pkgname"])
    assert not server.sql("SELECT id FROM audit_log WHERE subject = :u", u=params["username"])


def test_createacct_hook_timeout_aborts(
    server: Server, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import start_server, stop_server

    monkeypatch.setenv("GATEHOUSE_HOOK_TIMEOUT", "0.5")
    # A second node on the same store, with its own data (and hooks) directory.
    node = start_server(tmp_path, server.db_url, server.backend, server.root_password)
    try:
        folder = tmp_path / "hooks" / "createacct" / "before"
        folder.mkdir(parents=True)
        (folder / "10-slow").write_text("#!/bin/sh\nsleep 5\n")
        (folder / "10-slow").chmod(0o755)
        params = _good_params()
        response = node.get("createacct", token=server.root_token, params=params).json()
        assert response["metadata"]["reason"] == (
            "The “createacct” hook “10-slow” refused the change: did not finish within 0.5 seconds"
        )
        assert user_row(server, params["username"]) is None
    finally:
        stop_server(node)


# -- modifyacct -------------------------------------------------------------------------------


def test_modifyacct_rename_keeps_tokens_and_moves_owned(server: Server) -> None:
    name, token = server.reseller()
    child, _ = server.account(owner=name)
    from lifecycle_helpers import make_package

    pkg = make_package(server, owner=name)
    new = new_name("r")
    body = server.get("modifyacct", params={"user": name, "newuser": new}).json()
    assert body["metadata"]["result"] == 1, body
    assert body["metadata"]["reason"] == "Account Modified"
    assert body["data"]["user"] == new and body["data"]["cpuser"]["USER"] == new
    assert body["metadata"]["output"]["messages"] == [
        f"Changing username from “{name}” to “{new}”."
    ]
    assert user_row(server, name) is None
    assert user_row(server, child)["owner"] == new
    assert server.sql("SELECT owner FROM packages WHERE name = :n", n=pkg)[0][0] == new
    # Its token works under the new name, not the old.
    assert server.get("applist", user=new, token=token).status_code == 200
    assert server.get("applist", user=name, token=token).status_code == 401
    [logged] = server.sql(
        "SELECT actor, detail FROM audit_log WHERE action = 'MODIFYACCT' AND subject = :u",
        u=name,
    )
    assert logged.actor == "root" and f"newuser={new}" in logged.detail


def test_modifyacct_domain_contact_owner_limits(server: Server) -> None:
    target, _ = server.account()
    reseller, _ = server.account(reseller=True)
    domain = f"{new_name()}.example.net"
    params = {
        "user": target,
        "DNS": domain.upper(),
        "contactemail": "new@example.org",
        "OWNER": reseller,
        "MAXFTP": "9",
        "quota": "250",
    }
    data = server.ok("modifyacct", params=params)
    assert (data["domain"], data["cpuser"]["OWNER"]) == (domain, reseller)
    assert (data["cpuser"]["MAXFTP"], data["cpuser"]["QUOTA"]) == ("9", "250")
    row = user_row(server, target)
    assert (row["domain"], row["contact_email"], row["owner"]) == (
        domain,
        "new@example.org",
        reseller,
    )


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({}, "Must at least specify a user to modify."),
        ({"user": "nosuchuser5"}, "You do not have a user named “nosuchuser5”."),
        ({"user": "root", "contactemail": "a@example.org"},
         "The “root” user cannot be modified."),
        ({"user": "@T@", "newuser": "1bad"}, _invalid("1bad")),
        ({"user": "@T@", "newuser": "root"}, "The username “root” is reserved."),
        ({"user": "@T@", "newuser": "@O@"},
         "The username “@O@” is taken: an account with that name exists."),
        ({"user": "@T@", "domain": "nodot"}, "“nodot” is not a valid domain name."),
        ({"user": "@T@", "domain": "@O@.example.com"},
         "The domain “@O@.example.com” already exists on this server."),
        ({"user": "@T@", "contactemail": "nope"}, "“nope” is not a valid email address."),
        ({"user": "@T@", "owner": "@O@"}, "The owner “@O@” is neither “root” nor a reseller."),
        ({"user": "@T@", "maxftp": "x"},
         "Invalid numeric value “x” for the “maxftp” setting."),
    ],
)  # fmt: skip
def test_modifyacct_refusals_change_nothing(
    server: Server, params: dict[str, str], reason: str
) -> None:
    target, _ = server.account()
    other, _ = server.account()
    query = {k: v.replace("@T@", target).replace("@O@", other) for k, v in params.items()}
    before = server.sql("SELECT * FROM users WHERE username = :u", u=target)
    assert server.fail("modifyacct", params=query) == reason.replace("@O@", other)
    assert server.sql("SELECT * FROM users WHERE username = :u", u=target) == before


def test_modifyacct_reseller_confinement(server: Server) -> None:
    name, token = limited_reseller(server, ["edit-account", "create-acct"])
    mine = new_name()
    server.ok("createacct", params=_good_params(username=mine, owner=name))
    other_reseller, _ = server.account(reseller=True)
    theirs, _ = server.account(owner=other_reseller)
    for target in (theirs, other_reseller, "root", name, "nosuchuser6"):
        assert (
            server.fail(
                "modifyacct", user=name, token=token, params={"user": target, "maxftp": "1"}
            )
            == f"You do not have access to an account named “{target}”."
        )
    assert (
        server.fail("modifyacct", user=name, token=token, params={"user": mine, "owner": "root"})
        == "You cannot use the “owner” argument because you do not have root access."
    )
    server.ok("modifyacct", user=name, token=token, params={"user": mine, "maxftp": "2"})


# -- verify_new_username / acctcounts ---------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "reason"),
    [
        ("1abc", _invalid("1abc")),
        ("root", "The username “root” is reserved."),
        ("", "Missing parameter: user"),
    ],
)
def test_verify_new_username_refusals(server: Server, user: str, reason: str) -> None:
    assert server.fail("verify_new_username", params={"user": user}) == reason


def test_verify_new_username(server: Server) -> None:
    existing, _ = server.account()
    assert server.get("verify_new_username", params={"user": new_name()}).json() == {
        "metadata": {"command": "verify_new_username", "reason": "OK", "result": 1, "version": 1}
    }
    assert server.fail("verify_new_username", params={"user": existing}) == (
        f"The username “{existing}” is taken: an account with that name exists."
    )


def test_acctcounts(server: Server) -> None:
    name, token = limited_reseller(server, ["acct-summary", "suspend-acct"])
    _set_limits(server, name, {"account": {"enabled": True, "limit": 5}})
    first, _ = server.account(owner=name)
    server.account(owner=name)
    server.ok("suspendacct", params={"user": first})
    expected = {"reseller": {"active": 1, "limit": 5, "suspended": 1, "user": name}}
    assert server.ok("acctcounts", params={"user": name}) == expected
    assert server.ok("acctcounts", user=name, token=token) == expected
    plain, _ = server.account()
    assert server.fail("acctcounts", params={"user": plain}) == "Not a reseller."
    assert server.fail("acctcounts", user=name, token=token, params={"user": plain}) == (
        f"You do not have access to an account named “{plain}”."
    )
