"""suspendreseller, unsuspendreseller, terminatereseller, resellerstats and
setresellernameservers over real HTTP, in WHM API 1 and (without `api.version`) WHM API 0:
shapes pinned to the bytes, refusals where API 0 clients look, root only, all or nothing."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import Server
from lifecycle_helpers import account_state, audit_rows, make_package, rows_of, user_id
from whm_helpers import new_name, user_row


def _bytes(value: Any) -> bytes:
    """gatehouse's wire form: compact, sorted keys, UTF-8."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def _api0(server: Server, function: str, params: Any, **kw: Any) -> httpx.Response:
    response = server.get(function, params=params, api_version=None, **kw)
    assert response.status_code == 200, response.text
    return response


def _family(server: Server) -> tuple[str, str, list[str]]:
    """A reseller (with a full-access token) owning two accounts."""
    reseller, token = server.reseller()
    owned = sorted(server.account(owner=reseller)[0] for _ in range(2))
    return reseller, token, owned


def _suspended(server: Server, username: str) -> bool:
    state = account_state(server, username)
    assert state is not None
    return bool(state["suspended"])


def _zones(server: Server, username: str) -> int:
    return _zones_of(server, user_id(server, username))


def _zones_of(server: Server, uid: int) -> int:
    return int(server.sql("SELECT COUNT(*) FROM zones WHERE user_id = :i", i=uid)[0][0])


def _verify(name: str) -> str:
    return (
        f"I understand this will irrevocably remove all the accounts owned by the reseller {name}"
    )


# -- suspendreseller / unsuspendreseller --------------------------------------------------


def test_suspendreseller_suspends_the_reseller_and_its_accounts(server: Server) -> None:
    reseller, token, owned = _family(server)
    body = server.get(
        "suspendreseller", params={"user": reseller, "reason": "Overdue", "disallow": "1"}
    ).json()
    assert body["metadata"]["result"] == 1 and body["metadata"]["reason"] == "OK"
    assert body["metadata"]["command"] == "suspendreseller" and "data" not in body
    assert body["metadata"]["output"]["raw"] == "".join(
        f"{name}'s account has been suspended\n" for name in [reseller, *owned]
    )
    for name in [reseller, *owned]:
        state = account_state(server, name)
        assert state is not None
        assert (state["suspended"], state["suspend_reason"], state["suspend_locked"]) == (
            True,
            "Overdue",
            True,
        )
    # A suspended reseller's token no longer opens WHM.
    assert server.get("applist", user=reseller, token=token).status_code == 401
    # Suspending again changes nothing and succeeds (a billing system may retry).
    again = server.get("suspendreseller", params={"user": reseller}).json()
    assert again["metadata"]["result"] == 1
    assert (
        again["metadata"]["output"]["raw"]
        == f"{reseller} and its accounts are already suspended.\n"
    )

    body = server.get("unsuspendreseller", params={"user": reseller}).json()
    assert body["metadata"]["result"] == 1
    assert body["metadata"]["output"]["raw"] == "".join(
        f"{name}'s account is now active\n" for name in [reseller, *owned]
    )
    assert not any(_suspended(server, n) for n in [reseller, *owned])
    assert server.get("applist", user=reseller, token=token).status_code == 200


def test_reseller_only_leaves_the_accounts_alone(server: Server) -> None:
    reseller, _token, owned = _family(server)
    server.ok("suspendreseller", params={"user": reseller, "reseller-only": "1"})
    assert _suspended(server, reseller)
    assert not any(_suspended(server, n) for n in owned)
    # An account suspended on its own keeps its own reason when the reseller is suspended.
    server.ok("suspendacct", params={"user": owned[0], "reason": "Own reason"})
    server.ok("unsuspendreseller", params={"user": reseller, "reseller-only": "1"})
    assert not _suspended(server, reseller) and _suspended(server, owned[0])
    server.ok("suspendreseller", params={"user": reseller, "reason": "Reseller's"})
    state = account_state(server, owned[0])
    assert state is not None and state["suspend_reason"] == "Own reason"


