"""Importing the item list and the directories (一单两库) from CSV, XLSX, JSON and JSONL.

An import is all-or-nothing: every row is validated by the kind's XCreate model (the one
definition of the rules), checked for duplicates inside the file and for references to
rows already in the database; if any row is bad nothing is written and the error lists
every bad row with its row number, column, value and reason in Chinese and English.
With ``skip_invalid`` the good rows are written and the bad ones go to a rejects file.

Rows are upserted by their key and counted as added, updated or unchanged (values are
compared); ``updated_at`` moves only when something changed. Rows missing from a later
file are never deleted. Writes go through SQLAlchemy Core executemany in one transaction.
Big files are validated in worker processes, chunk by chunk, while the main process
writes; the database is still touched by one connection only. A big file into an empty
SQLite table builds the table's plain indexes once, at the end of the same transaction.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import multiprocessing
import os
from collections import defaultdict
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from itertools import islice, repeat
from operator import itemgetter
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Table, and_, bindparam, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from supervision import trail
from supervision.db import Database, busy_is_an_error, drop_plain_indexes, hold_write
from supervision.directories.tabular import (
    Sheet,
    clean_cell,
    csv_blocks,
    neutralise,
    normalise_header,
    parse_csv_block,
    read_table,
)
from supervision.directories.validation import ColumnValidator, UnsupportedModel
from supervision.errors import SupervisionError, ValidationFailed
from supervision.models import (
    ComplianceRecord,
    ComplianceRecordCreate,
    Conflict,
    ConflictCreate,
    Department,
    DepartmentCreate,
    Entity,
    EntityCreate,
    InspectionItem,
    InspectionItemCreate,
    Inspector,
    InspectorCreate,
)

CHUNK = 10_000
LOOKUP_CHUNK = 2_000
PARALLEL_FROM = 50_000  # rows; below this a process pool costs more than it saves
BULK_FROM = 50_000  # rows; from here an import into an empty table builds its indexes last
REASON_HEADER = "错误原因/reason"  # the column a rejects file adds; ignored on re-import
BEIJING = timezone(timedelta(hours=8), "CST")

Advance = Callable[[int], None]


# ---------------------------------------------------------------- what each kind looks like
@dataclass(frozen=True)
class Column:
    """A field and the headers users write for it (Chinese first; the field name always works)."""

    field: str
    zh: tuple[str, ...]
    en: tuple[str, ...] = ()

    @property
    def export_key(self) -> str:
        return self.en[0] if self.en else self.field

    @property
    def export_header(self) -> str:
        """The CSV/XLSX header written on export: 统一社会信用代码(uscc)."""
        return f"{self.zh[0]}({self.export_key})"

    def aliases(self) -> set[str]:
        english = {self.field, *self.en}
        names = set(self.zh) | english | {f"{z}({e})" for z in self.zh for e in english}
        return {normalise_header(n) for n in names}


@dataclass(frozen=True)
class Reference:
    """A field naming a row of another table that must already be in the database."""

    field: str
    model: type[SQLModel]
    column: str
    zh: str
    en: str


@dataclass(frozen=True)
class Kind:
    """One importable table: its model family, key, columns and references."""

    name: str
    zh: str
    create: type[SQLModel]
    model: type[SQLModel]
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    references: tuple[Reference, ...] = ()
    stamp: str | None = None  # set to now when a row is added or changed
    whole_row_field: str | None = None  # where errors of the model as a whole are shown

    @property
    def table(self) -> Table:
        table: Table = self.model.__table__  # type: ignore[attr-defined]
        return table

    @property
    def fields(self) -> list[str]:
        return [c.field for c in self.columns]

    def required(self) -> list[str]:
        model_fields = self.create.model_fields
        return [c.field for c in self.columns if model_fields[c.field].is_required()]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.field == name)

    def alias_map(self) -> dict[str, str]:
        return {alias: c.field for c in self.columns for alias in c.aliases()}


_REGION = Column("region_code", ("行政区划代码", "所属区域", "区划代码"))
_DEPARTMENT = Column("department_code", ("所属部门", "部门代码", "实施部门"), ("department",))

KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind(
            "departments",
            "部门",
            DepartmentCreate,
            Department,
            ("code",),
            (
                Column("code", ("部门代码", "部门编码")),
                Column("name", ("部门名称", "名称")),
                _REGION,
            ),
        ),
        Kind(
            "items",
            "抽查事项清单",
            InspectionItemCreate,
            InspectionItem,
            ("code", "version"),
            (
                Column("code", ("事项编码", "事项代码")),
                Column("version", ("版本", "版本号")),
                Column("name", ("事项名称", "名称")),
                _DEPARTMENT,
                Column("legal_basis", ("法律依据", "检查依据")),
                Column("object_type", ("检查对象",)),
                Column("methods", ("检查方式",)),
                Column("kind", ("事项类别", "事项类型")),
                Column("effective_from", ("生效日期",)),
                Column("effective_to", ("失效日期",)),
            ),
            references=(Reference("department_code", Department, "code", "部门", "department"),),
            whole_row_field="effective_to",
        ),
        Kind(
            "entities",
            "检查对象名录",
            EntityCreate,
            Entity,
            ("uscc",),
            (
                Column("uscc", ("统一社会信用代码", "信用代码")),
                Column("name", ("企业名称", "名称", "主体名称")),
                Column("entity_type", ("主体类型",)),
                Column("industry_code", ("行业代码",)),
                _REGION,
                Column("address", ("住所", "地址", "住所（经营场所）")),
                Column("legal_rep", ("法定代表人", "经营者", "法定代表人（负责人）", "负责人")),
                Column("contact_phone", ("联系电话",)),
                Column("status", ("登记状态", "状态")),
                Column("risk_class", ("信用风险分类", "风险等级")),
                Column("size", ("企业规模",)),
                Column("abnormal", ("是否列入经营异常名录", "经营异常")),
                Column("abnormal_since", ("列入日期",)),
                Column("established_on", ("成立日期",)),
            ),
            stamp="updated_at",
            whole_row_field="abnormal_since",
        ),
        Kind(
            "inspectors",
            "执法检查人员名录",
            InspectorCreate,
            Inspector,
            ("cert_no",),
            (
                Column("cert_no", ("执法证号",)),
                Column("name", ("姓名",)),
                _DEPARTMENT,
                _REGION,
                Column("qualifications", ("执法资格", "执法领域")),
                Column("status", ("在岗状态", "状态")),
            ),
            references=(Reference("department_code", Department, "code", "部门", "department"),),
            stamp="updated_at",
        ),
        Kind(
            "conflicts",
            "回避关系",
            ConflictCreate,
            Conflict,
            ("inspector_cert_no", "uscc"),
            (
                Column("inspector_cert_no", ("执法证号",), ("cert_no",)),
                Column("uscc", ("统一社会信用代码", "信用代码")),
                Column("reason", ("回避原因",)),
                Column("declared_on", ("申报日期",)),
            ),
            references=(
                Reference("inspector_cert_no", Inspector, "cert_no", "检查人员", "inspector"),
                Reference("uscc", Entity, "uscc", "检查对象", "entity"),
            ),
        ),
        Kind(
            "records",
            "合规记录",
            ComplianceRecordCreate,
            ComplianceRecord,
            ("record_id",),
            (
                Column("record_id", ("记录编号",)),
                Column("uscc", ("统一社会信用代码", "信用代码")),
                Column("kind", ("记录类型",)),
                Column("event_date", ("日期",)),
                Column("payload", ("内容",)),
                Column("source", ("来源",)),
                Column("received_at", ("接收时间",)),
            ),
            references=(Reference("uscc", Entity, "uscc", "检查对象", "entity"),),
            stamp="stored_at",
            whole_row_field="payload",
        ),
    )
}


def kind_spec(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        allowed = "、".join(KINDS)
        raise SupervisionError(
            f"未知的数据类别 {name}，应为 {allowed}", f"unknown kind {name}: use {allowed}"
        ) from None


# ---------------------------------------------------------------- errors and the report
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
        shown = "" if self.value is None else str(self.value)
        return (
            f"{file} {where_zh} 值「{shown}」：{self.zh} / "
            f"{file} {where_en}, value {shown!r}: {self.en}"
        )

    def as_dict(self, file: str) -> dict[str, Any]:
        return {
            "file": file,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "zh": self.zh,
            "en": self.en,
        }


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
    kind: str
    file: str
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejects_file: str | None = None
    errors: list[RowError] = field(default_factory=list)

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


# ---------------------------------------------------------------- headers
def map_headers(kind: Kind, headers: list[str], *, ignore_unknown: bool) -> list[str | None]:
    """The field each column feeds (None: ignored). Raises naming unknown/missing columns."""
    aliases = kind.alias_map()
    fields: list[str | None] = []
    unknown: list[str] = []
    seen: dict[str, str] = {}
    problems: list[str] = []
    for header in headers:
        norm = normalise_header(header)
        target = aliases.get(norm)
        if target is None:
            if norm and norm != normalise_header(REASON_HEADER):
                unknown.append(header)
            fields.append(None)
            continue
        if target in seen:
            problems.append(
                f"列「{seen[target]}」与「{header}」是同一字段 {target} / "
                f"columns {seen[target]!r} and {header!r} both give {target}"
            )
        seen[target] = header
        fields.append(target)
    missing = [kind.column(f) for f in kind.required() if f not in seen]
    if unknown and not ignore_unknown:
        problems.append(
            f"未知的列：{'、'.join(unknown)}（可选择忽略未知列：命令行 --ignore-unknown-columns，"
            f"控制台勾选「忽略未知列」） / unknown columns: {', '.join(unknown)} (to ignore "
            "them: --ignore-unknown-columns on the command line, or tick 'Ignore unknown "
            "columns' in the console)"
        )
    if missing:
        problems.append(
            f"缺少必填列：{'、'.join(c.zh[0] for c in missing)} / "
            f"missing required columns: {', '.join(c.field for c in missing)}"
        )
    if problems:
        raise SupervisionError(
            f"{kind.zh}文件的表头有误",
            f"the header row of the {kind.name} file is wrong",
            details=problems,
        )
    return fields


# ---------------------------------------------------------------- validation (pure; runs in workers)
_COLUMN_VALIDATORS: dict[str, ColumnValidator | None] = {}


def column_validator(kind: Kind) -> ColumnValidator | None:
    """The cached column validator of a kind, or None where the model must be used as is."""
    if kind.name not in _COLUMN_VALIDATORS:
        try:
            _COLUMN_VALIDATORS[kind.name] = ColumnValidator(kind.create)
        except UnsupportedModel:
            _COLUMN_VALIDATORS[kind.name] = None
    return _COLUMN_VALIDATORS[kind.name]


def _finish(kind: Kind, values: dict[str, Any]) -> dict[str, Any]:
    """Adjustments to a validated row before it is stored."""
    if kind.name == "records":
        received = values["received_at"]
        if isinstance(received, datetime) and received.utcoffset() is None:
            # A time without a zone is Beijing time, as the regime's files are written.
            values["received_at"] = received.replace(tzinfo=BEIJING)
    return values


def validate_rows(
    kind_name: str,
    headers: list[str],
    fields: list[str | None],
    rows: list[tuple[int, list[Any]]],
    *,
    use_model: bool = False,
) -> tuple[list[tuple[int, tuple[Any, ...]]], list[RowError]]:
    """Validate raw rows with the kind's XCreate model (through its ColumnValidator).

    Returns the good rows as (row number, values in table column order) and every error.
    Pure: no database, so it can run in a worker process. `use_model` skips the column
    validator (tests compare the two).
    """
    kind = KINDS[kind_name]
    fast = None if use_model else column_validator(kind)
    model_validator = kind.create.__pydantic_validator__
    header_of = {f: h for h, f in zip(headers, fields, strict=True) if f is not None}
    index_of = {f: i for i, f in enumerate(fields) if f is not None}
    pairs = [(i, f) for i, f in enumerate(fields) if f is not None]
    width = len(fields)
    store = _stored(kind)
    positions = [index_of.get(name, -1) for name in fast.names] if fast is not None else []
    good: list[tuple[int, tuple[Any, ...]]] = []
    errors: list[RowError] = []
    if rows and max(len(cells) for _, cells in rows) > width:
        kept = []
        for number, cells in rows:
            if any(clean_cell(c) is not None for c in cells[width:]):
                errors.append(
                    RowError(
                        number,
                        "",
                        None,
                        "表头之外还有数据（多出的单元格）",
                        "cells beyond the last header",
                    )
                )
            else:
                kept.append((number, cells))
        rows = kept
    results: Iterable[tuple[dict[str, Any] | None, list[Any]]]
    if fast is not None:
        checked, problems = fast.validate_table([cells for _, cells in rows], positions)
        results = ((values, problems.get(i, [])) for i, values in enumerate(checked))
    else:
        results = (_model_check(model_validator, pairs, cells) for _, cells in rows)
    take = itemgetter(*store)
    for (number, cells), (values, found) in zip(rows, results, strict=True):
        if values is None:
            count = len(cells)
            for err in found:
                loc = err["loc"]
                name = str(loc[0]) if loc else (kind.whole_row_field or "")
                zh, en = translate(err)
                cell = index_of.get(name)
                raw = cells[cell] if cell is not None and cell < count else None
                errors.append(RowError(number, header_of.get(name, ""), _shown(raw), zh, en))
            continue
        good.append((number, take(_finish(kind, values))))
    errors.sort(key=lambda e: e.row)  # cells past the header were found first
    return good, errors


def _stored(kind: Kind) -> list[str]:
    """The table columns a validated row gives, in table order (the stamp is the writer's)."""
    return [c.name for c in kind.table.columns if c.name != kind.stamp]


def _model_check(
    model_validator: Any, pairs: list[tuple[int, str]], cells: list[Any]
) -> tuple[dict[str, Any] | None, list[Any]]:
    """One row through the model itself: (values, []) or (None, errors)."""
    count = len(cells)
    data: dict[str, Any] = {}
    for i, name in pairs:
        value = clean_cell(cells[i]) if i < count else None
        if value is not None:
            data[name] = value
    try:
        return model_validator.validate_python(data).__dict__, []
    except ValidationError as exc:
        return None, list(exc.errors())


def _processed(
    values: Sequence[Any], process: Callable[[Any], Any], caches: dict[type, dict[Any, Any]]
) -> list[Any]:
    """`process` applied to every value but None, once per distinct value (kept in `caches`).

    Only for columns of one plain type, where equal values are processed alike (not 1 and
    True, not datetimes that are equal across time zones); `caches` serves one column.
    """
    kinds = set(map(type, values)) - {type(None)}
    if len(kinds) != 1 or (kind := kinds.pop()) not in _PLAIN:
        return [None if v is None else process(v) for v in values]
    done = caches.setdefault(kind, {})
    if len(done) > _PROCESSED_LIMIT:
        done.clear()
    done[None] = None
    for value in set(values).difference(done):
        done[value] = process(value)
    return list(map(done.__getitem__, values))


_PROCESSED_LIMIT = 100_000
_PLAIN = frozenset({str, int, bool, date})


def _shown(raw: Any) -> Any:
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, datetime):
        return raw.isoformat()
    return raw


