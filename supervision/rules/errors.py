"""Bilingual errors of the rules engine (Chinese first, then English)."""

from __future__ import annotations

from supervision.errors import SupervisionError


class RuleError(SupervisionError):
    """A rule-pack or engine error: ``str()`` gives "中文 / English". Picklable across
    worker processes, like every ``SupervisionError``."""
