"""store/rows.put: a row kept by its key, inserted or updated in one statement — also when two
transactions make the same new row at once (the use cases' settings rows: mail routing,
integration links and groups)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from conftest import Database
from gatehouse.store import rows
from gatehouse.store.engine import create


@pytest.fixture
def engine(database: Database) -> Iterator[sa.Engine]:
    eng = create(database.url)
    yield eng
    eng.dispose()


@pytest.fixture
def table(engine: sa.Engine) -> Iterator[sa.Table]:
    made = sa.Table(
        f"rows_put_{uuid.uuid4().hex[:10]}",
        sa.MetaData(),
        sa.Column("owner", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.String(32), nullable=False),
        sa.Column("note", sa.String(32), nullable=True),
    )
    made.create(engine)
    yield made
    made.drop(engine)


def content(engine: sa.Engine, table: sa.Table) -> set[tuple[object, ...]]:
    with engine.connect() as conn:
        return {tuple(row) for row in conn.execute(sa.select(table))}


def test_a_new_key_is_inserted(engine: sa.Engine, table: sa.Table) -> None:
    with engine.begin() as conn:
        rows.put(conn, table, {"owner": 1, "name": "a"}, {"value": "x", "note": None})
    assert content(engine, table) == {(1, "a", "x", None)}


def test_an_existing_key_is_updated_and_no_other_row(engine: sa.Engine, table: sa.Table) -> None:
    with engine.begin() as conn:
        rows.put(conn, table, {"owner": 1, "name": "a"}, {"value": "x", "note": "kept?"})
        rows.put(conn, table, {"owner": 1, "name": "b"}, {"value": "y", "note": None})
        rows.put(conn, table, {"owner": 2, "name": "a"}, {"value": "z", "note": None})
    with engine.begin() as conn:
        rows.put(conn, table, {"owner": 1, "name": "a"}, {"value": "new", "note": None})
    assert content(engine, table) == {
        (1, "a", "new", None),
        (1, "b", "y", None),
        (2, "a", "z", None),
    }


def test_only_the_values_given_are_set(engine: sa.Engine, table: sa.Table) -> None:
    with engine.begin() as conn:
        rows.put(conn, table, {"owner": 1, "name": "a"}, {"value": "x", "note": "n"})
        rows.put(conn, table, {"owner": 1, "name": "a"}, {"value": "y"})
    assert content(engine, table) == {(1, "a", "y", "n")}


def test_two_transactions_making_the_same_new_row_both_succeed(
    engine: sa.Engine, table: sa.Table
) -> None:
    """The first holds its new row uncommitted while the second puts the same key: the second
    waits, then updates the row the first committed (PostgreSQL failed it on the key when
    `put` was an UPDATE, then an INSERT)."""
    key = {"owner": 7, "name": "race"}
    errors: list[BaseException] = []
    with engine.connect() as first:
        first.begin()
        rows.put(first, table, key, {"value": "first"})

        def second() -> None:
            try:
                with engine.begin() as conn:
                    rows.put(conn, table, key, {"value": "second"})
            except BaseException as exc:  # reported below
                errors.append(exc)

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(timeout=0.5)  # it waits on the first's row (or SQLite's write lock)
        assert thread.is_alive()
        first.commit()
    thread.join(timeout=20)
    assert not thread.is_alive()
    assert errors == []
    assert content(engine, table) == {(7, "race", "second", None)}
