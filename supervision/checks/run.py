"""Check runs: evaluate the rule pack on the stored records and keep findings up to date.

``run_check`` is the service behind ``supervision check``:

- **Facts** per entity come from the entity row and its compliance records, loaded in
  chunks of entities with Core selects, derived by ``supervision.checks.facts`` as of the
  run's as-of date and evaluated by ``RuleEngine`` (one Host per process).
- **Stored facts.** Each derivation is stored as a fact template (``entity_facts``,
  ``supervision.checks.templates``): the JSON the engine is given, with slots for the day
  counters. A later run evaluates an entity from its template, without reading its
  records or deriving, when the template was made with the same facts version,
  template format and calendar (``facts_key``), covers the run's as-of day (``valid_from`` ≤ as-of <
  ``valid_until``) and the entity is not *stale*: its row did not change and it
  received no record since the last completed run's ``changes_from``. Every completed run
  derives (and stores anew) every stale entity it checks, and a full or incremental
  run checks every stale one, so a stored template is never older than its rows.
  Results are the same either way (tests compare with runs whose templates were
  deleted). An entity that can no longer be templated or derived loses its template.
- **Incremental by default.** After a completed run with the same pack digest and an
  as-of date not earlier than this one, only these entities are checked: entities whose
  row changed (``Entity.updated_at``) or that got a new or changed record (``stored_at``,
  set by the system, not the imported ``received_at``) since
  that run's ``changes_from``: when it started (on PostgreSQL, when the oldest
  transaction then in flight started: ``_changes_from``);
  entities never checked; entities whose ``EntityCheckState.next_due_on``
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
  recording the run (a full run leaves an unchanged one unwritten: ``review.seen_last``).
  Matched values are those first seen for the current fact ids (day counters such as
  ``days_overdue`` are not rewritten every day).
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
  chunks through its own database connection. A chunk is evaluated *and compared*
  with its entities' live findings where it is read (``ChunkOutcome``: findings to
  open, keep, update or resolve, states and templates to write); its entities belong
  to no other chunk, so the parent's earlier writes cannot change that comparison.
  All writes happen in the parent, in one transaction per run: a crash leaves no
  trace of the run. A full run writes an entity's check state only when its next due
  day changed (the run row records that it covered everyone).

``dry_run`` evaluates another pack on the same records and reports, per rule, findings
new / gone / unchanged against the open ones, writing nothing.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import multiprocessing
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import (
    Connection,
    Table,
    Text,
    bindparam,
    cast,
    delete,
    exists,
    func,
    select,
    text,
    union,
    update,
)

from supervision import clock
from supervision.checks.facts import derive, next_due_from_facts
from supervision.checks.templates import FactTemplate, facts_key, row_dates
from supervision.db import Database, busy_is_an_error, hold_write, upsert_insert, utf8_bytes
from supervision.errors import SupervisionError
from supervision.models import CheckRun, ComplianceRecord, Entity
from supervision.models.findings import (
    SEVERITY_RANK,
    EntityCheckState,
    EntityFacts,
    FindingStatus,
)
from supervision.models.findings import (
    Finding as FindingRow,
)
from supervision.reference.workdays import WorkCalendar, default_calendar
from supervision.rules.engine import RuleEngine
from supervision.rules.pack import RulePack, load_pack

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
_T: Table = EntityFacts.__table__  # type: ignore[attr-defined]

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
#: What ``_Evaluator._stored`` reads of a template (its facts key is the run's).
_TEMPLATE_COLUMNS = (
    _T.c.uscc,
    _T.c.valid_from,
    _T.c.valid_until,
    utf8_bytes(_T.c.template),
    _T.c.counters,
    _T.c.due,
    _T.c.dates,
    _T.c.facts,
)


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


@dataclass(slots=True)
class EntityResult:
    """The outcome of checking one entity, small enough to send between processes."""

    uscc: str
    facts: int = 0
    next_due_on: dt.date | None = None
    findings: dict[str, RuleFinding] = field(default_factory=dict)
    #: (rule_id or None, zh, en); None means the whole entity could not be evaluated.
    errors: list[tuple[str | None, str, str]] = field(default_factory=list)
    #: The facts template this run made for the entity (to store), if it made one.
    template: FactTemplate | None = None
    #: True when the facts came from a stored template (nothing was derived).
    reused: bool = False
    #: True when ``next_due_on`` equals the one stored for the entity.
    due_unchanged: bool = False

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


_NO_STATE = object()  # an entity without a check state row (never equal to a due day)


class _Evaluator:
    """One process's evaluator: a warmed-up engine plus what incremental checks need."""

    def __init__(self, pack: RulePack, as_of: dt.date, calendar: WorkCalendar) -> None:
        self.pack = pack
        self.as_of = as_of
        self.engine = RuleEngine(pack)
        self.calendar = calendar
        self.key = facts_key(self.calendar)
        self.offsets = _date_offsets(pack)
        self.as_of_ordinal = as_of.toordinal()
        # Only dates later than this can still cross a threshold (d + offset > as_of).
        self.window_start = (as_of - dt.timedelta(days=self.offsets[-1])).isoformat()
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

    def next_check_on(self, due: dt.date | None, dates: Sequence[str]) -> dt.date | None:
        """The earliest day after as-of on which this entity's findings could change:
        ``due`` (the next statutory due day), the pack's next change, or a day on which
        one of the rows' ``dates`` (sorted ISO text) crosses a threshold of the pack."""
        best = due.toordinal() if due is not None else None
        if self.pack_due is not None and (best is None or self.pack_due.toordinal() < best):
            best = self.pack_due.toordinal()
        offsets, as_of = self.offsets, self.as_of_ordinal
        for text_ in dates[bisect.bisect_right(dates, self.window_start) :]:
            try:
                day = dt.date.fromisoformat(text_).toordinal()
            except ValueError:
                continue
            # The smallest offset that takes this date past as-of.
            i = bisect.bisect_right(offsets, as_of - day)
            if i < len(offsets) and (best is None or day + offsets[i] < best):
                best = day + offsets[i]
        return dt.date.fromordinal(best) if best is not None else None

    def evaluate(self, entity: dict[str, Any], records: list[dict[str, Any]]) -> EntityResult:
        """Derive an entity's facts from its rows, make their template and evaluate it."""
        uscc = str(entity["uscc"])
        result = EntityResult(uscc)
        try:
            derivation = derive(entity, records, self.as_of, calendar=self.calendar)
            dates = row_dates(entity, records)
            template = FactTemplate.build(derivation, self.key, dates)
            if template is None:  # not templatable: evaluate the plain facts
                facts = derivation.on()
                result.facts = len(facts)
                result.next_due_on = self.next_check_on(
                    next_due_from_facts(facts, self.as_of), dates
                )
                return self._record(result, self.engine.evaluate(uscc, facts, as_of=self.as_of))
        except SupervisionError as exc:
            return self._failed(result, exc)
        result.template = template
        return self.evaluate_template(uscc, template, result)

    def evaluate_template(
        self,
        uscc: str,
        template: FactTemplate,
        result: EntityResult | None = None,
        *,
        known_due: Any = _NO_STATE,
    ) -> EntityResult:
        """Evaluate an entity from its facts template (which covers the as-of day).

        ``known_due``: the stored next due day when it is known to hold still (see
        ``check_chunk``), else ``_NO_STATE``."""
        if result is None:
            result = EntityResult(uscc, reused=True)
        as_of, calendar = self.as_of, self.calendar
        result.facts = template.count
        if known_due is _NO_STATE:
            dates = template.dates.split(",") if template.dates else []
            result.next_due_on = self.next_check_on(template.next_due(as_of), dates)
        else:
            result.next_due_on = known_due
        try:
            outcome = self.engine.evaluate_payload(
                uscc, lambda sid: template.render(as_of, sid, calendar), as_of=as_of
            )
        except SupervisionError as exc:
            return self._failed(result, exc)
        return self._record(result, outcome)

    def _failed(self, result: EntityResult, exc: SupervisionError) -> EntityResult:
        result.errors.append((None, exc.zh, exc.en))
        result.next_due_on = self.as_of  # try again at the next run
        result.template = None
        return result

    def _record(self, result: EntityResult, outcome: Any) -> EntityResult:
        if not outcome.findings and not outcome.errors:
            return result  # most entities: nothing found, nothing failed
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

    def _stored(
        self, conn: Connection, chunk: Sequence[str], contiguous: bool
    ) -> dict[str, tuple[FactTemplate, Any]]:
        """The stored templates of a chunk that this run may use (made with this
        run's facts key, covering its as-of day: ``FactTemplate.covers``), each with
        the entity's stored next due day (``_NO_STATE`` when it has no state row). One
        select joining the check state; rows of another facts key are never read."""
        column = _T.c.uscc
        where = column.between(chunk[0], chunk[-1]) if contiguous else column.in_(chunk)
        rows = conn.execute(
            select(*_TEMPLATE_COLUMNS, _S.c.uscc.is_not(None), _S.c.next_due_on)
            .select_from(_T.outerjoin(_S, _S.c.uscc == _T.c.uscc))
            .where(where, _T.c.facts_key == self.key)
        )
        usable: dict[str, tuple[FactTemplate, Any]] = {}
        key = self.key
        for uscc, *fields, has_state, due in rows:
            template = FactTemplate(key, *fields)
            if template.covers(self.as_of):
                usable[uscc] = (template, due if has_state else _NO_STATE)
        return usable

    def check_chunk(
        self,
        conn: Connection,
        chunk: Sequence[str],
        contiguous: bool,
        stale: frozenset[str] | None,
        full: bool,
        trust_due: bool = False,
    ) -> ChunkOutcome:
        """Evaluate one chunk of entities (sorted usccs) and compare the results with
        their live findings (``_compare``).

        ``stale``: entities whose rows changed since stored templates were made (None:
        no stored template may be used). The others are evaluated from their stored
        template when it covers the as-of day; the rest are read and derived.
        ``trust_due``: the stored due days were computed with this pack on or before
        this as-of day (the last run's pack, an as-of day not earlier than its). Then an
        entity evaluated from its template (rows unchanged) whose stored due day is
        still to come keeps it: nothing can change before it, so the next change after
        this day is the same one.
        """
        results = self.evaluate_chunk(conn, chunk, contiguous, stale, trust_due)
        if not results:
            return ChunkOutcome()
        live = _live_findings(conn, [r.uscc for r in results], contiguous)
        return _compare(results, live, full=full)

    def evaluate_chunk(
        self,
        conn: Connection,
        chunk: Sequence[str],
        contiguous: bool,
        stale: frozenset[str] | None,
        trust_due: bool = False,
    ) -> list[EntityResult]:
        """The results of one chunk (see ``check_chunk``)."""
        stored: dict[str, tuple[FactTemplate, Any]] = {}
        if stale is not None:
            # Stale entities' templates are of no use: not even read (incremental runs
            # check mostly stale entities).
            fresh = [u for u in chunk if u not in stale] if stale else chunk
            if fresh:
                stored = self._stored(conn, fresh, contiguous and len(fresh) == len(chunk))
        need = [u for u in chunk if u not in stored]
        entities: dict[str, dict[str, Any]] = {}
        records: dict[str, list[dict[str, Any]]] = {}
        if need:
            if contiguous and len(need) * 2 > len(chunk):
                where_e = _E.c.uscc.between(chunk[0], chunk[-1])
                where_r = _R.c.uscc.between(chunk[0], chunk[-1])
            else:
                where_e = _E.c.uscc.in_(need)
                where_r = _R.c.uscc.in_(need)
            entity_keys = [c.name for c in _ENTITY_COLUMNS]
            for row in conn.execute(select(*_ENTITY_COLUMNS).where(where_e)):
                entities[row[0]] = dict(zip(entity_keys, row, strict=True))
            record_keys = [c.name for c in _RECORD_COLUMNS]
            for rec in conn.execute(select(*_RECORD_COLUMNS).where(where_r)):
                records.setdefault(rec[0], []).append(dict(zip(record_keys, rec, strict=True)))
        results = []
        for uscc in chunk:
            found = stored.get(uscc)
            if found is not None:
                template, due = found
                keep = trust_due and (due is None or (due is not _NO_STATE and due > self.as_of))
                result = self.evaluate_template(
                    uscc, template, known_due=due if keep else _NO_STATE
                )
                result.due_unchanged = result.next_due_on == due
                results.append(result)
            else:
                entity = entities.get(uscc)
                if entity is not None:
                    results.append(self.evaluate(entity, records.get(uscc, [])))
        return results


