"""The dashboard: counts, what is due and overdue, open alerts (every role)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from supervision import clock
from supervision.checks.review import flagged_count
from supervision.console.deps import CurrentUser, DbDep
from supervision.console.pages import render
from supervision.db import Database, table_of
from supervision.errors import SupervisionError
from supervision.models import Finding, FindingStatus, InspectionResult, Task, TaskStatus
from supervision.results.deadlines import list_deadlines
from supervision.scheduling.alerts import alert_dict, open_alerts

router = APIRouter()
_F = table_of(Finding)
_T = table_of(Task)
_R = table_of(InspectionResult)


def overview(db: Database) -> dict[str, Any]:
    """Everything the dashboard shows, as plain data (the API returns the same)."""
    with db.engine.connect() as conn:
        open_findings = conn.execute(
            select(func.count()).select_from(_F).where(_F.c.status == FindingStatus.OPEN)
        ).scalar_one()
        tasks: dict[str, int] = {
            r[0]: r[1]
            for r in conn.execute(select(_T.c.status, func.count()).group_by(_T.c.status))
        }
        # The current version of each result is the one with the highest version number.
        latest = (
            select(_R.c.task_code, _R.c.uscc, _R.c.item_code, func.max(_R.c.version).label("v"))
            .group_by(_R.c.task_code, _R.c.uscc, _R.c.item_code)
            .subquery()
        )
        states: dict[str, int] = dict(
            conn.execute(
                select(_R.c.state, func.count())
                .join(
                    latest,
                    (latest.c.task_code == _R.c.task_code)
                    & (latest.c.uscc == _R.c.uscc)
                    & (latest.c.item_code == _R.c.item_code)
                    & (latest.c.v == _R.c.version),
                )
                .group_by(_R.c.state)
            ).all()
        )
    deadlines: list[dict[str, Any]] = []
    deadline_error = None
    calendar: dict[str, Any] | None = None
    with db.session() as session:
        try:
            listed = list_deadlines(session, as_of=clock.today())
            calendar = listed["calendar"]
            for kind, zh in (("publication", "公示期限"), ("rectification", "整改期限")):
                for d in listed[kind]:
                    if d["overdue"] or d["workdays_left"] <= 5:
                        deadlines.append({**d, "kind": kind, "kind_zh": zh})
        except SupervisionError as exc:
            deadline_error = (exc.zh, exc.en)
        alerts = [alert_dict(a) | {"raised_at": a.raised_at} for a in open_alerts(session)]
    deadlines.sort(key=lambda d: (not d["overdue"], d["due"]))
    return {
        "counts": {
            "flagged": flagged_count(db),
            "open_findings": int(open_findings),
            "awaiting_review": int(states.get("entered", 0)),
            "approved": int(states.get("approved", 0)),
            "tasks": {s: int(tasks[s]) for s in TaskStatus.ZH if s in tasks},
        },
        "deadlines": deadlines,
        "deadline_error": deadline_error,
        # fingerprint, provisional years and how provisional due dates were bounded
        "deadline_calendar": calendar,
        "alerts": alerts,
    }


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, db: DbDep, who: CurrentUser) -> HTMLResponse:
    """Counts, due and overdue deadlines, open alerts."""
    data = overview(db)
    return render(request, "console/dashboard.html", status_zh=TaskStatus.ZH, **data)
