"""Plan coverage (计划覆盖率): pure arithmetic over what the database edge hands in.

For each target of a plan:

- the **denominator** N is the active entities in the scope of the target's items (an
  entity is in scope of an item when it matches every part of the item's scope; of the
  target when in scope of at least one of its items), narrowed to the target's entity types;
- the tasks that count are the plan's committed, drawn, in-progress or closed tasks with at
  least one item the target is about (its department, its item kind, its item codes);
- **drawn** is the entities of N drawn by those tasks, **inspected** (achieved so far) those
  with a result entered for one of the target's items, and **projected** adds, for every
  entity of N not drawn yet, the chance that the committed but undrawn tasks draw it
  (``1 − Π(1 − n_h/N_h)`` over the strata holding it, ``n_h = ceil(r_h × N_h)``);
- the target needs ``ceil(ratio × N)`` entities; it is *met* when that many are inspected,
  *on track* when the projection reaches it, else *short*.

The same numbers by region (盟市, the 4-digit prefix) and credit class (A-D), the entities
drawn more than once in the plan year (by any plan's tasks of that year), the tasks
committed before the plan was published, the tasks inspecting items the plan does not list,
and the planned tasks' progress. No I/O here.
"""

from __future__ import annotations

import calendar
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from supervision.reference.regions import prefecture_of, region_name

__all__ = [
    "COUNTING_STATUSES",
    "EntityRow",
    "ItemRow",
    "StratumRow",
    "Target",
    "TaskRow",
    "coverage_report",
    "shortfalls",
]

#: Task statuses whose tasks count towards coverage (a draft or a cancelled task does not).
COUNTING_STATUSES = ("committed", "drawn", "in_progress", "closed")
_DRAWN_STATUSES = ("drawn", "in_progress", "closed")


@dataclass(frozen=True)
class EntityRow:
    """An active entity of the directory, as coverage sees it."""

    uscc: str
    entity_type: str
    industry: str
    region: str
    risk_class: str


@dataclass(frozen=True)
class ItemRow:
    """An item the plan or its tasks name: department, kind (一般/重点) and object scope."""

    code: str
    department: str
    kind: str
    entity_types: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()

    def covers(self, entity: EntityRow) -> bool:
        if self.entity_types and entity.entity_type not in self.entity_types:
            return False
        return not self.industries or any(entity.industry.startswith(p) for p in self.industries)


@dataclass(frozen=True)
class Target:
    """One coverage target: as the plan file states it, and as the report reads it back."""

    target_id: str
    ratio: Decimal
    name: str = ""
    department: str | None = None
    item_kind: str | None = None
    items: tuple[str, ...] = ()
    entity_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class StratumRow:
    """One stratum of a committed task: its ratio and its frozen members."""

    ratio: str
    members: frozenset[str]


@dataclass(frozen=True)
class TaskRow:
    code: str
    status: str
    items: tuple[str, ...]
    departments: tuple[str, ...]
    committed_at: datetime | None = None
    strata: tuple[StratumRow, ...] = ()
    picks: frozenset[str] = frozenset()
    # item code → the entities with a result entered for it in this task
    results: Mapping[str, frozenset[str]] = field(default_factory=dict)


def _rate(count: float, total: int) -> float:
    return round(count / total, 4) if total else 0.0


def _needed(ratio: Decimal, total: int) -> int:
    return math.ceil(Fraction(ratio) * total)


def _target_items(
    target: Target, plan_items: Sequence[str], items: Mapping[str, ItemRow]
) -> list[ItemRow]:
    """The items a target is about: its own list, else the plan's items of its department
    and kind."""
    codes = target.items or tuple(plan_items)
    out = []
    for code in codes:
        item = items.get(code)
        if item is None:
            continue
        if target.department is not None and item.department != target.department:
            continue
        if target.item_kind is not None and item.kind != target.item_kind:
            continue
        out.append(item)
    return out


