"""The scheduler's records: runs claimed exactly once, the single-scheduler lease, alerts,
and per-task schedules (commit, public draw, seed).

APScheduler's own ``apscheduler_jobs`` table is not here: the library owns it and
migrations exclude it (see supervision/db/migrations/env.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class RunStatus:
    STARTED = "started"  # begun; if it stays so, the run was interrupted (crash, kill)
    DONE = "done"
    FAILED = "failed"

    ZH: ClassVar[dict[str, str]] = {"started": "已开始", "done": "已完成", "failed": "失败"}


class JobRun(SQLModel, table=True):
    """One (job, period): made ``done`` in the same transaction as the job's work.

    ``done`` only if the work committed; ``started`` if a run began and never finished;
    ``failed`` (with the error) after the work rolled back. A later run may claim a
    ``started`` or ``failed`` row, never a ``done`` one (see supervision.scheduling.runs).
    """

    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job", "period", name="uq_job_run_job_period"),)
    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=64)
    period: str = Field(max_length=64)
    status: str = Field(max_length=12)
    started_at: datetime
    finished_at: datetime | None = None
    attempts: int = 1
    holder: str = Field(default="", max_length=200)
    result: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class SchedulerLease(SQLModel, table=True):
    """The one scheduler allowed to run: renewed by heartbeat, taken over once expired."""

    __tablename__ = "scheduler_lease"
    name: str = Field(primary_key=True, max_length=32)
    holder: str = Field(max_length=200)
    acquired_at: datetime
    renewed_at: datetime
    expires_at: datetime


class Alert(SQLModel, table=True):
    """Something a person must look at. At most one open alert per (kind, object).

    ``open_key`` is ``kind:object`` while open and NULL once resolved, so the unique
    constraint only binds open alerts (NULLs never collide, on SQLite and PostgreSQL).
    """

    __tablename__ = "alert"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40, index=True)
    object: str = Field(max_length=200)
    message_zh: str = Field(sa_column=Column(Text, nullable=False))
    message_en: str = Field(sa_column=Column(Text, nullable=False))
    raised_at: datetime
    last_seen_at: datetime
    times: int = 1
    resolved_at: datetime | None = None
    open_key: str | None = Field(default=None, max_length=250, unique=True)


class SeedState:
    WAITING = "waiting"  # no seed at draw time; retrying until the seed deadline
    DRAWN = "drawn"
    MISSED = "missed"  # the scheduler was not running at draw time (beyond grace)
    ABANDONED = "abandoned"  # no seed by the seed deadline
    COMMIT_MISSED = "commit_missed"


class TaskSchedule(SQLModel, table=True):
    """When a task is committed and drawn, and where its seed comes from."""

    __tablename__ = "task_schedule"
    task_code: str = Field(foreign_key="task.code", primary_key=True, max_length=64)
    # None: the task is committed by hand (`supervision task commit`).
    commit_at: datetime | None = None
    draw_at: datetime
    seed_deadline: datetime
    seed_source: str = Field(default="manual", max_length=32)
    seed_value: str | None = Field(default=None, max_length=100)
    seed_entered_at: datetime | None = None
    # First on-time draw attempt that found no seed (retries are legitimate after it).
    seed_missing_since: datetime | None = None
    # None while the scheduler still has something to do for this task.
    state: str | None = Field(default=None, max_length=16)
    created_at: datetime
    updated_at: datetime
