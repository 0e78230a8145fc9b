"""The command line: `init`, `whmapi1`, `passwd` and `audit`. `init` runs against a fresh data
directory and SQLite store; the rest against the session server's store (both backends)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import stat
import time
import uuid
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import yaml

from conftest import Server, run_cli
from gatehouse.passwords import generate_password, verify_password
from gatehouse.store.engine import create
from gatehouse.store.schema import users as users_table

# -- init (a fresh store each time) -------------------------------------------------------


def _fresh(tmp_path: Path) -> tuple[Path, str]:
    data_dir = tmp_path / "data"
    return data_dir, f"sqlite:///{tmp_path / 'fresh.db'}"


def _root_hash(db_url: str) -> str:
    engine = create(db_url)
    try:
        with engine.connect() as conn:
            return str(
                conn.execute(
                    sa.select(users_table.c.password_hash).where(users_table.c.username == "root")
                ).scalar_one()
            )
    finally:
        engine.dispose()


def test_init_writes_a_generated_password_0600_and_prints_it_once(tmp_path: Path) -> None:
    data_dir, db_url = _fresh(tmp_path)
    result = run_cli("init", data_dir=data_dir, db_url=db_url)
    password_file = data_dir / "root-password"
    password = password_file.read_text().strip()
    assert len(password) >= 16
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    assert result.stdout.count(password) == 1
    assert password not in result.stderr
    assert verify_password(_root_hash(db_url), password)


def test_init_root_password_stdin(tmp_path: Path) -> None:
    data_dir, db_url = _fresh(tmp_path)
    password = f"Stdin-{generate_password()}"
    result = run_cli(
        "init", "--root-password-stdin", data_dir=data_dir, db_url=db_url, stdin=password + "\n"
    )
    assert password not in result.stdout + result.stderr
    assert not (data_dir / "root-password").exists()
    assert verify_password(_root_hash(db_url), password)


def test_init_root_password_stdin_rejects_a_weak_password(tmp_path: Path) -> None:
    data_dir, db_url = _fresh(tmp_path)
    result = run_cli(
        "init", "--root-password-stdin", data_dir=data_dir, db_url=db_url, stdin="\n", check=False
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip()


def test_init_root_password_stdin_rejects_a_password_below_65(tmp_path: Path) -> None:
    # Long enough (8+), but it rates 53 on cPanel's meter: under the passwd minimum, 65.
    data_dir, db_url = _fresh(tmp_path)
    result = run_cli(
        "init", "--root-password-stdin", data_dir=data_dir, db_url=db_url, stdin="qmzrkwlp\n",
        check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "strength rating of 65 or higher" in result.stderr
    assert "Traceback" not in result.stderr


def test_second_init_refuses(tmp_path: Path) -> None:
    data_dir, db_url = _fresh(tmp_path)
    run_cli("init", data_dir=data_dir, db_url=db_url)
    before = (data_dir / "root-password").read_text()
    result = run_cli("init", data_dir=data_dir, db_url=db_url, check=False)
    assert result.returncode != 0
    assert "already" in result.stderr
    assert "Traceback" not in result.stderr
    assert (data_dir / "root-password").read_text() == before  # root's password kept


def test_init_if_needed_succeeds_on_an_initialised_store(tmp_path: Path) -> None:
    data_dir, db_url = _fresh(tmp_path)
    run_cli("init", data_dir=data_dir, db_url=db_url)
    before = _root_hash(db_url)
    result = run_cli("init", "--if-needed", data_dir=data_dir, db_url=db_url)
    assert result.returncode == 0
    assert _root_hash(db_url) == before


# -- whmapi1 ------------------------------------------------------------------------------


@pytest.mark.parametrize("function", ["version", "nosuchfn"])
def test_whmapi1_json_is_the_same_envelope_as_http(server: Server, function: str) -> None:
    result = server.cli("whmapi1", function, "--output", "json", check=False)
    response = server.get(function)
    assert result.stdout.rstrip("\n") == response.text  # byte for byte: compact, sorted
    assert "\n" not in result.stdout.rstrip("\n")


def test_whmapi1_default_output_is_yaml(server: Server) -> None:
    result = server.cli("whmapi1", "version")
    assert result.stdout.startswith("---")
    assert yaml.safe_load(result.stdout) == server.get("version").json()


@pytest.mark.parametrize(
    ("args", "ok"),
    [(["version"], True), (["accountsummary", "user=nosuchuser"], False), (["nosuchfn"], False)],
    ids=["version", "refused", "unknown"],
)
def test_whmapi0_json_is_the_api0_answer_over_http(
    server: Server, args: list[str], ok: bool
) -> None:
    """Like cPanel's whmapi0: the function's WHM API 0 answer, byte for byte what
    /json-api/FUNCTION without api.version gives; exit 1 when it failed."""
    result = server.cli("whmapi0", *args, "--output", "json", check=False)
    params = dict(a.split("=", 1) for a in args[1:])
    response = server.get(args[0], params=params, api_version=None)
    assert result.stdout.rstrip("\n") == response.text
    assert (result.returncode == 0) == ok


def test_whmapi0_runs_api0_only_functions(server: Server) -> None:
    """`loadavg` is WHM API 0's alone: whmapi0 answers it, whmapi1 does not know it."""
    zero = server.cli("whmapi0", "loadavg", "--output", "json")
    assert set(json.loads(zero.stdout)) == {"one", "five", "fifteen"}
    one = server.cli("whmapi1", "loadavg", "--output", "json", check=False)
    assert one.returncode == 1
    assert "requested for this version (1)" in json.loads(one.stdout)["metadata"]["reason"]