# ---------------------------------------------------------------- writing (main process)
class _Writer:
    """Classifies validated rows against the database and writes them with executemany."""

    def __init__(self, conn: Connection, kind: Kind, now: datetime, *, bulk: bool = False) -> None:
        self.conn = conn
        self.kind = kind
        self.table = kind.table
        self.now = now
        self.store = [c.name for c in self.table.columns if c.name != kind.stamp]
        self.key_index = [self.store.index(k) for k in kind.key]
        self.compare = [c for c in self.store if c not in kind.key]
        self.was_empty = conn.execute(select(1).select_from(self.table).limit(1)).first() is None
        keys = [self.table.c[k] for k in kind.key]
        self.key_expr: Any = keys[0] if len(keys) == 1 else tuple_(*keys)
        where = and_(*(self.table.c[k] == bindparam(f"k_{k}") for k in kind.key))
        values: dict[str, Any] = {c: bindparam(f"v_{c}") for c in self.compare}
        if kind.stamp:
            values[kind.stamp] = bindparam(f"v_{kind.stamp}")
        self.update_stmt = self.table.update().where(where).values(values)
        self.known: dict[str, dict[Any, bool]] = {r.field: {} for r in kind.references}
        self._fast_insert: tuple[str, list[Any]] | None = None
        # A big file into an empty SQLite table: indexes are built once at the end.
        self.defer_indexes = bulk and self.was_empty and conn.dialect.name == "sqlite"
        self.rebuild: list[str] = []
        primary = {c.name for c in self.table.primary_key.columns}
        self.key_is_primary = primary == set(kind.key)
        self._processed: defaultdict[int, dict[type, dict[Any, Any]]] = defaultdict(dict)

    def _insert(self, rows: list[tuple[Any, ...]]) -> None:
        """Insert rows (values in `self.store` order) with one executemany.

        PostgreSQL: Core ``conn.execute(table.insert(), dicts)``. SQLite: the same Core
        INSERT, compiled once, executed by the driver's executemany with tuples: SQLAlchemy's
        per-row parameter handling costs more than SQLite's insert itself (measured 63k vs
        106k rows/s). The column types' own bind processors are applied all the same, once
        per distinct value of the chunk (dates and flags repeat endlessly).
        """
        if self.conn.dialect.paramstyle != "qmark":
            extra = {self.kind.stamp: self.now} if self.kind.stamp else {}
            dicts = [dict(zip(self.store, row, strict=True)) | extra for row in rows]
            self.conn.execute(self.table.insert(), dicts)
            return
        sql, processors = self._compiled_insert()
        columns: list[Any] = list(zip(*rows, strict=True))
        for i, process in enumerate(processors[: len(self.store)]):
            if process is not None:
                columns[i] = _processed(columns[i], process, self._processed[i])
        if self.kind.stamp:
            process_stamp = processors[-1]
            columns.append(repeat(process_stamp(self.now) if process_stamp else self.now))
        self.conn.exec_driver_sql(sql, list(zip(*columns, strict=False)))  # stamp: repeat()
        if self.defer_indexes:
            self._drop_indexes()

    def _compiled_insert(self) -> tuple[str, list[Any]]:
        if self._fast_insert is None:
            stamp = [self.kind.stamp] if self.kind.stamp else []
            columns = self.store + stamp
            compiled = (
                self.table.insert()
                .values({c: bindparam(c) for c in columns})
                .compile(dialect=self.conn.dialect)
            )
            order = list(compiled.positiontup or [])
            if order != columns:
                raise RuntimeError(f"unexpected INSERT parameter order {order}")
            dialect = self.conn.dialect
            processors = [
                self.table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns
            ]
            self._fast_insert = (str(compiled), processors)
        return self._fast_insert

    def _drop_indexes(self) -> None:
        """Drop the table's plain indexes for the rest of this bulk load (only on an empty
        table: unique ones and the key keep enforcing); ``finish`` rebuilds them. Measured
        on entities: 7.7 s inserting with indexes, 3.3 s without plus 1.4 s rebuilding.
        See ``db.drop_plain_indexes``: the first INSERT has opened the transaction."""
        self.defer_indexes = False
        self.rebuild += drop_plain_indexes(self.conn, self.table.name)

    def finish(self) -> None:
        """Rebuild the indexes dropped for a bulk load, in the same transaction."""
        for sql in self.rebuild:
            self.conn.exec_driver_sql(sql)
        self.rebuild = []

    def key_of(self, values: tuple[Any, ...]) -> Any:
        if len(self.key_index) == 1:
            return values[self.key_index[0]]
        return tuple(values[i] for i in self.key_index)

    def keys_of(self, rows: list[tuple[Any, ...]]) -> list[Any]:
        """The key of each row: the value, or a tuple for a key of several columns."""
        return list(map(itemgetter(*self.key_index), rows))

    def missing_references(
        self, numbers: Sequence[int], rows: list[tuple[Any, ...]]
    ) -> list[tuple[int, Reference, Any]]:
        """(row, reference, value) for every reference to a row not in the database."""
        found: list[tuple[int, Reference, Any]] = []
        for ref in self.kind.references:
            idx = self.store.index(ref.field)
            known = self.known[ref.field]
            wanted = {values[idx] for values in rows} - known.keys()
            column = ref.model.__table__.c[ref.column]  # type: ignore[attr-defined]
            wanted_list = sorted(wanted)
            for start in range(0, len(wanted_list), LOOKUP_CHUNK):
                part = wanted_list[start : start + LOOKUP_CHUNK]
                present = set(self.conn.execute(select(column).where(column.in_(part))).scalars())
                for value in part:
                    known[value] = value in present
            found.extend(
                (n, ref, values[idx])
                for n, values in zip(numbers, rows, strict=True)
                if not known[values[idx]]
            )
        return found

    def existing(self, keys: list[Any]) -> dict[Any, tuple[Any, ...]]:
        if self.was_empty:
            return {}
        cols = [self.table.c[c] for c in self.store]
        result: dict[Any, tuple[Any, ...]] = {}
        for start in range(0, len(keys), LOOKUP_CHUNK):
            part = keys[start : start + LOOKUP_CHUNK]
            for row in self.conn.execute(select(*cols).where(self.key_expr.in_(part))):
                result[self.key_of(tuple(row))] = tuple(row)
        return result

    def write(self, rows: list[tuple[Any, ...]], report: ImportReport) -> None:
        """Insert the new rows, update the changed ones, count the unchanged."""
        if self.was_empty:  # nothing to compare with (duplicates were removed before)
            inserts = rows
            updates: list[dict[str, Any]] = []
        else:
            keys = self.keys_of(rows)
            old = self.existing(keys)
            inserts = []
            updates = []
            for key, values in zip(keys, rows, strict=True):
                before = old.get(key)
                if before is None:
                    inserts.append(values)
                elif before == values:
                    report.unchanged += 1
                else:
                    params = {f"v_{c}": v for c, v in zip(self.store, values, strict=True)}
                    for k in self.kind.key:
                        params[f"k_{k}"] = params.pop(f"v_{k}")
                    if self.kind.stamp:
                        params[f"v_{self.kind.stamp}"] = self.now
                    updates.append(params)
        if inserts:
            self._insert(inserts)
            report.added += len(inserts)
        if updates:
            self.conn.execute(self.update_stmt, updates)
            report.updated += len(updates)


