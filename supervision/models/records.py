"""Compliance records (annual reports, licences, complaints, ...), one payload model per kind.

The rules engine reads these; its derived facts are computed in supervision.checks.facts.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)
from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from supervision import clock
from supervision.models import fields as f
from supervision.reference.vocab import RecordKind


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Every text of a payload: no control characters (line breaks allowed) or bidi controls.
    _text = field_validator("*", mode="before")(f.check_multiline_text)


class AnnualReport(_Payload):
    """年度报告 for `year`, due by 30 June of the next year; filed_on empty = not filed."""

    year: int = Field(ge=1980, le=2100)
    filed_on: date | None = None


class ImmediateInfo(_Payload):
    """即时信息: must be published within 20 working days of arising."""

    info_type: str = Field(min_length=1, max_length=50)
    arose_on: date
    published_on: date | None = None


class Licence(_Payload):
    licence_no: str = Field(min_length=1, max_length=64)
    licence_type: str = Field(min_length=1, max_length=64)
    valid_to: date
    business_active: bool = True


class Complaint(_Payload):
    received_on: date
    summary: str = Field(default="", max_length=500)


_RESULT_DETAILS = ("main_code", "sub_code", "follow_up", "follow_up_status", "follow_up_due")


class InspectionResultRecord(_Payload):
    task_code: str = Field(min_length=1, max_length=64)
    item_code: str = Field(min_length=1, max_length=32)
    result_code: str = Field(min_length=1, max_length=3)
    inspected_on: date
    inspectors: list[str] = Field(default_factory=list)
    # What the rules read beside the effective code (all optional: imported records of
    # other systems may not carry them).
    main_code: str | None = Field(default=None, max_length=3)
    sub_code: str | None = Field(default=None, max_length=3)
    follow_up: str | None = Field(default=None, max_length=16)
    follow_up_status: str | None = Field(default=None, max_length=16)
    follow_up_due: date | None = None

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """The optional result details only when given: records without them are stored
        exactly as before they existed."""
        data: dict[str, Any] = handler(self)
        for key in _RESULT_DETAILS:
            if data.get(key) is None:
                data.pop(key, None)
        return data

    @field_validator("inspectors", mode="before")
    @classmethod
    def _split(cls, v: Any) -> Any:
        return f.as_list(v)


class RectificationOrder(_Payload):
    order_no: str = Field(min_length=1, max_length=64)
    ordered_on: date
    due_on: date
    rectified_on: date | None = None

    @model_validator(mode="after")
    def _order(self) -> RectificationOrder:
        if self.due_on < self.ordered_on:
            raise ValueError("整改期限早于责令日期 / due_on is before ordered_on")
        return self


class AddressCheck(_Payload):
    checked_on: date
    reachable: bool


class InfoCheck(_Payload):
    checked_on: date
    false_info: bool
    detail: str = Field(default="", max_length=500)


PAYLOAD_MODELS: dict[RecordKind, type[_Payload]] = {
    RecordKind.ANNUAL_REPORT: AnnualReport,
    RecordKind.IMMEDIATE_INFO: ImmediateInfo,
    RecordKind.LICENCE: Licence,
    RecordKind.COMPLAINT: Complaint,
    RecordKind.INSPECTION_RESULT: InspectionResultRecord,
    RecordKind.RECTIFICATION_ORDER: RectificationOrder,
    RecordKind.ADDRESS_CHECK: AddressCheck,
    RecordKind.INFO_CHECK: InfoCheck,
}

# The date that orders a record in time, per kind (used for event_date when not given).
EVENT_DATE_FIELD: dict[RecordKind, str] = {
    RecordKind.ANNUAL_REPORT: "filed_on",
    RecordKind.IMMEDIATE_INFO: "arose_on",
    RecordKind.LICENCE: "valid_to",
    RecordKind.COMPLAINT: "received_on",
    RecordKind.INSPECTION_RESULT: "inspected_on",
    RecordKind.RECTIFICATION_ORDER: "ordered_on",
    RecordKind.ADDRESS_CHECK: "checked_on",
    RecordKind.INFO_CHECK: "checked_on",
}


class ComplianceRecordBase(SQLModel):
    record_id: str = Field(primary_key=True, min_length=1, max_length=64)
    uscc: str = Field(foreign_key="entity.uscc", max_length=18)
    kind: str = Field(max_length=32)
    event_date: date | None = None
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    source: str = Field(default="", max_length=100)
    received_at: datetime


class ComplianceRecord(ComplianceRecordBase, table=True):
    """A stored record. ``received_at`` is when the bureau received it (from the source,
    as imported); ``stored_at`` is when this system stored or last changed the row, set
    by the system alone: checks find what changed since their last run by it."""

    __tablename__ = "compliance_record"
    __table_args__ = (
        Index("ix_record_entity_kind", "uscc", "kind"),
        Index("ix_record_stored", "stored_at"),
    )
    stored_at: datetime = Field(
        default_factory=clock.now, sa_column_kwargs={"default": clock.now, "onupdate": clock.now}
    )


class ComplianceRecordCreate(ComplianceRecordBase):
    """A record as imported: the payload is validated by the model of its kind."""

    _uscc = field_validator("uscc", mode="before")(f.check_uscc)
    _date = field_validator("event_date", mode="before")(f.as_date)
    _text = field_validator("record_id", "source", mode="before")(f.check_text)

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, v: Any) -> str:
        return RecordKind.parse(v).value

    @field_validator("received_at", mode="before")
    @classmethod
    def _received(cls, v: Any) -> Any:
        if isinstance(v, str) and v.strip() and len(v.strip()) <= 10:
            return datetime.combine(f.as_date(v), datetime.min.time())
        return v

    @field_validator("payload", mode="before")
    @classmethod
    def _payload_json(cls, v: Any) -> Any:
        if isinstance(v, str):
            import json

            try:
                return json.loads(v)
            except json.JSONDecodeError as exc:
                raise ValueError(
                    f"payload 不是合法的 JSON：{exc.msg} / payload is not JSON"
                ) from None
        return v

    @model_validator(mode="after")
    def _validate_payload(self) -> ComplianceRecordCreate:
        kind = RecordKind(self.kind)
        try:
            payload = PAYLOAD_MODELS[kind].model_validate(self.payload)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            raise ValueError(
                f"{kind.zh}内容有误 / invalid {kind.value} payload: {problems}"
            ) from None
        self.payload = payload.model_dump(mode="json")
        if self.event_date is None:
            value = getattr(payload, EVENT_DATE_FIELD[kind])
            self.event_date = value
        return self
