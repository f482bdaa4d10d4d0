"""Plans and tasks: creation, the population a task draws from, and the commitment.

A task is created as a draft, then committed: its population (per stratum, ids sorted
by Unicode code point) and its parameters are frozen with SHA-256 digests before any
seed exists. Nothing here draws; see supervision.draw.service.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import and_, insert, or_
from sqlmodel import Session, col, select

from supervision import clock, trail
from supervision.canonical import canonical_json
from supervision.draw.export import population_digest
from supervision.draw.sampling import DrawError, parse_ratio
from supervision.errors import NotFoundError, SupervisionError, ValidationFailed
from supervision.models import (
    ComplianceRecord,
    Department,
    DrawPick,
    Entity,
    InspectionItem,
    Plan,
    Task,
    TaskPopulation,
    TaskStatus,
    TaskStratum,
)
from supervision.models.fields import as_date
from supervision.reference.regions import prefecture_of, region_prefix
from supervision.reference.vocab import EntityStatus, EntityType, RecordKind, RiskClass

ALGORITHM = "consistent-sampler-1.0.10-first-ticket/sha256;matching=min-cost-flow-v1"
RISK_CLASSES = ("A", "B", "C", "D")
STRATA_CHOICES = {"risk_class": ["risk_class"], "risk_class,region": ["risk_class", "region"]}


# --------------------------------------------------------------------------- task input
class TargetFilter(BaseModel):
    """定向抽查的筛选条件; all empty = untargeted (不定向, the whole directory)."""

    model_config = ConfigDict(extra="forbid")
    entity_types: list[str] = Field(default_factory=list)
    industries: list[str] = Field(default_factory=list)  # GB/T 4754 prefixes: F, F52, F5211
    regions: list[str] = Field(default_factory=list)  # 150000, 150100, 150102
    risk_classes: list[str] = Field(default_factory=list)
    abnormal: bool | None = None

    @field_validator("entity_types")
    @classmethod
    def _types(cls, v: list[str]) -> list[str]:
        return sorted({EntityType.parse(t).value for t in v})

    @field_validator("risk_classes")
    @classmethod
    def _risks(cls, v: list[str]) -> list[str]:
        return sorted({RiskClass.parse(r.upper()).value for r in v})

    @field_validator("regions")
    @classmethod
    def _regions(cls, v: list[str]) -> list[str]:
        from supervision.reference.regions import check_region_code

        return sorted({check_region_code(str(r)) for r in v})

    @field_validator("industries")
    @classmethod
    def _industries(cls, v: list[str]) -> list[str]:
        from supervision.models.fields import check_industry

        return sorted({check_industry(i) for i in v})

    @property
    def untargeted(self) -> bool:
        return (
            not (self.entity_types or self.industries or self.regions or self.risk_classes)
            and self.abnormal is None
        )


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

    _dates = field_validator("period_start", "period_end", mode="before")(as_date)

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


# --------------------------------------------------------------------------- plans
def create_plan(
    session: Session,
    *,
    code: str,
    year: int,
    name: str,
    departments: Iterable[str],
    notes: str = "",
) -> Plan:
    """Create a yearly plan (年度抽查计划)."""
    if session.get(Plan, code) is not None:
        raise SupervisionError(f"抽查计划 {code} 已存在", f"plan {code} already exists")
    departments = list(departments)
    _require_departments(session, departments)
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
    return plan


def _require_departments(session: Session, codes: Iterable[str]) -> None:
    missing = [c for c in codes if session.get(Department, c) is None]
    if missing:
        raise NotFoundError(
            f"未知部门：{'、'.join(missing)}", f"unknown department(s): {', '.join(missing)}"
        )


def list_plans(session: Session) -> list[Plan]:
    return list(session.exec(select(Plan).order_by(col(Plan.year).desc(), col(Plan.code))))


# --------------------------------------------------------------------------- tasks
def item_in_force(session: Session, code: str, on: date) -> InspectionItem | None:
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


def create_task(session: Session, spec: TaskCreate) -> Task:
    """Create a draft task; item versions in force at the period start are recorded."""
    if session.get(Task, spec.code) is not None:
        raise SupervisionError(f"抽查任务 {spec.code} 已存在", f"task {spec.code} already exists")
    plan = session.get(Plan, spec.plan)
    if plan is None:
        raise NotFoundError(f"未知抽查计划 {spec.plan}", f"unknown plan {spec.plan}")
    _require_departments(session, spec.departments)
    items = []
    problems = []
    for code in spec.items:
        item = item_in_force(session, code, spec.period_start)
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
        status=TaskStatus.DRAFT,
        created_at=clock.now(),
    )
    session.add(task)
    session.flush()
    trail.record(
        session,
        action="task.create",
        obj=f"task:{task.code}",
        payload={"plan": task.plan_code, "name": task.name, "items": task.items},
    )
    return task


def get_task(session: Session, code: str) -> Task:
    task = session.get(Task, code)
    if task is None:
        raise NotFoundError(f"未知抽查任务 {code}", f"unknown task {code}")
    return task


def list_tasks(session: Session, *, plan: str | None = None) -> list[Task]:
    query = select(Task).order_by(col(Task.created_at), col(Task.code))
    if plan:
        query = query.where(Task.plan_code == plan)
    return list(session.exec(query))


def cancel_task(session: Session, code: str, reason: str) -> Task:
    """Cancel a task with a reason. Nothing is deleted; a drawn task's draw stays on record."""
    task = get_task(session, code)
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
    )
    return task


