"""The coverage targets of a yearly plan (覆盖率目标), one row per target.

A target asks that at least ``ratio`` of the entities in its scope be inspected in the
plan year, by the plan's tasks on the items it names: per department (``department_code``,
None for the whole plan) and per item kind (``item_kind`` 一般/重点, None for any), e.g.
3% of enterprises for the 企业公示信息 items, or a province's 5%. Which entities count (the
denominator) is the scope of the target's items narrowed to ``entity_types``.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, text
from sqlmodel import Field, SQLModel


class PlanTarget(SQLModel, table=True):
    __tablename__ = "plan_target"
    plan_code: str = Field(foreign_key="plan.code", primary_key=True, max_length=64)
    target_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(default="", max_length=200)
    department_code: str | None = Field(default=None, max_length=32)
    item_kind: str | None = Field(default=None, max_length=4)
    # Item codes the target is about (empty: every plan item of its department and kind).
    items: list[str] = Field(
        default_factory=list,
        sa_column=Column(JSON, nullable=False, server_default=text("'[]'")),
    )
    # The entity types the ratio is counted over (empty: every type in the items' scope).
    entity_types: list[str] = Field(
        default_factory=list,
        sa_column=Column(JSON, nullable=False, server_default=text("'[]'")),
    )
    ratio: str = Field(max_length=16)  # an exact decimal, e.g. "0.03"
    position: int = 0  # the order the plan file lists it in
