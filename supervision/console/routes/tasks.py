"""Tasks (planner): create, commit, enter the seed and draw, fairness report, export.

Task codes may hold any character (〔2026〕, slashes), so a task is named by the ``code``
query parameter or form field rather than a path segment.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import col, func, select

from supervision import clock
from supervision.console.deps import DbDep, FormFields, PlannerUser
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
    create_task,
    get_task,
    list_tasks,
    parse_task_input,
)
from supervision.models import Assignment, DrawPick, TaskStatus
from supervision.scheduling.schedules import parse_time

router = APIRouter()


def _split(text: str) -> list[str]:
    for sep in ("，", "、", ";", "\n"):
        text = text.replace(sep, ",")
    return [part.strip() for part in text.split(",") if part.strip()]


def task_spec(form: dict[str, str]) -> dict[str, Any]:
    """The create-task form as the task description ``parse_task_input`` validates."""
    return {
        "code": form.get("code", "").strip(),
        "plan": form.get("plan", "").strip(),
        "name": form.get("name", "").strip(),
        "departments": _split(form.get("departments", "")),
        "items": _split(form.get("items", "")),
        "ratios": {k: form.get(f"ratio_{k}", "").strip() for k in "ABCD"},
        "period_start": form.get("period_start", "").strip(),
        "period_end": form.get("period_end", "").strip(),
    } | ({"disclosure": form["disclosure"].strip()} if form.get("disclosure", "").strip() else {})


def create(db: Database, *, spec: dict[str, Any], actor: str) -> str:
    parsed = parse_task_input(spec, source="form")
    with db.session() as session:
        return create_task(session, spec=parsed, actor=actor).code


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
    with db.session() as session:
        task = get_task(session, code=code)
        picks = session.exec(
            select(func.count()).select_from(DrawPick).where(col(DrawPick.task_code) == code)
        ).one()
        assignments = list(
            session.exec(
                select(Assignment)
                .where(col(Assignment.task_code) == code)
                .order_by(col(Assignment.uscc), col(Assignment.cert_no))
            ).all()
        )
    return {"task": task, "picks": int(picks), "assignments": assignments}


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


@router.get("/tasks", response_class=HTMLResponse)
def tasks_page(request: Request, db: DbDep, who: PlannerUser) -> HTMLResponse:
    """Every task with its status, and the form to create one."""
    with db.session() as session:
        tasks, plans = list_tasks(session), list_plans(session)
    return render(request, "console/tasks.html", tasks=tasks, plans=plans,
                  status_zh=TaskStatus.ZH, quote=quote)  # fmt: skip


@router.post("/tasks")
def create_task_form(db: DbDep, who: PlannerUser, form: FormFields) -> Response:
    """Create a task from the form (every bad field named, nothing written)."""
    code = create(db, spec=task_spec(form), actor=who.actor)
    return redirect("/task", code=code, done="created")


@router.get("/task", response_class=HTMLResponse)
def task_page(request: Request, code: str, db: DbDep, who: PlannerUser) -> HTMLResponse:
    """One task: parameters, commitment digests, the seed form, the draw."""
    data = task_view(db, code=code)
    return render(request, "console/task.html", status_zh=TaskStatus.ZH, quote=quote, **data)


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
    issued = salt(db, code=code, uscc=uscc, actor=who.actor)
    return render(request, "console/salt.html", issued=issued, quote=quote)


@router.get("/task/fairness", response_class=HTMLResponse)
def fairness_page(request: Request, code: str, db: DbDep, who: PlannerUser) -> HTMLResponse:
    """Per stratum N, n, declared and realised ratio; inspector loads; exclusions."""
    with db.session() as session:
        report = fairness_report(session, code=code)
    return render(request, "console/fairness.html", report=report, quote=quote)


@router.get("/task/export")
def export_download(code: str, db: DbDep, who: PlannerUser) -> Response:
    """Download the export for outsiders (anyone can recompute the draw from it)."""
    data = export_zip(db, code=code)
    name = quote(f"draw-{code}.zip", safe="")
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )
