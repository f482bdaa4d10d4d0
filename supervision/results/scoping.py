"""Which results a console user's scope reaches: through their task and their entity.

A result (task, entity) is in scope when the task shares one of the scope's departments (a
joint task is each of its departments') and the entity lies in the scope's region. The task's
own region is not asked: a county reviewer reviews their county's entities in a province-wide
task. Out of scope is "not found", as if the result did not exist.
"""

from __future__ import annotations

from sqlmodel import Session

from supervision.accounts.scope import Scope
from supervision.errors import NotFoundError
from supervision.models import Entity, Task

__all__ = ["reach_result", "result_in_scope"]


def result_in_scope(task: Task, region_code: str | None, scope: Scope | None) -> bool:
    """Whether a user of ``scope`` (None: full rights) reaches this task's results for an
    entity of ``region_code``."""
    if scope is None:
        return True
    return scope.covers_departments(task.departments) and scope.covers_region(region_code)


def reach_result(session: Session, *, task_code: str, uscc: str, scope: Scope | None) -> None:
    """Refuse, as not found, a task's results for an entity outside ``scope``."""
    if scope is None or scope.unlimited:
        return
    task = session.get(Task, task_code.strip())
    entity = session.get(Entity, uscc.strip().upper())
    region = entity.region_code if entity is not None else None
    if task is None or entity is None or not result_in_scope(task, region, scope):
        raise NotFoundError(
            f"任务 {task_code} 中没有主体 {uscc} 的结果",
            f"no results of entity {uscc} in task {task_code}",
        )
