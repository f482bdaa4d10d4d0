"""Check runs: evaluate the rule pack on the stored records and keep findings up to date.

``run_check`` is the service behind ``supervision check``. One run:

- takes the check lock and opens its ``CheckRun`` row;
- chooses what to check (``supervision.checks.selection``): everyone in a full run,
  else the changed, due and never-checked entities (incremental by default);
- evaluates them chunk by chunk (``supervision.checks.workers``, ``.evaluate``), here,
  in spawned worker processes or on a Dask cluster (``supervision.checks.executors``), each
  chunk compared with its entities' live findings (``supervision.checks.compare``);
- writes what each chunk means (``_Writer``): findings opened, kept, updated or
  resolved, entity check states, fact templates made or dropped.

All writes happen in this process, in one transaction per run: a crash leaves no trace
of the run. A full run writes an entity's check state only when its next due day
changed (the run row records that it covered everyone). Errors from the engine are
recorded on the run naming entity and rule (at most ``compare.MAX_STORED_ERRORS`` in full); that
entity's (or that rule's) findings are left as they were and the entity is due again at
the next run; the run goes on.

``supervision.checks.dry_run`` evaluates another pack on the same records, writing nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, select, text, update

from supervision import clock, trail
from supervision.checks.compare import ChunkOutcome
from supervision.checks.cures import propose_cures
from supervision.checks.evaluate import RuleFinding
from supervision.checks.executors import start_executor, validate_executor
from supervision.checks.selection import (
    all_usccs,
    changes_from,
    due_usccs,
    last_run,
    stale_entities,
)
from supervision.checks.workers import CHUNK, ChunkPool, Plan, evaluate_all
from supervision.db import (
    Database,
    busy_is_an_error,
    hold_write,
    refresh_statistics,
    table_of,
    upsert_insert,
)
from supervision.db.bulk import DriverStatement
from supervision.errors import ConflictError, SupervisionError
from supervision.models import CheckRun, Entity
from supervision.models.fields import text_problem
from supervision.models.findings import SEVERITY_RANK, EntityCheckState, EntityFacts, FindingStatus
from supervision.models.findings import Finding as FindingRow
from supervision.reference.regions import prefecture_of
from supervision.reference.workdays import WorkCalendar, default_calendar
from supervision.rules.pack import RulePack, load_pack

__all__ = ["CHUNK", "Advance", "CheckSummary", "EarlierThanLastRun", "run_check"]

Advance = Callable[[int], object]

_F: Table = table_of(FindingRow)
_E: Table = table_of(Entity)
_S: Table = table_of(EntityCheckState)
_RUN: Table = table_of(CheckRun)
_T: Table = table_of(EntityFacts)


@dataclass
class CheckSummary:
    """What a run did (also stored on its CheckRun row)."""

    run_id: int
    mode: str
    as_of: dt.date
    pack_digest: str
    workers: int
    entities_checked: int = 0
    facts: int = 0
    new: int = 0
    unchanged: int = 0
    updated: int = 0
    resolved: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0
    seconds: float = 0.0
    reason: str = ""
    #: Entities evaluated from their stored facts template (nothing read or derived).
    reused: int = 0
    #: The working-day calendar's fingerprint, and which of the run's years (its as-of year
    #: and the next) it only knows provisionally.
    calendar: str = ""
    provisional_years: list[int] = field(default_factory=list)
    #: Removal proposals this run made for register entries whose cause is cured.
    cures_proposed: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "mode": self.mode,
            "reason": self.reason,
            "as_of": self.as_of.isoformat(),
            "pack_digest": self.pack_digest,
            "workers": self.workers,
            "entities_checked": self.entities_checked,
            "facts": self.facts,
            "findings": {
                "new": self.new,
                "unchanged": self.unchanged,
                "updated": self.updated,
                "resolved": self.resolved,
            },
            "error_count": self.error_count,
            "errors": self.errors,
            "facts_reused": self.reused,
            "calendar": self.calendar,
            "provisional_years": self.provisional_years,
            "cures_proposed": self.cures_proposed,
            "seconds": round(self.seconds, 3),
        }


_STATE_COLUMNS = ("uscc", "next_due_on", "last_run_id", "checked_as_of")
_TEMPLATE_COLUMNS = (
    "uscc",
    "facts_key",
    "valid_from",
    "valid_until",
    "template",
    "counters",
    "due",
    "dates",
    "facts",
    "run_id",
)


def _upsert_statement(table: Table, columns: tuple[str, ...], dialect_name: str) -> Any:
    stmt = upsert_insert(table, dialect_name)
    return stmt.on_conflict_do_update(
        index_elements=[table.c.uscc],
        set_={name: stmt.excluded[name] for name in columns if name != "uscc"},
    )


@functools.lru_cache(maxsize=8)
def _driver_upsert(table: Table, columns: tuple[str, ...], dialect: Any) -> DriverStatement:
    """The SQLite upsert, compiled once."""
    return DriverStatement(_upsert_statement(table, columns, dialect.name), table, columns, dialect)


def _upsert(
    conn: Connection, table: Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """Insert rows (values in ``columns`` order) keyed by ``uscc``, replacing every other
    column of existing ones: the driver's executemany on SQLite (``db.bulk``; SQLAlchemy's
    per-row parameter handling was a third of the upserts' time in a first full check),
    Core's on PostgreSQL (psycopg pipelines it)."""
    if not rows:
        return
    if conn.dialect.paramstyle != "qmark":
        conn.execute(
            _upsert_statement(table, columns, conn.dialect.name),
            [dict(zip(columns, row, strict=True)) for row in rows],
        )
        return
    _driver_upsert(table, columns, conn.dialect).run(conn, rows)


class _Writer:
    """Executes chunk outcomes inside the run's transaction and keeps the tally."""

    def __init__(self, conn: Connection, summary: CheckSummary, now: dt.datetime) -> None:
        self.conn = conn
        self.summary = summary
        self.now = now
        self.run_id = summary.run_id
        #: Rows written per table (``refresh_statistics`` at the end of the run).
        self.written: Counter[str] = Counter()

    def apply(self, out: ChunkOutcome) -> None:
        s = self.summary
        s.entities_checked += out.entities
        s.facts += out.facts
        s.reused += out.reused
        s.error_count += out.note_errors(s.errors)
        conn, run_id = self.conn, self.run_id
        if out.new:
            # Each new finding carries its entity's region (the scoped queues' indexes);
            # the region is read here, in the run's transaction, as the entities stand.
            regions = dict(
                conn.execute(
                    select(_E.c.uscc, _E.c.region_code).where(
                        _E.c.uscc.in_({uscc for uscc, _ in out.new})
                    )
                ).all()
            )
            conn.execute(
                _F.insert(),
                [self._new_row(uscc, found, regions.get(uscc, "")) for uscc, found in out.new],
            )
        if out.same and self.summary.mode != "full":
            # A full run's coverage is its run row (``review.seen_last``): rewriting every
            # unchanged open finding cost the writing process ~20 µs each.
            conn.execute(
                update(_F).where(_F.c.id == bindparam("fid")).values(last_run_id=run_id),
                [{"fid": fid} for fid, _ in out.same],
            )
        if out.changed:
            conn.execute(
                update(_F)
                .where(_F.c.id == bindparam("fid"))
                .values(
                    rule_version=bindparam("rule_version"),
                    severity=bindparam("severity"),
                    severity_rank=bindparam("severity_rank"),
                    result_code=bindparam("result_code"),
                    department=bindparam("department"),
                    fact_ids=bindparam("fact_ids", type_=_F.c.fact_ids.type),
                    matched=bindparam("matched", type_=_F.c.matched.type),
                    last_run_id=run_id,
                ),
                [{"fid": fid, **self._changing(found)} for fid, found in out.changed],
            )
        if out.gone:
            conn.execute(
                update(_F)
                .where(_F.c.id == bindparam("fid"))
                .values(
                    status=FindingStatus.RESOLVED,
                    resolved_run_id=run_id,
                    last_run_id=run_id,
                    closed_at=self.now,
                ),
                [{"fid": fid} for fid, _ in out.gone],
            )
        as_of = s.as_of
        _upsert(conn, _S, _STATE_COLUMNS, [(uscc, due, run_id, as_of) for uscc, due in out.states])
        _upsert(
            conn,
            _T,
            _TEMPLATE_COLUMNS,
            [
                (uscc, t.key, t.valid_from, t.valid_until, t.text.decode(), t.counters, t.due,
                 t.dates, t.count, run_id)
                for uscc, t in out.templates
            ],
        )  # fmt: skip
        if out.drops:
            conn.execute(delete(_T).where(_T.c.uscc.in_(out.drops)))
        self.written[_F.name] += len(out.new) + len(out.changed) + len(out.gone)
        self.written[_S.name] += len(out.states)
        self.written[_T.name] += len(out.templates) + len(out.drops)
        s.new += len(out.new)
        s.unchanged += len(out.same)
        s.updated += len(out.changed)
        s.resolved += len(out.gone)

    @staticmethod
    def _changing(found: RuleFinding) -> dict[str, Any]:
        return {
            "rule_version": found.rule_version,
            "severity": found.severity,
            "severity_rank": SEVERITY_RANK.get(found.severity, 9),
            "result_code": found.result_code,
            "department": found.department,
            "fact_ids": list(found.fact_ids),
            "matched": [dict(m) for m in found.matched],
        }

    def _new_row(self, uscc: str, found: RuleFinding, region: str) -> dict[str, Any]:
        return {
            "uscc": uscc,
            "rule_id": found.rule_id,
            "region_code": region,
            "prefecture_code": prefecture_of(region) if region else "",
            **self._changing(found),
            "status": FindingStatus.OPEN,
            "first_run_id": self.run_id,
            "last_run_id": self.run_id,
            "resolved_run_id": None,
            "opened_as_of": self.summary.as_of,
            "opened_at": self.now,
            "closed_at": None,
            "decided_by": None,
            "decided_at": None,
            "note": None,
            "effects": [],
        }


