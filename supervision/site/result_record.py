"""The national 双随机抽查结果 record: the fields of ``results.csv`` / ``results.json`` and
their published JSON Schema (``data/results.schema.json``).

The first fields are, in order, what the national result record carries: plan, task,
抽查类型 (定向/不定向), 检查机关 and departments, the entity (a market entity: USCC and name),
the item (code, version and name), inspection date, result code with its full text, sub-code
with its text, follow-up with its text, publication date. The fields after them are this
site's own (the English wording, the finding, the team, follow-up progress, corrections, the
entity's reply). Natural persons appear only masked (``privacy.redact`` has already run on
every free text); inspectors appear by name and 执法证号, as enforcement disclosure requires.

A record is identified by ``id_fields`` (task code, USCC, item code): real-world keys,
never database ids. The schema is built from the same table as the files, so the two
cannot drift; a test validates the published files against the published schema.
"""

from __future__ import annotations

from typing import Any

from supervision.reference import result_codes

_DATE = r"^\d{4}-\d{2}-\d{2}$"
_TIME = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"
_USCC = r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$"

ID_FIELDS = ["task_code", "uscc", "item_code"]
SCHEMA_PATH = "data/results.schema.json"

# (key, Chinese title, English description, JSON Schema of the JSON value)
_FIELDS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("plan_code", "计划编号", "annual plan code", {"type": "string"}),
    ("plan_name", "计划名称", "annual plan name", {"type": "string"}),
    ("task_code", "任务编号", "task code (id field)", {"type": "string", "minLength": 1}),
    ("task_name", "任务名称", "task name", {"type": "string", "minLength": 1}),
    ("inspection_type", "抽查类型", "定向 (targeted) or 不定向 (untargeted)",
     {"enum": ["定向", "不定向"]}),
    ("authority", "检查机关", "inspecting authority (the publishing authority; without one "
     "configured, the task's departments)", {"type": "string"}),
    ("departments", "检查部门", "names of the task's departments (CSV: joined by 、)",
     {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}),
    ("uscc", "统一社会信用代码", "the entity's unified social credit code (id field)",
     {"type": "string", "pattern": _USCC}),
    ("name", "主体名称", "the market entity's registered name", {"type": "string"}),
    ("item_code", "事项编码", "inspection item code (id field)", {"type": "string", "minLength": 1}),
    ("item_version", "事项版本", "version of the item the task inspected",
     {"type": "integer", "minimum": 1}),
    ("item_name", "事项名称", "inspection item name", {"type": "string"}),
    ("inspected_on", "检查日期", "inspection date (YYYY-MM-DD)",
     {"type": "string", "pattern": _DATE}),
    ("result_code", "结果代码", "official main result code",
     {"enum": list(result_codes.MAIN_CODES)}),
    ("result", "检查结果", "full text of the main result code", {"type": "string", "minLength": 1}),
    ("sub_code", "子代码", "sub-code of result A (what was found); empty otherwise",
     {"enum": ["", *result_codes.SUB_CODES]}),
    ("sub_code_text", "子代码含义", "text of the sub-code; empty without one", {"type": "string"}),
    ("follow_up", "后续处置代码", "follow-up key", {"enum": list(result_codes.FOLLOW_UPS)}),
    ("follow_up_text", "后续处置", "text of the follow-up", {"type": "string", "minLength": 1}),
    ("published_on", "公示日期", "publication date, Beijing time (YYYY-MM-DD)",
     {"type": "string", "pattern": _DATE}),
    # ---- this site's own fields
    ("published_at", "公示时间", "publication time, Beijing time (YYYY-MM-DD HH:MM:SS)",
     {"type": "string", "pattern": _TIME}),
    ("version", "结果版本", "version of the result shown (a correction is a later one)",
     {"type": "integer", "minimum": 1}),
    ("result_en", "检查结果（英文）", "the result in English (main code and sub-code)",
     {"type": "string", "minLength": 1}),
    ("finding", "检查情况", "the finding, natural persons masked", {"type": "string"}),
    ("inspectors", "执法检查人员", "inspectors as name(执法证号) (CSV: joined by 、)",
     {"type": "array", "items": {"type": "string"}}),
    ("follow_up_status", "处置状态", "progress of the follow-up", {"type": "string"}),
    ("follow_up_due", "整改期限", "rectification deadline (YYYY-MM-DD) or empty",
     {"type": "string", "pattern": r"^(\d{4}-\d{2}-\d{2})?$"}),
    ("follow_up_done_on", "处置完成日期", "date the follow-up was done, or empty",
     {"type": "string", "pattern": r"^(\d{4}-\d{2}-\d{2})?$"}),
    ("corrected", "是否更正", "是 when this result corrects an earlier published one",
     {"enum": ["是", "否"]}),
    ("reply", "企业说明", "the entity's published replies (received date and text)",
     {"type": "string"}),
]  # fmt: skip

