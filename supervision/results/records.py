"""The compliance records a result adds, so the rules engine sees what was found.

An approved result adds an ``inspection_result`` record; a rectification order, entered
with its due date, adds a ``rectification_order`` record (its ``rectified_on`` is filled
in when the follow-up is done). Record ids are derived from the result, so the same
version always names the same record.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from sqlmodel import Session

from supervision.db import hold_write
from supervision.models import ComplianceRecord
from supervision.models.records import PAYLOAD_MODELS
from supervision.reference.vocab import RecordKind

__all__ = ["add_record", "record_id"]


def record_id(task_code: str, uscc: str, item: str, version: int, kind: str) -> str:
    """The id of the record of ``kind`` that one version of a result adds."""
    key = f"{kind}\x1f{task_code}\x1f{uscc}\x1f{item}\x1f{version}".encode()
    return f"res-{kind[:4]}-{hashlib.sha256(key).hexdigest()[:40]}"


def add_record(
    session: Session, *, record_id: str, uscc: str, kind: RecordKind, payload: dict[str, Any]
) -> None:
    """Add a validated compliance record, stamped inside the transaction."""
    model = PAYLOAD_MODELS[kind].model_validate(payload)
    data = model.model_dump(mode="json")
    stored = hold_write(session.connection())  # stamped inside the transaction (checks)
    session.add(
        ComplianceRecord(
            record_id=record_id,
            uscc=uscc,
            kind=kind.value,
            event_date=date.fromisoformat(
                data["ordered_on"]
                if kind == RecordKind.RECTIFICATION_ORDER
                else data["inspected_on"]
            ),
            payload=data,
            source="supervision result",
            received_at=stored,
            stored_at=stored,
        )
    )
