"""Who may inspect an entity: eligibility of inspectors from directory-like records
(department, duty, qualifications, region, conflicts, earlier visits), for the draw; and
the same rules applied to the team that actually inspected, on the inspection day (result
entry, correction and approval). Pure: no database, no I/O; the matching
(``draw.matching``) takes the result as plain data.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date
from typing import Literal, TypedDict

from supervision.draw.tickets import DrawError

RegionRule = Literal["prefecture", "county", "province", "any"]

REGION_PREFIX: dict[str, int] = {"province": 2, "prefecture": 4, "county": 6, "any": 0}
"""Leading digits of the 6-digit 行政区划代码 an inspector must share with the entity."""

MIN_TEAM = 2
"""At least two officers holding 执法证 take part in every inspection (行政处罚法 Art. 42)."""


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


# ---------------------------------------------------------------- the team that inspected
class TeamMember(TypedDict):
    """An inspector as the directory holds them, for checking a team on a given day."""

    cert_no: str
    name: str
    department: str
    region_code: str
    qualifications: Collection[str]
    status: str
    cert_issued_on: date | None
    cert_expires_on: date | None


class DatedConflict(TypedDict):
    """A declared 回避 conflict with its period (None: open on that side) and source."""

    cert_no: str
    uscc: str
    starts_on: date | None
    ends_on: date | None
    source: str


def conflict_holds(conflict: DatedConflict, day: date) -> bool:
    """Whether a conflict applies on ``day``."""
    starts, ends = conflict["starts_on"], conflict["ends_on"]
    return (starts is None or starts <= day) and (ends is None or day <= ends)


def member_problems(
    member: TeamMember,
    *,
    entity: EntityRecord,
    department: str,
    item: str,
    conflicts: Iterable[DatedConflict],
    region_rule: RegionRule,
    day: date,
) -> list[tuple[str, str]]:
    """Every rule one officer breaks as a member of the team that inspected ``entity`` for
    ``item`` (owned by ``department``) on ``day``, as (Chinese, English) reasons; empty when
    the officer may lawfully be on the team. The same rules as the draw's eligibility:
    on duty (在岗), of the item's department, qualified for the item, in the allowed
    region, no declared conflict with the entity; and a 执法证 valid on that day."""
    out: list[tuple[str, str]] = []
    if member["status"] != "在岗":
        out.append((f"不在岗（{member['status']}）", f"not on duty ({member['status']})"))
    if member["department"] != department:
        out.append(
            (
                f"属于部门 {member['department']}，不是事项所属部门 {department}",
                f"belongs to department {member['department']}, not the item's {department}",
            )
        )
    if item not in set(member["qualifications"]):
        out.append((f"不具备事项 {item} 的执法资格", f"not qualified for item {item}"))
    digits = REGION_PREFIX[region_rule]
    if member["region_code"][:digits] != entity["region_code"][:digits]:
        out.append(
            (
                f"所在地区 {member['region_code']} 不在主体所在地区 {entity['region_code']} 的"
                f"允许范围（{region_rule}）内",
                f"region {member['region_code']} is outside the allowed area ({region_rule}) "
                f"of the entity's {entity['region_code']}",
            )
        )
    issued, expires = member["cert_issued_on"], member["cert_expires_on"]
    if issued is not None and day < issued:
        out.append(
            (
                f"执法证 {issued} 才发证，检查日 {day} 尚未持证",
                f"the 执法证 was issued on {issued}, after the inspection day {day}",
            )
        )
    if expires is not None and day > expires:
        out.append(
            (
                f"执法证已于 {expires} 过期（检查日 {day}）",
                f"the 执法证 expired on {expires} (inspection day {day})",
            )
        )
    for c in conflicts:
        if (
            c["cert_no"] == member["cert_no"]
            and c["uscc"] == entity["uscc"]
            and conflict_holds(c, day)
        ):
            who = "主体申请回避" if c["source"] == "entity" else "本人申报回避"
            out.append(
                (
                    f"与主体 {entity['uscc']} 有回避关系（{who}）",
                    f"has a declared conflict with entity {entity['uscc']} ({c['source']})",
                )
            )
    return out


def team_problems(
    team: Sequence[str],
    directory: Mapping[str, TeamMember],
    *,
    entity: EntityRecord,
    department: str,
    item: str,
    minimum: int,
    conflicts: Iterable[DatedConflict],
    region_rule: RegionRule,
    day: date,
) -> list[str]:
    """Every problem of the team that inspected one item, as bilingual lines naming each
    officer and each broken rule; empty when the team is lawful. At least ``minimum``
    officers of the item's department (the task's members per department), each known to
    the directory and passing ``member_problems``. The visit as a whole needs at least
    ``MIN_TEAM`` officers: see ``visit_problems``."""
    lines: list[str] = []
    members = sorted(set(team))
    need = max(minimum, 1)
    if len(members) < need:
        lines.append(
            f"事项 {item}：部门 {department} 的检查人员只有 {len(members)} 人，至少需要 {need} 人 / "
            f"item {item}: {len(members)} inspector(s) of department {department}, "
            f"at least {need} required"
        )
    conflict_list = list(conflicts)
    for cert in members:
        member = directory.get(cert)
        if member is None:
            lines.append(
                f"事项 {item}：{cert} 不在执法检查人员名录中 / "
                f"item {item}: {cert} is not in the inspector directory"
            )
            continue
        for zh, en in member_problems(
            member,
            entity=entity,
            department=department,
            item=item,
            conflicts=conflict_list,
            region_rule=region_rule,
            day=day,
        ):
            lines.append(
                f"事项 {item}：{member['name']}（{cert}）{zh} / item {item}: "
                f"{member['name']} ({cert}) {en}"
            )
    return lines


def visit_problems(teams: Mapping[str, Collection[str]], *, uscc: str) -> list[str]:
    """The visit to one entity (every item's team together; a joint task counts each
    officer once) needs at least ``MIN_TEAM`` officers holding 执法证 (行政处罚法 Art. 42)."""
    everyone = {cert for team in teams.values() for cert in team}
    if len(everyone) >= MIN_TEAM:
        return []
    return [
        f"主体 {uscc} 的检查只有 {len(everyone)} 名检查人员（{'、'.join(sorted(everyone)) or '无'}），"
        f"至少需要 {MIN_TEAM} 名持执法证人员（《行政处罚法》第四十二条） / the inspection of "
        f"{uscc} had {len(everyone)} inspector(s); at least {MIN_TEAM} officers holding "
        "执法证 are required (Administrative Penalty Law Art. 42)"
    ]
