"""What the public may see, read from the database once: ``SiteData`` and its loaders.

Only committed (or later) tasks, their draws and published results are read; drafts,
the review queue (findings, marks, check runs) and unpublished results are never queried.
Natural persons are masked here (``privacy.mask_name``) before any template sees them;
phone numbers and ID numbers are never loaded. Inspectors are public by name and 执法证号.

Loading is a handful of bulk queries (no per-entity query), so 100,000 entity pages cost
seconds, not minutes.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from supervision import trail
from supervision.checklists.spec import Checklist, load_checklists
from supervision.draw import beacon
from supervision.draw.export import population_filename
from supervision.draw.fairness import fairness_report
from supervision.draw.population import exclusion_wording
from supervision.errors import SupervisionError
from supervision.models import (
    Assignment,
    Department,
    DrawPick,
    Entity,
    InspectionItem,
    Inspector,
    Plan,
    PlanTarget,
    Task,
    TaskStratum,
)
from supervision.models.tasks import TaskStatus
from supervision.reference.folders import folder_key, folder_name
from supervision.reference.regions import region_name
from supervision.reference.workdays import CalendarYearUnknown, default_calendar
from supervision.settings import settings
from supervision.site import results_view, urls
from supervision.site.public import N_, local_time, public_entity
from supervision.site.registers import load_registers

PUBLISH_WITHIN_WORKDAYS = 20
LICENCE = {
    "name": "CC BY 4.0",
    "url": "https://creativecommons.org/licenses/by/4.0/",
}
PUBLIC_STATUSES = (
    TaskStatus.COMMITTED,
    TaskStatus.DRAWN,
    TaskStatus.IN_PROGRESS,
    TaskStatus.CLOSED,
    TaskStatus.CANCELLED,
)
EXPORT_FILES = ["seed.txt", "parameters.json", "selection.csv", "README.md", "digests.json"]


@dataclass
class SiteData:
    """Everything the public site shows, loaded read-only in one pass."""

    departments: dict[str, str] = field(default_factory=dict)
    items: list[dict[str, Any]] = field(default_factory=list)
    plans: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    # task code → picks in draw order (stratum, rank), each with entity summary and team
    picks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    entities: dict[str, dict[str, Any]] = field(default_factory=dict)
    # uscc → inspection history rows (newest first)
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # published results: task code → rows; uscc → rows (filled when results exist)
    results_by_task: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    results_by_entity: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    results_available: bool = False
    # the trail's checkpoints (anchors), newest first: seq, hash, at, reason
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    as_of: str = ""
    fairness_cache: dict[str, Any] = field(default_factory=dict)
    # tasks left off the site because their folder is an earlier task's (``_load_tasks``)
    withheld: list[dict[str, str]] = field(default_factory=list)
    # uscc → register entries (经营异常名录 etc., public), newest first (``site.registers``)
    registers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def drawn_tasks(self) -> list[dict[str, Any]]:
        return [t for t in self.tasks if t["drawn"]]


def due_date(period_end: date) -> tuple[str, bool, list[int]]:
    """The legal publication due date: 20 working days after the inspection period ends.

    Returns (date text, known, provisional years). Counted through a year whose holiday
    arrangement is not announced, the date is the earliest possible one and the years are
    named (the pages footnote it). When the calendar of that year cannot be known at all,
    returns the period end and False, so the page says the date follows from it.
    """
    calendar = default_calendar()
    try:
        due = calendar.add_workdays(period_end, PUBLISH_WITHIN_WORKDAYS)
    except CalendarYearUnknown:
        return period_end.isoformat(), False, []
    return due.isoformat(), True, calendar.provisional_years((period_end, due))


def _target_lines(target: dict[str, Any]) -> list[tuple[str, str | list[str], bool]]:
    """The filter of a targeted task as (label, values, values is a message) lines: the
    values are a list (the page joins them in its language) or one message to translate."""
    lines: list[tuple[str, str | list[str], bool]] = []
    names = {
        "entity_types": N_("主体类型"),
        "industries": N_("行业"),
        "regions": N_("地区"),
        "risk_classes": N_("信用风险分类"),
    }
    for key, label in names.items():
        values = target.get(key) or []
        if values:
            shown = [f"{v} {region_name(v)}" if key == "regions" else v for v in values]
            lines.append((label, shown, False))
    if target.get("abnormal") is not None:
        lines.append((N_("经营异常名录"), N_("是") if target["abnormal"] else N_("否"), True))
    sources = {
        "marks": N_("定向抽查标记"),
        "proposals": N_("列入建议"),
        "registers": N_("名录记录"),
    }
    for source in target.get("credit") or []:
        lines.append((N_("信用监管来源"), sources.get(source, source), True))
    return lines


def draw_key(task: Task) -> str:
    """What identifies a draw: its records are only ever appended at the draw, never changed."""
    basis = [task.code, task.seed, task.parameters_digest, task.population_digest,
             task.drawn_at.isoformat() if task.drawn_at else ""]  # fmt: skip
    return hashlib.sha256(json.dumps(basis, ensure_ascii=False).encode()).hexdigest()


def load(
    session: Session,
    *,
    fairness_cache: dict[str, Any] | None = None,
    authority: str | None = None,
) -> SiteData:
    """Read everything public, in bulk. Nothing is written.

    `fairness_cache` maps a draw key (``draw_key``) to its fairness report: a draw never
    changes once made, so the publisher keeps reports between runs instead of recomputing.
    Reports computed here are added to it. `authority` (a department code): only its plans
    and tasks (a joint task is each of its departments'), and so only their draws and
    results; the item list (一单) stays whole.
    """
    data = SiteData()
    data.fairness_cache = fairness_cache if fairness_cache is not None else {}
    data.departments = {
        code: name
        for code, name in session.execute(select(col(Department.code), col(Department.name)))
    }
    checklists = checklists_in_use()  # read (and linted) once per publication
    _load_items(session, data, checklists)
    _load_tasks(session, data, authority)
    _load_picks(session, data)
    _load_results(session, data, checklists)
    data.registers = load_registers(session, data.entities)
    _build_history(data)
    data.checkpoints = [
        {"seq": c.seq, "hash": c.hash, "at": local_time(c.at), "reason": c.reason}
        for c in trail.checkpoints(session)
    ]  # fmt: skip
    stamps = [t["drawn_at"] or t["committed_at"] for t in data.tasks]
    stamps += [r["published_at"] for rows in data.results_by_task.values() for r in rows]
    data.as_of = max(stamps, default="")
    return data


def _load_items(session: Session, data: SiteData, every: dict[tuple[str, int], Checklist]) -> None:
    rows = session.execute(
        select(InspectionItem).order_by(col(InspectionItem.code), col(InspectionItem.version))
    ).scalars()
    for item in rows:
        data.items.append(
            {
                "code": item.code,
                "version": item.version,
                "name": item.name,
                "department_code": item.department_code,
                "department": data.departments.get(item.department_code, item.department_code),
                "legal_basis": item.legal_basis,
                "object_type": item.object_type,
                "methods": list(item.methods),
                "kind": item.kind,
                "effective_from": item.effective_from.isoformat(),
                "effective_to": item.effective_to.isoformat() if item.effective_to else "",
                "checklist": published_checklist(every, item.code, item.version),
            }
        )


def published_checklist(
    every: dict[tuple[str, int], Checklist], code: str, version: int
) -> list[dict[str, str]]:
    """细则公开: the check points of an item version (content, method, legal basis), from the
    checklists in use; empty when it has none."""
    checklist = every.get((code, version))
    if checklist is None:
        return []
    return [
        {
            "id": p.id,
            "content_zh": p.content_zh,
            "content_en": p.content_en,
            "method": p.method,
            "legal_basis": p.legal_basis,
        }
        for p in checklist.points
    ]


def checklists_in_use() -> dict[tuple[str, int], Checklist]:
    """The checklists of $SUPERVISION_CHECKLISTS_DIR (else the shipped folder); a folder
    with problems publishes no checklist rather than stopping the site."""
    try:
        return load_checklists(settings().checklists_dir)
    except SupervisionError:
        return {}


def _load_tasks(session: Session, data: SiteData, authority: str | None = None) -> None:
    items = {(i["code"], i["version"]): i for i in data.items}
    strata = _strata(session)
    tasks = session.execute(
        select(Task)
        .where(col(Task.status).in_(PUBLIC_STATUSES), col(Task.committed_at).is_not(None))
        .order_by(col(Task.committed_at), col(Task.code))
    ).scalars()
    by_plan: dict[str, list[dict[str, Any]]] = defaultdict(list)
    folders: dict[str, str] = {}
    for task in tasks:
        if authority is not None and authority not in task.departments:
            continue
        # One folder per task: the earlier-committed task of a clash keeps it, a later one
        # is withheld (and named by the publish) rather than stopping the whole site.
        other = folders.setdefault(folder_key(task.code), task.code)
        if other != task.code:
            data.withheld.append({"code": task.code, "folder": folder_name(task.code),
                                  "clashes_with": other})  # fmt: skip
            continue
        entry = _task_entry(session, data, task, items, strata.get(task.code, []))
        data.tasks.append(entry)
        by_plan[task.plan_code].append(entry)
    _load_plans(session, data, by_plan, authority)


def _strata(session: Session) -> dict[str, list[dict[str, Any]]]:
    strata: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in session.execute(
        select(TaskStratum).order_by(col(TaskStratum.task_code), col(TaskStratum.stratum))
    ).scalars():
        strata[s.task_code].append(
            {"stratum": s.stratum, "ratio": s.ratio, "size": s.size, "digest": s.digest}
        )
    return strata


def _task_entry(
    session: Session,
    data: SiteData,
    task: Task,
    items: dict[tuple[str, int], dict[str, Any]],
    strata: list[dict[str, Any]],
) -> dict[str, Any]:
    """One public task as the pages show it."""
    drawn = task.drawn_at is not None and task.seed is not None
    due, due_known, due_provisional = due_date(task.period_end)
    parameters = json.loads(task.parameters_json or "{}")
    entry: dict[str, Any] = {
        "code": task.code,
        "slug": urls.slug(task.code),
        "href": urls.task_path(task.code),
        "name": task.name,
        "plan_code": task.plan_code,
        "status": task.status,
        "cancel_reason": task.cancel_reason or "",
        "departments": [
            {"code": d, "name": data.departments.get(d, d), "members": task.members.get(d, 0)}
            for d in task.departments
        ],
        # department code → name: pages show names, never the codes
        "department_names": {d: data.departments.get(d, d) for d in task.departments},
        "item_list": [
            items.get(
                (i["code"], i["version"]),
                {"code": i["code"], "version": i["version"], "name": "", "legal_basis": ""},
            )
            for i in task.items
        ],
        "target": _target_lines(task.target),
        "untargeted": not _target_lines(task.target),
        "ratios": dict(task.ratios),
        "strata_keys": list(task.strata_keys),
        "region_rule": task.region_rule,
        "exclusion_days": task.exclusion_days,
        "period_start": task.period_start.isoformat(),
        "period_end": task.period_end.isoformat(),
        "due_date": due,
        "due_known": due_known,
        "due_provisional": "、".join(str(y) for y in due_provisional),
        "committed_at": local_time(task.committed_at),
        "parameters_digest": task.parameters_digest or "",
        "population_digest": task.population_digest or "",
        "population_size": task.population_size or 0,
        "exclusions": [
            {"label": zh, "label_en": en, "count": n}
            for reason, n in sorted(task.exclusions.items())
            for zh, en in [exclusion_wording(reason)]
        ],
        "strata": strata,
        "algorithm": task.algorithm or parameters.get("algorithm", ""),
        "drawn": drawn,
        "seed_kind": task.seed_kind,
        "disclosure": task.disclosure,
        "beacon": _beacon_entry(task, drawn),
        "seed": task.seed if drawn else "",
        "seed_entered_at": local_time(task.seed_entered_at) if drawn else "",
        "drawn_at": local_time(task.drawn_at) if drawn else "",
        "draw_key": draw_key(task) if drawn else "",
        "fairness": _fairness(session, task, data.fairness_cache) if drawn else None,
        "export_dir": urls.export_dir(task.code) if drawn else "",
        "export_files": [],
        "picked": 0,
        "plan_year": 0,
        "plan_name": "",
    }
    if drawn:
        files = [*EXPORT_FILES, *(population_filename(s["stratum"]) for s in entry["strata"])]
        if entry["beacon"] and entry["beacon"]["signature"]:
            files.append("beacon.json")
        entry["export_files"] = files
    return entry


def _beacon_entry(task: Task, drawn: bool) -> dict[str, Any] | None:
    """The drand round a beacon task committed to (published before it exists), and once
    drawn its signature; None for a typed seed."""
    if task.beacon_round is None:
        return None
    return {
        "chain_hash": beacon.CHAIN_HASH,
        "round": task.beacon_round,
        "round_time": local_time(beacon.round_time(task.beacon_round)),
        "signature": (task.beacon_signature or "") if drawn else "",
    }


def _load_plans(
    session: Session,
    data: SiteData,
    by_plan: dict[str, list[dict[str, Any]]],
    authority: str | None = None,
) -> None:
    for plan in session.execute(
        select(Plan).order_by(col(Plan.year).desc(), col(Plan.code))
    ).scalars():
        if authority is not None and authority not in plan.departments:
            continue
        plan_tasks = by_plan.get(plan.code, [])
        for t in plan_tasks:
            t["plan_year"] = plan.year
            t["plan_name"] = plan.name
        data.plans.append(
            {
                "code": plan.code,
                "anchor": urls.plan_anchor(plan.code),
                "year": plan.year,
                "name": plan.name,
                "departments": [
                    {"code": d, "name": data.departments.get(d, d)} for d in plan.departments
                ],
                "notes": plan.notes,
                "created_at": local_time(plan.created_at),
                "tasks": plan_tasks,
                **_plan_notice(session, data, plan),
            }
        )


def _plan_notice(session: Session, data: SiteData, plan: Plan) -> dict[str, Any]:
    """计划公示: what a published plan's notice adds (items, targets, planned tasks, the
    publication and amendment dates); nothing of a plan that is not published yet."""
    if plan.published_at is None:
        return {"published": False}
    names = {i["code"]: i for i in data.items}  # the newest version of each code wins
    targets = session.execute(
        select(PlanTarget)
        .where(col(PlanTarget.plan_code) == plan.code)
        .order_by(col(PlanTarget.position), col(PlanTarget.target_id))
    ).scalars()

    def department(code: str | None) -> str:
        return data.departments.get(code, code) if code else ""

    return {
        "published": True,
        "published_at": local_time(plan.published_at),
        "amended_at": local_time(plan.amended_at),
        "amendment_reason": plan.amendment_reason or "",
        "items": [
            {
                "code": c,
                "name": names[c]["name"] if c in names else "",
                "kind": names[c]["kind"] if c in names else "",
                "department": names[c]["department"] if c in names else "",
            }
            for c in plan.items
        ],
        "targets": [
            {
                "id": t.target_id,
                "name": t.name,
                "department": department(t.department_code),
                "item_kind": t.item_kind or "",
                "items": list(t.items),
                "entity_types": list(t.entity_types),
                "percent": f"{Decimal(t.ratio) * 100:.2f}".rstrip("0").rstrip(".") + "%",
            }
            for t in targets
        ],
        "planned_tasks": [
            {**p, "departments": [department(d) for d in p.get("departments", [])]}
            for p in plan.planned_tasks
        ],
    }


def _fairness(session: Session, task: Task, cache: dict[str, Any]) -> dict[str, Any]:
    key = draw_key(task)
    report = cache.get(key)
    if report is None:
        report = cache[key] = fairness_report(session, code=task.code)
    return dict(report)


def _load_picks(session: Session, data: SiteData) -> None:
    public = {t["code"] for t in data.tasks if t["drawn"]}
    if not public:
        return
    inspectors = {
        cert: name
        for cert, name in session.execute(select(col(Inspector.cert_no), col(Inspector.name)))
    }
    teams: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for task_code, uscc, dept, cert in session.execute(
        select(
            col(Assignment.task_code),
            col(Assignment.uscc),
            col(Assignment.department_code),
            col(Assignment.cert_no),
        ).order_by(
            col(Assignment.task_code),
            col(Assignment.uscc),
            col(Assignment.department_code),
            col(Assignment.cert_no),
        )
    ):
        if task_code in public:
            teams[(task_code, uscc)].append(
                {
                    "cert_no": cert,
                    "name": inspectors.get(cert, ""),
                    "department": data.departments.get(dept, dept),
                }
            )
    drawn_ids = select(col(DrawPick.uscc)).distinct()
    for row in session.execute(
        select(
            col(Entity.uscc),
            col(Entity.name),
            col(Entity.entity_type),
            col(Entity.industry_code),
            col(Entity.region_code),
            col(Entity.address),
            col(Entity.legal_rep),
            col(Entity.status),
            col(Entity.established_on),
        ).where(col(Entity.uscc).in_(drawn_ids))
    ):
        data.entities[row.uscc] = public_entity(row)
    picks: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for task_code, uscc, stratum, ticket, rank in session.execute(
        select(
            col(DrawPick.task_code),
            col(DrawPick.uscc),
            col(DrawPick.stratum),
            col(DrawPick.ticket),
            col(DrawPick.rank),
        ).order_by(col(DrawPick.task_code), col(DrawPick.stratum), col(DrawPick.rank))
    ):
        if task_code not in public:
            continue
        entity = data.entities.get(uscc)
        picks[task_code].append(
            {
                "uscc": uscc,
                "name": entity["name"] if entity else "",
                "region": entity["region"] if entity else "",
                "href": urls.entity_path(uscc),
                "stratum": stratum,
                "ticket": ticket,
                "rank": rank,
                "team": teams.get((task_code, uscc), []),
            }
        )
    data.picks = dict(picks)
    for t in data.tasks:
        t["picked"] = len(data.picks.get(t["code"], []))


def _load_results(
    session: Session, data: SiteData, checklists: dict[tuple[str, int], Checklist]
) -> None:
    """Published inspection results, when the results tables exist."""
    published = results_view.load_published(
        session, tasks=data.tasks, entities=data.entities, checklists=checklists
    )
    data.results_available = published is not None
    if published is not None:
        data.results_by_task = published.by_task
        data.results_by_entity = published.by_entity


def _build_history(data: SiteData) -> None:
    tasks = {t["code"]: t for t in data.tasks}
    published: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for uscc, rows in data.results_by_entity.items():
        for r in rows:
            published[(r["task_code"], uscc)].append(r)
    history: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for code, picks in data.picks.items():
        task = tasks[code]
        for pick in picks:
            history[pick["uscc"]].append(
                {
                    "task": task,
                    "stratum": pick["stratum"],
                    "ticket": pick["ticket"],
                    "team": pick["team"],
                    "results": published.get((code, pick["uscc"]), []),
                }
            )
    for rows in history.values():
        rows.sort(key=lambda h: (h["task"]["drawn_at"], h["task"]["code"]), reverse=True)
    data.history = dict(history)
