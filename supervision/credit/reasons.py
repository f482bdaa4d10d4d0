"""The reason catalogue in force: the built-in one (``reference.credit_reasons``), with the
entries of ``$SUPERVISION_CREDIT_REASONS_FILE`` replacing or adding reasons by code (e.g. the
article numbers of a revised regulation). A bad file is a bilingual error naming the file
and the entry; the file is read again when it changes."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from supervision import yamlsafe
from supervision.errors import ValidationFailed
from supervision.models import Register
from supervision.reference.credit_reasons import REASONS, Reason, reason_in
from supervision.settings import settings

__all__ = ["catalogue", "reason"]

_FIELDS = ("code", "register", "action", "law", "article", "zh", "en")


def catalogue() -> tuple[Reason, ...]:
    """The reasons in force (built-in, then the settings' file by code)."""
    path = settings().credit_reasons_file
    if not path:
        return REASONS
    file = Path(path)
    try:
        stamp = file.stat().st_mtime_ns
    except OSError as exc:
        raise ValidationFailed(
            f"理由目录文件 {path} 无法读取：{exc.strerror}",
            f"the reasons file {path} cannot be read: {exc.strerror}",
        ) from None
    return _read(str(file), stamp)


@lru_cache(maxsize=4)
def _read(path: str, _stamp: int) -> tuple[Reason, ...]:
    try:
        data = yamlsafe.read_data(Path(path))
    except Exception as exc:  # YAML, JSON or text errors: one bilingual refusal
        raise ValidationFailed(
            f"理由目录文件 {path} 不是合法的 YAML/JSON：{exc}",
            f"the reasons file {path} is not valid YAML/JSON: {exc}",
        ) from None
    entries = data.get("reasons") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ValidationFailed(f"理由目录文件 {path} 应有 reasons: 列表",
                               f"the reasons file {path} needs a reasons: list")  # fmt: skip
    by_code = {r.code: r for r in REASONS}
    for n, entry in enumerate(entries, start=1):
        by_code[str(entry.get("code", ""))] = _entry(path, n, entry)
    return tuple(by_code.values())


def _entry(path: str, n: int, entry: Any) -> Reason:
    where = f"{path} 第 {n} 条 / {path} entry {n}"
    if not isinstance(entry, dict):
        raise ValidationFailed(f"{where}：应为映射", f"{where}: must be a mapping")
    values = {k: str(entry.get(k, "") or "").strip() for k in (*_FIELDS, "note")}
    missing = [k for k in ("code", "action", "zh", "en") if not values[k]]
    if missing:
        raise ValidationFailed(f"{where}：缺少 {', '.join(missing)}",
                               f"{where}: missing {', '.join(missing)}")  # fmt: skip
    if values["action"] not in ("list", "remove") or values["register"] not in ("", *Register.ALL):
        raise ValidationFailed(
            f"{where}：action 应为 list/remove，register 应为 {'/'.join(Register.ALL)} 或留空",
            f"{where}: action is list/remove, register one of {', '.join(Register.ALL)} or empty",
        )
    return Reason(**values)


def reason(code: str, *, register: str, action: str) -> Reason:
    """The reason ``code`` of the catalogue in force for this register and action; a
    bilingual ``ValidationFailed`` when it does not apply."""
    try:
        return reason_in(catalogue(), code, register=register, action=action)
    except ValueError as exc:
        zh, _, en = str(exc).partition(" / ")
        raise ValidationFailed(zh, en) from None
