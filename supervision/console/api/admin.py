"""The admin's directories (一单两库: browse, import, export) and rule pack (lint, test,
candidate packs), by the same services as the pages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse, Response

from supervision.console.api.schemas import DirectoryCount
from supervision.console.deps import AdminUser, DbDep
from supervision.console.routes import admin_directories, admin_rules
from supervision.console.routes.admin_rules import PackRoot
from supervision.directories.report import ImportRejected

router = APIRouter(prefix="/api", tags=["api"])


def _upload_doc(fields: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI body of a multipart upload (read by hand, after the size guard)."""
    properties = {"file": {"type": "string", "format": "binary"}} | fields
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {
        "schema": {"type": "object", "properties": properties, "required": ["file"]}}}}}  # fmt: skip


@router.get("/admin/directories")
def api_directories(db: DbDep, who: AdminUser) -> list[DirectoryCount]:
    """Every directory (一单两库) with its number of rows."""
    return [
        DirectoryCount.model_validate(row)
        for row in admin_directories.overview(db, scope=who.scope)
    ]


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
    page = admin_directories.directory_page(
        db, kind, filters, after=after, limit=limit, scope=who.scope
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
    db: DbDep,
    who: AdminUser,
) -> JSONResponse:
    """Import a file (multipart ``file``): the counts, or 400 listing every bad row."""
    admin_directories.whole_directory(
        admin_directories.directory(kind), who.scope, doing_zh="导入", doing_en="importing"
    )
    try:
        report = await admin_directories.receive_import(request, db, kind=kind, actor=who.actor)
    except ImportRejected as exc:
        error = {"zh": exc.zh, "en": exc.en, "details": exc.details,
                 "rows": [e.as_dict(exc.file) for e in exc.errors]}  # fmt: skip
        return JSONResponse(jsonable_encoder({"error": error}), status_code=400)
    kept = {"kept_rows": report.kept} if report.kept else {}
    return JSONResponse({"kind": kind, **admin_directories.report_counts(report), **kept})


@router.get("/admin/directories/{kind}/export")
def api_export(kind: str, db: DbDep, who: AdminUser, format: str = "json") -> Response:
    """The whole directory as a file (csv, xlsx, json or jsonl), as ``supervision export``."""
    return admin_directories.export_download(db, kind=kind, fmt=format, scope=who.scope)


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
