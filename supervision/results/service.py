"""Inspection results: entry, review, publication, correction, follow-up and replies.

The state machine (``next_state``) is pure. The service functions take the session
first and keyword-only arguments; each is all-or-nothing inside the caller's
transaction, and writes its trail events in that same transaction. Illegal moves are
``SupervisionError`` in Chinese and English, raised before anything is written (and a
later failure rolls the whole transaction back).

Versions: the content of a result row is never changed. Re-entering a returned result
or correcting a published one appends version n+1; older versions stay, so a public page
can show what changed and when.

Evidence files: the bytes go into the ``evidence_file`` table, content-addressed by
SHA-256 — in the database, so a result and its evidence commit or roll back together
and a backup of the database is a backup of the evidence. Size limit per file:
``SUPERVISION_EVIDENCE_MAX_BYTES`` (default 20 MB).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from sqlmodel import Session, col, select

from supervision import clock, trail
from supervision.db import hold_write
from supervision.draw.tasks import get_task
from supervision.errors import NotFoundError, SupervisionError, ValidationFailed
from supervision.models import (
    Assignment,
    ComplianceRecord,
    DrawPick,
    Inspector,
    Task,
    TaskStatus,
)
from supervision.models.records import PAYLOAD_MODELS
from supervision.models.results import (
    EvidenceFile,
    InspectionResult,
    ReplyState,
    ResultReply,
    ResultState,
)
from supervision.reference.result_codes import FOLLOW_UPS, RESULT_STATES, check_code, effective_code
from supervision.reference.vocab import RecordKind
from supervision.settings import settings

__all__ = [
    "ACTIONS",
    "EVIDENCE_ENV",
    "TRANSITIONS",
    "IllegalTransition",
    "ItemInput",
    "add_reply",
    "correct_results",
    "enter_results",
    "entity_results",
    "list_results",
    "next_state",
    "next_version",
    "publish_results",
    "record_follow_up",
    "review_reply",
    "review_results",
]

EVIDENCE_ENV = "SUPERVISION_EVIDENCE_MAX_BYTES"
DEFAULT_EVIDENCE_MAX = 20 * 1024 * 1024

# --------------------------------------------------------------------------- state machine
S = ResultState
ACTIONS = ("enter", "approve", "return", "publish", "correct")
#: (state, action) → new state. Anything else is illegal.
TRANSITIONS: dict[tuple[str, str], str] = {
    (S.NOT_ENTERED, "enter"): S.ENTERED,
    (S.RETURNED, "enter"): S.ENTERED,  # re-entered after return: a new version
    (S.ENTERED, "approve"): S.APPROVED,
    (S.ENTERED, "return"): S.RETURNED,
    (S.APPROVED, "publish"): S.PUBLISHED,
    (S.PUBLISHED, "correct"): S.ENTERED,  # a correction: a new version, reviewed again
}
#: Actions that write a new version.
NEW_VERSION = frozenset({"enter", "correct"})

_STATE_ZH = {state: wording.zh for state, wording in RESULT_STATES.items()}
_ACTION_ZH = {
    "enter": "录入",
    "approve": "审核通过",
    "return": "退回",
    "publish": "公示",
    "correct": "更正",
}
_HINT = {
    (S.PUBLISHED, "enter"): ("已公示的结果只能更正（result correct）", "use `result correct`"),
    (S.ENTERED, "enter"): (
        "请等待审核，或由审核人退回后再录入",
        "wait for review or have it returned",
    ),
    (S.APPROVED, "enter"): (
        "已审核通过，请公示；公示后可更正",
        "publish it; correct it afterwards",
    ),
}


class IllegalTransition(SupervisionError):
    """An action the result's state does not allow."""


