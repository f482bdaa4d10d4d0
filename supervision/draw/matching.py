"""Inspector matching (双随机 #2): deterministic from the seed, checkable by anyone.

Every drawn entity needs, for every department inspecting it, a team of ``m_d``
distinct eligible inspectors; a visit has at least two people.  Among all feasible
assignments that keep each inspector within a department-wide load limit, we take
the one of minimum total cost, where the cost of sending inspector ``i`` to entity
``e`` is a public pseudo-random number:

    cost(e, i) = int(first 10 hex digits of SHA-256(seed + "|" + e + "|" + i), 16)

So the matching is random (through the seed) yet has a single checkable answer:
anyone can rebuild the same min-cost flow and compare.  Two different optimal
assignments would need two sums of 40-bit hashes to coincide exactly; if that ever
happens, ``verify_assignment`` accepts any assignment of the optimal total cost.

Pure logic: no database, no I/O.  Eligibility is plain data; ``eligible_inspectors``
(``draw.eligibility``, re-exported here) computes it from directory-like records.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ortools.graph.python import min_cost_flow

from supervision.draw.eligibility import (
    MIN_TEAM,
    REGION_PREFIX,
    EntityRecord,
    InspectorRecord,
    eligible_inspectors,
)
from supervision.draw.sampling import DrawError, validate_seed

__all__ = [
    "REGION_PREFIX",
    "Assignment",
    "EntityRecord",
    "InspectorRecord",
    "Matching",
    "Slot",
    "assign_inspectors",
    "compute_load_limits",
    "eligible_inspectors",
    "inspector_cost",
    "verify_assignment",
]

Slot = tuple[str, str, int]
"""(entity id, department, team size m_d) — one department's visit to one entity."""

MIN_VISIT_SIZE = MIN_TEAM
"""At least two enforcement officers per inspection visit."""

# How many entity ids an error message lists before summarising.
_SHOW_IDS = 20


@dataclass(frozen=True, order=True)
class Assignment:
    """One inspector sent to one entity for one department; ``cost`` is the public hash cost."""

    entity_id: str
    department: str
    inspector_id: str
    cost: int


@dataclass(frozen=True)
class Matching:
    """The chosen assignment (canonically sorted), its total cost and the load limits used."""

    assignments: tuple[Assignment, ...]
    total_cost: int
    load_limits: Mapping[str, int]


# ---------------------------------------------------------------------------
# Costs and limits


def inspector_cost(seed: str, entity_id: str, inspector_id: str) -> int:
    """Public cost of sending ``inspector_id`` to ``entity_id``: the first 10 hex digits
    of SHA-256(seed | entity | inspector) as an integer (0 .. 2**40 - 1)."""
    text = f"{seed}|{entity_id}|{inspector_id}"
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:10], 16)


def compute_load_limits(
    slots: Sequence[Slot],
    eligible: Mapping[tuple[str, str], Sequence[str]],
    slack: int = 0,
) -> dict[str, int]:
    """Per department: ceil(seats / inspectors eligible anywhere) + slack.

    Seats are the sum of team sizes over the department's slots (a team of two
    takes two inspector-visits), so the limit is the fairest even share.
    """
    if slack < 0:
        raise DrawError("负荷余量 slack 不能为负", "the load slack cannot be negative")
    seats: dict[str, int] = defaultdict(int)
    people: dict[str, set[str]] = defaultdict(set)
    for entity_id, department, size in slots:
        seats[department] += size
        people[department].update(eligible.get((entity_id, department), ()))
    return {
        department: math.ceil(seats[department] / max(1, len(people[department]))) + slack
        for department in sorted(seats)
    }


# ---------------------------------------------------------------------------
# Input checks


