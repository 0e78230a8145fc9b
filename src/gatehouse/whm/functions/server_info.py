"""gethostname, get_nameserver_config, systemloadavg and get_maximum_users: what the server
says about itself.

WHM API 1 shapes follow cPanel's WHM API 1 reference (`data.hostname`; `data.nameservers`,
which WHMCS reads to fill in a server); gethostname's WHM API 0 form is lumberg's recorded
`{"hostname":"…"}`.

The host name is the GATEHOUSE_HOSTNAME setting, else the machine's fully qualified name.
The nameservers are those new DNS zones get: for root, the server's (GATEHOUSE_NAMESERVERS,
the NS records gatehouse writes and its built-in nameserver serves); for a reseller, those
set with setresellernameservers, else the server's (cPanel answers a reseller with its own).

systemloadavg answers the machine's load averages as cPanel's Cpanel::Sys::Load does with
`$ForceFloat`: strings with two decimals (`sprintf '%0.2f'`), under `one`, `five`, `fifteen`
(Whostmgr/API/1/Cpanel.pm); loadavg, a function of WHM API 0 only, the same three at the top
level of its answer (Whostmgr/XMLUI/Utils.pm; lumberg's recording).

get_maximum_users is the licence's account limit (Whostmgr/API/1/Accounts.pm): gatehouse has
no licence, so 0, which cPanel and WHMCS read as unlimited.

Privileges: gethostname `basic-system-info` or `clustering` (cPanel's table);
get_nameserver_config any WHM user — its answer is the caller's own configuration;
systemloadavg, loadavg and get_maximum_users any WHM user (Meta.pm checks nothing for
loadavg): WHMCS asks both (in one batch, with `version`) with whatever login it has for a
server, a reseller's included, and WHM shows every reseller the load average.
"""

from __future__ import annotations

import os
from typing import Any

from gatehouse.api.api0 import bare
from gatehouse.api.call import Call
from gatehouse.domain import reseller_admin
from gatehouse.whm import api0
from gatehouse.whm.registry import REGISTRY


@REGISTRY.function(
    "gethostname",
    "The server's host name.",
    privileges=("basic-system-info", "clustering"),
    api0=bare("hostname", lambda answer: (answer.data or {}).get("hostname")),
    readonly=True,
)
def gethostname(call: Call) -> dict[str, Any]:
    return {"hostname": call.gatehouse.config.server_hostname}


@REGISTRY.function(
    "get_nameserver_config",
    "The nameservers the caller's new DNS zones get (a reseller's own, else the server's).",
    readonly=True,
)
def get_nameserver_config(call: Call) -> dict[str, Any]:
    own = reseller_admin.nameservers_of(call.conn, call.principal.user)
    return {"nameservers": own or call.gatehouse.config.nameserver_list}


@REGISTRY.function(
    "systemloadavg",
    "The machine's load averages over 1, 5 and 15 minutes.",
    readonly=True,
)
def systemloadavg(call: Call) -> dict[str, str]:
    return _load_averages()


def _load_averages() -> dict[str, str]:
    one, five, fifteen = os.getloadavg()
    return {"one": f"{one:0.2f}", "five": f"{five:0.2f}", "fifteen": f"{fifteen:0.2f}"}


@REGISTRY.function(
    "loadavg",
    "WHM API 0 only (API 1: systemloadavg): the machine's load averages over 1, 5 and 15 "
    "minutes, at the top level.",
    api0=api0.loadavg,
    api0_only=True,
    readonly=True,
)
def loadavg(call: Call) -> dict[str, str]:
    return _load_averages()


@REGISTRY.function(
    "get_maximum_users",
    "The most accounts the server's licence allows: 0, unlimited (gatehouse has no licence).",
    readonly=True,
)
def get_maximum_users(call: Call) -> dict[str, int]:
    return {"maximum_users": 0}
