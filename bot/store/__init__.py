"""Storage: deliveries, jobs and reviews on SQLite or PostgreSQL (SQLAlchemy + alembic)."""
