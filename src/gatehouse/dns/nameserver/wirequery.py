"""A query read straight from its bytes (RFC 1035 §4.1, RFC 6891 §6.1.2), for the response
cache: dnspython's reader costs about a fifth of an answer, and a cached answer needs only
the header, the question and the OPT.

Only the plain shape is read here: opcode QUERY, QR clear, one question in class IN whose
name has no compression pointer, no answer or authority records, and at most one additional
record, an OPT of EDNS version 0 owned by the root. Anything else (and anything this reader
is unsure of) gives None, and the query goes through dnspython as before, so odd or
malformed queries get exactly the answers they always got."""

from __future__ import annotations

import struct
from dataclasses import dataclass

import dns.rdata
import dns.rdataclass
import dns.rdatatype

_HEADER = struct.Struct("!HHHHHH")
_TYPE_CLASS = struct.Struct("!HH")
_OPT_FIELDS = struct.Struct("!HHIH")  # after the OPT's root owner: type, payload, TTL, length
_QR = 0x8000
_OPCODE = 0x7800
_QUESTION = 12  # the question starts right after the header
_MAX_LABEL = 63  # a larger length byte is a compression pointer or a reserved label type
_MAX_NAME = 255  # RFC 1035 §3.1, in wire octets
_IN = 1
_OPT = dns.rdatatype.OPT
_ANY = dns.rdatatype.ANY
NO_EDNS = -1

Key = tuple[int, bytes, int, int, int, int]


@dataclass(frozen=True, slots=True)
class Question:
    wire: bytes  # the whole query
    name_end: int  # the question's name is wire[12:name_end], as sent
    labels: tuple[bytes, ...]  # its labels as sent, the root's left out
    qtype: int
    flags: int  # the header's second word, as sent
    edns: int  # NO_EDNS, or the OPT's DO bit and Z flags
    payload: int  # the UDP size the OPT advertises (0 without EDNS)

    def limit(self, *, tcp: bool, udp_plain: int, udp_max: int, tcp_max: int) -> int:
        """The response's size limit (respond._limit for this query)."""
        if tcp:
            return tcp_max
        if self.edns != NO_EDNS:
            return max(udp_plain, min(self.payload, udp_max))
        return udp_plain

    def key(self, zone: int, limit: int) -> Key:
        """What the response bytes depend on, besides the ID and the name's case: the zone as
        it is now, the name in lower case, the type, every header flag, the EDNS flags and the
        size limit (which decides truncation, and tells UDP from TCP)."""
        name = self.wire[_QUESTION : self.name_end].lower()
        return (zone, name, self.qtype, self.flags, self.edns, limit)

    def patch(self, cached: bytes) -> bytes:
        """A cached response made this query's own: its ID and its question's name as sent
        (resolvers check both; some randomise the name's case, draft-vixie-dnsext-dns0x20).
        Names elsewhere in the response point at the question's, so they follow it."""
        wire = self.wire
        return (
            wire[:2]
            + cached[2:_QUESTION]
            + wire[_QUESTION : self.name_end]
            + cached[self.name_end :]
        )


def read(wire: bytes) -> Question | None:
    """The query's question if it has the plain shape, else None."""
    if len(wire) < _QUESTION:
        return None
    _id, flags, qdcount, ancount, nscount, arcount = _HEADER.unpack_from(wire)
    if flags & (_QR | _OPCODE) or qdcount != 1 or ancount or nscount or arcount > 1:
        return None
    name = _read_name(wire)
    if name is None:
        return None
    end, labels = name
    if end + 4 > len(wire):
        return None
    qtype, qclass = _TYPE_CLASS.unpack_from(wire, end)
    if qclass != _IN or (dns.rdatatype.is_metatype(qtype) and qtype != _ANY):
        return None  # refused or not implemented: dnspython's path says which
    after = end + 4
    if arcount == 0:
        if after != len(wire):
            return None
        return Question(wire, end, labels, qtype, flags, NO_EDNS, 0)
    opt = _read_opt(wire, after)
    if opt is None:
        return None
    edns, payload = opt
    return Question(wire, end, labels, qtype, flags, edns, payload)


def _read_name(wire: bytes) -> tuple[int, tuple[bytes, ...]] | None:
    """Where the question's name ends and its labels, if it is written out in full."""
    labels: list[bytes] = []
    pos = _QUESTION
    size = len(wire)
    while pos < size:
        length = wire[pos]
        if length == 0:
            pos += 1
            if not labels or pos - _QUESTION > _MAX_NAME:
                return None  # the root (refused anyway) or too long: dnspython decides
            return pos, tuple(labels)
        if length > _MAX_LABEL:
            return None
        labels.append(wire[pos + 1 : pos + 1 + length])
        pos += 1 + length
    return None  # cut short


def _read_opt(wire: bytes, pos: int) -> tuple[int, int] | None:
    """The DO bit and Z flags and the payload size of an OPT of version 0 that is the last
    record of the query, owned by the root; its options must read as dnspython reads them."""
    if pos + 1 + _OPT_FIELDS.size > len(wire) or wire[pos] != 0:
        return None
    rtype, payload, ttl, rdlen = _OPT_FIELDS.unpack_from(wire, pos + 1)
    rdata = pos + 1 + _OPT_FIELDS.size
    # The TTL's high half holds the extended rcode and the version: both 0 in a plain query.
    if rtype != _OPT or ttl >> 16 or rdata + rdlen != len(wire):
        return None
    if rdlen and not _options_read(wire, payload, rdata, rdlen):
        return None
    return ttl & 0xFFFF, payload


def _options_read(wire: bytes, payload: int, start: int, length: int) -> bool:
    """Whether dnspython reads these options without error (a malformed cookie or client
    subnet is FORMERR on its path). They change nothing in the response: none is echoed."""
    try:
        dns.rdata.from_wire(dns.rdataclass.RdataClass.make(payload), _OPT, wire, start, length)
    except Exception:
        return False
    return True
