"""New tokens waiting for their one view (Generate Token → the "created" page).

Process memory only, never a URL, a log, a cookie or the store: keyed by session, gone after
its one view, at log out, or after ten minutes.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from gatehouse.auth.authenticator import Principal

PENDING_TTL = 10 * 60  # a new token waits this long, server-side, for its one view


class PendingTokens:
    def __init__(self) -> None:
        # session id → (deadline, the new token's details)
        self._pending: dict[int, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def put(self, principal: Principal, token: dict[str, Any]) -> None:
        assert principal.session is not None
        with self._lock:
            self._expire()
            self._pending[principal.session.id] = (time.monotonic() + PENDING_TTL, token)

    def take(self, principal: Principal) -> dict[str, Any] | None:
        """The session's new token, once."""
        assert principal.session is not None
        with self._lock:
            self._expire()
            entry = self._pending.pop(principal.session.id, None)
        return entry[1] if entry else None

    def _expire(self) -> None:
        now = time.monotonic()
        for key in [k for k, (deadline, _) in self._pending.items() if deadline < now]:
            del self._pending[key]
