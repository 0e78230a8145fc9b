"""The SOA serial: the next one (YYYYMMDDNN) and setting it in a zone's text or entries,
every other byte kept."""

from __future__ import annotations

import time
from collections.abc import Sequence

from gatehouse.dns.errors import InvalidZone
from gatehouse.dns.parsed import parse
from gatehouse.dns.text import Entry, scan


def next_serial(current: int, now: int) -> int:
    """YYYYMMDDNN (UTC), never going backwards: today's first serial, or current + 1."""
    today = int(time.strftime("%Y%m%d", time.gmtime(now))) * 100 + 1
    return max(today, current + 1)


def soa_entry(name: str, text: str) -> Entry | None:
    for e in parse(name, text):
        if e.kind == "record" and e.record_type == "SOA":
            return e
    return None


def set_serial(name: str, text: str, serial: int) -> str:
    """The text with the SOA's serial replaced in place (every other byte kept)."""
    entry = soa_entry(name, text)
    if entry is None or len(entry.tokens) < 3:
        raise InvalidZone(f"The DNS zone “{name}” has no valid SOA record.")
    token = entry.tokens[2]
    raw = entry.raw[: token.start] + str(serial) + entry.raw[token.end :]
    lines = text.split("\n")
    lines[entry.line_index : entry.line_index + entry.line_count] = raw.split("\n")
    return "\n".join(lines)


def with_serial(name: str, entries: list[Entry], serial: int) -> list[Entry]:
    """The entries with the SOA's serial replaced in its raw text (every other byte kept)."""
    for i, entry in enumerate(entries):
        if entry.kind == "record" and entry.record_type == "SOA":
            tokens, _depth = scan(entry.raw)
            data_tokens = tokens[len(tokens) - len(entry.data) :]
            if len(data_tokens) < 3:
                break
            token = data_tokens[2]
            raw = entry.raw[: token.start] + str(serial) + entry.raw[token.end :]
            data = list(entry.data)
            data[2] = str(serial)
            new_tokens, _depth = scan(raw)
            soa = Entry("record", entry.line_index, entry.line_count, raw, entry.dname, entry.ttl)
            soa.record_type, soa.data = "SOA", data
            soa.tokens = new_tokens[len(new_tokens) - len(data) :]
            entries[i] = soa
            return entries
    raise InvalidZone(f"The DNS zone “{name}” has no valid SOA record.")


def join_soa(text: str, entries: Sequence[Entry]) -> str:
    """`text` with the SOA entry's lines replaced by its (new) raw text."""
    for entry in entries:
        if entry.kind == "record" and entry.record_type == "SOA":
            lines = text.split("\n")
            lines[entry.line_index : entry.line_index + entry.line_count] = entry.raw.split("\n")
            return "\n".join(lines)
    return text
