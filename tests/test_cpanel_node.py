"""cpanel-node (npm, 1.6.0), a real client nobody here wrote, unmodified against gatehouse's
cPanel port: cPanel API 2 through `/json-api/cpanel` with the account's password (Basic), as
it always calls — the zones listed, an A record added, found with `fetchzone`, edited and
removed (each change read back from the store), and the account's addon domains listed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from conftest import Server
from node_clients import PinnedNodePackages, run_node_driver

CPANEL_NODE = PinnedNodePackages("cpanel-node", {"cpanel-node": "1.6.0"})

DRIVER = r"""
const CPanel = require("cpanel-node");
const [host, port, domain] = process.argv.slice(1);
const cpanel = new CPanel({
  host, port, https: false, user: process.env.CP_USER, pass: process.env.CP_PASS,
});
const body = (answer) => JSON.parse(answer.response);
// fetchzone's filters match the record's fields exactly (Cpanel::ZoneEdit): the full name.
const fqdn = `node-a.${domain}.`;
(async () => {
  const out = {};
  out.zones = body(await cpanel.zoneFetchZones());
  out.added = body(await cpanel.zoneAddDomain(
    { domain, name: "node-a", type: "A", address: "192.0.2.44", ttl: 300 }));
  const found = body(await cpanel.zoneFetchZone({ domain, name: fqdn, type: "A" }));
  out.found = found;
  const line = found.cpanelresult.data[0].record[0].line;
  out.edited = body(await cpanel.zoneEditDomain({ domain, line, address: "192.0.2.45" }));
  out.refound = body(await cpanel.zoneFetchZone({ domain, name: fqdn, type: "A" }));
  const again = out.refound.cpanelresult.data[0].record[0].line;
  out.removed = body(await cpanel.zoneRemoveDomain({ domain, line: again }));
  out.addons = body(await cpanel.listAddonDomains());
  console.log(JSON.stringify(out));
})().catch((err) => { console.error(err && err.stack || err); process.exit(1); });
"""


@pytest.fixture(scope="module")
def packages() -> Path:
    return CPANEL_NODE.ready()


def _a_records(server: Server, domain: str) -> list[tuple[str, str]]:
    data = server.ok("dumpzone", params={"domain": domain})
    return [
        (str(r["name"]), str(r["address"]))
        for r in data["zone"][0]["record"]
        if r.get("type") == "A" and str(r["name"]).startswith("node-a.")
    ]


def test_cpanel_node_edits_a_zone(server: Server, packages: Path) -> None:
    user, password = server.account()
    domain = f"{user}.example.com"
    parts = urlsplit(server.cpanel_url)
    out: Any = run_node_driver(
        packages,
        DRIVER,
        [str(parts.hostname), str(parts.port), domain],
        {"CP_USER": user, "CP_PASS": password},
    )
    zones = out["zones"]["cpanelresult"]
    assert zones["event"]["result"] == 1, zones
    assert domain in zones["data"][0]["zones"]
    added = out["added"]["cpanelresult"]
    assert added["data"][0]["result"]["status"] == 1, added
    record = out["found"]["cpanelresult"]["data"][0]["record"]
    assert [(r["name"], r["address"]) for r in record] == [(f"node-a.{domain}.", "192.0.2.44")]
    assert out["edited"]["cpanelresult"]["data"][0]["result"]["status"] == 1, out["edited"]
    refound = out["refound"]["cpanelresult"]["data"][0]["record"]
    assert [r["address"] for r in refound] == ["192.0.2.45"]
    assert out["removed"]["cpanelresult"]["data"][0]["result"]["status"] == 1
    assert _a_records(server, domain) == []
    addons = out["addons"]["cpanelresult"]
    assert (addons["event"]["result"], addons["data"]) == (1, [])
    assert password not in json.dumps(out)
