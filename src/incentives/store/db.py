"""Where the store lives and how to open it: SQLite under the user's data directory, or PostgreSQL by URL.

`INCENTIVES_DATABASE_URL` chooses the database (`postgresql+psycopg://…` or `sqlite:///path`); without it the
store is `incentives.db` under `$XDG_DATA_HOME/incentives` (default `~/.local/share/incentives`). The schema is
made and upgraded by the Alembic migrations only (`migrate`), on both databases.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "incentives"


def database_url() -> str:
    """The configured database URL, or the default SQLite file (its directory is created)."""
    url = os.environ.get("INCENTIVES_DATABASE_URL")
    if url:
        return url
    directory = data_dir()
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{directory / 'incentives.db'}"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


_WAL_WAIT_SECONDS = 15  # as long as the busy timeout


def _use_wal(cursor) -> None:
    """Switch a new database file to WAL (the mode is kept in the file, so later connections find it set).

    Several processes opening a new store at once race to switch it, and SQLite may refuse the switch with
    "database is locked" at once rather than through the busy timeout, so it is retried for as long."""
    deadline = time.monotonic() + _WAL_WAIT_SECONDS
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions start (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=15000")
        _use_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        # FULL: a commit that returned is on disk even if the machine, not just the process, dies next.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        # A write transaction takes the write lock up front: a deferred one that reads and then writes can hit
        # SQLITE_BUSY at once (no busy wait), when another writer got there in between.
        if connection.get_execution_options().get("sqlite_write"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def make_engine(url: str | None = None, *, pool: bool = True) -> Engine:
    """An engine for the URL (default: `database_url()`), with SQLite set to WAL and foreign keys on."""
    url = url or database_url()
    parsed = make_url(url)
    kwargs: dict = {}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 15}
    if not pool:
        kwargs["poolclass"] = NullPool
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to `revision` (default: the newest)."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    command.downgrade(alembic_config(engine), revision)


def schema_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A session whose work commits together at the end, or not at all if anything raises."""
    with Session(engine, expire_on_commit=False) as session:
        session.connection(execution_options={"sqlite_write": True})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
