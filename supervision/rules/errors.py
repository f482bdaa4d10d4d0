"""Bilingual errors of the rules engine (Chinese first, then English)."""

from __future__ import annotations

from typing import Any

from supervision.errors import SupervisionError


class RuleError(SupervisionError):
    """A rule-pack, engine or calendar error: ``str()`` gives "中文 / English"."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Picklable across worker processes (Exception's default passes args only).
        return (_rebuild, (type(self), self.zh, self.en, self.details, self.__dict__))


def _rebuild(
    cls: type[RuleError], zh: str, en: str, details: list[str], state: dict[str, Any]
) -> RuleError:
    error = RuleError.__new__(cls)
    SupervisionError.__init__(error, zh, en, details=details)
    error.__dict__.update(state)
    return error
