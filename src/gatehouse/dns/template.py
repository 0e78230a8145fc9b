"""cPanel's "standard" zone template, the text of a new (or reset) zone."""

from __future__ import annotations

import re
from collections.abc import Sequence

from gatehouse.dns import version_line
from gatehouse.dns.text import DEFAULT_TTL

NS_TTL = 86400


def template(
    name: str,
    *,
    ip: str,
    nameservers: Sequence[str],
    serial: int,
    hostname: str,
    update_time: int,
    contact: str | None = None,
    first: str | None = None,
    ipv6: str | None = None,
) -> str:
    """cPanel's "standard" zone template: its version line (dns/version_line.py), $TTL, SOA,
    NS, A for the domain, localhost, MX, mail, www and ftp. Choice: the SOA is on one line
    (cPanel spreads it over seven) and its RNAME is hostmaster.<zone> unless a contact address
    is given. `first`: the version line's first version (a reset zone keeps its own). `ipv6`
    (adddns's): an AAAA record for the domain and one for `ipv6`, as cPanel's template's
    `%ipv6%` lines."""
    apex = f"{name}."
    ns = [n.rstrip(".") + "." for n in nameservers] or [f"ns1.{apex}"]
    rname = f"hostmaster.{apex}"
    if contact and "@" in contact:
        local, _, host = contact.partition("@")
        if re.fullmatch(r"[A-Za-z0-9_-]+", local) and host:
            rname = f"{local}.{host.rstrip('.')}."
    ip_type = "AAAA" if ":" in ip else "A"
    lines = [
        version_line.line(update_time=update_time, hostname=hostname, first=first),
        f"; Zone file for {name}",
        f"$TTL {DEFAULT_TTL}",
        f"{apex}\t{NS_TTL}\tIN\tSOA\t{ns[0]} {rname} {serial} 3600 1800 1209600 86400",
        *(f"{apex}\t{NS_TTL}\tIN\tNS\t{n}" for n in ns),
        f"{apex}\t{DEFAULT_TTL}\tIN\t{ip_type}\t{ip}",
        *(
            (f"{apex}\t{DEFAULT_TTL}\tIN\tAAAA\t{ipv6}", f"ipv6\t{DEFAULT_TTL}\tIN\tAAAA\t{ipv6}")
            if ipv6
            else ()
        ),
        f"localhost\t{DEFAULT_TTL}\tIN\tA\t127.0.0.1",
        f"{apex}\t{DEFAULT_TTL}\tIN\tMX\t0 {apex}",
        f"mail\t{DEFAULT_TTL}\tIN\tCNAME\t{apex}",
        f"www\t{DEFAULT_TTL}\tIN\tCNAME\t{apex}",
        f"ftp\t{DEFAULT_TTL}\tIN\t{ip_type}\t{ip}",
    ]
    return "\n".join(lines) + "\n"
