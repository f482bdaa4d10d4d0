"""The single scheduler process: APScheduler 3 with its job store in the project database.

- Jobs live in ``apscheduler_jobs`` (SQLAlchemyJobStore on the project engine, created by
  APScheduler, excluded from migrations), so after downtime the scheduler knows what it
  missed: each missed period runs once (``coalesce=True``) if it is within the job's
  ``misfire_grace_seconds``; beyond it the run is skipped with a ``job_missed`` alert.
- Job defaults are set on purpose (APScheduler's own grace of 1 s would skip a job
  delayed by a slow previous one): ``coalesce=True``, ``max_instances=1``, and each job's
  grace from the configuration. Task jobs have no APScheduler grace: they judge lateness
  themselves from the task schedule (see supervision.scheduling.jobs).
- ``sync`` (every ``sync_seconds``, and at start) reconciles the stored jobs with the
  configuration and the ``task_schedule`` table: it adds what is missing, replaces what
  changed and removes what is finished. An unchanged job is left alone, so its stored
  next run time (and thus the catch-up after downtime) is kept.
- Before anything else the process takes the database lease (supervision.scheduling.lease)
  and renews it every ``heartbeat_seconds``; if it ever loses the lease it stops.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable
from datetime import datetime
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.base import BaseExecutor
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Float, LargeBinary, Unicode, column, inspect, select, table
from sqlalchemy.exc import OperationalError
from sqlmodel import col

from supervision import clock
from supervision.db import Database
from supervision.models import Task, TaskStatus
from supervision.models.scheduling import JobRun, RunStatus, SeedState, TaskSchedule
from supervision.scheduling import jobs, lease, runtime
from supervision.scheduling.alerts import AlertKind, raise_alert
from supervision.scheduling.config import RECURRING_JOBS, SchedulerConfig
from supervision.scheduling.runs import HOLDER, last_fire_time, period_key

logger = logging.getLogger("supervision.scheduler")

STORE = "default"  # the persistent store, in the project database
INTERNAL = "internal"  # this process's own housekeeping (sync, heartbeat): memory only
JOBS_TABLE = "apscheduler_jobs"

#: Recurring job name → its job function (referenced by import path in the job store).
RECURRING_FUNCS: dict[str, Callable[..., Any]] = {
    "nightly_check": jobs.run_nightly_check,
    "deadline_watch": jobs.run_deadline_watch,
    "publish_results": jobs.run_publication,
    "trail_checkpoint": jobs.run_trail_checkpoint,
    "plan_watch": jobs.run_plan_watch,
}


class SchedulerService:
    """Builds, starts and keeps in sync the one BlockingScheduler of this process."""

    def __init__(
        self,
        db: Database,
        config: SchedulerConfig,
        *,
        holder: str = HOLDER,
        scheduler_class: type[BaseScheduler] = BlockingScheduler,
        executor: BaseExecutor | None = None,
        internal_executor: BaseExecutor | None = None,
    ) -> None:
        self.db = db
        self.config = config
        self.holder = holder
        self.scheduler = scheduler_class(
            jobstores={
                STORE: SQLAlchemyJobStore(engine=db.engine, tablename=JOBS_TABLE),
                INTERNAL: MemoryJobStore(),
            },
            # Housekeeping has its own threads so that long jobs never delay the heartbeat.
            executors={
                "default": executor or ThreadPoolExecutor(4),
                INTERNAL: internal_executor or executor or ThreadPoolExecutor(2),
            },
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": 3600,
            },
            timezone=config.tz,
        )
        self.scheduler.add_listener(self._on_missed, EVENT_JOB_MISSED)
        self.scheduler.add_listener(self._on_error, EVENT_JOB_ERROR)
        self.lease_lost = False
        self._synced = False
        self._stopped = False

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Take the lease (or raise LeaseHeld), then run; blocks for a BlockingScheduler."""
        lease.acquire(self.db, holder=self.holder, ttl_seconds=self.config.lease_ttl_seconds)
        runtime.bind(runtime.Runtime(self.db, self.config, self.holder))
        now = clock.now().astimezone(self.config.tz)
        self.scheduler.add_job(
            self.sync,
            "interval",
            seconds=self.config.sync_seconds,
            id="sync",
            jobstore=INTERNAL,
            executor=INTERNAL,
            next_run_time=now,
            misfire_grace_time=None,
        )
        self.scheduler.add_job(
            self.heartbeat,
            "interval",
            seconds=self.config.heartbeat_seconds,
            id="heartbeat",
            jobstore=INTERNAL,
            executor=INTERNAL,
            misfire_grace_time=None,
        )
        logger.info("scheduler %s started (config %s)", self.holder, self.config.source)
        try:
            self.scheduler.start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Shut down (waiting for running jobs) and give the lease back, unless it was lost."""
        if self._stopped:
            return
        self._stopped = True
        if self.scheduler.state != STATE_STOPPED:
            self.scheduler.shutdown(wait=True)
        if not self.lease_lost:
            try:
                lease.release(self.db, holder=self.holder)
            except OperationalError as exc:  # it will expire by itself
                logger.warning("lease not released: %s", exc.orig)
        runtime.unbind()
        logger.info("scheduler %s stopped", self.holder)

    def heartbeat(self) -> None:
        try:
            if lease.renew(self.db, holder=self.holder, ttl_seconds=self.config.lease_ttl_seconds):
                return
        except OperationalError as exc:  # e.g. SQLite locked by a long job: try next beat
            logger.warning("lease not renewed this time: %s", exc.orig)
            return
        self.lease_lost = True
        logger.error("scheduler lease lost to another process; stopping")
        with self.db.session() as session:
            raise_alert(
                session,
                kind=AlertKind.LEASE_LOST,
                obj=self.holder,
                zh=f"调度进程 {self.holder} 失去了租约（另一进程已接管），已停止",
                en=f"scheduler {self.holder} lost its lease (another process took over) and stopped",
            )
        self.scheduler.shutdown(wait=False)

    # ------------------------------------------------------------------ sync
    def desired_jobs(self) -> dict[str, dict[str, Any]]:
        """The jobs that should be in the store now: id → add_job arguments."""
        tz = self.config.timezone
        wanted: dict[str, dict[str, Any]] = {}
        for job in self.config.enabled_jobs():
            wanted[job.name] = {
                "func": RECURRING_FUNCS[job.name],
                "trigger": job.trigger(tz),
                "kwargs": {"cron": job.cron, "timezone": tz},
                "misfire_grace_time": job.misfire_grace_seconds,
                "name": RECURRING_JOBS[job.name][3],
            }
        with self.db.session() as session:
            rows = session.execute(
                select(TaskSchedule, col(Task.status)).join(
                    Task, col(Task.code) == TaskSchedule.task_code
                )
            ).all()
        for schedule, status in rows:
            code = schedule.task_code
            if (
                schedule.commit_at is not None
                and status == TaskStatus.DRAFT
                and schedule.state is None
            ):
                wanted[f"commit:{code}"] = {
                    "func": jobs.run_task_commit,
                    "trigger": DateTrigger(run_date=schedule.commit_at, timezone=tz),
                    "args": [code],
                    "misfire_grace_time": None,
                    "name": f"锁定 commit {code}",
                }
            if status in (TaskStatus.DRAFT, TaskStatus.COMMITTED) and schedule.state in (
                None,
                SeedState.WAITING,
            ):
                wanted[f"draw:{code}"] = {
                    "func": jobs.run_task_draw,
                    "trigger": IntervalTrigger(
                        seconds=self.config.tasks.seed_retry_seconds,
                        start_date=schedule.draw_at,
                        timezone=tz,
                    ),
                    "args": [code],
                    "misfire_grace_time": None,
                    "name": f"抽取 draw {code}",
                    # Added after its draw time (a late `schedule set` or sync): run it now,
                    # and let the job decide (draw within grace, else alert).
                    "start": schedule.draw_at,
                }
        return wanted

    def sync(self) -> dict[str, list[str]]:
        """Reconcile the stored jobs with configuration and task schedules.

        At the first sync after start, a recurring job whose latest period (within its
        grace) was begun but not done although APScheduler already moved past it (the
        process died during the run, or the run failed) is run again now: exactly once
        still holds, because the period's key is claimed with the work.
        """
        wanted = self.desired_jobs()
        stored = {job.id: job for job in self.scheduler.get_jobs(jobstore=STORE)}
        changes: dict[str, list[str]] = {
            "added": [],
            "replaced": [],
            "removed": [],
            "recovered": [],
        }
        first, self._synced = not self._synced, True
        for job_id, spec in wanted.items():
            current = stored.get(job_id)
            if current is not None and _same(current, spec):
                if first and job_id in RECURRING_FUNCS and self._unfinished(current, spec):
                    current.modify(next_run_time=clock.now().astimezone(self.config.tz))
                    changes["recovered"].append(job_id)
                continue
            now = clock.now().astimezone(self.config.tz)
            extra: dict[str, Any] = {}
            if spec.get("start") is not None and spec["start"] <= now:
                extra["next_run_time"] = now
            self.scheduler.add_job(
                spec["func"],
                spec["trigger"],
                args=spec.get("args"),
                kwargs=spec.get("kwargs"),
                id=job_id,
                name=spec["name"],
                jobstore=STORE,
                misfire_grace_time=spec["misfire_grace_time"],
                replace_existing=True,
                **extra,
            )
            changes["replaced" if current is not None else "added"].append(job_id)
        for job_id in stored.keys() - wanted.keys():
            self.scheduler.remove_job(job_id, jobstore=STORE)
            changes["removed"].append(job_id)
        if any(changes.values()):
            logger.info("sync: %s", {k: v for k, v in changes.items() if v})
        return changes

    def _unfinished(self, job: Any, spec: dict[str, Any]) -> bool:
        now = clock.now().astimezone(self.config.tz)
        fire = last_fire_time(spec["trigger"], now)
        if fire is None or (now - fire).total_seconds() > spec["misfire_grace_time"]:
            return False
        if job.next_run_time is None or job.next_run_time <= fire:
            return False  # APScheduler will run (or report missed) this period itself
        period = period_key(fire, self.config.tz)
        with self.db.session() as session:
            status = session.execute(
                select(col(JobRun.status)).where(
                    col(JobRun.job) == job.id, col(JobRun.period) == period
                )
            ).scalar()
        return status in (RunStatus.STARTED, RunStatus.FAILED)

    # ------------------------------------------------------------------ events
    def _on_missed(self, event: JobExecutionEvent) -> None:
        scheduled = clock.local(event.scheduled_run_time)
        with self.db.session() as session:
            raise_alert(
                session,
                kind=AlertKind.JOB_MISSED,
                obj=event.job_id,
                zh=f"调度任务 {event.job_id} 的 {scheduled:%Y-%m-%d %H:%M} 运行已错过宽限时间，本期未运行",
                en=f"the {scheduled:%Y-%m-%d %H:%M} run of job {event.job_id} was missed beyond its grace "
                "time and did not run",
            )

    def _on_error(self, event: JobExecutionEvent) -> None:
        with self.db.session() as session:
            raise_alert(
                session,
                kind=AlertKind.JOB_FAILED,
                obj=event.job_id,
                zh=f"调度任务 {event.job_id} 出错：{event.exception}",
                en=f"scheduled job {event.job_id} raised: {event.exception}",
            )


def _same(job: Any, spec: dict[str, Any]) -> bool:
    return (
        job.func is spec["func"]
        and repr(job.trigger) == repr(spec["trigger"])
        and list(job.args) == list(spec.get("args") or [])
        and dict(job.kwargs) == dict(spec.get("kwargs") or {})
        and job.misfire_grace_time == spec["misfire_grace_time"]
    )


# ---------------------------------------------------------------------- read-only status
def stored_jobs(db: Database) -> list[dict[str, Any]]:
    """The jobs in the job store, read without a scheduler (nothing is modified or deleted)."""
    if not inspect(db.engine).has_table(JOBS_TABLE):
        return []
    jobs_table = table(
        JOBS_TABLE,
        column("id", Unicode),
        column("next_run_time", Float),
        column("job_state", LargeBinary),
    )
    with db.engine.connect() as conn:
        rows = conn.execute(select(jobs_table).order_by(jobs_table.c.next_run_time)).all()
    found = []
    for row in rows:
        try:
            state = pickle.loads(row.job_state)
        except Exception as exc:  # an unimportable function: the scheduler would drop it
            found.append({"id": row.id, "error": f"{type(exc).__name__}: {exc}"})
            continue
        next_run = (
            clock.local(
                datetime.fromtimestamp(row.next_run_time, tz=clock.now().tzinfo)
            ).isoformat()
            if row.next_run_time is not None
            else None
        )
        found.append(
            {
                "id": row.id,
                "name": state.get("name"),
                "function": state.get("func"),
                "trigger": str(state.get("trigger")),
                "next_run_time": next_run,
                "misfire_grace_seconds": state.get("misfire_grace_time"),
            }
        )
    return found
