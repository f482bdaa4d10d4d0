"""Inspector matching: the OR-tools optimum equals an independent networkx optimum,
eligibility rules hold, infeasibility is explained with the entities named."""

from __future__ import annotations

import hashlib
import math
import time
from collections import Counter
from collections.abc import Mapping, Sequence

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supervision.draw.matching import (
    Assignment,
    InspectorRecord,
    Slot,
    assign_inspectors,
    compute_load_limits,
    eligible_inspectors,
    inspector_cost,
    verify_assignment,
)
from supervision.draw.sampling import DrawError

Eligible = dict[tuple[str, str], list[str]]


def networkx_solution(
    seed: str,
    slots: Sequence[Slot],
    eligible: Mapping[tuple[str, str], Sequence[str]],
    limits: Mapping[str, int],
) -> list[tuple[str, str, str]]:
    """A second, independent exact solver: networkx network simplex."""
    graph = nx.DiGraph()
    seats = sum(size for _, _, size in slots)
    graph.add_node("source", demand=-seats)
    graph.add_node("sink", demand=seats)
    for entity, department, size in slots:
        graph.add_edge("source", ("slot", entity, department), capacity=size, weight=0)
        for person in eligible[(entity, department)]:
            # The cost recomputed from its definition, not through the module.
            text = f"{seed}|{entity}|{person}".encode()
            cost = int(hashlib.sha256(text).hexdigest()[:10], 16)
            graph.add_edge(
                ("slot", entity, department), ("person", person), capacity=1, weight=cost
            )
            graph.add_edge(("person", person), "sink", capacity=limits[department], weight=0)
    flow = nx.min_cost_flow(graph)
    return sorted(
        (entity, department, target[1])
        for entity, department, _ in slots
        for target, amount in flow[("slot", entity, department)].items()
        if amount
    )


@st.composite
def instances(draw: st.DrawFn) -> tuple[str, list[Slot], Eligible, int]:
    departments = ["市场监督管理局", "消防救援支队", "卫生健康委"][: draw(st.integers(1, 3))]
    people = {d: [f"{d[:2]}{k:02d}" for k in range(draw(st.integers(2, 7)))] for d in departments}
    slots: list[Slot] = []
    eligible: Eligible = {}
    for e in range(draw(st.integers(1, 10))):
        entity = f"9115{e:013d}X"
        chosen = draw(st.lists(st.sampled_from(departments), min_size=1, unique=True))
        for department in chosen:
            size = 2 if len(chosen) == 1 else draw(st.integers(1, 2))
            pool = people[department]
            members = draw(st.lists(st.sampled_from(pool), min_size=size, unique=True))
            slots.append((entity, department, size))
            eligible[(entity, department)] = members
    slack = draw(st.integers(0, 2))
    return draw(st.text(min_size=1, max_size=20).filter(str.isprintable)), slots, eligible, slack


@settings(max_examples=150, deadline=None)
@given(instances())
def test_same_optimum_as_networkx(instance: tuple[str, list[Slot], Eligible, int]) -> None:
    seed, slots, eligible, slack = instance
    limits = compute_load_limits(slots, eligible, slack)
    try:
        matching = assign_inspectors(seed, slots, eligible, slack=slack)
    except DrawError as error:
        # Then networkx must find no feasible flow either.
        with pytest.raises(nx.NetworkXUnfeasible):
            networkx_solution(seed, slots, eligible, limits)
        assert "cannot staff" in error.en
        return
    got = [(a.entity_id, a.department, a.inspector_id) for a in matching.assignments]
    assert got == networkx_solution(seed, slots, eligible, limits)
    assert matching.load_limits == limits
    assert matching.total_cost == sum(a.cost for a in matching.assignments)
    assert list(matching.assignments) == sorted(matching.assignments)
    # Exact, distinct teams; loads within limits.
    teams = Counter((a.entity_id, a.department) for a in matching.assignments)
    assert teams == {(e, d): m for e, d, m in slots}
    assert len(set(got)) == len(got)
    loads = Counter((a.department, a.inspector_id) for a in matching.assignments)
    assert all(load <= limits[d] for (d, _), load in loads.items())
    assert verify_assignment(seed, slots, eligible, limits, matching.assignments) is None


