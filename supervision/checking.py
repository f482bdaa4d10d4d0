"""Check runs: evaluate the rule pack on the stored records and keep findings up to date.

``run_check`` is the service behind ``supervision check``:

- **Facts** per entity come from the entity row and its compliance records, loaded in
  chunks of entities with Core selects, derived by ``supervision.facts`` as of the
  run's as-of date and evaluated by ``RuleEngine`` (one Host per process).
- **Incremental by default.** After a completed run with the same pack digest and an
  as-of date not earlier than this one, only these entities are checked: entities whose
  row changed (``Entity.updated_at``) or that received a record (``received_at``) since
  that run started; entities never checked; entities whose ``EntityCheckState.next_due_on``
  is on or before the new as-of date. ``next_due_on`` is the earliest day on which the
  entity's findings could change with no record change: ``facts.next_due_from_facts`` (statutory
  deadlines), plus the days records dated in the future become visible, plus every date in
  a record shifted by each integer parameter or condition literal of the pack (e.g. a
  complaint leaving a 90-day window), plus rule ``effective_from`` / ``effective_to``. Early is harmless (a
  re-check that changes nothing); late would be wrong, so the rule errs early. Any other
  pack, an earlier as-of date, or ``full=True`` checks everyone.
- **Findings.** At most one open finding per (entity, rule): several firings of one rule
  for one entity are merged (``fact_ids`` = every fact matched). A run opens a finding,
  leaves it unchanged (same rule version and fact ids), updates it in place (the fact ids
  or the version changed while still open), or resolves it (the rule no longer fires),
  recording the run each time. Matched values are those first seen for the current fact
  ids (day counters such as ``days_overdue`` are not rewritten every day).
- **Decisions stand.** Runs never change a confirmed or dismissed finding. While the rule
  fires for the entity with the same rule version and only facts the decision already
  covered (fact ids a subset of the decided finding's), no new finding is opened: the
  decision stands. When the rule fires on a fact the decision did not see (another
  unfiled annual report, a new complaint, a new inspection record) or under a new rule
  version, a new open finding is raised for review; the earlier decision stays in the
  history.
- **Errors** from the engine (``EntityOutcome.errors``) are recorded on the run naming
  entity and rule; that entity's (or that rule's) findings are left as they were and the
  entity is due again at the next run; the run goes on.
- **Workers.** ``workers > 1`` spreads chunks of entities over that many spawned
  processes; each builds its own ``RuleEngine`` from the pickled pack and reads its
  chunks through its own database connection. All writes happen in the parent, in one
  transaction per run: a crash leaves no trace of the run.

``dry_run`` evaluates another pack on the same records and reports, per rule, findings
new / gone / unchanged against the open ones, writing nothing.
"""

from __future__ import annotations

import bisect
import datetime as dt
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, bindparam, exists, func, select, text, union, update
from sqlalchemy.dialects import postgresql, sqlite

from supervision import clock
from supervision.db import Database
from supervision.errors import SupervisionError
from supervision.facts import Fact, derive_facts, next_due_from_facts
from supervision.models import CheckRun, ComplianceRecord, Entity
from supervision.models.findings import (
    SEVERITY_RANK,
    EntityCheckState,
    FindingStatus,
)
from supervision.models.findings import (
    Finding as FindingRow,
)
from supervision.rules.engine import RuleEngine
from supervision.rules.pack import RulePack, load_pack
from supervision.workdays import WorkCalendar, default_calendar

__all__ = [
    "CHUNK",
    "CheckSummary",
    "DryRunReport",
    "EntityResult",
    "RuleFinding",
    "demo_check_step",
    "dry_run",
    "flagged_by_rule",
    "run_check",
]

#: Entities per chunk: one select of entities, one of their records, one batch of writes.
CHUNK = 1_000
#: The demo checks with two worker processes from this many entities on.
DEMO_WORKERS_FROM = 100_000
#: Errors kept in full on a run (the count is always exact).
MAX_STORED_ERRORS = 1_000

Advance = Callable[[int], object]

_E: Table = Entity.__table__  # type: ignore[attr-defined]
_R: Table = ComplianceRecord.__table__  # type: ignore[attr-defined]
_F: Table = FindingRow.__table__  # type: ignore[attr-defined]
_S: Table = EntityCheckState.__table__  # type: ignore[attr-defined]
_RUN: Table = CheckRun.__table__  # type: ignore[attr-defined]

