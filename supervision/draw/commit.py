"""The commitment of a task: its population and parameters frozen with SHA-256 digests
before any seed exists (creation and the draft's life: ``draw.tasks``; the draw:
``draw.service``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from supervision import clock, trail
from supervision.canonical import canonical_json
from supervision.draw import beacon
from supervision.draw.export import DISCLOSURES, PSEUDONYMOUS, population_digest, pseudonym
from supervision.draw.population import (
    Population,
    TargetFilter,
    compute_population,
    exclusion_label,
    yearly_cap,
)
from supervision.draw.scope import scope_problems
from supervision.draw.tasks import ALGORITHM, get_task, sha256_hex
from supervision.errors import SupervisionError, ValidationFailed
from supervision.models import Task, TaskPopulation, TaskStatus, TaskStratum
from supervision.models.items import InspectionItem
from supervision.models.scheduling import TaskSchedule
from supervision.reference.vocab import ItemKind
from supervision.settings import settings

__all__ = ["commit_task"]


#: Population rows written per INSERT (executemany) when a task is committed.
POPULATION_BATCH = 20_000


def commit_task(
    session: Session,
    *,
    code: str,
    as_of: date | None = None,
    seed: str | None = None,
    draw_at: datetime | None = None,
    disclosure: str | None = None,
    salt_source: Callable[[], str] | None = None,
    actor: str | None = None,
) -> Task:
    """Freeze population and parameters with their digests; refuses anything but a draft.

    ``disclosure`` ("pseudonymous", the default, or "full") overrides the task's choice. A
    pseudonymous task gives every entity a secret random salt (128 bits from ``secrets``);
    its population files, and the digests committed here, list the pseudonyms
    SHA-256(salt ":" USCC) instead of the USCCs, and the draw runs over the pseudonyms.
    ``salt_source`` replaces ``secrets`` only for the reproducible demo province.

    ``seed`` ("typed" or "beacon") overrides the kind chosen at creation. A beacon task
    names the drand round of its planned draw time (``draw_at``, else its schedule's draw
    time); the round must lie at least $SUPERVISION_BEACON_MARGIN seconds after the commit,
    and it is part of the committed parameters and of their digest.
    """
    task = get_task(session, code=code)
    if task.status != TaskStatus.DRAFT:
        raise SupervisionError(
            f"任务 {code} 状态为{TaskStatus.ZH[task.status]}，只有草稿可以锁定",
            f"task {code} is {task.status}; only a draft can be committed",
        )
    moment = clock.now()
    kind = _seed_kind(session, code=code, kind=seed or task.seed_kind)
    shown = disclosure or task.disclosure
    if shown not in DISCLOSURES:
        raise SupervisionError(
            f"公开方式应为 {' 或 '.join(DISCLOSURES)}：{shown}",
            f"the disclosure is {' or '.join(DISCLOSURES)}, got {shown}",
        )
    task.disclosure = shown
    task.seed_kind = kind
    task.beacon_round = (
        _committed_round(session, code=code, draw_at=draw_at, moment=moment)
        if kind == beacon.KIND_BEACON
        else None
    )
    _require_key_item_ratios(session, task=task)
    population = _task_population(session, task=task, as_of=as_of or clock.today())
    salts: dict[str, str] = {}
    if shown == PSEUDONYMOUS:
        fresh = salt_source or (lambda: secrets.token_hex(16))
        salts = {u: fresh() for ids in population.strata.values() for u in sorted(ids)}
    strata_info = _strata_info(task, population, salts)
    _freeze(session, task=task, population=population, strata_info=strata_info, moment=moment)
    _store_population(session, code, population, strata_info, salts)
    trail.record(
        session,
        action="task.commit",
        obj=f"task:{code}",
        payload={
            "parameters_digest": task.parameters_digest,
            "population_digest": task.population_digest,
            "population_size": task.population_size,
        }
        | ({"beacon_round": task.beacon_round} if task.beacon_round is not None else {}),
        actor=actor,
    )
    return task


def _seed_kind(session: Session, *, code: str, kind: str) -> str:
    """The kind of seed a commit locks, checked against the kinds and the task's schedule."""
    if kind not in beacon.SEED_KINDS:
        raise SupervisionError(
            f"随机种子类型应为 {' 或 '.join(beacon.SEED_KINDS)}：{kind}",
            f"the kind of seed is {' or '.join(beacon.SEED_KINDS)}, got {kind}",
        )
    schedule = session.get(TaskSchedule, code)
    if schedule is not None and (schedule.seed_source == beacon.KIND_BEACON) != (
        kind == beacon.KIND_BEACON
    ):
        raise SupervisionError(
            f"任务 {code} 的排程种子来源为 {schedule.seed_source}，与锁定的种子类型 {kind} 不符；"
            "请先用 supervision schedule set 改排程",
            f"task {code} is scheduled with seed source {schedule.seed_source}, which does not "
            f"fit a {kind} seed; change the schedule first (supervision schedule set)",
        )
    return kind


