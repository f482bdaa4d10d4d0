"""The team that inspected must be lawful: the draw's rules re-checked on the record.

At result entry, correction and approval, every item's team is checked against the
directory as it stands, on the inspection day, with the same rules the draw applies
(``draw.eligibility.team_problems``): at least the task's members per department and
two officers per visit, each on duty, of the item's department, qualified for it, in the
allowed region, with a 执法证 valid that day and no declared conflict with the entity.
And 谁检查、谁录入: an inspector's account may enter only items whose team includes them
(so a tax officer cannot enter a market-supervision item of a joint task).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from sqlmodel import Session, col, select

from supervision.draw.eligibility import (
    DatedConflict,
    EntityRecord,
    RegionRule,
    TeamMember,
    team_problems,
    visit_problems,
)
from supervision.errors import ValidationFailed
from supervision.models import Conflict, Entity, Inspector, Task
from supervision.models.users import ConsoleUser, Role
from supervision.results.history import current, team

__all__ = ["acting_inspector", "check_teams", "require_lawful_teams"]

#: The trail's actor name of a console user (see accounts.sessions.Principal.actor).
_CONSOLE_PREFIX = "console:"


def acting_inspector(session: Session, *, actor: str) -> str | None:
    """The 执法证号 of the inspector account acting, or None when the actor is not an
    inspector's account (a reviewer, an administrator, the scheduler...)."""
    if not actor.startswith(_CONSOLE_PREFIX):
        return None
    user = session.exec(
        select(ConsoleUser).where(col(ConsoleUser.username) == actor[len(_CONSOLE_PREFIX) :])
    ).first()
    if user is None or user.role != Role.INSPECTOR:
        return None
    return user.cert_no or ""


def check_teams(
    session: Session,
    *,
    task: Task,
    uscc: str,
    teams: Mapping[str, tuple[Sequence[str], date]],
    actor: str | None = None,
    visit: bool = False,
) -> list[str]:
    """Every problem with the teams of the items given (item → (cert numbers, inspection
    day)), as bilingual lines; empty when all are lawful. The visit's size counts the
    other items of the task too (their current version's team, else the assigned one).
    With ``actor``, an inspector's account must be on each item's team; with ``visit``
    (a joint visit's combined checklist, 一表通查, filled once) on the visit's team."""
    departments = {i["code"]: i["department_code"] for i in task.items}
    entity = session.get(Entity, uscc)
    record: EntityRecord = {"uscc": uscc, "region_code": entity.region_code if entity else ""}
    certs = {c for members, _ in teams.values() for c in members}
    directory: dict[str, TeamMember] = {
        i.cert_no: {
            "cert_no": i.cert_no,
            "name": i.name,
            "department": i.department_code,
            "region_code": i.region_code,
            "qualifications": frozenset(i.qualifications),
            "status": i.status,
            "cert_issued_on": i.cert_issued_on,
            "cert_expires_on": i.cert_expires_on,
        }
        for i in session.exec(select(Inspector).where(col(Inspector.cert_no).in_(certs)))
    }
    conflicts: list[DatedConflict] = [
        {
            "cert_no": c.inspector_cert_no,
            "uscc": c.uscc,
            "starts_on": c.starts_on,
            "ends_on": c.ends_on,
            "source": c.source,
        }
        for c in session.exec(select(Conflict).where(col(Conflict.uscc) == uscc))
    ]
    region_rule: RegionRule = task.region_rule  # type: ignore[assignment]
    problems: list[str] = []
    for item, (members, day) in sorted(teams.items()):
        department = departments[item]
        problems += team_problems(
            members,
            directory,
            entity=record,
            department=department,
            item=item,
            minimum=int(task.members.get(department, 1)),
            conflicts=conflicts,
            region_rule=region_rule,
            day=day,
        )
    whole = _visit(session, task=task, uscc=uscc, teams=teams)
    problems += visit_problems(whole, uscc=uscc)
    me = acting_inspector(session, actor=actor) if actor else None
    if me is not None and visit:
        if not any(me in members for members in whole.values()):
            problems.append(
                f"您（{me or '未登记执法证号'}）不在这次联合检查的检查人员中，不能录入（谁检查、谁录入）"
                f" / you ({me or 'no 执法证号'}) are not on the team of this joint visit and "
                "cannot enter its results"
            )
    elif me is not None:
        for item, (members, _) in sorted(teams.items()):
            if me not in members:
                problems.append(
                    f"事项 {item}：您（{me or '未登记执法证号'}）不在该事项的检查人员中，"
                    f"不能录入（谁检查、谁录入） / item {item}: you ({me or 'no 执法证号'}) "
                    "are not on its team and cannot enter its result"
                )
    return problems


def _visit(
    session: Session, *, task: Task, uscc: str, teams: Mapping[str, tuple[Sequence[str], date]]
) -> dict[str, Sequence[str]]:
    """Every item's team of the visit: those given, else the current version's, else the
    team the draw assigned to the item's department."""
    stored = current(session, task_code=task.code, uscc=uscc)
    out: dict[str, Sequence[str]] = {}
    for spec in task.items:
        item = spec["code"]
        if item in teams:
            out[item] = teams[item][0]
        elif item in stored:
            out[item] = stored[item].inspectors
        else:
            out[item] = team(
                session, task_code=task.code, uscc=uscc, department=spec["department_code"]
            )
    return out


def require_lawful_teams(
    session: Session,
    *,
    task: Task,
    uscc: str,
    teams: Mapping[str, tuple[Sequence[str], date]],
    action_zh: str,
    action: str,
    actor: str | None = None,
    visit: bool = False,
) -> None:
    """ValidationFailed naming every officer and broken rule unless ``check_teams`` is clean."""
    problems = check_teams(session, task=task, uscc=uscc, teams=teams, actor=actor, visit=visit)
    if problems:
        raise ValidationFailed(
            f"主体 {uscc} 的检查人员不符合规定，检查结果不能{action_zh}",
            f"the inspection team of {uscc} is not lawful; the results cannot be {action}",
            details=problems,
        )