# ---------------------------------------------------------------- the service
def _chunks(
    rows: Iterator[tuple[int, list[Any]]], size: int
) -> Iterator[list[tuple[int, list[Any]]]]:
    while chunk := list(islice(rows, size)):
        yield chunk


Validated = tuple[
    int,
    list[tuple[int, list[Any]]] | None,
    list[int] | None,
    list[tuple[Any, ...]],
    list[RowError],
]  # (rows read, raw rows if kept, row numbers if known, good rows, errors)


class _Recheck(Exception):
    """A block-parallel CSV import met a problem: redo it with the exact sequential reader."""


def validate_block(
    kind_name: str,
    headers: list[str],
    fields: list[str | None],
    encoding: str,
    first_line: int,
    data: bytes,
) -> tuple[int, list[tuple[Any, ...]], bool]:
    """Worker: parse one CSV byte block and validate it.

    Returns (rows read, good rows, failed): failed means the block did not decode or parse,
    or had a bad row; the parent then redoes the file with the exact sequential reader,
    which reports every problem, so only the good rows travel back (no row numbers, and
    `first_line` may be 0: the parent does not count lines in block mode).
    """
    try:
        cells = list(filter(any, csv.reader(io.StringIO(data.decode(encoding), newline=""))))
    except (UnicodeDecodeError, csv.Error):
        return 0, [], True
    kind = KINDS[kind_name]
    fast = column_validator(kind)
    if fast is None or (cells and max(map(len, cells)) > len(fields)):
        numbered = list(parse_csv_block(data, encoding, first_line))
        good, errors = validate_rows(kind_name, headers, fields, numbered)
        return len(numbered), [values for _, values in good], bool(errors)
    index_of = {f: i for i, f in enumerate(fields) if f is not None}
    checked, problems = fast.validate_table(cells, [index_of.get(n, -1) for n in fast.names])
    if problems:
        return len(cells), [], True
    take = itemgetter(*_stored(kind))
    return len(cells), [take(_finish(kind, values)) for values in checked], False  # type: ignore[arg-type]


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while an import makes millions of small objects.

    The collector runs every 700 new objects and rescans the growing older generations
    over and over (measured on a million entities: 18% of the main process's time and a
    quarter of the workers'); rows hold no cycles, and whatever else there is is collected
    afterwards as usual. Workers run with the collector off (`_pool`).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _pool(workers: int) -> ProcessPoolExecutor:
    # fork: workers start at once and need no importable __main__ (a script calling
    # import_file without a __main__ guard would break under spawn/forkserver); they only
    # validate, never touch the parent's database connection.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context(method),
        initializer=gc.disable,  # they live for one import: see _gc_paused
    )