def _check_input(
    seed: str, slots: Sequence[Slot], eligible: Mapping[tuple[str, str], Sequence[str]]
) -> None:
    validate_seed(seed)
    if not slots:
        raise DrawError("没有需要配备检查人员的主体", "there are no entities to staff")
    seen: set[tuple[str, str]] = set()
    visit: dict[str, int] = defaultdict(int)
    for slot in slots:
        entity_id, department, size = slot
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise DrawError(
                f"主体 {entity_id} 的 {department} 检查组人数 {size!r} 必须是正整数",
                f"team size {size!r} for {entity_id} / {department} must be a positive integer",
            )
        if (entity_id, department) in seen:
            raise DrawError(
                f"主体 {entity_id} 的 {department} 检查重复出现",
                f"entity {entity_id} appears twice for department {department}",
            )
        seen.add((entity_id, department))
        visit[entity_id] += size
    small = sorted(entity_id for entity_id, total in visit.items() if total < MIN_VISIT_SIZE)
    if small:
        raise DrawError(
            f"每次检查至少需要 {MIN_VISIT_SIZE} 名执法检查人员，{len(small)} 户主体不足："
            f"{_list_ids(small)}",
            f"every visit needs at least {MIN_VISIT_SIZE} inspectors; "
            f"{len(small)} entities have fewer: {_list_ids(small)}",
        )
    owner: dict[str, str] = {}
    for (_, department), people in sorted(eligible.items()):
        for person in people:
            if owner.setdefault(person, department) != department:
                raise DrawError(
                    f"检查人员 {person} 同时列在 {owner[person]} 和 {department} 两个部门",
                    f"inspector {person} is listed under two departments: "
                    f"{owner[person]} and {department}",
                )


def _list_ids(ids: Sequence[str]) -> str:
    shown = ", ".join(ids[:_SHOW_IDS])
    return shown + (f" …(+{len(ids) - _SHOW_IDS})" if len(ids) > _SHOW_IDS else "")


def _check_team_sizes(
    slots: Sequence[Slot],
    eligible: Mapping[tuple[str, str], Sequence[str]],
    labels: Mapping[str, str],
) -> None:
    """Raise DrawError naming every entity with fewer eligible inspectors than its team size."""
    short: dict[tuple[str, str, int, int], list[str]] = defaultdict(list)
    for entity_id, department, size in slots:
        count = len(set(eligible.get((entity_id, department), ())))
        if count < size:
            short[(labels.get(entity_id, ""), department, count, size)].append(entity_id)
    if not short:
        return
    zh, en = [], []
    for (label, department, count, size), ids in sorted(short.items()):
        ids = sorted(ids)
        where = f"{label} 的 " if label else ""
        where_en = f" in {label}" if label else ""
        zh.append(
            f"{where}{len(ids)} 户主体：{department} 只有 {count} 名符合条件的检查人员，"
            f"需要 {size} 名（{_list_ids(ids)}）"
        )
        en.append(
            f"{len(ids)} entities{where_en}: {department} has only {count} eligible "
            f"inspector(s), {size} needed ({_list_ids(ids)})"
        )
    raise DrawError("无法配齐检查人员：" + "；".join(zh), "cannot staff: " + "; ".join(en))


# ---------------------------------------------------------------------------
# Solving


