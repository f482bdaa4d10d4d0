"""Errors that users see: Chinese first, English after.

Every error a user can cause (bad input, a refused action) is a SupervisionError
carrying both languages; the CLI prints it without a traceback and exits non-zero.
"""

from __future__ import annotations

from typing import Any


class SupervisionError(Exception):
    """An error meant for the user, in Chinese and English."""

    exit_code = 1

    def __init__(self, zh: str, en: str, *, details: list[str] | None = None) -> None:
        super().__init__(f"{zh} / {en}")
        self.zh = zh
        self.en = en
        self.details: list[str] = list(details or [])

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"

    def __reduce__(self) -> tuple[Any, ...]:
        # Picklable across worker processes, whatever a subclass's __init__ takes
        # (Exception's default pickling passes args only).
        return (_rebuild, (type(self), self.zh, self.en, self.details, self.__dict__))


def _rebuild(
    cls: type[SupervisionError], zh: str, en: str, details: list[str], state: dict[str, Any]
) -> SupervisionError:
    error = SupervisionError.__new__(cls)
    SupervisionError.__init__(error, zh, en, details=details)
    error.__dict__.update(state)
    return error


class NotFoundError(SupervisionError):
    """The thing named by the user does not exist."""


class ConflictError(SupervisionError):
    """The action lost a race or no longer fits the current state (HTTP 409)."""


class ValidationFailed(SupervisionError):
    """Input was rejected; `details` lists every problem found."""
