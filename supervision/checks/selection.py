"""Selection: which entities a check run checks, and which stored facts it may use.

- **Incremental by default.** After a completed run with the same pack digest and an
  as-of date not earlier than this one, only these entities are checked: entities whose
  row changed (``Entity.updated_at``) or that got a new or changed record (``stored_at``,
  set by the system, not the imported ``received_at``) since
  that run's ``changes_from``: when it started (on PostgreSQL, when the oldest
  transaction then in flight started: ``changes_from``);
  entities never checked; entities whose ``EntityCheckState.next_due_on``
  is on or before the new as-of date. ``next_due_on`` is the earliest day on which the
  entity's findings could change with no record change: ``facts.next_due_from_facts`` (statutory
  deadlines), plus the days records dated in the future become visible, plus every date in
  a record shifted by each integer parameter or condition literal of the pack (e.g. a
  complaint leaving a 90-day window), plus rule ``effective_from`` / ``effective_to``
  (``Evaluator.next_check_on``). Early is harmless (a re-check that changes nothing);
  late would be wrong, so the rule errs early. Any other pack, an earlier as-of date, or
  ``full=True`` checks everyone.
- **Stale entities** (``stale_entities``): those whose row changed or that received a
  record since the last completed run's ``changes_from``; their stored fact templates are
  not used. Every completed run derives (and stores anew) every stale entity it checks,
  and a full or incremental run checks every stale one, so a stored template is never
  older than its rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, Table, exists, func, select, text, union

from supervision import clock
from supervision.db import table_of
from supervision.models import CheckRun, ComplianceRecord, Entity
from supervision.models.findings import EntityCheckState

__all__ = ["all_usccs", "changes_from", "due_usccs", "last_run", "stale_entities"]

_E: Table = table_of(Entity)
_R: Table = table_of(ComplianceRecord)
_S: Table = table_of(EntityCheckState)
_RUN: Table = table_of(CheckRun)


def last_run(conn: Connection) -> Any:
    return conn.execute(
        select(_RUN).where(_RUN.c.status == "done").order_by(_RUN.c.id.desc()).limit(1)
    ).first()


def all_usccs(conn: Connection) -> list[str]:
    return list(conn.execute(select(_E.c.uscc).order_by(_E.c.uscc)).scalars())


def _changed_since(conn: Connection, since: dt.datetime) -> frozenset[str]:
    """Entities whose row changed or that received a record since ``since``."""
    query = union(
        select(_E.c.uscc).where(_E.c.updated_at >= since),
        select(_R.c.uscc).where(_R.c.stored_at >= since),
    )
    return frozenset(conn.execute(query).scalars())


def stale_entities(conn: Connection, last: Any) -> frozenset[str] | None:
    """Entities whose stored facts templates must not be used (see the module docstring);
    None when none may be (no completed run yet)."""
    if last is None:
        return None
    return _changed_since(conn, last.changes_from or last.started_at)


def changes_from(conn: Connection, started: dt.datetime) -> dt.datetime:
    """The earliest stamp that a row this run may not see can bear (``started``: this
    run's ``hold_write``).

    SQLite: ``started``, taken once the run holds the write lock: every writer stamps
    only once it holds that lock, so a row stamped earlier was committed before. On
    PostgreSQL writers run beside a check: a row stamped before ``started`` may still
    commit after this run read the records, but its transaction is in flight now, and
    its stamps are its start (``hold_write``): the oldest start of another transaction
    in flight in this database bounds them. (The role must see the writers' sessions
    in ``pg_stat_activity``: the same role, or ``pg_read_all_stats``.)
    """
    if conn.dialect.name != "postgresql":
        return started
    oldest = conn.execute(
        text(
            "SELECT min(xact_start) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            " AND xact_start IS NOT NULL"
        )
    ).scalar()
    return started if oldest is None else min(started, clock.as_utc(oldest))


def due_usccs(conn: Connection, changed: frozenset[str], as_of: dt.date) -> list[str]:
    """What an incremental run checks: the changed entities, those due, those never checked.

    Every entity a run checks gets a check state, and a state's entity exists (a foreign
    key): when both tables hold as many rows, none is unchecked. Two counts instead of an
    anti-join over the whole directory (0.7 s at a million entities, on every run)."""
    due = set(conn.execute(select(_S.c.uscc).where(_S.c.next_due_on <= as_of)).scalars())
    entities = conn.execute(select(func.count()).select_from(_E)).scalar_one()
    if entities != conn.execute(select(func.count()).select_from(_S)).scalar_one():
        never_checked = select(_E.c.uscc).where(~exists().where(_S.c.uscc == _E.c.uscc))
        due.update(conn.execute(never_checked).scalars())
    return sorted(changed | due)
