"""A billing system's whole life cycle of an account, driven over HTTP by a LIMITED token that
holds only the privileges cPanel documents for these functions (whm-reference §3.2):
create-acct, suspend-acct (suspend, unsuspend, listsuspended), upgrade-account
(changepackage), kill-acct (removeacct) and list-accts."""

from __future__ import annotations

import pytest

from conftest import Server
from gatehouse.passwords import generate_password
from lifecycle_helpers import account_state, audit_rows, make_package
from whm_helpers import limited_reseller, new_name, user_row

BILLING = ["create-acct", "suspend-acct", "upgrade-account", "kill-acct", "list-accts"]


@pytest.mark.parametrize("owner", ["root", "reseller"])
def test_create_suspend_unsuspend_upgrade_remove(server: Server, owner: str) -> None:
    if owner == "root":
        actor = "root"
        token = server.token(acl=BILLING)
        package = make_package(server, QUOTA="2048", BWLIMIT="20480")
    else:
        actor, reseller_token = limited_reseller(server, [*BILLING, "manage-api-tokens"])
        token = server.token(user=actor, via=reseller_token, acl=BILLING)
        package = make_package(server, owner=actor, QUOTA="2048", BWLIMIT="20480")

    def call(function: str, **params: str) -> object:
        return server.ok(function, user=actor, token=token, params=params)

    # The token is limited: no token management, no reseller administration.
    assert server.get("api_token_list", user=actor, token=token).status_code == 403
    assert server.get("setresellerlimits", user=actor, token=token).status_code == 403

    username = new_name()
    password = server.remember(generate_password())
    call("createacct", username=username, domain=f"{username}.example.com", password=password)
    row = user_row(server, username)
    assert row is not None and row["owner"] == actor

    # Invoice overdue.
    call("suspendacct", user=username, reason="Overdue invoice #1001")
    listed = server.ok("listsuspended", user=actor, token=token)["account"]
    [entry] = [r for r in listed if r["user"] == username]
    assert (entry["owner"], entry["reason"], entry["is_locked"]) == (
        actor,
        "Overdue invoice #1001",
        0,
    )

    # Paid.
    call("unsuspendacct", user=username)
    listed = server.ok("listsuspended", user=actor, token=token)["account"]
    assert username not in [r["user"] for r in listed]

    # Upgraded.
    call("changepackage", user=username, pkg=package)
    state = account_state(server, username)
    assert state is not None and state["plan"] == package
    assert (state["limits"]["QUOTA"], state["limits"]["BWLIMIT"]) == ("2048", "20480")

    # Cancelled.
    body = server.get("removeacct", user=actor, token=token, params={"username": username}).json()
    assert body["metadata"]["result"] == 1
    assert body["metadata"]["reason"] == f"{username} account removed"
    assert user_row(server, username) is None

    # Every step is in the audit trail, with who did it and with which token.
    for action in ("SUSPENDACCT", "UNSUSPENDACCT", "CHANGEPACKAGE", "REMOVEACCT"):
        [logged] = audit_rows(server, action, username)
        assert logged["actor"] == actor
        assert logged["token_name"] is not None and logged["token_name"].startswith("t-")
