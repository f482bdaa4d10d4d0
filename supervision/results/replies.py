"""An entity's replies to its published results (主体回复), and their review.

A reply is entered with the date it was received (待审核); a reviewer publishes it beside
the result, as the entity's own statement, or rejects it with a reason. Each step is
an event in the trail, in the caller's transaction.
"""

from __future__ import annotations

import hashlib
from datetime import date

from sqlmodel import Session, col, select

from supervision import clock, trail
from supervision.errors import SupervisionError
from supervision.models.results import ReplyState, ResultReply
from supervision.results.history import drawn_task, history, result_object
from supervision.results.states import IllegalTransition, ResultState

__all__ = ["add_reply", "review_reply"]


def add_reply(
    session: Session, *, task_code: str, uscc: str, text: str, received_on: date, actor: str
) -> ResultReply:
    """Enter an entity's reply or objection to its published result (date received)."""
    drawn_task(session, task_code=task_code, uscc=uscc)
    if not text.strip():
        raise SupervisionError("回复内容不能为空（--text）", "the reply text is empty (--text)")
    if not any(
        r.state == ResultState.PUBLISHED
        for rows in history(session, task_code=task_code, uscc=uscc).values()
        for r in rows
    ):
        raise IllegalTransition(
            f"主体 {uscc} 的检查结果尚未公示，不能登记回复",
            f"entity {uscc} has no published result to reply to",
        )
    if received_on > clock.today():
        raise SupervisionError(
            f"收到日期 {received_on} 晚于今天", f"received date {received_on} is in the future"
        )
    last = session.exec(
        select(ResultReply.seq)
        .where(ResultReply.task_code == task_code, ResultReply.uscc == uscc)
        .order_by(col(ResultReply.seq).desc())
    ).first()
    reply = ResultReply(
        task_code=task_code,
        uscc=uscc,
        seq=(last or 0) + 1,
        text=text.strip(),
        received_on=received_on,
        state=ReplyState.ENTERED,
        entered_by=actor,
        entered_at=clock.now(),
    )
    session.add(reply)
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="reply.enter",
        obj=result_object(task_code, uscc) + f"/reply/{reply.seq}",
        payload={
            "received_on": received_on.isoformat(),
            "text_sha256": hashlib.sha256(reply.text.encode()).hexdigest(),
        },
    )
    return reply


def review_reply(
    session: Session,
    *,
    task_code: str,
    uscc: str,
    approve: bool,
    reason: str | None,
    actor: str,
    seq: int | None = None,
) -> ResultReply:
    """Publish (approve) or reject a reply awaiting review (the latest, or ``seq``)."""
    drawn_task(session, task_code=task_code, uscc=uscc)
    query = select(ResultReply).where(
        ResultReply.task_code == task_code,
        ResultReply.uscc == uscc,
        ResultReply.state == ReplyState.ENTERED,
    )
    if seq is not None:
        query = query.where(ResultReply.seq == seq)
    reply = session.exec(query.order_by(col(ResultReply.seq).desc())).first()
    if reply is None:
        raise IllegalTransition(
            f"主体 {uscc} 没有待审核的回复", f"entity {uscc} has no reply awaiting review"
        )
    if not approve and not (reason and reason.strip()):
        raise SupervisionError("不予公示必须说明理由（--reason）", "rejecting needs a reason")
    reply.state = ReplyState.PUBLISHED if approve else ReplyState.REJECTED
    reply.reviewed_by = actor
    reply.reviewed_at = clock.now()
    reply.review_reason = reason.strip() if reason and reason.strip() else None
    session.add(reply)
    session.flush()
    trail.record(
        session,
        actor=actor,
        action="reply.publish" if approve else "reply.reject",
        obj=result_object(task_code, uscc) + f"/reply/{reply.seq}",
        payload={"reason": reply.review_reason},
    )
    return reply
