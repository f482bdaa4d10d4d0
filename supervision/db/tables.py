"""Table helpers shared by every writer: dialect-neutral upserts, a table of a model,
UTF-8 bytes straight from the database, bulk-load index drops, fresh planner statistics
after a bulk write, the write hold that stamps rows, and a busy database as a clear
error."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, Text, TypeDecorator, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from supervision import clock
from supervision.errors import SupervisionError


def table_of(model: Any) -> Table:
    """The SQLAlchemy ``Table`` behind a SQLModel table class (typed, in one place)."""
    table: Table = model.__table__
    return table


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


#: PostgreSQL's autovacuum defaults (``autovacuum_analyze_threshold`` and
#: ``autovacuum_analyze_scale_factor``): a table is analysed again once more rows than
#: this changed, plus this share of the rows it held.
ANALYZE_THRESHOLD = 50
ANALYZE_SCALE_FACTOR = 0.1


def needs_statistics(changed: int, known_rows: float) -> bool:
    """Whether ``changed`` written rows make a table's planner statistics stale, by
    autovacuum's own rule; ``known_rows`` is the row count the planner last recorded
    (``pg_class.reltuples``; negative: the table was never analysed)."""
    if changed <= 0:
        return False
    if known_rows < 0:
        return True
    return changed > ANALYZE_THRESHOLD + ANALYZE_SCALE_FACTOR * known_rows


def refresh_statistics(conn: Connection, changed: Mapping[str, int]) -> list[str]:
    """After a bulk write on PostgreSQL, ``ANALYZE`` (in the caller's transaction, so the
    statistics commit or roll back with the rows) each table whose changed rows pass
    ``needs_statistics``; returns the tables analysed. Nothing on SQLite.

    Autovacuum would analyse such a table too, but a minute or more later, and never
    where it is switched off: the statement right after a bulk load plans without them.
    Measured on a 2.6M-entity province loaded in bulk: the incremental check's read of
    the changed entities' records (``uscc IN`` 1,000 values, an index range each) became
    a sequential scan of 18M records per chunk, 38 s against 9 s with statistics.
    ``ANALYZE`` samples a fixed number of rows, about a second on such a table."""
    if conn.dialect.name != "postgresql":
        return []
    wanted = [name for name, n in changed.items() if n > 0]
    if not wanted:
        return []
    found = conn.execute(
        text("SELECT relname, reltuples FROM pg_class WHERE oid = ANY(CAST(:names AS regclass[]))"),
        {"names": wanted},
    )
    known = {str(name): float(rows) for name, rows in found}
    due = [name for name in wanted if needs_statistics(changed[name], known.get(name, -1.0))]
    if due:
        quote = conn.dialect.identifier_preparer.quote
        conn.exec_driver_sql("ANALYZE " + ", ".join(quote(name) for name in due))
    return due


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
