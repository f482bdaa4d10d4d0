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

from supervision.accounts.sessions import sign_in
from supervision.checks.review import entity_review
from supervision.console.deps import (
    AdminUser,
    Anyone,
    CurrentUser,
    DbDep,
    InspectorUser,
    PlannerUser,
    ReviewerUser,
    RulesDir,
    Sessions,
    SiteDir,
    Throttle,
)
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
from supervision.console.routes.admin_rules import PackRoot
from supervision.console.security import set_session_cookie
from supervision.directories.importing import ImportRejected
from supervision.draw.service import fairness_report
from supervision.draw.tasks import list_tasks
from supervision.results.service import enter_results, parse_items

router = APIRouter(prefix="/api", tags=["api"])


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
async def api_openapi(request: Request, _who: Anyone) -> dict[str, Any]:
    """The OpenAPI document of this API (public: it describes, it does not disclose)."""
    return request.app.openapi()


@router.post("/session")
def api_sign_in(
    request: Request, body: SignIn, db: DbDep, throttle: Throttle, _who: Anyone
) -> JSONResponse:
    """Sign in; returns a bearer token (and sets the session cookie)."""
    client = request.client.host if request.client else "unknown"
    result = sign_in(db, throttle, body.username, body.password, client=client)
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
async def api_me(who: CurrentUser) -> dict[str, Any]:
    """Who is signed in."""
    return {"username": who.username, "display_name": who.display_name, "role": who.role,
            "cert_no": who.cert_no}  # fmt: skip


@router.get("/dashboard")
def api_dashboard(db: DbDep, who: CurrentUser) -> dict[str, Any]:
    """Counts, due and overdue deadlines, open alerts."""
    data = dashboard.overview(db)
    for alert in data["alerts"]:
        alert["raised_at"] = alert["raised_at"].isoformat()
    data["deadline_error"] = (
        dict(zip(("zh", "en"), data["deadline_error"], strict=True))
        if data["deadline_error"]
        else None
    )
    return data


