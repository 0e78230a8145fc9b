"""`gatehouse uapi --user USER Module function key=value ...` (docs/cpanel.md): UAPI run
locally, as cPanel's `uapi` command does, against the session server's store — YAML like
cPanel's, JSON byte for byte what the cPanel face sends, exit status 1 on `status 0`, and the
same effects as over HTTP."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from conftest import Server


@pytest.fixture(scope="module")
def account(server: Server) -> tuple[str, str, str]:
    user, password = server.account()
    return user, password, server.cpanel_token(user, password, name="cli-admin")


def uapi(server: Server, *args: str, check: bool = True) -> Any:
    return server.cli("uapi", *args, check=check)


def test_json_output_wraps_the_faces_result(server: Server, account: tuple[str, str, str]) -> None:
    """Like cPanel's `uapi --output=json`: the wrapped envelope, whose `result` is byte for byte
    what /execute/ answers over HTTP (the flat result object)."""
    user, _, token = account
    out = uapi(server, "--user", user, "DomainInfo", "list_domains", "--output", "json")
    http = server.uapi(user, "DomainInfo", "list_domains", token=token)
    assert out.stdout.encode() == (
        b'{"apiversion":3,"func":"list_domains","module":"DomainInfo","result":'
        + http.content
        + b"}\n"
    )
    assert b'"status":1' in out.stdout.encode()


def test_yaml_output_by_default(server: Server, account: tuple[str, str, str]) -> None:
    user, _, _ = account
    out = uapi(server, "--user", user, "DomainInfo", "domains_data", "format=list")
    assert out.stdout.startswith("---\n")
    document = yaml.safe_load(out.stdout)
    assert document["apiversion"] == 3
    assert document["module"] == "DomainInfo" and document["func"] == "domains_data"
    assert document["result"]["status"] == 1
    assert document["result"]["metadata"] == {"transformed": 1}
    assert document["result"]["data"][0]["domain"] == f"{user}.example.com"
    assert document["result"]["errors"] is None


def test_jsonpretty_in_the_order_cpanels_docs_write_it(
    server: Server, account: tuple[str, str, str]
) -> None:
    """cPanel's docs call `uapi --output=jsonpretty --user=USER Module function`: the options
    first, JSON::XS's pretty form (three-space indent, `"key" : value`), the same document."""
    user, _, _ = account
    out = uapi(server, "--output=jsonpretty", f"--user={user}", "DomainInfo", "list_domains")
    assert out.stdout.startswith('{\n   "apiversion" : 3,\n   "func" : "list_domains",\n')
    wrapped = uapi(server, "--user", user, "DomainInfo", "list_domains", "--output", "json")
    assert json.loads(out.stdout) == json.loads(wrapped.stdout)


@pytest.mark.parametrize(
    ("module", "func", "args"),
    [
        ("ZoneEdit", "fetchzone_records", ("domain={domain}", "type=NS")),
        ("ZoneEdit", "fetchzone_records", ("domain=nosuch.example",)),  # refused
        ("NoSuch", "thing", ()),  # unknown
    ],
    ids=["records", "refused", "unknown"],
)
def test_cpapi2_json_is_what_json_api_cpanel_answers(
    server: Server, account: tuple[str, str, str], module: str, func: str, args: tuple[str, ...]
) -> None:
    """Like cPanel's `cpapi2 --user=USER Module func`: API 2's `cpanelresult` envelope, byte for
    byte what /json-api/cpanel answers over HTTP; exit status 1 when the call failed."""
    user, _, token = account
    words = [arg.format(domain=f"{user}.example.com") for arg in args]
    out = server.cli(
        "cpapi2", f"--user={user}", module, func, *words, "--output", "json", check=False
    )
    http = server.api2(user, module, func, token=token, **dict(w.split("=", 1) for w in words))
    assert out.stdout.encode() == http.content + b"\n"
    event = http.json()["cpanelresult"].get("event", {}).get("result")
    assert (out.returncode == 0) == (event == 1 and "error" not in http.json()["cpanelresult"])


