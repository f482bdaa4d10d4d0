"""Writing the demo province into a database: Core bulk inserts, one transaction.

The rows come from supervision.demo.province (pure). Inserts are chunked executemany calls of
the tables' Core ``insert()``, never ``session.add_all``. On PostgreSQL that is
``connection.execute(table.insert(), rows)``; on SQLite, where a million entities bring
about seven million records, three things make it several times faster: entities arrive
in key order (see ``DemoProvince.batches``), secondary indexes are rebuilt once at the
end, and from ``PARALLEL_FROM`` entities on a forked producer process generates while
this process writes. Either everything is written or nothing is.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from queue import Empty
from typing import Any

from sqlalchemy import (
    Connection,
    Table,
    inspect,
    select,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect
from sqlmodel import SQLModel

from supervision import pools
from supervision.db import Database, drop_plain_indexes, refresh_statistics, table_of
from supervision.db.bulk import DriverStatement
from supervision.demo.province import DemoProvince, DemoStats, Row
from supervision.errors import SupervisionError
from supervision.models import (
    ComplianceRecord,
    Conflict,
    Department,
    Entity,
    InspectionItem,
    Inspector,
)

__all__ = [
    "CHUNK_SIZE",
    "DEMO_TABLES",
    "DatabaseNotEmpty",
    "DemoLoadResult",
    "clear_tables",
    "load_demo",
    "non_empty_tables",
    "tables_to_clear",
]

CHUNK_SIZE = 10_000

#: The tables the demo fills, parents first.
DEMO_TABLES: tuple[Table, ...] = tuple(
    table_of(m) for m in (Department, InspectionItem, Inspector, Entity, Conflict, ComplianceRecord)
)


class DatabaseNotEmpty(SupervisionError):
    """The demo refuses to mix its rows with data already in the database."""


@dataclass
class DemoLoadResult:
    """What a load did: the generator's statistics, rows written per table, timings."""

    stats: DemoStats
    rows: dict[str, int] = field(default_factory=dict)
    cleared: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def tables_to_clear(connection: Connection) -> list[Table]:
    """The demo tables plus every existing table that refers to them, children first.

    ``--fresh`` empties these: a later feature's rows that point at a demo entity or
    inspector (draw picks, assignments...) cannot outlive what they point at.
    """
    existing = set(inspect(connection).get_table_names())
    # Plans and tasks (and everything hanging off them) are the demo's too: its draw step
    # makes them, and a fresh demo must not keep draws of entities that no longer exist.
    wanted = {t.name for t in DEMO_TABLES} | {"plan", "task"}
    ordered = SQLModel.metadata.sorted_tables  # parents before children
    changed = True
    while changed:  # close over foreign keys: anything referring to a wanted table
        changed = False
        for table in ordered:
            if table.name in wanted:
                continue
            if any(fk.column.table.name in wanted for fk in table.foreign_keys):
                wanted.add(table.name)
                changed = True
    return [t for t in reversed(ordered) if t.name in wanted and t.name in existing]


def non_empty_tables(connection: Connection) -> list[str]:
    """Names of the tables (of those ``--fresh`` would empty) that hold at least one row."""
    return [
        t.name
        for t in tables_to_clear(connection)
        if connection.execute(select(1).select_from(t).limit(1)).first() is not None
    ]


def clear_tables(connection: Connection) -> dict[str, int]:
    """Delete every row of the demo tables and their dependents; returns rows deleted."""
    deleted: dict[str, int] = {}
    for table in tables_to_clear(connection):
        deleted[table.name] = connection.execute(table.delete()).rowcount
    return deleted


class _SQLiteParameters:
    """SQLite fast path for a demo table: its INSERT run by the driver with the columns'
    own bind processors (``db.bulk.DriverStatement``), rows taken from the generator's
    mappings in column order."""

    def __init__(self, dialect: Dialect, table: Table) -> None:
        names = [column.name for column in table.columns]
        self.statement = DriverStatement(table.insert(), table, names, dialect)
        self.sql = self.statement.sql
        get = itemgetter(*names)  # one name would give the value, not a tuple
        self._values = get if len(names) > 1 else (lambda row: (get(row),))

    def parameters(self, rows: list[Row]) -> list[tuple[Any, ...]]:
        return self.statement.parameters(list(map(self._values, rows)))


