"""The outcome of a result's follow-up (后续处置): done on a date, or not rectified.

A rectification order done on a date fills in the ``rectified_on`` of its compliance
record; one not rectified raises the case-transfer flag (see results.deadlines).
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from supervision import trail
from supervision.errors import SupervisionError
from supervision.models import ComplianceRecord
from supervision.models.results import InspectionResult
from supervision.results.history import current, drawn_task, result_object
from supervision.results.records import record_id

__all__ = ["record_follow_up"]


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
    drawn_task(session, task_code=task_code, uscc=uscc)
    row = _open_follow_up(
        current(session, task_code=task_code, uscc=uscc).get(item),
        item=item,
        done_on=done_on,
        not_rectified=not_rectified,
    )
    row.follow_up_status = "not_rectified" if not_rectified else "done"
    row.follow_up_done_on = done_on
    session.add(row)
    if row.follow_up == "rectification" and done_on is not None:
        rid = record_id(task_code, uscc, item, row.version, "rectification_order")
        record = session.get(ComplianceRecord, rid)
        if record is not None:
            record.payload = {**record.payload, "rectified_on": done_on.isoformat()}
            session.add(record)
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="result.follow_up",
        obj=result_object(task_code, uscc, item),
        payload={
            "version": row.version,
            "status": row.follow_up_status,
            "done_on": done_on.isoformat() if done_on else None,
        },
    )
    return row


def _open_follow_up(
    row: InspectionResult | None, *, item: str, done_on: date | None, not_rectified: bool
) -> InspectionResult:
    """The current version, if its follow-up is pending and can take this outcome."""
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
    return row
