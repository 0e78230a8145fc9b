"""A hosted zone as the nameserver reads it: the zone's text parsed once by dnspython into
nodes, plus the facts every answer needs and dnspython does not keep (the names that exist,
empty non-terminals included, and the delegation points). Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import dns.name
import dns.node
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rdtypes.ANY.SOA
import dns.rrset
import dns.zone


@dataclass(frozen=True, slots=True)
class HostedZone:
    origin: dns.name.Name  # absolute, lower case
    nodes: Mapping[dns.name.Name, dns.node.Node]  # absolute owner names
    # Every name that exists (RFC 4592 §2.2.2): the owners and all their ancestors up to the
    # apex, so empty non-terminals block wildcards and get NODATA, not NXDOMAIN.
    names: frozenset[dns.name.Name]
    cuts: frozenset[dns.name.Name]  # owners of NS below the apex: delegation points
    dnames: frozenset[dns.name.Name]  # owners of DNAME
    soa: dns.rdataset.Rdataset
    negative_soa: dns.rrset.RRset  # for NXDOMAIN and NODATA: TTL min(SOA TTL, MINIMUM)
    # RRsets as answers carry them, made on first use: building one hashes every rdata, which
    # costs more than the rest of a small answer. Shared by responses, so never modified.
    _rrsets: dict[tuple[dns.name.Name, int], dns.rrset.RRset] = field(
        default_factory=dict, compare=False, repr=False
    )

    def rdataset(
        self, name: dns.name.Name, rdtype: dns.rdatatype.RdataType
    ) -> dns.rdataset.Rdataset | None:
        node = self.nodes.get(name)
        if node is None:
            return None
        return node.get_rdataset(dns.rdataclass.IN, rdtype)

    def rrset(self, owner: dns.name.Name, rdataset: dns.rdataset.Rdataset) -> dns.rrset.RRset:
        """`rdataset` of the node `owner` as an RRset (do not modify it)."""
        key = (owner, rdataset.rdtype * 65536 + rdataset.covers)
        rrset = self._rrsets.get(key)
        if rrset is None:
            rrset = as_rrset(owner.canonicalize(), rdataset)
            self._rrsets[key] = rrset
        return rrset

    def cut_at_or_above(self, name: dns.name.Name) -> dns.name.Name | None:
        """The highest delegation point on the way from the apex down to `name`, if any."""
        if not self.cuts:
            return None
        for depth in range(len(self.origin) + 1, len(name) + 1):
            ancestor = name if depth == len(name) else name.split(depth)[1]
            if ancestor in self.cuts:
                return ancestor
        return None


def as_rrset(owner: dns.name.Name, rdataset: dns.rdataset.Rdataset) -> dns.rrset.RRset:
    return dns.rrset.from_rdata_list(owner, rdataset.ttl, list(rdataset))


def parse(name: str, text: str) -> HostedZone:
    """The zone `name` (no trailing dot) from its stored text. Raises a dns.exception
    subclass if the text does not load, exactly as `gatehouse.domain.zones.validate` would."""
    origin = dns.name.from_text(name).canonicalize()
    zone = dns.zone.from_text(text, origin=origin, relativize=False, check_origin=True)
    nodes: dict[dns.name.Name, dns.node.Node] = dict(zone.nodes)
    names: set[dns.name.Name] = set()
    cuts: set[dns.name.Name] = set()
    dnames: set[dns.name.Name] = set()
    for owner, node in nodes.items():
        ancestor = owner
        while ancestor not in names and len(ancestor) >= len(origin):
            names.add(ancestor)
            ancestor = ancestor.parent()
        if owner != origin and node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.NS):
            cuts.add(owner)
        if node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.DNAME):
            dnames.add(owner)
    soa = nodes[origin].get_rdataset(dns.rdataclass.IN, dns.rdatatype.SOA)
    assert soa is not None  # check_origin guarantees it
    record = soa[0]
    assert isinstance(record, dns.rdtypes.ANY.SOA.SOA)
    negative_soa = as_rrset(origin, soa)
    negative_soa.ttl = min(soa.ttl, record.minimum)  # RFC 2308 §3
    return HostedZone(
        origin=origin,
        nodes=nodes,
        names=frozenset(names),
        cuts=frozenset(cuts),
        dnames=frozenset(dnames),
        soa=soa,
        negative_soa=negative_soa,
    )
