"""Stable site paths built from real-world keys, never from database ids.

A task's or plan's folder is ``supervision.reference.folders.folder_name`` of its code
(readable when safe, injective always); links percent-encode it. An entity's folder is its
USCC.
"""

from __future__ import annotations

from supervision.reference.folders import folder_name


def slug(code: str) -> str:
    """The folder name of a task or plan code (``reference.folders.folder_name``)."""
    return folder_name(code)


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