def test_suspendreseller_api0(server: Server) -> None:
    reseller, _token, owned = _family(server)
    response = _api0(server, "suspendreseller", {"user": reseller, "reason": "Overdue"})
    raw = "".join(f"{name}'s account has been suspended\n" for name in [reseller, *owned])
    assert response.content == _bytes(
        {"output": raw, "result": [{"status": 1, "statusmsg": "Finished suspending reseller."}]}
    )
    response = _api0(server, "unsuspendreseller", {"user": reseller})
    raw = "".join(f"{name}'s account is now active\n" for name in [reseller, *owned])
    assert response.content == _bytes(
        {"output": raw, "result": [{"status": 1, "statusmsg": "Finished unsuspending reseller."}]}
    )


@pytest.mark.parametrize("function", ["suspendreseller", "unsuspendreseller"])
def test_suspend_refusals_api0_and_api1(server: Server, function: str) -> None:
    plain, _ = server.account()
    for user in (plain, new_name(), "root"):
        response = _api0(server, function, {"user": user})
        assert response.content == _bytes(
            {"result": [{"status": 0, "statusmsg": "Specified user is not a reseller."}]}
        )
        assert server.fail(function, params={"user": user}) == "Specified user is not a reseller."
    assert _api0(server, function, {}).content == _bytes(
        {"result": [{"status": 0, "statusmsg": "Missing parameter: user"}]}
    )
    assert server.fail(function) == "Missing parameter: user"
    assert not _suspended(server, plain)


@pytest.mark.parametrize(
    "function",
    [
        "suspendreseller",
        "unsuspendreseller",
        "terminatereseller",
        "resellerstats",
    ],
)
def test_root_only(server: Server, function: str) -> None:
    """A reseller — even with every privilege but `all` — may not touch another reseller."""
    other, _token, owned = _family(server)
    reseller, token = server.reseller()
    params = {"user": other, "reseller": other, "verify": _verify(other)}
    response = server.get(function, user=reseller, token=token, params=params)
    assert response.status_code == 403
    assert response.json()["metadata"]["result"] == 0
    assert "Access denied" in response.json()["metadata"]["reason"]
    # Nor itself.
    params = {"user": reseller, "reseller": reseller, "verify": _verify(reseller)}
    assert server.get(function, user=reseller, token=token, params=params).status_code == 403
    for name in [other, *owned, reseller]:
        state = account_state(server, name)
        assert state is not None and not state["suspended"]
    assert user_row(server, other)["reseller_acls"] is not None


# -- terminatereseller --------------------------------------------------------------------


def test_terminatereseller_removes_its_accounts_all_they_hold(server: Server) -> None:
    reseller, _token, owned = _family(server)
    sub_reseller, _ = server.account(owner=reseller, reseller=True)
    grandchild, _ = server.account(owner=sub_reseller)
    ids = {name: user_id(server, name) for name in [*owned, sub_reseller, grandchild]}
    assert all(_zones(server, n) == 1 for n in owned)
    body = server.get(
        "terminatereseller", params={"user": reseller, "verify": _verify(reseller)}
    ).json()
    assert body["metadata"]["result"] == 1
    assert body["metadata"]["reason"] == "Account Terminations Complete"
    raw = body["metadata"]["output"]["raw"]
    removed = [*sorted([*owned, sub_reseller]), grandchild]
    for name in removed:
        assert f"Account Removal Complete!!!...{name} account removed...Done" in raw
        assert user_row(server, name) is None
        assert rows_of(server, "api_tokens", ids[name]) == 0
        assert _zones_of(server, ids[name]) == 0
        assert audit_rows(server, "REMOVEACCT", name)
    # The reseller keeps its own account, without reseller status (terminatereseller=0).
    row = user_row(server, reseller)
    assert row is not None and row["reseller_acls"] is None
    assert reseller not in server.ok("listresellers")["reseller"]


def test_terminatereseller_1_removes_its_own_account_too(server: Server) -> None:
    reseller, _token, owned = _family(server)
    server.ok(
        "terminatereseller",
        params={"user": reseller, "verify": _verify(reseller), "terminatereseller": "1"},
    )
    for name in [reseller, *owned]:
        assert user_row(server, name) is None