def _lock(conn: Connection) -> None:
    # One check run at a time. SQLite: ``hold_write`` takes the database's write lock
    # for the whole transaction. PostgreSQL: a transaction-scoped advisory lock.
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(4040404)"))


class EarlierThanLastRun(ConflictError):
    """A check as of a day before the last completed run's: it would resolve findings
    that are live today and reopen them on the next run. Only a rewind, with a reason,
    writes such a run; otherwise callers report a what-if (``checks.dry_run``)."""

    def __init__(self, as_of: dt.date, last_as_of: dt.date, last_id: int) -> None:
        super().__init__(
            f"检查日期 {as_of} 早于上次核查（运行 #{last_id}）的检查日期 {last_as_of}：只作假设分析，"
            "不写入；确需回到该日期重新核查，请加 --rewind --reason 说明理由",
            f"the as-of date {as_of} is before the last check's ({last_as_of}, run "
            f"#{last_id}): a what-if only, nothing written; to rewind for real, add --rewind "
            "--reason TEXT",
        )
        self.as_of = as_of
        self.last_as_of = last_as_of
        self.last_id = last_id


def _rewind_reason(reason: str | None) -> str | None:
    if reason is None:
        return None
    text_value = reason.strip()
    problem = text_problem(text_value) if text_value else ("理由为空", "the reason is empty")
    if problem is not None:
        raise SupervisionError(f"回退理由：{problem[0]}", f"rewind reason: {problem[1]}")
    return text_value[:500]


def run_check(
    db: Database,
    *,
    as_of: dt.date | None = None,
    pack: RulePack | None = None,
    rules_dir: str | Path | None = None,
    workers: int = 1,
    full: bool = False,
    calendar: WorkCalendar | None = None,
    chunk_size: int = CHUNK,
    advance: Advance | None = None,
    on_total: Callable[[int], object] | None = None,
    rewind: str | None = None,
    actor: str | None = None,
    executor: str = "local",
    scheduler: str | None = None,
) -> CheckSummary:
    """Run a check and record it: incremental unless ``full`` (see the module docstring).

    An as-of day earlier than the last completed run's raises ``EarlierThanLastRun``
    (nothing written) unless ``rewind`` gives the reason to go back: the run is then
    written (a full one) with a ``check.rewind`` trail event naming ``actor`` and the reason.

    Everything (the run row, findings, entity check states) is written in one transaction
    by this process. ``on_total(n)`` is told how many entities will be checked, then
    ``advance(k)`` after each chunk. ``calendar``: the working-day calendar (default:
    ``default_calendar()``, which honours ``$SUPERVISION_CALENDAR_FILE``). ``executor``:
    ``local`` (``workers`` processes) or ``dask`` (the cluster at ``scheduler``; the run
    records its worker threads as ``workers``). Raises ``SupervisionError`` for bad
    arguments, an unreachable scheduler, or a failed Dask run (nothing written).
    """
    if workers < 1:
        raise SupervisionError("--workers 至少为 1", "--workers must be at least 1")
    reason = _rewind_reason(rewind)
    plan = Plan(
        pack=pack if pack is not None else load_pack(rules_dir),
        as_of=as_of or clock.today(),
        calendar=calendar or default_calendar(),
        workers=workers,
        chunk_size=chunk_size,
        executor=executor,
        scheduler=scheduler,
    )
    validate_executor(db, plan)
    t0 = time.perf_counter()
    # A full run with workers starts them first: their start-up (a second or so of
    # imports each) overlaps the selection below. A Dask run connects first: an
    # unreachable scheduler or database is refused before the run's row is written.
    early = start_executor(db, plan=plan) if executor == "dask" or (full and workers > 1) else None
    if early is not None:
        plan = replace(plan, workers=early.workers)
    try:
        with busy_is_an_error():
            return _run(db, plan, full=full, t0=t0, pool=early, advance=advance,
                        on_total=on_total, rewind=reason, actor=actor)  # fmt: skip
    finally:
        if early is not None:
            early.close()