# --------------------------------------------------------------------------- population
@dataclass(frozen=True)
class Population:
    """A task's population: ids per stratum (sorted), each id's region, exclusions by reason."""

    strata: dict[str, list[str]]
    regions: dict[str, str]
    exclusions: dict[str, int]

    @property
    def size(self) -> int:
        return sum(len(ids) for ids in self.strata.values())


def _target_clause(target: TargetFilter) -> Any:
    clauses: list[Any] = []
    if target.entity_types:
        clauses.append(col(Entity.entity_type).in_(target.entity_types))
    if target.risk_classes:
        clauses.append(col(Entity.risk_class).in_(target.risk_classes))
    if target.abnormal is not None:
        clauses.append(Entity.abnormal == target.abnormal)
    if target.industries:
        clauses.append(or_(*(col(Entity.industry_code).startswith(i) for i in target.industries)))
    if target.regions:
        clauses.append(
            or_(*(col(Entity.region_code).startswith(region_prefix(r)) for r in target.regions))
        )
    return and_(True, *clauses)


def stratum_of(strata_keys: list[str], risk_class: str, region_code: str) -> str:
    """Stratum name: 'B' by risk class, or 'B-150100' by risk class × prefecture."""
    if strata_keys == ["risk_class"]:
        return risk_class
    return f"{risk_class}-{prefecture_of(region_code)}"


EXCLUSION_REASONS = {
    "recently_inspected": ("近期已就同一事项接受检查", "inspected for one of the items recently"),
    "drawn_in_other_task": (
        "已被其他任务就同一事项抽中",
        "drawn for one of the items by another task",
    ),
}


def exclusion_label(reason: str) -> str:
    """Chinese / English label of an exclusion reason key."""
    if reason.startswith("status:"):
        status = reason.split(":", 1)[1]
        english = EntityStatus.english().get(status, status)
        return f"登记状态为{status} / status {english}"
    zh, en = EXCLUSION_REASONS[reason]
    return f"{zh} / {en}"


def compute_population(session: Session, task: Task, as_of: date) -> Population:
    """Entities matching the task's filter, status 存续, minus exclusions (counted by reason)."""
    target = TargetFilter.model_validate(task.target)
    rows = session.exec(
        select(Entity.uscc, Entity.region_code, Entity.risk_class, Entity.status).where(
            _target_clause(target)
        )
    ).all()
    exclusions: Counter[str] = Counter()
    candidates: dict[str, tuple[str, str]] = {}
    for uscc, region, risk, status in rows:
        if status != EntityStatus.ACTIVE.value:
            exclusions[f"status:{status}"] += 1
        else:
            candidates[uscc] = (region, risk)
    excluded = _recently_covered(session, task, as_of, set(candidates))
    for uscc, reason in excluded.items():
        if uscc in candidates:
            del candidates[uscc]
            exclusions[reason] += 1
    strata: dict[str, list[str]] = defaultdict(list)
    for uscc, (region, risk) in candidates.items():
        strata[stratum_of(task.strata_keys, risk, region)].append(uscc)
    return Population(
        strata={name: sorted(ids) for name, ids in sorted(strata.items())},
        regions={uscc: region for uscc, (region, _) in candidates.items()},
        exclusions=dict(sorted(exclusions.items())),
    )


