"""Whether a nameserver answers on an address and port: one SOA question for the root over
UDP, short timeout. Any answer counts (gatehouse's own nameserver refuses names it does not
host): the question is whether something serves DNS there, not what it knows."""

from __future__ import annotations

import dns.exception
import dns.message
import dns.query
import dns.rdatatype

# An address a server bound to every interface is reached at from here.
_LOOPBACK_FOR = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104


def answers(address: str, port: int, timeout: float = 0.5) -> bool:
    query = dns.message.make_query(".", dns.rdatatype.SOA)
    try:
        dns.query.udp(query, _LOOPBACK_FOR.get(address, address), port=port, timeout=timeout)
    except (dns.exception.DNSException, OSError):
        return False
    return True