def _in_order(futures: Iterator[tuple[Any, Future[Any]]], ahead: int) -> Iterator[tuple[Any, Any]]:
    """Results in submission order, with at most `ahead` tasks in flight (flat memory)."""
    pending: list[tuple[Any, Future[Any]]] = []
    for item in futures:
        pending.append(item)
        if len(pending) > ahead:
            tag, future = pending.pop(0)
            yield tag, future.result()
    for tag, future in pending:
        yield tag, future.result()


def _split(
    good: list[tuple[int, tuple[Any, ...]]],
) -> tuple[list[int], list[tuple[Any, ...]]]:
    return [n for n, _ in good], [v for _, v in good]


def _validated_chunks(
    kind: Kind, sheet: Sheet, fields: list[str | None], workers: int, blocks: bool
) -> Generator[Validated, None, None]:
    """Validated rows in file order: in this process, in a pool by chunks, or by CSV blocks.

    Block mode sends raw bytes to the workers, which parse and validate them, so the main
    process only writes; any problem there raises _Recheck for an exact sequential pass.
    """
    if workers <= 1:
        for chunk in _chunks(sheet.rows, CHUNK):
            good, errors = validate_rows(kind.name, sheet.headers, fields, chunk)
            yield (len(chunk), chunk, *_split(good), errors)
        return
    with _pool(workers) as pool:
        if blocks:
            encoding = sheet.encoding or "utf-8-sig"
            submitted = (
                (
                    None,
                    pool.submit(
                        validate_block, kind.name, sheet.headers, fields, encoding, line, data
                    ),
                )
                for line, data in csv_blocks(sheet.path, numbered=False)
            )
            for _, (count, rows, failed) in _in_order(submitted, 2 * workers):
                if failed:
                    raise _Recheck
                yield count, None, None, rows, []
            return
        chunked: Iterator[tuple[Any, Future[Any]]] = (
            (chunk, pool.submit(validate_rows, kind.name, sheet.headers, fields, chunk))
            for chunk in _chunks(sheet.rows, CHUNK)
        )
        for chunk, (good, errors) in _in_order(chunked, 2 * workers):
            yield (len(chunk), chunk, *_split(good), errors)


