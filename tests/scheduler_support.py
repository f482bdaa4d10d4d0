"""Helpers for the scheduler tests: a deterministic driver for the real APScheduler.

``ManualScheduler`` is the real BlockingScheduler with its blocking loop removed; the
test plays the loop itself: ``_process_jobs()`` (APScheduler's own step) returns how long
to wait, and time-machine moves the clock there. Jobs run in the calling thread
(DebugExecutor), against the real database.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.executors.debug import DebugExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from factories import make_department, make_entity, make_inspector, make_item, make_uscc, write_json

from supervision.db import Database
from supervision.directories.importing import import_file
from supervision.draw.plans import create_plan
from supervision.draw.tasks import create_task, parse_task_input
from supervision.scheduling.config import SchedulerConfig, parse_config
from supervision.scheduling.service import SchedulerService


class ManualScheduler(BlockingScheduler):
    """The real scheduler; the test drives its loop (see drive())."""

    def _main_loop(self) -> None:
        return None


def service(db: Database, config: SchedulerConfig, holder: str = "test-a") -> SchedulerService:
    return SchedulerService(
        db, config, holder=holder, scheduler_class=ManualScheduler, executor=DebugExecutor()
    )


def drive(services: Sequence[SchedulerService], traveller: Any, until: datetime) -> None:
    """Run the schedulers' loops until ``until``, jumping the clock from wakeup to wakeup."""
    while True:
        waits = [s.scheduler._process_jobs() for s in services]
        now = datetime.now(UTC)
        due = [now + timedelta(seconds=w) for w in waits if w is not None]
        step = min(due) if due else until
        if step <= now:
            step = now + timedelta(seconds=1)
        if step > until:
            traveller.move_to(until)
            for s in services:
                s.scheduler._process_jobs()
            return
        traveller.move_to(step)


def config(**overrides: Any) -> SchedulerConfig:
    """A test configuration: long heartbeats so a simulated month stays quick."""
    data: dict[str, Any] = {
        "scheduler": {"lease_ttl_seconds": 7200, "heartbeat_seconds": 3600, "sync_seconds": 3600},
        "jobs": {
            "nightly_check": {"cron": "30 1 * * *", "misfire_grace_seconds": 4 * 86400},
            "deadline_watch": {"cron": "0 7 * * *", "misfire_grace_seconds": 4 * 86400},
            "publish_results": {"cron": "0 8 * * mon-fri", "misfire_grace_seconds": 4 * 86400},
        },
        "tasks": {"draw_grace_seconds": 600, "seed_retry_seconds": 600},
    }
    for key, value in overrides.items():
        data[key] = data.get(key, {}) | value if isinstance(value, dict) else value
    return parse_config(data, "(test)")


def small_province(db: Database, tmp_path: Path, *, inspectors: int = 4) -> None:
    """One department, one item, 12 entities, a few inspectors, a plan P2026."""

    def load(kind: str, rows: list[dict[str, Any]]) -> None:
        import_file(db, kind=kind, path=write_json(tmp_path / f"{kind}.json", rows))

    load("departments", [make_department(1, code="SJ", name="市场监督管理局")])
    load("items", [make_item(1, code="SJ-01", department_code="SJ")])
    load(
        "entities",
        [
            make_entity(n, uscc=make_uscc(n), region_code="150102", risk_class="ABCD"[n % 4])
            for n in range(1, 13)
        ],
    )
    if inspectors:
        load(
            "inspectors",
            [
                make_inspector(
                    n,
                    cert_no=f"SJ{n:04d}",
                    department_code="SJ",
                    region_code="150102",
                    qualifications="SJ-01",
                )
                for n in range(1, inspectors + 1)
            ],
        )
    with db.session() as session:
        create_plan(session, code="P2026", year=2026, name="2026年度抽查计划", departments=["SJ"])


def draft_task(db: Database, code: str = "T1") -> str:
    with db.session() as session:
        task = create_task(
            session,
            spec=parse_task_input(
                {
                    "code": code,
                    "plan": "P2026",
                    "name": "企业公示信息抽查",
                    "departments": ["SJ"],
                    "items": ["SJ-01"],
                    "ratios": "0.25",
                    "period_start": "2026-03-01",
                    "period_end": "2026-06-30",
                }
            ),
        )
        return task.code
