"""Apply Alembic migrations programmatically (on `init` and on every start)."""

from __future__ import annotations

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


class SchemaTooNew(Exception):
    """The store was migrated by a newer gatehouse than this one: running on a schema it does
    not know could misread or damage it, so this version refuses to start."""


def upgrade(engine: sa.Engine) -> None:
    """Apply the migrations this version knows up to its head, in one transaction;
    SchemaTooNew if the store is at a revision this version does not know."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # Several nodes may start at once against one database: one migrates, the
            # others wait for it, then find nothing left to do.
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(7262616)"))
        config = _config(connection)
        _refuse_unknown_revision(connection, ScriptDirectory.from_config(config))
        command.upgrade(config, "head")


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
