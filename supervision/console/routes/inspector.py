"""The inspector's pages: my assignments, and result entry with the official categories.

谁检查、谁录入: an inspector sees and enters results only for entities of a draw that
assigned them (by 执法证号). Evidence files are uploaded with the form (``evidence_<n>``,
several per item): each is saved under its base name in a temporary folder and stored by
the same ``results.evidence.store_evidence`` as ``result enter --evidence`` (in the
database, by SHA-256, at most ``SUPERVISION_EVIDENCE_MAX_BYTES`` each).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from supervision import clock
from supervision.accounts.sessions import Principal
from supervision.checklists.answers import ANSWER_VALUES
from supervision.checklists.spec import Checklist
from supervision.console.deps import DbDep, FormFields, InspectorUser
from supervision.console.names import with_names
from supervision.console.pages import redirect, render
from supervision.console.routes.admin_uploads import save_upload, upload_guard
from supervision.console.security import Forbidden
from supervision.db import Database
from supervision.errors import SupervisionError
from supervision.models import Assignment, Department, Entity, Task
from supervision.models.users import Role
from supervision.reference.result_codes import (
    CODE_RULES,
    FOLLOW_UP_REFS,
    FOLLOW_UPS,
    MAIN_CODES,
    RESULT_STATES,
    SUB_CODES,
)
from supervision.results.checklist import shipped_checklists
from supervision.results.entry import enter_results
from supervision.results.evidence import evidence_limit
from supervision.results.inputs import ItemInput, parse_items
from supervision.results.scoping import reach_result
from supervision.results.service import entity_results, list_results
from supervision.results.visit import VisitInput, combined_checklist, enter_visit, open_items

router = APIRouter()


def my_assignments(db: Database, *, who: Principal) -> list[dict[str, Any]]:
    """One row per (task, entity, item) the inspector is assigned to, with its state."""
    with db.session() as session:
        rows = session.exec(
            select(Assignment.task_code, Assignment.uscc, Entity.name, Task.name)
            .join(Entity, col(Entity.uscc) == col(Assignment.uscc))
            .join(Task, col(Task.code) == col(Assignment.task_code))
            .where(col(Assignment.cert_no) == (who.cert_no or ""))
            .order_by(col(Assignment.task_code), col(Assignment.uscc))
        ).all()
        names = {(t, u): (e, tn) for t, u, e, tn in rows}
        out = []
        for task_code in sorted({t for t, _ in names}):
            for line in list_results(session, task_code=task_code):
                key = (task_code, line["uscc"])
                if key in names:
                    out.append({**line, "task": task_code, "entity_name": names[key][0],
                                "task_name": names[key][1]})  # fmt: skip
    return out


def require_assigned(session: Session, *, who: Principal, task_code: str, uscc: str) -> None:
    found = session.exec(
        select(Assignment).where(
            col(Assignment.task_code) == task_code,
            col(Assignment.uscc) == uscc,
            col(Assignment.cert_no) == (who.cert_no or ""),
        )
    ).first()
    if found is None:
        # Outside the inspector's scope it does not exist for them; inside, it is someone
        # else's assignment (谁检查、谁录入).
        reach_result(session, task_code=task_code, uscc=uscc, scope=who.scope)
        raise Forbidden(
            who.role,
            frozenset({Role.INSPECTOR}),
            zh="只能查看和录入分配给您的检查对象（谁检查、谁录入）",
            en="you can only see and enter results for entities assigned to you",
        )


#: Evidence files per item in one form, and the most bytes a result form may carry.
MAX_EVIDENCE_FILES = 10
MAX_RESULT_FORM_BYTES = 100 * 1024 * 1024


def items_from_form(
    form: dict[str, str], evidence: dict[int, list[str]] | None = None
) -> list[ItemInput]:
    """The entry form's rows (``item_<n>``, ``code_<n>`` ...) as validated items;
    ``evidence``: the saved files of row n (paths), as ``result enter --evidence`` takes them."""
    entries = []
    n = 0
    while f"item_{n}" in form:
        entry: dict[str, Any] = {"item": form[f"item_{n}"]}
        if evidence and evidence.get(n):
            entry["evidence"] = evidence[n]
        for field in ("code", "sub_code", "finding", "inspected_on", "follow_up", "due",
                      "follow_up_note", "follow_up_ref"):  # fmt: skip
            value = form.get(f"{field}_{n}", "").strip()
            if value:
                entry[field] = value
        prefix = f"check_{n}_"
        answers = {
            key[len(prefix) :]: _answer(form, n, key[len(prefix) :], value)
            for key, value in form.items()
            if key.startswith(prefix) and value.strip()
        }
        if answers:
            entry["checklist"] = answers
        if entry.get("code") or answers:
            entries.append(entry)
        n += 1
    if not entries:
        raise SupervisionError(
            "请至少为一个事项选择检查结果，未作任何更改",
            "choose a result for at least one item; nothing was changed",
        )
    return parse_items(entries)


def _answer(form: dict[str, str], n: int, point: str, value: str) -> Any:
    """One checklist answer from the form: the choice, with its note when one was written."""
    note = form.get(f"checknote_{n}_{point}", "").strip()
    return {"answer": value.strip(), "note": note} if note else value.strip()


def _checklists_of(session: Session, *, task_code: str) -> dict[str, Checklist]:
    """The checklist of each of the task's items (item code → checklist), where one exists."""
    task = session.get(Task, task_code)
    if task is None:
        return {}
    try:
        every = shipped_checklists()
    except SupervisionError:
        return {}  # a broken folder: the form falls back to codes; entry names the problem
    out = {}
    for item in task.items:
        checklist = every.get((item["code"], int(item["version"])))
        if checklist is not None:
            out[item["code"]] = checklist
    return out


