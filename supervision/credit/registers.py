"""Register entries: listing (列入) and removal (移出) decisions.

Every decision is one transaction with its trail event (``register.list`` /
``register.remove``, object ``register_entry:<id>``): a crash leaves either both or
neither. Entries are never deleted; a removal fills the entry's removal columns once.
The entity's ``abnormal`` flag follows its open entries on the abnormal list and the
abnormal status: set (with ``abnormal_since``) by the first, cleared when the last is
removed; ``updated_at`` moves so the next incremental check sees the entity.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, Table, select, update

from supervision import clock, trail
from supervision.credit.classes import RISK_STEPS, change_class
from supervision.credit.reasons import reason
from supervision.db import Database, busy_is_an_error, hold_write, table_of
from supervision.errors import ConflictError, NotFoundError, ValidationFailed
from supervision.models import ClassSource, Entity, Register, RegisterEntry
from supervision.models.fields import normalise_key, text_problem
from supervision.reference.credit_reasons import Reason

__all__ = [
    "ABNORMAL_REGISTERS",
    "Decision",
    "entries_of",
    "entry_dict",
    "list_entity",
    "open_entries",
    "record_listing",
    "record_removal",
    "register_for",
    "remove_entry",
]

_E: Table = table_of(Entity)
_R: Table = table_of(RegisterEntry)

#: The registers that make an entity "abnormal" (``Entity.abnormal``).
ABNORMAL_REGISTERS = (Register.ABNORMAL_LIST, Register.ABNORMAL_STATUS)
INDIVIDUAL = "个体工商户"


@dataclass(frozen=True)
class Decision:
    """What a reviewer writes on a listing or removal: the deciding organ, the decision
    number (文书号), its date and, for ``other`` reasons, the decision's own wording."""

    organ: str
    decision_no: str
    decided_on: dt.date
    wording: str = ""

    def checked(self) -> Decision:
        """The decision with its number normalised; a bilingual error for a missing or
        unsafe field (nothing is written)."""
        organ = self.organ.strip()
        if not organ:
            raise ValidationFailed("必须写明作出决定的机关（--organ）",
                                   "the deciding organ (--organ) is required")  # fmt: skip
        try:
            number = normalise_key(self.decision_no)
        except ValueError as exc:
            zh, _, en = str(exc).partition(" / ")
            raise ValidationFailed(f"决定书文号：{zh}", f"decision number: {en}") from None
        if not number:
            raise ValidationFailed("必须写明决定书文号（--decision-no）",
                                   "the decision number (--decision-no) is required")  # fmt: skip
        for label_zh, label_en, text in (
            ("机关", "organ", organ),
            ("说明", "wording", self.wording),
        ):
            problem = text_problem(text, multiline=label_en == "wording")
            if problem is not None:
                raise ValidationFailed(f"{label_zh}：{problem[0]}", f"{label_en}: {problem[1]}")
        if len(organ) > 200 or len(number) > 100 or len(self.wording) > 400:
            raise ValidationFailed("机关至多 200 字，文号至多 100 字，说明至多 400 字",
                                   "organ ≤ 200, decision number ≤ 100, wording ≤ 400 characters")  # fmt: skip
        if self.decided_on > clock.today():
            raise ValidationFailed(f"决定日期 {self.decided_on} 晚于今天",
                                   f"decision date {self.decided_on} is in the future")  # fmt: skip
        return Decision(organ, number, self.decided_on, self.wording.strip())


def register_for(entity_type: str, register: str) -> str:
    """The register that applies: 个体工商户 are marked 经营异常状态, never put on the
    经营异常名录 (and the reverse for enterprises and cooperatives)."""
    if register == Register.ABNORMAL_LIST and entity_type == INDIVIDUAL:
        return Register.ABNORMAL_STATUS
    if register == Register.ABNORMAL_STATUS and entity_type != INDIVIDUAL:
        return Register.ABNORMAL_LIST
    return register


def _reason_text(found: Reason, wording: str) -> str:
    if found.code in ("other", "r.other"):
        if not wording:
            raise ValidationFailed("理由为“其他”时须写明决定的依据（--wording）",
                                   "an 'other' reason needs the decision's basis (--wording)")  # fmt: skip
        return wording[:500]
    return (found.text + (f"；{wording}" if wording else ""))[:500]


def _checked_reason(code: str, *, register: str, action: str) -> Reason:
    return reason(code, register=register, action=action)


