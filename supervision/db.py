"""The database at the edge: one engine factory, one session factory, migrations on first use.

SQLite (the default, a file in the working directory) runs with WAL and foreign keys on;
PostgreSQL is reached through ``postgresql+psycopg://``. The schema is owned by Alembic.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlmodel import Session, create_engine

import supervision.models  # noqa: F401  (registers every table)
from supervision.errors import SupervisionError

DEFAULT_URL = "sqlite:///supervision.db"
ENV_VAR = "SUPERVISION_DATABASE_URL"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def database_url(explicit: str | None = None) -> str:
    """The URL to use: --db, then $SUPERVISION_DATABASE_URL, then the SQLite default."""
    return explicit or os.environ.get(ENV_VAR) or DEFAULT_URL


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for `url`, with SQLite pragmas set on every connection."""
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"check_same_thread": False})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, pool_pre_ping=True)
    except (ArgumentError, ModuleNotFoundError) as exc:
        raise SupervisionError(
            f"无法识别数据库地址 {url}", f"cannot use database URL {url}: {exc}"
        ) from None
    return engine


def alembic_config(connection: Any = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@cache
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> bool:
    """Bring the schema to the newest migration; True if anything was applied."""
    try:
        if current_revision(engine) == head_revision():
            return False
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
    except OperationalError as exc:
        raise SupervisionError(
            f"无法连接或升级数据库 {engine.url!r}",
            f"cannot connect to or upgrade the database: {exc.orig}",
        ) from None
    return True


class Database:
    """An open project database: the engine plus the one session factory."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url)
        if migrate:
            upgrade(self.engine)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()
