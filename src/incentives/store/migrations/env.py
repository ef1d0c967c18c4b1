"""Alembic environment: run against the engine handed in by `incentives.store.db.migrate` (online only)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from incentives.store import models  # noqa: F401  (registers the tables on the metadata)
from sqlmodel import SQLModel

config = context.config
engine = config.attributes.get("engine") or create_engine(config.get_main_option("sqlalchemy.url"))

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table, PostgreSQL alters directly.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
