"""The review queue: open findings, their explanation, and the decisions taken on them.

An entity with at least one open finding is *flagged*. A reviewer confirms a finding
(with a note) or dismisses it (a reason is required). Every decision records who and
when on the finding itself. A confirmed finding acts as its rule's ``on_confirm`` says:

- ``raise_risk_class``: the entity's credit risk class goes up one step (A→B→C→D; D
  stays D) and ``Entity.updated_at`` moves, so the next incremental check sees it;
  the change is recorded in the class history (``supervision.credit.classes``, source
  ``decision``), so a later import keeps it unless its classification is newer;
- ``mark_for_targeted_draw``: an ``EntityMark`` row for the next targeted draw;
- ``add_to_abnormal_list`` / ``mark_abnormal_status`` / ``add_to_serious_violation_list``:
  a listing *proposal* (``supervision.credit.proposals``) that a reviewer decides with a
  decision number; nothing is listed by the confirmation itself;
- the other flags (notices, case transfer, ...) are follow-ups for people: they are
  recorded in the finding's ``effects`` as pending, nothing else is changed.

Each decision is also an event of the trail (``finding.confirm`` / ``finding.dismiss``,
object ``finding:<id>``), written in the decision's transaction. Check runs never change
a decided finding (see ``supervision.checks.compare``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Row, Select, Table, Text, cast, func, select, update

from supervision import clock, trail
from supervision.accounts.scope import Scope
from supervision.checks.facts import FACT_TYPE_LABELS, labelled_fact
from supervision.credit.classes import RISK_STEPS, change_class, raised
from supervision.credit.proposals import propose_for_finding
from supervision.db import Database, busy_is_an_error, hold_write, table_of
from supervision.errors import NotFoundError, SupervisionError, ValidationFailed
from supervision.models import CheckRun, ClassSource, ComplianceRecord, Entity, InspectionResult
from supervision.models.fields import text_problem
from supervision.models.findings import SEVERITY_RANK, EntityMark, FindingStatus
from supervision.models.findings import Finding as FindingRow
from supervision.reference.regions import region_prefix
from supervision.rules.explain import ExplainError
from supervision.rules.pack import SEVERITIES, Rule, RulePack, current_pack

__all__ = [
    "EFFECT_STATUS_WORDS",
    "EFFECT_WORDS",
    "RISK_STEPS",
    "QueueItem",
    "confirm_finding",
    "dismiss_finding",
    "effect_text",
    "entity_review",
    "explain_finding",
    "finding_in_scope",
    "flagged_by_rule",
    "flagged_count",
    "last_full_run",
    "open_count",
    "queue_explained",
    "review_queue",
    "seen_last",
]

#: Follow-ups recorded as pending on a confirmed finding (people act on them).
PENDING_FOLLOW_UPS = (
    "notify_entity",
    "order_rectification",
    "transfer_to_case_handling",
    "notify_department",
)

#: What each effect of a confirmed finding means, in words (zh, en): people read these,
#: never the action identifiers.
EFFECT_WORDS: dict[str, tuple[str, str]] = {
    "raise_risk_class": ("提高信用风险分类", "risk class raised"),
    "mark_for_targeted_draw": ("标记为定向抽查对象", "marked for targeted draws"),
    "add_to_abnormal_list": ("列入经营异常名录", "to be put on the abnormal list"),
    "mark_abnormal_status": ("标记为经营异常状态", "to be marked abnormal"),
    "add_to_serious_violation_list": (
        "列入严重违法失信名单",
        "to be put on the serious-violation list",
    ),
    "notify_entity": ("告知主体", "to notify the entity"),
    "order_rectification": ("责令改正", "to order rectification"),
    "transfer_to_case_handling": ("移送办案机构", "to transfer to case handling"),
    "notify_department": ("抄告相关部门", "to notify the department concerned"),
}
EFFECT_STATUS_WORDS: dict[str, tuple[str, str]] = {
    "pending": ("待办理", "pending"),
    "proposed": ("已提出建议，待审核人决定", "proposed, awaiting a reviewer's decision"),
}


def effect_text(effect: dict[str, Any]) -> str:
    """One effect of a decision in words, Chinese / English (never a raw dict), for the
    command line (``EFFECT_WORDS``, ``EFFECT_STATUS_WORDS``)."""
    action = str(effect.get("action", ""))
    zh, en = EFFECT_WORDS.get(action, (action, action))
    if effect.get("to"):
        zh += f"：{effect.get('from')} → {effect['to']}"
        en += f": {effect.get('from')} → {effect['to']}"
    status = effect.get("status")
    if status:
        status_zh, status_en = EFFECT_STATUS_WORDS.get(str(status), (str(status), str(status)))
        zh += f"（{status_zh}）"
        en += f" ({status_en})"
    return f"{zh} / {en}"


_E: Table = table_of(Entity)
_F: Table = table_of(FindingRow)
_M: Table = table_of(EntityMark)
_RUN: Table = table_of(CheckRun)
_R: Table = table_of(ComplianceRecord)
_IR: Table = table_of(InspectionResult)


@dataclass(frozen=True)
class QueueItem:
    """One open finding in the queue, with the entity it flags."""

    finding_id: int
    uscc: str
    entity_name: str
    region_code: str
    rule_id: str
    rule_version: int
    department: str
    severity: str
    result_code: str
    opened_at: dt.datetime
    opened_as_of: dt.date
    #: The facts the finding matched, as stored: their JSON text, for the explanation
    #: (``Rule.explain`` decodes it only for words it does not remember yet).
    matched_json: str = field(default="[]", compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "finding_id": self.finding_id,
            "uscc": self.uscc,
            "entity_name": self.entity_name,
            "region_code": self.region_code,
            "rule_id": self.rule_id,
            "rule_version": self.rule_version,
            "department": self.department,
            "severity": self.severity,
            "result_code": self.result_code,
            "opened_at": clock.as_utc(self.opened_at).isoformat(),
            "opened_as_of": self.opened_as_of.isoformat(),
        }


def _in_region(prefix: str) -> Any:
    """Findings of entities in a region (a code prefix), by the finding's own copy of its
    entity's region (migration 0025): a county (6 digits) or a prefecture (4) is an equality
    leading an index in queue order, so its page and its total are one index range."""
    if len(prefix) == 6:
        return _F.c.region_code == prefix
    if len(prefix) == 4:
        return _F.c.prefecture_code == prefix + "00"
    return _F.c.region_code.startswith(prefix, autoescape=True)


def finding_in_scope(scope: Scope | None) -> Any:
    """The region condition of a scope (None: no condition). Findings belong to the scope
    of their entity: a rule's department is a free-text responsibility, not a directory
    department, so only the region limits what a reviewer's queue holds."""
    if scope is None or not scope.region:
        return None
    return _in_region(scope.region)


