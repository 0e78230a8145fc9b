"""Brute-force containment under attack (issue 18 §3/§4; quoted in docs/security.md).

`python -m bench.bruteforce` on a fresh SQLite store, the default configuration but for one
trusted proxy on 127.0.0.1: cPHulk never blocks a request of local origin (loopback, as
cPanel's), so the attackers come through that proxy as remote addresses of their own
(X-Forwarded-For, 198.18.0.0/15). Every loop bounded in count and time:

1. a wrong-token storm from one address: how many reach a check before the block, the rate,
   and what the audit trail and the attempt table hold afterwards;
2. the same spread over many addresses;
3. concurrent wrong Basic passwords from one address: how many Argon2 checks ran;
4. a wrong-token storm of local origin (from 127.0.0.1 itself): recorded, never blocked.
(That a locked user's token keeps working elsewhere is a test: tests/test_cphulk.py.)
"""

from __future__ import annotations

import base64
import concurrent.futures
import json
import secrets
import sqlite3
import time
from contextlib import ExitStack
from typing import Any

import httpx

from bench import server, stores
from bench.tools import Pinning

LIMIT_S = 60.0


PROXY_ENV = {"GATEHOUSE_TRUSTED_PROXIES": "127.0.0.1"}
LOCAL = "127.0.0.1"


def _client(address: str) -> httpx.Client:
    """As `address`: itself on loopback, else forwarded by the trusted proxy."""
    if address.startswith("127."):
        return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=10)
    return httpx.Client(headers={"X-Forwarded-For": address}, timeout=10)


def _wrong() -> str:
    return f"whm root:{secrets.token_hex(16).upper()}"


def _storm(
    url: str, addresses: list[str], total: int, auth: Any, threads: int = 8
) -> dict[str, Any]:
    statuses: dict[int, int] = {}
    started = time.perf_counter()
    per_address = max(1, total // len(addresses))

    def run(address: str) -> list[int]:
        out: list[int] = []
        with _client(address) as c:
            for _ in range(per_address):
                if time.perf_counter() - started > LIMIT_S:
                    break
                out.append(
                    c.get(
                        url, params={"api.version": "1"}, headers={"Authorization": auth()}
                    ).status_code
                )
        return out

    with concurrent.futures.ThreadPoolExecutor(min(threads, len(addresses))) as pool:
        for codes in pool.map(run, addresses):
            for code in codes:
                statuses[code] = statuses.get(code, 0) + 1
    elapsed = time.perf_counter() - started
    sent = sum(statuses.values())
    return {
        "sent": sent,
        "seconds": round(elapsed, 2),
        "per_s": round(sent / elapsed),
        "statuses": statuses,
    }


def _rows(db: str, sql: str) -> Any:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def main() -> None:
    results: dict[str, Any] = {}
    with ExitStack() as stack:
        store = stores.create(stack, stores.SQLITE, "bruteforce", None)
        node = server.start(stack, store, "bruteforce", Pinning.plan(), env=PROXY_ENV)
        url = f"{node.url}/json-api/version"
        db = str(store.data_dir / "gatehouse.db")
        token = store.create_token("bench-root")

        def counts() -> dict[str, int]:
            return {
                "audit_rows": _rows(db, "SELECT count(*) FROM audit_log")[0][0],
                "audit_events": _rows(db, "SELECT coalesce(sum(repeats),0) FROM audit_log")[0][0],
                "attempt_rows": _rows(db, "SELECT count(*) FROM login_attempts")[0][0],
                "blocks": _rows(db, "SELECT count(*) FROM cphulk_blocks")[0][0],
            }

        before = counts()
        one = _storm(url, ["198.18.9.9"], 20_000, _wrong)
        one["checked_before_block"] = _rows(
            db, "SELECT count(*) FROM login_attempts WHERE address = '198.18.9.9'"
        )[0][0]
        one["store"] = {k: v - before[k] for k, v in counts().items()}
        with _client("198.18.9.9") as c:
            one["valid_token_from_blocked_address"] = c.get(
                url, params={"api.version": "1"}, headers={"Authorization": f"whm root:{token}"}
            ).status_code
        results["wrong_tokens_one_address"] = one

        before = counts()
        spread = _storm(url, [f"198.18.10.{i}" for i in range(1, 101)], 2_000, _wrong)
        spread["store"] = {k: v - before[k] for k, v in counts().items()}
        results["wrong_tokens_100_addresses"] = spread

        name = "brutevictim"
        password = secrets.token_urlsafe(12)
        store.whmapi1(
            "createacct", f"username={name}", f"domain={name}.example.com", f"password={password}"
        )
        store.whmapi1("setupreseller", f"user={name}")
        wrong_basic = "Basic " + base64.b64encode(f"{name}:wrong".encode()).decode()
        concurrent_result = _storm(url, ["198.18.11.1"] * 64, 64, lambda: wrong_basic, threads=64)
        concurrent_result["argon2_checks"] = _rows(
            db,
            "SELECT coalesce(sum(repeats),0) FROM audit_log WHERE source_ip = '198.18.11.1' "
            "AND reason = 'bad_password'",
        )[0][0]
        results["concurrent_wrong_passwords_one_address"] = concurrent_result

        before = counts()
        local = _storm(url, [LOCAL], 2_000, _wrong)
        local["store"] = {k: v - before[k] for k, v in counts().items()}
        with _client(LOCAL) as c:
            local["valid_token_from_the_same_address"] = c.get(
                url, params={"api.version": "1"}, headers={"Authorization": f"whm root:{token}"}
            ).status_code
        results["wrong_tokens_local_origin"] = local
        results["memory_kib"] = node.memory_kib()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