def _mode(last: Any, plan: Plan, full: bool) -> tuple[str, str]:
    """The run's mode (full or incremental) and why."""
    if full:
        return "full", "requested"
    if last is None:
        return "full", "first run"
    if last.pack_digest != plan.pack.digest:
        return "full", "rule pack changed"
    if last.calendar is not None and last.calendar != plan.calendar.fingerprint:
        # The holiday notice arrived (or the extra days changed): deadlines counted by the
        # old (e.g. provisional) calendar are recomputed for every entity.
        return "full", "working-day calendar changed"
    if plan.as_of < last.as_of:
        return "full", "as-of date earlier than the last run's"
    return "incremental", f"since run {last.id}"


def _open_run(
    conn: Connection, plan: Plan, *, started: dt.datetime, mode: str, reason: str
) -> CheckSummary:
    """Insert the run's row (status ``running``) and start its summary."""
    inserted = conn.execute(
        _RUN.insert().values(
            started_at=started,
            changes_from=changes_from(conn, started),
            as_of=plan.as_of,
            pack_digest=plan.pack.digest,
            pack_root=str(plan.pack.root)[:500],
            mode=mode,
            workers=plan.workers,
            errors=[],
            status="running",
            calendar=plan.calendar.fingerprint,
        )
    ).inserted_primary_key
    assert inserted is not None
    return CheckSummary(
        run_id=int(inserted[0]),
        mode=mode,
        as_of=plan.as_of,
        pack_digest=plan.pack.digest,
        workers=plan.workers,
        reason=reason,
        calendar=plan.calendar.fingerprint,
        provisional_years=[
            y for y in (plan.as_of.year, plan.as_of.year + 1) if plan.calendar.is_provisional(y)
        ],
    )


def _finish_run(conn: Connection, summary: CheckSummary) -> None:
    """Record on the run's row what it did (status ``done``)."""
    conn.execute(
        update(_RUN)
        .where(_RUN.c.id == summary.run_id)
        .values(
            finished_at=clock.now(),
            entities_checked=summary.entities_checked,
            facts=summary.facts,
            findings_new=summary.new,
            findings_unchanged=summary.unchanged,
            findings_updated=summary.updated,
            findings_resolved=summary.resolved,
            error_count=summary.error_count,
            errors=summary.errors,
            status="done",
        )
    )


def _run(
    db: Database,
    plan: Plan,
    *,
    full: bool,
    t0: float,
    pool: ChunkPool | None,
    advance: Advance | None,
    on_total: Callable[[int], object] | None,
    rewind: str | None = None,
    actor: str | None = None,
) -> CheckSummary:
    with db.engine.begin() as conn:
        _lock(conn)
        started = hold_write(conn)
        last = last_run(conn)
        earlier = last is not None and plan.as_of < last.as_of
        if earlier and rewind is None:
            raise EarlierThanLastRun(plan.as_of, last.as_of, int(last.id))
        mode, reason = _mode(last, plan, full)
        summary = _open_run(conn, plan, started=started, mode=mode, reason=reason)
        if earlier:
            trail.record(
                conn, action="check.rewind", obj=f"check_run:{summary.run_id}",
                payload={"as_of": plan.as_of.isoformat(), "last_as_of": last.as_of.isoformat(),
                         "last_run": int(last.id), "reason": rewind},
                actor=actor,
            )  # fmt: skip
        stale = stale_entities(conn, last)
        if mode == "full":
            usccs = all_usccs(conn)
        else:
            assert stale is not None
            usccs = due_usccs(conn, stale, plan.as_of)
        if on_total is not None:
            on_total(len(usccs))
        writer = _Writer(conn, summary, started)
        trust_due = (
            last is not None and last.pack_digest == plan.pack.digest and plan.as_of >= last.as_of
        )
        for outcome in evaluate_all(
            db,
            conn=conn,
            plan=plan,
            usccs=usccs,
            contiguous=mode == "full",
            stale=stale,
            full=mode == "full",
            trust_due=trust_due,
            pool=pool,
        ):
            writer.apply(outcome)
            if advance is not None:
                advance(outcome.entities)
        # 信用修复: entries whose cause is gone get a removal proposal, in this transaction.
        summary.cures_proposed = propose_cures(
            conn, as_of=plan.as_of, calendar=plan.calendar, now=started
        )
        # PostgreSQL: a first full run writes millions of rows the next run and the
        # review queue read; they plan with fresh statistics, not autovacuum's later ones.
        refresh_statistics(conn, writer.written)
        summary.seconds = time.perf_counter() - t0
        _finish_run(conn, summary)
    return summary