def _require_key_item_ratios(session: Session, *, task: Task) -> None:
    """A task with a key item (重点检查事项) samples every risk class at least at
    $SUPERVISION_KEY_ITEM_MIN_RATIO; otherwise ValidationFailed naming each item and class."""
    minimum = settings().key_item_min_ratio
    if minimum is None:
        return
    key_items = []
    for spec in task.items:
        item = session.get(InspectionItem, (spec["code"], int(spec["version"])))
        if item is not None and item.kind == ItemKind.KEY.value:
            key_items.append(item.code)
    low = {c: r for c, r in sorted(task.ratios.items()) if Decimal(str(r)) < minimum}
    if not key_items or not low:
        return
    shown = f"{minimum.normalize():f}"
    raise ValidationFailed(
        f"任务 {task.code} 含重点检查事项 {'、'.join(key_items)}，抽查比例不得低于 {shown}",
        f"task {task.code} has key item(s) {', '.join(key_items)}; no ratio may be below {shown}",
        details=[
            f"风险类别 {c} 的比例 {r} 低于重点事项的最低比例 {shown}"
            f"（SUPERVISION_KEY_ITEM_MIN_RATIO）/ the ratio {r} of risk class {c} is below "
            f"the key items' minimum {shown} (SUPERVISION_KEY_ITEM_MIN_RATIO)"
            for c, r in low.items()
        ],
    )


def _task_population(session: Session, *, task: Task, as_of: date) -> Population:
    """The population a commit freezes: the filter must stay in the items' scope and match."""
    code = task.code
    target = TargetFilter.model_validate(task.target)
    outside = scope_problems(
        task.items, entity_types=target.entity_types, industries=target.industries
    )
    if outside:
        raise ValidationFailed(
            f"任务 {code} 的筛选条件超出其检查事项的检查对象范围",
            f"task {code}'s filter reaches outside the scope of its items",
            details=outside,
        )
    population = compute_population(session, task=task, as_of=as_of)
    if population.size == 0:
        reasons = "; ".join(f"{exclusion_label(r)}: {n}" for r, n in population.exclusions.items())
        raise SupervisionError(
            f"任务 {code} 的抽查对象为空（筛选后没有存续主体）{('：' + reasons) if reasons else ''}",
            f"task {code} has an empty population (no active entity matches the filter)",
        )
    return population


def _strata_info(
    task: Task, population: Population, salts: Mapping[str, str]
) -> dict[str, dict[str, Any]]:
    """Each stratum's size, population digest (over pseudonyms when salted) and ratio."""
    return {
        name: {
            "size": len(ids),
            "digest": population_digest([pseudonym(salts[u], u) for u in ids] if salts else ids),
            "ratio": task.ratios[name.split("-")[0]],
        }
        for name, ids in population.strata.items()
    }


