"""Import templates: the spreadsheet a clerk fills in, one per import kind.

``write_template`` writes, for a kind, the headers the import reads (Chinese with the
English key, 统一社会信用代码(uscc)), one example row, and (XLSX) a second sheet that
explains each column: required or not, what it holds, the values it accepts, and the
other headers the import also understands. The import reads only the first sheet.

The example rows fit together: imported in ``IMPORT_ORDER`` (departments, items,
inspectors, entities, conflicts, records) into an empty database, each imports cleanly,
which is what the tests check.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from supervision.directories.kinds import Kind, kind_spec
from supervision.directories.tabular import neutralise, write_table
from supervision.errors import SupervisionError
from supervision.reference.vocab import (
    EntitySize,
    EntityStatus,
    EntityType,
    InspectionMethod,
    InspectorStatus,
    ItemKind,
    RecordKind,
    RiskClass,
    Vocab,
)

__all__ = ["EXAMPLES", "IMPORT_ORDER", "column_rules", "write_template"]

#: The order in which the example rows import cleanly (references first).
IMPORT_ORDER = ("departments", "items", "inspectors", "entities", "conflicts", "records")

_USCC = "91150102MA0N1XY03R"
_CERT = "15010020260001"
#: One example row per kind, as a clerk would type it.
EXAMPLES: dict[str, dict[str, str]] = {
    "departments": {"code": "SJ0102", "name": "呼和浩特市新城区市场监督管理局",
                    "region_code": "150102"},
    "items": {
        "code": "SJ-0102-01", "version": "1", "name": "企业公示信息的检查",
        "department_code": "SJ0102",
        "legal_basis": "《企业信息公示暂行条例》第十四条",
        "object_type": "企业", "methods": "书面检查、实地核查", "kind": "一般",
        "effective_from": "2026-01-01", "effective_to": "",
        "scope_entity_types": "企业、农民专业合作社", "scope_industries": "", "scope_licences": "",
    },
    "inspectors": {
        "cert_no": _CERT, "name": "张三", "department_code": "SJ0102", "region_code": "150102",
        "qualifications": "SJ-0102-01", "status": "在岗", "cert_issued_on": "2024-01-01",
        "cert_expires_on": "2029-12-31", "cert_authority": "内蒙古自治区人民政府",
    },
    "entities": {
        "uscc": _USCC, "name": "呼和浩特市示例商贸有限公司", "entity_type": "企业",
        "industry_code": "F5211", "region_code": "150102", "address": "新城区示例路 1 号",
        "legal_rep": "李四", "contact_phone": "0471-0000000", "status": "存续",
        "risk_class": "B", "size": "小型", "abnormal": "否", "abnormal_since": "",
        "established_on": "2019-05-20",
    },
    "conflicts": {
        "inspector_cert_no": _CERT, "uscc": _USCC, "reason": "近亲属在该企业任职",
        "declared_on": "2026-02-01", "starts_on": "2026-02-01", "ends_on": "",
        "source": "inspector",
    },
    "records": {
        "record_id": "AR-2025-0001", "uscc": _USCC, "kind": "annual_report",
        "event_date": "2026-05-10", "payload": '{"year": 2025, "filed_on": "2026-05-10"}',
        "source": "年报系统", "received_at": "2026-05-11",
    },
}  # fmt: skip

_DATE = ("日期，YYYY-MM-DD（也可 2026/3/1 或 2026年3月1日）",
         "a date, YYYY-MM-DD (2026/3/1 and 2026年3月1日 also read)")  # fmt: skip
_LIST = ("可填多个，用、或逗号分隔", "several values, separated by 、 or commas")


def _one_of(vocab: type[Vocab]) -> tuple[str, str]:
    values = [str(v.value) for v in vocab]
    return f"取值：{'、'.join(values)}", f"one of: {', '.join(values)}"


#: What each column holds (zh, en), by field; a kind may have its own in ``_BY_KIND``.
_MEANING: dict[str, tuple[str, str]] = {
    "code": ("编码，唯一", "the code, unique"),
    "name": ("名称", "the name"),
    "region_code": ("行政区划代码（GB/T 2260，6 位数字）", "region code (GB/T 2260, 6 digits)"),
    "department_code": ("所属部门的部门代码（须已导入部门）",
                        "the department's code (departments imported first)"),
    "version": ("版本号，正整数，默认 1", "version, a positive integer, default 1"),
    "legal_basis": ("法律依据，写明法规名称和条款", "legal basis: the law and its article"),
    "object_type": ("检查对象", "what is inspected"),
    "methods": ("检查方式；" + _LIST[0] + "；" + _one_of(InspectionMethod)[0],
                "inspection methods; " + _LIST[1] + "; " + _one_of(InspectionMethod)[1]),
    "kind": ("事项类别；" + _one_of(ItemKind)[0],
             "item kind; " + _one_of(ItemKind)[1]),
    "effective_from": ("生效日期；" + _DATE[0], "in force from; " + _DATE[1]),
    "effective_to": ("失效日期，可空；" + _DATE[0], "in force until, may be empty; " + _DATE[1]),
    "scope_entity_types": ("适用主体类型，空表示不限；" + _LIST[0],
                           "entity types covered, empty for all; " + _LIST[1]),
    "scope_industries": ("适用行业代码前缀（GB/T 4754，如 F、F52），空表示不限；" + _LIST[0],
                         "industry code prefixes (GB/T 4754, e.g. F, F52), empty for all; "
                         + _LIST[1]),
    "scope_licences": ("涉及的许可类别，空表示不限；" + _LIST[0],
                       "licence kinds concerned, empty for all; " + _LIST[1]),
    "cert_no": ("执法证号，4–32 位，唯一", "enforcement certificate number, 4–32 characters, unique"),
    "qualifications": ("执法资格：可检查的事项编码或执法领域；" + _LIST[0],
                       "qualifications: item codes or fields; " + _LIST[1]),
    "cert_issued_on": ("执法证发证日期，可空；" + _DATE[0], "certificate issued on, may be empty; "
                       + _DATE[1]),
    "cert_expires_on": ("执法证有效期至，可空；" + _DATE[0], "certificate valid until, may be empty; "
                        + _DATE[1]),
    "cert_authority": ("发证机关，可空", "issuing authority, may be empty"),
    "uscc": ("统一社会信用代码，18 位，末位为校验码", "USCC, 18 characters with its check character"),
    "entity_type": ("主体类型；" + _one_of(EntityType)[0],
                    "entity type; " + _one_of(EntityType)[1]),
    "industry_code": ("国民经济行业代码（GB/T 4754），门类字母加 2–4 位数字，如 F5211",
                      "industry code (GB/T 4754): a letter and 2–4 digits, e.g. F5211"),
    "address": ("住所（经营场所），可空", "registered address, may be empty"),
    "legal_rep": ("法定代表人（负责人、经营者），可空；公示时遮盖",
                  "legal representative, may be empty; masked on public pages"),
    "contact_phone": ("联系电话，可空；不公示", "phone, may be empty; never published"),
    "risk_class": ("信用风险分类，默认 B；" + _one_of(RiskClass)[0],
                   "credit risk class, default B; " + _one_of(RiskClass)[1]),
    "size": ("企业规模，可空；" + _one_of(EntitySize)[0],
             "size, may be empty; " + _one_of(EntitySize)[1]),
    "abnormal": ("是否列入经营异常名录：是/否，默认否", "on the abnormal list: 是/否 (yes/no), default no"),
    "abnormal_since": ("列入经营异常名录日期，列入时必填；" + _DATE[0],
                       "on the abnormal list since (required when on it); " + _DATE[1]),
    "established_on": ("成立日期；" + _DATE[0], "established on; " + _DATE[1]),
    "inspector_cert_no": ("须回避的检查人员的执法证号（须已导入）",
                          "the inspector's certificate number (imported first)"),
    "reason": ("回避原因", "why the inspector must stand aside"),
    "declared_on": ("申报日期；" + _DATE[0], "declared on; " + _DATE[1]),
    "starts_on": ("回避开始日期，可空（不限）；" + _DATE[0], "from, may be empty; " + _DATE[1]),
    "ends_on": ("回避结束日期，可空（不限）；" + _DATE[0], "until, may be empty; " + _DATE[1]),
    "record_id": ("记录编号，唯一", "record id, unique"),
    "event_date": ("记录日期，可空（按内容推定）；" + _DATE[0],
                   "the record's date, may be empty (taken from the content); " + _DATE[1]),
    "payload": ("内容，JSON；字段随记录类型而定（见 README 的合规记录一节）",
                "content, JSON; its fields depend on the record type (see the README)"),
    "received_at": ("接收时间，可空；YYYY-MM-DD 或带时间", "received at, may be empty; a date or a time"),
}  # fmt: skip
_BY_KIND: dict[tuple[str, str], tuple[str, str]] = {
    ("departments", "code"): ("部门代码，唯一", "department code, unique"),
    ("departments", "name"): ("部门名称", "department name"),
    ("items", "code"): ("事项编码，与版本号一起唯一", "item code, unique with its version"),
    ("items", "name"): ("事项名称", "item name"),
    ("inspectors", "name"): ("姓名", "the inspector's name"),
    ("inspectors", "status"): ("在岗状态，默认在岗；" + _one_of(InspectorStatus)[0],
                               "status, default active; " + _one_of(InspectorStatus)[1]),
    ("entities", "name"): ("主体名称", "the entity's name"),
    ("entities", "status"): ("登记状态，默认存续；" + _one_of(EntityStatus)[0],
                             "registration status, default 存续; "
                             + _one_of(EntityStatus)[1]),
    ("conflicts", "source"): ("申报方：inspector（检查人员申报）或 entity（检查对象申请），默认 inspector",
                              "who declared it: inspector or entity, default inspector"),
    ("records", "kind"): ("记录类型；" + _one_of(RecordKind)[0],
                          "record type; " + _one_of(RecordKind)[1]),
    ("records", "source"): ("来源系统，可空", "source system, may be empty"),
}  # fmt: skip


def column_rules(kind: str) -> list[dict[str, Any]]:
    """Per column of ``kind``: header, field, required, what it holds (zh, en), the
    other headers the import reads for it, and the example value."""
    spec = kind_spec(kind)
    required = set(spec.required())
    out = []
    for column in spec.columns:
        zh, en = _BY_KIND.get((kind, column.field)) or _MEANING.get(
            column.field, (column.zh[0], column.field)
        )
        also = [*column.zh[1:], column.field, *column.en]
        out.append(
            {
                "header": column.export_header,
                "field": column.field,
                "required": column.field in required,
                "zh": zh,
                "en": en,
                "also": [a for a in dict.fromkeys(also) if a != column.export_key],
                "example": EXAMPLES[kind].get(column.field, ""),
            }
        )
    return out


def _formats(path: Path, fmt: str | None) -> str:
    chosen = (fmt or path.suffix.lstrip(".")).lower()
    if chosen not in ("xlsx", "csv"):
        raise SupervisionError(
            f"模板格式应为 xlsx 或 csv，而不是 {chosen or '无扩展名'}（用 -o 模板.xlsx）",
            f"a template is xlsx or csv, not {chosen or 'no extension'} (use -o template.xlsx)",
        )
    return chosen


def write_template(kind: str, path: Path, fmt: str | None = None) -> Path:
    """Write the import template of ``kind`` to ``path`` (XLSX with an explanation sheet,
    or CSV with the headers and the example row); returns the path."""
    spec: Kind = kind_spec(kind)
    path = Path(path)
    chosen = _formats(path, fmt)
    rules = column_rules(kind)
    headers = [r["header"] for r in rules]
    example = [r["example"] for r in rules]
    try:
        if chosen == "csv":
            write_table(path, "csv", headers, [example])
            return path
        from openpyxl import Workbook
        from openpyxl.styles import Font

        workbook = Workbook()
        data = workbook.active
        assert data is not None
        data.title = f"{spec.zh}"[:31]
        data.append(headers)
        data.append([neutralise(v) for v in example])
        for cell in data[1]:
            cell.font = Font(bold=True)
        for i, rule in enumerate(rules, start=1):
            letter = data.cell(row=1, column=i).column_letter
            data.column_dimensions[letter].width = max(14, len(rule["header"]) * 2)
            # Every cell text: codes keep their leading zeros, dates stay as typed.
            for row in range(2, 501):
                data.cell(row=row, column=i).number_format = "@"
        notes = workbook.create_sheet("填写说明 Columns")
        notes.append(["列 / column", "必填 / required", "说明", "what it holds",
                      "也可用的列名 / other headers read", "示例 / example"])  # fmt: skip
        for rule in rules:
            notes.append(
                [rule["header"], "是 yes" if rule["required"] else "否 no", rule["zh"],
                 rule["en"], "、".join(rule["also"]), neutralise(rule["example"])]
            )  # fmt: skip
        notes.append([])
        notes.append(
            [f"第一个工作表是导入的数据：删除示例行后填写，每行一条。导入：supervision import {kind} 文件"
             f" --as 管理员。/ The first sheet is what is imported: replace the example row, one row"
             f" each. Import: supervision import {kind} FILE --as ADMIN."]
        )  # fmt: skip
        for cell in notes[1]:
            cell.font = Font(bold=True)
        for letter, width in zip("ABCDEF", (28, 12, 50, 50, 30, 24), strict=True):
            notes.column_dimensions[letter].width = width
        workbook.save(path)
    except OSError as exc:
        raise SupervisionError(
            f"无法写入 {path}：{exc.strerror}", f"cannot write {path}: {exc.strerror}"
        ) from None
    return path
