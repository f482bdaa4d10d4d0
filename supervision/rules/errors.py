"""Bilingual errors of the rules engine (Chinese first, then English)."""

from __future__ import annotations


class RuleError(ValueError):
    """An error a regulator can read: ``str()`` gives "中文 / English".

    Defined here because ``supervision.errors`` did not exist when the rules
    engine was written; it follows the same (zh, en) shape so it can be
    re-based on ``SupervisionError`` without changing callers.
    """

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh = zh
        self.en = en

    def __reduce__(self) -> tuple[type[RuleError], tuple[str, str]]:
        # Keep the error picklable across worker processes.
        return (type(self), (self.zh, self.en))