def test_terminatereseller_api0(server: Server) -> None:
    reseller, _token, owned = _family(server)
    response = _api0(
        server,
        "terminatereseller",
        {"reseller": reseller, "verify": _verify(reseller), "terminatereseller": "1"},
    )
    body = response.json()
    accts = body["result"][0].pop("accts")
    assert body == {
        "result": [{"status": 1, "privdelete": 1, "statusmsg": "Account Terminations Complete"}]
    }
    assert sorted(accts) == sorted([reseller, *owned])
    for name, entry in accts.items():
        assert (entry["status"], entry["statusmsg"]) == (1, f"{name} account removed")
        assert entry["rawout"].endswith(
            f"Account Removal Complete!!!...{name} account removed...Done\n"
        )
    assert b'"accts":{' in response.content  # an object keyed by user, as recorded


def test_terminatereseller_refusals(server: Server) -> None:
    reseller, _token, owned = _family(server)
    ghost = new_name()
    assert _api0(
        server, "terminatereseller", {"reseller": ghost, "verify": _verify(ghost)}
    ).content == _bytes(
        {"result": [{"status": 0, "statusmsg": f"Reseller {ghost} Does not exist"}]}
    )
    plain = owned[0]
    assert (
        server.fail("terminatereseller", params={"user": plain, "verify": _verify(plain)})
        == f"Reseller {plain} Does not exist"
    )
    wrong = _verify(reseller).replace("irrevocably ", "")
    expected = f"The “verify” parameter must say exactly: “{_verify(reseller)}”."
    assert server.fail("terminatereseller", params={"user": reseller, "verify": wrong}) == expected
    assert _api0(server, "terminatereseller", {"reseller": reseller}).content == _bytes(
        {"result": [{"status": 0, "statusmsg": expected}]}
    )
    assert server.fail("terminatereseller", params={"verify": "x"}) == "Missing parameter: user"
    for name in [reseller, *owned]:
        assert user_row(server, name) is not None
    assert user_row(server, reseller)["reseller_acls"] is not None


@pytest.fixture
def removeacct_hooks(server: Server) -> Iterator[Path]:
    folder = server.data_dir / "hooks" / "removeacct" / "before"
    folder.mkdir(parents=True, exist_ok=True)
    made = folder / "50-terminate-test"
    yield made
    if made.exists():
        made.unlink()


def test_terminatereseller_is_all_or_nothing(server: Server, removeacct_hooks: Path) -> None:
    """A refusal while the second account goes leaves the first, its tokens and zone."""
    reseller, _token = server.reseller()
    first, password = server.account(owner=reseller)
    second, _ = server.account(owner=reseller)
    first_id = user_id(server, first)
    server.cpanel_token(first, password)
    assert rows_of(server, "api_tokens", first_id) == 1
    removeacct_hooks.write_text(
        "#!/bin/sh\npayload=$(cat)\n"
        f'case "$payload" in *\'"user": "{second}"\'*) echo "keep {second}" >&2; exit 1 ;; esac\n'
    )
    removeacct_hooks.chmod(0o755)
    reason = server.fail(
        "terminatereseller", params={"user": reseller, "verify": _verify(reseller)}
    )
    assert reason == f"The “removeacct” hook “50-terminate-test” refused the change: keep {second}"
    body = _api0(
        server, "terminatereseller", {"reseller": reseller, "verify": _verify(reseller)}
    ).content
    assert body == _bytes({"result": [{"status": 0, "statusmsg": reason}]})
    assert user_row(server, first) is not None and user_row(server, second) is not None
    assert rows_of(server, "api_tokens", first_id) == 1
    assert _zones(server, first) == 1
    assert user_row(server, reseller)["reseller_acls"] is not None
    assert audit_rows(server, "REMOVEACCT", first) == []


# -- resellerstats ------------------------------------------------------------------------