def test_cpapi2_yaml_by_default(server: Server, account: tuple[str, str, str]) -> None:
    user, _, _ = account
    out = server.cli("cpapi2", "--user", user, "ZoneEdit", "fetchzones")
    document = yaml.safe_load(out.stdout)
    assert out.stdout.startswith("---\n")
    assert document["cpanelresult"]["apiversion"] == 2
    assert document["cpanelresult"]["func"] == "fetchzones"
    assert f"{user}.example.com" in document["cpanelresult"]["data"][0]["zones"]


def test_tokens_from_the_command_line(server: Server, account: tuple[str, str, str]) -> None:
    user, _, _ = account
    out = uapi(
        server, "--user", user, "Tokens", "create_full_access", "name=from-cli", "--output", "json"
    )
    token = server.remember(json.loads(out.stdout)["result"]["data"]["token"])
    listed = server.uapi(user, "Tokens", "list", token=token).json()["data"]
    assert "from-cli" in [t["name"] for t in listed]
    row = server.sql(
        "SELECT actor, detail FROM audit_log WHERE action = 'CREATEAPITOKEN' "
        "AND token_name = 'from-cli' AND subject = :u",
        u=user,
    )[0]
    assert (row.actor, row.detail) == (user, "cpanel token; via local")
    revoked = uapi(server, "--user", user, "Tokens", "revoke", "name=from-cli", "--output", "json")
    assert json.loads(revoked.stdout)["result"]["data"] == 1
    assert server.uapi(user, "Tokens", "list", token=token).status_code == 401


def test_failure_exits_1_with_the_envelope(server: Server, account: tuple[str, str, str]) -> None:
    user, _, _ = account
    out = uapi(
        server,
        "--user",
        user,
        "Tokens",
        "rename",
        "name=cli-admin",
        "new_name=cli-admin",
        "--output",
        "json",
        check=False,
    )
    assert out.returncode == 1
    result = json.loads(out.stdout)["result"]
    assert result["status"] == 0
    assert result["errors"] == ["“new_name” must be a different value from “name”."]
    unknown = uapi(server, "--user", user, "Nope", "nothing", check=False)
    assert unknown.returncode == 1
    assert "Failed to load module “Nope”" in unknown.stdout


def test_repeated_and_numbered_arguments(server: Server, account: tuple[str, str, str]) -> None:
    """key=value words become parameters exactly as a query string's would."""
    user, _, _ = account
    out = uapi(
        server,
        "--user",
        user,
        "Tokens",
        "create_full_access",
        "name-0=numbered",
        "--output",
        "json",
    )
    server.remember(json.loads(out.stdout)["result"]["data"]["token"])
    out = uapi(server, "--user", user, "Tokens", "list", "--output", "json")
    assert "numbered" in [t["name"] for t in json.loads(out.stdout)["result"]["data"]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "root", "DomainInfo", "list_domains"], "“root” is not a cPanel account."),
        (
            ["--user", "nosuchuser9", "DomainInfo", "list_domains"],
            "“nosuchuser9” is not a cPanel account.",
        ),
        (
            ["--user", "ACCOUNT", "DomainInfo", "list_domains", "broken"],
            "is not in the form key=value",
        ),
    ],
)
def test_refusals(
    server: Server, account: tuple[str, str, str], args: list[str], message: str
) -> None:
    args = [account[0] if a == "ACCOUNT" else a for a in args]
    out = uapi(server, *args, check=False)
    assert out.returncode == 1
    assert message in out.stderr
    assert out.stdout == ""


def test_user_is_required(server: Server) -> None:
    out = uapi(server, "DomainInfo", "list_domains", check=False)
    assert out.returncode == 2
    assert "--user" in out.stderr


def test_suspended_account_is_reachable_locally(server: Server) -> None:
    user, _password = server.account()
    server.ok("suspendacct", params={"user": user})
    out = uapi(server, "--user", user, "DomainInfo", "list_domains", "--output", "json")
    assert json.loads(out.stdout)["result"]["data"]["main_domain"] == f"{user}.example.com"
    server.ok("unsuspendacct", params={"user": user})