def _recently_covered(
    session: Session, task: Task, as_of: date, candidates: set[str]
) -> dict[str, str]:
    """Entities inspected, or drawn by another live task, for one of the task's items within the window."""
    if task.exclusion_days == 0:
        return {}
    cutoff = as_of - timedelta(days=task.exclusion_days)
    item_codes = {i["code"] for i in task.items}
    excluded: dict[str, str] = {}
    records = session.exec(
        select(ComplianceRecord.uscc, ComplianceRecord.payload).where(
            ComplianceRecord.kind == RecordKind.INSPECTION_RESULT.value,
            col(ComplianceRecord.event_date) >= cutoff,
        )
    ).all()
    for uscc, payload in records:
        if uscc in candidates and payload.get("item_code") in item_codes:
            excluded[uscc] = "recently_inspected"
    others = session.exec(
        select(DrawPick.uscc, Task.items)
        .join(Task, col(Task.code) == DrawPick.task_code)
        .where(Task.code != task.code, Task.status != TaskStatus.CANCELLED)
        .where(col(Task.drawn_at) >= datetime.combine(cutoff, datetime.min.time(), UTC))
    ).all()
    for uscc, items in others:
        if uscc in candidates and uscc not in excluded and item_codes & {i["code"] for i in items}:
            excluded[uscc] = "drawn_in_other_task"
    return excluded


# --------------------------------------------------------------------------- commitment
def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def commit_task(session: Session, code: str, *, as_of: date | None = None) -> Task:
    """Freeze population and parameters with their digests; refuses anything but a draft."""
    task = get_task(session, code)
    if task.status != TaskStatus.DRAFT:
        raise SupervisionError(
            f"任务 {code} 状态为{TaskStatus.ZH[task.status]}，只有草稿可以锁定",
            f"task {code} is {task.status}; only a draft can be committed",
        )
    moment = clock.now()
    population = compute_population(session, task, as_of or clock.today())
    if population.size == 0:
        reasons = "; ".join(f"{exclusion_label(r)}: {n}" for r, n in population.exclusions.items())
        raise SupervisionError(
            f"任务 {code} 的抽查对象为空（筛选后没有存续主体）{('：' + reasons) if reasons else ''}",
            f"task {code} has an empty population (no active entity matches the filter)",
        )
    strata_info = {}
    for name, ids in population.strata.items():
        strata_info[name] = {
            "size": len(ids),
            "digest": population_digest(ids),
            "ratio": task.ratios[name.split("-")[0]],
        }
    parameters = {
        "task": task.code,
        "name": task.name,
        "plan": task.plan_code,
        "algorithm": ALGORITHM,
        "departments": task.departments,
        "items": [{"code": i["code"], "version": i["version"]} for i in task.items],
        "target": task.target,
        "strata_keys": task.strata_keys,
        "strata": {n: {"size": s["size"], "digest": s["digest"]} for n, s in strata_info.items()},
        "ratios": {n: s["ratio"] for n, s in strata_info.items()},
        "members": task.members,
        "exclusion_days": task.exclusion_days,
        "exclusions": population.exclusions,
        "region_rule": task.region_rule,
        "exclude_previous_inspector": task.exclude_previous_inspector,
        "load_slack": task.load_slack,
        "period": [task.period_start.isoformat(), task.period_end.isoformat()],
        "committed_at": moment.isoformat(),
    }
    parameters_bytes = canonical_json(parameters)
    task.parameters_json = parameters_bytes.decode()
    task.parameters_digest = sha256_hex(parameters_bytes)
    task.population_digest = sha256_hex(
        canonical_json({n: s["digest"] for n, s in strata_info.items()})
    )
    task.population_size = population.size
    task.exclusions = population.exclusions
    task.committed_at = moment
    task.status = TaskStatus.COMMITTED
    session.add(task)
    session.flush()
    session.connection().execute(
        insert(TaskStratum),
        [
            {
                "task_code": code,
                "stratum": n,
                "ratio": s["ratio"],
                "size": s["size"],
                "digest": s["digest"],
            }
            for n, s in strata_info.items()
        ],
    )
    rows = [
        {"task_code": code, "stratum": name, "uscc": uscc, "region_code": population.regions[uscc]}
        for name, ids in population.strata.items()
        for uscc in ids
    ]
    for start in range(0, len(rows), 20_000):
        session.connection().execute(insert(TaskPopulation), rows[start : start + 20_000])
    trail.record(
        session,
        action="task.commit",
        obj=f"task:{code}",
        payload={
            "parameters_digest": task.parameters_digest,
            "population_digest": task.population_digest,
            "population_size": task.population_size,
        },
    )
    return task


def committed_population(session: Session, code: str) -> dict[str, list[str]]:
    """The frozen population of a committed task, per stratum, ids sorted by code point."""
    strata: dict[str, list[str]] = {
        s: []
        for s in session.exec(select(TaskStratum.stratum).where(TaskStratum.task_code == code))
    }
    for stratum, uscc in session.exec(
        select(TaskPopulation.stratum, TaskPopulation.uscc).where(TaskPopulation.task_code == code)
    ):
        strata[stratum].append(uscc)
    return {name: sorted(ids) for name, ids in sorted(strata.items())}