def test_whmapi1_jsonpretty_is_json_xs_pretty(server: Server) -> None:
    """cPanel's docs call `whmapi1 --output=jsonpretty FUNCTION`: JSON::XS's pretty form."""
    result = server.cli("whmapi1", "--output=jsonpretty", "version")
    version = server.get("version").json()["data"]["version"]
    assert result.stdout == (
        "{\n"
        '   "data" : {\n'
        f'      "version" : "{version}"\n'
        "   },\n"
        '   "metadata" : {\n'
        '      "command" : "version",\n'
        '      "reason" : "OK",\n'
        '      "result" : 1,\n'
        '      "version" : 1\n'
        "   }\n"
        "}\n"
    )


@pytest.mark.parametrize(
    "args",
    [["nosuchfn"], ["api_token_create", "token_name=bad name!"]],
    ids=["unknown", "invalid-param"],
)
def test_whmapi1_exits_1_on_result_0(server: Server, args: list[str]) -> None:
    result = server.cli("whmapi1", *args, "--output", "json", check=False)
    assert result.returncode == 1
    assert json.loads(result.stdout)["metadata"]["result"] == 0


def _reseller(server: Server, privileges: list[str]) -> str:
    """A reseller holding exactly `privileges` (no token, no password round trip)."""
    name, _password = server.account(reseller=True)
    server.ok("setacls", params=[("reseller", name)] + [(f"acl-{p}", "1") for p in privileges])
    return name


def test_whmapi1_user_runs_as_a_reseller(server: Server) -> None:
    name = _reseller(server, ["list-accts", "basic-whm-functions"])
    result = server.cli("whmapi1", "myprivs", "--user", name, "--output", "json")
    privileges = json.loads(result.stdout)["data"]["privileges"][0]
    assert privileges["list-accts"] == 1
    assert privileges["create-acct"] == 0


def test_whmapi1_user_lacking_a_privilege_is_refused(server: Server) -> None:
    name = _reseller(server, ["list-accts"])
    result = server.cli(
        "whmapi1",
        "api_token_create",
        f"token_name=x{uuid.uuid4().hex[:8]}",
        "--user",
        name,
        "--output",
        "json",
        check=False,
    )
    assert result.returncode == 1
    assert "manage-api-tokens" in json.loads(result.stdout)["metadata"]["reason"]


@pytest.mark.parametrize("user", ["nosuchuser", "cpanel-account"])
def test_whmapi1_user_must_be_root_or_a_reseller(server: Server, user: str) -> None:
    if user == "cpanel-account":
        user, _password = server.account()
    result = server.cli("whmapi1", "version", "--user", user, check=False)
    assert result.returncode != 0
    assert "not root or an active reseller" in result.stderr
    assert "Traceback" not in result.stderr


