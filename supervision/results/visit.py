"""一表通查: one combined checklist for one visit of a joint task, filled once.

A joint task (进一次门、查多项事) sends every participating department to the entity in one
visit. Its combined checklist is every open item's checklist (items not entered yet, or
returned), each department's points under its own part; the inspectors fill it once, with
one inspection date. Each item's result then follows from its own part: its answers
propose its code (a contradicting code is refused, as for any checklist), and its finding,
when none is written, is its failed points in words. Each department's part is reviewed by a
reviewer of that department (``results.parts``).

Answers are given by point id across the whole sheet (``{point: 符合|不符合|不涉及 or
{answer, note, evidence}}``), or grouped by item (``{item: {point: answer}}``) when two
items' checklists share a point id. Every door (CLI ``result enter`` with ``--checklist``
and no ``--item``, the console's combined form, the JSON API) enters through ``enter_visit``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from supervision import trail
from supervision.checklists.spec import Checklist
from supervision.errors import SupervisionError, ValidationFailed
from supervision.models import Task
from supervision.models.results import InspectionResult
from supervision.results.checklist import shipped_checklists
from supervision.results.entry import enter_results
from supervision.results.history import current, drawn_task, result_object
from supervision.results.inputs import parse_items
from supervision.results.parts import departments_of
from supervision.results.states import ResultState

__all__ = ["VisitInput", "combined_checklist", "enter_visit", "open_items"]

#: What one item's part may add beside its answers (the rest is the visit's).
_ITEM_EXTRAS = {
    "code", "sub_code", "finding", "evidence", "follow_up", "due", "follow_up_note",
    "follow_up_ref",
}  # fmt: skip


class VisitInput(BaseModel):
    """One visit's combined checklist as filled in."""

    model_config = ConfigDict(extra="forbid")

    inspected_on: date | None = None
    # Who went, per department (default: the team the draw assigned); a change needs a reason.
    teams: dict[str, list[str]] = Field(default_factory=dict)
    team_change_reason: str | None = None
    answers: dict[str, Any]
    # Per item: finding, follow-up, due date, code... (what its answers do not decide).
    items: dict[str, dict[str, Any]] = Field(default_factory=dict)


def open_items(session: Session, *, task: Task, uscc: str) -> list[str]:
    """The task's items whose result can be entered now (not entered yet, or returned)."""
    latest = current(session, task_code=task.code, uscc=uscc)
    return [
        i["code"]
        for i in task.items
        if i["code"] not in latest or latest[i["code"]].state == ResultState.RETURNED
    ]


def combined_checklist(
    task: Task, items: list[str], checklists: Mapping[tuple[str, int], Checklist]
) -> list[tuple[str, list[Checklist]]]:
    """The combined checklist of ``items``: (department, its items' checklists) in the
    task's order; items without a checklist are left out."""
    versions = {i["code"]: int(i["version"]) for i in task.items}
    of = departments_of(task)
    parts: dict[str, list[Checklist]] = {}
    for item in items:
        checklist = checklists.get((item, versions[item]))
        if checklist is not None:
            parts.setdefault(of[item], []).append(checklist)
    return list(parts.items())


