"""Comparison: a chunk's evaluation against its entities' live findings, worked out as
what the run must write (``ChunkOutcome``).

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
- **Errors**: an entity that failed, or a rule that failed for an entity, leaves its
  findings as they were.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import Connection, Table, Text, cast, select

from supervision.checks.evaluate import EntityResult, RuleFinding
from supervision.checks.templates import FactTemplate
from supervision.db import table_of
from supervision.models.findings import Finding as FindingRow
from supervision.models.findings import FindingStatus

__all__ = ["MAX_STORED_ERRORS", "ChunkOutcome", "compare_with_live"]

#: Errors kept in full on a run (the count is always exact).
MAX_STORED_ERRORS = 1_000

_F: Table = table_of(FindingRow)


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


def compare_with_live(
    conn: Connection, results: list[EntityResult], *, contiguous: bool, full: bool
) -> ChunkOutcome:
    """A chunk's results (sorted by uscc; ``contiguous`` as in ``Evaluator.evaluate_chunk``)
    compared with their entities' live findings, read here (``_compare``)."""
    if not results:
        return ChunkOutcome()
    live = _live_findings(conn, [r.uscc for r in results], contiguous)
    return _compare(results, live, full=full)