def test_deterministic_and_seed_dependent() -> None:
    slots: list[Slot] = [(f"E{i}", "局", 2) for i in range(30)]
    eligible: Eligible = {(f"E{i}", "局"): [f"P{k}" for k in range(10)] for i in range(30)}
    a = assign_inspectors("seed-1", slots, eligible)
    assert a == assign_inspectors("seed-1", list(reversed(slots)), eligible)
    assert a != assign_inspectors("seed-2", slots, eligible)
    assert a.load_limits == {"局": 6}


def test_cost_definition() -> None:
    digest = hashlib.sha256(b"s|E|P").hexdigest()
    assert inspector_cost("s", "E", "P") == int(digest[:10], 16)
    assert 0 <= inspector_cost("骰子", "9115", "甲") < 2**40


# ----------------------------------------------------------------------------
# Eligibility from directory records


def inspector(
    cert: str,
    department: str = "市场监督管理局",
    region: str = "152201",
    quals: frozenset[str] = frozenset({"JY-01", "JY-02"}),
    status: str = "在岗",
    active: bool = True,
) -> InspectorRecord:
    return {
        "cert_no": cert,
        "department": department,
        "region_code": region,
        "qualifications": quals,
        "status": status,
        "active": active,
    }


def test_eligible_inspectors_rules() -> None:
    entity = {"uscc": "91152201MA0000001X", "region_code": "152201"}
    people = [
        inspector("ok-same-county"),
        inspector("ok-same-prefecture", region="152202"),
        inspector("other-prefecture", region="150102"),
        inspector("retired", status="退休"),
        inspector("inactive", active=False),
        inspector("unqualified", quals=frozenset({"JY-01"})),
        inspector("conflicted"),
        inspector("inspected-before"),
        inspector("fire", department="消防救援支队"),
    ]
    items = {"市场监督管理局": ["JY-01", "JY-02"]}
    conflicts = {("conflicted", "91152201MA0000001X")}
    previous = {("91152201MA0000001X", "JY-02"): {"inspected-before"}}
    result = eligible_inspectors(entity, people, items, conflicts, previous)  # type: ignore[arg-type]
    assert result == {"市场监督管理局": ["ok-same-county", "ok-same-prefecture"]}
    county = eligible_inspectors(
        entity,
        people,
        items,
        conflicts,
        previous,  # type: ignore[arg-type]
        region_rule="county",
    )
    assert county == {"市场监督管理局": ["ok-same-county"]}
    anywhere = eligible_inspectors(
        entity,
        people,
        items,
        conflicts,
        previous,  # type: ignore[arg-type]
        region_rule="any",
        exclude_previous=False,
    )
    assert anywhere == {
        "市场监督管理局": [
            "inspected-before",
            "ok-same-county",
            "ok-same-prefecture",
            "other-prefecture",
        ]
    }
    with pytest.raises(DrawError):
        eligible_inspectors(entity, people, items, region_rule="city")  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_never_assigns_an_ineligible_inspector(data: st.DataObject) -> None:
    regions = ["152201", "152202", "150102"]
    people: list[InspectorRecord] = [
        inspector(
            f"C{k:03d}",
            region=data.draw(st.sampled_from(regions)),
            quals=frozenset(data.draw(st.sets(st.sampled_from(["JY-01", "JY-02"])))),
            status=data.draw(st.sampled_from(["在岗", "在岗", "调离"])),
            active=data.draw(st.booleans()) or data.draw(st.booleans()),
        )
        for k in range(data.draw(st.integers(4, 25)))
    ]
    entities = [
        {"uscc": f"9115{k:013d}X", "region_code": data.draw(st.sampled_from(regions))}
        for k in range(data.draw(st.integers(1, 8)))
    ]
    conflicts = set(
        data.draw(
            st.sets(
                st.tuples(
                    st.sampled_from([p["cert_no"] for p in people]),
                    st.sampled_from([e["uscc"] for e in entities]),
                )
            )
        )
    )
    items = {"市场监督管理局": ["JY-01"]}
    slots: list[Slot] = []
    eligible: Eligible = {}
    for entity in entities:
        found = eligible_inspectors(entity, people, items, conflicts)  # type: ignore[arg-type]
        slots.append((entity["uscc"], "市场监督管理局", 2))
        eligible[(entity["uscc"], "市场监督管理局")] = found["市场监督管理局"]
    try:
        matching = assign_inspectors("s", slots, eligible, slack=data.draw(st.integers(0, 3)))
    except DrawError as error:
        assert any(e["uscc"] in error.en and e["uscc"] in error.zh for e in entities)
        return
    by_cert = {p["cert_no"]: p for p in people}
    by_uscc = {e["uscc"]: e for e in entities}
    for a in matching.assignments:
        person, entity = by_cert[a.inspector_id], by_uscc[a.entity_id]
        assert person["status"] == "在岗" and person["active"]
        assert "JY-01" in person["qualifications"]
        assert person["region_code"][:4] == entity["region_code"][:4]
        assert (a.inspector_id, a.entity_id) not in conflicts


