"""Every store test runs twice: on a fresh SQLite file and on a fresh PostgreSQL database.

PostgreSQL comes from INCENTIVES_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test).
That database is only used to CREATE and DROP uniquely named databases (one migrated template per test process,
one copy per test), so parallel test processes and other users of the server never see each other's rows.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from incentives.store.db import make_engine, migrate

PG_ENV = "INCENTIVES_TEST_DATABASE_URL"
PG_SKIP = (f"PostgreSQL store tests need {PG_ENV}, e.g. "
           f"{PG_ENV}=postgresql+psycopg://postgres@127.0.0.1:5432/test (the server must allow CREATE DATABASE)")
BACKENDS = [pytest.param("sqlite", id="sqlite"), pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres)]


class PostgresServer:
    """Creates and drops throwaway databases on the server named by the test URL."""

    def __init__(self, url: str):
        self.url = make_url(url)
        self.admin = create_engine(self.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        self.prefix = f"inc_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self.created: list[str] = []

    def url_for(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def create(self, template: str | None = None) -> str:
        name = f"{self.prefix}_{len(self.created)}"
        with self.admin.connect() as connection:
            clause = f' TEMPLATE "{template}"' if template else ""
            connection.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        self.created.append(name)
        return name

    def drop(self, name: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self.created:
            self.created.remove(name)

    def close(self) -> None:
        for name in list(reversed(self.created)):
            self.drop(name)
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(PG_SKIP)
    server = PostgresServer(url)
    yield server
    server.close()


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> str:
    """A migrated database to copy: CREATE DATABASE … TEMPLATE is much faster than migrating each time."""
    name = postgres_server.create()
    engine = make_engine(postgres_server.url_for(name), pool=False)
    migrate(engine)
    engine.dispose()
    return name


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def empty_url(backend, request, tmp_path) -> Iterator[str]:
    """The URL of a fresh, empty database of the current backend."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create()
    yield server.url_for(name)
    server.drop(name)


@pytest.fixture
def store_url(backend, request, tmp_path) -> Iterator[str]:
    """The URL of a fresh database of the current backend, migrated to the newest schema."""
    if backend == "sqlite":
        path = tmp_path / "store.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create(template=request.getfixturevalue("postgres_template"))
    yield server.url_for(name)
    server.drop(name)


@pytest.fixture
def engine(store_url) -> Iterator[Engine]:
    engine = make_engine(store_url)
    yield engine
    engine.dispose()


@pytest.fixture
def account(engine):
    from incentives.store.accounts import create_account

    return create_account(engine, f"a-{uuid.uuid4().hex[:6]}@example.cn", "correct horse battery")


@pytest.fixture
def other_account(engine):
    from incentives.store.accounts import create_account

    return create_account(engine, f"b-{uuid.uuid4().hex[:6]}@example.cn", "another long password")


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch):
    """Production argon2 settings cost ~0.1 s per hash by design; tests use the same algorithm, cheaper."""
    from argon2 import PasswordHasher

    from incentives.store import accounts

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(accounts, "_hasher", cheap)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", cheap.hash("dummy"))
