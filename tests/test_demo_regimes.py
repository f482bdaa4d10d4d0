"""The demo's findings follow each kind of entity's regime: no 个体工商户 is proposed for
the 经营异常名录 or the 严重违法失信名单 by the enterprise rules; those that miss the annual
report are marked 经营异常状态 by their own rule."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select

from supervision.db import Database
from supervision.demo.check import demo_check_step
from supervision.demo.load import load_demo
from supervision.demo.province import DemoProvince
from supervision.models import Entity
from supervision.models.findings import Finding

ENTERPRISE_LIST_RULES = {
    "samr.annual-report-not-filed",
    "samr.abnormal-three-years-serious-list",
    "samr.abnormal-three-years-notice",
}


def test_demo_findings_follow_the_entity_regimes(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'demo.db'}")
    try:
        load_demo(db, DemoProvince(entities=3000, seed=2026, as_of=date(2026, 3, 2)), fresh=True)
        demo_check_step(db, as_of=date(2026, 7, 15))
        with db.engine.connect() as conn:
            rows = conn.execute(
                select(Finding.rule_id, Entity.entity_type).join(  # type: ignore[call-overload]
                    Entity, Entity.uscc == Finding.uscc
                )
            ).all()
    finally:
        db.dispose()
    by_type: dict[str, set[str]] = {}
    for rule_id, entity_type in rows:
        by_type.setdefault(entity_type, set()).add(rule_id)
    assert not by_type.get("个体工商户", set()) & ENTERPRISE_LIST_RULES
    assert "samr.individual-annual-report-not-filed" in by_type["个体工商户"]
    assert "samr.annual-report-not-filed" in by_type["企业"]
    assert "samr.individual-annual-report-not-filed" not in by_type["企业"]
