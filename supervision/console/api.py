"""The JSON API under /api, for provincial systems: the pages' actions with the same roles.

Sign in with ``POST /api/session`` (user name and password, throttled like the page):
the answer carries a session token to send as ``Authorization: Bearer <token>`` (no CSRF
token needed then) and sets the same cookie the pages use (cookie callers send
``X-CSRF-Token``). The OpenAPI document is at /api/openapi.json. Errors are
``{"error": {"zh", "en", "details"}}`` with 400/401/403/404/429.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from supervision.accounts.sessions import Principal, sign_in
from supervision.checks.review import entity_review
from supervision.console.queue import queue_page
from supervision.console.routes import (
    admin_directories,
    admin_rules,
    dashboard,
    inspector,
    review,
    reviewer,
    tasks,
    users,
)
from supervision.console.security import PUBLIC, requires, set_session_cookie
from supervision.directories.importing import ImportRejected
from supervision.draw.service import fairness_report
from supervision.draw.tasks import list_tasks
from supervision.models.users import Role
from supervision.results.service import enter_results, parse_items

router = APIRouter(prefix="/api", tags=["api"])
ANYONE = requires(*Role.ALL)
REVIEWER = requires(Role.REVIEWER)
PLANNER = requires(Role.PLANNER)
INSPECTOR = requires(Role.INSPECTOR)
ADMIN = requires(Role.ADMIN)


class SignIn(BaseModel):
    username: str
    password: str


class Decision(BaseModel):
    text: str = Field("", description="confirm: the note; dismiss: the reason (required)")


class TaskCode(BaseModel):
    code: str


class Seed(BaseModel):
    code: str
    seed: str


class ResultItem(BaseModel):
    item: str
    code: str
    sub_code: str | None = None
    finding: str | None = None
    inspected_on: date
    follow_up: str | None = None
    due: date | None = None
    follow_up_note: str | None = None


class ResultEntry(BaseModel):
    task: str
    uscc: str
    items: list[ResultItem]


class ResultReview(BaseModel):
    task: str
    uscc: str
    approve: bool
    reason: str | None = None


class Entity(BaseModel):
    task: str
    uscc: str


class NewUser(BaseModel):
    username: str
    password: str
    role: str
    display_name: str | None = None
    cert_no: str | None = None


class Username(BaseModel):
    username: str


@router.get("/openapi.json", include_in_schema=False)
async def api_openapi(
    request: Request, _who: Annotated[Principal | None, Depends(PUBLIC)]
) -> dict[str, Any]:
    """The OpenAPI document of this API (public: it describes, it does not disclose)."""
    return request.app.openapi()


@router.post("/session")
async def api_sign_in(
    request: Request, body: SignIn, _who: Annotated[Principal | None, Depends(PUBLIC)]
) -> JSONResponse:
    """Sign in; returns a bearer token (and sets the session cookie)."""
    app = request.app
    client = request.client.host if request.client else "unknown"
    result = await run_in_threadpool(
        sign_in, app.state.db, app.state.throttle, body.username, body.password, client=client
    )
    if result.wait:
        return JSONResponse(
            {"error": {"zh": f"登录失败次数过多，请 {result.wait} 秒后再试",
                       "en": f"too many failed sign-ins; retry in {result.wait} s",
                       "details": []}},
            status_code=429, headers={"Retry-After": str(result.wait)},
        )  # fmt: skip
    if result.user is None:
        return JSONResponse(
            {"error": {"zh": "用户名或密码错误", "en": "wrong user name or password",
                       "details": []}}, status_code=401,
        )  # fmt: skip
    response = JSONResponse(
        {"token": result.token, "csrf_token": result.csrf, "username": result.user.username,
         "role": result.user.role}
    )  # fmt: skip
    set_session_cookie(response, request, result.token)
    return response


@router.get("/me")
async def api_me(who: Annotated[Principal, Depends(ANYONE)]) -> dict[str, Any]:
    """Who is signed in."""
    return {"username": who.username, "display_name": who.display_name, "role": who.role,
            "cert_no": who.cert_no}  # fmt: skip


@router.get("/dashboard")
async def api_dashboard(
    request: Request, who: Annotated[Principal, Depends(ANYONE)]
) -> dict[str, Any]:
    """Counts, due and overdue deadlines, open alerts."""
    data = await run_in_threadpool(dashboard.overview, request.app.state.db)
    for alert in data["alerts"]:
        alert["raised_at"] = alert["raised_at"].isoformat()
    data["deadline_error"] = (
        dict(zip(("zh", "en"), data["deadline_error"], strict=True))
        if data["deadline_error"]
        else None
    )
    return data


@router.get("/review/queue")
async def api_review_queue(
    request: Request,
    who: Annotated[Principal, Depends(REVIEWER)],
    department: str | None = None,
    region: str | None = None,
    rule: str | None = None,
    severity: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    """Open findings, most severe and oldest first; pass ``next`` back as ``after``."""
    page = await run_in_threadpool(
        lambda: queue_page(request.app.state.db, department=department, region=region,
                           rule=rule, severity=severity, after=after, limit=limit)
    )  # fmt: skip
    return {"items": [i.to_dict() for i in page.items], "next": page.next_cursor}


@router.get("/review/entities/{uscc}")
async def api_review_entity(
    request: Request, uscc: str, who: Annotated[Principal, Depends(REVIEWER)]
) -> dict[str, Any]:
    """An entity's findings explained (rule, legal basis, versions, matched facts)."""
    return await run_in_threadpool(
        lambda: entity_review(request.app.state.db, uscc, rules_dir=request.app.state.rules_dir)
    )