@dataclass
class ChunkOutcome:
    """What one chunk's check means for the database, worked out where it was
    evaluated (a worker process, or the run's own) so that the writing process only
    executes it: small to send, nothing to compare."""

    entities: int = 0
    facts: int = 0
    reused: int = 0
    #: (uscc, rule_id or None, zh, en), every error of the chunk.
    errors: list[tuple[str, str | None, str, str]] = field(default_factory=list)
    #: Findings to open: (uscc, what the rule found).
    new: list[tuple[str, RuleFinding]] = field(default_factory=list)
    #: Open findings seen again as they are: (finding id, rule id).
    same: list[tuple[int, str]] = field(default_factory=list)
    #: Open findings whose fact ids or rule version changed: (finding id, new content).
    changed: list[tuple[int, RuleFinding]] = field(default_factory=list)
    #: Open findings whose rule no longer fires: (finding id, rule id).
    gone: list[tuple[int, str]] = field(default_factory=list)
    #: Check states to write: (uscc, next due day).
    states: list[tuple[str, dt.date | None]] = field(default_factory=list)
    #: Fact templates made by this run (to store) and entities whose stored one is stale.
    templates: list[tuple[str, FactTemplate]] = field(default_factory=list)
    drops: list[str] = field(default_factory=list)

    def note_errors(self, kept: list[dict[str, Any]]) -> int:
        """Append this chunk's errors to ``kept`` while it holds fewer than
        ``MAX_STORED_ERRORS``; returns how many errors the chunk had."""
        for uscc, rule_id, zh, en in self.errors:
            if len(kept) >= MAX_STORED_ERRORS:
                break
            kept.append({"uscc": uscc, "rule_id": rule_id, "zh": zh, "en": en})
        return len(self.errors)


