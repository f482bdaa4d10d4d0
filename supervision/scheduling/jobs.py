"""The scheduler's job functions. NEVER RENAME THEM.

APScheduler stores each job in ``apscheduler_jobs`` with a textual reference to its
function (``supervision.scheduling.jobs:run_task_draw``); a job whose function can no
longer be imported is silently deleted when the scheduler loads it. To change behaviour,
change the body; to retire a function, keep a stub that does nothing and says so.

Every job:
- claims its idempotency key (job, period) in the same transaction as its work
  (supervision.scheduling.runs), so a second run for the period does nothing and says so;
- never raises: a failure rolls the work back, is recorded on ``job_run`` with its error
  and raises an alert, and the scheduler goes on;
- returns its outcome as a dict (logged in both languages).

Task jobs (``run_task_commit``, ``run_task_draw``) take a task code and decide lateness
themselves from the task's schedule: a commit is made late only within the configured
grace and never after the draw time; a draw is never made silently late (beyond
``tasks.draw_grace_seconds`` it raises a ``draw_missed`` alert instead), except when an
on-time attempt found no seed, in which case it retries until the seed deadline.
Recurring jobs take their cron line and zone so that they can name their period.

Only these entry points are stored; their work lives in ``scheduling.task_jobs`` and
``scheduling.recurring``, the bound database and the never-raise guard in
``scheduling.runtime``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from supervision import clock
from supervision.accounts.throttle import flush_refusals
from supervision.scheduling import recurring, task_jobs
from supervision.scheduling.config import cron_trigger
from supervision.scheduling.runs import last_fire_time, period_key, run_once
from supervision.scheduling.runtime import guarded, jsonable, runtime


# --------------------------------------------------------------------------- task jobs
def run_task_commit(task_code: str) -> dict[str, Any]:
    """Commit a scheduled task (freeze its population) at its commit time. Exactly once."""
    return guarded("commit", task_code, f"commit:{task_code}", lambda: task_jobs.commit(task_code))


def run_task_draw(task_code: str) -> dict[str, Any]:
    """Draw a scheduled task at its public draw time with its seed. Exactly once.

    No seed at draw time: no draw, a ``seed_missing`` alert, and the job retries every
    ``tasks.seed_retry_seconds`` until the seed deadline.
    """
    return guarded("draw", task_code, f"draw:{task_code}", lambda: task_jobs.draw(task_code))


# --------------------------------------------------------------------------- recurring jobs
def _recurring(
    job: str, cron: str, timezone: str, work: Callable[[Session, dt.date], dict[str, Any]]
) -> dict[str, Any]:
    now = clock.now()
    zone = ZoneInfo(timezone)
    fire = last_fire_time(cron_trigger(cron, timezone), now) or now
    period = period_key(fire, zone)
    day = fire.astimezone(zone).date()
    rt = runtime()
    return guarded(
        job,
        period,
        job,
        lambda: run_once(rt.db, job=job, period=period, work=lambda s: jsonable(work(s, day))),
    )


def run_nightly_check(cron: str, timezone: str) -> dict[str, Any]:
    """The nightly incremental compliance check, as of the scheduled day. Exactly once."""
    return _recurring("nightly_check", cron, timezone, recurring.check)


def run_deadline_watch(cron: str, timezone: str) -> dict[str, Any]:
    """Deadlines due and overdue (publication, rectification) become alerts. Exactly once."""
    return _recurring("deadline_watch", cron, timezone, recurring.watch_deadlines)


def run_plan_watch(cron: str, timezone: str) -> dict[str, Any]:
    """Plan targets projected short while the plan year runs out become alerts, once per
    plan and target. Exactly once a period."""
    return _recurring("plan_watch", cron, timezone, recurring.watch_plans)


def run_publication(cron: str, timezone: str) -> dict[str, Any]:
    """Publish approved results, then rebuild the public site incrementally. Exactly once.

    The site is rebuilt after the publication committed (it reads committed data), and
    only by the run that published; its failure raises an alert, the publication stands.
    """
    outcome = _recurring("publish_results", cron, timezone, recurring.publish)
    if outcome["status"] == "done":
        outcome["site"] = recurring.rebuild_site()["site"]
    return outcome


def run_trail_checkpoint(cron: str, timezone: str) -> dict[str, Any]:
    """Anchor the trail at its head (at least daily; every publication adds one too),
    after writing the refused sign-ins of windows that are over. Exactly once a period."""
    flush_refusals(runtime().db)
    return _recurring("trail_checkpoint", cron, timezone, recurring.checkpoint)
