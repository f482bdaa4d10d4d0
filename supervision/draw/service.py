"""The draw of a committed task, at the database edge: picks, eligibility, matching, records.

The sampling and matching maths live in supervision.draw.sampling and supervision.draw.matching
(no I/O); this module reads the frozen population and the directories, calls them, and
appends the results in one transaction. What a drawn task publishes is in
``draw.publication``, its fairness report in ``draw.fairness``; ``draw.verify`` recomputes a
stored draw.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from supervision import clock, trail
from supervision.canonical import canonical_json
from supervision.db.bulk import append_rows
from supervision.draw import beacon
from supervision.draw.matching import (
    REGION_PREFIX,
    InspectorRecord,
    assign_inspectors,
    eligible_inspectors,
)
from supervision.draw.matching import (
    Assignment as Match,
)
from supervision.draw.parallel import draw_in_processes
from supervision.draw.population import (
    STREAM_ROWS,
    committed_population,
    consume_marks,
    pseudonym_owners,
)
from supervision.draw.sampling import DrawError, Pick
from supervision.draw.seeding import claim, require_committed, seed_of
from supervision.draw.tasks import get_task, sha256_hex
from supervision.models import (
    Assignment,
    ComplianceRecord,
    Conflict,
    DrawPick,
    Inspector,
    Task,
    TaskEligibility,
    TaskEligibleInspector,
    TaskPopulation,
    TaskStatus,
    TaskStratum,
)
from supervision.reference.regions import prefecture_of, region_name
from supervision.reference.vocab import InspectorStatus, RecordKind

Slot = tuple[str, str]  # (uscc, department)


def stratum_ratios(session: Session, *, code: str) -> dict[str, Decimal]:
    return {
        s.stratum: Decimal(s.ratio)
        for s in session.exec(select(TaskStratum).where(TaskStratum.task_code == code))
    }


def draw_task(
    session: Session,
    *,
    code: str,
    seed: str | None = None,
    proof: beacon.BeaconRound | None = None,
    workers: int = 2,
    actor: str | None = None,
) -> dict[str, Any]:
    """Draw a committed task: entities, then inspectors; all or nothing.

    A typed task is drawn with ``seed``, an entered seed (``entered_seed``: taken verbatim,
    no whitespace at either end); a beacon task only with ``proof``, the committed drand
    round, whose signature is verified before anything is drawn (its randomness is the
    seed). Refuses a task that is not committed (a drawn task is never drawn again: a redraw
    means cancelling it with a reason and creating a new task).

    A task is drawn once, whatever the door (CLI, console, API, scheduler) and however many
    draws race: the draw's first write (after the picks and the matching are computed, so
    an error there writes nothing) claims the task with a conditional update
    (committed → drawn) in the draw's own transaction. On PostgreSQL the update takes the
    row lock, so a second draw waits for the first and then finds the task no longer
    committed; on SQLite the update takes the database's write lock, with the same effect.
    The loser gets ``AlreadyDrawn`` and writes nothing.
    """
    task = get_task(session, code=code)
    require_committed(task)
    entered = clock.now()
    seed = seed_of(task, seed=seed, proof=proof, now=entered)
    population = committed_population(session, code=code)
    ratios = stratum_ratios(session, code=code)
    picks = owned_picks(
        draw_in_processes(seed, population, ratios, workers=workers),
        pseudonym_owners(session, code=code),
    )
    regions = population_regions(session, code=code)
    eligible, labels = _eligibility(session, task, [p.id for p in picks], regions)
    slots = [(p.id, d, task.members[d]) for p in picks for d in task.departments]
    matches, _ = match_inspectors(
        seed,
        slots,
        eligible,
        matching_groups(task, regions),
        base_slack=task.load_slack,
        labels=labels,
    )
    total = sum(m.cost for m in matches)
    claim(session, code=code)  # the first write: nothing is written before it
    _append_records(session, code, picks, eligible, matches)
    task.seed = seed
    task.seed_entered_at = entered
    task.beacon_signature = proof.signature if proof is not None else None
    task.drawn_at = clock.now()
    task.algorithm = task.algorithm or _algorithm(task)
    task.total_cost = total
    task.status = TaskStatus.DRAWN
    session.add(task)
    session.flush()
    consumed = consume_marks(session, task=task, picked=[p.id for p in picks], at=task.drawn_at)
    _record_draw(session, task, seed, picks, matches, entered=entered, actor=actor,
                 consumed=consumed)  # fmt: skip
    counts = Counter(p.stratum for p in picks)
    return {
        "task": code,
        "seed": seed,
        "seed_kind": task.seed_kind,
        **({"beacon": proof.to_dict()} if proof is not None else {}),
        "picked": len(picks),
        "assignments": len(matches),
        "total_cost": total,
        "strata": [
            {
                "stratum": name,
                "size": len(ids),
                "picked": counts.get(name, 0),
                "ratio": str(ratios[name]),
            }
            for name, ids in population.items()
        ],
    }


def _record_draw(
    session: Session,
    task: Task,
    seed: str,
    picks: list[Pick],
    matches: list[Match],
    *,
    entered: datetime,
    actor: str | None,
    consumed: int = 0,
) -> None:
    """The seed and the draw on the audit trail, with digests of the selection and matching
    (and, for a task built from marks, how many marks the draw consumed)."""
    code = task.code
    seed_payload: dict[str, Any] = {"seed": seed, "entered_at": entered.isoformat()}
    if task.beacon_signature is not None:
        seed_payload["beacon"] = {
            "chain_hash": beacon.CHAIN_HASH,
            "round": task.beacon_round,
            "signature": task.beacon_signature,
        }
    trail.record(
        session,
        action="task.seed",
        obj=f"task:{code}",
        payload=seed_payload,
        actor=actor,
    )
    trail.record(
        session,
        action="task.draw",
        obj=f"task:{code}",
        payload={
            "parameters_digest": task.parameters_digest,
            "population_digest": task.population_digest,
            "seed": seed,
            "picked": len(picks),
            "assignments": len(matches),
            "total_cost": task.total_cost,
            "selection_digest": sha256_hex(
                canonical_json(sorted([p.stratum, p.id, p.ticket] for p in picks))
            ),
            "assignment_digest": sha256_hex(
                canonical_json(sorted([m.entity_id, m.department, m.inspector_id] for m in matches))
            ),
        }
        | ({"marks_consumed": consumed} if consumed else {}),
        actor=actor,
    )


def matching_groups(task: Task, regions: Mapping[str, str]) -> dict[str, str]:
    """Matching group of each entity: its region at the task's region rule's precision.

    Inspectors only go to entities of their own region (unless the rule is 'any'), so each
    (department, region) is staffed separately and its load limit is its own fair share.
    """
    digits = REGION_PREFIX[task.region_rule]
    return {uscc: (region[:digits] if digits else "*") for uscc, region in regions.items()}


def population_regions(session: Session, *, code: str) -> dict[str, str]:
    """Each committed entity's region code, as frozen at commit."""
    return dict(
        session.exec(
            select(TaskPopulation.uscc, TaskPopulation.region_code).where(
                TaskPopulation.task_code == code
            )
        ).all()
    )


