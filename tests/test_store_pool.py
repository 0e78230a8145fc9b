"""Calls run off the event loop never take every connection of the store's pool
(program/server.py): were they to, the loop's own next read — a token not yet cached — would
wait for a free connection, and every request of the process with it. Here every call holds
its connection through a slow "before" hook, as a provisioning script does (docs/hooks.md)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from conftest import Server, start_server, stop_server
from gatehouse.passwords import generate_password
from gatehouse.store.engine import MAX_OVERFLOW, POOL_SIZE

HOOK_SECONDS = 2.0


@pytest.fixture(scope="module")
def hooked(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    hooks: Path = tmp_path_factory.mktemp("slow-hooks")
    script = hooks / "createacct" / "before" / "10-provision"
    script.parent.mkdir(parents=True)
    script.write_text(f"#!/bin/sh\nsleep {HOOK_SECONDS}\n")
    script.chmod(0o755)
    env = {
        "GATEHOUSE_HOOKS_DIR": str(hooks),
        # Enough calls at once from one address to hold every connection of the pool.
        "GATEHOUSE_MAX_REQUESTS_PER_ADDRESS": "64",
    }
    data_dir = tmp_path_factory.mktemp("pool")
    started = start_server(data_dir, server.db_url, server.backend, server.root_password, env=env)
    started._root_token = server.root_token
    yield started
    stop_server(started)


def _createacct(server: Server) -> int:
    name = f"p{uuid.uuid4().hex[:7]}"
    params = {
        "username": name,
        "domain": f"{name}.example.com",
        "password": generate_password(),
    }
    with httpx.Client(timeout=60) as client:
        return server.get("createacct", params=params, client=client).status_code


def _seconds_to_check(client: httpx.Client, server: Server, token: str) -> float:
    started = time.monotonic()
    answer = client.get(
        f"{server.url}/json-api/version",
        params={"api.version": "1"},
        headers={"Authorization": f"whm root:{token}"},
    )
    assert answer.status_code == 200, answer.text
    return time.monotonic() - started


def test_a_token_is_checked_at_once_while_slow_calls_fill_the_pool(hooked: Server) -> None:
    capacity = (
        POOL_SIZE + MAX_OVERFLOW["postgresql" if hooked.backend == "postgresql" else "sqlite"]
    )
    # New tokens: none is cached, so each check reads the store from the event loop.
    tokens = [
        hooked.ok("api_token_create", params={"token_name": f"pool{i}"})["token"] for i in range(5)
    ]
    with ThreadPoolExecutor(capacity + 2) as pool, httpx.Client(timeout=30) as client:
        calls = [pool.submit(_createacct, hooked) for _ in range(capacity + 2)]
        time.sleep(HOOK_SECONDS / 2)  # every call is in its hook now, or waiting for a thread
        waits = [_seconds_to_check(client, hooked, token) for token in tokens]
        statuses = [call.result() for call in calls]
    assert statuses == [200] * len(statuses)
    # Without the limit the first check waits for a hook to end (about a second here).
    assert max(waits) < HOOK_SECONDS / 4, waits
