"""A result entered with checklist answers (一细则): the answers are read against the
item's checklist, the code is proposed from them when none is given, and a code that
contradicts them is refused. Every door (CLI, console, API) enters through here."""

from __future__ import annotations

from typing import Any

from supervision.checklists.answers import (
    contradictions,
    failed_in_words,
    parse_answers,
    propose_code,
)
from supervision.checklists.spec import Checklist, load_checklists
from supervision.errors import SupervisionError
from supervision.models import Task
from supervision.reference.result_codes import check_code
from supervision.results.inputs import ItemInput
from supervision.settings import settings

__all__ = ["apply_checklist"]


def apply_checklist(
    item: ItemInput,
    task: Task,
    problems: list[str],
    *,
    checklists: dict[tuple[str, int], Checklist] | None,
) -> ItemInput:
    """The item with its answers read (and its code proposed when not given); appends to
    ``problems`` why the answers or the code cannot stand. Without answers, unchanged."""
    if item.checklist is None:
        return item
    label = f"事项 {item.item} / item {item.item}"
    versions = {i["code"]: int(i["version"]) for i in task.items}
    version = versions.get(item.item, 1)
    checklist = (checklists or {}).get((item.item, version))
    if checklist is None:
        problems.append(
            f"{label}: checklist: 事项 {item.item} 第 {version} 版没有检查实施细则 / item "
            f"{item.item} version {version} has no checklist"
        )
        return item
    try:
        sheet = parse_answers(item.checklist, checklist, source=f"{item.item} checklist")
    except SupervisionError as exc:
        problems.extend(f"{label}: checklist: {d}" for d in exc.details)
        return item
    update: dict[str, Any] = {"checklist": sheet.to_dict()}
    if not (item.finding or "").strip() and sheet.failed():
        update["finding"] = failed_in_words(sheet)[:2000]
    if not item.code:
        update["code"], update["sub_code"] = propose_code(sheet, checklist)
    item = item.model_copy(update=update)
    try:
        code, sub = check_code(item.code or "", item.sub_code)
    except SupervisionError:
        return item  # check_item names the bad code
    for zh, en in contradictions(sheet, checklist, code, sub):
        problems.append(f"{label}: code: {zh} / {en}")
    return item


def shipped_checklists() -> dict[tuple[str, int], Checklist]:
    """The checklists of $SUPERVISION_CHECKLISTS_DIR, else the shipped folder (refused with
    every problem if they do not lint)."""
    return load_checklists(settings().checklists_dir)
