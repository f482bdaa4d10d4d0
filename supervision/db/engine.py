"""The database at the edge: one engine factory, one session factory, migrations on first use.

SQLite (the default, a file in the working directory) runs with WAL and foreign keys on;
PostgreSQL is reached through ``postgresql+psycopg://``. The schema is owned by Alembic.

Alembic is imported only when a migration has to run: a database already at
``SCHEMA_HEAD`` is recognised by one select of ``alembic_version``, which keeps every
command's start-up short (a test holds ``SCHEMA_HEAD`` equal to Alembic's own head).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import ArgumentError, DisconnectionError, OperationalError, ProgrammingError
from sqlmodel import Session, create_engine

import supervision.db.stored_text
import supervision.models  # noqa: F401  (registers every table)
from supervision.errors import SupervisionError
from supervision.settings import settings

DEFAULT_URL = "sqlite:///supervision.db"
ENV_VAR = "SUPERVISION_DATABASE_URL"
#: SQLite: how long a write waits for another writer's lock before giving up.
BUSY_TIMEOUT_MS = 30_000
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: The newest migration's revision. If it lags behind a new migration, start-up only
#: gets slower (Alembic is consulted every time); tests/test_db.py catches that.
SCHEMA_HEAD = "0026"


def database_url(explicit: str | None = None) -> str:
    """The URL to use: --db, then $SUPERVISION_DATABASE_URL, then the SQLite default."""
    return explicit or settings().database_url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


_raw_decode = json.JSONDecoder().raw_decode


def json_loads(text: Any) -> Any:
    """``json.loads``, same answers and errors, for the JSON columns SQLite gives back as
    text: one ``raw_decode`` of the whole text, without ``loads``'s wrapping (a check reads
    every record's payload: about a fifth of its reading time went there). Anything that
    is not one JSON value filling the text takes ``json.loads`` itself."""
    try:
        value, end = _raw_decode(text)
    except (ValueError, TypeError):
        return json.loads(text)
    return value if end == len(text) else json.loads(text)


#: PostgreSQL: a pooled connection idle for longer than this is pinged before use.
PING_AFTER_IDLE_S = 2.0


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled PostgreSQL connection before use only when it sat idle in the pool.

    ``pool_pre_ping`` pings on every checkout: one more round trip per console page,
    a tenth of a queue page's time under load. A connection given back moments ago is
    alive; one that sat in the pool (across a database restart, a network drop) is
    pinged, and a dead one is replaced before anyone sees an error (the pool retries a
    checkout that raises ``DisconnectionError``). A restart in the middle of steady
    traffic costs at most the requests then in flight: SQLAlchemy recognises the
    disconnect and renews the whole pool."""

    def stamp(_dbapi: Any, record: Any, *_: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    def ping_if_idle(dbapi: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is not None and time.monotonic() - since < PING_AFTER_IDLE_S:
            return
        try:
            alive = engine.dialect.do_ping(dbapi)
        except Exception as exc:  # any failure: the connection cannot be trusted
            raise DisconnectionError(f"pooled connection failed its ping: {exc}") from exc
        if not alive:
            raise DisconnectionError("pooled connection failed its ping")

    event.listen(engine, "connect", stamp)
    event.listen(engine, "checkin", stamp)
    event.listen(engine, "checkout", ping_if_idle)


def make_engine(url: str) -> Engine:
    """An engine for `url`, with SQLite pragmas set on every connection."""
    try:
        if url.startswith("sqlite"):
            engine = create_engine(
                url, connect_args={"check_same_thread": False}, json_deserializer=json_loads
            )
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url)
            _ping_when_idle(engine)
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

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection for reads only, in autocommit: each statement sees the data as of
        its start (what READ COMMITTED gives anyway), without a BEGIN and a ROLLBACK round
        trip on PostgreSQL around them (a review-queue page: the pool's ping and one statement)."""
        with self.engine.connect() as conn:
            yield conn.execution_options(isolation_level="AUTOCOMMIT")

    def dispose(self) -> None:
        self.engine.dispose()