_ENTITY_COLUMNS = (
    _E.c.uscc,
    _E.c.entity_type,
    _E.c.industry_code,
    _E.c.region_code,
    _E.c.status,
    _E.c.risk_class,
    _E.c.abnormal,
    _E.c.abnormal_since,
    _E.c.established_on,
)
_RECORD_COLUMNS = (_R.c.uscc, _R.c.record_id, _R.c.kind, _R.c.event_date, _R.c.payload)


# ---------------------------------------------------------------- evaluation (runs in workers)
@dataclass(frozen=True)
class RuleFinding:
    """What one rule found for one entity in one run (its firings merged)."""

    rule_id: str
    rule_version: int
    severity: str
    result_code: str
    department: str
    fact_ids: tuple[str, ...]
    matched: tuple[dict[str, Any], ...]


@dataclass
class EntityResult:
    """The outcome of checking one entity, small enough to send between processes."""

    uscc: str
    facts: int = 0
    next_due_on: dt.date | None = None
    findings: dict[str, RuleFinding] = field(default_factory=dict)
    #: (rule_id or None, zh, en); None means the whole entity could not be evaluated.
    errors: list[tuple[str | None, str, str]] = field(default_factory=list)

    @property
    def entity_failed(self) -> bool:
        return any(rule_id is None for rule_id, _, _ in self.errors)

    @property
    def failed_rules(self) -> set[str]:
        return {rule_id for rule_id, _, _ in self.errors if rule_id is not None}


def _numbers(value: Any) -> Iterator[int]:
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from _numbers(item)


def _date_offsets(pack: RulePack) -> tuple[int, ...]:
    """Day shifts at which a threshold of the pack can flip: every integer parameter and
    every integer literal of a condition (e.g. ``$lte: {age_days: 90}``)."""
    offsets = {0, 1}
    for rule in pack.rules:
        for value in [*rule.params.values(), *_numbers(rule.condition)]:
            if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 3660:
                offsets.update({value, value + 1})
    return tuple(sorted(offsets))


