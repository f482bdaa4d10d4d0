"""SQLite's bulk fast path, one way for every bulk writer (the import, the demo load, the
check's upserts).

A Core statement is compiled once and run by the driver's executemany with tuples: on
SQLite, SQLAlchemy's per-row parameter handling costs more than the insert itself
(measured 63k against 106k rows/s on an import). Every value is still converted by its
column's own bind processor, as Core would convert it, so rows are stored exactly as
``conn.execute(statement, dicts)`` stores them. Values of one plain type are converted
once per distinct value: dates, flags, codes and time stamps repeat endlessly. None is
passed as None (SQL NULL) where Core would hand it to the processor too: the same for
every type but JSON, whose processor writes None as the JSON text ``null``; the bulk
writers' JSON columns are NOT NULL, so a None there is refused rather than stored so.

PostgreSQL keeps Core's executemany (psycopg pipelines it); callers choose by
``conn.dialect.paramstyle == "qmark"``. Rows that are only ever appended, plain values in
key order, can go through ``append_rows`` instead: ``COPY … FROM STDIN`` on PostgreSQL (the
draw's millions of eligibility rows: a pipelined INSERT per row cost about 20 µs of the
writer's time each), the compiled statement here on SQLite.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from itertools import repeat
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.engine import Dialect

from supervision.batches import batched

__all__ = ["DriverStatement", "append_rows", "processed"]

Processor = Callable[[Any], Any]

#: Types whose equal values convert alike (not 1 and True: a set would merge them, hence
#: one memory per type; datetimes only within one time zone, see ``processed``).
_PLAIN = frozenset({str, int, bool, date, datetime})
#: Distinct values remembered per column and type before the memory starts afresh.
_PROCESSED_LIMIT = 100_000


def processed(
    values: Sequence[Any], process: Processor, memory: dict[Any, dict[Any, Any]]
) -> list[Any]:
    """``process`` applied to every value but None (kept None), once per distinct value.

    ``memory`` serves one column across calls. Values of mixed types, or of a type whose
    equal values may convert differently, are converted one by one. Datetimes are
    remembered only when all share one ``tzinfo`` (equal datetimes in two zones are
    stored differently), under that ``tzinfo``.
    """
    kinds = set(map(type, values)) - {type(None)}
    if len(kinds) != 1 or (kind := kinds.pop()) not in _PLAIN:
        return [None if v is None else process(v) for v in values]
    key: Any = kind
    if kind is datetime:
        zones = {v.tzinfo for v in values if v is not None}
        if len(zones) != 1:
            return [None if v is None else process(v) for v in values]
        key = (kind, zones.pop())
    done = memory.setdefault(key, {})
    if len(done) > _PROCESSED_LIMIT:
        done.clear()
    done[None] = None
    for value in set(values).difference(done):
        done[value] = process(value)
    return list(map(done.__getitem__, values))


class DriverStatement:
    """A statement compiled once for SQLite, with its columns' bind processors.

    ``columns`` name the statement's parameters in the order rows give their values; a
    statement that orders them otherwise is refused (``RuntimeError``). The last
    ``constants`` columns take one value for every row (``run(..., constants=...)``).
    """

    def __init__(
        self, statement: Any, table: Table, columns: Sequence[str], dialect: Dialect
    ) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(columns))
        order = tuple(compiled.positiontup or ())
        if order != tuple(columns):
            raise RuntimeError(f"unexpected parameter order {order} for {tuple(columns)}")
        self.sql = str(compiled)
        self.columns = tuple(columns)
        self.processors: tuple[Processor | None, ...] = tuple(
            table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns
        )
        self._memory: list[dict[Any, dict[Any, Any]]] = [{} for _ in columns]

    def parameters(
        self, rows: Sequence[Sequence[Any]], constants: Sequence[Any] = ()
    ) -> list[tuple[Any, ...]]:
        """The driver's parameters for ``rows`` (each the values of the first columns, in
        order) followed by ``constants`` for the last ones."""
        if not rows:
            return []
        width = len(self.columns) - len(constants)
        columns: list[Any] = list(zip(*rows, strict=True))
        if len(columns) != width:
            raise ValueError(f"rows of {len(columns)} values for {width} columns")
        for i, process in enumerate(self.processors[:width]):
            if process is not None:
                columns[i] = processed(columns[i], process, self._memory[i])
        for value, process in zip(constants, self.processors[width:], strict=True):
            converted = value if value is None or process is None else process(value)
            columns.append(repeat(converted))
        return list(zip(*columns, strict=False))  # constants: repeat()

    def run(
        self, conn: Connection, rows: Sequence[Sequence[Any]], constants: Sequence[Any] = ()
    ) -> None:
        """Execute the statement once per row (nothing for no rows)."""
        if rows:
            conn.exec_driver_sql(self.sql, self.parameters(rows, constants))


def append_rows(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    chunk: int = 20_000,
) -> int:
    """Insert ``rows`` (tuples of plain values: text, numbers, dates) into ``columns`` of
    ``table`` in the connection's transaction; returns how many.

    PostgreSQL: one ``COPY … FROM STDIN``, values adapted by psycopg as it adapts
    parameters. SQLite: the compiled statement, ``chunk`` rows per executemany. Either way
    the rows are consumed as they are sent, so a generator holds one chunk at most.
    """
    if conn.dialect.name == "postgresql":
        from psycopg import sql

        copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        written = 0
        raw = conn.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row)
                written += 1
        return written
    statement = DriverStatement(table.insert(), table, columns, conn.dialect)
    written = 0
    for batch in batched(rows, chunk):
        statement.run(conn, batch)
        written += len(batch)
    return written