@router.post("/review/findings/{finding_id}/confirm")
async def api_confirm(
    request: Request, finding_id: int, body: Decision, who: Annotated[Principal, Depends(REVIEWER)]
) -> dict[str, Any]:
    """Confirm a finding (a note is required)."""
    return await run_in_threadpool(
        lambda: review.decide(request.app.state.db, who, finding_id, confirm=True,
                              text=body.text, rules_dir=request.app.state.rules_dir)
    )  # fmt: skip


@router.post("/review/findings/{finding_id}/dismiss")
async def api_dismiss(
    request: Request, finding_id: int, body: Decision, who: Annotated[Principal, Depends(REVIEWER)]
) -> dict[str, Any]:
    """Dismiss a finding (a reason is required)."""
    return await run_in_threadpool(
        lambda: review.decide(request.app.state.db, who, finding_id, confirm=False, text=body.text)
    )


@router.get("/tasks")
async def api_tasks(request: Request, who: Annotated[Principal, Depends(PLANNER)]) -> Any:
    """Every task with its status."""
    db = request.app.state.db

    def load() -> list[dict[str, Any]]:
        with db.session() as session:
            return [t.model_dump(mode="json") for t in list_tasks(session)]

    return await run_in_threadpool(load)


@router.post("/tasks")
async def api_create_task(
    request: Request, body: dict[str, Any], who: Annotated[Principal, Depends(PLANNER)]
) -> dict[str, Any]:
    """Create a task from a task description (the same fields as a task file)."""
    code = await run_in_threadpool(tasks.create, request.app.state.db, who, body)
    return {"code": code, "status": "draft"}


@router.post("/tasks/commit")
async def api_commit(
    request: Request, body: TaskCode, who: Annotated[Principal, Depends(PLANNER)]
) -> dict[str, Any]:
    """Commit a task (population and parameters frozen, digests published)."""
    await run_in_threadpool(tasks.commit, request.app.state.db, who, body.code)
    return {"code": body.code, "status": "committed"}


@router.post("/tasks/draw")
async def api_draw(
    request: Request, body: Seed, who: Annotated[Principal, Depends(PLANNER)]
) -> dict[str, Any]:
    """Enter the seed and draw."""
    return await run_in_threadpool(tasks.draw, request.app.state.db, who, body.code, body.seed)