def _compare(
    results: list[EntityResult], live: dict[str, list[_Live]], *, full: bool
) -> ChunkOutcome:
    """A chunk's results against the entities' live (open or decided) findings.

    Per entity and rule: a firing with no open finding is ``new``; an open finding
    whose rule does not fire is ``gone``; otherwise ``same`` or ``changed``. A firing
    whose facts a decision already covered counts as not firing (the decision stands).
    Entities that failed, and rules that failed for an entity, are left as they are.
    ``full``: a full run writes a check state only when the due day changed.
    """
    out = ChunkOutcome()
    for result in results:
        uscc = result.uscc
        out.entities += 1
        out.facts += result.facts
        if result.reused:
            out.reused += 1
        elif result.template is not None:
            out.templates.append((uscc, result.template))
        else:
            out.drops.append(uscc)  # derived without a template: drop a stale one
        for rule_id, zh, en in result.errors:
            out.errors.append((uscc, rule_id, zh, en))
        # A full run's coverage is its run row: only changed due days are written.
        if not (full and result.due_unchanged):
            out.states.append((uscc, result.next_due_on))
        if result.entity_failed:
            continue  # nothing is known about this entity today: leave its findings
        rows = live.get(uscc)
        if not result.findings and not rows:
            continue
        open_by_rule: dict[str, _Live] = {}
        decided: list[_Live] = []
        for row in rows or ():
            if row.status == FindingStatus.OPEN:
                open_by_rule[row.rule_id] = row
            else:
                decided.append(row)
        skip = result.failed_rules
        for rule_id in sorted(set(result.findings) | set(open_by_rule)):
            if rule_id in skip:
                continue
            found = result.findings.get(rule_id)
            if found is not None and _covered_by_decision(found, decided):
                found = None  # a decision already covers these facts
            current = open_by_rule.get(rule_id)
            if found is None:
                if current is not None:
                    out.gone.append((current.id, rule_id))
            elif current is None:
                out.new.append((uscc, found))
            elif current.rule_version == found.rule_version and _same_facts(current, found):
                out.same.append((current.id, rule_id))
            else:
                out.changed.append((current.id, found))
    return out