def match_inspectors(
    seed: str,
    slots: list[tuple[str, str, int]],
    eligible: Mapping[Slot, list[str]],
    group_of: Mapping[str, str],
    *,
    base_slack: int = 0,
    labels: Mapping[str, str] | None = None,
) -> tuple[list[Match], dict[str, int]]:
    """Staff every slot: the min-cost assignment per region group (all departments at once).

    In each group a department's load limit is ceil(its seats / its eligible inspectors)
    + slack, where the
    slack is `base_slack` if that is feasible, else the smallest larger value that is
    (found by bisection; deterministic, so a verifier finds the same). A group that no
    load limit can staff (too few eligible inspectors) is an error naming its entities.
    Returns the assignments and the slack used per group.
    """
    grouped: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for slot in slots:
        grouped[group_of[slot[0]]].append(slot)
    matches: list[Match] = []
    slack_used: dict[str, int] = {}
    for group, group_slots in sorted(grouped.items()):
        seats: Counter[str] = Counter()
        people: dict[str, set[str]] = defaultdict(set)
        for entity_id, department, size in group_slots:
            seats[department] += size
            people[department].update(eligible.get((entity_id, department), ()))
        fair = {d: math.ceil(n / max(1, len(people[d]))) for d, n in seats.items()}

        def solve(
            slack: int,
            group_slots: list[tuple[str, str, int]] = group_slots,
            fair: dict[str, int] = fair,
        ) -> list[Match]:
            limits = {d: share + slack for d, share in fair.items()}
            result = assign_inspectors(
                seed, group_slots, eligible, load_limits=limits, labels=labels
            )
            return list(result.assignments)

        try:
            found, used = solve(base_slack), base_slack
        except DrawError:
            ceiling = max(base_slack, max(seats.values()))  # the limit no longer binds
            solve(ceiling)  # raises, naming the entities, when no load limit can staff them
            low, high = base_slack, ceiling  # infeasible at low, feasible at high
            while high - low > 1:
                middle = (low + high) // 2
                try:
                    solve(middle)
                    high = middle
                except DrawError:
                    low = middle
            found, used = solve(high), high
        matches.extend(found)
        slack_used[group] = used
    return sorted(matches), slack_used


