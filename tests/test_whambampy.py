"""WhamBamPy (PyPI, pinned; a WHM API 1 client), unmodified, against the WHM face over TLS.

It opens a session with `create_user_session` and sends every call under the
`/cpsessNNNNNNNNNN/` prefix it got back (compatibility.md, Requests 4), with
`Authorization: whm root:TOKEN` and `api.version=1`. The driver runs a billing system's day in
the client's own virtualenv — an account made, listed, suspended and unsuspended, a record
added to its zone, a token made and revoked, the account removed — and prints what it saw,
never a secret (the token goes through the environment).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from client_venvs import PinnedVenv, run_driver
from conftest import Server

WHAMBAMPY = PinnedVenv(
    "whambampy", {"whambampy": "0.0.7", "requests": "2.28.1"}, probe="whambampy.whm"
)

DRIVER = r"""
import json, os, sys
from whambampy import whm
from whambampy.utils import generate_password, generate_username

port = int(sys.argv[1])
token = os.environ["WHM_TOKEN"]
seen = {}

def result(answer):
    return answer["metadata"]["result"], answer["metadata"]["reason"]

client = whm("127.0.0.1", "root", token, whm_port=port)
seen["session_prefix"] = client._sec_token[:7]
seen["version"] = client.call("version")["data"]["version"]

# The client's own generator may start a name with a digit, which cPanel refuses for a new
# account: a billing module retries, and so does this driver.
user = generate_username()
while user[0].isdigit():
    user = generate_username()
domain = f"{user}.example.com"
seen["user"] = user
seen["create"] = result(client.call("createacct", username=user, domain=domain,
                                    password=generate_password()))
listed = client.call("listaccts", search=user, searchtype="user")
seen["listed"] = [(a["user"], a["domain"], a["suspended"]) for a in listed["data"]["acct"]]
seen["suspend"] = result(client.call("suspendacct", user=user, reason="unpaid"))
seen["suspended"] = [a["user"] for a in client.call("listsuspended")["data"]["account"]]
seen["unsuspend"] = result(client.call("unsuspendacct", user=user))
seen["record"] = result(client.call("addzonerecord", domain=domain, name="www2", type="A",
                                    address="192.0.2.4", ttl="300"))
zone = client.call("dumpzone", domain=domain)["data"]["zone"][0]["record"]
seen["www2"] = [(r["name"], r["address"]) for r in zone if r.get("name", "").startswith("www2.")]
made = client.call("api_token_create", token_name=f"{user}-billing", acl=["list-accts"])
seen["token_made"] = (made["metadata"]["result"], len(made["data"]["token"]))
names = [t["name"] for t in client.call("api_token_list")["data"]["tokens"].values()]
seen["token_listed"] = f"{user}-billing" in names
seen["token_revoked"] = result(client.call("api_token_revoke", token_name=f"{user}-billing"))
seen["remove"] = result(client.call("removeacct", user=user))
try:
    whm("127.0.0.1", "root", "X" * 32, whm_port=port)
    seen["wrong_token"] = "accepted"
except PermissionError as exc:
    seen["wrong_token"] = str(exc)
print(json.dumps(seen))
"""


@pytest.fixture(scope="session")
def whambampy_python() -> Path:
    return WHAMBAMPY.ready()


def test_whambampy_runs_a_billing_day_through_a_cpsess_session(
    server: Server, whambampy_python: Path
) -> None:
    token = server.root_token
    args = [str(server.https_port)]
    seen: dict[str, Any] = run_driver(
        whambampy_python, DRIVER, args, {"WHM_TOKEN": token}, server.issued
    )
    user = seen["user"]
    assert seen["session_prefix"] == "/cpsess"
    assert seen["version"] == server.ok("version")["version"]
    assert seen["create"] == [1, "Account Creation Ok"]
    assert seen["listed"] == [[user, f"{user}.example.com", 0]]
    assert seen["suspend"][0] == 1 and user in seen["suspended"]
    assert seen["unsuspend"][0] == 1
    assert seen["record"][0] == 1
    assert seen["www2"] == [[f"www2.{user}.example.com.", "192.0.2.4"]]
    assert seen["token_made"] == [1, 32] and seen["token_listed"] is True
    assert seen["token_revoked"] == [1, "OK"]
    assert seen["remove"][0] == 1
    assert seen["wrong_token"] == "Unable to login with the provided credentials"
    assert server.sql("SELECT id FROM users WHERE username = :u", u=user) == []
