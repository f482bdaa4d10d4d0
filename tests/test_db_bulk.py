"""The bulk writers (``supervision.db.bulk``): SQLite's fast path and ``append_rows`` (COPY
on PostgreSQL) store what Core would store, value for value, whatever repeats across rows
and calls."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    select,
)

from supervision.db import Database
from supervision.db.bulk import DriverStatement, append_rows

COLUMNS = ("id", "day", "at", "flag", "n", "code", "doc")


def _table() -> Table:
    return Table(
        "bulk",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("day", Date),
        Column("at", DateTime(timezone=True)),
        Column("flag", Boolean),
        Column("n", Integer),
        Column("code", String(8)),
        Column("doc", JSON, nullable=False),
    )


ZONES = [None, dt.UTC, dt.timezone(dt.timedelta(hours=8))]
# Few distinct values, so that they repeat within a call and across calls.
days = st.sampled_from([dt.date(2026, 1, 1), dt.date(2026, 2, 28), None])
moments = (
    st.builds(
        lambda hour, zone: dt.datetime(2026, 3, 1, hour, tzinfo=zone),
        st.sampled_from([0, 8, 16]),
        st.sampled_from(ZONES),
    )
    | st.none()
)
flags = st.sampled_from([True, False, None])
numbers = st.sampled_from([0, 1, 2, None])
codes = st.sampled_from(["A", "B", "1", None])
docs = st.sampled_from([{"a": 1}, [1, 2], {"a": True}])
row = st.tuples(days, moments, flags, numbers, codes, docs)


def _stored(engine: Any) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return list(conn.exec_driver_sql("SELECT * FROM bulk ORDER BY id").all())


@settings(max_examples=60, deadline=None)
@given(batches=st.lists(st.lists(row, max_size=8), min_size=1, max_size=3))
def test_the_driver_stores_what_core_stores(batches: list[list[tuple[Any, ...]]]) -> None:
    table = _table()
    fast, core = create_engine("sqlite://"), create_engine("sqlite://")
    for engine in (fast, core):
        table.metadata.create_all(engine)
    statement = DriverStatement(table.insert(), table, COLUMNS, fast.dialect)
    next_id = 0
    for batch in batches:
        rows = [(next_id + i, *values) for i, values in enumerate(batch)]
        next_id += len(rows)
        with fast.begin() as conn:
            statement.run(conn, rows)
        if rows:
            with core.begin() as conn:
                conn.execute(table.insert(), [dict(zip(COLUMNS, r, strict=True)) for r in rows])
    assert _stored(fast) == _stored(core)


def test_equal_moments_in_two_zones_are_stored_each_in_its_own() -> None:
    """Equal datetimes compare and hash alike across zones, but are stored differently:
    the memory of converted values must not hand one zone's text to the other."""
    table = _table()
    engine = create_engine("sqlite://")
    table.metadata.create_all(engine)
    statement = DriverStatement(table.insert(), table, COLUMNS, engine.dialect)
    utc = dt.datetime(2026, 3, 1, 0, tzinfo=dt.UTC)
    beijing = utc.astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert utc == beijing
    row: tuple[Any, ...] = (None, None, None, {})
    with engine.begin() as conn:
        statement.run(conn, [(1, None, utc, *row)])
        statement.run(conn, [(2, None, beijing, *row)])
        statement.run(conn, [(3, None, utc, *row), (4, None, beijing, *row)])
    at = [r[2] for r in _stored(engine)]
    assert at[0] == at[2] and at[1] == at[3]
    assert at[0] != at[1]


def test_constants_fill_the_last_columns_and_a_wrong_width_is_refused() -> None:
    table = _table()
    engine = create_engine("sqlite://")
    table.metadata.create_all(engine)
    columns = ("id", "day", "code", "doc")
    insert = table.insert().values({c: bindparam(c) for c in columns})
    statement = DriverStatement(insert, table, columns, engine.dialect)
    with engine.begin() as conn:
        statement.run(conn, [(1, dt.date(2026, 1, 2), "A"), (2, None, None)], constants=([1],))
    stored = {r[0]: r for r in _stored(engine)}
    assert stored[1][6] == stored[2][6] == "[1]"
    assert (stored[1][1], stored[2][1]) == ("2026-01-02", None)
    assert (stored[1][5], stored[2][5]) == ("A", None)
    with pytest.raises(ValueError, match="3 values for 4 columns"):
        statement.parameters([(1, None, "A")])


def test_a_statement_whose_parameters_come_in_another_order_is_refused() -> None:
    table = _table()
    engine = create_engine("sqlite://")
    with pytest.raises(RuntimeError, match="unexpected parameter order"):
        DriverStatement(table.insert(), table, tuple(reversed(COLUMNS)), engine.dialect)


# --------------------------------------------------------------------------- append_rows
def _append_tables() -> tuple[Table, Table]:
    """Two tables alike: one written by ``append_rows``, one by Core's insert."""
    metadata = MetaData()

    def table(name: str) -> Table:
        return Table(
            name,
            metadata,
            Column("id", Integer, primary_key=True, autoincrement=False),
            Column("code", String(64)),
            Column("cost", BigInteger),
            Column("day", Date),
        )

    return table("append_copy"), table("append_core")


# Text that COPY's text format must escape: tabs, new lines, backslashes, its NULL marker.
texts = (
    st.lists(
        st.sampled_from(["a", "蒙", "\t", "\n", "\r", "\\", "N", "\\N", "'", '"', ",", " "]),
        max_size=8,
    ).map("".join)
    | st.none()
)
append_row = st.tuples(
    texts,
    st.integers(min_value=-(2**62), max_value=2**62) | st.none(),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)) | st.none(),
)


def test_append_rows_stores_what_core_stores_and_nothing_on_rollback(db: Database) -> None:
    """COPY on PostgreSQL, the compiled statement on SQLite: the same rows as Core's insert
    stores, any text included; in the caller's transaction, so a failure after it (as a
    draw that fails later) leaves no row."""
    copied, core = _append_tables()
    copied.metadata.create_all(db.engine)
    columns = ("id", "code", "cost", "day")

    @settings(max_examples=40, deadline=None)
    @given(st.lists(append_row, max_size=30), st.integers(min_value=1, max_value=7))
    def check(rows: list[tuple[Any, ...]], chunk: int) -> None:
        numbered = [(n, *row) for n, row in enumerate(rows)]
        with db.engine.begin() as conn:
            conn.execute(copied.delete())
            conn.execute(core.delete())
            written = append_rows(conn, copied, columns, iter(numbered), chunk=chunk)
            if numbered:
                conn.execute(core.insert(), [dict(zip(columns, r, strict=True)) for r in numbered])
        assert written == len(numbered)
        with db.engine.connect() as conn:
            got = conn.execute(select(copied).order_by(copied.c.id)).all()
            want = conn.execute(select(core).order_by(core.c.id)).all()
        assert [tuple(r) for r in got] == [tuple(r) for r in want] == numbered

    check()
    with db.engine.connect() as conn:
        before = conn.execute(select(copied).order_by(copied.c.id)).all()
    with pytest.raises(RuntimeError, match="later"), db.engine.begin() as conn:
        conn.execute(copied.delete())
        append_rows(conn, copied, columns, [(10**6, "甲", 2**40, dt.date(2026, 1, 1))])
        raise RuntimeError("a later step fails")
    with db.engine.connect() as conn:  # the delete and the append rolled back together
        assert conn.execute(select(copied).order_by(copied.c.id)).all() == before
