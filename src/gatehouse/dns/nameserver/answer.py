"""What an authoritative server answers for one question in one hosted zone (RFC 1034 §4.3.2,
RFC 2308, RFC 4592, RFC 6672, RFC 6604, RFC 8482). Pure: a zone and a question in, the
sections and the rcode out; no I/O and no wire format."""

from __future__ import annotations

from dataclasses import dataclass, field

import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rrset

from gatehouse.dns.nameserver.hosted import HostedZone, as_rrset, index, key_of

A, AAAA, ANY, CNAME, DNAME, DS, MX, NS, SOA, SRV = (
    dns.rdatatype.A,
    dns.rdatatype.AAAA,
    dns.rdatatype.ANY,
    dns.rdatatype.CNAME,
    dns.rdatatype.DNAME,
    dns.rdatatype.DS,
    dns.rdatatype.MX,
    dns.rdatatype.NS,
    dns.rdatatype.SOA,
    dns.rdatatype.SRV,
)
# A chain longer than this is answered as far as it got: resolvers give up near 8-16 anyway,
# and a loop (a -> b -> a) must end somewhere.
MAX_CHAIN = 12


@dataclass(slots=True)
class Answer:
    rcode: dns.rcode.Rcode = dns.rcode.NOERROR
    answer: list[dns.rrset.RRset] = field(default_factory=list)
    authority: list[dns.rrset.RRset] = field(default_factory=list)
    additional: list[dns.rrset.RRset] = field(default_factory=list)
    referral: bool = False  # the chain ended at a delegation
    # In-domain glue of a referral (RFC 9471): without it the referral is useless, so a
    # response that cannot hold it must be truncated rather than sent without it.
    glue_required: bool = False

    @property
    def authoritative(self) -> bool:
        # AA speaks for the question's name: a pure referral is not authoritative; a CNAME
        # chain that runs into a delegation still is, for the CNAMEs it gave.
        return not (self.referral and not self.answer)


def resolve(zone: HostedZone, qname: dns.name.Name, qtype: dns.rdatatype.RdataType) -> Answer:
    """The answer for (qname, qtype, IN); qname must be at or below the zone's apex. Raises
    hosted.ZoneError if the zone turns out not to load."""
    zone.check()
    result = Answer()
    current = qname
    seen: set[dns.name.Name] = set()
    for _ in range(MAX_CHAIN):
        seen.add(current)
        following = _step(zone, current, qtype, result)
        if following is None or following in seen or not following.is_subdomain(zone.origin):
            break
        current = following
    _add_targets(zone, result)
    return result


def _negative(zone: HostedZone, result: Answer, rcode: dns.rcode.Rcode) -> None:
    """NXDOMAIN or NODATA: the SOA in the authority section with the negative TTL
    (RFC 2308 §3), so resolvers can cache the absence."""
    result.rcode = rcode
    result.authority.append(zone.negative_soa)


