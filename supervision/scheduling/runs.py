"""Exactly once: every run of a job has an idempotency key (job, period).

The key lives in ``job_run`` under UNIQUE(job, period). It becomes ``done`` only in the
same transaction as the job's work, so a ``done`` row exists if and only if the work
committed. A second claim for the same key (a second run, a second scheduler, a restart)
finds it done and does nothing, and says so.

A recurring run goes through three steps:

1. ``begin_attempt`` (its own short transaction): the row is written as ``started``
   (or an earlier ``started``/``failed`` row is touched). It is the trace that lets a
   restarted scheduler see a period that began but never finished (a kill -9, a crash).
2. ``claim`` (in the work's transaction): ``started``/``failed`` → ``running``, a
   conditional UPDATE; or, with no row at all, an INSERT ... ON CONFLICT DO NOTHING. On
   PostgreSQL a concurrent claimer waits on the row (or the unique index) and then sees
   ``done``; on SQLite the first write takes the database's write lock. No savepoints are
   used (pysqlite's are unreliable).
3. ``finish`` (same transaction): ``done`` with the result. A failure rolls back to
   ``started``; ``record_failure`` then writes ``failed`` with the error.

Periods of recurring jobs are the scheduled fire time in the configured zone (minute
precision, e.g. ``2026-11-26T01:30``), found from the trigger and the clock: a run that
starts late still belongs to the fire time it was scheduled for.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlmodel import Session, col, select

from supervision import clock
from supervision.db import Database, table_of, upsert_insert
from supervision.models.scheduling import JobRun, RunStatus

_JR = table_of(JobRun)
RUNNING = "running"  # only ever visible inside the claiming transaction

#: Identifies this process in job_run.holder and the lease.
HOLDER = f"{socket.gethostname()}:{os.getpid()}"


def last_fire_time(
    trigger: Any, now: datetime, *, lookback: timedelta = timedelta(days=8)
) -> datetime | None:
    """The latest fire time of ``trigger`` at or before ``now`` (None if none in ``lookback``).

    Pure: walks the trigger forward from ``now - lookback``.
    """
    fire = trigger.get_next_fire_time(None, now - lookback)
    last = None
    while fire is not None and fire <= now:
        last = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return last


def period_key(fire_time: datetime, tz: tzinfo) -> str:
    """The period a fire time stands for, in the configured zone, to the minute."""
    return fire_time.astimezone(tz).strftime("%Y-%m-%dT%H:%M")


def _insert(session: Session) -> Any:
    return upsert_insert(_JR, session.get_bind().dialect.name)


def begin_attempt(db: Database, *, job: str, period: str, holder: str = HOLDER) -> None:
    """Leave a ``started`` trace for (job, period) in its own transaction (see above)."""
    now = clock.now()
    with db.session() as session:
        session.execute(
            _insert(session)
            .values(
                job=job,
                period=period,
                status=RunStatus.STARTED,
                started_at=now,
                attempts=1,
                holder=holder,
                result={},
            )
            .on_conflict_do_update(
                index_elements=["job", "period"],
                set_={"started_at": now, "holder": holder, "attempts": _JR.c.attempts + 1},
                where=_JR.c.status != RunStatus.DONE,
            )
        )


def claim(session: Session, *, job: str, period: str, holder: str = HOLDER) -> bool:
    """Claim (job, period) in the session's transaction. False if it is already done."""
    now = clock.now()
    # RETURNING, not rowcount: with RETURNING (which SQLAlchemy adds for the primary key
    # on PostgreSQL anyway) drivers report rowcount -1.
    updated = session.execute(
        _JR.update()
        .where(
            _JR.c.job == job,
            _JR.c.period == period,
            _JR.c.status.in_([RunStatus.STARTED, RunStatus.FAILED]),
        )
        .values(status=RUNNING, started_at=now, finished_at=None, holder=holder, error=None)
        .returning(_JR.c.id)
    ).first()
    if updated is not None:
        return True
    inserted = session.execute(
        _insert(session)
        .values(
            job=job,
            period=period,
            status=RUNNING,
            started_at=now,
            attempts=1,
            holder=holder,
            result={},
        )
        .on_conflict_do_nothing(index_elements=["job", "period"])
        .returning(_JR.c.id)
    ).first()
    return inserted is not None


def finish(session: Session, *, job: str, period: str, result: dict[str, Any]) -> None:
    """Mark a claimed key done with its result, still in the claiming transaction."""
    session.execute(
        _JR.update()
        .where(_JR.c.job == job, _JR.c.period == period)
        .values(status=RunStatus.DONE, finished_at=clock.now(), result=result)
    )


def record_failure(
    session: Session, *, job: str, period: str, error: str, holder: str = HOLDER
) -> None:
    """Record a failed run; call it in a new transaction (the work has been rolled back)."""
    now = clock.now()
    stmt = (
        _insert(session)
        .values(
            job=job,
            period=period,
            status=RunStatus.FAILED,
            started_at=now,
            finished_at=now,
            attempts=1,
            holder=holder,
            result={},
            error=error[:4000],
        )
        .on_conflict_do_update(
            index_elements=["job", "period"],
            set_={
                "status": RunStatus.FAILED,
                "finished_at": now,
                "holder": holder,
                "error": error[:4000],
            },
            where=_JR.c.status != RunStatus.DONE,
        )
    )
    session.execute(stmt)


@dataclass
class Outcome:
    """What one run did, said in both languages; ``status`` is machine-readable."""

    job: str
    period: str
    status: str  # done / already_done / failed / skipped / waiting / missed / abandoned
    zh: str
    en: str
    result: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "period": self.period,
            "status": self.status,
            "zh": self.zh,
            "en": self.en,
            "result": self.result,
        }


def already_done(job: str, period: str) -> Outcome:
    return Outcome(
        job,
        period,
        "already_done",
        f"{job} 在期间 {period} 已执行过，本次不做任何事",
        f"{job} already ran for period {period}; this run does nothing",
    )


def run_once(
    db: Database,
    *,
    job: str,
    period: str,
    work: Callable[[Session], dict[str, Any]],
) -> Outcome:
    """Claim (job, period) and do ``work`` in one transaction; exactly once per key.

    Exceptions from ``work`` roll everything back; they are recorded by the caller
    (see supervision.scheduling.jobs), never swallowed here.
    """
    begin_attempt(db, job=job, period=period)
    with db.session() as session:
        if not claim(session, job=job, period=period):
            session.rollback()
            return already_done(job, period)
        result = work(session)
        finish(session, job=job, period=period, result=result)
    return Outcome(
        job, period, "done", f"{job} 期间 {period} 已完成", f"{job} done for {period}", result
    )


def last_runs(session: Session, *, limit: int = 20) -> list[JobRun]:
    """The most recent runs, newest first."""
    return list(
        session.exec(
            select(JobRun)
            .order_by(col(JobRun.started_at).desc(), col(JobRun.id).desc())
            .limit(limit)
        )
    )


def runs_of(session: Session, *, job: str) -> list[JobRun]:
    return list(session.exec(select(JobRun).where(JobRun.job == job).order_by(col(JobRun.period))))