class _Writer:
    """Chunked inserts on one connection, counting rows per table."""

    def __init__(self, connection: Connection, chunk_size: int) -> None:
        self.connection = connection
        self.chunk_size = chunk_size
        self.counts: dict[str, int] = {t.name: 0 for t in DEMO_TABLES}
        self.sqlite = connection.dialect.name == "sqlite"
        self._inserters: dict[str, _SQLiteParameters] = {}

    def insert(self, table: Table, rows: list[Row]) -> None:
        """Insert ``rows`` (one executemany per chunk)."""
        for start in range(0, len(rows), self.chunk_size):
            chunk = rows[start : start + self.chunk_size]
            if self.sqlite:
                inserter = self._inserters.get(table.name)
                if inserter is None:
                    inserter = _SQLiteParameters(self.connection.dialect, table)
                    self._inserters[table.name] = inserter
                self.connection.exec_driver_sql(inserter.sql, inserter.parameters(chunk))
            else:
                self.connection.execute(table.insert(), chunk)
            self.counts[table.name] += len(chunk)

    def insert_prepared(self, table: Table, parameters: list[tuple[Any, ...]]) -> None:
        """Insert SQLite parameters made by ``_SQLiteParameters`` (in the producer process)."""
        for start in range(0, len(parameters), self.chunk_size):
            chunk = parameters[start : start + self.chunk_size]
            inserter = self._inserters.get(table.name)
            if inserter is None:
                inserter = _SQLiteParameters(self.connection.dialect, table)
                self._inserters[table.name] = inserter
            self.connection.exec_driver_sql(inserter.sql, chunk)
            self.counts[table.name] += len(chunk)


def _write_in_process(
    writer: _Writer, province: DemoProvince, advance: Callable[[int], object] | None
) -> None:
    _, _, _, entity, conflict, record = DEMO_TABLES
    chunk_size = writer.chunk_size
    conflicts: list[Row] = []
    records: list[Row] = []
    for batch in province.batches(chunk_size):
        writer.insert(entity, batch.entities)
        conflicts += batch.conflicts
        records += batch.records
        if len(records) >= chunk_size:
            full = len(records) - len(records) % chunk_size
            writer.insert(record, records[:full])
            del records[:full]
        if len(conflicts) >= chunk_size:  # written as they come: never the whole province's
            writer.insert(conflict, conflicts)
            conflicts = []
        if advance is not None:
            advance(len(batch.entities))
    writer.insert(record, records)
    writer.insert(conflict, conflicts)


# ---------------------------------------------------------------- the producer process
#: From this many entities on, SQLite loads generate in a second process while the
#: first one writes: generation and SQLite's own work then overlap.
PARALLEL_FROM = 50_000
_QUEUE_DEPTH = 3


def _produce(province: DemoProvince, chunk_size: int, queue: Any) -> None:
    """Producer process: generate batches and turn entities and conflicts into SQLite
    parameters (records, the bulk, are converted by the writer: that balances the load)."""
    try:
        dialect = sqlite.dialect()
        entities = _SQLiteParameters(dialect, DEMO_TABLES[3])
        conflicts = _SQLiteParameters(dialect, DEMO_TABLES[4])
        for batch in province.batches(chunk_size):
            queue.put((
                "batch",
                entities.parameters(batch.entities),
                conflicts.parameters(batch.conflicts),
                batch.records,
            ))  # fmt: skip
        queue.put(("done", province.stats))
    except BaseException:
        queue.put(("error", traceback.format_exc()))
        raise


