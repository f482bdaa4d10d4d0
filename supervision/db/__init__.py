"""The database at the edge: engine and sessions (``engine``), table helpers (``tables``),
and the Alembic migrations (``migrations/``). The process-pool helper is
``supervision.pools``: it needs no database, and a spawned worker that imported it from
here would import SQLAlchemy and every model for nothing.

Callers import from here: ``from supervision.db import Database, upsert_insert``.
"""

from supervision.db.engine import (
    BUSY_TIMEOUT_MS,
    DEFAULT_URL,
    ENV_VAR,
    MIGRATIONS,
    SCHEMA_HEAD,
    Database,
    alembic_config,
    current_revision,
    database_url,
    head_revision,
    make_engine,
    upgrade,
)
from supervision.db.tables import (
    busy_is_an_error,
    drop_plain_indexes,
    hold_write,
    needs_statistics,
    refresh_statistics,
    table_of,
    upsert_insert,
    utf8_bytes,
)

__all__ = [
    "BUSY_TIMEOUT_MS",
    "DEFAULT_URL",
    "ENV_VAR",
    "MIGRATIONS",
    "SCHEMA_HEAD",
    "Database",
    "alembic_config",
    "busy_is_an_error",
    "current_revision",
    "database_url",
    "drop_plain_indexes",
    "head_revision",
    "hold_write",
    "make_engine",
    "needs_statistics",
    "refresh_statistics",
    "table_of",
    "upgrade",
    "upsert_insert",
    "utf8_bytes",
]
