"""Reading the results of drawn entities: every version of every item, the current ones.

Shared by the result services: the check that an entity was drawn in a task, its
version history, its current versions, the team the draw assigned to an item's
department, and the trail object name of a result.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from supervision.draw.tasks import get_task
from supervision.errors import NotFoundError
from supervision.models import Assignment, DrawPick, Task
from supervision.models.results import InspectionResult

__all__ = [
    "current",
    "current_results",
    "drawn_task",
    "history",
    "result_object",
    "team",
]


def result_object(task_code: str, uscc: str, item: str | None = None) -> str:
    """The trail object of an entity's results (or of one item's result)."""
    return f"result:{task_code}/{uscc}" + (f"/{item}" if item else "")


def drawn_task(session: Session, *, task_code: str, uscc: str) -> Task:
    """The task; NotFoundError unless the entity was drawn in it."""
    task = get_task(session, code=task_code)
    if session.get(DrawPick, (task_code, uscc)) is None:
        raise NotFoundError(
            f"主体 {uscc} 不是任务 {task_code} 的抽取对象",
            f"entity {uscc} was not drawn in task {task_code}",
        )
    return task


def history(session: Session, *, task_code: str, uscc: str) -> dict[str, list[InspectionResult]]:
    """Item → every version of its result, oldest first."""
    rows = session.exec(
        select(InspectionResult)
        .where(InspectionResult.task_code == task_code, InspectionResult.uscc == uscc)
        .order_by(col(InspectionResult.item_code), col(InspectionResult.version))
    )
    out: dict[str, list[InspectionResult]] = {}
    for row in rows:
        out.setdefault(row.item_code, []).append(row)
    return out


def current(session: Session, *, task_code: str, uscc: str) -> dict[str, InspectionResult]:
    """Item → the current (latest) version of its result."""
    return {
        item: rows[-1] for item, rows in history(session, task_code=task_code, uscc=uscc).items()
    }


def team(session: Session, *, task_code: str, uscc: str, department: str) -> list[str]:
    """The inspectors (cert numbers, sorted) the draw assigned to a department's item."""
    return sorted(
        session.exec(
            select(Assignment.cert_no).where(
                Assignment.task_code == task_code,
                Assignment.uscc == uscc,
                Assignment.department_code == department,
            )
        )
    )


def current_results(
    session: Session, *, task_code: str | None = None, uscc: str | None = None
) -> dict[tuple[str, str, str], InspectionResult]:
    """The current (latest) version of every result, keyed by (task, entity, item),
    optionally of one task and one entity."""
    query = select(InspectionResult)
    if task_code is not None:
        query = query.where(InspectionResult.task_code == task_code)
    if uscc is not None:
        query = query.where(InspectionResult.uscc == uscc)
    latest: dict[tuple[str, str, str], InspectionResult] = {}
    for row in session.exec(query.order_by(col(InspectionResult.version))):
        latest[(row.task_code, row.uscc, row.item_code)] = row
    return latest
