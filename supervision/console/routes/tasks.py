"""Tasks (planner): create, commit, enter the seed and draw, fairness report, export.

Task codes may hold any character (〔2026〕, slashes), so a task is named by the ``code``
query parameter or form field rather than a path segment.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import col, func, or_, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from supervision import clock
from supervision.accounts.scope import Scope
from supervision.console.deps import DbDep, PlannerUser
from supervision.console.pages import redirect, render
from supervision.db import Database
from supervision.draw.beacon import parse_round
from supervision.draw.beacon_fetch import fetch_round
from supervision.draw.commit import commit_task
from supervision.draw.fairness import fairness_report
from supervision.draw.plans import list_plans
from supervision.draw.publication import export_task, issue_salt
from supervision.draw.service import draw_task
from supervision.draw.tasks import (
    RISK_CLASSES,
    create_task,
    get_task,
    list_tasks,
    parse_task_input,
)
from supervision.models import (
    Assignment,
    Department,
    DrawPick,
    Entity,
    InspectionItem,
    Inspector,
    TaskStatus,
)
from supervision.reference.regions import region_name
from supervision.reference.vocab import EntityType, ItemKind
from supervision.scheduling.schedules import parse_time

router = APIRouter()


def _split(text: str) -> list[str]:
    for sep in ("，", "、", ";", "\n"):
        text = text.replace(sep, ",")
    return [part.strip() for part in text.split(",") if part.strip()]


Form_ = Mapping[str, str] | FormData


def _values(form: Form_, name: str) -> list[str]:
    """Every value of a field: checked boxes, a multiple select, or text separated by commas."""
    raw = form.getlist(name) if isinstance(form, FormData) else [form.get(name, "")]
    return [part for value in raw if isinstance(value, str) for part in _split(value)]


def _text(form: Form_, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


#: Yes/no selects of the form, as the task description's booleans ("" = not given).
_YES_NO = {"yes": True, "no": False}


def task_spec(form: Form_) -> dict[str, Any]:
    """The create-task form as the task description ``parse_task_input`` validates: the
    same description ``task create`` builds from its options, so the same rules apply.

    Departments and items come from check boxes (or comma-separated text); ``members_<dept>``
    is the number of inspectors a joint department sends; ``ratio`` is a ratio for every
    risk class, ``ratio_A`` … ``ratio_D`` override it per class; ``target_*`` is the
    targeted draw's filter (none: the whole directory)."""
    departments = _values(form, "departments")
    every = _text(form, "ratio")
    spec: dict[str, Any] = {
        "code": _text(form, "code"),
        "plan": _text(form, "plan"),
        "name": _text(form, "name"),
        "departments": departments,
        "items": _values(form, "items"),
        "ratios": {k: _text(form, f"ratio_{k}") or every for k in RISK_CLASSES},
        "period_start": _text(form, "period_start"),
        "period_end": _text(form, "period_end"),
    }
    members = {d: _text(form, f"members_{d}") for d in departments}
    if any(members.values()):
        spec["members"] = {d: n for d, n in members.items() if n}
    target: dict[str, Any] = {}
    for key in ("entity_types", "industries", "regions", "risk_classes"):
        chosen = _values(form, f"target_{key}")
        if chosen:
            target[key] = chosen
    abnormal = _YES_NO.get(_text(form, "target_abnormal"))
    if abnormal is not None:
        target["abnormal"] = abnormal
    if target:
        spec["target"] = target
    for key in ("strata", "region_rule", "seed", "disclosure", "exclusion_days", "load_slack"):
        if _text(form, key):
            spec[key] = _text(form, key)
    previous = _YES_NO.get(_text(form, "exclude_previous_inspector"))
    if previous is not None:
        spec["exclude_previous_inspector"] = previous
    return spec


def form_choices(db: Database, *, scope: Scope | None = None) -> dict[str, Any]:
    """What the create-task form offers: plans, departments, the items in force today or
    later (with names, by department), the regions of the directory (with names), and the
    fixed choices (entity types, risk classes, strata, inspector region rules); the plans,
    departments and regions inside ``scope``."""
    today = clock.today()
    scope = scope or Scope.EVERYTHING
    with db.session() as session:
        plans = list_plans(session, scope=scope)
        departments = [
            d
            for d in session.exec(select(Department).order_by(col(Department.code)))
            if scope.covers_departments([d.code])
        ]
        items = list(
            session.exec(
                select(InspectionItem)
                .where(
                    or_(
                        col(InspectionItem.effective_to).is_(None),
                        col(InspectionItem.effective_to) >= today,
                    )
                )
                .order_by(col(InspectionItem.department_code), col(InspectionItem.code),
                          col(InspectionItem.version))
            )
        )  # fmt: skip
        region_codes = list(
            session.exec(
                select(Entity.region_code)
                .where(col(Entity.region_code).startswith(scope.region, autoescape=True))
                .distinct()
                .order_by(col(Entity.region_code))
            )
        )
    latest: dict[str, InspectionItem] = {}
    for item in items:
        latest[item.code] = item  # the newest version of each code
    by_department: dict[str, list[InspectionItem]] = {}
    for item in latest.values():
        by_department.setdefault(item.department_code, []).append(item)
    return {
        "plans": plans,
        "departments": departments,
        "items_by_department": by_department,
        "regions": [(code, region_label(code)) for code in region_codes],
        "entity_types": [(t.value, EntityType.english()[t.value]) for t in EntityType],
        "risk_classes": RISK_CLASSES,
        "strata_choices": STRATA_WORDS,
        "region_rules": REGION_RULE_WORDS,
        "item_kinds": ItemKind.english(),
    }