#: (key, Chinese header) of the CSV and the JSON records, in the national record's order.
RESULT_FIELDS: list[tuple[str, str]] = [(key, zh) for key, zh, _, _ in _FIELDS]

_CORRECTION = {
    "type": "object",
    "properties": {
        "version": {"type": "integer"},
        "published_at": {"type": "string", "pattern": _TIME},
        "reason": {"type": "string"},
        "corrects_version": {"type": "integer"},
        "was_code": {"type": "string"},
        "was": {"type": "string"},
        "was_en": {"type": "string"},
    },
    "required": ["version", "published_at", "corrects_version"],
}


def record(r: dict[str, Any]) -> dict[str, Any]:
    """A published result (``results_view``) as an open-data record, keys in field order,
    then its corrections (JSON only)."""
    values = {
        "plan_code": r["plan_code"],
        "plan_name": r["plan_name"],
        "task_code": r["task_code"],
        "task_name": r["task_name"],
        "inspection_type": r["inspection_type"],
        "authority": r["authority"],
        "departments": list(r["departments"]),
        "uscc": r["uscc"],
        "name": r["name"],
        "item_code": r["item_code"],
        "item_version": r["item_version"],
        "item_name": r["item_name"],
        "inspected_on": r["inspected_on"],
        "result_code": r["result_code"],
        "result": r["result_text"],
        "sub_code": r["sub_code"],
        "sub_code_text": r["sub_code_text"],
        "follow_up": r["follow_up_kind"],
        "follow_up_text": r["follow_up"],
        "published_on": r["published_at"][:10],
        "published_at": r["published_at"],
        "version": r["version"],
        "result_en": r["category_en"],
        "finding": r["finding"],
        "inspectors": [f"{i['name']}({i['cert_no']})" for i in r["inspectors"]],
        "follow_up_status": r["follow_up_status"],
        "follow_up_due": r["follow_up_due"],
        "follow_up_done_on": r["follow_up_done_on"],
        "corrected": "是" if r["corrections"] else "否",
        "reply": " / ".join(f"{x['received_on']} {x['text']}" for x in r["replies"]),
    }
    return values | {"corrections": r["corrections"]}


def _csv_cell(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema of a CSV cell holding a value of `schema` (every cell is text)."""
    if schema.get("type") == "integer":
        return {"type": "string", "pattern": r"^[1-9]\d*$"}
    if schema.get("type") == "array":
        return {"type": "string"}
    cell = {k: v for k, v in schema.items() if k != "minLength"}
    if "enum" in cell:
        return cell
    return cell | {"type": "string"}


def schema(*, publisher: str, licence: dict[str, str]) -> dict[str, Any]:
    """The JSON Schema (2020-12) of ``results.json`` (the document) with ``$defs`` for one
    record, the CSV header and one CSV row (as arrays of cells, so the order is checked)."""
    properties = {key: {"title": zh, "description": en, **value} for key, zh, en, value in _FIELDS}
    properties["corrections"] = {
        "title": "更正",
        "description": "earlier published versions this result corrects (JSON only)",
        "type": "array",
        "items": _CORRECTION,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "抽查结果公告 开放数据 / published inspection results",
        "description": (
            "The national 双随机抽查结果 record and this site's additions. results.json is a "
            "document of this schema; each line of results.csv after its header is an array "
            "of cells matching $defs/csv_row (UTF-8 with a BOM, header $defs/csv_header; a "
            "cell starting with = + - @ is prefixed with ' against spreadsheet formulas). "
            "Records are identified by id_fields."
        ),
        "publisher": publisher,
        "licence": licence,
        "type": "object",
        "required": [
            "dataset",
            "extracted_at",
            "licence",
            "source",
            "publisher",
            "id_fields",
            "records",
        ],
        "properties": {
            "dataset": {"const": "results"},
            "extracted_at": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T"},
            "licence": {"type": "object", "required": ["name", "url"]},
            "source": {"type": "string"},
            "publisher": {"type": "string"},
            "id_fields": {"const": ID_FIELDS},
            "records": {"type": "array", "items": {"$ref": "#/$defs/record"}},
        },
        "$defs": {
            "record": {
                "type": "object",
                "properties": properties,
                "required": list(properties),
                "additionalProperties": False,
            },
            "csv_header": {
                "type": "array",
                "prefixItems": [{"const": f"{zh}({key})"} for key, zh, _, _ in _FIELDS],
                "minItems": len(_FIELDS),
                "items": False,
            },
            "csv_row": {
                "type": "array",
                "prefixItems": [_csv_cell(value) for _, _, _, value in _FIELDS],
                "minItems": len(_FIELDS),
                "items": False,
            },
        },
    }


__all__ = ["ID_FIELDS", "RESULT_FIELDS", "SCHEMA_PATH", "record", "schema"]
