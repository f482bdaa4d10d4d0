"""Credit proposals over JSON: the queue, an entity's standing, decisions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from supervision.console.deps import DbDep, ReviewerUser
from supervision.console.routes.credit import decided_on
from supervision.credit.proposals import accept_proposal, open_proposals, reject_proposal
from supervision.credit.registers import Decision
from supervision.credit.standing import credit_standing

router = APIRouter(prefix="/api", tags=["api"])


class ProposalDecision(BaseModel):
    decision_no: str = Field("", description="决定书文号 / decision number")
    organ: str = Field("", description="作出决定的机关 / deciding organ")
    decided_on: str = Field("", description="YYYY-MM-DD; empty for today")
    reason_code: str = Field("", description="another reason code than the proposed one")
    wording: str = ""
    note: str = ""
    risk_class: str = Field("", description="removal only: the class it sets (信用修复)")


class ProposalRejection(BaseModel):
    reason: str = ""


@router.get("/credit/proposals")
def api_proposals(db: DbDep, who: ReviewerUser, limit: int = 50) -> list[dict[str, Any]]:
    """Open proposals, the earliest due first."""
    return open_proposals(db, limit=limit, scope=who.scope)


@router.get("/credit/entities/{uscc}")
def api_credit_entity(uscc: str, db: DbDep, who: ReviewerUser) -> dict[str, Any]:
    """An entity's register entries, proposals and class history (internal)."""
    return credit_standing(db, uscc=uscc, scope=who.scope)


@router.post("/credit/proposals/{proposal_id}/accept")
def api_accept(
    proposal_id: int, body: ProposalDecision, db: DbDep, who: ReviewerUser
) -> dict[str, Any]:
    """Decide a proposal with a decision number (organ and number required)."""
    decision = Decision(body.organ, body.decision_no, decided_on(body.decided_on), body.wording)
    return accept_proposal(db, proposal_id=proposal_id, decision=decision, actor=who.actor,
                           reason_code=body.reason_code or None, note=body.note,
                           new_class=body.risk_class or None, scope=who.scope)  # fmt: skip


@router.post("/credit/proposals/{proposal_id}/reject")
def api_reject(
    proposal_id: int, body: ProposalRejection, db: DbDep, who: ReviewerUser
) -> dict[str, Any]:
    """Reject a proposal (a reason is required)."""
    return reject_proposal(db, proposal_id=proposal_id, reason=body.reason, actor=who.actor,
                           scope=who.scope)  # fmt: skip
