"""The population a task draws from: the entities its filter selects, those in force,
minus recent inspections and draws for the same items (counted by reason); and the
population frozen at commit.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
)
from sqlalchemy import and_, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from supervision.draw.scope import in_scope, licence_kinds, task_scopes
from supervision.models import (
    ComplianceRecord,
    CreditProposal,
    DrawPick,
    Entity,
    EntityMark,
    ProposalStatus,
    RegisterEntry,
    Task,
    TaskPopulation,
    TaskStatus,
    TaskStratum,
)
from supervision.reference.regions import prefecture_of, region_prefix
from supervision.reference.vocab import EntityStatus, EntityType, RecordKind, RiskClass
from supervision.settings import settings

#: Where a targeted task may take its entities from (``TargetFilter.credit``).
CREDIT_SOURCES = ("marks", "proposals", "registers")


class TargetFilter(BaseModel):
    """定向抽查的筛选条件; all empty = untargeted (不定向, the whole directory)."""

    model_config = ConfigDict(extra="forbid")
    entity_types: list[str] = Field(default_factory=list)
    industries: list[str] = Field(default_factory=list)  # GB/T 4754 prefixes: F, F52, F5211
    regions: list[str] = Field(default_factory=list)  # 150000, 150100, 150102
    risk_classes: list[str] = Field(default_factory=list)
    abnormal: bool | None = None
    #: 信用监管: only entities with a mark for targeted draws not yet consumed ("marks"), an
    #: open listing proposal ("proposals") or a current register entry ("registers"): any
    #: of those chosen. Drawing a task with "marks" consumes the marks of those drawn.
    credit: list[str] = Field(default_factory=list)

    @field_validator("credit")
    @classmethod
    def _credit(cls, v: list[str]) -> list[str]:
        unknown = sorted(set(v) - set(CREDIT_SOURCES))
        if unknown:
            raise ValueError(
                f"信用监管来源应为 {'、'.join(CREDIT_SOURCES)}，而不是 {'、'.join(unknown)} / "
                f"credit sources are {', '.join(CREDIT_SOURCES)}, not {', '.join(unknown)}"
            )
        return sorted(set(v))

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Without ``credit`` when empty: a task's stored target (and so its parameters
        digest) reads as it did before the credit sources existed."""
        data: dict[str, Any] = handler(self)
        if not data.get("credit"):
            data.pop("credit", None)
        return data

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
            and not self.credit
        )


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
        clauses.append(
            or_(
                *(
                    col(Entity.industry_code).startswith(i, autoescape=True)
                    for i in target.industries
                )
            )
        )
    if target.regions:
        clauses.append(
            or_(
                *(
                    col(Entity.region_code).startswith(region_prefix(r), autoescape=True)
                    for r in target.regions
                )
            )
        )
    if target.credit:
        clauses.append(or_(*(col(Entity.uscc).in_(_credit_source(s)) for s in target.credit)))
    return and_(True, *clauses)


#: Rows fetched at a time from the queries that read a whole population or table.
STREAM_ROWS = 10_000


def licences_held(session: Session, *, kinds: Iterable[str], on: date) -> dict[str, set[str]]:
    """The licence kinds (of ``kinds``) each entity holds on day ``on``: its compliance records
    of kind licence (许可证) whose ``licence_type`` is one of them and ``valid_to`` not before
    that day."""
    wanted = set(kinds)
    out: dict[str, set[str]] = defaultdict(set)
    records = session.exec(
        select(ComplianceRecord.uscc, ComplianceRecord.payload)
        .where(ComplianceRecord.kind == RecordKind.LICENCE.value)
        .execution_options(yield_per=STREAM_ROWS)
    )
    for uscc, payload in records:
        kind = str(payload.get("licence_type") or "")
        valid_to = str(payload.get("valid_to") or "")
        if kind in wanted and valid_to >= on.isoformat():
            out[uscc].add(kind)
    return dict(out)


def _credit_source(source: str) -> Any:
    """The entities of one credit source (see ``TargetFilter.credit``)."""
    if source == "marks":
        return select(EntityMark.uscc).where(col(EntityMark.consumed_by).is_(None))
    if source == "proposals":
        return select(CreditProposal.uscc).where(
            CreditProposal.status == ProposalStatus.OPEN, CreditProposal.action == "list"
        )
    return select(RegisterEntry.uscc).where(col(RegisterEntry.removed_on).is_(None))


