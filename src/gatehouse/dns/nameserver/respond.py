"""From a query's bytes to the response's bytes: parse with dnspython, apply the rules of
an authoritative-only server (what it refuses, what it does not implement), resolve in the
hosted zone and fit the response into the transport's size limit (RFC 1035, RFC 6891).

A query of the plain shape (wirequery) is read by hand, its zone looked up in the store as
for any question, and its response taken from the response cache when that zone has not
changed since the response was made; else made as above and kept there."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import NamedTuple, Protocol

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from gatehouse.dns.nameserver import wirequery
from gatehouse.dns.nameserver.answer import Answer, resolve
from gatehouse.dns.nameserver.cache import ResponseCache
from gatehouse.dns.nameserver.hosted import HostedZone, ZoneError
from gatehouse.dns.nameserver.zonesource import BrokenZone, candidates, plain_candidates

log = logging.getLogger("gatehouse.dns.nameserver")

UDP_PLAIN = 512  # RFC 1035 §4.2.1: without EDNS
# The largest UDP response we send, and the size we advertise: 1232 bytes fits a 1280-byte
# IPv6 minimum MTU without fragmentation (DNS Flag Day 2020).
UDP_EDNS_MAX = 1232
TCP_MAX = 65535  # RFC 1035 §4.2.2: the two-byte length prefix
_LOG_EVERY = 10.0  # seconds between two logged failures, so an outage cannot flood the log


class Zones(Protocol):
    def find(self, qname: dns.name.Name, *, parent_side: bool = False) -> HostedZone | None: ...

    def find_names(self, names: list[str], *, parent_side: bool = False) -> HostedZone | None: ...

    @property
    def batches(self) -> bool: ...

    def prefetch(self, asked: list[list[str]]) -> AbstractContextManager[None]: ...

    def close(self) -> None: ...


# How the zone of a question is found: the store asked then, or the result of asking it
# already (the fast path asks first, to know which cached responses are current).
Lookup = Callable[[dns.name.Name, bool], HostedZone | None]


class _Outcome(NamedTuple):
    reply: bytes | None
    answer: Answer | None  # the answer it carries, when the question was resolved
    made: bool  # made by the normal path, not a FORMERR, SERVFAIL or the like after an error


class _Found(NamedTuple):
    """The zone the store named for a question, or what finding it raised."""

    zone: HostedZone | None
    error: Exception | None

    def lookup(self, _qname: dns.name.Name, _parent_side: bool) -> HostedZone | None:
        if self.error is not None:
            raise self.error
        return self.zone


class Responder:
    def __init__(self, zones: Zones, cache: ResponseCache | None = None) -> None:
        self._zones = zones
        self._cache = cache if cache is not None else ResponseCache()
        self._last_logged = 0.0
        self._unlogged = 0

    def close(self) -> None:
        """Release the store connection of the zones."""
        self._zones.close()

    @property
    def batches(self) -> bool:
        """Whether `respond_all` is worth calling with every query that is waiting."""
        return self._zones.batches

    def respond_all(self, wires: list[bytes], *, tcp: bool) -> list[bytes | None]:
        """`respond` to each of `wires` (queries that arrived together), their zones looked
        up in the store together: one round trip for all of them rather than one each."""
        questions = [_read(wire) for wire in wires]
        candidates_of = [plain_candidates(q.labels) for q in questions if q is not None]
        with self._zones.prefetch([names for names in candidates_of if names is not None]):
            return [
                self._respond_read(wire, question, tcp)
                for wire, question in zip(wires, questions, strict=True)
            ]

    def respond(self, wire: bytes, *, tcp: bool) -> bytes | None:
        """The response to send, or None to send nothing. Never raises."""
        return self._respond_read(wire, _read(wire), tcp)

    def _respond_read(
        self, wire: bytes, question: wirequery.Question | None, tcp: bool
    ) -> bytes | None:
        """`respond`, the query's plain shape already read (None: not of that shape)."""
        if question is not None:
            try:
                return self._respond_cached(question, tcp=tcp)
            except Exception:  # the cache's own fault: answer without it
                self._log_failure("response cache")
        return self._respond_wire(wire, tcp, self._find).reply

    def _respond_cached(self, question: wirequery.Question, *, tcp: bool) -> bytes | None:
        """The response from the cache if the zone the store names now is the one it was made
        from, else made (by dnspython's path, with the zone already found) and kept."""
        found = self._find_question(question)
        if found.error is not None:
            return self._respond_wire(question.wire, tcp, found.lookup).reply
        generation = found.zone.generation if found.zone is not None else 0
        limit = question.limit(tcp=tcp, udp_plain=UDP_PLAIN, udp_max=UDP_EDNS_MAX, tcp_max=TCP_MAX)
        key = question.key(generation, limit)
        cached = self._cache.get(key)
        if cached is not None:
            return question.patch(cached)
        outcome = self._respond_wire(question.wire, tcp, found.lookup)
        if outcome.reply is not None and _cacheable(outcome, found.zone, generation):
            self._cache.put(key, outcome.reply)
        return outcome.reply

    def _find_question(self, question: wirequery.Question) -> _Found:
        parent_side = question.qtype == dns.rdatatype.DS
        try:
            names = plain_candidates(question.labels)
            if names is None:
                names = candidates(dns.name.Name((*question.labels, b"")))
            return _Found(self._zones.find_names(names, parent_side=parent_side), None)
        except Exception as exc:  # raised again where dnspython's path asks for the zone
            return _Found(None, exc)

    def _find(self, qname: dns.name.Name, parent_side: bool) -> HostedZone | None:
        return self._zones.find(qname, parent_side=parent_side)

    def _respond_wire(self, wire: bytes, tcp: bool, lookup: Lookup) -> _Outcome:
        try:
            query = dns.message.from_wire(wire, continue_on_error=True)
        except dns.exception.DNSException:
            return _Outcome(None, None, False)  # not even a header (ShortHeader): nobody to answer
        except Exception:
            self._log_failure("unreadable packet")
            return _Outcome(None, None, False)
        if query.flags & dns.flags.QR:
            return _Outcome(None, None, False)  # a response sent to us: could start a loop
        if query.errors:
            rcode = dns.rcode.FORMERR
            if any(isinstance(e.exception, dns.message.UnknownTSIGKey) for e in query.errors):
                rcode = dns.rcode.NOTAUTH  # RFC 8945 §5.2: signed with a key we do not have
            return _Outcome(_header_only(query, rcode), None, False)
        try:
            response, answer = self._respond(query, lookup)
            return _Outcome(_to_wire(response, answer, _limit(query, tcp=tcp)), answer, True)
        except Unsendable as exc:
            # Known, and the same for every query of that name: no traceback to read.
            self._log_failure(f"{_describe(query)}: {exc}", trace=False)
        except Exception:
            self._log_failure(_describe(query))
        try:
            response = dns.message.make_response(query, our_payload=UDP_EDNS_MAX, pad=0)
            response.set_rcode(dns.rcode.SERVFAIL)
            return _Outcome(response.to_wire(max_size=_limit(query, tcp=tcp)), None, False)
        except Exception:
            return _Outcome(_header_only(query, dns.rcode.SERVFAIL), None, False)

    def _respond(
        self, query: dns.message.Message, lookup: Lookup
    ) -> tuple[dns.message.Message, Answer | None]:
        response = dns.message.make_response(query, our_payload=UDP_EDNS_MAX, pad=0)
        if query.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)  # NOTIFY, UPDATE, ...: not offered
            return response, None
        if query.edns > 0:
            response.set_rcode(dns.rcode.BADVERS)  # RFC 6891 §6.1.3: we speak version 0
            return response, None
        if len(query.question) != 1:
            # Echoing 100 questions could not fit a datagram: a FORMERR echoes none of them.
            response.question = []
            response.set_rcode(dns.rcode.FORMERR)
            return response, None
        question = query.question[0]
        qname, qtype = question.name, question.rdtype
        if question.rdclass != dns.rdataclass.IN:
            response.set_rcode(dns.rcode.REFUSED)  # CH, HS, ANY: no zones there
            return response, None
        if qtype in (dns.rdatatype.AXFR, dns.rdatatype.IXFR):
            response.set_rcode(dns.rcode.REFUSED)  # zone transfers are not offered
            return response, None
        if qtype == dns.rdatatype.OPT:
            response.set_rcode(dns.rcode.FORMERR)  # RFC 6891 §6.1.1: OPT is not a QTYPE
            return response, None
        if dns.rdatatype.is_metatype(qtype) and qtype != dns.rdatatype.ANY:
            response.set_rcode(dns.rcode.NOTIMP)  # TKEY, TSIG, MAILA, MAILB
            return response, None
        try:
            zone = lookup(qname, qtype == dns.rdatatype.DS)
        except BrokenZone:
            response.set_rcode(dns.rcode.SERVFAIL)
            return response, None
        if zone is None:
            response.set_rcode(dns.rcode.REFUSED)  # not ours: we are no resolver
            return response, None
        try:
            answer = resolve(zone, qname, qtype)
        except ZoneError as exc:
            # A record read on first use did not load, nor did the whole text: the zone was
            # not written through zones.save. Logged once per version, like BrokenZone.
            if exc.first:
                log.error("zone %s does not load: SERVFAIL (%s)", zone.origin, exc)
            response.set_rcode(dns.rcode.SERVFAIL)
            return response, None
        response.set_rcode(answer.rcode)
        if answer.authoritative:
            response.flags |= dns.flags.AA
        response.answer = answer.answer
        response.authority = answer.authority
        response.additional = answer.additional
        return response, answer

    def _log_failure(self, what: str, *, trace: bool = True) -> None:
        now = time.monotonic()
        if now - self._last_logged < _LOG_EVERY:
            self._unlogged += 1
            return
        suppressed = f" ({self._unlogged} more since the last report)" if self._unlogged else ""
        log.error("DNS query failed, answered SERVFAIL: %s%s", what, suppressed, exc_info=trace)
        self._last_logged = now
        self._unlogged = 0


