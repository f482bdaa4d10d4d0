"""Yearly plans beyond their shell: contents from a plan file, publication (计划公示), and
the coverage report. Every door (CLI, console, demo, scheduler) goes through here.

A plan's contents (items, targets, planned tasks) are set from a plan file
(``supervision.plans.spec``) and checked against the directories: every department and
item must exist, the plan's items must belong to its departments, and targets and planned
tasks may only name the plan's departments and items. Each change is a trail event in the
same transaction. Once published, a plan still changes (计划调整), but only with a reason,
which its notice shows with the date.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from supervision import clock, trail
from supervision.accounts.scope import Scope
from supervision.db import table_of
from supervision.draw.plans import create_plan, plan_in_scope, require_departments
from supervision.errors import ConflictError, NotFoundError, SupervisionError, ValidationFailed
from supervision.models import (
    DrawPick,
    Entity,
    InspectionItem,
    InspectionResult,
    Plan,
    PlanTarget,
    Task,
    TaskPopulation,
    TaskStratum,
)
from supervision.models.fields import check_text, normalise_key
from supervision.plans import coverage
from supervision.plans.spec import PlanSpec
from supervision.reference.vocab import EntityStatus

__all__ = [
    "create_plan_from",
    "get_plan",
    "plan_detail",
    "plan_report",
    "publish_plan",
    "set_plan",
]


def get_plan(session: Session, *, code: str, scope: Scope | None = None) -> Plan:
    """The plan coded `code` as a user typed it (compared in its normalised form); a plan
    outside ``scope`` is not found, as if it did not exist."""
    try:
        plan = session.get(Plan, normalise_key(code))
    except ValueError:
        plan = None
    if plan is None or not plan_in_scope(plan, scope):
        raise NotFoundError(f"没有抽查计划 {code}", f"no plan {code}")
    return plan


def _latest_items(session: Session, codes: set[str]) -> dict[str, InspectionItem]:
    """The newest version of each item code."""
    found: dict[str, InspectionItem] = {}
    if not codes:
        return found
    for item in session.exec(
        select(InspectionItem)
        .where(col(InspectionItem.code).in_(sorted(codes)))
        .order_by(col(InspectionItem.code), col(InspectionItem.version))
    ):
        found[item.code] = item
    return found


def _check_contents(session: Session, plan: Plan, spec: PlanSpec) -> list[str]:
    """What the plan file names that the directories or the plan itself do not hold."""
    problems: list[str] = []
    departments = spec.departments if spec.departments is not None else plan.departments
    items = spec.items if spec.items is not None else plan.items
    named = set(items)
    for t in spec.targets or []:
        named |= set(t.items)
    for p in spec.tasks or []:
        named |= set(p.items)
    known = _latest_items(session, named)
    for i, code in enumerate(items):
        item = known.get(code)
        if item is None:
            problems.append(f"{spec.where(f'items[{i}]')}: 事项清单中没有 {code} / no item {code}")
        elif item.department_code not in departments:
            problems.append(
                f"{spec.where(f'items[{i}]')}: 事项 {code} 属于部门 {item.department_code}，不在计划部门中 / "
                f"item {code} belongs to {item.department_code}, not a department of the plan"
            )

    def inside(codes: tuple[str, ...], key: str, pool: list[str], zh: str, en: str) -> None:
        for j, code in enumerate(codes):
            if code not in pool:
                problems.append(f"{spec.where(f'{key}[{j}]')}: {zh} {code} / {en} {code}")

    for i, t in enumerate(spec.targets or []):
        if t.department is not None and t.department not in departments:
            problems.append(
                f"{spec.where(f'targets[{i}].department')}: 部门 {t.department} 不在计划部门中 / "
                f"department {t.department} is not a department of the plan"
            )
        inside(t.items, f"targets[{i}].items", items, "计划事项中没有", "not an item of the plan:")
    for i, p in enumerate(spec.tasks or []):
        inside(p.departments, f"tasks[{i}].departments", departments,
               "计划部门中没有", "not a department of the plan:")  # fmt: skip
        inside(p.items, f"tasks[{i}].items", items, "计划事项中没有", "not an item of the plan:")
    return problems


def _write_contents(session: Session, plan: Plan, spec: PlanSpec) -> None:
    if spec.name is not None:
        plan.name = spec.name
    if spec.notes is not None:
        plan.notes = spec.notes
    if spec.departments is not None:
        plan.departments = list(spec.departments)
    if spec.items is not None:
        plan.items = list(spec.items)
    if spec.tasks is not None:
        plan.planned_tasks = [p.to_dict() for p in spec.tasks]
    session.add(plan)
    if spec.targets is not None:
        for old in session.exec(select(PlanTarget).where(PlanTarget.plan_code == plan.code)):
            session.delete(old)
        session.flush()
        for position, t in enumerate(spec.targets):
            session.add(
                PlanTarget(
                    plan_code=plan.code,
                    target_id=t.target_id,
                    name=t.name,
                    department_code=t.department,
                    item_kind=t.item_kind,
                    items=list(t.items),
                    entity_types=list(t.entity_types),
                    ratio=str(t.ratio),
                    position=position,
                )
            )
    session.flush()


def _refuse(spec: PlanSpec, problems: list[str]) -> None:
    if problems:
        raise ValidationFailed(
            f"计划文件 {spec.source} 有 {len(problems)} 处与名录不符",
            f"plan file {spec.source} has {len(problems)} problem(s) against the directories",
            details=problems,
        )


def create_plan_from(session: Session, *, spec: PlanSpec, actor: str) -> Plan:
    """Create a plan with everything its file gives (code, year, name and departments
    are required); one ``plan.create`` and, with contents, one ``plan.set`` event."""
    missing = [k for k in ("code", "year", "name", "departments") if getattr(spec, k) is None]
    if missing:
        raise ValidationFailed(
            f"创建计划需要 {'、'.join(missing)}（计划文件或命令行选项）",
            f"creating a plan needs {', '.join(missing)} (in the plan file or as options)",
        )
    assert spec.code is not None and spec.year is not None and spec.name is not None
    require_departments(session, codes=spec.departments or [])
    plan = Plan(
        code=spec.code, year=spec.year, name=spec.name, departments=list(spec.departments or []),
        created_at=clock.now(),
    )  # fmt: skip
    _refuse(spec, _check_contents(session, plan, spec))
    plan = create_plan(
        session,
        code=spec.code,
        year=spec.year,
        name=spec.name,
        departments=spec.departments or [],
        notes=spec.notes or "",
        actor=actor,
    )
    if spec.items is not None or spec.targets is not None or spec.tasks is not None:
        _write_contents(session, plan, spec)
        trail.record(session, action="plan.set", obj=f"plan:{plan.code}",
                     payload=plan_detail(session, code=plan.code), actor=actor)  # fmt: skip
    return plan


def set_plan(
    session: Session, *, code: str, spec: PlanSpec, actor: str, reason: str | None = None
) -> Plan:
    """Set a plan's contents from a plan file (what the file leaves out stays). A published
    plan needs a reason (计划调整), recorded with the date and shown on its notice."""
    plan = get_plan(session, code=code)
    code = plan.code
    if spec.code is not None and spec.code != plan.code:
        raise ValidationFailed(
            f"{spec.where('code')}: 计划文件写的是 {spec.code}，不是 {plan.code}",
            f"{spec.where('code')}: the plan file is for {spec.code}, not {plan.code}",
        )
    if spec.year is not None and spec.year != plan.year:
        raise ValidationFailed(
            f"{spec.where('year')}: 计划年度 {plan.year} 不能改为 {spec.year}",
            f"{spec.where('year')}: the plan year {plan.year} cannot become {spec.year}",
        )
    reason = (reason or "").strip() or None
    if reason is not None:
        try:
            check_text(reason, multiline=True)
        except ValueError as exc:
            zh, _, en = str(exc).partition(" / ")
            raise ValidationFailed(f"调整理由：{zh}", f"reason: {en or zh}") from None
        if len(reason) > 500:
            raise ValidationFailed(
                "调整理由超过 500 字", "the reason is longer than 500 characters"
            )
    if plan.published_at is not None and reason is None:
        raise SupervisionError(
            f"计划 {code} 已于 {clock.local(plan.published_at):%Y-%m-%d} 公示，调整须说明理由（--reason）",
            f"plan {code} was published on {clock.local(plan.published_at):%Y-%m-%d}; "
            "changing it needs a reason (--reason)",
        )
    if spec.departments is not None:
        require_departments(session, codes=spec.departments)
    _refuse(spec, _check_contents(session, plan, spec))
    _write_contents(session, plan, spec)
    action = "plan.set"
    if plan.published_at is not None:
        plan.amended_at = clock.now()
        plan.amendment_reason = reason
        session.add(plan)
        session.flush()
        action = "plan.amend"
    payload = plan_detail(session, code=code) | ({"reason": reason} if reason else {})
    trail.record(session, action=action, obj=f"plan:{code}", payload=payload, actor=actor)
    return plan


def publish_plan(session: Session, *, code: str, actor: str, scope: Scope | None = None) -> Plan:
    """计划公示: release the plan notice (items, departments, planned tasks, targets). A
    plan is published once, and only with at least one item and one target; the next
    site build shows it with this date. A plan is the deployment's: a planner of one
    region may read it but not publish it; one of other departments does not find it."""
    plan = get_plan(session, code=code, scope=scope)
    if scope is not None and scope.region:
        raise SupervisionError(
            f"计划是全区的，只有不限地区的计划员可以公示（本人范围：{scope.label()}）",
            f"a plan is the whole deployment's: only a planner without a region limit "
            f"publishes it (your scope: {scope.as_dict()})",
        )
    code = plan.code
    if plan.published_at is not None:
        raise ConflictError(
            f"计划 {code} 已于 {clock.local(plan.published_at):%Y-%m-%d %H:%M} 公示",
            f"plan {code} was already published on {clock.local(plan.published_at):%Y-%m-%d %H:%M}",
        )
    targets = _targets(session, code)
    if not plan.items or not targets:
        raise SupervisionError(
            f"计划 {code} 还没有{'事项' if not plan.items else '覆盖率目标'}，不能公示（plan set --from 计划文件）",
            f"plan {code} has no {'items' if not plan.items else 'coverage targets'} yet and "
            "cannot be published (plan set --from PLAN.yaml)",
        )
    plan.published_at = clock.now()
    plan.published_by = actor
    session.add(plan)
    session.flush()
    trail.record(session, action="plan.publish", obj=f"plan:{code}",
                 payload=plan_detail(session, code=code), actor=actor)  # fmt: skip
    return plan


def _targets(session: Session, code: str) -> list[PlanTarget]:
    return list(
        session.exec(
            select(PlanTarget)
            .where(PlanTarget.plan_code == code)
            .order_by(col(PlanTarget.position), col(PlanTarget.target_id))
        )
    )


def target_dict(t: PlanTarget) -> dict[str, Any]:
    return {
        "id": t.target_id,
        "name": t.name,
        "department": t.department_code,
        "item_kind": t.item_kind,
        "items": list(t.items),
        "entity_types": list(t.entity_types),
        "ratio": t.ratio,
    }


def plan_detail(session: Session, *, code: str) -> dict[str, Any]:
    """A plan with its contents, JSON-ready (``plan show --json``, the trail payloads)."""
    plan = get_plan(session, code=code)
    code = plan.code

    def at(moment: Any) -> str | None:
        return None if moment is None else clock.local(moment).isoformat()

    return {
        "code": plan.code,
        "year": plan.year,
        "name": plan.name,
        "departments": list(plan.departments),
        "notes": plan.notes,
        "items": list(plan.items),
        "targets": [target_dict(t) for t in _targets(session, code)],
        "planned_tasks": list(plan.planned_tasks),
        "published_at": at(plan.published_at),
        "published_by": plan.published_by,
        "amended_at": at(plan.amended_at),
        "amendment_reason": plan.amendment_reason,
    }


# --------------------------------------------------------------------------- the report
def _item_row(item: InspectionItem) -> coverage.ItemRow:
    return coverage.ItemRow(
        code=item.code,
        department=item.department_code,
        kind=item.kind,
        entity_types=tuple(item.scope_entity_types or ()),
        industries=tuple(item.scope_industries or ()),
    )


_E = table_of(Entity)
_P = table_of(DrawPick)
_T = table_of(Task)
_PL = table_of(Plan)
_R = table_of(InspectionResult)
_POP = table_of(TaskPopulation)
_S = table_of(TaskStratum)


def _task_rows(session: Session, tasks: list[Task]) -> list[coverage.TaskRow]:
    conn = session.connection()
    codes = [t.code for t in tasks]
    picks: dict[str, set[str]] = defaultdict(set)
    results: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    members: dict[tuple[str, str], set[str]] = defaultdict(set)
    ratios: dict[str, dict[str, str]] = defaultdict(dict)
    if codes:
        for task_code, uscc in conn.execute(
            core_select(_P.c.task_code, _P.c.uscc).where(_P.c.task_code.in_(codes))
        ):
            picks[task_code].add(uscc)
        for task_code, uscc, item in conn.execute(
            core_select(_R.c.task_code, _R.c.uscc, _R.c.item_code)
            .where(_R.c.task_code.in_(codes))
            .distinct()
        ):
            results[task_code][item].add(uscc)
        undrawn = [t.code for t in tasks if t.status == "committed"]
        if undrawn:
            for task_code, stratum, ratio in conn.execute(
                core_select(_S.c.task_code, _S.c.stratum, _S.c.ratio).where(
                    _S.c.task_code.in_(undrawn)
                )
            ):
                ratios[task_code][stratum] = ratio
            for task_code, stratum, uscc in conn.execute(
                core_select(_POP.c.task_code, _POP.c.stratum, _POP.c.uscc).where(
                    _POP.c.task_code.in_(undrawn)
                )
            ):
                members[(task_code, stratum)].add(uscc)
    return [
        coverage.TaskRow(
            code=t.code,
            status=t.status,
            items=tuple(i["code"] for i in t.items),
            departments=tuple(t.departments),
            committed_at=t.committed_at,
            strata=tuple(
                coverage.StratumRow(ratio=r, members=frozenset(members[(t.code, s)]))
                for s, r in sorted(ratios[t.code].items())
            ),
            picks=frozenset(picks[t.code]),
            results={k: frozenset(v) for k, v in results[t.code].items()},
        )
        for t in tasks
    ]


def plan_report(session: Session, *, code: str, as_of: date | None = None) -> dict[str, Any]:
    """The coverage report of a plan (see ``supervision.plans.coverage``), as of a day
    (today by default): what the database holds, handed to the pure arithmetic."""
    plan = get_plan(session, code=code)
    code = plan.code
    as_of = as_of or clock.today()
    targets = _targets(session, code)
    tasks = list(session.exec(select(Task).where(Task.plan_code == code).order_by(col(Task.code))))
    codes = set(plan.items) | {i for t in targets for i in t.items}
    codes |= {i["code"] for t in tasks for i in t.items}
    items = {c: _item_row(i) for c, i in _latest_items(session, codes).items()}
    conn = session.connection()
    entities = [
        coverage.EntityRow(uscc=r[0], entity_type=r[1], industry=r[2], region=r[3], risk_class=r[4])
        for r in conn.execute(
            core_select(
                _E.c.uscc, _E.c.entity_type, _E.c.industry_code, _E.c.region_code, _E.c.risk_class
            ).where(_E.c.status == EntityStatus.ACTIVE.value)
        )
    ]
    year_picks: dict[str, set[str]] = defaultdict(set)
    for task_code, uscc in conn.execute(
        core_select(_P.c.task_code, _P.c.uscc)
        .join(_T, _T.c.code == _P.c.task_code)
        .join(_PL, _PL.c.code == _T.c.plan_code)
        .where(_PL.c.year == plan.year, _T.c.status != "cancelled")
    ):
        year_picks[task_code].add(uscc)
    report = coverage.coverage_report(
        plan={
            "code": plan.code,
            "name": plan.name,
            "year": plan.year,
            "departments": plan.departments,
            "items": plan.items,
            "planned_tasks": plan.planned_tasks,
            "published_at": plan.published_at,
        },
        targets=[
            coverage.Target(
                target_id=t.target_id,
                ratio=Decimal(t.ratio),
                name=t.name,
                department=t.department_code,
                item_kind=t.item_kind,
                items=tuple(t.items),
                entity_types=tuple(t.entity_types),
            )
            for t in targets
        ],
        items=items,
        entities=entities,
        tasks=_task_rows(session, tasks),
        year_picks=year_picks,
        as_of=as_of,
    )
    return _jsonable(report)


def _jsonable(report: dict[str, Any]) -> dict[str, Any]:
    """Moments as local ISO text (the pure report keeps datetimes)."""
    report["published_at"] = (
        clock.local(report["published_at"]).isoformat() if report["published_at"] else None
    )
    for row in report["committed_before_publication"]:
        row["committed_at"] = clock.local(row["committed_at"]).isoformat()
    return report