def _algorithm(task: Task) -> str:
    return str(json.loads(task.parameters_json or "{}").get("algorithm", ""))


def _eligibility(
    session: Session, task: Task, picked: list[str], regions: Mapping[str, str]
) -> tuple[dict[Slot, list[str]], dict[str, str]]:
    """Eligible inspectors per (entity, department), from the directories as they are now.

    Also returns a label per entity (its prefecture) for error messages.
    """
    digits = REGION_PREFIX[task.region_rule]
    by_region: dict[str, list[InspectorRecord]] = defaultdict(list)
    for i in session.exec(
        select(Inspector).where(col(Inspector.department_code).in_(task.departments))
    ):
        record: InspectorRecord = {
            "cert_no": i.cert_no,
            "department": i.department_code,
            "region_code": i.region_code,
            "qualifications": frozenset(i.qualifications),
            "status": i.status,
            "active": i.status == InspectorStatus.ACTIVE.value,
        }
        by_region[i.region_code[:digits]].append(record)
    picked_set = set(picked)
    # A conflict counts if it holds on any day of the task's period (open ends: always).
    # Read as columns, streamed: the province's declarations, of which few concern the picks.
    declared = session.exec(
        select(
            Conflict.inspector_cert_no,
            Conflict.uscc,
            col(Conflict.starts_on),
            col(Conflict.ends_on),
        ).execution_options(yield_per=STREAM_ROWS)
    )
    conflicts = {
        (cert_no, uscc)
        for cert_no, uscc, starts_on, ends_on in declared
        if uscc in picked_set
        and (ends_on is None or ends_on >= task.period_start)
        and (starts_on is None or starts_on <= task.period_end)
    }
    items_by_department: dict[str, list[str]] = defaultdict(list)
    for item in task.items:
        items_by_department[item["department_code"]].append(item["code"])
    previous = (
        _previous_inspectors(session, task, picked_set) if task.exclude_previous_inspector else {}
    )
    eligible: dict[Slot, list[str]] = {}
    labels: dict[str, str] = {}
    for uscc in picked:
        region = regions[uscc]
        per_department = eligible_inspectors(
            {"uscc": uscc, "region_code": region},
            by_region.get(region[:digits], []),  # only same-region inspectors can qualify
            items_by_department,
            conflicts,
            previous,
            region_rule=task.region_rule,  # type: ignore[arg-type]
            exclude_previous=task.exclude_previous_inspector,
        )
        for department, certs in per_department.items():
            eligible[(uscc, department)] = certs
        prefecture = prefecture_of(region)
        labels[uscc] = f"{region_name(prefecture)}({prefecture})"
    return eligible, labels