def _cacheable(outcome: _Outcome, zone: HostedZone | None, generation: int) -> bool:
    """Whether a response may be given again, its ID and name's case patched, to the same
    question while `zone` keeps `generation`."""
    if not outcome.made:
        return False  # SERVFAIL after an error: the next question should try again
    if zone is None:
        return True  # REFUSED: no hosted zone holds the name (the store said so just now)
    if outcome.answer is None or zone.generation != generation:
        return False  # not resolved (SERVFAIL), or the zone was read again meanwhile
    # A CNAME synthesized from a DNAME (RFC 6672) carries the name's own labels, in the case
    # they were sent, outside the question: that case cannot be patched in.
    return all(rrset.rdtype != dns.rdatatype.DNAME for rrset in outcome.answer.answer)


def _describe(query: dns.message.Message) -> str:
    if len(query.question) == 1:
        q = query.question[0]
        return f"{q.name} {dns.rdatatype.to_text(q.rdtype)}"
    return f"{len(query.question)} questions"


def _limit(query: dns.message.Message, *, tcp: bool) -> int:
    if tcp:
        return TCP_MAX
    if query.edns >= 0:
        return max(UDP_PLAIN, min(query.payload, UDP_EDNS_MAX))
    return UDP_PLAIN


class Unsendable(Exception):
    """A response that cannot be put on the wire at any size: a stored record whose data is
    over 65,535 bytes (RDLENGTH is 16 bits). `zones.save` refuses one (`dns/validate.py`);
    a zone stored before that, or written to the store by hand, may still hold one."""


