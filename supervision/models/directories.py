"""两库: the entity directory and the inspector directory, with departments and 回避 conflicts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import ConfigDict, field_validator, model_validator
from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from supervision.models import fields as f
from supervision.reference.privacy import mask_name
from supervision.reference.vocab import (
    EntitySize,
    EntityStatus,
    EntityType,
    InspectorStatus,
    RiskClass,
)


# ---------------------------------------------------------------- departments
class DepartmentBase(SQLModel):
    code: str = Field(primary_key=True, min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=100)
    region_code: str = Field(max_length=6)


class Department(DepartmentBase, table=True):
    __tablename__ = "department"


class DepartmentCreate(DepartmentBase):
    _code = field_validator("code", mode="before")(f.normalise_keys)
    _text = field_validator("name", mode="before")(f.check_text)
    _region = field_validator("region_code", mode="before")(f.check_region)


# ---------------------------------------------------------------- entities
class EntityBase(SQLModel):
    uscc: str = Field(primary_key=True, min_length=18, max_length=18)
    name: str = Field(min_length=1, max_length=200)
    entity_type: str = Field(max_length=16)
    industry_code: str = Field(max_length=5, index=True)
    region_code: str = Field(max_length=6, index=True)
    address: str = Field(default="", max_length=300)
    # 法定代表人或经营者: a natural person, personal data; masked on public pages.
    legal_rep: str = Field(default="", max_length=50)
    contact_phone: str | None = Field(default=None, max_length=30)
    status: str = Field(default=EntityStatus.ACTIVE.value, max_length=8)
    risk_class: str = Field(default=RiskClass.B.value, max_length=1)
    #: The day the class in force was set (the bureau's classification, or a decision):
    #: an import changes a class a decision set only with a newer classification.
    risk_classified_on: date | None = None
    size: str | None = Field(default=None, max_length=4)
    abnormal: bool = False
    abnormal_since: date | None = None
    established_on: date


class Entity(EntityBase, table=True):
    __tablename__ = "entity"
    __table_args__ = (
        Index("ix_entity_draw", "status", "risk_class", "region_code"),
        # Incremental checks select the entities changed since the last run.
        Index("ix_entity_updated", "updated_at"),
    )
    updated_at: datetime


class EntityCreate(EntityBase):
    """An entity row as imported; validation of every field lives here."""

    _uscc = field_validator("uscc", mode="before")(f.check_uscc)
    _text = field_validator("name", "address", "legal_rep", "contact_phone", mode="before")(
        f.check_text
    )
    _region = field_validator("region_code", mode="before")(f.check_region)
    _industry = field_validator("industry_code", mode="before")(f.check_industry)
    _dates = field_validator(
        "abnormal_since", "established_on", "risk_classified_on", mode="before"
    )(f.as_date)
    _bool = field_validator("abnormal", mode="before")(f.as_bool)
    _blank = field_validator("contact_phone", "size", mode="before")(f.blank_to_none)

    @field_validator("entity_type", mode="before")
    @classmethod
    def _entity_type(cls, v: Any) -> str:
        return EntityType.parse(v).value

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, v: Any) -> str:
        return EntityStatus.parse(v).value

    @field_validator("risk_class", mode="before")
    @classmethod
    def _risk(cls, v: Any) -> str:
        return RiskClass.parse(str(v).upper()).value

    @field_validator("size", mode="after")
    @classmethod
    def _size(cls, v: str | None) -> str | None:
        return None if v is None else EntitySize.parse(v).value

    @model_validator(mode="after")
    def _abnormal_date(self) -> EntityCreate:
        if self.abnormal and self.abnormal_since is None:
            raise ValueError(
                "列入经营异常名录的主体必须填写列入日期 / abnormal_since is required when abnormal"
            )
        if not self.abnormal and self.abnormal_since is not None:
            raise ValueError(
                "未列入经营异常名录却填写了列入日期 / abnormal_since given but abnormal is false"
            )
        return self


class EntityPublic(SQLModel):
    """What the public may see of an entity: the natural person's name is masked, no phone."""

    uscc: str
    name: str
    entity_type: str
    industry_code: str
    region_code: str
    address: str
    legal_rep_masked: str
    status: str
    established_on: date

    @classmethod
    def from_entity(cls, entity: EntityBase) -> EntityPublic:
        return cls(
            uscc=entity.uscc,
            name=entity.name,
            entity_type=entity.entity_type,
            industry_code=entity.industry_code,
            region_code=entity.region_code,
            address=entity.address,
            legal_rep_masked=mask_name(entity.legal_rep),
            status=entity.status,
            established_on=entity.established_on,
        )