@router.get("/tasks/fairness")
async def api_fairness(
    request: Request, code: str, who: Annotated[Principal, Depends(PLANNER)]
) -> dict[str, Any]:
    """The fairness report of a drawn task."""
    db = request.app.state.db

    def load() -> dict[str, Any]:
        with db.session() as session:
            return fairness_report(session, code)

    return await run_in_threadpool(load)


@router.get("/inspector/assignments")
async def api_assignments(
    request: Request, who: Annotated[Principal, Depends(INSPECTOR)]
) -> list[dict[str, Any]]:
    """My assignments with the state of each result."""
    return await run_in_threadpool(inspector.my_assignments, request.app.state.db, who)


@router.post("/inspector/results")
async def api_enter_results(
    request: Request, body: ResultEntry, who: Annotated[Principal, Depends(INSPECTOR)]
) -> dict[str, Any]:
    """Enter the results of an assigned entity (official codes, follow-up)."""
    db = request.app.state.db
    items = parse_items([i.model_dump(mode="json", exclude_none=True) for i in body.items])

    def enter() -> None:
        with db.session() as session:
            inspector.require_assigned(session, who, body.task, body.uscc)
            enter_results(session, task_code=body.task, uscc=body.uscc, items=items,
                                    actor=who.actor)  # fmt: skip

    await run_in_threadpool(enter)
    return {"task": body.task, "uscc": body.uscc, "state": "entered"}


@router.get("/results/pending")
async def api_pending(
    request: Request, who: Annotated[Principal, Depends(REVIEWER)]
) -> list[dict[str, Any]]:
    """Results awaiting review, and approved results awaiting publication."""
    rows = await run_in_threadpool(reviewer.pending_results, request.app.state.db)
    return [r | {"states": sorted(r["states"])} for r in rows]


@router.post("/results/review")
async def api_review_results(
    request: Request, body: ResultReview, who: Annotated[Principal, Depends(REVIEWER)]
) -> dict[str, Any]:
    """Approve, or return with a reason."""
    await run_in_threadpool(reviewer.review, request.app.state.db, who, body.task, body.uscc,
                            body.approve, body.reason or "")  # fmt: skip
    return {"task": body.task, "uscc": body.uscc, "state": "approved" if body.approve
            else "returned"}  # fmt: skip


@router.post("/results/publish")
async def api_publish(
    request: Request, body: Entity, who: Annotated[Principal, Depends(REVIEWER)]
) -> dict[str, Any]:
    """Publish an entity's approved results (and republish the served site)."""
    await run_in_threadpool(reviewer.publish, request.app.state.db, who, body.task, body.uscc,
                            request.app.state.site_dir)  # fmt: skip
    return {"task": body.task, "uscc": body.uscc, "state": "published"}


@router.get("/users")
async def api_users(
    request: Request, who: Annotated[Principal, Depends(ADMIN)]
) -> list[dict[str, Any]]:
    """Every user."""
    return await run_in_threadpool(users.users, request.app.state.db)


@router.post("/users")
async def api_add_user(
    request: Request, body: NewUser, who: Annotated[Principal, Depends(ADMIN)]
) -> dict[str, Any]:
    """Add a user."""
    await run_in_threadpool(lambda: users.add(request.app.state.db, who, **body.model_dump()))
    return {"username": body.username, "role": body.role}


@router.post("/users/disable")
async def api_disable_user(
    request: Request, body: Username, who: Annotated[Principal, Depends(ADMIN)]
) -> dict[str, Any]:
    """Disable a user (their sessions end)."""
    await run_in_threadpool(users.disable, request.app.state.db, who, body.username)
    request.app.state.sessions.forget()
    return {"username": body.username, "active": False}


