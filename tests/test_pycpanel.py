"""pycpanel (PyPI, 0.1.5; a WHM client), unmodified, against the WHM face over plain HTTP.

It GETs `/json-api/FUNCTION` with `Authorization: WHM root:KEY` (the Remote Access Key with its line
breaks removed, or an API token, which the same header carries) or Basic auth with root's password,
and never sends `api.version`: every call is WHM API 0, whose answers it hands back as parsed
(`acct`, `result[0].status`, …). cPanel API 2 goes through WHM's `cpanel` function, of which it
returns `cpanelresult.data` (its README's example: `Email::listpops`). On connecting it lists the
functions with `applist` and reads `app`; any failure there is its "Access denied".

The client builds its URL from a fixed port (`http://HOST:2086/`), so the driver points the
connection's `hostname` attribute at the test server after making it; nothing else is touched. The
driver runs in the client's own virtualenv and prints what it saw, never a secret (the token and the
password go through the environment).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from client_venvs import PinnedVenv, run_driver
from conftest import Server
from gatehouse.passwords import generate_password

PYCPANEL = PinnedVenv("pycpanel", {"pycpanel": "0.1.5", "requests": "2.32.5"}, probe="pycpanel")

DRIVER = r"""
import json, os, sys
import pycpanel

port, user = int(sys.argv[1]), sys.argv[2]
domain = f"{user}.example.com"
seen = {}

def connect(**credentials):
    conn = pycpanel.conn("127.0.0.1", ssl=False, check_conn=False, **credentials)
    conn.hostname = f"http://127.0.0.1:{port}/"
    return conn

# A key pasted with its line break, as the client's README shows (it strips them).
whm = connect(hash=os.environ["WHM_TOKEN"] + "\r\n")
functions = whm.json_list()
seen["applist"] = [name in functions for name in ("applist", "createacct", "cpanel")]
seen["version"] = whm.api("version")["version"]
made = whm.api("createacct", params={"username": user, "domain": domain,
                                     "password": os.environ["ACCOUNT_PASSWORD"]})
seen["created"] = [made["result"][0]["status"], made["result"][0]["options"]["package"]]
listed = whm.api("listaccts", params={"search": user, "searchtype": "user"})
seen["listed"] = [listed["status"], [[a["user"], a["domain"]] for a in listed["acct"]]]
seen["summary"] = whm.api("accountsummary", params={"user": user})["acct"][0]["domain"]
suspended = whm.api("suspendacct", params={"user": user, "reason": "pycpanel"})
seen["suspended"] = suspended["result"][0]["status"]
seen["listsuspended"] = [[a["user"], a["reason"]]
                         for a in whm.api("listsuspended")["accts"] if a["user"] == user]
seen["unsuspended"] = whm.api("unsuspendacct", params={"user": user})["result"][0]["status"]
zones = whm.cpanel_api("ZoneEdit", "fetchzones", user)
seen["zones"] = [zones[0]["status"], sorted(zones[0]["zones"])]
# The client's own test: the account's main address is among its email accounts.
seen["pops"] = [[p["email"], p["login"]] for p in whm.cpanel_api("Email", "listpops", user)]
missing = whm.api("suspendacct", params={"user": "nosuchacct", "reason": "x"})
seen["missing"] = missing["result"][0]["status"]
basic = connect(password=os.environ["ROOT_PASSWORD"])
seen["basic"] = [a["user"] for a in basic.api("listaccts", params={"search": user,
                                                                    "searchtype": "user"})["acct"]]
removed = whm.api("removeacct", params={"user": user})
seen["removed"] = removed["result"][0]["status"]
refused = connect(hash="X" * 32).api("applist")
seen["wrong_key"] = ["app" in refused, refused.get("metadata", {}).get("reason")]
print(json.dumps(seen))
"""


@pytest.fixture(scope="session")
def pycpanel_python() -> Path:
    return PYCPANEL.ready()


def test_pycpanel_runs_api0_calls_and_api2_through_whm(
    server: Server, pycpanel_python: Path
) -> None:
    user = "p" + uuid.uuid4().hex[:10]
    env = {
        "WHM_TOKEN": server.root_token,
        "ROOT_PASSWORD": server.root_password,
        "ACCOUNT_PASSWORD": server.remember("Pyc-" + generate_password()),
    }
    seen: dict[str, Any] = run_driver(
        pycpanel_python, DRIVER, [str(server.http_port), user], env, server.issued
    )
    domain = f"{user}.example.com"
    assert seen["applist"] == [True, True, True]
    assert seen["version"] == server.ok("version")["version"]
    assert seen["created"] == [1, "default"]
    assert seen["listed"] == [1, [[user, domain]]]
    assert seen["summary"] == domain
    assert seen["suspended"] == 1
    assert seen["listsuspended"] == [[user, "pycpanel"]]
    assert seen["unsuspended"] == 1
    assert seen["zones"] == [1, [domain]]
    assert seen["pops"] == [[user, "Main Account"]]
    assert seen["missing"] == 0
    assert seen["basic"] == [user]
    assert seen["removed"] == 1
    assert seen["wrong_key"] == [False, "Access denied"]
    assert server.sql("SELECT id FROM users WHERE username = :u", u=user) == []
