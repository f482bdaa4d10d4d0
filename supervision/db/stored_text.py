"""No control characters or bidi overrides reach a text column through a session.

Every ORM write (tasks, plans, users, results, replies, reviews, schedules…) passes this
check at flush time, whichever door it came through (command line, console page, JSON
API, scheduler); imports, which write in bulk, validate the same rule in their models
(``supervision.models.fields.check_text``). Columns of free text (``Text`` or 500
characters and more: notes, reasons, findings) may hold line breaks and tabs; names and
codes may not. A refused value rolls the whole transaction back.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, Text, event, inspect
from sqlalchemy.orm import Session

from supervision.errors import ValidationFailed
from supervision.models.fields import text_problem

#: Columns at least this long hold free text, where line breaks are allowed.
MULTILINE_FROM = 500


def _multiline(column: Any) -> bool:
    kind = column.type
    kind = getattr(kind, "impl_instance", kind)  # SQLModel's AutoString decorates String
    if isinstance(kind, Text) or not isinstance(kind, String):
        return True
    return (kind.length or MULTILINE_FROM) >= MULTILINE_FROM


def _check(instance: Any) -> None:
    mapper = inspect(instance).mapper
    for attribute in mapper.column_attrs:
        column = attribute.columns[0]
        value = getattr(instance, attribute.key, None)
        if not isinstance(value, str):
            continue
        problem = text_problem(value, multiline=_multiline(column))
        if problem is not None:
            where = f"{column.table.name}.{column.name}"
            raise ValidationFailed(f"{where}：{problem[0]}", f"{where}: {problem[1]}")


@event.listens_for(Session, "before_flush")
def _refuse_unsafe_text(session: Session, _context: Any, _instances: Any) -> None:
    for instance in (*session.new, *session.dirty):
        _check(instance)
