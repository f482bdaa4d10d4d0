"""一表通查: the parts of a joint task's results, one per department.

A joint task (items of several departments) is inspected in one visit and its combined
checklist is filled once (``results.visit``); each department's part (its items) is then
reviewed by a reviewer of that department, so approval stays with the department that
answers for it. A reviewer's department is the console user's ``department_code``.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from supervision.errors import SupervisionError
from supervision.models import Task
from supervision.models.users import ConsoleUser

__all__ = ["departments_of", "reviewable_items", "reviewer_department"]

#: The trail's actor name of a console user (see accounts.sessions.Principal.actor).
_CONSOLE_PREFIX = "console:"


def departments_of(task: Task) -> dict[str, str]:
    """Each item of the task → its department."""
    return {i["code"]: i["department_code"] for i in task.items}


def reviewer_department(session: Session, *, actor: str) -> str | None:
    """The department of the console user acting (None: not a console user, or none set)."""
    if not actor.startswith(_CONSOLE_PREFIX):
        return None
    user = session.exec(
        select(ConsoleUser).where(col(ConsoleUser.username) == actor[len(_CONSOLE_PREFIX) :])
    ).first()
    return user.department_code if user is not None else None


def reviewable_items(
    session: Session, *, task: Task, actor: str, items: set[str] | None
) -> set[str] | None:
    """The items ``actor`` may review in ``task`` (None: every item). In a joint task each
    department's part is reviewed by a reviewer of that department; a reviewer of one
    department never reviews another department's items. Refuses, naming the reason."""
    of = departments_of(task)
    departments = sorted(set(of.values()))
    mine = reviewer_department(session, actor=actor)
    who = actor.removeprefix(_CONSOLE_PREFIX)
    if mine is None:
        if len(departments) < 2:
            return None
        raise SupervisionError(
            f"联合抽查 {task.code} 的检查结果由各部门（{'、'.join(departments)}）的审核人分别审核本部门"
            f"的部分；{who} 未登记所属部门（supervision user add --department）",
            f"the results of joint task {task.code} are reviewed part by part, each by a "
            f"reviewer of its department ({', '.join(departments)}); {who} has no department "
            "(supervision user add --department)",
        )
    own = {item for item, department in of.items() if department == mine}
    if not own:
        raise SupervisionError(
            f"审核人 {who} 属于部门 {mine}，任务 {task.code} 没有该部门的事项",
            f"reviewer {who} belongs to {mine}; task {task.code} has no item of that department",
        )
    others = sorted((items or set()) - own)
    if others:
        named = "、".join(f"{i}（{of.get(i, '?')}）" for i in others)
        raise SupervisionError(
            f"事项 {named} 不属于部门 {mine}，只能由其所属部门的审核人审核",
            f"item(s) {', '.join(others)} are not of {mine}; a reviewer of their own "
            "department reviews them",
        )
    return own
