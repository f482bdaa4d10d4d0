"""A synthetic but realistic demo province: Inner Mongolia's 12 盟市.

Pure generation, no I/O: ``DemoProvince(entities=..., seed=..., as_of=...)`` yields plain
dicts shaped like the table rows (``Department``, ``InspectionItem``, ``Inspector``,
``Entity``, ``Conflict``, ``ComplianceRecord``). The seed and the as-of date determine
every value, so two runs with the same inputs give identical rows; supervision.demo.load
writes them to a database.

Generated rows skip pydantic validation for speed, but they are built to pass it: the
tests validate samples of every kind through the ``XCreate`` models and compare.

What the province is made of is in ``catalog`` (departments, items, industries) and
``words``; the entities and their records come from ``entities.EntityStream``.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from datetime import date

from supervision import clock
from supervision.demo.batches import DemoStats, EntityBatch
from supervision.demo.catalog import DEPARTMENTS, ITEMS, ITEMS_BY_DEPT, PREFECTURE_WEIGHTS, Row
from supervision.demo.entities import EntityStream, Setting
from supervision.demo.words import Picker, person_name
from supervision.reference.regions import (
    INNER_MONGOLIA_COUNTIES,
    INNER_MONGOLIA_PREFECTURES,
    prefecture_of,
)
from supervision.reference.vocab import InspectorStatus

__all__ = [
    "DEFAULT_ENTITIES",
    "DEFAULT_SEED",
    "DEPARTMENTS",
    "ITEMS",
    "PREFECTURE_WEIGHTS",
    "PROVINCE_CODE",
    "DemoProvince",
    "DemoStats",
    "EntityBatch",
    "Row",
    "inspector_count",
]


PROVINCE_CODE = "150000"
DEFAULT_SEED = 2026
DEFAULT_ENTITIES = 5_000
#: One inspector per this many entities, capped: a province does not have 25,000 inspectors.
ENTITIES_PER_INSPECTOR = 40
MAX_INSPECTORS = 3_000
#: Every department keeps at least this many active inspectors in every prefecture,
#: so that any task can be staffed with two inspectors plus a spare for 回避.
MIN_ACTIVE_PER_PREFECTURE = 3
FULLY_QUALIFIED_PER_PREFECTURE = 5
ITEMS_EFFECTIVE_FROM = date(2024, 1, 1)


def inspector_count(entities: int) -> int:
    """How many inspectors the province gets before the per-prefecture minimum: N/40, ≤ 3000."""
    return min(entities // ENTITIES_PER_INSPECTOR, MAX_INSPECTORS)


def _regions_of(prefecture: str) -> list[tuple[str, float]]:
    """Where in a prefecture: its known 旗县区 and the prefecture code itself (the rest)."""
    counties = [c for c in INNER_MONGOLIA_COUNTIES if prefecture_of(c) == prefecture]
    return [(c, 1.0) for c in counties] + [(prefecture, max(1.0, len(counties) / 2))]


class DemoProvince:
    """The demo province for one (entities, seed, as_of): departments, items, inspectors,
    then a stream of entity batches with their conflicts and compliance records.

    Same inputs, same rows: every random choice comes from generators seeded by ``seed``
    and consumed in a fixed order, independent of how the stream is batched.
    """

    def __init__(
        self, *, entities: int = DEFAULT_ENTITIES, seed: int = DEFAULT_SEED,
        as_of: date | None = None,
    ) -> None:  # fmt: skip
        if entities < 0:
            raise ValueError("entities must be ≥ 0")
        self.entity_count = entities
        self.seed = seed
        self.as_of = as_of or clock.today()
        # When rows were stored: the start of the as-of day in China (midnight UTC would
        # lie up to eight hours ahead of now, and every incremental check until then
        # would take every entity as changed).
        self.stamp = clock.day_start(self.as_of)
        self.stats = DemoStats(departments=len(DEPARTMENTS), items=len(ITEMS))
        self._prefecture = Picker([(p, float(w)) for p, w in PREFECTURE_WEIGHTS.items()])
        self._region_in = {p: Picker(_regions_of(p)) for p in PREFECTURE_WEIGHTS}
        self._region_name = {
            **{c: INNER_MONGOLIA_PREFECTURES[prefecture_of(c)] + n
               for c, n in INNER_MONGOLIA_COUNTIES.items()},
            **INNER_MONGOLIA_PREFECTURES,
        }  # fmt: skip
        self._inspectors = self._make_inspectors()
        self.stats.inspectors = len(self._inspectors)
        self.stats.inspectors_by_status = Counter(i["status"] for i in self._inspectors)
        # Active inspectors by (department, prefecture) and everyone by prefecture.
        self._active: dict[tuple[str, str], list[str]] = {}
        self._by_prefecture: dict[str, list[str]] = {}
        for row in self._inspectors:
            pref = prefecture_of(row["region_code"])
            self._by_prefecture.setdefault(pref, []).append(row["cert_no"])
            if row["status"] == InspectorStatus.ACTIVE.value:
                self._active.setdefault((row["department_code"], pref), []).append(row["cert_no"])

    # ------------------------------------------------------------ small tables
    def departments(self) -> list[Row]:
        """Department rows (all at province level, region 150000)."""
        return [{"code": d.code, "name": d.name, "region_code": PROVINCE_CODE} for d in DEPARTMENTS]

    def items(self) -> list[Row]:
        """InspectionItem rows: version 1, in force from 2024-01-01."""
        return [
            {
                "code": i.code, "version": 1, "name": i.name, "department_code": i.department_code,
                "legal_basis": i.legal_basis, "object_type": i.object_type,
                "methods": list(i.methods), "kind": i.kind,
                "effective_from": ITEMS_EFFECTIVE_FROM, "effective_to": None,
                "scope_entity_types": sorted(i.scope_entity_types),
                "scope_industries": sorted(i.scope_industries),
                "scope_licences": sorted(i.scope_licences),
            }
            for i in ITEMS
        ]  # fmt: skip

    def inspectors(self) -> list[Row]:
        """Inspector rows: every department staffed in every prefecture."""
        return [dict(row) for row in self._inspectors]

    def _make_inspectors(self) -> list[Row]:
        rng = random.Random(f"supervision-demo:{self.seed}:inspectors")
        total = inspector_count(self.entity_count)
        weight_sum = sum(PREFECTURE_WEIGHTS.values())
        status = Picker([(InspectorStatus.ACTIVE.value, 88), (InspectorStatus.TRANSFERRED.value, 7),
                          (InspectorStatus.RETIRED.value, 5)])  # fmt: skip
        rows: list[Row] = []
        for d_index, dept in enumerate(DEPARTMENTS, start=1):
            codes = [i.code for i in ITEMS_BY_DEPT[dept.code]]
            for pref, weight in PREFECTURE_WEIGHTS.items():
                n = max(
                    MIN_ACTIVE_PER_PREFECTURE,
                    FULLY_QUALIFIED_PER_PREFECTURE,
                    round(total * dept.staff_share * weight / weight_sum),
                )
                for serial in range(1, n + 1):
                    # The first few per prefecture hold every item, so any task of the
                    # department can be staffed there even after conflicts and 回避 of
                    # earlier inspectors; the rest are a realistic mix.
                    if serial <= FULLY_QUALIFIED_PER_PREFECTURE or rng.random() < 0.7:
                        quals = codes
                    else:
                        quals = rng.sample(
                            codes, rng.randint(max(1, len(codes) - 2), len(codes) - 1)
                        )
                    rows.append({
                        # 执法证号: 15 + prefecture + department + serial, e.g. 150201000123
                        "cert_no": f"{pref[:4]}{d_index:02d}{serial:06d}",
                        "name": person_name(rng),
                        "department_code": dept.code,
                        "region_code": self._region_in[pref](rng) if rng.random() < 0.5 else pref,
                        "qualifications": sorted(quals),
                        "status": InspectorStatus.ACTIVE.value
                        if serial <= max(MIN_ACTIVE_PER_PREFECTURE, FULLY_QUALIFIED_PER_PREFECTURE)
                        else status(rng),
                        # The 执法证: issued some years ago, valid a few years ahead
                        # (from the serial, so the random stream is unchanged).
                        "cert_issued_on": date(self.stamp.year - 1 - serial % 6,
                                               1 + serial % 12, 1 + serial % 28),
                        "cert_expires_on": date(self.stamp.year + 2 + serial % 4, 12, 31),
                        "cert_authority": "内蒙古自治区人民政府",
                        "updated_at": self.stamp,
                    })  # fmt: skip
        return rows

    # ------------------------------------------------------------ the entity stream
    def batches(self, size: int = 10_000) -> Iterator[EntityBatch]:
        """Entities in batches of ``size``, each with its conflicts and records.

        Restartable: each call replays the same stream and recounts ``self.stats``.
        """
        stats = DemoStats(
            departments=self.stats.departments, items=self.stats.items,
            inspectors=self.stats.inspectors, inspectors_by_status=self.stats.inspectors_by_status,
        )  # fmt: skip
        self.stats = stats
        setting = Setting(
            as_of=self.as_of, stamp=self.stamp, prefecture=self._prefecture,
            region_in=self._region_in, region_name=self._region_name, active=self._active,
            by_prefecture=self._by_prefecture,
        )  # fmt: skip
        gen = EntityStream(setting, random.Random(f"supervision-demo:{self.seed}:entities"), stats)
        batch = EntityBatch()
        for entity_type, region, count in gen.groups(self.entity_count):
            for established, body in gen.group_members(count):
                gen.entity(entity_type, region, established, body, batch)
                if len(batch.entities) >= size:
                    yield batch
                    batch = EntityBatch()
        if batch.entities:
            yield batch
