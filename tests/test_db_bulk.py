"""SQLite's bulk fast path (``supervision.db.bulk``): what the driver stores is what Core
would store, value for value, whatever repeats across rows and calls."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    JSON,
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
)

from supervision.db.bulk import DriverStatement

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
