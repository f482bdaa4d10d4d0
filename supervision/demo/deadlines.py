"""The demo's deadline step: what `supervision deadlines` would say on the demo's day."""

from __future__ import annotations

import datetime as dt
from typing import Any

from supervision.db import Database
from supervision.errors import SupervisionError
from supervision.results.deadlines import list_deadlines


def demo_deadlines_step(db: Database, *, as_of: dt.date) -> dict[str, Any]:
    """Counts of publication and rectification deadlines, overdue and provisional ones, and
    the calendar gap (``error``) when they could not be computed, so that the demo's
    summary reports it instead of hiding it."""
    try:
        with db.session() as session:
            listed = list_deadlines(session, as_of=as_of)
    except SupervisionError as exc:
        return {"error": {"zh": exc.zh, "en": exc.en, "details": exc.details}}
    rows = listed["publication"] + listed["rectification"]
    return {
        "error": None,
        "publication": len(listed["publication"]),
        "rectification": len(listed["rectification"]),
        "overdue": sum(1 for d in rows if d["overdue"]),
        "provisional": sum(1 for d in rows if d["provisional"]),
        "provisional_years": listed["calendar"]["provisional_years"],
        "bound": listed["calendar"]["bound"],
        "calendar": listed["calendar"]["fingerprint"],
    }
