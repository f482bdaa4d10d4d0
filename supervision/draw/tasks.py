"""Tasks: creation and cancellation (plans: ``draw.plans``; the population a task draws
from: ``draw.population``; the commitment: ``draw.commit``).

A task is created as a draft, then committed: its population (per stratum, ids sorted
by Unicode code point) and its parameters are frozen with SHA-256 digests before any
seed exists. Nothing here draws; see supervision.draw.service.
"""

from __future__ import annotations

import difflib
import hashlib
import unicodedata
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import or_
from sqlmodel import Session, col, select

from supervision import clock, trail
from supervision.accounts.scope import Scope
from supervision.draw.plans import require_departments
from supervision.draw.population import (
    TargetFilter,
)
from supervision.draw.sampling import DrawError, parse_ratio
from supervision.draw.scope import item_scope
from supervision.errors import NotFoundError, SupervisionError, ValidationFailed
from supervision.models import (
    InspectionItem,
    Plan,
    Task,
    TaskStatus,
)
from supervision.models.fields import as_date, check_text, normalise_key
from supervision.reference.folders import folder_key, folder_name
from supervision.reference.regions import region_prefix

ALGORITHM = "consistent-sampler-1.0.10-first-ticket/sha256;matching=min-cost-flow-v1"
RISK_CLASSES = ("A", "B", "C", "D")
STRATA_CHOICES = {"risk_class": ["risk_class"], "risk_class,region": ["risk_class", "region"]}