def open_findings_query(
    *,
    scope: Scope | None = None,
    department: str | None = None,
    region: str | None = None,
    rule: str | None = None,
    severity: str | None = None,
) -> Select[Any]:
    """The review queue's select: open findings with their entity, filtered, in queue
    order (severity, then oldest, then id; the ``ix_finding_queue`` index). Columns in
    ``QueueItem`` order. Callers check ``severity`` and add their limit (and a cursor)."""
    query = (
        select(
            _F.c.id,
            _F.c.uscc,
            _E.c.name,
            _E.c.region_code,
            _F.c.rule_id,
            _F.c.rule_version,
            _F.c.department,
            _F.c.severity,
            _F.c.result_code,
            _F.c.opened_at,
            _F.c.opened_as_of,
            cast(_F.c.matched, Text),
        )
        .join(_E, _E.c.uscc == _F.c.uscc)
        .where(_F.c.status == FindingStatus.OPEN)
    )
    if department:
        query = query.where(_F.c.department == department)
    if rule:
        query = query.where(_F.c.rule_id == rule)
    if severity:
        query = query.where(_F.c.severity_rank == SEVERITY_RANK[severity])
    # Regions by the finding's own columns, never by filtering the joined entity: on that
    # form SQLite builds a Bloom filter over the whole entity table for every page.
    if region:
        query = query.where(_in_region(region_prefix(region)))
    if (scoped := finding_in_scope(scope)) is not None:
        query = query.where(scoped)
    return query.order_by(_F.c.severity_rank, _F.c.opened_at, _F.c.id)


