"""The KINDS registry beside its models: each importable table (the item list and the
directories, 一单两库) with its XCreate model, key, columns, the headers users write for
them, and the references that must already be in the database; and which field each
header of a file feeds (``map_headers``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Table
from sqlmodel import SQLModel

from supervision.db import table_of
from supervision.directories.report import REASON_HEADER
from supervision.directories.tabular import normalise_header
from supervision.errors import SupervisionError
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
        return table_of(self.model)

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
                Column("scope_entity_types", ("适用主体类型", "检查对象类型")),
                Column("scope_industries", ("适用行业代码", "适用行业")),
                Column("scope_licences", ("涉及许可类别", "许可类别")),
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
                Column("risk_classified_on", ("信用风险分类日期", "分类日期")),
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
                Column("cert_issued_on", ("发证日期", "执法证发证日期")),
                Column("cert_expires_on", ("有效期至", "执法证有效期至")),
                Column("cert_authority", ("发证机关", "执法证发证机关")),
            ),
            references=(Reference("department_code", Department, "code", "部门", "department"),),
            stamp="updated_at",
            whole_row_field="cert_expires_on",
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
                Column("starts_on", ("回避开始日期", "开始日期")),
                Column("ends_on", ("回避结束日期", "结束日期")),
                Column("source", ("回避来源", "申请方")),
            ),
            references=(
                Reference("inspector_cert_no", Inspector, "cert_no", "检查人员", "inspector"),
                Reference("uscc", Entity, "uscc", "检查对象", "entity"),
            ),
            whole_row_field="ends_on",
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
    """The kind called `name`; an unknown name is an error naming the known ones."""
    try:
        return KINDS[name]
    except KeyError:
        allowed = "、".join(KINDS)
        raise SupervisionError(
            f"未知的数据类别 {name}，应为 {allowed}", f"unknown kind {name}: use {allowed}"
        ) from None


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
