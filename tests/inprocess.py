"""A real gatehouse in this process: a fresh SQLite store in a temporary directory, root
created, both API faces loaded, and calls run through the same dispatchers the HTTP faces, the
pages and the CLI use (`gatehouse.api.dispatch.execute`, `gatehouse.cpanel.execute.execute`).
For tests that look at what a call does to the store and to the process (its token cache, its
log), which a server in a subprocess cannot show."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from gatehouse.api import dispatch
from gatehouse.api.dispatch import Outcome
from gatehouse.api.params import Params
from gatehouse.auth.authenticator import Principal
from gatehouse.config import Config
from gatehouse.core import Gatehouse
from gatehouse.cpanel import execute as cpanel_execute
from gatehouse.cpanel.registry import Api
from gatehouse.domain import users
from gatehouse.passwords import hash_password
from gatehouse.program import load_faces
from gatehouse.store.schema import metadata
from gatehouse.whm.registry import REGISTRY

ROOT_PASSWORD = "in-process root password 7f3a"  # a throwaway store's

Pairs = Mapping[str, str] | Iterable[tuple[str, str]]


def _params(pairs: Pairs) -> Params:
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    return Params(items)


@dataclass
class Local:
    gatehouse: Gatehouse

    def principal(self, username: str = users.ROOT) -> Principal:
        with self.gatehouse.engine.connect() as conn:
            user = users.require(conn, username)
        return Principal(user=user, method="local", privileges=user.privileges)

    def whm(self, function: str, params: Pairs = (), *, as_user: str = users.ROOT) -> Outcome:
        """A WHM API 1 call (api.version=1 added unless given)."""
        given = _params(params)
        if "api.version" not in given:
            given = _params([("api.version", "1"), *_pairs(params)])
        return dispatch.execute(self.gatehouse, REGISTRY, self.principal(as_user), function, given)

    def ok(self, function: str, params: Pairs = ()) -> Any:
        outcome = self.whm(function, params)
        assert outcome.ok, outcome.payload
        return outcome.payload.get("data")

    def cpanel(self, api: Api, module: str, func: str, account: str, params: Pairs = ()) -> Outcome:
        """A UAPI or API 2 call as the cPanel `account` (as `gatehouse uapi` runs one)."""
        with self.gatehouse.engine.connect() as conn:
            user = users.require(conn, account)
        principal = cpanel_execute.principal_for(user, "local")
        return cpanel_execute.execute(self.gatehouse, principal, api, module, func, _params(params))

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table, in a stable order: equal dumps, an unchanged store."""
        out: dict[str, list[tuple[Any, ...]]] = {}
        with self.gatehouse.engine.connect() as conn:
            for table in metadata.sorted_tables:
                rows = conn.execute(sa.select(table)).all()
                out[table.name] = sorted((tuple(row) for row in rows), key=repr)
        return out

    def close(self) -> None:
        self.gatehouse.close()


def _pairs(params: Pairs) -> list[tuple[str, str]]:
    return list(params.items() if isinstance(params, Mapping) else params)


def open_local(directory: Path) -> Local:
    """A gatehouse on a new store under `directory`, with root (password ROOT_PASSWORD)."""
    load_faces()
    config = Config(data_dir=directory, zone_dir=directory / "zones")
    gatehouse = Gatehouse(config)
    with gatehouse.engine.begin() as conn:
        users.create_root(conn, hash_password(ROOT_PASSWORD), gatehouse.now())
    return Local(gatehouse)
