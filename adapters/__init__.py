"""Persistence adapters: SQLAlchemy tables, repositories and unit of work behind the ports in
`lrs_ws.services.ports`, Alembic migrations, and the bulk loader for synthetic learners."""
