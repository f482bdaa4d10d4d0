"""信用监管 records: the registers (经营异常名录, 经营异常状态, 严重违法失信名单), the
proposals a reviewer decides, and the history of each entity's credit risk class.

- ``RegisterEntry``: one listing decision (legal reason, deciding organ, decision number,
  decision date, what caused it). It is never deleted: a removal (移出) fills the removal
  columns once, with its own reason, organ, decision number and date.
- ``CreditProposal``: what a confirmed finding (or the check, for a removal) proposes; a
  reviewer accepts it with a decision number, which writes the entry or its removal, or
  rejects it with a reason. A listing proposal carries the day the decision is due by.
- ``RiskClassChange``: every change of ``Entity.risk_class``: old and new class, its source
  (an import of the bureau's classification, a reviewer's decision, a removal) and the
  day it takes effect (the classification's date, or the decision's).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel


class Register:
    """The three registers, by code."""

    ABNORMAL_LIST = "abnormal_list"
    ABNORMAL_STATUS = "abnormal_status"
    SERIOUS = "serious_violation"

    ALL: ClassVar[tuple[str, ...]] = ("abnormal_list", "abnormal_status", "serious_violation")
    ZH: ClassVar[dict[str, str]] = {
        "abnormal_list": "经营异常名录",
        "abnormal_status": "经营异常状态",
        "serious_violation": "严重违法失信名单",
    }
    EN: ClassVar[dict[str, str]] = {
        "abnormal_list": "list of abnormal operations",
        "abnormal_status": "abnormal-operation status",
        "serious_violation": "list of serious violations",
    }


class ProposalStatus:
    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"

    ZH: ClassVar[dict[str, str]] = {"open": "待决定", "accepted": "已决定", "rejected": "不予采纳"}


class ClassSource:
    """Where a credit risk class came from."""

    IMPORT = "import"
    DECISION = "decision"
    REMOVAL = "removal"

    ZH: ClassVar[dict[str, str]] = {
        "import": "导入分类结果",
        "decision": "审核决定",
        "removal": "信用修复",
    }


class RegisterEntry(SQLModel, table=True):
    """One listing on a register; a removal is a second state of the same row, set once."""

    __tablename__ = "register_entry"
    __table_args__ = (
        Index("ix_register_entry_entity", "uscc", "register_code", "removed_on"),
        UniqueConstraint("organ", "decision_no", name="uq_register_entry_decision"),
    )
    id: int | None = Field(default=None, primary_key=True)
    uscc: str = Field(foreign_key="entity.uscc", max_length=18)
    register_code: str = Field(max_length=20)
    reason_code: str = Field(max_length=20)
    #: The legal reason as decided: law, article and wording (the catalogue's text then).
    reason: str = Field(max_length=500)
    organ: str = Field(max_length=200)
    decision_no: str = Field(max_length=100)
    decided_on: date
    #: What caused it: ``finding:<id>`` (or empty for a listing entered by hand).
    cause: str = Field(default="", max_length=100)
    proposal_id: int | None = None  # the accepted CreditProposal, if any
    listed_by: str = Field(max_length=100)
    listed_at: datetime
    # 移出: set once, never cleared.
    removed_on: date | None = None
    removal_reason_code: str | None = Field(default=None, max_length=20)
    removal_reason: str | None = Field(default=None, max_length=500)
    removal_organ: str | None = Field(default=None, max_length=200)
    removal_decision_no: str | None = Field(default=None, max_length=100)
    removal_proposal_id: int | None = None  # the accepted CreditProposal, if any
    removed_by: str | None = Field(default=None, max_length=100)
    removed_at: datetime | None = None


class CreditProposal(SQLModel, table=True):
    """A proposed listing or removal, open until a reviewer decides it."""

    __tablename__ = "credit_proposal"
    __table_args__ = (
        Index("ix_credit_proposal_queue", "status", "due_on", "id"),
        Index("ix_credit_proposal_entity", "uscc", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    uscc: str = Field(foreign_key="entity.uscc", max_length=18)
    action: str = Field(max_length=8)  # list / remove
    register_code: str = Field(max_length=20)
    reason_code: str = Field(max_length=20)
    cause: str = Field(default="", max_length=100)
    finding_id: int | None = Field(default=None, foreign_key="finding.id")
    entry_id: int | None = Field(default=None, foreign_key="register_entry.id")
    status: str = Field(default=ProposalStatus.OPEN, max_length=10)
    #: The day the cause was established (the finding's confirmation, the cure seen).
    proposed_on: date
    #: The last day for the decision (listing: 10 working days), None when no rule sets one.
    due_on: date | None = None
    detail: str = Field(default="", max_length=500)
    proposed_by: str = Field(max_length=100)
    proposed_at: datetime
    decided_by: str | None = Field(default=None, max_length=100)
    decided_at: datetime | None = None
    decision_no: str | None = Field(default=None, max_length=100)
    organ: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=2000)


class RiskClassChange(SQLModel, table=True):
    """One change of an entity's credit risk class, with where it came from."""

    __tablename__ = "risk_class_change"
    __table_args__ = (Index("ix_risk_class_change_entity", "uscc", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    uscc: str = Field(foreign_key="entity.uscc", max_length=18)
    old_class: str | None = Field(default=None, max_length=1)
    new_class: str = Field(max_length=1)
    source: str = Field(max_length=12)
    #: The classification's date (import) or the decision's: what "newer" compares.
    effective_on: date
    #: ``finding:<id>``, ``entry:<id>``, or the imported file's name.
    ref: str = Field(default="", max_length=200)
    recorded_by: str = Field(max_length=100)
    recorded_at: datetime
