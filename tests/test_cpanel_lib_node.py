"""cpanel-lib (npm, 0.0.5), a real WHM client nobody here wrote, unmodified against gatehouse's
WHM port: GET `/json-api/ACTION?query` with `Authorization: WHM root:KEY` (here an API token,
which that header carries too) — WHM API 0 and 1 calls, and cPanel API 2 through WHM's
`cpanel` function (`callApi2`), each answer parsed as the library parses it."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from conftest import Server
from node_clients import PinnedNodePackages, run_node_driver

CPANEL_LIB = PinnedNodePackages("cpanel-lib", {"cpanel-lib": "0.0.5"})

DRIVER = r"""
const cpanel = require("cpanel-lib");
const [host, port, user, domain] = process.argv.slice(1);
const client = cpanel.createClient({
  host, port: Number(port), secure: false, username: "root",
  accessKey: process.env.WHM_TOKEN,
});
const call = (action, query) => new Promise((resolve, reject) =>
  client.call(action, query, (err, res) => (err ? reject(err) : resolve(res))));
const api2 = (module, func, query, asUser) => new Promise((resolve, reject) =>
  client.callApi2(module, func, query, asUser, (err, res) => (err ? reject(err) : resolve(res))));
(async () => {
  const out = {};
  out.version = await call("version", { "api.version": 1 });
  out.listaccts = await call("listaccts", { search: user, searchtype: "user" });
  out.summary = await call("accountsummary", { "api.version": 1, user });
  out.suspend = await call("suspendacct", { "api.version": 1, user, reason: "cpanel-lib" });
  out.unsuspend = await call("unsuspendacct", { "api.version": 1, user });
  out.zones = await api2("ZoneEdit", "fetchzones", {}, user);
  out.added = await api2("ZoneEdit", "add_zone_record",
    { domain, name: "lib", type: "TXT", txtdata: "from cpanel-lib", ttl: 300 }, user);
  out.bad = await call("no_such_function", { "api.version": 1 });
  console.log(JSON.stringify(out));
})().catch((err) => { console.error(err && err.stack || err); process.exit(1); });
"""


@pytest.fixture(scope="module")
def packages() -> Path:
    return CPANEL_LIB.ready()


def test_cpanel_lib_runs_a_billing_day(server: Server, packages: Path) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    parts = urlsplit(server.url)
    out: Any = run_node_driver(
        packages,
        DRIVER,
        [str(parts.hostname), str(parts.port), user, domain],
        {"WHM_TOKEN": server.root_token},
    )
    assert out["version"]["metadata"]["result"] == 1
    assert out["version"]["data"]["version"]
    # WHM API 0: `acct` and `status` at the top.
    assert out["listaccts"]["status"] == 1
    assert [a["user"] for a in out["listaccts"]["acct"]] == [user]
    assert out["summary"]["data"]["acct"][0]["domain"] == domain
    assert out["suspend"]["metadata"]["result"] == 1
    assert out["unsuspend"]["metadata"]["result"] == 1
    zones = out["zones"]["cpanelresult"]
    assert domain in zones["data"][0]["zones"]
    assert out["added"]["cpanelresult"]["data"][0]["result"]["status"] == 1
    records = server.ok("dumpzone", params={"domain": domain})["zone"][0]["record"]
    assert any(r.get("txtdata") == "from cpanel-lib" for r in records)
    assert out["bad"]["metadata"]["result"] == 0
    assert out["bad"]["metadata"]["reason"].startswith("Unknown app (no_such_function)")
