"""Entering and correcting results: each writes one new version per item.

The content of a result row is never changed. Re-entering a returned result or
correcting a published one appends version n+1; older versions stay, so a public page
can show what changed and when. Every item is checked before anything is written, and a
refusal names every problem; the versions, their evidence, their compliance records and
their trail events are written in the caller's transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import NamedTuple

from sqlmodel import Session

from supervision import clock, trail
from supervision.checklists.spec import Checklist
from supervision.errors import SupervisionError, ValidationFailed
from supervision.models import Task, TaskStatus
from supervision.models.results import InspectionResult
from supervision.reference.result_codes import check_code
from supervision.reference.vocab import RecordKind
from supervision.results.checklist import apply_checklist, shipped_checklists
from supervision.results.evidence import evidence_limit, store_evidence
from supervision.results.history import drawn_task, history, result_object, team
from supervision.results.inputs import ItemInput, carried_over, check_item
from supervision.results.records import add_record, record_id
from supervision.results.states import ACTION_ZH, IllegalTransition, ResultState, next_version
from supervision.results.teams import require_lawful_teams

__all__ = ["correct_results", "enter_results"]

S = ResultState


class _NewVersion(NamedTuple):
    """One item's next version, checked: its input (with carried-over fields), the
    version it replaces (None for a first entry) and its number."""

    item: ItemInput
    replaces: InspectionResult | None
    version: int


def enter_results(
    session: Session,
    *,
    task_code: str,
    uscc: str,
    items: Sequence[ItemInput],
    actor: str,
    visit: bool = False,
) -> list[InspectionResult]:
    """Enter (or re-enter after return) the results of a drawn entity: one new version per
    item, state 待审核. The first entry moves the task from drawn to in_progress. ``visit``:
    the items are a joint visit's combined checklist (results.visit), so an inspector's
    account must be on the visit's team rather than on each item's."""
    return _write_versions(
        session,
        task_code=task_code,
        uscc=uscc,
        items=items,
        action="enter",
        reason=None,
        actor=actor,
        visit=visit,
    )


def correct_results(
    session: Session,
    *,
    task_code: str,
    uscc: str,
    items: Sequence[ItemInput],
    reason: str,
    actor: str,
) -> list[InspectionResult]:
    """Correct published results: a new version per item (fields not given are carried
    over), with the reason; it is reviewed and published again. Old versions stay."""
    return _write_versions(
        session,
        task_code=task_code,
        uscc=uscc,
        items=items,
        action="correct",
        reason=reason,
        actor=actor,
    )


def _write_versions(
    session: Session,
    *,
    task_code: str,
    uscc: str,
    items: Sequence[ItemInput],
    action: str,
    reason: str | None,
    actor: str,
    visit: bool = False,
) -> list[InspectionResult]:
    """Enter or correct: check every item first (refusing with every problem named),
    then write one new version per item, and start the task on its first result."""
    task = _open_task(session, task_code=task_code, uscc=uscc, items=items)
    planned = _plan_versions(
        session,
        task=task,
        task_code=task_code,
        uscc=uscc,
        items=items,
        action=action,
        reason=reason,
    )
    departments = {i["code"]: i["department_code"] for i in task.items}
    teams = [
        _team(
            session,
            task_code=task_code,
            uscc=uscc,
            department=departments[new.item.item],
            new=new,
        )
        for new in planned
    ]
    require_lawful_teams(
        session,
        task=task,
        uscc=uscc,
        teams={
            new.item.item: (went.inspectors, new.item.inspected_on or clock.today())
            for new, went in zip(planned, teams, strict=True)
        },
        action_zh=ACTION_ZH[action],
        action=f"{action}ed",
        actor=actor,
        visit=visit,
    )
    limit = evidence_limit()
    written = []
    for new, went in zip(planned, teams, strict=True):
        _record_team_change(
            session, task_code=task_code, uscc=uscc, new=new, went=went, actor=actor
        )
        row = _add_version(
            session,
            task_code=task_code,
            uscc=uscc,
            new=new,
            inspectors=went.inspectors,
            team_change_reason=went.reason,
            action=action,
            reason=reason,
            actor=actor,
            limit=limit,
        )
        written.append(row)
    if task.status == TaskStatus.DRAWN:
        _start_task(session, task=task, task_code=task_code, uscc=uscc, actor=actor)
    return written


def _open_task(session: Session, *, task_code: str, uscc: str, items: Sequence[ItemInput]) -> Task:
    """The task, if the entity was drawn in it, results can be entered, and items given."""
    task = drawn_task(session, task_code=task_code, uscc=uscc)
    if task.status not in (TaskStatus.DRAWN, TaskStatus.IN_PROGRESS):
        raise SupervisionError(
            f"任务 {task_code} 状态为{TaskStatus.ZH.get(task.status, task.status)}，不能录入检查结果",
            f"task {task_code} is {task.status}; results can only be entered for a drawn task",
        )
    if not items:
        raise SupervisionError("没有要录入的检查事项", "no item to enter")
    return task


def _plan_versions(
    session: Session,
    *,
    task: Task,
    task_code: str,
    uscc: str,
    items: Sequence[ItemInput],
    action: str,
    reason: str | None,
) -> list[_NewVersion]:
    """Every item's next version; ValidationFailed naming every problem if any item (or
    the correction's reason) is wrong. Nothing is written."""
    task_items = [i["code"] for i in task.items]
    seen: set[str] = set()
    versions_of = history(session, task_code=task_code, uscc=uscc)
    problems: list[str] = []
    planned: list[_NewVersion] = []
    today = clock.today()
    checklists: dict[tuple[str, int], Checklist] | None = None
    for raw in items:
        if raw.item not in task_items:
            problems.append(
                f"事项 {raw.item} 不属于任务 {task_code}（{'、'.join(task_items)}） / "
                f"item {raw.item} is not an item of task {task_code}"
            )
            continue
        if raw.item in seen:
            problems.append(f"事项 {raw.item} 重复 / item {raw.item} given twice")
            continue
        seen.add(raw.item)
        versions = versions_of.get(raw.item, [])
        replaces = versions[-1] if versions else None
        state = replaces.state if replaces else S.NOT_ENTERED
        try:
            _, version = next_version(state, replaces.version if replaces else 0, action)
        except IllegalTransition as exc:
            problems.append(f"事项 {raw.item} / item {raw.item}: {exc}")
            continue
        item = raw if replaces is None else carried_over(raw, replaces)
        if item.checklist is not None and checklists is None:
            checklists = shipped_checklists()
        item = apply_checklist(item, task, problems, checklists=checklists)
        check_item(item, task, problems, today=today)
        planned.append(_NewVersion(item, replaces, version))
    if action == "correct" and not (reason and reason.strip()):
        problems.append("reason: 更正必须说明理由 / a correction needs a reason")
    if problems:
        raise ValidationFailed(
            f"主体 {uscc} 的检查结果不能{ACTION_ZH[action]}",
            f"the results of {uscc} cannot be {action}ed",
            details=problems,
        )
    return planned