def _freeze(
    session: Session,
    *,
    task: Task,
    population: Population,
    strata_info: dict[str, dict[str, Any]],
    moment: datetime,
) -> None:
    """Write the committed parameters and digests onto the task and mark it committed."""
    parameters_bytes = canonical_json(_parameters(task, population, strata_info, moment))
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


def _committed_round(
    session: Session, *, code: str, draw_at: datetime | None, moment: datetime
) -> int:
    """The beacon round a task commits to: the round of its planned draw time."""
    from supervision.settings import settings

    if draw_at is None:
        schedule = session.get(TaskSchedule, code)
        draw_at = clock.as_utc(schedule.draw_at) if schedule is not None else None
    if draw_at is None:
        raise SupervisionError(
            f"任务 {code} 以 drand 信标为种子，锁定时须给出计划抽取时间（--draw-at 或排程）",
            f"task {code} takes its seed from the drand beacon: the commit needs the planned "
            "draw time (--draw-at, or a schedule)",
        )
    number = beacon.round_at(draw_at)
    margin = settings().beacon_margin
    earliest = moment + timedelta(seconds=margin)
    if beacon.round_time(number) < earliest:
        raise SupervisionError(
            f"抽取时间 {clock.local(draw_at):%Y-%m-%d %H:%M:%S} 对应的 drand 第 {number} 轮"
            f"须至少在锁定后 {margin} 秒（{clock.local(earliest):%Y-%m-%d %H:%M:%S} 之后）产生",
            f"the drand round {number} of the draw time {clock.local(draw_at):%Y-%m-%d %H:%M:%S} "
            f"must lie at least {margin} s after the commit "
            f"(after {clock.local(earliest):%Y-%m-%d %H:%M:%S})",
        )
    return number


def _parameters(
    task: Task, population: Population, strata_info: dict[str, dict[str, Any]], moment: datetime
) -> dict[str, Any]:
    """The committed parameters: everything the draw depends on, digested before any seed.

    A beacon task's parameters name its round (``seed``); a typed task's carry no ``seed``
    key, so their digests are what they were before beacons existed.
    """
    extra: dict[str, Any] = {}
    if task.disclosure == PSEUDONYMOUS:
        extra["disclosure"] = PSEUDONYMOUS
    if task.seed_kind == beacon.KIND_BEACON and task.beacon_round is not None:
        extra["seed"] = {
            "kind": beacon.KIND_BEACON,
            "chain_hash": beacon.CHAIN_HASH,
            "round": task.beacon_round,
            "round_time": beacon.round_time(task.beacon_round).isoformat(),
        }
    return (
        extra
        | {
            "task": task.code,
            "name": task.name,
            "plan": task.plan_code,
            "algorithm": ALGORITHM,
            "departments": task.departments,
            "items": [{"code": i["code"], "version": i["version"]} for i in task.items],
            "target": task.target,
            "strata_keys": task.strata_keys,
            "strata": {
                n: {"size": s["size"], "digest": s["digest"]} for n, s in strata_info.items()
            },
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
        | ({"yearly_cap": cap} if (cap := yearly_cap()) is not None else {})
    )


def _store_population(
    session: Session,
    code: str,
    population: Population,
    strata_info: dict[str, dict[str, Any]],
    salts: Mapping[str, str],
) -> None:
    """The frozen strata and population rows (with salt and pseudonym) of a committed task."""
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
    # Made and written a batch at a time: a province's population as one list of row
    # dicts would take several hundred bytes per member.
    rows: list[dict[str, Any]] = []
    for name, ids in population.strata.items():
        for uscc in ids:
            rows.append({
                "task_code": code,
                "stratum": name,
                "uscc": uscc,
                "region_code": population.regions[uscc],
                "salt": salts.get(uscc),
                "pseudonym": pseudonym(salts[uscc], uscc) if uscc in salts else None,
            })  # fmt: skip
            if len(rows) == POPULATION_BATCH:
                session.connection().execute(insert(TaskPopulation), rows)
                rows = []
    if rows:
        session.connection().execute(insert(TaskPopulation), rows)
