"""Stable site paths built from real-world keys, never from database ids.

A task's folder is its code with the characters that are unsafe in a path or a URL
(``/ \\ : * ? " < > | % # & + ;``, whitespace, control characters, a leading dot) replaced
by ``_``; when anything was replaced, ``-`` and the first 8 hex digits of the SHA-256 of
the code are appended, so two codes never share a folder. Chinese stays readable
(``tasks/蒙市监抽查〔2026〕1号/``); links percent-encode it. An entity's folder is its USCC.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_UNSAFE = re.compile(r'[\\/:*?"<>|%#&+;\s\x00-\x1f\x7f]')


def slug(code: str) -> str:
    """The folder name of a task or plan code (see the module docstring)."""
    text = unicodedata.normalize("NFC", code)
    cleaned = _UNSAFE.sub("_", text)
    if cleaned.startswith("."):
        cleaned = "_" + cleaned[1:]
    if cleaned != code or not cleaned:
        cleaned += "-" + hashlib.sha256(code.encode("utf-8")).hexdigest()[:8]
    return cleaned


def task_path(code: str) -> str:
    return f"tasks/{slug(code)}/index.html"


def task_picks_path(code: str, page: int) -> str:
    return (
        f"tasks/{slug(code)}/index.html" if page == 1 else f"tasks/{slug(code)}/picks-{page}.html"
    )


def task_results_path(code: str) -> str:
    return f"results/{slug(code)}/index.html"


def entity_path(uscc: str) -> str:
    return f"entities/{uscc}/index.html"


def plan_anchor(code: str) -> str:
    return "plan-" + slug(code)


def export_dir(code: str) -> str:
    """Where a task's verification export lives (shared by all languages)."""
    return f"data/draws/{slug(code)}"


def task_data_dir(code: str) -> str:
    return f"data/tasks/{slug(code)}"