def _step(
    zone: HostedZone, name: dns.name.Name, qtype: dns.rdatatype.RdataType, result: Answer
) -> dns.name.Name | None:
    """Answer for one name of the chain; returns the next name to follow, if any."""
    top = len(zone.origin)
    # Only delegations and DNAMEs act on the names beneath them: without any, no walk.
    if zone.cuts or zone.dnames:
        for depth in range(top, len(name) + 1):
            ancestor = name if depth == len(name) else name.split(depth)[1]
            key = key_of(ancestor)
            # A delegation wins over everything beneath it; a DS query at the cut itself is
            # the parent's to answer (RFC 4035 §3.1.4.1).
            if depth > top and key in zone.cuts and not (ancestor is name and qtype == DS):
                _refer(zone, ancestor, result)
                return None
            if depth < len(name) and key in zone.dnames:
                dname = zone.rdataset(ancestor, DNAME)
                if dname is not None:
                    return _substitute(zone, name, ancestor, dname, result)
    rdatasets = zone.rdatasets(name)
    owner = name
    if rdatasets is None:
        if zone.exists(name):
            _negative(zone, result, dns.rcode.NOERROR)  # an empty non-terminal
            return None
        source = zone.wildcard(name)
        if source is None:
            _negative(zone, result, dns.rcode.NXDOMAIN)
            return None
        rdatasets = zone.rdatasets(source)
        assert rdatasets is not None
        owner = source

    def rrset(rdataset: dns.rdataset.Rdataset) -> dns.rrset.RRset:
        # The owner is the name asked for, also when synthesized from a wildcard (RFC 4592
        # §2.1.2); the question's spelling reaches the wire through name compression.
        if owner is name:
            return zone.rrset(owner, rdataset)
        return as_rrset(name, rdataset)

    if qtype == ANY:
        # RFC 8482 §4.1: one RRset is a complete answer to ANY; the lowest type code keeps the
        # choice stable (an address, before NS, SOA, MX, TXT).
        if not rdatasets:
            _negative(zone, result, dns.rcode.NOERROR)
            return None
        result.answer.append(rrset(rdatasets[min(rdatasets)]))
        return None
    exact = rdatasets.get(index(qtype))
    if exact is not None:
        result.answer.append(rrset(exact))
        return None
    cname = rdatasets.get(index(CNAME))
    if cname is not None:
        result.answer.append(rrset(cname))
        target: dns.name.Name = cname[0].target
        return target
    _negative(zone, result, dns.rcode.NOERROR)
    return None


def _substitute(
    zone: HostedZone,
    name: dns.name.Name,
    owner: dns.name.Name,
    dname: dns.rdataset.Rdataset,
    result: Answer,
) -> dns.name.Name | None:
    """DNAME (RFC 6672 §3.3): the DNAME, then a CNAME synthesized to the rewritten name."""
    result.answer.append(zone.rrset(owner, dname))
    try:
        target = name.relativize(owner).concatenate(dname[0].target)
    except dns.name.NameTooLong:
        result.rcode = dns.rcode.YXDOMAIN
        return None
    cname = dns.rdata.from_text(dns.rdataclass.IN, CNAME, target.to_text())
    result.answer.append(dns.rrset.from_rdata_list(name, dname.ttl, [cname]))
    return target


def _refer(zone: HostedZone, cut: dns.name.Name, result: Answer) -> None:
    """A referral to the delegated zone: its NS in authority, addresses we hold for the
    nameservers in additional (the glue)."""
    ns = zone.rdataset(cut, NS)
    assert ns is not None
    result.referral = True
    result.authority.append(zone.rrset(cut, ns))
    for record in ns:
        target: dns.name.Name = record.target
        if not target.is_subdomain(zone.origin):
            continue
        added = _addresses(zone, target, result)
        if added and target.is_subdomain(cut):
            result.glue_required = True


def _addresses(zone: HostedZone, target: dns.name.Name, result: Answer) -> bool:
    present = {(r.name, r.rdtype) for r in (*result.answer, *result.additional)}
    added = False
    for rdtype in (A, AAAA):
        rdataset = zone.rdataset(target, rdtype)
        if rdataset is not None and (target, rdtype) not in present:
            result.additional.append(zone.rrset(target, rdataset))
            added = True
    return added


def _add_targets(zone: HostedZone, result: Answer) -> None:
    """Additional-section processing (RFC 1035 §3.3): addresses of MX, NS and SRV targets we
    are authoritative for, so the client need not ask again. Names under a delegation are
    not ours to give except as glue (done by `_refer`)."""
    for rrset in list(result.answer):
        if rrset.rdtype not in (MX, NS, SRV):
            continue
        for record in rrset:
            target: dns.name.Name = record.exchange if rrset.rdtype == MX else record.target
            if target.is_subdomain(zone.origin) and zone.cut_at_or_above(target) is None:
                _addresses(zone, target, result)