# Worker-process globals (spawned processes: one evaluator and one database each).
_worker: tuple[_Evaluator, Database] | None = None


def _init_worker(url: str, pack: RulePack, as_of: dt.date, calendar: WorkCalendar) -> None:
    global _worker
    _worker = (_Evaluator(pack, as_of, calendar), Database(url, migrate=False))


def _work(job: tuple[list[str], bool, frozenset[str] | None, bool, bool]) -> ChunkOutcome:
    assert _worker is not None
    evaluator, database = _worker
    with database.engine.connect() as conn:
        return evaluator.check_chunk(conn, *job)


def _chunks(usccs: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(usccs), size):
        yield usccs[i : i + size]


def _evaluate_all(
    db: Database,
    conn: Connection,
    pack: RulePack,
    as_of: dt.date,
    calendar: WorkCalendar,
    usccs: list[str],
    *,
    contiguous: bool,
    workers: int,
    stale: frozenset[str] | None,
    full: bool,
    trust_due: bool = False,
    chunk_size: int = CHUNK,
    pool: Any = None,
) -> Iterator[ChunkOutcome]:
    """Outcomes chunk by chunk, in the order of ``usccs`` (sorted); ``stale``, ``full``
    and ``trust_due`` as in ``_Evaluator.check_chunk`` (each job carries the part of
    ``stale`` in its chunk). ``pool``: worker processes already started (``_pool``)."""

    def part(chunk: list[str]) -> frozenset[str] | None:
        if stale is None:
            return None
        if not stale:
            return stale
        return frozenset(u for u in chunk if u in stale)

    jobs = (
        (chunk, contiguous, part(chunk), full, trust_due) for chunk in _chunks(usccs, chunk_size)
    )
    if workers <= 1 or len(usccs) <= chunk_size:
        evaluator = _Evaluator(pack, as_of, calendar)
        try:
            for job in jobs:
                yield evaluator.check_chunk(conn, *job)
        finally:
            evaluator.close()
        return
    if pool is not None:
        yield from pool.imap(_work, jobs)
        return
    with _pool(db, pack, as_of, calendar, workers) as own:
        yield from own.imap(_work, jobs)


