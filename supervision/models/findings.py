"""Check runs, findings and the review queue's records.

A check run evaluates entities against a rule pack and writes, in one transaction, one
``CheckRun`` row, the ``Finding`` rows it opened, updated or resolved, and one
``EntityCheckState`` row per entity it checked (when that entity must next be looked at
even if none of its records change). Review decisions live on the finding (who, when,
note or reason, and what the decision did: ``effects``); a mark for the next targeted
draw is an ``EntityMark`` row. The directory model is not changed by checks; a
confirmed finding may raise ``Entity.risk_class`` (recorded in ``effects``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel


class FindingStatus:
    OPEN = "open"
    RESOLVED = "resolved"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"

    #: Statuses a review decision leaves behind; runs never change these rows.
    DECIDED: ClassVar[tuple[str, ...]] = ("confirmed", "dismissed")
    ZH: ClassVar[dict[str, str]] = {
        "open": "待审核",
        "resolved": "已消除",
        "confirmed": "已确认",
        "dismissed": "已驳回",
    }


#: Review-queue order: most severe first (``severity_rank`` ascending).
SEVERITY_RANK: dict[str, int] = {"critical": 0, "high": 1, "medium": 2, "low": 3}
#: How the console names each severity in Chinese (the English is the key itself).
SEVERITY_ZH: dict[str, str] = {"critical": "严重", "high": "高", "medium": "中", "low": "低"}


class CheckRun(SQLModel, table=True):
    """One `supervision check`: what was checked, with which pack, and what changed."""

    __tablename__ = "check_run"
    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime
    finished_at: datetime | None = None
    #: Rows stamped (``stored_at``, ``updated_at``) at or after this time may have been
    #: committed too late for this run to see them: the next incremental run re-checks
    #: their entities. None on runs made before migration 0009 (``started_at`` then).
    changes_from: datetime | None = None
    as_of: date
    pack_digest: str = Field(max_length=64)
    pack_root: str = Field(default="", max_length=500)
    mode: str = Field(max_length=12)  # full / incremental
    workers: int = 1
    entities_checked: int = 0
    facts: int = 0
    findings_new: int = 0
    findings_unchanged: int = 0
    findings_updated: int = 0
    findings_resolved: int = 0
    error_count: int = 0
    # [{"uscc", "rule_id", "zh", "en"}]: engine errors, the run went on.
    errors: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    status: str = Field(default="done", max_length=12)
    #: Fingerprint of the working-day calendar the run counted with (None before 0014); a
    #: different calendar on the next run makes that run full.
    calendar: str | None = Field(default=None, max_length=16)


class Finding(SQLModel, table=True):
    """A rule that fired for an entity: open until reviewed or until its condition clears.

    At most one ``open`` finding per (uscc, rule_id); ``fact_ids`` are the sorted ids of
    every fact the rule matched (several firings of one rule for one entity are merged),
    ``matched`` the facts with their values as first seen in this form.
    """

    __tablename__ = "finding"
    __table_args__ = (
        # The review queue: keyset pagination by (severity_rank, opened_at, id) per status.
        Index("ix_finding_queue", "status", "severity_rank", "opened_at", "id"),
        Index("ix_finding_entity", "uscc", "rule_id", "status"),
        Index("ix_finding_rule", "rule_id", "status"),
        Index("ix_finding_department", "department", "status"),
        # A county's or a prefecture's queue (scoped reviewers): one range each.
        Index(
            "ix_finding_region_queue", "status", "region_code", "severity_rank", "opened_at", "id"
        ),
        Index(
            "ix_finding_prefecture_queue",
            "status",
            "prefecture_code",
            "severity_rank",
            "opened_at",
            "id",
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    uscc: str = Field(foreign_key="entity.uscc", max_length=18)
    rule_id: str = Field(max_length=100)
    rule_version: int
    department: str = Field(default="", max_length=100)
    #: The entity's region (150203) and its prefecture (150200), copied by database
    #: triggers (migration 0025) when the finding is written and when the entity moves:
    #: whatever a writer passes here is replaced.
    region_code: str = Field(default="", max_length=6)
    prefecture_code: str = Field(default="", max_length=6)
    severity: str = Field(max_length=8)
    severity_rank: int
    result_code: str = Field(max_length=3)
    fact_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    matched: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    status: str = Field(default=FindingStatus.OPEN, max_length=10)
    first_run_id: int = Field(foreign_key="check_run.id")
    #: The last run that wrote it. A full run leaves an open finding it saw unchanged
    #: unwritten: ``review.seen_last`` gives the last run that saw it.
    last_run_id: int = Field(foreign_key="check_run.id")
    resolved_run_id: int | None = Field(default=None, foreign_key="check_run.id")
    opened_as_of: date
    opened_at: datetime
    closed_at: datetime | None = None
    # Review decision (confirm / dismiss): who, when, why, and what it did.
    decided_by: str | None = Field(default=None, max_length=100)
    decided_at: datetime | None = None
    note: str | None = Field(default=None, max_length=2000)
    effects: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )


class EntityCheckState(SQLModel, table=True):
    """Per entity: the day it falls due again, and the last run that changed that day
    or checked it incrementally. A full run checks every entity but writes only the
    rows whose due day changed (its coverage is its ``CheckRun`` row): the last run
    that checked an entity is the later of ``last_run_id`` and the last full run."""

    __tablename__ = "entity_check_state"
    uscc: str = Field(primary_key=True, foreign_key="entity.uscc", max_length=18)
    next_due_on: date | None = Field(default=None, index=True)
    last_run_id: int = Field(foreign_key="check_run.id")
    checked_as_of: date


class EntityFacts(SQLModel, table=True):
    """Per entity: its derived facts as a template (``supervision.checks.templates``),
    made by a check run and reused by later runs while the entity's rows do not change."""

    __tablename__ = "entity_facts"
    uscc: str = Field(primary_key=True, foreign_key="entity.uscc", max_length=18)
    facts_key: str = Field(max_length=40)
    valid_from: date
    valid_until: date | None = None
    template: str = Field(sa_column=Column(Text, nullable=False))
    counters: str = Field(sa_column=Column(Text, nullable=False))
    due: str = Field(sa_column=Column(Text, nullable=False))
    dates: str = Field(sa_column=Column(Text, nullable=False))
    facts: int
    run_id: int = Field(foreign_key="check_run.id")


class EntityMark(SQLModel, table=True):
    """An entity marked for the next targeted draw by a confirmed finding; consumed
    (``consumed_by``, the task's code) when a targeted task built from marks draws it."""

    __tablename__ = "entity_mark"
    id: int | None = Field(default=None, primary_key=True)
    uscc: str = Field(foreign_key="entity.uscc", max_length=18, index=True)
    reason: str = Field(max_length=500)
    finding_id: int = Field(foreign_key="finding.id", index=True)
    created_by: str = Field(max_length=100)
    created_at: datetime
    consumed_by: str | None = Field(default=None, max_length=64)
    consumed_at: datetime | None = None
