"""Deadlines by the official calendar: publication within 20 working days, rectification.

The arithmetic (``publication_due``, ``standing``) is pure and takes the calendar as an
argument; ``list_deadlines`` reads the database and is what ``supervision deadlines``
prints. Working days come from supervision.reference.workdays (chinese-calendar plus an optional
extra-days file). A deadline whose count runs through a year whose 调休 is not announced yet
is *provisional*: its due date is the earliest the real arrangement could give (alerts err
early) and every entry says so (``provisional``, ``provisional_years``, ``bound``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlmodel import Session

from supervision.credit.proposals import proposal_deadlines
from supervision.models.results import InspectionResult, ResultState
from supervision.reference.workdays import (
    CALENDAR_ENV,
    CalendarYearUnknown,
    WorkCalendar,
    default_calendar,
)
from supervision.results.history import current_results

__all__ = [
    "PROVISIONAL_BOUND",
    "PUBLICATION_WORKDAYS",
    "Standing",
    "list_deadlines",
    "publication_due",
    "standing",
]

#: 检查结果应在检查结束之日起 20 个工作日内公示.
PUBLICATION_WORKDAYS = 20

_T = TypeVar("_T")

_HOW_TO_FIX = [
    "升级日历包 / upgrade the calendar package: pip install -U chinesecalendar",
    "或提供补充日历文件 / or supply an extra-days file: --calendar FILE "
    f"(or set {CALENDAR_ENV}=FILE); format: README, `supervision calendar --help`; "
    "from the State Council's notice: supervision calendar import NOTICE.txt",
]

#: How a provisional due date was bounded, for every place that shows one.
PROVISIONAL_BOUND = (
    "暂定：该年放假安排尚未公布，按法定节假日计算，并假定节日前后 10 天内的周末（每个节日至多 2 天）"
    "可能调休上班，取最早可能日期 / provisional: the year's arrangement is not announced; "
    "counted by the statutory holidays, taking weekends within 10 days of a festival (at most "
    "2 per festival) as possible make-up working days: the earliest possible date"
)


def _explained(fn: Callable[[], _T]) -> _T:
    """Run calendar arithmetic; an unknown year gets the how-to-fix lines attached."""
    try:
        return fn()
    except CalendarYearUnknown as exc:
        for line in _HOW_TO_FIX:
            if line not in exc.details:
                exc.details.append(line)
        raise


def publication_due(inspection_end: date, calendar: WorkCalendar | None = None) -> date:
    """The last day to publish: the 20th working day after the inspection ended."""
    cal = calendar or default_calendar()
    return _explained(lambda: cal.add_workdays(inspection_end, PUBLICATION_WORKDAYS))


@dataclass(frozen=True)
class Standing:
    """Where a deadline stands on ``as_of``: working days left (≥ 0) or over (> 0)."""

    due: date
    overdue: bool
    days_left: int
    days_over: int


def standing(due: date, as_of: date, calendar: WorkCalendar | None = None) -> Standing:
    """Working days left until ``due`` (the due day counts as the last day), or over it."""
    cal = calendar or default_calendar()
    if as_of <= due:
        left = _explained(lambda: cal.workdays_between(as_of, due))
        return Standing(due, False, left, 0)
    over = _explained(lambda: cal.workdays_between(due, as_of))
    return Standing(due, True, 0, over)


def list_deadlines(
    session: Session, *, as_of: date, calendar: WorkCalendar | None = None
) -> dict[str, Any]:
    """Publication and rectification deadlines on ``as_of``, overdue first.

    Publication: per drawn entity of a task with a result not yet published, due 20
    working days after its inspection ended (the latest inspection date of its items).
    Rectification: every pending rectification order; once its due date has passed the
    entity is listed for re-check; an order recorded as not rectified carries the
    case-transfer flag. Listing: every open listing proposal with a due day (10 working
    days from the finding's confirmation, ``supervision.credit.proposals``).
    """
    cal = calendar or default_calendar()
    current = list(current_results(session).values())
    publication = _publication_deadlines(current, as_of=as_of, cal=cal)
    rectification = _rectification_deadlines(current, as_of=as_of, cal=cal)
    listing = _listing_deadlines(session, as_of=as_of, cal=cal)

    def key(d: dict[str, Any]) -> Any:
        return (not d["overdue"], d["due"], d["task"], d["uscc"])

    every = sorted(
        {y for d in publication + rectification + listing for y in d["provisional_years"]}
    )
    return {
        "as_of": as_of.isoformat(),
        "calendar": {
            "fingerprint": cal.fingerprint,
            "provisional": bool(every),
            "provisional_years": every,
            "bound": PROVISIONAL_BOUND if every else None,
        },
        "publication": sorted(publication, key=key),
        "rectification": sorted(rectification, key=key),
        "listing": listing,
    }


def _listing_deadlines(session: Session, *, as_of: date, cal: WorkCalendar) -> list[dict[str, Any]]:
    """One deadline per open listing proposal with a due day, overdue first."""
    listing: list[dict[str, Any]] = []
    for d in proposal_deadlines(session.connection(), as_of=as_of):
        s = standing(date.fromisoformat(d["due"]), as_of, cal)
        listing.append(
            {
                **_provisional(
                    cal,
                    due_years=cal.provisional_years((as_of, s.due)) if as_of <= s.due else [],
                    s=s,
                    as_of=as_of,
                ),
                **d,
                "overdue": s.overdue,
                "workdays_left": s.days_left,
                "workdays_over": s.days_over,
            }
        )
    return sorted(listing, key=lambda d: (not d["overdue"], d["due"], d["proposal_id"]))


def _publication_deadlines(
    current: list[InspectionResult], *, as_of: date, cal: WorkCalendar
) -> list[dict[str, Any]]:
    """One publication deadline per (task, entity) with a result not yet published."""
    pending: dict[tuple[str, str], list[InspectionResult]] = {}
    for row in current:
        if row.state != ResultState.PUBLISHED:
            pending.setdefault((row.task_code, row.uscc), []).append(row)
    publication: list[dict[str, Any]] = []
    for (task_code, uscc), rows in sorted(pending.items()):
        end = max(r.inspected_on for r in rows)
        s = standing(publication_due(end, cal), as_of, cal)
        publication.append(
            {
                **_provisional(
                    cal, due_years=cal.provisional_years((end, s.due)), s=s, as_of=as_of
                ),
                "task": task_code,
                "uscc": uscc,
                "inspection_end": end.isoformat(),
                "due": s.due.isoformat(),
                "overdue": s.overdue,
                "workdays_left": s.days_left,
                "workdays_over": s.days_over,
                "states": sorted({r.state for r in rows}),
            }
        )
    return publication


def _rectification_deadlines(
    current: list[InspectionResult], *, as_of: date, cal: WorkCalendar
) -> list[dict[str, Any]]:
    """One deadline per pending (or not rectified) rectification order."""
    rectification: list[dict[str, Any]] = []
    for row in current:
        if row.follow_up != "rectification" or row.follow_up_due is None:
            continue
        if row.follow_up_status not in ("pending", "not_rectified"):
            continue
        s = standing(row.follow_up_due, as_of, cal)
        # The order's due date is stored; what may move is the count of days left.
        rectification.append(
            {
                **_provisional(
                    cal,
                    due_years=cal.provisional_years((as_of, s.due)) if as_of <= s.due else [],
                    s=s,
                    as_of=as_of,
                ),
                "task": row.task_code,
                "uscc": row.uscc,
                "item": row.item_code,
                "version": row.version,
                "due": s.due.isoformat(),
                "overdue": s.overdue,
                "workdays_left": s.days_left,
                "workdays_over": s.days_over,
                "status": row.follow_up_status,
                "recheck": s.overdue and row.follow_up_status == "pending",
                "case_transfer": row.follow_up_status == "not_rectified",
            }
        )
    return rectification


def _provisional(
    cal: WorkCalendar, *, due_years: list[int], s: Standing, as_of: date
) -> dict[str, Any]:
    """The marks of one deadline: whether its due date is provisional and the years that
    made it so; whether its count of working days left or over runs through such a year."""
    return {
        "provisional": bool(due_years),
        "provisional_years": due_years,
        "count_provisional": bool(cal.provisional_years((as_of, s.due))),
    }
