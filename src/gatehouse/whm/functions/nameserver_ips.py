"""lookupnsip and lookupnsips: a nameserver's IPv4 address, or its IPv4 and IPv6 addresses
(Whostmgr/API/1/Nameserver.pm, and their WHM API 0 forms Whostmgr/XMLUI/Nameserver.pm), from
gatehouse's own zones, else the system resolver (gatehouse.domain.nameserver_ips).

API 1 reads `host` and answers `data = {ip}` (lookupnsips: `{ipv4, ipv6}`, each "" when there
is none), or refuses with cPanel's words; API 0 reads `nameserver` and answers `{"ip":"…"}` or
`{"ip":null}` (lumberg's recordings), lookupnsips `{"ipv4":…,"ipv6":…}` found or not.

Privileges: `ns-config`, as Whostmgr/XMLUI/Meta.pm checks it (API 1's table is compiled;
cPanel's docs name the same)."""

from __future__ import annotations

from typing import Any

from gatehouse.api.call import Call
from gatehouse.api.registry import Param
from gatehouse.domain import nameserver_ips
from gatehouse.errors import NotFound
from gatehouse.whm import api0
from gatehouse.whm.registry import REGISTRY

# Both functions take the nameserver as `host` (API 0's `nameserver`, renamed in api0.py).
_HOST = Param(
    "host",
    "The nameserver's host name (WHM API 0: `nameserver`).",
    required=True,
    handler_refuses=True,
)


@REGISTRY.function(
    "lookupnsip",
    "A nameserver's IPv4 address: from the server's own DNS zones, else the system resolver.",
    params=(_HOST,),
    privileges=("ns-config",),
    api0=api0.lookupnsip,
    readonly=True,
    # The system resolver may take up to nameserver_ips.RESOLVE_TIMEOUT: off the event loop.
    slow=True,
)
def lookupnsip(call: Call) -> dict[str, Any]:
    ip = nameserver_ips.ip_of(call.conn, call.params.get("host") or "")
    if ip is None:
        raise NotFound(nameserver_ips.NOT_DETERMINED)
    return {"ip": ip}


@REGISTRY.function(
    "lookupnsips",
    "A nameserver's IPv4 and IPv6 addresses: from the server's own DNS zones, else the "
    "system resolver.",
    params=(_HOST,),
    privileges=("ns-config",),
    api0=api0.lookupnsips,
    readonly=True,
    slow=True,
)
def lookupnsips(call: Call) -> dict[str, Any]:
    # Whostmgr::API::1::Nameserver::lookupnsips: refused unless one of the two is found.
    found = nameserver_ips.addresses_of(call.conn, call.params.get("host") or "")
    if not found:
        raise NotFound(nameserver_ips.NOT_DETERMINED)
    return {"ipv4": found.ipv4, "ipv6": found.ipv6}
