"""Credit proposals (reviewer): the queue beside the findings, an entity's registers and
class history, and the decisions (accept with a decision number, or reject)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from supervision import clock
from supervision.console.deps import DbDep, ReviewerUser
from supervision.console.pages import redirect, render
from supervision.credit.proposals import accept_proposal, open_proposals, reject_proposal
from supervision.credit.registers import Decision
from supervision.credit.standing import credit_standing
from supervision.errors import ValidationFailed

router = APIRouter()


def decided_on(text: str) -> dt.date:
    """The decision date of a form or body: empty for today, else YYYY-MM-DD."""
    if not text.strip():
        return clock.today()
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed(
            f"决定日期格式应为 YYYY-MM-DD，而不是 {text}",
            f"a decision date is YYYY-MM-DD, not {text}",
        ) from None


@router.get("/credit", response_class=HTMLResponse)
def credit_queue_page(request: Request, db: DbDep, who: ReviewerUser) -> HTMLResponse:
    """Open listing and removal proposals, the earliest due first."""
    return render(
        request,
        "console/credit_queue.html",
        proposals=open_proposals(db, limit=200, scope=who.scope),
    )


@router.get("/credit/entity/{uscc}", response_class=HTMLResponse)
def credit_entity_page(request: Request, uscc: str, db: DbDep, who: ReviewerUser) -> HTMLResponse:
    """An entity's register entries, proposals (with the decision forms) and class history."""
    return render(
        request,
        "console/credit_entity.html",
        credit=credit_standing(db, uscc=uscc, scope=who.scope),
    )


@router.post("/credit/proposals/{proposal_id}/accept")
def accept(
    proposal_id: int,
    db: DbDep,
    who: ReviewerUser,
    uscc: Annotated[str, Form()],
    decision_no: Annotated[str, Form()] = "",
    organ: Annotated[str, Form()] = "",
    decision_date: Annotated[str, Form()] = "",
    reason_code: Annotated[str, Form()] = "",
    wording: Annotated[str, Form()] = "",
) -> Response:
    """Decide a proposal with the organ, decision number and date."""
    decision = Decision(organ, decision_no, decided_on(decision_date), wording)
    accept_proposal(db, proposal_id=proposal_id, decision=decision, actor=who.actor,
                    reason_code=reason_code or None, scope=who.scope)  # fmt: skip
    return redirect(f"/credit/entity/{quote(uscc)}", done="credit_decided")


@router.post("/credit/proposals/{proposal_id}/reject")
def reject(
    proposal_id: int,
    db: DbDep,
    who: ReviewerUser,
    uscc: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Reject a proposal: a reason is required."""
    reject_proposal(db, proposal_id=proposal_id, reason=reason, actor=who.actor,
                    scope=who.scope)  # fmt: skip
    return redirect(f"/credit/entity/{quote(uscc)}", done="credit_rejected")