# ---------------------------------------------------------------- admin: directories, rule pack
def _upload_doc(fields: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI body of a multipart upload (read by hand, after the size guard)."""
    properties = {"file": {"type": "string", "format": "binary"}} | fields
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {
        "schema": {"type": "object", "properties": properties, "required": ["file"]}}}}}  # fmt: skip


@router.get("/admin/directories")
async def api_directories(
    request: Request, who: Annotated[Principal, Depends(ADMIN)]
) -> list[dict[str, Any]]:
    """Every directory (一单两库) with its number of rows."""
    return await run_in_threadpool(admin_directories.overview, request.app.state.db)


@router.get("/admin/directories/{kind}")
async def api_directory(
    request: Request,
    kind: str,
    who: Annotated[Principal, Depends(ADMIN)],
    filters: admin_directories.Filters,
    after: str = "",
    limit: int = admin_directories.PAGE_SIZE,
) -> dict[str, Any]:
    """One keyset page of a directory, in key order; pass ``next`` back as ``after``."""
    page = await run_in_threadpool(
        lambda: admin_directories.directory_page(
            request.app.state.db, kind, filters, after=after, limit=limit
        )
    )
    return admin_directories.page_json(page)


@router.post(
    "/admin/directories/{kind}/import",
    openapi_extra=_upload_doc(
        {"encoding": {"type": "string", "enum": list(admin_directories.ENCODINGS)},
         "ignore_unknown_columns": {"type": "boolean"}}
    ),
)  # fmt: skip
async def api_import(
    request: Request,
    kind: str,
    _size: Annotated[None, Depends(admin_directories.GUARD)],
    who: Annotated[Principal, Depends(ADMIN)],
) -> JSONResponse:
    """Import a file (multipart ``file``): the counts, or 400 listing every bad row."""
    try:
        report = await admin_directories.receive_import(request, who, kind)
    except ImportRejected as exc:
        error = {"zh": exc.zh, "en": exc.en, "details": exc.details,
                 "rows": [e.as_dict(exc.file) for e in exc.errors]}  # fmt: skip
        return JSONResponse(jsonable_encoder({"error": error}), status_code=400)
    return JSONResponse({"kind": kind, **admin_directories.report_counts(report)})


@router.get("/admin/directories/{kind}/export")
async def api_export(
    request: Request, kind: str, who: Annotated[Principal, Depends(ADMIN)], format: str = "json"
) -> Response:
    """The whole directory as a file (csv, xlsx, json or jsonl), as ``supervision export``."""
    return await run_in_threadpool(
        admin_directories.export_download, request.app.state.db, kind, format
    )


@router.get("/admin/rules")
async def api_rules(request: Request, who: Annotated[Principal, Depends(ADMIN)]) -> dict[str, Any]:
    """The pack in use: root, digest, files, every rule (or its lint errors)."""
    root = admin_rules.pack_root(request)
    return await run_in_threadpool(admin_rules.pack_overview, request.app.state.db, root)


@router.get("/admin/rules/rule")
async def api_rule(
    request: Request, id: str, who: Annotated[Principal, Depends(ADMIN)]
) -> dict[str, Any]:
    """One rule: fields, its source and condition as written, its examples."""
    return await run_in_threadpool(admin_rules.rule_detail, admin_rules.pack_root(request), id)


@router.post("/admin/rules/lint")
async def api_rules_lint(
    request: Request, who: Annotated[Principal, Depends(ADMIN)]
) -> dict[str, Any]:
    """Lint the pack in use: every problem with file, line and key."""
    return await run_in_threadpool(admin_rules.lint_result, admin_rules.pack_root(request))


@router.post("/admin/rules/test")
async def api_rules_test(
    request: Request, who: Annotated[Principal, Depends(ADMIN)]
) -> dict[str, Any]:
    """Lint, then run every example of the pack in use on the real engine."""
    return await run_in_threadpool(admin_rules.lint_and_test, admin_rules.pack_root(request))


@router.post(
    "/admin/rules/candidate",
    openapi_extra=_upload_doc(
        {"test": {"type": "boolean"}, "dry_run": {"type": "boolean"},
         "as_of": {"type": "string", "format": "date"}}
    ),
)  # fmt: skip
async def api_rules_candidate(
    request: Request,
    _size: Annotated[None, Depends(admin_rules.GUARD)],
    who: Annotated[Principal, Depends(ADMIN)],
) -> dict[str, Any]:
    """Lint, test and dry-run a candidate pack (.yaml or .zip); nothing written or replaced."""
    return await admin_rules.receive_candidate(request)
