"""Yearly plans: a plan with its contents, and its coverage report (the plan page's data)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from supervision.console.api.schemas import PlanCode
from supervision.console.deps import DbDep, PlannerUser
from supervision.console.routes.plans import PlanReader, parse_as_of, publish, reach
from supervision.plans.service import plan_detail, plan_report

router = APIRouter(prefix="/api", tags=["api"])


@router.get("/plans/plan")
def api_plan(code: str, db: DbDep, who: PlanReader) -> Any:
    """A plan with its items, targets, planned tasks and publication (``plan show --json``)."""
    reach(db, code=code, scope=who.scope)
    with db.session() as session:
        return plan_detail(session, code=code)


@router.get("/plans/report")
def api_plan_report(code: str, db: DbDep, who: PlanReader, as_of: str | None = None) -> Any:
    """The plan's coverage report (``plan report --json``)."""
    reach(db, code=code, scope=who.scope)
    with db.session() as session:
        return plan_report(session, code=code, as_of=parse_as_of(as_of))


@router.post("/plans/publish")
def api_publish_plan(body: PlanCode, db: DbDep, who: PlannerUser) -> Any:
    """计划公示: publish the plan notice (``plan publish``); 409 when already published."""
    code = publish(db, code=body.code, actor=who.actor, scope=who.scope)
    with db.session() as session:
        return plan_detail(session, code=code)