def _pool(
    db: Database, pack: RulePack, as_of: dt.date, calendar: WorkCalendar, workers: int
) -> Any:
    """``workers`` spawned processes, each with its evaluator and database. The
    calendar goes along: a spawned process starts with none set."""
    context = multiprocessing.get_context("spawn")
    return context.Pool(workers, initializer=_init_worker, initargs=(db.url, pack, as_of, calendar))


# ---------------------------------------------------------------- selection
def _last_run(conn: Connection) -> Any:
    return conn.execute(
        select(_RUN).where(_RUN.c.status == "done").order_by(_RUN.c.id.desc()).limit(1)
    ).first()


def _all_usccs(conn: Connection) -> list[str]:
    return list(conn.execute(select(_E.c.uscc).order_by(_E.c.uscc)).scalars())


def _changed_since(conn: Connection, since: dt.datetime) -> frozenset[str]:
    """Entities whose row changed or that received a record since ``since``."""
    query = union(
        select(_E.c.uscc).where(_E.c.updated_at >= since),
        select(_R.c.uscc).where(_R.c.stored_at >= since),
    )
    return frozenset(conn.execute(query).scalars())


def _stale(conn: Connection, last: Any) -> frozenset[str] | None:
    """Entities whose stored facts templates must not be used (see ``run_check``);
    None when none may be (no completed run yet)."""
    if last is None:
        return None
    return _changed_since(conn, last.changes_from or last.started_at)


def _changes_from(conn: Connection, started: dt.datetime) -> dt.datetime:
    """The earliest stamp that a row this run may not see can bear (``started``: this
    run's ``hold_write``).

    SQLite: ``started``, taken once the run holds the write lock: every writer stamps
    only once it holds that lock, so a row stamped earlier was committed before. On
    PostgreSQL writers run beside a check: a row stamped before ``started`` may still
    commit after this run read the records, but its transaction is in flight now, and
    its stamps are its start (``hold_write``): the oldest start of another transaction
    in flight in this database bounds them. (The role must see the writers' sessions
    in ``pg_stat_activity``: the same role, or ``pg_read_all_stats``.)
    """
    if conn.dialect.name != "postgresql":
        return started
    oldest = conn.execute(
        text(
            "SELECT min(xact_start) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            " AND xact_start IS NOT NULL"
        )
    ).scalar()
    return started if oldest is None else min(started, clock.as_utc(oldest))


def _due_usccs(conn: Connection, changed: frozenset[str], as_of: dt.date) -> list[str]:
    """What an incremental run checks: the changed entities, those due, those never checked.

    Every entity a run checks gets a check state, and a state's entity exists (a foreign
    key): when both tables hold as many rows, none is unchecked. Two counts instead of an
    anti-join over the whole directory (0.7 s at a million entities, on every run)."""
    due = set(conn.execute(select(_S.c.uscc).where(_S.c.next_due_on <= as_of)).scalars())
    entities = conn.execute(select(func.count()).select_from(_E)).scalar_one()
    if entities != conn.execute(select(func.count()).select_from(_S)).scalar_one():
        never_checked = select(_E.c.uscc).where(~exists().where(_S.c.uscc == _E.c.uscc))
        due.update(conn.execute(never_checked).scalars())
    return sorted(changed | due)


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
    #: Entities evaluated from their stored facts template (nothing read or derived).
    reused: int = 0

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
            "seconds": round(self.seconds, 3),
        }