def region_label(code: str) -> str:
    """A region code with its name ("呼和浩特市新城区（150102）"), the code alone if unknown."""
    name = region_name(code)
    return f"{name}（{code}）" if name and name != code else code


#: The strata and inspector region rules of ``TaskCreate``, in words.
STRATA_WORDS = {
    "risk_class": ("按信用风险分类", "by credit risk class"),
    "risk_class,region": ("按信用风险分类和行政区划", "by credit risk class and region"),
}
REGION_RULE_WORDS = {
    "prefecture": ("同一盟市", "same prefecture"),
    "county": ("同一旗县区", "same county"),
    "province": ("同一省区", "same province"),
    "any": ("不限地域", "any region"),
}


def create(db: Database, *, spec: dict[str, Any], actor: str, scope: Scope | None = None) -> str:
    parsed = parse_task_input(spec, source="form")
    with db.session() as session:
        return create_task(session, spec=parsed, actor=actor, scope=scope).code


def commit(
    db: Database,
    *,
    code: str,
    seed_kind: str = "",
    draw_at: str = "",
    disclosure: str = "",
    actor: str,
) -> None:
    """Commit; ``seed_kind`` "beacon" names the drand round of ``draw_at`` (Beijing time
    unless it carries an offset; empty: the task's schedule); ``disclosure`` empty keeps
    the task's choice."""
    planned = parse_time(draw_at, clock.LOCAL_TZ, "draw_at") if draw_at.strip() else None
    with db.session() as session:
        commit_task(
            session,
            code=code,
            seed=seed_kind or None,
            draw_at=planned,
            disclosure=disclosure or None,
            actor=actor,
        )


def salt(db: Database, *, code: str, uscc: str, actor: str) -> dict[str, str]:
    """Issue an entity its salt in a pseudonymous task (on the trail)."""
    with db.session() as session:
        return issue_salt(session, code=code, uscc=uscc, actor=actor)


def draw(
    db: Database, *, code: str, seed: str = "", round_json: str = "", actor: str
) -> dict[str, Any]:
    """Enter the seed and draw at once (the draw and its trail events in one transaction).

    A beacon task is drawn with its committed drand round: from ``round_json`` (the JSON a
    drand endpoint returns) if given, else fetched from the drand endpoints; a typed seed
    given for it is refused by the draw itself.
    """
    with db.session() as session:
        number = get_task(session, code=code).beacon_round
    if number is None or seed:
        with db.session() as session:
            return draw_task(session, code=code, seed=seed, workers=1, actor=actor)
    proof = (
        parse_round(round_json.encode(), source="round_json")
        if round_json.strip()
        else fetch_round(number)
    )
    with db.session() as session:
        return draw_task(session, code=code, proof=proof, workers=1, actor=actor)


def task_view(db: Database, *, code: str) -> dict[str, Any]:
    """One task with what a person reads beside its codes: department and item names, and
    for each assignment the entity's name and the inspector's name and certificate."""
    with db.session() as session:
        task = get_task(session, code=code)
        picks = session.exec(
            select(func.count()).select_from(DrawPick).where(col(DrawPick.task_code) == code)
        ).one()
        rows = session.exec(
            select(Assignment, Entity.name, Inspector.name)
            .join(Entity, col(Entity.uscc) == col(Assignment.uscc))
            .join(Inspector, col(Inspector.cert_no) == col(Assignment.cert_no), isouter=True)
            .where(col(Assignment.task_code) == code)
            .order_by(col(Assignment.uscc), col(Assignment.cert_no))
        ).all()
        assignments = [
            {"uscc": a.uscc, "entity_name": entity, "department_code": a.department_code,
             "cert_no": a.cert_no, "inspector_name": person or ""}
            for a, entity, person in rows
        ]  # fmt: skip
        department_names = {
            d.code: d.name
            for d in session.exec(
                select(Department).where(col(Department.code).in_(list(task.departments)))
            )
        }
        item_names = {}
        for entry in task.items:
            item = session.get(InspectionItem, (entry["code"], int(entry["version"])))
            item_names[entry["code"]] = item.name if item is not None else ""
    return {"task": task, "picks": int(picks), "assignments": assignments,
            "department_names": department_names, "item_names": item_names}  # fmt: skip


