"""The dashboard: counts, what is due and overdue, open alerts (every role)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from supervision import clock
from supervision.accounts.scope import Scope
from supervision.checks.review import finding_in_scope, flagged_count
from supervision.console.deps import CurrentUser, DbDep
from supervision.console.pages import render
from supervision.db import Database, table_of
from supervision.draw.tasks import list_tasks, task_in_scope
from supervision.errors import SupervisionError
from supervision.models import Entity, Finding, FindingStatus, InspectionResult, Task, TaskStatus
from supervision.results.deadlines import list_deadlines
from supervision.scheduling.alerts import alert_dict, open_alerts

router = APIRouter()
_F = table_of(Finding)
_T = table_of(Task)
_R = table_of(InspectionResult)
_E = table_of(Entity)


def overview(db: Database, *, scope: Scope | None = None) -> dict[str, Any]:
    """Everything the dashboard shows, as plain data (the API returns the same); a limited
    ``scope`` counts only what it reaches (``scoped_overview``)."""
    if scope is not None and not scope.unlimited:
        return scoped_overview(db, scope=scope)
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
    due = due_and_alerts(db)
    return {
        "counts": {
            "flagged": flagged_count(db),
            "open_findings": int(open_findings),
            "awaiting_review": int(states.get("entered", 0)),
            "approved": int(states.get("approved", 0)),
            "tasks": {s: int(tasks[s]) for s in TaskStatus.ZH if s in tasks},
        },
        **due,
    }


def due_and_alerts(db: Database) -> dict[str, Any]:
    """What is due within five working days or overdue, and the open alerts."""
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
        "deadlines": deadlines,
        "deadline_error": deadline_error,
        # fingerprint, provisional years and how provisional due dates were bounded
        "deadline_calendar": calendar,
        "alerts": alerts,
    }


def scoped_overview(db: Database, *, scope: Scope) -> dict[str, Any]:
    """The dashboard of a user with a limited scope: findings of their region's entities,
    their tasks, the results of their tasks for their region's entities, the deadlines of
    those results, and the alerts about their tasks (alerts about nothing in particular,
    such as the calendar, are the province's)."""
    everything = due_and_alerts(db)
    region = finding_in_scope(scope)
    with db.session() as session:
        tasks = {t.code: t for t in list_tasks(session)}
        reached = {c for c, t in tasks.items() if task_in_scope(t, scope)}
        with_results = {c for c, t in tasks.items() if scope.covers_departments(t.departments)}
    with db.engine.connect() as conn:
        counted = select(func.count(), func.count(func.distinct(_F.c.uscc))).select_from(_F)
        counted = counted.where(_F.c.status == FindingStatus.OPEN)
        open_findings, flagged = conn.execute(
            counted if region is None else counted.where(region)
        ).one()
        latest = (
            select(_R.c.task_code, _R.c.uscc, _R.c.item_code, func.max(_R.c.version).label("v"))
            .group_by(_R.c.task_code, _R.c.uscc, _R.c.item_code)
            .subquery()
        )
        rows = select(_R.c.task_code, _R.c.state, _E.c.region_code).join(
            latest,
            (latest.c.task_code == _R.c.task_code) & (latest.c.uscc == _R.c.uscc)
            & (latest.c.item_code == _R.c.item_code) & (latest.c.v == _R.c.version),
        ).join(_E, _E.c.uscc == _R.c.uscc)  # fmt: skip
        states = Counter(
            state
            for code, state, entity_region in conn.execute(rows)
            if code in with_results and scope.covers_region(entity_region)
        )
        due_usccs = {d["uscc"] for d in everything["deadlines"]}
        regions = dict(
            conn.execute(select(_E.c.uscc, _E.c.region_code).where(_E.c.uscc.in_(due_usccs))).all()
        )
    statuses = Counter(tasks[c].status for c in reached)
    deadlines = [
        d for d in everything["deadlines"]
        if d["task"] in with_results and scope.covers_region(regions.get(d["uscc"]))
    ]  # fmt: skip
    alerts = [
        a for a in everything["alerts"]
        if a["object"].startswith("task:") and a["object"][5:] in reached
    ]  # fmt: skip
    return everything | {
        "counts": {
            "flagged": int(flagged),
            "open_findings": int(open_findings),
            "awaiting_review": int(states.get("entered", 0)),
            "approved": int(states.get("approved", 0)),
            "tasks": {s: int(statuses[s]) for s in TaskStatus.ZH if s in statuses},
        },
        "deadlines": deadlines,
        "alerts": alerts,
    }


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request, db: DbDep, who: CurrentUser) -> HTMLResponse:
    """Counts, due and overdue deadlines, open alerts: what the user's scope reaches."""
    data = overview(db, scope=who.scope)
    return render(request, "console/dashboard.html", status_zh=TaskStatus.ZH, **data)
