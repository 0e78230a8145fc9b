"""Decide who a request is: token, password or session → a Principal, or a Denial with a reason.

The token path is the hot path of the whole product: one indexed lookup by digest (the
database compares digests of the secret, so timing reveals nothing usable about the secret),
no writes except a throttled last-use update, and no Argon2.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa

from gatehouse.auth import token_cache
from gatehouse.auth.header import Credential, Malformed, PasswordCredential, TokenCredential
from gatehouse.auth.token_cache import TokenCache
from gatehouse.domain import (
    accesshash,
    audit,
    privileges,
    sessions,
    settings,
    token_rate,
    tokens,
    users,
)
from gatehouse.domain.cphulk import attempts, gates, ranges
from gatehouse.domain.tokens import Token
from gatehouse.domain.users import User
from gatehouse.passwords import VerifiedPasswordCache, hash_password, verify_password

LAST_USE_INTERVAL = 60  # seconds between two last-used writes for one token
NOTED_PEERS = 16  # addresses per token a process remembers having recorded
USER_KEY = "user:"  # cache keys of users: never a hex digest
RATE_LIMITED = "token_rate_limited"  # a valid token over its requests per minute: HTTP 429


def rate_limited(denial: Denial) -> tuple[str, list[tuple[bytes, bytes]]] | None:
    """For a token over its rate limit: the reason every face answers with (HTTP 429) and
    the Retry-After header; None for any other refusal."""
    if denial.retry_after is None:
        return None
    reason = (
        "Too many requests with this API token: it is limited to a number of requests per "
        f"minute. Try again in {denial.retry_after} seconds."
    )
    return reason, [(b"retry-after", str(denial.retry_after).encode())]


GATE_KEY = "cphulk:gate"  # cache key of cPHulk's settings, lists and blocks
_Cached = TypeVar("_Cached", "_Grant", User, gates.Gate)

# Refusals that are not a wrong credential: cPHulk does not count them (a valid token used
# from an address it does not allow, a suspended user, a stale browser session, or a refusal
# made by cPHulk itself).
log = logging.getLogger("gatehouse.auth")
# Seconds a call that changed authentication waits for every listener to acknowledge it
# (PostgreSQL): milliseconds as a rule; bounded so that a stuck node never fails a call.
ACKNOWLEDGEMENT_WAIT = 1.0

NOT_COUNTED = frozenset(
    {
        "no_credentials",
        "token_path_forbidden",
        "token_wrong_service",
        "token_expired",
        "ip_not_allowed",
        "user_suspended",
        "login_not_allowed",
        "accesshash_disabled",
        "whm_credential_on_cpanel",
        "session_invalid",
        "session_login_invalid",
        "token_rate_limited",
        gates.BLACKLISTED,
        gates.BLOCKED,
        gates.USER_LOCKED,
        gates.LIMIT_REACHED,
    }
)
WHM_SERVICE = "whostmgrd"
CPANEL_SERVICE = "cpaneld"
QUIET_ENTRIES = 100_000  # bound on the remembered "already audited" refusals

# A cPanel token is good only for the cPanel face's API paths (whm-reference §2.2). Presented
# anywhere else, a VALID one is refused with 403 and this text (cpsrvd::Forbidden); an invalid
# one is refused as any bad credential is (401).
TOKEN_PATH_FORBIDDEN = "token_path_forbidden"  # the Denial reason (audit trail)
TOKEN_PATHS_ONLY = "Token authentication allows access to UAPI or API 2 calls only."


@dataclass(frozen=True, slots=True)
class Principal:
    user: User
    method: str  # token | password | session | local | accesshash | whm (see `via`)
    privileges: frozenset[str]
    token: Token | None = None
    session: sessions.ActiveSession | None = None
    # The WHM user (root or a reseller) acting as this cPanel account through WHM's `cpanel`
    # function; None when the account itself called.
    via: str | None = None

    @property
    def token_name(self) -> str | None:
        return self.token.name if self.token else None


@dataclass(frozen=True, slots=True)
class Denial:
    reason: str  # precise reason code; recorded in the audit trail, never shown to the caller
    username: str | None = None
    token_name: str | None = None
    tracked: bool = False  # cPHulk has counted it already (a password check it admitted)
    quiet: bool = False  # a refusal by a block this process has audited already
    retry_after: int | None = None  # seconds, for a token over its rate limit (HTTP 429)


def _whm_refusal(user: User) -> str | None:
    """Why `user` may not use WHM now (a reason code), or None. One order for every
    credential — token, access hash, password, session — so the audit reason never depends on
    how the user authenticated."""
    if user.suspended:
        return "user_suspended"
    if not user.may_use_whm:
        return "login_not_allowed"
    return None


def _cpanel_refusal(user: User) -> str | None:
    """Why `user` may not use the cPanel face now (a reason code), or None."""
    if not user.has_cpanel_account:
        return "login_not_allowed"
    if user.suspended:
        return "user_suspended"
    return None


@dataclass(frozen=True, slots=True)
class _Grant:
    """A token as read from the store, with every check that depends on the store alone
    already decided, for each face. Cached as it is (TokenCache): any change that could alter
    one of these verdicts moves the store's auth generation, which drops the cache."""

    digest: str  # the secret's digest: what names this token for ever (its id may be reused)
    token: Token
    owner: User
    whm: Principal | Denial  # as a `whm` token on WHM
    cpanel: Principal | Denial  # as a `cpanel` token on the cPanel face

    @classmethod
    def decide(cls, digest: str, token: Token, owner: User) -> _Grant:
        def refusal(service: str, refuse: Callable[[User], str | None]) -> Denial | None:
            reason = "token_wrong_service" if token.service != service else refuse(owner)
            if reason is None:
                return None
            return Denial(reason, username=owner.username, token_name=token.name)

        whm = refusal(tokens.WHOSTMGR, _whm_refusal) or Principal(
            user=owner,
            method="token",
            privileges=privileges.effective(owner.privileges, token.acls),
            token=token,
        )
        cpanel = refusal(tokens.CPANEL, _cpanel_refusal) or Principal(
            user=owner, method="token", privileges=frozenset(), token=token
        )
        return cls(digest, token, owner, whm, cpanel)


