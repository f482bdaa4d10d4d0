"""The review queue (reviewer): flagged entities, an entity's findings explained, decisions."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from supervision import trail
from supervision.accounts.scope import Scope
from supervision.checks.review import (
    EFFECT_STATUS_WORDS,
    EFFECT_WORDS,
    confirm_finding,
    dismiss_finding,
    entity_review,
    queue_explained,
)
from supervision.console.deps import DbDep, ReviewerUser, RulesDir
from supervision.console.pages import local_time, redirect, render
from supervision.console.queue import queue_page
from supervision.credit.standing import credit_standing
from supervision.db import Database
from supervision.models.findings import SEVERITY_ZH
from supervision.reference.regions import region_name
from supervision.reference.result_codes import MAIN_CODES, SUB_CODES
from supervision.rules.pack import SEVERITIES

router = APIRouter()


def decide(
    db: Database,
    *,
    finding_id: int,
    confirm: bool,
    text: str,
    actor: str,
    rules_dir: Any = None,
    scope: Scope | None = None,
) -> dict[str, Any]:
    """Confirm or dismiss a finding as `actor` (the service records it in the trail, in
    the decision's own transaction); a finding outside ``scope`` is not found."""
    if confirm:
        return confirm_finding(
            db, finding_id=finding_id, note=text, actor=actor, rules_dir=rules_dir, scope=scope
        )
    return dismiss_finding(db, finding_id=finding_id, reason=text, actor=actor, scope=scope)


def finding_history(db: Database, finding_ids: list[int]) -> list[Any]:
    """The trail events of these findings (decisions, who, when), oldest first."""
    with db.session() as session:
        found = [e for fid in finding_ids for e in trail.events(session, obj=f"finding:{fid}")]
    return sorted(found, key=lambda e: e.seq)


def code_label(code: str | None) -> str:
    if not code:
        return ""
    wording = MAIN_CODES.get(code) or SUB_CODES.get(code)
    return f"{code} {wording.zh}" if wording else code


@router.get("/review", response_class=HTMLResponse)
def review_queue_page(
    request: Request,
    db: DbDep,
    who: ReviewerUser,
    department: str = "",
    region: str = "",
    rule: str = "",
    severity: str = "",
    after: str = "",
    page: int = 1,
    rules_dir: RulesDir = None,
) -> HTMLResponse:
    """Flagged entities, most severe and oldest first: the total, numbered pages, and
    a keyset ``after`` cursor for the next page (cheap however deep)."""
    filters = {"department": department, "region": region, "rule": rule, "severity": severity}
    page_ = queue_page(
        db,
        department=department or None,
        region=region or None,
        rule=rule or None,
        severity=severity or None,
        after=after or None,
        page=None if after else page,
        scope=who.scope,
    )
    kept = {k: v for k, v in filters.items() if v}
    next_href = None
    if page_.next_cursor:
        next_href = "/review?" + urlencode({**kept, "after": page_.next_cursor})
        if page_.number is not None:
            next_href = "/review?" + urlencode({**kept, "page": page_.number + 1})
    # Links, code wording and local times computed here: cheaper than 150 template calls.
    described = queue_explained(page_.items, rules_dir=rules_dir)
    rows = [
        (item, f"/review/entity/{quote(item.uscc)}", code_label(item.result_code),
         local_time(item.opened_at), about, region_name(item.region_code))
        for item, about in zip(page_.items, described, strict=True)
    ]  # fmt: skip
    links = [
        (n, "/review?" + urlencode({**kept, "page": n}))
        for n in _page_numbers(page_.number or 0, page_.pages)
    ]
    return render(
        request, "console/review_queue.html", page=page_, rows=rows, filters=filters,
        severities=SEVERITIES, severity_zh=SEVERITY_ZH, next_href=next_href,
        first_page=page_.number == 1, page_links=links,
    )  # fmt: skip


def _page_numbers(current: int, pages: int) -> list[int]:
    """The page numbers to link: the first, the last, and two either side of this one."""
    near = range(max(1, current - 2), min(pages, current + 2) + 1)
    return sorted({1, pages, *near})


@router.get("/review/entity/{uscc}", response_class=HTMLResponse)
def review_entity_page(
    request: Request, uscc: str, db: DbDep, rules_dir: RulesDir, who: ReviewerUser
) -> HTMLResponse:
    """An entity's findings with their explanation and history, and the decision forms."""
    data = entity_review(db, uscc=uscc, rules_dir=rules_dir, scope=who.scope)
    history = finding_history(db, [f["id"] for f in data["findings"]])
    return render(
        request, "console/review_entity.html", data=data, severity_zh=SEVERITY_ZH,
        code_label=code_label, history=history, region_name=region_name,
        effect_words=EFFECT_WORDS, effect_status_words=EFFECT_STATUS_WORDS,
        credit=credit_standing(db, uscc=uscc),
    )  # fmt: skip


@router.post("/review/findings/{finding_id}/confirm")
def confirm(
    finding_id: int,
    db: DbDep,
    rules_dir: RulesDir,
    who: ReviewerUser,
    uscc: Annotated[str, Form()],
    note: Annotated[str, Form()] = "",
) -> Response:
    """Confirm a finding (a note is required); its rule's on_confirm applies."""
    decide(db, finding_id=finding_id, confirm=True, text=note, actor=who.actor,
           rules_dir=rules_dir, scope=who.scope)  # fmt: skip
    return redirect(f"/review/entity/{quote(uscc)}", done="confirmed")


@router.post("/review/findings/{finding_id}/dismiss")
def dismiss(
    finding_id: int,
    db: DbDep,
    who: ReviewerUser,
    uscc: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Dismiss a finding: a reason is required, nothing changes without one."""
    decide(db, finding_id=finding_id, confirm=False, text=reason, actor=who.actor,
           scope=who.scope)  # fmt: skip
    return redirect(f"/review/entity/{quote(uscc)}", done="dismissed")