def _entity(conn: Connection, uscc: str) -> Any:
    code = uscc.strip().upper()
    row = conn.execute(
        select(_E.c.uscc, _E.c.entity_type, _E.c.abnormal, _E.c.abnormal_since).where(
            _E.c.uscc == code
        )
    ).first()
    if row is None:
        raise NotFoundError(f"没有统一社会信用代码为 {code} 的主体", f"no entity {code}")
    return row


def open_entries(conn: Connection, uscc: str, register: str | None = None) -> list[Row[Any]]:
    """The entity's entries not removed, oldest first (of one register, or all)."""
    query = select(_R).where(_R.c.uscc == uscc, _R.c.removed_on.is_(None))
    if register is not None:
        query = query.where(_R.c.register_code == register)
    return list(conn.execute(query.order_by(_R.c.id)))


def list_entity(
    conn: Connection,
    *,
    uscc: str,
    register: str,
    reason_code: str,
    decision: Decision,
    actor: str,
    now: dt.datetime,
    cause: str = "",
    proposal_id: int | None = None,
) -> dict[str, Any]:
    """List an entity on a register in the caller's transaction; returns the entry.

    Refused (bilingual, nothing written): an unknown register or reason, a reason of
    another register, an entity already listed on that register, a decision number the
    organ already used, a missing organ or number. 个体工商户 go to 经营异常状态.
    """
    if register not in Register.ALL:
        raise ValidationFailed(
            f"名录应为 {'/'.join(Register.ALL)} 之一，而不是 {register}",
            f"the register is one of {', '.join(Register.ALL)}, not {register}",
        )
    checked = decision.checked()
    entity = _entity(conn, uscc)
    target = register_for(entity.entity_type, register)
    found = _checked_reason(reason_code, register=target, action="list")
    if open_entries(conn, entity.uscc, target):
        raise ConflictError(
            f"主体 {entity.uscc} 已在{Register.ZH[target]}中，须先移出才能再次列入",
            f"{entity.uscc} is already on the {Register.EN[target]}; remove it first",
        )
    _unused_number(conn, checked)
    values = {
        "uscc": entity.uscc, "register_code": target, "reason_code": found.code,
        "reason": _reason_text(found, checked.wording), "organ": checked.organ,
        "decision_no": checked.decision_no, "decided_on": checked.decided_on, "cause": cause,
        "proposal_id": proposal_id, "listed_by": actor[:100], "listed_at": now,
    }  # fmt: skip
    entry_id = int(conn.execute(_R.insert().values(**values)).inserted_primary_key[0])  # type: ignore[index]
    if target in ABNORMAL_REGISTERS and not entity.abnormal:
        conn.execute(
            update(_E)
            .where(_E.c.uscc == entity.uscc)
            .values(abnormal=True, abnormal_since=checked.decided_on, updated_at=now)
        )
    trail.record(conn, action="register.list", obj=f"register_entry:{entry_id}", actor=actor,
                 payload=_plain(values))  # fmt: skip
    return {"entry_id": entry_id, **values}


def _unused_number(conn: Connection, decision: Decision) -> None:
    used = conn.execute(
        select(_R.c.id).where(
            _R.c.organ == decision.organ, _R.c.decision_no == decision.decision_no
        )
    ).first()
    if used is not None:
        raise ConflictError(
            f"{decision.organ} 的决定书文号 {decision.decision_no} 已用于名录记录 #{used.id}",
            f"{decision.organ} already used decision number {decision.decision_no} "
            f"(register entry #{used.id})",
        )


