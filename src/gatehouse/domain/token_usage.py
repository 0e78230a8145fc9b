"""What each API token has been used for: per function, the calls, the first and last time and
the last result (docs/governance.md, least privilege; issue 17 §2).

The token path stays read-only: a call is noted in this process's memory (`UsageRecorder.note`,
a dictionary update under a lock), and `gatehouse serve` writes what was noted to
`token_usage` every second (when anything was noted) in one transaction (`flush`), adding to
what other processes and nodes wrote. Memory is bounded (`MAX_PENDING` token-and-function
pairs; beyond them new pairs wait for the next write). A crash loses the last second of
counts — never a token's security state, which this record does not hold.

From the record, `suggest` computes the smallest ACL that covers what the token did: for each
function it called (successfully, or refused for a missing privilege), the privilege that
guards it — one of the alternatives when a function accepts several, preferring one already
chosen, then one the token holds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from gatehouse import acls
from gatehouse.store.rows import upsert
from gatehouse.store.schema import api_tokens, token_usage

FLUSH_INTERVAL = 1.0  # seconds between two writes of the noted calls (when there are any)
MAX_PENDING = 10_000  # token-and-function pairs held in memory before a write is due
OK = "ok"
FAILED = "failed"  # the function ran and refused (its own reason)


@dataclass(slots=True)
class _Pending:
    calls: int
    first: int
    last: int
    result: str


class UsageRecorder:
    """The calls noted in this process and not yet written."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Held by a write from its `take` to its commit, and by `recorded`: counts taken out
        # of memory are in the store by the time anyone reads both.
        self._writing = threading.Lock()
        # By token id AND creation time: SQLite gives a revoked token's id to the next token
        # made, and a revoked token's counts not yet written must not become the new one's.
        self._pending: dict[tuple[int, int, str], _Pending] = {}

    def note(self, token_id: int, created: int, function: str, now: int, result: str) -> None:
        """One call of `function` by the token (`created`: its creation time)."""
        key = (token_id, created, function[:100])
        with self._lock:
            seen = self._pending.get(key)
            if seen is None:
                if len(self._pending) >= MAX_PENDING:
                    return  # full until the next write: counts, not security, are lost
                self._pending[key] = _Pending(1, now, now, result)
            else:
                seen.calls += 1
                seen.last = now
                seen.result = result

    def pending_for(self, token_id: int, created: int) -> list[Use]:
        """This process's calls of the token not yet written (to show them at once)."""
        with self._lock:
            return [
                Use(function, item.calls, item.first, item.last, item.result)
                for (tid, made, function), item in self._pending.items()
                if tid == token_id and made == created
            ]

    def due(self) -> bool:
        return len(self._pending) >= MAX_PENDING // 2

    def take(self) -> dict[tuple[int, int, str], _Pending]:
        with self._lock:
            taken, self._pending = self._pending, {}
        return taken

    def flush(self, engine: sa.Engine) -> int:
        """Write what was noted (added to what is stored); the number of pairs written."""
        with self._writing:
            taken = self.take()
            if not taken:
                return 0
            try:
                return _write(engine, taken)
            except Exception:
                with self._lock:  # put the counts back for the next try
                    for key, item in taken.items():
                        seen = self._pending.get(key)
                        if seen is None:
                            self._pending[key] = item
                        else:
                            seen.calls += item.calls
                            seen.first = min(seen.first, item.first)
                raise

    def recorded(self, engine: sa.Engine, token_id: int, created: int) -> list[Use]:
        """The token's calls, written and noted here, each counted once: read while no write
        of this process is under way (one takes counts out of memory before its commit puts
        them in the store), on a connection of its own, so that its snapshot is taken now —
        not when the caller's transaction began."""
        with self._writing:
            pending = self.pending_for(token_id, created)
            with engine.connect() as conn:
                return uses(conn, token_id, pending)


WRITE_ATTEMPTS = 3


def _write(engine: sa.Engine, taken: Mapping[tuple[int, int, str], _Pending]) -> int:
    """Add the counts to the store's, for the tokens still there. A token revoked between the
    look at which are there and the insert (by another process or node: nothing locks the
    token rows, so a revoke never waits for usage counts) fails the insert on its foreign
    key; the write is then made again, without it."""
    for _ in range(WRITE_ATTEMPTS - 1):
        try:
            return _write_once(engine, taken)
        except sa.exc.IntegrityError:
            continue
    return _write_once(engine, taken)


