"""Yearly plans (年度抽查计划): the frame that tasks are created in."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from supervision import clock, trail
from supervision.accounts.scope import Scope
from supervision.errors import NotFoundError, SupervisionError, ValidationFailed
from supervision.models import Department, Plan
from supervision.models.fields import check_text, normalise_key


def create_plan(
    session: Session,
    *,
    code: str,
    year: int,
    name: str,
    departments: Iterable[str],
    notes: str = "",
    actor: str | None = None,
) -> Plan:
    """Create a yearly plan (年度抽查计划). The code is stored normalised (NFKC, trimmed,
    no invisible characters), so codes that look alike are one code. Writes a
    ``plan.create`` trail event as ``actor``."""
    try:
        code = normalise_key(code)
        check_text(name)
        check_text(notes, multiline=True)
    except ValueError as exc:
        zh, _, en = str(exc).partition(" / ")
        raise ValidationFailed(f"抽查计划参数有误：{zh}", f"invalid plan: {en or zh}") from None
    if not code:
        raise ValidationFailed("抽查计划编号不能为空", "the plan code is empty")
    if session.get(Plan, code) is not None:
        raise SupervisionError(f"抽查计划 {code} 已存在", f"plan {code} already exists")
    departments = list(departments)
    require_departments(session, codes=departments)
    if not 2000 <= year <= 2100:
        raise SupervisionError(f"年度 {year} 不合理", f"year {year} is out of range")
    plan = Plan(
        code=code,
        year=year,
        name=name,
        departments=departments,
        notes=notes,
        created_at=clock.now(),
    )
    session.add(plan)
    session.flush()
    trail.record(
        session,
        action="plan.create",
        obj=f"plan:{code}",
        payload={"year": year, "name": name, "departments": departments, "notes": notes},
        actor=actor,
    )
    return plan


def require_departments(session: Session, *, codes: Iterable[str]) -> None:
    missing = [c for c in codes if session.get(Department, c) is None]
    if missing:
        raise NotFoundError(
            f"未知部门：{'、'.join(missing)}", f"unknown department(s): {', '.join(missing)}"
        )


def plan_in_scope(plan: Plan, scope: Scope | None) -> bool:
    """Whether a user of ``scope`` (None: full rights) reaches the plan: one of its
    departments is theirs. A plan has no region of its own: it is the deployment's, which
    every region's planners read and draw their tasks under (publishing it is another
    matter: ``plans.service.publish_plan`` wants no region limit)."""
    return scope is None or scope.covers_departments(plan.departments)


def list_plans(session: Session, *, scope: Scope | None = None) -> list[Plan]:
    """Every plan, newest year first; only those inside ``scope``."""
    plans = session.exec(select(Plan).order_by(col(Plan.year).desc(), col(Plan.code)))
    return [p for p in plans if plan_in_scope(p, scope)]
