"""The review queue one page at a time, by keyset (no OFFSET), for the console and its API.

Same order and filters as ``supervision.checks.review.review_queue`` (most severe first, then
oldest, then id), but a page continues *after* the last row of the previous one: the
cursor is ``<severity_rank>.<opened_at µs since epoch>.<id>``, and the query is a range
scan of the ``ix_finding_queue`` index (status, severity_rank, opened_at, id), so page
10,000 costs what page 1 costs.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from sqlalchemy import func, literal, select, tuple_

from supervision import clock
from supervision.accounts.scope import Scope
from supervision.checks.review import QueueItem, open_count, open_findings_query
from supervision.db import Database, table_of
from supervision.errors import SupervisionError
from supervision.models.fields import shown, text_problem
from supervision.models.findings import SEVERITY_RANK, CheckRun
from supervision.models.findings import Finding as FindingRow
from supervision.models.trail import TrailEvent
from supervision.rules.pack import SEVERITIES

__all__ = ["PAGE_SIZE", "Cursor", "QueuePage", "queue_page"]

PAGE_SIZE = 50
_F = table_of(FindingRow)
_RUN = table_of(CheckRun)
_TRAIL = table_of(TrailEvent)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_INT64 = 2**63 - 1


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: the sort key of its last row."""

    rank: int
    opened_at: dt.datetime
    finding_id: int

    def encode(self) -> str:
        at = clock.as_utc(self.opened_at)
        micros = (at - _EPOCH) // dt.timedelta(microseconds=1)
        return f"{self.rank}.{micros}.{self.finding_id}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            rank, micros, fid = (int(part) for part in text.split("."))
            if not all(-_INT64 <= n <= _INT64 for n in (rank, micros, fid)):
                raise OverflowError  # beyond a database integer: no row is there
            return cls(rank, _EPOCH + dt.timedelta(microseconds=micros), fid)
        except (ValueError, OverflowError):
            raise SupervisionError(
                f"分页位置 {shown(text)} 无效，请从第一页开始",
                f"invalid page cursor {shown(text)}; start from the first page",
            ) from None


@dataclass(frozen=True)
class QueuePage:
    items: list[QueueItem]
    next_cursor: str | None
    #: Open findings under the filters, and where this page starts among them (None
    #: for a page reached by cursor, whose position is not counted).
    total: int = 0
    offset: int | None = 0
    limit: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        """How many pages the total fills (at least one)."""
        return max(1, -(-self.total // self.limit))

    @property
    def number(self) -> int | None:
        """This page's number (1-based), when it was reached by number."""
        return None if self.offset is None else self.offset // self.limit + 1


#: What the queue's data is at: the last check run, trail event and finding.
_AT = (
    select(func.max(_RUN.c.id)).scalar_subquery(),
    select(func.max(_TRAIL.c.seq)).scalar_subquery(),
    select(func.max(_F.c.id)).scalar_subquery(),
)
_VERSION = select(*_AT)

#: Totals already counted: (database, filters) → (what they were counted at, total, when).
_TOTALS: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[tuple[int, ...], int, float]] = {}
_TOTAL_SECONDS = 300.0


def _total(
    db: Database, at: tuple[int, ...], scope: Scope | None = None, **filters: str | None
) -> int:
    """``open_count``, counted again only when a check run, a trail event (every review
    decision writes one) or a finding was added since ``at`` (``_VERSION``'s row), or after
    five minutes: counting a million open findings takes longer than the page itself."""
    # The scope is part of the key: a county reviewer never gets the province's total.
    region = scope.region if scope is not None else ""
    key = (db.url, (*sorted((k, v) for k, v in filters.items() if v), ("@", region)))
    now = time.monotonic()
    known = _TOTALS.get(key)
    if known is not None and known[0] == at and now - known[2] < _TOTAL_SECONDS:
        return known[1]
    total = open_count(db, scope=scope, **filters)
    if len(_TOTALS) > 256:
        _TOTALS.clear()
    _TOTALS[key] = (at, total, now)
    return total


def queue_page(
    db: Database,
    *,
    department: str | None = None,
    region: str | None = None,
    rule: str | None = None,
    severity: str | None = None,
    after: str | None = None,
    limit: int = PAGE_SIZE,
    page: int | None = None,
    scope: Scope | None = None,
) -> QueuePage:
    """One page of open findings after the cursor `after` (None: the first page), or
    page number ``page`` (1-based, by offset: for page links); with the total. Only
    findings inside ``scope`` (their entity's region) are on a page or in the total."""
    if severity and severity not in SEVERITIES:
        raise SupervisionError(
            f"严重程度应为 {'/'.join(SEVERITIES)} 之一，而不是 {severity}",
            f"severity must be one of {', '.join(SEVERITIES)}, not {severity}",
        )
    for name, value in (("department", department), ("region", region), ("rule", rule)):
        problem = text_problem(value or "")
        if problem is not None:
            raise SupervisionError(f"筛选条件 {name}：{problem[0]}", f"filter {name}: {problem[1]}")
    limit = max(1, min(limit, 500))
    query = open_findings_query(
        scope=scope, department=department, region=region, rule=rule, severity=severity
    )
    if after:
        c = Cursor.decode(after)
        # A row-value comparison: SQLite and PostgreSQL both turn it into one range of
        # ix_finding_queue after status = 'open' (spelled out as ORs, SQLite only ranges
        # on severity_rank and filters the rest: 30 ms instead of 0.1 ms at 1M rows).
        query = query.where(
            tuple_(_F.c.severity_rank, _F.c.opened_at, _F.c.id)
            > tuple_(
                literal(c.rank), literal(c.opened_at, _F.c.opened_at.type), literal(c.finding_id)
            )
        )
    offset: int | None = 0
    if page is not None and not after:
        if page < 1:
            raise SupervisionError("页码至少为 1", "the page number must be at least 1")
        offset = (page - 1) * limit
        query = query.offset(offset)
    elif after:
        offset = None
    # The version rides along on every row (uncorrelated subqueries: computed once), so a
    # page is one statement; an empty page asks for it alone. In autocommit: on PostgreSQL
    # no BEGIN and ROLLBACK round trips around it.
    query = query.add_columns(*_AT).limit(limit + 1)
    with db.reading() as conn:
        rows = conn.execute(query).all()
        versions = rows[0][-len(_AT) :] if rows else conn.execute(_VERSION).one()
    at = tuple(int(v or 0) for v in versions)
    total = _total(
        db, at, scope, department=department, region=region, rule=rule, severity=severity
    )
    items = [QueueItem(*row[: -len(_AT)]) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = Cursor(SEVERITY_RANK[last.severity], last.opened_at, last.finding_id).encode()
    return QueuePage(items, next_cursor, total=total, offset=offset, limit=limit)