def _check_severity(severity: str | None) -> None:
    if severity is not None and severity not in SEVERITIES:
        raise SupervisionError(
            f"严重程度应为 {'/'.join(SEVERITIES)} 之一，而不是 {severity}",
            f"severity must be one of {', '.join(SEVERITIES)}, not {severity}",
        )


def review_queue(
    db: Database,
    *,
    scope: Scope | None = None,
    department: str | None = None,
    region: str | None = None,
    rule: str | None = None,
    severity: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[QueueItem]:
    """Open findings, most severe first, then oldest first (then by id), skipping the
    first ``offset``.

    Filters: the rule's ``department``, the entity's ``region`` (a province or
    prefecture code includes the counties under it), ``rule`` id, ``severity``.
    """
    _check_severity(severity)
    if limit < 1:
        raise SupervisionError("--limit 至少为 1", "--limit must be at least 1")
    if offset < 0:
        raise SupervisionError("--offset 不能为负数", "--offset cannot be negative")
    query = open_findings_query(
        scope=scope, department=department, region=region, rule=rule, severity=severity
    ).limit(limit)
    if offset:
        query = query.offset(offset)
    with db.engine.connect() as conn:
        return [QueueItem(*row) for row in conn.execute(query)]


def open_count(
    db: Database,
    *,
    scope: Scope | None = None,
    department: str | None = None,
    region: str | None = None,
    rule: str | None = None,
    severity: str | None = None,
) -> int:
    """How many open findings the queue holds under these filters (its total)."""
    _check_severity(severity)
    # Counted on the finding table alone (its queue indexes, regions included).
    query = select(func.count()).select_from(_F).where(_F.c.status == FindingStatus.OPEN)
    if region:
        query = query.where(_in_region(region_prefix(region)))
    if (scoped := finding_in_scope(scope)) is not None:
        query = query.where(scoped)
    if department:
        query = query.where(_F.c.department == department)
    if rule:
        query = query.where(_F.c.rule_id == rule)
    if severity:
        query = query.where(_F.c.severity_rank == SEVERITY_RANK[severity])
    with db.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def queue_explained(
    items: list[QueueItem], pack: RulePack | None = None, rules_dir: str | Path | None = None
) -> list[dict[str, Any]]:
    """Per queue item: its rule's title (zh/en; the rule id when the pack has no such
    rule) and its explanation in words (None when there is none)."""
    the_pack = _pack_or_none(pack, rules_dir, recheck_after=1.0)
    out = []
    for item in items:
        rule = _rule_of(the_pack, item.rule_id)
        out.append(
            {
                "title_zh": rule.title_zh if rule else item.rule_id,
                "title_en": rule.title_en if rule else item.rule_id,
                "explain": explain_finding(rule, item.matched_json),
            }
        )
    return out


def flagged_count(db: Database) -> int:
    """How many entities have at least one open finding."""
    with db.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count(func.distinct(_F.c.uscc))).where(
                    _F.c.status == FindingStatus.OPEN
                )
            ).scalar_one()
        )


def flagged_by_rule(db: Database) -> tuple[int, list[dict[str, Any]]]:
    """Entities with open findings in total, and per rule (most flagged first)."""
    entities = func.count(func.distinct(_F.c.uscc))
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(_F.c.rule_id, entities.label("entities"))
            .where(_F.c.status == FindingStatus.OPEN)
            .group_by(_F.c.rule_id)
            .order_by(entities.desc(), _F.c.rule_id)
        ).all()
        total = conn.execute(select(entities).where(_F.c.status == FindingStatus.OPEN)).scalar_one()
    return int(total), [{"rule_id": r.rule_id, "entities": int(r.entities)} for r in rows]


def _pack_or_none(
    pack: RulePack | None, rules_dir: str | Path | None, *, recheck_after: float = 0.0
) -> RulePack | None:
    if pack is not None:
        return pack
    try:
        return current_pack(rules_dir, recheck_after=recheck_after)
    except SupervisionError:
        return None