def _prepared_batches(province: DemoProvince, chunk_size: int) -> Iterator[tuple[Any, ...]]:
    """Batches of SQLite parameters from a producer process; sets ``province.stats`` at the end."""
    # fork, not spawn: spawn re-imports the __main__ module, and `python -m supervision`
    # would run the whole command again in the child. The child touches no inherited
    # connection and leaves through os._exit, so the parent's open transaction is safe.
    # pools.context gives a concrete context (ForkContext): it has Process, which the
    # BaseContext it is typed as lacks.
    context: Any = pools.context("fork")
    queue = context.Queue(maxsize=_QUEUE_DEPTH)
    producer = context.Process(
        target=_produce, args=(province, chunk_size, queue), name="demo-producer", daemon=True
    )
    producer.start()
    try:
        while True:
            try:
                message = queue.get(timeout=5)
            except Empty:
                if not producer.is_alive():
                    raise RuntimeError("the demo producer process died") from None
                continue
            if message[0] == "batch":
                yield message[1:]
            elif message[0] == "done":
                province.stats = message[1]
                return
            else:
                raise RuntimeError(f"the demo producer process failed:\n{message[1]}")
    finally:
        if producer.is_alive():
            producer.terminate()
        producer.join(timeout=10)


def load_demo(
    database: Database,
    province: DemoProvince,
    *,
    fresh: bool = False,
    chunk_size: int = CHUNK_SIZE,
    advance: Callable[[int], object] | None = None,
    parallel: bool | None = None,
) -> DemoLoadResult:
    """Write ``province`` into ``database`` in one transaction.

    Refuses (DatabaseNotEmpty) when the demo tables already hold rows, unless ``fresh``,
    which first deletes all rows of those tables (and of tables referring to them) in the
    same transaction. ``advance(n)`` is called as entities are written (for a progress bar).
    ``parallel`` (default: SQLite with at least PARALLEL_FROM entities) generates in a
    second process; the rows written are the same either way.
    """
    started = time.perf_counter()
    department, item, inspector, entity, conflict, record = DEMO_TABLES
    cleared: dict[str, int] = {}
    with database.engine.begin() as conn:
        if database.is_sqlite:
            # A bigger page cache for this connection: the record indexes grow large.
            conn.exec_driver_sql("PRAGMA cache_size=-262144")
            conn.exec_driver_sql("PRAGMA temp_store=MEMORY")
        occupied = non_empty_tables(conn)
        if occupied and not fresh:
            raise DatabaseNotEmpty(
                f"数据库中已有数据（{'、'.join(occupied)}），演示数据不会与之混合；"
                "如要清空这些表并重新生成，请加 --fresh",
                f"the database already holds data ({', '.join(occupied)}); the demo will not "
                "mix with it. Pass --fresh to delete all rows of these tables and generate anew",
            )
        if occupied:
            cleared = clear_tables(conn)
        writer = _Writer(conn, chunk_size)
        writer.insert(department, province.departments())
        # SQLite: secondary indexes built once at the end (db.drop_plain_indexes), once
        # the first INSERT has opened the transaction that rolls the drop back on failure.
        rebuild = [*drop_plain_indexes(conn, entity.name), *drop_plain_indexes(conn, record.name)]
        writer.insert(item, province.items())
        writer.insert(inspector, province.inspectors())
        if parallel is None:
            parallel = database.is_sqlite and province.entity_count >= PARALLEL_FROM
        if parallel and database.is_sqlite and pools.can_fork():
            for entities, conflicts, records in _prepared_batches(province, chunk_size):
                writer.insert_prepared(entity, entities)
                writer.insert(record, records)
                writer.insert_prepared(conflict, conflicts)
                if advance is not None:
                    advance(len(entities))
        else:
            _write_in_process(writer, province, advance)
        for statement in rebuild:
            conn.exec_driver_sql(statement)
        refresh_statistics(conn, writer.counts)  # PostgreSQL: the next step plans with them
        if database.is_sqlite:
            # The default cache again: the pooled connection would keep its 256 MB for
            # the rest of the process (the demo's draw, check and publish).
            conn.exec_driver_sql("PRAGMA cache_size=-2000")
    pools.release_free_memory()  # the batches and the page cache, freed but still held
    return DemoLoadResult(
        stats=province.stats,
        rows=writer.counts,
        cleared=cleared,
        seconds=time.perf_counter() - started,
    )
