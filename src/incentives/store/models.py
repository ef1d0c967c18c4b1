"""The stored tables: accounts, API tokens, web sessions, clients and their versions, awards, runs, batch jobs.

Amounts are integer fen in BIGINT columns (a ¥20M cap is 2e9 fen, past a 32-bit integer). Timestamps are aware
UTC datetimes (SQLite stores them without an offset and they read back as UTC). The schema itself is created only by
the Alembic migrations in `migrations/versions`; these classes must stay in step with them (a test compares).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utc_now() -> datetime:
    return datetime.now(UTC)


class Account(SQLModel, table=True):
    __tablename__ = "account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)  # stored lower-case
    display_name: str = Field(max_length=200)
    password_hash: str = Field(max_length=255)
    is_active: bool = True
    created_at: datetime = Field(default_factory=utc_now)


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=100)
    # Tokens are 256-bit random strings, so a plain SHA-256 is enough to make a leaked table useless.
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=16)  # shown in lists so the owner can tell tokens apart
    created_at: datetime = Field(default_factory=utc_now)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class WebSession(SQLModel, table=True):
    """A signed-in browser: the cookie carries a random token, the table its hash (logout deletes the row)."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utc_now)
    expires_at: datetime


class LoginFailure(SQLModel, table=True):
    """One failed sign-in, counted per account and per IP address to slow down password guessing."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_email_at", "email", "at"), Index("ix_login_failure_ip_at", "ip", "at"))

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254)
    ip: str = Field(max_length=64)
    at: datetime = Field(default_factory=utc_now)


class Client(SQLModel, table=True):
    __tablename__ = "client"
    __table_args__ = (UniqueConstraint("account_id", "ref", name="uq_client_account_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    ref: str = Field(max_length=64)  # the consultant's own id for the client (企业编号 in the batch template)
    name: str = Field(max_length=200)  # copy of enterprise.name of the current version, for search and lists
    current_version: int = 1
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)


class ClientVersion(SQLModel, table=True):
    """One saved state of a client's profile; edits add rows, never change them."""

    __tablename__ = "client_version"
    __table_args__ = (UniqueConstraint("client_id", "version", name="uq_client_version"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True, ondelete="CASCADE")
    version: int
    # Canonical profile JSON without awards: awards live in their own table and are merged in to evaluate.
    profile_json: str = Field(sa_column=Column(Text, nullable=False))
    created_by: int | None = Field(default=None, foreign_key="account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utc_now)


class Award(SQLModel, table=True):
    """An award the client has already received, for cumulative and yearly caps."""

    __tablename__ = "award"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True, ondelete="CASCADE")
    scheme_id: str = Field(max_length=100)
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    award_date: date
    unit_id: str | None = Field(default=None, max_length=64)
    source: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utc_now)


class BatchJob(SQLModel, table=True):
    """A background job. `running` is only true while its lease is fresh; a stale lease means the worker died."""

    __tablename__ = "batch_job"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=32)  # "rerun_portfolio"
    as_of: date | None = None
    status: str = Field(default="queued", max_length=16)  # queued / running / succeeded / failed
    progress_done: int = 0
    progress_total: int = 0
    evaluated_count: int = 0
    rejected_count: int = 0
    error_report: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # JSON list
    result_path: str | None = Field(default=None, max_length=500)
    failure_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_expires_at: datetime | None = None
    created_at: datetime = Field(default_factory=utc_now)
    started_at: datetime | None = None
    finished_at: datetime | None = None


class EvaluationRun(SQLModel, table=True):
    """One evaluation of one client version: enough to reproduce it (input hash, date, rules version)."""

    __tablename__ = "evaluation_run"
    __table_args__ = (Index("ix_evaluation_run_client_created", "client_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True, ondelete="CASCADE")
    client_version_id: int = Field(foreign_key="client_version.id", ondelete="CASCADE")
    batch_job_id: int | None = Field(default=None, foreign_key="batch_job.id", index=True, ondelete="SET NULL")
    as_of: date
    rules_version: str = Field(max_length=100)
    input_sha256: str = Field(max_length=64)
    # The exact input evaluated (profile with the awards recorded at the time), so the run can be reproduced.
    input_json: str = Field(sa_column=Column(Text, nullable=False))
    result_json: str = Field(sa_column=Column(Text, nullable=False))
    total_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    potential_total_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    ran_by: int | None = Field(default=None, foreign_key="account.id", ondelete="SET NULL")
    ran_at: datetime = Field(default_factory=utc_now)
