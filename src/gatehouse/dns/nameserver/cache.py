"""The response cache: whole response messages, as sent, by what they depend on.

Keys start with the generation of the zone the store named for that very question
(`HostedZone.generation`, 0 when no hosted zone holds the name), so an entry can only be
found again while that zone is unchanged; entries of a zone's older versions are never hit
again and leave as the least recently used. Bounded in entries and in bytes."""

from __future__ import annotations

from collections import OrderedDict

from gatehouse.dns.nameserver.wirequery import Key

# What an entry costs beyond its response and name bytes: the key tuple, the two bytes
# objects and the ordered dictionary's slot (about 290 bytes under tracemalloc), so that the
# byte bound holds for many small answers too.
ENTRY_OVERHEAD = 320
# About 25 MB at the typical 100-300 bytes an answer; 32 MiB caps fewer, larger ones.
MAX_ENTRIES = 50_000
MAX_BYTES = 32 * 1024 * 1024


class ResponseCache:
    def __init__(self, *, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._entries: OrderedDict[Key, bytes] = OrderedDict()
        self.bytes = 0  # the measure of memory the bound applies to

    def get(self, key: Key) -> bytes | None:
        response = self._entries.get(key)
        if response is not None:
            self._entries.move_to_end(key)
        return response

    def put(self, key: Key, response: bytes) -> None:
        cost = _cost(key, response)
        if cost > self._max_bytes or self._max_entries < 1:
            return  # would push everything else out, and still not fit
        old = self._entries.pop(key, None)
        if old is not None:
            self.bytes -= _cost(key, old)
        self._entries[key] = response
        self.bytes += cost
        while len(self._entries) > self._max_entries or self.bytes > self._max_bytes:
            evicted_key, evicted = self._entries.popitem(last=False)
            self.bytes -= _cost(evicted_key, evicted)

    def clear(self) -> None:
        self._entries.clear()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._entries)


def _cost(key: Key, response: bytes) -> int:
    return ENTRY_OVERHEAD + len(response) + len(key[1])
