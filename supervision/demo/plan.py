"""The demo's yearly plan carries what a bureau is assessed on: its items, planned tasks
with their months, and coverage targets (the national 3% floor for 企业公示信息, the
region's 5% for the market regulator's general items, 3% for the tax bureau); it is
published (计划公示) before its first task is committed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from supervision import trail
from supervision.db import Database
from supervision.plans.service import plan_report, publish_plan, set_plan
from supervision.plans.spec import PlannedTask, PlanSpec, Target

#: A task the demo plans without creating it (so the report shows a planned task to come).
FOOD = PlannedTask(
    name="食品经营许可情况抽查", departments=("NMG-SJ",), items=("NMG-SJ-03",), months=(12,)
)


def _months(year: int, start: date, end: date) -> tuple[int, ...]:
    """The months of the plan year that a task's period touches (December if it lies after)."""
    first = start.month if start.year == year else 1
    last = end.month if end.year == year else 12
    return tuple(range(first, last + 1)) if start.year <= year <= end.year else (12,)


def demo_plan_contents(
    session: Session, *, code: str, year: int, tasks: Sequence[dict[str, Any]]
) -> None:
    """Give the demo plan its items, targets and planned tasks, and publish it."""
    planned = [
        PlannedTask(
            name=t["name"],
            departments=tuple(t["departments"]),
            items=tuple(t["items"]),
            months=_months(year, t["period_start"], t["period_end"]),
            code=t["code"],
        )
        for t in tasks
    ]
    planned.append(FOOD)
    items = sorted({i for p in planned for i in p.items})
    spec = PlanSpec(
        items=items,
        targets=[
            Target("企业公示信息", Decimal("0.03"), name="企业公示信息抽查（不低于 3%）",
                       department="NMG-SJ", items=("NMG-SJ-01",), entity_types=("企业",)),
            Target("市场监管一般事项", Decimal("0.05"), name="自治区规定：一般事项 5%",
                       department="NMG-SJ", item_kind="一般"),
            Target("税务", Decimal("0.03"), name="税务部门联合抽查", department="NMG-SW"),
        ],
        tasks=planned,
        source="demo",
    )  # fmt: skip
    actor = trail.current_actor()
    set_plan(session, code=code, spec=spec, actor=actor)
    publish_plan(session, code=code, actor=actor)


_SUMMARY = ("id", "ratio", "entities", "needed", "drawn", "inspected", "projected", "status")


def demo_plan_report(db: Database, *, code: str, as_of: date) -> dict[str, Any]:
    """The targets of the demo plan's report, for the demo's summary."""
    with db.session() as session:
        report = plan_report(session, code=code, as_of=as_of)
    return {
        "plan": code,
        "targets": [{k: t[k] for k in _SUMMARY} for t in report["targets"]],
        "repeated": len(report["repeated"]),
    }