def consume_marks(session: Session, *, task: Task, picked: Iterable[str], at: datetime) -> int:
    """Marks of the drawn entities consumed by a task built from marks (in the draw's
    transaction); returns how many."""
    if "marks" not in (task.target or {}).get("credit", []):
        return 0
    usccs = sorted(set(picked))
    done = 0
    for start in range(0, len(usccs), 2_000):
        part = usccs[start : start + 2_000]
        result = session.connection().execute(
            EntityMark.__table__.update()  # type: ignore[attr-defined]
            .where(col(EntityMark.uscc).in_(part), col(EntityMark.consumed_by).is_(None))
            .values(consumed_by=task.code, consumed_at=at)
        )
        done += int(result.rowcount or 0)
    return done


def _scope_clause(items: list[dict[str, Any]]) -> Any:
    """Entities in scope of at least one of the task's items (no bound when one has no scope);
    licence kinds are left to ``in_scope`` after the query (they live in compliance records)."""
    scopes = task_scopes(items)
    if scopes is None:
        return True
    per_item = []
    for scope in scopes:
        parts: list[Any] = []
        if scope["entity_types"]:
            parts.append(col(Entity.entity_type).in_(scope["entity_types"]))
        if scope["industries"]:
            parts.append(
                or_(
                    *(
                        col(Entity.industry_code).startswith(i, autoescape=True)
                        for i in scope["industries"]
                    )
                )
            )
        per_item.append(and_(True, *parts))
    return or_(*per_item)


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


def exclusion_wording(reason: str) -> tuple[str, str]:
    """The Chinese and the English wording of an exclusion reason key (each on its own:
    a Chinese page shows no English enum name, an English page no Chinese word)."""
    if reason.startswith("yearly_cap:"):
        cap = reason.split(":", 1)[1]
        return (
            f"本年度已接受 {cap} 次抽查，达到每户年度上限（涉企行政检查）",
            f"already inspected {cap} time(s) this year: the yearly cap per entity",
        )
    if reason.startswith("status:"):
        status = reason.split(":", 1)[1]
        english = EntityStatus.english().get(status, status).replace("_", " ")
        return f"登记状态为{status}", f"registration status {english}"
    zh, en = EXCLUSION_REASONS[reason]
    return zh, en


def exclusion_label(reason: str) -> str:
    """Chinese / English label of an exclusion reason key (consoles and the CLI)."""
    zh, en = exclusion_wording(reason)
    return f"{zh} / {en}"


def compute_population(session: Session, *, task: Task, as_of: date) -> Population:
    """Entities in scope of the task's items and matching its filter, status 存续, minus
    exclusions (counted by reason)."""
    target = TargetFilter.model_validate(task.target)
    # Streamed (a server-side cursor on PostgreSQL), not fetched as one list of rows.
    rows = session.execute(
        sa_select(
            col(Entity.uscc),
            col(Entity.region_code),
            col(Entity.risk_class),
            col(Entity.status),
            col(Entity.entity_type),
            col(Entity.industry_code),
        )
        .where(_target_clause(target), _scope_clause(task.items))
        .execution_options(yield_per=STREAM_ROWS)
    )
    scopes = task_scopes(task.items)
    kinds = licence_kinds(scopes)
    held = licences_held(session, kinds=kinds, on=as_of) if kinds else {}
    exclusions: Counter[str] = Counter()
    candidates: dict[str, tuple[str, str]] = {}
    for uscc, region, risk, status, entity_type, industry in rows:
        if kinds and not in_scope(
            scopes, entity_type=entity_type, industry=industry, licences=held.get(uscc, ())
        ):
            continue  # the SQL clause leaves licences to this check
        if status != EntityStatus.ACTIVE.value:
            exclusions[f"status:{status}"] += 1
        else:
            candidates[uscc] = (region, risk)
    excluded = _recently_covered(session, task, as_of, set(candidates))
    excluded |= {
        uscc: reason
        for uscc, reason in _at_yearly_cap(session, task, set(candidates)).items()
        if uscc not in excluded
    }
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
        select(ComplianceRecord.uscc, ComplianceRecord.payload)
        .where(
            ComplianceRecord.kind == RecordKind.INSPECTION_RESULT.value,
            col(ComplianceRecord.event_date) >= cutoff,
        )
        .execution_options(yield_per=STREAM_ROWS)
    )
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


