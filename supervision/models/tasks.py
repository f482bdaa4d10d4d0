"""Plans (年度抽查计划) and tasks (抽查任务), with the records a draw leaves behind.

A task is committed (population and parameters frozen, with digests) before anybody
knows the seed; the draw then appends one row per drawn entity and one per inspector
assignment. Draw records are only ever inserted, never updated or deleted.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, Column, Index, Text, text
from sqlmodel import Field, SQLModel


class TaskStatus:
    DRAFT = "draft"
    COMMITTED = "committed"
    DRAWN = "drawn"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    ZH: ClassVar[dict[str, str]] = {
        "draft": "草稿",
        "committed": "已锁定",
        "drawn": "已抽取",
        "in_progress": "检查中",
        "closed": "已结束",
        "cancelled": "已撤销",
    }
    #: English words for people (the stored values are identifiers, not words).
    EN: ClassVar[dict[str, str]] = {
        "draft": "draft",
        "committed": "committed",
        "drawn": "drawn",
        "in_progress": "in progress",
        "closed": "closed",
        "cancelled": "cancelled",
    }


class Plan(SQLModel, table=True):
    __tablename__ = "plan"
    code: str = Field(primary_key=True, min_length=1, max_length=64)
    year: int
    name: str = Field(max_length=200)
    departments: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    notes: str = Field(default="", max_length=2000)
    created_at: datetime
    # What the plan covers (its targets are ``plan_target`` rows): the item codes, and the
    # tasks planned with their months ([{"code", "name", "departments", "items", "months"}]).
    items: list[str] = Field(
        default_factory=list,
        sa_column=Column(JSON, nullable=False, server_default=text("'[]'")),
    )
    planned_tasks: list[dict[str, Any]] = Field(
        default_factory=list,
        sa_column=Column(JSON, nullable=False, server_default=text("'[]'")),
    )
    # 计划公示: when (and by whom) the plan notice was released; None while a draft.
    published_at: datetime | None = None
    published_by: str | None = Field(default=None, max_length=200)
    # A published plan changed afterwards (计划调整): when, and why (shown on its notice).
    amended_at: datetime | None = None
    amendment_reason: str | None = Field(default=None, max_length=500)


class Task(SQLModel, table=True):
    __tablename__ = "task"
    code: str = Field(primary_key=True, min_length=1, max_length=64)
    plan_code: str = Field(foreign_key="plan.code", max_length=64, index=True)
    name: str = Field(max_length=200)
    departments: list[str] = Field(sa_column=Column(JSON, nullable=False))
    # [{"code": ..., "version": ..., "department_code": ...}]: item versions in force when planned
    items: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    target: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    ratios: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    strata_keys: list[str] = Field(sa_column=Column(JSON, nullable=False))
    members: dict[str, int] = Field(sa_column=Column(JSON, nullable=False))
    exclusion_days: int = 365
    region_rule: str = Field(default="prefecture", max_length=16)
    exclude_previous_inspector: bool = True
    load_slack: int = 0
    period_start: date
    period_end: date
    status: str = Field(default=TaskStatus.DRAFT, max_length=16)
    cancel_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime
    # Commitment: frozen before the seed exists.
    committed_at: datetime | None = None
    parameters_digest: str | None = Field(default=None, max_length=64)
    population_digest: str | None = Field(default=None, max_length=64)
    population_size: int | None = None
    # The committed parameters as canonical JSON bytes (decoded), exactly as published.
    parameters_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    exclusions: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Where the seed comes from: "typed" (entered, e.g. dice) or "beacon" (a drand round named
    # at commit, see supervision.draw.beacon); the round's signature is kept once drawn.
    seed_kind: str = Field(
        default="typed", max_length=16, sa_column_kwargs={"server_default": "typed"}
    )
    beacon_round: int | None = Field(default=None, sa_type=BigInteger)
    # What the population files publish: "pseudonymous" (SHA-256(salt ":" USCC), the default
    # of new tasks) or "full" (the USCCs; every task committed before pseudonyms existed).
    disclosure: str = Field(
        default="pseudonymous", max_length=16, sa_column_kwargs={"server_default": "full"}
    )
    beacon_signature: str | None = Field(default=None, max_length=96)
    # The draw.
    seed: str | None = Field(default=None, max_length=100)
    seed_entered_at: datetime | None = None
    drawn_at: datetime | None = None
    algorithm: str | None = Field(default=None, max_length=200)
    total_cost: int | None = Field(default=None, sa_type=BigInteger)


class TaskStratum(SQLModel, table=True):
    """One stratum of a committed task: its canonical population digest and size."""

    __tablename__ = "task_stratum"
    task_code: str = Field(foreign_key="task.code", primary_key=True, max_length=64)
    stratum: str = Field(primary_key=True, max_length=32)
    ratio: str = Field(max_length=32)
    size: int
    digest: str = Field(max_length=64)


class TaskPopulation(SQLModel, table=True):
    """A committed population member (frozen at commit; directory changes do not touch it)."""

    __tablename__ = "task_population"
    task_code: str = Field(foreign_key="task.code", primary_key=True, max_length=64)
    stratum: str = Field(primary_key=True, max_length=32)
    uscc: str = Field(primary_key=True, max_length=18)
    region_code: str = Field(max_length=6)
    # Pseudonymous disclosure: the entity's secret salt and SHA-256(salt ":" uscc), lower hex.
    salt: str | None = Field(default=None, max_length=64)
    pseudonym: str | None = Field(default=None, max_length=64)


class DrawPick(SQLModel, table=True):
    """One drawn entity, with its published ticket and rank in the stratum."""

    __tablename__ = "draw_pick"
    task_code: str = Field(foreign_key="task.code", primary_key=True, max_length=64)
    uscc: str = Field(primary_key=True, max_length=18)
    stratum: str = Field(max_length=32)
    ticket: str = Field(max_length=40)
    rank: int


class TaskEligibility(SQLModel, table=True):
    """Who could inspect a drawn entity for a department, as computed at draw time."""

    __tablename__ = "task_eligibility"
    task_code: str = Field(foreign_key="task.code", primary_key=True, max_length=64)
    uscc: str = Field(primary_key=True, max_length=18)
    department_code: str = Field(primary_key=True, max_length=32)
    cert_no: str = Field(primary_key=True, max_length=32)


class TaskEligibleInspector(SQLModel, table=True):
    """An inspector eligible for at least one drawn entity of a task, per department.

    Written by the draw beside the eligibility it sums up, so the fairness report counts a
    department's idle inspectors from a few thousand rows instead of a DISTINCT over the
    eligibility's millions (10 s for a province's largest task)."""

    __tablename__ = "task_eligible_inspector"
    task_code: str = Field(foreign_key="task.code", primary_key=True, max_length=64)
    department_code: str = Field(primary_key=True, max_length=32)
    cert_no: str = Field(primary_key=True, max_length=32)


class Assignment(SQLModel, table=True):
    """One inspector assigned to one drawn entity for one department, with its cost."""

    __tablename__ = "assignment"
    __table_args__ = (Index("ix_assignment_inspector", "cert_no"),)
    task_code: str = Field(foreign_key="task.code", primary_key=True, max_length=64)
    uscc: str = Field(primary_key=True, max_length=18)
    department_code: str = Field(primary_key=True, max_length=32)
    cert_no: str = Field(primary_key=True, max_length=32)
    cost: int = Field(sa_type=BigInteger)  # up to 2**40: first 10 hex digits of a SHA-256
