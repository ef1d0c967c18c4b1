"""The consultant workspace store: SQLModel tables, Alembic migrations and tenant-scoped queries."""