def _rule_of(pack: RulePack | None, rule_id: str) -> Rule | None:
    if pack is None:
        return None
    try:
        return pack.rule(rule_id)
    except KeyError:
        return None


def _explain(rule: Rule | None) -> dict[str, Any]:
    if rule is None:
        return {"title_zh": None, "title_en": None, "legal_basis": [], "on_confirm": {}}
    return {
        "title_zh": rule.title_zh,
        "title_en": rule.title_en,
        "legal_basis": [{"law": b.law, "article": b.article} for b in rule.legal_basis],
        "description": rule.description,
        "current_version": rule.version,
        "on_confirm": dict(rule.on_confirm),
    }


def last_full_run(conn: Connection) -> int:
    """The id of the last completed full check run (0 when there is none)."""
    full = conn.execute(
        select(func.max(_RUN.c.id)).where(_RUN.c.status == "done", _RUN.c.mode == "full")
    ).scalar()
    return int(full or 0)


def seen_last(finding: Any, full_run: int) -> int:
    """The last run that saw an open finding as it is: its ``last_run_id`` or, when
    later, ``full_run`` (``last_full_run``: a full run checks everyone and leaves
    unchanged open findings unwritten, or reports an error for their entity among the
    run's errors). A closed or decided finding's own ``last_run_id``."""
    if finding.status != FindingStatus.OPEN:
        return int(finding.last_run_id)
    return max(int(finding.last_run_id), full_run)


def explain_finding(
    rule: Rule | None, matched: list[dict[str, Any]] | str
) -> dict[str, str] | None:
    """The finding in words (``{"zh", "en"}``) by its rule's explain template, over its
    matched facts or their stored JSON text (``Rule.explain``); None when
    the rule is gone from the pack, has no template, or its template cannot be filled
    by these facts (the page then shows the title and the labelled facts)."""
    if rule is None:
        return None
    try:
        return rule.explain(matched)
    except ExplainError:
        return None


def _finding_dict(row: Row[Any], rule: Rule | None) -> dict[str, Any]:
    data = dict(row._mapping)
    for key in ("opened_at", "closed_at", "decided_at"):
        if data.get(key) is not None:
            data[key] = clock.as_utc(data[key]).isoformat()
    data["opened_as_of"] = data["opened_as_of"].isoformat()
    data["status_zh"] = FindingStatus.ZH.get(data["status"], data["status"])
    data["rule"] = _explain(rule)
    data["explain"] = explain_finding(rule, data["matched"])
    data["facts"] = [labelled_fact(m) for m in data["matched"]]
    return data


def _entity_history(conn: Connection, uscc: str) -> dict[str, list[dict[str, Any]]]:
    """The entity's records on a timeline (newest first) and its inspection results
    (the latest version of each, newest first)."""
    records = conn.execute(
        select(_R.c.record_id, _R.c.kind, _R.c.event_date, _R.c.payload)
        .where(_R.c.uscc == uscc)
        .order_by(_R.c.event_date.desc(), _R.c.record_id)
    ).all()
    results = conn.execute(
        select(
            _IR.c.task_code,
            _IR.c.item_code,
            _IR.c.version,
            _IR.c.state,
            _IR.c.result_code,
            _IR.c.sub_code,
            _IR.c.inspected_on,
            _IR.c.inspectors,
        )
        .where(_IR.c.uscc == uscc)
        .order_by(_IR.c.inspected_on.desc(), _IR.c.task_code, _IR.c.item_code, _IR.c.version)
    ).all()
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for r in results:
        item = dict(r._mapping)
        item["inspected_on"] = r.inspected_on.isoformat()
        latest[(r.task_code, r.item_code)] = item  # the last version wins
    timeline = []
    for rec in records:
        zh, en = FACT_TYPE_LABELS.get(rec.kind, (rec.kind, rec.kind))
        fields = labelled_fact({"t": rec.kind, "values": rec.payload or {}})["fields"]
        timeline.append(
            {
                "record_id": rec.record_id,
                "kind": rec.kind,
                "zh": zh,
                "en": en,
                "event_date": rec.event_date.isoformat() if rec.event_date else None,
                "fields": fields,
            }
        )
    return {"records": timeline, "results": list(latest.values())}


