"""The directories (admin): 一单两库 pages with search, keyset pages, import and export.

One page per directory (departments, the item list, entities, inspectors, 回避 conflicts)
with counts, filters and pages that continue after the last key shown (the primary key's
index, so page 1,000 costs what page 1 costs). Uploads are imported and downloads
exported by the very services behind ``supervision import`` / ``supervision export``
(``import_file``, ``export_file``): the same validation, all-or-nothing, every bad row
reported, Excel-safe cells. An import runs as the signed-in admin (``actor=``), so its trail
event names them.

Personal data (legal representatives, inspectors' names) is shown on these pages, which
only signed-in admins reach; it is never logged, and the search never takes a person's
name (search terms travel in the URL, and URLs end up in proxy logs).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    Table,
    func,
    literal,
    or_,
    select,
    tuple_,
)
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from supervision import clock
from supervision.accounts.scope import Scope
from supervision.console.deps import AdminUser, DbDep
from supervision.console.pages import redirect, render
from supervision.console.routes.admin_uploads import (
    MAX_IMPORT_BYTES,
    form_text,
    form_upload,
    safe_name,
    save_upload,
    upload_guard,
)
from supervision.console.security import Forbidden
from supervision.db import Database, table_of
from supervision.directories.exporting import EXPORT_FORMATS, export_file
from supervision.directories.importing import import_file
from supervision.directories.kinds import Kind, kind_spec
from supervision.directories.report import ImportRejected, ImportReport
from supervision.directories.tabular import json_value, text_cell
from supervision.errors import NotFoundError, SupervisionError
from supervision.models import Department
from supervision.models.fields import shown, text_problem
from supervision.models.users import Role
from supervision.reference.regions import region_prefix
from supervision.reference.vocab import EntityStatus, InspectorStatus, RiskClass

router = APIRouter()
GUARD = upload_guard(MAX_IMPORT_BYTES)
PAGE_SIZE = 50
UPLOAD_TYPES = (".csv", ".xlsx", ".json", ".jsonl")
#: CSV encodings offered on the form (auto-detection handles UTF-8, BOM and GBK).
ENCODINGS = ("", "utf-8", "gb18030")


@dataclass(frozen=True)
class Directory:
    """One directory page: what it shows and what its search box and filters match."""

    kind: str  # the kinds.KINDS name
    zh: str
    en: str
    columns: tuple[str, ...]
    prefix: tuple[str, ...]  # code columns the search matches by prefix
    contains: tuple[str, ...] = ()  # name columns the search matches anywhere
    filters: tuple[str, ...] = ()  # region, status, risk_class, department
    status_vocab: Any = None

    @property
    def spec(self) -> Kind:
        return kind_spec(self.kind)

    @property
    def table(self) -> Table:
        return self.spec.table

    def headings(self) -> list[tuple[str, str, str]]:
        """(field, zh, en) per column shown: the import/export headers, one vocabulary."""
        out = []
        for name in self.columns:
            column = self.spec.column(name)
            out.append((name, column.zh[0], column.export_key))
        return out


DIRECTORIES: dict[str, Directory] = {
    d.kind: d
    for d in (
        Directory(
            "entities", "检查对象名录库", "Entity directory",
            ("uscc", "name", "entity_type", "industry_code", "region_code", "legal_rep",
             "status", "risk_class", "abnormal"),
            prefix=("uscc",), contains=("name",), filters=("region", "status", "risk_class"),
            status_vocab=EntityStatus,
        ),
        Directory(
            "inspectors", "执法检查人员名录库", "Inspector directory",
            ("cert_no", "name", "department_code", "region_code", "qualifications", "status"),
            prefix=("cert_no",), filters=("department", "region", "status"),
            status_vocab=InspectorStatus,
        ),
        Directory(
            "items", "抽查事项清单", "Inspection item list",
            ("code", "version", "name", "department_code", "kind", "methods", "legal_basis",
             "effective_from", "effective_to"),
            prefix=("code",), contains=("name",), filters=("department",),
        ),
        Directory(
            "conflicts", "回避关系", "Conflicts of interest",
            ("inspector_cert_no", "uscc", "reason", "declared_on"),
            prefix=("inspector_cert_no", "uscc"),
        ),
        Directory(
            "departments", "部门", "Departments", ("code", "name", "region_code"),
            prefix=("code",), contains=("name",), filters=("region",),
        ),
    )
}  # fmt: skip


def directory(kind: str) -> Directory:
    try:
        return DIRECTORIES[kind]
    except KeyError:
        raise NotFoundError(
            f"没有名为 {kind} 的名录，应为 {'、'.join(DIRECTORIES)} 之一",
            f"no directory {kind}: use one of {', '.join(DIRECTORIES)}",
        ) from None


# ---------------------------------------------------------------- reading
def _count(conn: Any, table: Table, *where: ColumnElement[bool]) -> int:
    return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def in_scope(d: Directory, scope: Scope | None) -> list[ColumnElement[bool]]:
    """The rows of a directory an admin of ``scope`` reaches: entities, inspectors and
    departments of their region, inspectors of their departments (the item list and the
    conflicts are the province's, seen whole)."""
    where: list[ColumnElement[bool]] = []
    if scope is None:
        return where
    if scope.region and "region" in d.filters:
        where.append(d.table.c.region_code.startswith(scope.region, autoescape=True))
    if scope.departments and "department" in d.filters:
        where.append(d.table.c.department_code.in_(scope.departments))
    return where


def whole_directory(d: Directory, scope: Scope | None, *, doing_zh: str, doing_en: str) -> None:
    """Refuse (403) to import or export a whole directory for an admin whose scope limits it:
    an import replaces rows of every region, an export holds them all."""
    if in_scope(d, scope):
        raise Forbidden(
            Role.ADMIN,
            frozenset({Role.ADMIN}),
            zh=f"{doing_zh}整个名录需要全省范围；本人范围内的行请在页面上查看",
            en=f"{doing_en} a whole directory needs the whole province's scope; the rows of "
            "your scope are on the page",
        )


def overview(db: Database, *, scope: Scope | None = None) -> list[dict[str, Any]]:
    """Every directory with its number of rows (those inside ``scope``)."""
    with db.engine.connect() as conn:
        return [
            {"kind": d.kind, "zh": d.zh, "en": d.en,
             "total": _count(conn, d.table, *in_scope(d, scope))}
            for d in DIRECTORIES.values()
        ]  # fmt: skip


def _vocab_value(vocab: Any, text: str, label: str) -> str:
    try:
        return str(vocab.parse(text).value)
    except ValueError as exc:
        zh, _, en = str(exc).partition(" / ")
        raise SupervisionError(f"{label} {text}：{zh}", f"{label} {text}: {en or zh}") from None


def conditions(d: Directory, filters: dict[str, str]) -> list[ColumnElement[bool]]:
    """The WHERE clauses of the search box and the filters (bilingual errors for bad ones)."""
    table = d.table
    where: list[ColumnElement[bool]] = []
    for name, value in filters.items():
        problem = text_problem(value)
        if problem is not None:
            raise SupervisionError(f"筛选条件 {name}：{problem[0]}", f"filter {name}: {problem[1]}")
    q = filters.get("q", "").strip()
    if q:
        matches = [table.c[c].startswith(q.upper(), autoescape=True) for c in d.prefix]
        matches += [table.c[c].startswith(q, autoescape=True) for c in d.prefix if q != q.upper()]
        matches += [table.c[c].contains(q, autoescape=True) for c in d.contains]
        where.append(or_(*matches))
    region = filters.get("region", "").strip()
    if region and "region" in d.filters:
        if len(region) != 6 or not region.isdigit():
            raise SupervisionError("行政区划代码必须是6位数字", "a region code is 6 digits")
        where.append(table.c.region_code.startswith(region_prefix(region), autoescape=True))
    status = filters.get("status", "").strip()
    if status and "status" in d.filters:
        where.append(table.c.status == _vocab_value(d.status_vocab, status, "状态 status"))
    risk = filters.get("risk_class", "").strip()
    if risk and "risk_class" in d.filters:
        where.append(table.c.risk_class == _vocab_value(RiskClass, risk.upper(), "风险 risk"))
    department = filters.get("department", "").strip()
    if department and "department" in d.filters:
        where.append(table.c.department_code == department)
    return where


def encode_cursor(key: tuple[Any, ...]) -> str:
    """A page's end as text: the key itself when it is one text value, else JSON."""
    if len(key) == 1 and isinstance(key[0], str):
        return key[0]
    return json.dumps(list(key), ensure_ascii=False)


def decode_cursor(d: Directory, text: str) -> tuple[Any, ...]:
    """The key a page ends at, checked against the key columns' types: a cursor that
    no page could have produced is a clear error, never a database one."""
    keys = [d.table.c[k] for k in d.spec.key]
    value: Any = None
    if len(keys) == 1 and not text.startswith("["):
        value = [text]
    else:
        with contextlib.suppress(ValueError):  # not JSON: refused below
            value = json.loads(text)
    if (
        isinstance(value, list)
        and len(value) == len(keys)
        and all(_fits(v, k) for v, k in zip(value, keys, strict=True))
    ):
        return tuple(value)
    raise SupervisionError(
        f"分页位置 {shown(text)} 无效，请从第一页开始",
        f"invalid page cursor {shown(text)}; start from the first page",
    )


def _fits(value: Any, column: Any) -> bool:
    """Whether `value` could be stored in `column` (a key column: text or integer)."""
    kind = getattr(column.type, "impl_instance", column.type)  # SQLModel's AutoString
    if isinstance(value, str):
        limit = getattr(kind, "length", None) or 1000
        return isinstance(kind, String) and len(value) <= limit and not text_problem(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return isinstance(kind, Integer) and -(2**63) < value < 2**63
    return False


def directory_page(
    db: Database,
    kind: str,
    filters: dict[str, str],
    *,
    after: str = "",
    limit: int = PAGE_SIZE,
    scope: Scope | None = None,
) -> dict[str, Any]:
    """One keyset page of a directory: rows after `after` in key order, with the counts.

    ``total`` counts the whole directory, ``matching`` the rows the filters keep,
    ``by_status`` the whole directory per status (entities and inspectors); all of them
    only the rows inside ``scope``.
    """
    d = directory(kind)
    table = d.table
    keys = [table.c[k] for k in d.spec.key]
    reach = in_scope(d, scope)
    where = reach + conditions(d, filters)
    limit = max(1, min(limit, 500))
    query = select(*(table.c[c] for c in d.columns), *keys).where(*where)
    if after:
        cursor = decode_cursor(d, after)
        if len(keys) == 1:
            query = query.where(keys[0] > cursor[0])
        else:  # a row-value comparison: one range of the primary key's index
            query = query.where(
                tuple_(*keys)
                > tuple_(*(literal(v, k.type) for v, k in zip(cursor, keys, strict=True)))
            )
    query = query.order_by(*keys).limit(limit + 1)
    with db.engine.connect() as conn:
        rows = conn.execute(query).all()
        total = _count(conn, table, *reach)
        matching = _count(conn, table, *where) if len(where) > len(reach) else total
        by_status: list[tuple[str, int]] = []
        if d.status_vocab is not None:
            counted: dict[str, int] = dict(
                conn.execute(
                    select(table.c.status, func.count()).where(*reach).group_by(table.c.status)
                ).all()
            )
            by_status = [(m.value, int(counted.get(m.value, 0))) for m in d.status_vocab]
        departments = []
        if "department" in d.filters:
            dept = table_of(Department)
            departments = [
                (r.code, r.name) for r in conn.execute(select(dept).order_by(dept.c.code))
            ]
    width = len(d.columns)
    shown = rows[:limit]
    next_cursor = encode_cursor(tuple(shown[-1][width:])) if len(rows) > limit else None
    return {
        "kind": d.kind,
        "zh": d.zh,
        "en": d.en,
        "total": total,
        "matching": matching,
        "by_status": by_status,
        "departments": departments,
        "columns": d.headings(),
        "rows": [dict(zip(d.columns, row[:width], strict=True)) for row in shown],
        "next": next_cursor,
    }


# ---------------------------------------------------------------- import and export
def import_upload(
    db: Database,
    *,
    kind: str,
    path: Path,
    encoding: str | None,
    ignore_unknown_columns: bool,
    actor: str,
) -> ImportReport:
    """Import a saved upload with the CLI's service, as `actor` (all or nothing).

    One process (``workers=1``): the console is a threaded server, and forking a pool
    of validators from inside it is not worth the risk for a county's file sizes.
    """
    directory(kind)
    return import_file(
        db,
        kind=kind,
        path=path,
        encoding=encoding or None,
        ignore_unknown_columns=ignore_unknown_columns,
        workers=1,
        actor=actor,
    )


async def receive_import(request: Request, db: Database, *, kind: str, actor: str) -> ImportReport:
    """Read the multipart form, save the file under its own name in a temp dir, import it."""
    directory(kind)
    form = await request.form()  # closed by the upload guard, however the request ends
    upload = form_upload(form)
    name = safe_name(upload.filename, UPLOAD_TYPES)
    encoding = form_text(form, "encoding")
    if encoding not in ENCODINGS:
        raise SupervisionError(f"不支持的编码 {encoding}", f"unsupported encoding {encoding}")
    ignore = form_text(form, "ignore_unknown_columns") in ("1", "on", "true", "yes")
    with tempfile.TemporaryDirectory(prefix="sv-import-") as tmp:
        target = Path(tmp) / name
        await save_upload(upload, target, MAX_IMPORT_BYTES)
        return await run_in_threadpool(
            partial(import_upload, db, kind=kind, path=target, encoding=encoding,
                    ignore_unknown_columns=ignore, actor=actor)
        )  # fmt: skip


def export_download(
    db: Database, *, kind: str, fmt: str, scope: Scope | None = None
) -> FileResponse:
    """The directory exported by the CLI's service into a temp file, sent, then removed.
    The export is the whole directory: an admin whose scope is limited cannot take it."""
    whole_directory(directory(kind), scope, doing_zh="导出", doing_en="exporting")
    if fmt not in EXPORT_FORMATS:
        raise SupervisionError(
            f"导出格式应为 {'、'.join(EXPORT_FORMATS)} 之一",
            f"the export format must be one of {', '.join(EXPORT_FORMATS)}",
        )
    tmp = tempfile.mkdtemp(prefix="sv-export-")
    try:
        name = f"{kind}-{clock.today().isoformat()}.{fmt}"
        path = Path(tmp) / name
        export_file(db, kind=kind, path=path, fmt=fmt)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    media = {
        "csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "json": "application/json",
        "jsonl": "application/x-ndjson",
    }[fmt]
    return FileResponse(
        path, media_type=media, filename=name,
        background=BackgroundTask(shutil.rmtree, tmp, ignore_errors=True),
    )  # fmt: skip


def report_counts(report: ImportReport) -> dict[str, Any]:
    """The counts of an import (``kept``: rows whose decided credit class a newer decision
    kept, only when there are any)."""
    counts = {"file": report.file, "rows": report.rows, "added": report.added,
              "updated": report.updated, "unchanged": report.unchanged}  # fmt: skip
    if report.kept:
        counts["kept"] = len(report.kept)
    return counts


def _int_param(request: Request, name: str) -> int | None:
    value = request.query_params.get(name, "")
    return int(value) if value.isdigit() else None


# ---------------------------------------------------------------- pages
@router.get("/admin/directories", response_class=HTMLResponse)
def directories_page(request: Request, db: DbDep, who: AdminUser) -> HTMLResponse:
    """Every directory with its number of rows."""
    rows = overview(db, scope=who.scope)
    return render(request, "console/admin_directories.html", directories=rows)


def directory_filters(
    q: str = "", region: str = "", status: str = "", risk_class: str = "", department: str = ""
) -> dict[str, str]:
    """The search and filters of a directory page (query parameters; "" for none)."""
    return {"q": q, "region": region, "status": status, "risk_class": risk_class,
            "department": department}  # fmt: skip


Filters = Annotated[dict[str, str], Depends(directory_filters)]


@router.get("/admin/directories/{kind}", response_class=HTMLResponse)
def directory_view(
    request: Request,
    kind: str,
    db: DbDep,
    who: AdminUser,
    filters: Filters,
    after: str = "",
) -> HTMLResponse:
    """One directory: counts, search and filters, a keyset page, import and export."""
    page = directory_page(db, kind, filters, after=after, scope=who.scope)
    kept = {k: v for k, v in filters.items() if v}
    base = f"/admin/directories/{kind}"
    next_href = f"{base}?{urlencode(kept | {'after': page['next']})}" if page["next"] else None
    first_href = f"{base}?{urlencode(kept)}" if kept else base
    imported: dict[str, Any] | None = None
    if request.query_params.get("done") == "imported":
        imported = {
            k: _int_param(request, k) for k in ("rows", "added", "updated", "unchanged", "kept")
        }
        imported["file"] = request.query_params.get("file", "")
    d = directory(kind)
    return render(
        request, "console/admin_directory.html", page=page, d=d, filters=filters,
        next_href=next_href, first_href=first_href, first_page=not after, imported=imported,
        formats=EXPORT_FORMATS, encodings=ENCODINGS, accept=",".join(UPLOAD_TYPES),
        statuses=[m.value for m in d.status_vocab] if d.status_vocab else [],
        cell=text_cell,
    )  # fmt: skip


@router.post("/admin/directories/{kind}/import", response_model=None)
async def import_form(
    request: Request,
    kind: str,
    _size: Annotated[None, Depends(GUARD)],
    db: DbDep,
    who: AdminUser,
) -> Response:
    """Import an uploaded file: every bad row listed and nothing written, or the counts."""
    whole_directory(directory(kind), who.scope, doing_zh="导入", doing_en="importing")
    try:
        report = await receive_import(request, db, kind=kind, actor=who.actor)
    except ImportRejected as exc:
        return render(
            request, "console/admin_import_rejected.html", status=400, d=directory(kind),
            error=exc, rows=[e.as_dict(exc.file) for e in exc.errors],
        )  # fmt: skip
    return redirect(f"/admin/directories/{kind}", done="imported", **report_counts(report))


@router.get("/admin/directories/{kind}/export")
def export_form(kind: str, db: DbDep, who: AdminUser, format: str = "csv") -> Response:
    """Download the whole directory (csv, xlsx, json or jsonl), as ``supervision export``."""
    return export_download(db, kind=kind, fmt=format, scope=who.scope)


def page_json(page: dict[str, Any]) -> dict[str, Any]:
    """A directory page for the API: native values, dates as ISO text."""
    return {
        "kind": page["kind"],
        "total": page["total"],
        "matching": page["matching"],
        "by_status": dict(page["by_status"]),
        "rows": [{k: json_value(v) for k, v in row.items()} for row in page["rows"]],
        "next": page["next"],
    }