class _Live(NamedTuple):
    """An open or decided finding as ``_compare`` needs it. ``fact_ids_json`` is the
    column's stored text, unparsed: most runs find most findings unchanged, and
    comparing the text (``_same_facts``) spares parsing it for every one of them."""

    id: int
    rule_id: str
    rule_version: int
    status: str
    fact_ids_json: str | None

    @property
    def fact_ids(self) -> list[str]:
        return json.loads(self.fact_ids_json) if self.fact_ids_json else []


def _live_findings(
    conn: Connection, usccs: Sequence[str], contiguous: bool = False
) -> dict[str, list[_Live]]:
    """Open and decided findings of these entities (sorted usccs; ``contiguous``: every
    entity between the first and the last)."""
    where = _F.c.uscc.between(usccs[0], usccs[-1]) if contiguous else _F.c.uscc.in_(usccs)
    rows = conn.execute(
        select(
            _F.c.uscc,
            _F.c.id,
            _F.c.rule_id,
            _F.c.rule_version,
            _F.c.status,
            cast(_F.c.fact_ids, Text),
        )
        .where(where)
        .where(_F.c.status != FindingStatus.RESOLVED)
    )
    live: dict[str, list[_Live]] = {}
    for uscc, *fields in rows:
        live.setdefault(uscc, []).append(_Live(*fields))
    return live


def _same_facts(current: _Live, found: RuleFinding) -> bool:
    """Whether an open finding holds exactly the fact ids the rule found now: the
    stored text as the column writes a list (``json.dumps``), else parsed."""
    ids = list(found.fact_ids)
    return current.fact_ids_json == json.dumps(ids) or current.fact_ids == ids


def _upsert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows keyed by ``uscc``, replacing every other column of existing ones."""
    if not rows:
        return
    stmt = upsert_insert(table, conn.dialect.name)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.uscc],
        set_={name: stmt.excluded[name] for name in rows[0] if name != "uscc"},
    )
    conn.execute(stmt, rows)


def _covered_by_decision(found: RuleFinding, decided: Sequence[_Live]) -> bool:
    """True when a confirmed or dismissed finding of the same rule and version already
    covered every fact this firing matched: the decision stands, nothing new to review."""
    facts = set(found.fact_ids)
    return any(
        d.rule_id == found.rule_id
        and d.rule_version == found.rule_version
        and facts <= set(d.fact_ids)
        for d in decided
    )


class _Writer:
    """Executes chunk outcomes inside the run's transaction and keeps the tally."""

    def __init__(self, conn: Connection, summary: CheckSummary, now: dt.datetime) -> None:
        self.conn = conn
        self.summary = summary
        self.now = now
        self.run_id = summary.run_id

    def apply(self, out: ChunkOutcome) -> None:
        s = self.summary
        s.entities_checked += out.entities
        s.facts += out.facts
        s.reused += out.reused
        s.error_count += out.note_errors(s.errors)
        conn, run_id = self.conn, self.run_id
        if out.new:
            conn.execute(_F.insert(), [self._new_row(uscc, found) for uscc, found in out.new])
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
        _upsert(
            conn,
            _S,
            [
                {"uscc": uscc, "next_due_on": due, "last_run_id": run_id, "checked_as_of": s.as_of}
                for uscc, due in out.states
            ],
        )
        _upsert(conn, _T, [self._template_row(uscc, t) for uscc, t in out.templates])
        if out.drops:
            conn.execute(delete(_T).where(_T.c.uscc.in_(out.drops)))
        s.new += len(out.new)
        s.unchanged += len(out.same)
        s.updated += len(out.changed)
        s.resolved += len(out.gone)

    def _template_row(self, uscc: str, template: FactTemplate) -> dict[str, Any]:
        return {
            "uscc": uscc,
            "facts_key": template.key,
            "valid_from": template.valid_from,
            "valid_until": template.valid_until,
            "template": template.text.decode(),
            "counters": template.counters,
            "due": template.due,
            "dates": template.dates,
            "facts": template.count,
            "run_id": self.run_id,
        }

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
    # One check run at a time. SQLite: ``hold_write`` takes the database's write lock
    # for the whole transaction. PostgreSQL: a transaction-scoped advisory lock.
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
    calendar: WorkCalendar | None = None,
    chunk_size: int = CHUNK,
    advance: Advance | None = None,
    on_total: Callable[[int], object] | None = None,
) -> CheckSummary:
    """Run a check and record it: incremental unless ``full`` (see the module docstring).

    Everything (the run row, findings, entity check states) is written in one transaction
    by this process. ``on_total(n)`` is told how many entities will be checked, then
    ``advance(k)`` after each chunk. ``calendar``: the working-day calendar (default:
    ``default_calendar()``, which honours ``$SUPERVISION_CALENDAR_FILE``). Raises
    ``SupervisionError`` for bad arguments.
    """
    if workers < 1:
        raise SupervisionError("--workers 至少为 1", "--workers must be at least 1")
    the_pack = _resolve_pack(pack, rules_dir)
    day = as_of or clock.today()
    cal = calendar or default_calendar()
    t0 = time.perf_counter()
    # A full run with workers starts them first: their start-up (a second or so of
    # imports each) overlaps the selection below.
    early = _pool(db, the_pack, day, cal, workers) if full and workers > 1 else None
    try:
        with busy_is_an_error():
            return _run(
                db, the_pack, day, cal, t0, workers, full, chunk_size, advance, on_total, early
            )
    finally:
        if early is not None:
            early.terminate()
            early.join()