def _chance(task: TaskRow) -> dict[str, float]:
    """Each member's chance to be drawn by a committed, undrawn task."""
    chance: dict[str, float] = {}
    for stratum in task.strata:
        size = len(stratum.members)
        if not size:
            continue
        n = min(size, math.ceil(Fraction(Decimal(stratum.ratio)) * size))
        for uscc in stratum.members:
            chance[uscc] = n / size
    return chance


@dataclass
class _Tally:
    total: int = 0
    drawn: int = 0
    inspected: int = 0
    projected: float = 0.0

    def add(self, *, drawn: bool, inspected: bool, projected: float) -> None:
        self.total += 1
        self.drawn += drawn
        self.inspected += inspected
        self.projected += projected

    def as_dict(self, ratio: Decimal) -> dict[str, Any]:
        return {
            "entities": self.total,
            "drawn": self.drawn,
            "inspected": self.inspected,
            "projected": round(self.projected, 1),
            "drawn_rate": _rate(self.drawn, self.total),
            "inspected_rate": _rate(self.inspected, self.total),
            "projected_rate": _rate(self.projected, self.total),
            "needed": _needed(ratio, self.total),
        }


def _target_report(
    target: Target,
    *,
    plan_items: Sequence[str],
    items: Mapping[str, ItemRow],
    entities: Sequence[EntityRow],
    tasks: Sequence[TaskRow],
) -> dict[str, Any]:
    about = _target_items(target, plan_items, items)
    codes = {i.code for i in about}
    denominator = [
        e
        for e in entities
        if (not target.entity_types or e.entity_type in target.entity_types)
        and any(i.covers(e) for i in about)
    ]
    counting = [t for t in tasks if t.status in COUNTING_STATUSES and codes & set(t.items)]
    drawn: set[str] = set()
    inspected: set[str] = set()
    miss: dict[str, float] = defaultdict(lambda: 1.0)  # chance of never being drawn
    for task in counting:
        if task.status in _DRAWN_STATUSES:
            drawn |= task.picks
            for code in codes:
                inspected |= task.results.get(code, frozenset())
        else:
            for uscc, p in _chance(task).items():
                miss[uscc] *= 1.0 - p
    whole = _Tally()
    by_region: dict[str, _Tally] = defaultdict(_Tally)
    by_class: dict[str, _Tally] = defaultdict(_Tally)
    for e in denominator:
        was_drawn = e.uscc in drawn
        projected = 1.0 if was_drawn else 1.0 - miss.get(e.uscc, 1.0)
        hit = e.uscc in inspected
        for tally in (whole, by_region[prefecture_of(e.region)], by_class[e.risk_class]):
            tally.add(drawn=was_drawn, inspected=hit, projected=projected)
    numbers = whole.as_dict(target.ratio)
    if not about:
        status = "no_items"
    elif numbers["inspected"] >= numbers["needed"]:
        status = "met"
    elif whole.projected + 1e-9 >= numbers["needed"]:
        status = "on_track"
    else:
        status = "short"
    return {
        "id": target.target_id,
        "name": target.name,
        "department": target.department,
        "item_kind": target.item_kind,
        "items": sorted(codes),
        "entity_types": list(target.entity_types),
        "ratio": str(target.ratio),
        **numbers,
        "status": status,
        "tasks": sorted(t.code for t in counting),
        "by_region": [
            {"region": code, "region_name": region_name(code)} | t.as_dict(target.ratio)
            for code, t in sorted(by_region.items())
        ],
        "by_credit_class": [
            {"credit_class": k} | t.as_dict(target.ratio) for k, t in sorted(by_class.items())
        ],
    }


def _departments(departments: Sequence[str], tasks: Sequence[TaskRow]) -> list[dict[str, Any]]:
    out = []
    for dept in departments:
        own = [t for t in tasks if t.status in COUNTING_STATUSES and dept in t.departments]
        drawn = set().union(*(t.picks for t in own if t.status in _DRAWN_STATUSES))
        inspected = set().union(*(s for t in own for s in t.results.values()))
        out.append(
            {
                "department": dept,
                "tasks": len(own),
                "drawn": len(drawn),
                "inspected": len(inspected),
            }
        )
    return out