def enter_visit(
    session: Session, *, task_code: str, uscc: str, visit: VisitInput, actor: str
) -> list[InspectionResult]:
    """Enter the combined checklist of one visit: one new version (待审核) of every open
    item, its code proposed from its part. All or nothing: every problem of every part is
    named and nothing is written."""
    task = drawn_task(session, task_code=task_code, uscc=uscc)
    items = open_items(session, task=task, uscc=uscc)
    if not items:
        raise SupervisionError(
            f"主体 {uscc} 在任务 {task_code} 中没有待录入的事项（都已录入或审核）",
            f"entity {uscc} has no item left to enter in task {task_code}",
        )
    checklists = shipped_checklists()
    versions = {i["code"]: int(i["version"]) for i in task.items}
    problems: list[str] = []
    sheets: dict[str, Checklist] = {}
    for item in items:
        checklist = checklists.get((item, versions[item]))
        if checklist is None:
            problems.append(
                f"事项 {item} 第 {versions[item]} 版没有检查实施细则，不能一表通查 / item "
                f"{item} version {versions[item]} has no checklist for the combined sheet"
            )
        else:
            sheets[item] = checklist
    answers = _split_answers(task, visit.answers, sheets, items, problems)
    of = departments_of(task)
    entries = []
    for item in items:
        extras = dict(visit.items.get(item, {}))
        unknown = sorted(set(extras) - _ITEM_EXTRAS)
        if unknown:
            problems.append(
                f"事项 {item}: 不能单独填写 {'、'.join(unknown)}（可填：{'、'.join(sorted(_ITEM_EXTRAS))}）"
                f" / item {item}: {', '.join(unknown)} cannot be given per item"
            )
            continue
        entry: dict[str, Any] = {
            "item": item,
            "checklist": answers.get(item, {}),
            "inspected_on": visit.inspected_on,
            **extras,
        }
        if of[item] in visit.teams:
            entry["inspectors"] = visit.teams[of[item]]
            entry["team_change_reason"] = visit.team_change_reason
        entries.append(entry)
    for item in sorted(set(visit.items) - set(items)):
        problems.append(_not_open(task, item))
    for department in sorted(set(visit.teams) - set(of.values())):
        problems.append(
            f"teams: 部门 {department} 不在任务 {task_code} 中 / department {department} is "
            f"not in task {task_code}"
        )
    if problems:
        raise ValidationFailed(
            f"主体 {uscc} 的一表通查检查表不能录入",
            f"the combined checklist of {uscc} cannot be entered",
            details=problems,
        )
    rows = enter_results(
        session, task_code=task_code, uscc=uscc, items=parse_items(entries), actor=actor, visit=True
    )
    trail.record(
        session,
        actor=actor,
        action="result.visit",
        obj=result_object(task_code, uscc),
        payload={
            "items": [r.item_code for r in rows],
            "departments": sorted({of[r.item_code] for r in rows}),
            "inspected_on": visit.inspected_on.isoformat() if visit.inspected_on else None,
        },
    )
    return rows


def _not_open(task: Task, item: str) -> str:
    if item not in departments_of(task):
        return (
            f"事项 {item} 不属于任务 {task.code} / item {item} is not an item of task {task.code}"
        )
    return (
        f"事项 {item} 已录入或已审核，不在本次一表通查中 / item {item} is already entered or "
        "reviewed and is not part of this sheet"
    )


def _split_answers(
    task: Task,
    answers: Mapping[str, Any],
    sheets: Mapping[str, Checklist],
    items: list[str],
    problems: list[str],
) -> dict[str, dict[str, Any]]:
    """The answers of each open item: grouped by item already, or by point id across the
    sheet (a point id two items share must be grouped)."""
    codes = set(departments_of(task))
    if answers and all(k in codes and isinstance(v, Mapping) for k, v in answers.items()):
        for item in sorted(set(answers) - set(items)):
            problems.append(_not_open(task, item))
        return {k: dict(v) for k, v in answers.items() if k in items}
    where: dict[str, list[str]] = {}
    for item, checklist in sheets.items():
        for checkpoint in checklist.points:
            where.setdefault(checkpoint.id, []).append(item)
    out: dict[str, dict[str, Any]] = {}
    for key, answer in answers.items():
        point = str(key)
        found = where.get(point, [])
        if len(found) > 1:
            problems.append(
                f"{point}: 事项 {'、'.join(found)} 的细则都有这个要点编号，请按事项分组作答 / "
                f"point {point} is in the checklists of {', '.join(found)}: group the answers "
                "by item"
            )
        elif not found:
            problems.append(
                f"{point}: 待录入事项（{'、'.join(items)}）的细则中没有这个检查要点 / no open "
                f"item's checklist ({', '.join(items)}) has this point"
            )
        else:
            out.setdefault(found[0], {})[point] = answer
    return out
