"""The reviewer's findings: the queue, an entity's findings explained, decisions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from supervision.checks.review import entity_review
from supervision.console.api.schemas import Decision, QueuePage
from supervision.console.deps import DbDep, ReviewerUser, RulesDir
from supervision.console.queue import queue_page
from supervision.console.routes import review

router = APIRouter(prefix="/api", tags=["api"])


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
) -> QueuePage:
    """Open findings, most severe and oldest first; pass ``next`` back as ``after``."""
    page = queue_page(db, department=department, region=region, rule=rule, severity=severity,
                      after=after, limit=limit, scope=who.scope)  # fmt: skip
    return QueuePage.model_validate(
        {"items": [i.to_dict() for i in page.items], "next": page.next_cursor}
    )


@router.get("/review/entities/{uscc}")
def api_review_entity(
    uscc: str, db: DbDep, rules_dir: RulesDir, who: ReviewerUser
) -> dict[str, Any]:
    """An entity's findings explained (rule, legal basis, versions, matched facts)."""
    return entity_review(db, uscc=uscc, rules_dir=rules_dir, scope=who.scope)


@router.post("/review/findings/{finding_id}/confirm")
def api_confirm(
    finding_id: int, body: Decision, db: DbDep, rules_dir: RulesDir, who: ReviewerUser
) -> dict[str, Any]:
    """Confirm a finding (a note is required)."""
    return review.decide(db, finding_id=finding_id, confirm=True, text=body.text,
                         actor=who.actor, rules_dir=rules_dir, scope=who.scope)  # fmt: skip


@router.post("/review/findings/{finding_id}/dismiss")
def api_dismiss(finding_id: int, body: Decision, db: DbDep, who: ReviewerUser) -> dict[str, Any]:
    """Dismiss a finding (a reason is required)."""
    return review.decide(db, finding_id=finding_id, confirm=False, text=body.text,
                         actor=who.actor, scope=who.scope)  # fmt: skip