def export_zip(db: Database, *, code: str) -> bytes:
    """The outsiders' export (seed, parameters, populations, selection, README) as a zip."""
    with tempfile.TemporaryDirectory() as tmp, db.session() as session:
        export_task(session, code=code, out_dir=Path(tmp))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(Path(tmp).rglob("*")):
                if file.is_file():
                    archive.write(file, file.relative_to(tmp).as_posix())
    return buffer.getvalue()


def reach(db: Database, *, code: str, scope: Scope) -> None:
    """Refuse, as not found, a task outside the signed-in user's scope (every task door)."""
    with db.session() as session:
        get_task(session, code=code, scope=scope)


@router.get("/tasks", response_class=HTMLResponse)
def tasks_page(request: Request, db: DbDep, who: PlannerUser) -> HTMLResponse:
    """Every task with its status, and the form to create one (pickers for departments,
    items, strata and ratios, targeting, joint departments)."""
    with db.session() as session:
        tasks = list_tasks(session, scope=who.scope)
    return render(request, "console/tasks.html", tasks=tasks, status_zh=TaskStatus.ZH,
                  status_en=TaskStatus.EN, quote=quote, **form_choices(db, scope=who.scope))  # fmt: skip


@router.post("/tasks")
async def create_task_form(request: Request, db: DbDep, who: PlannerUser) -> Response:
    """Create a task from the form (every bad field named, nothing written)."""
    form = await request.form()
    spec = task_spec(form)
    code = await run_in_threadpool(create, db, spec=spec, actor=who.actor, scope=who.scope)
    return redirect("/task", code=code, done="created")


@router.get("/task", response_class=HTMLResponse)
def task_page(request: Request, code: str, db: DbDep, who: PlannerUser) -> HTMLResponse:
    """One task: parameters, commitment digests, the seed form, the draw."""
    reach(db, code=code, scope=who.scope)
    data = task_view(db, code=code)
    return render(request, "console/task.html", status_zh=TaskStatus.ZH,
                  status_en=TaskStatus.EN, quote=quote, **data)  # fmt: skip


@router.post("/task/commit")
def commit_form(
    db: DbDep,
    who: PlannerUser,
    code: Annotated[str, Form()],
    seed_kind: Annotated[str, Form()] = "",
    draw_at: Annotated[str, Form()] = "",
    disclosure: Annotated[str, Form()] = "",
) -> Response:
    """Commit (freeze population and parameters) before anybody knows the seed."""
    reach(db, code=code, scope=who.scope)
    commit(
        db,
        code=code,
        seed_kind=seed_kind,
        draw_at=draw_at,
        disclosure=disclosure,
        actor=who.actor,
    )
    return redirect("/task", code=code, done="committed")


@router.post("/task/draw")
def draw_form(
    db: DbDep,
    who: PlannerUser,
    code: Annotated[str, Form()],
    seed: Annotated[str, Form()] = "",
    round_json: Annotated[str, Form()] = "",
) -> Response:
    """Enter the public seed (or, for a beacon task, its drand round) and draw."""
    reach(db, code=code, scope=who.scope)
    draw(db, code=code, seed=seed, round_json=round_json, actor=who.actor)
    return redirect("/task", code=code, done="drawn")


@router.post("/task/salt", response_class=HTMLResponse)
def salt_form(
    request: Request,
    db: DbDep,
    who: PlannerUser,
    code: Annotated[str, Form()],
    uscc: Annotated[str, Form()],
) -> HTMLResponse:
    """Issue an entity its salt in a pseudonymous task, so it can check its own inclusion."""
    reach(db, code=code, scope=who.scope)
    issued = salt(db, code=code, uscc=uscc, actor=who.actor)
    return render(request, "console/salt.html", issued=issued, quote=quote)


@router.get("/task/fairness", response_class=HTMLResponse)
def fairness_page(request: Request, code: str, db: DbDep, who: PlannerUser) -> HTMLResponse:
    """Per stratum N, n, declared and realised ratio; inspector loads; exclusions."""
    reach(db, code=code, scope=who.scope)
    with db.session() as session:
        report = fairness_report(session, code=code)
    return render(request, "console/fairness.html", report=report, quote=quote)


@router.get("/task/export")
def export_download(code: str, db: DbDep, who: PlannerUser) -> Response:
    """Download the export for outsiders (anyone can recompute the draw from it)."""
    reach(db, code=code, scope=who.scope)
    data = export_zip(db, code=code)
    name = quote(f"draw-{code}.zip", safe="")
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )
