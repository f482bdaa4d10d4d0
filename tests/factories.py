"""Valid test data for every table, as import-ready dicts (English keys, text values).

Each factory takes overrides: make_entity(region_code="150203", risk_class="D").
Codes are deterministic per sequence number `n`, so tests can ask for the same row twice.
Values are what a file would hold: pass them to the importer, or to XCreate.model_validate.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from stdnum.cn.uscc import calc_check_digit

_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_counter = iter(range(1, 10**9))


def _next(n: int | None) -> int:
    return next(_counter) if n is None else n


def make_uscc(n: int, *, region: str = "150102", prefix: str = "91") -> str:
    """A valid 统一社会信用代码: prefix + region + 9-char organisation code from `n` + check."""
    body = ""
    value = n
    for _ in range(9):
        value, digit = divmod(value, len(_ALPHABET))
        body = _ALPHABET[digit] + body
    base = prefix + region + body
    return base + calc_check_digit(base)


def make_department(n: int | None = None, **overrides: Any) -> dict[str, Any]:
    n = _next(n)
    row: dict[str, Any] = {"code": f"D{n:03d}", "name": f"市场监管局{n}科", "region_code": "150102"}
    return row | overrides


def make_entity(n: int | None = None, **overrides: Any) -> dict[str, Any]:
    n = _next(n)
    region = "150102"
    row: dict[str, Any] = {
        "uscc": make_uscc(n),  # independent of region_code, so overrides keep the key
        "name": f"呼和浩特测试商贸有限公司{n}",
        "entity_type": "企业",
        "industry_code": "F5211",
        "region_code": region,
        "address": f"新城区测试路{n}号",
        "legal_rep": "张三",
        "contact_phone": "0471-1234567",
        "status": "存续",
        "risk_class": "ABCD"[n % 4],
        "size": "小型",
        "abnormal": "否",
        "abnormal_since": "",
        "established_on": f"20{10 + n % 15}-0{1 + n % 9}-1{n % 10}",
    }
    return row | overrides


def make_inspector(n: int | None = None, **overrides: Any) -> dict[str, Any]:
    n = _next(n)
    row: dict[str, Any] = {
        "cert_no": f"15010{n:07d}",
        "name": f"检查员{n}",
        "department_code": "D001",
        "region_code": "150102",
        "qualifications": "食品安全、广告监管",
        "status": "在岗",
    }
    return row | overrides


def make_item(n: int | None = None, **overrides: Any) -> dict[str, Any]:
    n = _next(n)
    row: dict[str, Any] = {
        "code": f"NM-SC-{n:03d}",
        "version": "1",
        "name": f"企业公示信息抽查{n}",
        "department_code": "D001",
        "legal_basis": "《企业信息公示暂行条例》第十四条",
        "object_type": "企业",
        "methods": "书面检查、实地核查",
        "kind": "一般",
        "effective_from": "2025-01-01",
        "effective_to": "",
    }
    return row | overrides


def make_conflict(cert_no: str, uscc: str, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "cert_no": cert_no,
        "uscc": uscc,
        "reason": "近亲属任职",
        "declared_on": "2025-03-01",
    }
    return row | overrides


_PAYLOADS: dict[str, dict[str, Any]] = {
    "annual_report": {"year": 2024, "filed_on": "2025-05-20"},
    "immediate_info": {"info_type": "股权变更", "arose_on": "2025-02-01"},
    "licence": {
        "licence_no": "JY11501020001",
        "licence_type": "食品经营许可证",
        "valid_to": "2027-12-31",
    },
    "complaint": {"received_on": "2025-04-01", "summary": "虚假宣传"},
    "inspection_result": {
        "task_code": "T2025-01",
        "item_code": "NM-SC-001",
        "result_code": "1",
        "inspected_on": "2025-06-01",
    },
    "rectification_order": {
        "order_no": "ZG-2025-01",
        "ordered_on": "2025-06-01",
        "due_on": "2025-07-01",
    },
    "address_check": {"checked_on": "2025-06-01", "reachable": True},
    "info_check": {"checked_on": "2025-06-01", "false_info": False},
}


def make_record(
    kind: str = "annual_report",
    n: int | None = None,
    *,
    uscc: str | None = None,
    payload: dict[str, Any] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A compliance record of `kind`; payload as JSON text (as in a CSV cell)."""
    n = _next(n)
    row: dict[str, Any] = {
        "record_id": f"R{n:08d}",
        "uscc": uscc or make_uscc(n),
        "kind": kind,
        "event_date": "",
        "payload": json.dumps(
            payload if payload is not None else _PAYLOADS.get(kind, {}), ensure_ascii=False
        ),
        "source": "test",
        "received_at": "2025-06-02 09:00:00",
    }
    return row | overrides


# ---------------------------------------------------------------- files
def write_csv(
    path: Path,
    rows: Iterable[dict[str, Any]],
    *,
    encoding: str = "utf-8-sig",
    headers: dict[str, str] | None = None,
) -> Path:
    """Rows to CSV; `headers` renames keys (e.g. to Chinese headers)."""
    import csv

    rows = list(rows)
    keys = list(rows[0]) if rows else []
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([(headers or {}).get(k, k) for k in keys])
        for row in rows:
            writer.writerow(["" if row.get(k) is None else row.get(k) for k in keys])
    return path


def write_xlsx(
    path: Path, rows: Iterable[dict[str, Any]], headers: dict[str, str] | None = None
) -> Path:
    from openpyxl import Workbook

    rows = list(rows)
    keys = list(rows[0]) if rows else []
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append([(headers or {}).get(k, k) for k in keys])
    for row in rows:
        sheet.append([row.get(k) for k in keys])
    workbook.save(path)
    return path


def write_json(path: Path, rows: Iterable[dict[str, Any]], *, lines: bool = False) -> Path:
    rows = list(rows)
    if lines:
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    else:
        text = json.dumps(rows, ensure_ascii=False, indent=1)
    path.write_text(text, encoding="utf-8")
    return path
