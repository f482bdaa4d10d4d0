"""One context per page of the public site, from the ``SiteData`` loaded once.

``pages`` yields every page of one language (the contexts are language-independent);
``notices`` feeds the home page and the Atom feed; ``statistics`` the charts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from supervision.draw.export_readme import README_TEMPLATE
from supervision.reference.regions import region_name
from supervision.site import urls
from supervision.site.data import SiteData

PICKS_PER_PAGE = 500
LATEST_NOTICES = 10


@dataclass
class Page:
    """One page to render: its path under the language root, template and context."""

    path: str
    template: str
    context: dict[str, Any]


#: The newest checkpoints listed on the open-data page (all are in the open data).
CHECKPOINTS_SHOWN = 30


def _recompute_code() -> str:
    """The Python lines that recompute a draw, exactly as the export's README gives them."""
    text = README_TEMPLATE.replace("\\\\", "\\")
    start = text.index("```python\n") + len("```python\n")
    return text[start : text.index("```", start)]


RECOMPUTE_CODE = _recompute_code()


# --------------------------------------------------------------------------- statistics
def statistics(data: SiteData, lang: str = "zh") -> dict[str, list[tuple[str, int]]]:
    """Counts for the charts: drawn entities by region, risk class and month; results by
    category (the main result code and its wording in `lang`, the sub-code's words after)."""
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
            words = r["category"] if lang == "zh" else r["category_en"]
            by_category[f"{r['result_code']} {words}"] += 1
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
    """Every notice (published plan, task, result), newest first: the home page and the feed."""
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
    for plan in data.plans:  # 计划公示: a published plan is a notice of its own
        if plan.get("published"):
            rows.append(
                {
                    "kind": "plan",
                    "id": f"plan:{plan['code']}",
                    "when": plan["amended_at"] or plan["published_at"],
                    "title": plan["name"],
                    "code": plan["code"],
                    "href": "plans/index.html",
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
    yield Page(
        "data/index.html", "data.html",
        {"tasks": data.drawn_tasks, "checkpoints": data.checkpoints[:CHECKPOINTS_SHOWN]},
    )  # fmt: skip
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
        yield from _task_pages(data, task)
    for uscc, entity in data.entities.items():
        yield Page(
            entity["href"],
            "entity.html",
            {"entity": entity, "history": data.history.get(uscc, [])},
        )


def _task_pages(data: SiteData, task: dict[str, Any]) -> Iterator[Page]:
    """A task's page, its further pages of picks and (once drawn) its results page."""
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


def _pending(data: SiteData, task: dict[str, Any]) -> list[dict[str, Any]]:
    """Drawn entities of a task without a published result: shown as 结果待公示."""
    done = {r["uscc"] for r in data.results_by_task.get(task["code"], [])}
    return [p for p in data.picks.get(task["code"], []) if p["uscc"] not in done]
