"""Inspection results: the inspector's assignments and entry, the reviewer's review and
publication (谁检查、谁录入: an inspector enters results only for entities assigned to them)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from supervision.console.api.schemas import (
    Entity,
    ResultEntry,
    ResultReview,
    ResultState,
    VisitEntry,
)
from supervision.console.deps import DbDep, InspectorUser, ReviewerUser, SiteDir
from supervision.console.routes import inspector, reviewer
from supervision.errors import ValidationFailed
from supervision.results.entry import enter_results
from supervision.results.inputs import parse_items
from supervision.results.visit import VisitInput, enter_visit

router = APIRouter(prefix="/api", tags=["api"])


@router.get("/inspector/assignments")
def api_assignments(db: DbDep, who: InspectorUser) -> list[dict[str, Any]]:
    """My assignments with the state of each result."""
    return inspector.my_assignments(db, who=who)


@router.post("/inspector/results")
def api_enter_results(body: ResultEntry, db: DbDep, who: InspectorUser) -> ResultState:
    """Enter the results of an assigned entity (official codes, follow-up)."""
    items = parse_items([i.model_dump(mode="json", exclude_none=True) for i in body.items])
    with db.session() as session:
        inspector.require_assigned(session, who=who, task_code=body.task, uscc=body.uscc)
        enter_results(session, task_code=body.task, uscc=body.uscc, items=items,
                      actor=who.actor)  # fmt: skip
    return ResultState(task=body.task, uscc=body.uscc, state="entered")


@router.post("/inspector/visit")
def api_enter_visit(body: VisitEntry, db: DbDep, who: InspectorUser) -> ResultState:
    """一表通查: the combined checklist of one visit (every department's open items), filled
    once; each item's code follows from its part."""
    with_files = sorted(i for i, extras in body.items.items() if "evidence" in extras)
    if with_files:  # evidence is a path on this machine: only the command line reads files
        raise ValidationFailed(
            "API 不接受证据文件路径", "the API does not take evidence file paths",
            details=[f"items.{i}.evidence" for i in with_files],
        )  # fmt: skip
    visit = VisitInput.model_validate(body.model_dump(exclude={"task", "uscc"}))
    with db.session() as session:
        inspector.require_assigned(session, who=who, task_code=body.task, uscc=body.uscc)
        enter_visit(session, task_code=body.task, uscc=body.uscc, visit=visit, actor=who.actor)
    return ResultState(task=body.task, uscc=body.uscc, state="entered")


@router.get("/results/pending")
def api_pending(db: DbDep, who: ReviewerUser) -> list[dict[str, Any]]:
    """Results awaiting review, and approved results awaiting publication."""
    rows = reviewer.pending_results(db, scope=who.scope)
    return [r | {"states": sorted(r["states"])} for r in rows]


@router.post("/results/review")
def api_review_results(body: ResultReview, db: DbDep, who: ReviewerUser) -> ResultState:
    """Approve, or return with a reason."""
    reviewer.review(db, task=body.task, uscc=body.uscc, approve=body.approve,
                    reason=body.reason or "", actor=who.actor, scope=who.scope)  # fmt: skip
    return ResultState(task=body.task, uscc=body.uscc,
                       state="approved" if body.approve else "returned")  # fmt: skip


@router.post("/results/publish")
def api_publish(body: Entity, db: DbDep, site: SiteDir, who: ReviewerUser) -> ResultState:
    """Publish an entity's approved results (and republish the served site)."""
    reviewer.publish(db, task=body.task, uscc=body.uscc, site_dir=site, actor=who.actor,
                     scope=who.scope)  # fmt: skip
    return ResultState(task=body.task, uscc=body.uscc, state="published")