class Authenticator:
    def __init__(
        self,
        engine: sa.Engine,
        clock: Callable[[], float] = time.time,
        *,
        cache_tokens: bool = False,
        session_idle_timeout: int = sessions.IDLE_TIMEOUT,
        trusted: tuple[str, ...] = (),
        own_addresses: tuple[str, ...] = (),
        shared_path: Path | None = None,
    ) -> None:
        """`shared_path`: see TokenCache (the processes of one node share it).
        `own_addresses`: the server's own (GATEHOUSE_IPS), of local origin for cPHulk as
        loopback is."""
        self._engine = engine
        # The reads of a cache miss, on PostgreSQL without a transaction: each is one statement
        # (a snapshot of its own), and a transaction would add a BEGIN and a ROLLBACK round
        # trip to each — what every worker of every node pays after a revoke.
        self._reads = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else engine
        )
        # Addresses white-listed by configuration (GATEHOUSE_CPHULK_TRUSTED), beside the list.
        self._trusted = tuple(ranges.parse(text) for text in trusted)
        self._local = gates.LOOPBACK + tuple(ranges.parse(text) for text in own_addresses)
        self._quiet_until: dict[str, int] = {}
        self._quiet_lock = threading.Lock()
        self.session_idle_timeout = session_idle_timeout
        # Tokens by digest (lower-case hex) and users by USER_KEY + name, in one cache.
        self.cache: TokenCache[_Grant | User | gates.Gate] | None = (
            TokenCache(engine, shared_path=shared_path, gate_keys=frozenset({GATE_KEY}))
            if cache_tokens
            else None
        )
        self._clock = clock
        self._password_cache = VerifiedPasswordCache()
        self._last_use: dict[str, int] = {}
        # The addresses this process has recorded per token (at most NOTED_PEERS each): a new
        # one is written at once, not a minute later (domain/notices.py tells of it).
        self._peers: dict[str, set[str]] = {}
        self._last_use_lock = threading.Lock()
        # Verified against when the user does not exist, so that an unknown user costs
        # the same Argon2 time as a wrong password.
        self._dummy_hash = hash_password("gatehouse-dummy-password")

    def now(self) -> int:
        return int(self._clock())

    # -- credentials -------------------------------------------------------------------

    def authenticate(self, credential: Credential, peer: str | None) -> Principal | Denial:
        """Who a request to WHM (2086, 2087, the WHM pages) is."""
        refused = self._gatekeep(peer, credential)
        if refused is not None:
            return refused
        if isinstance(credential, Malformed):
            return Denial(credential.reason, username=credential.username)
        if isinstance(credential, TokenCredential):
            if credential.scheme == "cpanel":
                return self._cpanel_token_on_whm(credential, peer)
            return self._token(credential, peer)
        return self._password(credential, peer, WHM_SERVICE)

    def authenticate_cpanel(self, credential: Credential, peer: str | None) -> Principal | Denial:
        """Who a request to the cPanel face (2082, 2083) is: a cPanel account, by one of its
        `cpanel` tokens or its password. WHM credentials (a `whm` token, an access hash) are
        not accepted there, as cpsrvd accepts them only on WHM's ports."""
        refused = self._gatekeep(peer, credential)
        if refused is not None:
            return refused
        if isinstance(credential, Malformed):
            return Denial(credential.reason, username=credential.username)
        if isinstance(credential, TokenCredential):
            if credential.scheme != "cpanel":
                return Denial("whm_credential_on_cpanel", username=credential.username)
            return self._cpanel_token(credential, peer)
        return self._password(credential, peer, CPANEL_SERVICE, cpanel=True)

    def _cpanel_token_on_whm(self, credential: TokenCredential, peer: str | None) -> Denial:
        found = self._cpanel_token(credential, peer, note_use=False)
        if isinstance(found, Denial):
            return found
        return Denial(
            TOKEN_PATH_FORBIDDEN, username=credential.username, token_name=found.token_name
        )

    def _cpanel_token(
        self, credential: TokenCredential, peer: str | None, *, note_use: bool = True
    ) -> Principal | Denial:
        grant = self._grant(tokens.digest(credential.secret))
        if grant is None:
            return Denial("token_not_found", username=credential.username)
        return self._judge(
            grant, grant.cpanel, credential.username, peer, note_use, credential.agent
        )

    def _token(self, credential: TokenCredential, peer: str | None) -> Principal | Denial:
        """A `whm` token (or, by the same header, the legacy access hash)."""
        secret_digest = tokens.digest(credential.secret)
        grant = self._grant(secret_digest)
        if grant is None:
            # Same header shape as a token: the legacy access hash is told apart by lookup.
            return self._access_hash(credential, secret_digest)
        return self._judge(grant, grant.whm, credential.username, peer, True, credential.agent)

    def _judge(
        self,
        grant: _Grant,
        verdict: Principal | Denial,
        username: str,
        peer: str | None,
        note_use: bool,
        agent: bytes | None = None,
    ) -> Principal | Denial:
        """The checks that depend on the request, in cPanel's order: who claims the token,
        then the verdict decided from the store alone, then expiry and the allow-list."""
        if grant.owner.username != username:
            return Denial("token_user_mismatch", username=username)
        if isinstance(verdict, Denial):
            return verdict
        token = grant.token
        now = self.now()
        if token.is_expired(now):
            return Denial("token_expired", username=username, token_name=token.name)
        if not token.allows(peer):
            return Denial("ip_not_allowed", username=username, token_name=token.name)
        if token.rate_limit is not None:
            wait = token_rate.take(self._engine, token.id, token.rate_limit, self._clock())
            if wait is not None:
                return Denial(
                    RATE_LIMITED, username=username, token_name=token.name, retry_after=wait
                )
        if note_use:
            self._note_use(grant.digest, token, now, peer, agent)
        return verdict

    def _grant(self, secret_digest: str) -> _Grant | None:
        cache = self.cache
        if cache is not None:
            hit = cache.get(secret_digest)  # the hot path: straight to the cache
            if type(hit) is _Grant:
                return hit

        def read(conn: sa.Connection) -> _Grant | None:
            found = tokens.lookup_for_auth(conn, secret_digest)
            return None if found is None else _Grant.decide(secret_digest, *found)

        return self._read_through(secret_digest, read)

    def _user(self, username: str) -> User | None:
        """A user by name for a password check, through the same cache as tokens: the stored
        hash binds a remembered verification to the current password, and any change to a
        user moves the auth generation, which drops the cache."""
        key = USER_KEY + username
        cache = self.cache
        if cache is not None:
            hit = cache.get(key)
            if type(hit) is User:
                return hit
        return self._read_through(key, lambda conn: users.get(conn, username))

    def _read_through(
        self, key: str, read: Callable[[sa.Connection], _Cached | None]
    ) -> _Cached | None:
        """After a cache miss (each caller looks in the cache itself, the hot path): what
        `read` finds in the store, remembered under `key` (misses are not: a new token or
        user is seen at once)."""
        cache = self.cache
        if cache is None:
            with self._reads.connect() as conn:
                return read(conn)
        snapshot = cache.snapshot()
        with self._reads.connect() as conn:
            found = read(conn)
        if found is not None:
            cache.put(key, found, snapshot)
        return found

    def await_acknowledgements(
        self, generation: int, timeout: float = ACKNOWLEDGEMENT_WAIT
    ) -> bool:
        """Wait until every live listener — every process of every node — has taken in the
        auth generation `generation` (its cache is then stale from anything earlier), at most
        `timeout` seconds; False, and a warning, if some had not."""
        deadline = time.monotonic() + timeout
        pause = 0.0005
        with self._reads.connect() as conn:
            while True:
                waiting = token_cache.unacknowledged(conn, generation)
                if waiting == 0:
                    return True
                if time.monotonic() >= deadline:
                    log.warning(
                        "%d token cache listener(s) had not acknowledged auth generation %d "
                        "after %.2f s; answering all the same",
                        waiting,
                        generation,
                        timeout,
                    )
                    return False
                time.sleep(pause)
                pause = min(pause * 2, 0.01)

    def invalidate_cache(self) -> None:
        if self.cache is not None:
            self.cache.invalidate()

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()

    def _access_hash(self, credential: TokenCredential, secret_digest: str) -> Principal | Denial:
        username = credential.username
        owner, allowed = None, False
        if accesshash.could_be_stored(credential.secret):
            with self._reads.connect() as conn:
                owner = accesshash.lookup_for_auth(conn, secret_digest)
                allowed = owner is not None and settings.enabled(
                    conn, settings.ALLOW_DEPRECATED_ACCESSHASH
                )
        if owner is None:
            looks_like_key = accesshash.looks_like_key(credential.secret)
            return Denial(
                "accesshash_not_found" if looks_like_key else "token_not_found", username=username
            )
        if owner.username != username:
            return Denial("accesshash_user_mismatch", username=username)
        if not allowed:
            return Denial("accesshash_disabled", username=username)
        refused = _whm_refusal(owner)
        if refused is not None:
            return Denial(refused, username=username)
        return Principal(user=owner, method="accesshash", privileges=owner.privileges)

    def password_without_argon2(
        self, credential: PasswordCredential, peer: str | None = None, *, cpanel: bool = False
    ) -> Principal | Denial | None:
        """Answer a Basic credential from the verified-password cache when possible (no
        Argon2, so it may run on the event loop); None when Argon2 must run. `cpanel`: for
        the cPanel face (the account itself), else for WHM."""
        refused = self._gatekeep(peer, credential)
        if refused is not None:
            return refused
        user = self._user(credential.username)
        if user is None or not self._password_cache.remembers(
            user.username, user.password_hash, credential.password
        ):
            return None
        return self._cpanel_password_outcome(user) if cpanel else self._password_outcome(user)

    def _password(
        self,
        credential: PasswordCredential,
        peer: str | None,
        service: str,
        *,
        cpanel: bool = False,
    ) -> Principal | Denial:
        """Argon2, admitted by cPHulk first: the failures counted so far decide, atomically
        across nodes, whether this check may run at all."""
        gate = self._gate()
        attempt = attempts.Attempt(peer, credential.username, service, "password")
        with self._engine.begin() as conn:
            admitted = attempts.admit(conn, gate, attempt, self.now())
            if isinstance(admitted, attempts.Refused):
                self._audit_blocks(conn, admitted.new_blocks)
        if isinstance(admitted, attempts.Refused):
            if admitted.new_blocks:
                self.invalidate_cache()
            return Denial(admitted.reason, username=credential.username, tracked=True)
        user = self._user(credential.username)
        if user is None:
            verify_password(self._dummy_hash, credential.password)
            found: Principal | Denial = Denial("unknown_user", username=credential.username)
        elif not self._password_cache.verify(
            user.username, user.password_hash, credential.password
        ):
            found = Denial("bad_password", username=user.username)
        else:
            found = self._cpanel_password_outcome(user) if cpanel else self._password_outcome(user)
        failed = isinstance(found, Denial) and found.reason in ("unknown_user", "bad_password")
        if admitted.attempt_id is not None:
            with self._engine.begin() as conn:
                made = attempts.settle(conn, gate, admitted, attempt, failed, self.now())
                self._audit_blocks(conn, made)
            if made:
                self.invalidate_cache()
        if isinstance(found, Denial):
            return Denial(found.reason, username=found.username, tracked=True)
        return found

    @staticmethod
    def _cpanel_password_outcome(user: User) -> Principal | Denial:
        refused = _cpanel_refusal(user)
        if refused is not None:
            return Denial(refused, username=user.username)
        return Principal(user=user, method="password", privileges=frozenset())

    @staticmethod
    def _password_outcome(user: User) -> Principal | Denial:
        refused = _whm_refusal(user)
        if refused is not None:
            return Denial(refused, username=user.username)
        return Principal(user=user, method="password", privileges=user.privileges)

    def session(
        self,
        security_token: str,
        cookie_secret: str,
        peer: str | None = None,
        service: str = sessions.WHOSTMGRD,
    ) -> Principal | Denial:
        """Who a `/cpsessN/` request with its session cookie is: a session of `service` (WHM's
        `whostmgrd`, or `cpaneld` on the cPanel face, where it runs as the account: no WHM
        privileges), or a refusal."""
        refused = self._gatekeep(peer, None)
        if refused is not None:
            return refused
        now = self.now()
        with self._engine.connect() as conn:
            active = sessions.authenticate(
                conn,
                security_token,
                cookie_secret,
                now,
                self.session_idle_timeout,
                service=service,
            )
        if active is None:
            return Denial("session_invalid")
        user = active.user
        cpanel = service == CPANEL_SERVICE
        refusal = _cpanel_refusal(user) if cpanel else _whm_refusal(user)
        if refusal is not None:
            return Denial(refusal, username=user.username)
        if now - active.last_active >= sessions.TOUCH_INTERVAL:
            with self._engine.begin() as conn:
                sessions.touch(conn, active.id, now)
        privileges = frozenset() if cpanel else user.privileges
        return Principal(user=user, method="session", privileges=privileges, session=active)

    # -- bookkeeping -------------------------------------------------------------------

    def _note_use(
        self, key: str, token: Token, now: int, peer: str | None, agent: bytes | None
    ) -> None:
        """Record last use at most once a minute per token, and an address the token was not
        yet seen from (by this process) at once, so requests stay read-only. `key`: the
        token's digest — not its id, which SQLite gives again to the next token once the
        newest is revoked (that token's first use went unrecorded)."""
        stored = token.last_used_time or 0
        # Unlocked first look (dict reads): the common case, used within the minute from an
        # address already noted.
        if now - max(self._last_use.get(key, 0), stored) < LAST_USE_INTERVAL:
            seen = self._peers.get(key, ())
            if peer is None or peer in seen or len(seen) >= NOTED_PEERS:
                return
        with self._last_use_lock:
            last = max(self._last_use.get(key, 0), stored)
            recent = now - last < LAST_USE_INTERVAL
            seen = self._peers.setdefault(key, set())
            if recent and (peer is None or peer in seen or len(seen) >= NOTED_PEERS):
                return
            if len(self._last_use) > 100_000 or len(self._peers) > 100_000:
                self._last_use.clear()
                self._peers.clear()
                seen = self._peers.setdefault(key, set())
            if peer is not None and len(seen) < NOTED_PEERS:
                seen.add(peer)
            if not recent:
                self._last_use[key] = now
        with self._engine.begin() as conn:
            if recent:
                tokens.record_address(conn, token.id, now, peer)
            else:
                tokens.record_use(conn, token.id, now, peer, tokens.agent_text(agent))

    def record_denial(
        self,
        denial: Denial,
        peer: str | None,
        detail: str | None = None,
        service: str = WHM_SERVICE,
    ) -> None:
        """Audit a refusal and, when it was a wrong credential, count it for cPHulk."""
        if denial.quiet:
            return
        counted = not denial.tracked and denial.reason not in NOT_COUNTED
        if not counted or not attempts.counts(self._gate(), peer):
            # The audit row alone: its statements stand alone (a repeat's count, else a new
            # row), so on PostgreSQL without a transaction's BEGIN and COMMIT round trips.
            with self._reads.connect() as conn, conn.begin():
                self._audit_refusal(conn, denial, peer, detail)
            return
        with self._engine.begin() as conn:
            self._audit_refusal(conn, denial, peer, detail)
            attempt = attempts.Attempt(peer, denial.username, service, _authservice(denial.reason))
            made = attempts.record_failure(conn, self._gate(), attempt, self.now())
            self._audit_blocks(conn, made)
        if made:
            self.invalidate_cache()

    def _audit_refusal(
        self, conn: sa.Connection, denial: Denial, peer: str | None, detail: str | None
    ) -> None:
        audit.record(
            conn,
            now=self.now(),
            action=audit.AUTH_FAILURE,
            reason=denial.reason,
            actor=denial.username,
            source_ip=peer,
            token_name=denial.token_name,
            detail=detail,
        )

    # -- cPHulk ------------------------------------------------------------------------

    def _gate(self) -> gates.Gate:
        """cPHulk's settings, lists and blocks, from memory while the store has not changed."""
        cache = self.cache
        if cache is not None:
            # Asked on every request, before the credential: straight to the cache.
            hit = cache.get(GATE_KEY)
            if type(hit) is gates.Gate:
                return hit
        found = self._read_through(GATE_KEY, self._read_gate)
        assert found is not None
        return found

    def _read_gate(self, conn: sa.Connection) -> gates.Gate:
        gate = gates.read(conn, self.now())
        return dataclasses.replace(gate, white=gate.white + self._trusted, local=self._local)

    def gate(self) -> gates.Gate:
        return self._gate()

    def _gatekeep(self, peer: str | None, credential: Credential | None) -> Denial | None:
        """cPHulk's refusal before any credential is checked: a black-listed or blocked
        address, or a password for a username whose password logins are locked. Answered as
        any failed login is; audited once per block (per process), not once per request."""
        gate = self._gate()
        if gate.refuses_no_address and not isinstance(credential, PasswordCredential):
            return None  # every token request, unless cPHulk lists or blocks an address
        if not gate.enabled:
            return None
        username = credential.username if credential is not None else None
        now = self.now()
        reason = gate.address_refusal(peer, now)
        if reason is not None:
            block = gate.block_for(peer)
            if reason == gates.BLOCKED and block is not None:
                key, until = f"block:{block.id}", block.expires_time
            else:
                key, until = f"black:{peer}", now + gate.settings.ip_window
            return Denial(reason, username=username, quiet=self._seen(key, until, now))
        if isinstance(credential, PasswordCredential) and gate.user_locked(username, peer, now):
            lock = gate.user_locks[credential.username]
            quiet = self._seen(f"block:{lock.id}:{peer}", lock.expires_time, now)
            return Denial(gates.USER_LOCKED, username=username, quiet=quiet)
        return None

    def _seen(self, key: str, until: int, now: int) -> bool:
        """True when this refusal was audited already (until `until`); else remember it."""
        with self._quiet_lock:
            if self._quiet_until.get(key, 0) > now:
                return True
            if len(self._quiet_until) >= QUIET_ENTRIES:
                self._quiet_until = {k: t for k, t in self._quiet_until.items() if t > now}
                if len(self._quiet_until) >= QUIET_ENTRIES:
                    self._quiet_until.clear()
            self._quiet_until[key] = until
            return False

    def _audit_blocks(self, conn: sa.Connection, made: Sequence[gates.Block]) -> None:
        for block in made:
            audit.record(
                conn,
                now=block.created_time,
                action=gates.AUDIT_ACTION,
                reason=f"brute_force_{block.kind}",
                actor=block.username,
                subject=block.username or block.address,
                source_ip=block.address,
                detail=f"{block.failures} failures; until {block.expires_time}",
            )


def _authservice(reason: str) -> str:
    """cPHulk's `authservice` for a refused credential, from its reason code."""
    if reason.startswith("accesshash"):
        return "accesshash"
    if reason.startswith("token"):
        return "token"
    if reason in ("bad_password", "unknown_user"):
        return "password"
    return "header"