def test_resellerstats_api1(server: Server) -> None:
    reseller, _token = server.reseller()
    limited = make_package(server, QUOTA="100", BWLIMIT="2000")
    first, _ = server.account(owner=reseller)
    server.ok("changepackage", params={"user": first, "pkg": limited})
    second, _ = server.account(owner=reseller)
    server.ok("suspendacct", params={"user": second})
    server.ok(
        "setresellerlimits",
        params={
            "user": reseller,
            "enable_resource_limits": "1",
            "diskspace_limit": "5000",
            "bandwidth_limit": "90000",
            "enable_overselling_bandwidth": "1",
        },
    )
    data = server.ok("resellerstats", params={"user": reseller})
    now = time.gmtime()
    acct = {
        "bandwidthused": "0.00",
        "deleted": 0,
        "diskused": "0.00",
        "package": "default",
    }
    assert data == {
        "reseller": {
            "acct": sorted(
                [
                    {
                        **acct,
                        "bandwidthlimit": "2000.00",
                        "diskquota": "100.00",
                        "domain": f"{first}.example.com",
                        "package": limited,
                        "suspended": None,
                        "user": first,
                    },
                    {
                        **acct,
                        "bandwidthlimit": "0.00",
                        "diskquota": 0,
                        "domain": f"{second}.example.com",
                        "suspended": 1,
                        "user": second,
                    },
                ],
                key=lambda a: str(a["user"]),
            ),
            "bandwidthlimit": 90000,
            "bwoverselling": 1,
            "diskoverselling": 0,
            "diskquota": 5000,
            "diskused": 0.0,
            "month": str(now.tm_mon),
            "totalbwalloc": 2000,
            "totalbwused": 0.0,
            "totaldiskalloc": 100,
            "user": reseller,
            "year": str(now.tm_year),
        }
    }


def test_resellerstats_api0(server: Server) -> None:
    reseller, _token = server.reseller()
    empty = _api0(server, "resellerstats", {"reseller": reseller})
    assert empty.content == _bytes(
        {
            "result": {
                "accts": [],
                "bandwidthlimit": 0,
                "bwoverselling": 0,
                "diskoverselling": 0,
                "diskquota": 0,
                "diskused": None,
                "reseller": reseller,
                "status": 1,
                "statusmsg": "Fetched Reseller Data OK",
                "totalbwalloc": None,
                "totalbwused": None,
                "totaldiskalloc": None,
            }
        }
    )
    owned, _ = server.account(owner=reseller)
    result = _api0(server, "resellerstats", {"reseller": reseller}).json()["result"]
    assert result["accts"] == [
        {
            "bandwidthlimit": "0.00",
            "bandwidthused": "0.00",
            "deleted": 0,
            "diskquota": "0.00",
            "diskused": "0.00",
            "domain": f"{owned}.example.com",
            "package": "default",
            "suspended": 0,
            "user": owned,
        }
    ]
    assert (result["totaldiskalloc"], result["totalbwalloc"], result["diskused"]) == (0, 0, 0.0)


def test_resellerstats_refusals(server: Server) -> None:
    plain, _ = server.account()
    for name in (plain, new_name()):
        assert _api0(server, "resellerstats", {"reseller": name}).content == _bytes(
            {"result": {"reseller": name, "status": 0, "statusmsg": "Reseller Does Not Exist"}}
        )
        assert server.fail("resellerstats", params={"user": name}) == "Reseller Does Not Exist"
    assert _api0(server, "resellerstats", {}).content == _bytes(
        {"result": {"reseller": "", "status": 0, "statusmsg": "Missing parameter: reseller"}}
    )
    assert server.fail("resellerstats") == "Missing parameter: user"


# -- setresellernameservers ---------------------------------------------------------------


def _ns_records(server: Server, domain: str) -> list[str]:
    records = server.ok("dumpzone", params={"domain": domain})["zone"][0]["record"]
    return [r["nsdname"] for r in records if r.get("type") == "NS"]


