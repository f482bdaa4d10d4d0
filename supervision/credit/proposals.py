"""Proposals: what a confirmed finding or a cure proposes, and the reviewer's decision.

A confirmed finding whose rule says ``add_to_abnormal_list`` / ``mark_abnormal_status`` /
``add_to_serious_violation_list`` proposes a listing (the reason from the rule's legal
basis, ``reference.credit_reasons``); listing on the abnormal list is due within 10
working days of the finding's confirmation (企业经营异常名录管理暂行办法; the deadline
watch and the scheduler's alerts read ``due_on``). The check proposes a removal when the
cause is cured (``supervision.checks.cures``). Nothing is listed or removed until a
reviewer accepts the proposal with a decision number; a rejection needs a reason.

Each proposal and each decision is one transaction with its trail event
(``credit.propose`` / ``credit.accept`` / ``credit.reject``, object ``credit_proposal:<id>``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, Row, Table, select, update

from supervision import clock, trail
from supervision.accounts.scope import Scope
from supervision.credit.registers import (
    Decision,
    entry_dict,
    list_entity,
    register_for,
    remove_entry,
)
from supervision.db import Database, busy_is_an_error, hold_write, table_of
from supervision.errors import NotFoundError, SupervisionError, ValidationFailed
from supervision.models import CreditProposal, Entity, ProposalStatus, Register, RegisterEntry
from supervision.models.fields import text_problem
from supervision.reference.credit_reasons import reason_for_basis
from supervision.reference.workdays import CalendarError, WorkCalendar, default_calendar

__all__ = [
    "LISTING_WORKDAYS",
    "REGISTER_FLAGS",
    "accept_proposal",
    "open_proposals",
    "proposal_deadlines",
    "proposals_of",
    "propose",
    "propose_for_finding",
    "reject_proposal",
]

#: 列入经营异常名录的决定：发现之日起 10 个工作日内作出.
LISTING_WORKDAYS = 10
#: ``on_confirm`` flags that propose a listing, and the register each proposes.
REGISTER_FLAGS = {
    "add_to_abnormal_list": Register.ABNORMAL_LIST,
    "mark_abnormal_status": Register.ABNORMAL_STATUS,
    "add_to_serious_violation_list": Register.SERIOUS,
}

_E: Table = table_of(Entity)
_P: Table = table_of(CreditProposal)
_R: Table = table_of(RegisterEntry)


def _open_like(conn: Connection, uscc: str, action: str, register: str) -> Row[Any] | None:
    return conn.execute(
        select(_P).where(
            _P.c.uscc == uscc, _P.c.action == action, _P.c.register_code == register,
            _P.c.status == ProposalStatus.OPEN,
        )
    ).first()  # fmt: skip


def propose(
    conn: Connection,
    *,
    uscc: str,
    action: str,
    register: str,
    reason_code: str,
    proposed_on: dt.date,
    actor: str,
    now: dt.datetime,
    due_on: dt.date | None = None,
    cause: str = "",
    finding_id: int | None = None,
    entry_id: int | None = None,
    detail: str = "",
) -> tuple[int, bool]:
    """A proposal in the caller's transaction: (its id, True) or, when the same listing or
    removal is already proposed and open, (that one's id, False)."""
    same = _open_like(conn, uscc, action, register)
    if same is not None and (action == "list" or same.entry_id == entry_id):
        return int(same.id), False
    values = {
        "uscc": uscc, "action": action, "register_code": register, "reason_code": reason_code,
        "cause": cause, "finding_id": finding_id, "entry_id": entry_id,
        "status": ProposalStatus.OPEN, "proposed_on": proposed_on, "due_on": due_on,
        "detail": detail[:500], "proposed_by": actor[:100], "proposed_at": now,
    }  # fmt: skip
    pid = int(conn.execute(_P.insert().values(**values)).inserted_primary_key[0])  # type: ignore[index]
    payload = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in values.items()}
    trail.record(conn, action="credit.propose", obj=f"credit_proposal:{pid}", actor=actor,
                 payload=payload)  # fmt: skip
    return pid, True


def listing_due(day: dt.date, calendar: WorkCalendar | None = None) -> dt.date | None:
    """The last day for a listing decision (10 working days); None when the calendar
    does not know the year (the proposal is made all the same, without a due day)."""
    try:
        return (calendar or default_calendar()).add_workdays(day, LISTING_WORKDAYS)
    except CalendarError:
        return None


