"""A result as entered: one item's input, its validation, and what a new version carries over.

Every problem is collected as a bilingual line, so one refusal names them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from supervision import clock
from supervision.errors import SupervisionError, ValidationFailed
from supervision.models import Task
from supervision.models.results import InspectionResult
from supervision.reference.result_codes import FOLLOW_UPS, check_code, code_problems

__all__ = ["ItemInput", "carried_over", "check_item", "parse_items"]


class ItemInput(BaseModel):
    """One item's result as entered (CLI options or one entry of a --from file)."""

    model_config = ConfigDict(extra="forbid")

    item: str
    code: str | None = None
    sub_code: str | None = None
    finding: str | None = None
    inspected_on: date | None = None
    inspectors: list[str] | None = None
    team_change_reason: str | None = None
    evidence: list[str] = []
    follow_up: str | None = None
    due: date | None = None
    follow_up_note: str | None = None
    follow_up_ref: str | None = None
    # Answers to the item's checklist (一细则): {point id: 符合|不符合|不涉及 or {answer, note,
    # evidence}}; the code is proposed from them when not given, and refused if it contradicts.
    checklist: dict[str, Any] | None = None

    @field_validator("code", "sub_code", "item", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        return None if v is None else str(v).strip()

    @field_validator("inspectors", mode="before")
    @classmethod
    def _list(cls, v: Any) -> Any:
        if isinstance(v, str):
            return [s for s in v.replace("，", ",").replace("、", ",").split(",") if s.strip()]
        return v


def parse_items(
    entries: Sequence[dict[str, Any]], defaults: dict[str, Any] | None = None
) -> list[ItemInput]:
    """Validate entries (from a file) into ItemInput, naming every bad field."""
    out, problems = [], []
    for n, entry in enumerate(entries, 1):
        try:
            out.append(ItemInput.model_validate({**(defaults or {}), **entry}))
        except ValidationError as exc:
            for e in exc.errors():
                where = ".".join(str(p) for p in e["loc"])
                problems.append(f"第 {n} 项 {where}：{e['msg']} / entry {n} {where}: {e['msg']}")
    if problems:
        raise ValidationFailed("检查结果输入有误", "the results input is invalid", details=problems)
    return out


def carried_over(raw: ItemInput, current: InspectionResult) -> ItemInput:
    """The input of a new version: fields not given again are carried over from the
    version being replaced (a new code drops the old sub-code, a follow-up other than
    rectification drops the old due date)."""
    given = raw.model_dump(exclude_unset=True)
    base = {
        "code": current.result_code,
        "sub_code": current.sub_code,
        "finding": current.finding,
        "inspected_on": current.inspected_on,
        "inspectors": current.inspectors,
        "team_change_reason": current.team_change_reason,
        "follow_up": current.follow_up,
        "due": current.follow_up_due,
        "follow_up_note": current.follow_up_note,
        "follow_up_ref": current.follow_up_ref,
    }
    if "code" in given and "sub_code" not in given:
        base["sub_code"] = None
    if given.get("follow_up") not in (None, "rectification") and "due" not in given:
        base["due"] = None
    if "follow_up" in given and "follow_up_ref" not in given:
        base["follow_up_ref"] = None
    return ItemInput.model_validate({**base, **given})


def check_item(item: ItemInput, task: Task, problems: list[str], *, today: date) -> None:
    """Append to ``problems`` what is wrong with one item: its code and sub-code, its
    inspection date (not in the future, not before the draw), its follow-up and due date,
    and whether code, sub-code, follow-up and finding agree (``CODE_RULES``)."""
    label = f"事项 {item.item} / item {item.item}"
    try:
        code, sub = check_code(item.code or "", item.sub_code)
    except SupervisionError as exc:
        problems.append(f"{label}: code: {exc}")
        code, sub = "", None
    _check_date(item, task, problems, label=label, today=today)
    _check_follow_up(item, problems, label=label)
    if code:
        for field, zh, en in code_problems(
            code,
            sub,
            follow_up=item.follow_up or "none",
            finding=item.finding or "",
            follow_up_ref=item.follow_up_ref,
        ):
            problems.append(f"{label}: {field}: {zh} / {en}")


def _check_date(
    item: ItemInput, task: Task, problems: list[str], *, label: str, today: date
) -> None:
    if item.inspected_on is None:
        problems.append(f"{label}: inspected_on: 缺少检查日期 / inspection date missing")
        return
    if item.inspected_on > today:
        problems.append(
            f"{label}: inspected_on: 检查日期 {item.inspected_on} 晚于今天 / "
            f"inspection date {item.inspected_on} is in the future"
        )
    drawn = task.drawn_at.astimezone(clock.LOCAL_TZ).date() if task.drawn_at else None
    if drawn and item.inspected_on < drawn:
        problems.append(
            f"{label}: inspected_on: 检查日期 {item.inspected_on} 早于抽取日期 {drawn} / "
            f"inspection date {item.inspected_on} is before the draw ({drawn})"
        )


def _check_follow_up(item: ItemInput, problems: list[str], *, label: str) -> None:
    follow_up = item.follow_up or "none"
    if follow_up not in FOLLOW_UPS:
        problems.append(
            f"{label}: follow_up: 后续处置 {follow_up!r} 不是 {'、'.join(FOLLOW_UPS)} 之一 / "
            f"follow-up {follow_up!r} is not one of {', '.join(FOLLOW_UPS)}"
        )
    elif follow_up == "rectification":
        if item.due is None:
            problems.append(
                f"{label}: due: 责令限期整改必须给出整改期限 / a rectification order needs a due date"
            )
        elif item.inspected_on and item.due < item.inspected_on:
            problems.append(
                f"{label}: due: 整改期限 {item.due} 早于检查日期 / due date {item.due} is before the inspection"
            )
    elif item.due is not None:
        problems.append(
            f"{label}: due: 只有责令限期整改才有整改期限 / only a rectification order has a due date"
        )
