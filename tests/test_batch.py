"""WHM API 1 `batch` over real HTTP: several functions in one request, each run as if called
alone by the same caller — its own privilege check, transaction, audit — and its own whole
answer in `data.result` (docs/api.md, cPanel's "Run multiple WHM API 1 functions")."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from audit_helpers import audited_since, last_audit_id
from conftest import Server

BATCH_FAILED = "One or more commands in the batch failed."


def batch(
    server: Server, *commands: str, token: str | None = None, user: str = "root", **params: Any
) -> httpx.Response:
    query = [("command", c) for c in commands] + [(k, str(v)) for k, v in params.items()]
    return server.get("batch", token=token, user=user, params=query)


def test_each_command_answers_as_it_would_alone(server: Server) -> None:
    response = batch(server, "gethostname", "version")
    assert response.status_code == 200
    body = response.json()
    assert body["metadata"] == {"command": "batch", "reason": "OK", "result": 1, "version": 1}
    alone = [server.get(name).json() for name in ("gethostname", "version")]
    assert body["data"] == {"result": alone}


def test_commands_carry_their_own_encoded_parameters_and_run_in_order(server: Server) -> None:
    user, _ = server.account()
    body = batch(
        server,
        f"suspendacct?user={user}&reason=unpaid%20invoice",
        f"accountsummary?user={user}",
    ).json()
    assert body["metadata"]["result"] == 1
    first, second = body["data"]["result"]
    assert first["metadata"]["command"] == "suspendacct"
    summary = second["data"]["acct"][0]
    assert (summary["suspended"], summary["suspendreason"]) == (1, "unpaid invoice")


def test_numbered_commands_in_a_form_body_of_any_content_type(server: Server) -> None:
    # As a PHP client posts them: `command`, then `command-1`, … (compatibility.md §2–3).
    response = httpx.post(
        f"{server.url}/json-api/batch",
        content="api.version=1&command=version&command-1=gethostname&command-2=version",
        headers={
            "Authorization": f"whm root:{server.root_token}",
            "Content-Type": "application/octet-stream",
        },
        timeout=30,
    )
    commands = [r["metadata"]["command"] for r in response.json()["data"]["result"]]
    assert commands == ["version", "gethostname", "version"]


def test_a_failed_command_fails_the_batch_and_the_others_still_run(server: Server) -> None:
    user, _ = server.account()
    body = batch(
        server,
        f"suspendacct?user={user}",
        "accountsummary?user=nosuchuser1",
        f"unsuspendacct?user={user}",
    ).json()
    assert body["metadata"] == {
        "command": "batch",
        "reason": BATCH_FAILED,
        "result": 0,
        "version": 1,
    }
    results = [r["metadata"]["result"] for r in body["data"]["result"]]
    assert results == [1, 0, 1]
    assert body["data"]["result"][1]["metadata"]["reason"] == "Account does not exist."
    assert server.ok("accountsummary", params={"user": user})["acct"][0]["suspended"] == 0


def test_abort_on_error_stops_at_the_first_failure(server: Server) -> None:
    name = "batch-never-made"
    body = batch(
        server,
        "version",
        "accountsummary?user=nosuchuser2",
        f"api_token_create?token_name={name}",
        abort_on_error=1,
    ).json()
    assert body["metadata"]["result"] == 0
    assert [r["metadata"]["command"] for r in body["data"]["result"]] == [
        "version",
        "accountsummary",
    ]
    listed = server.ok("api_token_list")["tokens"]
    assert name not in listed


def test_what_a_command_committed_stays_when_a_later_one_fails(server: Server) -> None:
    name = "batch-kept"
    body = batch(
        server,
        f"api_token_create?token_name={name}",
        "accountsummary?user=nosuchuser3",
        abort_on_error=1,
    ).json()
    assert [r["metadata"]["result"] for r in body["data"]["result"]] == [1, 0]
    assert name in server.ok("api_token_list")["tokens"]
    server.ok("api_token_revoke", params={"token_name": name})


def test_every_command_is_authorized_before_any_runs(server: Server) -> None:
    # cPanel authorizes every command of a batch before it runs one (Utils/Batch.pm).
    reseller, token = server.reseller(["list-accts", "manage-api-tokens"])
    name = "batch-never-run"
    mark = last_audit_id(server)
    body = batch(
        server, f"api_token_create?token_name={name}", "gethostname", token=token, user=reseller
    ).json()
    assert body == {
        "metadata": {
            "command": "batch",
            "reason": "You do not have the required privileges to run every command in the "
            "batch: Access denied: calling “gethostname” requires the “basic-system-info” or "
            "“clustering” privileges.",
            "result": 0,
            "version": 1,
        }
    }
    assert name not in server.ok("api_token_list", user=reseller, token=token)["tokens"]
    denials = audited_since(server, mark, "ACCESSDENIED")
    assert [(r.reason, r.actor) for r in denials] == [("missing_privilege", reseller)]


def test_a_command_outside_the_tokens_scope_refuses_the_batch(server: Server) -> None:
    user, _ = server.account()
    zone = f"{user}.example.com"
    # A token limited to records runs read-only functions and record edits only.
    token = server.token(scope_zone=[zone], scope_record=[f"_acme-challenge.{zone}"])
    body = batch(server, "version", f"suspendacct?user={user}", token=token).json()
    assert body["metadata"]["result"] == 0
    assert body["metadata"]["reason"].startswith(
        "You do not have the required privileges to run every command in the batch: "
    )
    assert "data" not in body
    assert server.ok("accountsummary", params={"user": user})["acct"][0]["suspended"] == 0


def test_a_reseller_reaches_only_its_own_accounts_inside_a_batch(server: Server) -> None:
    reseller, token = server.reseller(["suspend-acct", "list-accts"])
    other, _ = server.account()
    body = batch(server, f"suspendacct?user={other}", token=token, user=reseller).json()
    (refused,) = body["data"]["result"]
    assert refused["metadata"]["result"] == 0
    assert server.ok("accountsummary", params={"user": other})["acct"][0]["suspended"] == 0


def test_an_unknown_function_is_answered_in_its_place(server: Server) -> None:
    # WHMCS's GetRemoteMetaData skips the results whose reason starts with "Unknown app".
    body = batch(server, "nosuchfn?x=1", "version").json()
    assert body["metadata"]["result"] == 0
    unknown, version = body["data"]["result"]
    reason = unknown["metadata"]["reason"]
    assert re.fullmatch(r"Unknown app\s+(?:\(.+\))?\s+requested.*", reason)
    assert unknown["metadata"] == {
        "command": "nosuchfn",
        "reason": "Unknown app (nosuchfn) requested for this version (1) of the API.",
        "result": 0,
        "version": 1,
    }
    assert version["metadata"]["result"] == 1


def test_every_command_is_api_version_1(server: Server) -> None:
    (answer,) = batch(server, "version?api.version=0").json()["data"]["result"]
    assert answer["metadata"]["version"] == 1
    assert answer["data"]["version"]


def test_a_batch_cannot_run_a_batch(server: Server) -> None:
    reason = server.fail(
        "batch", params=[("command", "version"), ("command", "batch?command=version")]
    )
    assert reason == "The “batch” function cannot be called from a batch."


def test_the_cpanel_function_inside_a_batch_answers_in_its_own_envelope(server: Server) -> None:
    user, _ = server.account()
    query = (
        f"cpanel?cpanel_jsonapi_user={user}&cpanel_jsonapi_apiversion=2"
        "&cpanel_jsonapi_module=ZoneEdit&cpanel_jsonapi_func=fetchzones"
    )
    body = batch(server, query).json()
    assert body["metadata"]["result"] == 1
    (answer,) = body["data"]["result"]
    assert answer["cpanelresult"]["event"]["result"] == 1


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ([], "Missing parameter: command"),
        ([("command", "")], "Missing parameter: command"),
        (
            [("command", "version"), ("abort_on_error", "yes")],
            "The “abort_on_error” parameter must be 1 or 0, not “yes”.",
        ),
    ],
)
def test_bad_batches_are_refused_in_the_envelope(
    server: Server, params: list[tuple[str, str]], reason: str
) -> None:
    assert server.fail("batch", params=params) == reason


def test_the_command_line_runs_a_batch(server: Server) -> None:
    out = server.cli(
        "whmapi1", "batch", "command=version", "command=gethostname", "--output", "json"
    )
    body = json.loads(out.stdout)
    assert [r["metadata"]["command"] for r in body["data"]["result"]] == ["version", "gethostname"]