def _iso(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value if isinstance(value, str) else ""


class _Evaluator:
    """One process's evaluator: a warmed-up engine plus what incremental checks need."""

    def __init__(self, pack: RulePack, as_of: dt.date) -> None:
        self.pack = pack
        self.as_of = as_of
        self.engine = RuleEngine(pack)
        self.calendar: WorkCalendar = default_calendar()
        self.thresholds = [
            (offset, (as_of - dt.timedelta(days=offset)).isoformat())
            for offset in _date_offsets(pack)
        ]
        self.departments = {r.id: r.department for r in pack.rules}
        days: list[dt.date] = []
        for rule in pack.rules:
            days.append(rule.effective_from)
            if rule.effective_to is not None:
                days.append(rule.effective_to + dt.timedelta(days=1))
        later = [d for d in days if d > as_of]
        self.pack_due = min(later) if later else None

    def close(self) -> None:
        self.engine.close()

    def next_check_on(
        self, entity: dict[str, Any], records: list[dict[str, Any]], facts: list[Fact]
    ) -> dt.date | None:
        """The earliest day after as-of on which this entity's findings could change
        (``facts``: the entity's facts as of the run's as-of date)."""
        as_of = self.as_of
        best = next_due_from_facts(facts, as_of)
        if self.pack_due is not None and (best is None or self.pack_due < best):
            best = self.pack_due
        # Every date the entity's rows hold, as ISO text (which sorts like the dates).
        days = {_iso(entity.get("abnormal_since")), _iso(entity.get("established_on"))}
        for record in records:
            days.add(_iso(record.get("event_date")))
            payload = record.get("payload")
            if isinstance(payload, dict):
                for value in payload.values():
                    if type(value) is str and len(value) == 10 and value[4] == "-":
                        days.add(value)
        days.discard("")
        ordered = sorted(days)
        for offset, threshold in self.thresholds:
            # The first date d with d + offset > as_of, i.e. d > as_of - offset.
            i = bisect.bisect_right(ordered, threshold)
            if i < len(ordered):
                try:
                    candidate = dt.date.fromisoformat(ordered[i]) + dt.timedelta(days=offset)
                except ValueError:
                    continue
                if best is None or candidate < best:
                    best = candidate
        return best

    def evaluate(self, entity: dict[str, Any], records: list[dict[str, Any]]) -> EntityResult:
        uscc = str(entity["uscc"])
        result = EntityResult(uscc)
        try:
            facts = derive_facts(entity, records, self.as_of, calendar=self.calendar)
            result.next_due_on = self.next_check_on(entity, records, facts)
        except SupervisionError as exc:
            result.errors.append((None, exc.zh, exc.en))
            result.next_due_on = self.as_of  # try again at the next run
            return result
        result.facts = len(facts)
        outcome = self.engine.evaluate(uscc, facts, as_of=self.as_of)
        for error in outcome.errors:
            result.errors.append((error.rule_id, error.zh, error.en))
        if outcome.errors:
            result.next_due_on = self.as_of
        merged: dict[str, list[Any]] = {}
        for finding in outcome.findings:
            merged.setdefault(finding.rule_id, []).append(finding)
        for rule_id, findings in merged.items():
            seen: dict[tuple[str, str], dict[str, Any]] = {}
            for finding in findings:
                for m in finding.matched:
                    seen.setdefault(
                        (m.id, m.alias),
                        {"alias": m.alias, "id": m.id, "t": m.t, "values": dict(m.values)},
                    )
            first = findings[0]
            result.findings[rule_id] = RuleFinding(
                rule_id=rule_id,
                rule_version=first.rule_version,
                severity=first.severity,
                result_code=first.result_code,
                department=self.departments.get(rule_id, ""),
                fact_ids=tuple(sorted({m.id for f in findings for m in f.matched})),
                matched=tuple(seen[k] for k in sorted(seen)),
            )
        return result

    def check_chunk(
        self, conn: Connection, chunk: Sequence[str], contiguous: bool
    ) -> list[EntityResult]:
        """Load and evaluate one chunk of entities (sorted usccs)."""
        if contiguous:
            where_e = _E.c.uscc.between(chunk[0], chunk[-1])
            where_r = _R.c.uscc.between(chunk[0], chunk[-1])
        else:
            where_e = _E.c.uscc.in_(chunk)
            where_r = _R.c.uscc.in_(chunk)
        wanted = set(chunk)
        entity_keys = [c.name for c in _ENTITY_COLUMNS]
        entities = [
            dict(zip(entity_keys, row, strict=True))
            for row in conn.execute(select(*_ENTITY_COLUMNS).where(where_e).order_by(_E.c.uscc))
        ]
        record_keys = [c.name for c in _RECORD_COLUMNS]
        records: dict[str, list[dict[str, Any]]] = {}
        for row in conn.execute(select(*_RECORD_COLUMNS).where(where_r)):
            records.setdefault(row[0], []).append(dict(zip(record_keys, row, strict=True)))
        return [
            self.evaluate(entity, records.get(entity["uscc"], []))
            for entity in entities
            if entity["uscc"] in wanted
        ]


# Worker-process globals (spawned processes: one evaluator and one database each).
_worker: tuple[_Evaluator, Database] | None = None


def _init_worker(url: str, pack: RulePack, as_of: dt.date) -> None:
    global _worker
    _worker = (_Evaluator(pack, as_of), Database(url, migrate=False))


def _work(job: tuple[list[str], bool]) -> list[EntityResult]:
    assert _worker is not None
    evaluator, database = _worker
    with database.engine.connect() as conn:
        return evaluator.check_chunk(conn, job[0], job[1])


def _chunks(usccs: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(usccs), size):
        yield usccs[i : i + size]


def _evaluate_all(
    db: Database,
    conn: Connection,
    pack: RulePack,
    as_of: dt.date,
    usccs: list[str],
    *,
    contiguous: bool,
    workers: int,
    chunk_size: int = CHUNK,
) -> Iterator[list[EntityResult]]:
    """Results chunk by chunk, in the order of ``usccs`` (sorted)."""
    jobs = ((chunk, contiguous) for chunk in _chunks(usccs, chunk_size))
    if workers <= 1 or len(usccs) <= chunk_size:
        evaluator = _Evaluator(pack, as_of)
        try:
            for chunk, dense in jobs:
                yield evaluator.check_chunk(conn, chunk, dense)
        finally:
            evaluator.close()
        return
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=_init_worker, initargs=(db.url, pack, as_of)) as pool:
        yield from pool.imap(_work, jobs)