# ---------------------------------------------------------------- inspectors
class InspectorBase(SQLModel):
    cert_no: str = Field(primary_key=True, min_length=4, max_length=32)  # 执法证号
    name: str = Field(min_length=1, max_length=50)
    department_code: str = Field(foreign_key="department.code", max_length=32, index=True)
    region_code: str = Field(max_length=6, index=True)
    # Item codes or enforcement fields the inspector is qualified for.
    qualifications: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=InspectorStatus.ACTIVE.value, max_length=4)
    # The 执法证: its issue and expiry dates and the authority that issued it. An inspector
    # may be on a team only on a day the certificate is valid (issued_on <= day <= expires_on).
    cert_issued_on: date | None = None
    cert_expires_on: date | None = None
    cert_authority: str | None = Field(default=None, max_length=100)


class Inspector(InspectorBase, table=True):
    __tablename__ = "inspector"
    updated_at: datetime


class InspectorCreate(InspectorBase):
    # Defaults are validated too: a blank qualifications cell must fail, not become [].
    model_config = ConfigDict(validate_default=True)  # type: ignore[assignment]

    _region = field_validator("region_code", mode="before")(f.check_region)
    # Runs after as_list (validators of one field run bottom-up): each code normalised.
    _quals_keys = field_validator("qualifications", mode="before")(f.normalise_keys)
    _quals = field_validator("qualifications", mode="before")(f.as_list)
    _text = field_validator("name", mode="before")(f.check_text)
    _keys = field_validator("department_code", mode="before")(f.normalise_keys)
    _cert_dates = field_validator("cert_issued_on", "cert_expires_on", mode="before")(f.as_date)
    _authority = field_validator("cert_authority", mode="before")(f.blank_to_none)

    @field_validator("cert_no", mode="before")
    @classmethod
    def _cert(cls, v: Any) -> str:
        return f.normalise_key(v)

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, v: Any) -> str:
        return InspectorStatus.parse(v).value

    @field_validator("qualifications", mode="after")
    @classmethod
    def _nonempty(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError(
                "检查人员至少要有一项执法资格 / at least one qualification is required"
            )
        return sorted(set(v))

    @model_validator(mode="after")
    def _cert_period(self) -> InspectorCreate:
        if (
            self.cert_issued_on is not None
            and self.cert_expires_on is not None
            and self.cert_expires_on < self.cert_issued_on
        ):
            raise ValueError(
                f"执法证有效期至 {self.cert_expires_on} 早于发证日期 {self.cert_issued_on} / "
                f"certificate expiry {self.cert_expires_on} is before its issue date "
                f"{self.cert_issued_on}"
            )
        return self


class InspectorPublic(SQLModel):
    """Inspectors are public by name and 执法证号, as enforcement disclosure requires."""

    cert_no: str
    name: str
    department_code: str
    region_code: str


# ---------------------------------------------------------------- conflicts (回避)
class ConflictBase(SQLModel):
    inspector_cert_no: str = Field(foreign_key="inspector.cert_no", primary_key=True, max_length=32)
    uscc: str = Field(foreign_key="entity.uscc", primary_key=True, max_length=18, index=True)
    reason: str = Field(min_length=1, max_length=200)
    declared_on: date
    # The period the conflict holds (None: open-ended on that side) and who declared it:
    # "inspector" (the officer's own 回避 declaration) or "entity" (the entity's 回避 request).
    starts_on: date | None = None
    ends_on: date | None = None
    source: str = Field(default="inspector", max_length=16)


class Conflict(ConflictBase, table=True):
    __tablename__ = "conflict"


#: Who declared a conflict: the stored value and its wording.
CONFLICT_SOURCES: dict[str, tuple[str, str]] = {
    "inspector": ("检查人员申报", "declared by the inspector"),
    "entity": ("检查对象申请回避", "requested by the entity"),
}


class ConflictCreate(ConflictBase):
    _uscc = field_validator("uscc", mode="before")(f.check_uscc)
    _cert = field_validator("inspector_cert_no", mode="before")(f.normalise_keys)
    _text = field_validator("reason", mode="before")(f.check_multiline_text)
    _date = field_validator("declared_on", "starts_on", "ends_on", mode="before")(f.as_date)

    @field_validator("source", mode="before")
    @classmethod
    def _source(cls, v: Any) -> str:
        text = "inspector" if v is None else str(v).strip()
        by_zh = {"检查人员": "inspector", "人员": "inspector", "主体": "entity",
                 "检查对象": "entity", "企业": "entity"}  # fmt: skip
        text = by_zh.get(text, text) or "inspector"
        if text not in CONFLICT_SOURCES:
            raise ValueError(
                f"回避来源 {v!r} 不是 inspector（检查人员）或 entity（检查对象） / "
                f"source {v!r} is not inspector or entity"
            )
        return text

    @model_validator(mode="after")
    def _period(self) -> ConflictCreate:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValueError(
                f"回避结束日期 {self.ends_on} 早于开始日期 {self.starts_on} / "
                f"conflict end {self.ends_on} is before its start {self.starts_on}"
            )
        return self