def test_setresellernameservers_names_the_nameservers_of_new_zones(server: Server) -> None:
    reseller, _token = server.reseller()
    body = server.get(
        "setresellernameservers",
        params={"user": reseller, "nameservers": "NS1.Reseller.example., ns2.reseller.example"},
    ).json()
    assert body == {
        "metadata": {
            "command": "setresellernameservers",
            "reason": "OK",
            "result": 1,
            "version": 1,
        }
    }
    owned, _ = server.account(owner=reseller)
    # dumpzone gives target names as cPanel's parser does: lower case, no final dot.
    assert _ns_records(server, f"{owned}.example.com") == [
        "ns1.reseller.example",
        "ns2.reseller.example",
    ]
    # Its limits are kept beside them, and setresellerlimits keeps the nameservers.
    server.ok(
        "setresellerlimits",
        params={"user": reseller, "enable_account_limit": "1", "account_limit": "9"},
    )
    again, _ = server.account(owner=reseller)
    assert _ns_records(server, f"{again}.example.com") == [
        "ns1.reseller.example",
        "ns2.reseller.example",
    ]
    # No nameservers: back to the server's.
    server.ok("setresellernameservers", params={"user": reseller})
    plain_root, _ = server.account()
    later, _ = server.account(owner=reseller)
    assert _ns_records(server, f"{later}.example.com") == _ns_records(
        server, f"{plain_root}.example.com"
    )
    assert audit_rows(server, "SETRESELLERNAMESERVERS", reseller)


def test_setresellernameservers_confinement_and_refusals(server: Server) -> None:
    reseller, token = server.reseller()  # cPanel's defaults include ns-config
    other, _ = server.reseller()
    own = server.get(
        "setresellernameservers",
        user=reseller,
        token=token,
        params={"user": reseller, "nameservers": "ns1.mine.example"},
    ).json()
    assert own["metadata"]["result"] == 1
    refused = server.get(
        "setresellernameservers",
        user=reseller,
        token=token,
        params={"user": other, "nameservers": "ns1.mine.example"},
    ).json()
    assert refused["metadata"] == {
        "command": "setresellernameservers",
        "reason": f"You do not have access to an account named “{other}”.",
        "result": 0,
        "version": 1,
    }
    state = account_state(server, other)
    assert state is not None and "nameservers" not in (state["reseller_limits"] or {})
    plain, _ = server.account()
    assert server.fail("setresellernameservers", params={"user": plain}) == (
        "Specified user is not a reseller."
    )
    assert (
        server.fail(
            "setresellernameservers", params={"user": reseller, "nameservers": "bad name.example"}
        )
        == "“bad name.example” is not a valid nameserver name."
    )
    assert (
        server.fail(
            "setresellernameservers",
            params={
                "user": reseller,
                "nameservers": ",".join(f"ns{i}.x.example" for i in range(5)),
            },
        )
        == "You may assign at most 4 nameservers."
    )
    assert server.fail("setresellernameservers") == "Missing parameter: user"
    state = account_state(server, reseller)
    assert state is not None and state["reseller_limits"]["nameservers"] == ["ns1.mine.example"]


@pytest.mark.parametrize(
    ("function", "shape"),
    [
        ("suspendreseller", "list"),
        ("unsuspendreseller", "list"),
        ("terminatereseller", "list"),
        ("resellerstats", "object"),
    ],
)
def test_root_only_refusal_in_api0_is_status_0_in_api0s_shape(
    server: Server, function: str, shape: str
) -> None:
    """Without `api.version` a refused reseller-wide call answers in that function's API 0
    form, with `status` 0 where API 0 clients look for it — not in API 1's envelope."""
    other, _token, owned = _family(server)
    reseller, token = server.reseller()
    params = {"user": other, "reseller": other, "verify": _verify(other)}
    response = server.get(function, user=reseller, token=token, params=params, api_version=None)
    assert response.status_code == 403
    body = response.json()
    assert "metadata" not in body
    item = body["result"][0] if shape == "list" else body["result"]
    assert item["status"] == 0 and "Access denied" in item["statusmsg"]
    if shape == "object":
        assert item["reseller"] == other
    for name in [other, *owned]:
        state = account_state(server, name)
        assert state is not None and not state["suspended"]