def propose_for_finding(
    conn: Connection,
    *,
    finding: Row[Any],
    flags: dict[str, Any],
    legal_basis: list[tuple[str, str]],
    actor: str,
    now: dt.datetime,
    calendar: WorkCalendar | None = None,
) -> list[dict[str, Any]]:
    """The listing proposals a confirmed finding makes (its rule's ``on_confirm``), as the
    effects recorded on the finding."""
    effects: list[dict[str, Any]] = []
    entity_type = conn.execute(
        select(_E.c.entity_type).where(_E.c.uscc == finding.uscc)
    ).scalar_one()
    today = clock.today()
    for flag, register in REGISTER_FLAGS.items():
        if not flags.get(flag):
            continue
        target = register_for(entity_type, register)
        code = reason_for_basis(target, legal_basis, finding.result_code)
        due = listing_due(today) if target != Register.SERIOUS else None
        pid, new = propose(
            conn, uscc=finding.uscc, action="list", register=target, reason_code=code,
            proposed_on=today, due_on=due, cause=f"finding:{finding.id}",
            finding_id=finding.id, actor=actor, now=now,
            detail=f"{finding.rule_id} v{finding.rule_version}",
        )  # fmt: skip
        effects.append({"action": flag, "status": "proposed", "proposal_id": pid,
                        "register": target, "reason_code": code, "new": new,
                        "due_on": due.isoformat() if due else None})  # fmt: skip
    return effects


def _open_proposal(conn: Connection, proposal_id: int, scope: Scope | None = None) -> Row[Any]:
    query = select(_P).where(_P.c.id == proposal_id)
    if scope is not None and scope.region:  # a proposal is in the scope of its entity
        query = query.select_from(_P.join(_E, _E.c.uscc == _P.c.uscc)).where(
            _E.c.region_code.startswith(scope.region, autoescape=True)
        )
    row = conn.execute(query).first()
    if row is None:
        raise NotFoundError(f"没有编号为 {proposal_id} 的建议", f"no proposal {proposal_id}")
    if row.status != ProposalStatus.OPEN:
        zh = ProposalStatus.ZH.get(row.status, row.status)
        raise SupervisionError(
            f"建议 {proposal_id} 的状态是「{zh}」，只能决定待决定的建议",
            f"proposal {proposal_id} is {row.status}; only open proposals can be decided",
        )
    return row


def _close(conn: Connection, row: Row[Any], status: str, *, who: str, now: dt.datetime,
           note: str, decision: Decision | None = None) -> None:  # fmt: skip
    values: dict[str, Any] = {"status": status, "decided_by": who[:100], "decided_at": now,
                              "note": note[:2000]}  # fmt: skip
    if decision is not None:
        values |= {"decision_no": decision.decision_no, "organ": decision.organ}
    conn.execute(update(_P).where(_P.c.id == row.id).values(**values))


def accept_proposal(
    db: Database,
    *,
    proposal_id: int,
    decision: Decision,
    actor: str,
    reason_code: str | None = None,
    note: str = "",
    new_class: str | None = None,
    scope: Scope | None = None,
) -> dict[str, Any]:
    """Decide an open proposal: list the entity, or remove the entry, with the decision
    (organ, number, date). ``reason_code`` overrides the proposed reason; ``new_class`` is
    the class a removal sets (信用修复, refused for a listing). One transaction: the entry
    or removal, the proposal's status and both trail events. A proposal whose entity is
    outside ``scope`` is not found."""
    checked = decision.checked()
    with busy_is_an_error(), db.engine.begin() as conn:
        now = hold_write(conn)  # entity.updated_at moves: incremental checks read it
        row = _open_proposal(conn, proposal_id, scope)
        code = (reason_code or row.reason_code).strip()
        if row.action == "list" and new_class is not None:
            raise ValidationFailed("只有移出决定可以调整风险分类",
                                   "only a removal may set the risk class")  # fmt: skip
        if row.action == "list":
            done = list_entity(
                conn, uscc=row.uscc, register=row.register_code, reason_code=code,
                decision=checked, actor=actor, now=now, cause=row.cause or f"proposal:{row.id}",
                proposal_id=row.id,
            )  # fmt: skip
        else:
            done = remove_entry(
                conn, entry_id=int(row.entry_id), reason_code=code, decision=checked,
                actor=actor, now=now, proposal_id=row.id, new_class=new_class,
            )  # fmt: skip
        _close(conn, row, ProposalStatus.ACCEPTED, who=actor, now=now, note=note,
               decision=checked)  # fmt: skip
        trail.record(conn, action="credit.accept", obj=f"credit_proposal:{row.id}", actor=actor,
                     payload={"uscc": row.uscc, "entry_id": done["entry_id"],
                              "decision_no": checked.decision_no, "organ": checked.organ,
                              "decided_on": checked.decided_on.isoformat()})  # fmt: skip
        entry = conn.execute(select(_R).where(_R.c.id == done["entry_id"])).one()
    return {"proposal_id": proposal_id, "status": ProposalStatus.ACCEPTED,
            "action": row.action, "entry": entry_dict(entry)}  # fmt: skip