def remove_entry(
    conn: Connection,
    *,
    entry_id: int,
    reason_code: str,
    decision: Decision,
    actor: str,
    now: dt.datetime,
    proposal_id: int | None = None,
    new_class: str | None = None,
) -> dict[str, Any]:
    """Remove (移出) an entry in the caller's transaction: the removal columns are set
    once; an entry already removed is refused. The entity's abnormal flag is cleared when
    no other entry keeps it. ``new_class``: the credit risk class the removal decision
    sets (信用修复), recorded in the class history with source ``removal``."""
    checked = decision.checked()
    if new_class is not None and new_class not in RISK_STEPS:
        raise ValidationFailed(
            f"风险分类应为 {'/'.join(RISK_STEPS)} 之一，而不是 {new_class}",
            f"a risk class is one of {', '.join(RISK_STEPS)}, not {new_class}",
        )
    row = conn.execute(select(_R).where(_R.c.id == entry_id)).first()
    if row is None:
        raise NotFoundError(f"没有编号为 {entry_id} 的名录记录", f"no register entry {entry_id}")
    if row.removed_on is not None:
        raise ConflictError(
            f"名录记录 #{entry_id} 已于 {row.removed_on} 移出",
            f"register entry #{entry_id} was removed on {row.removed_on}",
        )
    if checked.decided_on < row.decided_on:
        raise ValidationFailed(
            f"移出日期 {checked.decided_on} 早于列入日期 {row.decided_on}",
            f"removal date {checked.decided_on} is before the listing date {row.decided_on}",
        )
    found = _checked_reason(reason_code, register=row.register_code, action="remove")
    values = {
        "removed_on": checked.decided_on, "removal_reason_code": found.code,
        "removal_reason": _reason_text(found, checked.wording),
        "removal_organ": checked.organ, "removal_decision_no": checked.decision_no,
        "removal_proposal_id": proposal_id, "removed_by": actor[:100], "removed_at": now,
    }  # fmt: skip
    done = conn.execute(
        update(_R).where(_R.c.id == entry_id, _R.c.removed_on.is_(None)).values(**values)
    ).rowcount
    if done != 1:  # removed meanwhile by another decision
        raise ConflictError(
            f"名录记录 #{entry_id} 已被移出", f"register entry #{entry_id} was removed"
        )
    if row.register_code in ABNORMAL_REGISTERS:
        still = [e for r in ABNORMAL_REGISTERS for e in open_entries(conn, row.uscc, r)]
        if not still:
            conn.execute(
                update(_E)
                .where(_E.c.uscc == row.uscc)
                .values(abnormal=False, abnormal_since=None, updated_at=now)
            )
    if new_class is not None:
        change_class(conn, uscc=row.uscc, new_class=new_class, source=ClassSource.REMOVAL,
                     effective_on=checked.decided_on, ref=f"register_entry:{entry_id}",
                     actor=actor, now=now)  # fmt: skip
        values["risk_class"] = new_class
    trail.record(conn, action="register.remove", obj=f"register_entry:{entry_id}", actor=actor,
                 payload=_plain({**values, "uscc": row.uscc, "register": row.register_code}))  # fmt: skip
    return {"entry_id": entry_id, "uscc": row.uscc, "register_code": row.register_code, **values}


def record_listing(
    db: Database, *, uscc: str, register: str, reason_code: str, decision: Decision, actor: str
) -> dict[str, Any]:
    """A listing decided outside a proposal (e.g. entered from a paper decision): one
    transaction with its trail event."""
    with busy_is_an_error(), db.engine.begin() as conn:
        now = hold_write(conn)
        done = list_entity(conn, uscc=uscc, register=register, reason_code=reason_code,
                           decision=decision, actor=actor, now=now)  # fmt: skip
        return entry_dict(conn.execute(select(_R).where(_R.c.id == done["entry_id"])).one())


def record_removal(
    db: Database,
    *,
    entry_id: int,
    reason_code: str,
    decision: Decision,
    actor: str,
    new_class: str | None = None,
) -> dict[str, Any]:
    """A removal decided outside a proposal: one transaction with its trail event."""
    with busy_is_an_error(), db.engine.begin() as conn:
        now = hold_write(conn)
        remove_entry(conn, entry_id=entry_id, reason_code=reason_code, decision=decision,
                     actor=actor, now=now, new_class=new_class)  # fmt: skip
        return entry_dict(conn.execute(select(_R).where(_R.c.id == entry_id)).one())


def entry_dict(row: Row[Any]) -> dict[str, Any]:
    """An entry as every door shows it (dates as ISO text, register names in both languages)."""
    data = dict(row._mapping)
    for key, value in list(data.items()):
        if isinstance(value, dt.date | dt.datetime):
            data[key] = value.isoformat()
    data["register_zh"] = Register.ZH.get(row.register_code, row.register_code)
    data["register_en"] = Register.EN.get(row.register_code, row.register_code)
    data["current"] = row.removed_on is None
    return data


def entries_of(conn: Connection, uscc: str) -> list[dict[str, Any]]:
    """Every entry of an entity (current and removed), newest first."""
    rows = conn.execute(select(_R).where(_R.c.uscc == uscc).order_by(_R.c.id.desc()))
    return [entry_dict(r) for r in rows]


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """Values for a trail payload: dates and times as ISO text."""
    return {k: v.isoformat() if isinstance(v, dt.date | dt.datetime) else v
            for k, v in values.items()}  # fmt: skip
