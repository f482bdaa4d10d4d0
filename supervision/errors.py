"""Errors that users see: Chinese first, English after.

Every error a user can cause (bad input, a refused action) is a SupervisionError
carrying both languages; the CLI prints it without a traceback and exits non-zero.
"""

from __future__ import annotations


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


class NotFoundError(SupervisionError):
    """The thing named by the user does not exist."""


class ValidationFailed(SupervisionError):
    """Input was rejected; `details` lists every problem found."""
