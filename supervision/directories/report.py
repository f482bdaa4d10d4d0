"""What an import tells its user: one bilingual error per bad cell or row (``RowError``,
with pydantic's errors translated into Chinese and English), the all-or-nothing refusal
(``ImportRejected``), the counts of a finished import (``ImportReport``), and the rejects
file that ``skip_invalid`` writes beside the input.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from supervision.directories.tabular import neutralise
from supervision.errors import ValidationFailed
from supervision.models.fields import SHOWN_CHARS, shown

REASON_HEADER = "错误原因/reason"  # the column a rejects file adds; ignored on re-import


@dataclass(frozen=True)
class RowError:
    """One problem in one cell (or row) of the input file."""

    row: int
    column: str  # the header as written in the file; "" for the row as a whole
    value: Any
    zh: str
    en: str

    def line(self, file: str) -> str:
        where_zh = f"第 {self.row} 行" + (f"「{self.column}」列" if self.column else "")
        where_en = f"row {self.row}" + (f", column {self.column!r}" if self.column else "")
        # A value is repeated cut to SHOWN_CHARS (a 10 MB cell must not make a 20 MB message).
        value = "" if self.value is None else str(self.value)
        cut = value if len(value) <= SHOWN_CHARS else shown(value)
        return (
            f"{file} {where_zh} 值「{cut}」：{self.zh} / "
            f"{file} {where_en}, value {shown(value)}: {self.en}"
        )

    def as_dict(self, file: str) -> dict[str, Any]:
        return {
            "file": file,
            "row": self.row,
            "column": self.column,
            "value": self.value if not isinstance(self.value, str) else _cut(self.value),
            "zh": self.zh,
            "en": self.en,
        }


def _cut(value: str) -> str:
    """A long value as an answer shows it: its start, and how long it was."""
    return value if len(value) <= SHOWN_CHARS else shown(value)


class ImportRejected(ValidationFailed):
    """The file had bad rows and nothing was written; `errors` lists every one."""

    def __init__(self, file: str, errors: list[RowError]) -> None:
        rows = len({e.row for e in errors})
        super().__init__(
            f"{file} 中有 {rows} 行数据有误，未导入任何数据",
            f"{rows} bad row(s) in {file}; nothing was imported",
            details=[e.line(file) for e in errors],
        )
        self.file = file
        self.errors = errors


@dataclass
class ImportReport:
    """The counts of one import, the rows it refused and where they were written."""

    kind: str
    file: str
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejects_file: str | None = None
    errors: list[RowError] = field(default_factory=list)
    #: Rows whose decided credit class was kept (``supervision.credit.classes.ClassGuard``).
    kept: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "file": self.file,
            "rows": self.rows,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "rejects_file": self.rejects_file,
            "errors": [e.as_dict(self.file) for e in self.errors],
            "kept": self.kept,
        }


# ---------------------------------------------------------------- pydantic errors, bilingual
def translate(error: Any) -> tuple[str, str]:
    """A pydantic error as (zh, en); our validators' messages are already 'zh / en'."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    msg: str = error["msg"]
    if kind in ("value_error", "assertion_error"):
        text = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if " / " in text:
            zh, en = text.split(" / ", 1)
            return zh, en
        return text, text
    simple: dict[str, tuple[str, str]] = {
        "missing": ("必填项为空", "required value is missing"),
        "int_parsing": ("应为整数", "must be a whole number"),
        "int_type": ("应为整数", "must be a whole number"),
        "int_from_float": ("应为整数", "must be a whole number"),
        "bool_parsing": ("应为 是/否", "expected yes/no"),
        "bool_type": ("应为 是/否", "expected yes/no"),
        "date_parsing": ("日期格式应为 YYYY-MM-DD", "a date is YYYY-MM-DD"),
        "date_from_datetime_parsing": ("日期格式应为 YYYY-MM-DD", "a date is YYYY-MM-DD"),
        "date_from_datetime_inexact": ("应为日期，不能带时间", "a date without a time"),
        "date_type": ("日期格式应为 YYYY-MM-DD", "a date is YYYY-MM-DD"),
        "datetime_parsing": ("时间格式应为 YYYY-MM-DD HH:MM:SS", "a time is YYYY-MM-DD HH:MM:SS"),
        "datetime_from_date_parsing": (
            "时间格式应为 YYYY-MM-DD HH:MM:SS",
            "a time is YYYY-MM-DD HH:MM:SS",
        ),
        "datetime_type": ("时间格式应为 YYYY-MM-DD HH:MM:SS", "a time is YYYY-MM-DD HH:MM:SS"),
        "string_type": ("应为文本", "must be text"),
        "list_type": ("应为列表", "must be a list"),
        "dict_type": ("应为 JSON 对象", "must be a JSON object"),
    }
    if kind in simple:
        return simple[kind]
    if kind == "string_too_short":
        n = ctx.get("min_length")
        return f"至少 {n} 个字符", f"at least {n} character(s)"
    if kind == "string_too_long":
        n = ctx.get("max_length")
        return f"最多 {n} 个字符", f"at most {n} characters"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        op = {
            "greater_than_equal": "≥",
            "greater_than": ">",
            "less_than_equal": "≤",
            "less_than": "<",
        }[kind]
        bound = next(iter(ctx.values()), "")
        return f"应 {op} {bound}", f"must be {op} {bound}"
    return f"取值无效：{msg}", msg


# ---------------------------------------------------------------- the rejects file
def rejects_path(path: Path) -> Path:
    """Where `--skip-invalid` writes the rejected rows: <name>.rejects.csv beside the input."""
    return path.with_name(f"{path.stem}.rejects.csv")


def write_rejects(
    path: Path, headers: list[str], rejected: dict[int, tuple[list[Any], list[RowError]]]
) -> Path:
    """Rejected rows with their original cells plus the reasons (UTF-8 with BOM, for Excel)."""
    target = rejects_path(path)
    with target.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([*headers, REASON_HEADER])
        for number in sorted(rejected):
            cells, errors = rejected[number]
            reason = "；".join(
                (f"{e.column}：" if e.column else "") + f"{e.zh} / {e.en}" for e in errors
            )
            row = [neutralise(_cell_text(c)) for c in cells]
            row += [""] * (len(headers) - len(row))
            writer.writerow([*row, reason])
    return target


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
