"""What a cPanel DNS cluster master asks of each peer for its DNS Cluster status page and its
daily cluster check (cPanel's Cpanel/DNSLib/PeerStatus.pm): one `batch` of `version`,
`installed_versions` and `servicestatus?service=named`, then `cluster_member_has_trust_with`.
Without answers the master counts a gatehouse peer as a dead nameserver and mails its
administrator about it every day.

- `servicestatus` (Whostmgr/API/1/Services.pm): `data.service = [{name, display_name,
  enabled, installed, monitored, running}]`. gatehouse has one service, `named`: its own
  nameserver, enabled and watched when `serve --dns-port` is set, `running` when something
  answers DNS on that address and port now (`running` is given only for an enabled, watched
  service, as cPanel gives it). Any other service: `Specified service does not exist.`
- `installed_versions` (Whostmgr/API/1/ApplicationVersions.pm): versions of installed
  software, 0 for what is not installed — here BIND, PowerDNS and the mail, web, FTP and
  database servers a cPanel server reports are all 0 (gatehouse's nameserver is its own, so a
  master does not take it for a DNSSEC-capable PowerDNS), with the operating system, the
  kernel and `cpanel_and_whm` (the WHM version gatehouse answers as); `gatehouse` is added.
- `cluster_member_has_trust_with` (Whostmgr/API/1/ClusterServer.pm `has_trust`): `host`,
  `althost` → `data.has_trust` 1 when this node pushes its zones to a peer at either (the
  reverse trust the master asked for through /cgi/trustclustermaster.cgi, or one added here).

Privileges: `clustering` for all three — the one privilege cPanel asks a cluster token to
hold; `servicestatus` also with `status` (cPanel's), `installed_versions` also with
`basic-system-info` (as `version`).
"""

from __future__ import annotations

import os
import platform
from typing import Any

from gatehouse import WHM_COMPAT_VERSION, __version__
from gatehouse.api.call import Call
from gatehouse.api.registry import Param
from gatehouse.dns.nameserver import probe
from gatehouse.domain import cluster_peers
from gatehouse.errors import InvalidParameter
from gatehouse.whm import api0
from gatehouse.whm.registry import REGISTRY

NAMED = "named"
NOT_A_SERVICE = "Specified service does not exist."
# What a cPanel server reports (0: not installed) that gatehouse does not run.
NOT_INSTALLED = (
    "apache",
    "bind",
    "dovecot",
    "exim",
    "mariadb",
    "mysql",
    "postgresql",
    "powerdns",
    "proftpd",
    "pureftpd",
)


@REGISTRY.function(
    "servicestatus",
    "The state of the server's services: here `named`, gatehouse's own nameserver.",
    params=(Param("service", "One service (`named`); all without it."),),
    privileges=("status", "clustering"),
    readonly=True,
    slow=True,  # it asks the nameserver a question
    api0=api0.servicestatus,
)
def servicestatus(call: Call) -> dict[str, Any]:
    wanted = call.params.get("service")
    if wanted is not None and wanted != NAMED:
        raise InvalidParameter(NOT_A_SERVICE)
    return {"service": [_named(call)]}


def _named(call: Call) -> dict[str, Any]:
    config = call.gatehouse.config
    enabled = int(bool(config.dns_port))
    service: dict[str, Any] = {
        "name": NAMED,
        "display_name": "DNS Server",
        "enabled": enabled,
        "installed": 1,
        "monitored": enabled,
    }
    if enabled:
        service["running"] = int(probe.answers(config.dns_bind, config.dns_port))
    return service


@REGISTRY.function(
    "installed_versions",
    "Versions of the software on the server (0: not installed).",
    params=(Param("packages", "Accepted; gatehouse has no system packages to list."),),
    privileges=("basic-system-info", "clustering"),
    readonly=True,
)
def installed_versions(call: Call) -> dict[str, Any]:
    versions: dict[str, Any] = dict.fromkeys(NOT_INSTALLED, 0)
    name, major = _operating_system()
    versions.update(
        {
            "cpanel_and_whm": WHM_COMPAT_VERSION,
            "gatehouse": __version__,
            "linux_kernel": platform.release(),
            "operating_system_name": name,
            "operating_system_version": major,
        }
    )
    return versions


def _operating_system() -> tuple[str, str]:
    """The distribution's ID and major version, as cPanel's Cpanel::OS reports them."""
    try:
        release = platform.freedesktop_os_release()
    except OSError:
        return os.uname().sysname.lower(), ""
    return release.get("ID", ""), release.get("VERSION_ID", "").split(".")[0]


@REGISTRY.function(
    "cluster_member_has_trust_with",
    "Whether this node pushes its zones to a DNS cluster peer at `host` (or `althost`).",
    params=(
        Param("host", "The peer's host name or address.", required=True, handler_refuses=True),
        Param("althost", "Another name or address of it (its public one, behind NAT)."),
    ),
    privileges=("clustering",),
    readonly=True,
)
def cluster_member_has_trust_with(call: Call) -> dict[str, int]:
    host = call.params.get("host")
    if host is None:
        raise InvalidParameter("Missing argument: host")  # Whostmgr/API/1/ClusterServer.pm
    hosts = [host, call.params.get("althost") or ""]
    return {"has_trust": int(cluster_peers.any_at(call.conn, hosts))}
