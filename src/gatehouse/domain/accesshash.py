"""The legacy Remote Access Key (`~/.accesshash`), deprecated and off by default.

The key is 30 lines of 32 lowercase hex characters. WHM shows the current key on its page, so
it cannot be kept only as a hash: it is stored encrypted (AES-256-GCM, with a key that lives
outside the database), and authentication looks it up by the SHA-512 digest of its newline-free
form — the same digest a token has, so `convert_accesshash_to_token` keeps the string working.
Decryption happens only to *show* the key, never per request.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
from pathlib import Path

import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gatehouse.domain import tokens
from gatehouse.domain.users import OWNER_COLUMNS, User, owner_from_joined
from gatehouse.store.schema import access_hashes, users

LINES = 30
HEX_PER_LINE = 32
_HEX_RE = re.compile(r"^[0-9a-f]{960}\Z")


def generate() -> str:
    """A new key in cPanel's file format: 30 lines of 32 hex characters, each ending in \\n."""
    return "".join(secrets.token_hex(HEX_PER_LINE // 2) + "\n" for _ in range(LINES))


def flatten(key: str) -> str:
    """The form clients send: every whitespace character removed."""
    return "".join(key.split())


def looks_like_key(value: str) -> bool:
    return bool(_HEX_RE.match(flatten(value).lower()))


def could_be_stored(value: str) -> bool:
    """Whether `value` could be a stored key: every key is stored flattened in lower case (made
    by `generate`, or imported by `looks_like_key` and lowered), so anything else — a token, a
    revoked token, a guess — is not looked for in the store at all."""
    return bool(_HEX_RE.match(flatten(value)))


def signature(key: str) -> str:
    """WHM's Access Key Signature: the first 32 hex characters, as colon-separated pairs."""
    hexes = re.sub(r"[^0-9a-f]", "", key.lower())[:32]
    return ":".join(hexes[i : i + 2] for i in range(0, len(hexes), 2))


def digest(key: str) -> str:
    return tokens.digest(flatten(key))


class KeyRing:
    """The AES-256-GCM key for secrets the server must be able to show again.

    From GATEHOUSE_SECRET_KEY (urlsafe base64 of 32 bytes; every node of a cluster needs the
    same one), else `<data dir>/secret.key` (mode 0600), made on first use.
    """

    def __init__(self, data_dir: Path, secret: str | None = None) -> None:
        self._path = data_dir / "secret.key"
        self._secret = secret
        self._key: bytes | None = None

    def _load(self) -> bytes:
        if self._key is not None:
            return self._key
        if self._secret:
            key = base64.urlsafe_b64decode(self._secret.encode())
        elif self._path.exists():
            key = base64.urlsafe_b64decode(self._path.read_bytes().strip())
        else:
            key = self._create()
        if len(key) != 32:
            raise ValueError("the secret key must be 32 bytes (urlsafe base64)")
        self._key = key
        return key

    def _create(self) -> bytes:
        """Make the key file atomically: the server and the CLI share the data dir, and a
        process must never read a half-written file, nor two make different keys."""
        key = AESGCM.generate_key(bit_length=256)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_name(f".{self._path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(base64.urlsafe_b64encode(key) + b"\n")
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, self._path)  # fails if another process got there first
            except FileExistsError:
                return base64.urlsafe_b64decode(self._path.read_bytes().strip())
            return key
        finally:
            tmp.unlink(missing_ok=True)

    def encrypt(self, plaintext: str, context: str) -> bytes:
        nonce = secrets.token_bytes(12)
        return nonce + AESGCM(self._load()).encrypt(nonce, plaintext.encode(), context.encode())

    def decrypt(self, blob: bytes, context: str) -> str:
        return AESGCM(self._load()).decrypt(blob[:12], blob[12:], context.encode()).decode()


def _context(user_id: int) -> str:
    # Binds a ciphertext to its row: a blob copied to another user's row will not decrypt.
    return f"accesshash:{user_id}"


def store(conn: sa.Connection, keyring: KeyRing, user: User, key: str, now: int) -> None:
    """Set (or replace) a user's key. The old key stops working with this commit."""
    conn.execute(sa.delete(access_hashes).where(access_hashes.c.user_id == user.id))
    conn.execute(
        sa.insert(access_hashes).values(
            user_id=user.id,
            digest=digest(key),
            ciphertext=keyring.encrypt(key, _context(user.id)),
            created_time=now,
        )
    )


def reveal(conn: sa.Connection, keyring: KeyRing, user: User) -> str | None:
    row = conn.execute(
        sa.select(access_hashes.c.ciphertext).where(access_hashes.c.user_id == user.id)
    ).first()
    if row is None:
        return None
    return keyring.decrypt(bytes(row.ciphertext), _context(user.id))


def has_key(conn: sa.Connection, user_id: int) -> bool:
    query = sa.select(access_hashes.c.user_id).where(access_hashes.c.user_id == user_id)
    return conn.execute(query).first() is not None


def lookup_for_auth(conn: sa.Connection, key_digest: str) -> User | None:
    row = conn.execute(
        sa.select(access_hashes.c.user_id, *OWNER_COLUMNS)
        .join(users, users.c.id == access_hashes.c.user_id)
        .where(access_hashes.c.digest == key_digest)
    ).first()
    return owner_from_joined(row) if row else None


def stored_digest(conn: sa.Connection, user_id: int) -> str | None:
    row = conn.execute(
        sa.select(access_hashes.c.digest).where(access_hashes.c.user_id == user_id)
    ).first()
    return str(row.digest) if row else None


def convert_to_token(conn: sa.Connection, user: User, now: int) -> tuple[str, bool] | None:
    """Make a full-access token whose digest is the key's (cPanel's
    convert_accesshash_to_token), so the same string keeps working as a token. Returns
    (token name, created?) or None when the user has no key. The key itself is kept."""
    key_digest = stored_digest(conn, user.id)
    if key_digest is None:
        return None
    existing = tokens.find_by_digest(conn, key_digest)
    if existing is not None:
        return existing.name, False
    name = f"accesshash-{now}"
    while tokens.get_by_name(conn, user.id, tokens.WHOSTMGR, name) is not None:
        name = f"accesshash-{now}-{secrets.token_hex(4)}"
    tokens.insert_digest(
        conn,
        owner=user,
        service=tokens.WHOSTMGR,
        name=name,
        token_digest=key_digest,
        token_acls=None,
        whitelist_ips=None,
        expires_at=None,
        create_time=now,
    )
    return name, True
