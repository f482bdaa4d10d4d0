"""Open data: bulk CSV and JSON for items, tasks, draws, results and the trail's
checkpoints, and an Atom feed.

- CSV: UTF-8 with a BOM (Excel opens it), headers 中文(english_key), every text cell
  neutralised against formula injection with ``supervision.directories.tabular.neutralise`` (the one
  the directory exports use).
- JSON: ``{"dataset", "extracted_at", "licence", "source", "id_fields", "records"}``,
  English keys, stable ids (USCC, task code).
- ``extracted_at`` is the time the file's content was first produced: files are hashed
  with a placeholder in its place, so a republish with the same content leaves the file
  (and its extract time) alone.

Files are yielded as (path, bytes, stamped) for the publisher, which writes only changes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

from supervision.directories.tabular import neutralise
from supervision.site import result_record, urls
from supervision.site.authority import publishing_authority
from supervision.site.data import LICENCE, SiteData
from supervision.site.pages import notices
from supervision.site.registers import REGISTER_FIELDS, register_records

STAMP = "@@EXTRACTED_AT@@"
_RISKY = frozenset("=+-@\t\r'")
SOURCE = "双随机、一公开 公示平台 / supervision public disclosure site"

# (key, Chinese header) per dataset; the English key is the JSON key and the CSV header suffix.
ITEM_FIELDS = [
    ("code", "事项编码"), ("version", "版本"), ("name", "事项名称"),
    ("department_code", "部门编码"), ("department", "实施部门"), ("legal_basis", "法律依据"),
    ("object_type", "检查对象"), ("methods", "检查方式"), ("kind", "事项类别"),
    ("effective_from", "生效日期"), ("effective_to", "失效日期"),
]  # fmt: skip
#: 细则公开: one row per check point of every item version's checklist.
CHECKLIST_FIELDS = [
    ("item_code", "事项编码"), ("item_version", "事项版本"), ("point", "要点编号"),
    ("content_zh", "检查内容"), ("content_en", "content"), ("method", "检查方式"),
    ("legal_basis", "法律依据"),
]  # fmt: skip
TASK_FIELDS = [
    ("task_code", "任务编号"), ("name", "任务名称"), ("plan_code", "计划编号"),
    ("status", "状态"), ("departments", "参与部门"), ("items", "抽查事项"),
    ("period_start", "检查开始"), ("period_end", "检查结束"), ("committed_at", "锁定时间"),
    ("parameters_digest", "参数摘要"), ("population_digest", "名录摘要"),
    ("population_size", "抽查对象总数"), ("seed", "随机种子"), ("seed_entered_at", "种子录入时间"),
    ("seed_kind", "种子来源"), ("beacon_round", "drand 轮次"), ("beacon_signature", "drand 签名"),
    ("drawn_at", "抽取时间"), ("picked", "抽中户数"), ("result_due", "结果公示期限"),
    ("result_due_provisional", "公示期限为暂定"),
]  # fmt: skip
DRAW_FIELDS = [
    ("task_code", "任务编号"), ("stratum", "分层"), ("rank", "序号"), ("ticket", "签号"),
    ("uscc", "统一社会信用代码"), ("name", "名称"), ("region_code", "行政区划代码"),
    ("inspectors", "执法检查人员"),
]  # fmt: skip
#: The trail's anchors: check one with `supervision trail verify --checkpoint SEQ:HASH`.
CHECKPOINT_FIELDS = [
    ("seq", "事件序号"), ("hash", "链头哈希"), ("at", "时间"), ("reason", "原因"),
]  # fmt: skip


def _text(value: Any) -> str:
    if value.__class__ is str:
        return str(value)
    if value is None:
        return ""
    if isinstance(value, list):
        return "、".join(_text(v) for v in value)
    return str(value)


def _csv_header(fields: Sequence[tuple[str, str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([f"{zh}({key})" for key, zh in fields])
    return buffer.getvalue()


def csv_body(fields: Sequence[tuple[str, str]], records: Sequence[dict[str, Any]]) -> str:
    """The data lines of a CSV (no header), every cell neutralised against formulas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    keys = [key for key, _ in fields]
    for record in records:
        cells = [_text(record.get(key)) for key in keys]
        # neutralise only what could be a formula (a leading = + - @ tab CR, or quotes)
        writer.writerow([neutralise(c) if c and c[0] in _RISKY else c for c in cells])
    return buffer.getvalue()


def csv_from(fields: Sequence[tuple[str, str]], bodies: Sequence[str]) -> bytes:
    """A CSV file from bodies made by ``csv_body``: BOM, Chinese(English) header, lines."""
    return ("\ufeff" + _csv_header(fields) + "".join(bodies)).encode("utf-8")


def csv_bytes(fields: Sequence[tuple[str, str]], records: Sequence[dict[str, Any]]) -> bytes:
    """CSV with a BOM, Chinese(English) headers, every cell neutralised."""
    return csv_from(fields, [csv_body(fields, records)])


def json_array(records: Sequence[dict[str, Any]]) -> str:
    """Records as a compact JSON array (the C encoder; indent= would fall back to Python)."""
    return json.dumps(list(records), ensure_ascii=False, separators=(",", ":"))


def json_from(dataset: str, id_fields: list[str], arrays: Sequence[str]) -> bytes:
    """A JSON document whose records are the concatenation of arrays from ``json_array``."""
    head = {
        "dataset": dataset,
        "extracted_at": STAMP,
        "licence": LICENCE,
        "source": SOURCE,
        "publisher": publishing_authority(),
        "id_fields": id_fields,
    }
    records = "[" + ",".join(a[1:-1] for a in arrays if a != "[]") + "]"
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))
    return (text[:-1] + ',"records":' + records + "}\n").encode("utf-8")


def json_bytes(dataset: str, id_fields: list[str], records: Sequence[dict[str, Any]]) -> bytes:
    return json_from(dataset, id_fields, [json_array(records)])


def item_records(data: SiteData) -> list[dict[str, Any]]:
    return [{key: item[key] for key, _ in ITEM_FIELDS} for item in data.items]


def checklist_records(data: SiteData) -> list[dict[str, Any]]:
    """Every check point of every listed item version (the checklists in use)."""
    return [
        {
            "item_code": item["code"],
            "item_version": item["version"],
            "point": p["id"],
            "content_zh": p["content_zh"],
            "content_en": p["content_en"],
            "method": p["method"],
            "legal_basis": p["legal_basis"],
        }
        for item in data.items
        for p in item.get("checklist") or []
    ]


def task_records(data: SiteData) -> list[dict[str, Any]]:
    return [
        {
            "task_code": t["code"],
            "name": t["name"],
            "plan_code": t["plan_code"],
            "status": t["status"],
            "departments": [d["code"] for d in t["departments"]],
            "items": [f"{i['code']}@{i['version']}" for i in t["item_list"]],
            "period_start": t["period_start"],
            "period_end": t["period_end"],
            "committed_at": t["committed_at"],
            "parameters_digest": t["parameters_digest"],
            "population_digest": t["population_digest"],
            "population_size": t["population_size"],
            "seed": t["seed"],
            "seed_entered_at": t["seed_entered_at"],
            "seed_kind": t["seed_kind"],
            "beacon_round": t["beacon"]["round"] if t["beacon"] else "",
            "beacon_signature": t["beacon"]["signature"] if t["beacon"] else "",
            "drawn_at": t["drawn_at"],
            "picked": t["picked"],
            "result_due": t["due_date"] if t["due_known"] else "",
            # the earliest possible date: that year's holiday arrangement is not announced
            "result_due_provisional": bool(t["due_provisional"]),
        }
        for t in data.tasks
    ]


def draw_records(data: SiteData, code: str) -> list[dict[str, Any]]:
    rows = []
    for p in data.picks.get(code, []):
        entity = data.entities.get(p["uscc"])
        rows.append(
            {
                "task_code": code,
                "stratum": p["stratum"],
                "rank": p["rank"],
                "ticket": p["ticket"],
                "uscc": p["uscc"],
                "name": p["name"],
                "region_code": entity["region_code"] if entity else "",
                "inspectors": [f"{m['name']}({m['cert_no']})" for m in p["team"]],
            }
        )
    return rows