def enter(
    db: Database,
    *,
    who: Principal,
    task_code: str,
    uscc: str,
    form: dict[str, str],
    evidence: dict[int, list[str]] | None = None,
) -> None:
    with db.session() as session:
        # Who may enter first: an outsider learns nothing from the form's errors.
        require_assigned(session, who=who, task_code=task_code, uscc=uscc)
        items = items_from_form(form, evidence)
        enter_results(session, task_code=task_code, uscc=uscc, items=items, actor=who.actor)


@router.get("/inspector", response_class=HTMLResponse)
def assignments_page(request: Request, db: DbDep, who: InspectorUser) -> HTMLResponse:
    """My assignments and where each result stands."""
    rows = my_assignments(db, who=who)
    return render(request, "console/inspector.html", rows=rows, states=RESULT_STATES,
                  quote=quote)  # fmt: skip


@router.get("/inspector/result", response_class=HTMLResponse)
def result_form(
    request: Request, task: str, uscc: str, db: DbDep, who: InspectorUser
) -> HTMLResponse:
    """Result entry for one assigned entity: official codes, sub-codes, follow-up."""
    with db.session() as session:
        require_assigned(session, who=who, task_code=task, uscc=uscc)
        data = with_names(session, entity_results(session, task_code=task, uscc=uscc))
        checklists = _checklists_of(session, task_code=task)
        joint = _joint(session, task_code=task)
    return render(
        request, "console/result_entry.html", data=data, main_codes=MAIN_CODES,
        checklists=checklists, answer_values=ANSWER_VALUES, joint=joint, quote=quote,
        sub_codes=SUB_CODES, follow_ups=FOLLOW_UPS, states=RESULT_STATES,
        code_rules=CODE_RULES, follow_up_refs=FOLLOW_UP_REFS,
        today=clock.today().isoformat(), evidence_max=evidence_limit(),
        max_evidence_files=MAX_EVIDENCE_FILES,
    )  # fmt: skip


def _joint(session: Session, *, task_code: str) -> bool:
    """Whether the task is joint (items of several departments): its form can be 一表通查."""
    task = session.get(Task, task_code)
    return task is not None and len({i["department_code"] for i in task.items}) > 1


def visit_from_form(form: dict[str, str], *, items: list[str]) -> VisitInput:
    """The combined form (``a|ITEM|POINT``, ``n|ITEM|POINT``, ``finding|ITEM``...) as a visit."""
    answers: dict[str, dict[str, Any]] = {}
    extras: dict[str, dict[str, Any]] = {}
    for key, value in form.items():
        kind, _, rest = key.partition("|")
        if kind == "a" and value.strip():
            item, _, point = rest.partition("|")
            note = form.get(f"n|{item}|{point}", "").strip()
            answers.setdefault(item, {})[point] = (
                {"answer": value.strip(), "note": note} if note else value.strip()
            )
        elif kind in ("finding", "follow_up", "due", "follow_up_ref") and value.strip():
            extras.setdefault(rest, {})[kind] = value.strip()
    for item in items:
        answers.setdefault(item, {})
    data: dict[str, Any] = {"answers": answers, "items": extras}
    if form.get("inspected_on", "").strip():
        data["inspected_on"] = form["inspected_on"].strip()
    try:
        return VisitInput.model_validate(data)
    except ValueError as exc:
        raise SupervisionError(
            f"一表通查检查表有误：{exc}", f"the combined checklist is invalid: {exc}"
        ) from None


