"""Published inspection results as the public sees them (抽查结果公告).

Read straight from the ``inspection_result`` and ``result_reply`` tables (issue 5), and
only rows in the published state: entered, returned and approved results, rejected or
unreviewed replies, evidence files and reviewers' notes are never read. For each task,
entity and item the newest published version is the result; older published versions
it corrects are listed as corrections with their dates and reasons. Wording comes from
``supervision.reference.result_codes`` (the one map of codes to words). Free text (the finding,
the reply) goes through ``privacy.redact``: the entity's legal representative masked,
ID and phone numbers removed. Inspectors appear by name and 执法证号.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from sqlalchemy import inspect, select
from sqlmodel import Session, col

from supervision.models import Entity, Inspector
from supervision.reference.privacy import redact
from supervision.site import urls
from supervision.site.pages import SiteData, _local, _public_entity

RESULT_FIELDS = [
    ("task_code", "任务编号"), ("uscc", "统一社会信用代码"), ("name", "名称"),
    ("item_code", "事项编码"), ("version", "版本"), ("category_code", "结果代码"),
    ("category", "检查结果"), ("category_en", "result"), ("inspected_on", "检查日期"),
    ("inspectors", "执法检查人员"), ("follow_up", "后续处置"), ("follow_up_status", "处置状态"),
    ("follow_up_due", "整改期限"), ("follow_up_done_on", "处置完成日期"),
    ("published_at", "公示时间"), ("corrected", "是否更正"), ("reply", "企业说明"),
]  # fmt: skip


def available(session: Session) -> bool:
    """True when the results tables exist (issue 5's migration has run)."""
    return bool(inspect(session.connection()).has_table("inspection_result"))


def load_into(session: Session, data: SiteData) -> None:
    """Put published results into `data` (nothing unpublished is ever read)."""
    if not available(session):
        data.results_available = False
        return
    from supervision.models.results import InspectionResult, ReplyState, ResultReply, ResultState
    from supervision.reference import result_codes

    data.results_available = True
    label_of = functools.cache(result_codes.result_label)
    code_of = functools.cache(result_codes.effective_code)
    public_tasks = {t["code"] for t in data.tasks if t["drawn"]}
    # Core rows, not ORM objects: ten times cheaper for 100,000 results.
    table = InspectionResult.__table__  # type: ignore[attr-defined]
    rows = session.execute(
        select(*table.c)
        .where(col(InspectionResult.state) == ResultState.PUBLISHED)
        .order_by(
            col(InspectionResult.task_code),
            col(InspectionResult.uscc),
            col(InspectionResult.item_code),
            col(InspectionResult.version),
        )
    )
    versions: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
    for row in rows:
        if row.task_code in public_tasks:
            versions[(row.task_code, row.uscc, row.item_code)].append(row)
    if not versions:
        return
    replies: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for reply in session.execute(
        select(*ResultReply.__table__.c)  # type: ignore[attr-defined]
        .where(col(ResultReply.state) == ReplyState.PUBLISHED)
        .order_by(col(ResultReply.task_code), col(ResultReply.uscc), col(ResultReply.seq))
    ):
        replies[(reply.task_code, reply.uscc)].append(
            {"received_on": reply.received_on.isoformat(), "text": reply.text}
        )
    inspectors = {
        cert: name
        for cert, name in session.execute(select(col(Inspector.cert_no), col(Inspector.name)))
    }
    usccs = {uscc for _, uscc, _ in versions}
    missing = usccs - set(data.entities)
    legal_reps: dict[str, str] = {}
    for row in session.execute(
        select(
            col(Entity.uscc), col(Entity.name), col(Entity.entity_type), col(Entity.industry_code),
            col(Entity.region_code), col(Entity.address), col(Entity.legal_rep),
            col(Entity.status), col(Entity.risk_class), col(Entity.established_on),
        ).where(col(Entity.uscc).in_(sorted(usccs)))
    ):  # fmt: skip
        legal_reps[row.uscc] = row.legal_rep
        if row.uscc in missing:
            data.entities[row.uscc] = _public_entity(row)
    task_names = {t["code"]: t for t in data.tasks}
    for (task_code, uscc, item_code), published in versions.items():
        current = published[-1]
        names = [legal_reps.get(uscc, "")]
        label = label_of(current.result_code, current.sub_code)
        follow = result_codes.FOLLOW_UPS.get(current.follow_up)
        follow_status = result_codes.FOLLOW_UP_STATUSES.get(current.follow_up_status)
        entity = data.entities.get(uscc)
        by_version = {r.version: r for r in published}
        corrections = []
        for r in published:
            if r.corrects_version is None:
                continue
            before = by_version.get(r.corrects_version)
            was = result_codes.result_label(before.result_code, before.sub_code) if before else None
            corrections.append(
                {
                    "version": r.version,
                    "published_at": _local(r.published_at),
                    "reason": redact(r.change_reason or "", names),
                    "corrects_version": r.corrects_version,
                    "was_code": (
                        result_codes.effective_code(before.result_code, before.sub_code)
                        if before
                        else ""
                    ),
                    "was": was.zh if was else "",
                    "was_en": was.en if was else "",
                }
            )
        result = {
            "task_code": task_code,
            "task_name": task_names[task_code]["name"],
            "task_href": task_names[task_code]["href"],
            "uscc": uscc,
            "name": entity["name"] if entity else "",
            "href": urls.entity_path(uscc),
            "item_code": item_code,
            "version": current.version,
            "category_code": code_of(current.result_code, current.sub_code),
            "category": label.zh,
            "category_en": label.en,
            "finding": redact(current.finding, names),
            "inspected_on": current.inspected_on.isoformat(),
            "inspectors": [
                {"cert_no": cert, "name": inspectors.get(cert, "")} for cert in current.inspectors
            ],
            "follow_up": follow.zh if follow else current.follow_up,
            "follow_up_en": follow.en if follow else current.follow_up,
            "follow_up_kind": current.follow_up,
            "follow_up_status": follow_status.zh if follow_status else current.follow_up_status,
            "follow_up_status_en": follow_status.en if follow_status else "",
            "follow_up_due": current.follow_up_due.isoformat() if current.follow_up_due else "",
            "follow_up_done_on": (
                current.follow_up_done_on.isoformat() if current.follow_up_done_on else ""
            ),
            "published_at": _local(current.published_at),
            "corrections": corrections,
            "replies": [
                {"received_on": r["received_on"], "text": redact(r["text"], names)}
                for r in replies.get((task_code, uscc), [])
            ],
        }
        data.results_by_task.setdefault(task_code, []).append(result)
        data.results_by_entity.setdefault(uscc, []).append(result)


def _record(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "task_code": r["task_code"],
        "uscc": r["uscc"],
        "name": r["name"],
        "item_code": r["item_code"],
        "version": r["version"],
        "category_code": r["category_code"],
        "category": r["category"],
        "category_en": r["category_en"],
        "finding": r["finding"],
        "inspected_on": r["inspected_on"],
        "inspectors": [f"{i['name']}({i['cert_no']})" for i in r["inspectors"]],
        "follow_up": r["follow_up"],
        "follow_up_status": r["follow_up_status"],
        "follow_up_due": r["follow_up_due"],
        "follow_up_done_on": r["follow_up_done_on"],
        "published_at": r["published_at"],
        "corrected": "是" if r["corrections"] else "否",
        "corrections": r["corrections"],
        "reply": " / ".join(f"{x['received_on']} {x['text']}" for x in r["replies"]),
    }


def data_files(data: SiteData) -> Iterator[tuple[str, bytes, int]]:
    """Open-data files of published results: (path, bytes, rows); per task, then all."""
    if not data.results_available:
        return
    from supervision.site.opendata import csv_body, csv_from, json_array, json_from

    bodies: list[str] = []
    arrays: list[str] = []
    total = 0
    ids = ["task_code", "uscc", "item_code"]
    for task in data.drawn_tasks:
        rows = [_record(r) for r in data.results_by_task.get(task["code"], [])]
        if not rows:
            continue
        total += len(rows)
        bodies.append(csv_body(RESULT_FIELDS, rows))
        arrays.append(json_array(rows))
        base = urls.task_data_dir(task["code"])
        yield f"{base}/results.csv", csv_from(RESULT_FIELDS, bodies[-1:]), len(rows)
        yield f"{base}/results.json", json_from("results", ids, arrays[-1:]), len(rows)
    yield "data/results.csv", csv_from(RESULT_FIELDS, bodies), total
    yield "data/results.json", json_from("results", ids, arrays), total


__all__ = ["RESULT_FIELDS", "available", "data_files", "load_into"]
