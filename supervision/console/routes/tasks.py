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

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import col, func, select
from starlette.concurrency import run_in_threadpool

from supervision import trail
from supervision.accounts.sessions import Principal
from supervision.console.pages import redirect, render
from supervision.console.security import requires
from supervision.db import Database
from supervision.draw.service import draw_task, export_task, fairness_report
from supervision.draw.tasks import (
    commit_task,
    create_task,
    get_task,
    list_plans,
    list_tasks,
    parse_task_input,
)
from supervision.models import Assignment, DrawPick, TaskStatus
from supervision.models.users import Role

router = APIRouter()
PLANNER = requires(Role.PLANNER)


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
    }


def create(db: Database, who: Principal, spec: dict[str, Any]) -> str:
    parsed = parse_task_input(spec, source="form")
    with trail.acting_as(who.actor), db.session() as session:
        return create_task(session, parsed).code


def commit(db: Database, who: Principal, code: str) -> None:
    with trail.acting_as(who.actor), db.session() as session:
        commit_task(session, code)


def draw(db: Database, who: Principal, code: str, seed: str) -> dict[str, Any]:
    """Enter the seed and draw at once (the draw and its trail events in one transaction)."""
    with trail.acting_as(who.actor), db.session() as session:
        return draw_task(session, code, seed.strip(), workers=1)


def task_view(db: Database, code: str) -> dict[str, Any]:
    with db.session() as session:
        task = get_task(session, code)
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


def export_zip(db: Database, code: str) -> bytes:
    """The outsiders' export (seed, parameters, populations, selection, README) as a zip."""
    with tempfile.TemporaryDirectory() as tmp, db.session() as session:
        export_task(session, code, Path(tmp))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(Path(tmp).rglob("*")):
                if file.is_file():
                    archive.write(file, file.relative_to(tmp).as_posix())
    return buffer.getvalue()


def _fields(form: Any) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str)}


@router.get("/tasks", response_class=HTMLResponse)
async def tasks_page(request: Request, who: Annotated[Principal, Depends(PLANNER)]) -> HTMLResponse:
    """Every task with its status, and the form to create one."""
    db = request.app.state.db

    def load() -> tuple[list[Any], list[Any]]:
        with db.session() as session:
            return list_tasks(session), list_plans(session)

    tasks, plans = await run_in_threadpool(load)
    return render(request, "console/tasks.html", tasks=tasks, plans=plans,
                  status_zh=TaskStatus.ZH, quote=quote)  # fmt: skip


@router.post("/tasks")
async def create_task_form(
    request: Request, who: Annotated[Principal, Depends(PLANNER)]
) -> Response:
    """Create a task from the form (every bad field named, nothing written)."""
    spec = task_spec(_fields(await request.form()))
    code = await run_in_threadpool(create, request.app.state.db, who, spec)
    return redirect("/task", code=code, done="created")


@router.get("/task", response_class=HTMLResponse)
async def task_page(
    request: Request, code: str, who: Annotated[Principal, Depends(PLANNER)]
) -> HTMLResponse:
    """One task: parameters, commitment digests, the seed form, the draw."""
    data = await run_in_threadpool(task_view, request.app.state.db, code)
    return render(request, "console/task.html", status_zh=TaskStatus.ZH, quote=quote, **data)


@router.post("/task/commit")
async def commit_form(
    request: Request, who: Annotated[Principal, Depends(PLANNER)], code: Annotated[str, Form()]
) -> Response:
    """Commit (freeze population and parameters) before anybody knows the seed."""
    await run_in_threadpool(commit, request.app.state.db, who, code)
    return redirect("/task", code=code, done="committed")


@router.post("/task/draw")
async def draw_form(
    request: Request,
    who: Annotated[Principal, Depends(PLANNER)],
    code: Annotated[str, Form()],
    seed: Annotated[str, Form()] = "",
) -> Response:
    """Enter the public seed and draw entities and inspectors."""
    await run_in_threadpool(draw, request.app.state.db, who, code, seed)
    return redirect("/task", code=code, done="drawn")


@router.get("/task/fairness", response_class=HTMLResponse)
async def fairness_page(
    request: Request, code: str, who: Annotated[Principal, Depends(PLANNER)]
) -> HTMLResponse:
    """Per stratum N, n, declared and realised ratio; inspector loads; exclusions."""
    db = request.app.state.db

    def load() -> dict[str, Any]:
        with db.session() as session:
            return fairness_report(session, code)

    report = await run_in_threadpool(load)
    return render(request, "console/fairness.html", report=report, quote=quote)


@router.get("/task/export")
async def export_download(
    request: Request, code: str, who: Annotated[Principal, Depends(PLANNER)]
) -> Response:
    """Download the export for outsiders (anyone can recompute the draw from it)."""
    data = await run_in_threadpool(export_zip, request.app.state.db, code)
    name = quote(f"draw-{code}.zip", safe="")
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )
