"""Throw-away gatehouse stores: a data directory plus SQLite or a PostgreSQL database of
our own, initialised with `gatehouse init` exactly as an operator would."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench.tools import log

SQLITE = "sqlite"
POSTGRESQL = "postgresql"


def gatehouse_bin() -> str:
    beside = Path(sys.executable).parent / "gatehouse"
    if beside.exists():
        return str(beside)
    found = shutil.which("gatehouse")
    if not found:
        raise RuntimeError("the gatehouse command is not installed (run `make install`)")
    return found


@dataclass(frozen=True, slots=True)
class Store:
    backend: str
    url: str
    data_dir: Path
    root_password: str

    @property
    def zone_dir(self) -> Path:
        """Where gatehouse writes this store's zone files and `named.conf.zones`."""
        return self.data_dir / "zones"

    def env(self) -> dict[str, str]:
        """The environment of every gatehouse process on this store: the caller's, without
        any GATEHOUSE_* setting of its own (a zone directory or reload command inherited from
        an operator's shell must never be written to or run by a benchmark)."""
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("GATEHOUSE_")}
        return {
            **inherited,
            "GATEHOUSE_DATA_DIR": str(self.data_dir),
            "GATEHOUSE_DATABASE_URL": self.url,
            "GATEHOUSE_ZONE_DIR": str(self.zone_dir),
        }

    def cli(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [gatehouse_bin(), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env(),
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"gatehouse {args[0]} failed: {result.stdout}{result.stderr}")
        return result.stdout

    def whmapi1(self, function: str, *args: str) -> Any:
        """Run a WHM API 1 function locally as root; returns the envelope's data."""
        out = json.loads(self.cli("whmapi1", function, *args, "--output", "json"))
        if out["metadata"]["result"] != 1:
            raise RuntimeError(f"{function} failed: {out['metadata']['reason']}")
        return out.get("data")

    def create_token(self, name: str, *args: str) -> str:
        return str(self.whmapi1("api_token_create", f"token_name={name}", *args)["token"])


def create(stack: ExitStack, backend: str, label: str, postgres_url: str | None) -> Store:
    """A new, initialised store; removed (directory, database) when `stack` closes."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"gatehouse-bench-{label}-"))
    stack.callback(shutil.rmtree, data_dir, ignore_errors=True)
    if backend == SQLITE:
        url = f"sqlite:///{data_dir / 'gatehouse.db'}"
    elif backend == POSTGRESQL:
        if not postgres_url:
            raise RuntimeError("PostgreSQL is not available")
        url = _create_database(stack, postgres_url, f"gh_bench_{label}_{uuid.uuid4().hex[:8]}")
    else:
        raise ValueError(backend)
    store = Store(backend, url, data_dir, secrets.token_urlsafe(18))
    store.cli("init", "--root-password-stdin", stdin=store.root_password + "\n")
    return store


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _create_database(stack: ExitStack, admin_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # a name of our own making, not input

    def drop() -> None:
        try:
            with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except Exception as exc:
            log(f"could not drop database {name}: {exc}")

    stack.callback(drop)
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)