# ---------------------------------------------------------------- selection
def _last_run(conn: Connection) -> Any:
    return conn.execute(
        select(_RUN).where(_RUN.c.status == "done").order_by(_RUN.c.id.desc()).limit(1)
    ).first()


def _all_usccs(conn: Connection) -> list[str]:
    return list(conn.execute(select(_E.c.uscc).order_by(_E.c.uscc)).scalars())


def _changed_usccs(conn: Connection, since: dt.datetime, as_of: dt.date) -> list[str]:
    never_checked = select(_E.c.uscc).where(~exists().where(_S.c.uscc == _E.c.uscc))
    query = union(
        select(_E.c.uscc).where(_E.c.updated_at >= since),
        select(_R.c.uscc).where(_R.c.received_at >= since),
        select(_S.c.uscc).where(_S.c.next_due_on <= as_of),
        never_checked,
    )
    return sorted(set(conn.execute(query).scalars()))


# ---------------------------------------------------------------- writing
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
            "seconds": round(self.seconds, 3),
        }


def _live_findings(conn: Connection, usccs: Sequence[str]) -> dict[str, list[Any]]:
    rows = conn.execute(
        select(_F.c.id, _F.c.uscc, _F.c.rule_id, _F.c.rule_version, _F.c.status, _F.c.fact_ids)
        .where(_F.c.uscc.in_(usccs))
        .where(_F.c.status != FindingStatus.RESOLVED)
    )
    live: dict[str, list[Any]] = {}
    for row in rows:
        live.setdefault(row.uscc, []).append(row)
    return live