def _repeats(year_picks: Mapping[str, Iterable[str]]) -> list[dict[str, Any]]:
    """Entities drawn by more than one task in the plan year."""
    seen: dict[str, list[str]] = defaultdict(list)
    for task, picks in year_picks.items():
        for uscc in picks:
            seen[uscc].append(task)
    return [
        {"uscc": uscc, "tasks": sorted(tasks)}
        for uscc, tasks in sorted(seen.items())
        if len(tasks) > 1
    ]


def _planned(
    planned: Sequence[Mapping[str, Any]], tasks: Sequence[TaskRow], year: int, as_of: date
) -> list[dict[str, Any]]:
    by_code = {t.code: t for t in tasks}
    out = []
    for p in planned:
        task = by_code.get(p.get("code") or "")
        months = list(p.get("months") or [])
        last = max(months) if months else 12
        ends = date(year, last, calendar.monthrange(year, last)[1])
        status = task.status if task is not None else None
        late = as_of > ends and status not in COUNTING_STATUSES
        out.append({**dict(p), "status": status, "late": late})
    return out


def _outside(plan_items: Sequence[str], tasks: Sequence[TaskRow]) -> list[dict[str, Any]]:
    """Tasks of the plan (not cancelled) that inspect items the plan does not list."""
    if not plan_items:
        return []
    listed = set(plan_items)
    return [
        {"task": t.code, "items": sorted(set(t.items) - listed)}
        for t in sorted(tasks, key=lambda t: t.code)
        if t.status != "cancelled" and set(t.items) - listed
    ]


def coverage_report(
    *,
    plan: Mapping[str, Any],
    targets: Sequence[Target],
    items: Mapping[str, ItemRow],
    entities: Sequence[EntityRow],
    tasks: Sequence[TaskRow],
    year_picks: Mapping[str, Iterable[str]],
    as_of: date,
) -> dict[str, Any]:
    """The plan report (JSON-ready). ``plan``: code, name, year, departments, items,
    planned_tasks, published_at (datetime or None); ``tasks``: the plan's tasks;
    ``year_picks``: the picks of every drawn task of the plan year (any plan)."""
    year = int(plan["year"])
    published = plan.get("published_at")
    start, end = date(year, 1, 1), date(year, 12, 31)
    elapsed = min(max((as_of - start).days + 1, 0), (end - start).days + 1)
    early = [
        {"task": t.code, "committed_at": t.committed_at}
        for t in sorted(tasks, key=lambda t: t.code)
        if t.committed_at is not None and (published is None or t.committed_at < published)
    ]
    return {
        "plan": plan["code"],
        "name": plan["name"],
        "year": year,
        "as_of": as_of.isoformat(),
        "year_elapsed": round(elapsed / ((end - start).days + 1), 4),
        "published_at": published,
        "targets": [
            _target_report(
                t,
                plan_items=list(plan.get("items") or []),
                items=items,
                entities=entities,
                tasks=tasks,
            )
            for t in targets
        ],
        "departments": _departments(list(plan.get("departments") or []), tasks),
        "repeated": _repeats(year_picks),
        "committed_before_publication": early,
        "items_outside_plan": _outside(plan.get("items") or [], tasks),
        "planned_tasks": _planned(plan.get("planned_tasks") or [], tasks, year, as_of),
    }


def shortfalls(report: Mapping[str, Any], *, as_of: date, from_month: int) -> list[dict[str, Any]]:
    """The targets to warn about: projected short of the target while the plan year runs
    out (``as_of`` in the plan year, from month ``from_month``)."""
    if as_of.year != report["year"] or as_of.month < from_month:
        return []
    return [t for t in report["targets"] if t["status"] == "short"]
