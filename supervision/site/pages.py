"""What the public may see, read from the database once, and one context per page.

Only committed (or later) tasks, their draws and published results are read; drafts,
the review queue (findings, marks, check runs) and unpublished results are never queried.
Natural persons are masked here (``privacy.mask_name``) before any template sees them;
phone numbers and ID numbers are never loaded. Inspectors are public by name and 执法证号.

Loading is a handful of bulk queries (no per-entity query), so 100,000 entity pages cost
seconds, not minutes.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from supervision import clock
from supervision.draw.export import README_TEMPLATE, population_filename
from supervision.draw.population import exclusion_label
from supervision.draw.service import fairness_report
from supervision.models import (
    Assignment,
    Department,
    DrawPick,
    Entity,
    InspectionItem,
    Inspector,
    Plan,
    Task,
    TaskStratum,
)
from supervision.models.tasks import TaskStatus
from supervision.reference.privacy import mask_name
from supervision.reference.regions import prefecture_of, region_name
from supervision.reference.workdays import CalendarYearUnknown, add_workdays
from supervision.site import urls

PICKS_PER_PAGE = 500
LATEST_NOTICES = 10
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


@dataclass
class Page:
    """One page to render: its path under the language root, template and context."""

    path: str
    template: str
    context: dict[str, Any]


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
    as_of: str = ""
    fairness_cache: dict[str, Any] = field(default_factory=dict)

    @property
    def drawn_tasks(self) -> list[dict[str, Any]]:
        return [t for t in self.tasks if t["drawn"]]


@lru_cache(maxsize=8192)
def _local(moment: datetime | None) -> str:
    """A stored UTC time as Beijing time text (YYYY-MM-DD HH:MM:SS), '' when missing."""
    if moment is None:
        return ""
    return clock.local(moment).strftime("%Y-%m-%d %H:%M:%S")


def due_date(period_end: date) -> tuple[str, bool]:
    """The legal publication due date: 20 working days after the inspection period ends.

    Returns (date text, known). When the working-day calendar of that year is unknown,
    returns the period end and False, so the page says the date follows from it.
    """
    try:
        return add_workdays(period_end, PUBLISH_WITHIN_WORKDAYS).isoformat(), True
    except CalendarYearUnknown:
        return period_end.isoformat(), False


def _recompute_code() -> str:
    """The Python lines that recompute a draw, exactly as the export's README gives them."""
    text = README_TEMPLATE.replace("\\\\", "\\")
    start = text.index("```python\n") + len("```python\n")
    return text[start : text.index("```", start)]


RECOMPUTE_CODE = _recompute_code()


def N_(message: str) -> str:
    """Mark a message for extraction; templates translate it when they show it."""
    return message


def _target_lines(target: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """The filter of a targeted task as (label, value, value is a message) lines."""
    lines: list[tuple[str, str, bool]] = []
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
            lines.append((label, "、".join(shown), False))
    if target.get("abnormal") is not None:
        lines.append((N_("经营异常名录"), N_("是") if target["abnormal"] else N_("否"), True))
    return lines


def draw_key(task: Task) -> str:
    """What identifies a draw: its records are only ever appended at the draw, never changed."""
    import hashlib

    basis = [task.code, task.seed, task.parameters_digest, task.population_digest,
             task.drawn_at.isoformat() if task.drawn_at else ""]  # fmt: skip
    return hashlib.sha256(json.dumps(basis, ensure_ascii=False).encode()).hexdigest()


def load(session: Session, *, fairness_cache: dict[str, Any] | None = None) -> SiteData:
    """Read everything public, in bulk. Nothing is written.

    `fairness_cache` maps a draw key (``draw_key``) to its fairness report: a draw never
    changes once made, so the publisher keeps reports between runs instead of recomputing.
    Reports computed here are added to it.
    """
    data = SiteData()
    data.fairness_cache = fairness_cache if fairness_cache is not None else {}
    data.departments = {
        code: name
        for code, name in session.execute(select(col(Department.code), col(Department.name)))
    }
    _load_items(session, data)
    _load_tasks(session, data)
    _load_picks(session, data)
    _load_results(session, data)
    _build_history(data)
    stamps = [t["drawn_at"] or t["committed_at"] for t in data.tasks]
    stamps += [r["published_at"] for rows in data.results_by_task.values() for r in rows]
    data.as_of = max(stamps, default="")
    return data


def _load_items(session: Session, data: SiteData) -> None:
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
            }
        )