def _write_once(engine: sa.Engine, taken: Mapping[tuple[int, int, str], _Pending]) -> int:
    with engine.begin() as conn:
        ids = sorted({token_id for token_id, _c, _f in taken})
        alive = {
            (int(row.id), int(row.create_time))
            for row in conn.execute(
                sa.select(api_tokens.c.id, api_tokens.c.create_time).where(api_tokens.c.id.in_(ids))
            )
        }
        rows = [
            {
                "token_id": token_id,
                "function": function,
                "calls": item.calls,
                "first_time": item.first,
                "last_time": item.last,
                "last_result": item.result,
            }
            for (token_id, created, function), item in sorted(taken.items())
            # A token revoked meanwhile: its counts go with it (not to a token given its id).
            if (token_id, created) in alive
        ]
        if not rows:
            return 0
        statement = upsert(engine, token_usage)
        excluded = statement.excluded
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=[token_usage.c.token_id, token_usage.c.function],
                set_={
                    "calls": token_usage.c.calls + excluded.calls,
                    "last_time": excluded.last_time,
                    "last_result": excluded.last_result,
                },
            ),
            rows,
        )
    return len(rows)


@dataclass(frozen=True, slots=True)
class Use:
    function: str
    calls: int
    first_time: int
    last_time: int
    last_result: str


def uses(conn: sa.Connection, token_id: int, pending: Iterable[Use] = ()) -> list[Use]:
    """The token's recorded calls with `pending` (this process's, not yet written) added, the
    most recent first."""
    rows = conn.execute(sa.select(token_usage).where(token_usage.c.token_id == token_id))
    found = {
        r.function: Use(
            r.function, int(r.calls), int(r.first_time), int(r.last_time), r.last_result
        )
        for r in rows
    }
    for extra in pending:
        known = found.get(extra.function)
        if known is None:
            found[extra.function] = extra
        else:
            found[extra.function] = Use(
                extra.function,
                known.calls + extra.calls,
                min(known.first_time, extra.first_time),
                max(known.last_time, extra.last_time),
                extra.last_result if extra.last_time >= known.last_time else known.last_result,
            )
    return sorted(found.values(), key=lambda u: (-u.last_time, u.function))


@dataclass(frozen=True, slots=True)
class Suggestion:
    acls: tuple[str, ...]  # the smallest ACL covering what the token did
    unused: tuple[str, ...]  # privileges the token holds that none of its calls needed
    missing: tuple[str, ...]  # privileges its refused calls lacked (in the suggestion)
    root_only: tuple[str, ...]  # functions only full access (`all`) may call


def suggest(
    used: Iterable[Use],
    guards: Callable[[str], tuple[str, ...] | None],
    held: frozenset[str],
) -> Suggestion:
    """`guards(function)`: the privileges of which the function needs one (empty: none; None:
    not a WHM function, ignored). `held`: the token's effective privileges."""
    chosen: list[str] = []
    missing: list[str] = []
    root_only: list[str] = []
    # Functions with one possible privilege first: a function that accepts several is then
    # covered by one already chosen when it can be (generatessl's `ssl` for installssl's).
    guarded = [(use, guards(use.function)) for use in used]
    for use, needed in sorted(guarded, key=lambda g: (len(g[1] or ()), g[0].function)):
        if not needed:
            continue
        if needed == (acls.ALL,):
            root_only.append(use.function)
            continue
        if any(p in chosen for p in needed):
            continue
        pick = next((p for p in needed if p in held), needed[0])
        chosen.append(pick)
        if use.last_result == "missing_privilege" and pick not in held:
            missing.append(pick)
    if root_only:
        chosen = [acls.ALL]
    suggestion = tuple(acls.ordered(chosen))
    unused = tuple(acls.ordered(p for p in held if p not in suggestion and acls.ALL not in chosen))
    return Suggestion(suggestion, unused, tuple(acls.ordered(missing)), tuple(root_only))