def entity_review(
    db: Database,
    *,
    uscc: str,
    pack: RulePack | None = None,
    rules_dir: str | Path | None = None,
    scope: Scope | None = None,
) -> dict[str, Any]:
    """An entity's review page: flagged or not, every finding (open first) explained.
    An entity outside ``scope`` is not found, as if it did not exist.

    Each finding carries the rule's title (zh/en), legal basis and versions, its
    explanation in words (``explain``), the facts it matched with their values (and
    labelled, ``facts``), its runs (first, last, resolved), the decision and its effects;
    ``marks`` lists the entity's marks for targeted draws, ``records`` its compliance
    records newest first, ``results`` its inspection results. Times are ISO with offset.
    """
    code = uscc.strip().upper()
    the_pack = _pack_or_none(pack, rules_dir)
    with db.engine.connect() as conn:
        entity = conn.execute(
            select(
                _E.c.uscc,
                _E.c.name,
                _E.c.region_code,
                _E.c.status,
                _E.c.risk_class,
                _E.c.abnormal,
            ).where(_E.c.uscc == code)
        ).first()
        if entity is None or (scope is not None and not scope.covers_region(entity.region_code)):
            raise NotFoundError(f"没有统一社会信用代码为 {code} 的主体", f"no entity {code}")
        rows = conn.execute(
            select(_F)
            .where(_F.c.uscc == code)
            .order_by((_F.c.status != FindingStatus.OPEN), _F.c.severity_rank, _F.c.id)
        ).all()
        marks = conn.execute(
            select(_M.c.id, _M.c.reason, _M.c.finding_id, _M.c.created_by, _M.c.created_at)
            .where(_M.c.uscc == code)
            .order_by(_M.c.id)
        ).all()
        findings = [_finding_dict(r, _rule_of(the_pack, r.rule_id)) for r in rows]
        history = _entity_history(conn, code)
        full_run = last_full_run(conn)
        for finding, row in zip(findings, rows, strict=True):
            finding["last_run_id"] = seen_last(row, full_run)
    return {
        "entity": dict(entity._mapping),
        "flagged": any(f["status"] == FindingStatus.OPEN for f in findings),
        "findings": findings,
        "marks": [
            {**dict(m._mapping), "created_at": clock.as_utc(m.created_at).isoformat()}
            for m in marks
        ],
        **history,
    }


@contextmanager
def _decision(db: Database) -> Iterator[Connection]:
    """One transaction for a decision; a database busy with a check run is a clear error."""
    with busy_is_an_error(), db.engine.begin() as conn:
        yield conn


def _open_finding(conn: Connection, finding_id: int, scope: Scope | None = None) -> Row[Any]:
    query = select(_F).where(_F.c.id == finding_id)
    if (scoped := finding_in_scope(scope)) is not None:
        query = query.where(scoped)
    row = conn.execute(query).first()
    if row is None:
        raise NotFoundError(f"没有编号为 {finding_id} 的发现", f"no finding {finding_id}")
    if row.status != FindingStatus.OPEN:
        zh = FindingStatus.ZH.get(row.status, row.status)
        raise SupervisionError(
            f"发现 {finding_id} 的状态是「{zh}」，只能审核待审核的发现",
            f"finding {finding_id} is {row.status}; only open findings can be reviewed",
        )
    return row


def _who(actor: str) -> str:
    name = actor.strip()
    if not name:
        raise SupervisionError("必须写明审核人（--by）", "the reviewer (--by) is required")
    return name[:100]


