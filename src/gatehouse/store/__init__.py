"""The store: SQLAlchemy Core tables on SQLite (default) or PostgreSQL, migrated by Alembic."""
