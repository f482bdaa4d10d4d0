"""Evaluation: the rule pack on one entity's facts, chunk by chunk (in the run's process
or in a worker process; ``supervision.checks.workers``).

- **Facts** per entity come from the entity row and its compliance records, loaded in
  chunks of entities with Core selects, derived by ``supervision.checks.facts`` as of the
  run's as-of date and evaluated by ``RuleEngine`` (one per ``Evaluator``, one per process).
- **Stored facts.** Each derivation is stored as a fact template (``entity_facts``,
  ``supervision.checks.templates``): the JSON the engine is given, with slots for the day
  counters. A later run evaluates an entity from its template, without reading its
  records or deriving, when the template was made with the same facts version,
  template format and calendar (``facts_key``), covers the run's as-of day (``valid_from`` ≤
  as-of < ``valid_until``) and the entity is not *stale* (``supervision.checks.selection``).
  An entity that can no longer be templated or derived loses its template.
- **Next due day.** ``Evaluator.next_check_on``: the earliest day on which an entity's
  findings could change with no record change (see ``supervision.checks.selection``).
- **Errors** from the engine (``EntityOutcome.errors``) are kept on the ``EntityResult``
  naming the rule (or none: the whole entity failed); the entity is due again at the next run.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, select

from supervision.checks.facts import annual_report_first_year, derive, next_due_from_facts
from supervision.checks.templates import FactTemplate, facts_key, row_dates
from supervision.db import table_of, utf8_bytes
from supervision.db.engine import json_loads
from supervision.errors import SupervisionError
from supervision.models import ComplianceRecord, Entity
from supervision.models.findings import EntityCheckState, EntityFacts
from supervision.reference.workdays import WorkCalendar
from supervision.rules.engine import RuleEngine
from supervision.rules.pack import RulePack

__all__ = ["NO_STATE", "EntityResult", "Evaluator", "RuleFinding"]

_E: Table = table_of(Entity)
_R: Table = table_of(ComplianceRecord)
_S: Table = table_of(EntityCheckState)
_T: Table = table_of(EntityFacts)

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
#: What ``Evaluator._stored`` reads of a template (its facts key is the run's).
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


_RECORDS_SQL = (
    f"SELECT {', '.join(c.name for c in _RECORD_COLUMNS)} FROM {_R.name} WHERE {_R.c.uscc.name} "
)


def _sqlite_records(
    conn: Connection, need: Sequence[str], chunk: Sequence[str], by_range: bool
) -> dict[str, list[dict[str, Any]]]:
    """The records of ``need`` (or of every entity from ``chunk[0]`` to ``chunk[-1]``), by
    entity, read straight from SQLite's driver: the same dicts as the Core select gives
    (``event_date`` a date, ``payload`` decoded as the engine's JSON columns are), at
    two thirds of its cost; an incremental check reads a thousand entities' records."""
    if by_range:
        sql, params = _RECORDS_SQL + "BETWEEN ? AND ?", [chunk[0], chunk[-1]]
    else:
        sql, params = _RECORDS_SQL + f"IN ({','.join('?' * len(need))})", list(need)
    records: dict[str, list[dict[str, Any]]] = {}
    from_iso = dt.date.fromisoformat
    for uscc, record_id, kind, event_date, payload in conn.exec_driver_sql(sql, tuple(params)):
        records.setdefault(uscc, []).append(
            {
                "uscc": uscc,
                "record_id": record_id,
                "kind": kind,
                "event_date": None if event_date is None else from_iso(event_date),
                "payload": None if payload is None else json_loads(payload),
            }
        )
    return records


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


NO_STATE = object()  # an entity without a check state row (never equal to a due day)


class Evaluator:
    """One process's evaluator: a warmed-up engine plus what incremental checks need."""

    def __init__(self, pack: RulePack, as_of: dt.date, calendar: WorkCalendar) -> None:
        self.pack = pack
        self.as_of = as_of
        self.engine = RuleEngine(pack)
        self.calendar = calendar
        # Read once per run: the setting, as every derivation of this run uses it.
        self.first_year = annual_report_first_year()
        self.key = facts_key(self.calendar, self.first_year)
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
            derivation = derive(
                entity, records, self.as_of, calendar=self.calendar, first_year=self.first_year
            )
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
        known_due: Any = NO_STATE,
    ) -> EntityResult:
        """Evaluate an entity from its facts template (which covers the as-of day).

        ``known_due``: the stored next due day when it is known to hold still (see
        ``evaluate_chunk``), else ``NO_STATE``."""
        if result is None:
            result = EntityResult(uscc, reused=True)
        as_of, calendar = self.as_of, self.calendar
        result.facts = template.count
        if known_due is NO_STATE:
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
        the entity's stored next due day (``NO_STATE`` when it has no state row). One
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
                usable[uscc] = (template, due if has_state else NO_STATE)
        return usable

    def evaluate_chunk(
        self,
        conn: Connection,
        chunk: Sequence[str],
        contiguous: bool,
        stale: frozenset[str] | None,
        trust_due: bool = False,
    ) -> list[EntityResult]:
        """Evaluate one chunk of entities (sorted usccs; ``contiguous``: every entity
        between the first and the last).

        ``stale``: entities whose rows changed since stored templates were made (None:
        no stored template may be used). The others are evaluated from their stored
        template when it covers the as-of day; the rest are read and derived.
        ``trust_due``: the stored due days were computed with this pack on or before
        this as-of day (the last run's pack, an as-of day not earlier than its). Then an
        entity evaluated from its template (rows unchanged) whose stored due day is
        still to come keeps it: nothing can change before it, so the next change after
        this day is the same one.
        """
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
            by_range = contiguous and len(need) * 2 > len(chunk)
            where_e = _E.c.uscc.between(chunk[0], chunk[-1]) if by_range else _E.c.uscc.in_(need)
            entity_keys = [c.name for c in _ENTITY_COLUMNS]
            for row in conn.execute(select(*_ENTITY_COLUMNS).where(where_e)):
                entities[row[0]] = dict(zip(entity_keys, row, strict=True))
            if conn.dialect.name == "sqlite":
                records = _sqlite_records(conn, need, chunk, by_range)
            else:
                where_r = (
                    _R.c.uscc.between(chunk[0], chunk[-1]) if by_range else _R.c.uscc.in_(need)
                )
                record_keys = [c.name for c in _RECORD_COLUMNS]
                for rec in conn.execute(select(*_RECORD_COLUMNS).where(where_r)):
                    records.setdefault(rec[0], []).append(dict(zip(record_keys, rec, strict=True)))
        results = []
        for uscc in chunk:
            found = stored.get(uscc)
            if found is not None:
                template, due = found
                keep = trust_due and (due is None or (due is not NO_STATE and due > self.as_of))
                result = self.evaluate_template(uscc, template, known_due=due if keep else NO_STATE)
                result.due_unchanged = result.next_due_on == due
                results.append(result)
            else:
                entity = entities.get(uscc)
                if entity is not None:
                    results.append(self.evaluate(entity, records.get(uscc, [])))
        return results