@router.get("/inspector/visit", response_class=HTMLResponse)
def visit_form(
    request: Request, task: str, uscc: str, db: DbDep, who: InspectorUser
) -> HTMLResponse:
    """一表通查: one combined checklist over every department's open items of the visit."""
    with db.session() as session:
        require_assigned(session, who=who, task_code=task, uscc=uscc)
        data = with_names(session, entity_results(session, task_code=task, uscc=uscc))
        stored = session.get(Task, task)
        assert stored is not None
        items = open_items(session, task=stored, uscc=uscc)
        try:
            every = shipped_checklists()
        except SupervisionError:
            every = {}
        parts = combined_checklist(stored, items, every)
        departments = {
            d.code: d.name
            for d in session.exec(select(Department).where(col(Department.code).in_(
                [code for code, _ in parts])))
        }  # fmt: skip
    item_names = {i["item"]: i.get("item_name", "") for i in data["items"]}
    return render(
        request, "console/visit_entry.html", data=data, parts=parts, open_items=items,
        departments=departments, item_names=item_names,
        answer_values=ANSWER_VALUES, follow_ups=FOLLOW_UPS, follow_up_refs=FOLLOW_UP_REFS,
        states=RESULT_STATES, today=clock.today().isoformat(),
    )  # fmt: skip


@router.post("/inspector/visit")
def visit_submit(db: DbDep, who: InspectorUser, form: FormFields) -> Response:
    """Enter the combined checklist: every open item's result (待审核), from its part."""
    task, uscc = form.get("task", ""), form.get("uscc", "")
    with db.session() as session:
        require_assigned(session, who=who, task_code=task, uscc=uscc)
        stored = session.get(Task, task)
        items = open_items(session, task=stored, uscc=uscc) if stored is not None else []
        visit = visit_from_form(form, items=items)
        enter_visit(session, task_code=task, uscc=uscc, visit=visit, actor=who.actor)
    return redirect("/inspector/result", task=task, uscc=uscc, done="entered")


async def save_evidence(form: FormData, folder: Path) -> dict[int, list[str]]:
    """The form's evidence files (``evidence_<n>``) saved in `folder` under their base names
    (one sub-folder per file, so two files of the same name never overwrite each other);
    each is refused past the evidence limit while it is copied."""
    limit = evidence_limit()
    saved: dict[int, list[str]] = {}
    serial = 0
    for key in sorted({k for k in form if k.startswith("evidence_")}):
        row = key.removeprefix("evidence_")
        uploads = [u for u in form.getlist(key) if isinstance(u, UploadFile) and u.filename]
        if not row.isdigit() or not uploads:
            continue
        if len(uploads) > MAX_EVIDENCE_FILES:
            raise SupervisionError(
                f"每个事项最多上传 {MAX_EVIDENCE_FILES} 个证据文件，未作任何更改",
                f"at most {MAX_EVIDENCE_FILES} evidence files per item; nothing was changed",
            )
        for upload in uploads:
            serial += 1
            target = folder / str(serial) / evidence_name(upload.filename or "")
            target.parent.mkdir()
            await save_upload(upload, target, limit)
            saved.setdefault(int(row), []).append(str(target))
    return saved


def evidence_name(filename: str) -> str:
    """The base name of an uploaded evidence file: no folders, no control characters."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*')
    name = name.lstrip(".")[-120:]
    return name or "evidence"


GUARD = upload_guard(MAX_RESULT_FORM_BYTES)


@router.post("/inspector/result")
async def result_submit(
    request: Request, _size: Annotated[None, Depends(GUARD)], db: DbDep, who: InspectorUser
) -> Response:
    """Enter (or re-enter after return) the results, with evidence files: state 待审核,
    recorded in the trail; nothing is written if anything is refused."""
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    task, uscc = fields.get("task", ""), fields.get("uscc", "")
    with tempfile.TemporaryDirectory(prefix="supervision-evidence-") as tmp:
        evidence = await save_evidence(form, Path(tmp))
        await run_in_threadpool(
            enter, db, who=who, task_code=task, uscc=uscc, form=fields, evidence=evidence
        )
    return redirect("/inspector/result", task=task, uscc=uscc, done="entered")
