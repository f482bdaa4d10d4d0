"""The reviewer's result pages: results awaiting review, approve / return, publish.

Publishing republishes the public site when the console serves one (``site_dir``), so a
published result is on the site when the page comes back.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import col, select

from supervision.accounts.scope import Scope
from supervision.console.deps import DbDep, ReviewerUser, SiteDir
from supervision.console.names import with_names
from supervision.console.pages import redirect, render
from supervision.db import Database
from supervision.errors import SupervisionError
from supervision.models import Entity, Task, TaskStatus
from supervision.reference.result_codes import FOLLOW_UPS, RESULT_STATES, result_label
from supervision.results.scoping import reach_result
from supervision.results.service import (
    entity_results,
    list_results,
    publish_results,
    review_results,
)

router = APIRouter()
_OPEN_TASKS = (TaskStatus.DRAWN, TaskStatus.IN_PROGRESS, TaskStatus.CLOSED)


def pending_results(db: Database, *, scope: Scope | None = None) -> list[dict[str, Any]]:
    """Results awaiting review (待审核) and approved ones not yet published, per entity;
    only those inside ``scope`` (their task's departments, their entity's region)."""
    with db.session() as session:
        tasks = session.exec(
            select(Task).where(col(Task.status).in_(_OPEN_TASKS)).order_by(col(Task.code))
        ).all()
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for task in tasks:
            if scope is not None and not scope.covers_departments(task.departments):
                continue
            code = task.code
            for line in list_results(session, task_code=code):
                if line["state"] in ("entered", "approved"):
                    row = rows.setdefault(
                        (code, line["uscc"]),
                        {"task": code, "uscc": line["uscc"], "items": [], "states": set()},
                    )
                    row["items"].append(line)
                    row["states"].add(line["state"])
        entities = {
            uscc: (name, region)
            for uscc, name, region in session.exec(
                select(Entity.uscc, Entity.name, Entity.region_code).where(
                    col(Entity.uscc).in_({u for _, u in rows})
                )
            ).all()
        }
    return [
        r | {"entity_name": entities.get(r["uscc"], ("", ""))[0]}
        for _, r in sorted(rows.items())
        if scope is None or scope.covers_region(entities.get(r["uscc"], ("", ""))[1])
    ]


def review(
    db: Database,
    *,
    task: str,
    uscc: str,
    approve: bool,
    reason: str,
    actor: str,
    scope: Scope | None = None,
) -> None:
    with db.session() as session:
        reach_result(session, task_code=task, uscc=uscc, scope=scope)
        review_results(session, task_code=task, uscc=uscc, approve=approve, reason=reason,
                       actor=actor)  # fmt: skip


def publish(
    db: Database, *, task: str, uscc: str, site_dir: Any, actor: str, scope: Scope | None = None
) -> None:
    """Publish the entity's approved results, then republish the public site if served."""
    with db.session() as session:
        reach_result(session, task_code=task, uscc=uscc, scope=scope)
        publish_results(session, task_code=task, uscc=uscc, actor=actor)
    if site_dir is not None:
        from supervision.site import publish_site

        report = publish_site(db, out_dir=site_dir, languages="all", workers=1)
        withheld = report.withheld_message()
        if withheld is not None:  # the results are published; say what the site lacks
            raise SupervisionError(
                f"结果已公示；{withheld[0]}", f"the results are published; {withheld[1]}"
            )


@router.get("/results", response_class=HTMLResponse)
def results_page(request: Request, db: DbDep, who: ReviewerUser) -> HTMLResponse:
    """Results awaiting review, and approved results awaiting publication."""
    rows = pending_results(db, scope=who.scope)
    return render(request, "console/results.html", rows=rows, states=RESULT_STATES, quote=quote)


@router.get("/results/entity", response_class=HTMLResponse)
def result_review_page(
    request: Request, task: str, uscc: str, db: DbDep, who: ReviewerUser
) -> HTMLResponse:
    """One entity's results, every version, with approve / return / publish."""
    with db.session() as session:
        reach_result(session, task_code=task, uscc=uscc, scope=who.scope)
        data = with_names(session, entity_results(session, task_code=task, uscc=uscc))
    return render(
        request, "console/result_review.html", data=data, states=RESULT_STATES,
        follow_ups=FOLLOW_UPS, result_label=result_label,
    )  # fmt: skip


@router.post("/results/review")
def review_submit(
    db: DbDep,
    who: ReviewerUser,
    task: Annotated[str, Form()],
    uscc: Annotated[str, Form()],
    decision: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Approve, or return with a reason (required), every result awaiting review."""
    approve = decision == "approve"
    review(db, task=task, uscc=uscc, approve=approve, reason=reason, actor=who.actor,
           scope=who.scope)  # fmt: skip
    return redirect("/results/entity", task=task, uscc=uscc,
                    done="approved" if approve else "returned")  # fmt: skip


@router.post("/results/publish")
def publish_submit(
    db: DbDep,
    site: SiteDir,
    who: ReviewerUser,
    task: Annotated[str, Form()],
    uscc: Annotated[str, Form()],
) -> Response:
    """Publish the entity's approved results (all or nothing) and update the public site."""
    publish(db, task=task, uscc=uscc, site_dir=site, actor=who.actor, scope=who.scope)
    return redirect("/results/entity", task=task, uscc=uscc, done="published")