def _load_tasks(session: Session, data: SiteData) -> None:
    items = {(i["code"], i["version"]): i for i in data.items}
    strata: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in session.execute(
        select(TaskStratum).order_by(col(TaskStratum.task_code), col(TaskStratum.stratum))
    ).scalars():
        strata[s.task_code].append(
            {"stratum": s.stratum, "ratio": s.ratio, "size": s.size, "digest": s.digest}
        )
    tasks = session.execute(
        select(Task)
        .where(col(Task.status).in_(PUBLIC_STATUSES), col(Task.committed_at).is_not(None))
        .order_by(col(Task.committed_at), col(Task.code))
    ).scalars()
    by_plan: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for task in tasks:
        drawn = task.drawn_at is not None and task.seed is not None
        due, due_known = due_date(task.period_end)
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
            "committed_at": _local(task.committed_at),
            "parameters_digest": task.parameters_digest or "",
            "population_digest": task.population_digest or "",
            "population_size": task.population_size or 0,
            "exclusions": [
                {"label": exclusion_label(reason), "count": n}
                for reason, n in sorted(task.exclusions.items())
            ],
            "strata": strata.get(task.code, []),
            "algorithm": task.algorithm or parameters.get("algorithm", ""),
            "drawn": drawn,
            "seed": task.seed if drawn else "",
            "seed_entered_at": _local(task.seed_entered_at) if drawn else "",
            "drawn_at": _local(task.drawn_at) if drawn else "",
            "draw_key": draw_key(task) if drawn else "",
            "fairness": _fairness(session, task, data.fairness_cache) if drawn else None,
            "export_dir": urls.export_dir(task.code) if drawn else "",
            "export_files": [],
            "picked": 0,
            "plan_year": 0,
            "plan_name": "",
        }
        if drawn:
            files = ["seed.txt", "parameters.json", "selection.csv", "README.md", "digests.json"]
            files += [population_filename(s["stratum"]) for s in entry["strata"]]
            entry["export_files"] = files
        data.tasks.append(entry)
        by_plan[task.plan_code].append(entry)
    for plan in session.execute(
        select(Plan).order_by(col(Plan.year).desc(), col(Plan.code))
    ).scalars():
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
                "created_at": _local(plan.created_at),
                "tasks": plan_tasks,
            }
        )


def _fairness(session: Session, task: Task, cache: dict[str, Any]) -> dict[str, Any]:
    key = draw_key(task)
    report = cache.get(key)
    if report is None:
        report = cache[key] = fairness_report(session, task.code)
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
            col(Entity.risk_class),
            col(Entity.established_on),
        ).where(col(Entity.uscc).in_(drawn_ids))
    ):
        data.entities[row.uscc] = _public_entity(row)
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


_region_name = lru_cache(maxsize=4096)(region_name)


def _public_entity(row: Any) -> dict[str, Any]:
    """An entity as the public sees it: the natural person masked, no phone, no ID number."""
    return {
        "uscc": row.uscc,
        "name": row.name,
        "entity_type": row.entity_type,
        "industry_code": row.industry_code,
        "region_code": row.region_code,
        "region": _region_name(row.region_code),
        "prefecture": prefecture_of(row.region_code),
        "address": row.address,
        "legal_rep_masked": mask_name(row.legal_rep),
        "status": row.status,
        "risk_class": row.risk_class,
        "established_on": row.established_on.isoformat() if row.established_on else "",
        "href": urls.entity_path(row.uscc),
    }


def _load_results(session: Session, data: SiteData) -> None:
    """Published inspection results, when the results module exists (see issue 5)."""
    from supervision.site import results_view

    results_view.load_into(session, data)


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


# --------------------------------------------------------------------------- statistics
def statistics(data: SiteData) -> dict[str, list[tuple[str, int]]]:
    """Counts for the charts: drawn entities by region, risk class and month; results by category."""
    by_region: Counter[str] = Counter()
    by_risk: Counter[str] = Counter()
    by_month: Counter[str] = Counter()
    for task in data.drawn_tasks:
        month = task["drawn_at"][:7]
        for pick in data.picks.get(task["code"], []):
            entity = data.entities.get(pick["uscc"])
            prefecture = entity["prefecture"] if entity else ""
            by_region[region_name(prefecture) if prefecture else "—"] += 1
            by_risk[pick["stratum"].split("-")[0]] += 1
            by_month[month] += 1
    by_category: Counter[str] = Counter()
    results_by_month: Counter[str] = Counter()
    for rows in data.results_by_task.values():
        for r in rows:
            by_category[f"{r['category_code']} {r['category']}"] += 1
            results_by_month[r["published_at"][:7]] += 1
    return {
        "category": sorted(by_category.items()),
        "region": sorted(by_region.items(), key=lambda kv: (-kv[1], kv[0])),
        "risk": sorted(by_risk.items()),
        "month": sorted(by_month.items()),
        "results_month": sorted(results_by_month.items()),
    }


# --------------------------------------------------------------------------- pages
def notices(data: SiteData) -> list[dict[str, Any]]:
    """Every notice (plan, task, result), newest first: the home page and the feed."""
    rows: list[dict[str, Any]] = []
    for task in data.tasks:
        rows.append(
            {
                "kind": "task",
                "id": f"task:{task['code']}",
                "when": task["drawn_at"] or task["committed_at"],
                "title": task["name"],
                "code": task["code"],
                "href": task["href"],
            }
        )
        if data.results_by_task.get(task["code"]):
            latest = max(r["published_at"] for r in data.results_by_task[task["code"]])
            rows.append(
                {
                    "kind": "result",
                    "id": f"result:{task['code']}",
                    "when": latest,
                    "title": task["name"],
                    "code": task["code"],
                    "href": urls.task_results_path(task["code"]),
                }
            )
    rows.sort(key=lambda r: (r["when"], r["id"]), reverse=True)
    return rows


def pages(data: SiteData, charts: list[dict[str, Any]]) -> Iterator[Page]:
    """Every page of one language, with its context (language-independent data)."""
    notice_rows = notices(data)
    yield Page(
        "index.html",
        "home.html",
        {
            "notices": notice_rows[:LATEST_NOTICES],
            "counts": {
                "items": len(data.items),
                "plans": len(data.plans),
                "tasks": len(data.tasks),
                "drawn": sum(len(p) for p in data.picks.values()),
                "results": sum(len(r) for r in data.results_by_task.values()),
            },
        },
    )
    yield Page("items/index.html", "items.html", {"items": data.items})
    yield Page("plans/index.html", "plans.html", {"plans": data.plans})
    yield Page("tasks/index.html", "tasks.html", {"tasks": list(reversed(data.tasks))})
    yield Page("search/index.html", "search.html", {"query": "", "hits": None})
    yield Page("data/index.html", "data.html", {"tasks": data.drawn_tasks})
    yield Page("stats/index.html", "stats.html", {"charts": charts})
    if data.results_available:
        yield Page(
            "results/index.html",
            "results.html",
            {
                "tasks": [t for t in reversed(data.tasks) if t["drawn"]],
                "published": {
                    t["code"]: len(data.results_by_task.get(t["code"], [])) for t in data.tasks
                },
            },
        )
    for task in data.tasks:
        picks = data.picks.get(task["code"], [])
        total_pages = max(1, -(-len(picks) // PICKS_PER_PAGE))
        for number in range(1, total_pages + 1):
            chunk = picks[(number - 1) * PICKS_PER_PAGE : number * PICKS_PER_PAGE]
            pager = {
                "number": number,
                "count": total_pages,
                "links": [
                    {"number": n, "href": urls.task_picks_path(task["code"], n)}
                    for n in range(1, total_pages + 1)
                ]
                if total_pages > 1
                else [],
            }
            if number == 1:
                yield Page(
                    urls.task_path(task["code"]),
                    "task.html",
                    {
                        "task": task,
                        "picks": chunk,
                        "pager": pager,
                        "recompute_code": RECOMPUTE_CODE,
                        "has_results": bool(data.results_by_task.get(task["code"])),
                    },
                )
            else:
                yield Page(
                    urls.task_picks_path(task["code"], number),
                    "task_picks.html",
                    {"task": task, "picks": chunk, "pager": pager},
                )
        if data.results_available and task["drawn"]:
            yield Page(
                urls.task_results_path(task["code"]),
                "task_results.html",
                {
                    "task": task,
                    "results": data.results_by_task.get(task["code"], []),
                    "pending": _pending(data, task),
                },
            )
    for uscc, entity in data.entities.items():
        yield Page(
            entity["href"],
            "entity.html",
            {"entity": entity, "history": data.history.get(uscc, [])},
        )


def _pending(data: SiteData, task: dict[str, Any]) -> list[dict[str, Any]]:
    """Drawn entities of a task without a published result: shown as 结果待公示."""
    done = {r["uscc"] for r in data.results_by_task.get(task["code"], [])}
    return [p for p in data.picks.get(task["code"], []) if p["uscc"] not in done]
