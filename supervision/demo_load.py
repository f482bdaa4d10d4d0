"""Writing the demo province into a database: Core bulk inserts, one transaction.

The rows come from supervision.demo (pure). Inserts go through SQLAlchemy Core
``connection.execute(table.insert(), rows)`` in chunks (executemany), never through
``session.add_all``: a million entities and their ~8 million records must load in about
a minute on SQLite. Either everything is written or nothing is.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import Connection, Table, inspect, select
from sqlmodel import SQLModel

from supervision.db import Database
from supervision.demo import DemoProvince, DemoStats, Row
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
    m.__table__  # type: ignore[union-attr]
    for m in (Department, InspectionItem, Inspector, Entity, Conflict, ComplianceRecord)
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
    wanted = {t.name for t in DEMO_TABLES}
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


def _insert(connection: Connection, table: Table, rows: list[Row], counts: dict[str, int]) -> None:
    if rows:
        connection.execute(table.insert(), rows)
        counts[table.name] = counts.get(table.name, 0) + len(rows)


def _insert_chunked(
    connection: Connection, table: Table, rows: Iterable[Row], counts: dict[str, int],
    chunk_size: int,
) -> None:  # fmt: skip
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= chunk_size:
            _insert(connection, table, chunk, counts)
            chunk = []
    _insert(connection, table, chunk, counts)


def load_demo(
    database: Database,
    province: DemoProvince,
    *,
    fresh: bool = False,
    chunk_size: int = CHUNK_SIZE,
    advance: Callable[[int], object] | None = None,
) -> DemoLoadResult:
    """Write ``province`` into ``database`` in one transaction.

    Refuses (DatabaseNotEmpty) when the demo tables already hold rows, unless ``fresh``,
    which first deletes all rows of those tables (and of tables referring to them) in the
    same transaction. ``advance(n)`` is called as entities are written (for a progress bar).
    """
    started = time.perf_counter()
    department, item, inspector, entity, conflict, record = DEMO_TABLES
    rows: dict[str, int] = {t.name: 0 for t in DEMO_TABLES}
    cleared: dict[str, int] = {}
    with database.engine.begin() as conn:
        if database.is_sqlite:
            # A bigger page cache for this connection: the record indexes grow to gigabytes.
            conn.exec_driver_sql("PRAGMA cache_size=-262144")
            conn.exec_driver_sql("PRAGMA temp_store=MEMORY")
        occupied = non_empty_tables(conn)
        if occupied and not fresh:
            names = "、".join(occupied)
            raise DatabaseNotEmpty(
                f"数据库中已有数据（{names}），演示数据不会与之混合；如要清空这些表并重新生成，请加 --fresh",
                f"the database already holds data ({', '.join(occupied)}); the demo will not mix "
                "with it. Pass --fresh to delete all rows of these tables and generate anew",
            )
        if occupied:
            cleared = clear_tables(conn)
        _insert(conn, department, province.departments(), rows)
        _insert(conn, item, province.items(), rows)
        _insert_chunked(conn, inspector, province.inspectors(), rows, chunk_size)
        pending_conflicts: list[Row] = []
        pending_records: list[Row] = []
        for batch in province.batches(chunk_size):
            _insert(conn, entity, batch.entities, rows)
            pending_conflicts += batch.conflicts
            pending_records += batch.records
            while len(pending_records) >= chunk_size:
                _insert(conn, record, pending_records[:chunk_size], rows)
                del pending_records[:chunk_size]
            if len(pending_conflicts) >= chunk_size:
                _insert(conn, conflict, pending_conflicts, rows)
                pending_conflicts = []
            if advance is not None:
                advance(len(batch.entities))
        _insert(conn, record, pending_records, rows)
        _insert(conn, conflict, pending_conflicts, rows)
    return DemoLoadResult(
        stats=province.stats, rows=rows, cleared=cleared, seconds=time.perf_counter() - started
    )