def data_files(data: SiteData) -> Iterator[tuple[str, bytes]]:
    """Every open-data file as (path, bytes containing the STAMP placeholder)."""
    catalog: list[dict[str, Any]] = []

    def emit(path: str, content: bytes, rows: int) -> tuple[str, bytes]:
        catalog.append(
            {"path": path, "rows": rows, "sha256_before_stamp": hashlib.sha256(content).hexdigest()}
        )
        return path, content

    items = item_records(data)
    yield emit("data/items.csv", csv_bytes(ITEM_FIELDS, items), len(items))
    yield emit("data/items.json", json_bytes("items", ["code", "version"], items), len(items))
    points = checklist_records(data)
    point_ids = ["item_code", "item_version", "point"]
    yield emit("data/checklists.csv", csv_bytes(CHECKLIST_FIELDS, points), len(points))
    yield emit("data/checklists.json", json_bytes("checklists", point_ids, points), len(points))
    tasks = task_records(data)
    yield emit("data/tasks.csv", csv_bytes(TASK_FIELDS, tasks), len(tasks))
    yield emit("data/tasks.json", json_bytes("tasks", ["task_code"], tasks), len(tasks))
    # Each task's rows are encoded once; the whole-site files are their concatenation.
    bodies: list[str] = []
    arrays: list[str] = []
    total = 0
    ids = ["task_code", "uscc"]
    for task in data.drawn_tasks:
        rows = draw_records(data, task["code"])
        total += len(rows)
        bodies.append(csv_body(DRAW_FIELDS, rows))
        arrays.append(json_array(rows))
        base = urls.task_data_dir(task["code"])
        yield emit(f"{base}/draw.csv", csv_from(DRAW_FIELDS, bodies[-1:]), len(rows))
        yield emit(f"{base}/draw.json", json_from("draw", ids, arrays[-1:]), len(rows))
    yield emit("data/draws.csv", csv_from(DRAW_FIELDS, bodies), total)
    yield emit("data/draws.json", json_from("draws", ids, arrays), total)
    yield from (emit(path, content, n) for path, content, n in result_files(data))
    entries = register_records(data.registers, data.entities)
    yield emit("data/registers.csv", csv_bytes(REGISTER_FIELDS, entries), len(entries))
    yield emit(
        "data/registers.json", json_bytes("registers", ["uscc", "register", "decision_no"], entries),
        len(entries),
    )  # fmt: skip
    anchors = data.checkpoints
    yield emit("data/trail-checkpoints.csv", csv_bytes(CHECKPOINT_FIELDS, anchors), len(anchors))
    yield emit(
        "data/trail-checkpoints.json", json_bytes("trail-checkpoints", ["seq"], anchors),
        len(anchors),
    )  # fmt: skip
    index = {
        "extracted_at": STAMP,
        "licence": LICENCE,
        "source": SOURCE,
        "publisher": publishing_authority(),
        "files": catalog,
    }
    yield "data/index.json", (json.dumps(index, ensure_ascii=False, indent=1) + "\n").encode()


def result_files(data: SiteData) -> Iterator[tuple[str, bytes, int]]:
    """Open-data files of published results: (path, bytes, rows); per task, then all."""
    if not data.results_available:
        return
    fields = result_record.RESULT_FIELDS
    bodies: list[str] = []
    arrays: list[str] = []
    total = 0
    ids = result_record.ID_FIELDS
    for task in data.drawn_tasks:
        rows = [result_record.record(r) for r in data.results_by_task.get(task["code"], [])]
        if not rows:
            continue
        total += len(rows)
        bodies.append(csv_body(fields, rows))
        arrays.append(json_array(rows))
        base = urls.task_data_dir(task["code"])
        yield f"{base}/results.csv", csv_from(fields, bodies[-1:]), len(rows)
        yield f"{base}/results.json", json_from("results", ids, arrays[-1:]), len(rows)
    yield "data/results.csv", csv_from(fields, bodies), total
    yield "data/results.json", json_from("results", ids, arrays), total
    described = result_record.schema(publisher=publishing_authority(), licence=LICENCE)
    text = json.dumps(described, ensure_ascii=False, indent=1) + "\n"
    yield result_record.SCHEMA_PATH, text.encode("utf-8"), len(fields)


def _atom_time(text: str) -> str:
    """'2026-03-01 09:30:00' (Beijing time) → RFC 3339 with +08:00."""
    if not text:
        return "1970-01-01T00:00:00Z"
    return datetime.fromisoformat(text).strftime("%Y-%m-%dT%H:%M:%S+08:00")


def feed_context(data: SiteData, limit: int = 50) -> dict[str, Any]:
    """The Atom feed's context: newest notices, stable tag: ids, updated = newest notice."""
    entries = []
    for n in notices(data)[:limit]:
        entries.append(
            n | {"atom_id": "tag:supervision,2024:" + quote(n["id"], safe=":"),
                 "atom_when": _atom_time(n["when"])}
        )  # fmt: skip
    return {
        "feed_id": "tag:supervision,2024:notices",
        "updated": entries[0]["atom_when"] if entries else _atom_time(""),
        "entries": entries,
        "licence": LICENCE,
        "authority": publishing_authority(),
    }