class _Team(NamedTuple):
    """Who inspected one item: the officers, the team the draw assigned to the item's
    department, the department, and why they differ (None when they do not)."""

    inspectors: list[str]
    assigned: list[str]
    department: str
    reason: str | None


def _team(
    session: Session, *, task_code: str, uscc: str, department: str, new: _NewVersion
) -> _Team:
    """Who inspected (default: the team the draw assigned) and why the team changed; a
    different team needs a reason. Writes nothing: the team's lawfulness is checked by
    results.teams before anything is written."""
    item = new.item
    assigned = team(session, task_code=task_code, uscc=uscc, department=department)
    inspectors = sorted(set(item.inspectors)) if item.inspectors else assigned
    if inspectors == assigned:
        return _Team(inspectors, assigned, department, None)
    change_reason = item.team_change_reason
    if not (change_reason and change_reason.strip()):
        raise SupervisionError(
            f"事项 {item.item} 的检查人员 {'、'.join(inspectors)} 与抽取分配的 "
            f"{'、'.join(assigned) or '（无）'} 不同，必须说明更换理由（--team-change-reason）",
            f"item {item.item}: the inspectors differ from the assigned team "
            f"{', '.join(assigned) or '(none)'}; a reason is required (--team-change-reason)",
        )
    return _Team(inspectors, assigned, department, change_reason)


