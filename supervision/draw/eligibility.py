"""Who may inspect an entity: eligibility of inspectors from directory-like records
(department, duty, qualifications, region, conflicts, earlier visits). Pure: no database,
no I/O; the matching (``draw.matching``) takes the result as plain data.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Literal, TypedDict

from supervision.draw.tickets import DrawError

RegionRule = Literal["prefecture", "county", "province", "any"]

REGION_PREFIX: dict[str, int] = {"province": 2, "prefecture": 4, "county": 6, "any": 0}
"""Leading digits of the 6-digit 行政区划代码 an inspector must share with the entity."""


class EntityRecord(TypedDict):
    """The entity fields eligibility depends on."""

    uscc: str
    region_code: str


class InspectorRecord(TypedDict):
    """The inspector-directory fields eligibility depends on."""

    cert_no: str
    department: str
    region_code: str
    qualifications: Collection[str]
    status: str
    active: bool


def eligible_inspectors(
    entity: EntityRecord,
    inspectors: Iterable[InspectorRecord],
    task_items: Mapping[str, Collection[str]],
    conflicts: Collection[tuple[str, str]] = frozenset(),
    previous: Mapping[tuple[str, str], Collection[str]] | None = None,
    *,
    region_rule: RegionRule = "prefecture",
    exclude_previous: bool = True,
) -> dict[str, list[str]]:
    """Return, per department of the task, the sorted cert numbers of inspectors who may
    inspect ``entity``.

    An inspector is eligible for department ``d`` when they belong to ``d``; are on
    duty (status 在岗 and active); hold every qualification in ``task_items[d]`` (the
    task's item codes or enforcement fields for that department); work in the same
    region under ``region_rule`` (first 2/4/6 digits of the region code, or any);
    have no declared conflict ``(cert_no, uscc)``; and, when ``exclude_previous``,
    did not inspect this entity for any of those items before
    (``previous[(uscc, item)]`` holds the cert numbers who did).
    """
    if region_rule not in REGION_PREFIX:
        raise DrawError(
            f"未知的地域规则 {region_rule!r}（可选 {', '.join(REGION_PREFIX)}）",
            f"unknown region rule {region_rule!r} (one of {', '.join(REGION_PREFIX)})",
        )
    digits = REGION_PREFIX[region_rule]
    uscc = entity["uscc"]
    region = entity["region_code"][:digits]
    conflict_set = set(conflicts)
    result: dict[str, list[str]] = {department: [] for department in task_items}
    for inspector in inspectors:
        department = inspector["department"]
        if department not in task_items:
            continue
        cert = inspector["cert_no"]
        items = task_items[department]
        if not (inspector["active"] and inspector["status"] == "在岗"):
            continue
        if inspector["region_code"][:digits] != region:
            continue
        if not set(items) <= set(inspector["qualifications"]):
            continue
        if (cert, uscc) in conflict_set:
            continue
        if (
            exclude_previous
            and previous
            and any(cert in previous.get((uscc, item), ()) for item in items)
        ):
            continue
        result[department].append(cert)
    return {department: sorted(set(certs)) for department, certs in result.items()}