def next_state(state: str, action: str) -> str:
    """The state after ``action``; IllegalTransition when the state does not allow it."""
    new = TRANSITIONS.get((state, action))
    if new is None:
        hint = _HINT.get((state, action))
        raise IllegalTransition(
            f"状态为“{_STATE_ZH.get(state, state)}”的结果不能{_ACTION_ZH.get(action, action)}"
            + (f"：{hint[0]}" if hint else ""),
            f"a result that is {state} cannot be {action}ed" + (f": {hint[1]}" if hint else ""),
        )
    return new


def next_version(state: str, version: int, action: str) -> tuple[str, int]:
    """(state, version) after ``action``: a new version for enter and correct."""
    return next_state(state, action), version + 1 if action in NEW_VERSION else version


# --------------------------------------------------------------------------- input
class ItemInput(BaseModel):
    """One item's result as entered (CLI options or one entry of a --from file)."""

    model_config = ConfigDict(extra="forbid")

    item: str
    code: str | None = None
    sub_code: str | None = None
    finding: str | None = None
    inspected_on: date | None = None
    inspectors: list[str] | None = None
    team_change_reason: str | None = None
    evidence: list[str] = []
    follow_up: str | None = None
    due: date | None = None
    follow_up_note: str | None = None

    @field_validator("code", "sub_code", "item", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        return None if v is None else str(v).strip()

    @field_validator("inspectors", mode="before")
    @classmethod
    def _list(cls, v: Any) -> Any:
        if isinstance(v, str):
            return [s for s in v.replace("，", ",").replace("、", ",").split(",") if s.strip()]
        return v


def parse_items(
    entries: Sequence[dict[str, Any]], defaults: dict[str, Any] | None = None
) -> list[ItemInput]:
    """Validate entries (from a file) into ItemInput, naming every bad field."""
    out, problems = [], []
    for n, entry in enumerate(entries, 1):
        try:
            out.append(ItemInput.model_validate({**(defaults or {}), **entry}))
        except ValidationError as exc:
            for e in exc.errors():
                where = ".".join(str(p) for p in e["loc"])
                problems.append(f"第 {n} 项 {where}：{e['msg']} / entry {n} {where}: {e['msg']}")
    if problems:
        raise ValidationFailed("检查结果输入有误", "the results input is invalid", details=problems)
    return out


# --------------------------------------------------------------------------- helpers
def _obj(task_code: str, uscc: str, item: str | None = None) -> str:
    return f"result:{task_code}/{uscc}" + (f"/{item}" if item else "")


def _record_id(task_code: str, uscc: str, item: str, version: int, kind: str) -> str:
    key = f"{kind}\x1f{task_code}\x1f{uscc}\x1f{item}\x1f{version}".encode()
    return f"res-{kind[:4]}-{hashlib.sha256(key).hexdigest()[:40]}"


def _drawn(session: Session, task_code: str, uscc: str) -> Task:
    task = get_task(session, task_code)
    if session.get(DrawPick, (task_code, uscc)) is None:
        raise NotFoundError(
            f"主体 {uscc} 不是任务 {task_code} 的抽取对象",
            f"entity {uscc} was not drawn in task {task_code}",
        )
    return task


def _history(session: Session, task_code: str, uscc: str) -> dict[str, list[InspectionResult]]:
    rows = session.exec(
        select(InspectionResult)
        .where(InspectionResult.task_code == task_code, InspectionResult.uscc == uscc)
        .order_by(col(InspectionResult.item_code), col(InspectionResult.version))
    )
    out: dict[str, list[InspectionResult]] = {}
    for row in rows:
        out.setdefault(row.item_code, []).append(row)
    return out


def _team(session: Session, task_code: str, uscc: str, department: str) -> list[str]:
    return sorted(
        session.exec(
            select(Assignment.cert_no).where(
                Assignment.task_code == task_code,
                Assignment.uscc == uscc,
                Assignment.department_code == department,
            )
        )
    )


def evidence_limit() -> int:
    """The largest evidence file stored, in bytes: ``$SUPERVISION_EVIDENCE_MAX_BYTES``, else
    ``DEFAULT_EVIDENCE_MAX``. A value that is not a whole number is a ``SupervisionError``."""
    return settings().evidence_max_bytes


def _store_evidence(session: Session, path_text: str, limit: int) -> dict[str, Any]:
    path = Path(path_text)
    try:
        size = path.stat().st_size
        if size > limit:
            raise SupervisionError(
                f"证据文件 {path.name} 大小 {size} 字节，超过上限 {limit} 字节",
                f"evidence file {path.name} is {size} bytes, over the limit of {limit} bytes",
                details=[f"调整上限 / raise the limit: {EVIDENCE_ENV}=<bytes>"],
            )
        content = path.read_bytes()
    except OSError as exc:
        raise SupervisionError(
            f"无法读取证据文件 {path}：{exc.strerror}", f"cannot read evidence file {path}: {exc}"
        ) from None
    digest = hashlib.sha256(content).hexdigest()
    if session.get(EvidenceFile, digest) is None:
        session.add(
            EvidenceFile(sha256=digest, size=len(content), content=content, stored_at=clock.now())
        )
    return {"name": path.name, "sha256": digest, "size": len(content)}


def _add_record(
    session: Session, *, record_id: str, uscc: str, kind: RecordKind, payload: dict[str, Any]
) -> None:
    model = PAYLOAD_MODELS[kind].model_validate(payload)
    data = model.model_dump(mode="json")
    stored = hold_write(session.connection())  # stamped inside the transaction (checks)
    session.add(
        ComplianceRecord(
            record_id=record_id,
            uscc=uscc,
            kind=kind.value,
            event_date=date.fromisoformat(
                data["ordered_on"]
                if kind == RecordKind.RECTIFICATION_ORDER
                else data["inspected_on"]
            ),
            payload=data,
            source="supervision result",
            received_at=stored,
            stored_at=stored,
        )
    )


def _check_result_input(item: ItemInput, task: Task, problems: list[str], *, today: date) -> None:
    label = f"事项 {item.item} / item {item.item}"
    try:
        check_code(item.code or "", item.sub_code)
    except SupervisionError as exc:
        problems.append(f"{label}: code: {exc}")
    if item.inspected_on is None:
        problems.append(f"{label}: inspected_on: 缺少检查日期 / inspection date missing")
    else:
        if item.inspected_on > today:
            problems.append(
                f"{label}: inspected_on: 检查日期 {item.inspected_on} 晚于今天 / "
                f"inspection date {item.inspected_on} is in the future"
            )
        drawn = task.drawn_at.astimezone(clock.LOCAL_TZ).date() if task.drawn_at else None
        if drawn and item.inspected_on < drawn:
            problems.append(
                f"{label}: inspected_on: 检查日期 {item.inspected_on} 早于抽取日期 {drawn} / "
                f"inspection date {item.inspected_on} is before the draw ({drawn})"
            )
    follow_up = item.follow_up or "none"
    if follow_up not in FOLLOW_UPS:
        problems.append(
            f"{label}: follow_up: 后续处置 {follow_up!r} 不是 {'、'.join(FOLLOW_UPS)} 之一 / "
            f"follow-up {follow_up!r} is not one of {', '.join(FOLLOW_UPS)}"
        )
    elif follow_up == "rectification":
        if item.due is None:
            problems.append(
                f"{label}: due: 责令限期整改必须给出整改期限 / a rectification order needs a due date"
            )
        elif item.inspected_on and item.due < item.inspected_on:
            problems.append(
                f"{label}: due: 整改期限 {item.due} 早于检查日期 / due date {item.due} is before the inspection"
            )
    elif item.due is not None:
        problems.append(
            f"{label}: due: 只有责令限期整改才有整改期限 / only a rectification order has a due date"
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
) -> list[InspectionResult]:
    task = _drawn(session, task_code, uscc)
    if task.status not in (TaskStatus.DRAWN, TaskStatus.IN_PROGRESS):
        raise SupervisionError(
            f"任务 {task_code} 状态为{TaskStatus.ZH.get(task.status, task.status)}，不能录入检查结果",
            f"task {task_code} is {task.status}; results can only be entered for a drawn task",
        )
    if not items:
        raise SupervisionError("没有要录入的检查事项", "no item to enter")
    task_items = {i["code"]: i for i in task.items}
    seen: set[str] = set()
    history = _history(session, task_code, uscc)
    problems: list[str] = []
    merged: list[tuple[ItemInput, InspectionResult | None, int]] = []
    today = clock.today()
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
        versions = history.get(raw.item, [])
        current = versions[-1] if versions else None
        state = current.state if current else S.NOT_ENTERED
        try:
            _, version = next_version(state, current.version if current else 0, action)
        except IllegalTransition as exc:
            problems.append(f"事项 {raw.item} / item {raw.item}: {exc}")
            continue
        item = raw
        if current is not None:
            # Fields not given again are carried over from the version being replaced.
            given = raw.model_dump(exclude_unset=True)
            base = {
                "code": current.result_code,
                "sub_code": current.sub_code,
                "finding": current.finding,
                "inspected_on": current.inspected_on,
                "inspectors": current.inspectors,
                "team_change_reason": current.team_change_reason,
                "follow_up": current.follow_up,
                "due": current.follow_up_due,
                "follow_up_note": current.follow_up_note,
            }
            if "code" in given and "sub_code" not in given:
                base["sub_code"] = None
            if given.get("follow_up") not in (None, "rectification") and "due" not in given:
                base["due"] = None
            item = ItemInput.model_validate({**base, **given})
        _check_result_input(item, task, problems, today=today)
        merged.append((item, current, version))
    if action == "correct" and not (reason and reason.strip()):
        problems.append("reason: 更正必须说明理由 / a correction needs a reason")
    if problems:
        raise ValidationFailed(
            f"主体 {uscc} 的检查结果不能{_ACTION_ZH[action]}",
            f"the results of {uscc} cannot be {action}ed",
            details=problems,
        )
    limit = evidence_limit()
    written = []
    for item, current, version in merged:
        department = task_items[item.item]["department_code"]
        team = _team(session, task_code, uscc, department)
        inspectors = sorted(set(item.inspectors)) if item.inspectors else team
        change_reason = item.team_change_reason
        if sorted(inspectors) != team:
            unknown = [c for c in inspectors if session.get(Inspector, c) is None]
            if unknown:
                raise ValidationFailed(
                    "检查人员不在执法检查人员名录中",
                    "inspectors not in the inspector directory",
                    details=[f"inspector: {c}" for c in unknown],
                )
            if not (change_reason and change_reason.strip()):
                raise SupervisionError(
                    f"事项 {item.item} 的检查人员 {'、'.join(inspectors)} 与抽取分配的 "
                    f"{'、'.join(team) or '（无）'} 不同，必须说明更换理由（--team-change-reason）",
                    f"item {item.item}: the inspectors differ from the assigned team "
                    f"{', '.join(team) or '(none)'}; a reason is required (--team-change-reason)",
                )
            if current is None or current.inspectors != inspectors:
                trail.record(
                    session,
                    actor=actor,
                    action="assignment.change",
                    obj=f"assignment:{task_code}/{uscc}/{department}",
                    payload={
                        "item": item.item,
                        "assigned": team,
                        "went": inspectors,
                        "reason": change_reason.strip(),
                    },
                )
        else:
            change_reason = None
        code, sub = check_code(item.code or "", item.sub_code)
        evidence = [_store_evidence(session, p, limit) for p in item.evidence]
        if current is not None and not item.evidence and "evidence" not in item.model_fields_set:
            evidence = list(current.evidence)
        follow_up = item.follow_up or "none"
        assert item.inspected_on is not None
        row = InspectionResult(
            task_code=task_code,
            uscc=uscc,
            item_code=item.item,
            version=version,
            state=S.ENTERED,
            result_code=code,
            sub_code=sub,
            finding=(item.finding or "").strip(),
            inspected_on=item.inspected_on,
            inspectors=inspectors,
            team_change_reason=change_reason.strip() if change_reason else None,
            evidence=evidence,
            follow_up=follow_up,
            follow_up_due=item.due,
            follow_up_note=(item.follow_up_note or "").strip(),
            follow_up_status="not_needed" if follow_up == "none" else "pending",
            change_reason=reason.strip() if action == "correct" and reason else None,
            corrects_version=current.version if action == "correct" and current else None,
            entered_by=actor,
            entered_at=clock.now(),
        )
        session.add(row)
        if follow_up == "rectification" and item.due is not None:
            rid = _record_id(task_code, uscc, item.item, version, "rectification_order")
            _add_record(
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
        session.flush()
        trail.record(
            session,
            actor=actor,
            action=f"result.{action}",
            obj=_obj(task_code, uscc, item.item),
            payload={
                "version": version,
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
        written.append(row)
    if task.status == TaskStatus.DRAWN:
        task.status = TaskStatus.IN_PROGRESS
        session.add(task)
        session.flush()
        trail.record(
            session,
            actor=actor,
            action="task.in_progress",
            obj=f"task:{task_code}",
            payload={"first_result": _obj(task_code, uscc)},
        )
    return written


# --------------------------------------------------------------------------- services
def enter_results(
    session: Session, *, task_code: str, uscc: str, items: Sequence[ItemInput], actor: str
) -> list[InspectionResult]:
    """Enter (or re-enter after return) the results of a drawn entity: one new version per
    item, state 待审核. The first entry moves the task from drawn to in_progress."""
    return _write_versions(
        session,
        task_code=task_code,
        uscc=uscc,
        items=items,
        action="enter",
        reason=None,
        actor=actor,
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


def _current(session: Session, task_code: str, uscc: str) -> dict[str, InspectionResult]:
    return {item: rows[-1] for item, rows in _history(session, task_code, uscc).items()}


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
    """Approve or return (with a reason) every result of the entity awaiting review."""
    _drawn(session, task_code, uscc)
    action = "approve" if approve else "return"
    if not approve and not (reason and reason.strip()):
        raise SupervisionError(
            "退回必须说明理由（--reason）", "returning needs a reason (--reason)"
        )
    current = _current(session, task_code, uscc)
    wanted = set(items) if items else None
    if wanted:
        missing = sorted(wanted - set(current))
        if missing:
            raise SupervisionError(
                f"事项 {'、'.join(missing)} 尚未录入", f"item(s) {', '.join(missing)} not entered"
            )
    targets = [r for i, r in sorted(current.items()) if wanted is None or i in wanted]
    if wanted is None:
        targets = [r for r in targets if r.state == S.ENTERED]
        if not targets:
            states = "、".join(f"{i}={_STATE_ZH[r.state]}" for i, r in sorted(current.items()))
            raise IllegalTransition(
                f"主体 {uscc} 没有待审核的检查结果（{states or '未录入'}）",
                f"entity {uscc} has no result awaiting review",
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
            rid = _record_id(task_code, uscc, row.item_code, row.version, "inspection_result")
            _add_record(
                session,
                record_id=rid,
                uscc=uscc,
                kind=RecordKind.INSPECTION_RESULT,
                payload={
                    "task_code": task_code,
                    "item_code": row.item_code,
                    "result_code": effective_code(row.result_code, row.sub_code),
                    "inspected_on": row.inspected_on,
                    "inspectors": row.inspectors,
                },
            )
        session.flush()
        trail.record(
            session,
            actor=actor,
            action=f"result.{action}",
            obj=_obj(task_code, uscc, row.item_code),
            payload={"version": row.version, "state": row.state, "reason": row.review_reason},
        )
    return targets


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


def publish_results(
    session: Session, *, task_code: str, uscc: str | None = None, actor: str
) -> dict[str, Any]:
    """Publish approved results (已公示): one entity, or every entity of the task whose
    results are all approved. All or nothing: a named entity with any result not yet
    approved is refused, and nothing is published."""
    get_task(session, task_code)
    if uscc is not None:
        _drawn(session, task_code, uscc)
    latest: dict[str, dict[str, InspectionResult]] = {}
    for (_task, entity, item), stored in current_results(
        session, task_code=task_code, uscc=uscc
    ).items():
        latest.setdefault(entity, {})[item] = stored
    if uscc is not None:
        scope = [uscc]
    else:  # entities with something approved; one query for the whole task
        scope = sorted(
            e for e, rows in latest.items() if any(r.state == S.APPROVED for r in rows.values())
        )
    ready: list[InspectionResult] = []
    not_ready: list[str] = []
    for entity in scope:
        current = dict(sorted(latest.get(entity, {}).items()))
        waiting = [r for r in current.values() if r.state in (S.ENTERED, S.RETURNED)]
        approved = [r for r in current.values() if r.state == S.APPROVED]
        if waiting or not approved:
            not_ready.append(
                f"{entity}: "
                + (
                    "、".join(f"{r.item_code}={_STATE_ZH[r.state]}" for r in current.values())
                    or "未录入"
                )
            )
            continue
        ready.extend(approved)
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
            obj=_obj(task_code, row.uscc, row.item_code),
            payload={"version": row.version, "corrects_version": row.corrects_version},
        )
    return {
        "task": task_code,
        "published": [{"uscc": r.uscc, "item": r.item_code, "version": r.version} for r in ready],
        "not_ready": not_ready,
    }


def record_follow_up(
    session: Session,
    *,
    task_code: str,
    uscc: str,
    item: str,
    done_on: date | None = None,
    not_rectified: bool = False,
    actor: str,
) -> InspectionResult:
    """Record the follow-up's outcome on the current version: done on a date, or (for a
    rectification order) not rectified, which raises the case-transfer flag."""
    _drawn(session, task_code, uscc)
    row = _current(session, task_code, uscc).get(item)
    if row is None:
        raise SupervisionError(f"事项 {item} 尚未录入", f"item {item} has not been entered")
    if row.follow_up == "none":
        raise SupervisionError(f"事项 {item} 无后续处置", f"item {item} has no follow-up to record")
    if row.follow_up_status != "pending":
        raise SupervisionError(
            f"事项 {item} 的后续处置已记录为 {row.follow_up_status}",
            f"the follow-up of item {item} is already {row.follow_up_status}",
        )
    if (done_on is None) == (not not_rectified):
        raise SupervisionError(
            "请给出完成日期（--done-on）或标记未整改（--not-rectified），二者择一",
            "give either a completion date (--done-on) or --not-rectified",
        )
    if not_rectified and row.follow_up != "rectification":
        raise SupervisionError(
            "只有责令限期整改可以标记未整改", "only a rectification order can be not rectified"
        )
    if done_on is not None and done_on < row.inspected_on:
        raise SupervisionError(
            f"完成日期 {done_on} 早于检查日期",
            f"completion date {done_on} is before the inspection",
        )
    row.follow_up_status = "not_rectified" if not_rectified else "done"
    row.follow_up_done_on = done_on
    session.add(row)
    if row.follow_up == "rectification" and done_on is not None:
        rid = _record_id(task_code, uscc, item, row.version, "rectification_order")
        record = session.get(ComplianceRecord, rid)
        if record is not None:
            record.payload = {**record.payload, "rectified_on": done_on.isoformat()}
            session.add(record)
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="result.follow_up",
        obj=_obj(task_code, uscc, item),
        payload={
            "version": row.version,
            "status": row.follow_up_status,
            "done_on": done_on.isoformat() if done_on else None,
        },
    )
    return row


def add_reply(
    session: Session, *, task_code: str, uscc: str, text: str, received_on: date, actor: str
) -> ResultReply:
    """Enter an entity's reply or objection to its published result (date received)."""
    _drawn(session, task_code, uscc)
    if not text.strip():
        raise SupervisionError("回复内容不能为空（--text）", "the reply text is empty (--text)")
    if not any(
        r.state == S.PUBLISHED for rows in _history(session, task_code, uscc).values() for r in rows
    ):
        raise IllegalTransition(
            f"主体 {uscc} 的检查结果尚未公示，不能登记回复",
            f"entity {uscc} has no published result to reply to",
        )
    if received_on > clock.today():
        raise SupervisionError(
            f"收到日期 {received_on} 晚于今天", f"received date {received_on} is in the future"
        )
    last = session.exec(
        select(ResultReply.seq)
        .where(ResultReply.task_code == task_code, ResultReply.uscc == uscc)
        .order_by(col(ResultReply.seq).desc())
    ).first()
    reply = ResultReply(
        task_code=task_code,
        uscc=uscc,
        seq=(last or 0) + 1,
        text=text.strip(),
        received_on=received_on,
        state=ReplyState.ENTERED,
        entered_by=actor,
        entered_at=clock.now(),
    )
    session.add(reply)
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="reply.enter",
        obj=_obj(task_code, uscc) + f"/reply/{reply.seq}",
        payload={
            "received_on": received_on.isoformat(),
            "text_sha256": hashlib.sha256(reply.text.encode()).hexdigest(),
        },
    )
    return reply


def review_reply(
    session: Session,
    *,
    task_code: str,
    uscc: str,
    approve: bool,
    reason: str | None,
    actor: str,
    seq: int | None = None,
) -> ResultReply:
    """Publish (approve) or reject a reply awaiting review (the latest, or ``seq``)."""
    _drawn(session, task_code, uscc)
    query = select(ResultReply).where(
        ResultReply.task_code == task_code,
        ResultReply.uscc == uscc,
        ResultReply.state == ReplyState.ENTERED,
    )
    if seq is not None:
        query = query.where(ResultReply.seq == seq)
    reply = session.exec(query.order_by(col(ResultReply.seq).desc())).first()
    if reply is None:
        raise IllegalTransition(
            f"主体 {uscc} 没有待审核的回复", f"entity {uscc} has no reply awaiting review"
        )
    if not approve and not (reason and reason.strip()):
        raise SupervisionError("不予公示必须说明理由（--reason）", "rejecting needs a reason")
    reply.state = ReplyState.PUBLISHED if approve else ReplyState.REJECTED
    reply.reviewed_by = actor
    reply.reviewed_at = clock.now()
    reply.review_reason = reason.strip() if reason and reason.strip() else None
    session.add(reply)
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="reply.publish" if approve else "reply.reject",
        obj=_obj(task_code, uscc) + f"/reply/{reply.seq}",
        payload={"reason": reply.review_reason},
    )
    return reply


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
    task = _drawn(session, task_code, uscc)
    history = _history(session, task_code, uscc)
    items = []
    for spec in task.items:
        versions = history.get(spec["code"], [])
        items.append(
            {
                "item": spec["code"],
                "department": spec["department_code"],
                "team": _team(session, task_code, uscc, spec["department_code"]),
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
    task = get_task(session, task_code)
    if state is not None and state not in _STATE_ZH:
        raise SupervisionError(
            f"未知状态 {state}（{'、'.join(_STATE_ZH)}）", f"unknown state {state}"
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
            current = row.state if row else S.NOT_ENTERED
            if state is not None and current != state:
                continue
            out.append(
                {
                    "uscc": uscc,
                    "item": spec["code"],
                    "state": current,
                    "version": row.version if row else 0,
                    "result_code": row.result_code if row else None,
                    "sub_code": row.sub_code if row else None,
                    "inspected_on": row.inspected_on.isoformat() if row else None,
                    "follow_up": row.follow_up if row else None,
                    "follow_up_status": row.follow_up_status if row else None,
                }
            )
    return out
