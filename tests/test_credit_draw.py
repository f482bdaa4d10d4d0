"""Targeted draws read the credit loop: a task built from marks, open proposals or register
entries draws only those entities, and drawing consumes the marks."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from test_tasks_draw import _task, province  # noqa: F401  (the fixture)

from supervision.checks.review import confirm_finding
from supervision.db import Database
from supervision.draw.commit import commit_task
from supervision.draw.service import draw_task
from supervision.errors import SupervisionError
from supervision.models import CheckRun, DrawPick, EntityMark, Finding, Task
from supervision.models.findings import SEVERITY_RANK

pytestmark = pytest.mark.usefixtures("crew")

_M = EntityMark.__table__  # type: ignore[attr-defined]
RULE = "samr.annual-report-not-filed"  # on_confirm: listing proposal, mark, class raise


def _confirmed(db: Database, usccs: list[str]) -> None:
    now = datetime(2026, 7, 2, tzinfo=UTC)
    with db.session() as session:
        run = CheckRun(started_at=now, as_of=date(2026, 7, 2), pack_digest="1" * 64, mode="full")
        session.add(run)
        session.flush()
        ids = []
        for uscc in usccs:
            finding = Finding(
                uscc=uscc, rule_id=RULE, rule_version=1, department="市场监督管理部门",
                severity="medium", severity_rank=SEVERITY_RANK["medium"], result_code="B",
                first_run_id=run.id, last_run_id=run.id, opened_as_of=date(2026, 7, 2),
                opened_at=now, fact_ids=["entity"], matched=[],
            )  # fmt: skip
            session.add(finding)
            session.flush()
            ids.append(finding.id)
    for fid in ids:
        confirm_finding(db, finding_id=int(fid), note="逾期未报", actor="审核员")  # type: ignore[arg-type]


def _picks(db: Database, code: str) -> set[str]:
    with db.session() as session:
        rows = session.execute(select(DrawPick.uscc).where(DrawPick.task_code == code))
        return {str(r[0]) for r in rows}


def _targeted(db: Database, code: str, credit: list[str]) -> str:
    ratios = {"A": "1", "B": "1", "C": "1", "D": "1"}
    return _task(db, code=code, ratios=ratios, disclosure="full",
                 target={"credit": credit}, exclusion_days=0)  # fmt: skip


def test_task_from_marks_draws_them_and_consumes_the_marks(
    db: Database,
    province: dict[str, Any],  # noqa: F811
) -> None:
    marked = [province["entities"][i]["uscc"] for i in (1, 2)]
    _confirmed(db, marked)
    code = _targeted(db, "定向-标记-1", ["marks"])
    with db.session() as session:
        commit_task(session, code=code)
    with db.session() as session:
        draw_task(session, code=code, seed="31415926535", workers=1)
    assert _picks(db, code) == set(marked)
    with db.engine.connect() as conn:
        marks = conn.execute(select(_M.c.uscc, _M.c.consumed_by, _M.c.consumed_at)).all()
    assert {m.uscc for m in marks} == set(marked)
    assert all(m.consumed_by == code and m.consumed_at is not None for m in marks)
    # The marks are consumed: a second task from marks has nobody to draw.
    again = _targeted(db, "定向-标记-2", ["marks"])
    with db.session() as session, pytest.raises(SupervisionError):
        commit_task(session, code=again)
    # Open listing proposals and register entries are sources too.
    from_proposals = _targeted(db, "定向-建议-1", ["proposals"])
    with db.session() as session:
        commit_task(session, code=from_proposals)
        task = session.get(Task, from_proposals)
        assert task is not None and task.population_size == 2
        assert task.target["credit"] == ["proposals"]


def test_untargeted_task_target_is_stored_as_before(db: Database, province: dict[str, Any]) -> None:  # noqa: F811
    code = _task(db)
    with db.session() as session:
        task = session.get(Task, code)
        assert task is not None and "credit" not in task.target
