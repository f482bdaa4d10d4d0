"""Dry runs: evaluate another rule pack on the stored records and report, per rule,
findings new / gone / unchanged against the open ones, writing nothing."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from supervision import clock
from supervision.checks.executors import start_executor
from supervision.checks.selection import all_usccs, last_run, stale_entities
from supervision.checks.workers import CHUNK, Plan, evaluate_all
from supervision.db import Database
from supervision.reference.workdays import WorkCalendar, default_calendar
from supervision.rules.pack import RulePack, load_pack

__all__ = ["DryRunReport", "dry_run"]

Advance = Callable[[int], object]


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
    executor: str = "local",
    scheduler: str | None = None,
) -> DryRunReport:
    """Evaluate a pack on every stored entity without writing anything.

    Compares with the open findings: ``new`` (the pack fires, no open finding for that
    entity and rule), ``gone`` (an open finding the pack would resolve), ``unchanged``.
    Runs in a transaction that is rolled back. ``calendar``, ``executor`` and
    ``scheduler`` as in ``run_check``.
    """
    plan = Plan(
        pack=pack if pack is not None else load_pack(rules_dir),
        as_of=as_of or clock.today(),
        calendar=calendar or default_calendar(),
        workers=workers,
        chunk_size=chunk_size,
        executor=executor,
        scheduler=scheduler,
    )
    report = DryRunReport(as_of=plan.as_of, pack_digest=plan.pack.digest)
    pool = start_executor(db, plan=plan) if executor != "local" else None
    with db.engine.connect() as conn:
        try:
            usccs = all_usccs(conn)
            if on_total is not None:
                on_total(len(usccs))
            for out in evaluate_all(
                db,
                conn=conn,
                plan=plan,
                usccs=usccs,
                contiguous=True,
                stale=stale_entities(conn, last_run(conn)),
                full=True,
                pool=pool,
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
            if pool is not None:
                pool.close()
    return report
