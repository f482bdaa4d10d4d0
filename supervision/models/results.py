"""Inspection results (检查结果), their evidence files and the entities' replies.

One ``InspectionResult`` row per version of the result of one task item for one drawn
entity. A row's content (code, finding, inspection date and team, evidence, follow-up)
is never changed after it is written: re-entering a returned result, or correcting a
published one, appends the next version; the older rows stay as they were. What moves
on a row is its review/publication state and the follow-up's progress, and every such
move is also an event in the trail.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKeyConstraint, Index, LargeBinary, Text
from sqlmodel import Field, SQLModel

from supervision.reference.result_codes import ResultState

__all__ = ["EvidenceFile", "InspectionResult", "ReplyState", "ResultReply", "ResultState"]


class InspectionResult(SQLModel, table=True):
    __tablename__ = "inspection_result"
    __table_args__ = (
        ForeignKeyConstraint(["task_code", "uscc"], ["draw_pick.task_code", "draw_pick.uscc"]),
        Index("ix_result_task_state", "task_code", "state"),
    )
    task_code: str = Field(foreign_key="task.code", primary_key=True, max_length=64)
    uscc: str = Field(primary_key=True, max_length=18)
    item_code: str = Field(primary_key=True, max_length=32)
    version: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    state: str = Field(max_length=16)
    result_code: str = Field(max_length=3)
    sub_code: str | None = Field(default=None, max_length=3)
    finding: str = Field(default="", sa_column=Column(Text, nullable=False))
    inspected_on: date
    inspectors: list[str] = Field(sa_column=Column(JSON, nullable=False))
    # Set when the inspectors who went are not the assigned team.
    team_change_reason: str | None = Field(default=None, max_length=500)
    # [{"name", "sha256", "size"}]; the bytes are in evidence_file.
    evidence: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # The checklist answers this version rests on (AnswerSheet.to_dict()); None without one.
    checklist: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    follow_up: str = Field(default="none", max_length=16)
    follow_up_due: date | None = None
    follow_up_note: str = Field(default="", max_length=500)
    # What the follow-up refers to: 立案 case number, 行政处罚 decision number, the organ a
    # case was transferred to, or the department notified (抄告).
    follow_up_ref: str | None = Field(default=None, max_length=200)
    follow_up_status: str = Field(default="not_needed", max_length=16)
    follow_up_done_on: date | None = None
    # A correction: why, and which published version it corrects.
    change_reason: str | None = Field(default=None, max_length=500)
    corrects_version: int | None = None
    entered_by: str = Field(max_length=200)
    entered_at: datetime
    reviewed_by: str | None = Field(default=None, max_length=200)
    reviewed_at: datetime | None = None
    review_reason: str | None = Field(default=None, max_length=500)
    published_by: str | None = Field(default=None, max_length=200)
    published_at: datetime | None = None


class EvidenceFile(SQLModel, table=True):
    """Evidence bytes, content-addressed by SHA-256 (stored once however often cited)."""

    __tablename__ = "evidence_file"
    sha256: str = Field(primary_key=True, max_length=64)
    size: int = Field(sa_type=BigInteger)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    stored_at: datetime


class ReplyState:
    ENTERED = "entered"
    PUBLISHED = "published"
    REJECTED = "rejected"


class ResultReply(SQLModel, table=True):
    """An entity's own statement (reply or objection) on its published result."""

    __tablename__ = "result_reply"
    __table_args__ = (
        ForeignKeyConstraint(["task_code", "uscc"], ["draw_pick.task_code", "draw_pick.uscc"]),
    )
    task_code: str = Field(foreign_key="task.code", primary_key=True, max_length=64)
    uscc: str = Field(primary_key=True, max_length=18)
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    text: str = Field(sa_column=Column(Text, nullable=False))
    received_on: date
    state: str = Field(max_length=16)
    entered_by: str = Field(max_length=200)
    entered_at: datetime
    reviewed_by: str | None = Field(default=None, max_length=200)
    reviewed_at: datetime | None = None
    review_reason: str | None = Field(default=None, max_length=500)