def yearly_cap() -> int | None:
    """The most inspections of one entity per calendar year ($SUPERVISION_YEARLY_INSPECTION_CAP;
    None: no cap)."""
    return settings().yearly_inspection_cap


def inspections_in_year(
    session: Session, *, year: int, candidates: set[str], exclude_task: str
) -> dict[str, set[str]]:
    """Entity → the tasks that inspected it in ``year``: drawn in a live task whose period
    starts that year, or with an inspection result recorded that year. Across all
    departments; a joint task is one task, so it counts once."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    out: dict[str, set[str]] = defaultdict(set)
    for uscc, code in session.exec(
        select(DrawPick.uscc, DrawPick.task_code)
        .join(Task, col(Task.code) == DrawPick.task_code)
        .where(
            Task.code != exclude_task,
            col(Task.status).notin_([TaskStatus.CANCELLED]),
            col(Task.period_start) >= start,
            col(Task.period_start) <= end,
        )
    ):
        if uscc in candidates:
            out[uscc].add(code)
    for uscc, payload in session.exec(
        select(ComplianceRecord.uscc, ComplianceRecord.payload).where(
            ComplianceRecord.kind == RecordKind.INSPECTION_RESULT.value,
            col(ComplianceRecord.event_date) >= start,
            col(ComplianceRecord.event_date) <= end,
        )
    ):
        code = str(payload.get("task_code") or "")
        if uscc in candidates and code != exclude_task:
            out[uscc].add(code or f"record:{payload.get('item_code')}")
    return out


def _at_yearly_cap(session: Session, task: Task, candidates: set[str]) -> dict[str, str]:
    """Entities already inspected as often as the yearly cap allows in the task's year."""
    cap = yearly_cap()
    if cap is None:
        return {}
    seen = inspections_in_year(
        session, year=task.period_start.year, candidates=candidates, exclude_task=task.code
    )
    return {uscc: f"yearly_cap:{cap}" for uscc, tasks in seen.items() if len(tasks) >= cap}


def committed_population(session: Session, *, code: str) -> dict[str, list[str]]:
    """The frozen population of a committed task, per stratum, sorted by code point: the ids
    the draw runs over and the population files publish (pseudonyms for a pseudonymous task,
    USCCs for a full-disclosure one)."""
    strata: dict[str, list[str]] = {
        s: []
        for s in session.exec(select(TaskStratum.stratum).where(TaskStratum.task_code == code))
    }
    for stratum, uscc, pseudonym in session.exec(
        select(TaskPopulation.stratum, TaskPopulation.uscc, TaskPopulation.pseudonym)
        .where(TaskPopulation.task_code == code)
        .execution_options(yield_per=STREAM_ROWS)
    ):
        strata[stratum].append(pseudonym or uscc)
    return {name: sorted(ids) for name, ids in sorted(strata.items())}


def pseudonym_owners(
    session: Session, *, code: str, usccs: Iterable[str] | None = None
) -> dict[str, tuple[str, str]]:
    """Pseudonym → (USCC, salt) of a pseudonymous task's population (all of it, or the rows of
    ``usccs``); empty for a full-disclosure task."""
    query = (
        select(TaskPopulation.pseudonym, TaskPopulation.uscc, TaskPopulation.salt)
        .where(TaskPopulation.task_code == code, col(TaskPopulation.pseudonym).is_not(None))
        .execution_options(yield_per=STREAM_ROWS)
    )
    owners: dict[str, tuple[str, str]] = {}
    wanted = None if usccs is None else set(usccs)
    for pseudonym, uscc, salt in session.exec(query):
        if pseudonym is not None and salt is not None and (wanted is None or uscc in wanted):
            owners[pseudonym] = (uscc, salt)
    return owners
