"""一单: the random inspection item list (随机抽查事项清单), versioned."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import ConfigDict, field_validator, model_validator
from sqlalchemy import JSON, Column, text
from sqlmodel import Field, SQLModel

from supervision.models import fields as f
from supervision.reference.vocab import EntityType, InspectionMethod, ItemKind


def _scope_column() -> Any:
    """A scope list: JSON, ``[]`` (no restriction) for rows written without one."""
    return Column(JSON, nullable=False, server_default=text("'[]'"))


class InspectionItemBase(SQLModel):
    code: str = Field(primary_key=True, min_length=1, max_length=32)
    version: int = Field(default=1, primary_key=True, ge=1)
    name: str = Field(min_length=1, max_length=200)
    department_code: str = Field(foreign_key="department.code", max_length=32, index=True)
    legal_basis: str = Field(min_length=1, max_length=1000)  # 法律依据, with the article
    object_type: str = Field(min_length=1, max_length=100)  # 检查对象
    methods: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    kind: str = Field(default=ItemKind.GENERAL.value, max_length=4)
    effective_from: date
    effective_to: date | None = None
    # 检查对象范围: which entities the item applies to; empty = no restriction.
    scope_entity_types: list[str] = Field(default_factory=list, sa_column=_scope_column())
    scope_industries: list[str] = Field(  # GB/T 4754 prefixes: F, F52, H6210
        default_factory=list, sa_column=_scope_column()
    )
    scope_licences: list[str] = Field(default_factory=list, sa_column=_scope_column())


class InspectionItem(InspectionItemBase, table=True):
    __tablename__ = "inspection_item"


class InspectionItemCreate(InspectionItemBase):
    # Defaults are validated too: a blank methods cell must fail, not become [].
    model_config = ConfigDict(validate_default=True)  # type: ignore[assignment]

    _dates = field_validator("effective_from", "effective_to", mode="before")(f.as_date)
    _keys = field_validator("code", "department_code", mode="before")(f.normalise_keys)
    _text = field_validator("name", "object_type", mode="before")(f.check_text)
    _legal = field_validator("legal_basis", mode="before")(f.check_multiline_text)
    _methods = field_validator("methods", mode="before")(f.as_list)
    _scopes = field_validator(
        "scope_entity_types", "scope_industries", "scope_licences", mode="before"
    )(f.as_list)

    @field_validator("scope_entity_types", mode="after")
    @classmethod
    def _scope_types(cls, v: list[str]) -> list[str]:
        return sorted({EntityType.parse(t).value for t in v})

    @field_validator("scope_industries", mode="after")
    @classmethod
    def _scope_industries(cls, v: list[str]) -> list[str]:
        return sorted({f.check_industry(i) for i in v})

    @field_validator("scope_licences", mode="after")
    @classmethod
    def _scope_licences(cls, v: list[str]) -> list[str]:
        return sorted({f.check_text(i) for i in v})

    @field_validator("methods", mode="after")
    @classmethod
    def _methods_known(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("至少要有一种检查方式 / at least one inspection method is required")
        return [InspectionMethod.parse(m).value for m in v]

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, v: Any) -> str:
        return ItemKind.parse(v).value

    @model_validator(mode="after")
    def _period(self) -> InspectionItemCreate:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("失效日期早于生效日期 / effective_to is before effective_from")
        return self
