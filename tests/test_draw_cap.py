"""A yearly cap on inspections per entity (涉企行政检查): committing a task excludes the
entities already inspected as often as $SUPERVISION_YEARLY_INSPECTION_CAP allows in the
task's calendar year, across tasks and departments, a joint task counting once; the
fairness report says how many and why. SQLite and PostgreSQL, fresh database per test.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import test_tasks_draw
from sqlmodel import select
from test_tasks_draw import SEED, _task

from supervision.db import Database
from supervision.draw.commit import commit_task
from supervision.draw.fairness import fairness_report
from supervision.draw.population import exclusion_label
from supervision.draw.service import draw_task
from supervision.models import DrawPick, Task, TaskPopulation

#: The directories the draw tests use (fixture).
province = test_tasks_draw.province

CAP_ENV = "SUPERVISION_YEARLY_INSPECTION_CAP"


def _drawn(db: Database, code: str, **overrides: Any) -> set[str]:
    _task(db, code=code, **overrides)
    with db.session() as session:
        commit_task(session, code=code)
    with db.session() as session:
        draw_task(session, code=code, seed=SEED, workers=1)
    with db.session() as session:
        return set(session.exec(select(DrawPick.uscc).where(DrawPick.task_code == code)))


def _committed(db: Database, code: str, **overrides: Any) -> tuple[Task, set[str]]:
    _task(db, code=code, **overrides)
    with db.session() as session:
        task = commit_task(session, code=code)
        session.expunge(task)
    with db.session() as session:
        population = set(
            session.exec(select(TaskPopulation.uscc).where(TaskPopulation.task_code == code))
        )
    return task, population


#: A second task of the tax department (no item in common, no recent-inspection window):
#: only the yearly cap can exclude anybody from it.
TAX = {"departments": ["SW"], "items": ["SW-01"], "exclusion_days": 0}


def test_entities_at_the_cap_are_excluded_and_the_report_says_why(
    db: Database,
    province: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    cli: Any,
) -> None:
    # A joint task (two departments, one visit): it counts once.
    first = _drawn(db, "联合抽查一", departments=["SJ", "SW"], items=["SJ-01", "SW-01"])
    assert first
    monkeypatch.setenv(CAP_ENV, "2")
    _, population = _committed(db, "税务抽查二", **TAX)
    assert first <= population  # the joint task was one inspection, under a cap of 2

    monkeypatch.setenv(CAP_ENV, "1")
    task, population = _committed(db, "税务抽查三", **TAX)
    assert not first & population
    assert task.exclusions["yearly_cap:1"] == len(first)
    assert json.loads(task.parameters_json or "{}")["yearly_cap"] == 1
    with db.session() as session:
        report = fairness_report(session, code="税务抽查三")
    reasons = {e["reason"]: e for e in report["exclusion_reasons"]}
    assert reasons["yearly_cap:1"]["count"] == len(first)
    assert "年度上限" in reasons["yearly_cap:1"]["label"]
    assert "yearly cap" in exclusion_label("yearly_cap:1")
    shown = cli("task", "report", "税务抽查三").stdout
    assert "年度上限" in shown

    # Another calendar year starts afresh.
    _, population = _committed(
        db, "税务抽查四", period_start="2027-03-01", period_end="2027-06-30", **TAX
    )
    assert first <= population


def test_no_cap_by_default(db: Database, province: dict[str, Any]) -> None:
    first = _drawn(db, "市场监管抽查一")
    task, population = _committed(db, "税务抽查二", **TAX)
    assert first <= population
    assert not any(k.startswith("yearly_cap") for k in task.exclusions)
    assert "yearly_cap" not in json.loads(task.parameters_json or "{}")