def import_file(
    db: Database,
    *,
    kind: str,
    path: Path,
    encoding: str | None = None,
    ignore_unknown_columns: bool = False,
    skip_invalid: bool = False,
    workers: int | None = None,
    progress: Callable[[int | None], Any] | None = None,
) -> ImportReport:
    """Import `path` into the `kind` table (see the module docstring for the rules).

    `progress(total)` may return a context manager yielding advance(n); `workers` = None
    picks a process pool for big files. Raises ImportRejected listing every bad row.
    """
    spec = kind_spec(kind)
    path = Path(path)
    for blocks in (True, False):
        sheet = read_table(path, encoding=encoding)
        try:
            with busy_is_an_error(), _gc_paused():
                return _import_sheet(
                    db,
                    spec,
                    sheet,
                    ignore_unknown_columns=ignore_unknown_columns,
                    skip_invalid=skip_invalid,
                    workers=workers,
                    progress=progress,
                    blocks=blocks,
                )
        except _Recheck:
            continue  # rolled back; the exact reader finds and reports every problem
        finally:
            sheet.close()
    raise AssertionError("unreachable: the sequential pass never rechecks")


def _import_sheet(
    db: Database,
    spec: Kind,
    sheet: Sheet,
    *,
    ignore_unknown_columns: bool,
    skip_invalid: bool,
    workers: int | None,
    progress: Callable[[int | None], Any] | None,
    blocks: bool,
) -> ImportReport:
    path = sheet.path
    fields = map_headers(spec, sheet.headers, ignore_unknown=ignore_unknown_columns)
    if workers is None:
        cores = os.cpu_count() or 1
        workers = cores if cores > 1 and (sheet.total or 0) >= PARALLEL_FROM else 1
    report = ImportReport(kind=spec.name, file=path.name)
    rejected: dict[int, tuple[list[Any], list[RowError]]] = {}
    with db.session() as session, _progress(progress, sheet.total) as advance:
        conn = session.connection()
        now = hold_write(conn)  # stamps taken inside the transaction, lock held (checks)
        bulk = (sheet.total or 0) >= BULK_FROM
        writer = _Writer(conn, spec, now, bulk=bulk)
        first_row: dict[Any, int] = {}
        key_header = next(
            (h for h, f in zip(sheet.headers, fields, strict=True) if f == spec.key[0]), ""
        )
        blocks = blocks and workers > 1 and sheet.format == "csv" and _has_newlines(path)
        # closing: a _Recheck shuts the pool down now, not whenever the generator is freed
        with closing(_validated_chunks(spec, sheet, fields, workers, blocks)) as chunks:
            # Into an empty table every row is inserted, so in block mode the table's primary
            # key (the import key) finds a duplicate itself, and the sequential pass names it.
            key_checks = blocks and writer.was_empty and writer.key_is_primary
            for count, raw, numbers, rows, errors in chunks:
                report.rows += count
                if not key_checks:
                    keys = writer.keys_of(rows)
                    if len(set(keys)) == len(keys) and first_row.keys().isdisjoint(keys):
                        first_row.update(zip(keys, numbers or repeat(0), strict=False))
                    elif numbers is None:
                        raise _Recheck  # a duplicate: the sequential pass names both rows
                    else:
                        numbers, rows = _first_of_each(
                            first_row, keys, numbers, rows, key_header, errors
                        )
                missing = writer.missing_references(numbers or range(len(rows)), rows)
                if blocks and (errors or missing):
                    raise _Recheck
                for number, ref, value in missing:
                    header = next(
                        h for h, f in zip(sheet.headers, fields, strict=True) if f == ref.field
                    )
                    errors.append(
                        RowError(
                            number,
                            header,
                            value,
                            f"数据库中没有这个{ref.zh}",
                            f"no such {ref.en} in the database",
                        )
                    )
                if errors and numbers is not None:
                    bad_rows = {e.row for e in errors}
                    kept = [(n, v) for n, v in zip(numbers, rows, strict=True) if n not in bad_rows]
                    rows = [v for _, v in kept]
                    report.errors.extend(errors)
                    if skip_invalid and raw is not None:
                        cells = dict(raw)
                        for e in errors:
                            rejected.setdefault(e.row, (cells[e.row], []))[1].append(e)
                if rows and (skip_invalid or not report.errors):
                    try:
                        writer.write(rows, report)
                    except IntegrityError:
                        if key_checks:
                            raise _Recheck from None  # rolled back by the session
                        raise
                advance(count)
        writer.finish()
        report.errors.sort(key=lambda e: e.row)
        if report.errors and not skip_invalid:
            raise ImportRejected(path.name, report.errors)  # rolls the transaction back
        report.rejected = len(rejected)
        trail.record(
            session,
            action="import",
            obj=f"import:{spec.name}",
            payload={
                "file": path.name,
                "rows": report.rows,
                "added": report.added,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "rejected": report.rejected,
            },
        )
    if rejected:
        report.rejects_file = str(_write_rejects(path, sheet.headers, rejected))
    return report


