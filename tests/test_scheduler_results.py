"""The scheduler's recurring jobs on real results: deadline watch, publication, site rebuild.

Built like the results tests (a drawn task of the draw tests' province); the scheduler
runs on the real APScheduler with time-machine and the DebugExecutor (SQLite, PostgreSQL).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from scheduler_support import config, drive, service
from sqlmodel import select
from test_tasks_draw import SEED, _task, province  # noqa: F401  (fixture)

from supervision.db import Database
from supervision.draw.commit import commit_task
from supervision.draw.service import draw_task
from supervision.models import DrawPick
from supervision.models.results import InspectionResult
from supervision.results.entry import enter_results
from supervision.results.inputs import ItemInput
from supervision.results.service import review_results
from supervision.scheduling.alerts import open_alerts

SH = ZoneInfo("Asia/Shanghai")
ACTOR = "cli:tester"
REVIEWER = "cli:reviewer"  # who enters cannot review


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def _states(db: Database, task: str) -> dict[str, str]:
    with db.session() as session:
        rows = session.exec(select(InspectionResult).where(InspectionResult.task_code == task))
        return {r.uscc: r.state for r in rows}


def _alerts(db: Database) -> set[tuple[str, str]]:
    with db.session() as session:
        return {(a.kind, a.object) for a in open_alerts(session)}


def test_publication_and_deadline_watch_run_on_schedule(
    db: Database,
    province: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    with time_machine.travel(at("2025-09-22T10:00"), tick=False):
        code = _task(db)
        with db.session() as session:
            commit_task(session, code=code)
        with db.session() as session:
            draw_task(session, code=code, seed=SEED, workers=1)
        with db.session() as session:
            picks = sorted(session.exec(select(DrawPick.uscc).where(DrawPick.task_code == code)))
    first, second = picks[0], picks[1]
    item = ItemInput.model_validate(
        {"item": "SJ-01", "code": "1", "finding": "未发现问题", "inspected_on": date(2025, 9, 26)}
    )
    cfg = config(
        jobs={
            "nightly_check": {"enabled": False},
            "deadline_watch": {"cron": "0 7 * * *"},
            "publish_results": {"cron": "0 8 * * *"},
        },
        deadlines={"warn_workdays": 30},
        site={"out_dir": str(tmp_path / "site"), "languages": "zh"},
    )
    with time_machine.travel(at("2025-10-09T10:00"), tick=False) as traveller:
        for uscc in (first, second):
            with db.session() as session:
                enter_results(session, task_code=code, uscc=uscc, items=[item], actor=ACTOR)
        with db.session() as session:
            review_results(
                session, task_code=code, uscc=first, approve=True, reason=None, actor=REVIEWER
            )
        s = service(db, cfg)
        s.start()
        drive([s], traveller, at("2025-10-10T09:00"))
        states = _states(db, code)
        assert states[first] == "published"  # approved: published by the 08:00 job
        assert states[second] == "entered"  # awaiting review: left alone
        alerts = _alerts(db)
        assert ("publication_due", f"{code}/{second}") in alerts
        assert ("publication_due", f"{code}/{first}") not in alerts
        manifest = list((tmp_path / "site").rglob("*"))
        assert manifest, "the public site was rebuilt after the publication"
        with db.session() as session:
            review_results(
                session, task_code=code, uscc=second, approve=True, reason=None, actor=REVIEWER
            )
        drive([s], traveller, at("2025-10-11T09:00"))
        s.stop()
    assert _states(db, code)[second] == "published"
    assert ("publication_due", f"{code}/{second}") not in _alerts(db)  # resolved by the watch
    with db.engine.connect() as conn:
        from sqlalchemy import text

        rows = conn.execute(
            text(
                "SELECT job, period, result FROM job_run WHERE job = 'publish_results' ORDER BY period"
            )
        ).all()
    assert [r.period for r in rows] == ["2025-10-10T08:00", "2025-10-11T08:00"]
    results = [json.loads(r.result) if isinstance(r.result, str) else r.result for r in rows]
    assert results[0]["published"] == {code: 1}
    assert results[1]["published"] == {code: 1}
