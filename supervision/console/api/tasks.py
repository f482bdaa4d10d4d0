"""The planner's tasks: list, create, commit, draw, the fairness report."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from supervision.console.api.schemas import SaltRequest, Seed, TaskCode, TaskState
from supervision.console.deps import DbDep, PlannerUser
from supervision.console.routes import tasks
from supervision.draw.fairness import fairness_report
from supervision.draw.tasks import list_tasks

router = APIRouter(prefix="/api", tags=["api"])


@router.get("/tasks")
def api_tasks(db: DbDep, who: PlannerUser) -> Any:
    """The tasks inside the planner's scope, with their status."""
    with db.session() as session:
        return [t.model_dump(mode="json") for t in list_tasks(session, scope=who.scope)]


@router.post("/tasks")
def api_create_task(body: dict[str, Any], db: DbDep, who: PlannerUser) -> TaskState:
    """Create a task from a task description (the same fields as a task file)."""
    code = tasks.create(db, spec=body, actor=who.actor, scope=who.scope)
    return TaskState(code=code, status="draft")


@router.post("/tasks/commit")
def api_commit(body: TaskCode, db: DbDep, who: PlannerUser) -> TaskState:
    """Commit a task (population and parameters frozen, digests published)."""
    tasks.reach(db, code=body.code, scope=who.scope)
    tasks.commit(
        db,
        code=body.code,
        seed_kind=body.seed_kind,
        draw_at=body.draw_at,
        disclosure=body.disclosure,
        actor=who.actor,
    )
    return TaskState(code=body.code, status="committed")


@router.post("/tasks/draw")
def api_draw(body: Seed, db: DbDep, who: PlannerUser) -> dict[str, Any]:
    """Enter the seed and draw."""
    tasks.reach(db, code=body.code, scope=who.scope)
    return tasks.draw(
        db, code=body.code, seed=body.seed, round_json=body.round_json, actor=who.actor
    )


@router.get("/tasks/fairness")
def api_fairness(code: str, db: DbDep, who: PlannerUser) -> dict[str, Any]:
    """The fairness report of a drawn task."""
    tasks.reach(db, code=code, scope=who.scope)
    with db.session() as session:
        return fairness_report(session, code=code)


@router.post("/tasks/salt")
def api_salt(body: SaltRequest, db: DbDep, who: PlannerUser) -> dict[str, str]:
    """Issue an entity its salt in a pseudonymous task (recorded on the trail)."""
    tasks.reach(db, code=body.code, scope=who.scope)
    return tasks.salt(db, code=body.code, uscc=body.uscc, actor=who.actor)
