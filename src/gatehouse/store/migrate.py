"""Apply Alembic migrations programmatically (on `init` and on every start).

On PostgreSQL other nodes may be serving while a node migrates (a rolling upgrade). A DDL
statement waiting for its table's lock makes every later query on that table wait behind it,
token checks included, for as long as whatever holds the table (a long report, an idle
transaction) goes on. So each statement waits at most LOCK_TIMEOUT; then the migration's
transaction rolls back whole (nothing half-applied) and is tried again after a pause, which
lets the queries that queued behind it through (docs/deployment.md)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(connection: sa.Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


log = logging.getLogger("gatehouse.store.migrate")

LOCK_TIMEOUT = 2.0  # seconds one statement may wait for a table's lock (PostgreSQL)
ATTEMPTS = 30
PAUSE = 2.0  # seconds between attempts: about two minutes in all
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a lock_timeout that ran out


class SchemaTooNew(Exception):
    """The store was migrated by a newer gatehouse than this one: running on a schema it does
    not know could misread or damage it, so this version refuses to start."""


class MigrationBlocked(Exception):
    """A table the migration changes stayed in use through every attempt: nothing was
    applied, and this version cannot run on the older schema, so it does not start."""


def upgrade(
    engine: sa.Engine,
    *,
    target: str = "head",
    lock_timeout: float = LOCK_TIMEOUT,
    attempts: int = ATTEMPTS,
    pause: float = PAUSE,
) -> None:
    """Apply the migrations this version knows up to `target` (its head), in one
    transaction; SchemaTooNew if the store is at a revision this version does not know,
    MigrationBlocked if on PostgreSQL a table stayed locked through every attempt."""
    for attempt in range(1, attempts + 1):
        try:
            _upgrade(engine, target, lock_timeout)
            return
        except sa.exc.OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            if attempt == attempts:
                raise MigrationBlocked(
                    "the store's migration could not lock a table it changes: another "
                    f"session kept using it through {attempts} attempts of {lock_timeout:g} s "
                    "(a long query or a transaction left open; see pg_stat_activity and "
                    "pg_locks). Nothing was changed; end that session and start again."
                ) from None
            log.warning(
                "migrating the store: a table it changes is in use (attempt %d of %d, %g s "
                "each); rolled back, trying again in %g s",
                attempt, attempts, lock_timeout, pause,
            )  # fmt: skip
            time.sleep(pause)


def _upgrade(engine: sa.Engine, target: str, lock_timeout: float) -> None:
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # Several nodes may start at once against one database: one migrates, the
            # others wait for it, then find nothing left to do.
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(7262616)"))
            # Only then the bound (the wait above may be a whole migration's length).
            connection.execute(
                sa.text("SELECT set_config('lock_timeout', :ms, true)"),
                {"ms": f"{round(lock_timeout * 1000)}ms"},
            )
        config = _config(connection)
        _refuse_unknown_revision(connection, ScriptDirectory.from_config(config))
        command.upgrade(config, target)


def _refuse_unknown_revision(connection: sa.Connection, scripts: ScriptDirectory) -> None:
    current = MigrationContext.configure(connection).get_current_revision()
    if current is None:
        return
    known = {script.revision for script in scripts.walk_revisions()}
    if current not in known:
        raise SchemaTooNew(
            f"the store's schema is at revision {current}, which this version of gatehouse "
            f"does not know (its newest is {scripts.get_current_head()}): a newer gatehouse "
            "migrated it. Run that version (or newer) on this node; there is no downgrade."
        )


def is_current(engine: sa.Engine) -> bool:
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
        head = ScriptDirectory.from_config(_config(connection)).get_current_head()
        return current == head