def _upsert_state(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = conn.dialect.name
    insert_fn = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert_fn(_S)
    stmt = stmt.on_conflict_do_update(
        index_elements=[_S.c.uscc],
        set_={
            "next_due_on": stmt.excluded.next_due_on,
            "last_run_id": stmt.excluded.last_run_id,
            "checked_as_of": stmt.excluded.checked_as_of,
        },
    )
    conn.execute(stmt, rows)


def _covered_by_decision(found: RuleFinding, decided: Sequence[Any]) -> bool:
    """True when a confirmed or dismissed finding of the same rule and version already
    covered every fact this firing matched: the decision stands, nothing new to review."""
    facts = set(found.fact_ids)
    return any(
        d.rule_id == found.rule_id
        and d.rule_version == found.rule_version
        and facts <= set(d.fact_ids or [])
        for d in decided
    )


class _Writer:
    """Applies chunk results to the finding table inside the run's transaction."""

    def __init__(self, conn: Connection, summary: CheckSummary, now: dt.datetime) -> None:
        self.conn = conn
        self.summary = summary
        self.now = now
        self.run_id = summary.run_id

    def apply(self, results: list[EntityResult]) -> None:
        s = self.summary
        live = _live_findings(self.conn, [r.uscc for r in results])
        inserts: list[dict[str, Any]] = []
        touches: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        resolves: list[dict[str, Any]] = []
        states: list[dict[str, Any]] = []
        for result in results:
            s.entities_checked += 1
            s.facts += result.facts
            for rule_id, zh, en in result.errors:
                s.error_count += 1
                if len(s.errors) < MAX_STORED_ERRORS:
                    s.errors.append({"uscc": result.uscc, "rule_id": rule_id, "zh": zh, "en": en})
            states.append(
                {
                    "uscc": result.uscc,
                    "next_due_on": result.next_due_on,
                    "last_run_id": self.run_id,
                    "checked_as_of": s.as_of,
                }
            )
            if result.entity_failed:
                continue  # nothing is known about this entity today: leave its findings
            skip = result.failed_rules
            open_by_rule: dict[str, Any] = {}
            decided: dict[str, list[Any]] = {}
            for row in live.get(result.uscc, []):
                if row.status == FindingStatus.OPEN:
                    open_by_rule[row.rule_id] = row
                else:
                    decided.setdefault(row.rule_id, []).append(row)
            for rule_id in sorted(set(result.findings) | set(open_by_rule)):
                if rule_id in skip:
                    continue
                found = result.findings.get(rule_id)
                if found is not None and _covered_by_decision(found, decided.get(rule_id, [])):
                    found = None  # a decision already covers these facts
                current = open_by_rule.get(rule_id)
                if found is None:
                    if current is not None:
                        resolves.append({"fid": current.id})
                elif current is None:
                    inserts.append(self._new_row(result.uscc, found))
                elif (
                    list(current.fact_ids or []) == list(found.fact_ids)
                    and current.rule_version == found.rule_version
                ):
                    touches.append({"fid": current.id})
                else:
                    updates.append({"fid": current.id, **self._changing(found)})
        conn = self.conn
        if inserts:
            conn.execute(_F.insert(), inserts)
        if touches:
            conn.execute(
                update(_F).where(_F.c.id == bindparam("fid")).values(last_run_id=self.run_id),
                touches,
            )
        if updates:
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
                    last_run_id=self.run_id,
                ),
                updates,
            )
        if resolves:
            conn.execute(
                update(_F)
                .where(_F.c.id == bindparam("fid"))
                .values(
                    status=FindingStatus.RESOLVED,
                    resolved_run_id=self.run_id,
                    last_run_id=self.run_id,
                    closed_at=self.now,
                ),
                resolves,
            )
        _upsert_state(conn, states)
        s.new += len(inserts)
        s.unchanged += len(touches)
        s.updated += len(updates)
        s.resolved += len(resolves)

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

    def _new_row(self, uscc: str, found: RuleFinding) -> dict[str, Any]:
        return {
            "uscc": uscc,
            "rule_id": found.rule_id,
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


def _resolve_pack(pack: RulePack | None, rules_dir: str | Path | None) -> RulePack:
    return pack if pack is not None else load_pack(rules_dir)


def _lock(conn: Connection) -> None:
    # One check run at a time. SQLite: the run's first write takes the database's write
    # lock for the whole transaction. PostgreSQL: a transaction-scoped advisory lock.
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(4040404)"))


def run_check(
    db: Database,
    *,
    as_of: dt.date | None = None,
    pack: RulePack | None = None,
    rules_dir: str | Path | None = None,
    workers: int = 1,
    full: bool = False,
    chunk_size: int = CHUNK,
    advance: Advance | None = None,
    on_total: Callable[[int], object] | None = None,
) -> CheckSummary:
    """Run a check and record it: incremental unless ``full`` (see the module docstring).

    Everything (the run row, findings, entity check states) is written in one transaction
    by this process. ``on_total(n)`` is told how many entities will be checked, then
    ``advance(k)`` after each chunk. Raises ``SupervisionError`` for bad arguments.
    """
    if workers < 1:
        raise SupervisionError("--workers 至少为 1", "--workers must be at least 1")
    the_pack = _resolve_pack(pack, rules_dir)
    day = as_of or clock.today()
    started = clock.now()
    t0 = time.perf_counter()
    with db.engine.begin() as conn:
        _lock(conn)
        last = _last_run(conn)
        if full:
            mode, reason = "full", "requested"
        elif last is None:
            mode, reason = "full", "first run"
        elif last.pack_digest != the_pack.digest:
            mode, reason = "full", "rule pack changed"
        elif day < last.as_of:
            mode, reason = "full", "as-of date earlier than the last run's"
        else:
            mode, reason = "incremental", f"since run {last.id}"
        inserted = conn.execute(
            _RUN.insert().values(
                started_at=started,
                as_of=day,
                pack_digest=the_pack.digest,
                pack_root=str(the_pack.root)[:500],
                mode=mode,
                workers=workers,
                errors=[],
                status="running",
            )
        ).inserted_primary_key
        assert inserted is not None
        summary = CheckSummary(
            run_id=int(inserted[0]),
            mode=mode,
            as_of=day,
            pack_digest=the_pack.digest,
            workers=workers,
            reason=reason,
        )
        usccs = _all_usccs(conn) if mode == "full" else _changed_usccs(conn, last.started_at, day)
        if on_total is not None:
            on_total(len(usccs))
        writer = _Writer(conn, summary, started)
        for results in _evaluate_all(
            db,
            conn,
            the_pack,
            day,
            usccs,
            contiguous=mode == "full",
            workers=workers,
            chunk_size=chunk_size,
        ):
            writer.apply(results)
            if advance is not None:
                advance(len(results))
        summary.seconds = time.perf_counter() - t0
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
    return summary


# ---------------------------------------------------------------- dry run
@dataclass
class DryRunReport:
    """Per rule: findings the other pack would open, close, or leave as they are."""

    as_of: dt.date
    pack_digest: str
    entities_checked: int = 0
    facts: int = 0
    rules: dict[str, Counter[str]] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0

    def count(self, rule_id: str, what: str) -> None:
        self.rules.setdefault(rule_id, Counter())[what] += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "pack_digest": self.pack_digest,
            "entities_checked": self.entities_checked,
            "facts": self.facts,
            "rules": {
                rule_id: {k: counts.get(k, 0) for k in ("new", "gone", "unchanged")}
                for rule_id, counts in sorted(self.rules.items())
            },
            "error_count": self.error_count,
            "errors": self.errors,
        }