def test_whmapi1_argument_without_equals_is_a_clear_error(server: Server) -> None:
    result = server.cli("whmapi1", "api_token_create", "token_name", check=False)
    assert result.returncode != 0
    assert "key=value" in result.stderr
    assert "Traceback" not in result.stderr


def test_token_created_by_the_cli_works_over_http(server: Server) -> None:
    name = f"cli-{uuid.uuid4().hex[:10]}"
    result = server.cli("whmapi1", "api_token_create", f"token_name={name}", "--output", "json")
    token = server.remember(json.loads(result.stdout)["data"]["token"])
    assert server.ok("version", token=token) == {"version": "11.120.0.16"}


def test_token_created_over_http_is_listed_by_the_cli(server: Server) -> None:
    name = f"http-{uuid.uuid4().hex[:10]}"
    server.token(name)
    result = server.cli("whmapi1", "api_token_list", "--output", "json")
    listed = json.loads(result.stdout)["data"]["tokens"]
    assert name in listed
    assert "token" not in listed[name]


# -- passwd -------------------------------------------------------------------------------


def _basic(server: Server, user: str, password: str) -> httpx.Response:
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    return server.get("version", auth=f"Basic {basic}")


def test_passwd_password_stdin_changes_the_password(server: Server) -> None:
    user, old = server.account(reseller=True)
    new = server.remember(f"New-{uuid.uuid4().hex}")
    result = server.cli("passwd", user, "--password-stdin", stdin=new + "\n")
    assert new not in result.stdout + result.stderr
    assert _basic(server, user, new).status_code == 200
    assert _basic(server, user, old).status_code == 401


def test_passwd_unknown_user_is_a_clear_error(server: Server) -> None:
    result = server.cli(
        "passwd",
        f"nobody{uuid.uuid4().hex[:6]}",
        "--password-stdin",
        stdin=f"New-{uuid.uuid4().hex}\n",
        check=False,
    )
    assert result.returncode != 0
    assert "does not exist" in result.stderr


# -- audit --------------------------------------------------------------------------------


def _audit(server: Server, *args: str) -> list[dict[str, object]]:
    result = server.cli("audit", "--json", *args)
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_audit_json_lists_a_token_creation(server: Server) -> None:
    name = f"aud-{uuid.uuid4().hex[:10]}"
    server.token(name)
    entries = _audit(server)
    mine = [e for e in entries if e["token_name"] == name]
    assert [e["action"] for e in mine] == ["CREATEAPITOKEN"]
    assert mine[0]["actor"] == "root"
    assert set(mine[0]) >= {
        "id",
        "time",
        "action",
        "actor",
        "subject",
        "source_ip",
        "token_name",
        "reason",
        "detail",
    }


def test_audit_user_filter(server: Server) -> None:
    user, token = server.reseller(["manage-api-tokens", "basic-whm-functions"])
    name = f"aud-{uuid.uuid4().hex[:10]}"
    server.token(name, user=user, via=token)
    entries = _audit(server, "--user", user)
    assert entries
    assert all(user in (e["actor"], e["subject"]) for e in entries)
    assert any(e["token_name"] == name for e in entries)


@pytest.mark.parametrize("form", ["unix", "iso"])
def test_audit_since_excludes_older_entries(server: Server, form: str) -> None:
    server.token()  # at least one entry exists
    future = int(time.time()) + 3600
    since = (
        str(future)
        if form == "unix"
        else dt.datetime.fromtimestamp(future, dt.UTC).replace(tzinfo=None).isoformat()
    )  # no zone: read as UTC
    assert _audit(server, "--since", since) == []


def test_audit_since_keeps_newer_entries(server: Server) -> None:
    name = f"aud-{uuid.uuid4().hex[:10]}"
    past = int(time.time()) - 5
    server.token(name)
    entries = _audit(server, "--since", str(past))
    assert any(e["token_name"] == name for e in entries)
    assert all(int(str(e["time"])) >= past for e in entries)


def test_audit_bad_since_is_a_clear_error(server: Server) -> None:
    result = server.cli("audit", "--since", "yesterday-ish", check=False)
    assert result.returncode == 2
    assert "not a Unix time or ISO date" in result.stderr