def reject_proposal(
    db: Database, *, proposal_id: int, reason: str, actor: str, scope: Scope | None = None
) -> dict[str, Any]:
    """Reject an open proposal; a reason is required (nothing changes without one). A
    proposal whose entity is outside ``scope`` is not found."""
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed("不予采纳须写明理由（--reason），未作任何更改",
                               "rejecting needs a reason (--reason); nothing was changed")  # fmt: skip
    problem = text_problem(text, multiline=True)
    if problem is not None:
        raise ValidationFailed(f"理由：{problem[0]}", f"reason: {problem[1]}")
    with busy_is_an_error(), db.engine.begin() as conn:
        now = clock.now()
        row = _open_proposal(conn, proposal_id, scope)
        _close(conn, row, ProposalStatus.REJECTED, who=actor, now=now, note=text)
        trail.record(conn, action="credit.reject", obj=f"credit_proposal:{row.id}", actor=actor,
                     payload={"uscc": row.uscc, "reason": text})  # fmt: skip
    return {"proposal_id": proposal_id, "status": ProposalStatus.REJECTED}


def proposal_dict(row: Row[Any], name: str | None = None) -> dict[str, Any]:
    data = dict(row._mapping)
    for key, value in list(data.items()):
        if isinstance(value, dt.date | dt.datetime):
            data[key] = value.isoformat()
    data["register_zh"] = Register.ZH.get(row.register_code, row.register_code)
    data["register_en"] = Register.EN.get(row.register_code, row.register_code)
    data["status_zh"] = ProposalStatus.ZH.get(row.status, row.status)
    data["action_zh"] = "列入" if row.action == "list" else "移出"
    if name is not None:
        data["entity_name"] = name
    return data


def open_proposals(
    db: Database, *, limit: int = 50, uscc: str | None = None, scope: Scope | None = None
) -> list[dict[str, Any]]:
    """Open proposals with their entity's name, the earliest due first (then oldest); only
    those whose entity is inside ``scope``."""
    if limit < 1:
        raise SupervisionError("--limit 至少为 1", "--limit must be at least 1")
    query = (
        select(_P, _E.c.name.label("entity_name"))
        .join(_E, _E.c.uscc == _P.c.uscc)
        .where(_P.c.status == ProposalStatus.OPEN)
        .order_by(_P.c.due_on.is_(None), _P.c.due_on, _P.c.id)
        .limit(limit)
    )
    if uscc:
        query = query.where(_P.c.uscc == uscc.strip().upper())
    if scope is not None and scope.region:
        query = query.where(_E.c.region_code.startswith(scope.region, autoescape=True))
    with db.engine.connect() as conn:
        return [proposal_dict(r) for r in conn.execute(query)]


def proposals_of(conn: Connection, uscc: str) -> list[dict[str, Any]]:
    """Every proposal of an entity, newest first."""
    rows = conn.execute(select(_P).where(_P.c.uscc == uscc).order_by(_P.c.id.desc()))
    return [proposal_dict(r) for r in rows]


def proposal_deadlines(conn: Connection, *, as_of: dt.date) -> list[dict[str, Any]]:
    """Open proposals with a due day (listing decisions), overdue first: what the deadline
    watch prints and the scheduler alerts on."""
    rows = conn.execute(
        select(
            _P.c.id, _P.c.uscc, _P.c.register_code, _P.c.reason_code, _P.c.due_on, _P.c.proposed_on
        )
        .where(_P.c.status == ProposalStatus.OPEN, _P.c.due_on.is_not(None))
        .order_by(_P.c.due_on, _P.c.id)
    )
    return [
        {
            "proposal_id": r.id,
            "uscc": r.uscc,
            "register": r.register_code,
            "reason_code": r.reason_code,
            "proposed_on": r.proposed_on.isoformat(),
            "due": r.due_on.isoformat(),
            "overdue": r.due_on < as_of,
        }
        for r in rows
    ]