def _to_wire(response: dns.message.Message, answer: Answer | None, limit: int) -> bytes:
    try:
        return _fit(response, answer, limit)
    except dns.exception.FormError:  # dnspython's word for a length that overflows its field
        raise Unsendable("a record's data is over 65,535 bytes") from None


def _fit(response: dns.message.Message, answer: Answer | None, limit: int) -> bytes:
    """The response within `limit` bytes. What does not fit: first the additional section
    goes (RFC 2181 §9, unless it holds required glue, RFC 9471), then everything but the
    question, with TC set so the client asks again over TCP (RFC 1035 §4.2.1, RFC 7766)."""
    try:
        return response.to_wire(max_size=limit)
    except dns.exception.TooBig:
        pass
    if answer is not None and response.additional and not answer.glue_required:
        response.additional = []
        try:
            return response.to_wire(max_size=limit)
        except dns.exception.TooBig:
            pass
    response.answer = []
    response.authority = []
    response.additional = []
    response.flags |= dns.flags.TC
    return response.to_wire(max_size=limit)


def _read(wire: bytes) -> wirequery.Question | None:
    """The query read by hand, when it has the plain shape; else None."""
    try:
        return wirequery.read(wire)
    except Exception:  # a reader's bug must not cost the answer: dnspython's path decides
        return None


def _header_only(query: dns.message.Message, rcode: dns.rcode.Rcode) -> bytes | None:
    """A reply echoing only the header (ID, opcode, RD) when the rest cannot be trusted."""
    try:
        response = dns.message.Message(id=query.id)
        response.flags = dns.flags.QR | (query.flags & dns.flags.RD)
        response.set_opcode(query.opcode())
        response.set_rcode(rcode)
        return response.to_wire()
    except Exception:
        return None
