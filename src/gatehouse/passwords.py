"""Password hashing (Argon2id) and a verification cache that keeps Basic auth cheap.

Verifying an Argon2 hash costs ~155 ms by design, so it must not run on every request of a
client that sends Basic auth each time. A successful verification is remembered under an
HMAC of (username, password, stored hash) with a random key that lives only in this process's
memory: the next request with the same password against the same stored hash skips Argon2.
Changing the password changes the stored hash, which makes every remembered entry miss.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from gatehouse.errors import InvalidParameter
from gatehouse.password_strength import MAX_STRENGTH, password_strength

MIN_PASSWORD = 8
MAX_PASSWORD = 1024


def check_password(password: str) -> None:
    """The rule every new password meets, whoever sets it (WHM API, the command line)."""
    if len(password) < MIN_PASSWORD:
        raise InvalidParameter(f"The password must contain at least {MIN_PASSWORD} characters.")
    if len(password) > MAX_PASSWORD:
        raise InvalidParameter(f"The password may contain at most {MAX_PASSWORD} characters.")


# Argon2id's cost for new hashes (GATEHOUSE_PASSWORD_HASHING, docs/security.md#passwords).
# A hash carries its own parameters, so every stored hash verifies whichever is in use.
PROFILES = {
    # argon2-cffi's default, RFC 9106's low-memory choice: 64 MiB, 3 passes, 4 lanes.
    "rfc9106": PasswordHasher(),
    # OWASP's Password Storage Cheat Sheet minimum for Argon2id: 19 MiB, 2 passes, 1 lane.
    "owasp": PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1),
}
DEFAULT_PROFILE = "rfc9106"
_hasher = PROFILES[DEFAULT_PROFILE]


def use_profile(name: str) -> None:
    """The cost of the hashes this process makes from now on (one of PROFILES)."""
    global _hasher  # one setting for the process, read on every hash
    _hasher = PROFILES[name]


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    if not stored_hash:
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def generate_password(length: int = 24) -> str:
    """A random password that rates 100 on cPanel's meter, so it meets any minimum strength
    (24 of these 57 characters all but always do at once; cPanel's createacct draws again
    too, Whostmgr/Accounts/Create/Utils.pm get_password)."""
    if length < 16:
        raise ValueError("a generated password has at least 16 characters")
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(length))
        if password_strength(password) == MAX_STRENGTH:
            return password


class VerifiedPasswordCache:
    """Remembers recent successful verifications; bounded in size and age."""

    def __init__(self, max_entries: int = 10_000, ttl_seconds: float = 300.0) -> None:
        self._key = secrets.token_bytes(32)
        self._entries: OrderedDict[bytes, float] = OrderedDict()
        self._max = max_entries
        self._ttl = ttl_seconds
        self._lock = threading.Lock()

    def _fingerprint(self, username: str, password: str, stored_hash: str) -> bytes:
        message = b"\0".join(
            s.encode("utf-8", "surrogatepass") for s in (username, password, stored_hash)
        )
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def remembers(self, username: str, stored_hash: str | None, password: str) -> bool:
        """True when this exact check succeeded recently; never runs Argon2."""
        if not stored_hash:
            return False
        fp = self._fingerprint(username, password, stored_hash)
        with self._lock:
            seen = self._entries.get(fp)
            return seen is not None and time.monotonic() - seen < self._ttl

    def verify(self, username: str, stored_hash: str | None, password: str) -> bool:
        if not stored_hash:
            return False
        if self.remembers(username, stored_hash, password):
            return True
        fp = self._fingerprint(username, password, stored_hash)
        now = time.monotonic()
        if not verify_password(stored_hash, password):
            return False
        with self._lock:
            self._entries[fp] = now
            self._entries.move_to_end(fp)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return True
