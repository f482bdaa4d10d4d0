"""Inspection results after entry: review, publication, and the lists that show them.

The services take the session first and keyword-only arguments; each is all-or-nothing
inside the caller's transaction, and writes its trail events in that same transaction.
Illegal moves (see results.states) are ``SupervisionError`` in Chinese and English,
raised before anything is written (and a later failure rolls the whole transaction back).

Entering and correcting results (new versions) is results.entry; evidence files are
results.evidence; replies and follow-ups are results.replies and results.follow_ups.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, col, select

from supervision import clock, trail
from supervision.draw.tasks import get_task
from supervision.errors import SupervisionError, ValidationFailed
from supervision.models import DrawPick
from supervision.models.results import InspectionResult, ResultReply
from supervision.reference.result_codes import code_problems, effective_code
from supervision.reference.vocab import RecordKind
from supervision.results.history import (
    current,
    current_results,
    drawn_task,
    history,
    result_object,
    team,
)
from supervision.results.parts import reviewable_items
from supervision.results.records import add_record, record_id
from supervision.results.states import STATE_ZH, IllegalTransition, ResultState, next_state
from supervision.results.teams import require_lawful_teams

__all__ = ["entity_results", "list_results", "publish_results", "review_results"]

S = ResultState


# --------------------------------------------------------------------------- review
def review_results(
    session: Session,
    *,
    task_code: str,
    uscc: str,
    approve: bool,
    reason: str | None,
    actor: str,
    items: Iterable[str] | None = None,
) -> list[InspectionResult]:
    """Approve or return (with a reason) every result of the entity awaiting review.

    Separated duties: whoever entered a version cannot review it. Approval re-checks
    each team against the directory on its inspection day (results.teams): a team that
    is not lawful (an expired 执法证, a conflict declared since...) cannot be approved."""
    task = drawn_task(session, task_code=task_code, uscc=uscc)
    action = "approve" if approve else "return"
    if not approve and not (reason and reason.strip()):
        raise SupervisionError(
            "退回必须说明理由（--reason）", "returning needs a reason (--reason)"
        )
    wanted = set(items) if items else None
    allowed = reviewable_items(session, task=task, actor=actor, items=wanted)
    targets = _to_review(session, task_code=task_code, uscc=uscc, items=wanted, allowed=allowed)
    for row in targets:
        next_state(row.state, action)
    _require_separated(targets, actor=actor, action=action)
    if approve:
        _require_consistent_codes(targets, uscc=uscc)
        require_lawful_teams(
            session,
            task=task,
            uscc=uscc,
            teams={row.item_code: (row.inspectors, row.inspected_on) for row in targets},
            action_zh="审核通过",
            action="approved",
        )
    for row in targets:
        row.state = next_state(row.state, action)
    moment = clock.now()
    for row in targets:
        row.reviewed_by = actor
        row.reviewed_at = moment
        row.review_reason = reason.strip() if reason and reason.strip() else None
        session.add(row)
        if approve:
            _add_result_record(session, task_code=task_code, uscc=uscc, row=row)
        session.flush()
        trail.record(
            session,
            actor=actor,
            action=f"result.{action}",
            obj=result_object(task_code, uscc, row.item_code),
            payload={"version": row.version, "state": row.state, "reason": row.review_reason},
        )
    return targets


def _require_separated(targets: list[InspectionResult], *, actor: str, action: str) -> None:
    """Separated duties: the person who entered a result cannot review it."""
    own = [r.item_code for r in targets if r.entered_by == actor]
    if own:
        raise SupervisionError(
            f"事项 {'、'.join(own)} 的检查结果由 {actor} 录入，录入人不能审核自己录入的结果",
            f"{actor} entered the result of item(s) {', '.join(own)} and cannot {action} it: "
            "the person who enters a result cannot review it",
        )


def _require_consistent_codes(targets: list[InspectionResult], *, uscc: str) -> None:
    """Approval applies the code table too (a result stored before it, or by another
    door, cannot be approved if code, sub-code, follow-up and finding disagree)."""
    problems = [
        f"事项 {r.item_code} / item {r.item_code}: {field}: {zh} / {en}"
        for r in targets
        for field, zh, en in code_problems(
            r.result_code,
            r.sub_code,
            follow_up=r.follow_up,
            finding=r.finding,
            follow_up_ref=r.follow_up_ref,
        )
    ]
    if problems:
        raise ValidationFailed(
            f"主体 {uscc} 的检查结果与结果代码表不符，不能审核通过",
            f"the results of {uscc} disagree with the result-code table and cannot be approved",
            details=problems,
        )


def _to_review(
    session: Session,
    *,
    task_code: str,
    uscc: str,
    items: set[str] | None,
    allowed: set[str] | None = None,
) -> list[InspectionResult]:
    """The current versions to review: of the items named (each must be entered), or
    else every one awaiting review (there must be one); within ``allowed`` (a reviewer's
    department's part of a joint task) when given."""
    latest = current(session, task_code=task_code, uscc=uscc)
    if allowed is not None:
        latest = {i: r for i, r in latest.items() if i in allowed}
    wanted = items
    if wanted:
        missing = sorted(wanted - set(latest))
        if missing:
            raise SupervisionError(
                f"事项 {'、'.join(missing)} 尚未录入", f"item(s) {', '.join(missing)} not entered"
            )
    targets = [r for i, r in sorted(latest.items()) if wanted is None or i in wanted]
    if wanted is None:
        targets = [r for r in targets if r.state == S.ENTERED]
        if not targets:
            states = "、".join(f"{i}={STATE_ZH[r.state]}" for i, r in sorted(latest.items()))
            raise IllegalTransition(
                f"主体 {uscc} 没有待审核的检查结果（{states or '未录入'}）",
                f"entity {uscc} has no result awaiting review",
            )
    return targets


def _add_result_record(
    session: Session, *, task_code: str, uscc: str, row: InspectionResult
) -> None:
    """The compliance record of an approved result."""
    add_record(
        session,
        record_id=record_id(task_code, uscc, row.item_code, row.version, "inspection_result"),
        uscc=uscc,
        kind=RecordKind.INSPECTION_RESULT,
        payload={
            "task_code": task_code,
            "item_code": row.item_code,
            "result_code": effective_code(row.result_code, row.sub_code),
            "inspected_on": row.inspected_on,
            "inspectors": row.inspectors,
            "main_code": row.result_code,
            "sub_code": row.sub_code,
            "follow_up": row.follow_up,
            "follow_up_status": row.follow_up_status,
            "follow_up_due": row.follow_up_due,
        },
    )


# --------------------------------------------------------------------------- publication
def publish_results(
    session: Session, *, task_code: str, uscc: str | None = None, actor: str
) -> dict[str, Any]:
    """Publish approved results (已公示): one entity, or every entity of the task whose
    results are all approved. All or nothing: a named entity with any result not yet
    approved is refused, and nothing is published."""
    get_task(session, code=task_code)
    if uscc is not None:
        drawn_task(session, task_code=task_code, uscc=uscc)
    ready, not_ready = _ready_to_publish(session, task_code=task_code, uscc=uscc)
    if uscc is not None and not_ready:
        raise IllegalTransition(
            f"主体 {uscc} 的检查结果未全部审核通过，不能公示",
            f"not every result of {uscc} is approved; nothing was published",
            details=not_ready,
        )
    if not ready:
        raise IllegalTransition(
            f"任务 {task_code} 没有可公示（已审核通过）的检查结果",
            f"task {task_code} has no approved result to publish",
            details=not_ready,
        )
    moment = clock.now()
    for row in ready:
        row.state = next_state(row.state, "publish")
        row.published_at = moment
        row.published_by = actor
        session.add(row)
    session.flush()
    for row in ready:
        trail.record(
            session,
            actor=actor,
            action="result.publish",
            obj=result_object(task_code, row.uscc, row.item_code),
            payload={"version": row.version, "corrects_version": row.corrects_version},
        )
    return {
        "task": task_code,
        "published": [{"uscc": r.uscc, "item": r.item_code, "version": r.version} for r in ready],
        "not_ready": not_ready,
    }


def _ready_to_publish(
    session: Session, *, task_code: str, uscc: str | None
) -> tuple[list[InspectionResult], list[str]]:
    """The approved results of every entity in scope whose results are all approved, and
    a line for each entity that is not ready. Scope: the named entity, or the entities
    of the task with something approved (one query for the whole task)."""
    latest: dict[str, dict[str, InspectionResult]] = {}
    for (_task, entity, item), stored in current_results(
        session, task_code=task_code, uscc=uscc
    ).items():
        latest.setdefault(entity, {})[item] = stored
    if uscc is not None:
        scope = [uscc]
    else:
        scope = sorted(
            e for e, rows in latest.items() if any(r.state == S.APPROVED for r in rows.values())
        )
    ready: list[InspectionResult] = []
    not_ready: list[str] = []
    for entity in scope:
        rows = dict(sorted(latest.get(entity, {}).items()))
        waiting = [r for r in rows.values() if r.state in (S.ENTERED, S.RETURNED)]
        approved = [r for r in rows.values() if r.state == S.APPROVED]
        if waiting or not approved:
            not_ready.append(
                f"{entity}: "
                + (
                    "、".join(f"{r.item_code}={STATE_ZH[r.state]}" for r in rows.values())
                    or "未录入"
                )
            )
            continue
        ready.extend(approved)
    return ready, not_ready


# --------------------------------------------------------------------------- reading
def _row_dict(row: InspectionResult) -> dict[str, Any]:
    data = row.model_dump(mode="json")
    data["effective_code"] = effective_code(row.result_code, row.sub_code)
    return data


def _versions(versions: list[InspectionResult]) -> list[dict[str, Any]]:
    """Version dicts; a published version later replaced by a published correction gets
    ``superseded_at`` (when the correction was published) — what changed and when."""
    out = []
    for n, v in enumerate(versions):
        data = _row_dict(v)
        data["current"] = n == len(versions) - 1
        later = [w for w in versions[n + 1 :] if w.state == S.PUBLISHED]
        data["superseded_at"] = (
            later[0].published_at.isoformat()
            if v.state == S.PUBLISHED and later and later[0].published_at
            else None
        )
        out.append(data)
    return out


def entity_results(session: Session, *, task_code: str, uscc: str) -> dict[str, Any]:
    """Everything about one drawn entity's results: every version of every item, the
    assigned team, and the replies (published ones are the entity's own statement)."""
    task = drawn_task(session, task_code=task_code, uscc=uscc)
    versions_of = history(session, task_code=task_code, uscc=uscc)
    items = []
    for spec in task.items:
        versions = versions_of.get(spec["code"], [])
        items.append(
            {
                "item": spec["code"],
                "department": spec["department_code"],
                "team": team(
                    session, task_code=task_code, uscc=uscc, department=spec["department_code"]
                ),
                "state": versions[-1].state if versions else S.NOT_ENTERED,
                "versions": _versions(versions),
            }
        )
    replies = session.exec(
        select(ResultReply)
        .where(ResultReply.task_code == task_code, ResultReply.uscc == uscc)
        .order_by(col(ResultReply.seq))
    )
    return {
        "task": task_code,
        "uscc": uscc,
        "items": items,
        "replies": [r.model_dump(mode="json") for r in replies],
    }


def list_results(
    session: Session, *, task_code: str, state: str | None = None
) -> list[dict[str, Any]]:
    """One line per drawn entity and task item with its current state (未录入 if none)."""
    task = get_task(session, code=task_code)
    if state is not None and state not in STATE_ZH:
        raise SupervisionError(
            f"未知状态 {state}（{'、'.join(STATE_ZH)}）", f"unknown state {state}"
        )
    picks = sorted(session.exec(select(DrawPick.uscc).where(DrawPick.task_code == task_code)))
    latest = {
        (entity, item): stored
        for (_task, entity, item), stored in current_results(session, task_code=task_code).items()
    }
    out = []
    for uscc in picks:
        for spec in task.items:
            row = latest.get((uscc, spec["code"]))
            now_state = row.state if row else S.NOT_ENTERED
            if state is not None and now_state != state:
                continue
            out.append(
                {
                    "uscc": uscc,
                    "item": spec["code"],
                    "state": now_state,
                    "version": row.version if row else 0,
                    "result_code": row.result_code if row else None,
                    "sub_code": row.sub_code if row else None,
                    "inspected_on": row.inspected_on.isoformat() if row else None,
                    "follow_up": row.follow_up if row else None,
                    "follow_up_status": row.follow_up_status if row else None,
                }
            )
    return out