def _components(
    slots: Sequence[Slot], eligible: Mapping[tuple[str, str], Sequence[str]]
) -> list[list[Slot]]:
    """Split slots into groups that share no inspector (solved independently)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        root = x
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    first_person: dict[tuple[str, str], str] = {}
    for entity_id, department, _ in slots:
        people = eligible[(entity_id, department)]
        anchor = "i\x00" + people[0]
        first_person[(entity_id, department)] = anchor
        for person in people[1:]:
            a, b = find(anchor), find("i\x00" + person)
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[str, list[Slot]] = defaultdict(list)
    for slot in slots:
        groups[find(first_person[(slot[0], slot[1])])].append(slot)
    return [groups[key] for key in sorted(groups)]


def _solve_component(
    seed: str,
    slots: list[Slot],
    eligible: Mapping[tuple[str, str], Sequence[str]],
    limit: int,
    labels: Mapping[str, str],
) -> list[Assignment]:
    """Min-cost flow: source → slot (cap m) → inspector (cap 1, hash cost) → sink (cap limit)."""
    slots = sorted(slots)
    people = sorted({p for e, d, _ in slots for p in eligible[(e, d)]})
    person_node = {p: 2 + len(slots) + k for k, p in enumerate(people)}
    flow = min_cost_flow.SimpleMinCostFlow()
    source, sink = 0, 1
    seats = 0
    for k, (_, _, size) in enumerate(slots):
        flow.add_arc_with_capacity_and_unit_cost(source, 2 + k, size, 0)
        seats += size
    edges: list[tuple[int, str, str, int]] = []  # (arc, entity, person, cost)
    for k, (entity_id, department, _) in enumerate(slots):
        for person in sorted(set(eligible[(entity_id, department)])):
            cost = inspector_cost(seed, entity_id, person)
            arc = flow.add_arc_with_capacity_and_unit_cost(2 + k, person_node[person], 1, cost)
            edges.append((arc, entity_id, person, cost))
    for person in people:
        flow.add_arc_with_capacity_and_unit_cost(person_node[person], sink, limit, 0)
    flow.set_node_supply(source, seats)
    flow.set_node_supply(sink, -seats)
    status = flow.solve()
    if status != flow.OPTIMAL:
        if status != flow.INFEASIBLE:
            raise DrawError(
                f"最小费用流求解失败（状态 {status}）",
                f"min-cost flow solver failed (status {status})",
            )
        _explain_shortfall(seed, slots, eligible, limit, labels)
    department = slots[0][1]
    return [
        Assignment(entity_id, department, person, cost)
        for arc, entity_id, person, cost in edges
        if flow.flow(arc) > 0
    ]


def _explain_shortfall(
    seed: str,
    slots: list[Slot],
    eligible: Mapping[tuple[str, str], Sequence[str]],
    limit: int,
    labels: Mapping[str, str],
) -> None:
    """Raise DrawError naming the entities the load limit leaves short, and why.

    Runs max-flow-min-cost, then walks the residual graph from the short slots:
    every inspector reached is at the load limit (else the flow could grow), so
    these entities compete for inspectors who are all used up.
    """
    flow = min_cost_flow.SimpleMinCostFlow()
    people = sorted({p for e, d, _ in slots for p in eligible[(e, d)]})
    person_node = {p: 2 + len(slots) + k for k, p in enumerate(people)}
    source_arcs = [
        flow.add_arc_with_capacity_and_unit_cost(0, 2 + k, size, 0)
        for k, (_, _, size) in enumerate(slots)
    ]
    arcs: list[tuple[int, int, str]] = []
    for k, (entity_id, department, _) in enumerate(slots):
        for person in sorted(set(eligible[(entity_id, department)])):
            cost = inspector_cost(seed, entity_id, person)
            arcs.append(
                (
                    k,
                    flow.add_arc_with_capacity_and_unit_cost(2 + k, person_node[person], 1, cost),
                    person,
                )
            )
    for person in people:
        flow.add_arc_with_capacity_and_unit_cost(person_node[person], 1, limit, 0)
    seats = sum(size for _, _, size in slots)
    flow.set_node_supply(0, seats)
    flow.set_node_supply(1, -seats)
    flow.solve_max_flow_with_min_cost()
    got = [flow.flow(arc) for arc in source_arcs]
    short = [k for k, (_, _, size) in enumerate(slots) if got[k] < size]
    forward: dict[int, list[str]] = defaultdict(list)  # slot -> people with spare arc
    backward: dict[str, list[int]] = defaultdict(list)  # person -> slots they serve
    for k, arc, person in arcs:
        if flow.flow(arc) > 0:
            backward[person].append(k)
        else:
            forward[k].append(person)
    reached_slots, reached_people = set(short), set()
    queue = deque(short)
    while queue:
        k = queue.popleft()
        for person in forward[k]:
            if person not in reached_people:
                reached_people.add(person)
                for other in backward[person]:
                    if other not in reached_slots:
                        reached_slots.add(other)
                        queue.append(other)
    department = slots[0][1]
    ids = sorted(slots[k][0] for k in short)
    groups = sorted({labels[i] for i in ids if i in labels})
    where = f"{'、'.join(groups)} 的 " if groups else ""
    where_en = f" in {', '.join(groups)}" if groups else ""
    missing = sum(slots[k][2] - got[k] for k in short)
    raise DrawError(
        f"无法配齐检查人员：{where}{len(ids)} 户主体（{_list_ids(ids)}）还差 {missing} 人次，"
        f"{department} 可派往这些主体的 {len(reached_people)} 名检查人员都已达到每人 {limit} 次"
        f"的负荷上限；请增加符合条件的人员或放宽负荷余量（slack）",
        f"cannot staff {len(ids)} entities{where_en} ({_list_ids(ids)}): {missing} inspector-visits "
        f"short; all {len(reached_people)} {department} inspectors who could go there are at the "
        f"load limit of {limit}; add eligible inspectors or allow a load slack",
    )


def assign_inspectors(
    seed: str,
    slots: Sequence[Slot],
    eligible: Mapping[tuple[str, str], Sequence[str]],
    *,
    slack: int = 0,
    load_limits: Mapping[str, int] | None = None,
    labels: Mapping[str, str] | None = None,
) -> Matching:
    """Match inspectors to drawn entities: the minimum-total-cost feasible assignment.

    ``slots`` lists (entity id, department, team size); ``eligible[(entity, department)]``
    the inspectors who may go (see ``eligible_inspectors``).  Each slot gets exactly
    its team size of distinct inspectors, each inspector at most its department's load
    limit (``compute_load_limits(slots, eligible, slack)`` unless given).  ``labels``
    optionally names each entity's group (e.g. "兴安盟(152200)") in error messages.

    Raises DrawError, naming the entities, when a visit has fewer than two people,
    a slot has too few eligible inspectors, or the load limits make staffing impossible.
    The limit is never raised silently: pass ``slack`` to allow more.
    """
    _check_input(seed, slots, eligible)
    names = dict(labels or {})
    _check_team_sizes(slots, eligible, names)
    limits = (
        dict(load_limits)
        if load_limits is not None
        else compute_load_limits(slots, eligible, slack)
    )
    chosen: list[Assignment] = []
    for group in _components(slots, eligible):
        department = group[0][1]
        if department not in limits:
            raise DrawError(
                f"{department} 没有负荷上限", f"no load limit given for department {department}"
            )
        chosen.extend(_solve_component(seed, group, eligible, limits[department], names))
    chosen.sort()
    return Matching(
        assignments=tuple(chosen),
        total_cost=sum(a.cost for a in chosen),
        load_limits=limits,
    )


def verify_assignment(
    seed: str,
    slots: Sequence[Slot],
    eligible: Mapping[tuple[str, str], Sequence[str]],
    load_limits: Mapping[str, int],
    assignments: Sequence[Assignment],
) -> str | None:
    """Recompute the matching; return None if ``assignments`` is the optimal one, else
    a bilingual message describing the first difference found.

    Checks every row's cost, eligibility, team sizes, distinct team members and load
    limits, then that the total cost equals the recomputed minimum.
    """
    try:
        expected = assign_inspectors(seed, slots, eligible, load_limits=load_limits)
    except DrawError as exc:
        return f"无法重新计算匹配 / cannot recompute the matching: {exc}"
    sizes = {(e, d): m for e, d, m in slots}
    teams: dict[tuple[str, str], list[str]] = defaultdict(list)
    loads: dict[tuple[str, str], int] = defaultdict(int)
    for row in sorted(assignments):
        key = (row.entity_id, row.department)
        if key not in sizes:
            return f"多余的分配 / unexpected assignment: {row}"
        if row.inspector_id not in eligible.get(key, ()):
            return f"检查人员不符合条件 / inspector not eligible: {row}"
        if row.cost != inspector_cost(seed, row.entity_id, row.inspector_id):
            return f"费用不符 / wrong cost: {row}"
        teams[key].append(row.inspector_id)
        loads[(row.department, row.inspector_id)] += 1
    for key, size in sorted(sizes.items()):
        team = teams.get(key, [])
        if len(team) != size or len(set(team)) != size:
            return (
                f"{key[0]} 的 {key[1]} 检查组应为 {size} 名不同人员，实为 {team} / "
                f"team for {key[0]} / {key[1]} should be {size} distinct inspectors, got {team}"
            )
    for (department, person), load in sorted(loads.items()):
        if load > load_limits.get(department, 0):
            return (
                f"{person} 承担 {load} 次，超过上限 {load_limits.get(department)} / "
                f"{person} has {load} visits, over the limit {load_limits.get(department)}"
            )
    total = sum(row.cost for row in assignments)
    if total != expected.total_cost:
        first = next(
            (a for a, b in zip(sorted(assignments), expected.assignments, strict=False) if a != b),
            None,
        )
        return (
            f"总费用 {total} 不是最小值 {expected.total_cost}，第一处不同：{first} / "
            f"total cost {total} is not the minimum {expected.total_cost}; first difference: {first}"
        )
    return None