def dry_run(
    db: Database,
    *,
    pack: RulePack | None = None,
    rules_dir: str | Path | None = None,
    as_of: dt.date | None = None,
    workers: int = 1,
    chunk_size: int = CHUNK,
    advance: Advance | None = None,
    on_total: Callable[[int], object] | None = None,
) -> DryRunReport:
    """Evaluate a pack on every stored entity without writing anything.

    Compares with the open findings: ``new`` (the pack fires, no open finding for that
    entity and rule), ``gone`` (an open finding the pack would resolve), ``unchanged``.
    Runs in a transaction that is rolled back.
    """
    the_pack = _resolve_pack(pack, rules_dir)
    day = as_of or clock.today()
    report = DryRunReport(as_of=day, pack_digest=the_pack.digest)
    with db.engine.connect() as conn:
        try:
            usccs = _all_usccs(conn)
            if on_total is not None:
                on_total(len(usccs))
            for results in _evaluate_all(
                db,
                conn,
                the_pack,
                day,
                usccs,
                contiguous=True,
                workers=workers,
                chunk_size=chunk_size,
            ):
                live = _live_findings(conn, [r.uscc for r in results])
                for result in results:
                    report.entities_checked += 1
                    report.facts += result.facts
                    for rule_id, zh, en in result.errors:
                        report.error_count += 1
                        if len(report.errors) < MAX_STORED_ERRORS:
                            report.errors.append(
                                {"uscc": result.uscc, "rule_id": rule_id, "zh": zh, "en": en}
                            )
                    if result.entity_failed:
                        continue
                    rows = live.get(result.uscc, [])
                    open_rules = {r.rule_id for r in rows if r.status == FindingStatus.OPEN}
                    decided = [r for r in rows if r.status in FindingStatus.DECIDED]
                    firing = {
                        rule_id
                        for rule_id, found in result.findings.items()
                        if not _covered_by_decision(found, decided)
                    }
                    for rule_id in firing | open_rules:
                        if rule_id in result.failed_rules:
                            continue
                        if rule_id not in open_rules:
                            report.count(rule_id, "new")
                        elif rule_id not in firing:
                            report.count(rule_id, "gone")
                        else:
                            report.count(rule_id, "unchanged")
                if advance is not None:
                    advance(len(results))
        finally:
            conn.rollback()
    return report


# ---------------------------------------------------------------- summaries
def flagged_by_rule(db: Database) -> tuple[int, list[dict[str, Any]]]:
    """Entities with open findings in total, and per rule (most flagged first)."""
    entities = func.count(func.distinct(_F.c.uscc))
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(_F.c.rule_id, entities.label("entities"))
            .where(_F.c.status == FindingStatus.OPEN)
            .group_by(_F.c.rule_id)
            .order_by(entities.desc(), _F.c.rule_id)
        ).all()
        total = conn.execute(select(entities).where(_F.c.status == FindingStatus.OPEN)).scalar_one()
    return int(total), [{"rule_id": r.rule_id, "entities": int(r.entities)} for r in rows]


def demo_check_step(db: Database, as_of: dt.date) -> dict[str, Any]:
    """The demo's check step: a full check of the demo province as of its date.

    Returns the run summary plus the number of flagged entities per rule (``by_rule``)
    and in total (``flagged``), for ``supervision demo`` to print.
    """
    with db.engine.connect() as conn:
        entities = conn.execute(select(func.count()).select_from(_E)).scalar_one()
    # Worker processes pay off on a big province (each costs a second or two to start).
    workers = min(2, os.cpu_count() or 1) if entities >= DEMO_WORKERS_FROM else 1
    summary = run_check(db, as_of=as_of, full=True, workers=workers)
    total, per_rule = flagged_by_rule(db)
    return {**summary.to_dict(), "flagged": total, "by_rule": per_rule}
