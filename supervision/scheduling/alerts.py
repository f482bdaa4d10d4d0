"""Alerts: what the scheduler needs a person to look at, bilingual, one open per (kind, object).

Raising an alert that is already open refreshes it (message, ``last_seen_at``, ``times``)
instead of piling up duplicates; the upsert on ``open_key`` keeps that true even when two
processes raise the same alert at once. Resolving clears ``open_key``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from supervision import clock
from supervision.db import table_of, upsert_insert
from supervision.errors import NotFoundError
from supervision.models.scheduling import Alert

_A = table_of(Alert)


class AlertKind:
    SEED_MISSING = "seed_missing"
    SEED_DEADLINE_PASSED = "seed_deadline_passed"
    DRAW_MISSED = "draw_missed"
    DRAW_FAILED = "draw_failed"
    COMMIT_MISSED = "commit_missed"
    JOB_FAILED = "job_failed"
    JOB_MISSED = "job_missed"
    PUBLICATION_DUE = "publication_due"
    PUBLICATION_OVERDUE = "publication_overdue"
    RECHECK_DUE = "rectification_overdue"
    CASE_TRANSFER = "case_transfer"
    LEASE_LOST = "lease_lost"
    PLAN_COVERAGE_SHORT = "plan_coverage_short"


@dataclass(frozen=True)
class AlertMessage:
    kind: str
    object: str
    zh: str
    en: str


#: Alert kinds owned by the deadline watch: an open one that the watch no longer finds
#: (published, rectified) is resolved by the next watch.
DEADLINE_KINDS = [
    AlertKind.PUBLICATION_DUE,
    AlertKind.PUBLICATION_OVERDUE,
    AlertKind.RECHECK_DUE,
    AlertKind.CASE_TRANSFER,
]


def deadline_alerts(deadlines: dict[str, Any], warn_workdays: int) -> list[AlertMessage]:
    """Alerts for the deadlines listed by supervision.results.deadlines.list_deadlines (pure).

    Publication overdue, or due within ``warn_workdays`` working days; rectification past
    its due date (re-check needed); rectification recorded as not done (case transfer).
    """
    found: list[AlertMessage] = []
    for d in deadlines.get("publication", []):
        obj = f"{d['task']}/{d['uscc']}"
        zh_mark, en_mark = _provisional_marks(d)
        if d["overdue"]:
            found.append(
                AlertMessage(
                    AlertKind.PUBLICATION_OVERDUE,
                    obj,
                    f"任务 {d['task']} 主体 {d['uscc']} 的检查结果应于 {d['due']} 前公示，已超期 {d['workdays_over']} 个工作日{zh_mark}",
                    f"results of {d['uscc']} in task {d['task']} were due for publication by {d['due']}; "
                    f"{d['workdays_over']} working day(s) overdue{en_mark}",
                )
            )
        elif d["workdays_left"] <= warn_workdays:
            found.append(
                AlertMessage(
                    AlertKind.PUBLICATION_DUE,
                    obj,
                    f"任务 {d['task']} 主体 {d['uscc']} 的检查结果须于 {d['due']} 前公示（剩 {d['workdays_left']} 个工作日）{zh_mark}",
                    f"results of {d['uscc']} in task {d['task']} must be published by {d['due']} "
                    f"({d['workdays_left']} working day(s) left){en_mark}",
                )
            )
    for d in deadlines.get("rectification", []):
        obj = f"{d['task']}/{d['uscc']}/{d['item']}"
        if d.get("case_transfer"):
            found.append(
                AlertMessage(
                    AlertKind.CASE_TRANSFER,
                    obj,
                    f"任务 {d['task']} 主体 {d['uscc']} 事项 {d['item']} 逾期未整改，应移送办案机构",
                    f"{d['uscc']} did not rectify item {d['item']} of task {d['task']}; "
                    "transfer the case lead",
                )
            )
        elif d.get("recheck"):
            found.append(
                AlertMessage(
                    AlertKind.RECHECK_DUE,
                    obj,
                    f"任务 {d['task']} 主体 {d['uscc']} 事项 {d['item']} 整改期限 {d['due']} 已过，需复查",
                    f"the rectification of {d['uscc']} for item {d['item']} of task {d['task']} "
                    f"was due {d['due']}; re-check it",
                )
            )
    return found


def _provisional_marks(d: dict[str, Any]) -> tuple[str, str]:
    """The words that mark a provisional due date in an alert (empty when it is official)."""
    if not d.get("provisional"):
        return "", ""
    years = "、".join(str(y) for y in d.get("provisional_years", []))
    return (
        f"（暂定：{years} 年放假安排尚未公布，{d['due']} 为最早可能日期）",
        f" (provisional: {years}'s holiday arrangement is not announced; {d['due']} is the "
        "earliest possible date)",
    )


def raise_alert(session: Session, *, kind: str, obj: str, zh: str, en: str) -> None:
    """Open an alert, or refresh the open one for the same (kind, object)."""
    now = clock.now()
    key = f"{kind}:{obj}"[:250]
    insert = upsert_insert(_A, session.get_bind().dialect.name)
    stmt = insert.values(
        kind=kind,
        object=obj[:200],
        message_zh=zh,
        message_en=en,
        raised_at=now,
        last_seen_at=now,
        times=1,
        open_key=key,
    ).on_conflict_do_update(
        index_elements=["open_key"],
        set_={
            "message_zh": zh,
            "message_en": en,
            "last_seen_at": now,
            "times": _A.c.times + 1,
        },
    )
    session.execute(stmt)


def resolve_alerts(session: Session, *, kind: str, obj: str) -> int:
    """Resolve the open alert for (kind, object), if any; returns how many were resolved."""
    result = session.execute(
        _A.update()
        .where(_A.c.open_key == f"{kind}:{obj}"[:250])
        .values(resolved_at=clock.now(), open_key=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def resolve_alert_id(session: Session, *, alert_id: int) -> Alert:
    """Resolve one alert by id (a person has dealt with it)."""
    alert = session.get(Alert, alert_id)
    if alert is None or alert.resolved_at is not None:
        raise NotFoundError(
            f"没有编号为 {alert_id} 的未处理提醒", f"no open alert with id {alert_id}"
        )
    alert.resolved_at = clock.now()
    alert.open_key = None
    session.add(alert)
    session.flush()
    return alert


def open_alerts(session: Session, *, kinds: list[str] | None = None) -> list[Alert]:
    """Open alerts (of ``kinds`` if given), oldest first."""
    query = select(Alert).where(col(Alert.resolved_at).is_(None))
    if kinds is not None:
        query = query.where(col(Alert.kind).in_(kinds))
    return list(session.exec(query.order_by(col(Alert.raised_at), col(Alert.id))))


def alert_dict(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "kind": alert.kind,
        "object": alert.object,
        "message_zh": alert.message_zh,
        "message_en": alert.message_en,
        "raised_at": clock.local(alert.raised_at).isoformat(),
        "last_seen_at": clock.local(alert.last_seen_at).isoformat(),
        "times": alert.times,
        "resolved_at": clock.local(alert.resolved_at).isoformat() if alert.resolved_at else None,
    }
