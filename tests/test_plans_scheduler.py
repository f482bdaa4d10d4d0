"""The scheduler's plan watch: a target projected short with the year running out becomes an
alert, once per plan and target, on the real APScheduler with time-machine (SQLite and
PostgreSQL); the [plans] configuration.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from conftest import CliRun
from scheduler_support import config, draft_task, drive, service, small_province
from sqlmodel import select

from supervision.db import Database
from supervision.draw.commit import commit_task
from supervision.draw.tasks import cancel_task
from supervision.errors import ValidationFailed
from supervision.models import Alert, TrailEvent
from supervision.plans.service import set_plan
from supervision.plans.spec import parse_plan
from supervision.scheduling.config import parse_config

pytestmark = pytest.mark.usefixtures("crew")

SH = ZoneInfo("Asia/Shanghai")
KIND = "plan_coverage_short"
# 12 entities (3 per credit class); a task at 0.25 draws 1 per class: 4 projected.
PLAN = """\
items: [SJ-01]
targets:
  - {id: low, department: SJ, ratio: 10%}
  - {id: half, department: SJ, ratio: 50%}
"""


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def _plan_alerts(db: Database) -> list[Alert]:
    with db.session() as session:
        return list(session.exec(select(Alert).where(Alert.kind == KIND).order_by(Alert.id)))


def test_a_short_target_is_raised_once_from_october(
    db: Database, tmp_path: Path, cli: CliRun
) -> None:
    small_province(db, tmp_path, inspectors=0)
    with db.session() as session:
        set_plan(session, code="P2026", spec=parse_plan(PLAN, "plan.yaml"), actor="cli:t")
    cfg = config(jobs={"nightly_check": {"enabled": False}})
    with time_machine.travel(at("2026-09-28T12:00"), tick=False) as traveller:
        code = draft_task(db)
        with db.session() as session:
            commit_task(session, code=code)
        s = service(db, cfg)
        s.start()
        drive([s], traveller, at("2026-09-30T12:00"))
        assert _plan_alerts(db) == []  # September: the year is not running out yet

        drive([s], traveller, at("2026-10-02T12:00"))
        (alert,) = _plan_alerts(db)
        assert alert.object == "P2026/half" and alert.resolved_at is None
        assert alert.times == 2  # raised on the 1st, refreshed on the 2nd: one alert
        assert "预计只能检查 4 户" in alert.message_zh and "需 6 户" in alert.message_zh
        assert "plan more tasks" in alert.message_en
        shown = json.loads(cli("alerts", "--json").stdout)
        assert any(a["kind"] == KIND and a["object"] == "P2026/half" for a in shown)

        # A second task brings the projection to the target: the watch resolves the alert.
        second = draft_task(db, "T2")
        with db.session() as session:
            commit_task(session, code=second)
        drive([s], traveller, at("2026-10-03T12:00"))
        (alert,) = _plan_alerts(db)
        assert alert.resolved_at is not None

        # Short again (the task is cancelled): not raised a second time.
        with db.session() as session:
            cancel_task(session, code=second, reason="人员不足", actor="cli:t")
        drive([s], traveller, at("2026-10-05T12:00"))
        s.stop()
    assert [(a.object, a.resolved_at is not None) for a in _plan_alerts(db)] == [
        ("P2026/half", True)
    ]
    with db.session() as session:
        watches = session.exec(select(TrailEvent).where(TrailEvent.action == "plans.watch")).all()
    assert [json.loads(e.payload)["short"] for e in watches] == [
        ["P2026/half"],
        ["P2026/half"],
        [],
        [],
        [],
    ]
    assert all(e.actor == "scheduler" for e in watches)


def test_the_warning_month_is_configurable() -> None:
    assert parse_config({}).plan_warn_from_month == 10
    assert parse_config({"plans": {"warn_from_month": 9}}).plan_warn_from_month == 9
    with pytest.raises(ValidationFailed) as caught:
        parse_config({"plans": {"warn_from_month": 13, "colour": 1}})
    assert any("plans.warn_from_month" in d for d in caught.value.details)
    assert any("plans.colour" in d for d in caught.value.details)
    assert parse_config({}).to_dict()["plans"] == {"warn_from_month": 10}