def _first_of_each(
    first_row: dict[Any, int],
    keys: list[Any],
    numbers: list[int],
    rows: list[tuple[Any, ...]],
    key_header: str,
    errors: list[RowError],
) -> tuple[list[int], list[tuple[Any, ...]]]:
    """The rows whose key is new; an error for each later row with a key seen before."""
    kept_numbers: list[int] = []
    kept_rows: list[tuple[Any, ...]] = []
    for key, number, values in zip(keys, numbers, rows, strict=True):
        first = first_row.setdefault(key, number)
        if first == number:
            kept_numbers.append(number)
            kept_rows.append(values)
        else:
            shown = key if isinstance(key, str) else "/".join(map(str, key))
            errors.append(
                RowError(
                    number, key_header, shown, f"与第 {first} 行重复", f"duplicates row {first}"
                )
            )
    return kept_numbers, kept_rows


def _no_progress(n: int = 1) -> None:
    return None


class _progress:
    """Adapts an optional progress(total) factory into a context yielding advance(n)."""

    def __init__(self, factory: Callable[[int | None], Any] | None, total: int | None) -> None:
        self._cm = factory(total) if factory is not None else None

    def __enter__(self) -> Advance:
        if self._cm is None:
            return _no_progress
        advance: Advance = self._cm.__enter__()
        return advance

    def __exit__(self, *exc: Any) -> None:
        if self._cm is not None:
            self._cm.__exit__(*exc)


def _has_newlines(path: Path) -> bool:
    with path.open("rb") as fh:
        return b"\n" in fh.read(1 << 16)


def rejects_path(path: Path) -> Path:
    """Where `--skip-invalid` writes the rejected rows: <name>.rejects.csv beside the input."""
    return path.with_name(f"{path.stem}.rejects.csv")


def _write_rejects(
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