def _record_team_change(
    session: Session, *, task_code: str, uscc: str, new: _NewVersion, went: _Team, actor: str
) -> None:
    """A team other than the assigned one is a trail event, unless the replaced version
    already had this team."""
    if went.reason is None:
        return
    if new.replaces is not None and new.replaces.inspectors == went.inspectors:
        return
    trail.record(
        session,
        actor=actor,
        action="assignment.change",
        obj=f"assignment:{task_code}/{uscc}/{went.department}",
        payload={
            "item": new.item.item,
            "assigned": went.assigned,
            "went": went.inspectors,
            "reason": went.reason.strip(),
        },
    )


def _add_version(
    session: Session,
    *,
    task_code: str,
    uscc: str,
    new: _NewVersion,
    inspectors: list[str],
    team_change_reason: str | None,
    action: str,
    reason: str | None,
    actor: str,
    limit: int,
) -> InspectionResult:
    """Write one new version (待审核) with its evidence and, for a rectification order,
    its compliance record; then its trail event."""
    item, replaces = new.item, new.replaces
    code, sub = check_code(item.code or "", item.sub_code)
    evidence = [store_evidence(session, path_text=p, limit=limit) for p in item.evidence]
    if replaces is not None and not item.evidence and "evidence" not in item.model_fields_set:
        evidence = list(replaces.evidence)
    follow_up = item.follow_up or "none"
    assert item.inspected_on is not None
    row = InspectionResult(
        task_code=task_code,
        uscc=uscc,
        item_code=item.item,
        version=new.version,
        state=S.ENTERED,
        result_code=code,
        sub_code=sub,
        checklist=item.checklist,
        finding=(item.finding or "").strip(),
        inspected_on=item.inspected_on,
        inspectors=inspectors,
        team_change_reason=team_change_reason.strip() if team_change_reason else None,
        evidence=evidence,
        follow_up=follow_up,
        follow_up_due=item.due,
        follow_up_note=(item.follow_up_note or "").strip(),
        follow_up_ref=(item.follow_up_ref or "").strip() or None,
        follow_up_status="not_needed" if follow_up == "none" else "pending",
        change_reason=reason.strip() if action == "correct" and reason else None,
        corrects_version=replaces.version if action == "correct" and replaces else None,
        entered_by=actor,
        entered_at=clock.now(),
    )
    session.add(row)
    if follow_up == "rectification" and item.due is not None:
        _add_rectification_order(
            session, task_code=task_code, uscc=uscc, item=item, version=new.version
        )
    session.flush()
    trail.record(
        session,
        actor=actor,
        action=f"result.{action}",
        obj=result_object(task_code, uscc, item.item),
        payload={
            "version": new.version,
            "state": S.ENTERED,
            "result_code": code,
            "sub_code": sub,
            "finding_sha256": hashlib.sha256(row.finding.encode()).hexdigest(),
            "inspected_on": row.inspected_on.isoformat(),
            "inspectors": inspectors,
            "team_change_reason": row.team_change_reason,
            "evidence": evidence,
            "follow_up": follow_up,
            "due": item.due.isoformat() if item.due else None,
            "reason": row.change_reason,
        },
    )
    return row


def _add_rectification_order(
    session: Session, *, task_code: str, uscc: str, item: ItemInput, version: int
) -> None:
    """The compliance record of a rectification order, not yet rectified."""
    rid = record_id(task_code, uscc, item.item, version, "rectification_order")
    add_record(
        session,
        record_id=rid,
        uscc=uscc,
        kind=RecordKind.RECTIFICATION_ORDER,
        payload={
            "order_no": rid,
            "ordered_on": item.inspected_on,
            "due_on": item.due,
            "rectified_on": None,
        },
    )


def _start_task(session: Session, *, task: Task, task_code: str, uscc: str, actor: str) -> None:
    """The first result of a drawn task moves it to in_progress."""
    task.status = TaskStatus.IN_PROGRESS
    session.add(task)
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="task.in_progress",
        obj=f"task:{task_code}",
        payload={"first_result": result_object(task_code, uscc)},
    )