def _run(
    db: Database,
    the_pack: RulePack,
    day: dt.date,
    calendar: WorkCalendar,
    t0: float,
    workers: int,
    full: bool,
    chunk_size: int,
    advance: Advance | None,
    on_total: Callable[[int], object] | None,
    pool: Any,
) -> CheckSummary:
    with db.engine.begin() as conn:
        _lock(conn)
        started = hold_write(conn)
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
                changes_from=_changes_from(conn, started),
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
        stale = _stale(conn, last)
        if mode == "full":
            usccs = _all_usccs(conn)
        else:
            assert stale is not None
            usccs = _due_usccs(conn, stale, day)
        if on_total is not None:
            on_total(len(usccs))
        writer = _Writer(conn, summary, started)
        for outcome in _evaluate_all(
            db,
            conn,
            the_pack,
            day,
            calendar,
            usccs,
            contiguous=mode == "full",
            workers=workers,
            stale=stale,
            full=mode == "full",
            trust_due=last is not None
            and last.pack_digest == the_pack.digest
            and day >= last.as_of,
            chunk_size=chunk_size,
            pool=pool,
        ):
            writer.apply(outcome)
            if advance is not None:
                advance(outcome.entities)
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
    calendar: WorkCalendar | None = None,
    chunk_size: int = CHUNK,
    advance: Advance | None = None,
    on_total: Callable[[int], object] | None = None,
) -> DryRunReport:
    """Evaluate a pack on every stored entity without writing anything.

    Compares with the open findings: ``new`` (the pack fires, no open finding for that
    entity and rule), ``gone`` (an open finding the pack would resolve), ``unchanged``.
    Runs in a transaction that is rolled back. ``calendar`` as in ``run_check``.
    """
    the_pack = _resolve_pack(pack, rules_dir)
    day = as_of or clock.today()
    report = DryRunReport(as_of=day, pack_digest=the_pack.digest)
    with db.engine.connect() as conn:
        try:
            usccs = _all_usccs(conn)
            if on_total is not None:
                on_total(len(usccs))
            for out in _evaluate_all(
                db,
                conn,
                the_pack,
                day,
                calendar or default_calendar(),
                usccs,
                contiguous=True,
                workers=workers,
                stale=_stale(conn, _last_run(conn)),
                full=True,
                chunk_size=chunk_size,
            ):
                report.entities_checked += out.entities
                report.facts += out.facts
                report.error_count += out.note_errors(report.errors)
                for _uscc, found in out.new:
                    report.count(found.rule_id, "new")
                for _fid, rule_id in out.gone:
                    report.count(rule_id, "gone")
                for _fid, rule_id in out.same:
                    report.count(rule_id, "unchanged")
                for _fid, found in out.changed:
                    report.count(found.rule_id, "unchanged")
                if advance is not None:
                    advance(out.entities)
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
