"""Alembic environment: run against the engine handed in by `incentives.store.db.migrate` (online only)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from incentives.store import models  # noqa: F401  (registers the tables on the metadata)
from sqlmodel import SQLModel

config = context.config
engine = config.attributes.get("engine") or create_engine(config.get_main_option("sqlalchemy.url"))

# Several server processes may open a new (or older) store at the same moment; each upgrade takes the database's
# write lock first, so one upgrades and the others then find the schema current instead of failing half-way.
MIGRATION_LOCK_KEY = 0x696E63656E74  # any fixed number: the PostgreSQL advisory lock of this schema's upgrades

with engine.connect() as connection:
    if connection.dialect.name == "sqlite":
        connection.execution_options(sqlite_write=True)  # BEGIN IMMEDIATE (incentives.store.db): wait for the lock
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table, PostgreSQL alters directly.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
        context.run_migrations()
    connection.commit()