def _previous_inspectors(
    session: Session, task: Task, picked: set[str]
) -> dict[tuple[str, str], set[str]]:
    """Who inspected each drawn entity for each of the task's items before."""
    items = {i["code"] for i in task.items}
    previous: dict[tuple[str, str], set[str]] = defaultdict(set)
    # Streamed: every inspection result of the province, of which few concern the picks.
    for uscc, payload in session.exec(
        select(ComplianceRecord.uscc, ComplianceRecord.payload)
        .where(ComplianceRecord.kind == RecordKind.INSPECTION_RESULT.value)
        .execution_options(yield_per=STREAM_ROWS)
    ):
        if uscc in picked and payload.get("item_code") in items:
            previous[(uscc, payload["item_code"])].update(payload.get("inspectors") or [])
    for uscc, cert_no, other_items in session.exec(
        select(Assignment.uscc, Assignment.cert_no, Task.items)
        .join(Task, col(Task.code) == Assignment.task_code)
        .where(Task.code != task.code, Task.status != TaskStatus.CANCELLED)
        .execution_options(yield_per=STREAM_ROWS)
    ):
        if uscc in picked:
            for item in other_items:
                if item["code"] in items:
                    previous[(uscc, item["code"])].add(cert_no)
    return previous


def _append_records(
    session: Session,
    code: str,
    picks: list[Pick],
    eligible: Mapping[Slot, list[str]],
    matches: list[Match],
) -> None:
    """Write the draw's picks, eligibility (with its eligible inspectors per department) and
    assignments, by ``append_rows`` (COPY on PostgreSQL).

    Rows are made as they are written: the eligibility has a row per (entity, department,
    inspector), millions for a province's task (as a list of dicts at once it was most of
    the draw's memory). Each table's rows go in its primary key's order: the eligibility's
    key index outgrows the database's buffers at a province's size, and rows in drawn
    (random) order would put each insert on a random leaf page of it."""
    pick_rows = (
        (code, p.id, p.stratum, p.ticket, p.rank) for p in sorted(picks, key=lambda p: p.id)
    )
    eligibility_rows = (
        (code, uscc, dept, cert)
        for (uscc, dept) in sorted(eligible)
        for cert in sorted(eligible[(uscc, dept)])
    )
    # The eligibility summed up: who is eligible somewhere, per department (fairness report).
    inspector_rows = (
        (code, dept, cert)
        for dept, cert in sorted(
            {(dept, cert) for (_, dept), certs in eligible.items() for cert in certs}
        )
    )
    assignment_rows = (  # Match orders by (entity, department, inspector, cost): the key's
        (code, m.entity_id, m.department, m.inspector_id, m.cost) for m in sorted(matches)
    )
    key = ("task_code", "uscc", "department_code", "cert_no")
    tables: list[tuple[Any, tuple[str, ...], Iterator[tuple[Any, ...]]]] = [
        (DrawPick, ("task_code", "uscc", "stratum", "ticket", "rank"), pick_rows),
        (TaskEligibility, key, eligibility_rows),
        (TaskEligibleInspector, ("task_code", "department_code", "cert_no"), inspector_rows),
        (Assignment, (*key, "cost"), assignment_rows),
    ]
    conn = session.connection()
    for model, columns, rows in tables:
        append_rows(conn, model.__table__, columns, rows)


# --------------------------------------------------------------------------- stored draw
def owned_picks(picks: list[Pick], owners: Mapping[str, tuple[str, str]]) -> list[Pick]:
    """Picks drawn over pseudonyms with their USCCs as ids (unchanged for a full task)."""
    return [
        Pick(stratum=p.stratum, id=owners[p.id][0], ticket=p.ticket, rank=p.rank)
        if p.id in owners
        else p
        for p in picks
    ]


def stored_picks(session: Session, *, code: str) -> list[Pick]:
    """The picks recorded for a drawn task."""
    return [
        Pick(stratum=p.stratum, id=p.uscc, ticket=p.ticket, rank=p.rank)
        for p in session.exec(select(DrawPick).where(DrawPick.task_code == code))
    ]


def stored_eligibility(session: Session, *, code: str) -> dict[Slot, list[str]]:
    """The eligibility recorded at the draw: cert numbers per (entity, department)."""
    eligible: dict[Slot, list[str]] = defaultdict(list)
    rows = session.exec(  # columns, not ORM objects: a row per (entity, department, inspector)
        select(TaskEligibility.uscc, TaskEligibility.department_code, TaskEligibility.cert_no)
        .where(TaskEligibility.task_code == code)
        .execution_options(yield_per=STREAM_ROWS)
    )
    for uscc, department, cert_no in rows:
        eligible[(uscc, department)].append(cert_no)
    return {slot: sorted(certs) for slot, certs in eligible.items()}
