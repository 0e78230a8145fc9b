"""cpanel-rest-api (npm, 0.1.1; a WHM client on axios), unmodified, against gatehouse's WHM port.

Its `WHM` class GETs `/json-api/ACTION?…&api.version=1` with `Authorization: WHM root:KEY` (here an
API token, which that header carries too), throws `metadata.reason` when `metadata.result` is 0 and
otherwise returns `data`, or the whole answer when there is none. `whm.uapi(user)` calls UAPI
through WHM's `cpanel` function (`cpanel_jsonapi_apiversion=3`, still with `api.version=1`; its
README's example is `Email::list_pops`) and reads the UAPI envelope's `result` at the top:
`result.data`, or `result.errors` joined into the error it throws, and a bare `result: "0"` with
`reason` (cpanel_exec's refusal) as an error of its own. The driver runs a billing system's day with
an account made beforehand and prints what it saw.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from conftest import Server
from node_clients import PinnedNodePackages, run_node_driver

CPANEL_REST_API = PinnedNodePackages("cpanel-rest-api", {"cpanel-rest-api": "0.1.1"})

DRIVER = r"""
const { WHM } = require("cpanel-rest-api");
const [host, port, user, domain] = process.argv.slice(1);
const whm = new WHM({ host, port: Number(port), secure: false, username: "root",
                      accessKey: process.env.WHM_TOKEN });
const refusal = (promise) => promise.then(() => "accepted", (err) => err.message);
(async () => {
  const out = {};
  out.version = (await whm.api("version")).version;
  out.listed = (await whm.api({ action: "listaccts",
                                params: { search: user, searchtype: "user" } })).acct
    .map((a) => [a.user, a.domain]);
  out.suspend = (await whm.api({ action: "suspendacct",
                                 params: { user, reason: "cpanel-rest-api" } })).metadata.result;
  out.suspended = (await whm.api("listsuspended")).account.map((a) => a.user);
  out.unsuspend = (await whm.api({ action: "unsuspendacct", params: { user } })).metadata.result;
  out.missing = await refusal(whm.api({ action: "suspendacct", params: { user: "nosuchacct" } }));
  out.unknown = await refusal(whm.api("no_such_function"));
  const uapi = whm.uapi(user);
  out.domains = await uapi.api({ module: "DomainInfo", func: "list_domains" });
  out.pops = await uapi.api({ module: "Email", func: "list_pops" });  // its README's example
  const zone = await uapi.api({ module: "DNS", func: "parse_zone", params: { zone: domain } });
  const soa = zone.find((r) => r.record_type === "SOA");
  const serial = Buffer.from(soa.data_b64[2], "base64").toString();
  const edit = await uapi.api({ module: "DNS", func: "mass_edit_zone", params: {
    zone: domain, serial,
    add: JSON.stringify({ dname: "rest", ttl: 300, record_type: "TXT",
                          data: ["from cpanel-rest-api"] }) } });
  out.new_serial = typeof edit.new_serial;
  out.stale = await refusal(uapi.api({ module: "DNS", func: "mass_edit_zone", params: {
    zone: domain, serial,
    add: JSON.stringify({ dname: "x", ttl: 300, record_type: "TXT", data: ["y"] }) } }));
  out.no_account = await refusal(whm.uapi("nosuchacct").api({ module: "DomainInfo",
                                                               func: "list_domains" }));
  const wrong = new WHM({ host, port: Number(port), secure: false, username: "root",
                          accessKey: "X".repeat(32) });
  out.wrong_key = await refusal(wrong.api("version"));
  console.log(JSON.stringify(out));
})().catch((err) => { console.error(err && err.stack || err); process.exit(1); });
"""


@pytest.fixture(scope="module")
def packages() -> Path:
    return CPANEL_REST_API.ready()


def test_cpanel_rest_api_runs_a_billing_day_and_uapi_through_whm(
    server: Server, packages: Path
) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    parts = urlsplit(server.url)
    out: Any = run_node_driver(
        packages,
        DRIVER,
        [str(parts.hostname), str(parts.port), user, domain],
        {"WHM_TOKEN": server.root_token},
    )
    assert out["version"] == server.ok("version")["version"]
    assert out["listed"] == [[user, domain]]
    assert out["suspend"] == 1 and user in out["suspended"]
    assert out["unsuspend"] == 1
    assert out["missing"] == "You do not have a user named “nosuchacct”."
    assert out["unknown"].startswith("Unknown app (no_such_function)")
    assert out["domains"]["main_domain"] == domain
    assert [[p["email"], p["login"]] for p in out["pops"]] == [[user, "Main Account"]]
    assert out["new_serial"] == "string"
    assert out["stale"].startswith("The given serial number (")
    assert out["no_account"] == "User parameter is invalid or was not supplied"
    assert out["wrong_key"] == "Request failed with status code 401"
    records = server.ok("dumpzone", params={"domain": domain})["zone"][0]["record"]
    assert [r["txtdata"] for r in records if r.get("name") == f"rest.{domain}."] == [
        "from cpanel-rest-api"
    ]
