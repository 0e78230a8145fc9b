"""listaccts without options, fast: every account the caller sees, as the bytes of `data`
(`{"acct":[…]}`), each entry's encoded bytes kept from one call to the next.

An entry is a function of its account's row (domain/account_listing.py reads the columns an
entry shows, the package settings as their stored text), of the server's main address and
of the local time zone (`startdate`). So an entry encoded once is reused for as long as its
row is equal — any change to what the entry shows changes the row — and the address and zone
are the same; otherwise it is built again by the general builder (listaccts'
`account_entry`), so the two ways cannot differ. Entries are joined in username order, as
listaccts sorts them; `envelope.Encoded` puts the bytes into the answer as they are, which is
byte for byte what encoding the list of entry dicts gives (tests/test_listaccts_fast.py).

The cache is per process (each worker keeps its own): for 10,000 accounts about 10 MB (the
encoded entries, ~900 bytes each, and their rows). A listing of every account (root,
unscoped) keeps exactly the accounts it listed, so deleted accounts leave; a reseller's
listing adds and refreshes its own. Past MAX_CACHED entries it starts again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from gatehouse.api import envelope
from gatehouse.domain.account_listing import ID, USERNAME, Listed

MAX_CACHED = 200_000

Builder = Callable[[Any, str], dict[str, Any]]
_Cache = dict[int, tuple[Any, bytes]]

# (what every entry also depends on, id → (row, encoded entry)); replaced, never mutated in
# place while another thread may read it, except for adding and refreshing entries.
_state: tuple[tuple[Any, ...], _Cache] = ((), {})

_by_username = itemgetter(USERNAME)


def _context(server_ip: str) -> tuple[Any, ...]:
    return (server_ip, time.timezone, time.altzone, time.daylight, time.tzname)


def encoded(
    rows: list[tuple[Any, ...]], complete: bool, server_ip: str, build: Builder
) -> bytes | None:
    """`{"acct":[…]}` for `rows` (domain/account_listing.visible_raw; sorted here in place),
    or None when an entry holds text UTF-8 cannot carry (the general way then escapes the
    whole answer). `complete`: the rows are every account of the store."""
    global _state
    rows.sort(key=_by_username)
    context = _context(server_ip)
    known_context, cache = _state
    if known_context != context:
        cache = {}
    kept: _Cache = {} if complete else cache
    # Accounts of one package share their settings' text: kept once, not once per account.
    texts: dict[Any, Any] = {}
    parts = []
    get = cache.get
    for row in rows:
        hit = get(row[ID])
        if hit is None or hit[0] != row:
            listed = Listed._make(row)
            text = listed.limits_text
            listed = listed._replace(limits_text=texts.setdefault(text, text))
            try:
                hit = (tuple(listed), envelope.encode(build(listed, server_ip)))
            except UnicodeEncodeError:
                return None
            kept[row[ID]] = hit
        elif complete:
            kept[row[ID]] = hit
        parts.append(hit[1])
    if len(kept) > MAX_CACHED:
        kept = {}
    _state = (context, kept)
    if not parts:
        return b'{"acct":[]}'
    # One copy of the entries: the brackets go on the first and last (whm1 copies once more).
    parts[0] = b'{"acct":[' + parts[0]
    parts[-1] = parts[-1] + b"]}"
    return b",".join(parts)


def clear() -> None:
    """Forget every encoded entry (tests)."""
    global _state
    _state = ((), {})
