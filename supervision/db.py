"""The database at the edge: one engine factory, one session factory, migrations on first use.

SQLite (the default, a file in the working directory) runs with WAL and foreign keys on;
PostgreSQL is reached through ``postgresql+psycopg://``. The schema is owned by Alembic.

Alembic is imported only when a migration has to run: a database already at
``SCHEMA_HEAD`` is recognised by one select of ``alembic_version``, which keeps every
command's start-up short (a test holds ``SCHEMA_HEAD`` equal to Alembic's own head).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, Text, TypeDecorator, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, create_engine

import supervision.models  # noqa: F401  (registers every table)
from supervision import clock
from supervision.errors import SupervisionError

DEFAULT_URL = "sqlite:///supervision.db"
ENV_VAR = "SUPERVISION_DATABASE_URL"
#: SQLite: how long a write waits for another writer's lock before giving up.
BUSY_TIMEOUT_MS = 30_000
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: The newest migration's revision. If it lags behind a new migration, start-up only
#: gets slower (Alembic is consulted every time); tests/test_db.py catches that.
SCHEMA_HEAD = "0010"


def upsert_insert(table: Table, dialect: str) -> Any:
    """``INSERT`` for ``table`` with ``on_conflict_do_update`` / ``_do_nothing``: the
    PostgreSQL construct on PostgreSQL, SQLite's otherwise (both spell it the same)."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


class _UTF8Bytes(TypeDecorator[bytes]):
    """Text handed out as UTF-8 bytes: as stored on SQLite (``CAST … AS BLOB``), encoded
    here on PostgreSQL (``convert_to`` would come as hex-encoded bytea, twice as slow)."""

    impl = Text
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> bytes | None:
        return value.encode() if isinstance(value, str) else value


class utf8_bytes(FunctionElement[bytes]):  # lower case: used like a SQL function
    """A text column's value as UTF-8 bytes, not decoded to ``str`` on the way out
    where the database can avoid it: for text the reader only passes on as bytes
    (``checking`` reads stored fact templates so). SQLite hands back the stored bytes
    (our databases are UTF-8, its default); elsewhere the text is encoded on arrival."""

    type = _UTF8Bytes()
    name = "utf8_bytes"
    inherit_cache = True


@compiles(utf8_bytes)
def _utf8_bytes_default(element: utf8_bytes, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(utf8_bytes, "sqlite")
def _utf8_bytes_sqlite(element: utf8_bytes, compiler: Any, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS BLOB)"


def drop_plain_indexes(conn: Connection, table: str) -> list[str]:
    """SQLite bulk loads: drop ``table``'s plain (non-unique, CREATE INDEX) indexes and
    return the statements that build them again; run those before the commit.

    SQLite builds an index over a million rows several times faster in one sorted pass
    than row by row. DDL is transactional in SQLite, so inside the load's open
    transaction a failed or killed load rolls the drop back with everything else; with
    no transaction open (pysqlite begins one at the first INSERT, not at DDL) nothing is
    dropped, since the drop would outlive a failure. Nothing on other databases either.
    """
    if conn.dialect.name != "sqlite":
        return []
    if not getattr(conn.connection.driver_connection, "in_transaction", False):
        return []
    plain = {
        row[1]
        for row in conn.exec_driver_sql(f'PRAGMA index_list("{table}")')
        if row[2] == 0 and row[3] == "c"  # not unique, made by CREATE INDEX
    }
    found = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
        " AND sql IS NOT NULL ORDER BY name",
        (table,),
    ).all()
    rebuild = []
    for index, sql in found:
        if index in plain:
            conn.exec_driver_sql(f'DROP INDEX "{index}"')
            rebuild.append(sql)
    return rebuild


@contextmanager
def busy_is_an_error() -> Iterator[None]:
    """Inside: a database that another writer kept locked beyond the busy timeout
    (SQLite; a check run or an import holds the write lock) is a clear error, not a
    traceback. Every write is one transaction, so nothing was changed."""
    try:
        yield
    except OperationalError as exc:
        message = str(exc.orig).lower()
        if "locked" in message or "busy" in message:
            raise SupervisionError(
                "数据库正忙（可能正在进行核查或导入），未作任何更改，请稍后再试",
                "the database is busy (a check run or an import may be in progress); "
                "nothing was changed, try again later",
            ) from None
        raise


def hold_write(conn: Connection) -> datetime:
    """Start writing in ``conn``'s transaction and return the time to stamp its rows
    with (``stored_at``, ``updated_at``): every writer of entities and records calls
    this before it stamps anything, so that a check can tell from the stamps alone
    what it may not have seen (``checking``).

    SQLite: takes the database's write lock now (a statement that writes nothing),
    waiting like any write, and reads this machine's clock: no other writer can stamp
    before this point and commit after it. PostgreSQL: the transaction's start by the
    server's clock (``now()``), which ``pg_stat_activity`` shows while it is in flight:
    one clock for every host.
    """
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("DELETE FROM entity WHERE 0")
        return clock.now()
    started: datetime = conn.execute(text("SELECT now()")).scalar_one()
    return clock.as_utc(started)


def database_url(explicit: str | None = None) -> str:
    """The URL to use: --db, then $SUPERVISION_DATABASE_URL, then the SQLite default."""
    return explicit or os.environ.get(ENV_VAR) or DEFAULT_URL


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
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


def alembic_config(connection: Any = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@cache
def head_revision() -> str | None:
    """The newest revision among the migration scripts (Alembic's answer)."""
    from alembic.script import ScriptDirectory

    head: str | None = ScriptDirectory.from_config(alembic_config()).get_current_head()
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (Alembic's answer; None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        revision: str | None = MigrationContext.configure(conn).get_current_revision()
        return revision


def _at_schema_head(engine: Engine) -> bool:
    """True when the database is known to be at ``SCHEMA_HEAD`` (one cheap select)."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except (OperationalError, ProgrammingError):
        return False  # no alembic_version table yet (or no server): let Alembic decide
    return rows == [SCHEMA_HEAD]


def upgrade(engine: Engine) -> bool:
    """Bring the schema to the newest migration; True if anything was applied."""
    if _at_schema_head(engine):
        return False
    try:
        if current_revision(engine) == head_revision():
            return False
        from alembic import command

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
