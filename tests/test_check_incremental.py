"""Incremental runs give the same findings as full runs (hypothesis, SQLite).

Three copies of the same database receive the same random record changes and the same
moving as-of dates; after every step one is checked incrementally, one in full, and
one in full after its stored facts templates are deleted (everything derived afresh):
stored templates must never change a result.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update
from test_check_support import AS_OF, EXPECTED, load, province, record_row, snapshot

from supervision import clock
from supervision.checks.run import run_check
from supervision.db import Database
from supervision.models import Entity, EntityCheckState, EntityFacts

_E = Entity.__table__  # type: ignore[attr-defined]
_S = EntityCheckState.__table__  # type: ignore[attr-defined]
_T = EntityFacts.__table__  # type: ignore[attr-defined]
_ids = itertools.count(50_000)

KINDS = ("report", "licence", "complaint", "rectification", "address", "abnormal")
change = st.tuples(
    st.integers(0, len(EXPECTED) - 1),  # which entity
    st.sampled_from(KINDS),
    st.integers(0, 400),  # a number of days, meaning depends on the kind
    st.integers(0, 60),
    st.booleans(),
)
step = st.tuples(st.integers(0, 150), st.lists(change, max_size=4))


def _apply(dbs: list[Database], usccs: list[str], as_of: dt.date, changes: list[Any]) -> None:
    """The same changes (same record ids) to every database."""
    records = []
    now = clock.now()
    for index, kind, days, small, flag in changes:
        uscc = usccs[index]
        n = next(_ids)
        past = (as_of - dt.timedelta(days=days)).isoformat()
        if kind == "report":
            year = 2024 + days % 2
            filed = dt.date(year + 1, 1, 1) + dt.timedelta(days=days)
            records.append(
                record_row("annual_report", n, uscc, {"year": year, "filed_on": filed.isoformat()})
            )
        elif kind == "licence":
            valid_to = as_of + dt.timedelta(days=small - 30)
            records.append(
                record_row(
                    "licence",
                    n,
                    uscc,
                    {
                        "licence_no": f"L{n}",
                        "licence_type": "食品经营许可证",
                        "valid_to": valid_to.isoformat(),
                        "business_active": flag,
                    },
                )
            )
        elif kind == "complaint":
            records.append(record_row("complaint", n, uscc, {"received_on": past}))
        elif kind == "rectification":
            ordered = as_of - dt.timedelta(days=days % 90)
            due = ordered + dt.timedelta(days=small)
            payload = {"order_no": f"Z{n}", "ordered_on": ordered.isoformat(),
                       "due_on": due.isoformat()}  # fmt: skip
            if flag:
                payload["rectified_on"] = (due - dt.timedelta(days=1)).isoformat()
            records.append(record_row("rectification_order", n, uscc, payload))
        elif kind == "address":
            records.append(
                record_row("address_check", n, uscc, {"checked_on": past, "reachable": flag})
            )
        else:
            since = as_of - dt.timedelta(days=days * 3)
            for db in dbs:
                with db.engine.begin() as conn:
                    conn.execute(
                        update(_E)
                        .where(_E.c.uscc == uscc)
                        .values(
                            abnormal=flag, abnormal_since=since if flag else None, updated_at=now
                        )
                    )
    for db in dbs:
        load(db, [], records)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    path = tmp_path_factory.mktemp("incremental") / "template.db"
    database = Database(f"sqlite:///{path}")
    try:
        usccs, entities, records = province()
        load(database, entities, records)
    finally:
        database.dispose()
    return path, [usccs[name] for name in EXPECTED]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=1, max_size=3))
def test_incremental_equals_full(
    template: tuple[Path, list[str]], tmp_path: Path, steps: list[Any]
) -> None:
    source, usccs = template
    paths = [tmp_path / f"{next(_ids)}-{name}.db" for name in ("inc", "full", "fresh")]
    for path in paths:
        shutil.copy(source, path)
    inc, full, fresh = (Database(f"sqlite:///{p}") for p in paths)

    def afresh(as_of: dt.date) -> None:
        with fresh.engine.begin() as conn:
            conn.execute(delete(_T))
        summary = run_check(fresh, as_of=as_of, full=True)
        assert summary.reused == 0

    try:
        as_of = AS_OF
        run_check(inc, as_of=as_of)
        run_check(full, as_of=as_of, full=True)
        afresh(as_of)
        assert snapshot(inc) == snapshot(full)
        for days, changes in steps:
            as_of += dt.timedelta(days=days)
            _apply([inc, full, fresh], usccs, as_of, changes)
            incremental = run_check(inc, as_of=as_of)
            assert incremental.mode == "incremental"
            run_check(full, as_of=as_of, full=True)
            afresh(as_of)
            assert snapshot(inc) == snapshot(full), (days, changes)
            assert snapshot(full, values=True) == snapshot(fresh, values=True)
            assert _due(full) == _due(fresh)
    finally:
        inc.dispose()
        full.dispose()
        fresh.dispose()


def _due(db: Database) -> list[tuple[str, dt.date | None]]:
    with db.engine.connect() as conn:
        return sorted((r[0], r[1]) for r in conn.execute(select(_S.c.uscc, _S.c.next_due_on)))
