"""Bulk token seeding straight into the store: SQLite executemany, PostgreSQL COPY.

Each token is the SHA-512 hex digest of a random 32-character [0-9A-Z] string — the same
at-rest shape `api_token_create` writes — with a unique name on root (the unique keys are
the digest and (user_id, service, name)). Nobody knows the plaintexts: the rows exist to
make the digest index as large as a busy server's.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Iterator

from sqlalchemy.engine import make_url

from bench.stores import SQLITE, Store

ALPHABET = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
SERVICE = "whostmgr"
BATCH = 50_000
# byte -> alphabet character (a slight modulo bias is irrelevant for load data)
_TABLE = bytes(ALPHABET[b % len(ALPHABET)] for b in range(256))


def _digests(count: int) -> Iterator[str]:
    left = count
    while left:
        n = min(left, BATCH)
        raw = os.urandom(32 * n).translate(_TABLE)
        for i in range(n):
            yield hashlib.sha512(raw[32 * i : 32 * i + 32]).hexdigest()
        left -= n


def _rows(user_id: int, count: int, prefix: str, now: int) -> Iterator[tuple[object, ...]]:
    for i, token_digest in enumerate(_digests(count)):
        yield (user_id, SERVICE, f"{prefix}{i:07d}", token_digest, now)


def seed_root_tokens(store: Store, count: int, prefix: str = "bulk-") -> float:
    """Insert `count` tokens for root; returns the seconds it took."""
    started = time.perf_counter()
    now = int(time.time())
    if store.backend == SQLITE:
        _seed_sqlite(store, count, prefix, now)
    else:
        _seed_postgres(store, count, prefix, now)
    return time.perf_counter() - started


def _seed_sqlite(store: Store, count: int, prefix: str, now: int) -> None:
    path = make_url(store.url).database
    assert path
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("PRAGMA synchronous=OFF")
        (user_id,) = conn.execute("SELECT id FROM users WHERE username = 'root'").fetchone()
        with conn:
            conn.executemany(
                "INSERT INTO api_tokens (user_id, service, name, digest, create_time) "
                "VALUES (?, ?, ?, ?, ?)",
                _rows(user_id, count, prefix, now),
            )
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("ANALYZE")
    finally:
        conn.close()


def _seed_postgres(store: Store, count: int, prefix: str, now: int) -> None:
    import psycopg

    url = store.url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT id FROM users WHERE username = 'root'").fetchone()
        assert row is not None
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY api_tokens (user_id, service, name, digest, create_time) FROM STDIN"
            ) as copy,
        ):
            for values in _rows(row[0], count, prefix, now):
                copy.write_row(values)
        conn.commit()
        conn.execute("ANALYZE api_tokens")
        conn.commit()