# ----------------------------------------------------------------------------
# Infeasible input


def test_too_few_eligible_names_the_entities_and_group() -> None:
    slots: list[Slot] = [(f"91152200{i:09d}X", "市场监督管理局", 2) for i in range(3)]
    slots.append(("91150100000000001X", "市场监督管理局", 2))
    eligible: Eligible = {(e, d): ["P1"] for e, d, _ in slots[:3]}
    eligible[("91150100000000001X", "市场监督管理局")] = ["P2", "P3"]
    labels = {e: "兴安盟(152200)" for e, _, _ in slots[:3]}
    with pytest.raises(DrawError) as caught:
        assign_inspectors("s", slots, eligible, labels=labels)
    error = caught.value
    assert (
        "兴安盟(152200) 的 3 户主体：市场监督管理局 只有 1 名符合条件的检查人员，需要 2 名"
        in error.zh
    )
    assert "only 1 eligible inspector(s), 2 needed" in error.en
    for entity, _, _ in slots[:3]:
        assert entity in error.zh and entity in error.en
    assert "91150100000000001X" not in error.en


def test_load_limit_shortfall_is_explained_not_silently_relaxed() -> None:
    # Region R1: 5 entities × 2 seats, 2 inspectors; region R2: 1 entity, 8 inspectors.
    # Limit = ceil(12 / 10) = 2, so R1's two inspectors can cover only 4 of 10 seats.
    slots: list[Slot] = [(f"R1-{i}", "局", 2) for i in range(5)] + [("R2-0", "局", 2)]
    eligible: Eligible = {(f"R1-{i}", "局"): ["A1", "A2"] for i in range(5)}
    eligible[("R2-0", "局")] = [f"B{k}" for k in range(8)]
    with pytest.raises(DrawError) as caught:
        assign_inspectors("s", slots, eligible, labels={f"R1-{i}": "R1" for i in range(5)})
    error = caught.value
    assert "load limit of 2" in error.en and "负荷上限" in error.zh
    assert "R1" in error.en and "6 inspector-visits short" in error.en
    assert "R2-0" not in error.en
    matching = assign_inspectors("s", slots, eligible, slack=3)
    assert matching.load_limits == {"局": 5}
    assert len(matching.assignments) == 12


