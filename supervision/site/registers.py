"""The registers on the public site: 经营异常名录, 经营异常状态 and 严重违法失信名单 are
public information (国家企业信用信息公示系统 shows them with reasons, organs and dates), so an
entity's page lists its current entries and its removals, and open data carries them.

Only the decisions are shown: register, reason, organ, decision number and date, and the
removal's. Who entered a decision, the finding behind it and the entity's credit risk
class are internal and never shown.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from supervision.models import Entity, Register, RegisterEntry
from supervision.site.public import N_, public_entity

__all__ = ["REGISTER_FIELDS", "load_registers", "register_records"]

#: The public name of each register (a message: the English build translates it).
REGISTER_NAMES = {
    Register.ABNORMAL_LIST: N_("经营异常名录"),
    Register.ABNORMAL_STATUS: N_("经营异常状态"),
    Register.SERIOUS: N_("严重违法失信名单"),
}

#: Open-data columns of ``data/registers.csv`` / ``.json``: (key, header).
REGISTER_FIELDS: list[tuple[str, str]] = [
    ("uscc", "统一社会信用代码"),
    ("name", "名称"),
    ("register", "名录"),
    ("register_name", "名录名称"),
    ("reason", "列入理由"),
    ("organ", "作出决定机关"),
    ("decision_no", "决定书文号"),
    ("decided_on", "列入日期"),
    ("current", "是否仍在名录中"),
    ("removed_on", "移出日期"),
    ("removal_reason", "移出理由"),
    ("removal_organ", "移出决定机关"),
    ("removal_decision_no", "移出决定书文号"),
]


def load_registers(
    session: Session, entities: dict[str, dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """uscc → the entity's register entries, newest first; an entity with entries that is
    not yet on the site (never drawn) is added to ``entities`` so it gets its page."""
    by_entity: dict[str, list[dict[str, Any]]] = defaultdict(list)
    rows = session.execute(select(RegisterEntry).order_by(col(RegisterEntry.id).desc())).scalars()
    for entry in rows:
        by_entity[entry.uscc].append(
            {
                "register": entry.register_code,
                "register_name": REGISTER_NAMES.get(entry.register_code, entry.register_code),
                "reason": entry.reason,
                "organ": entry.organ,
                "decision_no": entry.decision_no,
                "decided_on": entry.decided_on.isoformat(),
                "current": entry.removed_on is None,
                "removed_on": entry.removed_on.isoformat() if entry.removed_on else "",
                "removal_reason": entry.removal_reason or "",
                "removal_organ": entry.removal_organ or "",
                "removal_decision_no": entry.removal_decision_no or "",
            }
        )
    missing = sorted(set(by_entity) - set(entities))
    if missing:
        for row in session.execute(
            select(
                col(Entity.uscc), col(Entity.name), col(Entity.entity_type),
                col(Entity.industry_code), col(Entity.region_code), col(Entity.address),
                col(Entity.legal_rep), col(Entity.status), col(Entity.established_on),
            ).where(col(Entity.uscc).in_(missing))
        ):  # fmt: skip
            entities[row.uscc] = public_entity(row)
    return dict(by_entity)


def register_records(
    registers: dict[str, list[dict[str, Any]]], entities: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """The open-data rows: one per entry, by entity then newest first."""
    rows: list[dict[str, Any]] = []
    for uscc in sorted(registers):
        name = entities.get(uscc, {}).get("name", "")
        rows += [{"uscc": uscc, "name": name, **entry} for entry in registers[uscc]]
    return rows