@router.get("/review/queue")
def api_review_queue(
    db: DbDep,
    who: ReviewerUser,
    department: str | None = None,
    region: str | None = None,
    rule: str | None = None,
    severity: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    """Open findings, most severe and oldest first; pass ``next`` back as ``after``."""
    page = queue_page(db, department=department, region=region, rule=rule, severity=severity,
                      after=after, limit=limit)  # fmt: skip
    return {"items": [i.to_dict() for i in page.items], "next": page.next_cursor}


@router.get("/review/entities/{uscc}")
def api_review_entity(
    uscc: str, db: DbDep, rules_dir: RulesDir, who: ReviewerUser
) -> dict[str, Any]:
    """An entity's findings explained (rule, legal basis, versions, matched facts)."""
    return entity_review(db, uscc, rules_dir=rules_dir)


@router.post("/review/findings/{finding_id}/confirm")
def api_confirm(
    finding_id: int, body: Decision, db: DbDep, rules_dir: RulesDir, who: ReviewerUser
) -> dict[str, Any]:
    """Confirm a finding (a note is required)."""
    return review.decide(db, finding_id=finding_id, confirm=True, text=body.text,
                         actor=who.actor, rules_dir=rules_dir)  # fmt: skip


@router.post("/review/findings/{finding_id}/dismiss")
def api_dismiss(finding_id: int, body: Decision, db: DbDep, who: ReviewerUser) -> dict[str, Any]:
    """Dismiss a finding (a reason is required)."""
    return review.decide(db, finding_id=finding_id, confirm=False, text=body.text,
                         actor=who.actor)  # fmt: skip


@router.get("/tasks")
def api_tasks(db: DbDep, who: PlannerUser) -> Any:
    """Every task with its status."""
    with db.session() as session:
        return [t.model_dump(mode="json") for t in list_tasks(session)]


@router.post("/tasks")
def api_create_task(body: dict[str, Any], db: DbDep, who: PlannerUser) -> dict[str, Any]:
    """Create a task from a task description (the same fields as a task file)."""
    code = tasks.create(db, spec=body, actor=who.actor)
    return {"code": code, "status": "draft"}


@router.post("/tasks/commit")
def api_commit(body: TaskCode, db: DbDep, who: PlannerUser) -> dict[str, Any]:
    """Commit a task (population and parameters frozen, digests published)."""
    tasks.commit(db, code=body.code, actor=who.actor)
    return {"code": body.code, "status": "committed"}


@router.post("/tasks/draw")
def api_draw(body: Seed, db: DbDep, who: PlannerUser) -> dict[str, Any]:
    """Enter the seed and draw."""
    return tasks.draw(db, code=body.code, seed=body.seed, actor=who.actor)


@router.get("/tasks/fairness")
def api_fairness(code: str, db: DbDep, who: PlannerUser) -> dict[str, Any]:
    """The fairness report of a drawn task."""
    with db.session() as session:
        return fairness_report(session, code)


@router.get("/inspector/assignments")
def api_assignments(db: DbDep, who: InspectorUser) -> list[dict[str, Any]]:
    """My assignments with the state of each result."""
    return inspector.my_assignments(db, who=who)


@router.post("/inspector/results")
def api_enter_results(body: ResultEntry, db: DbDep, who: InspectorUser) -> dict[str, Any]:
    """Enter the results of an assigned entity (official codes, follow-up)."""
    items = parse_items([i.model_dump(mode="json", exclude_none=True) for i in body.items])
    with db.session() as session:
        inspector.require_assigned(session, who=who, task_code=body.task, uscc=body.uscc)
        enter_results(session, task_code=body.task, uscc=body.uscc, items=items,
                      actor=who.actor)  # fmt: skip
    return {"task": body.task, "uscc": body.uscc, "state": "entered"}


@router.get("/results/pending")
def api_pending(db: DbDep, who: ReviewerUser) -> list[dict[str, Any]]:
    """Results awaiting review, and approved results awaiting publication."""
    rows = reviewer.pending_results(db)
    return [r | {"states": sorted(r["states"])} for r in rows]


@router.post("/results/review")
def api_review_results(body: ResultReview, db: DbDep, who: ReviewerUser) -> dict[str, Any]:
    """Approve, or return with a reason."""
    reviewer.review(db, task=body.task, uscc=body.uscc, approve=body.approve,
                    reason=body.reason or "", actor=who.actor)  # fmt: skip
    return {"task": body.task, "uscc": body.uscc, "state": "approved" if body.approve
            else "returned"}  # fmt: skip


@router.post("/results/publish")
def api_publish(body: Entity, db: DbDep, site: SiteDir, who: ReviewerUser) -> dict[str, Any]:
    """Publish an entity's approved results (and republish the served site)."""
    reviewer.publish(db, task=body.task, uscc=body.uscc, site_dir=site, actor=who.actor)
    return {"task": body.task, "uscc": body.uscc, "state": "published"}


@router.get("/users")
def api_users(db: DbDep, who: AdminUser) -> list[dict[str, Any]]:
    """Every user."""
    return users.users(db)


@router.post("/users")
def api_add_user(body: NewUser, db: DbDep, who: AdminUser) -> dict[str, Any]:
    """Add a user."""
    users.add(db, actor=who.actor, **body.model_dump())
    return {"username": body.username, "role": body.role}


@router.post("/users/disable")
def api_disable_user(
    body: Username, db: DbDep, sessions: Sessions, who: AdminUser
) -> dict[str, Any]:
    """Disable a user (their sessions end)."""
    users.disable(db, username=body.username, actor=who.actor)
    sessions.forget()
    return {"username": body.username, "active": False}


# ---------------------------------------------------------------- admin: directories, rule pack
def _upload_doc(fields: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI body of a multipart upload (read by hand, after the size guard)."""
    properties = {"file": {"type": "string", "format": "binary"}} | fields
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {
        "schema": {"type": "object", "properties": properties, "required": ["file"]}}}}}  # fmt: skip


@router.get("/admin/directories")
def api_directories(db: DbDep, who: AdminUser) -> list[dict[str, Any]]:
    """Every directory (一单两库) with its number of rows."""
    return admin_directories.overview(db)


@router.get("/admin/directories/{kind}")
def api_directory(
    kind: str,
    db: DbDep,
    who: AdminUser,
    filters: admin_directories.Filters,
    after: str = "",
    limit: int = admin_directories.PAGE_SIZE,
) -> dict[str, Any]:
    """One keyset page of a directory, in key order; pass ``next`` back as ``after``."""
    page = admin_directories.directory_page(db, kind, filters, after=after, limit=limit)
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
    db: DbDep,
    who: AdminUser,
) -> JSONResponse:
    """Import a file (multipart ``file``): the counts, or 400 listing every bad row."""
    try:
        report = await admin_directories.receive_import(request, db, kind=kind, actor=who.actor)
    except ImportRejected as exc:
        error = {"zh": exc.zh, "en": exc.en, "details": exc.details,
                 "rows": [e.as_dict(exc.file) for e in exc.errors]}  # fmt: skip
        return JSONResponse(jsonable_encoder({"error": error}), status_code=400)
    return JSONResponse({"kind": kind, **admin_directories.report_counts(report)})


@router.get("/admin/directories/{kind}/export")
def api_export(kind: str, db: DbDep, who: AdminUser, format: str = "json") -> Response:
    """The whole directory as a file (csv, xlsx, json or jsonl), as ``supervision export``."""
    return admin_directories.export_download(db, kind=kind, fmt=format)


@router.get("/admin/rules")
def api_rules(db: DbDep, root: PackRoot, who: AdminUser) -> dict[str, Any]:
    """The pack in use: root, digest, files, every rule (or its lint errors)."""
    return admin_rules.pack_overview(db, root)


@router.get("/admin/rules/rule")
def api_rule(id: str, root: PackRoot, who: AdminUser) -> dict[str, Any]:
    """One rule: fields, its source and condition as written, its examples."""
    return admin_rules.rule_detail(root, id)


@router.post("/admin/rules/lint")
def api_rules_lint(root: PackRoot, who: AdminUser) -> dict[str, Any]:
    """Lint the pack in use: every problem with file, line and key."""
    return admin_rules.lint_result(root)


@router.post("/admin/rules/test")
def api_rules_test(root: PackRoot, who: AdminUser) -> dict[str, Any]:
    """Lint, then run every example of the pack in use on the real engine."""
    return admin_rules.lint_and_test(root)


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
    db: DbDep,
    root: PackRoot,
    who: AdminUser,
) -> dict[str, Any]:
    """Lint, test and dry-run a candidate pack (.yaml or .zip); nothing written or replaced."""
    return await admin_rules.receive_candidate(request, db, root)