def _decide(
    conn: Connection,
    row: Row[Any],
    status: str,
    *,
    who: str,
    now: dt.datetime,
    text: str,
    payload: dict[str, Any],
    effects: list[dict[str, Any]] | None = None,
) -> None:
    """Close an open finding with a decision, recorded in the trail (same transaction)."""
    problem = text_problem(text, multiline=True)
    if problem is not None:  # written with Core, past the ORM's flush check
        raise ValidationFailed(f"说明：{problem[0]}", f"note or reason: {problem[1]}")
    action = "finding.confirm" if status == FindingStatus.CONFIRMED else "finding.dismiss"
    trail.record(
        conn,
        action=action,
        obj=f"finding:{row.id}",
        actor=who,
        payload={"uscc": row.uscc, "rule_id": row.rule_id, "rule_version": row.rule_version,
                 **payload},
    )  # fmt: skip
    values: dict[str, Any] = {"status": status, "decided_by": who, "decided_at": now,
                              "closed_at": now, "note": text[:2000]}  # fmt: skip
    if effects is not None:
        values["effects"] = effects
    conn.execute(update(_F).where(_F.c.id == row.id).values(**values))


def confirm_finding(
    db: Database,
    *,
    finding_id: int,
    note: str,
    actor: str,
    pack: RulePack | None = None,
    rules_dir: str | Path | None = None,
    scope: Scope | None = None,
) -> dict[str, Any]:
    """Confirm an open finding and apply its rule's ``on_confirm``; returns the effects.
    A finding whose entity is outside ``scope`` is not found.

    Everything (decision, risk class, mark) is written in one transaction.
    """
    who = _who(actor)
    text = (note or "").strip()
    if not text:
        raise SupervisionError("确认发现须填写说明（--note）", "confirming needs a note (--note)")
    the_pack = _pack_or_none(pack, rules_dir)
    effects: list[dict[str, Any]] = []
    with _decision(db) as conn:
        now = hold_write(conn)  # the entity's updated_at is read by incremental checks
        row = _open_finding(conn, finding_id, scope)
        rule = _rule_of(the_pack, row.rule_id)
        flags = dict(rule.on_confirm) if rule is not None else {}
        if flags.get("raise_risk_class"):
            current = conn.execute(
                select(_E.c.risk_class).where(_E.c.uscc == row.uscc)
            ).scalar_one()
            change_class(conn, uscc=row.uscc, new_class=raised(current),
                         source=ClassSource.DECISION, effective_on=clock.today(),
                         ref=f"finding:{row.id}", actor=who, now=now)  # fmt: skip
            effects.append({"action": "raise_risk_class", "from": current, "to": raised(current)})
        if flags.get("mark_for_targeted_draw"):
            reason = f"{row.rule_id} v{row.rule_version}: {text}"[:500]
            inserted = conn.execute(
                _M.insert().values(
                    uscc=row.uscc,
                    reason=reason,
                    finding_id=row.id,
                    created_by=who,
                    created_at=now,
                )
            ).inserted_primary_key
            effects.append(
                {
                    "action": "mark_for_targeted_draw",
                    "mark_id": int(inserted[0]) if inserted is not None else None,
                }
            )
        basis = [(b.law, b.article) for b in rule.legal_basis] if rule is not None else []
        effects += propose_for_finding(conn, finding=row, flags=flags, legal_basis=basis,
                                       actor=who, now=now)  # fmt: skip
        for flag in PENDING_FOLLOW_UPS:
            if flags.get(flag):
                effects.append({"action": flag, "status": "pending"})
        _decide(conn, row, FindingStatus.CONFIRMED, who=who, now=now, text=text,
                payload={"note": text, "effects": effects}, effects=effects)  # fmt: skip
    return {"finding_id": finding_id, "status": FindingStatus.CONFIRMED, "effects": effects}


def dismiss_finding(
    db: Database, *, finding_id: int, reason: str | None, actor: str, scope: Scope | None = None
) -> dict[str, Any]:
    """Dismiss an open finding; a reason is required and nothing changes without one. A
    finding whose entity is outside ``scope`` is not found."""
    who = _who(actor)
    text = (reason or "").strip()
    if not text:
        raise SupervisionError(
            "驳回发现必须填写理由（--reason），未作任何更改",
            "dismissing a finding requires a reason (--reason); nothing was changed",
        )
    now = clock.now()
    with _decision(db) as conn:
        row = _open_finding(conn, finding_id, scope)
        _decide(conn, row, FindingStatus.DISMISSED, who=who, now=now, text=text,
                payload={"reason": text})  # fmt: skip
    return {"finding_id": finding_id, "status": FindingStatus.DISMISSED, "effects": []}
