"""The entries of the last few zone texts read or made, so that a zone read, edited and read
again is not parsed again each time (`parse`), and so that `zones.save` can validate an
edited zone from its entries (`PARSED.get(...)[1]`: the owners the edit touched)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

from gatehouse.dns.text import Entry, normalise, parse_entries

# For a text made by an edit of a stored zone: the absolute owners the edit touched; None for
# a text read from elsewhere (it must be validated whole).
Touched = frozenset[str] | None


class ParseCache:
    """The entries of the last few zone texts parsed or produced here, keyed by the text
    itself (so a hit can never belong to another version of a zone). A DNS-01 client reads a
    zone, adds a record, reads it again and removes the record: on a 10,000-record zone each
    of those would otherwise parse the whole text again. `touched` marks texts this module
    made from a stored (valid) zone with every new line checked: save() then validates the
    zone's structure from the entries instead of re-reading the whole text with dnspython;
    `touched` (for those texts) names the owners whose records the edit changed, the only
    places where a zone-wide rule can newly fail."""

    def __init__(self, size: int = 4) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, str], tuple[tuple[Entry, ...], Touched]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, name: str, text: str) -> tuple[tuple[Entry, ...], Touched] | None:
        with self._lock:
            hit = self._items.get((name, text))
            if hit is not None:
                self._items.move_to_end((name, text))
            return hit

    def put(self, name: str, text: str, entries: Sequence[Entry], touched: Touched) -> None:
        with self._lock:
            self._items[(name, text)] = (tuple(entries), touched)
            self._items.move_to_end((name, text))
            while len(self._items) > self._size:
                self._items.popitem(last=False)


PARSED = ParseCache()


def parse(name: str, text: str) -> list[Entry]:
    """The zone's comments, control lines ($TTL, $ORIGIN, ...) and records, in order. Blank
    lines are not items. Records without an owner take the previous one; without a TTL,
    the last $TTL (else 14400). The entries may be shared with other callers: read them,
    never change them."""
    name = normalise(name)
    hit = PARSED.get(name, text)
    if hit is not None:
        return list(hit[0])
    entries = parse_entries(name, text)
    PARSED.put(name, text, entries, None)
    return entries
