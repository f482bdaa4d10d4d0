"""The yearly plans: the list, and each plan's coverage report with its chart (planners,
reviewers and admins; the report's credit-class figures are internal, never public)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from supervision.accounts.scope import Scope
from supervision.accounts.sessions import Principal
from supervision.console.deps import DbDep, PlannerUser
from supervision.console.pages import redirect, render
from supervision.console.security import requires
from supervision.db import Database
from supervision.draw.plans import list_plans
from supervision.errors import ValidationFailed
from supervision.models.fields import as_date
from supervision.models.tasks import TaskStatus
from supervision.models.users import Role
from supervision.plans.chart import coverage_chart
from supervision.plans.service import get_plan, plan_detail, plan_report, publish_plan

router = APIRouter()

#: Who sees plans and their coverage: who plans, who reviews, who administers.
PlanReader = Annotated[Principal, Depends(requires(Role.PLANNER, Role.REVIEWER, Role.ADMIN))]

#: Target status → (zh, en), as on the command line.
STATUS_WORDS = {
    "met": ("已达标", "met"),
    "on_track": ("预计达标", "on track"),
    "short": ("预计不足", "short"),
    "no_items": ("无对应事项", "no items"),
}


def parse_as_of(value: str | None) -> date | None:
    """The report's day from a query parameter (None: today); a bad date is a 400."""
    if not value:
        return None
    try:
        day: date = as_date(value)
    except ValueError as exc:
        zh, _, en = str(exc).partition(" / ")
        raise ValidationFailed(f"统计日期：{zh}", f"as_of: {en or zh}") from None
    return day


def reach(db: Database, *, code: str, scope: Scope) -> None:
    """Refuse, as not found, a plan outside the signed-in user's scope (every plan door)."""
    with db.session() as session:
        get_plan(session, code=code, scope=scope)


def report_view(db: Database, *, code: str, as_of: date | None) -> dict[str, Any]:
    """The plan, its report and the chart: what the page shows (the API returns the report)."""
    with db.session() as session:
        detail = plan_detail(session, code=code)
        report = plan_report(session, code=code, as_of=as_of)
    chart = coverage_chart(report["targets"], chart_id="plan-coverage")
    return {"plan": detail, "report": report, "chart": Markup(chart)}  # escaped in coverage_chart


@router.get("/plans", response_class=HTMLResponse)
def plans_page(request: Request, db: DbDep, who: PlanReader) -> HTMLResponse:
    """Every plan, with its year, departments and publication."""
    with db.session() as session:
        plans = list_plans(session, scope=who.scope)
    return render(request, "console/plans.html", plans=plans, quote=quote)


@router.get("/plan", response_class=HTMLResponse)
def plan_page(
    request: Request, code: str, db: DbDep, who: PlanReader, as_of: str | None = None
) -> HTMLResponse:
    """One plan's coverage against its targets, with the chart."""
    reach(db, code=code, scope=who.scope)
    view = report_view(db, code=code, as_of=parse_as_of(as_of))
    return render(request, "console/plan.html", status_words=STATUS_WORDS,
                  status_zh=TaskStatus.ZH, quote=quote, **view)  # fmt: skip


def publish(db: Database, *, code: str, actor: str, scope: Scope | None = None) -> str:
    """计划公示 from the console: the same service as ``plan publish``."""
    with db.session() as session:
        return publish_plan(session, code=code, actor=actor, scope=scope).code


@router.post("/plan/publish")
def publish_form(db: DbDep, who: PlannerUser, code: Annotated[str, Form()]) -> Response:
    """Publish the plan notice (a planner's act; once, with items and targets)."""
    code = publish(db, code=code, actor=who.actor, scope=who.scope)
    return redirect("/plan", code=code, done="plan_published")
