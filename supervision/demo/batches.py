"""What generating the demo yields: batches of rows, and the statistics counted on the way."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from supervision.demo.catalog import Row
from supervision.reference.regions import INNER_MONGOLIA_PREFECTURES
from supervision.reference.vocab import RecordKind


@dataclass
class EntityBatch:
    """A slice of the entity stream with the rows that hang off those entities."""

    entities: list[Row] = field(default_factory=list)
    conflicts: list[Row] = field(default_factory=list)
    records: list[Row] = field(default_factory=list)


@dataclass
class DemoStats:
    """What was made, accumulated while generating (complete once the stream is consumed)."""

    departments: int = 0
    items: int = 0
    inspectors: int = 0
    inspectors_by_status: Counter[str] = field(default_factory=Counter)
    conflicts: int = 0
    entities: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    by_prefecture: Counter[str] = field(default_factory=Counter)
    by_risk: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)
    abnormal: int = 0
    abnormal_over_3_years: int = 0
    records_by_kind: Counter[str] = field(default_factory=Counter)

    @property
    def records(self) -> int:
        return sum(self.records_by_kind.values())

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (prefectures with their names, in code order)."""
        return {
            "departments": self.departments,
            "items": self.items,
            "inspectors": self.inspectors,
            "inspectors_by_status": dict(sorted(self.inspectors_by_status.items())),
            "conflicts": self.conflicts,
            "entities": self.entities,
            "entities_by_type": dict(sorted(self.by_type.items())),
            "entities_by_prefecture": {
                code: {
                    "name": INNER_MONGOLIA_PREFECTURES[code],
                    "entities": self.by_prefecture[code],
                }
                for code in sorted(self.by_prefecture)
            },
            "risk_classes": dict(sorted(self.by_risk.items())),
            "entities_by_status": dict(sorted(self.by_status.items())),
            "abnormal": self.abnormal,
            "abnormal_over_3_years": self.abnormal_over_3_years,
            "records": self.records,
            "records_by_kind": {k.value: self.records_by_kind[k.value] for k in RecordKind},
        }