# --------------------------------------------------------------------------- task input
class TaskCreate(BaseModel):
    """A task as a planner writes it (CLI options or a YAML/JSON task file)."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=64)
    plan: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    departments: list[str] = Field(min_length=1)
    items: list[str] = Field(min_length=1)
    target: TargetFilter = Field(default_factory=TargetFilter)
    ratios: dict[str, Decimal]
    strata: Literal["risk_class", "risk_class,region"] = "risk_class"
    members: dict[str, int] = Field(default_factory=dict)
    exclusion_days: int = Field(default=365, ge=0, le=3650)
    region_rule: Literal["prefecture", "county", "province", "any"] = "prefecture"
    exclude_previous_inspector: bool = True
    load_slack: int = Field(default=0, ge=0, le=1000)
    period_start: date
    period_end: date
    #: "typed" (entered after the commit, e.g. dice) or "beacon" (a future drand round).
    seed: Literal["typed", "beacon"] = "typed"
    # What the population files publish: pseudonyms (default) or, for strata that are not
    # sensitive (e.g. by region only), the USCCs themselves.
    disclosure: Literal["pseudonymous", "full"] = "pseudonymous"

    _dates = field_validator("period_start", "period_end", mode="before")(as_date)
    _keys = field_validator("code", "plan", mode="before")(normalise_key)
    _name = field_validator("name", mode="after")(check_text)

    @field_validator("departments", "items", mode="before")
    @classmethod
    def _list_keys(cls, v: Any) -> Any:
        return [normalise_key(s) for s in v] if isinstance(v, list) else v

    @field_validator("ratios", mode="before")
    @classmethod
    def _ratios(cls, v: Any) -> Any:
        if isinstance(v, int | float | str | Decimal):
            return dict.fromkeys(RISK_CLASSES, str(v))
        if isinstance(v, Mapping):
            return {str(k).upper(): str(r) for k, r in v.items()}
        return v

    @field_validator("ratios", mode="after")
    @classmethod
    def _ratio_values(cls, v: dict[str, Decimal]) -> dict[str, Decimal]:
        unknown = sorted(set(v) - set(RISK_CLASSES))
        if unknown:
            raise ValueError(
                f"抽查比例只能按风险分类 A-D 设定，未知：{'、'.join(unknown)} / "
                f"ratios are per risk class A-D, unknown: {', '.join(unknown)}"
            )
        missing = [k for k in RISK_CLASSES if k not in v]
        if missing:
            raise ValueError(
                f"缺少风险分类 {'、'.join(missing)} 的抽查比例 / missing ratio for {', '.join(missing)}"
            )
        for key, ratio in v.items():
            try:
                parse_ratio(ratio, key)
            except DrawError as exc:
                raise ValueError(str(exc)) from None
        return {k: v[k] for k in RISK_CLASSES}

    @field_validator("departments", "items")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        cleaned = [s.strip() for s in v if s.strip()]
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("列表中有重复项 / the list has duplicates")
        return cleaned

    @model_validator(mode="after")
    def _members_and_period(self) -> TaskCreate:
        if self.period_end < self.period_start:
            raise ValueError("检查结束日期早于开始日期 / period_end is before period_start")
        default = 2 if len(self.departments) == 1 else 1
        members = {d: int(self.members.get(d, default)) for d in self.departments}
        unknown = sorted(set(self.members) - set(self.departments))
        if unknown:
            raise ValueError(
                f"人数设定中的部门不在任务中：{'、'.join(unknown)} / "
                f"members given for departments not in the task: {', '.join(unknown)}"
            )
        if any(m < 1 for m in members.values()):
            raise ValueError("每个部门至少派 1 人 / each department sends at least 1 inspector")
        if sum(members.values()) < 2:
            raise ValueError(
                "每次检查不得少于 2 名执法人员 / an inspection needs at least 2 inspectors"
            )
        self.members = members
        return self


def parse_task_input(data: Mapping[str, Any], source: str = "task") -> TaskCreate:
    """Validate a task description; every problem is named by field, in both languages."""
    try:
        return TaskCreate.model_validate(dict(data))
    except ValidationError as exc:
        details = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]) or "(task)"
            message = str(error["msg"]).removeprefix("Value error, ")
            details.append(f"{source}: {where}: {message}")
        raise ValidationFailed(
            f"任务参数有 {len(details)} 处错误",
            f"the task has {len(details)} invalid field(s)",
            details=details,
        ) from None


# --------------------------------------------------------------------------- tasks
def item_in_force(session: Session, *, code: str, on: date) -> InspectionItem | None:
    """The version of an item in force on a date (the newest one if several are)."""
    rows = session.exec(
        select(InspectionItem)
        .where(InspectionItem.code == code, col(InspectionItem.effective_from) <= on)
        .where(
            or_(col(InspectionItem.effective_to).is_(None), col(InspectionItem.effective_to) >= on)
        )
        .order_by(col(InspectionItem.version).desc())
    )
    return next(iter(rows), None)


def _require_own_folder(session: Session, *, code: str) -> None:
    """Refuse a code whose public-site folder would be another task's on some disk
    (``reference.folders``: codes differing only in case, or a 32-bit hash collision)."""
    key = folder_key(code)
    for other in session.exec(select(Task.code)):
        if folder_key(other) == key:
            raise SupervisionError(
                f"任务编号 {code} 在公示网站上的目录 {folder_name(code)} 与已有任务 {other} 的目录"
                "相同（仅大小写不同），请换一个编号",
                f"task code {code} would share its public-site folder {folder_name(code)!r} with "
                f"task {other} (they differ only in case); choose another code",
            )


def create_task(
    session: Session, *, spec: TaskCreate, actor: str | None = None, scope: Scope | None = None
) -> Task:
    """Create a draft task; item versions in force at the period start are recorded. A
    planner of ``scope`` creates only tasks they would reach (one of their departments,
    a target region inside theirs)."""
    if session.get(Task, spec.code) is not None:
        raise SupervisionError(f"抽查任务 {spec.code} 已存在", f"task {spec.code} already exists")
    _require_own_folder(session, code=spec.code)
    plan = session.get(Plan, spec.plan)
    if plan is None:
        raise NotFoundError(f"未知抽查计划 {spec.plan}", f"unknown plan {spec.plan}")
    require_departments(session, codes=spec.departments)
    items = []
    problems = []
    for code in spec.items:
        item = item_in_force(session, code=code, on=spec.period_start)
        if item is None:
            problems.append(
                f"事项 {code} 在 {spec.period_start} 不存在或未生效 / "
                f"item {code} does not exist or is not in force on {spec.period_start}"
            )
        elif item.department_code not in spec.departments:
            problems.append(
                f"事项 {code} 属于部门 {item.department_code}，不在任务部门中 / "
                f"item {code} belongs to {item.department_code}, not a department of the task"
            )
        else:
            items.append(
                {
                    "code": item.code,
                    "version": item.version,
                    "department_code": item.department_code,
                    "scope": item_scope(item),
                }
            )
    without_items = [d for d in spec.departments if all(i["department_code"] != d for i in items)]
    if not problems and without_items:
        problems.append(
            f"部门 {'、'.join(without_items)} 在任务中没有检查事项 / "
            f"department(s) {', '.join(without_items)} have no item in the task"
        )
    if problems:
        raise ValidationFailed(
            "任务的检查事项有误", "the task's items are invalid", details=problems
        )
    task = Task(
        code=spec.code,
        plan_code=spec.plan,
        name=spec.name,
        departments=spec.departments,
        items=items,
        target=spec.target.model_dump(mode="json"),
        ratios={k: str(v) for k, v in spec.ratios.items()},
        strata_keys=STRATA_CHOICES[spec.strata],
        members=spec.members,
        exclusion_days=spec.exclusion_days,
        region_rule=spec.region_rule,
        exclude_previous_inspector=spec.exclude_previous_inspector,
        load_slack=spec.load_slack,
        period_start=spec.period_start,
        period_end=spec.period_end,
        seed_kind=spec.seed,
        disclosure=spec.disclosure,
        status=TaskStatus.DRAFT,
        created_at=clock.now(),
    )
    if not task_in_scope(task, scope):
        assert scope is not None
        raise ValidationFailed(
            f"任务超出本人范围（{scope.label()}）：须含本人的部门，定向地区须在本人地区内，未作任何更改",
            f"the task is outside your scope ({scope.as_dict()}): it needs one of your "
            "departments and target regions inside yours; nothing was changed",
        )
    session.add(task)
    session.flush()
    trail.record(
        session,
        action="task.create",
        obj=f"task:{task.code}",
        payload={"plan": task.plan_code, "name": task.name, "items": task.items},
        actor=actor,
    )
    return task


#: Brackets people type around a task code's year, all read as 〔〕 (after NFKC, which
#: already makes full-width （）［］ half-width): [2026], (2026), 【2026】 find 〔2026〕.
_LOOSE_BRACKETS = str.maketrans({"[": "〔", "(": "〔", "【": "〔", "〖": "〔", "{": "〔",
                                 "]": "〕", ")": "〕", "】": "〕", "〗": "〕", "}": "〕"})  # fmt: skip


def loose_code(code: str) -> str:
    """A task code as compared forgivingly: NFKC, brackets as 〔〕, no spaces, case folded."""
    text = unicodedata.normalize("NFKC", code).translate(_LOOSE_BRACKETS)
    return "".join(text.split()).casefold()


def known_task_code(session: Session, typed: str) -> str | None:
    """The stored code of the task a person meant by ``typed``, or None.

    The exact code (in its normalised form) first; else the one task whose code reads
    the same with other brackets or spaces (``蒙市监抽查[2026]3号`` or ``(2026)`` for
    ``〔2026〕``).
    """
    try:
        key: str | None = normalise_key(typed)
    except ValueError:
        key = None
    if key and session.get(Task, key) is not None:
        return key
    loose = loose_code(typed)
    same = [c for c in session.exec(select(Task.code)) if loose_code(c) == loose]
    return same[0] if len(same) == 1 else None


def unknown_task(session: Session, typed: str) -> NotFoundError:
    """The error for a task code that names no task: it suggests the closest codes."""
    by_loose = {loose_code(c): c for c in session.exec(select(Task.code))}
    close = difflib.get_close_matches(loose_code(typed), list(by_loose), n=3, cutoff=0.6)
    near = [by_loose[m] for m in close]
    if near:
        return NotFoundError(
            f"未知抽查任务 {typed}；您要找的是不是：{'、'.join(near)}",
            f"unknown task {typed}; did you mean: {', '.join(near)}",
        )
    return NotFoundError(
        f"未知抽查任务 {typed}（任务列表：supervision task list）",
        f"unknown task {typed} (see supervision task list)",
    )


def resolve_task_code(session: Session, typed: str) -> str:
    """``known_task_code``, or the NotFoundError of ``unknown_task``."""
    code = known_task_code(session, typed)
    if code is None:
        raise unknown_task(session, typed)
    return code


#: Statuses of a task whose draw has happened (it has picks and a team per pick).
DRAWN_STATUSES = (TaskStatus.DRAWN, TaskStatus.IN_PROGRESS, TaskStatus.CLOSED)


def not_drawn_note(task: Task) -> dict[str, str] | None:
    """What a report on a task that has not been drawn says first (zh, en); None once
    the task is drawn."""
    if task.status in DRAWN_STATUSES:
        return None
    zh_status = TaskStatus.ZH.get(task.status, task.status)
    step = {
        TaskStatus.DRAFT: (
            "先锁定任务（supervision task commit），再抽取",
            "commit it first, then draw",
        ),
        TaskStatus.COMMITTED: (
            f"抽取：supervision task draw '{task.code}' --seed …",
            f"draw it: supervision task draw '{task.code}' --seed …",
        ),
    }.get(task.status, ("", ""))
    return {
        "zh": f"任务 {task.code} 尚未抽取（状态：{zh_status}），还没有抽中的检查对象"
        + (f"；{step[0]}" if step[0] else ""),
        "en": f"task {task.code} has not been drawn yet (status {task.status}): no entities "
        "are picked" + (f"; {step[1]}" if step[1] else ""),
    }


def task_region(task: Task) -> str:
    """The region a task covers, as a GB/T 2260 prefix: the common prefix of its target
    regions ("" for an untargeted task, which covers the whole directory)."""
    prefixes = [region_prefix(r) for r in (task.target or {}).get("regions") or []]
    if not prefixes:
        return ""
    common = prefixes[0]
    for prefix in prefixes[1:]:
        while not prefix.startswith(common):
            common = common[:-1]
    return next((common[:n] for n in (6, 4, 2) if len(common) >= n), "")


def task_in_scope(task: Task, scope: Scope | None) -> bool:
    """Whether a user of ``scope`` reaches the task: one of its departments (a joint task is
    each of its departments') and its region inside the scope's region."""
    if scope is None:
        return True
    return scope.covers_departments(task.departments) and task_region(task).startswith(scope.region)


def get_task(session: Session, *, code: str, scope: Scope | None = None) -> Task:
    """The task coded `code` as a user typed it (``resolve_task_code``: forgiving about
    brackets and spaces; an unknown code suggests the closest ones). A task outside
    ``scope`` is not found, as if it did not exist."""
    task = session.get(Task, resolve_task_code(session, code))
    assert task is not None
    if not task_in_scope(task, scope):
        raise NotFoundError(f"没有任务 {code}", f"no task {code}")
    return task


def list_tasks(
    session: Session, *, plan: str | None = None, scope: Scope | None = None
) -> list[Task]:
    """The tasks (of ``plan``), only those inside ``scope``."""
    query = select(Task).order_by(col(Task.created_at), col(Task.code))
    if plan:
        query = query.where(Task.plan_code == plan)
    return [t for t in session.exec(query) if task_in_scope(t, scope)]


def cancel_task(session: Session, *, code: str, reason: str, actor: str | None = None) -> Task:
    """Cancel a task with a reason. Nothing is deleted; a drawn task's draw stays on record."""
    task = get_task(session, code=code)
    if not reason.strip():
        raise SupervisionError("撤销任务必须说明理由", "cancelling a task needs a reason")
    if task.status in (TaskStatus.CANCELLED, TaskStatus.CLOSED):
        raise SupervisionError(
            f"任务 {code} 已{TaskStatus.ZH[task.status]}，不能撤销",
            f"task {code} is {task.status} and cannot be cancelled",
        )
    previous = task.status
    task.status = TaskStatus.CANCELLED
    task.cancel_reason = reason.strip()
    session.add(task)
    session.flush()
    trail.record(
        session,
        action="task.cancel",
        obj=f"task:{code}",
        payload={"reason": task.cancel_reason, "previous_status": previous},
        actor=actor,
    )
    return task


# --------------------------------------------------------------------------- commitment
def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