@pytest.mark.parametrize(
    ("slots", "eligible", "needle"),
    [
        ([("E1", "局", 1)], {("E1", "局"): ["P1", "P2"]}, "at least 2 inspectors"),
        ([("E1", "局", 0)], {}, "positive integer"),
        ([("E1", "局", 2), ("E1", "局", 2)], {("E1", "局"): ["P1", "P2"]}, "appears twice"),
        ([], {}, "no entities"),
        (
            [("E1", "甲", 1), ("E1", "乙", 1)],
            {("E1", "甲"): ["P1"], ("E1", "乙"): ["P1"]},
            "two departments",
        ),
    ],
)
def test_bad_slots(slots: list[Slot], eligible: Eligible, needle: str) -> None:
    with pytest.raises(DrawError) as caught:
        assign_inspectors("s", slots, eligible)
    assert needle in caught.value.en
    assert caught.value.zh


def test_joint_visit_of_two_departments_counts_both() -> None:
    slots: list[Slot] = [("E1", "甲", 1), ("E1", "乙", 1)]
    eligible: Eligible = {("E1", "甲"): ["P1", "P2"], ("E1", "乙"): ["Q1"]}
    matching = assign_inspectors("s", slots, eligible)
    assert len(matching.assignments) == 2


# ----------------------------------------------------------------------------
# Verification


def test_verify_detects_tampering() -> None:
    slots: list[Slot] = [(f"E{i}", "局", 2) for i in range(8)]
    eligible: Eligible = {(f"E{i}", "局"): [f"P{k}" for k in range(6)] for i in range(8)}
    matching = assign_inspectors("seed", slots, eligible, slack=1)
    limits = matching.load_limits
    rows = list(matching.assignments)
    assert verify_assignment("seed", slots, eligible, limits, rows) is None
    # Swap one inspector for another eligible one: feasible but not optimal (or over limit).
    first = rows[0]
    team = {a.inspector_id for a in rows if a.entity_id == first.entity_id}
    spare = next(p for p in eligible[(first.entity_id, "局")] if p not in team)
    tampered = [
        Assignment(first.entity_id, "局", spare, inspector_cost("seed", first.entity_id, spare)),
        *rows[1:],
    ]
    problem = verify_assignment("seed", slots, eligible, limits, tampered)
    assert problem is not None and ("not the minimum" in problem or "over the limit" in problem)
    wrong_cost = [Assignment(first.entity_id, "局", first.inspector_id, first.cost + 1), *rows[1:]]
    assert "wrong cost" in (verify_assignment("seed", slots, eligible, limits, wrong_cost) or "")
    assert "should be 2" in (verify_assignment("seed", slots, eligible, limits, rows[1:]) or "")
    stranger = [
        Assignment(first.entity_id, "局", "X", inspector_cost("seed", first.entity_id, "X")),
        *rows[1:],
    ]
    assert "not eligible" in (verify_assignment("seed", slots, eligible, limits, stranger) or "")
    assert verify_assignment("other seed", slots, eligible, limits, rows) is not None


# ----------------------------------------------------------------------------
# Speed


def test_ten_thousand_entities_under_ten_seconds() -> None:
    regions = [f"15{k:02d}00" for k in range(12)]
    people = {
        region: [f"C{region}{k:03d}" for k in range(500 // 12 + (k < 500 % 12))]
        for k, region in enumerate(regions)
    }
    slots: list[Slot] = []
    eligible: Eligible = {}
    for i in range(10_000):
        region = regions[i % 12]
        entity = f"91{region}{i:09d}X"
        slots.append((entity, "市场监督管理局", 2))
        eligible[(entity, "市场监督管理局")] = people[region]
    start = time.perf_counter()
    matching = assign_inspectors("bench", slots, eligible, slack=1)
    elapsed = time.perf_counter() - start
    assert len(matching.assignments) == 20_000
    assert elapsed < 10, elapsed
    assert matching.load_limits == {"市场监督管理局": math.ceil(20_000 / 500) + 1}
